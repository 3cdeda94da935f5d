"""``tracker kpi ...``: KPI values from the command line (importing a spreadsheet)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.cli_support import day_option, loaded_plan
from tracker.db import transaction
from tracker.services import audit
from tracker.services.kpi_import import ImportRefused, import_values, read_limited

kpi_cli = click.Group("kpi", help="KPI values: import them from a CSV or XLSX file.")


def _refused(error: ImportRefused) -> None:
    click.echo(f"Refused: {error.headline}. Nothing was changed.", err=True)
    for problem in error.problems:
        if problem.row is not None or len(error.problems) > 1:
            click.echo(str(problem), err=True)


@kpi_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what it would change; "
              "change nothing.")
@click.option("--by", "by", default=None, help="Who is importing it (recorded).")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD).")
@with_appcontext
def import_file(file: Path, dry_run: bool, by: str | None, today: object) -> None:
    """Import KPI values from FILE (columns kpi, period, value and optionally note).

    Every row is checked first: a file with any problem changes nothing.
    """
    day = day_option(today)
    try:
        with file.open("rb") as stream:
            data = read_limited(stream)  # never more than one byte past the limit
    except OSError as error:
        click.echo(f"Refused: cannot read {file}: {error.strerror}. Nothing was changed.",
                   err=True)
        sys.exit(1)
    try:
        with transaction() as session:
            report = import_values(session, loaded_plan(session), by or audit.COMMAND_LINE,
                                   data, file.name, dry_run=dry_run, today=day)
    except ImportRefused as error:
        _refused(error)
        sys.exit(1)
    for row in report.rows:
        if row.outcome == "add":
            click.echo(f"  {'add' if dry_run else 'added'} {row.kpi.ref} {row.period}: "
                       f"{row.value:g}")
        elif row.outcome == "change":
            click.echo(f"  {'correct' if dry_run else 'corrected'} {row.kpi.ref} {row.period}: "
                       f"{row.value:g} (was {row.previous:g})")
    if dry_run:
        click.echo(f"Would import {file}: {report.summary} (dry run: nothing was changed).")
    else:
        click.echo(f"Imported {file}: {report.summary}.")
        if report.statuses_changed:
            click.echo(f"{report.statuses_changed} action status"
                       f"{'es' if report.statuses_changed != 1 else ''} changed.")
