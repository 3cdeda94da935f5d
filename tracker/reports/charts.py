"""Status charts as SVG: how many items had each status, quarter by quarter.

Built on ``matplotlib.figure.Figure`` and saved straight to bytes, never ``pyplot``. A status
is never colour alone: each status has its own hatching, the legend names it, and the chart
comes with a text alternative and a table of the same numbers.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tracker.reports.dashboard import COLOURS, WORDS, Counts

FILLS = {"red": "#d4351c", "amber": "#f47738", "green": "#00703c", "blue": "#1d70b8",
         "grey": "#b1b4b6"}
HATCHES = {"red": "xx", "amber": "//", "green": "", "blue": "..", "grey": "--"}
_RENDER_LOCK = threading.Lock()


def status_bars_svg(labels: Sequence[str], counts: Sequence[Counts], noun: str,
                    title: str) -> bytes:
    """Stacked bars, one per label (a quarter), of how many ``noun`` had each status."""
    with _RENDER_LOCK, rc_context({"svg.hashsalt": "status-chart", "svg.fonttype": "none",
                                   "font.family": "sans-serif", "font.size": 9,
                                   "hatch.color": "#ffffff", "hatch.linewidth": 0.8}):
        figure = Figure(figsize=(7.0, 3.6))
        ax = figure.add_subplot()
        bottoms = [0] * len(labels)
        positions = list(range(len(labels)))
        for colour in COLOURS:
            heights = [c[colour] for c in counts]
            if not any(heights):
                continue
            ax.bar(positions, heights, bottom=bottoms, color=FILLS[colour],
                   hatch=HATCHES[colour], edgecolor="#ffffff", linewidth=0.5,
                   label=WORDS[colour])
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        ax.set_xticks(positions)
        ax.set_xticklabels(labels, rotation=45 if len(labels) > 6 else 0, ha="right"
                           if len(labels) > 6 else "center")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"Number of {noun}")
        ax.set_title(title, loc="left", fontsize=10)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if any(bottoms):
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def describe_bars(labels: Sequence[str], counts: Sequence[Counts], noun: str) -> str:
    """The chart in words: the first and the last quarter's counts."""
    if not labels:
        return f"No {noun} have a status yet."
    first, last = counts[0], counts[-1]
    if len(labels) == 1:
        return f"{labels[0]}: {last.sentence()}."
    return (f"{len(labels)} quarters from {labels[0]} to {labels[-1]}. In {labels[0]}: "
            f"{first.sentence()}. In {labels[-1]}: {last.sentence()}.")
