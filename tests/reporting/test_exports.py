"""Dashboard downloads: each CSV and XLSX holds exactly the rows of its table on
the page, for the same year, basis and outcome."""

from __future__ import annotations

import csv
import io
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reporting.exports import TABLES
from tests.frameworks.joint_work_factories import build_world
from tests.reporting.test_dashboard import (
    add_activity,
    add_contribution,
    dashboard_url,
    fund,
    read_tables,
    rebuild,
    spread,
)

pytestmark = pytest.mark.django_db

DOWNLOAD_QUERIES = 19


@pytest.fixture
def world():
    world = build_world()
    fund(world)
    # Two SDG targets, so the targets table does not add up.
    tagged = add_activity(
        world,
        title="Safe spaces",
        sdg_targets=[world.sdg_target, world.sdg_target_2],
    )
    add_contribution(world, tagged, world.unicef, state="validated", required=40000)
    rebuild(world)
    return world


def download_url(table: str, extension: str, code: str = "SOM") -> str:
    return reverse(
        "reporting:dashboard_download",
        kwargs={"code": code, "table": table, "extension": extension},
    )


def get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response) -> list[list]:
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _same(screen: str, stored) -> bool:
    stored = "" if stored is None else str(stored)
    try:
        shown = Decimal(re.sub(r"[,\s%\u00a0]", "", screen))
        value = Decimal(stored)
    except InvalidOperation:
        return screen == stored
    if "." not in screen:
        value = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return shown == value


def assert_same_rows(screen: dict, stored: list[list]) -> None:
    """The file's rows (header first) against the page's, column by column for
    the columns the page shows; the file may carry extra text columns."""
    header = screen["head"][0]
    columns = [stored[0].index(label) for label in header]
    rows = screen["body"] + screen["foot"]
    assert len(stored) - 1 == len(rows)
    for shown, kept in zip(rows, stored[1:], strict=True):
        values = [kept[i] for i in columns]
        assert all(
            _same(text, value) for text, value in zip(shown, values, strict=True)
        ), (shown, values)


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("basis", ["validated", "submitted"])
def test_downloads_hold_exactly_the_rows_on_screen(client, world, table, basis):
    client.force_login(world.rc)
    params = {"year": world.year, "basis": basis}
    screen = read_tables(get(client, dashboard_url(), **params).content.decode())
    assert_same_rows(
        screen[table], csv_rows(get(client, download_url(table, "csv"), **params))
    )
    assert_same_rows(
        screen[table], xlsx_rows(get(client, download_url(table, "xlsx"), **params))
    )


def test_outputs_download_follows_the_drill_down(client, world):
    client.force_login(world.rco)
    outcome = world.output.outcome
    params = {"year": world.year, "basis": "submitted", "outcome": outcome.pk}
    screen = read_tables(get(client, dashboard_url(), **params).content.decode())
    rows = csv_rows(get(client, download_url("outputs", "csv"), **params))
    assert_same_rows(screen["outputs"], rows)
    assert {row[2] for row in rows[1:-1]} == {outcome.code}


def test_csv_is_the_basis_asked_for(client, world):
    client.force_login(world.rc)
    url = download_url("agencies", "csv")
    validated = csv_rows(get(client, url, year=world.year))
    submitted = csv_rows(get(client, url, year=world.year, basis="submitted"))
    assert validated[0][:2] == ["Agency", "Agency name"]
    assert [row[0] for row in validated[1:]] == ["UNDP", "UNICEF", "All agencies"]
    totals = {row[0]: Decimal(row[-1]) for row in submitted[1:]}
    assert totals == {
        "UNICEF": Decimal("100000.00"),
        "UNDP": Decimal("120000.00"),
        "All agencies": Decimal("220000.00"),
    }


def test_downloads_name_the_file_and_the_type(client, world):
    client.force_login(world.rc)
    response = get(client, download_url("sdg-targets", "csv"), year=world.year)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="unportal-SOM-{world.year}-validated-sdg-targets.csv"'
    )
    response = get(
        client, download_url("indicators", "xlsx"), year=world.year, basis="submitted"
    )
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert (
        f"unportal-SOM-{world.year}-submitted-indicators.xlsx"
        in (response["Content-Disposition"])
    )


def test_xlsx_keeps_numbers_as_numbers_and_says_what_it_shows(client, world):
    client.force_login(world.rc)
    response = get(client, download_url("sdg-targets", "xlsx"), year=world.year)
    book = load_workbook(io.BytesIO(response.content))
    sheet, about = book.worksheets
    assert [cell.value for cell in sheet[1]][:3] == [
        "Target",
        "Title",
        "Required (USD)",
    ]
    assert sheet["C2"].value == 160000  # a number, not the text "160000.00"
    assert sheet["C2"].number_format == "#,##0.00"
    facts = {row[0]: row[1] for row in about.iter_rows(values_only=True)}
    assert facts["Country team"] == "Somalia (SOM)"
    assert facts["Year"] == world.year
    assert facts["Figures"] == "Validated"
    assert facts["Note"] == (
        "An activity tagged to several SDG targets counts in each; the total "
        "counts it once."
    )


def test_text_that_looks_like_a_formula_stays_text(client, world):
    outcome = world.output.outcome
    outcome.statement = '=HYPERLINK("http://example.com")'
    outcome.save(update_fields=["statement"])
    client.force_login(world.rc)
    rows = csv_rows(get(client, download_url("outcomes", "csv"), year=world.year))
    statements = [row[1] for row in rows if row[0] == outcome.code]
    assert statements == ['\'=HYPERLINK("http://example.com")']
    response = get(client, download_url("outcomes", "xlsx"), year=world.year)
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cell = next(
        row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == outcome.code
    )
    assert cell.data_type == "s"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("rc", 200),
        ("fp_undp", 200),
        ("administrator", 200),
        ("fp_undp_other_team", 404),
        ("board_member", 404),
        ("outsider", 404),
        (None, 302),
    ],
)
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_downloads_are_for_members_of_the_team(client, world, who, status, extension):
    if who:
        client.force_login(getattr(world, who))
    assert client.get(download_url("outcomes", extension)).status_code == status


def test_unknown_tables_and_formats_are_not_found(client, world):
    client.force_login(world.rc)
    assert client.get(download_url("salaries", "csv")).status_code == 404
    assert client.get("/teams/SOM/dashboard/outcomes.pdf").status_code == 404


def test_download_without_a_framework_is_not_found(client, world):
    world.framework.status = "closed"
    world.framework.save(update_fields=["status"])
    client.force_login(world.rc)
    assert client.get(download_url("outcomes", "csv")).status_code == 404


@pytest.mark.parametrize("count", [1, 10])
def test_download_queries_do_not_grow_with_the_data(
    client, count, django_assert_num_queries
):
    world = build_world()
    spread(world, count)
    client.force_login(world.rc)
    for extension in ("csv", "xlsx"):
        with django_assert_num_queries(DOWNLOAD_QUERIES):
            get(client, download_url("sdg-targets", extension), basis="submitted")
