"""Key pages pass axe-core with no serious or critical violation, and work with the
keyboard alone.

axe-core (MPL-2.0, vendored under tests/browser/vendor/axe-core) is injected into
each page after it loads. The keyboard checks press Tab and Enter only: sign in,
reach a dashboard drill-down and every field of the activity form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reporting.services import rebuild_team_rollups
from tests.browser.test_workflow import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    RESULTS,
    require_browser,
)
from tests.frameworks.joint_work_factories import build_world
from tests.reporting.test_dashboard import add_activity, add_contribution

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
# Enough presses to cross the header and navigation of any page here.
MAX_TABS = 120


@pytest.fixture
def world(settings):
    settings.DEMO_PASSWORD = PASSWORD
    world = build_world()
    for user in (world.rc, world.fp_undp):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    activity = add_activity(world, title="Safe spaces for women and girls")
    add_contribution(world, activity, world.undp, state="validated")
    rebuild_team_rollups(team_id=world.team.pk)
    return world


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


def new_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    return context.new_page()


def blocking_violations(page) -> list[str]:
    """Run axe on the page as it stands; describe serious and critical findings."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in result["violations"]
        if violation["impact"] in BLOCKING
    ]


def shoot(page, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"a11y-{name}.png"), full_page=True)


def tab_until(page, predicate: str) -> bool:
    """Press Tab until `predicate(document.activeElement)` holds."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => ({predicate})(document.activeElement)"):
            return True
    return False


def sign_in_with_keyboard(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    assert tab_until(page, "el => el.id === 'id_username'")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "id_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def test_login_page_passes_axe_and_signs_in_by_keyboard(live_server, world, chromium):
    page = new_page(chromium)
    page.goto(f"{live_server.url}/accounts/login/")

    assert blocking_violations(page) == []
    shoot(page, "login")
    sign_in_with_keyboard(page, live_server.url, world.rc.username)
    assert page.locator("h1").count() == 1


def test_my_work_passes_axe(live_server, world, chromium):
    page = new_page(chromium)
    sign_in_with_keyboard(page, live_server.url, world.fp_undp.username)
    page.goto(f"{live_server.url}/my-work/")

    assert blocking_violations(page) == []
    shoot(page, "my-work")


def test_dashboard_passes_axe_and_drills_down_by_keyboard(live_server, world, chromium):
    page = new_page(chromium)
    sign_in_with_keyboard(page, live_server.url, world.rc.username)
    page.goto(f"{live_server.url}/teams/SOM/dashboard/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every((canvas) => canvas.dataset.drawn === 'true')"
    )

    assert blocking_violations(page) == []
    shoot(page, "dashboard")

    outcome = world.output.outcome
    reached = tab_until(
        page,
        "el => el.closest && el.closest('table[data-table=outcomes]') !== null "
        f"&& el.textContent.includes({outcome.code!r})",
    )
    assert reached, "the outcome drill-down link cannot be reached with Tab"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"outcome={outcome.pk}"))


def test_activity_form_passes_axe_and_every_field_is_reachable(
    live_server, world, chromium
):
    page = new_page(chromium)
    sign_in_with_keyboard(page, live_server.url, world.fp_undp.username)
    page.goto(f"{live_server.url}/teams/SOM/activities/new/")

    assert blocking_violations(page) == []
    shoot(page, "activity-form")

    fields = page.evaluate(
        """() => [...document.querySelectorAll(
                'form.form input, form.form select, form.form textarea')]
            .filter((el) => el.type !== 'hidden' && !el.disabled
                && el.offsetParent !== null)
            .map((el) => el.id)"""
    )
    assert "id_title" in fields
    reached: set[str] = set()
    for _ in range(MAX_TABS * 2):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("() => document.activeElement.id"))
        if page.evaluate(
            "() => document.activeElement.matches('form.form button[type=submit]')"
        ):
            break
    # A group of radio buttons takes one Tab stop: its checked (or first) button.
    radio_groups = page.evaluate(
        """() => [...document.querySelectorAll('form.form input[type=radio]')]
            .map((el) => [el.id, el.name])"""
    )
    stops_by_group: dict[str, set[str]] = {}
    for element_id, name in radio_groups:
        stops_by_group.setdefault(name, set()).add(element_id)
    unreachable = [
        field
        for field in fields
        if field not in reached
        and not any(
            field in group and group & reached for group in stops_by_group.values()
        )
    ]
    assert unreachable == []


def test_the_check_reports_a_known_violation(chromium):
    """The check itself can fail: an unlabelled field and an image without alt."""
    page = new_page(chromium)
    page.set_content(
        '<!doctype html><html lang="en"><title>t</title><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text">'
        "</main></html>"
    )

    found = " ".join(blocking_violations(page))

    assert "image-alt (critical)" in found
    assert "label (critical)" in found
