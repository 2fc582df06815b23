"""The public open-data pages: anonymous, validated figures only, and gone
(404) when `UNPORTAL_OPEN_DATA` is off."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from coordination.models import TeamStatus
from reporting.models import ReportFile, ReportKind, ReportStatus
from tests.reporting.test_reports import (
    DRAFT,
    SUBMITTED,
    VALIDATED,
    Reported,
    ask,
    build_reported_world,
    grouped,
    has_words,
    media_root,  # noqa: F401  (autouse: files go to a temporary directory)
    needs_poppler,
    pdf_text,
    poppler,  # noqa: F401  (the fixture behind needs_poppler)
)

pytestmark = pytest.mark.django_db

TABLES = ["funding-by-outcome", "funding-by-agency", "funding-by-outcome-and-agency"]
HIDDEN = [*SUBMITTED.values(), *DRAFT.values()]


@pytest.fixture
def reported() -> Reported:
    return build_reported_world()


def page_url(year: int, code: str = "SOM") -> str:
    return reverse("open_data:annual_report", kwargs={"code": code, "year": year})


def table_url(year: int, table: str, extension: str, code: str = "SOM") -> str:
    return reverse(
        "open_data:table",
        kwargs={"code": code, "year": year, "table": table, "extension": extension},
    )


def pdf_url(report: ReportFile, code: str = "SOM") -> str:
    return reverse("open_data:report", kwargs={"code": code, "pk": report.pk})


def iati_url(code: str = "SOM") -> str:
    return reverse("open_data:iati", kwargs={"code": code})


def public_urls(reported: Reported, report: ReportFile | None = None) -> list[str]:
    year = reported.year
    urls = [
        reverse("open_data:index"),
        page_url(year),
        table_url(year, "funding-by-outcome", "csv"),
        table_url(year, "funding-by-agency", "xlsx"),
        iati_url(),
    ]
    if report:
        urls.append(pdf_url(report))
    return urls


# --- the switch -------------------------------------------------------------------


def test_everything_is_public_while_open_data_is_on(
    client, reported, settings, django_capture_on_commit_callbacks
):
    settings.UNPORTAL_OPEN_DATA = True
    report = ask(reported, django_capture_on_commit_callbacks)
    for url in public_urls(reported, report):
        assert client.get(url).status_code == 200, url


def test_switched_off_every_address_answers_not_found(
    client, reported, settings, django_capture_on_commit_callbacks
):
    report = ask(reported, django_capture_on_commit_callbacks)
    settings.UNPORTAL_OPEN_DATA = False
    client.force_login(reported.world.administrator)
    for url in public_urls(reported, report):
        assert client.get(url).status_code == 404, url


def test_public_pages_take_no_writes(client, reported):
    assert client.post(reverse("open_data:index")).status_code == 405
    assert client.post(page_url(reported.year)).status_code == 405


def test_the_members_own_iati_address_stays_for_members(client, reported):
    response = client.get(reverse("iati:team_activities", kwargs={"code": "SOM"}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- validated only ---------------------------------------------------------------


def test_index_lists_teams_with_their_validated_years(client, reported):
    html = client.get(reverse("open_data:index")).content.decode()
    assert "Somalia" in html
    assert page_url(reported.year) in html
    # A framework year without validated figures is not offered.
    assert page_url(reported.year + 1) not in html
    assert iati_url() in html
    # Nigeria has a framework but nothing validated: listed, with no year.
    assert "Nigeria" in html
    assert page_url(reported.year, "NGA") not in html


def test_a_year_with_only_submitted_figures_is_not_published(client, reported):
    world = reported.world
    assert client.get(page_url(world.year + 1)).status_code == 404
    assert (
        client.get(table_url(world.year + 1, "funding-by-outcome", "csv")).status_code
        == 404
    )


def test_report_page_shows_validated_figures_only(client, reported):
    html = client.get(page_url(reported.year)).content.decode()
    assert f'<dd data-figure="required">{grouped(VALIDATED["required"])}</dd>' in html
    for value in HIDDEN:
        assert grouped(value) not in html
    assert "Validated figures only" in html
    # Nothing on it leads into the portal's member pages.
    assert 'href="/teams/' not in html


@pytest.mark.parametrize("table", TABLES)
def test_csv_holds_validated_figures_only(client, reported, table):
    response = client.get(table_url(reported.year, table, "csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="unportal-som-{reported.year}-{table}.csv"'
    )
    text = response.content.decode("utf-8-sig")
    assert f"{VALIDATED['required']}.00" in text
    for value in HIDDEN:
        assert value not in text


def test_xlsx_holds_the_validated_figures_and_says_what_they_are(client, reported):
    response = client.get(
        table_url(reported.year, "funding-by-outcome-and-agency", "xlsx")
    )
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Outcome", "Statement", "Agency", "Required (USD)")
    by_agency = {row[2]: row for row in rows[1:]}
    assert by_agency["UNDP"][3] == float(Decimal(VALIDATED["required"]))
    assert "UNICEF" not in by_agency
    about = dict(workbook.worksheets[1].iter_rows(values_only=True))
    assert about["Figures"] == "Validated figures only"
    assert about["Country team"] == "Somalia (SOM)"


def test_iati_file_holds_no_submitted_or_draft_money(client, reported):
    response = client.get(iati_url())
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    xml = response.content.decode()
    assert "<iati-activities" in xml
    for value in HIDDEN:
        assert value not in xml


def test_unknown_tables_and_formats_are_not_found(client, reported):
    year = reported.year
    assert client.get(table_url(year, "salaries", "csv")).status_code == 404
    assert client.get(table_url(year, "funding-by-outcome", "pdf")).status_code == 404


# --- report PDFs ------------------------------------------------------------------


@needs_poppler
def test_finished_report_pdf_is_public_and_holds_validated_figures(
    client, reported, django_capture_on_commit_callbacks
):
    report = ask(reported, django_capture_on_commit_callbacks)
    html = client.get(page_url(reported.year)).content.decode()
    assert pdf_url(report) in html
    response = client.get(pdf_url(report))
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    text = pdf_text(report)
    assert has_words(text, grouped(VALIDATED["required"]))
    for value in HIDDEN:
        assert grouped(value) not in text


@pytest.mark.parametrize("status", [ReportStatus.QUEUED, ReportStatus.FAILED])
def test_unfinished_reports_are_not_public(client, reported, status):
    report = ReportFile.objects.create(
        kind=ReportKind.ANNUAL_RESULTS,
        country_team=reported.world.team,
        year=reported.year,
        status=status,
    )
    assert client.get(pdf_url(report)).status_code == 404


def test_board_summaries_are_not_published_here(client, reported):
    summary = ReportFile.objects.create(
        kind=ReportKind.BOARD_SUMMARY,
        year=reported.year,
        status=ReportStatus.DONE,
        file="reports/board_summary/x.pdf",
    )
    assert client.get(pdf_url(summary)).status_code == 404


def test_a_report_is_public_only_under_its_own_team(
    client, reported, django_capture_on_commit_callbacks
):
    report = ask(reported, django_capture_on_commit_callbacks)
    assert client.get(pdf_url(report, "NGA")).status_code == 404


def test_a_team_that_stopped_operating_publishes_nothing(
    client, reported, django_capture_on_commit_callbacks
):
    report = ask(reported, django_capture_on_commit_callbacks)
    team = reported.world.team
    team.status = TeamStatus.INACTIVE
    team.save(update_fields=["status"])
    assert "Somalia" not in client.get(reverse("open_data:index")).content.decode()
    for url in public_urls(reported, report)[1:]:
        assert client.get(url).status_code == 404, url


# --- query count ------------------------------------------------------------------


@pytest.mark.parametrize("extra_teams", [0, 5])
def test_index_queries_do_not_grow_with_teams(
    client, reported, extra_teams, django_assert_max_num_queries
):
    from tests.frameworks.factories import FrameworkFactory

    for _ in range(extra_teams):
        FrameworkFactory()
    # Teams, frameworks, funded years, measured years, finished reports.
    with django_assert_max_num_queries(5):
        assert client.get(reverse("open_data:index")).status_code == 200
