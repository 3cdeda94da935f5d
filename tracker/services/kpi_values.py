"""KPI values in the tracker: entering and correcting them, and what the ``kpis`` package
makes of them (measures, charts, statuses that feed the rules).

Values are append-only: a correction is a new row, the latest row for a period counts, and
every earlier one stays in the history. Periods are stored as the plan writes them: a
quarter (``2025/26 Q1``) for quarterly KPIs, a year (``2025/26``) for annual ones and an
ISO month (``2025-04``) for monthly ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from kpis import KpiDefinition, Measure, measure, statuses_by_quarter
from plans import Calendar, Plan
from plans.periods import long_date
from tracker import clock
from tracker.models import KPI, Action, Commitment, KPIValue, User
from tracker.services import audit
from tracker.services.revisions import PLAN_WIDE, revised_targets


class ValueRefused(ValueError):
    """A value cannot be recorded; the message says why and how to fix it."""


class ValueConflict(ValueRefused):
    """A value for the period was recorded while the person's form was open."""

    def __init__(self, recorded: KPIValue, newest_id: int) -> None:
        who = recorded.recorded_by.name if recorded.recorded_by is not None else "Someone"
        super().__init__(
            f"{who} saved {recorded.value:g} for {recorded.period} while you had this form "
            f"open, so yours was not saved. If your value is still right, save it again: "
            "it will correct theirs (both stay in the history)")
        self.recorded = recorded
        self.newest_id = newest_id


def period_examples(kpi: KPI, calendar: Calendar) -> str:
    if kpi.frequency == "monthly":
        return "a month such as 2025-04"
    if kpi.frequency == "annual":
        return f"a year such as {calendar.example_year}"
    return f"a quarter such as {calendar.example_year} Q1"


def normalise_period(kpi: KPI, text: str, calendar: Calendar) -> str:
    """The period as the tracker stores it, or :class:`ValueRefused` saying how to write it."""
    raw = str(text).strip()
    try:
        if kpi.frequency == "monthly":
            return calendar.parse_month(raw).isoformat()[:7]
        if kpi.frequency == "annual":
            return calendar.parse_year(raw).label
        return calendar.parse_quarter(raw).label
    except ValueError:
        raise ValueRefused(f"'{raw}' is not {period_examples(kpi, calendar)}") from None


def period_start(kpi: KPI, label: str, calendar: Calendar) -> date:
    return _start(kpi.frequency, label, calendar)


@lru_cache(maxsize=4096)
def _start(frequency: str, label: str, calendar: Calendar) -> date:
    if frequency == "monthly":
        return calendar.parse_month(label)
    if frequency == "annual":
        return calendar.parse_year(label).start
    return calendar.parse_quarter(label).start


def check_in_plan(kpi: KPI, label: str, plan: Plan, today: date) -> None:
    """Refuse a period after today or outside the plan (the baseline year is allowed)."""
    calendar = plan.partnership.calendar
    start = period_start(kpi, label, calendar)
    first = calendar.year_of(plan.partnership.plan.starts).start
    baseline_year = calendar.year_of(first.replace(year=first.year - 1)).start
    if start < baseline_year or start > plan.partnership.plan.ends:
        raise ValueRefused(f"{label} is outside the plan ({plan.partnership.plan.title}, "
                           f"{long_date(plan.partnership.plan.starts)} to "
                           f"{long_date(plan.partnership.plan.ends)})")
    if start > today:
        raise ValueRefused(f"{label} has not started yet")


def newest_id(session: Session, kpi: KPI) -> int:
    """The id of the KPI's newest value (0 if it has none): what a value form has seen."""
    return session.scalar(select(func.max(KPIValue.id)).where(KPIValue.kpi_id == kpi.id)) or 0


def record_value(session: Session, plan: Plan, actor: User | str, kpi: KPI, period: str,
                 value: float, note: str = "", data_source: str = "", origin: str = "entered",
                 today: date | None = None, seen: int | None = None,
                 provisional: bool = False) -> KPIValue:
    """Record (or correct) the value of a KPI for a period. Flushes; the caller commits.

    ``seen``: the newest value id the person's form had seen; a value for the same period
    recorded since is not silently superseded (:class:`ValueConflict`).
    """
    day = today or clock.today()
    calendar = plan.partnership.calendar
    label = normalise_period(kpi, period, calendar)
    check_in_plan(kpi, label, plan, day)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueRefused("the value is not a number")
    if kpi.unit == "percent" and not 0 <= value <= 100:
        raise ValueRefused(f"{value:g} is not a percentage from 0 to 100")
    # the KPI's row is held until this value is committed: two people entering a value at
    # the same moment are taken one after the other, and the second sees the first
    session.execute(select(KPI.id).where(KPI.id == kpi.id).with_for_update())
    previous = latest_value(session, kpi, label)
    if seen is not None and previous is not None and previous.id > seen:
        raise ValueConflict(previous, newest_id(session, kpi))
    row = KPIValue(kpi_id=kpi.id, period=label, value=float(value), note=note.strip(),
                   data_source=data_source.strip(), source=origin, provisional=provisional,
                   recorded_by_id=actor.id if isinstance(actor, User) else None)
    session.add(row)
    verb = "corrected" if previous is not None else "recorded"
    audit.record(session, actor, f"kpi_value.{verb}", "kpi", kpi.ref,
                 f"{label}: {value:g}" + (f" (was {previous.value:g})" if previous else ""),
                 old={"period": label, "value": previous.value} if previous else None,
                 new={"period": label, "value": float(value), "note": note.strip(),
                      "source": data_source.strip()} | ({"provisional": True} if provisional
                                                        else {}))
    session.flush()
    return row


def value_history(session: Session, kpi: KPI) -> list[KPIValue]:
    """Every value recorded for a KPI, corrections too: newest period first, and within a
    period the one that counts first, with who recorded each."""
    return list(session.scalars(
        select(KPIValue).where(KPIValue.kpi_id == kpi.id)
        .order_by(KPIValue.period.desc(), KPIValue.recorded_at.desc(), KPIValue.id.desc())
        .options(joinedload(KPIValue.recorded_by))))


def latest_value(session: Session, kpi: KPI, label: str) -> KPIValue | None:
    return session.scalars(select(KPIValue).where(KPIValue.kpi_id == kpi.id,
                                                  KPIValue.period == label)
                           .order_by(KPIValue.recorded_at.desc(), KPIValue.id.desc())
                           .limit(1)).first()


def definition(kpi: KPI, calendar: Calendar) -> KpiDefinition:
    """The ``kpis`` package's view of a KPI row, with its approved revised targets."""
    revised = revised_targets(kpi)
    baseline = None
    if kpi.baseline_period and kpi.baseline_value is not None:
        try:
            start = calendar.parse_quarter(kpi.baseline_period).start
        except ValueError:
            start = calendar.parse_year(kpi.baseline_period).start
        baseline = (start, kpi.baseline_value)
    return KpiDefinition(
        ref=kpi.ref, name=kpi.name, unit=kpi.unit, better=kpi.better,
        frequency=kpi.frequency, tolerance=kpi.tolerance, year_start_month=calendar.month,
        baseline=baseline,
        # an approved revised target counts instead of the plan file's (the baseline)
        targets={calendar.parse_year(year).start: revised.get(year, value)
                 for year, value in kpi.targets.items()},
        target=revised.get(PLAN_WIDE, kpi.target),
    )


def current_values(session: Session, kpi_ids: Iterable[int] | None = None
                   ) -> dict[int, dict[str, KPIValue]]:
    """The value that counts for each KPI and period (the latest row), in one query."""
    query = select(KPIValue).order_by(KPIValue.recorded_at, KPIValue.id)
    if kpi_ids is not None:
        query = query.where(KPIValue.kpi_id.in_(list(kpi_ids)))
    result: dict[int, dict[str, KPIValue]] = defaultdict(dict)
    for row in session.scalars(query):
        result[row.kpi_id][row.period] = row
    return result


Series = tuple[tuple[date, float], ...]
"""A KPI's values that count, by the first day of their period, oldest first (hashable)."""


class Measured(Protocol):
    """What :func:`current_series` needs of a KPI: a row, or the board's kept shape of one."""

    @property
    def id(self) -> int: ...

    @property
    def frequency(self) -> str: ...


def current_series(session: Session, kpis: Iterable[Measured], calendar: Calendar
                   ) -> dict[int, Series]:
    """Each KPI's values that count (the latest row for each period), as plain numbers by
    period start, in one query of plain rows: what the board's pages measure."""
    by_id = {kpi.id: kpi for kpi in kpis}
    latest: dict[int, dict[str, float]] = defaultdict(dict)
    query = (select(KPIValue.kpi_id, KPIValue.period, KPIValue.value, KPIValue.provisional)
             .where(KPIValue.kpi_id.in_(list(by_id)))
             .order_by(KPIValue.recorded_at, KPIValue.id))
    for kpi_id, period, value, provisional in session.execute(query):
        latest[kpi_id][period] = value
        if provisional:  # the latest row counts: a provisional one is measured as no value
            del latest[kpi_id][period]
    return {kpi_id: tuple(sorted((_start(by_id[kpi_id].frequency, label, calendar), value)
                                 for label, value in found.items()))
            for kpi_id, found in latest.items()}


@lru_cache(maxsize=2048)
def measured(defn: KpiDefinition, series: Series, as_of: date) -> Measure:
    """A KPI's measure on ``as_of``, worked out once per process for the same definition and
    values on the same date (a value written, or a target revised, makes a new key; the
    definition's hash leaves out its targets, but equality compares them)."""
    return measure(defn, dict(series), as_of)


def values_by_start(kpi: KPI, rows: dict[str, KPIValue], calendar: Calendar
                    ) -> dict[date, float]:
    """The values measures, targets and statuses see: a provisional value (some of its
    months missing) is left out, so a part-counted quarter is never read as a fall."""
    return {period_start(kpi, label, calendar): row.value for label, row in rows.items()
            if not row.provisional}


def kpi_statuses(session: Session, plan: Plan, kpi_ids: Iterable[int] | None = None
                 ) -> dict[int, dict[date, str]]:
    """Each KPI's status per quarter (by the quarter's first day), for the rules engine."""
    calendar = plan.partnership.calendar
    query = select(KPI)
    if kpi_ids is not None:
        query = query.where(KPI.id.in_(list(kpi_ids)))
    kpis = list(session.scalars(query))
    values = current_values(session, [k.id for k in kpis])
    return {
        kpi.id: statuses_by_quarter(definition(kpi, calendar),
                                    values_by_start(kpi, values.get(kpi.id, {}), calendar))
        for kpi in kpis
    }


def affected_actions(session: Session, kpi: KPI) -> list[int]:
    """The actions whose status a KPI can change: linked directly, or through a commitment
    (an action of a part counts for the commitment the part belongs to, as in
    :func:`tracker.services.statuses.kpi_facts`)."""
    direct = {a.id for a in kpi.actions}
    commitment_ids = [c.id for c in kpi.commitments]
    parts = select(Commitment.id).where(Commitment.parent_id.in_(commitment_ids))
    via = set(session.scalars(select(Action.id).where(
        Action.commitment_id.in_(commitment_ids) | Action.commitment_id.in_(parts))))
    return sorted(direct | via)
