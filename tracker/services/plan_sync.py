"""Bring the database in line with a validated plan, matching items by their stable refs.

Each kind of plan item is described once (:data:`tracker.services.plan_kinds.KINDS`): the
model, the fields that come from the file, and which of them refer to other items. From that
one description this module computes what a load would add, change, retire or restore
(:func:`diff_plan`) and applies it (:func:`apply_plan`). Items removed from the file are
retired, never deleted, so updates, KPI values and escalations that hang on them are kept.

The plan's rules are not rows: they live in the stored text of each load, and the diff
compares them with the rules of the plan as last loaded (:func:`rule_changes`), so that a
load whose only change is a rule still says what it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from plans import Plan
from plans.rules import EscalationRule, RagRule, Reminder, Rules, describe_condition
from tracker.models import KPI, KPIValue, utcnow
from tracker.services.loaded_plan import current_plan
from tracker.services.plan_kinds import KIND_BY_NAME, KINDS, Field, Kind, OnCreate

ChangeKind = Literal["add", "change", "retire", "restore"]


@dataclass
class Change:
    kind: str
    ref: str
    action: ChangeKind
    label: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        head = f"{self.kind} {self.ref}"
        if self.action == "change":
            parts = [f"{name}: {_short(old)} -> {_short(new)}"
                     for name, (old, new) in self.fields.items()]
            return f"{head}: " + "; ".join(parts)
        return f"{head}: {_short(self.label, 70)}"


@dataclass(frozen=True)
class RuleChange:
    """A change to the plan's rules, against the rules of the plan as last loaded."""

    section: str
    """The rules' key: calendar, reminders, rag, rollup, approval, escalate or
    change_approval."""
    text: str

    def describe(self) -> str:
        """``rules rollup: worst -> majority``."""
        return f"rules {self.section}: {self.text}"


@dataclass
class PlanDiff:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    # by kind, the refs a load must write: added, changed (order included), restored
    touched: dict[str, set[str]] = field(default_factory=dict)
    rules: list[RuleChange] = field(default_factory=list)
    """What changes in the plan's rules (which are not rows: nothing to write but the text)."""

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.rules

    def counts(self) -> dict[str, int]:
        result = {"add": 0, "change": 0, "retire": 0, "restore": 0}
        for change in self.changes:
            result[change.action] += 1
        return result

    def of(self, action: ChangeKind) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    def as_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "unchanged": self.unchanged,
            "changes": [
                {"kind": c.kind, "ref": c.ref, "action": c.action,
                 "fields": sorted(c.fields)}
                for c in self.changes
            ],
            "rules": [r.describe() for r in self.rules],
        }


class PartnershipMismatch(Exception):
    """The file is another partnership's plan than the one this database holds."""


def _short(value: Any, width: int = 50) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        text = ", ".join(str(v) for v in sorted(value, key=str)) or "(none)"
    elif value is None:
        text = "(none)"
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- what the database holds ------------------------------------------------------------


@dataclass
class Snapshot:
    """Every plan item in the database, loaded with one query per kind."""

    rows: dict[str, dict[str, Any]]
    ref_by_id: dict[str, dict[int, str]]

    @classmethod
    def load(cls, session: Session) -> Snapshot:
        rows: dict[str, dict[str, Any]] = {}
        ref_by_id: dict[str, dict[int, str]] = {}
        for kind in KINDS:
            many = [getattr(kind.model, f.name) for f in kind.fields if f.many]
            query = select(kind.model).options(*(selectinload(rel) for rel in many))
            found: dict[str, Any] = {getattr(row, kind.ref_attr): row
                                     for row in session.scalars(query)}
            rows[kind.name] = found
            ref_by_id[kind.name] = {row.id: ref for ref, row in found.items()}
        return cls(rows, ref_by_id)

    def current(self, kind: Kind, row: Any, f: Field) -> Any:
        if f.target is None:
            return getattr(row, f.name)
        target = KIND_BY_NAME[f.target]
        if f.many:
            return frozenset(getattr(item, target.ref_attr) for item in getattr(row, f.name))
        target_id = getattr(row, f"{f.name}_id")
        return None if target_id is None else self.ref_by_id[f.target].get(target_id)


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, frozenset):
        return frozenset(old or ()) == new
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and float(old) == float(new)
    return bool(old == new)


def _label(kind: Kind, values: dict[str, Any], row: Any) -> str:
    value = values.get(kind.label_field) if values else None
    if isinstance(value, OnCreate):
        value = value.value
    if value is None and row is not None:
        value = getattr(row, kind.label_field, "")
    return str(value or "")


Desired = dict[str, dict[str, dict[str, Any]]]  # kind -> ref -> field values


def desired_of(plan: Plan) -> Desired:
    """Every item of ``plan`` by kind and ref, with the values the database should hold."""
    return {kind.name: kind.desired(plan) for kind in KINDS}


def diff_plan(session: Session, plan: Plan, snapshot: Snapshot | None = None,
              desired: Desired | None = None) -> PlanDiff:
    """What loading ``plan`` would add, change, retire and restore, by ref, and what it
    changes in the rules of the plan as last loaded (none if no plan is loaded yet)."""
    snapshot = snapshot or Snapshot.load(session)
    _check_partnership(snapshot, plan)
    wanted = desired or desired_of(plan)
    result = PlanDiff()
    for kind in KINDS:
        desired_here = wanted[kind.name]
        existing = snapshot.rows[kind.name]
        touched = result.touched.setdefault(kind.name, set())
        for ref, values in desired_here.items():
            row = existing.get(ref)
            if row is None:
                result.changes.append(Change(kind.name, ref, "add", _label(kind, values, None)))
                touched.add(ref)
                continue
            fields = {}
            quietly = False
            for f in kind.fields:
                new = values.get(f.name)
                if isinstance(new, OnCreate):
                    continue
                old = snapshot.current(kind, row, f)
                if not _same(old, new):
                    if f.silent:
                        quietly = True  # kept in step, not reported
                    else:
                        fields[f.name] = (old, new)
            retired = kind.retirable and row.retired_at is not None
            if fields or quietly or retired:
                touched.add(ref)
            if retired:
                result.changes.append(Change(kind.name, ref, "restore",
                                             _label(kind, values, row), fields))
            elif fields:
                result.changes.append(Change(kind.name, ref, "change",
                                             _label(kind, values, row), fields))
            else:
                result.unchanged += 1
        if kind.retirable:
            for ref, row in existing.items():
                if ref not in desired_here and row.retired_at is None:
                    result.changes.append(Change(kind.name, ref, "retire",
                                                 _label(kind, {}, row)))
    result.changes.extend(_kpi_value_changes(session, plan))
    loaded = current_plan(session)
    if loaded is not None:
        result.rules = rule_changes(loaded.rules, plan.rules)
    return result


# -- the rules ----------------------------------------------------------------------------


def rule_changes(old: Rules, new: Rules) -> list[RuleChange]:
    """What changes from the rules ``old`` to ``new``, section by section in the file's
    order: a setting's old and new value, a named rule (RAG or escalation) added, removed
    or changed (its condition, its colour or recipients, and the RAG rules' order, since the
    first that matches wins), a reminder added, removed or sent to others."""
    changes: list[RuleChange] = []
    for name in ("update_due_days", "window_opens_days"):
        before, after = getattr(old.calendar, name), getattr(new.calendar, name)
        if before != after:
            changes.append(RuleChange("calendar", f"{name} {before} -> {after}"))
    changes.extend(RuleChange("reminders", text)
                   for text in _reminder_changes(old.reminders, new.reminders))
    changes.extend(RuleChange("rag", text) for text in _named_changes(old.rag, new.rag))
    for name in ("rollup", "approval"):
        if getattr(old, name) != getattr(new, name):
            changes.append(RuleChange(name, f"{getattr(old, name)} -> {getattr(new, name)}"))
    changes.extend(RuleChange("escalate", text)
                   for text in _named_changes(old.escalate, new.escalate))
    if old.change_approval != new.change_approval:
        changes.append(RuleChange("change_approval",
                                  f"{old.change_approval} -> {new.change_approval}"))
    return changes


def _named_changes(old: tuple[RagRule, ...] | tuple[EscalationRule, ...],
                   new: tuple[RagRule, ...] | tuple[EscalationRule, ...]) -> list[str]:
    """RAG or escalation rules, matched by name (the file requires each to have its own)."""
    before = {rule.name: rule for rule in old}
    after = {rule.name: rule for rule in new}
    texts = [f"'{name}' removed" for name in before if name not in after]
    for name, rule in after.items():
        was = before.get(name)
        if was is None:
            texts.append(f"'{name}' added ({_rule_words(rule)})")
            continue
        if was.condition != rule.condition:
            texts.append(f"'{name}' {_condition_words(was)} -> {_condition_words(rule)}")
        if isinstance(was, RagRule) and isinstance(rule, RagRule) and was.then != rule.then:
            texts.append(f"'{name}' then {was.then} -> {rule.then}")
        if isinstance(was, EscalationRule) and isinstance(rule, EscalationRule) \
                and was.to != rule.to:
            texts.append(f"'{name}' to {', '.join(was.to)} -> {', '.join(rule.to)}")
    kept_before = [name for name in before if name in after]
    kept_after = [name for name in after if name in before]
    if kept_before != kept_after and all(isinstance(r, RagRule) for r in new):
        texts.append("order (the first that matches wins) "
                     f"{', '.join(repr(n) for n in kept_before)} -> "
                     f"{', '.join(repr(n) for n in kept_after)}")
    return texts


def _condition_words(rule: RagRule | EscalationRule) -> str:
    return "always" if rule.condition is None else f"if {describe_condition(rule.condition)}"


def _rule_words(rule: RagRule | EscalationRule) -> str:
    if isinstance(rule, RagRule):
        return f"{_condition_words(rule)}, then {rule.then}"
    return f"{_condition_words(rule)}, to {', '.join(rule.to)}"


def _reminder_changes(old: tuple[Reminder, ...], new: tuple[Reminder, ...]) -> list[str]:
    """Reminders, matched by when they are sent (``at``, days from the due date)."""
    before = {r.at: r.to for r in old}
    after = {r.at: r.to for r in new}
    if len(before) < len(old) or len(after) < len(new):  # two on one day: by what they are
        gone = [r for r in old if r not in new]
        came = [r for r in new if r not in old]
        return ([f"the reminder {_when(r.at)} (to {', '.join(r.to)}) removed" for r in gone]
                + [f"a reminder {_when(r.at)} (to {', '.join(r.to)}) added" for r in came])
    texts = []
    for at in sorted(before.keys() | after.keys()):
        was, now = before.get(at), after.get(at)
        if now is None and was is not None:
            texts.append(f"the reminder {_when(at)} (to {', '.join(was)}) removed")
        elif was is None and now is not None:
            texts.append(f"a reminder {_when(at)} (to {', '.join(now)}) added")
        elif was != now and was is not None and now is not None:
            texts.append(f"the reminder {_when(at)} to {', '.join(was)} -> {', '.join(now)}")
    return texts


def _when(at: int) -> str:
    """``7 days before the due date``, ``on the due date``, ``1 day after the due date``."""
    if at == 0:
        return "on the due date"
    days = abs(at)
    return f"{days} day{'' if days == 1 else 's'} {'before' if at < 0 else 'after'} the due date"


def _check_partnership(snapshot: Snapshot, plan: Plan) -> None:
    held = list(snapshot.rows["partnership"])
    if held and plan.partnership.id not in held:
        raise PartnershipMismatch(
            f"this database holds the plan of partnership '{held[0]}', and the file is the plan "
            f"of '{plan.partnership.id}'; each partnership needs its own database "
            "(set TRACKER_DATABASE_URL), or correct partnership id in the file"
        )


def _latest_values(session: Session) -> dict[tuple[str, str], KPIValue]:
    latest: dict[tuple[str, str], KPIValue] = {}
    query = select(KPIValue, KPI.ref).join(KPI).order_by(KPIValue.recorded_at, KPIValue.id)
    for value, kpi_ref in session.execute(query):
        latest[(kpi_ref, value.period)] = value
    return latest


def _kpi_value_changes(session: Session, plan: Plan) -> list[Change]:
    """KPI values written in the file: added where new; an app-entered value is kept."""
    if not any(k.values for k in plan.kpis):
        return []
    latest = _latest_values(session)
    changes = []
    for kpi in plan.kpis:
        for period, value in kpi.values.items():
            current = latest.get((kpi.id, period))
            ref = f"{kpi.id} {period}"
            if current is None:
                changes.append(Change("KPI value", ref, "add", f"{value:g}"))
            elif current.source == "plan" and current.value != value:
                changes.append(Change("KPI value", ref, "change", f"{value:g}",
                                      {"value": (current.value, value)}))
    return changes


# -- applying it --------------------------------------------------------------------------


def apply_plan(session: Session, plan: Plan, snapshot: Snapshot | None = None,
               diff: PlanDiff | None = None, desired: Desired | None = None) -> PlanDiff:
    """Make the database match ``plan``; flushes, never commits. Returns what changed.

    ``snapshot``, ``diff`` and ``desired``: what the database held, what loading changes
    and what the plan holds, if already worked out (in a read before this write transaction,
    with no plan loaded since: the snapshot's rows are changed in place). Only the rows the
    diff touches are written.
    """
    snapshot = snapshot or Snapshot.load(session)
    desired_by_kind = desired or desired_of(plan)
    result = diff or diff_plan(session, plan, snapshot, desired_by_kind)
    now = utcnow()
    # first every row exists with its own values, then the references between them are set
    for kind in KINDS:
        of_kind = desired_by_kind[kind.name]
        existing = snapshot.rows[kind.name]
        touched = result.touched.get(kind.name, set())
        for ref, values in of_kind.items():
            if ref not in touched:
                continue
            row: Any = existing.get(ref)  # of the kind's model, as every row in a snapshot
            if row is None:
                row = kind.model(**{kind.ref_attr: ref})
                existing[ref] = row
                session.add(row)
                creating = True
            else:
                creating = False
            for f in kind.fields:
                if f.target is not None:
                    continue
                value = values.get(f.name)
                if isinstance(value, OnCreate):
                    if not creating:
                        continue
                    value = value.value
                if creating or not _same(getattr(row, f.name), value):
                    setattr(row, f.name, value)
            if kind.retirable and row.retired_at is not None:
                row.retired_at = None
        if kind.retirable:
            for ref, row in existing.items():
                if ref not in of_kind and row.retired_at is None:
                    row.retired_at = now
    for kind in KINDS:
        of_kind = desired_by_kind[kind.name]
        existing = snapshot.rows[kind.name]
        touched = result.touched.get(kind.name, set())
        for ref, values in of_kind.items():
            if ref not in touched:
                continue
            row = existing[ref]
            for f in kind.fields:
                if f.target is None:
                    continue
                targets = snapshot.rows[f.target]
                value = values.get(f.name)
                if f.many:
                    wanted = [targets[r] for r in sorted(value or ())]
                    if frozenset(getattr(t, KIND_BY_NAME[f.target].ref_attr)
                                 for t in getattr(row, f.name)) != frozenset(value or ()):
                        setattr(row, f.name, wanted)
                else:
                    target = targets[value] if value is not None else None
                    if getattr(row, f"{f.name}_id", None) != (target.id if target else None) \
                            or target is not None and target.id is None:
                        setattr(row, f.name, target)
    _apply_kpi_values(session, plan, snapshot, result)
    session.flush()
    return result


def _apply_kpi_values(session: Session, plan: Plan, snapshot: Snapshot, diff: PlanDiff) -> None:
    wanted = {c.ref for c in diff.changes if c.kind == "KPI value"}
    for kpi in plan.kpis:
        for period, value in kpi.values.items():
            if f"{kpi.id} {period}" in wanted:
                session.add(KPIValue(kpi=snapshot.rows["KPI"][kpi.id], period=period,
                                     value=value, source="plan", note="From the plan file"))
