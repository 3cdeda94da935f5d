"""The rules engine: an action's facts, quarter by quarter, become RAG statuses and escalations.

Every status records the rule that produced it and a reason in plain English that names the
facts, so a reader can always see why an action is the colour it is. The functions here are
pure: no I/O, no clock, and the same facts and rules always give the same answer.

How a quarter's status is decided
---------------------------------
The caller passes the facts it knows about one action (``ActionFacts``): when it starts, when
it is due, the update that counts for each quarter (the latest version, or the latest approved
one when the plan asks for approval) and, optionally, the status of each linked KPI per quarter.
``evaluate`` then decides each quarter in turn, in this order:

1. **Not started.** A quarter that ends before the action ``starts`` is grey, rule
   ``Not started``, and no rule (RAG or escalation) applies to it.
2. **Complete, carried forward.** An update is *complete* when the owner rates it blue or
   reports 100%. Once the update that counts is complete, each later quarter without an update
   stays blue, rule ``Complete``, and no rule applies to it, so a finished action raises no
   "no update" escalations. A later update that is not complete reopens the action: from that
   quarter on, the rules apply again.
3. **The plan's RAG rules**, in order: the first rule whose condition matches wins, and a rule
   without a condition always matches. ``then: COLOUR`` gives that colour; ``then: self`` gives
   the owner's own rating for the quarter, read as blue (complete) when they report 100%.
   ``then: self`` in a quarter without an update gives grey, rule ``No update``.
4. **No rule matched.** If no rule matches, the quarter is grey, rule ``No rule matched``.

A status is decided the same way whichever quarters the caller asks for: ``evaluate`` quietly
works through the earlier quarters since the action started, because ``{rag: ..., quarters:
N}`` looks back at them.

Conditions
----------
``complete``
    The update that counts for the quarter, or failing that the latest update before it, is
    complete (rated blue or 100%).
``past_due``
    The quarter ends after the due date and the action is not complete. A quarter that ends
    exactly on the due date is not past due; the next one is.
``no_update``
    Nothing was reported for the quarter.
``concern``
    The quarter's update flags an area of concern.
``{rag: COLOUR, quarters: N}``
    The *derived* status was COLOUR for N quarters running. In a RAG rule only the N quarters
    *before* this one count, since this quarter's status is what is being decided; in an
    escalation rule, the N quarters ending with this one. Quarters before the action starts
    count as grey.
``{self: COLOUR}``
    The owner rated the quarter's update COLOUR (an update at 100% counts as blue).
``{no_update: N}``
    Nothing was reported in the N quarters running that end with this one. Only quarters since
    the action started count: an action that has been running for fewer than N quarters does
    not match.
``{kpi: COLOUR}``
    At least one linked KPI has status COLOUR in the quarter (a KPI without a status for the
    quarter matches nothing).
``{behind_schedule: P}``
    There is an update and its percent complete is below P% of the expected progress
    (``expected_percent``); exactly P% is not behind. Never matches without an update, or when
    nothing is expected yet (expected progress 0%).
``{all: [...]}`` / ``{any: [...]}``
    Every / at least one of the listed conditions matches.

Expected progress is a straight line from 0% on the day the action starts to 100% on its due
date, measured on the last day of the quarter and kept between 0% and 100%.

Escalations
-----------
``escalations`` checks the plan's escalation rules in the last quarter of the statuses given
and returns every rule that matches (not only the first), each with a reason. Nothing is
escalated in a quarter that is ``Not started`` or carried forward as ``Complete``.

Labels and reasons
------------------
A reason is the rule's name, a colon and the facts that made it apply, e.g. ``Past its due
date: due 31 March 2025``. Dates are written ``31 March 2025``, quarters by their label
(``2025/26 Q1``), KPIs by their id. ``Status.label`` puts the colour word in front:
``Red: Past its due date, due 31 March 2025``. The colour words are ``Red``, ``Amber``,
``Green``, ``Complete`` (blue) and ``Grey`` (not started, no update or no status); when the
rule's name is the colour word itself (a ``Complete`` rule making blue) it is not repeated:
``Complete: Reported complete in 2025/26 Q2``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from itertools import pairwise

from plans.periods import Quarter, long_date
from plans.rules import (
    AllOf,
    AnyOf,
    BehindSchedule,
    Colour,
    Complete,
    Concern,
    Condition,
    EscalationRule,
    KpiIs,
    NoUpdate,
    NoUpdateFor,
    PastDue,
    RagFor,
    RagRule,
    Rules,
    SelfIs,
)

NOT_STARTED = "Not started"
"""The rule name of a quarter that ends before the action starts (grey)."""
COMPLETE = "Complete"
"""The rule name of a quarter after completion with no update of its own (blue)."""
NO_UPDATE = "No update"
"""The rule name of ``then: self`` in a quarter without an update (grey)."""
NO_RULE_MATCHED = "No rule matched"
"""The rule name when none of the plan's RAG rules matches (grey)."""

COLOUR_WORDS: Mapping[Colour, str] = {
    "red": "Red",
    "amber": "Amber",
    "green": "Green",
    "blue": "Complete",
    "grey": "Grey",
}
"""How each colour is written for a reader: blue is the RAG "complete" colour."""

def colour_word(colour: Colour) -> str:
    """``Red``, ``Amber``, ``Green``, ``Complete`` (blue) or ``Grey``."""
    return COLOUR_WORDS[colour]


def status_word(colour: Colour, rule: str) -> str:
    """How a status is written: its colour's word, but a grey status by its rule's word
    (``No update``, ``Not started``, ``No rule matched``): grey is no judgement, and is
    never shown as a colour."""
    return rule if colour == "grey" and rule else colour_word(colour)


def _format_percent(value: float | Fraction) -> str:
    return f"{round(float(value), 1):g}%"


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


@dataclass(frozen=True, slots=True)
class UpdateFacts:
    """The update that counts for a quarter (the caller picks it)."""

    rag: Colour
    """The owner's own rating: red, amber, green or blue (complete)."""
    percent_complete: int
    """0 to 100."""
    is_concern: bool = False

    @property
    def is_complete(self) -> bool:
        """Rated blue, or reported 100% complete."""
        return self.rag == "blue" or self.percent_complete >= 100

    @property
    def own_colour(self) -> Colour:
        """The owner's rating as a status: blue when they report 100%."""
        return "blue" if self.is_complete else self.rag


@dataclass(frozen=True, slots=True)
class ActionFacts:
    """What is known about one action, quarter by quarter."""

    ref: str
    starts: date
    """The action's ``starts``, or the first day of its first delivery year."""
    due: date
    updates: Mapping[Quarter, UpdateFacts]
    """The update that counts for each quarter; quarters without one are absent."""
    kpis: Mapping[Quarter, Mapping[str, Colour]] = field(default_factory=dict)
    """Per quarter, each linked KPI's status by KPI id (absent means unknown)."""


@dataclass(frozen=True, slots=True)
class Status:
    """An action's derived status in one quarter, and why."""

    quarter: Quarter
    colour: Colour
    rule: str
    """The name of the rule that produced it, or ``Not started``, ``Complete``, ``No update``
    or ``No rule matched`` for the statuses the engine itself gives."""
    reason: str
    """The rule's name, a colon and the facts, e.g. ``Past its due date: due 31 March 2025``."""
    has_update: bool
    """Whether an update was given for this quarter."""

    @property
    def label(self) -> str:
        """The status's word and the reason: ``Red: Past its due date, due 31 March 2025``,
        ``No update: nothing was reported for 2025/26 Q2``."""
        word = status_word(self.colour, self.rule)
        prefix = f"{self.rule}: "
        same = self.rule.casefold() == word.casefold()
        if self.reason.startswith(prefix):
            detail = self.reason[len(prefix):]
            if same:
                return f"{word}: {detail[:1].upper()}{detail[1:]}"
            return f"{word}: {self.rule}, {detail}"
        if same and self.reason == self.rule:
            return word
        return f"{word}: {self.reason}"


# -- facts about one quarter ------------------------------------------------------------------

def _completion(facts: ActionFacts, quarter: Quarter) -> Quarter | None:
    """The quarter of the update that makes the action complete as of ``quarter``, if any."""
    latest = max((q for q in facts.updates if q <= quarter), default=None)
    if latest is not None and facts.updates[latest].is_complete:
        return latest
    return None


def _carried(facts: ActionFacts, quarter: Quarter) -> Quarter | None:
    """The earlier quarter of completion, when ``quarter`` has no update and is after it."""
    if quarter in facts.updates:
        return None
    return _completion(facts, quarter)


def _started(facts: ActionFacts, quarter: Quarter) -> bool:
    return quarter.end >= facts.starts


def expected_percent(facts: ActionFacts, quarter: Quarter) -> float:
    """Progress expected by the quarter's last day, on a straight line from starts to due.

    0 on the start date, 100 on the due date, clamped to 0..100. An action due on or before
    the day it starts is expected to be 0% before its due date and 100% from it.
    """
    return float(_expected(facts, quarter))


def _expected(facts: ActionFacts, quarter: Quarter) -> Fraction:
    span = (facts.due - facts.starts).days
    elapsed = (quarter.end - facts.starts).days
    if span <= 0:
        return Fraction(100) if quarter.end >= facts.due else Fraction(0)
    return min(Fraction(100), max(Fraction(0), Fraction(100 * elapsed, span)))


def _quarters_ending(quarter: Quarter, count: int) -> list[Quarter]:
    """``count`` quarters running that end with ``quarter``, oldest first."""
    result = [quarter]
    while len(result) < count:
        result.append(result[-1].previous())
    result.reverse()
    return result


def _labels(quarters: Sequence[Quarter]) -> str:
    return _join([q.label for q in quarters])


@dataclass(frozen=True, slots=True)
class _Moment:
    """A quarter being judged, with the derived colours of the quarters before it."""

    facts: ActionFacts
    quarter: Quarter
    history: Mapping[Quarter, Colour]
    include_current: bool
    """Whether ``{rag: ..., quarters: N}`` counts this quarter (escalations) or not (RAG)."""

    def colour_of(self, quarter: Quarter) -> Colour | None:
        if quarter in self.history:
            return self.history[quarter]
        if not _started(self.facts, quarter):
            return "grey"
        return None


def _match(condition: Condition, now: _Moment) -> str | None:
    """The facts that make ``condition`` hold, in plain English, or None if it does not."""
    facts, quarter = now.facts, now.quarter
    update = facts.updates.get(quarter)
    match condition:
        case Complete():
            done = _completion(facts, quarter)
            return None if done is None else f"reported complete in {done.label}"
        case PastDue():
            if quarter.end > facts.due and _completion(facts, quarter) is None:
                return f"due {long_date(facts.due)}"
            return None
        case NoUpdate():
            return None if update is not None else f"nothing was reported for {quarter.label}"
        case Concern():
            if update is not None and update.is_concern:
                return f"the update for {quarter.label} flags an area of concern"
            return None
        case RagFor(rag, count):
            count = max(count, 1)
            last = quarter if now.include_current else quarter.previous()
            window = _quarters_ending(last, count)
            if all(now.colour_of(q) == rag for q in window):
                return _colour_run(rag, window)
            return None
        case SelfIs(rag):
            if update is not None and update.own_colour == rag:
                return _rating(update)
            return None
        case NoUpdateFor(count):
            window = _quarters_ending(quarter, max(count, 1))
            if all(_started(facts, q) and q not in facts.updates for q in window):
                return f"nothing was reported for {_labels(window)}"
            return None
        case KpiIs(rag):
            refs = sorted(ref for ref, got in facts.kpis.get(quarter, {}).items() if got == rag)
            if not refs:
                return None
            noun, verb = ("KPI", "is") if len(refs) == 1 else ("KPIs", "are")
            return f"{noun} {_join(refs)} {verb} {colour_word(rag)} in {quarter.label}"
        case BehindSchedule(percent):
            expected = _expected(facts, quarter)
            if update is None or expected <= 0:
                return None
            if update.percent_complete < Fraction(percent) / 100 * expected:
                return (f"{update.percent_complete}% complete, below {percent:g}% of the "
                        f"{_format_percent(expected)} expected by {long_date(quarter.end)}")
            return None
        case AllOf(conditions):
            details = [_match(c, now) for c in conditions]
            if any(d is None for d in details):
                return None
            return "; ".join(d for d in details if d)
        case AnyOf(conditions):
            for part in conditions:
                detail = _match(part, now)
                if detail is not None:
                    return detail
            return None
    raise AssertionError(f"unknown condition {condition!r}")  # pragma: no cover


def _colour_run(rag: Colour, window: Sequence[Quarter]) -> str:
    word = colour_word(rag)
    if len(window) <= 3:
        return f"{word} in {_labels(window)}"
    return f"{word} for {len(window)} quarters, from {window[0].label} to {window[-1].label}"


def _rating(update: UpdateFacts) -> str:
    return f"rated {colour_word(update.rag)} by the owner, {update.percent_complete}% complete"


def _reason(name: str, details: Sequence[str]) -> str:
    text = "; ".join(d for d in details if d)
    return f"{name}: {text}" if text else name


# -- statuses ---------------------------------------------------------------------------------

def _decide(rules: Rules, facts: ActionFacts, quarter: Quarter,
            history: Mapping[Quarter, Colour]) -> Status:
    update = facts.updates.get(quarter)
    has_update = update is not None
    if not _started(facts, quarter):
        return Status(quarter, "grey", NOT_STARTED,
                      f"{NOT_STARTED}: starts {long_date(facts.starts)}", has_update)
    done = _carried(facts, quarter)
    if done is not None:
        return Status(quarter, "blue", COMPLETE, f"{COMPLETE}: reported complete in {done.label}",
                      has_update)
    now = _Moment(facts, quarter, history, include_current=False)
    for rule in rules.rag:
        detail = "" if rule.condition is None else _match(rule.condition, now)
        if detail is None:
            continue
        return _apply(rule, detail, quarter, update)
    count = len(rules.rag)
    which = "the plan has no RAG rules" if count == 0 else (
        f"none of the plan's {count} RAG rules applies in {quarter.label}" if count > 1
        else f"the plan's one RAG rule does not apply in {quarter.label}")
    return Status(quarter, "grey", NO_RULE_MATCHED, f"{NO_RULE_MATCHED}: {which}", has_update)


def _apply(rule: RagRule, detail: str, quarter: Quarter, update: UpdateFacts | None) -> Status:
    if rule.then != "self":
        return Status(quarter, rule.then, rule.name, _reason(rule.name, [detail]),
                      update is not None)
    if update is None:
        return Status(quarter, "grey", NO_UPDATE,
                      f"{NO_UPDATE}: nothing was reported for {quarter.label}", False)
    return Status(quarter, update.own_colour, rule.name,
                  _reason(rule.name, [detail, _rating(update)]), True)


def _first_since_start(facts: ActionFacts, quarter: Quarter) -> Quarter:
    """The earliest quarter, not after ``quarter``, that does not end before the start."""
    while _started(facts, quarter.previous()):
        quarter = quarter.previous()
    return quarter


def _run(rules: Rules, facts: ActionFacts, first: Quarter, last: Quarter) -> dict[Quarter, Status]:
    """Statuses from ``first`` (or the action's first quarter, if earlier) to ``last``."""
    quarter = _first_since_start(facts, first)
    history: dict[Quarter, Colour] = {}
    result: dict[Quarter, Status] = {}
    while quarter <= last:
        status = _decide(rules, facts, quarter, history)
        history[quarter] = status.colour
        result[quarter] = status
        quarter = quarter.next()
    return result


def evaluate(rules: Rules, facts: ActionFacts, quarters: Sequence[Quarter]) -> list[Status]:
    """The action's status in each of ``quarters`` (consecutive, oldest first), in order.

    Raises ``ValueError`` if the quarters are not consecutive.
    """
    if not quarters:
        return []
    for before, after in pairwise(quarters):
        if after != before.next():
            raise ValueError(f"quarters must be consecutive and in order: {after.label} does "
                             f"not follow {before.label}")
    statuses = _run(rules, facts, quarters[0], quarters[-1])
    return [statuses[q] for q in quarters]


def escalations(rules: Rules, facts: ActionFacts,
                statuses: Sequence[Status]) -> list[tuple[EscalationRule, str]]:
    """The escalation rules that match in the last quarter of ``statuses``, with reasons.

    The reason is the rule's name, a colon and the facts, e.g. ``Red two quarters running: Red
    in 2025/26 Q1 and 2025/26 Q2``. ``statuses`` are normally what ``evaluate`` returned; their
    colours are used for ``{rag: ..., quarters: N}``, and any earlier quarters it needs are
    worked out from the facts.
    """
    if not statuses:
        return []
    quarter = statuses[-1].quarter
    if not _started(facts, quarter) or _carried(facts, quarter) is not None:
        return []
    history: dict[Quarter, Colour] = {
        q: s.colour for q, s in _run(rules, facts, statuses[0].quarter, quarter).items()
    }
    history.update((s.quarter, s.colour) for s in statuses)
    now = _Moment(facts, quarter, history, include_current=True)
    result: list[tuple[EscalationRule, str]] = []
    for rule in rules.escalate:
        detail = _match(rule.condition, now)
        if detail is not None:
            result.append((rule, _reason(rule.name, [detail])))
    return result


def escalations_by_quarter(rules: Rules, facts: ActionFacts, statuses: Sequence[Status]
                           ) -> dict[Quarter, list[tuple[EscalationRule, str]]]:
    """The escalation rules that match in each quarter of ``statuses`` (what ``evaluate``
    returned), with reasons; quarters where none match are absent.

    The same as calling :func:`escalations` with ``statuses`` cut at each quarter, with the
    action's history worked out once instead of once per quarter.
    """
    if not statuses or not rules.escalate:
        return {}
    history: dict[Quarter, Colour] = {}
    if _first_since_start(facts, statuses[0].quarter) < statuses[0].quarter:
        # the action started before the first quarter given: work out the quarters before
        history.update((q, s.colour) for q, s in _run(rules, facts, statuses[0].quarter,
                                                      statuses[-1].quarter).items())
    history.update((s.quarter, s.colour) for s in statuses)
    result: dict[Quarter, list[tuple[EscalationRule, str]]] = {}
    for status in statuses:
        quarter = status.quarter
        if not _started(facts, quarter) or _carried(facts, quarter) is not None:
            continue
        now = _Moment(facts, quarter, history, include_current=True)
        found = []
        for rule in rules.escalate:
            detail = _match(rule.condition, now)
            if detail is not None:
                found.append((rule, _reason(rule.name, [detail])))
        if found:
            result[quarter] = found
    return result
