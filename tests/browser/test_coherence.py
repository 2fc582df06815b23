"""The coherence scorecard in a real browser.

The RC goes from the dashboard to the team's coherence page: the scorecard, its
trend and the delivery chart are drawn, the RC dismisses one of two overlap
alerts (the list updates in place and the decision survives a recompute),
looks at the collaboration network and switches to submitted figures. A board
member compares the countries. The console stays clean throughout; screenshots
go to test-results/.
"""

from __future__ import annotations

import re

import pytest

from reporting.models.coherence import OverlapDecision
from reporting.services import rebuild_team_rollups
from tests.browser.test_dashboard import Session
from tests.browser.test_workflow import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    RESULTS,
    require_browser,
)
from tests.frameworks.joint_work_factories import build_world
from tests.reporting.test_coherence import give, mixed, work
from tests.reporting.test_coherence_overlaps import FOOD, SCREENING

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    expect = sync_playwright = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings):
    settings.DEMO_PASSWORD = PASSWORD
    world = build_world()
    for user in (world.rc, world.board_member):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    mixed(world)
    # Two pairs of look-alike activities of UNDP and UNICEF in Banaadir.
    food = work(world, title=FOOD)
    work(world, title=SCREENING, agency=world.unicef)
    work(world, title="Cash transfers in Bay")
    work(world, title="Cash transfers in Bay region", agency=world.unicef)
    give(world, food, world.undp, 10)
    rebuild_team_rollups(team_id=world.team.pk)
    return world


class CoherenceSession(Session):
    counter = 0

    def shoot(self, name: str) -> None:
        CoherenceSession.counter += 1
        RESULTS.mkdir(exist_ok=True)
        self.page.screenshot(
            path=str(RESULTS / f"coherence-{CoherenceSession.counter:02d}-{name}.png"),
            full_page=True,
        )

    def shoot_section(self, selector: str, name: str) -> None:
        CoherenceSession.counter += 1
        RESULTS.mkdir(exist_ok=True)
        self.page.locator(selector).screenshot(
            path=str(RESULTS / f"coherence-{CoherenceSession.counter:02d}-{name}.png")
        )


def wait_for_drawings(page) -> None:
    """Every chart canvas and the network graph (when there is one) are drawn."""
    page.wait_for_function(
        """() => {
            const drawn = (element) => element.dataset.drawn === "true";
            const canvases = [...document.querySelectorAll("canvas[data-chart]")];
            const graphs = [...document.querySelectorAll("[data-network]")];
            return canvases.length > 0 && canvases.every(drawn)
                && graphs.every(drawn);
        }"""
    )
    page.wait_for_timeout(500)


def test_rc_walks_through_scorecard_alerts_and_network(live_server, world, monkeypatch):
    require_browser()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            run_coherence(browser, live_server.url, world)
        finally:
            browser.close()


def run_coherence(chromium, base: str, world) -> None:
    rc = CoherenceSession(chromium, base, world.rc.username)
    page = rc.page

    # From the dashboard's coherence tiles to the coherence page.
    page.goto(f"{base}/teams/SOM/dashboard/?year={world.year}")
    expect(page.locator('[data-figure="open-alerts"]')).to_have_text("2")
    page.get_by_role("link", name="Open the coherence scorecard").click()
    page.wait_for_url(re.compile(r"/teams/SOM/coherence/\?year="))
    expect(page.locator("h1")).to_have_text(f"Working as one UN {world.year}")
    wait_for_drawings(page)
    # 80 of 110 spent jointly, 100 %, 100 %, 1 of 3 values complete and 80 of
    # 90 common-chapter money: (72.7 + 100 + 100 + 33.3 + 88.9) / 5 = 79.
    assert page.locator('[data-figure="score"]').inner_text() == "79/100"
    joint = page.locator('[data-part="joint_delivery"] .coh-part__value')
    assert joint.inner_text() == "73\u00a0%"
    expect(page.get_by_text("The coherence score is the average")).to_be_visible()
    rc.shoot("scorecard")
    rc.shoot_section("#scorecard", "scorecard-section")

    # Two alerts; the RC dismisses the first with a comment, in place.
    alerts = page.locator("#coherence-alerts")
    expect(alerts.locator("h3").first).to_have_text("2 alerts to review")
    first = alerts.locator("li.coh-alert").first
    pair = first.locator(".coh-alert__pair").inner_text()
    first.get_by_label("Comment (optional)").fill("Two phases of one plan.")
    rc.shoot_section("#alerts", "alerts-before")
    first.get_by_role("button", name="Dismiss").click()
    expect(alerts.locator("h3").first).to_have_text("1 alert to review")
    expect(page.locator("#coherence-alerts details summary")).to_have_text(
        "1 alert decided"
    )
    assert pair not in page.locator("li.coh-alert").first.inner_text()
    page.locator("#coherence-alerts details summary").click()
    expect(page.locator("table[data-table=decided-alerts]")).to_contain_text(
        "Two phases of one plan."
    )
    rc.shoot_section("#alerts", "alerts-after-dismissal")
    decision = OverlapDecision.objects.get()
    assert (decision.status, decision.decided_by) == ("dismissed", world.rc)

    # The decision survives a recompute of the team's figures.
    rebuild_team_rollups(team_id=world.team.pk)
    page.reload()
    wait_for_drawings(page)
    expect(page.locator("#coherence-alerts h3").first).to_have_text("1 alert to review")

    # The collaboration network beside its table.
    page.locator("a[href='#network']").click()
    graph = page.locator("[data-network]")
    expect(graph).to_have_attribute("data-drawn", "true")
    expect(graph).to_have_attribute("data-nodes", "2")
    expect(graph).to_have_attribute("data-links", "1")
    links = page.locator("table[data-table=network] tbody tr")
    assert links.count() == 1
    assert links.first.inner_text().split()[:2] == ["UNDP", "UNICEF"]
    rc.shoot_section("#network", "network")

    # Including submitted figures: WFP joins the delivery chart.
    page.locator("label[for=coh-basis-submitted]").click()
    page.wait_for_url(re.compile(r"basis=submitted"))
    wait_for_drawings(page)
    expect(page.locator("table[data-table=delivery] tbody")).to_contain_text("WFP")
    rc.shoot("including-submitted")

    # A board member compares the countries, validated figures only.
    board = CoherenceSession(chromium, base, world.board_member.username)
    board.page.goto(f"{base}/board/coherence/")
    wait_for_drawings(board.page)
    countries = board.page.locator("table[data-table=countries] tbody tr")
    assert countries.first.inner_text().startswith("Somalia")
    board.shoot("board")

    assert rc.problems == []
    assert board.problems == []
    rc.close()
    board.close()
