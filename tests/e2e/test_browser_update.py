"""An action owner sends their quarterly update from a real browser, start to finish; and
what the form does in a browser: last quarter's text, the concern's reveal, the warning on a
lower percentage, and the focus on the error summary."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.tracker import signing
from tracker.db import get_engine
from tracker.models import Action, ActionUpdate

from .browser import ADMIN, DEMO_PASSWORD, MEMBER, QUARTER, LiveServer, banners, sign_in

STATUSES = "Status by quarter, with the rule that set it"  # the action page's table


def test_an_owner_sends_a_late_update_and_the_lead_approves_it(page: Page,
                                                               fresh_server: LiveServer) -> None:
    """Kingston's groups approve their owners' updates before the board sees them."""
    sign_in(page, fresh_server.url, MEMBER)

    # My actions: the update for the open quarter is late for one of her actions
    page.get_by_role("link", name="My actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")
    expect(page.locator("main")).to_contain_text(
        f"Updates for {QUARTER} (1 July 2026 to 30 September 2026) are due by "
        "15 October 2026, and are now late.")
    owned = page.get_by_role("table", name="Actions you own")
    late = owned.get_by_role("row").filter(has=page.locator(".govuk-tag", has_text="Late")).first
    action_link = late.get_by_role("link").first
    ref = action_link.inner_text().strip()
    assert ref.startswith("SKP-"), ref
    title = late.get_by_role("cell").first.inner_text().split(": ", 1)[1].split("\n")[0].strip()

    # its page shows the quarter's status, and a button to update it
    action_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    quarter_row = page.get_by_role("table", name=STATUSES).get_by_role("row").filter(
        has_text=QUARTER)
    expect(quarter_row).not_to_contain_text("Complete")
    page.get_by_role("link", name="My actions").click()

    # the update form, from My actions
    owned = page.get_by_role("table", name="Actions you own")
    owned.get_by_role("link", name=f"Update {ref}").click()
    expect(page).to_have_title(f"Update {ref} for {QUARTER} - Safer Kingston Partnership")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("main")).to_contain_text(f"{QUARTER} update")

    page.get_by_label("Complete: the action is finished").check()
    page.get_by_label("How much of the action is complete?").fill("100")
    page.get_by_label("Progress this quarter").fill(
        "The improvement plan was agreed by the board in September.")
    page.get_by_label("Next steps").fill("Hand over to the ASB delivery group.")
    page.get_by_label("Evidence links").fill("https://example.org/asb-improvement-plan")
    page.get_by_role("button", name="Submit update").click()

    # back on the action page: saved, and sent to the group lead; it does not count yet
    expect(page).to_have_url(fresh_server(f"/actions/{ref}"))
    assert banners(page) == [f"Success Your update for {QUARTER} has been saved and sent to "
                             "the group lead for approval."]
    card = page.locator(".govuk-summary-card").filter(
        has=page.get_by_role("heading", name=f"{QUARTER}: version 1"))
    expect(card).to_contain_text("Owner's rating: Complete")
    expect(card).to_contain_text("The improvement plan was agreed by the board in September.")
    expect(card.get_by_role("link", name="https://example.org/asb-improvement-plan")).to_be_visible()
    expect(quarter_row).not_to_contain_text("Complete")
    page.get_by_role("link", name="My actions").click()
    row = page.get_by_role("table", name="Actions you own").get_by_role("row").filter(
        has=page.get_by_role("link", name=ref, exact=True))
    expect(row).to_contain_text("Awaiting approval")

    # the lead of the action's group approves it: now it counts, and the board sees it
    with Session(get_engine(fresh_server.app)) as s:
        action = s.scalars(select(Action).where(Action.ref == ref)).one()
        assert action.group is not None and action.group.lead is not None
        lead = action.group.lead.email
    signing.set_password(fresh_server.app, lead, DEMO_PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, fresh_server.url, lead)
    page.goto(fresh_server("/my-actions"))
    awaiting = page.get_by_role("heading", name="Awaiting your approval")
    expect(awaiting).to_be_visible()
    page.locator("main").get_by_role("link", name=ref, exact=True).first.click()
    page.get_by_role("group", name="Approve this update?").get_by_label(
        "Approve: the board can see it").check()
    page.get_by_role("button", name="Save decision").click()
    # the decision comes back to the same address (#updates), so wait for the page it draws
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Update approved.")
    assert "Success Update approved." in banners(page)
    expect(page.get_by_role("table", name=STATUSES).get_by_role("row").filter(
        has_text=QUARTER)).to_contain_text("Complete")


# SKP-005 is one of the member's actions: updated for 2026/27 Q1 (74% complete), not yet
# for 2026/27 Q2, the open quarter. These tests submit nothing that is saved.
LATE = "SKP-005"
FORM = f"/actions/{LATE}/update/2026-27-Q2"
FOCUSED = "document.activeElement.classList.contains('govuk-error-summary')"


def _last_quarter(server: LiveServer) -> ActionUpdate:
    with Session(get_engine(server.app)) as s:
        found = s.scalars(select(ActionUpdate).join(Action).where(
            Action.ref == LATE, ActionUpdate.quarter == "2026/27 Q1")
            .order_by(ActionUpdate.version.desc())).first()
        assert found is not None and found.percent_complete == 74
        return found


def test_the_form_starts_from_last_quarter_and_asks_before_progress_goes_down(
        page: Page, live_server: LiveServer) -> None:
    last = _last_quarter(live_server)
    sign_in(page, live_server.url, MEMBER)
    page.goto(live_server(FORM))

    # last quarter's update, in the form and above it
    expect(page.locator("#prefilled")).to_have_text(
        "Filled in from your 2026/27 Q1 update: change what has moved on.")
    expect(page.get_by_label("Progress this quarter")).to_have_value(last.narrative)
    expect(page.get_by_label("How much of the action is complete?")).to_have_value("74")
    page.get_by_text("Your 2026/27 Q1 update", exact=True).click()
    expect(page.locator("#previous-update")).to_contain_text(last.narrative)

    # the concern's reason is asked for once the box is ticked
    reason = page.get_by_label("Why is this an area of concern?")
    expect(reason).to_be_hidden()
    page.get_by_label("Escalate this as an area of concern to the board").check()
    expect(reason).to_be_visible()
    page.get_by_label("Escalate this as an area of concern to the board").uncheck()
    expect(reason).to_be_hidden()

    # a lower percentage is pointed out as it is typed
    percent = page.get_by_label("How much of the action is complete?")
    warning = page.get_by_text("This is less than the 74% in your 2026/27 Q1 update.")
    expect(warning).to_be_hidden()
    percent.fill("50")
    expect(warning).to_be_visible()
    expect(page.get_by_label("Yes, progress went down")).to_be_visible()
    percent.fill("85")
    expect(warning).to_be_hidden()

    # and, sent unconfirmed, comes back to be confirmed, with the focus on what went wrong
    percent.fill("50")
    page.get_by_role("button", name="Submit update").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("50% is less than the 74% in your 2026/27 Q1 update")
    expect(page.locator(".govuk-error-summary")).to_be_focused()  # no eval: the CSP forbids it
    expect(page.locator("#percent_complete-error")).to_contain_text("correct the percentage")
    expect(page.get_by_label("Yes, progress went down")).to_be_visible()
    expect(percent).to_have_value("50")
    expect(page.get_by_label("Progress this quarter")).to_have_value(last.narrative)


def test_after_the_skip_link_a_failed_submit_focuses_the_error_summary(
        page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.url, MEMBER)
    page.goto(live_server(FORM))
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server(FORM) + "#main-content")

    page.get_by_label("Progress this quarter").fill("")
    page.get_by_role("button", name="Submit update").click()

    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Describe the progress this quarter")
    expect(page.locator(".govuk-error-summary")).to_be_focused()  # no eval: the CSP forbids it
    assert page.evaluate("document.activeElement.tagName") == "DIV"
    expect(page).to_have_url(live_server(FORM))


def test_an_error_summary_keeps_the_focus_on_an_address_with_a_fragment(
        page: Page, live_server: LiveServer) -> None:
    """Any page: the browser's move to the #fragment does not take the summary's focus."""
    sign_in(page, live_server.url, ADMIN)
    page.goto(live_server("/admin/audit?date_from=31/02/2026#main-content"))

    expect(page.locator(".govuk-error-summary")).to_contain_text("Date from must be a real date")
    page.wait_for_load_state("load")
    expect(page.locator(".govuk-error-summary")).to_be_focused()  # no eval: the CSP forbids it
    assert page.evaluate(FOCUSED)  # still on the summary once the page has settled
