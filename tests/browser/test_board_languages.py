"""A board member reads the summary in Chinese and in Arabic and downloads its PDF.

The language is switched from the user menu, as a person would; it is saved on
the account, so a later sign-in in a fresh browser opens in the same language.
Arabic pages run right to left. The summary PDF is built by the report job and
downloaded; its text is read back with pdftotext and its first page rendered to
test-results/board-summary-ar-1.png for a look.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.browser.test_board import SUMMARY_CHARTS, Viewer, wait_for_charts
from tests.browser.test_workflow import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    RESULTS,
    require_browser,
)
from tests.conftest import service_missing
from tests.reporting.test_board_selectors import build_board

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    expect = sync_playwright = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CATALOGS = Path(settings.BASE_DIR) / "locale"


def translated(locale: str, text: str) -> str:
    entry = polib.pofile(str(CATALOGS / locale / "LC_MESSAGES" / "django.po")).find(
        text
    )
    assert entry is not None, text
    assert entry.msgstr, f"{text!r} has no {locale} translation"
    return entry.msgstr


@pytest.fixture
def board(settings):
    settings.DEMO_PASSWORD = PASSWORD
    board = build_board()
    board.world.board_member.set_password(PASSWORD)
    board.world.board_member.save(update_fields=["password"])
    return board


@pytest.fixture
def chromium(monkeypatch):
    require_browser()
    for tool in ("pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            service_missing(f"{tool} is not installed", "apt-get install poppler-utils")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def choose_language(page, code: str) -> None:
    page.locator("summary.user-menu__toggle").click()
    page.locator("#menu-language").select_option(code)
    page.locator("form.user-menu__language button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", code)


def test_board_member_reads_in_chinese_and_arabic_and_downloads_the_pdf(
    live_server, board, chromium
):
    base, year = live_server.url, board.year
    member = Viewer(chromium, base, board.world.board_member.username)
    page = member.page

    # Chinese: the navigation and the summary speak it, the charts still draw.
    choose_language(page, "zh-hans")
    page.goto(f"{base}/board/?year={year}")
    wait_for_charts(page, SUMMARY_CHARTS)
    nav = page.locator("nav.main-nav")
    expect(nav).to_contain_text(translated("zh_Hans", "Executive board"))
    expect(nav).not_to_contain_text("Executive board")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    member.shoot("summary-zh")

    # Arabic: right to left, down to the computed layout.
    choose_language(page, "ar")
    page.goto(f"{base}/board/?year={year}")
    wait_for_charts(page, SUMMARY_CHARTS)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    expect(page.locator("nav.main-nav")).to_contain_text(
        translated("ar", "Executive board")
    )
    member.shoot("summary-ar")

    # The summary as a PDF, built by the report job, then downloaded.
    page.goto(f"{base}/reports/board-summaries/?year={year}")
    page.locator("#summary-year-from").select_option(str(year))
    page.locator("#summary-year-to").select_option(str(year))
    page.locator("form.report-request button[type=submit]").click()
    page.wait_for_url(re.compile(r"/reports/board-summaries/#report-\d+$"))
    link = page.locator("a[download]", has_text=translated("ar", "Download PDF"))
    expect(link).to_have_count(1)
    member.shoot("summary-pdf-ready-ar")
    with page.expect_download() as download_info:
        link.click()
    RESULTS.mkdir(exist_ok=True)
    pdf = RESULTS / "board-summary-ar.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Validated money required across teams: 120,000 + 40,000 (Somalia) and
    # 200,000 (Nigeria); the WFP draft's 7,777 never appears. Digits are read
    # without the language's group separators.
    digits = re.sub(r"[,.\s\u066b\u066c\u00a0\u202f]", "", text)
    assert "360000" in digits
    assert "7777" not in digits
    assert re.search(r"[\u0600-\u06ff]", text), "the PDF holds no Arabic text"
    first_page = ["-png", "-r", "60", "-f", "1", "-l", "1"]
    subprocess.run(
        ["pdftoppm", *first_page, str(pdf), str(RESULTS / "board-summary-ar")],
        check=True,
    )
    assert member.problems == []
    member.close()

    # The choice was saved on the account: a fresh browser signs in in Arabic.
    again = Viewer(chromium, base, board.world.board_member.username)
    expect(again.page.locator("html")).to_have_attribute("lang", "ar")
    again.close()
