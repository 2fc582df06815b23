"""The coherence pages: who sees them, that they show the coherence rows, the
RC office's decisions on alerts (every role), downloads, the board's
comparison and the pages' fixed query counts."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from openpyxl import load_workbook

from coordination.models import CountryTeam
from reporting.models.coherence import OverlapAlert, OverlapDecision
from reporting.services import rebuild_team_rollups
from tests.coordination.factories import CountryTeamFactory
from tests.frameworks.joint_work_factories import JointWorkWorld, build_world
from tests.reporting.test_coherence import give, mixed, work
from tests.reporting.test_coherence_overlaps import FOOD, SCREENING
from tests.reporting.test_dashboard import number, read_tables

pytestmark = pytest.mark.django_db

ROLES = [
    ("rc", 200),
    ("rco", 200),
    ("fp_undp", 200),
    ("fp_undp_other_team", 404),
    ("rco_other_team", 404),
    ("board_member", 404),
    ("administrator", 200),
    ("outsider", 404),
    (None, 302),
]


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


@pytest.fixture
def team(world):
    return mixed(world)


def url(name: str = "team", code: str = "SOM", **params) -> str:
    found = reverse(f"coherence:{name}", kwargs={"code": code} if code else {})
    if params:
        found += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return found


def page(client, user, **params):
    client.force_login(user)
    response = client.get(url(**params))
    assert response.status_code == 200
    return response


def with_alert(world: JointWorkWorld):
    """Two similar activities of UNDP and UNICEF, one validated contribution."""
    first = work(world, title=FOOD)
    work(world, title=SCREENING, agency=world.unicef)
    give(world, first, world.undp, 10)
    rebuild_team_rollups(team_id=world.team.pk)
    return OverlapAlert.objects.get()


# --- who sees it ------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), ROLES)
def test_team_page_is_for_members_of_the_team(client, world, who, status):
    if who:
        client.force_login(getattr(world, who))
    response = client.get(url())
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))


def test_team_page_of_an_unknown_team_is_not_found(client, world):
    client.force_login(world.administrator)
    assert client.get(url(code="XXX")).status_code == 404


def test_team_page_refuses_writes(client, world):
    client.force_login(world.rc)
    assert client.post(url()).status_code == 405


# --- what it shows ----------------------------------------------------------------


def test_scorecard_on_the_page_is_the_hand_computed_one(client, team):
    world = team.world
    response = page(client, world.rc)
    card = response.context["page"].scorecard
    parts = {part.key: part.percent for part in card.parts}
    # 80 of 100 spent jointly; 1 of 1 output with two agencies; 1 of 1 pair;
    # 1 of 3 values complete; 80 of 80 signatory money with another signatory.
    assert parts == {
        "joint_delivery": Decimal("80.0"),
        "shared_outputs": Decimal("100.0"),
        "network": Decimal("100.0"),
        "disaggregation": Decimal("33.3"),
        "common_chapter": Decimal("100.0"),
    }
    assert card.score == Decimal("82.7")
    html = response.content.decode()
    assert '<dd data-figure="score">83<span class="coh-score__unit">/100</span>' in html
    assert "The coherence score is the average of its five parts" in html


def test_tables_on_the_page_show_the_coherence_rows(client, team):
    world = team.world
    tables = read_tables(page(client, world.rc).content.decode())
    delivery = {row[0]: row for row in tables["delivery"]["body"]}
    assert number(delivery["UNDP"][1]) == Decimal(70)
    assert number(delivery["UNDP"][5]) == Decimal(71)  # 50 of 70, rounded
    assert number(tables["delivery"]["foot"][0][1]) == Decimal(100)
    assert [row[0] for row in tables["outputs"]["body"]] == [world.output.code]
    assert tables["network"]["body"] == [["UNDP", "UNICEF", "1", "0", "80"]]
    outcome = world.output.outcome.code
    assert tables["disaggregation"]["body"][0][:2] == [outcome, "3"]
    groups = [row[0] for row in tables["target-groups"]["body"]]
    assert groups[-1] == "No target group recorded"
    assert {"Women and girls", "Youth"} <= set(groups)


def test_submitted_basis_adds_wfp(client, team):
    world = team.world
    tables = read_tables(page(client, world.rc, basis="submitted").content.decode())
    delivery = {row[0]: row for row in tables["delivery"]["body"]}
    assert number(delivery["WFP"][1]) == Decimal(40)
    single = [row for row in tables["outputs"]["body"] if row[4] == "WFP"]
    assert [row[0] for row in single] == [world.output_wfp.code]


def test_advantage_marks_the_strongest_resident_agency(client, team):
    world = team.world
    response = page(client, world.rc)
    (group,) = response.context["page"].advantage
    assert group.strongest.agency == world.undp
    assert [line.delivery_percent for line in group.lines] == [
        Decimal("70.0"),
        Decimal("30.0"),
    ]
    assert "strongest resident agency" in response.content.decode()


def test_a_year_without_figures_falls_back_to_the_latest(client, team):
    world = team.world
    board = page(client, world.rc, year="1999").context["page"]
    assert board.year == world.year


def test_page_without_figures_says_so_and_draws_nothing(client, world):
    html = page(client, world.rc).content.decode()
    assert "No figures yet." in html
    assert "<canvas" not in html
    assert "data-network" not in html


def test_network_graph_reads_a_json_block_and_a_vendored_library(client, team):
    html = page(client, team.world.rc).content.decode()
    assert 'id="coherence-network-data"' in html
    assert "/static/vendor/cytoscape/cytoscape.min.js" in html
    assert "/static/unportal/coherence.js" in html
    assert "cdn" not in html.lower()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag


def test_graph_library_is_vendored_with_its_licence():
    script = finders.find("vendor/cytoscape/cytoscape.min.js")
    with open(script, encoding="utf-8") as handle:
        assert 'cf.version="3.35.0"' in handle.read()[-400:]
    with open(finders.find("vendor/cytoscape/LICENSE"), encoding="utf-8") as handle:
        assert "The Cytoscape Consortium" in handle.read()
    with open(finders.find("vendor/cytoscape/README.md"), encoding="utf-8") as handle:
        assert "3.35.0" in handle.read()


# --- downloads ----------------------------------------------------------------------


def download(client, user, table, extension, **params):
    client.force_login(user)
    return client.get(
        reverse(
            "coherence:team_download",
            kwargs={"code": "SOM", "table": table, "extension": extension},
        ),
        params,
    )


def test_csv_download_holds_the_rows_on_screen(client, team):
    world = team.world
    response = download(client, world.rc, "delivery", "csv", year=world.year)
    assert response["Content-Disposition"] == (
        f'attachment; filename="unportal-SOM-{world.year}-validated-coherence-'
        'delivery.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Agency", "Agency name", "Spent"]
    assert [row[0] for row in rows[1:]] == ["UNDP", "UNICEF", "All agencies"]
    assert Decimal(rows[-1][2]) == Decimal(100)


@pytest.mark.parametrize(
    "table",
    [
        "scorecard",
        "trend",
        "delivery",
        "outputs",
        "alerts",
        "advantage",
        "network",
        "network-agencies",
        "disaggregation",
        "indicator-disaggregation",
        "target-groups",
        "common-chapter",
    ],
)
def test_every_table_downloads_as_xlsx(client, team, table):
    response = download(client, team.world.rc, table, "xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[0] == table[:31]


def test_downloads_refuse_unknown_tables_and_outsiders(client, team):
    world = team.world
    assert download(client, world.rc, "nothing", "csv").status_code == 404
    assert download(client, world.outsider, "delivery", "csv").status_code == 404
    stranger = download(client, world.fp_undp_other_team, "delivery", "csv")
    assert stranger.status_code == 404


# --- decisions on alerts --------------------------------------------------------------


def decide_url(alert, code="SOM") -> str:
    return reverse(
        "coherence:decide_alert",
        kwargs={
            "code": code,
            "activity_a": alert.activity_a_id,
            "activity_b": alert.activity_b_id,
        },
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("rc", 302),
        ("rco", 302),
        ("administrator", 302),
        ("fp_undp", 403),
        ("fp_unicef", 403),
        ("fp_undp_other_team", 404),
        ("rco_other_team", 404),
        ("rc_other_team", 404),
        ("board_member", 404),
        ("outsider", 404),
        (None, 302),
    ],
)
def test_only_the_rc_office_decides_on_alerts(client, world, who, status):
    alert = with_alert(world)
    if who:
        client.force_login(getattr(world, who))
    response = client.post(decide_url(alert), {"status": "dismissed"})
    assert response.status_code == status
    decided = who in ("rc", "rco", "administrator")
    assert OverlapDecision.objects.exists() == decided
    alert.refresh_from_db()
    assert alert.status == ("dismissed" if decided else "open")
    if who is None:
        assert response["Location"].startswith(reverse("login"))
    elif decided:
        assert response["Location"] == f"{url()}#alerts"


def test_decision_with_htmx_answers_the_alert_list(client, world):
    alert = with_alert(world)
    client.force_login(world.rco)
    response = client.post(
        decide_url(alert) + "?basis=submitted",
        {"status": "confirmed", "comment": "Same sites, same families."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="coherence-alerts"')
    assert "0 alerts to review" in html
    assert "Overlap confirmed." in html
    assert "Same sites, same families." in html
    assert "Reopen" in html
    assert "?basis=submitted" in html
    decision = OverlapDecision.objects.get()
    assert (decision.status, decision.decided_by) == ("confirmed", world.rco)


def test_a_dismissed_alert_leaves_the_list_to_review(client, world):
    alert = with_alert(world)
    client.force_login(world.rc)
    client.post(decide_url(alert), {"status": "dismissed"})
    response = client.get(url())
    lists = response.context["page"].alerts
    assert (len(lists.open), len(lists.decided)) == (0, 1)
    assert "Alert dismissed." in response.content.decode()


def test_a_bad_decision_is_refused_with_a_message(client, world):
    alert = with_alert(world)
    client.force_login(world.rco)
    response = client.post(
        decide_url(alert), {"status": "perhaps"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    too_long = client.post(
        decide_url(alert),
        {"status": "dismissed", "comment": "x" * 2001},
        HTTP_HX_REQUEST="true",
    )
    assert too_long.status_code == 400
    assert not OverlapDecision.objects.exists()


def test_deciding_an_unknown_pair_is_not_found(client, world):
    alert = with_alert(world)
    client.force_login(world.rco)
    swapped = reverse(
        "coherence:decide_alert",
        kwargs={
            "code": "SOM",
            "activity_a": alert.activity_b_id,
            "activity_b": alert.activity_a_id,
        },
    )
    assert client.post(swapped, {"status": "dismissed"}).status_code == 404
    # Another team's coordinator cannot reach the pair through their own team.
    client.force_login(world.rco_other_team)
    response = client.post(decide_url(alert, "NGA"), {"status": "dismissed"})
    assert response.status_code == 404


def test_deciding_refuses_get(client, world):
    alert = with_alert(world)
    client.force_login(world.rco)
    assert client.get(decide_url(alert)).status_code == 405


def test_focal_points_see_alerts_but_no_buttons(client, world):
    with_alert(world)
    html = page(client, world.fp_undp).content.decode()
    assert "1 alert to review" in html
    assert "Confirm overlap" not in html
    assert "Confirm overlap" in page(client, world.rco).content.decode()


# --- the board ------------------------------------------------------------------------


def board_url(**params) -> str:
    return url("board", code=None, **params)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("board_member", 200),
        ("administrator", 200),
        ("rc", 403),
        ("rco", 403),
        ("fp_undp", 403),
        ("outsider", 403),
        (None, 302),
    ],
)
def test_board_page_is_for_board_members(client, world, who, status):
    if who:
        client.force_login(getattr(world, who))
    assert client.get(board_url()).status_code == status


def test_board_compares_countries_on_validated_figures_only(client, team):
    world = team.world
    client.force_login(world.board_member)
    response = client.get(board_url())
    board = response.context["board"]
    assert board.year == world.year
    line = next(line for line in board.lines if line.team == world.team)
    # WFP's submitted school meals are not on the board.
    assert line.scorecard.row.spent == Decimal(100)
    assert line.scorecard.score == Decimal("82.7")
    tables = read_tables(response.content.decode())
    names = [row[0] for row in tables["countries"]["body"]]
    assert names[0] == "Somalia"
    assert "Nigeria" in names
    assert tables["trend"]["body"][1][0] == "Somalia"


def test_board_counts_alerts_between_validated_activities_only(client, world):
    alert = with_alert(world)
    client.force_login(world.board_member)
    line = next(
        line
        for line in client.get(board_url()).context["board"].lines
        if line.team == world.team
    )
    assert (line.open_alerts, line.confirmed_alerts) == (0, 0)
    OverlapAlert.objects.filter(pk=alert.pk).update(both_validated=True)
    line = next(
        line
        for line in client.get(board_url()).context["board"].lines
        if line.team == world.team
    )
    assert line.open_alerts == 1


def test_board_download(client, team):
    client.force_login(team.world.board_member)
    response = client.get(
        reverse(
            "coherence:board_download",
            kwargs={"table": "countries", "extension": "csv"},
        )
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Country", "Code", "Score"]
    assert rows[1][:3] == ["Somalia", "SOM", "82.7"]
    client.force_login(team.world.rc)
    assert (
        client.get(
            reverse(
                "coherence:board_download",
                kwargs={"table": "countries", "extension": "csv"},
            )
        ).status_code
        == 403
    )


# --- queries --------------------------------------------------------------------------


# The team page's queries whatever the data size: session and user (2), the
# team and the user's memberships (2), rollup status, scorecards, alerts,
# decisions, the alerts' outputs and regions (2), residency, joint delivery,
# outputs, agency-outcome rows, lead agencies, links, disaggregation, target
# groups, signatories, common-chapter rows and areas.
TEAM_PAGE_QUERIES = 21
BOARD_PAGE_QUERIES = 5  # session, user, teams, scorecards, alert counts


def grow(world: JointWorkWorld, count: int) -> None:
    """`count` pairs of near-duplicate activities, each delivered by two agencies."""
    for index in range(count):
        first = work(world, title=f"{FOOD} {index}")
        second = work(world, title=f"{SCREENING} {index}", agency=world.unicef)
        give(world, first, world.undp, 10 + index)
        give(world, first, world.unicef, 5)
        give(world, second, world.unicef, 7)
    rebuild_team_rollups(team_id=world.team.pk)


@pytest.mark.parametrize("count", [1, 6])
def test_team_page_queries_do_not_grow_with_the_data(
    client, world, count, django_assert_num_queries
):
    grow(world, count)
    assert OverlapAlert.objects.count() >= count
    client.force_login(world.rco)
    with django_assert_num_queries(TEAM_PAGE_QUERIES):
        response = client.get(url())
    assert response.status_code == 200


@pytest.mark.parametrize("teams", [1, 5])
def test_board_page_queries_do_not_grow_with_the_teams(
    client, world, teams, django_assert_num_queries
):
    grow(world, 1)
    for index in range(teams):
        CountryTeamFactory(code=f"X{chr(65 + index)}Z")
    client.force_login(world.board_member)
    with django_assert_num_queries(BOARD_PAGE_QUERIES):
        response = client.get(board_url())
    assert response.status_code == 200
    assert CountryTeam.objects.active().count() == teams + 2
