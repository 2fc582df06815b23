"""The annual report's pages: who reads, who asks for a build, the figures on
screen against the PDF's, the progress fragment, downloads and query counts."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from reporting.models import ReportFile, ReportKind, ReportStatus
from tests.reporting.test_reports import (
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
    stored_report,
)

pytestmark = pytest.mark.django_db

# Everyone the portal knows, and what they may do with Somalia's reports.
READERS = ["rc", "rco", "fp_undp", "board_member", "administrator"]
BUILDERS = ["rc", "rco", "administrator"]
STRANGERS = ["fp_undp_other_team", "rc_other_team", "outsider"]


@pytest.fixture
def reported() -> Reported:
    return build_reported_world()


@pytest.fixture
def finished(reported, django_capture_on_commit_callbacks) -> ReportFile:
    return ask(reported, django_capture_on_commit_callbacks)


def list_url(code: str = "SOM") -> str:
    return reverse("reports:team_reports", kwargs={"code": code})


def page_url(year: int, code: str = "SOM") -> str:
    return reverse("reports:annual_report", kwargs={"code": code, "year": year})


def request_url(code: str = "SOM") -> str:
    return reverse("reports:team_report_request", kwargs={"code": code})


def file_url(report: ReportFile, name: str = "download") -> str:
    return reverse(f"reports:{name}", kwargs={"code": "SOM", "pk": report.pk})


def table_url(year: int, table: str, extension: str, code: str = "SOM") -> str:
    return reverse(
        "reports:annual_table",
        kwargs={"code": code, "year": year, "table": table, "extension": extension},
    )


def sign_in(client, reported: Reported, who: str | None):
    if who:
        client.force_login(getattr(reported.world, who))
    return client


# --- who may ----------------------------------------------------------------------


@pytest.mark.parametrize("who", [*READERS, *STRANGERS, None])
def test_reading_is_for_the_team_and_the_board(client, reported, who):
    finished = stored_report(
        kind=ReportKind.ANNUAL_RESULTS, country_team=reported.world.team, year=2024
    )
    sign_in(client, reported, who)
    urls = [
        list_url(),
        page_url(reported.year),
        table_url(reported.year, "funding-by-outcome", "csv"),
        file_url(finished, "progress"),
        file_url(finished),
    ]
    for url in urls:
        response = client.get(url)
        if who is None:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
        else:
            expected = 200 if who in READERS else 404
            assert response.status_code == expected, (who, url)


@pytest.mark.parametrize("who", [*READERS, *STRANGERS, None])
def test_building_is_for_the_rc_and_the_rc_office(
    client, reported, who, django_capture_on_commit_callbacks
):
    sign_in(client, reported, who)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(request_url(), {"year": reported.year})
    if who is None:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif who in BUILDERS:
        assert response.status_code == 302
        report = ReportFile.objects.get()
        assert response["Location"] == f"{list_url()}#report-{report.pk}"
        assert report.requested_by == getattr(reported.world, who)
    elif who in READERS:
        assert response.status_code == 403
    else:
        assert response.status_code == 404
    if who not in BUILDERS:
        assert not ReportFile.objects.exists()


@pytest.mark.parametrize(
    ("who", "offered"), [("rco", True), ("fp_undp", False), ("board_member", False)]
)
def test_the_build_form_is_offered_to_those_who_may_build(
    client, reported, who, offered
):
    sign_in(client, reported, who)
    html = client.get(list_url()).content.decode()
    assert (request_url() in html) is offered


def test_reading_pages_refuse_writes_and_building_refuses_reads(client, reported):
    sign_in(client, reported, "rc")
    assert client.post(list_url()).status_code == 405
    assert client.post(page_url(reported.year)).status_code == 405
    assert client.get(request_url()).status_code == 405


def test_reports_of_an_unknown_team_are_not_found(client, reported):
    sign_in(client, reported, "administrator")
    assert client.get(list_url("XXX")).status_code == 404
    assert client.get(page_url(reported.year, "XXX")).status_code == 404


def test_a_report_is_found_only_under_its_own_team(
    client, reported, finished, django_capture_on_commit_callbacks
):
    sign_in(client, reported, "administrator")
    url = reverse("reports:download", kwargs={"code": "NGA", "pk": finished.pk})
    assert client.get(url).status_code == 404


def test_a_board_summary_is_not_downloadable_as_a_team_report(client, reported):
    summary = ReportFile.objects.create(
        kind=ReportKind.BOARD_SUMMARY, year=reported.year, status=ReportStatus.DONE
    )
    sign_in(client, reported, "rc")
    assert client.get(file_url(summary)).status_code == 404


def test_team_page_links_to_its_annual_reports(client, reported):
    sign_in(client, reported, "fp_undp")
    html = client.get(reverse("reporting:team_detail", args=["SOM"])).content.decode()
    assert list_url() in html


# --- asking -----------------------------------------------------------------------


def test_asking_in_french_builds_a_french_report(
    client, reported, django_capture_on_commit_callbacks
):
    sign_in(client, reported, "rco")
    client.cookies["django_language"] = "fr"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(request_url(), {"year": reported.year})
    assert ReportFile.objects.get().language == "fr"


@pytest.mark.parametrize("year", ["1999", "soon", ""])
def test_a_year_not_offered_is_refused_with_a_message(client, reported, year):
    sign_in(client, reported, "rco")
    response = client.post(request_url(), {"year": year}, follow=True)
    assert "Choose one of the years offered." in response.content.decode()
    assert not ReportFile.objects.exists()


def test_asking_twice_gives_the_same_file_with_a_message(client, reported, finished):
    sign_in(client, reported, "rc")
    response = client.post(request_url(), {"year": reported.year}, follow=True)
    assert ReportFile.objects.get().pk == finished.pk
    assert "can be downloaded at once" in response.content.decode()


def test_a_failed_build_shows_its_reason_in_the_list(
    client, reported, django_capture_on_commit_callbacks, monkeypatch
):
    from reporting import report_services

    monkeypatch.setattr(report_services, "render_pdf", lambda html: 1 / 0)
    sign_in(client, reported, "rco")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(request_url(), {"year": reported.year}).status_code == 302
    html = client.get(list_url()).content.decode()
    assert "could not be built" in html
    assert "ZeroDivisionError" in html


# --- progress and downloads -------------------------------------------------------


def test_a_running_report_polls_its_progress(client, reported):
    report = ReportFile.objects.create(
        kind=ReportKind.ANNUAL_RESULTS,
        country_team=reported.world.team,
        year=reported.year,
        status=ReportStatus.RUNNING,
        progress_done=2,
        progress_total=6,
    )
    sign_in(client, reported, "fp_undp")
    html = client.get(file_url(report, "progress")).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="{file_url(report, "progress")}"' in html
    assert 'max="6" value="2"' in html
    assert "step 2 of 6" in html
    assert file_url(report) not in html
    assert client.get(file_url(report)).status_code == 404


def test_a_finished_report_stops_polling_and_offers_its_file(
    client, reported, finished
):
    sign_in(client, reported, "fp_undp")
    html = client.get(file_url(finished, "progress")).content.decode()
    assert "hx-get" not in html
    assert file_url(finished) in html


def test_the_file_downloads_again_and_again(client, reported, finished):
    sign_in(client, reported, "board_member")
    first = client.get(file_url(finished))
    second = client.get(file_url(finished))
    assert first["Content-Type"] == "application/pdf"
    assert first["Content-Disposition"] == (
        f'attachment; filename="unportal-som-annual-results-{reported.year}-en.pdf"'
    )
    body = b"".join(first.streaming_content)
    assert body.startswith(b"%PDF-")
    assert body == b"".join(second.streaming_content)
    assert len(body) == finished.size


def test_a_file_gone_from_disk_is_not_found(client, reported, finished):
    finished.file.storage.delete(finished.file.name)
    sign_in(client, reported, "rc")
    assert client.get(file_url(finished)).status_code == 404


# --- the page ---------------------------------------------------------------------


class FigureReader(HTMLParser):
    """The headline figures (`dd[data-figure]`) and the first cells of every
    table row of the report page, as a reader sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.cells: list[str] = []
        self._figure: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "dd" and "data-figure" in attrs:
            self._figure = attrs["data-figure"]
            self.figures[self._figure] = ""
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "dd":
            self._figure = None
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._figure:
            self.figures[self._figure] += data.strip()
        if self._cell is not None:
            self._cell.append(data)


@needs_poppler
def test_page_and_pdf_show_the_same_figures(client, reported, finished):
    sign_in(client, reported, "rc")
    response = client.get(page_url(reported.year))
    reader = FigureReader()
    reader.feed(response.content.decode())
    assert reader.figures["required"] == grouped(VALIDATED["required"])
    assert reader.figures["available"] == grouped(VALIDATED["available"])
    assert reader.figures["spent"] == grouped(VALIDATED["spent"])
    text = pdf_text(finished)
    for name, value in reader.figures.items():
        assert has_words(text, value), name
    numbers = [cell for cell in reader.cells if cell[:1].isdigit()]
    assert numbers
    for cell in numbers:
        assert has_words(text, cell), cell
    html = response.content.decode()
    for value in SUBMITTED.values():
        assert grouped(value) not in html


def test_page_offers_the_pdf_in_the_readers_language_only(client, reported, finished):
    sign_in(client, reported, "rc")
    assert file_url(finished) in client.get(page_url(reported.year)).content.decode()
    client.cookies["django_language"] = "fr"
    assert (
        file_url(finished) not in client.get(page_url(reported.year)).content.decode()
    )


def test_page_of_a_year_outside_the_framework_is_not_found(client, reported):
    sign_in(client, reported, "rc")
    end = reported.world.framework.end_year
    assert client.get(page_url(end + 1)).status_code == 404


def test_page_charts_are_images_with_text_alternatives(client, reported):
    sign_in(client, reported, "rc")
    html = client.get(page_url(reported.year)).content.decode()
    assert html.count('src="data:image/svg+xml;base64,') == 3
    assert 'alt="Required, available and spent money for each outcome' in html


def test_board_members_read_without_the_team_links(client, reported):
    sign_in(client, reported, "board_member")
    html = client.get(page_url(reported.year)).content.decode()
    assert f'href="{reverse("reporting:team_detail", args=["SOM"])}"' not in html
    assert f'href="{reverse("reporting:dashboard", args=["SOM"])}"' not in html
    assert f'href="{list_url()}"' in html


# --- query counts -----------------------------------------------------------------


@pytest.mark.parametrize("reports", [1, 8])
def test_list_page_queries_do_not_grow(
    client, reported, reports, django_assert_max_num_queries
):
    world = reported.world
    for _ in range(reports):
        ReportFile.objects.create(
            kind=ReportKind.ANNUAL_RESULTS,
            country_team=world.team,
            year=world.year,
            requested_by=world.rco,
            status=ReportStatus.RUNNING,
            progress_total=6,
        )
    sign_in(client, reported, "rco")
    # Session and user, the team, memberships (rules), framework, years with
    # figures (2), the reports with who asked; the layout asks whether to show
    # the board's link, which for a non-member of the board also reads the
    # user's and groups' model permissions (2).
    with django_assert_max_num_queries(11):
        assert client.get(list_url()).status_code == 200


def test_report_page_stays_within_its_query_budget(
    client, reported, finished, django_assert_max_num_queries
):
    sign_in(client, reported, "rco")
    # Session and user, the team, memberships, the report's reads (20), the
    # years (3) and the PDF on offer.
    with django_assert_max_num_queries(28):
        assert client.get(page_url(reported.year)).status_code == 200


# --- the report's tables as files -------------------------------------------------

TABLES = ["funding-by-outcome", "funding-by-agency", "funding-by-outcome-and-agency"]


@pytest.mark.parametrize("table", TABLES)
def test_members_download_each_table_whatever_the_open_data_switch(
    client, reported, settings, table
):
    settings.UNPORTAL_OPEN_DATA = False
    sign_in(client, reported, "fp_undp")
    page = client.get(page_url(reported.year)).content.decode()
    url = table_url(reported.year, table, "csv")
    assert f'href="{url}"' in page

    response = client.get(url)

    assert response["Content-Disposition"] == (
        f'attachment; filename="unportal-som-{reported.year}-{table}.csv"'
    )
    text = response.content.decode("utf-8-sig")
    assert f"{VALIDATED['required']}.00" in text
    for value in SUBMITTED.values():
        assert value not in text


def test_unknown_report_tables_and_formats_are_not_found(client, reported):
    sign_in(client, reported, "rco")
    year = reported.year
    assert client.get(table_url(year, "salaries", "csv")).status_code == 404
    assert client.get(table_url(year, "funding-by-outcome", "pdf")).status_code == 404
    assert client.get(table_url(1990, "funding-by-outcome", "csv")).status_code == 404
