"""Whatever happens to contributions through the services, the stored rollups
equal sums computed straight from the source rows, and no money is counted twice.

Each example sets up its own activities (random outputs, SDG targets, areas and
programme), runs a random sequence of creates, edits (new revisions), submits,
validations, returns and deletions, with rollup jobs at random points (each
recomputing only the years changed since the one before), and then compares
every funding rollup row and two indicators' progress with an oracle written
here in plain Python over the ORM, and audits every rollup and coherence row
against a full recompute. A second property runs such
sequences in both teams and checks that a full rebuild, in batches of any size,
writes exactly the rows of one job per team.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frameworks.models import Contribution, ContributionRevision, WorkflowStatus
from frameworks.services import (
    ActivityData,
    FiguresData,
    ResultData,
    create_activity,
    create_contribution,
    delete_contribution,
    return_contribution,
    submit_contribution,
    update_contribution,
    validate_contribution,
)
from reporting.coherence import audit_team_coherence
from reporting.models import (
    FundingRollup,
    IndicatorProgress,
    OutcomeFundingRollup,
    RollupRequest,
    TagFundingRollup,
    TeamFundingRollup,
)
from reporting.services import (
    audit_team_rollups,
    process_team_rollups,
    rebuild_all_rollups,
    rebuild_team_rollups,
)
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    IndicatorFactory,
    OutputFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)
from tests.frameworks.joint_work_factories import JointWorkWorld, build_world
from tests.reporting.test_rollups import ROLLUP_MODELS, stored_rows

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")

money = st.integers(min_value=0, max_value=50_000_000).map(lambda c: Decimal(c) / 100)
activity_spec = st.fixed_dictionaries(
    {
        "outputs": st.sets(st.integers(0, 2), min_size=1),
        "targets": st.sets(st.integers(0, 2)),
        "areas": st.sets(st.integers(0, 1)),
        "programme": st.booleans(),
    }
)
figures = st.fixed_dictionaries(
    {
        "required": money,
        "available": money,
        "spent": money,
        "value": st.none() | st.integers(0, 1000),
        "ratio": st.none() | st.tuples(st.integers(0, 50), st.integers(1, 50)),
    }
)
step = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 3),  # activity
        st.integers(0, 2),  # agency
        st.integers(0, 1),  # year after the first framework year
        figures,
        st.sampled_from(["draft", "submitted", "validated", "returned"]),
    ),
    st.tuples(st.just("edit"), st.integers(0, 20), figures),
    st.tuples(
        st.sampled_from(["submit", "validate", "return", "delete"]),
        st.integers(0, 20),
    ),
    st.tuples(st.just("rollup")),
)


@dataclass
class Scene:
    world: JointWorkWorld
    team: Any
    outputs: list
    indicators: tuple  # a number and a percentage indicator on outputs[0]
    programme: Any
    activities: list = field(default_factory=list)
    contributions: list[int] = field(default_factory=list)

    @property
    def agencies(self) -> list:
        return [self.world.undp, self.world.unicef, self.world.wfp]


@dataclass(frozen=True)
class Tags:
    targets: list  # 16.1 and 16.2 of goal 16, 4.1 of goal 4
    areas: list


def make_tags(world: JointWorkWorld) -> Tags:
    goal = SdgGoalFactory(number=16)
    return Tags(
        targets=[
            SdgTargetFactory(code="16.1", goal=goal),
            SdgTargetFactory(code="16.2", goal=goal),
            SdgTargetFactory(code="4.1", goal=SdgGoalFactory(number=4)),
        ],
        areas=[world.area, CommonChapterAreaFactory(position=1, code="CC1")],
    )


def set_up(
    world: JointWorkWorld, specs: list[dict], tags: Tags | None = None, *, other=False
) -> Scene:
    """Activities of the world's team (or, with `other`, of the other team)."""
    tags = tags or make_tags(world)
    if other:
        first = world.other_output
        scene = Scene(
            world=world,
            team=world.other_team,
            outputs=[
                first,
                OutputFactory(outcome=first.outcome),  # same outcome as the first
                OutputFactory(outcome__framework=world.other_framework),
            ],
            indicators=(
                IndicatorFactory(output=first, code="NGA-VACC"),
                IndicatorFactory(output=first, code="NGA-PCT", unit="percentage"),
            ),
            programme=world.other_programme,
        )
    else:
        scene = Scene(
            world=world,
            team=world.team,
            outputs=[
                world.output,
                world.output_wfp,  # same outcome as the first
                OutputFactory(outcome__framework=world.framework),
            ],
            indicators=(world.number_indicator, world.percentage_indicator),
            programme=world.programme,
        )
    for n, spec in enumerate(specs):
        scene.activities.append(
            create_activity(
                actor=None,
                country_team=scene.team,
                data=ActivityData(
                    title=f"Activity {n}",
                    agency=world.undp,
                    agencies=scene.agencies,
                    outputs=[scene.outputs[i] for i in sorted(spec["outputs"])],
                    start_date=datetime.date(world.year, 1, 1),
                    end_date=datetime.date(world.year + 2, 12, 31),
                    sdg_targets=[tags.targets[i] for i in sorted(spec["targets"])],
                    common_chapter_areas=[tags.areas[i] for i in sorted(spec["areas"])],
                    joint_programme=scene.programme if spec["programme"] else None,
                ),
            )
        )
    return scene


def figures_data(scene: Scene, activity, drawn: dict) -> FiguresData:
    results = []
    number, percentage = scene.indicators
    if activity.outputs.filter(pk=scene.outputs[0].pk).exists():
        if drawn["value"] is not None:
            results.append(ResultData(indicator=number, value=Decimal(drawn["value"])))
        if drawn["ratio"] is not None:
            numerator, denominator = drawn["ratio"]
            results.append(
                ResultData(
                    indicator=percentage,
                    numerator=Decimal(numerator),
                    denominator=Decimal(denominator),
                )
            )
    return FiguresData(
        required=drawn["required"],
        available=drawn["available"],
        spent=drawn["spent"],
        funding_source="Fund",
        results=results,
    )


def apply(scene: Scene, action: tuple) -> None:
    kind = action[0]
    if kind == "rollup":
        process_team_rollups(team_id=scene.team.pk)
        return
    try:
        if kind == "create":
            _kind, a, g, y, drawn, state = action
            work = scene.activities[a % len(scene.activities)]
            made = create_contribution(
                actor=None,
                activity=work,
                agency=scene.agencies[g],
                year=scene.world.year + y,
                figures=figures_data(scene, work, drawn),
            )
            scene.contributions.append(made.pk)
            if state != "draft":
                submit_contribution(actor=None, contribution=made)
            if state == "validated":
                validate_contribution(actor=None, contribution=made)
            if state == "returned":
                return_contribution(actor=None, contribution=made, comment="No.")
            return
        if not scene.contributions:
            return
        pk = scene.contributions[action[1] % len(scene.contributions)]
        found = Contribution.objects.filter(pk=pk).first()
        if found is None:
            return
        if kind == "edit":
            update_contribution(
                actor=None,
                contribution=found,
                figures=figures_data(scene, found.activity, action[2]),
                expected_version=None,
            )
        elif kind == "submit":
            submit_contribution(actor=None, contribution=found)
        elif kind == "validate":
            validate_contribution(actor=None, contribution=found)
        elif kind == "return":
            return_contribution(actor=None, contribution=found, comment="Check.")
        elif kind == "delete":
            delete_contribution(actor=None, contribution=found)
    except (ValidationError, PermissionDenied):
        pass  # not allowed in this state: the service changed nothing


# --- the oracle ---------------------------------------------------------------------


def basis_revisions(contribution: Contribution) -> dict[str, ContributionRevision]:
    found = {}
    validated, current = contribution.validated_revision, contribution.current_revision
    if validated is not None:
        found["validated"] = validated
    if current is not None and current.status in (
        WorkflowStatus.SUBMITTED,
        WorkflowStatus.VALIDATED,
    ):
        found["submitted"] = current
    elif validated is not None:
        found["submitted"] = validated
    return found


@dataclass
class Expected:
    required: Decimal = Decimal(0)
    available: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    contributions: set = field(default_factory=set)
    activities: set = field(default_factory=set)
    agencies: set = field(default_factory=set)

    def add(self, contribution: Contribution, revision: ContributionRevision) -> None:
        # A set of contributions: adding one twice would not count it twice,
        # so money is summed only for a contribution not seen before.
        if contribution.pk in self.contributions:
            raise AssertionError("the oracle itself counted a contribution twice")
        self.contributions.add(contribution.pk)
        self.activities.add(contribution.activity_id)
        self.agencies.add(contribution.agency_id)
        self.required += revision.required
        self.available += revision.available
        self.spent += revision.spent

    def row(self) -> tuple:
        return (
            self.required,
            self.available,
            self.spent,
            self.required - self.available,
            len(self.contributions),
            len(self.activities),
            len(self.agencies),
        )


def oracle(team) -> dict[str, dict[tuple, tuple]]:
    tables: dict[str, dict[tuple, Expected]] = defaultdict(
        lambda: defaultdict(Expected)
    )
    contributions = Contribution.objects.filter(country_team=team).select_related(
        "validated_revision", "current_revision", "activity"
    )
    for contribution in contributions:
        work = contribution.activity
        outputs = list(work.outputs.all())
        targets = list(work.sdg_targets.all())
        keys = {
            "FundingRollup": {(o.framework_id, o.outcome_id, o.pk) for o in outputs},
            "OutcomeFundingRollup": {(o.framework_id, o.outcome_id) for o in outputs},
            "TeamFundingRollup": {(work.framework_id,)},
            "TagFundingRollup": {
                (work.framework_id, "sdg_target", t.pk) for t in targets
            }
            | {(work.framework_id, "sdg_goal", t.goal_id) for t in targets}
            | {
                (work.framework_id, "cc_area", a.pk)
                for a in work.common_chapter_areas.all()
            }
            | (
                {(work.framework_id, "joint_programme", work.joint_programme_id)}
                if work.joint_programme_id
                else set()
            ),
        }
        for basis, revision in basis_revisions(contribution).items():
            for table, table_keys in keys.items():
                for key in table_keys:
                    for agency in (contribution.agency_id, None):
                        row = (*key, agency, contribution.year, basis)
                        tables[table][row].add(contribution, revision)
    return {
        table: {key: expected.row() for key, expected in rows.items()}
        for table, rows in tables.items()
    }


def stored(team) -> dict[str, dict[tuple, tuple]]:
    found = {}
    values = (
        "required",
        "available",
        "spent",
        "gap",
        "contribution_count",
        "activity_count",
        "agency_count",
    )
    shapes = {
        FundingRollup: ("framework_id", "outcome_id", "output_id"),
        OutcomeFundingRollup: ("framework_id", "outcome_id"),
        TeamFundingRollup: ("framework_id",),
        TagFundingRollup: ("framework_id", "kind", "tag_id"),
    }
    for model, key in shapes.items():
        names = (*key, "agency_id", "year", "basis")
        rows = model.objects.filter(country_team=team).values_list(*names, *values)
        table = found.setdefault(model.__name__, {})
        for row in rows:
            table[tuple(row[: len(names)])] = tuple(row[len(names) :])
    return found


def expected_indicator_values(scene: Scene) -> dict[tuple, Decimal | None]:
    """Number indicator: the sum of reported values to date; percentage
    indicator: summed numerators over summed denominators to date."""
    world = scene.world
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    contributions = Contribution.objects.filter(country_team=world.team)
    for contribution in contributions.select_related(
        "validated_revision", "current_revision"
    ):
        for basis, revision in basis_revisions(contribution).items():
            for result in revision.results.all():
                for year in world.framework.years:
                    if contribution.year > year:
                        continue
                    total = sums[(result.indicator_id, year, basis)]
                    if result.value is not None:
                        total[0] += result.value
                        total[2] += 1
                    if result.numerator is not None:
                        total[0] += result.numerator
                        total[1] += result.denominator
                        total[2] += 1
    expected = {}
    for indicator in (world.number_indicator, world.percentage_indicator):
        for year in world.framework.years:
            for basis in ("validated", "submitted"):
                top, bottom, count = sums[(indicator.pk, year, basis)]
                value = None
                if count:
                    value = top / bottom * 100 if bottom else top
                expected[(indicator.pk, year, basis)] = (
                    None if value is None else value.quantize(Decimal("0.0001"))
                )
    return expected


# --- the property -------------------------------------------------------------------


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    specs=st.lists(activity_spec, min_size=1, max_size=3),
    steps=st.lists(step, min_size=1, max_size=25),
)
def test_stored_rollups_equal_sums_over_the_source_rows(specs, steps):
    with transaction.atomic():
        world = build_world()
        scene = set_up(world, specs)
        # From here on every change is one of figures: each job, the last one
        # included, recomputes only the years changed since the one before.
        process_team_rollups(team_id=world.team.pk)
        for action in steps:
            apply(scene, action)
        last = process_team_rollups(team_id=world.team.pk)
        assert last.years is not None or not last.recomputed
        assert audit_team_rollups(team_id=world.team.pk) == []
        assert audit_team_coherence(team_id=world.team.pk) == []

        expected = oracle(world.team)
        found = stored(world.team)
        for table in ("FundingRollup", "OutcomeFundingRollup", "TeamFundingRollup"):
            assert found.get(table, {}) == expected.get(table, {}), table
        assert found.get("TagFundingRollup", {}) == expected.get("TagFundingRollup", {})
        _assert_nothing_counted_twice(world)

        progress = {
            (row.indicator_id, row.year, row.basis): row.value
            for row in IndicatorProgress.objects.filter(
                indicator__in=[world.number_indicator, world.percentage_indicator]
            )
        }
        assert progress == expected_indicator_values(scene)
        transaction.set_rollback(True)


def _assert_nothing_counted_twice(world: JointWorkWorld) -> None:
    """Totals add up over agencies, and no tag holds more than the total."""
    for basis in ("validated", "submitted"):
        for year in {row.year for row in TeamFundingRollup.objects.all()}:
            rows = TeamFundingRollup.objects.filter(basis=basis, year=year)
            total = rows.filter(agency=None).first()
            if total is None:
                continue
            per_agency = sum(r.required for r in rows.exclude(agency=None))
            assert per_agency == total.required
            for tag in TagFundingRollup.objects.filter(
                basis=basis, year=year, agency=None
            ):
                assert tag.required <= total.required
                assert tag.contribution_count <= total.contribution_count


# --- a full rebuild against one job per team ------------------------------------------


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    specs=st.lists(activity_spec, min_size=1, max_size=3),
    other_specs=st.lists(activity_spec, min_size=1, max_size=3),
    steps=st.lists(step, max_size=15),
    other_steps=st.lists(step, max_size=15),
    batch_size=st.integers(min_value=1, max_value=30),
)
def test_a_full_rebuild_writes_exactly_the_rows_of_one_job_per_team(
    specs, other_specs, steps, other_steps, batch_size
):
    with transaction.atomic():
        world = build_world()
        tags = make_tags(world)
        scenes = (
            set_up(world, specs, tags),
            set_up(world, other_specs, tags, other=True),
        )
        for scene, actions in zip(scenes, (steps, other_steps), strict=True):
            for action in actions:
                apply(scene, action)
        teams = [world.team.pk, world.other_team.pk]

        batches = rebuild_all_rollups(contributions=batch_size)

        assert sorted(t for batch in batches for t in batch.team_ids) == sorted(teams)
        assert not RollupRequest.objects.exists()
        in_batches = {team_id: stored_rows(team_id) for team_id in teams}
        for team_id in teams:
            assert audit_team_rollups(team_id=team_id) == []
        for model in ROLLUP_MODELS:
            model.objects.all().delete()
        for team_id in teams:
            rebuild_team_rollups(team_id=team_id)
        assert {team_id: stored_rows(team_id) for team_id in teams} == in_batches
        transaction.set_rollback(True)
