"""The briefing book: the community safety team lays out the board pack (its sections,
priorities, KPIs and a cover note) as named layouts; one is the board's, built and emailed
to the board (through the outbox) when a quarter is locked. The pack also carries the
quarter's commentary, its No update actions and the plan's own dates beside revised ones.

The scene is the Kingston demo on 25 November 2026 (2026/27 Q2 open), whose layout "Board
meeting" is the board's, with every section and a cover note.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
from bs4 import Tag
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from tests.tracker.helpers import (
    TODAY,
    banners,
    browser,
    db,
    field_error,
    text_of,
    token_for,
    visible,
)
from tests.tracker.helpers import page as parsed
from tests.tracker.signing import ADMIN, BOARD, LEAD
from tests.tracker.test_board_pack import outline
from tracker import builder
from tracker.db import get_session
from tracker.models import AuditEvent, OutboxMessage, PackBuild, PackLayout
from tracker.reports import dashboard
from tracker.reports.pack import Pack, render
from tracker.services import packs
from tracker.services.layouts import EVERYTHING, SECTIONS, Choice
from tracker.services.plan_load import current_plan

Q2 = "2026-27-Q2"
COVER = "Please read the exception report first.\nThe board will be asked to agree two escalations."



def pack_of(app: Flask, fmt: str, choice: Choice = EVERYTHING
            ) -> tuple[Pack, dashboard.Dashboard]:
    with app.app_context():
        session = get_session()
        plan = current_plan(session)
        assert plan is not None
        quarter = dashboard.choose_quarter(plan, TODAY, Q2)
        return (render(fmt, session, plan, TODAY, quarter, env=app.jinja_env, choice=choice),
                dashboard.build(session, plan, TODAY, quarter, dashboard.Filters()))


def headings(document: str) -> list[str]:
    return [text_of(h) for h in parsed(document).find_all("h2")]


def layout_form(client, url: str, **fields: object):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {"csrf_token": token_for(client, url), "name": "",
                               "sections": [], "priorities": [], "kpis": [], "cover_note": ""}
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d*)"', page)
    data["version"] = version.group(1) if version else ""
    data.update(fields)
    return client.post(url, data=data)


def layouts_named(app: Flask) -> dict[str, PackLayout]:
    with db(app) as s:
        return {a.name: a for a in s.scalars(select(PackLayout))}


# -- laying out a pack ---------------------------------------------------------------------


def test_the_team_lays_out_a_pack_and_it_holds_what_they_chose(demo_app: Flask) -> None:
    admin = browser(demo_app, ADMIN)
    saved = layout_form(admin, "/board/layouts/new", name="  Priority 2  deep dive ",
                        sections=["summary", "priorities", "kpis"], priorities=["2"],
                        kpis=["knife-crime-injury"], cover_note=COVER)
    assert saved.status_code == 302 and saved.headers["Location"] == "/board/layouts"
    listing = admin.get("/board/layouts").get_data(as_text=True)
    assert "success: The layout Priority 2 deep dive is saved." in banners(listing)
    layout = layouts_named(demo_app)["Priority 2 deep dive"]
    assert layout.sections == ["summary", "priorities", "kpis"] and not layout.is_for_board
    assert f"/board/pack.pdf?quarter={Q2}&amp;layout={layout.id}" in listing

    pack, board_view = pack_of(demo_app, "html", Choice.of(layout))

    document = pack.content.decode()
    assert pack.filename.endswith(f"-board-pack-{Q2}-priority-2-deep-dive.html")
    titles = headings(document)
    assert titles[:3] == ["Contents", "Cover note", "Summary"]
    assert "Priority 2: Serious violence" in " ".join(titles)
    assert not any(t.startswith(("Priority 1", "Priority 3", "Priority 4")) for t in titles)
    for left_out in ("Exception report", "Open escalations", "Trend"):
        assert left_out not in titles
    assert "Please read the exception report first." in visible(f"<main>{document}</main>")
    assert document.count('<article class="kpi">') == 1
    assert 'Laid out as "Priority 2 deep dive": 1 of the plan\'s 4 priorities; 1 chosen KPIs' \
        in visible(f"<main>{document}</main>")
    # the workbook holds every action whatever the layout: it is the same build for all
    sheet, _ = pack_of(demo_app, "xlsx", Choice.of(layout))
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    assert len([n for n in book.sheetnames if n.startswith("P")]) == len(board_view.priorities)


def test_the_pdf_by_a_layout_has_the_cover_note_first(demo_app: Flask) -> None:
    with db(demo_app) as s:
        board_layout = s.scalars(select(PackLayout).where(PackLayout.is_for_board)).one()
    pack, _ = pack_of(demo_app, "pdf", Choice.of(board_layout))
    reader = PdfReader(io.BytesIO(pack.content))
    titles = outline(reader)
    assert titles[1:4] == ["Contents", "Cover note", "Summary"]  # after the pack's title
    assert "Papers for the partnership board." in reader.pages[0].extract_text() + \
        reader.pages[1].extract_text()


def test_a_layout_is_refused_without_a_name_or_a_section_or_with_a_name_taken(
        demo_app: Flask) -> None:
    admin = browser(demo_app, ADMIN)
    empty = layout_form(admin, "/board/layouts/new", cover_note="Kept while I fix the rest.")
    assert empty.status_code == 400
    page = empty.get_data(as_text=True)
    assert field_error(page, "name") == "Enter a name for the layout"
    assert "Kept while I fix the rest." in page
    no_sections = layout_form(admin, "/board/layouts/new", name="Thin")
    assert no_sections.status_code == 400
    assert field_error(no_sections.get_data(as_text=True), "sections") == (
        "Choose at least one section")
    taken = layout_form(admin, "/board/layouts/new", name="board MEETING",
                        sections=["summary"])
    assert taken.status_code == 400
    assert field_error(taken.get_data(as_text=True), "name") == (
        "There is already a layout called Board meeting: choose another name, or change "
        "that one")
    assert set(layouts_named(demo_app)) == {"Board meeting"}


def test_one_layout_is_the_board_s_and_changes_are_audited(demo_app: Flask) -> None:
    admin = browser(demo_app, ADMIN)
    assert layout_form(admin, "/board/layouts/new", name="Short pack", sections=["summary"],
                       is_for_board="y").status_code == 302
    found = layouts_named(demo_app)
    assert found["Short pack"].is_for_board and not found["Board meeting"].is_for_board
    with db(demo_app) as s:
        events = [(e.action, e.object_ref) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "pack layout")
            .order_by(AuditEvent.id))]
    assert events[-1] == ("layout.created", "Short pack")


def test_a_layout_changed_meanwhile_is_not_overwritten(demo_app: Flask) -> None:
    admin = browser(demo_app, ADMIN)
    layout = layouts_named(demo_app)["Board meeting"]
    url = f"/board/layouts/{layout.id}"
    token = token_for(admin, url)
    first = layout_form(admin, url, name="Board meeting", sections=list(SECTIONS),
                        cover_note="Changed by someone else.", version=str(layout.version))
    assert first.status_code == 302
    stale = admin.post(url, data={"csrf_token": token, "name": "Board meeting",
                                  "sections": ["summary"], "cover_note": "Mine, from before.",
                                  "version": str(layout.version)})
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Someone changed this layout while you had it open" in visible(page)
    assert "Mine, from before." in page
    assert layouts_named(demo_app)["Board meeting"].cover_note == "Changed by someone else."


def test_only_the_team_lays_out_packs(demo_app: Flask) -> None:
    for who in (BOARD, LEAD):
        client = browser(demo_app, who)
        assert client.get("/board/layouts").status_code == 403
        assert client.post("/board/layouts/new", data={
            "csrf_token": token_for(client, "/account"), "name": "Mine",
            "sections": ["summary"]}).status_code == 403
    assert "Mine" not in layouts_named(demo_app)


# -- asking for a laid-out pack --------------------------------------------------------------


def test_a_board_member_asks_for_the_briefing_book_and_it_is_built_by_its_layout(
        demo_app: Flask) -> None:
    layout = layouts_named(demo_app)["Board meeting"]
    member = browser(demo_app, BOARD)
    dashboard_page = member.get("/board").get_data(as_text=True)
    link = f"/board/pack.pdf?quarter={Q2}&amp;layout={layout.id}"
    assert link in dashboard_page  # the board's briefing book, from the dashboard
    asked = member.get(link.replace("&amp;", "&"))
    assert asked.status_code == 302
    build_id = int(asked.headers["Location"].rsplit("/", 1)[1])
    status = visible(member.get(asked.headers["Location"]).get_data(as_text=True))
    assert "Layout Board meeting" in status
    # the whole pack is another build: asked for while the first is being prepared, the
    # member is sent back to that one (a person waits for one pack per format at a time)
    whole = member.get(f"/board/pack.pdf?quarter={Q2}")
    assert whole.status_code == 302 and whole.headers["Location"].endswith(f"/{build_id}")

    with demo_app.app_context():
        claimed = builder.claim_next(demo_app)
    assert claimed == build_id
    assert builder.build(demo_app, build_id)
    with db(demo_app) as s:
        built = s.get(PackBuild, build_id)
        assert built is not None and built.layout["name"] == "Board meeting"
        assert built.filename.endswith(f"-{Q2}-board-meeting.pdf")
        content = s.scalar(select(PackBuild.content).where(PackBuild.id == build_id))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages[:2])
    assert "Papers for the partnership board." in text


def test_a_layout_that_is_not_there_is_a_page_not_found(demo_app: Flask) -> None:
    member = browser(demo_app, BOARD)
    assert member.get(f"/board/pack.pdf?quarter={Q2}&layout=9999").status_code == 404
    assert member.get(f"/board/pack.pdf?quarter={Q2}&layout=first").status_code == 404


def test_the_command_line_writes_a_pack_by_its_layout(demo_app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "pack.html"
    runner = demo_app.test_cli_runner()
    done = runner.invoke(args=["report", "board", "--quarter", Q2, "--out", str(out),
                               "--layout", "board meeting", "--today", TODAY.isoformat()])
    assert done.exit_code == 0, done.output
    assert "Cover note" in headings(out.read_text())
    missing = runner.invoke(args=["report", "board", "--quarter", Q2, "--out", str(out),
                                  "--layout", "Nope", "--today", TODAY.isoformat()])
    assert missing.exit_code != 0
    assert ("There is no layout called 'Nope' (the layouts: Board meeting). No board pack "
            "was written.") in missing.output


# -- locking a quarter: the board is told ----------------------------------------------------


def test_locking_a_quarter_builds_the_board_s_pack_and_emails_the_board_once(
        demo_app: Flask) -> None:
    layout = layouts_named(demo_app)["Board meeting"]
    with demo_app.app_context():
        members = packs.board_members(get_session())
        emails = sorted(m.email for m in members)
    assert BOARD in emails
    admin = browser(demo_app, ADMIN)
    url = "/quarters/2026-27-Q1/lock"
    done = admin.post(url, data={"csrf_token": token_for(admin, "/quarters"),
                                 "note": "The board met on 20 November."})
    assert done.status_code == 302
    shown = banners(admin.get("/quarters").get_data(as_text=True))
    assert (f"success: 2026/27 Q1 is now locked. {len(emails)} board members are emailed a "
            "link to its board pack.") in shown
    with db(demo_app) as s:
        sent = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "pack")
                              .order_by(OutboxMessage.to_address)))
        ahead = list(s.scalars(select(PackBuild).where(PackBuild.quarter == "2026/27 Q1")))
    assert [m.to_address for m in sent] == emails
    message = sent[0]
    assert message.subject == "The 2026/27 Q1 board pack"
    assert f"/board/pack.pdf?quarter=2026-27-Q1&layout={layout.id}" in message.text_body
    assert "Papers for the partnership board." in message.text_body  # the cover note
    assert "Board meeting" in message.text_body
    assert sorted((b.format, b.layout.get("name", "")) for b in ahead) == [
        ("pdf", "Board meeting"), ("xlsx", "")]
    # unlocked and locked again: the board is not emailed twice
    token = token_for(admin, "/quarters")
    assert admin.post("/quarters/2026-27-Q1/unlock", data={
        "csrf_token": token, "note": "A late correction to SKP-004."}).status_code == 302
    assert admin.post(url, data={"csrf_token": token_for(admin, "/quarters"),
                                 "note": "Locked again."}).status_code == 302
    with db(demo_app) as s:
        again = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "pack")).all()
    assert len(again) == len(emails)


# -- what every pack carries ------------------------------------------------------------------


def test_the_pack_carries_the_quarter_s_commentary(demo_app: Flask) -> None:
    pack, _ = pack_of(demo_app, "html")
    document = visible(f"<main>{pack.content.decode()}</main>")
    assert "The quarter's summary" in document
    assert "A steady quarter: new partnership working is bedding in" in document
    assert "The community safety team's summary of 2026/27 Q2, by Priya Shah" in document
    assert "The thematic group lead's narrative for 2026/27 Q2, by Daniel Price" in document
    assert "The group's lead has not written a narrative for 2026/27 Q2." in document
    book = openpyxl.load_workbook(io.BytesIO(pack_of(demo_app, "xlsx")[0].content))
    rows = [[c.value for c in row] for row in book["Commentary"].iter_rows()]
    assert rows[0] == ["About", "What", "Commentary", "Written by", "Written on", "Version"]
    assert [r[0] for r in rows[1:]] == ["The quarter", "Priority 1", "Priority 2"]
    assert rows[2][3] != "" and rows[3][3] == "Daniel Price" and rows[3][5] == 1


def test_no_update_is_its_own_status_and_section_in_the_pack(demo_app: Flask) -> None:
    pack, board_view = pack_of(demo_app, "html")
    unreported = board_view.unreported
    assert unreported and all(r.word == "No update" for r in unreported)
    assert board_view.action_counts["grey"] == len(unreported)
    document = pack.content.decode()
    marker = parsed(document).find(id="no-update")
    assert isinstance(marker, Tag)
    found = marker if marker.name == "table" else marker.find_next("table")
    assert isinstance(found, Tag)
    listed = [ref.get_text() for ref in found.select("span.ref")]
    assert listed == [r.ref for r in unreported][:50]
    summary = visible("<main>" + document.split('id="summary"', 1)[1].split("</section>", 1)[0]
                      + "</main>")
    assert f"{len(unreported)} with no update" in summary
    # and in the workbook: the word, in its own column of the counts
    book = openpyxl.load_workbook(io.BytesIO(pack_of(demo_app, "xlsx")[0].content))
    words = [row[6].value for name in book.sheetnames if name.startswith("P")
             for row in book[name].iter_rows(min_row=3)]
    assert words.count("No update") == len(unreported)
    assert "Amber" in words and words.count("Amber") == board_view.action_counts["amber"]


def test_a_revised_due_date_shows_the_plan_s_own_beside_it_in_the_pack(
        demo_app: Flask) -> None:
    pack, board_view = pack_of(demo_app, "xlsx")
    revised = [r for r in board_view.actions if r.baseline_due is not None]
    assert revised, "the demo approves one revised due date"
    row = revised[0]
    book = openpyxl.load_workbook(io.BytesIO(pack.content))
    sheet = next(book[n] for n in book.sheetnames if n.startswith(f"P{row.priority_ref} "))
    heads = [c.value for c in sheet[2]]
    line = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == row.ref)
    assert line[heads.index("Due")].value.date() == row.due
    assert line[heads.index("Plan's due date, if revised")].value.date() == row.baseline_due
    document = visible(f"<main>{pack_of(demo_app, 'html')[0].content.decode()}</main>")
    assert row.is_exception  # Amber: so the exception report lists it, with both dates
    assert (f"Due {row.due.day} {row.due:%B %Y}, revised from the plan's "
                f"{row.baseline_due.day} {row.baseline_due:%B %Y}") in document
