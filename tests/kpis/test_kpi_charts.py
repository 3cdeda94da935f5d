"""Charts: SVG that parses and repeats byte for byte, its text alternative, its table."""

from __future__ import annotations

import ast
import math
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from kpitest import ROOT, kingston, months, q, quarters

from kpis import KpiDefinition, chart_svg, describe, measure, small_chart_svg, table
from kpis.charts import period_ticks, tick_label, value_ticks
from plans.periods import add_months

DA = kingston("da-reports")
SAFE = kingston("residents-feel-safe")
ASB = kingston("asb-incidents")
RISING = quarters("2024/25 Q1", 310, 320, 330, 340, 350, 360, 370, 380, 390, 395)
AS_OF = date(2026, 8, 1)   # 2026/27 Q2
RATE = KpiDefinition(ref="rate", name="A rate", unit="rate", better="lower",
                     frequency="quarterly", tolerance=5, target=10)
SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def test_the_svg_parses_and_carries_its_title_and_legend() -> None:
    svg = chart_svg(DA, RISING, AS_OF)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == "Domestic abuse incidents reported to police"
    words = texts(svg)
    assert "Domestic abuse incidents reported to police" in words
    for label in ("Actual", "Target", "Tolerance (5%)", "Baseline (2023/24: 620)",
                  "Projection (2026/27 Q4: 416)"):
        assert label in words, label
    for tick in ("2024/25 Q1", "2025/26 Q3", "2026/27 Q4"):
        assert tick in words, tick
    assert "Financial year and quarter" in words
    assert "Number per quarter" in words


def test_the_same_data_gives_the_same_bytes() -> None:
    first = chart_svg(DA, RISING, AS_OF, title="Domestic abuse")
    assert chart_svg(DA, RISING, AS_OF, title="Domestic abuse") == first
    assert chart_svg(DA, {**RISING, q("2026/27 Q2"): 396}, AS_OF, title="Domestic abuse") != first
    assert b"Domestic abuse" in first
    assert b"<dc:date>" not in first


def test_an_annual_chart_with_a_given_measure_and_title() -> None:
    values = {date(2024, 4, 1): 70.0, date(2025, 4, 1): 73.5, date(2026, 4, 1): 72.0}
    current = measure(SAFE, values, date(2026, 9, 1))
    words = texts(chart_svg(SAFE, values, date(2026, 9, 1), current, title="Feeling safe"))
    assert "Feeling safe" in words
    assert {"2024/25", "2025/26", "2026/27", "Financial year", "Percent"} <= set(words)
    assert "Tolerance (3%)" in words and "Baseline (2023/24: 71%)" in words


def test_january_years_and_no_data() -> None:
    defn = KpiDefinition(ref="jan", name="Calendar-year KPI", unit="rate", better="lower",
                         frequency="quarterly", tolerance=5, year_start_month=1,
                         target=10)
    words = texts(chart_svg(defn, {date(2025, 1, 1): 9, date(2025, 4, 1): 11}, date(2025, 5, 1)))
    assert {"2025 Q1", "2025 Q2", "Year and quarter", "Rate"} <= set(words)
    empty = texts(chart_svg(DA, {}, AS_OF))
    assert "No data yet" in empty
    assert describe(DA, {}, AS_OF) == "No data yet for Domestic abuse incidents reported to police."


def test_a_partial_quarter_is_marked() -> None:
    monthly = KpiDefinition(ref="asb-m", name="ASB", unit="count", better="lower",
                            frequency="monthly", tolerance=5, targets=ASB.targets)
    values = months(date(2025, 1, 1), 360, 370, 380, 350, 360, 370, 340)
    assert "Partial quarter (so far)" in texts(chart_svg(monthly, values, date(2025, 8, 5)))


def assert_round_and_even(ticks: list[float]) -> None:
    """4 to 7 ticks, evenly spaced by 1, 2, 2.5 or 5 times a power of ten, each a multiple
    of the step."""
    assert 4 <= len(ticks) <= 7, ticks
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1, ticks
    step = steps.pop()
    assert round(step / 10 ** math.floor(math.log10(step)), 9) in (1, 2, 2.5, 5), ticks
    assert all(round(t / step, 6).is_integer() for t in ticks), ticks


@pytest.mark.parametrize(("low", "high"), [
    (561, 718), (192.3, 248.9), (0, 1), (28.2, 31.7), (25_012, 30_744), (0.004, 0.0187),
    (-12.5, 40), (950, 1_020), (3, 3), (1_188.0, 1_420.0), (14, 19),
])
def test_value_ticks_are_a_few_round_numbers_spanning_the_values(low: float,
                                                                 high: float) -> None:
    ticks = value_ticks(RATE, low, high)
    assert_round_and_even(ticks)
    assert ticks[0] <= low and ticks[-1] >= high  # the axis ends on labelled ticks
    # not much wider than it need be: the values take up more than a third of it
    assert high - low == 0 or (high - low) / (ticks[-1] - ticks[0]) > 1 / 3, ticks


def test_value_ticks_of_a_count_are_whole_numbers() -> None:
    ticks = value_ticks(DA, 1, 3)
    assert all(t == int(t) for t in ticks) and ticks[0] <= 1 and ticks[-1] >= 3
    assert [tick_label(DA, t) for t in value_ticks(DA, 1_188, 1_420)] == [
        "1,150", "1,200", "1,250", "1,300", "1,350", "1,400", "1,450"]
    assert [tick_label(SAFE, t) for t in value_ticks(SAFE, 61.6, 62.9)] == [
        "61.5%", "62%", "62.5%", "63%"]
    assert value_ticks(DA, 0, 1) == [0, 1, 2, 3]  # never a negative count


def test_period_ticks_fall_on_whole_periods_and_years() -> None:
    start = q("2021/22 Q3")
    for count in range(1, 61):
        shown = period_ticks(DA, start, add_months(start, 3 * count))
        if count <= 6:  # few enough to label every one
            assert shown == [add_months(start, 3 * n) for n in range(count)]
            continue
        assert 4 <= len(shown) <= 8, (count, shown)
        gaps = {(b.year - a.year) * 12 + b.month - a.month
                for a, b in zip(shown, shown[1:], strict=False)}
        assert len(gaps) == 1 and gaps <= {3, 6, 12, 24, 48, 60, 120}, (count, gaps)
        if min(gaps) >= 12:
            assert all(d.month == 4 for d in shown), (count, shown)  # each year's Q1
    # ten quarters and the projection to 2026/27 Q4: every other quarter, each Q1 in
    assert period_ticks(DA, q("2024/25 Q1"), q("2027/28 Q1")) == [
        q(label) for label in ("2024/25 Q1", "2024/25 Q3", "2025/26 Q1", "2025/26 Q3",
                               "2026/27 Q1", "2026/27 Q3")]
    # an annual KPI: years
    years = period_ticks(SAFE, date(2016, 4, 1), date(2027, 4, 1))
    assert years == [date(y, 4, 1) for y in (2016, 2018, 2020, 2022, 2024, 2026)]


def test_describe_tells_the_story_in_words() -> None:
    text = describe(DA, RISING, AS_OF, measure(DA, RISING, AS_OF))
    assert text.startswith("Rose from 310 in 2024/25 Q1 to 395 in 2026/27 Q2.")
    assert ("In 2026/27 Q2 it was 395 against a target of 650: 39.2% below target, "
            "beyond the 5% tolerance (red).") in text
    assert "From 2026/27 Q1 (390) to 2026/27 Q2 (395) it was stable." in text
    assert "Against the 2023/24 baseline of 620 it is down 225 (36.3%)." in text
    # the last six quarters, 350 to 395, fit a line rising 9.3 a quarter
    assert ("On the trend of the last 6 quarters it would reach 416 by 2026/27 Q4, "
            "against a target of 650: red.") in text


@pytest.mark.parametrize(("values", "as_of", "expected"), [
    (quarters("2024/25 Q1", 700, 640, 660, 610), date(2025, 3, 1),
     "Fell from 700 in 2024/25 Q1 to 610 in 2024/25 Q4."),
    (quarters("2024/25 Q1", 600, 700, 650, 620), date(2025, 3, 1),
     "Rose from 600 in 2024/25 Q1 to 620 in 2024/25 Q4, peaking at 700 in 2024/25 Q2."),
    (quarters("2024/25 Q1", 640, 600, 640), date(2024, 12, 1),
     "Was 640 in 2024/25 Q1 and 640 in 2024/25 Q3, with a low of 600 in 2024/25 Q2."),
    ({q("2024/25 Q1"): 600.0, q("2025/26 Q1"): 650.0}, date(2025, 5, 1),
     "Rose from 600 in 2024/25 Q1 to 650 in 2025/26 Q1 (no data for 3 quarters in between)."),
    (quarters("2024/25 Q1", 600), date(2024, 5, 1), "One value so far: 600 in 2024/25 Q1."),
])
def test_describe_the_series(values: dict[date, float], as_of: date, expected: str) -> None:
    assert describe(DA, values, as_of).startswith(expected)


def test_describe_says_when_there_is_too_little_to_project() -> None:
    text = describe(DA, quarters("2024/25 Q1", 600, 700), date(2024, 8, 1))
    assert "too few quarters of data to project the year end (at least 3 are needed)" in text


def test_describe_an_annual_kpi() -> None:
    values = {date(2024, 4, 1): 70.0, date(2025, 4, 1): 72.0, date(2026, 4, 1): 74.0}
    text = describe(SAFE, values, date(2026, 9, 1))
    assert text.startswith("Rose from 70% in 2024/25 to 74% in 2026/27.")
    assert "exactly on target (green)" in text
    assert "From 2025/26 (72%) to 2026/27 (74%) it was improving." in text
    assert "up 3 points (4.2%)" in text
    assert "On the trend of the last 3 years it would reach 74% by 2026/27" in text


def test_table_rows() -> None:
    rows = table(ASB, quarters("2025/26 Q3", 1100, 1080, 1200), date(2026, 5, 1))
    assert [(r["label"], r["value"], r["target"], r["status"], r["change"]) for r in rows] == [
        ("2025/26 Q3", 1100.0, 1080.0, "amber", None),
        ("2025/26 Q4", 1080.0, 1080.0, "green", -20.0),
        ("2026/27 Q1", 1200.0, 1060.0, "red", 120.0),
    ]
    assert [r["change_text"] for r in rows] == ["", "\u221220", "+120"]
    assert rows[0]["value_text"] == "1,100" and rows[0]["target_text"] == "1,080"
    assert rows[0]["period"] == q("2025/26 Q3") and not rows[0]["partial"]
    assert table(ASB, quarters("2025/26 Q3", 1100), date(2025, 9, 30)) == []


def test_table_for_a_percent_kpi_shows_points() -> None:
    rows = table(kingston("marac-repeat"), quarters("2025/26 Q1", 30, 31.5), date(2025, 8, 1))
    assert [r["value_text"] for r in rows] == ["30%", "31.5%"]
    assert rows[1]["change_text"] == "+1.5 points"


def test_kpis_never_imports_pyplot() -> None:
    sources = sorted((ROOT / "kpis").glob("*.py"))
    assert len(sources) >= 5
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "matplotlib.pyplot" not in text and "import pyplot" not in text, path.name
        assert not re.search(r"\bplt\.", text), path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            assert not any("pyplot" in name for name in names), (path.name, names)


def test_charts_drawn_in_threads_match_charts_drawn_one_by_one() -> None:
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(DA, RISING, AS_OF), (SAFE, {date(2024, 4, 1): 70.0, date(2025, 4, 1): 72.0,
                                         date(2026, 4, 1): 71.0}, AS_OF)] * 2
    expected = [chart_svg(*job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda job: chart_svg(*job), jobs)) == expected


def test_the_packs_small_chart_is_drawn_here_in_the_same_language() -> None:
    current = measure(DA, RISING, AS_OF)
    rows = table(DA, RISING, AS_OF)
    svg = small_chart_svg(DA, rows, current)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == "Chart of Domestic abuse incidents reported to police"
    words = " ".join("".join(node.itertext()) for node in root.iter(f"{SVG}tspan"))
    assert "Q1" in words and "2024/25" in words
    strokes = {node.get("stroke") for node in root.iter(f"{SVG}path")}
    assert {"#1d70b8", "#0b0c0c", "#505a5f"} <= strokes  # values, target, baseline
    assert any(node.get("stroke-dasharray") == "5 3" for node in root.iter(f"{SVG}path"))
    assert small_chart_svg(DA, rows, current) == svg


def test_the_packs_small_chart_escapes_a_name_and_says_when_there_is_no_data() -> None:
    named = KpiDefinition(ref="odd", name="Calls <to> \"101\" & 999", unit="count",
                          better="lower", frequency="quarterly", tolerance=0)
    svg = small_chart_svg(named, [], measure(named, {}, AS_OF))
    root = ET.fromstring(svg)
    assert root.findtext(f"{SVG}title") == 'Chart of Calls <to> "101" & 999'
    assert "No data yet" in "".join(root.itertext())
