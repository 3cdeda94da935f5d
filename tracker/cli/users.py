"""``tracker users ...``: accounts from the command line (the first admin is made here)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from tracker.db import transaction
from tracker.models import Group, User
from tracker.models.people import ROLES
from tracker.services import accounts, audit, security_log, two_factor
from tracker.services.outbox import MailTemplates


def _mail() -> MailTemplates:
    return MailTemplates.of(current_app._get_current_object())  # type: ignore[attr-defined]


users_cli = click.Group("users", help="Accounts: add, invite, reset, reset two-factor, "
                                      "disable, list.")


def _find(db: object, email: str) -> User:
    user = db.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()  # type: ignore[attr-defined]
    if user is None:
        click.echo(f"There is no account for {email}. Add it with: tracker users add {email} "
                   "--name 'Full Name' --role member", err=True)
        sys.exit(1)
    return user  # type: ignore[no-any-return]


@users_cli.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--group", "groups", multiple=True, help="A group id they belong to (repeatable).")
@with_appcontext
def add(email: str, name: str, role: str, groups: tuple[str, ...]) -> None:
    """Add an account and print its invitation link."""
    try:
        email, name = accounts.checked_email(email), accounts.checked_name(name)
    except accounts.AccountRefused as refused:
        click.echo(f"{str(refused).rstrip('.')}. Nothing was added.", err=True)
        sys.exit(1)
    with transaction() as db:
        if db.scalars(select(User).where(func.lower(User.email) == email)).first():
            click.echo(f"There is already an account for {email}: use 'tracker users invite "
                       f"{email}' to send it a new link.", err=True)
            sys.exit(1)
        found = list(db.scalars(select(Group).where(Group.ref.in_(groups)))) if groups else []
        unknown = set(groups) - {g.ref for g in found}
        if unknown:
            click.echo(f"No such group: {', '.join(sorted(unknown))}.", err=True)
            sys.exit(1)
        user = User(email=email, name=name, role=role, groups=found)
        db.add(user)
        db.flush()
        link = accounts.email_link(db, user, "invite", _mail())
        audit.record(db, audit.COMMAND_LINE, "account.created", "account", email,
                     f"{name} added as {role}", new={"name": name, "role": role,
                                                     "groups": list(groups)})
    click.echo(f"Added {name} <{email}> as {role}.")
    if link.purpose == "sso":
        click.echo(f"They sign in with their organisation's account at {link.url} (password "
                   "sign-in is off, so there is no invitation link).")
    else:
        click.echo(f"Invitation link (works once, for 7 days): {link.url}")
    _say_emailed([link])


@users_cli.command("invite")
@click.argument("email", required=False)
@click.option("--all-without-password", "everyone", is_flag=True,
              help="Invite every active account that has no password yet.")
@with_appcontext
def invite(email: str | None, everyone: bool) -> None:
    """Print a new invitation link (the earlier one stops working)."""
    if not email and not everyone:
        click.echo("Give an email address, or --all-without-password.", err=True)
        sys.exit(1)
    with transaction() as db:
        if everyone:
            users = list(db.scalars(select(User).where(User.password_hash.is_(None),
                                                       User.is_active).order_by(User.email)))
        else:
            users = [_find(db, email or "")]
        links = []
        for user in users:
            link = accounts.email_link(db, user, "invite", _mail())
            audit.record(db, audit.COMMAND_LINE, "account.invited", "account", user.email)
            click.echo(f"{user.email}: {link.url}")
            links.append(link)
    if everyone and not current_app.config.get("PASSWORD_SIGN_IN", True):
        click.echo(f"{len(users)} invitation{'s' if len(users) != 1 else ''} to sign in with "
                   "their organisation's account.")
    elif everyone:
        click.echo(f"{len(users)} invitation link{'s' if len(users) != 1 else ''} (each works "
                   "once, for 7 days).")
    _say_emailed(links)


@users_cli.command("reset")
@click.argument("email")
@with_appcontext
def reset(email: str) -> None:
    """Print a password reset link (works once, for 24 hours)."""
    if not current_app.config.get("PASSWORD_SIGN_IN", True):
        click.echo(f"{accounts.PASSWORDS_OFF}.", err=True)
        sys.exit(1)
    with transaction() as db:
        user = _find(db, email)
        link = accounts.email_link(db, user, "reset", _mail())
        audit.record(db, audit.COMMAND_LINE, "account.reset_link", "account", user.email)
    click.echo(f"Reset link for {user.email} (works once, for 24 hours): {link.url}")
    _say_emailed([link])


@users_cli.command("reset-two-factor")
@click.argument("email")
@with_appcontext
def reset_two_factor(email: str) -> None:
    """Clear an account's two-factor authentication (a lost phone) and end its sessions."""
    with transaction() as db:
        user = _find(db, email)
        try:
            ended = two_factor.reset(db, audit.COMMAND_LINE, user)
        except two_factor.Refused as refused:
            click.echo(f"Nothing was changed: {refused}.", err=True)
            sys.exit(1)
        security_log.keep(current_app, "mfa.reset", security_log.Seen(source="command line"),
                          user.email, f"from the command line; {ended} session"
                          f"{'s' if ended != 1 else ''} ended", session=db)
        again = ("they set it up again when they next sign in" if two_factor.is_required(user)
                 else "they sign in with a password alone until they set it up again")
    click.echo(f"Two-factor authentication reset for {user.email}; {ended} session"
               f"{'s' if ended != 1 else ''} ended; {again}.")


def _say_emailed(links: list[accounts.NewLink]) -> None:
    """Say how many links were queued in the outbox, and which were not."""
    emailed = sum(link.is_emailed for link in links)
    if emailed:
        click.echo(f"{emailed} email{'s' if emailed != 1 else ''} with the link queued in the "
                   "outbox (sent by the scheduler, or read at /admin/outbox).")
    if emailed < len(links):
        click.echo(f"{len(links) - emailed} link{'s' if len(links) - emailed != 1 else ''} "
                   "could not be emailed (the address is not a single valid email address): "
                   "pass them on yourself.")


def _change(change: str, email: str, role: str | None = None) -> None:
    with transaction() as db:
        user = _find(db, email)
        old_role = user.role
        try:
            if change == "disable":
                ended = accounts.disable(db, audit.COMMAND_LINE, user)
            elif change == "enable":
                accounts.enable(db, audit.COMMAND_LINE, user)
            else:
                accounts.change_role(db, audit.COMMAND_LINE, user, role or "")
        except accounts.AccountRefused as refused:
            click.echo(f"Nothing was changed: {refused}.", err=True)
            sys.exit(1)
    if change == "disable":
        click.echo(f"Disabled {user.email}; {ended} session{'s' if ended != 1 else ''} ended.")
    elif change == "enable":
        click.echo(f"Enabled {user.email}.")
    else:
        click.echo(f"{user.email} is now {role} (was {old_role}).")


@users_cli.command("disable")
@click.argument("email")
@with_appcontext
def disable(email: str) -> None:
    """Disable an account: it cannot sign in, and its sessions end now."""
    _change("disable", email)


@users_cli.command("enable")
@click.argument("email")
@with_appcontext
def enable(email: str) -> None:
    """Enable a disabled account again."""
    _change("enable", email)


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@with_appcontext
def set_role(email: str, role: str) -> None:
    """Change an account's role."""
    _change("role", email, role)


@users_cli.command("list")
@click.option("--role", type=click.Choice(ROLES), default=None)
@with_appcontext
def list_users(role: str | None) -> None:
    """List accounts: email, role, whether they can sign in."""
    with transaction() as db:
        query = select(User).order_by(User.role, User.email)
        if role:
            query = query.where(User.role == role)
        for user in db.scalars(query):
            state = ("disabled" if not user.is_active else
                     "active" if user.has_password else "no password yet")
            click.echo(f"{user.email:<40} {user.role:<7} {state:<16} {user.name}")
