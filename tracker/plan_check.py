"""``tracker plan check FILE``: reading a plan file needs the plan format alone.

This module imports :mod:`plans` and click, never Flask or SQLAlchemy, so that checking a
plan (in an editor's save hook, or a partnership's CI) takes a tenth of a second more than
reading the file: :mod:`tracker.entry` runs it without loading the web application.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from plans import PlanError, load_plan
from plans.periods import long_date


def report_refusal(error: PlanError, *, loading: bool = False) -> None:
    count = len(error.errors)
    after = " Nothing was changed." if loading else ""
    click.echo(f"The plan file was refused: {count} error{'s' if count != 1 else ''}.{after}",
               err=True)
    for problem in error.problems:
        click.echo(str(problem), err=True)



@click.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def plan_check(file: Path) -> None:
    """Validate FILE: print a summary, or every error (exit status 1)."""
    try:
        plan = load_plan(file)
    except PlanError as error:
        report_refusal(error)
        sys.exit(1)
    summary = plan.summary()
    partnership = plan.partnership
    years = partnership.years
    click.echo(f"{file}: the plan is valid.")
    rows = [
        ("Partnership", f"{partnership.name} ({partnership.id})"),
        ("Plan", f"{partnership.plan.title}, {long_date(partnership.plan.starts)} to "
                 f"{long_date(partnership.plan.ends)} ({years[0].label} to {years[-1].label})"),
        ("Priorities", summary["priorities"]),
        ("Commitments", summary["commitments"]),
        ("Parts", summary["parts"]),
        ("Themes", summary["themes"]),
        ("Groups", summary["groups"]),
        ("Authorities", summary["authorities"]),
        ("People", summary["people"]),
        ("KPIs", summary["kpis"]),
    ]
    actions = summary["actions"]
    assert isinstance(actions, dict)
    if actions:
        rows.append(("Actions", ", ".join(f"{year}: {n}" for year, n in actions.items())))
    else:
        rows.append(("Actions", "no delivery plans"))
    for label, value in rows:
        click.echo(f"  {label + ':':<13} {value}")
    if plan.warnings:
        click.echo(f"{len(plan.warnings)} warning{'s' if len(plan.warnings) != 1 else ''}:")
        for warning in plan.warnings:
            click.echo(f"  {warning}")
