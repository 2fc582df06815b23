"""Sign in as each demo user and save full-page screenshots of their pages.

Not a test (pytest collects only test_*.py): a tool for looking at the portal.
Against a running server with demo data (`manage.py seed_demo`):

    .venv/bin/python tests/browser/screenshots.py --base-url http://127.0.0.1:8011

Pages are found by following links, as a person would: the first team on
/teams/, that team's first framework, indicator and joint programme, its joint
activities and the first one's forms, and the user's own work.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import urljoin

from playwright.sync_api import Page, sync_playwright

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
DEMO_USERS = [
    "rc.somalia",
    "rco.somalia",
    "unicef.somalia",
    "wfp.somalia",
    "rc.dominican-republic",
    "fao.focal",
    "board",
    "admin",
]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def shoot(page: Page, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"{path}  ({page.url})")  # noqa: T201


def first_href(page: Page, selector: str) -> str | None:
    link = page.locator(selector).first
    return link.get_attribute("href") if link.count() else None


def sign_in(page: Page, base_url: str, username: str, password: str) -> bool:
    page.goto(urljoin(base_url, "/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    return "/accounts/login/" not in page.url


def visit_as(page: Page, base_url: str, out: Path, username: str) -> None:
    prefix = slug(username)
    shoot(page, out, f"{prefix}-home")
    page.goto(urljoin(base_url, "/teams/"))
    shoot(page, out, f"{prefix}-teams")
    team = first_href(page, ".team-card .card__title a")
    if team:
        page.goto(urljoin(base_url, team))
        shoot(page, out, f"{prefix}-team")
        framework = first_href(page, "a.framework-item__title")
        programmes = first_href(page, "a[href$='/programmes/']")
        activities = first_href(page, "a.team-link[href$='/activities/']")
        log_activity = first_href(page, "a.team-link[href$='/activities/new/']")
        if framework:
            page.goto(urljoin(base_url, framework))
            shoot(page, out, f"{prefix}-framework")
            indicator = first_href(page, "a.code[href*='/indicators/']")
            if indicator:
                page.goto(urljoin(base_url, indicator))
                shoot(page, out, f"{prefix}-indicator")
        if activities:
            visit_joint_work(page, base_url, out, prefix, activities)
        if log_activity:
            page.goto(urljoin(base_url, log_activity))
            shoot(page, out, f"{prefix}-activity-new")
        if programmes:
            page.goto(urljoin(base_url, programmes))
            shoot(page, out, f"{prefix}-programmes")
            programme = first_href(page, "table a[href*='/programmes/']")
            if programme:
                page.goto(urljoin(base_url, programme))
                shoot(page, out, f"{prefix}-programme")
    page.goto(urljoin(base_url, "/my-work/"))
    shoot(page, out, f"{prefix}-my-work")
    page.goto(urljoin(base_url, "/me/"))
    shoot(page, out, f"{prefix}-profile")


def visit_joint_work(
    page: Page, base_url: str, out: Path, prefix: str, url: str
) -> None:
    """The activity list, filtered by the first status offered, and an activity
    with whatever its steps lead to (editing it, adding a contribution)."""
    page.goto(urljoin(base_url, url))
    shoot(page, out, f"{prefix}-activities")
    status = page.locator("#filter-status option").nth(2)
    if status.count():
        page.select_option("#filter-status", status.get_attribute("value"))
        page.wait_for_load_state("networkidle")
        shoot(page, out, f"{prefix}-activities-filtered")
        page.goto(urljoin(base_url, url))
    activity = first_href(page, "a.row-title")
    if not activity:
        return
    page.goto(urljoin(base_url, activity))
    shoot(page, out, f"{prefix}-activity")
    edit = first_href(page, ".step-bar a[href$='/edit/']")
    add = first_href(page, "a[href$='/contributions/new/']")
    figures = first_href(page, "a[href*='/contributions/'][href$='/edit/']")
    for name, href in (
        ("activity-edit", edit),
        ("contribution-new", add),
        ("contribution-edit", figures),
    ):
        if href:
            page.goto(urljoin(base_url, href))
            shoot(page, out, f"{prefix}-{name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8011")
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "shots"
    )
    parser.add_argument("--users", nargs="*", default=DEMO_USERS)
    parser.add_argument(
        "--password",
        default=os.environ.get("UNPORTAL_DEMO_PASSWORD", "unportal-demo-2026"),
    )
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument(
        "--mobile", action="store_true", help="also shoot the home page at 390 px"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        anonymous = browser.new_page(viewport={"width": args.width, "height": 800})
        anonymous.goto(urljoin(args.base_url, "/accounts/login/"))
        shoot(anonymous, args.out, "login")
        anonymous.close()

        for username in args.users:
            context = browser.new_context(viewport={"width": args.width, "height": 800})
            page = context.new_page()
            if not sign_in(page, args.base_url, username, args.password):
                shoot(page, args.out, f"{slug(username)}-login-failed")
                context.close()
                continue
            visit_as(page, args.base_url, args.out, username)
            if username == args.users[0]:
                page.goto(urljoin(args.base_url, "/sdg/"))
                shoot(page, args.out, "sdg")
                page.goto(urljoin(args.base_url, "/teams/XXX/"))
                shoot(page, args.out, "not-found")
            if args.mobile:
                page.set_viewport_size({"width": 390, "height": 844})
                page.goto(args.base_url)
                shoot(page, args.out, f"{slug(username)}-home-mobile")
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
