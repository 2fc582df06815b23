"""The executive board's view of the agencies' strategic plans."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pytest
from django.urls import NoReverseMatch, reverse

from coordination.models import Region
from frameworks.models import ContributionRevision, WorkflowStatus
from frameworks.services.strategic_plans import (
    set_contribution_plan_outputs,
    set_framework_output_plan_outputs,
)
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    JointActivityFactory,
)
from tests.frameworks.strategic_plan_factories import (
    PlanOutputFactory,
    StrategicPlanFactory,
    build_plan_world,
)

pytestmark = pytest.mark.django_db

BOARD = reverse("strategic_plans:board")


class Board:
    """Somalia and Nigeria with UNDP work linked to UNDP's plan, every way."""

    def __init__(self) -> None:
        plans = build_plan_world()
        self.plans = plans
        world = self.world = plans.world
        year = self.year = world.year
        world.other_team.region = Region.ASIA_PACIFIC
        world.other_team.save()
        self.activity = JointActivityFactory(
            country_team=world.team,
            framework=world.framework,
            agency=world.undp,
            agencies=[world.undp, world.unicef, world.wfp],
            outputs=[world.output],
        )

        def contribution(status=WorkflowStatus.VALIDATED, **kwargs):
            values = {"activity": self.activity, "agency": world.undp, "year": year}
            return ContributionFactory(**{**values, **kwargs, "status": status})

        # Counted: linked directly to both outputs, and (again) through the
        # framework output; its validated revision counts, not the newer one.
        self.linked = contribution(required=Decimal("1000"))
        ContributionRevision.objects.filter(
            pk=self.linked.validated_revision_id
        ).update(reach=120)
        self.revised = contribution(year=year + 3, required=Decimal("2000"))
        newer = ContributionRevision.objects.create(
            contribution=self.revised,
            number=2,
            status=WorkflowStatus.SUBMITTED,
            required=Decimal("99999"),
        )
        self.revised.current_revision = newer
        self.revised.save()
        # Never counted: not validated, another agency, outside the period.
        contribution(WorkflowStatus.SUBMITTED, year=year + 1, required=Decimal("7777"))
        contribution(WorkflowStatus.DRAFT, year=year + 2, required=Decimal("6666"))
        contribution(agency=world.wfp, required=Decimal("5555"))
        contribution(year=year - 1, required=Decimal("4444"))
        set_contribution_plan_outputs(
            actor=None,
            contribution=self.linked,
            plan_outputs=[plans.undp_output, plans.undp_output_2],
        )
        set_framework_output_plan_outputs(
            actor=None, output=world.output, plan_outputs=[plans.undp_output]
        )
        # Nigeria: UNDP work linked directly.
        self.nigeria = ContributionFactory(
            activity=JointActivityFactory(
                country_team=world.other_team,
                framework=world.other_framework,
                agency=world.undp,
                agencies=[world.undp, world.unicef],
                outputs=[world.other_output],
            ),
            agency=world.undp,
            year=year,
            status=WorkflowStatus.VALIDATED,
            required=Decimal("300"),
        )
        set_contribution_plan_outputs(
            actor=None, contribution=self.nigeria, plan_outputs=[plans.undp_output]
        )

    def section(self, response, plan=None):
        plan = plan or self.plans.undp_plan
        (entry,) = [s for s in response.context["sections"] if s["board"].plan == plan]
        return entry


@pytest.fixture
def board():
    return Board()


def _get(client, user, url=BOARD, **params):
    client.force_login(user)
    return client.get(url, params)


# --- permissions ----------------------------------------------------------------------


def _download_url(board, table="countries", extension="csv"):
    return reverse(
        "strategic_plans:download",
        kwargs={"pk": board.plans.undp_plan.pk, "table": table, "extension": extension},
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("board_member", 200),
        ("administrator", 200),
        ("rc", 403),
        ("rco", 403),
        ("fp_undp", 403),
        ("outsider", 403),
    ],
)
def test_board_page_and_downloads_by_role(client, board, who, status):
    user = getattr(board.world, who)
    assert _get(client, user).status_code == status
    assert _get(client, user, _download_url(board)).status_code == status


def test_board_page_asks_anonymous_callers_to_sign_in(client, board):
    for url in (BOARD, _download_url(board)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- the figures ----------------------------------------------------------------------


def test_board_counts_validated_figures_of_the_plans_agency_in_its_period(
    client, board
):
    response = _get(client, board.world.board_member)
    entry = board.section(response)["board"]
    somalia = next(c for c in entry.countries if c.team == board.world.team)
    assert somalia.delivery.required == Decimal("3000")
    assert somalia.delivery.contribution_count == 2
    assert somalia.delivery.activity_count == 1
    assert somalia.delivery.reach == 120
    assert somalia.latest_year == board.year + 3
    html = response.content.decode()
    for never in ("99 999", "99,999", "7 777", "7,777", "6 666", "5 555", "4 444"):
        assert never not in html


def test_board_counts_a_contribution_once_in_every_total(client, board):
    entry = board.section(_get(client, board.world.board_member))["board"]
    lines = {line.output: line for _group, line in entry.outputs}
    first = lines[board.plans.undp_output]
    second = lines[board.plans.undp_output_2]
    assert first.by_team[board.world.team.pk].required == Decimal("3000")
    assert second.by_team[board.world.team.pk].required == Decimal("1000")
    assert first.delivery.required == Decimal("3300")  # with Nigeria
    (outcome,) = [g for g in entry.outcomes if g.outputs]
    assert outcome.delivery.required == Decimal("3300")
    assert entry.total.required == Decimal("3300")
    assert entry.total.contribution_count == 3
    assert first.framework_outputs == {board.world.team.pk: [board.world.output.code]}


def test_board_filters_by_year_region_and_agency(client, board):
    user = board.world.board_member
    entry = board.section(_get(client, user, year=board.year + 3))["board"]
    assert entry.total.required == Decimal("2000")
    entry = board.section(_get(client, user, region=Region.ASIA_PACIFIC))["board"]
    assert [c.team for c in entry.countries] == [board.world.other_team]
    assert entry.total.required == Decimal("300")
    response = _get(client, user, agency="UNICEF")
    assert [s["board"].plan for s in response.context["sections"]] == [
        board.plans.unicef_plan
    ]
    assert "agency=UNICEF" in response.context["query"]


def test_board_year_filter_leaves_out_plans_not_covering_it(client, board):
    response = _get(client, board.world.board_member, year=board.year - 8)
    plans = [s["board"].plan for s in response.context["sections"]]
    assert board.plans.old_undp_plan in plans
    assert board.plans.undp_plan not in plans


def test_board_names_filters_it_cannot_read_and_ignores_them(client, board):
    response = _get(
        client, board.world.board_member, year="soon", region="mars", agency="NOPE"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some filters were not understood and are ignored" in html
    assert len(response.context["sections"]) == 4  # every plan of the world


def test_board_drills_down_to_the_team_dashboard_for_those_who_may_open_it(
    client, board
):
    dashboard = reverse("reporting:dashboard", kwargs={"code": board.world.team.code})
    html = _get(client, board.world.administrator).content.decode()
    assert f"{dashboard}?year={board.year + 3}&amp;basis=validated" in html
    html = _get(client, board.world.board_member).content.decode()
    assert dashboard not in html
    try:
        team_page = reverse("board:team", kwargs={"code": board.world.team.code})
    except NoReverseMatch:
        return
    assert f'href="{team_page}"' in html


# --- downloads ------------------------------------------------------------------------


class _TableRows(HTMLParser):
    """The row headers of the body of one table on the page."""

    def __init__(self, section_id: str, name: str) -> None:
        super().__init__()
        self.section_id = f"plan-{section_id}-{name}"
        self.inside = self.body = self.key = False
        self.rows: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("id") == self.section_id:
            self.inside = True
        elif self.inside and tag == "tbody":
            self.body = True
        elif self.body and tag == "th":
            self.key = True
            self.rows.append("")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.body = self.inside = False
        elif tag == "th":
            self.key = False

    def handle_data(self, data):
        if self.key:
            self.rows[-1] += data.strip()


@pytest.mark.parametrize("table", ["countries", "outcomes", "outputs", "results"])
def test_board_downloads_hold_the_rows_on_screen(client, board, table):
    user = board.world.board_member
    params = {"year": board.year}
    html = _get(client, user, **params).content.decode()
    parser = _TableRows(board.plans.undp_plan.pk, table)
    parser.feed(html)
    assert parser.rows
    response = _get(client, user, _download_url(board, table), **params)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    footer = body[-1][0].startswith("Total") if body else False
    assert [row[0] for row in body[: len(body) - footer]] == parser.rows
    workbook = openpyxl.load_workbook(
        io.BytesIO(
            _get(client, user, _download_url(board, table, "xlsx"), **params).content
        )
    )
    sheet = list(workbook.worksheets[0].values)
    assert list(sheet[0]) == header
    assert len(sheet) == len(rows)


def test_board_download_of_unknown_table_or_plan_is_404(client, board):
    user = board.world.board_member
    assert _get(client, user, _download_url(board, "nonsense")).status_code == 404
    missing = reverse(
        "strategic_plans:download",
        kwargs={"pk": 999999, "table": "countries", "extension": "csv"},
    )
    assert _get(client, user, missing).status_code == 404


# --- a fixed number of queries --------------------------------------------------------


def _grow(board, times: int) -> None:
    """More plans, outputs, teams' contributions and links, of every kind."""
    world = board.world
    for n in range(times):
        agency = world.unicef if n % 2 else world.undp
        plan = StrategicPlanFactory(
            agency=agency, start_year=2040 + 4 * n, end_year=2043 + 4 * n
        )
        PlanOutputFactory(outcome__plan=plan)
        team, framework, output = (
            (world.team, world.framework, world.output)
            if n % 2
            else (world.other_team, world.other_framework, world.other_output)
        )
        contribution = ContributionFactory(
            activity=JointActivityFactory(
                country_team=team,
                framework=framework,
                agency=world.unicef,
                agencies=[world.unicef, world.undp],
                outputs=[output],
            ),
            agency=world.unicef,
            year=world.year + (n % 3),
            status=WorkflowStatus.VALIDATED,
        )
        set_contribution_plan_outputs(
            actor=None,
            contribution=contribution,
            plan_outputs=[board.plans.unicef_output],
        )


def test_board_page_queries_do_not_grow_with_the_data(
    client, board, django_assert_num_queries
):
    user = board.world.board_member
    client.force_login(user)
    client.get(BOARD)  # warm the session
    with django_assert_num_queries(QUERIES):
        client.get(BOARD)
    _grow(board, 6)
    with django_assert_num_queries(QUERIES):
        response = client.get(BOARD)
    assert len(response.context["sections"]) == 10


QUERIES = 14
