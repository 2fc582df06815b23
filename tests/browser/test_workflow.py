"""A joint activity goes through the whole workflow in a real browser.

A UNDP focal point logs a joint activity with UNDP's contribution and submits
both; the RC Office returns the activity with a comment; the focal point fixes it
and submits again; the RC Office validates. Each step leaves a screenshot in
test-results/ to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from frameworks.models import Contribution, JointActivity, WorkflowStatus
from tests.conftest import service_missing
from tests.frameworks.joint_work_factories import build_world

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    expect = sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "unportal-demo-2026"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def require_browser() -> None:
    """Skip on a laptop without a browser; fail in CI, where it must be there."""
    reason = ""
    if sync_playwright is None:
        reason = "Playwright is not installed"
    elif not Path(CHROMIUM).exists():
        reason = f"Chromium is not installed at {CHROMIUM}"
    if reason:
        service_missing(reason, hint="install the dev extra and Debian's chromium")


@pytest.fixture
def world(settings):
    settings.DEMO_PASSWORD = PASSWORD
    world = build_world()
    for user in (world.fp_undp, world.rco):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return world


class Person:
    """One browser session of one user, saving numbered screenshots."""

    counter = 0

    def __init__(self, browser, base_url: str, username: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.page.goto(f"{base_url}/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.locator("form.form button[type=submit]").click()
        self.page.wait_for_url(f"{base_url}/")

    def shoot(self, name: str) -> None:
        Person.counter += 1
        RESULTS.mkdir(exist_ok=True)
        self.page.screenshot(
            path=str(RESULTS / f"workflow-{Person.counter:02d}-{name}.png"),
            full_page=True,
        )

    def close(self) -> None:
        self.context.close()


def _message(page) -> str:
    return page.locator(".messages").inner_text()


def test_activity_is_logged_returned_fixed_and_validated(
    live_server, world, monkeypatch
):
    require_browser()
    # Playwright's sync API runs an event loop in this thread, which makes Django
    # refuse ORM calls here; they are safe, because the live server has its own.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            run_workflow(browser, live_server.url, world)
        finally:
            browser.close()


def run_workflow(chromium, base: str, world) -> None:
    year = world.framework.start_year

    # A focal point logs the activity from the team's activity list.
    focal = Person(chromium, base, world.fp_undp.username)
    page = focal.page
    page.goto(f"{base}/teams/SOM/activities/")
    focal.shoot("empty-activity-list")
    page.get_by_role("link", name="Log the first joint activity").click()
    page.get_by_label("Title", exact=True).fill("Safe schools for displaced children")
    page.get_by_label("Description").fill("Water points and latrines in schools.")
    page.get_by_label("UNICEF").check()
    page.get_by_label(f"{world.output.code} {world.output.statement}").check()
    page.get_by_label("SDG targets").select_option(str(world.sdg_target.pk))
    page.get_by_label("Start date").fill(f"{year}-03-01")
    page.get_by_label("End date").fill(f"{year - 1}-06-30")
    page.get_by_label("End date").blur()
    # The form is checked as it is filled in: the wrong end date is flagged.
    page.locator("#id_end_date_error li").wait_for()
    assert "before the start date" in page.locator("#id_end_date_error").inner_text()
    expect(page.get_by_label("End date")).to_have_attribute("aria-invalid", "true")
    focal.shoot("activity-form-inline-error")
    page.get_by_label("End date").fill(f"{year + 1}-06-30")
    page.get_by_label("End date").blur()
    page.locator("#id_end_date_error li").wait_for(state="detached")
    expect(page.get_by_label("End date")).not_to_have_attribute("aria-invalid", "true")
    page.get_by_label("Gender equality marker").select_option("2")
    page.get_by_label("Human rights marker").select_option("1")
    page.get_by_label("Children", exact=True).check()
    focal.shoot("activity-form-filled")
    page.get_by_role("button", name="Save draft").click()
    assert "saved as a draft" in _message(page)
    activity = JointActivity.objects.get()
    focal.shoot("activity-draft")

    # Then adds UNDP's contribution for the year, with a sex breakdown.
    page.get_by_role("link", name="Add a contribution").click()
    page.get_by_label("Year").select_option(str(year))
    page.get_by_label("Required (USD)").fill("120000")
    page.get_by_label("Available (USD)").fill("90000")
    page.get_by_label("Spent (USD)").fill("40000")
    page.get_by_label("Funding source").fill("Joint SDG Fund")
    number = world.number_indicator.pk
    page.locator(f"#id_r{number}_value").fill("100")
    page.locator(f"#id_r{number}_d_sex_0").fill("55")
    page.locator(f"#id_r{number}_d_sex_1").fill("45")
    percentage = world.percentage_indicator.pk
    page.locator(f"#id_r{percentage}_numerator").fill("30")
    page.locator(f"#id_r{percentage}_denominator").fill("40")
    focal.shoot("contribution-form")
    page.get_by_role("button", name="Save draft").click()
    assert "saved as a draft" in _message(page)
    contribution = Contribution.objects.get()
    card = page.locator(f"#contribution-{contribution.pk}")
    assert "120,000" in card.inner_text()

    # And submits both.
    page.locator(".step-bar").first.get_by_role(
        "button", name="Submit for validation"
    ).click()
    assert "submitted for validation" in _message(page)
    card = page.locator(f"#contribution-{contribution.pk}")
    card.get_by_role("button", name="Submit for validation").click()
    assert "submitted for validation" in _message(page)
    focal.shoot("submitted")
    activity.refresh_from_db()
    assert activity.status == WorkflowStatus.SUBMITTED

    # The RC Office finds both in its inbox and returns the activity.
    officer = Person(chromium, base, world.rco.username)
    page = officer.page
    page.get_by_role("link", name=re.compile("My work")).first.click()
    assert "Safe schools for displaced children" in page.inner_text("main")
    officer.shoot("officer-inbox")
    page.get_by_role(
        "link", name="Safe schools for displaced children", exact=True
    ).click()
    steps = page.locator(".step-bar").first
    steps.get_by_text("Return with a comment…").click()
    steps.get_by_label("What needs to change").fill(
        "Say where the schools are: add the location."
    )
    officer.shoot("officer-returning")
    steps.get_by_role("button", name="Return to the agency").click()
    assert "returned to its agency" in _message(page)
    officer.shoot("officer-returned")
    activity.refresh_from_db()
    assert activity.status == WorkflowStatus.RETURNED

    # The focal point sees the comment, adds the location and submits again.
    page = focal.page
    page.goto(f"{base}/my-work/")
    assert "Say where the schools are" in page.inner_text("main")
    focal.shoot("focal-returned-inbox")
    page.get_by_role(
        "link", name="Safe schools for displaced children", exact=True
    ).click()
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label(world.region.name).check()
    page.get_by_role("button", name="Save changes").click()
    assert "changes are saved" in _message(page)
    assert "Location" in page.locator(".timeline").inner_text()
    page.locator(".step-bar").first.get_by_role(
        "button", name="Submit for validation"
    ).click()
    assert "submitted for validation" in _message(page)
    focal.shoot("resubmitted")

    # The RC Office validates the activity and the contribution.
    page = officer.page
    page.goto(f"{base}{activity.get_absolute_url()}")
    page.locator(".step-bar").first.get_by_role("button", name="Validate").click()
    assert "is validated" in _message(page)
    page.locator(f"#contribution-{contribution.pk}").get_by_role(
        "button", name="Validate"
    ).click()
    assert "figures are now in force" in _message(page)
    officer.shoot("validated")

    activity.refresh_from_db()
    contribution.refresh_from_db()
    assert activity.status == WorkflowStatus.VALIDATED
    assert contribution.validated_revision_id == contribution.current_revision_id
    assert list(activity.locations.all()) == [world.region]
    page.goto(f"{base}/my-work/")
    assert "Nothing awaits validation" in page.inner_text("main")
    focal.close()
    officer.close()
