"""An action owner sends their quarterly update from a real browser, start to finish."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .browser import MEMBER, QUARTER, LiveServer, banners, sign_in


def test_an_owner_sends_a_late_update_and_sees_the_new_status(page: Page,
                                                               fresh_server: LiveServer) -> None:
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

    # its page shows Red for the quarter, and a button to update it
    action_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    quarter_row = page.locator("#statuses + table").get_by_role("row").filter(has_text=QUARTER)
    expect(quarter_row).to_contain_text("Red")
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

    # back on the action page: the confirmation, the update, and the new status
    expect(page).to_have_url(fresh_server(f"/actions/{ref}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert banners(page) == [f"Success Your update for {QUARTER} has been saved."]
    card = page.locator(".govuk-summary-card").filter(
        has=page.get_by_role("heading", name=f"{QUARTER}: version 1"))
    expect(card).to_contain_text("Owner's rating: Complete")
    expect(card).to_contain_text("100%")
    expect(card).to_contain_text("The improvement plan was agreed by the board in September.")
    expect(card.get_by_role("link", name="https://example.org/asb-improvement-plan")).to_be_visible()
    expect(quarter_row).to_contain_text("Complete")
    expect(quarter_row).not_to_contain_text("Red")

    # and My actions shows it as submitted
    page.get_by_role("link", name="My actions").click()
    row = page.get_by_role("table", name="Actions you own").get_by_role("row").filter(
        has=page.get_by_role("link", name=ref, exact=True))
    expect(row).to_contain_text("Submitted")
    expect(row.get_by_role("link", name=f"Change {ref}")).to_be_visible()
