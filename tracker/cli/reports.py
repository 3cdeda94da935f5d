"""``tracker report ...``: the board's documents from the command line (the board pack)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import work
from tracker.cli.support import day_option, loaded_plan
from tracker.db import get_session
from tracker.reports.dashboard import Filters, QuarterUnknown, choose_quarter
from tracker.reports.pack import FORMATS, render
from tracker.services import layouts
from tracker.services.layouts import EVERYTHING, Choice

report_cli = click.Group("report", help="The board's documents: the board pack.")


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` all at once: into a temporary file beside it, then
    renamed over it, so that a failure never leaves a half-written file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@report_cli.command("board")
@click.option("--quarter", default=None, metavar="SLUG",
              help="The quarter, as 2025-26-Q2 (or 2025/26 Q2); the open quarter if left out.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="pdf, xlsx, csv or html; by default from --out's extension, else pdf.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=None, help="The file to write; by default the pack's own name, here.")
@click.option("--layout", "layout_name", default=None, metavar="NAME",
              help="A briefing book layout's name (see /board/layouts): the PDF or HTML holds "
                   "what it chooses; the whole pack if left out.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD).")
@with_appcontext
def board(quarter: str | None, fmt: str | None, out: Path | None, layout_name: str | None,
          today: object) -> None:
    """Write the board pack for a quarter: summary, exception report, priorities, KPIs,
    open escalations and trend (or what a layout chooses of them)."""
    day = day_option(today)
    if fmt is None:
        suffix = out.suffix.lower().lstrip(".") if out is not None else ""
        fmt = suffix if suffix in FORMATS else "pdf"
    session = get_session()
    plan = loaded_plan(session)
    try:
        chosen = choose_quarter(plan, day, quarter)
    except QuarterUnknown as error:
        raise click.ClickException(f"{error}. No board pack was written.") from None
    choice = EVERYTHING
    if layout_name is not None:
        found = next((a for a in layouts.layouts(session)
                      if a.name.casefold() == " ".join(layout_name.split()).casefold()), None)
        if found is None:
            names = ", ".join(a.name for a in layouts.layouts(session)) or "none yet"
            raise click.ClickException(f"There is no layout called {layout_name!r} (the "
                                       f"layouts: {names}). No board pack was written.")
        choice = Choice.of(found)
    if out is not None and not out.parent.is_dir():
        raise click.ClickException(f"Cannot write {out}: the folder {out.parent} does not "
                                   "exist. No board pack was written.")
    work.open_quarter(plan, day, "command line")  # a quarter has just opened: statuses first
    pack = render(fmt, session, plan, day, chosen, Filters(),
                  env=current_app.jinja_env, choice=choice)
    target = out if out is not None else Path(pack.filename)
    try:
        write_atomically(target, pack.content)
    except OSError as error:
        raise click.ClickException(f"Cannot write {target}: {error.strerror}. No board pack "
                                   "was written.") from None
    click.echo(f"Wrote board pack for {pack.quarter} ({pack.summary}) to {target}")
