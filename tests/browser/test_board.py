"""The executive board's pages in a real browser.

A board member opens the global summary: every chart is drawn and the console
stays clean. A change of filters lands in the URL; the world map draws the
country teams from the vendored atlas; a team's name leads to the board's page
of that team. An administrator, who may open team pages, goes on from there to
the team's own dashboard. Screenshots go to test-results/.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.test_workflow import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    RESULTS,
    require_browser,
)
from tests.reporting.test_board_selectors import build_board

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    expect = sync_playwright = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUMMARY_CHARTS = ("trend", "team_gaps", "agencies", "goals", "areas")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


@pytest.fixture
def board(settings):
    settings.DEMO_PASSWORD = PASSWORD
    board = build_board()
    for user in (board.world.board_member, board.world.administrator):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return board


class Viewer:
    """One person's browser context: records console errors, page errors and
    failed requests, and saves numbered screenshots."""

    counter = 0

    def __init__(self, browser, base_url: str, username: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
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
        Viewer.counter += 1
        RESULTS.mkdir(exist_ok=True)
        self.page.screenshot(
            path=str(RESULTS / f"board-{Viewer.counter:02d}-{name}.png"),
            full_page=True,
        )

    def close(self) -> None:
        self.context.close()


def wait_for_charts(page, expected: tuple[str, ...]) -> None:
    """The expected charts are drawn, and have coloured pixels in them."""
    page.wait_for_function(
        """() => {
            const canvases = [...document.querySelectorAll("canvas[data-board-chart]")];
            return canvases.length > 0
                && canvases.every((canvas) => canvas.dataset.drawn === "true");
        }"""
    )
    # Chart.js animates the first draw; wait until the bars have grown.
    page.wait_for_timeout(600)
    painted = page.evaluate(
        """() => [...document.querySelectorAll("canvas[data-board-chart]")].map((c) => {
            const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
            let coloured = 0;
            for (let i = 0; i < data.length; i += 4) {
                const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
                if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
            }
            return [c.dataset.source, c.width, coloured];
        })"""
    )
    assert sorted(source for source, _width, _coloured in painted) == sorted(
        f"chart-{name}-data" for name in expected
    )
    for source, width, coloured in painted:
        assert width > 300, source
        assert coloured > 100, f"{source} has nothing coloured"


@pytest.fixture
def chromium(monkeypatch):
    require_browser()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def test_board_member_reads_filters_maps_and_drills_down(live_server, board, chromium):
    base, year = live_server.url, board.year
    member = Viewer(chromium, base, board.world.board_member.username)
    page = member.page

    page.goto(f"{base}/board/?year={year}")
    expect(page.locator("h1")).to_have_text(f"Collective results {year}")
    wait_for_charts(page, SUMMARY_CHARTS)
    assert page.locator('[data-figure="required"]').inner_text() == "360,000"
    member.shoot("summary")

    # A region narrows every figure, and the choice is in the URL.
    page.select_option("#id_region", "africa")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"region=africa"))
    query = parse_qs(urlparse(page.url).query)
    assert query["region"] == ["africa"]
    assert query["year_from"] == query["year_to"] == [str(year)]
    assert page.locator('[data-figure="required"]').inner_text() == "200,000"
    teams = page.locator("table[data-table=teams] tbody th")
    expect(teams).to_have_count(1)
    wait_for_charts(page, SUMMARY_CHARTS)
    member.shoot("summary-africa")

    # The map keeps the filters and colours Nigeria by the chosen measure.
    page.get_by_role("link", name="World map").click()
    page.wait_for_url(re.compile(r"/board/map/\?.*region=africa"))
    page.select_option("#id_measure", "spent")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"measure=spent"))
    wait_for_charts(page, ("map",))
    expect(page.locator("table[data-table=map] tbody tr")).to_have_count(1)
    member.shoot("map")

    # Back to all regions; a team's name leads to its board page.
    page.goto(f"{base}/board/?year={year}")
    page.locator("table[data-table=teams] tbody th a", has_text="Somalia").click()
    page.wait_for_url(re.compile(rf"/board/teams/SOM/\?year={year}$"))
    expect(page.locator("h1")).to_have_text(f"Somalia: collective results {year}")
    assert page.locator('[data-figure="required"]').inner_text() == "160,000"
    wait_for_charts(page, ("outcomes",))
    expect(
        page.get_by_text("The team's own pages are open to its members.")
    ).to_be_visible()
    member.shoot("team")

    # The common chapter page draws the signatories' delivery.
    page.get_by_role("link", name="Common chapter").click()
    page.wait_for_url(re.compile(r"/board/common-chapter/"))
    wait_for_charts(page, ("signatories",))
    member.shoot("common-chapter")

    assert member.problems == []
    member.close()

    # An administrator may open the team's own pages: on to its dashboard.
    admin = Viewer(chromium, base, board.world.administrator.username)
    admin.page.goto(f"{base}/board/teams/SOM/?year={year}")
    admin.page.get_by_role("link", name="Open the team's dashboard").click()
    admin.page.wait_for_url(re.compile(r"/teams/SOM/dashboard/\?"))
    assert parse_qs(urlparse(admin.page.url).query) == {
        "year": [str(year)],
        "basis": ["validated"],
    }
    expect(admin.page.locator("h1")).to_have_text(f"Collective results {year}")
    assert admin.page.locator('[data-figure="required"]').inner_text() == "160,000"
    admin.shoot("admin-team-dashboard")
    assert admin.problems == []
    admin.close()


def test_board_pages_have_no_serious_accessibility_violations(
    live_server, board, chromium
):
    base, year = live_server.url, board.year
    member = Viewer(chromium, base, board.world.board_member.username)
    page = member.page
    for path, charts in (
        (f"/board/?year={year}", SUMMARY_CHARTS),
        (f"/board/map/?year={year}", ("map",)),
        (f"/board/common-chapter/?year={year}", ("signatories",)),
        (f"/board/teams/SOM/?year={year}", ("outcomes",)),
        ("/board/?year=abc", ()),
    ):
        if not charts:
            # Only the refused filters may fail to load from here on.
            assert member.problems == []
        page.goto(f"{base}{path}")
        if charts:
            wait_for_charts(page, charts)
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']}))"
            ".violations.filter((v) => ['serious', 'critical'].includes(v.impact))"
            ".map((v) => v.id + ': ' + v.nodes.map((n) => n.target).join(' '))"
        )
        assert violations == [], (path, violations)
    member.close()
