"""The resident coordinator's dashboard: who sees it, that its figures are the
rollups', the year and basis it shows, the rebuild button and its query count.

Data is written through the joint-work services and the rollups are then
rebuilt by the engine, as a worker would after those writes commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from frameworks.services import (
    create_activity,
    create_contribution,
    submit_contribution,
    validate_contribution,
)
from reporting.models import (
    FundingRollup,
    OutcomeFundingRollup,
    RollupRequest,
    RollupState,
    TagFundingRollup,
    TeamFundingRollup,
)
from reporting.rollups import recompute_steps
from reporting.services import rebuild_progress_key, rebuild_team_rollups
from tests.frameworks.factories import SdgTargetFactory
from tests.frameworks.joint_work_factories import (
    JointWorkWorld,
    activity_data,
    build_world,
    figures_data,
)

pytestmark = pytest.mark.django_db

# The page's queries whatever the data size: session and user (2), the team and
# the user's memberships (2), the active framework, the rollup status, every
# year's team totals, the years with indicator values, outcome and output
# rollups (2), outputs, outcomes, tag rollups, SDG goals, SDG targets,
# common-chapter areas, joint programmes, indicator progress and indicators,
# and the coherence scorecard and open overlap alerts (2).
DASHBOARD_QUERIES = 21


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


# --- building data ----------------------------------------------------------------


def add_activity(world: JointWorkWorld, **overrides):
    return create_activity(
        actor=None, country_team=world.team, data=activity_data(world, **overrides)
    )


def add_contribution(world, activity, agency, *, state, year=None, **money):
    """A contribution walked through the workflow to `state`."""
    figures = {
        "required": Decimal("100000"),
        "available": Decimal("80000"),
        "spent": Decimal("50000"),
    }
    figures.update({name: Decimal(value) for name, value in money.items()})
    contribution = create_contribution(
        actor=None,
        activity=activity,
        agency=agency,
        year=year or world.year,
        figures=figures_data(world, results=[], **figures),
    )
    if state in ("submitted", "validated"):
        submit_contribution(actor=None, contribution=contribution)
    if state == "validated":
        validate_contribution(actor=None, contribution=contribution)
    return contribution


def rebuild(world: JointWorkWorld) -> None:
    rebuild_team_rollups(team_id=world.team.pk)


@dataclass
class Funded:
    """One activity with a validated UNDP contribution, a submitted UNICEF one,
    and a second activity with only a draft."""

    world: JointWorkWorld
    activity: object
    validated: object
    submitted: object
    draft: object


def fund(world: JointWorkWorld) -> Funded:
    activity = add_activity(world)
    validated = add_contribution(
        world, activity, world.undp, state="validated", required=120000
    )
    submitted = add_contribution(
        world,
        activity,
        world.unicef,
        state="submitted",
        required=60000,
        available=30000,
        spent=10000,
    )
    other = add_activity(world, title="Cash transfers", outputs=[world.output_wfp])
    draft = add_contribution(
        world, other, world.undp, state="draft", required=7777, available=777
    )
    rebuild(world)
    return Funded(world, activity, validated, submitted, draft)


@pytest.fixture
def funded(world) -> Funded:
    return fund(world)


def dashboard_url(code: str = "SOM", **params) -> str:
    url = reverse("reporting:dashboard", kwargs={"code": code})
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


# --- reading the page -------------------------------------------------------------


class TableReader(HTMLParser):
    """The rows of every `table[data-table]`, as the text a reader sees: notes
    under codes and text for screen readers only are left out."""

    SKIP = ("dash-table__note", "visually-hidden")

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list]] = {}
        self.table: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.section = ""
        self.skip_depth = 0
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.depth += 1
        if tag == "table" and "data-table" in attrs:
            self.table = attrs["data-table"]
            self.tables[self.table] = {"head": [], "body": [], "foot": []}
        if self.table is None:
            return
        if tag in ("thead", "tbody", "tfoot"):
            self.section = {"thead": "head", "tbody": "body", "tfoot": "foot"}[tag]
        elif tag == "tr":
            self.row = []
        elif tag in ("th", "td"):
            self.cell = []
        classes = (attrs.get("class") or "").split()
        if not self.skip_depth and any(name in classes for name in self.SKIP):
            self.skip_depth = self.depth

    def handle_endtag(self, tag):
        if self.skip_depth == self.depth:
            self.skip_depth = 0
        self.depth -= 1
        if self.table is None:
            return
        if tag in ("th", "td") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            self.row.append("" if text == "—" else text)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table][self.section].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None and not self.skip_depth:
            self.cell.append(data)


def read_tables(html: str) -> dict[str, dict[str, list]]:
    reader = TableReader()
    reader.feed(html)
    return reader.tables


def number(text: str) -> Decimal:
    return Decimal(re.sub(r"[,\s%\u00a0]", "", text))


def page(client, user, **params):
    client.force_login(user)
    response = client.get(dashboard_url(**params))
    assert response.status_code == 200
    return response


# --- who sees it ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("rc", 200),
        ("rco", 200),
        ("fp_undp", 200),
        ("fp_undp_other_team", 404),
        ("board_member", 404),
        ("administrator", 200),
        ("outsider", 404),
        (None, 302),
    ],
)
def test_dashboard_is_for_members_of_the_team(client, world, who, status):
    if who:
        client.force_login(getattr(world, who))
    response = client.get(dashboard_url())
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))


def test_dashboard_of_an_unknown_team_is_not_found(client, world):
    client.force_login(world.administrator)
    assert client.get(dashboard_url("XXX")).status_code == 404


def test_dashboard_refuses_writes(client, world):
    client.force_login(world.rc)
    assert client.post(dashboard_url()).status_code == 405


def test_team_page_and_home_link_to_the_dashboard(client, world):
    client.force_login(world.rc)
    url = dashboard_url()
    assert (
        url
        in client.get(reverse("reporting:team_detail", args=["SOM"])).content.decode()
    )
    assert url in client.get(reverse("reporting:home")).content.decode()


# --- figures ----------------------------------------------------------------------


def _team_row(world, basis):
    return TeamFundingRollup.objects.get(
        framework=world.framework, agency=None, year=world.year, basis=basis
    )


def test_headline_figures_are_the_rollups(client, funded):
    world = funded.world
    response = page(client, world.rc, year=world.year)
    board = response.context["dashboard"]
    row = _team_row(world, "validated")
    assert board.total.money() == (row.required, row.available, row.spent)
    assert board.total.gap == row.gap
    assert board.total.activity_count == row.activity_count == 1
    html = response.content.decode()
    assert ('<dd data-figure="required">120,000</dd>') in html


def test_validated_basis_leaves_out_submitted_and_draft_figures(client, funded):
    world = funded.world
    board = page(client, world.rc, year=world.year).context["dashboard"]
    assert board.basis == "validated"
    assert board.total.required == Decimal("120000")
    assert [a.agency.code for a in board.agencies] == ["UNDP"]
    tables = read_tables(page(client, world.rc, year=world.year).content.decode())
    agencies = [row[0] for row in tables["agencies"]["body"]]
    assert agencies == ["UNDP"]


def test_submitted_basis_adds_submitted_figures_but_never_drafts(client, funded):
    world = funded.world
    response = page(client, world.rc, year=world.year, basis="submitted")
    board = response.context["dashboard"]
    row = _team_row(world, "submitted")
    assert board.total.required == row.required == Decimal("180000")
    assert board.total.available == Decimal("110000")
    assert sorted(a.agency.code for a in board.agencies) == ["UNDP", "UNICEF"]
    html = response.content.decode()
    assert "7,777" not in html
    assert "Including figures that agencies have submitted" in html


def test_outcome_and_output_rows_are_the_rollups(client, funded):
    world = funded.world
    board = page(client, world.rc, year=world.year, basis="submitted").context[
        "dashboard"
    ]
    for line in board.outcomes:
        stored = OutcomeFundingRollup.objects.filter(
            outcome=line.outcome, agency=None, year=world.year, basis="submitted"
        ).first()
        expected = (
            (stored.required, stored.available, stored.spent) if stored else (0, 0, 0)
        )
        assert line.figures.money() == expected
        for output in line.outputs:
            stored = FundingRollup.objects.filter(
                output=output.output, agency=None, year=world.year, basis="submitted"
            ).first()
            assert output.figures.required == (stored.required if stored else 0)
            shares = {
                agency_id: figures.required
                for agency_id, figures in output.by_agency.items()
            }
            assert shares == dict(
                FundingRollup.objects.filter(
                    output=output.output,
                    agency__isnull=False,
                    year=world.year,
                    basis="submitted",
                ).values_list("agency_id", "required")
            )


def test_tables_on_the_page_show_the_rollups(client, funded):
    world = funded.world
    tables = read_tables(
        page(client, world.rc, year=world.year, basis="submitted").content.decode()
    )
    outcome = world.output.outcome
    row = next(r for r in tables["outcomes"]["body"] if r[0] == outcome.code)
    assert number(row[1]) == Decimal("180000")
    assert number(row[2]) == Decimal("110000")
    assert number(row[3]) == Decimal("60000")
    assert number(row[4]) == Decimal("70000")
    foot = tables["outcomes"]["foot"][0]
    assert number(foot[1]) == _team_row(world, "submitted").required
    matrix = {r[0]: r for r in tables["agencies"]["body"]}
    assert number(matrix["UNICEF"][1]) == Decimal("60000")
    goal = TagFundingRollup.objects.get(
        kind="sdg_goal", agency=None, year=world.year, basis="submitted"
    )
    goal_row = tables["sdg-goals"]["body"][0]
    assert goal_row[0] == str(goal.tag_id)
    assert number(goal_row[1]) == goal.required


def test_multi_tagged_money_gets_a_note(client, world):
    activity = add_activity(world, sdg_targets=[world.sdg_target, world.sdg_target_2])
    add_contribution(world, activity, world.undp, state="validated")
    rebuild(world)
    response = page(client, world.rc, year=world.year)
    html = response.content.decode()
    assert (
        "An activity tagged to several SDG targets counts in each; the total "
        "counts it once."
    ) in html
    tables = read_tables(html)
    targets = tables["sdg-targets"]
    assert [row[0] for row in targets["body"]] == ["5.2", "3.1"]
    assert sum(number(row[1]) for row in targets["body"]) == 2 * number(
        targets["foot"][0][1]
    )
    # Both targets are of one goal, which counts the activity once.
    assert "several SDG goals" not in html


def test_tables_that_add_up_have_no_note(client, funded):
    world = funded.world
    html = page(client, world.rc, year=world.year).content.decode()
    assert "counts in each" not in html
    assert "counts under each" not in html


def test_activity_on_outputs_of_two_outcomes_gets_a_note(client, world):
    from tests.frameworks.factories import OutcomeFactory, OutputFactory

    second = OutputFactory(outcome=OutcomeFactory(framework=world.framework))
    second.contributing_agencies.set([world.undp])
    activity = add_activity(world, outputs=[world.output, second])
    add_contribution(world, activity, world.undp, state="validated")
    rebuild(world)
    html = page(client, world.rc, year=world.year).content.decode()
    assert (
        "An activity linked to outputs of several outcomes counts under each; "
        "the total counts it once."
    ) in html


# --- year and basis ---------------------------------------------------------------


def test_default_year_is_the_latest_with_figures(client, world):
    activity = add_activity(world)
    add_contribution(world, activity, world.undp, state="validated")
    add_contribution(
        world, activity, world.undp, state="validated", year=world.year + 1
    )
    rebuild(world)
    board = page(client, world.rc).context["dashboard"]
    assert board.year == world.year + 1
    assert board.years_with_data == [world.year + 1, world.year]
    assert board.years == list(reversed(world.framework.years))


def test_year_and_basis_come_from_the_url(client, funded):
    world = funded.world
    response = page(client, world.rc, year=world.year, basis="submitted")
    html = response.content.decode()
    assert f'value="{world.year}" selected' in html
    assert 'id="dash-basis-submitted" name="basis" value="submitted" checked' in html
    query = f"year={world.year}&amp;basis=submitted&amp;measure=required"
    assert f"/teams/SOM/dashboard/outcomes.csv?{query}" in html
    assert f"/teams/SOM/dashboard/outcomes.xlsx?{query}" in html


def test_a_year_without_figures_says_so(client, funded):
    world = funded.world
    html = page(client, world.rc, year=world.year + 2).content.decode()
    assert f"No figures for {world.year + 2} yet." in html
    assert f"See {world.year}, the latest year with figures" in html


def test_unknown_values_fall_back_to_the_defaults(client, funded):
    world = funded.world
    board = page(
        client, world.rc, year="1800", basis="everything", measure="x", outcome="abc"
    ).context["dashboard"]
    assert (board.year, board.basis, board.measure) == (
        world.year,
        "validated",
        "required",
    )
    assert board.selected_outcome is None


def test_measure_switches_charts_and_matrix(client, funded):
    world = funded.world
    response = page(client, world.rc, year=world.year, measure="spent")
    assert response.context["charts"]["funding_by_agency"]["datasets"][0]["data"] == [
        50000.0
    ]
    assert "Spent by agency and outcome (USD)" in response.content.decode()


def test_dashboard_shows_the_coherence_scorecard_of_the_year(client, funded):
    world = funded.world
    response = page(client, world.rc, year=world.year, basis="submitted")
    coherence = response.context["coherence"]
    # Including submitted figures, UNDP and UNICEF deliver the output together.
    assert coherence.scorecard.part("shared_outputs").percent == Decimal(100)
    assert coherence.open_alerts == 0
    html = response.content.decode()
    assert '<dd data-figure="open-alerts">' in html
    coherence_url = reverse("coherence:team", kwargs={"code": "SOM"})
    assert f"{coherence_url}?year={world.year}&amp;basis=submitted" in html
    validated = page(client, world.rc, year=world.year).context["coherence"]
    assert validated.scorecard.part("shared_outputs").percent == Decimal(0)


def test_team_without_a_framework_gets_an_explanation(client, world):
    world.framework.status = "draft"
    world.framework.save(update_fields=["status"])
    response = page(client, world.rc)
    html = response.content.decode()
    assert "No Cooperation Framework is in force" in html
    assert "<canvas" not in html


def test_page_says_as_of_when_and_whether_an_update_is_pending(client, funded):
    world = funded.world
    state = RollupState.objects.get(country_team=world.team)
    html = page(client, world.rc).content.decode()
    assert state.computed_at.isoformat() in html.replace("&#x27;", "'") or (
        f'datetime="{state.computed_at:%Y-%m-%dT%H:%M:%S}' in html
    )
    assert "Update pending" not in html
    RollupRequest.objects.create(country_team=world.team, reason="test")
    assert "Update pending" in page(client, world.rc).content.decode()


def test_page_before_the_first_rollup(client, world):
    html = page(client, world.rc).content.decode()
    assert "Figures not computed yet" in html
    assert "No figures for" in html


# --- drill-down -------------------------------------------------------------------


def test_outcome_drills_down_to_its_outputs_and_their_activities(client, funded):
    world = funded.world
    outcome = world.output.outcome
    tables = read_tables(page(client, world.rc, year=world.year).content.decode())
    assert [row[0] for row in tables["outputs"]["body"]] == [
        world.output.code,
        world.output_wfp.code,
    ]
    response = page(client, world.rc, year=world.year, outcome=outcome.pk)
    html = response.content.decode()
    assert f"Outputs of outcome {outcome.code}" in html
    assert response.context["dashboard"].selected_outcome.outcome == outcome
    activities = reverse("frameworks:activity_list", args=["SOM"])
    assert f"{activities}?output={world.output.pk}&amp;year={world.year}" in html
    assert (
        f"?year={world.year}&amp;basis=validated&amp;measure=required&amp;outcome={outcome.pk}#outputs"
        in html
    )


# --- charts -----------------------------------------------------------------------


def test_charts_read_json_blocks_and_a_local_chart_library(client, funded):
    world = funded.world
    html = page(client, world.rc, year=world.year).content.decode()
    names = (
        "gap",
        "funding_by_agency",
        "outputs_by_agency",
        "progress",
        "sdg_goals",
        "areas",
    )
    for name in names:
        assert f'<script id="chart-{name}-data" type="application/json">' in html
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/unportal/dashboard.js" in html
    assert "cdn" not in html.lower()
    # No inline script: every <script> either loads a file or holds JSON.
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag


def test_chart_library_is_vendored_with_its_licence():
    from django.contrib.staticfiles import finders

    script = finders.find("vendor/chartjs/chart.umd.min.js")
    assert script
    with open(script, encoding="utf-8") as handle:
        assert "Chart.js v4.6.1" in handle.read(300)
    licence = finders.find("vendor/chartjs/LICENSE.md")
    with open(licence, encoding="utf-8") as handle:
        assert "MIT License" in handle.read()
    readme = finders.find("vendor/chartjs/README.md")
    with open(readme, encoding="utf-8") as handle:
        assert "4.6.1" in handle.read()
    assert finders.find("vendor/chartjs/chart.umd.min.js.map")


# --- rebuild button ---------------------------------------------------------------


def rebuild_url(name: str = "dashboard_rebuild") -> str:
    return reverse(f"reporting:{name}", kwargs={"code": "SOM"})


def test_coordinators_see_the_rebuild_button_and_focal_points_do_not(client, world):
    assert "Rebuild figures" in page(client, world.rco).content.decode()
    assert "Rebuild figures" not in page(client, world.fp_undp).content.decode()


def test_rco_rebuilds_the_team_and_watches_it_finish(
    client, funded, django_capture_on_commit_callbacks
):
    world = funded.world
    before = RollupState.objects.get(country_team=world.team).computed_at
    client.force_login(world.rco)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(rebuild_url(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert len(callbacks) == 1
    html = response.content.decode()
    assert "<progress" in html
    assert 'hx-trigger="every 1s"' in html
    after = re.search(r"after=([^\"&]+)", html).group(1)
    assert RollupState.objects.get(country_team=world.team).computed_at > before
    steps = len(recompute_steps())
    assert cache.get(rebuild_progress_key(world.team.pk)) == {
        "done": steps,
        "total": steps,
    }

    progress = client.get(f"{rebuild_url('dashboard_rebuild_progress')}?after={after}")
    assert progress.status_code == 200
    assert progress["HX-Refresh"] == "true"
    assert "hx-trigger" not in progress.content.decode()


def test_progress_fragment_shows_a_progress_bar_while_running(client, funded):
    world = funded.world
    stamp = RollupState.objects.get(country_team=world.team).computed_at.isoformat()
    cache.set(rebuild_progress_key(world.team.pk), {"done": 3, "total": 7})
    client.force_login(world.rc)
    response = client.get(rebuild_url("dashboard_rebuild_progress"), {"after": stamp})
    html = response.content.decode()
    assert '<progress id="rebuild-progress" max="7" value="3">' in html
    assert 'hx-trigger="every 1s"' in html
    assert "HX-Refresh" not in response
    # The job's last step is reported before it commits: not finished until
    # the "as of" stamp moves.
    cache.set(rebuild_progress_key(world.team.pk), {"done": 7, "total": 7})
    response = client.get(rebuild_url("dashboard_rebuild_progress"), {"after": stamp})
    assert "HX-Refresh" not in response
    assert 'max="7" value="7"' in response.content.decode()


def test_rebuild_without_htmx_redirects_to_the_dashboard(
    client, funded, django_capture_on_commit_callbacks
):
    client.force_login(funded.world.rco)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(rebuild_url())
    assert response.status_code == 302
    assert response["Location"] == dashboard_url()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("rc", 200),
        ("rco", 200),
        ("administrator", 200),
        ("fp_undp", 403),
        ("fp_undp_other_team", 404),
        ("rco_other_team", 404),
        ("board_member", 404),
        ("outsider", 404),
        (None, 302),
    ],
)
def test_rebuild_is_for_the_rc_office(
    client, world, who, status, django_capture_on_commit_callbacks
):
    if who:
        client.force_login(getattr(world, who))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(rebuild_url(), HTTP_HX_REQUEST="true")
    assert response.status_code == status
    assert len(callbacks) == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("who", "status"),
    [("rco", 200), ("fp_undp", 200), ("fp_undp_other_team", 404), (None, 302)],
)
def test_rebuild_progress_is_for_members(client, world, who, status):
    if who:
        client.force_login(getattr(world, who))
    assert client.get(rebuild_url("dashboard_rebuild_progress")).status_code == status


def test_rebuild_refuses_get(client, world):
    client.force_login(world.rco)
    assert client.get(rebuild_url()).status_code == 405


# --- queries ----------------------------------------------------------------------


def spread(world: JointWorkWorld, count: int) -> None:
    """`count` activities, each with its own SDG target and two validated
    contributions, so every rollup table grows with `count`."""
    for index in range(count):
        target = SdgTargetFactory(code=f"9.{index + 1}")
        activity = add_activity(
            world,
            title=f"Joint activity {index}",
            sdg_targets=[target],
            outputs=[world.output if index % 2 else world.output_wfp],
        )
        add_contribution(world, activity, world.undp, state="validated")
        add_contribution(world, activity, world.unicef, state="submitted")
    rebuild(world)


@pytest.mark.parametrize("count", [1, 10])
def test_dashboard_queries_do_not_grow_with_the_data(
    client, world, count, django_assert_num_queries
):
    spread(world, count)
    client.force_login(world.rc)
    for basis in ("validated", "submitted"):
        with django_assert_num_queries(DASHBOARD_QUERIES):
            response = client.get(dashboard_url(basis=basis))
        assert response.status_code == 200
    board = response.context["dashboard"]
    assert board.total.contribution_count == 2 * count
    assert board.total.activity_count == count
    assert len(board.sdg_targets.lines) == count


def test_dashboard_query_count_is_the_same_for_1_and_10_activities(client, world):
    client.force_login(world.rc)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get(dashboard_url(outcome=world.output.outcome_id))
        return len(queries)

    spread(world, 1)
    small = count_queries()
    spread(world, 9)
    assert count_queries() == small <= DASHBOARD_QUERIES + 1
