"""The board pack: one document for a quarter, as PDF, HTML, XLSX or CSV.

Everything in it comes from one :class:`~tracker.reports.dashboard.Dashboard` (so the pack
agrees with the dashboard figure for figure), the stored trend, and each KPI's values
measured at the quarter's end, as the dashboard measures them.

* HTML: one standalone printable document (``templates/board/pack.html``): its own CSS in
  one ``<style>`` element, A4 pages numbered in the footer, a page per section, headings
  in order, every status a word in a box as well as a colour, each KPI's chart (an SVG data
  URI) with its text alternative and latest numbers.
* PDF: WeasyPrint from that HTML, tagged (PDF/UA-1): headings become the document's
  structure and its bookmarks.
* XLSX and CSV: see :mod:`tracker.reports.pack_xlsx`; every action, one row each.

The document stays proportionate at any size of plan: priority pages list commitments and
only the Red and Amber actions, and past a few dozen of anything per priority (see
:data:`LISTED`) it lists the worst and says how many more there are; the full lists are in
the XLSX and the CSV. KPI charts are small SVGs drawn here in the KPI pages' visual
language, a score of elements each, with 4 to 7 round ticks on each axis chosen by
matplotlib's locators (:func:`kpis.charts.value_ticks` and :func:`~kpis.charts.period_ticks`).
The pages' own matplotlib chart, even at print size, has some 150 elements, costing 30 ms to
draw and 50 ms for WeasyPrint to print: with it, the PDF of a plan with 200 KPIs took 62 s
rather than 27 s. What a KPI's page costs to work out (its measure, text alternative,
numbers and chart) is cached by its definition, values and date.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

import kpis as measures
from plans import Plan, Quarter
from plans.bulk import cycle_collection_paused
from plans.periods import long_date
from tracker.models import KPI
from tracker.models.commentary import SUMMARY
from tracker.reports import shape as plan_shape
from tracker.reports import trend as trend_report
from tracker.reports.contents import (
    KPI_WORDS,
    Contents,
    KpiFigure,
    KpiPanel,
    Note,
    TrendLine,
)
from tracker.reports.dashboard import (
    CHANGES,
    COLOURS,
    WORDS,
    ActionRow,
    CommitmentRow,
    Counts,
    Dashboard,
    Filters,
    KpiRow,
    PriorityRow,
    build,
)
from tracker.reports.figures import most_in_need
from tracker.reports.pack_xlsx import csv_bytes, workbook
from tracker.services import commentary, kpi_values
from tracker.services.layouts import EVERYTHING, Choice

FORMATS = ("pdf", "xlsx", "csv", "html")
MIMETYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
KPI_NUMBERS = 4
"""How many of a KPI's latest periods its page lists (its chart shows them all)."""
LISTED = 25
"""The exception report lists a priority's exceptions in full (Red first) when it has at most
this many; past it, it counts them by commitment (:func:`by_commitment`), each action with its
narrative in the XLSX and the CSV. A priority's page lists at most this many of its Red and
Amber actions (in short) and says how many more there are. Kingston's priorities have at most
19 in any quarter, so everything is listed there; a plan of 10,000 actions would otherwise
make a document of 600 pages."""
COMMITMENTS_LISTED = 20
"""At most this many of a priority's commitments (and parts) on its page: when it has more,
those most in need of attention (Red, Amber, No update, then Green, Complete), shown in the
plan's order; the XLSX lists every one. Kingston's priorities have at most 15."""
EXCEPTIONS_BY_COMMITMENT = 10
"""At most this many commitments in a priority's exceptions counted by commitment (those with
most Red first). The document's size, and what printing it takes (time and memory), goes
with its rows: at 10,000 actions these limits keep the PDF to some 60 pages."""
ATTENTION = ("red", "amber", "grey", "green", "blue")
ESCALATIONS_LISTED = 50
"""At most this many open escalations (the board's first) in the document; the XLSX has all."""
UNREPORTED_LISTED = 50
"""At most this many actions with no update in the document's short list of them."""
KPIS_CHARTED = 24
"""At most this many KPIs' charts in the document. When it shows more KPIs, a table lists
every one (status, latest value, target, direction of travel) and the charts are of those
most in need of attention (Red, then Amber, No data, Green), in the plan's order; every
KPI's chart is on its page in the tracker and its numbers are in the XLSX. Kingston has 16
KPIs, so its pack charts every one; 200 charts would be half of a large plan's document
and two thirds of the time it takes to print."""


NO_FILTERS = Filters()


class UnknownFormat(ValueError):
    """A format was asked for that the pack is not made in."""


@dataclass(frozen=True)
class Pack:
    """A board pack, ready to send or save."""

    content: bytes
    mimetype: str
    filename: str
    format: str
    quarter: str
    """The quarter's label, ``2025/26 Q2``."""
    parts: int
    """Pages of a PDF, sheets of a workbook, actions (rows) of a CSV, bytes of HTML."""

    @property
    def summary(self) -> str:
        """``PDF, 14 pages``: what was made, for a person."""
        if self.format == "html":
            return f"HTML, {max(1, round(self.parts / 1024))} KB"
        noun = {"pdf": "page", "xlsx": "sheet", "csv": "action"}[self.format]
        return f"{self.format.upper()}, {self.parts} {noun}{'' if self.parts == 1 else 's'}"


# -- what goes in -----------------------------------------------------------------------------


def gather(session: Session, plan: Plan, today: date, quarter: Quarter,
           filters: Filters = NO_FILTERS, *, with_kpi_panels: bool = True,
           with_kpi_figures: bool = False, with_trend: bool = True,
           choice: Choice = EVERYTHING) -> Contents:
    """The pack's contents for ``quarter`` (see :func:`dashboard.choose_quarter`); the KPI
    panels (charts), the KPIs' numbers and the trend only when the format shows them, and
    the panels of the KPIs ``choice`` chooses."""
    dashboard = build(session, plan, today, quarter, filters)
    quarters: list[Quarter] = []
    trend: list[TrendLine] = []
    if with_trend:
        full = trend_report.build(session, plan, today)
        shown = [n for n, q in enumerate(full.quarters) if q <= quarter]
        quarters = [full.quarters[n] for n in shown]
        trend = [TrendLine(row.ref, row.title, tuple(row.cells[n] for n in shown))
                 for row in full.priorities]
    texts = {name: {o.value: o.text for o in options}
             for name, options in dashboard.options.items()}
    nouns = {"group": "Group", "lead": "Lead agency", "theme": "Theme", "status": "Status"}
    described = [f"{nouns[name]}: {texts[name].get(value, value)}"
                 for name, value in dashboard.filters.args().items()]
    panels: list[KpiPanel] = []
    figures: dict[str, KpiFigure] = {}
    if with_kpi_panels or with_kpi_figures:
        panels, figures = _kpis(session, plan, dashboard, with_kpi_panels, choice)
    notes = {scope: Note(text=row.text, author=row.author.name if row.author else "",
                         written=row.created_at.date(), version=row.version)
             for scope, row in commentary.latest(session, quarter.label).items()}
    return Contents(
        dashboard=dashboard, quarters=quarters, trend=trend, kpis=panels,
        kpi_rows=[row for row in dashboard.kpis if choice.shows_kpi(row.ref)],
        prepared=today, filters=described, kpi_figures=figures if with_kpi_figures else {},
        priority_titles={p.id: p.title for p in plan.priorities}, choice=choice,
        summary=notes.pop(SUMMARY, None), narratives=notes)


def charted(rows: list[KpiRow]) -> set[str]:
    """The refs of the KPIs whose charts the document shows: all of them, up to
    :data:`KPIS_CHARTED`; past it, those most in need of attention."""
    return {row.ref for row in most_in_need(rows, KPIS_CHARTED)}


def _kpis(session: Session, plan: Plan, dashboard: Dashboard, with_panels: bool,
          choice: Choice) -> tuple[list[KpiPanel], dict[str, KpiFigure]]:
    """The dashboard's KPIs as numbers, and the panels of those the document charts (when
    ``with_panels``): the KPIs ``choice`` chooses, at most :data:`KPIS_CHARTED` of them."""
    calendar = plan.partnership.calendar
    drawn = charted([row for row in dashboard.kpis if choice.shows_kpi(row.ref)])
    wanted = {row.ref for row in dashboard.kpis}
    found = {k.ref: k for k in session.scalars(
        select(KPI).where(KPI.retired_at.is_(None)).order_by(KPI.position)) if k.ref in wanted}
    values = kpi_values.current_series(session, found.values(), calendar)
    as_of = dashboard.quarter.end
    panels: list[KpiPanel] = []
    figures: dict[str, KpiFigure] = {}
    for row in dashboard.kpis:
        kpi = found.get(row.ref)
        if kpi is None:
            continue
        defn = kpi_values.definition(kpi, calendar)
        series = values.get(kpi.id, ())
        current = kpi_values.measured(defn, series, as_of)
        figures[row.ref] = KpiFigure(unit=defn.unit, value=current.value,
                                     target=current.target)
        if with_panels and row.ref in drawn:
            description, numbers, chart = _kpi_parts(defn, series, as_of)
            panels.append(KpiPanel(row=row, chart=chart, description=description,
                                   numbers=numbers[-KPI_NUMBERS:]))
    return panels, figures


@lru_cache(maxsize=1024)
def _kpi_parts(defn: measures.KpiDefinition, series: tuple[tuple[date, float], ...],
               as_of: date) -> tuple[str, tuple[measures.TableRow, ...], str]:
    """A KPI's text alternative, numbers and chart (a data URI), kept as its measure is."""
    values = dict(series)
    current = kpi_values.measured(defn, series, as_of)
    numbers = tuple(measures.table(defn, values, as_of))
    svg = measures.small_chart_svg(defn, numbers, current).encode("utf-8")
    return (measures.describe(defn, values, as_of, current), numbers,
            "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"))


# -- the formats ------------------------------------------------------------------------------


def render(fmt: str, session: Session, plan: Plan, today: date, quarter: Quarter,
           filters: Filters = NO_FILTERS, *, env: Environment,
           progress: Callable[[str, int], None] | None = None,
           choice: Choice = EVERYTHING) -> Pack:
    """The board pack for ``quarter`` in ``fmt`` (one of :data:`FORMATS`), its HTML drawn
    with the templates of ``env`` (the app's Jinja environment). ``progress`` is told each
    step as it starts (what it is, and how far along the whole is, in percent). ``choice``
    (a briefing book's layout) says what the document (PDF, HTML) holds; the XLSX and the
    CSV hold every action whatever it says."""
    if fmt not in ("pdf", "html"):
        choice = EVERYTHING
    if fmt not in FORMATS:
        raise UnknownFormat(f"'{fmt}' is not a board pack format: choose one of "
                            f"{', '.join(FORMATS)}")
    tell = progress or (lambda _step, _percent: None)
    tell("Gathering the figures", 10)
    contents = gather(session, plan, today, quarter, filters,
                      with_kpi_panels=fmt in ("pdf", "html"), with_kpi_figures=fmt == "xlsx",
                      with_trend=fmt != "csv", choice=choice)
    tell({"pdf": "Drawing the pages", "html": "Writing the page", "xlsx": "Writing the sheets",
          "csv": "Writing the rows"}[fmt], 50)
    name = filename(contents.dashboard, fmt, choice)
    if fmt == "html":
        content = html(contents, env).encode("utf-8")
        parts = len(content)
    elif fmt == "pdf":
        document = html(contents, env)
        del contents  # the figures (10,000 actions at a large size) are not needed to print
        plan_shape.forget(session)  # nor is the plan's shape
        content, parts = pdf(document)
    else:
        content, parts = (csv_bytes if fmt == "csv" else workbook)(contents)
    return Pack(content=content, mimetype=MIMETYPES[fmt], filename=name, format=fmt,
                quarter=quarter.label, parts=parts)


def filename(dashboard: Dashboard, fmt: str, choice: Choice = EVERYTHING) -> str:
    """``safer-kingston-partnership-board-pack-2025-26-Q2.pdf`` (``-filtered`` when it is,
    and the layout's name when it has one: ``...-Q2-board-meeting.pdf``)."""
    name = _slug(dashboard.partnership) or "partnership"
    narrowed = "-filtered" if dashboard.filters.active else ""
    laid_out = f"-{_slug(choice.name)[:60].strip('-')}" if _slug(choice.name) else ""
    return f"{name}-board-pack-{dashboard.quarter.slug}{laid_out}{narrowed}.{fmt}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def html(contents: Contents, env: Environment) -> str:
    """The pack as one standalone HTML document, laid out as its contents' choice says."""
    db = contents.dashboard
    choice = contents.choice
    priorities = [p for p in db.priorities if choice.shows_priority(p.ref)]
    red_amber = {}
    commitments = {}
    for priority in priorities:
        rows = sorted((r for r in priority.actions if r.colour in ("red", "amber")),
                      key=lambda r: (r.colour != "red", r.ref))
        red_amber[priority.ref] = (rows[:LISTED], _more(rows[LISTED:]))
        order = {id(c): n for n, c in enumerate(priority.commitments)}
        chosen = sorted(priority.commitments,
                        key=lambda c: (ATTENTION.index(c.colour), order[id(c)]))
        hidden = Counts()
        for c in chosen[COMMITMENTS_LISTED:]:
            hidden.add(c.colour)
        commitments[priority.ref] = (
            sorted(chosen[:COMMITMENTS_LISTED], key=lambda c: order[id(c)]),
            f"{hidden.total} more commitments and parts ({hidden.sentence()})"
            if hidden.total else "")
    escalations = db.open_escalations
    if choice.priorities:
        escalations = [e for e in escalations if e.action.priority_ref in choice.priorities]
    left = escalations[ESCALATIONS_LISTED:]
    unreported = [r for r in db.unreported if choice.shows_priority(r.priority_ref)]
    to_board = sum(1 for e in left if "board" in e.to)
    template = env.get_template("board/pack.html")
    return template.render(
        pack=contents, db=db, colours=COLOURS, words=WORDS, changes=CHANGES,
        kpi_words=KPI_WORDS, prepared=long_date(contents.prepared),
        quarter_end=long_date(db.quarter.end),
        exceptions=_exceptions(db, choice),
        red_amber=red_amber, commitments=commitments, priorities=priorities, choice=choice,
        unreported=unreported[:UNREPORTED_LISTED],
        more_unreported=_more(unreported[UNREPORTED_LISTED:]),
        escalations=escalations[:ESCALATIONS_LISTED],
        open_escalations=len(escalations),
        more_escalations=(f"{len(left)} more open escalations ({to_board} to the board)"
                          if left else ""),
        missing=len(db.missing), overdue=len(db.overdue),
    )


@dataclass(frozen=True)
class CommitmentExceptions:
    """A commitment's exceptions in a quarter, counted: the exception report of a priority
    with more than :data:`LISTED` of them shows these rather than the actions."""

    commitment: CommitmentRow
    red: int
    amber: int
    concern: int
    """Other actions (not Red or Amber) whose owner flagged an area of concern."""


def by_commitment(priority: PriorityRow, rows: list[ActionRow]
                  ) -> tuple[list[CommitmentExceptions], str]:
    """A priority's exceptions counted by commitment, those with most Red (then Amber, then
    concerns) first, at most :data:`EXCEPTIONS_BY_COMMITMENT`; and how many more, in words."""
    found: dict[str, list[int]] = {}
    for row in rows:
        counts = found.setdefault(row.commitment_ref, [0, 0, 0])
        counts[0 if row.colour == "red" else 1 if row.colour == "amber" else 2] += 1
    order = {c.ref: n for n, c in enumerate(priority.commitments)}
    listed = sorted(
        (CommitmentExceptions(c, *found[c.ref]) for c in priority.commitments if c.ref in found),
        key=lambda e: (-e.red, -e.amber, -e.concern, order[e.commitment.ref]))
    left = listed[EXCEPTIONS_BY_COMMITMENT:]
    more = (f"{len(left)} more commitments and parts, with "
            f"{sum(e.red + e.amber + e.concern for e in left)} exceptions") if left else ""
    return listed[:EXCEPTIONS_BY_COMMITMENT], more


Exceptions = tuple[PriorityRow, list[ActionRow], list[CommitmentExceptions], str]


def _exceptions(db: Dashboard, choice: Choice) -> list[Exceptions]:
    """Each priority's exceptions as the document shows them: ``(priority, rows, counted,
    more)``: all its rows when it has at most :data:`LISTED`; past that, no rows and the
    counts by commitment (and how many more commitments, in words)."""
    result: list[Exceptions] = []
    for priority, rows in db.exceptions():
        if not choice.shows_priority(priority.ref):
            continue
        if len(rows) <= LISTED:
            result.append((priority, rows, [], ""))
        else:
            result.append((priority, [], *by_commitment(priority, rows)))
    return result


def _more(rows: list[ActionRow]) -> str:
    """``12 more actions (2 Red, 10 Amber)``, or nothing."""
    if not rows:
        return ""
    counts = Counts()
    for row in rows:
        counts.add(row.colour)
    return f"{len(rows)} more action{'s' if len(rows) != 1 else ''} ({counts.sentence()})"


def pdf(document: str) -> tuple[bytes, int]:
    """The HTML pack as a tagged PDF (PDF/UA-1): its bytes and its number of pages."""
    from weasyprint import HTML  # noqa: PLC0415 - WeasyPrint is loaded only by the process that prints a PDF
    from weasyprint.urls import URLFetcher  # noqa: PLC0415 - WeasyPrint is loaded only by the process that prints a PDF

    # the pack is self-contained: nothing is fetched, from the network or from disk
    fetcher = URLFetcher(allowed_protocols=("data",))
    options = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}
    # WeasyPrint makes a box for every element and a line for every line of text: with the
    # cycle collector walking them all as they pile up, printing takes half as long again
    with cycle_collection_paused():
        rendered = HTML(string=document, url_fetcher=fetcher).render(**options)
        return rendered.write_pdf(**options), len(rendered.pages)


