"""Importing KPI values from a spreadsheet: a CSV or XLSX file whose header row names the
columns ``kpi``, ``period``, ``value`` and, optionally, ``note``.

The whole file is checked before anything is written and every problem is reported at once,
each as ``row N: what is wrong and how to fix it`` with the spreadsheet's own row number (the
header is row 1; empty rows are skipped but keep their numbers). A file with any problem is
refused whole. A good file is compared, row by row, with the value that counts for that KPI
and period: ``add`` (no value yet), ``change`` (a correction: the earlier value stays in the
history) or ``same`` (nothing to write). Changes go through
:func:`tracker.services.kpi_values.record_value` (which audits each one) in the caller's
transaction, and the statuses of the actions the KPIs feed are recomputed once at the end.
A dry run makes the same checks and the same report, and writes nothing.

How a value is read (decided here, and said in the upload page's instructions):

- digits as typed: ``1234``, ``12.5``, ``-3``, and commas between groups of three digits
  (``1,234`` or ``1,234.5``); spaces around the value are ignored;
- a percentage KPI also takes ``45%``, and an XLSX cell formatted as a percentage (0.45
  shown as 45%) is read as 45; a percentage must be from 0 to 100;
- refused: an empty value (delete the row instead), words (``n/a``, ``-``), ``12%`` for a
  KPI that is not a percentage, ``1e3``, ``1.234,5``, ``1,23``, and a negative count, rate
  or number of days;
- a note of up to 2,000 characters; an empty note never counts as a change on its own.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import Plan
from plans.periods import long_date
from plans.yamlsource import suggest
from tracker import clock
from tracker.models import KPI, User
from tracker.services import audit
from tracker.services.kpi_import_file import (
    MAX_BYTES,
    MAX_ROWS,
    Cell,
    ImportRefused,
    Problem,
    Sheet,
    blank,
    column_letter,
    display_name,
    read_limited,
    read_sheet,
)
from tracker.services.kpi_values import (
    ValueRefused,
    affected_actions,
    check_in_plan,
    current_values,
    normalise_period,
    period_examples,
    record_value,
)
from tracker.services.statuses import recompute

__all__ = ["MAX_BYTES", "MAX_NOTE", "MAX_ROWS", "ImportRefused", "ImportReport", "ImportRow",
           "Problem", "check_sheet", "import_values", "parse_value", "read_limited",
           "read_sheet", "write_report"]

MAX_NOTE = 2000
SHOWN = 60  # the most of a cell's text a message repeats (a cell may hold 32,767 characters)
NON_NEGATIVE = frozenset({"count", "rate", "days"})

_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


# -- the report -------------------------------------------------------------------------------


@dataclass
class ImportRow:
    row: int
    kpi: KPI
    period: str
    value: float
    note: str
    outcome: str  # add, change or same
    previous: float | None = None
    provisional: str = ""  # what is missing, as "2 of 3 months", for a provisional value


@dataclass
class ImportReport:
    filename: str
    rows: list[ImportRow] = field(default_factory=list)
    dry_run: bool = False
    statuses_changed: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def added(self) -> int:
        return self.count("add")

    @property
    def corrected(self) -> int:
        return self.count("change")

    @property
    def unchanged(self) -> int:
        return self.count("same")

    @property
    def summary(self) -> str:
        """``12 added, 3 corrected, 5 unchanged`` (or what a dry run would do)."""
        if self.dry_run:
            return (f"{self.added} to add, {self.corrected} to correct, "
                    f"{self.unchanged} unchanged")
        return f"{self.added} added, {self.corrected} corrected, {self.unchanged} unchanged"


# -- checking each row ------------------------------------------------------------------------


def _text(cell: Cell | None) -> str:
    if cell is None or cell.value is None:
        return ""
    value = cell.value
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _shown(text: str) -> str:
    """The text as a message repeats it: cut short past :data:`SHOWN` characters."""
    return text if len(text) <= SHOWN else text[:SHOWN - 1].rstrip() + "…"


def _period_text(cell: Cell | None, kpi: KPI) -> str:
    """A spreadsheet turns ``2025-04`` into a date: a monthly KPI reads it back as a month."""
    if cell is not None and isinstance(cell.value, date) and kpi.frequency == "monthly":
        return cell.value.strftime("%Y-%m")
    return _text(cell)


def parse_value(cell: Cell | None, kpi: KPI | None) -> float:
    """The number in a cell, or :class:`ValueRefused` saying how to write it (see above)."""
    raw = None if cell is None else cell.value
    if blank(raw):
        raise ValueRefused("the value is empty: enter a number, or delete the row")
    typed_percent = bool(cell and cell.is_percent)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueRefused(f"'{_shown(_text(cell))}' is not a number: enter a number such as "
                           "1234 or 12.5")
    if isinstance(raw, str):
        text = raw.strip()
        typed_percent = text.endswith("%")
        core = text.removesuffix("%").strip()
        if _PLAIN.fullmatch(core):
            number = float(core)
        elif _GROUPED.fullmatch(core):
            number = float(core.replace(",", ""))
        else:
            raise ValueRefused(f"'{_shown(text)}' is not a number: write it with digits, like "
                               "1234, 1,234 or 12.5")
    else:
        number = float(raw) * 100 if typed_percent else float(raw)
        number = round(number, 10) if typed_percent else number
    if not math.isfinite(number):
        raise ValueRefused("the value is not a number: enter a number such as 1234 or 12.5")
    if kpi is None:
        return number
    if typed_percent and kpi.unit != "percent":
        shown = _shown(raw.strip()) if isinstance(raw, str) else f"{number:g}%"
        raise ValueRefused(f"'{shown}' is a percentage, but {kpi.ref} is not measured in "
                           f"percent (its unit is {kpi.unit}): enter the number without %")
    if kpi.unit == "percent" and not 0 <= number <= 100:
        raise ValueRefused(f"{number:g} is not a percentage from 0 to 100")
    if kpi.unit in NON_NEGATIVE and number < 0:
        raise ValueRefused(f"{number:g} is negative, and {kpi.ref} cannot be (its unit is "
                           f"{kpi.unit}): check the figure")
    return number


def check_sheet(session: Session, plan: Plan, sheet: Sheet, today: date) -> list[ImportRow]:
    """Check every row; return them with what importing each would do, or
    :class:`ImportRefused` listing every problem. Reads only."""
    kpis = list(session.scalars(select(KPI)))
    by_ref = {k.ref.casefold(): k for k in kpis}
    by_name = {k.name.casefold(): k.ref for k in kpis}
    current = current_values(session)
    example = next((k.ref for k in kpis if k.retired_at is None), "a KPI id")
    seen: dict[tuple[int, str], int] = {}
    unknown: dict[str, str] = {}  # the problem with each text that is not a KPI
    problems: list[Problem] = []
    rows: list[ImportRow] = []
    for line in sheet.lines:
        cells: dict[str, Cell] = {}
        for index, cell in enumerate(line.cells):
            if index in sheet.columns:
                cells[sheet.columns[index]] = cell
            elif not blank(cell.value):
                problems.append(Problem(line.row, f"column {column_letter(index)} has no "
                                        "heading: clear the cell, or head the column note"))
        found: list[str] = []
        kpi = _kpi(_text(cells.get("kpi")), by_ref, by_name, example, found, unknown)
        label = None
        if kpi is not None:
            label = _period(kpi, _period_text(cells.get("period"), kpi), plan, today, found)
        try:
            value = parse_value(cells.get("value"), kpi)
        except ValueRefused as refused:
            found.append(str(refused))
            value = None
        note = _text(cells.get("note"))
        if len(note) > MAX_NOTE:
            found.append(f"the note is {len(note):,} characters long: shorten it to "
                         f"{MAX_NOTE:,} or fewer")
        if kpi is not None and label is not None:
            first = seen.setdefault((kpi.id, label), line.row)
            if first != line.row:
                found.append(f"{kpi.ref} {label} is also on row {first}: keep only one of "
                             f"rows {first} and {line.row}")
        problems.extend(Problem(line.row, message) for message in found)
        if found or kpi is None or label is None or value is None:
            continue
        latest = current.get(kpi.id, {}).get(label)
        if latest is None:
            outcome = "add"
        elif latest.value == value and (not note or note == latest.note) \
                and not latest.provisional:
            outcome = "same"
        else:
            outcome = "change"
        rows.append(ImportRow(line.row, kpi, label, value, note, outcome,
                              latest.value if latest is not None else None))
    if problems:
        raise ImportRefused(problems, header_row=sheet.header_row)
    return rows


def _kpi(text: str, by_ref: dict[str, KPI], by_name: dict[str, str], example: str,
         found: list[str], unknown: dict[str, str]) -> KPI | None:
    """The row's KPI, or None with its problem in ``found``. ``unknown`` keeps the message for
    each text that is not a KPI: a file repeats the same mistake on many rows."""
    if not text:
        found.append(f"the kpi is empty: enter the KPI's id from the plan, such as {example}")
        return None
    kpi = by_ref.get(text.casefold())
    if kpi is None:
        if text not in unknown:
            unknown[text] = _unknown_kpi(text, by_ref, by_name, example)
        found.append(unknown[text])
        return None
    if kpi.retired_at is not None:
        found.append(f"the KPI {kpi.ref} was retired from the plan on "
                     f"{long_date(kpi.retired_at)}: it takes no new values, so delete the row")
        return None
    return kpi


def _unknown_kpi(text: str, by_ref: dict[str, KPI], by_name: dict[str, str], example: str
                 ) -> str:
    # suggest's cutoff (0.6) matches no text over 2.3 times as long as every id: a longer one
    # (a note in the wrong column, say) is not compared character by character, row after row
    close = len(text) <= 3 * max(map(len, by_ref), default=0)
    hint = suggest(text.casefold(), list(by_ref)) if close else ""
    if not hint and text.casefold() in by_name:
        hint = f"; did you mean '{by_name[text.casefold()]}'?"
    return (f"there is no KPI '{_shown(text)}' in the plan{hint}"
            + ("" if hint else f": use the KPI's id, such as {example}"))


def _period(kpi: KPI, text: str, plan: Plan, today: date, found: list[str]) -> str | None:
    calendar = plan.partnership.calendar
    if not text:
        found.append(f"the period is empty: enter {period_examples(kpi, calendar)}")
        return None
    if len(text) > SHOWN:  # no period is written in so many characters
        found.append(f"{kpi.ref}: '{_shown(text)}' is not {period_examples(kpi, calendar)}")
        return None
    try:
        label = normalise_period(kpi, text, calendar)
        check_in_plan(kpi, label, plan, today)
    except ValueRefused as refused:
        found.append(f"{kpi.ref}: {refused}")
        return None
    return label


# -- importing --------------------------------------------------------------------------------


def import_values(session: Session, plan: Plan, actor: User | str, data: bytes,
                  filename: str, *, dry_run: bool = False, today: date | None = None
                  ) -> ImportReport:
    """Check the file and, unless ``dry_run``, record its new and corrected values, then
    recompute the statuses of the actions they feed. Flushes only: the caller commits.

    Raises :class:`ImportRefused` (having written nothing) if the file has any problem.
    """
    day = today or clock.today()
    name = display_name(filename)
    sheet = read_sheet(data, filename)
    rows = check_sheet(session, plan, sheet, day)
    report = ImportReport(name, rows, dry_run=dry_run)
    write_report(session, plan, actor, report, {"sha256": hashlib.sha256(data).hexdigest()},
                 day, source=f"Imported from {name}")
    return report


def write_report(session: Session, plan: Plan, actor: User | str, report: ImportReport,
                 detail: dict[str, object], day: date, source: str) -> None:
    """Record the report's new and corrected values (unless it is a dry run), audit the
    import once, and recompute the statuses of the actions the KPIs feed."""
    changes = [r for r in report.rows if r.outcome != "same"]
    if report.dry_run or not changes:
        return
    for row in changes:
        record_value(session, plan, actor, row.kpi, row.period, row.value, note=row.note,
                     data_source=source, origin="import", today=day,
                     provisional=bool(row.provisional))
    audit.record(session, actor, "kpi.imported", "file", report.filename,
                 f"{report.filename}: {report.summary}",
                 new={"file": report.filename, **detail, "rows": len(report.rows),
                      "added": report.added, "corrected": report.corrected,
                      "unchanged": report.unchanged})
    session.flush()
    action_ids: set[int] = set()
    for kpi in {row.kpi.id: row.kpi for row in changes}.values():
        action_ids.update(affected_actions(session, kpi))
    if action_ids:
        result = recompute(session, plan, day, action_ids=action_ids, actor=actor)
        report.statuses_changed = len(result.changed)
