"""Joint-work services: the workflow, revisions, bad input, conflicts, history,
notifications and deletion, all through the public service functions."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from coordination.models import Role
from frameworks.events import team_data_changed
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
from frameworks.services import (
    ConflictError,
    QualityError,
    ResultData,
    create_activity,
    create_contribution,
    delete_activity,
    delete_contribution,
    delete_measurement,
    record_measurement,
    return_activity,
    return_contribution,
    return_measurement,
    submit_activity,
    submit_contribution,
    submit_measurement,
    update_activity,
    update_contribution,
    update_measurement,
    validate_activity,
    validate_contribution,
    validate_measurement,
)
from tests.coordination.factories import MembershipFactory
from tests.frameworks.factories import SdgTargetFactory
from tests.frameworks.joint_work_factories import (
    AdminRegionFactory,
    JointWorkWorld,
    activity_data,
    build_world,
    count_rows,
    figures_data,
    measurement_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


def _activity(world: JointWorkWorld, **overrides) -> JointActivity:
    return create_activity(
        actor=world.fp_undp,
        country_team=world.team,
        data=activity_data(world, **overrides),
    )


def _contribution(
    world: JointWorkWorld, activity: JointActivity | None = None, **overrides
) -> Contribution:
    return create_contribution(
        actor=world.fp_undp,
        activity=activity or _activity(world),
        agency=world.undp,
        year=world.year,
        figures=figures_data(world, **overrides),
    )


def _validated_contribution(world: JointWorkWorld) -> Contribution:
    contribution = _contribution(world)
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    return validate_contribution(actor=world.rco, contribution=contribution)


def _validated_activity(world: JointWorkWorld) -> JointActivity:
    activity = _activity(world)
    submit_activity(actor=world.fp_undp, activity=activity)
    return validate_activity(actor=world.rco, activity=activity)


def _measurement(world: JointWorkWorld, **overrides) -> IndicatorMeasurement:
    return record_measurement(
        actor=world.fp_undp,
        indicator=world.number_indicator,
        agency=world.undp,
        data=measurement_data(world, **overrides),
    )


def _validated_measurement(world: JointWorkWorld) -> IndicatorMeasurement:
    measurement = _measurement(world)
    submit_measurement(actor=world.fp_undp, measurement=measurement)
    return validate_measurement(actor=world.rco, measurement=measurement)


def _reload(record):
    return type(record).objects.get(pk=record.pk)


# --- 1. the workflow, end to end --------------------------------------------------


def test_workflow_activity_and_contribution_from_draft_to_validated(world):
    activity = _activity(world)
    contribution = _contribution(world, activity)
    assert activity.status == WorkflowStatus.DRAFT
    assert contribution.status == WorkflowStatus.DRAFT
    assert contribution.validated_revision is None

    assert submit_activity(actor=world.fp_undp, activity=activity) == []
    assert submit_contribution(actor=world.fp_undp, contribution=contribution) == []
    assert _reload(activity).status == WorkflowStatus.SUBMITTED
    assert _reload(contribution).status == WorkflowStatus.SUBMITTED

    with pytest.raises(ValidationError) as excinfo:
        return_contribution(actor=world.rco, contribution=contribution, comment="  ")
    assert "comment" in excinfo.value.message_dict
    assert _reload(contribution).status == WorkflowStatus.SUBMITTED

    return_activity(actor=world.rco, activity=activity, comment="Add Baidoa.")
    return_contribution(
        actor=world.rco, contribution=contribution, comment="Spent looks too high."
    )
    revision = _reload(contribution).current_revision
    assert revision.status == WorkflowStatus.RETURNED
    assert revision.return_comment == "Spent looks too high."
    assert revision.reviewed_by == world.rco
    assert _reload(activity).status == WorkflowStatus.RETURNED

    contribution = update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, spent=Decimal("40000")),
        expected_version=_reload(contribution).version,
    )
    activity = update_activity(
        actor=world.fp_undp,
        activity=activity,
        data=activity_data(
            world,
            locations=[world.region, AdminRegionFactory(country_team=world.team)],
        ),
        expected_version=_reload(activity).version,
    )
    submit_activity(actor=world.fp_undp, activity=activity)
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    validate_activity(actor=world.rc, activity=activity)
    validate_contribution(actor=world.rco, contribution=contribution)

    activity = _reload(activity)
    assert activity.status == WorkflowStatus.VALIDATED
    assert activity.validated_at is not None
    assert activity.revision == 1
    assert activity.locations.count() == 2
    contribution = _reload(contribution)
    assert contribution.revisions.count() == 1
    assert contribution.validated_revision == contribution.current_revision
    assert contribution.validated_revision.status == WorkflowStatus.VALIDATED
    assert contribution.validated_revision.spent == Decimal("40000")
    assert contribution.validated_revision.funding_gap == Decimal("20000")
    assert Contribution.objects.validated().get() == contribution
    assert not Contribution.objects.awaiting_validation().exists()


def test_update_contribution_after_validation_keeps_validated_figures_in_force(
    world,
):
    contribution = _validated_contribution(world)
    first = contribution.validated_revision
    first_results = list(first.results.values_list("indicator__code", "value"))

    contribution = update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, required=Decimal("120000")),
        expected_version=contribution.version,
    )
    contribution = _reload(contribution)
    assert contribution.current_revision.number == 2
    assert contribution.current_revision.status == WorkflowStatus.DRAFT
    assert contribution.current_revision.required == Decimal("120000")
    assert contribution.validated_revision == first
    assert contribution.validated_revision.status == WorkflowStatus.VALIDATED
    assert contribution.validated_revision.required == Decimal("100000")
    assert list(first.results.values_list("indicator__code", "value")) == (
        first_results
    )

    # A second edit changes the pending draft; it does not open a third revision.
    update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, required=Decimal("125000")),
        expected_version=contribution.version,
    )
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    return_contribution(actor=world.rco, contribution=contribution, comment="Why?")
    contribution = _reload(contribution)
    assert contribution.current_revision.status == WorkflowStatus.RETURNED
    assert contribution.validated_revision == first
    assert contribution.validated_revision.required == Decimal("100000")

    update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, required=Decimal("110000")),
        expected_version=contribution.version,
    )
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    assert _reload(contribution).validated_revision == first
    validate_contribution(actor=world.rc, contribution=contribution)

    contribution = _reload(contribution)
    assert list(contribution.revisions.values_list("number", "status")) == [
        (1, WorkflowStatus.SUPERSEDED),
        (2, WorkflowStatus.VALIDATED),
    ]
    assert contribution.validated_revision.number == 2
    assert contribution.validated_revision.required == Decimal("110000")
    assert ContributionRevision.objects.filter(pk=first.pk).exists()
    assert list(first.results.values_list("indicator__code", "value")) == (
        first_results
    )


def test_update_contribution_without_changes_writes_nothing(world):
    contribution = _validated_contribution(world)
    before = count_rows()

    update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world),
        expected_version=contribution.version,
    )

    assert count_rows() == before
    assert _reload(contribution).version == contribution.version


@pytest.mark.parametrize(
    ("detail", "recorded"),
    [
        ("denominator", {"result SCHOOL-PCT denominator": ["60", "90"]}),
        (
            "disaggregation",
            {
                "result CHILDREN-VACC disaggregation": [
                    {"sex": {"female": "60", "male": "40"}},
                    {"sex": {"female": "70", "male": "30"}},
                ]
            },
        ),
    ],
)
def test_update_contribution_saves_a_change_to_a_result_detail(world, detail, recorded):
    contribution = _contribution(world)
    number, percentage = figures_data(world).results
    if detail == "denominator":
        percentage.denominator = Decimal("90")
    else:
        number.disaggregation = {"sex": {"female": 70, "male": 30}}

    update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, results=[number, percentage]),
        expected_version=contribution.version,
    )

    saved = {
        r.indicator_id: r for r in _reload(contribution).current_revision.results.all()
    }
    assert saved[world.percentage_indicator.pk].denominator == percentage.denominator
    assert saved[world.number_indicator.pk].disaggregation == {
        "sex": {k: str(v) for k, v in number.disaggregation["sex"].items()}
    }
    assert _reload(contribution).version == contribution.version + 1
    assert contribution.events.first().changes == recorded


def test_update_contribution_while_submitted_is_refused(world):
    contribution = _contribution(world)
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    before = count_rows()

    with pytest.raises(PermissionDenied):
        update_contribution(
            actor=world.fp_undp,
            contribution=contribution,
            figures=figures_data(world, spent=Decimal("1")),
            expected_version=None,
        )

    assert count_rows() == before
    assert _reload(contribution).current_revision.spent == Decimal("50000")


def test_update_measurement_after_validation_creates_a_superseding_draft(world):
    original = _validated_measurement(world)

    pending = update_measurement(
        actor=world.fp_undp,
        measurement=original,
        data=measurement_data(
            world,
            value=Decimal("300"),
            disaggregation={"sex": {"female": 160, "male": 140}},
        ),
        expected_version=original.version,
    )
    assert pending.pk != original.pk
    assert pending.supersedes == original
    assert pending.status == WorkflowStatus.DRAFT
    assert pending.value == Decimal("300")
    original = _reload(original)
    assert original.status == WorkflowStatus.VALIDATED
    assert original.value == Decimal("250")

    # Changing the validated value again edits the same pending draft.
    again = update_measurement(
        actor=world.fp_undp,
        measurement=original,
        data=measurement_data(
            world,
            value=Decimal("310"),
            disaggregation={"sex": {"female": 160, "male": 150}},
        ),
        expected_version=original.version,
    )
    assert again.pk == pending.pk
    assert IndicatorMeasurement.objects.count() == 2

    submit_measurement(actor=world.fp_undp, measurement=again)
    with pytest.raises(ValidationError, match="awaits validation"):
        update_measurement(
            actor=world.fp_undp,
            measurement=_reload(original),
            data=measurement_data(world, value=Decimal("999")),
            expected_version=None,
        )
    assert _reload(original).status == WorkflowStatus.VALIDATED
    validate_measurement(actor=world.rco, measurement=again)

    assert _reload(original).status == WorkflowStatus.SUPERSEDED
    assert _reload(original).value == Decimal("250")
    assert _reload(again).status == WorkflowStatus.VALIDATED
    assert _reload(again).value == Decimal("310")
    assert IndicatorMeasurement.objects.count() == 2


def test_update_activity_after_validation_returns_to_draft_as_next_revision(world):
    activity = _validated_activity(world)
    validated_at = activity.validated_at

    activity = update_activity(
        actor=world.fp_undp,
        activity=activity,
        data=activity_data(world, title="Prevention and response, phase 2"),
        expected_version=activity.version,
    )

    activity = _reload(activity)
    assert activity.status == WorkflowStatus.DRAFT
    assert activity.revision == 2
    assert activity.validated_at == validated_at
    assert activity.title == "Prevention and response, phase 2"
    assert activity.events.first().action == WorkflowAction.REOPENED

    submit_activity(actor=world.fp_undp, activity=activity)
    validate_activity(actor=world.rco, activity=activity)
    assert _reload(activity).status == WorkflowStatus.VALIDATED
    assert _reload(activity).revision == 2


def test_submit_activity_refuses_when_checks_block(world):
    activity = _activity(world, sdg_targets=[], gender_marker=None)
    version = activity.version
    before = count_rows()

    with pytest.raises(QualityError) as excinfo:
        submit_activity(actor=world.fp_undp, activity=activity)

    assert {i.field for i in excinfo.value.issues if i.is_blocking} == {
        "sdg_targets",
        "gender_marker",
    }
    assert _reload(activity).status == WorkflowStatus.DRAFT
    assert _reload(activity).version == version
    assert count_rows() == before


def test_submit_contribution_returns_warnings_but_submits(world):
    contribution = _contribution(world, funding_source="")

    warnings = submit_contribution(actor=world.fp_undp, contribution=contribution)

    assert [w.field for w in warnings] == ["funding_source"]
    assert _reload(contribution).status == WorkflowStatus.SUBMITTED


def test_validate_contribution_refuses_a_draft(world):
    contribution = _contribution(world)

    with pytest.raises(PermissionDenied):
        validate_contribution(actor=world.rco, contribution=contribution)

    assert _reload(contribution).status == WorkflowStatus.DRAFT
    assert _reload(contribution).validated_revision is None


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("submitted", "update"),
        ("draft", "validate"),
        ("validated", "validate"),
        ("draft", "return"),
        ("validated", "return"),
        ("submitted", "submit"),
    ],
)
def test_administrator_is_held_to_the_workflow(world, state, action):
    """Superusers pass every permission check, so the services themselves keep
    submitted figures locked and review only what was submitted."""
    contribution = _contribution(world)
    if state in ("submitted", "validated"):
        submit_contribution(actor=world.fp_undp, contribution=contribution)
    if state == "validated":
        validate_contribution(actor=world.rco, contribution=contribution)
    contribution = _reload(contribution)
    before = count_rows()
    calls = {
        "update": lambda: update_contribution(
            actor=world.administrator,
            contribution=contribution,
            figures=figures_data(world, spent=Decimal("1")),
            expected_version=None,
        ),
        "validate": lambda: validate_contribution(
            actor=world.administrator, contribution=contribution
        ),
        "return": lambda: return_contribution(
            actor=world.administrator, contribution=contribution, comment="No."
        ),
        "submit": lambda: submit_contribution(
            actor=world.administrator, contribution=contribution
        ),
    }

    with pytest.raises(ValidationError):
        calls[action]()

    assert count_rows() == before
    after = _reload(contribution)
    assert after.version == contribution.version
    assert after.current_revision.status == state
    assert after.current_revision.spent == Decimal("50000")


# --- 4. bad input, nothing partially written -------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (lambda w: {"outputs": [w.other_output]}, "outputs", "active framework"),
        (lambda w: {"outputs": []}, "outputs", "at least one output"),
        (lambda w: {"agencies": [w.undp, w.fao]}, "agencies", "FAO"),
        (lambda w: {"agencies": [w.unicef, w.wfp]}, "agencies", "lead agency"),
        (lambda w: {"agencies": [w.undp]}, "agencies", "two or more"),
        (
            lambda w: {"sdg_targets": SdgTargetFactory.create_batch(11)},
            "sdg_targets",
            "at most 10",
        ),
        (lambda w: {"locations": [w.other_region]}, "locations", "this country"),
        (
            lambda w: {"joint_programme": w.other_programme},
            "joint_programme",
            "another team",
        ),
        (
            lambda w: {"end_date": datetime.date(2000, 1, 1)},
            "end_date",
            "before the start date",
        ),
        (lambda w: {"title": "   "}, "title", "title"),
        (lambda w: {"target_groups": ["aliens"]}, "target_groups", "aliens"),
        (lambda w: {"gender_marker": 4}, "gender_marker", "between 0 and 3"),
        (
            lambda w: {"implementation_status": "dormant"},
            "implementation_status",
            "Unknown",
        ),
    ],
    ids=[
        "output-of-another-framework",
        "no-output",
        "agency-outside-team",
        "lead-not-among-agencies",
        "single-agency",
        "eleven-sdg-targets",
        "location-of-another-country",
        "programme-of-another-team",
        "end-before-start",
        "blank-title",
        "unknown-target-group",
        "gender-marker-4",
        "unknown-implementation-status",
    ],
)
def test_create_activity_rejects_bad_input(world, overrides, field, message):
    data = activity_data(world, **overrides(world))
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        create_activity(actor=world.fp_undp, country_team=world.team, data=data)

    assert message in " ".join(excinfo.value.message_dict[field])
    assert count_rows() == before


def test_create_activity_rejects_team_without_active_framework(world):
    world.framework.status = "closed"
    world.framework.save()
    before = count_rows()

    with pytest.raises(ValidationError, match="no active Cooperation Framework"):
        _activity(world)

    assert count_rows() == before


def test_create_activity_rejects_duplicate_external_ref(world):
    _activity(world, external_ref="SOM-JA-1")
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        _activity(world, external_ref="SOM-JA-1")

    assert "external_ref" in excinfo.value.message_dict
    assert count_rows() == before


def test_update_activity_rejects_duplicate_external_ref(world):
    _activity(world, external_ref="SOM-JA-1")
    activity = _activity(world, external_ref="SOM-JA-2")
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        update_activity(
            actor=world.fp_undp,
            activity=activity,
            data=activity_data(world, external_ref="SOM-JA-1"),
            expected_version=activity.version,
        )

    assert "external_ref" in excinfo.value.message_dict
    assert count_rows() == before
    assert _reload(activity).external_ref == "SOM-JA-2"


def test_update_activity_rejects_a_new_lead_agency(world):
    activity = _activity(world)
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        update_activity(
            actor=world.fp_undp,
            activity=activity,
            data=activity_data(world, agency=world.unicef),
            expected_version=activity.version,
        )

    assert "agency" in excinfo.value.message_dict
    assert count_rows() == before
    assert _reload(activity).agency == world.undp


def test_create_activity_for_another_agency_is_refused(world):
    before = count_rows()

    with pytest.raises(PermissionDenied, match="UNDP"):
        create_activity(
            actor=world.fp_unicef, country_team=world.team, data=activity_data(world)
        )

    assert count_rows() == before


def _result(world, **kwargs) -> ResultData:
    kwargs.setdefault("indicator", world.number_indicator)
    kwargs.setdefault("value", Decimal("100"))
    return ResultData(**kwargs)


@pytest.mark.parametrize(
    ("figures", "field", "message"),
    [
        (lambda w: {"required": Decimal("-1")}, "required", "non-negative"),
        (lambda w: {"available": Decimal("-0.01")}, "available", "non-negative"),
        (lambda w: {"spent": Decimal("NaN")}, "spent", "non-negative"),
        (lambda w: {"reach": -5}, "reach", "cannot be negative"),
        (
            lambda w: {"results": [_result(w, indicator=w.wfp_indicator)]},
            "results",
            "MEALS is not an indicator",
        ),
        (
            lambda w: {"results": [_result(w, indicator=w.outcome_indicator)]},
            "results",
            "STUNTING is not an indicator",
        ),
        (
            lambda w: {"results": [_result(w), _result(w)]},
            "results",
            "reported twice",
        ),
        (
            lambda w: {
                "results": [
                    _result(
                        w,
                        indicator=w.percentage_indicator,
                        value=None,
                        numerator=Decimal("1"),
                        denominator=Decimal("0"),
                    )
                ]
            },
            "results",
            "denominator must be above zero",
        ),
        (
            lambda w: {
                "results": [
                    _result(
                        w,
                        indicator=w.percentage_indicator,
                        value=None,
                        numerator=Decimal("-1"),
                        denominator=Decimal("10"),
                    )
                ]
            },
            "results",
            "numerator",
        ),
        (
            lambda w: {
                "results": [_result(w, disaggregation={"sex": {"female": "sixty"}})]
            },
            "disaggregation",
            "'sixty' is not a non-negative number",
        ),
        (
            lambda w: {"results": [_result(w, disaggregation={"sex": {"male": -5}})]},
            "disaggregation",
            "-5 is not a non-negative number",
        ),
        (
            lambda w: {"results": [_result(w, disaggregation={"colour": {"a": 1}})]},
            "disaggregation",
            "Unknown dimension colour",
        ),
        (
            lambda w: {"results": [_result(w, disaggregation={"sex": 100})]},
            "disaggregation",
            "categories with values",
        ),
    ],
    ids=[
        "negative-required",
        "negative-available",
        "nan-spent",
        "negative-reach",
        "indicator-of-another-output",
        "outcome-indicator",
        "duplicate-indicator",
        "denominator-zero",
        "negative-numerator",
        "breakdown-not-a-number",
        "breakdown-negative",
        "breakdown-unknown-dimension",
        "breakdown-not-by-category",
    ],
)
def test_create_contribution_rejects_bad_figures(world, figures, field, message):
    activity = _activity(world)
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        create_contribution(
            actor=world.fp_undp,
            activity=activity,
            agency=world.undp,
            year=world.year,
            figures=figures_data(world, **figures(world)),
        )

    assert message in " ".join(excinfo.value.message_dict[field])
    assert count_rows() == before


def test_create_contribution_rejects_second_one_for_same_agency_and_year(world):
    contribution = _contribution(world)
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        _contribution(world, contribution.activity)

    assert "already has a contribution" in excinfo.value.message_dict["year"][0]
    assert count_rows() == before


def test_create_contribution_rejects_year_out_of_range(world):
    activity = _activity(world)
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        create_contribution(
            actor=world.fp_undp,
            activity=activity,
            agency=world.undp,
            year=1999,
            figures=figures_data(world),
        )

    assert "year" in excinfo.value.message_dict
    assert count_rows() == before


def test_create_contribution_rejects_agency_not_involved(world):
    # UNICEF's focal point also represents WFP, which is not part of the activity.
    MembershipFactory(
        user=world.fp_unicef,
        country_team=world.team,
        role=Role.FOCAL_POINT,
        agency=world.wfp,
    )
    activity = _activity(world)
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        create_contribution(
            actor=world.fp_unicef,
            activity=activity,
            agency=world.wfp,
            year=world.year,
            figures=figures_data(world, results=[]),
        )

    assert "WFP is not involved" in excinfo.value.message_dict["agency"][0]
    assert count_rows() == before


def test_create_contribution_for_another_agency_is_refused(world):
    activity = _activity(world)
    before = count_rows()

    with pytest.raises(PermissionDenied, match="UNDP"):
        create_contribution(
            actor=world.fp_unicef,
            activity=activity,
            agency=world.undp,
            year=world.year,
            figures=figures_data(world),
        )

    assert count_rows() == before


def test_create_contribution_by_partner_for_own_agency_succeeds(world):
    activity = _activity(world)

    contribution = create_contribution(
        actor=world.fp_unicef,
        activity=activity,
        agency=world.unicef,
        year=world.year,
        figures=figures_data(world),
    )

    assert contribution.agency == world.unicef
    assert contribution.current_revision.results.count() == 2


def test_create_contribution_rejects_duplicate_external_ref(world):
    activity = _activity(world)
    create_contribution(
        actor=world.fp_undp,
        activity=activity,
        agency=world.undp,
        year=world.year,
        figures=figures_data(world),
        external_ref="SOM-C-1",
    )
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        create_contribution(
            actor=world.fp_undp,
            activity=activity,
            agency=world.undp,
            year=world.year + 1,
            figures=figures_data(world),
            external_ref="SOM-C-1",
        )

    assert "external_ref" in excinfo.value.message_dict
    assert count_rows() == before


def test_update_contribution_with_bad_breakdown_leaves_validated_alone(world):
    contribution = _validated_contribution(world)
    version = contribution.version
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        update_contribution(
            actor=world.fp_undp,
            contribution=contribution,
            figures=figures_data(
                world,
                required=Decimal("1"),
                results=[_result(world, disaggregation={"sex": {"female": "x"}})],
            ),
            expected_version=contribution.version,
        )

    assert "disaggregation" in excinfo.value.message_dict
    assert count_rows() == before
    contribution = _reload(contribution)
    assert contribution.current_revision == contribution.validated_revision
    assert contribution.version == version


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"year": 1995}, "year"),
        ({"denominator": Decimal("0")}, "denominator"),
        ({"disaggregation": {"sex": {"female": "many"}}}, "disaggregation"),
        ({"disaggregation": {"sex": {"female": -1}}}, "disaggregation"),
    ],
    ids=["year-far-away", "denominator-zero", "breakdown-text", "breakdown-negative"],
)
def test_record_measurement_rejects_bad_input(world, overrides, field):
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        _measurement(world, **overrides)

    assert field in excinfo.value.message_dict
    assert count_rows() == before


def test_record_measurement_by_focal_point_needs_an_agency(world):
    before = count_rows()

    with pytest.raises(ValidationError) as excinfo:
        record_measurement(
            actor=world.fp_undp,
            indicator=world.number_indicator,
            data=measurement_data(world),
        )

    assert "agency" in excinfo.value.message_dict
    assert count_rows() == before


@pytest.mark.parametrize(
    ("actor", "agency", "message"),
    [
        ("fp_wfp", "wfp", "WFP does not contribute to CHILDREN-VACC"),
        ("fp_undp", "unicef", "own agency"),
    ],
    ids=["agency-not-contributing", "another-agency"],
)
def test_record_measurement_refuses_agency(world, actor, agency, message):
    before = count_rows()

    with pytest.raises(PermissionDenied, match=message):
        record_measurement(
            actor=getattr(world, actor),
            indicator=world.number_indicator,
            agency=getattr(world, agency),
            data=measurement_data(world),
        )

    assert count_rows() == before


def test_record_measurement_by_rc_office_may_be_team_wide(world):
    measurement = record_measurement(
        actor=world.rco,
        indicator=world.outcome_indicator,
        data=measurement_data(
            world,
            disaggregation={
                "sex": {"female": 130, "male": 120},
                "location": {"urban": 200, "rural": 50},
            },
        ),
    )

    assert measurement.agency is None
    assert measurement.disaggregation["location"] == {"urban": "200", "rural": "50"}
    assert submit_measurement(actor=world.rco, measurement=measurement) == []


# --- 5. concurrent edits ----------------------------------------------------------


def test_update_contribution_with_stale_version_raises_conflict(world):
    contribution = _contribution(world)
    loaded = contribution.version
    update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, required=Decimal("120000")),
        expected_version=loaded,
    )
    before = count_rows()

    with pytest.raises(ConflictError) as excinfo:
        update_contribution(
            actor=world.fp_undp_2,
            contribution=contribution,
            figures=figures_data(world, spent=Decimal("60000")),
            expected_version=loaded,
        )

    assert excinfo.value.current_version == loaded + 1
    assert excinfo.value.changes == {
        "required": ["120000", "100000"],
        "spent": ["50000", "60000"],
    }
    assert count_rows() == before
    revision = _reload(contribution).current_revision
    assert (revision.required, revision.spent) == (Decimal("120000"), Decimal("50000"))


def test_update_activity_with_stale_version_raises_conflict(world):
    activity = _activity(world)
    loaded = activity.version
    update_activity(
        actor=world.fp_undp,
        activity=activity,
        data=activity_data(world, title="Renamed by the first editor"),
        expected_version=loaded,
    )
    before = count_rows()

    with pytest.raises(ConflictError) as excinfo:
        update_activity(
            actor=world.fp_undp_2,
            activity=activity,
            data=activity_data(world, gender_marker=1),
            expected_version=loaded,
        )

    assert excinfo.value.current_version == loaded + 1
    assert excinfo.value.changes["title"] == [
        "Renamed by the first editor",
        activity_data(world).title,
    ]
    assert excinfo.value.changes["gender_marker"] == [3, 1]
    assert count_rows() == before
    activity = _reload(activity)
    assert (activity.title, activity.gender_marker) == (
        "Renamed by the first editor",
        3,
    )


def test_update_measurement_with_stale_version_raises_conflict(world):
    measurement = _measurement(world)
    loaded = measurement.version
    update_measurement(
        actor=world.fp_undp,
        measurement=measurement,
        data=measurement_data(world, source="Second survey round"),
        expected_version=loaded,
    )
    before = count_rows()

    with pytest.raises(ConflictError) as excinfo:
        update_measurement(
            actor=world.rco,
            measurement=measurement,
            data=measurement_data(world, value=Decimal("260")),
            expected_version=loaded,
        )

    assert excinfo.value.changes == {
        "source": ["Second survey round", measurement_data(world).source],
        "value": ["250", "260"],
    }
    assert count_rows() == before
    measurement = _reload(measurement)
    assert (measurement.value, measurement.source) == (
        Decimal("250"),
        "Second survey round",
    )


# --- 6. history -------------------------------------------------------------------


def _timeline(events):
    return [(e.action, e.actor, e.comment, e.changes) for e in events.order_by("pk")]


def test_contribution_events_record_each_step_with_changes(world):
    contribution = _contribution(world)
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    return_contribution(actor=world.rco, contribution=contribution, comment="Fix spent")
    update_contribution(
        actor=world.fp_undp_2,
        contribution=contribution,
        figures=figures_data(
            world,
            spent=Decimal("40000.50"),
            results=figures_data(world).results[:1],
        ),
        expected_version=_reload(contribution).version,
    )
    submit_contribution(actor=world.fp_undp_2, contribution=contribution)
    validate_contribution(actor=world.rc, contribution=contribution)
    update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, spent=Decimal("40000.50"), reach=1300),
        expected_version=_reload(contribution).version,
    )

    timeline = _timeline(WorkflowEvent.objects.filter(contribution=contribution))
    assert [step[:3] for step in timeline] == [
        (WorkflowAction.CREATED, world.fp_undp, ""),
        (WorkflowAction.SUBMITTED, world.fp_undp, ""),
        (WorkflowAction.RETURNED, world.rco, "Fix spent"),
        (WorkflowAction.EDITED, world.fp_undp_2, ""),
        (WorkflowAction.SUBMITTED, world.fp_undp_2, ""),
        (WorkflowAction.VALIDATED, world.rc, ""),
        (WorkflowAction.REOPENED, world.fp_undp, ""),
    ]
    edited, reopened = timeline[3][3], timeline[6][3]
    assert edited["spent"] == ["50000", "40000.5"]
    assert any(key.startswith("result SCHOOL-PCT") for key in edited)
    assert all(new is None for key, (_old, new) in edited.items() if "SCHOOL" in key)
    assert reopened["reach"] == [1200, 1300]
    assert any(key.startswith("result SCHOOL-PCT") for key in reopened)
    assert all(e.country_team == world.team for e in WorkflowEvent.objects.all())


def test_activity_events_record_each_step_with_changes(world):
    activity = _activity(world)
    submit_activity(actor=world.fp_undp, activity=activity)
    return_activity(actor=world.rc, activity=activity, comment="Tag SDG 3.1 too")
    update_activity(
        actor=world.fp_undp,
        activity=activity,
        data=activity_data(
            world,
            sdg_targets=[world.sdg_target, world.sdg_target_2],
            gender_marker=2,
        ),
        expected_version=_reload(activity).version,
    )
    submit_activity(actor=world.fp_undp, activity=activity)
    validate_activity(actor=world.rco, activity=activity)

    timeline = _timeline(activity.events.all())
    assert [step[:3] for step in timeline] == [
        (WorkflowAction.CREATED, world.fp_undp, ""),
        (WorkflowAction.SUBMITTED, world.fp_undp, ""),
        (WorkflowAction.RETURNED, world.rc, "Tag SDG 3.1 too"),
        (WorkflowAction.EDITED, world.fp_undp, ""),
        (WorkflowAction.SUBMITTED, world.fp_undp, ""),
        (WorkflowAction.VALIDATED, world.rco, ""),
    ]
    assert timeline[3][3] == {
        "gender_marker": [3, 2],
        "sdg_targets": [
            [str(world.sdg_target)],
            sorted([str(world.sdg_target), str(world.sdg_target_2)]),
        ],
    }


def test_measurement_events_record_each_step_with_changes(world):
    measurement = _measurement(world)
    submit_measurement(actor=world.fp_undp, measurement=measurement)
    return_measurement(actor=world.rco, measurement=measurement, comment="Source?")
    update_measurement(
        actor=world.fp_undp,
        measurement=measurement,
        data=measurement_data(
            world,
            value=Decimal("250.5"),
            disaggregation={"sex": {"female": "130.5", "male": 120}},
            source="Registry 2",
        ),
        expected_version=_reload(measurement).version,
    )
    submit_measurement(actor=world.fp_undp, measurement=measurement)
    validate_measurement(actor=world.rco, measurement=measurement)

    timeline = _timeline(measurement.events.all())
    assert [step[:3] for step in timeline] == [
        (WorkflowAction.CREATED, world.fp_undp, ""),
        (WorkflowAction.SUBMITTED, world.fp_undp, ""),
        (WorkflowAction.RETURNED, world.rco, "Source?"),
        (WorkflowAction.EDITED, world.fp_undp, ""),
        (WorkflowAction.SUBMITTED, world.fp_undp, ""),
        (WorkflowAction.VALIDATED, world.rco, ""),
    ]
    assert timeline[3][3] == {
        "disaggregation": [
            {"sex": {"female": "130", "male": "120"}},
            {"sex": {"female": "130.5", "male": "120"}},
        ],
        "source": [measurement_data(world).source, "Registry 2"],
        "value": ["250", "250.5"],
    }


def test_update_measurement_with_same_breakdown_records_no_change(world):
    measurement = _measurement(world)
    before = count_rows()

    update_measurement(
        actor=world.fp_undp,
        measurement=measurement,
        data=measurement_data(world),
        expected_version=measurement.version,
    )

    assert count_rows() == before
    assert _reload(measurement).version == measurement.version


# --- 7. notifications -------------------------------------------------------------


def test_submit_contribution_emails_the_team_coordinators(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    contribution = _contribution(world)

    with django_capture_on_commit_callbacks(execute=True):
        submit_contribution(actor=world.fp_undp, contribution=contribution)

    recipients = sorted(address for m in mailoutbox for address in m.to)
    assert recipients == sorted([world.rc.email, world.rco.email])
    assert "Submitted for validation" in mailoutbox[0].subject
    assert "UNDP contribution" in mailoutbox[0].subject


def test_submit_activity_and_measurement_email_the_team_coordinators(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    activity = _activity(world)
    measurement = _measurement(world)

    with django_capture_on_commit_callbacks(execute=True):
        submit_activity(actor=world.fp_undp, activity=activity)
        submit_measurement(actor=world.fp_undp, measurement=measurement)

    # One message per person and per record: nobody sees the other recipients.
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [world.rc.email, world.rco.email] * 2
    )
    assert all(len(m.to) == 1 for m in mailoutbox)


def test_submit_skips_deactivated_coordinators(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    world.rco.is_active = False
    world.rco.save()
    contribution = _contribution(world)

    with django_capture_on_commit_callbacks(execute=True):
        submit_contribution(actor=world.fp_undp, contribution=contribution)

    assert [m.to for m in mailoutbox] == [[world.rc.email]]


def test_return_contribution_emails_the_owning_agency_focal_points(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    contribution = _contribution(world)
    submit_contribution(actor=world.fp_undp, contribution=contribution)

    with django_capture_on_commit_callbacks(execute=True):
        return_contribution(
            actor=world.rco, contribution=contribution, comment="Spent is too high."
        )

    assert sorted(m.to for m in mailoutbox) == sorted(
        [[world.fp_undp.email], [world.fp_undp_2.email]]
    )
    assert all("Spent is too high." in m.body for m in mailoutbox)


def test_return_activity_emails_the_lead_agency_focal_points(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    activity = _activity(world)
    submit_activity(actor=world.fp_undp, activity=activity)

    with django_capture_on_commit_callbacks(execute=True):
        return_activity(actor=world.rc, activity=activity, comment="Add Baidoa.")

    assert sorted(m.to for m in mailoutbox) == sorted(
        [[world.fp_undp.email], [world.fp_undp_2.email]]
    )


def test_return_team_wide_measurement_emails_the_rc_office(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    measurement = record_measurement(
        actor=world.rco, indicator=world.number_indicator, data=measurement_data(world)
    )
    submit_measurement(actor=world.rco, measurement=measurement)

    with django_capture_on_commit_callbacks(execute=True):
        return_measurement(actor=world.rc, measurement=measurement, comment="Source?")

    assert sorted(m.to for m in mailoutbox) == sorted(
        [[world.rc.email], [world.rco.email]]
    )


def test_nothing_is_emailed_when_the_transaction_rolls_back(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    contribution = _contribution(world)

    def submit_then_fail() -> None:
        with transaction.atomic():
            submit_contribution(actor=world.fp_undp, contribution=contribution)
            raise RuntimeError("the request failed after the submit")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        submit_then_fail()

    assert callbacks == []
    assert mailoutbox == []
    assert _reload(contribution).status == WorkflowStatus.DRAFT


def test_validate_sends_no_email(world, mailoutbox, django_capture_on_commit_callbacks):
    contribution = _contribution(world)
    submit_contribution(actor=world.fp_undp, contribution=contribution)

    with django_capture_on_commit_callbacks(execute=True):
        validate_contribution(actor=world.rco, contribution=contribution)

    assert mailoutbox == []


# --- 8. deletion ------------------------------------------------------------------


def test_delete_activity_removes_a_draft_with_its_draft_contributions(world):
    before = count_rows()
    activity = _activity(world)
    _contribution(world, activity)
    create_contribution(
        actor=world.fp_unicef,
        activity=activity,
        agency=world.unicef,
        year=world.year,
        figures=figures_data(world),
    )

    delete_activity(actor=world.fp_undp, activity=activity)

    assert count_rows() == before


def test_delete_contribution_removes_a_draft_with_its_rows(world):
    activity = _activity(world)
    before = count_rows()
    contribution = _contribution(world, activity)
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    return_contribution(actor=world.rco, contribution=contribution, comment="Again")

    delete_contribution(actor=world.fp_undp, contribution=contribution)

    assert count_rows() == before
    assert JointActivity.objects.filter(pk=activity.pk).exists()


def test_delete_measurement_removes_a_draft(world):
    before = count_rows()
    measurement = _measurement(world)

    delete_measurement(actor=world.fp_undp, measurement=measurement)

    assert count_rows() == before


def test_delete_measurement_drops_a_pending_change_but_keeps_the_validated(world):
    original = _validated_measurement(world)
    pending = update_measurement(
        actor=world.fp_undp,
        measurement=original,
        data=measurement_data(world, value=Decimal("1")),
        expected_version=original.version,
    )

    delete_measurement(actor=world.fp_undp, measurement=pending)

    assert list(IndicatorMeasurement.objects.values_list("pk", "status")) == [
        (original.pk, WorkflowStatus.VALIDATED)
    ]


def test_delete_submitted_contribution_is_refused(world):
    contribution = _contribution(world)
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    before = count_rows()

    with pytest.raises(PermissionDenied):
        delete_contribution(actor=world.fp_undp, contribution=contribution)

    assert count_rows() == before


@pytest.mark.parametrize("reopened", [False, True], ids=["validated", "reopened"])
def test_delete_contribution_ever_validated_is_refused(world, reopened):
    contribution = _validated_contribution(world)
    if reopened:
        update_contribution(
            actor=world.fp_undp,
            contribution=contribution,
            figures=figures_data(world, spent=Decimal("1")),
            expected_version=None,
        )
    before = count_rows()

    with pytest.raises((PermissionDenied, ValidationError)):
        delete_contribution(actor=world.fp_undp, contribution=contribution)

    assert count_rows() == before
    assert _reload(contribution).validated_revision.status == WorkflowStatus.VALIDATED


@pytest.mark.parametrize("reopened", [False, True], ids=["validated", "reopened"])
def test_delete_activity_ever_validated_is_refused(world, reopened):
    activity = _validated_activity(world)
    if reopened:
        update_activity(
            actor=world.fp_undp,
            activity=activity,
            data=activity_data(world, title="Changed"),
            expected_version=None,
        )
    before = count_rows()

    with pytest.raises((PermissionDenied, ValidationError)):
        delete_activity(actor=world.fp_undp, activity=activity)

    assert count_rows() == before


def test_delete_activity_with_a_validated_contribution_is_refused(world):
    contribution = _validated_contribution(world)
    activity = contribution.activity
    assert activity.status == WorkflowStatus.DRAFT
    before = count_rows()

    with pytest.raises(ValidationError, match="validated contributions"):
        delete_activity(actor=world.fp_undp, activity=activity)

    assert count_rows() == before


@pytest.mark.parametrize("status", ["validated", "superseded"])
def test_delete_measurement_ever_validated_is_refused(world, status):
    measurement = _validated_measurement(world)
    if status == "superseded":
        pending = update_measurement(
            actor=world.fp_undp,
            measurement=measurement,
            data=measurement_data(
                world, value=Decimal("1"), disaggregation={"sex": {"female": 1}}
            ),
            expected_version=None,
        )
        submit_measurement(actor=world.fp_undp, measurement=pending)
        validate_measurement(actor=world.rco, measurement=pending)
        measurement = _reload(measurement)
        assert measurement.status == WorkflowStatus.SUPERSEDED
    before = count_rows()

    with pytest.raises((PermissionDenied, ValidationError)):
        delete_measurement(actor=world.rco, measurement=measurement)

    assert count_rows() == before


@pytest.mark.parametrize("record", ["activity", "contribution", "measurement"])
def test_administrator_cannot_delete_validated_records(world, record):
    target = {
        "activity": _validated_activity,
        "contribution": _validated_contribution,
        "measurement": _validated_measurement,
    }[record](world)
    delete = {
        "activity": lambda: delete_activity(actor=world.administrator, activity=target),
        "contribution": lambda: delete_contribution(
            actor=world.administrator, contribution=target
        ),
        "measurement": lambda: delete_measurement(
            actor=world.administrator, measurement=target
        ),
    }[record]
    before = count_rows()

    with pytest.raises(ValidationError):
        delete()

    assert count_rows() == before


def test_deleted_counts_include_result_values(world):
    contribution = _contribution(world)
    assert ResultValue.objects.filter(revision__contribution=contribution).count() == 2

    delete_contribution(actor=world.fp_undp, contribution=contribution)

    assert not ResultValue.objects.exists()
    assert not ContributionRevision.objects.exists()


# --- reporting hears of every change ----------------------------------------------


@pytest.fixture
def announced(world):
    team_ids: list[int] = []

    def receiver(sender, *, team_id, **kwargs):
        team_ids.append(team_id)

    team_data_changed.connect(receiver, dispatch_uid="test-joint-work-announced")
    yield team_ids
    team_data_changed.disconnect(dispatch_uid="test-joint-work-announced")


def test_every_measurement_write_announces_the_change(world, announced):
    measurement = _measurement(world)
    submit_measurement(actor=world.fp_undp, measurement=measurement)
    return_measurement(actor=world.rco, measurement=measurement, comment="Source?")
    update_measurement(
        actor=world.fp_undp,
        measurement=measurement,
        data=measurement_data(world, source="Registry 2"),
        expected_version=None,
    )
    submit_measurement(actor=world.fp_undp, measurement=measurement)
    validate_measurement(actor=world.rco, measurement=measurement)

    assert announced == [world.team.pk] * 6


def test_every_contribution_write_announces_the_change(world, announced):
    activity = _activity(world)
    announced.clear()
    contribution = _contribution(world, activity)
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    return_contribution(actor=world.rco, contribution=contribution, comment="Why?")
    update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, spent=Decimal("1")),
        expected_version=None,
    )
    submit_contribution(actor=world.fp_undp, contribution=contribution)
    validate_contribution(actor=world.rco, contribution=contribution)

    assert announced == [world.team.pk] * 6


def test_refused_write_announces_nothing(world, announced):
    contribution = _contribution(world)
    announced.clear()

    with pytest.raises(PermissionDenied):
        submit_contribution(actor=world.fp_unicef, contribution=contribution)

    assert announced == []


def test_delete_activity_refuses_while_a_contribution_awaits_validation(world):
    contribution = _contribution(world)
    submit_contribution(actor=world.fp_undp, contribution=contribution)

    with pytest.raises(ValidationError, match="await validation"):
        delete_activity(actor=world.fp_undp, activity=contribution.activity)

    assert JointActivity.objects.filter(pk=contribution.activity_id).exists()
    assert Contribution.objects.filter(pk=contribution.pk).exists()
