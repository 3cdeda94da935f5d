"""``tracker kpi ...``: KPI values from the command line (importing a spreadsheet)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.cli.support import day_option, loaded_plan
from tracker.db import transaction
from tracker.services import audit
from tracker.services.kpi_import import ImportRefused, ImportReport, import_values, read_limited
from tracker.services.police_import import import_police

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
    _report(report, str(file), dry_run)


def _report(report: ImportReport, what: str, dry_run: bool) -> None:
    for row in report.rows:
        shown = f" (provisional: {row.provisional})" if row.provisional else ""
        if row.outcome == "add":
            click.echo(f"  {'add' if dry_run else 'added'} {row.kpi.ref} {row.period}: "
                       f"{row.value:g}{shown}")
        elif row.outcome == "change":
            click.echo(f"  {'correct' if dry_run else 'corrected'} {row.kpi.ref} {row.period}: "
                       f"{row.value:g} (was {row.previous:g}){shown}")
    if dry_run:
        click.echo(f"Would import {what}: {report.summary} (dry run: nothing was changed).")
    else:
        click.echo(f"Imported {what}: {report.summary}.")
        if report.statuses_changed:
            click.echo(f"{report.statuses_changed} action status"
                       f"{'es' if report.statuses_changed != 1 else ''} changed.")


@kpi_cli.command("import-police")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read the files and say what they would change; "
              "change nothing.")
@click.option("--by", "by", default=None, help="Who is importing them (recorded).")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD).")
@with_appcontext
def import_police_files(files: tuple[Path, ...], dry_run: bool, by: str | None,
                        today: object) -> None:
    """Count data.police.uk street-level crime CSV FILES into the KPIs the plan maps.

    Every file is checked first: a file with any problem changes nothing.
    """
    day = day_option(today)
    with ExitStack() as stack:
        try:
            opened = [(f.name, stack.enter_context(f.open("rb"))) for f in files]
        except OSError as error:
            click.echo(f"Refused: cannot read {error.filename}: {error.strerror}. "
                       "Nothing was changed.", err=True)
            sys.exit(1)
        try:
            with transaction() as session:
                report = import_police(session, loaded_plan(session), by or audit.COMMAND_LINE,
                                       opened, dry_run=dry_run, today=day)
        except ImportRefused as error:
            _refused(error)
            sys.exit(1)
    for line in report.notes():
        click.echo(line)
    _report(report, ", ".join(str(f) for f in files), dry_run)
