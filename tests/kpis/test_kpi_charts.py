"""Charts: SVG that parses and repeats byte for byte, its text alternative, its table."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from kpitest import ROOT, kingston, months, q, quarters

from kpis import KpiDefinition, chart_svg, describe, measure, table

DA = kingston("da-reports")
SAFE = kingston("residents-feel-safe")
ASB = kingston("asb-incidents")
RISING = quarters("2024/25 Q1", 310, 320, 330, 340, 350, 360, 370, 380, 390, 395)
AS_OF = date(2026, 8, 1)   # 2026/27 Q2
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
