"""The board pack as spreadsheets: the workbook and the CSV, with every action.

The workbook has Summary, Exceptions, a sheet per priority (one row per action),
Commitments, KPIs, Escalations and Trend. It is written with openpyxl in write-only mode
(rows streamed: a few seconds for 10,000 actions). Every sheet's header row is bold and
frozen, columns have widths, and every status cell holds its word and is filled with its
colour (named styles, one per status).

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

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from tracker.reports.contents import KPI_WORDS, Contents
from tracker.reports.dashboard import CHANGES, COLOURS, WORDS, ActionRow, Dashboard

FILLS = {"red": ("D4351C", "FFFFFF"), "amber": ("F47738", "0B0C0C"),
         "green": ("00703C", "FFFFFF"), "blue": ("1D70B8", "FFFFFF"),
         "grey": ("B1B4B6", "0B0C0C")}
"""Status colour and the text colour that reads on it (GOV.UK's palette)."""
HEADER, TITLE = "pack header", "pack title"
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_RESERVED = {"history"}


@dataclass(frozen=True)
class Column:
    """One column of the actions' tables (the priority sheets and the CSV)."""

    header: str
    width: int
    value: Callable[[ActionRow], str | int | None]
    is_status: bool = False
    """The cell is the action's status: filled with its colour, its word as the value."""


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
               lambda r: r.update.percent_complete if r.update is not None else None),
        Column("Narrative", 60, update(lambda r: r.update.narrative)),  # type: ignore[union-attr]
        Column("Corrective action", 48,
               update(lambda r: r.update.corrective_action)),  # type: ignore[union-attr]
        Column("Area of concern", 36, _concern),
        Column(f"Status in {before.label}" if before else "Previous quarter status", 16,
               previous),
        Column("Change", 12, lambda r: CHANGES.get(r.change or "", "")),
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
    not starting or ending with an apostrophe, not "History", and unique (ignoring case)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, wanted: str) -> str:
        name = re.sub(r"\s+", " ", _FORBIDDEN.sub("-", wanted)).strip().strip("'").strip()
        name = name[:31].rstrip().rstrip("'") or "Sheet"
        if name.lower() in _RESERVED:
            name = f"{name} (1)"
        candidate, n = name, 1
        while candidate.lower() in self.taken:
            n += 1
            suffix = f" ({n})"
            candidate = name[:31 - len(suffix)].rstrip() + suffix
        self.taken.add(candidate.lower())
        return candidate


def _clean(value: object) -> object:
    """A value a workbook can hold, safe from formula injection; blank text is no cell."""
    if value == "":
        return None
    value = cell_text(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


class _Sheet:
    """A write-only sheet with a header row, widths and status cells."""

    def __init__(self, book: Workbook, name: str, headers: Sequence[str],
                 widths: Sequence[int], *, above: Iterable[Sequence[object]] = ()) -> None:
        ws = book.create_sheet(name)
        assert isinstance(ws, WriteOnlyWorksheet)
        self.ws = ws
        for n, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(n)].width = width
        rows = list(above)
        ws.freeze_panes = f"A{len(rows) + 2}"
        ws.print_title_rows = f"{len(rows) + 1}:{len(rows) + 1}"
        for number, row in enumerate(rows):
            self.append([self.styled(v, TITLE) if number == 0 and v else v for v in row])
        self.append([self.styled(h, HEADER) for h in headers])

    def styled(self, value: object, style: str) -> Cell:
        cell = WriteOnlyCell(self.ws, value=_clean(value))
        cell.style = style
        return cell

    def status(self, colour: str, word: str) -> Cell:
        return self.styled(word, _status_style(colour if colour in FILLS else "grey"))

    def append(self, values: Iterable[object]) -> None:
        self.ws.append([v if isinstance(v, Cell) else _clean(v) for v in values])


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
             [f"{db.plan_title}. Quarter {db.quarter.label} (to {db.quarter.end:%d %B %Y}), "
              f"prepared on {contents.prepared:%d %B %Y}."],
             ["Filtered to " + "; ".join(contents.filters) if contents.filters
              else "The whole plan."],
             []]
    summary = _Sheet(book, names("Summary"), ["Priority", "Title", "Status", *counted,
                                              "Total actions"],
                     [10, 40, 12, 10, 10, 10, 11, 11, 13], above=above)
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
    for p in db.priorities:
        sheet = _Sheet(book, names(f"{p.ref} {p.title}"), [c.header for c in columns],
                       [c.width for c in columns])
        for row in p.actions:
            sheet.append([sheet.status(row.colour, row.word) if c.is_status else c.value(row)
                          for c in columns])

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
                       ["Ref", "KPI", "Status", "Latest value", "Target", "Period",
                        "Direction of travel", "Reason", "Priorities"],
                       [24, 50, 12, 14, 14, 14, 14, 60, 12])
    for k in db.kpis:
        kpi_sheet.append([k.ref, k.name, kpi_sheet.status(k.status, k.word), k.value,
                          k.target, k.period, k.direction,
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

    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), len(book.worksheets)


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
