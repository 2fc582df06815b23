"""The executive board's figures: validated rollup rows only, added up across
country teams, with tagged money shown in full and flagged, and a fixed
number of queries whatever the data size.

Data goes in through the joint-work services and the rollups are rebuilt by
the engine, as a worker would after those writes commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from coordination.models import Agency, Region
from frameworks.models import CommonChapterArea, JointActivity, SdgGoal
from frameworks.services import (
    create_activity,
    record_measurement,
    submit_measurement,
    validate_measurement,
)
from frameworks.services.common_chapter import create_common_chapter_commitment
from reporting.board_filters import BoardFilters
from reporting.board_selectors import (
    Money,
    Progress,
    board_summary,
    board_team,
    common_chapter_summary,
    iso_numeric,
    list_board_years,
)
from reporting.models import TagFundingRollup, TeamFundingRollup
from reporting.selectors import OVER, UNDER
from reporting.services import rebuild_team_rollups
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)
from tests.frameworks.joint_work_factories import (
    JointWorkWorld,
    activity_data,
    build_world,
    measurement_data,
)
from tests.reporting.test_dashboard import add_activity, add_contribution

pytestmark = pytest.mark.django_db

SUMMARY_QUERIES = 14


@dataclass
class Board:
    """Somalia (Arab States) and Nigeria (Africa) with validated, submitted and
    draft figures for one year.

    Somalia: activity A (UNDP lead, in a joint programme, goal 5, area CC4)
    with UNDP validated 120,000 / 80,000 / 50,000 and UNICEF submitted;
    activity B (no programme, goals 5 and 3, no area) with UNICEF validated
    40,000 / 40,000 / 20,000 and a WFP draft of 7,777. Nigeria: activity C (in
    a programme, goal 5, area CC4) with UNDP validated 200,000 / 150,000 /
    100,000. One Somali indicator is on track, one off track, three without
    data; all of them count under goal 5 through their outcome's target.
    """

    world: JointWorkWorld
    goal_5: SdgGoal
    goal_3: SdgGoal
    area: CommonChapterArea
    empty_area: CommonChapterArea
    somalia_a: JointActivity
    nigeria_c: JointActivity

    @property
    def year(self) -> int:
        return self.world.year

    def filters(self, **values) -> BoardFilters:
        return BoardFilters.for_year(self.year, **values)


def contribute(world, activity, agency, state, required, available, spent, **kw):
    return add_contribution(
        world,
        activity,
        agency,
        state=state,
        required=required,
        available=available,
        spent=spent,
        **kw,
    )


def rebuild_all(world: JointWorkWorld) -> None:
    for team in (world.team, world.other_team):
        rebuild_team_rollups(team_id=team.pk)


def validated_measurement(world, indicator, value) -> None:
    measurement = record_measurement(
        actor=None,
        indicator=indicator,
        data=measurement_data(world, value=Decimal(value), disaggregation={}),
    )
    submit_measurement(actor=None, measurement=measurement)
    validate_measurement(actor=None, measurement=measurement)


def build_board() -> Board:
    world = build_world()
    world.team.region = Region.ARAB_STATES
    world.team.save(update_fields=["region"])
    Agency.objects.filter(pk__in=[world.undp.pk, world.unicef.pk]).update(
        is_common_chapter_signatory=True
    )
    goal_5, goal_3 = SdgGoalFactory(number=5), SdgGoalFactory(number=3)
    target_5 = SdgTargetFactory(code="5.1", goal=goal_5)
    target_3 = SdgTargetFactory(code="3.2", goal=goal_3)
    world.output.outcome.sdg_targets.set([target_5])
    empty_area = CommonChapterAreaFactory(position=2, code="CC2", name="Climate")

    a = add_activity(world, title="Safe spaces", sdg_targets=[target_5])
    contribute(world, a, world.undp, "validated", 120000, 80000, 50000)
    contribute(world, a, world.unicef, "submitted", 60000, 30000, 10000)
    b = add_activity(
        world,
        title="Cash transfers",
        agencies=[world.undp, world.unicef, world.wfp],
        outputs=[world.output_wfp],
        sdg_targets=[target_5, target_3],
        common_chapter_areas=[],
        joint_programme=None,
    )
    contribute(world, b, world.unicef, "validated", 40000, 40000, 20000)
    contribute(world, b, world.wfp, "draft", 7777, 777, 77)
    c = create_activity(
        actor=None,
        country_team=world.other_team,
        data=activity_data(
            world,
            title="School meals",
            outputs=[world.other_output],
            joint_programme=world.other_programme,
            locations=[world.other_region],
            sdg_targets=[target_5],
        ),
    )
    contribute(world, c, world.undp, "validated", 200000, 150000, 100000)

    validated_measurement(world, world.number_indicator, 250)
    validated_measurement(world, world.wfp_indicator, 12)
    rebuild_all(world)
    return Board(
        world=world,
        goal_5=goal_5,
        goal_3=goal_3,
        area=world.area,
        empty_area=empty_area,
        somalia_a=a,
        nigeria_c=c,
    )


@pytest.fixture
def board() -> Board:
    return build_board()


def money(required, available, spent, contributions) -> Money:
    return Money(Decimal(required), Decimal(available), Decimal(spent), contributions)


def by_key(lines):
    return {line.key: line for line in lines}


# --- money ------------------------------------------------------------------------


def test_totals_are_the_validated_team_rollups_added_up(board):
    summary = board_summary(board.filters())
    stored = TeamFundingRollup.objects.filter(
        basis="validated", agency=None, year=board.year
    ).aggregate(
        required=Sum("required"), available=Sum("available"), spent=Sum("spent")
    )
    assert summary.total.values() == (
        stored["required"],
        stored["available"],
        stored["spent"],
    )
    assert summary.total == money(360000, 270000, 170000, 3)
    assert summary.total.gap == Decimal(90000)
    assert summary.total.funded_percent == Decimal("75.0")


def test_submitted_and_draft_figures_never_count(board):
    # The rollups hold them in the other basis; the board never reads it.
    submitted = TeamFundingRollup.objects.get(
        country_team=board.world.team, agency=None, year=board.year, basis="submitted"
    )
    assert submitted.required == Decimal(220000)
    summary = board_summary(board.filters())
    somalia = by_key(summary.teams)["SOM"]
    assert somalia.money == money(160000, 120000, 70000, 2)
    assert (
        "WFP" not in by_key(summary.agencies)
        or by_key(summary.agencies)["WFP"].money.is_empty
    )
    assert by_key(summary.agencies)["UNICEF"].money == money(40000, 40000, 20000, 1)


def test_teams_regions_and_agencies_add_up_to_the_total(board):
    summary = board_summary(board.filters())
    assert by_key(summary.teams)["NGA"].money == money(200000, 150000, 100000, 1)
    for lines in (summary.teams, summary.regions, summary.agencies):
        assert Money.total(line.money for line in lines) == summary.total
    regions = by_key(summary.regions)
    assert regions[Region.ARAB_STATES].money.required == Decimal(160000)
    assert regions[Region.AFRICA].money.required == Decimal(200000)


def test_tagged_money_counts_in_full_under_each_tag_and_is_flagged(board):
    summary = board_summary(board.filters())
    goals = by_key(summary.goals)
    # B is tagged to goals 5 and 3: its money is under both.
    assert goals["5"].money == money(360000, 270000, 170000, 3)
    assert goals["3"].money == money(40000, 40000, 20000, 1)
    assert goals["1"].money.is_empty
    assert summary.goals_compared == OVER
    # B has no area: the areas add up to less than the total.
    areas = by_key(summary.areas)
    assert areas["CC4"].money == money(320000, 230000, 150000, 2)
    assert areas["CC2"].money.is_empty
    assert summary.areas_compared == UNDER
    stored = TagFundingRollup.objects.filter(
        kind="sdg_goal", tag_id=5, agency=None, basis="validated", year=board.year
    ).aggregate(required=Sum("required"))
    assert goals["5"].money.required == stored["required"]


def test_money_through_joint_programmes(board):
    summary = board_summary(board.filters())
    # A (Somalia) and C (Nigeria) belong to programmes; B does not.
    assert summary.programme == money(320000, 230000, 150000, 2)
    assert summary.programme_share == Decimal("88.2")
    agencies = by_key(summary.agencies)
    assert agencies["UNDP"].programme_share == Decimal("100.0")
    assert agencies["UNICEF"].programme_share == Decimal("0.0")
    teams = by_key(summary.teams)
    assert teams["SOM"].programme.spent == Decimal(50000)
    assert teams["SOM"].measure("joint_programme_share") == Decimal("71.4")


# --- indicators -------------------------------------------------------------------


def test_indicator_progress_at_the_end_of_the_period(board):
    summary = board_summary(board.filters())
    teams = by_key(summary.teams)
    assert teams["SOM"].progress == Progress(on_track=1, off_track=1, no_data=3)
    # Nigeria's framework has no indicators.
    assert teams["NGA"].progress == Progress()
    assert summary.progress == Progress(on_track=1, off_track=1, no_data=3)
    assert summary.progress.on_track_percent == Decimal("50.0")


def test_indicators_count_under_agencies_goals_and_areas(board):
    summary = board_summary(board.filters())
    agencies = by_key(summary.agencies)
    # Output 1 (UNDP, UNICEF): number (on track), percentage, yes/no; the
    # outcome indicator counts for every agency of the outcome's outputs.
    assert agencies["UNDP"].progress == Progress(on_track=1, no_data=3)
    assert agencies["WFP"].progress == Progress(off_track=1, no_data=1)
    # All Somali indicators sit under an outcome tagged to goal 5.
    assert by_key(summary.goals)["5"].progress == Progress(1, 1, 3)
    assert by_key(summary.goals)["3"].progress == Progress()
    # Output 1 carries A, tagged CC4; the WFP output's activity has no area.
    assert by_key(summary.areas)["CC4"].progress == Progress(on_track=1, no_data=3)


def test_drafts_of_measurements_never_count(board):
    world = board.world
    record_measurement(
        actor=None,
        indicator=world.percentage_indicator,
        data=measurement_data(
            world,
            value=None,
            numerator=Decimal(50),
            denominator=Decimal(100),
            disaggregation={},
        ),
    )
    rebuild_all(world)
    summary = board_summary(board.filters())
    assert by_key(summary.teams)["SOM"].progress == Progress(1, 1, 3)


# --- filters ----------------------------------------------------------------------


def test_region_filter_keeps_its_teams_only(board):
    summary = board_summary(board.filters(region=Region.AFRICA))
    assert [line.key for line in summary.teams] == ["NGA"]
    assert summary.total == money(200000, 150000, 100000, 1)
    assert summary.progress == Progress()


def test_agency_filter_narrows_money_and_indicators(board):
    unicef = board.world.unicef
    summary = board_summary(board.filters(agency=unicef))
    assert summary.total == money(40000, 40000, 20000, 1)
    assert [line.key for line in summary.agencies] == ["UNICEF"]
    assert by_key(summary.goals)["3"].money.required == Decimal(40000)
    # UNICEF contributes to output 1, and so to the outcome indicator.
    assert summary.progress == Progress(on_track=1, no_data=3)


def test_area_filter_reads_the_areas_money(board):
    summary = board_summary(board.filters(area=board.area))
    assert summary.total == money(320000, 230000, 150000, 2)
    assert by_key(summary.teams)["SOM"].money.required == Decimal(120000)
    assert summary.goals is None
    assert summary.programme is None
    assert summary.outcome_gaps is None
    assert [line.key for line in summary.areas] == ["CC4"]
    assert summary.progress == Progress(on_track=1, no_data=3)


def test_goal_filter_reads_the_goals_money(board):
    summary = board_summary(board.filters(goal=board.goal_3))
    assert summary.total == money(40000, 40000, 20000, 1)
    assert summary.areas is None
    assert [line.key for line in summary.goals] == ["3"]
    assert summary.progress == Progress()


def test_a_range_of_years_adds_the_years_up(board):
    world = board.world
    later = board.year + 1
    contribute(
        world, board.nigeria_c, world.undp, "validated", 1000, 1000, 500, year=later
    )
    rebuild_all(world)
    one = board_summary(board.filters())
    both = board_summary(BoardFilters(year_from=board.year, year_to=later))
    assert both.total == one.total + money(1000, 1000, 500, 1)
    trend = {line.year: line for line in both.trend}
    assert trend[board.year].in_period
    assert trend[later].in_period
    assert trend[later].money == money(1000, 1000, 500, 1)
    assert not {line.year: line for line in one.trend}[later].in_period


def test_outcome_gaps_list_the_largest_shortfall_first(board):
    gaps = board_summary(board.filters()).outcome_gaps
    assert [(gap.team.code, gap.money.gap) for gap in gaps] == [
        ("NGA", Decimal(50000)),
        ("SOM", Decimal(40000)),
    ]
    assert gaps[1].outcome == board.world.output.outcome


def test_years_offered_are_those_with_validated_figures(board):
    assert list_board_years() == [board.year]


def test_map_codes_come_from_iso():
    assert iso_numeric("SOM") == "706"
    assert iso_numeric("XKX") == ""


# --- the common chapter -----------------------------------------------------------


def test_common_chapter_commitments_and_the_signatories_delivery(board):
    world = board.world
    create_common_chapter_commitment(
        country_team=world.team,
        area=board.area,
        title="One referral pathway for survivors",
        year=board.year,
        agencies=[world.undp, world.unicef],
        status="on_track",
        actor=None,
    )
    create_common_chapter_commitment(
        country_team=world.other_team,
        area=board.empty_area,
        title="Anticipatory cash",
        kind="accelerator",
        year=board.year + 1,
        actor=None,
    )
    summary = common_chapter_summary(board.filters())
    assert [agency.code for agency in summary.signatories] == ["UNDP", "UNICEF"]
    # The accelerator is dated after the period.
    assert [c.title for c in summary.commitments] == [
        "One referral pathway for survivors"
    ]
    delivery = {(line.area.code, line.team.code): line for line in summary.delivery}
    somalia = delivery[("CC4", "SOM")]
    assert somalia.commitments == 1
    assert somalia.by_signatory[world.undp.pk] == money(120000, 80000, 50000, 1)
    assert world.unicef.pk not in somalia.by_signatory
    assert delivery[("CC4", "NGA")].signatories.spent == Decimal(100000)
    overview = {line.area.code: line for line in summary.areas}
    assert overview["CC4"].signatories.spent == Decimal(150000)
    assert overview["CC4"].countries == 1
    assert overview["CC4"].by_status["on_track"] == 1

    later = common_chapter_summary(
        BoardFilters.for_year(board.year + 1, area=board.empty_area)
    )
    assert [overview.area.code for overview in later.areas] == ["CC2"]
    assert [c.title for c in later.commitments] == ["Anticipatory cash"]


# --- one team ---------------------------------------------------------------------


def test_board_team_shows_outcomes_and_indicators_of_the_period(board):
    world = board.world
    team = board_team(board.filters(team=world.team))
    assert [line.key for line in team.summary.teams] == ["SOM"]
    assert team.summary.total == money(160000, 120000, 70000, 2)
    (outcome,) = team.outcomes
    assert outcome.money == money(160000, 120000, 70000, 2)
    assert outcome.progress == Progress(1, 1, 3)
    lines = {line.indicator.code: line for line in team.indicators}
    assert lines["CHILDREN-VACC"].status == "on_track"
    assert lines["CHILDREN-VACC"].progress.year == board.year
    assert lines["MEALS"].status == "off_track"
    assert lines["STUNTING"].status == "no_data"

    narrowed = board_team(board.filters(team=world.team, agency=world.wfp))
    assert [line.indicator.code for line in narrowed.indicators] == [
        "MEALS",
        "STUNTING",
    ]
    assert narrowed.outcomes[0].money.is_empty


# --- queries ----------------------------------------------------------------------


def count_queries(filters: BoardFilters) -> int:
    with CaptureQueriesContext(connection) as queries:
        board_summary(filters)
    return len(queries)


def test_summary_queries_do_not_grow_with_the_data(board):
    world = board.world
    small = count_queries(board.filters())
    assert small <= SUMMARY_QUERIES
    for index in range(6):
        target = SdgTargetFactory(code=f"9.{index + 1}")
        activity = add_activity(world, title=f"More work {index}", sdg_targets=[target])
        contribute(world, activity, world.undp, "validated", 10, 10, 5)
        contribute(world, activity, world.unicef, "validated", 10, 10, 5)
    rebuild_all(world)
    assert count_queries(board.filters()) == small
    assert count_queries(board.filters(agency=world.undp)) <= SUMMARY_QUERIES
    assert count_queries(board.filters(area=board.area)) <= SUMMARY_QUERIES
