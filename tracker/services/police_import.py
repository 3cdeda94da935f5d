"""Importing data.police.uk street-level crime CSV files into KPI values.

The plan says which rows are the partnership's (``partnership.police_uk``: an LSOA name
prefix or a list of LSOA codes) and which crime types each KPI counts (``police_uk:
{crime_types: [...]}`` on the KPI). Files are streamed row by row with the csv module, so a
whole force's month (about 100,000 rows, 30 MB) takes seconds and little memory.

- Every file is checked whole first: a wrong header, a row without the twelve columns, or a
  Month that is not ``YYYY-MM`` refuses the import, with the file and line of each problem,
  and nothing is written.
- A month of one force (``Falls within``) may come from one file only: police.uk publishes a
  force's month as one file, so the same month and force in two files is the same file given
  twice and is refused (Crime IDs cannot be used instead: antisocial behaviour rows have none).
- Rows are counted per month and crime type, then rolled up to each KPI's frequency using the
  plan's financial year. A period with some of its months missing from the files is stored as
  provisional ("provisional: 2 of 3 months"); measures and statuses leave it out, so a
  part-counted quarter is never read as a fall. A later import with the missing months
  replaces it.
- Months before the earliest KPI baseline (never before the year before the plan), after the
  plan's end, or not yet over, are left out and counted in the report.
- Importing the same files again writes nothing: the values are compared with the ones that
  count, and only new or different ones are recorded (through :func:`write_report`).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import Plan
from plans.model import PoliceArea
from plans.periods import add_months, month_year, period_label, period_start
from tracker import clock
from tracker.models import KPI, User
from tracker.services.kpi_import import (
    ImportRefused,
    ImportReport,
    ImportRow,
    Problem,
    write_report,
)
from tracker.services.kpi_values import current_values, definition

HEADER = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
          "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
          "Context")
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
MAX_PROBLEMS = 20  # a file of the wrong kind has a problem on every line: say the first few
SOURCE = "data.police.uk street-level crime"
_MONTHS_IN = {"monthly": 1, "quarterly": 3, "annual": 12}


@dataclass
class Counts:
    """What the files hold for the partnership, per month and crime type."""

    window: tuple[date, date]
    by_month: Counter[tuple[date, str]] = field(default_factory=Counter)
    months: set[date] = field(default_factory=set)
    rows: int = 0
    in_area: int = 0
    before: int = 0
    after: int = 0


@dataclass
class PoliceReport(ImportReport):
    counts: Counts | None = None
    files: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """What was read and what was left out, in sentences."""
        if self.counts is None:
            return []
        c = self.counts
        first, last = c.window
        lines = [f"{c.rows:,} rows read from {len(self.files)} file"
                 f"{'s' if len(self.files) != 1 else ''}; {c.in_area:,} in the partnership's "
                 "area."]
        if c.before:
            lines.append(f"{c.before:,} rows before the baseline ({month_year(first)}) left out.")
        if c.after:
            lines.append(f"{c.after:,} rows after {month_year(last)} (the plan's end, or a month "
                         "not yet over) left out.")
        return lines


def window(plan: Plan, kpis: Iterable[KPI], today: date) -> tuple[date, date]:
    """The first and last month counted: from the earliest baseline (never before the year
    before the plan) to the plan's end or last month, whichever is earlier."""
    calendar = plan.partnership.calendar
    first_year = calendar.year_of(plan.partnership.plan.starts).start
    earliest = calendar.year_of(first_year.replace(year=first_year.year - 1)).start
    starts = [d.baseline[0] for d in (definition(k, calendar) for k in kpis) if d.baseline]
    first = max(min(starts, default=first_year), earliest)
    ends = plan.partnership.plan.ends
    last = min(date(ends.year, ends.month, 1), add_months(today, -1))
    return first, last


def read_files(files: Iterable[tuple[str, IO[bytes]]], area: PoliceArea,
               span: tuple[date, date]) -> Counts:
    """Count the rows of every file, or :class:`ImportRefused` naming each problem's file
    and line. Reads one row at a time."""
    counts = Counts(span)
    problems: list[Problem] = []
    owner: dict[tuple[str, str], str] = {}  # (month, force): the file it came from
    for name, stream in files:
        _read_one(name, stream, area, counts, owner, problems)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise ImportRefused(problems)
    return counts


def _read_one(name: str, stream: IO[bytes], area: PoliceArea, counts: Counts,
              owner: dict[tuple[str, str], str], problems: list[Problem]) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    first, last = counts.window
    twice: set[tuple[str, str]] = set()
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            problems.append(Problem(None, f"{name} line 1: the header is not that of a "
                            "data.police.uk street-level crime file; it must be "
                            + ",".join(HEADER)))
            return
        for row in reader:
            line = reader.line_num
            if len(row) != len(HEADER):
                if not any(row):
                    continue
                problems.append(Problem(None, f"{name} line {line}: {len(row)} columns, not "
                                        f"{len(HEADER)}: the row is cut short or has an "
                                        "unquoted comma"))
            elif (found := MONTH.fullmatch(row[1])) is None:
                problems.append(Problem(None, f"{name} line {line}: the Month '{row[1][:20]}' "
                                        "is not a month written YYYY-MM, like 2025-04"))
            else:
                key = (row[1], row[3])
                source = owner.setdefault(key, name)
                if source != name and key not in twice:
                    twice.add(key)
                    problems.append(Problem(None, f"{name} line {line}: {row[1]} for "
                                            f"{row[3]} is also in {source}; give each "
                                            "month's file once"))
                if problems:
                    if len(problems) >= MAX_PROBLEMS:
                        return
                    continue
                month = date(int(found[1]), int(found[2]), 1)
                counts.rows += 1
                if month < first:
                    counts.before += 1
                elif month > last:
                    counts.after += 1
                else:
                    counts.months.add(month)
                    if area.contains(row[7], row[8]):
                        counts.in_area += 1
                        counts.by_month[(month, row[9])] += 1
            if len(problems) >= MAX_PROBLEMS:
                return
    except UnicodeDecodeError:
        problems.append(Problem(None, f"{name} line {reader.line_num + 1}: the file is not "
                                "UTF-8 text: download it again from data.police.uk"))
    except csv.Error as error:
        problems.append(Problem(None, f"{name} line {reader.line_num}: {error}"))
    finally:
        text.detach()


def roll_up(kpi: KPI, crime_types: tuple[str, ...], counts: Counts, year_start_month: int,
            first: date) -> list[tuple[str, float, str]]:
    """The KPI's ``(period, value, provisional)`` from the counted months: provisional is
    '' for a whole period, else '2 of 3 months'."""
    periods: dict[date, list[date]] = {}
    for month in sorted(counts.months):
        if month >= first:
            periods.setdefault(period_start(month, year_start_month, kpi.frequency),
                               []).append(month)
    result = []
    for start, months in periods.items():
        value = sum(counts.by_month[(m, t)] for m in months for t in crime_types)
        needed = _MONTHS_IN[kpi.frequency]
        missing = "" if len(months) == needed else f"{len(months)} of {needed} months"
        label = (f"{start:%Y-%m}" if kpi.frequency == "monthly"
                 else period_label(start, year_start_month, kpi.frequency))
        result.append((label, float(value), missing))
    return result


def mapped_kpis(session: Session, plan: Plan) -> list[tuple[KPI, tuple[str, ...]]]:
    """The plan's KPIs that count police.uk crime types, with those types."""
    wanted = {k.id: k.police_uk for k in plan.kpis if k.police_uk}
    if plan.partnership.police_uk is None or not wanted:
        raise ImportRefused([Problem(None, "the plan maps no KPI to police.uk crime types: "
                             "add partnership police_uk and a KPI's police_uk crime_types "
                             "(see docs/plan-file.md)")])
    rows = session.scalars(select(KPI).where(KPI.ref.in_(list(wanted)),
                                             KPI.retired_at.is_(None)).order_by(KPI.ref))
    return [(kpi, wanted[kpi.ref]) for kpi in rows]


def import_police(session: Session, plan: Plan, actor: User | str,
                  files: Sequence[tuple[str, IO[bytes]]], *, dry_run: bool = False,
                  today: date | None = None) -> PoliceReport:
    """Read the files and, unless ``dry_run``, record the KPI values they give. Flushes only;
    raises :class:`ImportRefused` (having written nothing) on any problem."""
    day = today or clock.today()
    calendar = plan.partnership.calendar
    kpis = mapped_kpis(session, plan)
    area = plan.partnership.police_uk
    assert area is not None
    span = window(plan, (k for k, _ in kpis), day)
    counts = read_files(files, area, span)
    names = [name for name, _ in files]
    report = PoliceReport(", ".join(names), dry_run=dry_run, counts=counts, files=names)
    current = current_values(session, [k.id for k, _ in kpis])
    for kpi, types in kpis:
        baseline = definition(kpi, calendar).baseline
        first = max(span[0], baseline[0]) if baseline else span[0]
        for label, value, missing in roll_up(kpi, types, counts, calendar.month, first):
            note = f"Provisional: {missing} in the police.uk files" if missing else ""
            latest = current.get(kpi.id, {}).get(label)
            if latest is None:
                outcome = "add"
            elif (latest.value, latest.provisional, latest.note) == (value, bool(missing), note):
                outcome = "same"
            else:
                outcome = "change"
            report.rows.append(ImportRow(0, kpi, label, value, note, outcome,
                                         None if latest is None else latest.value, missing))
    write_report(session, plan, actor, report,
                 {"files": names, "rows_read": counts.rows, "in_area": counts.in_area,
                  "before": counts.before, "after": counts.after}, day,
                 source=f"{SOURCE}: {report.filename}"[:500])
    return report


