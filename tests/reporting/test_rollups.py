"""Rollups on small, hand-computed examples, written through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from frameworks.models import Aggregation, IndicatorUnit
from frameworks.services import (
    MeasurementData,
    ResultData,
    create_activity,
    create_contribution,
    record_measurement,
    return_contribution,
    submit_contribution,
    submit_measurement,
    update_contribution,
    update_measurement,
    validate_contribution,
    validate_measurement,
)
from reporting import rollups
from reporting.coherence import audit_team_coherence
from reporting.models import (
    FundingRollup,
    IndicatorProgress,
    OutcomeFundingRollup,
    RollupRequest,
    RollupState,
    TagFundingRollup,
    TeamFundingRollup,
    TeamSnapshot,
)
from reporting.models.coherence import DisaggregationRollup
from reporting.services import (
    audit_team_rollups,
    process_team_rollups,
    rebuild_team_rollups,
    request_team_rollups,
)
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    IndicatorFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)
from tests.frameworks.joint_work_factories import (
    JointWorkWorld,
    activity_data,
    build_world,
    figures_data,
)

pytestmark = pytest.mark.django_db

MONEY = ("required", "available", "spent", "gap")
COUNTS = ("contribution_count", "activity_count", "agency_count")


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


def money(required, available, spent) -> tuple[Decimal, ...]:
    required, available, spent = (Decimal(str(v)) for v in (required, available, spent))
    return (required, available, spent, required - available)


def figures(row) -> tuple:
    return tuple(getattr(row, name) for name in MONEY + COUNTS)


def rollup(world: JointWorkWorld) -> None:
    request_team_rollups(team_id=world.team.pk, reason="test")
    run = process_team_rollups(team_id=world.team.pk)
    assert run.recomputed


def activity(world: JointWorkWorld, *, team=None, **overrides):
    """An activity of `team` (the world's own team by default)."""
    return create_activity(
        actor=None,
        country_team=team or world.team,
        data=activity_data(world, **overrides),
    )


def money_only(world, *, required, available, spent):
    """Figures with these amounts and no results."""
    return figures_data(
        world,
        required=Decimal(required),
        available=Decimal(available),
        spent=Decimal(spent),
        results=[],
    )


def contribution(
    world, activity, agency, *, required, available, spent, state, year=None
):
    """A contribution of `agency` for `year` (the world's), walked to `state`."""
    made = create_contribution(
        actor=None,
        activity=activity,
        agency=agency,
        year=year or world.year,
        figures=money_only(world, required=required, available=available, spent=spent),
    )
    if state != "draft":
        submit_contribution(actor=None, contribution=made)
    if state == "validated":
        validate_contribution(actor=None, contribution=made)
    if state == "returned":
        return_contribution(actor=None, contribution=made, comment="Check the sums.")
    return made


def revise(world, made, *, required, available, spent):
    """A new revision of `made` with these figures, left as a draft."""
    return update_contribution(
        actor=None,
        contribution=made,
        figures=money_only(world, required=required, available=available, spent=spent),
        expected_version=None,
    )


def measure(indicator, year, *, agency=None, state="validated", **values):
    measurement = record_measurement(
        actor=None,
        indicator=indicator,
        agency=agency,
        data=MeasurementData(year=year, source="Survey", **values),
    )
    if state != "draft":
        submit_measurement(actor=None, measurement=measurement)
    if state == "validated":
        validate_measurement(actor=None, measurement=measurement)
    return measurement


def progress(indicator, year, basis="validated") -> IndicatorProgress:
    return IndicatorProgress.objects.get(indicator=indicator, year=year, basis=basis)


# --- money tagged many times --------------------------------------------------------


@pytest.fixture
def multi_tagged(world):
    """One activity on two outputs of one outcome, three SDG targets (two of goal
    16), two common-chapter areas and a joint programme, funded by two agencies."""
    goal_16, goal_3 = SdgGoalFactory(number=16), SdgGoalFactory(number=3)
    targets = [
        SdgTargetFactory(code="16.1", goal=goal_16),
        SdgTargetFactory(code="16.2", goal=goal_16),
        SdgTargetFactory(code="3.7", goal=goal_3),
    ]
    areas = [world.area, CommonChapterAreaFactory(position=2, code="CC2")]
    work = activity(
        world,
        outputs=[world.output, world.output_wfp],
        sdg_targets=targets,
        common_chapter_areas=areas,
    )
    contribution(
        world, work, world.undp, required=100000, available=80000, spent=50000,
        state="validated",
    )  # fmt: skip
    contribution(
        world, work, world.unicef, required=40000, available=10000, spent=5000,
        state="validated",
    )  # fmt: skip
    rollup(world)
    return world, targets, areas


def test_each_output_shows_the_full_amount_of_a_multi_output_activity(multi_tagged):
    world, _targets, _areas = multi_tagged
    for output in (world.output, world.output_wfp):
        rows = FundingRollup.objects.filter(output=output, basis="validated")
        assert figures(rows.get(agency=world.undp)) == (
            *money(100000, 80000, 50000),
            1,
            1,
            1,
        )
        assert figures(rows.get(agency=world.unicef)) == (
            *money(40000, 10000, 5000),
            1,
            1,
            1,
        )
        assert figures(rows.get(agency=None)) == (*money(140000, 90000, 55000), 2, 1, 2)


def test_outcome_and_framework_totals_count_the_contribution_once(multi_tagged):
    world, _targets, _areas = multi_tagged
    outcome = OutcomeFundingRollup.objects.get(
        outcome=world.output.outcome, agency=None, basis="validated"
    )
    total = TeamFundingRollup.objects.get(
        framework=world.framework, agency=None, basis="validated"
    )
    for row in (outcome, total):
        assert figures(row) == (*money(140000, 90000, 55000), 2, 1, 2)
    assert TeamFundingRollup.objects.get(
        agency=world.undp, basis="validated"
    ).required == Decimal("100000")


def test_every_tag_shows_the_full_tagged_amount(multi_tagged):
    world, _targets, _areas = multi_tagged
    tagged = {
        (row.kind, row.tag_code or str(row.tag_id)): figures(row)
        for row in TagFundingRollup.objects.filter(agency=None, basis="validated")
    }
    full = (*money(140000, 90000, 55000), 2, 1, 2)
    assert tagged == {
        ("sdg_target", "16.1"): full,
        ("sdg_target", "16.2"): full,
        ("sdg_target", "3.7"): full,
        # Two targets of goal 16 do not make goal 16 twice as rich.
        ("sdg_goal", "16"): full,
        ("sdg_goal", "3"): full,
        ("cc_area", "CC4"): full,
        ("cc_area", "CC2"): full,
        ("joint_programme", str(world.programme.pk)): full,
    }
    goal = TagFundingRollup.objects.get(
        kind="sdg_goal", tag_id=16, agency=world.undp, basis="validated"
    )
    assert goal.required == Decimal("100000")


def test_activity_and_agency_counts_are_distinct_across_agencies(world):
    first = activity(world, agencies=[world.undp, world.unicef])
    second = activity(world, agencies=[world.undp, world.wfp], title="Second")
    for work, agency in ((first, world.undp), (first, world.unicef)):
        contribution(
            world, work, agency, required=10, available=5, spent=1, state="validated"
        )
    contribution(
        world, second, world.undp, required=7, available=7, spent=7, state="validated"
    )
    rollup(world)

    total = TeamFundingRollup.objects.get(agency=None, basis="validated")
    assert figures(total) == (*money(27, 17, 9), 3, 2, 2)
    undp = TeamFundingRollup.objects.get(agency=world.undp, basis="validated")
    assert figures(undp) == (*money(17, 12, 8), 2, 2, 1)


# --- workflow bases -----------------------------------------------------------------


def bases(world, agency=None) -> dict[str, tuple]:
    return {
        row.basis: figures(row)[:3]
        for row in TeamFundingRollup.objects.filter(
            country_team=world.team, agency=agency
        )
    }


def test_a_submitted_revision_shows_only_including_submitted(world):
    work = activity(world)
    made = contribution(
        world, work, world.undp, required=100, available=80, spent=50,
        state="validated",
    )  # fmt: skip
    revise(world, made, required=150, available=90, spent=60)
    rollup(world)
    revision_1 = money(100, 80, 50)[:3]
    # A draft revision 2 is nobody's figures yet: both bases keep revision 1.
    assert bases(world) == {"validated": revision_1, "submitted": revision_1}

    submit_contribution(actor=None, contribution=made)
    rollup(world)
    revision_2 = money(150, 90, 60)[:3]
    assert bases(world) == {"validated": revision_1, "submitted": revision_2}

    validate_contribution(actor=None, contribution=made)
    rollup(world)
    assert bases(world) == {"validated": revision_2, "submitted": revision_2}


@pytest.mark.parametrize(
    ("state", "expected_bases"),
    [
        ("draft", set()),
        ("returned", set()),
        ("submitted", {"submitted"}),
        ("validated", {"validated", "submitted"}),
    ],
)
def test_only_validated_figures_reach_the_validated_basis(world, state, expected_bases):
    contribution(
        world, activity(world), world.undp, required=5, available=4, spent=3,
        state=state,
    )  # fmt: skip
    rollup(world)
    for model in (FundingRollup, OutcomeFundingRollup, TeamFundingRollup):
        found = set(model.objects.values_list("basis", flat=True))
        assert found == expected_bases, model.__name__
    found = set(TagFundingRollup.objects.values_list("basis", flat=True))
    assert found == expected_bases


# --- indicator progress -------------------------------------------------------------


def test_percentages_divide_summed_numerators_by_summed_denominators(world):
    indicator = world.percentage_indicator  # baseline 10, target 50
    measure(indicator, world.year, agency=world.undp, numerator=30, denominator=100)
    measure(indicator, world.year, agency=world.unicef, numerator=10, denominator=50)
    rollup(world)

    row = progress(indicator, world.year)
    # 40 / 150, not the average of 30 % and 20 %.
    assert row.value.quantize(Decimal("0.01")) == Decimal("26.67")
    assert (row.numerator, row.denominator) == (Decimal(40), Decimal(150))
    assert row.percent_of_way == Decimal("41.67")  # (26.67 - 10) / (50 - 10)
    assert row.expected_percent == Decimal("20.00")  # first of five years
    assert row.status == "on_track"
    assert (row.source_count, row.reporter_count) == (2, 2)


def test_a_cumulative_indicator_takes_each_agencys_latest_value(world):
    indicator = IndicatorFactory(
        output=world.output,
        code="TRAINED",
        across_periods=Aggregation.LATEST,
        across_agencies=Aggregation.SUM,
        baseline_value=Decimal(0),
        target_value=Decimal(1000),
    )
    year, next_year = world.year, world.year + 1
    measure(indicator, year, agency=world.undp, value=100)
    measure(indicator, next_year, agency=world.undp, value=250)
    measure(indicator, year, agency=world.unicef, value=30, period_label="Q1")
    measure(indicator, year, agency=world.unicef, value=50, period_label="Q3")
    rollup(world)

    assert progress(indicator, year).value == Decimal(150)  # 100 + 50
    later = progress(indicator, next_year)
    assert later.value == Decimal(300)  # 250 + 50, not 100 + 250 + 30 + 50
    assert later.year_value == Decimal(250)  # only UNDP reported in that year
    assert later.percent_of_way == Decimal("30.00")


def test_a_summed_indicator_adds_every_period_to_date(world):
    indicator = world.wfp_indicator  # sum across periods and agencies
    measure(indicator, world.year, agency=world.wfp, value=10, period_label="H1")
    measure(indicator, world.year, agency=world.wfp, value=15, period_label="H2")
    measure(indicator, world.year + 1, value=5)  # team-wide
    rollup(world)
    assert progress(indicator, world.year).value == Decimal(25)
    assert progress(indicator, world.year + 1).value == Decimal(30)
    assert progress(indicator, world.year + 1).reporter_count == 2


def test_a_descending_indicator_progresses_as_it_falls(world):
    indicator = IndicatorFactory(
        output=world.output,
        code="STUNTING-RATE",
        direction="descending",
        baseline_value=Decimal(40),
        target_value=Decimal(20),
    )
    measure(indicator, world.year, value=35)
    rollup(world)

    first = progress(indicator, world.year)
    assert first.percent_of_way == Decimal("25.00")  # 5 of the 20 points to go
    assert first.status == "on_track"  # 20 % of the period has passed
    second = progress(indicator, world.year + 1)
    assert second.value == Decimal(35)
    assert second.status == "off_track"  # 40 % has passed, still 25 % of the way


def test_an_indicator_without_values_has_no_data(world):
    indicator = world.wfp_indicator
    measure(indicator, world.year, agency=world.wfp, value=10, state="draft")
    measure(indicator, world.year + 1, agency=world.wfp, value=20, state="submitted")
    rollup(world)

    rows = IndicatorProgress.objects.filter(indicator=indicator)
    years = set(world.framework.years)
    assert {row.year for row in rows} == years
    for row in rows.filter(basis="validated"):
        assert (row.status, row.value, row.percent_of_way) == ("no_data", None, None)
    submitted = rows.filter(basis="submitted")
    assert submitted.get(year=world.year).status == "no_data"
    assert submitted.get(year=world.year + 1).value == Decimal(20)


def test_a_pending_replacement_counts_instead_of_the_value_it_replaces(world):
    from frameworks.services import update_measurement

    indicator = world.wfp_indicator
    old = measure(indicator, world.year, agency=world.wfp, value=10)
    replacement = update_measurement(
        actor=None,
        measurement=old,
        data=MeasurementData(year=world.year, value=Decimal(12), source="Survey"),
        expected_version=None,
    )
    submit_measurement(actor=None, measurement=replacement)
    rollup(world)
    assert progress(indicator, world.year, "validated").value == Decimal(10)
    assert progress(indicator, world.year, "submitted").value == Decimal(12)


def test_contribution_results_count_with_their_basis_revision(world):
    indicator = world.number_indicator  # sum, baseline 10, target 50
    work = activity(world)
    made = create_contribution(
        actor=None,
        activity=work,
        agency=world.undp,
        year=world.year,
        figures=figures_data(world),  # 100 children, 45/60 at school
    )
    submit_contribution(actor=None, contribution=made)
    rollup(world)
    assert progress(indicator, world.year, "validated").status == "no_data"
    assert progress(indicator, world.year, "submitted").value == Decimal(100)
    share = progress(world.percentage_indicator, world.year, "submitted")
    assert share.value == Decimal("75.0000")
    assert world.percentage_indicator.unit == IndicatorUnit.PERCENTAGE


# --- the write path -----------------------------------------------------------------


def test_a_service_write_records_a_request_and_rollups_follow_the_commit(
    world, django_capture_on_commit_callbacks
):
    work = activity(world)
    RollupRequest.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        contribution(
            world, work, world.undp, required=9, available=6, spent=3,
            state="validated",
        )  # fmt: skip
        # Still inside the writer's transaction: three writes, one request.
        assert RollupRequest.objects.filter(country_team=world.team).count() == 1
        assert not TeamFundingRollup.objects.exists()
    assert not RollupRequest.objects.exists()
    total = TeamFundingRollup.objects.get(agency=None, basis="validated")
    assert figures(total) == (*money(9, 6, 3), 1, 1, 1)
    assert RollupState.objects.get(country_team=world.team).computed_at
    assert TeamSnapshot.objects.filter(country_team=world.team).exists()


def test_a_rolled_back_write_leaves_no_request(
    world, django_capture_on_commit_callbacks
):
    work = activity(world)
    RollupRequest.objects.all().delete()

    def save_then_fail() -> None:
        with transaction.atomic():
            contribution(
                world, work, world.undp, required=1, available=1, spent=1,
                state="validated",
            )  # fmt: skip
            raise RuntimeError("the request failed after the save")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        save_then_fail()
    assert callbacks == []
    assert not RollupRequest.objects.exists()
    assert not TeamFundingRollup.objects.exists()


def test_a_job_with_nothing_waiting_does_nothing(world):
    RollupRequest.objects.all().delete()
    run = process_team_rollups(team_id=world.team.pk)
    assert not run.recomputed
    assert not RollupState.objects.get(country_team=world.team).computed_at


def test_another_teams_rows_stay_out(world):
    other_work = create_activity(
        actor=None,
        country_team=world.other_team,
        data=activity_data(
            world,
            outputs=[world.other_output],
            joint_programme=world.other_programme,
            locations=[world.other_region],
        ),
    )
    contribution(
        world, other_work, world.undp, required=3, available=2, spent=1,
        state="validated",
    )  # fmt: skip
    rollup(world)
    assert not TeamFundingRollup.objects.filter(country_team=world.team).exists()
    process_team_rollups(team_id=world.other_team.pk)
    assert TeamFundingRollup.objects.filter(country_team=world.other_team).count() == 4


# --- jobs for pages and beat ----------------------------------------------------------


def test_pages_can_tell_rollups_are_pending(world):
    RollupRequest.objects.all().delete()
    state = RollupState.objects.create(country_team=world.team)
    assert (
        RollupState.objects.with_pending_since().get(pk=state.pk).pending_since is None
    )

    request_team_rollups(team_id=world.team.pk, reason="test")
    oldest = RollupRequest.objects.get().requested_at
    assert RollupState.objects.with_pending_since().get(pk=state.pk).pending_since == (
        oldest
    )
    assert RollupRequest.objects.for_team(world.team).exists()


def test_the_rebuild_button_reports_progress_in_the_cache(
    world, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from reporting.services import queue_team_rollup_rebuild, rebuild_progress_key

    key = rebuild_progress_key(world.team.pk)
    assert key == f"rollup-rebuild:{world.team.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        queue_team_rollup_rebuild(team_id=world.team.pk)
        assert cache.get(key) == {"done": 0, "total": 0}
    steps = len(rollups.recompute_steps())
    assert cache.get(key) == {"done": steps, "total": steps}
    assert RollupState.objects.get(country_team=world.team).computed_at


def test_beat_sweeps_rollup_requests_every_minute():
    from unportal.celery import app

    entry = app.conf.beat_schedule["sweep-rollup-requests"]
    assert entry["task"] == "reporting.tasks.sweep_rollup_requests_task"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60.0


def test_max_over_periods_then_average_over_agencies(world):
    indicator = IndicatorFactory(
        output=world.output,
        code="COVERAGE",
        across_periods=Aggregation.MAX,
        across_agencies=Aggregation.AVERAGE,
        baseline_value=Decimal(0),
        target_value=Decimal(100),
    )
    measure(indicator, world.year, agency=world.undp, value=10, period_label="Q1")
    measure(indicator, world.year, agency=world.undp, value=30, period_label="Q2")
    measure(indicator, world.year, agency=world.unicef, value=20)
    rollup(world)
    assert progress(indicator, world.year).value == Decimal(25)  # (30 + 20) / 2


def test_latest_across_agencies_takes_the_most_recent_report(world):
    indicator = IndicatorFactory(
        output=world.output,
        code="NATIONAL-RATE",
        across_periods=Aggregation.SUM,
        across_agencies=Aggregation.LATEST,
        baseline_value=Decimal(0),
        target_value=Decimal(100),
    )
    # Two UNDP values for the same period: the one recorded last counts.
    measure(indicator, world.year, agency=world.undp, value=10)
    measure(indicator, world.year, agency=world.undp, value=20)
    # UNICEF's value is for the first quarter: UNDP's whole-year value is later.
    measure(indicator, world.year, agency=world.unicef, value=5, period_label="Q1")
    rollup(world)
    row = progress(indicator, world.year)
    assert (row.value, row.reporter_count) == (Decimal(20), 2)


def test_an_outsized_figure_does_not_fail_the_job(world):
    from tests.frameworks.joint_work_factories import IndicatorMeasurementFactory

    # Allowed by the fields, refused by nothing: the largest ratio there can be.
    IndicatorMeasurementFactory(
        indicator=world.percentage_indicator,
        agency=world.undp,
        year=world.year,
        value=None,
        numerator=Decimal("9999999999999999.9999"),
        denominator=Decimal("0.0001"),
        status="validated",
    )
    rollup(world)
    row = progress(world.percentage_indicator, world.year)
    # About 1e22 %: SQLite keeps decimals as floats, PostgreSQL exactly.
    assert Decimal("9.99e21") <= row.value <= Decimal("1e22")
    assert row.status == "on_track"


# --- the full rebuild, in batches of teams --------------------------------------------

ROLLUP_MODELS = (
    FundingRollup,
    OutcomeFundingRollup,
    TeamFundingRollup,
    TagFundingRollup,
    IndicatorProgress,
)


def stored_rows(team_id: int) -> dict[str, list[tuple]]:
    """Every rollup row of a team, without ids, in a stable order."""
    found = {}
    for model in ROLLUP_MODELS:
        names = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
        rows = model.objects.filter(country_team_id=team_id).values_list(*names)
        found[model.__name__] = sorted(rows, key=repr)
    return found


@pytest.fixture
def two_teams(world):
    """Work in both teams, and two rows recorded under the team that does not
    own what they are about: a full rebuild must keep the teams apart exactly
    as one job per team does."""
    work = activity(world, agencies=[world.undp, world.unicef, world.wfp])
    contribution(
        world, work, world.undp, required=100, available=80, spent=50,
        state="validated",
    )  # fmt: skip
    contribution(
        world, work, world.unicef, required=40, available=10, spent=5,
        state="submitted",
    )  # fmt: skip
    stray = contribution(
        world, work, world.wfp, required=9000, available=0, spent=0,
        state="validated",
    )  # fmt: skip
    other_work = activity(
        world,
        team=world.other_team,
        outputs=[world.other_output],
        joint_programme=world.other_programme,
        locations=[world.other_region],
    )
    contribution(
        world, other_work, world.undp, required=7, available=7, spent=7,
        state="validated",
    )  # fmt: skip
    other_indicator = IndicatorFactory(output=world.other_output, code="NGA-1")
    measure(other_indicator, world.year, agency=world.undp, value=3)
    measure(world.wfp_indicator, world.year, agency=world.wfp, value=12)
    stray_measurement = measure(world.wfp_indicator, world.year, value=500)
    type(stray).objects.filter(pk=stray.pk).update(country_team=world.other_team)
    type(stray_measurement).objects.filter(pk=stray_measurement.pk).update(
        country_team=world.other_team
    )
    RollupRequest.objects.create(country_team=world.other_team, reason="waiting")
    return world


def test_a_full_rebuild_writes_exactly_the_rows_of_one_job_per_team(two_teams):
    from reporting.services import rebuild_all_rollups, rebuild_team_rollups

    world = two_teams
    teams = (world.team.pk, world.other_team.pk)
    batches = rebuild_all_rollups()
    assert [batch.team_ids for batch in batches] == [tuple(sorted(teams))]
    in_one_batch = {team_id: stored_rows(team_id) for team_id in teams}
    assert all(in_one_batch[team_id]["TeamFundingRollup"] for team_id in teams)

    for model in ROLLUP_MODELS:
        model.objects.all().delete()
    for team_id in teams:
        rebuild_team_rollups(team_id=team_id)

    assert {team_id: stored_rows(team_id) for team_id in teams} == in_one_batch
    # The strays count nowhere: not the 9,000 of a contribution filed under
    # NGA for a Somali activity, not the 500 of a Somali indicator filed under NGA.
    total = TeamFundingRollup.objects.get(
        country_team=world.team, agency=None, basis="validated"
    )
    assert total.required == Decimal(100)
    assert progress(world.wfp_indicator, world.year).value == Decimal(12)


def test_a_full_rebuild_consumes_every_request_and_stamps_every_team(two_teams):
    from reporting.services import audit_team_rollups, rebuild_all_rollups

    world = two_teams
    assert RollupRequest.objects.filter(country_team=world.team).exists()
    (batch,) = rebuild_all_rollups()

    assert not RollupRequest.objects.exists()
    assert batch.claimed >= 2
    stamps = {
        state.country_team_id: state.computed_at for state in RollupState.objects.all()
    }
    assert stamps == {
        world.team.pk: batch.computed_at,
        world.other_team.pk: batch.computed_at,
    }
    assert TeamSnapshot.objects.count() == 2
    for team in (world.team, world.other_team):
        assert audit_team_rollups(team_id=team.pk) == []


def test_rebuild_batches_follow_team_codes_and_hold_at_most_n_contributions(
    two_teams,
):
    from reporting.services import plan_rebuild_batches
    from tests.coordination.factories import CountryTeamFactory

    CountryTeamFactory(code="AFG")  # no contributions

    # NGA holds two contributions (one filed there by mistake), SOM two.
    def codes(**limit: int) -> list[list[str]]:
        return [
            [team.code for team in batch] for batch in plan_rebuild_batches(**limit)
        ]

    assert codes() == [["AFG", "NGA", "SOM"]]
    assert codes(contributions=4) == [["AFG", "NGA", "SOM"]]
    assert codes(contributions=3) == [["AFG", "NGA"], ["SOM"]]
    # A team above the limit is a batch of its own.
    assert codes(contributions=1) == [["AFG"], ["NGA"], ["SOM"]]


def test_a_batch_runs_the_same_statements_however_many_teams_it_holds(two_teams):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reporting.services import rebuild_teams_rollups
    from tests.coordination.factories import CountryTeamFactory

    world = two_teams
    with CaptureQueriesContext(connection) as one_team:
        rebuild_teams_rollups(team_ids=[world.team.pk])
    more = [CountryTeamFactory().pk for _ in range(3)]
    with CaptureQueriesContext(connection) as five_teams:
        rebuild_teams_rollups(team_ids=[world.team.pk, world.other_team.pk, *more])
    # Nothing runs once per team (only once per 500 progress rows written).
    assert len(five_teams) == len(one_team)


def test_refresh_team_snapshots_counts_each_team_apart(
    two_teams, django_assert_max_num_queries
):
    from reporting.services import refresh_team_snapshot, refresh_team_snapshots

    world = two_teams
    fields = ("outcome_count", "output_count", "indicator_count", "programme_count")
    one_by_one = {
        team.pk: tuple(
            getattr(refresh_team_snapshot(team_id=team.pk), name) for name in fields
        )
        for team in (world.team, world.other_team)
    }
    with django_assert_max_num_queries(8):
        together = refresh_team_snapshots(team_ids=[world.team.pk, world.other_team.pk])
    assert {
        s.country_team_id: tuple(getattr(s, name) for name in fields) for s in together
    } == one_by_one
    assert one_by_one[world.team.pk] != one_by_one[world.other_team.pk]


def test_refresh_team_snapshot_of_an_unknown_team_fails(world):
    from coordination.models import CountryTeam
    from reporting.services import refresh_team_snapshot

    with pytest.raises(CountryTeam.DoesNotExist):
        refresh_team_snapshot(team_id=world.team.pk + 1000)


def test_the_rebuild_all_task_shows_each_team_its_batchs_progress(two_teams):
    from django.core.cache import cache

    from reporting.services import rebuild_progress_key
    from reporting.tasks import rebuild_all_rollups_task

    world = two_teams
    rebuild_all_rollups_task.delay()

    steps = len(rollups.recompute_steps())
    for team in (world.team, world.other_team):
        assert cache.get(rebuild_progress_key(team.pk)) == {
            "done": steps,
            "total": steps,
        }
    assert not RollupRequest.objects.exists()


def test_a_second_full_rebuild_writes_nothing(two_teams):
    from reporting.services import rebuild_all_rollups

    for model in ROLLUP_MODELS:
        model.objects.all().delete()
    (first,) = rebuild_all_rollups()
    assert first.rows["TeamFundingRollup"] == TeamFundingRollup.objects.count() > 0
    assert first.rows["IndicatorProgress"] == IndicatorProgress.objects.count() > 0
    before = {team: stored_rows(team) for team in first.team_ids}

    (again,) = rebuild_all_rollups()

    tables = [model.__name__ for model in ROLLUP_MODELS]
    assert [again.rows[table] for table in tables] == [0] * len(tables)
    assert {team: stored_rows(team) for team in first.team_ids} == before


def test_a_full_rebuild_writes_only_what_changed(two_teams):
    from reporting.services import rebuild_all_rollups

    world = two_teams
    rebuild_all_rollups()
    # A WFP contribution in SOM (its other one was filed under NGA), saved
    # without its rollup request.
    work = activity(world, agencies=[world.undp, world.wfp])
    contribution(
        world, work, world.wfp, required=5, available=5, spent=5, state="validated"
    )
    RollupRequest.objects.all().delete()

    (batch,) = rebuild_all_rollups()

    # By framework: WFP's rows in both bases are new, and the all-agency rows
    # of both bases change; nothing else, in SOM or NGA.
    assert batch.rows["TeamFundingRollup"] == 4
    wfp = TeamFundingRollup.objects.get(
        country_team=world.team, agency=world.wfp, basis="validated"
    )
    assert figures(wfp) == (*money(5, 5, 5), 1, 1, 1)


def test_rollups_refuse_an_sqlite_without_full_join(world, monkeypatch):
    from django.db import NotSupportedError, connection

    from reporting.services import rebuild_team_rollups

    if connection.vendor != "sqlite":
        pytest.skip("about SQLite")
    monkeypatch.setattr(connection.Database, "sqlite_version_info", (3, 37, 2))
    with pytest.raises(NotSupportedError, match=r"SQLite 3\.39 or later.*3\.37\.2"):
        rebuild_team_rollups(team_id=world.team.pk)


# --- jobs of some years -------------------------------------------------------------


def team_total(world, year, basis="validated") -> TeamFundingRollup:
    return TeamFundingRollup.objects.get(
        country_team=world.team, agency=None, year=year, basis=basis
    )


def test_a_change_of_figures_recomputes_only_its_year(world):
    work = activity(world)
    this_year, next_year = world.year, world.year + 1
    first = contribution(
        world, work, world.undp, required=9, available=6, spent=3,
        state="validated",
    )  # fmt: skip
    contribution(
        world, work, world.undp, required=4, available=4, spent=1,
        state="validated", year=next_year,
    )  # fmt: skip
    process_team_rollups(team_id=world.team.pk)
    # A row of the other year changed outside the engine: a job for this year
    # does not read or write it, which shows the job kept to its year.
    TeamFundingRollup.objects.filter(pk=team_total(world, next_year).pk).update(
        required=Decimal("999")
    )

    revise(world, first, required=12, available=6, spent=3)
    submit_contribution(actor=None, contribution=first)
    validate_contribution(actor=None, contribution=first)
    run = process_team_rollups(team_id=world.team.pk)

    assert run.years == (this_year,)
    assert figures(team_total(world, this_year)) == (*money(12, 6, 3), 1, 1, 1)
    assert team_total(world, next_year).required == Decimal("999")
    (difference,) = audit_team_rollups(team_id=world.team.pk)
    assert difference.key["year"] == next_year
    assert difference.changes == {"required": (Decimal("999"), Decimal("4"))}
    rebuild_team_rollups(team_id=world.team.pk)
    assert audit_team_rollups(team_id=world.team.pk) == []


def test_requests_name_their_year_and_a_whole_team_request_covers_every_year(world):
    work = activity(world)
    RollupRequest.objects.all().delete()
    contribution(
        world, work, world.undp, required=1, available=1, spent=1, state="draft"
    )
    contribution(
        world, work, world.undp, required=1, available=1, spent=1, state="submitted",
        year=world.year + 1,
    )  # fmt: skip
    # One request per year however many writes: create, then submit.
    assert sorted(RollupRequest.objects.values_list("year", flat=True)) == [
        world.year,
        world.year + 1,
    ]
    request_team_rollups(team_id=world.team.pk, reason="an activity changed")
    contribution(
        world, work, world.unicef, required=1, available=1, spent=1, state="draft"
    )
    assert RollupRequest.objects.filter(year=None).count() == 1
    assert RollupRequest.objects.count() == 3

    run = process_team_rollups(team_id=world.team.pk)
    assert (run.claimed, run.years) == (3, None)
    assert not RollupRequest.objects.exists()


def test_a_measurement_moved_to_another_year_recomputes_both_years(world):
    indicator = world.number_indicator
    this_year, next_year = world.year, world.year + 1
    measured = measure(indicator, this_year, value=Decimal(5))
    process_team_rollups(team_id=world.team.pk)

    def counted(year: int) -> int:
        row = DisaggregationRollup.objects.filter(
            indicator=indicator, year=year, basis="validated"
        ).first()
        return row.value_count if row else 0

    assert (counted(this_year), counted(next_year)) == (1, 0)
    moved = update_measurement(
        actor=None,
        measurement=measured,
        data=MeasurementData(year=next_year, value=Decimal(5), source="Survey"),
        expected_version=None,
    )
    submit_measurement(actor=None, measurement=moved)
    validate_measurement(actor=None, measurement=moved)
    run = process_team_rollups(team_id=world.team.pk)

    assert run.years == (this_year, next_year)
    assert (counted(this_year), counted(next_year)) == (0, 1)
    assert progress(indicator, next_year).value == Decimal(5)
    assert audit_team_rollups(team_id=world.team.pk) == []
    assert audit_team_coherence(team_id=world.team.pk) == []


def test_a_job_for_a_year_recomputes_progress_from_that_year_on(world):
    indicator = world.number_indicator
    year = world.year + 2  # the framework runs from world.year to world.year + 4
    measure(indicator, year - 1, value=Decimal(2))
    rebuild_team_rollups(team_id=world.team.pk)
    # Rows changed outside the engine, one before the year and one after it.
    IndicatorProgress.objects.filter(
        indicator=indicator, year__in=[year - 2, year + 1]
    ).update(value=Decimal(999))

    measure(indicator, year, value=Decimal(5))
    run = process_team_rollups(team_id=world.team.pk)

    assert run.years == (year,)
    assert progress(indicator, year - 2).value == Decimal(999)
    assert progress(indicator, year).value == Decimal(7)
    assert progress(indicator, year + 1).value == Decimal(7)
    assert {
        (difference.key["year"], difference.key["basis"])
        for difference in audit_team_rollups(team_id=world.team.pk)
    } == {(year - 2, "validated"), (year - 2, "submitted")}


def test_a_change_of_money_alone_recomputes_no_indicator_progress(world):
    work = activity(world)
    made = contribution(
        world, work, world.undp, required=9, available=6, spent=3, state="validated"
    )
    process_team_rollups(team_id=world.team.pk)
    # A progress row changed outside the engine: a job for money alone does not
    # read or write progress at all, so it stays.
    IndicatorProgress.objects.filter(
        indicator=world.number_indicator, year=world.year
    ).update(value=Decimal(999))

    revise(world, made, required=12, available=6, spent=3)
    submit_contribution(actor=None, contribution=made)
    validate_contribution(actor=None, contribution=made)
    run = process_team_rollups(team_id=world.team.pk)

    assert (run.years, run.indicators) == ((world.year,), ())
    assert figures(team_total(world, world.year)) == (*money(12, 6, 3), 1, 1, 1)
    assert progress(world.number_indicator, world.year).value == Decimal(999)
    assert {
        (difference.table, difference.key["indicator_id"])
        for difference in audit_team_rollups(team_id=world.team.pk)
    } == {("IndicatorProgress", world.number_indicator.pk)}


def test_a_job_recomputes_the_progress_of_the_indicators_a_change_reports_on(world):
    number, percentage = world.number_indicator, world.percentage_indicator
    work = activity(world)
    process_team_rollups(team_id=world.team.pk)
    IndicatorProgress.objects.filter(indicator=percentage, year=world.year).update(
        value=Decimal(999)
    )

    made = create_contribution(
        actor=None,
        activity=work,
        agency=world.undp,
        year=world.year,
        figures=figures_data(
            world, results=[ResultData(indicator=number, value=Decimal(7))]
        ),
    )
    submit_contribution(actor=None, contribution=made)
    validate_contribution(actor=None, contribution=made)
    run = process_team_rollups(team_id=world.team.pk)

    assert (run.years, run.indicators) == ((world.year,), (number.pk,))
    assert progress(number, world.year).value == Decimal(7)
    assert progress(percentage, world.year).value == Decimal(999)
    assert {
        (difference.key["indicator_id"], difference.key["year"])
        for difference in audit_team_rollups(team_id=world.team.pk)
    } == {(percentage.pk, world.year)}

    # Deleting a revision's values touches their indicator too.
    revise(world, made, required=1, available=1, spent=1)
    submit_contribution(actor=None, contribution=made)
    validate_contribution(actor=None, contribution=made)
    run = process_team_rollups(team_id=world.team.pk)
    assert run.indicators == (number.pk,)
    assert progress(number, world.year).value is None


def test_requests_of_one_transaction_widen_to_every_indicator_they_touch(world):
    number, percentage = world.number_indicator, world.percentage_indicator
    rebuild_team_rollups(team_id=world.team.pk)
    measure(number, world.year, state="draft", value=Decimal(5))
    measure(
        percentage, world.year, state="draft",
        numerator=Decimal(1), denominator=Decimal(2),
    )  # fmt: skip
    request = RollupRequest.objects.get()
    assert (request.year, request.indicators) == (
        world.year,
        sorted([number.pk, percentage.pk]),
    )

    # A change that may touch any indicator widens the year's request to all.
    request_team_rollups(team_id=world.team.pk, year=world.year)
    assert RollupRequest.objects.get().indicators is None
    run = process_team_rollups(team_id=world.team.pk)
    assert (run.years, run.indicators) == ((world.year,), None)
