"""KPI charts as SVG bytes, with their text alternative and the table of their numbers.

Charts are built on ``matplotlib.figure.Figure`` and saved straight to bytes: never
``pyplot``, whose global state does not belong in a web process. Every chart is readable in
greyscale: the values are a solid line with round markers, the target a dash-dot step line
per financial year, the tolerance a hatched band on the target's worse side, the baseline a
dotted line and the projection a dashed line to a hollow diamond at the year end. The SVG is
deterministic (fixed hash salt, text kept as text, no date), so the same data gives the same
bytes.

The board pack prints a small chart per KPI, :func:`small_chart_svg`, drawn in the same
visual language as a score of SVG elements written directly (a matplotlib chart has some
150, which cost a PDF of 200 KPIs half a minute more to print). Both charts take their ticks
from matplotlib's :class:`~matplotlib.ticker.MaxNLocator`: :func:`value_ticks` and
:func:`period_ticks`, labelled by :func:`tick_label`; this module is the one place a KPI is
drawn.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import threading
from collections.abc import Sequence
from datetime import date
from html import escape
from typing import TypedDict

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kpis.definition import KpiDefinition
from kpis.formatting import MINUS, change_text, number, percent_text, value_text
from kpis.measures import (
    Measure,
    judge,
    partial_quarters,
    period_values,
    tolerance_edge,
)
from kpis.measures import measure as measure_kpi
from kpis.series import Values
from plans.periods import (
    add_months,
    month_index,
    month_of_index,
    period_label,
    year_label,
    year_start,
)

__all__ = ["TableRow", "chart_svg", "describe", "period_label", "period_ticks",
           "small_chart_svg", "table", "tick_label", "value_ticks", "year_label"]

WIDTH_INCHES, HEIGHT_INCHES = 7.0, 4.3
"""504 by 310 points: about 700 pixels wide on screen, where 9 point text is 12 pixels."""

VALUE_COLOUR = "#1d70b8"  # GOV.UK blue: dark enough to stay distinct in greyscale
TARGET_COLOUR = "#0b0c0c"
BAND_COLOUR = "#f3f2f1"  # light grey under a mid-grey hatch
HATCH_COLOUR = "#8e9396"
BASELINE_COLOUR = "#505a5f"
MAX_LABELLED_QUARTERS = 24
TICK_INTERVALS = 5
"""The most intervals between ticks that :func:`value_ticks` and :func:`period_ticks` aim
for (``MaxNLocator``'s ``nbins``): with 4 ticks at least wherever the data allows, that
gives 4 to 7 ticks on an axis."""
_RENDER_LOCK = threading.Lock()

_UNIT_AXIS = {"count": "Number", "percent": "Percent", "rate": "Rate", "days": "Days",
              "score": "Score", "currency": "Pounds (£)"}
_LEGEND_ORDER = ("Actual", "Partial", "Target", "Tolerance", "Baseline", "Projection")
_STATUS_WORD = {"green": "green", "amber": "amber", "red": "red", "grey": "no status"}


class TableRow(TypedDict):
    """One row of the table beside a chart."""

    period: date
    label: str
    value: float
    value_text: str
    target: float | None
    target_text: str
    status: str
    change: float | None
    change_text: str
    partial: bool


# ---------------------------------------------------------------------------- chart


def chart_svg(defn: KpiDefinition, values: Values, as_of: date,
              measure: Measure | None = None, title: str | None = None) -> bytes:
    """The KPI's chart as SVG: values, targets, tolerance, baseline and projection."""
    current = measure if measure is not None else measure_kpi(defn, values, as_of)
    data = period_values(defn, values, as_of)
    partial = partial_quarters(defn, values, as_of)
    span = 12 if defn.is_annual else 3
    heading = title if title is not None else defn.name
    # rc_context changes matplotlib's global settings: one chart at a time per process, so
    # that a threaded server (waitress, gunicorn threads) never mixes two charts' settings
    with _RENDER_LOCK, rc_context({
        # deterministic SVG: a fixed salt for clip-path ids, text kept as text
        "svg.hashsalt": "kpis",
        "svg.fonttype": "none",
        # legible at 700 pixels wide
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
    }):
        fig = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), layout="constrained")
        ax = fig.add_subplot()
        ax.set_title("\n".join(textwrap.wrap(heading, 70)) or " ", loc="left")
        first, last = _x_range(defn, data, current, as_of)
        _draw_targets(ax, defn, first, last)
        if defn.baseline is not None:
            ax.axhline(defn.baseline[1], color=BASELINE_COLOUR, linestyle=":", linewidth=1.6,
                       label=(f"Baseline ({defn.baseline_label}: "
                              f"{value_text(defn, defn.baseline[1])})"))
        # a partial quarter of a count is not joined to the line: it is not comparable
        joined = {day: value for day, value in data.items()
                  if not (defn.is_summed and day in partial)}
        if joined:
            ax.plot([_middle(day, span) for day in joined], list(joined.values()),
                    color=VALUE_COLOUR, linestyle="-", linewidth=2, marker="o", markersize=5,
                    label="Actual", zorder=4)
        if partial:
            ax.plot([_middle(q, span) for q in partial], [data[q] for q in partial],
                    linestyle="none", marker="o", markersize=8, markerfacecolor="white",
                    markeredgecolor=VALUE_COLOUR, markeredgewidth=1.5,
                    label="Partial quarter (so far)", zorder=5)
        if not data:
            ax.text(0.5, 0.5, "No data yet", transform=ax.transAxes, ha="center",
                    va="center", color=TARGET_COLOUR, fontsize=12, zorder=6,
                    bbox={"facecolor": "white", "edgecolor": BASELINE_COLOUR})
        projection = current.projection
        if projection is not None:
            fitted = projection.based_on[-1]
            start = ([_middle(fitted, span)], [data[fitted]]) if fitted in data else ([], [])
            ax.plot(start[0] + [_middle(projection.period, span)],
                    start[1] + [projection.value], color=VALUE_COLOUR, linestyle="--",
                    linewidth=1.6, marker="D", markersize=6, markevery=[len(start[0])],
                    markerfacecolor="white", markeredgecolor=VALUE_COLOUR,
                    label=(f"Projection ({_label(defn, projection.period)}: "
                           f"{value_text(defn, projection.value)})"), zorder=4)
        _axes(ax, defn, first, last)
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: _legend_rank(labels[i]))
        fig.legend([handles[i] for i in order], [labels[i] for i in order],
                   loc="outside lower center", ncols=3, frameon=False)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Title": heading})
    return buffer.getvalue()


def _legend_rank(label: str) -> int:
    for rank, word in enumerate(_LEGEND_ORDER):
        if label.startswith(word):
            return rank
    return len(_LEGEND_ORDER)


def _middle(first: date, span: int) -> float:
    return month_index(first) + span / 2


def _label(defn: KpiDefinition, first: date) -> str:
    return period_label(first, defn.year_start_month, defn.reporting)


def _x_range(defn: KpiDefinition, data: dict[date, float], current: Measure,
             as_of: date) -> tuple[date, date]:
    """From the first period with data to the end of the last period shown (exclusive)."""
    span = 12 if defn.is_annual else 3
    ends = [add_months(day, span) for day in data]
    if current.projection is not None:
        ends.append(add_months(current.projection.period, span))
    first = min(data) if data else year_start(as_of, defn.year_start_month)
    last = max(ends) if ends else add_months(first, 12)
    return first, last


def _draw_targets(ax: Axes, defn: KpiDefinition, first: date, last: date) -> None:
    """The target as a step line per financial year, and the tolerance band beside it."""
    edges: list[float] = []
    levels: list[float] = []
    band_labelled = False
    year = year_start(first, defn.year_start_month)
    while year < last:
        left, right = max(month_index(year), month_index(first)), month_index(min(
            add_months(year, 12), last))
        target = defn.target_for(year)
        edges.append(left)
        levels.append(math.nan if target is None else target)
        if target is not None and defn.tolerance > 0:
            ax.fill_between([left, right], [target, target], [tolerance_edge(defn, target)] * 2,
                            facecolor=BAND_COLOUR, hatch="//", edgecolor=HATCH_COLOUR,
                            linewidth=0,
                            label=None if band_labelled else
                            f"Tolerance ({number(defn.tolerance)}%)")
            band_labelled = True
        year = add_months(year, 12)
        if year >= last:
            edges.append(right)
            levels.append(levels[-1])
    if any(not math.isnan(level) for level in levels):
        ax.plot(edges, levels, drawstyle="steps-post", color=TARGET_COLOUR,
                linestyle="-.", linewidth=1.6, label="Target", zorder=3)


def _axes(ax: Axes, defn: KpiDefinition, first: date, last: date) -> None:
    """Quarter (or year) labels along the bottom, the unit up the side."""
    span = 12 if defn.is_annual else 3
    starts: list[date] = []
    day = first
    while day < last:
        starts.append(day)
        day = add_months(day, span)
    shown = starts
    if len(starts) > MAX_LABELLED_QUARTERS:
        shown = [s for s in starts if s == year_start(s, defn.year_start_month)]
    ax.set_xticks([_middle(s, span) for s in shown],
                  [_label(defn, s) for s in shown],
                  rotation=0 if len(shown) <= 5 else 45,
                  ha="center" if len(shown) <= 5 else "right",
                  rotation_mode="anchor")
    ax.set_xlim(month_index(first), month_index(last))
    if defn.is_annual:
        ax.set_xlabel("Financial year" if defn.year_start_month != 1 else "Year")
    else:
        ax.set_xlabel("Financial year and quarter" if defn.year_start_month != 1
                      else "Year and quarter")
    per = "" if not defn.is_summed else (" per year" if defn.is_annual else " per quarter")
    ax.set_ylabel(_UNIT_AXIS.get(defn.unit, defn.unit.capitalize()) + per)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=defn.unit == "count"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: tick_label(defn, y)))
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def tick_label(defn: KpiDefinition, value: float) -> str:
    """A tick label exact to the tick (``61.75%``, not ``61.8%``)."""
    text = f"{value:,g}".replace("-", MINUS)
    if defn.unit == "percent":
        return f"{text}%"
    if defn.unit == "currency":
        return f"\u00a3{text}"
    return text


def value_ticks(defn: KpiDefinition, low: float, high: float,
                intervals: int = TICK_INTERVALS) -> list[float]:
    """Round values for an axis from ``low`` to ``high``, as
    :class:`~matplotlib.ticker.MaxNLocator` chooses them: evenly spaced by 1, 2, 2.5 or 5
    times a power of ten (whole numbers for a count), in about ``intervals`` steps and 4
    ticks at least, the first at or below ``low`` and the last at or above ``high``, so
    that the axis ends on labelled ticks."""
    if high - low < 1e-9:  # one value: a little either side of it
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    if defn.unit == "count" and high - low < 3:  # room for 4 whole numbers (never below 0)
        low = max(min(0.0, low), math.floor((low + high) / 2 - 1.5))
        high = max(high, low + 3)
    locator = MaxNLocator(nbins=intervals, steps=[1, 2, 2.5, 5, 10], min_n_ticks=4,
                          integer=defn.unit == "count")
    ticks = [float(t) for t in locator.tick_values(low, high)]
    for _ in range(4):  # widened to its own ticks, the range may deserve a wider step
        wider = [float(t) for t in locator.tick_values(ticks[0], ticks[-1])]
        if wider == ticks:
            break
        ticks = wider
    return [round(t, 9) + 0.0 for t in ticks]  # no -0.0 or 0.30000000000000004


def period_ticks(defn: KpiDefinition, first: date, last: date,
                 intervals: int = TICK_INTERVALS) -> list[date]:
    """The periods from ``first`` up to ``last`` (exclusive) to label on a chart's time
    axis: every one when there are no more than ``intervals`` + 1, else as
    :class:`~matplotlib.ticker.MaxNLocator` chooses them on whole periods, in about
    ``intervals`` steps and 4 ticks at least: every 1, 2 or 4 quarters or 2 years (past ten
    years, and for an annual KPI, every 1, 2, 5 or 10 years). Counted from the start of
    ``first``'s year, so that ticks a year or more apart fall on years' first periods."""
    span = 12 if defn.is_annual else 3
    origin = year_start(first, defn.year_start_month)
    low = (month_index(first) - month_index(origin)) // span
    high = (month_index(last) - month_index(origin)) // span - 1
    if high - low <= intervals:  # few enough to label every one
        return [add_months(origin, n * span) for n in range(low, high + 1)]
    unit, steps = (1, [1, 2, 4, 8, 10]) if not defn.is_annual else (1, [1, 2, 5, 10])
    if not defn.is_annual and high - low > 8 * intervals:
        unit, steps = 4, [1, 2, 5, 10]  # whole years
    locator = MaxNLocator(nbins=intervals, steps=steps, integer=True, min_n_ticks=4)
    ticks = (round(n) * unit for n in locator.tick_values(-(-low // unit), high // unit))
    return [add_months(origin, n * span) for n in ticks if low <= n <= high]


# ---------------------------------------------------------------------------- words


def describe(defn: KpiDefinition, values: Values, as_of: date,
             measure: Measure | None = None) -> str:
    """The chart's text alternative: what the series did, where the latest value stands
    against its target, the direction of travel and the projection, in sentences."""
    current = measure if measure is not None else measure_kpi(defn, values, as_of)
    data = period_values(defn, values, as_of)
    noun = "years" if defn.is_annual else "quarters"
    if not data or current.period is None or current.value is None:
        return f"No data yet for {defn.name}."
    sentences = [_story(defn, data)]
    sentences.append(f"In {current.label} it was {current.reason} "
                     f"({_STATUS_WORD[current.status]}).")
    if current.direction_between is not None:
        earlier, later = current.direction_between
        sentences.append(f"From {_label(defn, earlier)} ({value_text(defn, data[earlier])}) "
                         f"to {_label(defn, later)} ({value_text(defn, data[later])}) it was "
                         f"{current.direction}.")
    baseline = current.vs_baseline
    if baseline is not None:
        sentences.append(f"Against the {defn.baseline_label} baseline of "
                         f"{value_text(defn, baseline.earlier)} it is "
                         f"{_up_down(defn, baseline.absolute, baseline.percent)}.")
    projection = current.projection
    if projection is None:
        sentences.append(f"There are too few {noun} of data to project the year end "
                         "(at least 3 are needed).")
    else:
        projected = (f"On the trend of the last {len(projection.based_on)} {noun} it would "
                     f"reach {value_text(defn, projection.value)} by "
                     f"{_label(defn, projection.period)}")
        if projection.target is None:
            sentences.append(f"{projected}, with no target set for that year.")
        else:
            sentences.append(f"{projected}, against a target of "
                             f"{value_text(defn, projection.target)}: "
                             f"{_STATUS_WORD[projection.status]}.")
    return " ".join(sentences)


def _story(defn: KpiDefinition, data: dict[date, float]) -> str:
    """``Rose from 310 in 2024/25 Q1 to 395 in 2026/27 Q2, peaking at ...``."""
    periods = list(data)
    first, last = periods[0], periods[-1]
    if len(periods) == 1:
        return f"One value so far: {value_text(defn, data[first])} in {_label(defn, first)}."
    start, end = value_text(defn, data[first]), value_text(defn, data[last])
    verb = "Rose" if data[last] > data[first] else "Fell" if data[last] < data[first] else (
        "Was unchanged")
    text = f"{verb} from {start} in {_label(defn, first)} to {end} in {_label(defn, last)}"
    if verb == "Was unchanged":
        text = f"Was {start} in {_label(defn, first)} and {end} in {_label(defn, last)}"
    inner = periods[1:-1]
    high = max(inner, key=lambda d: data[d], default=None)
    low = min(inner, key=lambda d: data[d], default=None)
    if high is not None and data[high] > max(data[first], data[last]):
        text += f", peaking at {value_text(defn, data[high])} in {_label(defn, high)}"
    if low is not None and data[low] < min(data[first], data[last]):
        text += f", with a low of {value_text(defn, data[low])} in {_label(defn, low)}"
    span = 12 if defn.is_annual else 3
    expected = (month_index(last) - month_index(first)) // span + 1
    missing = expected - len(periods)
    if missing:
        noun = "year" if defn.is_annual else "quarter"
        text += f" (no data for {missing} {noun}{'' if missing == 1 else 's'} in between)"
    return text + "."


def _up_down(defn: KpiDefinition, absolute: float, percent: float | None) -> str:
    if absolute == 0:
        return "unchanged"
    word = "up" if absolute > 0 else "down"
    size = change_text(defn, absolute).lstrip("+\u2212")
    share = f" ({percent_text(percent)})" if percent is not None else ""
    return f"{word} {size}{share}"


# ---------------------------------------------------------------------------- table


def table(defn: KpiDefinition, values: Values, as_of: date) -> list[TableRow]:
    """The numbers shown beside the chart, oldest first: one row per period with data."""
    data = period_values(defn, values, as_of)
    partial = partial_quarters(defn, values, as_of)
    rows: list[TableRow] = []
    before: float | None = None
    for first, value in data.items():
        target = defn.target_for(first)
        change = None if before is None else value - before
        rows.append(TableRow(
            period=first,
            label=_label(defn, first),
            value=value,
            value_text=value_text(defn, value),
            target=target,
            target_text="" if target is None else value_text(defn, target),
            status=judge(defn, first, value, partial),
            change=change,
            change_text="" if change is None else change_text(defn, change),
            partial=first in partial,
        ))
        before = value
    return rows


# -- the board pack's small chart ------------------------------------------------------------

_W, _H = 360, 158
_TOP, _RIGHT, _BOTTOM = 10, 12, 30
_CHAR = 5.6
"""About the width of a digit at 10 px, for the margin the value labels need."""
_INK, _VALUE, _BAND, _HATCH, _GRID = (TARGET_COLOUR, VALUE_COLOUR, BAND_COLOUR, HATCH_COLOUR,
                                      "#dddddd")
_FONT = "Arial, sans-serif"


def small_chart_svg(defn: KpiDefinition, numbers: Sequence[TableRow], current: Measure) -> str:
    """A small chart of a KPI as SVG text, for the board pack, in :func:`chart_svg`'s visual
    language (readable in greyscale): the values a solid line with dots (a partial quarter a
    hollow dot), the target a dash-dot step line, the tolerance a hatched band on its worse
    side, the baseline a dotted line, the projection a dashed line to a hollow diamond. The
    value axis has 4 to 7 round ticks, each labelled with a grid line (:func:`value_ticks`),
    and the time axis 4 to 7 periods, ``Q1`` over ``2025/26`` (:func:`period_ticks`).

    Each layer is one element (a path of many segments), and the labels are two texts (each
    a line of spans): WeasyPrint's cost is per element, so the chart stays cheap to print
    however many periods it shows."""
    span = 12 if defn.is_annual else 3
    title = escape(f"Chart of {defn.name}")
    if not numbers:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="kpi-chart" '
                f'viewBox="0 0 {_W} 40" width="{_W}" height="40"><title>{title}</title>'
                f'<text x="{_W / 2}" y="24" text-anchor="middle" font-size="12" '
                f'font-family="{_FONT}" fill="{_INK}">No data yet</text></svg>')
    projection = current.projection
    starts = [month_index(n["period"]) for n in numbers]
    first = starts[0]
    last = max([*starts, month_index(projection.period) if projection else first]) + span
    ys: list[float] = [n["value"] for n in numbers]
    targets = [(month_index(n["period"]), n["target"]) for n in numbers if n["target"] is not None]
    edges = [(start, target, tolerance_edge(defn, target)) for start, target in targets
             if defn.tolerance > 0]
    ys += [t for _, t in targets] + [e for _, _, e in edges]
    if defn.baseline is not None:
        ys.append(defn.baseline[1])
    if projection is not None:
        ys.append(projection.value)
    pad = (max(ys) - min(ys)) * 0.06  # so that no line runs along the axis
    ticks = value_ticks(defn, min(ys) - pad, max(ys) + pad)
    labels = [escape(tick_label(defn, tick)) for tick in ticks]
    low, high = ticks[0], ticks[-1]
    left = round(8 + _CHAR * max(len(label) for label in labels))
    right, bottom = _W - _RIGHT, _H - _BOTTOM

    def x(months: float) -> float:
        return round(left + (months - first) / (last - first) * (right - left), 1)

    def y(value: float) -> float:
        return round(_TOP + (high - value) / (high - low) * (bottom - _TOP), 1)

    hatch = "hatch-" + re.sub(r"[^A-Za-z0-9_-]", "-", defn.ref)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="kpi-chart" '
           f'viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" font-size="10" '
           f'font-family="{_FONT}" fill="{_INK}"><title>{title}</title>',
           f'<path d="{"".join(f"M{left} {y(t)}H{right}" for t in ticks)}" '
           f'stroke="{_GRID}" fill="none"/>']
    if edges:
        out.append(f'<defs><pattern id="{hatch}" width="6" height="6" '
                   'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
                   f'<path d="M0 0H6V6H0z" fill="{_BAND}"/><path d="M0 0V6" stroke="{_HATCH}" '
                   'stroke-width="1.5"/></pattern></defs>')
        band = "".join(f"M{x(start)} {y(target)}H{x(start + span)}V{y(edge)}H{x(start)}z"
                       for start, target, edge in edges)
        out.append(f'<path d="{band}" fill="url(#{hatch})"/>')
    if targets:
        steps = "".join(f"M{x(start)} {y(target)}H{x(start + span)}" for start, target in targets)
        out.append(f'<path d="{steps}" fill="none" stroke="{_INK}" stroke-width="1.5" '
                   'stroke-dasharray="6 2 1.5 2"/>')
    if defn.baseline is not None:
        out.append(f'<path d="M{left} {y(defn.baseline[1])}H{right}" stroke="{BASELINE_COLOUR}" '
                   'stroke-width="1.5" stroke-dasharray="1.5 2.5"/>')
    points = [(x(month_index(n["period"]) + span / 2), y(n["value"]), n["partial"])
              for n in numbers]
    joined = [(px, py) for px, py, partial in points if not (partial and defn.is_summed)]
    if len(joined) > 1:
        line = "L".join(f"{px} {py}" for px, py in joined)
        out.append(f'<path d="M{line}" fill="none" stroke="{_VALUE}" stroke-width="2"/>')
    solid = "".join(f"M{px} {py}h0" for px, py, partial in points if not partial)
    if solid:  # zero-length strokes with round caps: dots, at a fraction of circles' cost
        out.append(f'<path d="{solid}" stroke="{_VALUE}" stroke-width="6" '
                   'stroke-linecap="round"/>')
    hollow = "".join(f"M{px - 4} {py}a4 4 0 1 0 8 0a4 4 0 1 0 -8 0"
                     for px, py, partial in points if partial)
    if hollow:
        out.append(f'<path d="{hollow}" fill="#ffffff" stroke="{_VALUE}" '
                   'stroke-width="1.5"/>')
    if projection is not None and joined:
        px, py = x(month_index(projection.period) + span / 2), y(projection.value)
        out.append(f'<path d="M{joined[-1][0]} {joined[-1][1]}L{px} {py}" fill="none" '
                   f'stroke="{_VALUE}" stroke-width="1.5" stroke-dasharray="5 3"/>'
                   f'<path d="M{px} {py - 5}l5 5l-5 5l-5 -5z" fill="#ffffff" '
                   f'stroke="{_VALUE}" stroke-width="1.5"/>')
    # the axes and their ticks: the time axis marked at each labelled period
    periods = period_ticks(defn, numbers[0]["period"], month_of_index(last))
    middles = [x(month_index(p) + span / 2) for p in periods]
    marks = "".join(f"M{mx} {bottom}v3" for mx in middles)
    out.append(f'<path d="M{left} {bottom}H{right}{marks}" stroke="{_INK}"/>')
    out.append('<text text-anchor="end">' + "".join(
        f'<tspan x="{left - 4}" y="{y(tick) + 3.5}">{label}</tspan>'
        for tick, label in zip(ticks, labels, strict=True)) + "</text>")
    names = [period_label(p, defn.year_start_month, defn.reporting) for p in periods]
    out.append('<text text-anchor="middle">' + "".join(
        _period_spans(mx, bottom, name) for mx, name in zip(middles, names, strict=True))
        + "</text></svg>")
    return "".join(out)


def _period_spans(x: float, bottom: float, label: str) -> str:
    """``2025/26 Q1`` as ``Q1`` over ``2025/26`` (a year alone on one line)."""
    year, _, quarter = label.partition(" ")
    lines = [quarter, year] if quarter else [year]
    return "".join(f'<tspan x="{x}" y="{bottom + 13 + 11 * n}">{escape(text)}</tspan>'
                   for n, text in enumerate(lines))
