"""``tracker jobs run|list`` and ``tracker scheduler``, registered by tracker's app factory."""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker import clock, logs

jobs_cli = click.Group("jobs", help="The scheduled jobs: run one now, or list them.")


@jobs_cli.command("list")
def jobs_list() -> None:
    """Each job, its schedule (Europe/London) and its next run."""
    from notifications.scheduler import next_runs  # noqa: PLC0415 - the scheduler and APScheduler load only when a jobs command runs, not in every process that registers these commands

    for job, when in next_runs():
        next_text = f"{when:%a %d %b %Y %H:%M:%S %Z}" if when else "never"
        click.echo(f"{job.name:<12} {job.schedule:<18} next: {next_text}")
        click.echo(f"{'':<12} {job.description}")


@jobs_cli.command("run")
@click.argument("name")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Run as if today were this date (YYYY-MM-DD); default: today in London.")
@click.option("--dry-run", is_flag=True, help="Show what would be queued; write nothing.")
@with_appcontext
def jobs_run(name: str, today: object, dry_run: bool) -> None:
    """Run the job NAME once (reminders, escalations, digests, duties or deliver)."""
    from notifications.jobs import JOBS, find  # noqa: PLC0415 - the jobs load only when a jobs command runs, not in every process that registers these commands

    job = find(name)
    if job is None:
        click.echo(f"No job called {name!r}: the jobs are "
                   f"{', '.join(j.name for j in JOBS)}.", err=True)
        sys.exit(2)
    day: date = today.date() if isinstance(today, datetime) else clock.today()
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    result = job.function(app, day, dry_run)
    for line in result.lines:
        click.echo(line)
    click.echo(result.summary() + (" (dry run: nothing was written)" if dry_run else ""))


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduled jobs until stopped (one scheduler per database)."""
    from notifications.scheduler import AlreadyRunning, serve  # noqa: PLC0415 - the scheduler and APScheduler load only when a jobs command runs, not in every process that registers these commands
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    logs.configure(app)  # text lines, or JSON lines with TRACKER_LOG_FORMAT=json
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        serve(app)
    except AlreadyRunning as error:
        click.echo(f"Refused: {error}", err=True)
        sys.exit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(scheduler_command)
