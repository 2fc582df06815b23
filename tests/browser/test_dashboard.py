"""The resident coordinator's dashboard in a real browser.

The RC opens the dashboard: every chart is drawn, the console stays clean, the
basis toggle works and an outcome drills down to its outputs and on to the
activity list. Meanwhile the RC Office validates a submitted contribution in a
second browser session; back in the RC's tab a reload shows the new figures.
Screenshots go to test-results/.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connections

from frameworks.models import Contribution
from frameworks.services import (
    record_measurement,
    submit_measurement,
    validate_measurement,
)
from reporting.services import rebuild_team_rollups
from tests.browser.test_workflow import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    RESULTS,
    require_browser,
)
from tests.frameworks.joint_work_factories import build_world, measurement_data
from tests.reporting.test_dashboard import add_activity, add_contribution

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    expect = sync_playwright = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = (
    "gap",
    "funding_by_agency",
    "outputs_by_agency",
    "progress",
    "sdg_goals",
    "areas",
)


@pytest.fixture
def world(settings):
    settings.DEMO_PASSWORD = PASSWORD
    world = build_world()
    for user in (world.rc, world.rco):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    activity = add_activity(world, title="Safe spaces for women and girls")
    add_contribution(world, activity, world.undp, state="validated")
    add_contribution(
        world,
        activity,
        world.unicef,
        state="submitted",
        required=60000,
        available=30000,
        spent=10000,
    )
    measurement = record_measurement(
        actor=None,
        indicator=world.number_indicator,
        agency=None,
        data=measurement_data(world),
    )
    submit_measurement(actor=None, measurement=measurement)
    validate_measurement(actor=None, measurement=measurement)
    rebuild_team_rollups(team_id=world.team.pk)
    return world


class Session:
    """One person's browser context, recording console errors and failed
    requests, and saving numbered screenshots."""

    counter = 0

    def __init__(self, browser, base_url: str, username: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.problems.append(f"console {message.text}")
                if message.type == "error"
                else None
            ),
        )
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on(
            "response",
            lambda response: (
                self.problems.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
        self.page.goto(f"{base_url}/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.locator("form.form button[type=submit]").click()
        self.page.wait_for_url(f"{base_url}/")

    def shoot(self, name: str) -> None:
        Session.counter += 1
        RESULTS.mkdir(exist_ok=True)
        self.page.screenshot(
            path=str(RESULTS / f"dashboard-{Session.counter:02d}-{name}.png"),
            full_page=True,
        )

    def close(self) -> None:
        self.context.close()


def wait_for_charts(page) -> None:
    """Every chart canvas is drawn, and has coloured pixels in it."""
    page.wait_for_function(
        """() => {
            const canvases = [...document.querySelectorAll("canvas[data-chart]")];
            return canvases.length > 0
                && canvases.every((canvas) => canvas.dataset.drawn === "true");
        }"""
    )
    # Chart.js animates the first draw; wait until the bars have grown.
    page.wait_for_timeout(600)
    painted = page.evaluate(
        """() => [...document.querySelectorAll("canvas[data-chart]")].map((canvas) => {
            const { data } = canvas.getContext("2d").getImageData(
                0, 0, canvas.width, canvas.height);
            let coloured = 0;
            for (let i = 0; i < data.length; i += 4) {
                const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
                if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
            }
            return [canvas.dataset.source, canvas.width, coloured];
        })"""
    )
    assert sorted(source for source, _width, _coloured in painted) == sorted(
        f"chart-{name}-data" for name in CHARTS
    )
    for source, width, coloured in painted:
        assert width > 300, source
        assert coloured > 200, f"{source} has no coloured bars"


def tile(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').inner_text()


def test_rc_dashboard_charts_drill_down_and_a_validation_elsewhere(
    live_server, world, monkeypatch
):
    require_browser()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            run_dashboard(browser, live_server.url, world)
        finally:
            browser.close()
            # The ORM calls made here opened a connection the live server's
            # teardown cannot see; left open, it blocks dropping the test database.
            connections.close_all()


def run_dashboard(chromium, base: str, world) -> None:
    year = world.year
    rc = Session(chromium, base, world.rc.username)
    page = rc.page

    # From the team page to its dashboard.
    page.goto(f"{base}/teams/SOM/")
    page.locator("a.team-link--dashboard").click()
    page.wait_for_url(re.compile(r"/teams/SOM/dashboard/$"))
    assert page.locator("h1").inner_text() == f"Collective results {year}"
    wait_for_charts(page)
    assert tile(page, "required") == "100,000"
    assert tile(page, "available") == "80,000"
    assert page.locator(".dash-as-of time").count() == 1
    rc.shoot("validated")

    # Including submitted figures: the toggle applies at once.
    page.locator("label[for=dash-basis-submitted]").click()
    page.wait_for_url(re.compile(r"basis=submitted"))
    wait_for_charts(page)
    assert tile(page, "required") == "160,000"
    rc.shoot("including-submitted")
    page.locator("label[for=dash-basis-validated]").click()
    page.wait_for_url(re.compile(r"basis=validated"))
    wait_for_charts(page)

    # Outcome -> its outputs -> the activity list of an output and year.
    outcome = world.output.outcome
    page.locator("table[data-table=outcomes] tbody th a", has_text=outcome.code).click()
    page.wait_for_url(re.compile(rf"outcome={outcome.pk}"))
    outputs = page.locator("table[data-table=outputs]")
    expect(page.locator("#outputs-heading")).to_have_text(
        f"Outputs of outcome {outcome.code}"
    )
    assert outputs.locator("tbody tr").count() == 2
    wait_for_charts(page)
    rc.shoot("drill-down-outputs")
    outputs.locator("tbody th a", has_text=world.output.code).click()
    page.wait_for_url(re.compile(r"/teams/SOM/activities/\?"))
    query = parse_qs(urlparse(page.url).query)
    assert query == {"output": [str(world.output.pk)], "year": [str(year)]}
    expect(
        page.get_by_role("link", name="Safe spaces for women and girls")
    ).to_be_visible()
    rc.shoot("drill-down-activities")

    # The RC Office validates UNICEF's submitted contribution in another tab.
    page.goto(f"{base}/teams/SOM/dashboard/?year={year}")
    wait_for_charts(page)
    contribution = Contribution.objects.get(agency=world.unicef)
    officer = Session(chromium, base, world.rco.username)
    officer.page.goto(f"{base}{contribution.activity.get_absolute_url()}")
    officer.page.locator(f"#contribution-{contribution.pk}").get_by_role(
        "button", name="Validate"
    ).click()
    assert "figures are now in force" in officer.page.locator(".messages").inner_text()
    officer.shoot("officer-validated")

    # Back in the RC's tab, a reload shows the figure once the rollup is in.
    page.reload()
    wait_for_charts(page)
    assert tile(page, "required") == "160,000"
    assert tile(page, "available") == "110,000"
    matrix = page.locator("table[data-table=agencies] tbody").inner_text()
    assert "UNICEF" in matrix
    rc.shoot("after-validation")

    # The RC Office rebuilds the team's figures from the dashboard.
    officer.page.goto(f"{base}/teams/SOM/dashboard/?year={year}")
    wait_for_charts(officer.page)
    officer.page.get_by_role("button", name="Rebuild figures").click()
    expect(officer.page.locator(".messages")).to_contain_text(
        "The figures are rebuilt."
    )
    wait_for_charts(officer.page)
    officer.shoot("officer-rebuilt")

    assert rc.problems == []
    assert officer.problems == []
    rc.close()
    officer.close()
