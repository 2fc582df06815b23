"""The executive board's pages: who may open them, what their filters accept,
that every download holds exactly the rows on screen, where the figures lead,
and that each page runs a fixed number of queries."""

from __future__ import annotations

import hashlib
import io
import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from coordination.models import Region
from reporting.board_exports import (
    COMMON_CHAPTER_TABLES,
    MAP_TABLES,
    SUMMARY_TABLES,
    TEAM_TABLES,
)
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)
from tests.reporting.test_board_selectors import (
    Board,
    build_board,
    contribute,
    rebuild_all,
)
from tests.reporting.test_dashboard import add_activity, read_tables
from tests.reporting.test_exports import assert_same_rows, csv_rows, xlsx_rows

pytestmark = pytest.mark.django_db

# Session and user (2), the viewer's memberships for the drill-down links (1),
# the filter form's choices (5: years twice, agencies, areas, goals) and the
# summary (14). A download needs no links to team pages.
SUMMARY_PAGE_QUERIES = 22
DOWNLOAD_QUERIES = 21
# The team page adds the team, its frameworks, progress rows, indicators,
# outcome money and outcomes.
TEAM_PAGE_QUERIES = 28
# Teams, signatories, areas, commitments with their agencies and the money.
COMMON_CHAPTER_PAGE_QUERIES = 13

PAGES = {
    "summary": reverse("board:summary"),
    "map": reverse("board:map"),
    "common-chapter": reverse("board:common_chapter"),
}


@pytest.fixture
def board() -> Board:
    return build_board()


def team_url(code: str = "SOM") -> str:
    return reverse("board:team", kwargs={"code": code})


def download_url(page: str, table: str, extension: str) -> str:
    return reverse(
        "board:download", kwargs={"page": page, "table": table, "extension": extension}
    )


def team_download_url(table: str, extension: str, code: str = "SOM") -> str:
    return reverse(
        "board:team_download",
        kwargs={"code": code, "table": table, "extension": extension},
    )


def get(client, url, params=None, status=200):
    response = client.get(url, params or {})
    assert response.status_code == status, (url, response.status_code)
    return response


# --- who may look -----------------------------------------------------------------

ALL_URLS = [
    PAGES["summary"],
    PAGES["map"],
    PAGES["common-chapter"],
    team_url(),
    download_url("summary", "teams", "csv"),
    download_url("common-chapter", "commitments", "xlsx"),
    team_download_url("indicators", "csv"),
]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("board_member", 200),
        ("administrator", 200),
        ("rc", 403),
        ("rco", 403),
        ("fp_undp", 403),
        ("rc_other_team", 403),
        ("outsider", 403),
        (None, 302),
    ],
)
def test_board_pages_are_for_board_members_and_administrators(
    client, board, who, status
):
    if who:
        client.force_login(getattr(board.world, who))
    for url in ALL_URLS:
        response = client.get(url)
        assert response.status_code == status, url
        if status == 302:
            assert response["Location"].startswith(reverse("login"))


def test_a_coordinator_who_is_also_a_board_member_gets_in(client, board):
    rc = board.world.rc
    rc.is_board_member = True
    rc.save(update_fields=["is_board_member"])
    client.force_login(rc)
    response = client.get(PAGES["summary"])
    assert response.status_code == 200
    assert f"Collective results {board.year}" in response.content.decode()


def test_a_deactivated_board_member_is_refused(client, board):
    member = board.world.board_member
    client.force_login(member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert client.get(PAGES["summary"]).status_code in (302, 403)


@pytest.mark.parametrize("url", [*PAGES.values(), team_url()])
def test_board_pages_refuse_writes(client, board, url):
    client.force_login(board.world.board_member)
    assert client.post(url).status_code == 405


def test_unknown_teams_tables_and_formats_are_not_found(client, board):
    client.force_login(board.world.board_member)
    for url in (
        team_url("XXX"),
        team_download_url("indicators", "csv", code="XXX"),
        download_url("summary", "nothing", "csv"),
        download_url("map", "teams", "csv"),
        f"{reverse('board:summary')}summary/teams.pdf",
    ):
        assert client.get(url).status_code == 404, url


# --- bad parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": "abc"}, "Year (year): Enter a whole number."),
        ({"year": "1800"}, "Year (year): Ensure this value is greater than"),
        (
            {"year_from": "2025", "year_to": "2021"},
            "The range of years starts after it ends: 2025 to 2021.",
        ),
        ({"year": "2024", "year_to": "2025"}, "Give either a year or a range"),
        ({"year_from": "2000", "year_to": "2100"}, "Choose at most 30 years"),
        ({"agency": "NOPE"}, "There is no agency with the code “NOPE”."),
        ({"area": "CC99"}, "There is no common-chapter area with the code “CC99”."),
        ({"goal": "18"}, "“18” is not an SDG goal: choose a number from 1 to 17."),
        ({"region": "mars"}, "There is no region “mars”."),
        ({"measure": "happiness"}, "The map cannot show “happiness”."),
        ({"area": "CC4", "goal": "5"}, "Filter by a common-chapter area or by an SDG"),
    ],
)
def test_bad_parameters_get_a_clear_message_and_400(
    client, board_member, team, params, message
):
    CommonChapterAreaFactory(position=4, code="CC4")
    SdgGoalFactory(number=5)
    client.force_login(board_member)
    for url in (*PAGES.values(), team_url()):
        response = get(client, url, params, status=400)
        html = response.content.decode()
        assert 'role="alert"' in html
        assert message in html.replace("&quot;", '"').replace("&#x27;", "'")
    download = get(client, download_url("summary", "teams", "csv"), params, status=400)
    assert message in download.content.decode()


def test_unknown_parameters_are_ignored(client, board):
    client.force_login(board.world.board_member)
    response = client.get(PAGES["summary"], {"utm_source": "mail", "year": board.year})
    assert response.status_code == 200
    assert f"Collective results {board.year}" in response.content.decode()


# --- figures on the page ----------------------------------------------------------


def test_summary_shows_the_validated_totals(client, board):
    client.force_login(board.world.board_member)
    html = get(client, PAGES["summary"], {"year": board.year}).content.decode()
    assert '<dd data-figure="required">360,000</dd>' in html
    assert '<dd data-figure="gap">90,000</dd>' in html
    assert "7,777" not in html
    tables = read_tables(html)
    assert [row[0] for row in tables["teams"]["body"]] == ["Nigeria", "Somalia"]
    assert tables["teams"]["foot"][0][:4] == [
        "Total, each contribution once",
        "",
        "360,000",
        "270,000",
    ]


def test_summary_says_where_a_column_does_not_add_up(client, board):
    client.force_login(board.world.board_member)
    html = get(client, PAGES["summary"], {"year": board.year}).content.decode()
    assert "Money tagged to several SDG goals counts in full under each goal" in html
    assert "Activities without a common-chapter area count in the total only" in html


def test_summary_states_what_joint_means(client, board):
    client.force_login(board.world.board_member)
    html = get(client, PAGES["summary"], {"year": board.year}).content.decode()
    assert "Joint: the money agencies report for joint activities" in html
    assert "Through joint programmes: the part whose activity belongs" in html


def test_without_a_year_the_page_shows_the_last_full_year(client, board):
    client.force_login(board.world.board_member)
    response = get(client, PAGES["summary"])
    # The world's only year with figures is two years back.
    assert response.context["filters"].year_to == board.year


def test_filters_are_in_the_links_between_board_pages(client, board):
    client.force_login(board.world.board_member)
    params = {"year": board.year, "region": Region.AFRICA}
    html = get(client, PAGES["summary"], params).content.decode()
    query = f"year={board.year}&amp;region=africa"
    assert f'href="{PAGES["map"]}?{query}"' in html
    assert f'href="{team_url("NGA")}?{query}"' in html
    assert f"{download_url('summary', 'teams', 'csv')}?{query}" in html


def test_map_page_colours_teams_by_the_chosen_measure(client, board):
    client.force_login(board.world.board_member)
    response = get(
        client, PAGES["map"], {"year": board.year, "measure": "on_track_share"}
    )
    chart = response.context["charts"]["map"]
    teams = {team["code"]: team for team in chart["teams"]}
    assert teams["SOM"]["id"] == "706"
    assert teams["SOM"]["value"] == 50.0
    assert teams["NGA"]["value"] is None
    html = response.content.decode()
    assert "/static/vendor/chartjs-chart-geo/index.umd.min.js" in html
    assert "/static/vendor/world-atlas/countries-110m.json" in html
    table = read_tables(html)["map"]
    assert table["head"][0][-1] == "Indicators on track (%)"
    assert [row[0] for row in table["body"]] == ["Somalia", "Nigeria"]


def test_map_libraries_are_vendored_with_their_licences():
    for path in (
        "vendor/chartjs-chart-geo/index.umd.min.js",
        "vendor/chartjs-chart-geo/index.umd.min.js.map",
        "vendor/chartjs-chart-geo/LICENSE",
        "vendor/chartjs-chart-geo/LICENSE-bundled.txt",
        "vendor/chartjs-chart-geo/README.md",
        "vendor/world-atlas/countries-110m.json",
        "vendor/world-atlas/LICENSE",
        "vendor/world-atlas/README.md",
    ):
        assert finders.find(path), path
    # The READMEs pin what was copied from the npm tarballs.
    for script, readme in (
        ("vendor/chartjs-chart-geo/index.umd.min.js", "vendor/chartjs-chart-geo"),
        ("vendor/world-atlas/countries-110m.json", "vendor/world-atlas"),
    ):
        with open(finders.find(script), "rb") as data:
            digest = hashlib.sha256(data.read()).hexdigest()
        with open(finders.find(f"{readme}/README.md")) as notes:
            assert digest in notes.read(), script
    with open(finders.find("vendor/chartjs-chart-geo/LICENSE")) as licence:
        assert "MIT License" in licence.read()
    with open(finders.find("vendor/world-atlas/LICENSE")) as licence:
        assert "Michael Bostock" in licence.read()


def test_common_chapter_page_lists_commitments_and_delivery(client, board):
    from frameworks.services.common_chapter import create_common_chapter_commitment

    world = board.world
    create_common_chapter_commitment(
        country_team=world.team,
        area=board.area,
        title="One referral pathway for survivors",
        year=board.year,
        agencies=[world.unicef, world.undp],
        status="delayed",
        actor=None,
    )
    client.force_login(world.board_member)
    html = get(client, PAGES["common-chapter"], {"year": board.year}).content.decode()
    tables = read_tables(html)
    (row,) = tables["commitments"]["body"]
    assert row[1:] == [
        "Somalia",
        "Commitment",
        "One referral pathway for survivors",
        "UNDP, UNICEF",
        str(board.year),
        "Delayed",
    ]
    delivery = {(r[0], r[1]): r for r in tables["cc-delivery"]["body"]}
    assert delivery[("CC4", "Somalia")][4] == "50,000"


# --- drill-down -------------------------------------------------------------------


def test_team_figures_lead_to_the_boards_team_page(client, board):
    client.force_login(board.world.board_member)
    html = get(client, PAGES["summary"], {"year": board.year}).content.decode()
    assert f'<a href="{team_url("SOM")}?year={board.year}">Somalia</a>' in html
    team = get(client, team_url(), {"year": board.year})
    assert '<dd data-figure="required">160,000</dd>' in team.content.decode()


def test_board_members_get_no_links_to_team_pages_they_cannot_open(client, board):
    client.force_login(board.world.board_member)
    html = get(client, team_url(), {"year": board.year}).content.decode()
    assert reverse("reporting:dashboard", kwargs={"code": "SOM"}) not in html
    assert "The team's own pages are open to its members." in html
    outcome = board.world.output.outcome
    summary = get(client, PAGES["summary"], {"year": board.year}).content.decode()
    assert f"{team_url('SOM')}?year={board.year}#outcome-{outcome.pk}" in summary


def test_administrators_drill_down_to_the_team_dashboard(client, board):
    client.force_login(board.world.administrator)
    outcome = board.world.output.outcome
    dashboard = reverse("reporting:dashboard", kwargs={"code": "SOM"})
    html = get(client, team_url(), {"year": board.year}).content.decode()
    assert f'href="{dashboard}?year={board.year}&amp;basis=validated"' in html
    assert (
        f"{dashboard}?year={board.year}&amp;basis=validated&amp;outcome={outcome.pk}"
        "#outputs" in html
    )
    framework = reverse(
        "frameworks:framework_detail",
        kwargs={"code": "SOM", "pk": board.world.framework.pk},
    )
    assert framework in html
    # And the link opens the team's dashboard on that year's validated figures.
    response = get(client, dashboard, {"year": board.year, "basis": "validated"})
    assert response.context["dashboard"].total.required == Decimal(160000)


# --- downloads --------------------------------------------------------------------


def _page_params(board: Board) -> list[dict]:
    return [
        {"year": board.year},
        {"year": board.year, "agency": "UNICEF"},
        {"year": board.year, "area": "CC4"},
        {"year_from": board.year, "year_to": board.year + 1, "region": "africa"},
    ]


@pytest.mark.parametrize(
    ("page", "tables"),
    [
        ("summary", SUMMARY_TABLES),
        ("map", MAP_TABLES),
        ("common-chapter", COMMON_CHAPTER_TABLES),
    ],
)
def test_downloads_hold_exactly_the_rows_on_screen(client, board, page, tables):
    client.force_login(board.world.board_member)
    for params in _page_params(board):
        screen = read_tables(get(client, PAGES[page], params).content.decode())
        for table in tables:
            if table not in screen:
                # Shown as "not available" for these filters: an empty file.
                assert (
                    len(csv_rows(get(client, download_url(page, table, "csv"), params)))
                    == 1
                )
                continue
            assert_same_rows(
                screen[table],
                csv_rows(get(client, download_url(page, table, "csv"), params)),
            )
            assert_same_rows(
                screen[table],
                xlsx_rows(get(client, download_url(page, table, "xlsx"), params)),
            )


def test_team_downloads_hold_exactly_the_rows_on_screen(client, board):
    client.force_login(board.world.board_member)
    for params in _page_params(board):
        screen = read_tables(get(client, team_url(), params).content.decode())
        for table in TEAM_TABLES:
            if table not in screen:
                continue
            assert_same_rows(
                screen[table],
                csv_rows(get(client, team_download_url(table, "csv"), params)),
            )
            assert_same_rows(
                screen[table],
                xlsx_rows(get(client, team_download_url(table, "xlsx"), params)),
            )


def test_downloads_name_their_filters_and_say_what_they_hold(client, board):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(board.world.board_member)
    response = get(
        client,
        download_url("summary", "goals", "xlsx"),
        {"year": board.year, "agency": "UNDP"},
    )
    assert response["Content-Disposition"] == (
        f'attachment; filename="unportal-board-{board.year}-UNDP-goals.xlsx"'
    )
    about = {
        row[0]: row[1]
        for row in load_workbook(BytesIO(response.content))["About"].iter_rows(
            values_only=True
        )
    }
    assert about["Figures"] == "Validated figures only"
    assert about["Agency"].startswith("UNDP")
    assert about["Year"] == str(board.year)
    csv = get(client, team_download_url("outcomes", "csv"), {"year": board.year})
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert f"unportal-board-SOM-{board.year}-outcomes.csv" in csv["Content-Disposition"]


# --- navigation -------------------------------------------------------------------


def test_board_layout_links_its_pages(client, board):
    client.force_login(board.world.board_member)
    html = get(client, PAGES["summary"]).content.decode()
    nav = re.search(r'<nav class="board-nav".*?</nav>', html, re.S).group(0)
    assert 'aria-current="page">Global summary<' in nav
    for url in PAGES.values():
        assert f'href="{url}' in nav


def test_board_layout_lists_other_board_pages_only_when_they_exist(monkeypatch):
    from django.urls import NoReverseMatch

    from reporting.templatetags import board_nav

    real = board_nav.reverse

    def without_coherence(name, *args, **kwargs):
        if name == "coherence:board":
            raise NoReverseMatch(name)
        if name == "strategic_plans:board":
            return "/board/strategic-plans/"
        return real(name, *args, **kwargs)

    monkeypatch.setattr(board_nav, "reverse", without_coherence)
    labels = [item.label for item in board_nav.board_nav({})]
    assert labels == [
        "Global summary",
        "World map",
        "Common chapter",
        "Agency strategic plans",
    ]


# --- queries ----------------------------------------------------------------------


def _spread(board: Board, count: int) -> None:
    world = board.world
    for index in range(count):
        target = SdgTargetFactory(code=f"9.{index + 1}")
        activity = add_activity(
            world, title=f"Joint work {index}", sdg_targets=[target]
        )
        contribute(world, activity, world.undp, "validated", 10, 10, 5)
        contribute(world, activity, world.unicef, "validated", 10, 10, 5)
    rebuild_all(world)


@pytest.mark.parametrize("count", [0, 8])
def test_page_queries_do_not_grow_with_the_data(
    client, board, count, django_assert_max_num_queries
):
    _spread(board, count)
    client.force_login(board.world.board_member)
    params = {"year": board.year}
    with django_assert_max_num_queries(SUMMARY_PAGE_QUERIES):
        get(client, PAGES["summary"], params)
    with django_assert_max_num_queries(SUMMARY_PAGE_QUERIES):
        get(client, PAGES["map"], params)
    with django_assert_max_num_queries(COMMON_CHAPTER_PAGE_QUERIES):
        get(client, PAGES["common-chapter"], params)
    with django_assert_max_num_queries(TEAM_PAGE_QUERIES):
        get(client, team_url(), params)
    with django_assert_max_num_queries(DOWNLOAD_QUERIES):
        get(client, download_url("summary", "agencies", "xlsx"), params)


# --- the demo ---------------------------------------------------------------------


def test_the_demo_leaves_the_board_real_figures(
    client, django_capture_on_commit_callbacks
):
    """seed_demo's writes queue rollup jobs after commit (eager Celery runs
    them then), so a newcomer's board pages show every demo team's figures."""
    from django.core.management import call_command

    from coordination.models import User
    from reporting.models import RollupRequest

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    assert not RollupRequest.objects.exists()
    client.force_login(User.objects.get(username="board"))
    response = get(client, PAGES["summary"])
    summary = response.context["figures"]
    with_money = {line.key for line in summary.teams if not line.money.is_empty}
    assert with_money == {"AFG", "DOM", "NGA", "SOM"}
    assert summary.progress.on_track > 0
    assert summary.programme_share
    assert summary.goals_compared
    cc = get(client, PAGES["common-chapter"]).context["figures"]
    assert cc.commitments
    assert any(line.signatories.spent for line in cc.delivery)


def test_summary_offers_its_pdf_with_the_same_filters(client, board):
    from django.urls import NoReverseMatch

    try:
        pdf = reverse("reports:board_summaries")
    except NoReverseMatch:
        pytest.skip("the reports module is not installed")
    client.force_login(board.world.board_member)
    params = {"year": board.year, "agency": "UNDP", "measure": "spent"}
    html = get(client, PAGES["summary"], params).content.decode()
    assert f'href="{pdf}?year={board.year}&amp;agency=UNDP"' in html
