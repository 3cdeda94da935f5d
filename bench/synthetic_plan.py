"""The plan file of a made-up partnership, of any size: see :func:`plan_text`.

The Riverford Community Safety Partnership has 4 to 8 priorities (one more per 2,000 actions),
about 15 actions per commitment (some commitments split into parts), six cross-cutting themes,
a thematic group per priority and four forums, twelve partner agencies, people in every role
(every action owner is one of the plan's people, so the loader creates their accounts) and
``kpis`` KPIs, one in seven annual and the rest quarterly. The plan starts so that, on
``today``, the quarter open for updates is its ``quarters``-th, and runs at least five years.
The same arguments always give the same text.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from typing import Any

import yaml

from plans import Calendar, Year
from tracker.services.calendar import open_quarter

TODAY = date(2026, 11, 25)
"""The day the benchmark pretends it is: 2026/27 Q2 is open for updates (and late)."""

CALENDAR = Calendar()  # financial years from 1 April
UPDATE_DUE_DAYS = 15
WINDOW_OPENS_DAYS = 14
PARTNERSHIP = ("riverford", "Riverford Community Safety Partnership", "RCS")

# -- words to build the plan from ------------------------------------------------------

PRIORITIES = [
    ("communities", "Safe communities",
     "Working in and with our communities so that the borough is a safe place for everyone"),
    ("violence", "Serious violence and exploitation",
     "Preventing and reducing serious violence and exploitation"),
    ("vawg", "Ending VAWG", "Ending violence against women and girls"),
    ("neighbourhoods", "Thriving neighbourhoods",
     "Building cohesive neighbourhoods where residents feel they belong and are heard"),
    ("reoffending", "Reducing reoffending",
     "Reducing reoffending by tackling the needs that drive it"),
    ("substances", "Drugs and alcohol", "Reducing the harm caused by drugs and alcohol"),
    ("roads", "Safer roads and transport", "Making our roads and public transport safer"),
    ("online", "Online harm and fraud",
     "Protecting residents from online harm, scams and fraud"),
]
THEMES = [
    ("vulnerability", "Vulnerability",
     "Vulnerable people are at greater risk of harm and exploitation."),
    ("reoffending", "Reducing reoffending",
     "A home, a job and access to healthcare make reoffending less likely."),
    ("substance-misuse", "Substance misuse",
     "Drug and alcohol misuse drives offending and makes people more vulnerable."),
    ("mental-health", "Mental health",
     "Mental health needs are both a cause and a consequence of crime."),
    ("housing", "Unmet housing needs",
     "A safe and settled home reduces the risk of victimisation and reoffending."),
    ("cyber", "Cyber and online crime",
     "Crime and harm increasingly happen online, from fraud to exploitation."),
]
AUTHORITIES = [
    ("council", "Riverford Borough Council", True),
    ("police", "Riverford Police", True),
    ("fire", "Riverford Fire and Rescue Service", True),
    ("probation", "Probation Service", True),
    ("icb", "Riverford Integrated Care Board", True),
    ("yjs", "Youth Justice Service", False),
    ("vcse", "Voluntary and community sector organisations", False),
    ("housing", "Riverford Homes (housing association)", False),
    ("education", "Schools, colleges and the university", False),
    ("bid", "Town centre Business Improvement District", False),
    ("transport", "Riverford Transport Partnership", False),
    ("victims", "Victim and witness support service", False),
]
FORUMS = [
    ("river-safety", "River Safety Forum"),
    ("hate-crime", "Anti hate crime action group"),
    ("survivors", "Survivors forum network"),
    ("night-time", "Night time economy forum"),
]
FIRST = ("Aisha Alan Amir Anna Ben Carla Chloe Dan David Ella Emma Femi Grace Hannah Ian Jack "
         "James Kate Laura Leo Liam Lucy Maria Mark Maya Nadia Neil Nina Omar Owen Paul Priya "
         "Rachel Ravi Rosa Ruth Sam Sara Tom Zara").split()
LAST = ("Adams Ahmed Bell Brooks Carter Clarke Davies Dawson Evans Fletcher Foster Grant "
        "Hammond Hill Hughes Hussain Jenkins Khan Kowalski Lawson Lloyd Martin Mensah Mills "
        "Morgan Okafor Patel Price Reid Santos Shah Stone Sullivan Taylor Turner Walsh Wood "
        "Wright Yates Young").split()
VERBS = ["Improve", "Strengthen", "Expand", "Review and improve", "Develop", "Embed",
         "Co-produce with residents", "Raise awareness of", "Target resources on",
         "Work with partners to improve"]
SUBJECTS = ["the partnership response to", "early intervention for", "support for",
            "information sharing about", "the evidence base on", "prevention work on",
            "enforcement against", "community engagement on"]
TOPICS = ["antisocial behaviour", "knife crime", "domestic abuse", "child exploitation",
          "hate crime", "fraud and scams", "drug supply", "night time economy safety",
          "fire safety in the home", "river safety", "youth violence",
          "stalking and harassment", "shoplifting", "vehicle crime", "burglary",
          "young people at risk", "victims and survivors", "older and vulnerable residents",
          "people leaving prison", "families in crisis", "students", "local businesses"]
PURPOSES = ["so that fewer people are harmed", "to reduce repeat victimisation",
            "and report progress to the board every quarter", "using the best local evidence",
            "with the voluntary and community sector", "in the places where harm is highest",
            "and listen to the people most affected"]
ACTIVITIES = ["Deliver a campaign on", "Train frontline staff on", "Commission a service for",
              "Map and analyse", "Pilot a multi-agency panel on", "Hold community events on",
              "Publish guidance on", "Review the referral pathway for",
              "Set up a task and finish group on", "Evaluate the response to",
              "Run targeted patrols against", "Fund outreach work on"]
PLACES = ["in the three priority wards", "across the borough", "with schools and colleges",
          "with the voluntary sector", "in the town centre", "on the estates with most harm",
          "with housing providers", "online and on social media"]
MILESTONES = ["Scope agreed with partners", "Delivery partner in place",
              "Mid-point review at the thematic group", "Evaluation report to the board",
              "Training delivered", "Data-sharing agreement signed",
              "Resident consultation closed", "Final report published",
              "Funding confirmed", "Pilot launched"]
MEASURES = [("Neighbourhood crime offences", "count", "lower"),
            ("Knife crime with injury offences", "count", "lower"),
            ("Domestic abuse incidents reported to police", "count", "higher"),
            ("Repeat referrals to MARAC", "percent", "lower"),
            ("Antisocial behaviour calls", "count", "lower"),
            ("Residents who feel safe after dark", "percent", "higher"),
            ("First-time entrants to the youth justice system", "rate", "lower"),
            ("Proven reoffending rate", "percent", "lower"),
            ("Accidental dwelling fires", "count", "lower"),
            ("Days from referral to first support session", "days", "lower"),
            ("Hate crime reports", "count", "higher"),
            ("Community confidence score", "score", "higher"),
            ("Fraud losses reported by residents", "currency", "lower"),
            ("People killed or seriously injured on the roads", "count", "lower")]
SOURCES = ["Riverford Police", "Riverford Borough Council", "Resident survey",
           "Youth Justice Service", "Fire and Rescue Service", "Action Fraud"]


def _letters(n: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa: commitment ids the way a long plan would letter them."""
    text = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        text = chr(ord("a") + rest) + text
    return text


def _roman(n: int) -> str:
    return ["i", "ii", "iii", "iv", "v", "vi"][n]


def plan_period(quarters: int, today: date = TODAY) -> tuple[date, date]:
    """The plan's first and last day: its ``quarters``-th quarter is the one open on
    ``today``, and it runs at least five years (to the end of a financial year)."""
    last = open_quarter(CALENDAR, today, WINDOW_OPENS_DAYS)
    first = last
    for _ in range(quarters - 1):
        first = first.previous()
    starts = first.start
    five = date(starts.year + 5, starts.month, starts.day) - timedelta(days=1)
    return starts, max(CALENDAR.year_of(five).end, last.year.end)


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Write repeated values out in full: no YAML anchors in a plan people read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def plan_text(actions: int, kpis: int, quarters: int = 20, seed: int = 1,
              today: date = TODAY) -> str:
    """A valid plan file with ``actions`` actions and ``kpis`` KPIs (deterministic per seed)."""
    if actions < 1 or kpis < 0 or quarters < 1:
        raise ValueError("need at least one action and one quarter, and no negative KPIs")
    plan = _PlanWriter(random.Random(seed), actions, kpis, quarters, today).plan()
    delivery, rules = plan.pop("delivery"), plan.pop("rules")
    head = (f"# A synthetic plan for benchmarks (bench/scale.py): {actions} actions, {kpis} KPIs,"
            f" {quarters} quarters up to {today:%-d %B %Y}, seed {seed}.\n")
    return head + _dump(plan) + _delivery_yaml(delivery) + _dump({"rules": rules})


def _dump(data: dict[str, Any]) -> str:
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                          width=100, default_flow_style=False)
    return text


@cache
def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain where YAML reads it back as the same string."""
    if text and "\n" not in text and ": " not in text and " #" not in text \
            and yaml.load(text, Loader=_Loader) == text:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _flow(text: str) -> str:
    """``text`` as a scalar inside a flow sequence (``[a, b]``), where ``,[]{}`` are syntax."""
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ",[]{}") \
        else _scalar(text)


def _delivery_yaml(delivery: dict[str, list[dict[str, Any]]]) -> str:
    """The delivery plans, written by hand: the bulk of a large plan, and yaml.dump is slow."""
    out = ["delivery:\n"]
    for year, actions in delivery.items():
        out.append(f"  {_scalar(year)}:\n")
        for action in actions:
            lead = "    - "
            for key, value in action.items():
                if key == "milestones":
                    out.append("      milestones:\n")
                    for m in value:
                        out.append(f"        - title: {_scalar(m['title'])}\n"
                                   f"          due: {m['due'].isoformat()}\n")
                    continue
                if isinstance(value, list):
                    shown = "[" + ", ".join(_flow(v) for v in value) + "]"
                elif isinstance(value, date):
                    shown = value.isoformat()
                else:
                    shown = _scalar(str(value))
                out.append(f"{lead}{key}: {shown}\n")
                lead = "      "
    return "".join(out)


class _PlanWriter:
    def __init__(self, rng: random.Random, actions: int, kpis: int, quarters: int,
                 today: date) -> None:
        self.rng, self.n_actions, self.n_kpis = rng, actions, kpis
        self.starts, self.ends = plan_period(quarters, today)
        self.years = list(CALENDAR.years_between(self.starts, self.ends))
        self.open_year = open_quarter(CALENDAR, today, WINDOW_OPENS_DAYS).year
        self.people: list[dict[str, Any]] = []
        self._names = self._name_stream()

    # people -------------------------------------------------------------------------
    def _name_stream(self) -> Iterator[tuple[str, str]]:
        pairs = [(f, s) for f in FIRST for s in LAST]
        self.rng.shuffle(pairs)
        round_ = 0
        while True:
            for first, last in pairs:
                suffix = str(round_ + 1) if round_ else ""
                yield f"{first} {last}", f"{first}.{last}{suffix}".lower() + "@riverford.example"
            round_ += 1

    def person(self, role: str, groups: list[str]) -> str:
        name, email = next(self._names)  # a full name and an email address
        self.people.append({"email": email, "name": name, "role": role, "groups": groups})
        return email

    # the plan -----------------------------------------------------------------------
    def plan(self) -> dict[str, Any]:
        n_priorities = min(8, 4 + self.n_actions // 2000)
        priorities = PRIORITIES[:n_priorities]
        thematic = {key: f"{key}-group" for key, _, _ in priorities}
        forums = [(fid, name, thematic[priorities[i % n_priorities][0]])
                  for i, (fid, name) in enumerate(FORUMS)]
        admins = [self.person("admin", ["board"]) for _ in range(2)]
        board = [self.person("board", ["board"]) for _ in range(8)]
        leads = {key: self.person("lead", ["board", thematic[key]]) for key, _, _ in priorities}
        forum_leads = {fid: self.person("lead", [fid]) for fid, _, _ in forums}
        analysts = [self.person("member", []) for _ in range(3)]

        commitments, slots = self._commitments(priorities)
        per_priority: dict[str, list[str]] = defaultdict(list)
        for ref in slots:
            per_priority[ref.split(".")[0]].append(ref)
        owners: dict[str, list[str]] = {}
        for number, (key, _, _) in enumerate(priorities, start=1):
            count = max(2, len(per_priority[str(number)]) // 8)
            owners[str(number)] = [self.person("member", [thematic[key]]) for _ in range(count)]
        forum_of = {thematic[priorities[i % n_priorities][0]]: fid
                    for i, (fid, _, _) in enumerate(forums)}
        for fid, _, parent in forums:
            pool = owners[str(1 + [thematic[k] for k, _, _ in priorities].index(parent))]
            for email in pool[:6]:
                self._join(email, fid)
        kpi_list = self._kpis(commitments, analysts)
        delivery = self._delivery(slots, owners, thematic, priorities, forum_of,
                                  [k["id"] for k in kpi_list])
        groups = [{"id": "board", "name": "Riverford Community Safety Partnership Board",
                   "kind": "board", "lead": board[0], "members": board[1:] + admins}]
        for number, (key, short, _) in enumerate(priorities, start=1):
            groups.append({"id": thematic[key],
                           "name": f"{short} Thematic Group (Priority {number})",
                           "kind": "thematic", "reports_to": "board", "lead": leads[key]})
        for fid, name, parent in forums:
            groups.append({"id": fid, "name": name, "kind": "forum", "reports_to": parent,
                           "lead": forum_leads[fid]})
        return {
            "format": 1,
            "partnership": {
                "id": PARTNERSHIP[0], "name": PARTNERSHIP[1], "area": "Borough of Riverford",
                "vision": "Riverford is a safe place where people and businesses thrive.",
                "plan": {"title": f"Riverford Community Safety Plan {self.starts.year}-"
                                  f"{self.ends.year}",
                         "starts": self.starts, "ends": self.ends},
                "year_starts": "04-01",
            },
            "authorities": [{"id": a, "name": n, "responsible": r} for a, n, r in AUTHORITIES],
            "groups": groups,
            "people": self.people,
            "themes": [{"id": t, "name": n, "summary": s,
                        "points": [s, f"{n} is considered in every priority."]}
                       for t, n, s in THEMES],
            "aims": ["Prevent and reduce crime and antisocial behaviour.",
                     "Increase reporting of crime and harmful behaviours.",
                     "Support victims and reduce repeat victimisation."],
            "principles": [{"id": "collaborate", "name": "Collaborate",
                            "text": "We work as one partnership."},
                           {"id": "communicate", "name": "Communicate",
                            "text": "We keep residents informed."}],
            "prevention_levels": [
                {"id": "primary", "name": "Primary prevention", "text": "Stop harm starting."},
                {"id": "secondary", "name": "Secondary prevention",
                 "text": "Intervene early with people at risk."},
                {"id": "tertiary", "name": "Tertiary prevention",
                 "text": "Reduce harm where it has happened."}],
            "duties": [{"id": "strategic-assessment", "every": "year", "due": "03-31",
                        "text": "Produce an annual strategic assessment of crime and disorder."},
                       {"id": "serious-violence", "every": "year", "due": "01-31",
                        "text": "Review the serious violence strategy every year."}],
            "priorities": [
                {"id": number, "title": title, "short_title": short, "group": thematic[key],
                 "commitments": commitments[str(number)]}
                for number, (key, short, title) in enumerate(priorities, start=1)],
            "kpis": kpi_list,
            "delivery": delivery,
            "rules": RULES,
        }

    def _join(self, email: str, group: str) -> None:
        for person in self.people:
            if person["email"] == email and group not in person["groups"]:
                person["groups"].append(group)

    def _text(self) -> str:
        rng = self.rng
        return (f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)} {rng.choice(TOPICS)} "
                f"{rng.choice(PURPOSES)}.")

    def _commitments(self, priorities: list[tuple[str, str, str]]
                     ) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
        """Commitments per priority, and the refs actions point at (one per action)."""
        rng = self.rng
        total = max(min(len(priorities), self.n_actions), round(self.n_actions / 15))
        weights = [rng.uniform(0.6, 1.4) for _ in range(total)]
        scale = self.n_actions / sum(weights)
        sizes = [max(1, int(w * scale)) for w in weights]
        while sum(sizes) < self.n_actions:
            sizes[rng.randrange(total)] += 1
        while sum(sizes) > self.n_actions:
            i = rng.randrange(total)
            if sizes[i] > 1:
                sizes[i] -= 1
        result: dict[str, list[dict[str, Any]]] = defaultdict(list)
        slots: list[str] = []
        theme_ids = [t for t, _, _ in THEMES]
        for index, size in enumerate(sizes):
            number = str(index % len(priorities) + 1)
            ref = f"{number}.{_letters(len(result[number]))}"
            item: dict[str, Any] = {"id": ref.split(".")[1], "text": self._text()}
            # every theme is used by some commitment, however small the plan
            themes = {t for j, t in enumerate(theme_ids) if j % total == index} \
                if index < len(theme_ids) else set(rng.sample(theme_ids, rng.choice([0, 1, 1, 2])))
            if themes:
                item["themes"] = sorted(themes, key=theme_ids.index)
            if rng.random() < 0.5:
                item["prevention"] = rng.choice(["primary", "secondary", "tertiary"])
            if size >= 6 and rng.random() < 0.15:
                parts = [f"{ref}.{_roman(i)}" for i in range(rng.randint(2, 4))]
                item["text"] = item["text"].rstrip(".") + " by:"
                item["parts"] = [{"id": p.split(".")[2], "text": self._text()} for p in parts]
                targets = [parts[i % len(parts)] if rng.random() < 0.85 else ref
                           for i in range(size)]
            else:
                targets = [ref] * size
            result[number].append(item)
            slots.extend(targets)
        return result, slots

    def _kpis(self, commitments: dict[str, list[dict[str, Any]]], analysts: list[str]
              ) -> list[dict[str, Any]]:
        rng = self.rng
        refs = [f"{p}.{c['id']}" for p, items in commitments.items() for c in items]
        parts = [f"{p}.{c['id']}.{part['id']}" for p, items in commitments.items()
                 for c in items for part in c.get("parts", [])]
        baseline_year = CALENDAR.year(self.years[0].start.year - 1).label
        result = []
        for n in range(self.n_kpis):
            name, unit, better = MEASURES[n % len(MEASURES)]
            if n >= len(MEASURES):
                name = f"{name} (area {n // len(MEASURES) + 1})"
            base = {"count": rng.randint(40, 900), "percent": rng.randint(20, 80),
                    "rate": rng.randint(150, 400), "days": rng.randint(5, 40),
                    "score": rng.randint(50, 80), "currency": rng.randint(20_000, 90_000),
                    }[unit]
            step = 0.02 if better == "lower" else -0.02
            targets = {}
            for i, year in enumerate(self.years):
                value = base * (1 - step * (i + 1))
                targets[year.label] = round(min(value, 100.0) if unit == "percent" else value,
                                            1 if unit in ("percent", "rate") else 0)
            linked = rng.sample(refs, min(len(refs), rng.randint(1, 3)))
            if parts and rng.random() < 0.2:
                linked.append(rng.choice(parts))
            kpi: dict[str, Any] = {
                "id": f"kpi-{n + 1:03d}", "name": name, "unit": unit, "better": better,
                "frequency": "annual" if n % 7 == 6 else "quarterly",
                "source": rng.choice(SOURCES), "owner": analysts[n % len(analysts)],
                "commitments": linked,
                "baseline": {"period": baseline_year, "value": base},
                "targets": targets, "tolerance": rng.choice([5, 5, 10, 15]),
            }
            themes = rng.sample([t for t, _, _ in THEMES], rng.choice([0, 1, 1, 2]))
            if themes:
                kpi["themes"] = themes
            result.append(kpi)
        return result

    def _delivery(self, slots: list[str], owners: dict[str, list[str]],
                  thematic: dict[str, str], priorities: list[tuple[str, str, str]],
                  forum_of: dict[str, str], kpi_ids: list[str]
                  ) -> dict[str, list[dict[str, Any]]]:
        rng = self.rng
        years = self.years
        last_open = years.index(self.open_year)
        delivery: dict[str, list[dict[str, Any]]] = {y.label: [] for y in years}
        leads = [a for a, _, _ in AUTHORITIES]
        themes = [t for t, _, _ in THEMES]
        width = max(3, len(str(len(slots))))
        for n, ref in enumerate(slots, start=1):
            number = ref.split(".")[0]
            first = rng.randint(0, last_open)
            roll = rng.random()
            span = 1 if roll < 0.4 else 2 if roll < 0.65 else len(years) - first
            last = min(len(years) - 1, first + span - 1)
            starts = self._starts(years[first])
            due = self._due(years[last], starts)
            action: dict[str, Any] = {
                "id": f"{PARTNERSHIP[2]}-{n:0{width}d}", "commitment": ref,
                "title": f"{rng.choice(ACTIVITIES)} {rng.choice(TOPICS)} {rng.choice(PLACES)}",
                "owner": rng.choice(owners[number]), "lead": rng.choice(leads),
            }
            group = thematic[priorities[int(number) - 1][0]]
            if group in forum_of and rng.random() < 0.1:
                action["group"] = forum_of[group]
            if starts is not None:
                action["starts"] = starts
            action["due"] = due
            full = dict(action)
            chosen = rng.sample(themes, rng.choice([0, 0, 1, 1, 2]))
            if chosen:
                full["themes"] = chosen
            if rng.random() < 0.4:
                full["prevention"] = rng.choice(["primary", "secondary", "tertiary"])
            if kpi_ids and rng.random() < 0.3:
                full["kpis"] = rng.sample(kpi_ids, min(len(kpi_ids), rng.randint(1, 2)))
            milestones = self._milestones(starts or years[first].start, due)
            if milestones:
                full["milestones"] = milestones
            for index in range(first, last + 1):
                # a continuing action is restated each year; the latest entry has it all
                delivery[years[index].label].append(full if index == last else dict(action))
        return delivery

    def _starts(self, year: Year) -> date | None:
        rng = self.rng
        if year.start >= self.starts and rng.random() < 0.4:
            return None  # starts with its delivery year
        choice = max(year.quarters()[rng.choice([0, 0, 1, 2])].start, self.starts)
        return choice if choice <= year.end else year.start

    def _due(self, year: Year, starts: date | None) -> date:
        rng = self.rng
        due = year.end if rng.random() < 0.65 else year.quarters()[rng.randint(0, 2)].end
        if starts is not None and due <= starts:
            due = year.end
        return due

    def _milestones(self, starts: date, due: date) -> list[dict[str, Any]]:
        rng = self.rng
        titles = rng.sample(MILESTONES, rng.choice([0, 1, 2, 2, 3]))
        days = max((due - starts).days, 1)
        dues = sorted(starts + timedelta(days=rng.randint(days // 4, days)) for _ in titles)
        return [{"title": t, "due": d} for t, d in zip(titles, dues, strict=True)]


RULES: dict[str, Any] = {
    "calendar": {"update_due_days": UPDATE_DUE_DAYS, "window_opens_days": WINDOW_OPENS_DAYS},
    "reminders": [{"at": -7, "to": "owner"}, {"at": 1, "to": "owner"},
                  {"at": 7, "to": ["owner", "group_lead"]}],
    "rag": [
        {"name": "Complete", "if": "complete", "then": "blue"},
        {"name": "Past its due date", "if": "past_due", "then": "red"},
        {"name": "No update", "if": "no_update", "then": "amber"},
        {"name": "Rated Green but a linked KPI is Red",
         "if": {"all": [{"self": "green"}, {"kpi": "red"}]}, "then": "amber"},
        {"name": "As assessed by the lead", "then": "self"},
    ],
    "rollup": "worst",
    "approval": "none",
    "escalate": [
        {"name": "Red two quarters running", "if": {"rag": "red", "quarters": 2}, "to": "board"},
        {"name": "Flagged as an area of concern", "if": "concern", "to": "board"},
        {"name": "No update two quarters running", "if": {"no_update": 2}, "to": "group_lead"},
        {"name": "KPI off target", "if": {"kpi": "red"}, "to": "group_lead"},
    ],
}
