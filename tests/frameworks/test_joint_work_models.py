"""Joint-work models: the database invariants, derived figures and querysets."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from frameworks.models import (
    Contribution,
    ContributionRevision,
    IndicatorMeasurement,
    JointActivity,
    ResultValue,
    WorkflowAction,
    WorkflowEvent,
    WorkflowStatus,
)
from frameworks.services import update_activity
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    ContributionRevisionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    JointWorkWorld,
    ResultValueFactory,
    activity_data,
    build_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


def _activity(world: JointWorkWorld, **overrides) -> JointActivity:
    values = {
        "country_team": world.team,
        "framework": world.framework,
        "agency": world.undp,
        "agencies": [world.undp, world.unicef],
        "outputs": [world.output],
        "locations": [world.region],
    }
    values.update(overrides)
    return JointActivityFactory(**values)


def assert_refused_by_database(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


# --- derived figures --------------------------------------------------------------


@pytest.mark.parametrize(
    ("required", "available", "gap"),
    [("1000", "800", "200"), ("1000", "1000", "0"), ("500", "800", "-300")],
)
def test_revision_funding_gap_is_required_minus_available(
    world, required, available, gap
):
    contribution = ContributionFactory(
        activity=_activity(world),
        required=Decimal(required),
        available=Decimal(available),
        spent=Decimal("0"),
    )

    assert contribution.current_revision.funding_gap == Decimal(gap)


def test_contribution_status_is_its_current_revision_status(world):
    contribution = ContributionFactory(
        activity=_activity(world), status=WorkflowStatus.SUBMITTED
    )

    assert contribution.status == WorkflowStatus.SUBMITTED
    assert Contribution(year=2024).status == ""


def test_string_forms_name_the_record(world):
    activity = _activity(world, title="Cash for work")
    contribution = ContributionFactory(activity=activity, year=world.year)
    result = ResultValueFactory(
        revision=contribution.current_revision,
        indicator=world.number_indicator,
        value=Decimal("12"),
    )
    measurement = IndicatorMeasurementFactory(
        indicator=world.wfp_indicator, year=world.year, period_label="Q2"
    )

    assert str(activity) == "Cash for work"
    assert str(contribution) == f"UNDP {world.year}: Cash for work"
    assert str(contribution.current_revision) == f"UNDP {world.year}: Cash for work r1"
    assert str(result) == "CHILDREN-VACC = 12"
    assert str(measurement).startswith(f"MEALS {world.year}Q2: ")


# --- database invariants ----------------------------------------------------------


def test_activity_cannot_end_before_it_starts(world):
    assert_refused_by_database(
        lambda: _activity(
            world,
            start_date=datetime.date(world.year, 6, 1),
            end_date=datetime.date(world.year, 5, 31),
        )
    )


@pytest.mark.parametrize("marker", ["gender_marker", "human_rights_marker"])
def test_activity_markers_stay_between_0_and_3(world, marker):
    assert_refused_by_database(lambda: _activity(world, **{marker: 4}))


def test_activity_external_ref_is_unique_in_a_team_when_given(world):
    _activity(world, external_ref="JA-1")
    _activity(world, external_ref="")
    _activity(world, external_ref="")
    _activity(
        world,
        country_team=world.other_team,
        framework=world.other_framework,
        outputs=[world.other_output],
        locations=[world.other_region],
        external_ref="JA-1",
    )

    assert_refused_by_database(lambda: _activity(world, external_ref="JA-1"))
    assert JointActivity.objects.count() == 4


def test_contribution_is_one_per_activity_agency_and_year(world):
    activity = _activity(world)
    ContributionFactory(activity=activity, year=world.year)
    ContributionFactory(activity=activity, year=world.year + 1)

    assert_refused_by_database(
        lambda: Contribution.objects.create(
            country_team=world.team,
            activity=activity,
            agency=world.undp,
            year=world.year,
        )
    )


@pytest.mark.parametrize("year", [1999, 2101])
def test_contribution_year_is_plausible(world, year):
    assert_refused_by_database(
        lambda: Contribution.objects.create(
            country_team=world.team,
            activity=_activity(world),
            agency=world.undp,
            year=year,
        )
    )


def test_contribution_external_ref_is_unique_in_a_team(world):
    activity = _activity(world)
    ContributionFactory(activity=activity, year=world.year, external_ref="C-1")

    assert_refused_by_database(
        lambda: ContributionFactory(
            activity=activity, year=world.year + 1, external_ref="C-1"
        )
    )


@pytest.mark.parametrize("field", ["required", "available", "spent"])
def test_revision_money_is_never_negative(world, field):
    contribution = ContributionFactory(activity=_activity(world))

    assert_refused_by_database(
        lambda: ContributionRevisionFactory(
            contribution=contribution, number=2, **{field: Decimal("-0.01")}
        )
    )


def test_revision_numbers_are_unique_per_contribution(world):
    contribution = ContributionFactory(activity=_activity(world))

    assert_refused_by_database(
        lambda: ContributionRevisionFactory(contribution=contribution, number=1)
    )


def test_result_is_one_per_indicator_per_revision(world):
    revision = ContributionFactory(activity=_activity(world)).current_revision
    ResultValueFactory(revision=revision, indicator=world.number_indicator)

    assert_refused_by_database(
        lambda: ResultValueFactory(revision=revision, indicator=world.number_indicator)
    )


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [(Decimal("1"), Decimal("0")), (Decimal("-1"), Decimal("10"))],
    ids=["denominator-zero", "numerator-negative"],
)
def test_result_fraction_is_sane(world, numerator, denominator):
    revision = ContributionFactory(activity=_activity(world)).current_revision

    assert_refused_by_database(
        lambda: ResultValueFactory(
            revision=revision,
            indicator=world.percentage_indicator,
            value=None,
            numerator=numerator,
            denominator=denominator,
        )
    )


@pytest.mark.parametrize(
    "overrides",
    [{"denominator": Decimal("0")}, {"year": 1989}],
    ids=["denominator-zero", "year-implausible"],
)
def test_measurement_invariants(world, overrides):
    assert_refused_by_database(
        lambda: IndicatorMeasurementFactory(
            indicator=world.number_indicator, **overrides
        )
    )


def test_measurement_is_superseded_by_one_draft_at_most(world):
    validated = IndicatorMeasurementFactory(
        indicator=world.number_indicator, status=WorkflowStatus.VALIDATED
    )
    IndicatorMeasurementFactory(indicator=world.number_indicator, supersedes=validated)

    assert_refused_by_database(
        lambda: IndicatorMeasurementFactory(
            indicator=world.number_indicator, supersedes=validated
        )
    )


def test_workflow_event_needs_a_subject(world):
    assert_refused_by_database(
        lambda: WorkflowEvent.objects.create(
            country_team=world.team, action=WorkflowAction.EDITED
        )
    )


def test_validated_figures_cannot_be_deleted_from_under_a_contribution(world):
    contribution = ContributionFactory(
        activity=_activity(world), status=WorkflowStatus.VALIDATED
    )
    revision = contribution.validated_revision

    with pytest.raises(ProtectedError):
        revision.delete()
    with pytest.raises(ProtectedError):
        contribution.activity.delete()

    assert ContributionRevision.objects.filter(pk=revision.pk).exists()


def test_deleting_a_revision_takes_its_results(world):
    contribution = ContributionFactory(activity=_activity(world))
    draft = ContributionRevisionFactory(contribution=contribution, number=2)
    ResultValueFactory(revision=draft, indicator=world.number_indicator)

    draft.delete()

    assert not ResultValue.objects.exists()


# --- querysets --------------------------------------------------------------------


def test_records_are_visible_only_to_their_team_and_administrators(world):
    activity = _activity(world)
    ContributionFactory(activity=activity)
    IndicatorMeasurementFactory(indicator=world.number_indicator)
    querysets = (
        JointActivity.objects,
        Contribution.objects,
        IndicatorMeasurement.objects,
    )

    for manager in querysets:
        assert manager.visible_to(world.fp_wfp).count() == 1
        assert manager.visible_to(world.rco).count() == 1
        assert manager.visible_to(world.administrator).count() == 1
        assert manager.visible_to(world.fp_undp_other_team).count() == 0
        assert manager.visible_to(world.board_member).count() == 0
        assert manager.visible_to(world.outsider).count() == 0
        assert manager.visible_to(AnonymousUser()).count() == 0


def test_activity_queryset_filters_by_team_and_review_state(world):
    draft = _activity(world)
    submitted = _activity(world, status=WorkflowStatus.SUBMITTED)
    other = _activity(
        world,
        country_team=world.other_team,
        framework=world.other_framework,
        outputs=[world.other_output],
        locations=[world.other_region],
        status=WorkflowStatus.SUBMITTED,
    )

    assert set(JointActivity.objects.for_team(world.team)) == {draft, submitted}
    assert set(JointActivity.objects.awaiting_validation()) == {submitted, other}


def test_contribution_queryset_splits_pending_from_validated(world):
    activity = _activity(world)
    draft = ContributionFactory(activity=activity, year=world.year)
    submitted = ContributionFactory(
        activity=activity, year=world.year + 1, status=WorkflowStatus.SUBMITTED
    )
    validated = ContributionFactory(
        activity=activity, year=world.year + 2, status=WorkflowStatus.VALIDATED
    )
    # A validated contribution whose change waits for review is in both lists.
    reopened = ContributionFactory(
        activity=activity, year=world.year + 3, status=WorkflowStatus.VALIDATED
    )
    reopened.current_revision = ContributionRevisionFactory(
        contribution=reopened, number=2, status=WorkflowStatus.SUBMITTED
    )
    reopened.save()

    assert set(Contribution.objects.awaiting_validation()) == {submitted, reopened}
    assert set(Contribution.objects.validated()) == {validated, reopened}
    assert draft not in Contribution.objects.validated()


def test_activity_history_keeps_earlier_versions(world):
    activity = _activity(world, title="Before")

    update_activity(
        actor=world.fp_undp,
        activity=activity,
        data=activity_data(world, title="After"),
        expected_version=activity.version,
    )

    titles = list(activity.history.order_by("history_date").values_list("title"))
    assert titles[0] == ("Before",)
    assert titles[-1] == ("After",)
