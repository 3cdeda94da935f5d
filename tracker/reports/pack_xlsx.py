"""The board pack as spreadsheets: the workbook and the CSV, with every action.

The workbook has Summary, Exceptions, a sheet per priority (one row per action),
Commitments, KPIs, Escalations and Trend. It is written with openpyxl in write-only mode
(rows streamed: a few seconds for 10,000 actions). Every sheet's header row is bold and
frozen, columns have widths, and every status cell holds its word and is filled with its
colour (named styles, one per status). Every number is a number, with a number format
(counts ``#,##0``, percentages as Excel's percentages, KPI values in their unit), and every
sheet that is one table has an autofilter on its header row. Sheet names are ones Excel
accepts (:class:`SheetNames`): a priority's sheet is named by its ref and short title
(``P1 Safe communities``), cut at a word if need be, and its full title in the plan is the
sheet's first row.

The CSV has one row per action (the priority sheets' columns, and the priority), in UTF-8
with a byte order mark so that Excel reads it as such.

In both, text that a spreadsheet would run as a formula gets a leading apostrophe
(:func:`cell_text`), and the workbook drops characters a workbook cannot hold.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeGuard

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from plans.periods import long_date
from tracker.reports.contents import KPI_WORDS, Contents
from tracker.reports.dashboard import CHANGES, COLOURS, WORDS, ActionRow, Dashboard

FILLS = {"red": ("D4351C", "FFFFFF"), "amber": ("F47738", "0B0C0C"),
         "green": ("00703C", "FFFFFF"), "blue": ("1D70B8", "FFFFFF"),
         "grey": ("B1B4B6", "0B0C0C")}
"""Status colour and the text colour that reads on it (GOV.UK's palette)."""
HEADER, TITLE = "pack header", "pack title"
COUNT = "#,##0"
PERCENT = "0%"
DATE = "d mmm yyyy"
UNIT_WORDS = {"count": "Number", "percent": "Percent", "rate": "Rate", "days": "Days",
              "score": "Score", "currency": "Pounds (£)"}
"""What a KPI's numbers are, for the KPIs sheet's Unit column."""
SHEET_NAME_LIMIT = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_RESERVED = {"history"}
_DANGLING = {"a", "about", "across", "against", "an", "and", "as", "at", "between", "but",
             "by", "for", "from", "in", "into", "of", "on", "or", "so", "the", "through",
             "to", "towards", "via", "with", "within", "without", "&", "-", ","}
"""Words a name cut short should not end on."""


@dataclass(frozen=True)
class Column:
    """One column of the actions' tables (the priority sheets and the CSV)."""

    header: str
    width: int
    value: Callable[[ActionRow], str | int | date | None]
    is_status: bool = False
    """The cell is the action's status: filled with its colour, its word as the value."""
    is_percent: bool = False
    """The value is a percentage (``45`` for 45%): the workbook holds it as Excel does
    (0.45, shown as 45%); the CSV as it is."""


def action_columns(dashboard: Dashboard) -> list[Column]:
    """The columns, in order, of one action's row."""
    before = dashboard.previous

    def previous(row: ActionRow) -> str:
        return row.previous_word if before is not None else ""

    def update(text: Callable[[ActionRow], str]) -> Callable[[ActionRow], str]:
        return lambda row: text(row) if row.update is not None else ""

    return [
        Column("Ref", 10, lambda r: r.ref),
        Column("Title", 48, lambda r: r.title),
        Column("Commitment", 12, lambda r: r.commitment_ref),
        Column("Owner", 24, lambda r: r.owner),
        Column("Lead agency", 28, lambda r: r.lead),
        Column("Group", 28, lambda r: r.group),
        Column("Status", 12, lambda r: r.word, is_status=True),
        Column("Rule", 26, lambda r: r.rule),
        Column("Reason", 50, lambda r: r.reason),
        Column("% complete", 11,
               lambda r: r.update.percent_complete if r.update is not None else None,
               is_percent=True),
        Column("Narrative", 60, update(lambda r: r.update.narrative)),  # type: ignore[union-attr]
        Column("Corrective action", 48,
               update(lambda r: r.update.corrective_action)),  # type: ignore[union-attr]
        Column("Area of concern", 36, _concern),
        Column(f"Status in {before.label}" if before else "Previous quarter status", 16,
               previous),
        Column("Change", 12, lambda r: CHANGES.get(r.change or "", "")),
        Column("Due", 13, lambda r: r.due),
        Column("Plan's due date, if revised", 16, lambda r: r.baseline_due),
    ]


def _concern(row: ActionRow) -> str:
    if row.update is None or not row.update.is_concern:
        return ""
    return row.update.concern_reason or "Yes"


_RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: object) -> object:
    """A value for a spreadsheet cell, safe from formula injection: text that a spreadsheet
    would read as a formula (starting ``= + - @``, a tab or a carriage return) gets a
    leading apostrophe. Numbers and None pass through."""
    if isinstance(value, str) and value.startswith(_RISKY_STARTS):
        return "'" + value
    return value


def _status_style(colour: str) -> str:
    return f"status {colour}"


def _styles(book: Workbook) -> None:
    thin = Side(style="thin", color="505A5F")
    for colour, (fill, ink) in FILLS.items():
        book.add_named_style(NamedStyle(
            name=_status_style(colour), font=Font(bold=True, color=ink),
            fill=PatternFill("solid", fgColor=fill), border=Border(thin, thin, thin, thin),
            alignment=Alignment(horizontal="center")))
    book.add_named_style(NamedStyle(
        name=HEADER, font=Font(bold=True), fill=PatternFill("solid", fgColor="F3F2F1"),
        border=Border(bottom=Side(style="medium", color="0B0C0C")),
        alignment=Alignment(vertical="bottom", wrap_text=True)))
    book.add_named_style(NamedStyle(name=TITLE, font=Font(bold=True, size=14)))


class SheetNames:
    """Sheet names as Excel allows them: no ``[]:*?/\\``, at most 31 characters, not blank,
    not starting or ending with an apostrophe, not "History", and unique (ignoring case).
    A name too long is cut at a word (never after "and", "of" and the like), and only a
    single word too long for the limit is cut inside it."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, wanted: str) -> str:
        name = re.sub(r"\s+", " ", _FORBIDDEN.sub("-", wanted)).strip().strip("'").strip()
        name = _shorten(name, SHEET_NAME_LIMIT) or "Sheet"
        if name.lower() in _RESERVED:
            name = f"{name} (1)"
        candidate, n = name, 1
        while candidate.lower() in self.taken:
            n += 1
            suffix = f" ({n})"
            candidate = _shorten(name, SHEET_NAME_LIMIT - len(suffix)) + suffix
        self.taken.add(candidate.lower())
        return candidate


def _shorten(name: str, limit: int) -> str:
    """``name`` if it fits in ``limit`` characters, else its first words that do (less any
    that leave it dangling); a first word longer than the limit is cut."""
    if len(name) <= limit:
        return name
    words = name.split(" ")
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > limit:
            break
        kept.append(word)
    while len(kept) > 1 and kept[-1].lower().strip(",;.-") in _DANGLING | {""}:
        kept.pop()
    if not kept:
        return name[:limit].rstrip().rstrip("'")
    return " ".join(kept).rstrip(",;.- ").rstrip("'") or name[:limit].rstrip()


def priority_sheet_name(ref: str, title: str) -> str:
    """``P1 Safe communities``: a priority's sheet, by its ref and (short) title."""
    return f"P{ref} {title}"


def kpi_number(unit: str, value: float) -> tuple[float, str]:
    """A KPI's value as a workbook holds it, and its number format: a percentage as Excel's
    (0.71, shown as 71%), pounds with a pound sign; whole numbers without decimals, others
    to one place, as the tracker writes them (the cell keeps every decimal)."""
    whole = value == round(value)
    if unit == "percent":
        return round(value / 100, 12), PERCENT if whole else "0.0%"
    if unit == "currency":
        return value, '"£"#,##0' if whole else '"£"#,##0.00'
    return value, COUNT if whole else "#,##0.0"


def _clean(value: object) -> object:
    """A value a workbook can hold, safe from formula injection; blank text is no cell."""
    if value == "":
        return None
    value = cell_text(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


class _Sheet:
    """A write-only sheet with a header row, widths, status cells and number cells; when
    ``filtered`` (a sheet that is one table), an autofilter on the header row, set by
    :meth:`finish` once every row is written."""

    def __init__(self, book: Workbook, name: str, headers: Sequence[str],
                 widths: Sequence[int], *, above: Iterable[Sequence[object]] = (),
                 filtered: bool = True) -> None:
        ws = book.create_sheet(name)
        assert isinstance(ws, WriteOnlyWorksheet)
        self.ws = ws
        self.filtered = filtered
        self.columns = len(headers)
        for n, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(n)].width = width
        rows = list(above)
        self.header_row = len(rows) + 1
        self.rows = 0
        ws.freeze_panes = f"A{self.header_row + 1}"
        ws.print_title_rows = f"{self.header_row}:{self.header_row}"
        for number, row in enumerate(rows):
            self.append([self.styled(v, TITLE) if number == 0 and v else v for v in row])
        self.append([self.styled(h, HEADER) for h in headers])

    def styled(self, value: object, style: str) -> Cell:
        cell = WriteOnlyCell(self.ws, value=_clean(value))
        cell.style = style
        return cell

    def status(self, colour: str, word: str) -> Cell:
        return self.styled(word, _status_style(colour if colour in FILLS else "grey"))

    def number(self, value: float | None, number_format: str = COUNT) -> Cell | None:
        """A number cell with its format (no cell for no number)."""
        if value is None:
            return None
        cell = WriteOnlyCell(self.ws, value=value)
        cell.number_format = number_format
        return cell

    def append(self, values: Iterable[object]) -> None:
        self.ws.append([v if isinstance(v, Cell) or v is None else
                        self.number(v, COUNT if isinstance(v, int) else "General")
                        if _is_number(v) else _clean(v) for v in values])
        self.rows += 1

    def finish(self) -> None:
        if self.filtered:
            self.ws.auto_filter.ref = (f"A{self.header_row}:"
                                       f"{get_column_letter(self.columns)}{self.rows}")


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def workbook(contents: Contents) -> tuple[bytes, int]:
    """The workbook's bytes and its number of sheets."""
    db = contents.dashboard
    book = Workbook(write_only=True)
    _styles(book)
    names = SheetNames()
    book.properties.title = contents.title
    book.properties.creator = db.partnership

    counted = [WORDS[c] for c in COLOURS]
    above = [[contents.title],
             [f"{db.plan_title}. Quarter {db.quarter.label} (to {long_date(db.quarter.end)}), "
              f"prepared on {long_date(contents.prepared)}."],
             ["Filtered to " + "; ".join(contents.filters) if contents.filters
              else "The whole plan."],
             []]
    # several small tables: a sheet has one autofilter, which would sweep up the others
    summary = _Sheet(book, names("Summary"), ["Priority", "Title", "Status", *counted,
                                              "Total actions"],
                     [10, 40, 12, 10, 10, 10, 11, 11, 13], above=above, filtered=False)
    for p in db.priorities:
        summary.append([p.ref, p.title, summary.status(p.colour, p.word),
                        *(p.action_counts[c] for c in COLOURS), p.action_counts.total])
    total = db.action_counts
    summary.append(["All", "All priorities", None, *(total[c] for c in COLOURS), total.total])
    summary.append([])
    summary.append([summary.styled(h, HEADER) for h in
                    ["Priority", "Commitments", None, *counted, "Total commitments"]])
    for p in db.priorities:
        summary.append([p.ref, p.title, None, *(p.commitment_counts[c] for c in COLOURS),
                        p.commitment_counts.total])
    summary.append([])
    if db.previous is not None:
        summary.append([summary.styled(h, HEADER) for h in
                        ["Priority", f"Changes since {db.previous.label}", None,
                         *CHANGES.values()]])
        for p in db.priorities:
            summary.append([p.ref, p.title, None, *(p.changes[k] for k in CHANGES)])
        summary.append(["All", "All priorities", None, *(n for _, _, n in db.change_counts)])
        summary.append([])
    summary.append([summary.styled(h, HEADER) for h in ["", "Other figures", None, "Number"]])
    others = [("Actions with no update that counts (not complete)", len(db.missing)),
              ("Actions past their due date and not complete", len(db.overdue)),
              ("Open escalations", len(db.open_escalations)),
              *((f"KPIs {KPI_WORDS[c]}", db.kpi_counts[c])
                for c in ("red", "amber", "green", "grey"))]
    for text, number in others:
        summary.append([None, text, None, number])

    exceptions = _Sheet(book, names("Exceptions"),
                        ["Priority", "Ref", "Title", "Owner", "Status", "Reason",
                         "Area of concern", "Corrective action", "Narrative"],
                        [9, 10, 44, 24, 12, 50, 36, 48, 60])
    for p, rows in db.exceptions():
        for r in rows:
            update = r.update
            exceptions.append([
                p.ref, r.ref, r.title, r.owner, exceptions.status(r.colour, r.word), r.reason,
                (update.concern_reason or "Yes") if update and update.is_concern else "",
                update.corrective_action if update else "",
                update.narrative if update else "No update counts for the quarter"])

    columns = action_columns(db)
    sheets = [summary, exceptions]
    for p in db.priorities:
        full_title = contents.priority_titles.get(p.ref, p.title)
        sheet = _Sheet(book, names(priority_sheet_name(p.ref, p.title)),
                       [c.header for c in columns], [c.width for c in columns],
                       above=[[f"Priority {p.ref}: {full_title}"]])
        for row in p.actions:
            sheet.append([_action_cell(sheet, c, row) for c in columns])
        sheets.append(sheet)

    commitments = _Sheet(book, names("Commitments"),
                         ["Priority", "Ref", "Commitment", "Part of", "Status", *counted,
                          "Total actions", "Reason"],
                         [9, 9, 60, 9, 12, 8, 8, 8, 10, 10, 10, 44])
    for p in db.priorities:
        for c in p.commitments:
            commitments.append([p.ref, c.ref, c.text, c.parent_ref,
                                commitments.status(c.colour, c.word),
                                *(c.counts[colour] for colour in COLOURS), c.counts.total,
                                c.reason])

    kpi_sheet = _Sheet(book, names("KPIs"),
                       ["Ref", "KPI", "Status", "Latest value", "Target", "Unit", "Period",
                        "Direction of travel", "Reason", "Priorities"],
                       [24, 50, 12, 14, 14, 12, 14, 14, 60, 12])
    for k in db.kpis:
        figure = contents.kpi_figures.get(k.ref)
        value: object
        target: object
        unit: str | None
        if figure is None:  # not gathered: the dashboard's words
            value, target, unit = k.value, k.target, None
        else:
            value = _kpi_cell(kpi_sheet, figure.unit, figure.value)
            target = _kpi_cell(kpi_sheet, figure.unit, figure.target)
            unit = UNIT_WORDS.get(figure.unit, figure.unit.capitalize())
        kpi_sheet.append([k.ref, k.name, kpi_sheet.status(k.status, k.word), value,
                          target, unit, k.period, k.direction,
                          k.reason, ", ".join(sorted(r for r in k.priority_refs if r))])

    escalations = _Sheet(book, names("Escalations"),
                         ["Ref", "Action", "Owner", "Status", "Raised to", "Rule", "Reason",
                          "Raised in", "Last matched"],
                         [10, 44, 24, 12, 16, 28, 60, 12, 12])
    for e in db.open_escalations:
        escalations.append([
            e.action.ref, e.action.title, e.action.owner,
            escalations.status(e.action.colour, e.action.word),
            ", ".join(t.replace("_", " ").capitalize() for t in e.to), e.rule, e.reason,
            e.raised_in, e.last_quarter])

    trend = _Sheet(book, names("Trend"),
                   ["Priority", "Title", *(q.label for q in contents.quarters)],
                   [10, 40, *(12 for _ in contents.quarters)])
    for line in contents.trend:
        trend.append([line.ref, line.title,
                      *(trend.status(cell.colour, cell.word) for cell in line.cells)])

    notes = [("The quarter", "The community safety team's summary", contents.summary)] \
        if contents.summary else []
    notes.extend((f"Priority {p.ref}", f"{p.title}: the lead's narrative",
                  contents.narratives[p.ref])
                 for p in db.priorities if p.ref in contents.narratives)
    commentary = _Sheet(book, names("Commentary"),
                        ["About", "What", "Commentary", "Written by", "Written on", "Version"],
                        [14, 40, 90, 24, 14, 9])
    for about, what, note in notes:
        written = WriteOnlyCell(commentary.ws, value=note.written)
        written.number_format = DATE
        commentary.append([about, what, note.text, note.author, written, note.version])

    for sheet in [*sheets, commitments, kpi_sheet, escalations, trend, commentary]:
        sheet.finish()
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), len(book.worksheets)


def _action_cell(sheet: _Sheet, column: Column, row: ActionRow) -> object:
    if column.is_status:
        return sheet.status(row.colour, row.word)
    value = column.value(row)
    if column.is_percent and _is_number(value):
        return sheet.number(round(value / 100, 12), PERCENT)
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet.ws, value=value)
        cell.number_format = DATE
        return cell
    return value


def _kpi_cell(sheet: _Sheet, unit: str, value: float | None) -> Cell | None:
    if value is None:
        return None
    return sheet.number(*kpi_number(unit, value))


def csv_bytes(contents: Contents) -> tuple[bytes, int]:
    """One row per action, with its priority; UTF-8 with a byte order mark for Excel."""
    db = contents.dashboard
    columns = action_columns(db)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Priority", "Priority title", *(c.header for c in columns)])
    count = 0
    for priority in db.priorities:
        for row in priority.actions:
            writer.writerow([priority.ref, cell_text(priority.title),
                             *(cell_text(c.value(row)) for c in columns)])
            count += 1
    return ("\ufeff" + out.getvalue()).encode("utf-8"), count
