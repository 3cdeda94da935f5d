"""The ``tracker`` command: plan checks and loads, the database, demo data, the web server
and the pack worker are here; each other group has its own module (``api`` tokens,
``backup`` and restore, ``kpis`` imports, ``reports``, ``users``), with what they share in
``support``. (``tracker plan check`` runs without any of this: see :mod:`tracker.entry`.)"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy.exc import OperationalError, ProgrammingError

from plans import PlanError
from tracker import builder, logs, serving, work
from tracker.app import create_app
from tracker.cli.api import api_token_cli
from tracker.cli.backup import backup, restore
from tracker.cli.kpis import kpi_cli
from tracker.cli.reports import report_cli
from tracker.cli.support import day_option, loaded_plan
from tracker.cli.users import users_cli
from tracker.db import get_engine, get_session, transaction
from tracker.plan_check import plan_check, report_refusal
from tracker.services.demo import make_demo
from tracker.services.loaded_plan import refreeze
from tracker.services.plan_load import compare_plan_file
from tracker.services.plan_sync import PartnershipMismatch, PlanDiff
from tracker.templating import partnership_name


def _create_app() -> Flask:
    return create_app()


class TrackerGroup(FlaskGroup):
    """The ``tracker`` command: a database that is missing or behind says what to run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        # Flask prints any failure to load the app as a traceback here (for --help); a
        # refused configuration goes on instead to tracker.entry, which says it in a line
        ctx.ensure_object(ScriptInfo).load_app()
        return list(super().list_commands(ctx))

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as error:
            text = str(error.orig).lower()
            if "no such table" in text or "does not exist" in text or "no such column" in text:
                click.echo("The database has not been created yet, or is older than this "
                           "version of the tracker: run 'tracker db upgrade' first.", err=True)
                sys.exit(1)
            raise


main = TrackerGroup(
    name="tracker",
    create_app=_create_app,
    load_dotenv=False,
    help="Delivery plan and performance tracker for a community safety partnership.",
)

plan_cli = click.Group("plan", help="Check, compare and load a plan file (plans.yaml).")
db_cli = click.Group("db", help="The database: create it or bring it up to date.")
plan_cli.add_command(plan_check)


def _print_diff(diff: PlanDiff, *, would: bool, full: bool = True) -> None:
    verbs = {"add": "add", "change": "change", "retire": "retire", "restore": "restore"}
    counts = diff.counts()
    prefix = "Would " if would else ""
    if diff.is_empty:
        click.echo(f"No changes: the database already matches the file ({diff.unchanged} "
                   "items).")
        return
    for action in ("add", "change", "retire", "restore"):
        changes = diff.of(action)
        if not changes:
            continue
        heading = f"{prefix}{verbs[action]}" if would else f"{verbs[action].capitalize()}d"
        if not would and action == "add":
            heading = "Added"
        click.echo(f"{heading.capitalize()} ({len(changes)}):")
        if not full and len(changes) > 30:
            kinds: dict[str, int] = {}
            for change in changes:
                kinds[change.kind] = kinds.get(change.kind, 0) + 1
            for kind, number in kinds.items():
                click.echo(f"  {number} × {kind}")
            continue
        for change in changes:
            click.echo(f"  {change.describe()}")
    if diff.rules:  # against the rules of the plan as last loaded
        click.echo(f"{'Would change' if would else 'Changed'} the rules ({len(diff.rules)}):")
        for rule in diff.rules:
            click.echo(f"  {rule.describe()}")
    rules = len(diff.rules)
    ruled = f"; {rules} change{'' if rules == 1 else 's'} to the rules" if rules else ""
    click.echo(
        f"{counts['add']} to add, {counts['change']} to change, {counts['retire']} to retire, "
        f"{counts['restore']} to restore, {diff.unchanged} unchanged{ruled}."
        if would else
        f"{counts['add']} added, {counts['change']} changed, {counts['retire']} retired, "
        f"{counts['restore']} restored, {diff.unchanged} unchanged{ruled}."
    )


@plan_cli.command("diff")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def plan_diff(file: Path) -> None:
    """Show what loading FILE would add, change, retire and restore, by ref."""
    try:
        _plan, diff = compare_plan_file(get_session(), file)
    except PlanError as error:
        report_refusal(error)
        sys.exit(1)
    except PartnershipMismatch as error:
        click.echo(f"Refused: {error}", err=True)
        sys.exit(1)
    _print_diff(diff, would=True)


@plan_cli.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "loaded_by", default=None, help="Who is loading it (recorded).")
@with_appcontext
def plan_load(file: Path, loaded_by: str | None) -> None:
    """Load FILE in one transaction; a refused file changes nothing."""
    try:
        result, _statuses = work.load_plan(file, loaded_by=loaded_by)
    except PlanError as error:
        report_refusal(error, loading=True)
        sys.exit(1)
    except PartnershipMismatch as error:
        click.echo(f"Refused: {error} Nothing was changed.", err=True)
        sys.exit(1)
    click.echo(f"Loaded {file}: {result.plan.partnership.name}.")
    _print_diff(result.diff, would=False, full=False)
    for warning in result.plan.warnings:
        click.echo(f"  {warning}")


@db_cli.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create the database, or bring it up to the latest version."""
    # every app registers these commands: Alembic (17 MB) loads only when one runs
    from tracker import migrate  # noqa: PLC0415 - Alembic is loaded only by the command that migrates

    engine = get_engine(current_app)
    migrate.upgrade(engine)
    with transaction() as session:  # this version's code reads the loaded plan fast
        refrozen = refreeze(session)
    click.echo(f"The database is up to date ({engine.url.render_as_string()})."
               + (" The loaded plan was parsed again for this version." if refrozen else ""))


@click.command("demo")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD).")
@click.option("--seed", type=int, default=2024, help="Random seed for the demo history.")
@with_appcontext
def demo(today: object, seed: int) -> None:
    """Add demo accounts and quarterly history up to the current quarter."""
    if current_app.config.get("ENV_NAME") == "production":
        click.echo("tracker demo refused: it gives the published demo password to the plan's "
                   "people and adds made-up updates, so it does not run with "
                   "TRACKER_ENV=production. Nothing was changed.", err=True)
        sys.exit(2)
    day = day_option(today)
    try:
        with transaction() as session:
            report = make_demo(session, day, seed=seed)
    except LookupError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    for line in report:
        click.echo(line)


@click.command("recompute")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Work out statuses as on this date (YYYY-MM-DD).")
@with_appcontext
def recompute_statuses(today: object) -> None:
    """Recompute every action's status and every roll-up from the plan's rules."""
    result = work.recompute_everything(loaded_plan(get_session()), day_option(today),
                                       actor="command line")
    click.echo(f"Statuses recomputed for {result.actions} actions: {result.added} new, "
               f"{len(result.changed)} changed.")
    for ref, quarter, old, new in result.changed:
        click.echo(f"  {ref} {quarter}: {old} -> {new}")


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (gunicorn) when more than one; see the README.")
@click.option("--threads", default=None, type=click.IntRange(1, 64),
              help="Threads per worker [default: 4 with gunicorn, 8 with waitress].")
@click.option("--server", type=click.Choice([serving.GUNICORN, serving.WAITRESS]),
              default=None, help="Which server [default: gunicorn with several workers, "
              "else waitress].")
def serve(host: str, port: int, workers: int, threads: int | None, server: str | None) -> None:
    """Serve the web app: gunicorn with --workers N, or waitress in one process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logs.configure(app)  # once, here: gunicorn's workers are forked from this process
    chosen = serving.choose_server(workers, server)
    if chosen == serving.GUNICORN and not serving.can_fork():
        raise click.ClickException("gunicorn needs fork, which this system does not have: "
                                   "leave out --server gunicorn (waitress serves one process)")
    if chosen == serving.WAITRESS and workers > 1:
        raise click.ClickException("waitress serves one process: use --threads, or leave "
                                   "out --server waitress for gunicorn's workers")
    with app.test_request_context():
        name = partnership_name()
    get_engine(app).dispose()  # nothing of this process's connections reaches the workers
    how = (f"{workers} gunicorn worker{'s' if workers != 1 else ''}" if chosen == "gunicorn"
           else "waitress")
    click.echo(f"Serving {name} on http://{host}:{port}/ with {how} (Ctrl+C to stop)")
    if chosen == serving.GUNICORN:
        serving.run_gunicorn(_create_app, serving.gunicorn_options(host, port, workers,
                                                                   threads or 4))
    else:
        serving.read_plan_ahead(app)
        serving.run_waitress(app, host, port, threads or 8)


@click.command("worker")
@click.option("--once", is_flag=True, help="Build every pack waiting, here, then stop.")
@with_appcontext
def worker(once: bool) -> None:
    """Build the board packs people ask for (and those built ahead) until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logs.configure(app)
    if once:
        ready = builder.build_waiting(app)
        click.echo(f"{ready} board pack{'s' if ready != 1 else ''} built.")
        return
    builder.run_forever(app)


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(api_token_cli)
    app.cli.add_command(kpi_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(plan_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(demo)
    statuses_cli = click.Group("statuses", help="The RAG statuses the plan's rules derive.")
    statuses_cli.add_command(recompute_statuses)
    app.cli.add_command(statuses_cli)
    app.cli.add_command(serve)
    app.cli.add_command(worker)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
