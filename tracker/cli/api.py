"""``tracker api-token ...``: read API tokens from the command line, for IT teams that set
up a report or a data warehouse feed (the admin page /admin/api-tokens does the same)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from tracker.db import read_transaction, transaction
from tracker.models import utcnow
from tracker.services import api_tokens
from tracker.services.audit import COMMAND_LINE

api_token_cli = click.Group("api-token", help="Read API tokens: create, list, revoke.")


@api_token_cli.command("create")
@click.option("--purpose", required=True, help="What the token is for, such as 'Power BI "
                                                "board report'.")
@click.option("--expires-in-days", "days", type=int, default=90, show_default=True,
              help=f"Days until it expires (1 to {api_tokens.LONGEST_LIFE_DAYS}).")
@with_appcontext
def create(purpose: str, days: int) -> None:
    """Make a token and print it: the only time it is shown (it is stored hashed)."""
    try:
        with transaction() as db:
            new = api_tokens.create(db, COMMAND_LINE, purpose, days)
    except api_tokens.TokenRefused as refused:
        click.echo(f"{str(refused).rstrip('.')}. No token was made.", err=True)
        sys.exit(1)
    click.echo(f"Token for {new.token.purpose!r}, expires "
               f"{new.token.expires_at:%Y-%m-%d %H:%M} UTC. Copy it now: it is not shown "
               "again.")
    click.echo(new.secret)


@api_token_cli.command("list")
@with_appcontext
def list_tokens() -> None:
    """Every token: its prefix, state, purpose, expiry and last use (never the token)."""
    now = utcnow()
    with read_transaction() as db:
        listed = api_tokens.listing(db)
    if not listed:
        click.echo("There are no API tokens.")
        return
    for item in listed:
        token = item.token
        used = f"{item.last_used_at:%Y-%m-%d %H:%M}" if item.last_used_at else "never"
        click.echo(f"{token.prefix}…  {item.state(now):<7}  expires "
                   f"{token.expires_at:%Y-%m-%d}  last used {used}  {token.purpose}")


@api_token_cli.command("revoke")
@click.argument("prefix")
@with_appcontext
def revoke(prefix: str) -> None:
    """Revoke the token that starts with PREFIX (as 'tracker api-token list' shows it)."""
    with transaction() as db:
        token = api_tokens.find(db, prefix.rstrip("…"))
        if token is None:
            click.echo(f"No token starts with {prefix}: see 'tracker api-token list'.",
                       err=True)
            sys.exit(1)
        try:
            api_tokens.revoke(db, COMMAND_LINE, token)
        except api_tokens.TokenRefused as refused:
            click.echo(str(refused), err=True)
            sys.exit(1)
    click.echo(f"Token {token.prefix}… ({token.purpose}) is revoked.")
