"""The executive board summary PDF: the board page's figures for the same
filters, validated only, asked for and read by board members."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reporting.board_filters import BoardFilters
from reporting.board_selectors import board_summary
from reporting.models import ReportFile, ReportKind, ReportStatus
from reporting.report_services import build_report
from tests.reporting.test_reports import (
    DRAFT,
    SUBMITTED,
    VALIDATED,
    Reported,
    build_reported_world,
    grouped,
    has_words,
    media_root,  # noqa: F401  (autouse: files go to a temporary directory)
    needs_poppler,
    pdf_text,
    poppler,  # noqa: F401  (the fixture behind needs_poppler)
    stored_report,
)

pytestmark = pytest.mark.django_db

BOARD = ["board_member", "administrator"]
OTHERS = ["rc", "rco", "fp_undp", "outsider"]


@pytest.fixture
def reported() -> Reported:
    return build_reported_world()


def list_url() -> str:
    return reverse("reports:board_summaries")


def request_url() -> str:
    return reverse("reports:board_summary_request")


def file_url(report: ReportFile, name: str = "board_download") -> str:
    return reverse(f"reports:{name}", kwargs={"pk": report.pk})


def ask(client, reported, who, data, django_capture_on_commit_callbacks):
    client.force_login(getattr(reported.world, who))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(request_url(), data)
    return response


@pytest.fixture
def summary_pdf(client, reported, django_capture_on_commit_callbacks) -> ReportFile:
    ask(
        client,
        reported,
        "board_member",
        {"year": reported.year},
        django_capture_on_commit_callbacks,
    )
    return ReportFile.objects.get(kind=ReportKind.BOARD_SUMMARY)


# --- who may ----------------------------------------------------------------------


@pytest.mark.parametrize("who", [*BOARD, *OTHERS, None])
def test_board_summaries_are_for_the_board(client, reported, who):
    summary_pdf = stored_report(kind=ReportKind.BOARD_SUMMARY, year=reported.year)
    if who:
        client.force_login(getattr(reported.world, who))
    for url in (
        list_url(),
        file_url(summary_pdf),
        file_url(summary_pdf, "board_progress"),
    ):
        response = client.get(url)
        if who is None:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
        else:
            assert response.status_code == (200 if who in BOARD else 403), (who, url)


@pytest.mark.parametrize("who", [*OTHERS, None])
def test_only_the_board_asks_for_a_summary(
    client, reported, who, django_capture_on_commit_callbacks
):
    if who:
        client.force_login(getattr(reported.world, who))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(request_url(), {"year": reported.year})
    assert response.status_code == (302 if who is None else 403)
    assert not ReportFile.objects.exists()


def test_a_team_report_is_not_downloadable_as_a_board_summary(client, reported):
    team_report = ReportFile.objects.create(
        kind=ReportKind.ANNUAL_RESULTS,
        country_team=reported.world.team,
        year=reported.year,
        status=ReportStatus.DONE,
    )
    client.force_login(reported.world.board_member)
    assert client.get(file_url(team_report)).status_code == 404


def test_board_members_find_every_teams_annual_reports(client, reported):
    client.force_login(reported.world.board_member)
    html = client.get(list_url()).content.decode()
    for code in ("SOM", "NGA"):
        assert reverse("reports:team_reports", kwargs={"code": code}) in html


# --- the figures ------------------------------------------------------------------


@needs_poppler
def test_summary_pdf_holds_the_board_pages_figures_validated_only(
    reported, summary_pdf
):
    assert summary_pdf.status == ReportStatus.DONE
    assert summary_pdf.country_team is None
    assert (summary_pdf.year, summary_pdf.year_to) == (reported.year, None)
    assert summary_pdf.progress_done == summary_pdf.progress_total == 6
    text = pdf_text(summary_pdf)
    assert f"Executive board summary {reported.year}" in text
    # The board page reads board_summary() for the same filters.
    page = board_summary(BoardFilters.for_year(reported.year))
    assert page.total.required == int(VALIDATED["required"])
    assert has_words(text, grouped(page.total.required))
    for line in page.teams:
        assert has_words(text, line.obj.name)
    for value in (*SUBMITTED.values(), *DRAFT.values()):
        assert grouped(value) not in text


@needs_poppler
def test_summary_pdf_keeps_the_filters_it_was_asked_with(
    client, reported, django_capture_on_commit_callbacks
):
    response = ask(
        client,
        reported,
        "board_member",
        {
            "year_from": reported.year - 1,
            "year_to": reported.year,
            "agency": "WFP",
            "measure": "spent",
        },
        django_capture_on_commit_callbacks,
    )
    report = ReportFile.objects.get()
    assert response["Location"] == f"{list_url()}#report-{report.pk}"
    assert report.parameters["year_from"] == reported.year - 1
    assert report.parameters["agency"] == "WFP"
    # The map's colour is no filter of the summary.
    assert "measure" not in report.parameters
    assert report.year_to == reported.year
    text = pdf_text(report)
    assert "WFP" in text
    # WFP put no validated money in: the UNDP figures are filtered out.
    assert grouped(VALIDATED["required"]) not in text


def test_same_filters_give_back_the_same_summary(
    client, reported, summary_pdf, django_capture_on_commit_callbacks
):
    ask(
        client,
        reported,
        "administrator",
        {"year": reported.year, "measure": "gap"},
        django_capture_on_commit_callbacks,
    )
    assert ReportFile.objects.get().pk == summary_pdf.pk
    ask(
        client,
        reported,
        "board_member",
        {"year": reported.year, "region": "africa"},
        django_capture_on_commit_callbacks,
    )
    assert ReportFile.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"year_from": "2025", "year_to": "2020"}, "starts after it ends"),
        ({"year": "2024", "agency": "NOPE"}, "There is no agency"),
    ],
)
def test_filters_that_do_not_read_are_refused_with_their_message(
    client, reported, data, message
):
    client.force_login(reported.world.board_member)
    response = client.post(request_url(), data, follow=True)
    assert message in response.content.decode()
    assert not ReportFile.objects.exists()


def test_stored_filters_that_no_longer_read_fail_the_build_with_the_reason(reported):
    report = ReportFile.objects.create(
        kind=ReportKind.BOARD_SUMMARY,
        year=reported.year,
        parameters={"year": reported.year, "agency": "GONE"},
        progress_total=6,
    )
    build_report(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "There is no agency" in report.message


def test_the_board_page_query_fills_the_form_in(client, reported):
    client.force_login(reported.world.board_member)
    html = client.get(f"{list_url()}?year_from=2022&year_to=2023&region=africa")
    text = html.content.decode()
    assert '<option value="2022" selected>' in text
    assert '<option value="africa" selected>' in text


@pytest.mark.parametrize("count", [1, 6])
def test_list_page_queries_do_not_grow(
    client, reported, count, django_assert_max_num_queries
):
    for _ in range(count):
        ReportFile.objects.create(
            kind=ReportKind.BOARD_SUMMARY,
            year=reported.year,
            parameters={"year": reported.year, "region": "africa"},
            requested_by=reported.world.board_member,
        )
    client.force_login(reported.world.board_member)
    # Session and user, the filter options (years with figures (2), agencies,
    # areas, goals), the summaries, the active teams.
    with django_assert_max_num_queries(9):
        assert client.get(list_url()).status_code == 200
