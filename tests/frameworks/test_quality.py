"""Data-quality checks: each rule names its field, errors block submission."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from frameworks.models import Contribution, IndicatorUnit, WorkflowStatus
from frameworks.quality import (
    ERROR,
    WARNING,
    Issue,
    blocking,
    check_activity,
    check_measurement,
    check_revision,
    check_value,
)
from frameworks.services import (
    QualityError,
    submit_activity,
    submit_contribution,
    submit_measurement,
)
from tests.frameworks.factories import IndicatorFactory, SdgTargetFactory
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    JointWorkWorld,
    ResultValueFactory,
    build_world,
    count_rows,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


def _activity(world: JointWorkWorld, **overrides):
    values = {
        "country_team": world.team,
        "framework": world.framework,
        "agency": world.undp,
        "agencies": [world.undp, world.unicef],
        "outputs": [world.output],
        "locations": [world.region],
        "sdg_targets": [world.sdg_target],
    }
    values.update(overrides)
    return JointActivityFactory(**values)


def _contribution(world: JointWorkWorld, activity=None, **overrides):
    contribution = ContributionFactory(
        activity=activity or _activity(world), agency=world.undp, **overrides
    )
    ResultValueFactory(
        revision=contribution.current_revision,
        indicator=world.number_indicator,
        value=Decimal("100"),
        disaggregation={"sex": {"female": "60", "male": "40"}},
    )
    return Contribution.objects.get(pk=contribution.pk)


def _found(issues: list[Issue]) -> set[tuple[str, str]]:
    return {(i.level, i.field) for i in issues}


def _one(issues: list[Issue], field: str) -> Issue:
    matching = [i for i in issues if i.field == field]
    assert len(matching) == 1, issues
    return matching[0]


# --- activities -------------------------------------------------------------------


def test_check_activity_passes_a_complete_activity(world):
    assert check_activity(_activity(world)) == []


def _today():
    return timezone.localdate()


@pytest.mark.parametrize(
    ("overrides", "level", "field", "message"),
    [
        (lambda w: {"sdg_targets": []}, ERROR, "sdg_targets", "at least one SDG"),
        (
            lambda w: {"sdg_targets": SdgTargetFactory.create_batch(11)},
            ERROR,
            "sdg_targets",
            "at most 10 SDG targets (11 tagged)",
        ),
        (lambda w: {"gender_marker": None}, ERROR, "gender_marker", "gender"),
        (lambda w: {"agencies": [w.undp]}, ERROR, "agencies", "two or more"),
        (
            lambda w: {"agencies": [w.unicef, w.wfp]},
            ERROR,
            "agencies",
            "lead agency",
        ),
        (lambda w: {"outputs": []}, ERROR, "outputs", "at least one output"),
        (
            lambda w: {"start_date": datetime.date(w.framework.start_year - 1, 12, 31)},
            ERROR,
            "start_date",
            "before the framework period",
        ),
        (
            lambda w: {"end_date": datetime.date(w.framework.end_year + 1, 1, 1)},
            ERROR,
            "end_date",
            "after the framework period",
        ),
        (
            lambda w: {
                "implementation_status": "completed",
                "end_date": _today() + datetime.timedelta(days=30),
            },
            ERROR,
            "implementation_status",
            "in the future",
        ),
        (
            lambda w: {"human_rights_marker": None},
            WARNING,
            "human_rights_marker",
            "human rights",
        ),
        (lambda w: {"target_groups": []}, WARNING, "target_groups", "Leave No One"),
        (lambda w: {"locations": []}, WARNING, "locations", "location"),
    ],
    ids=[
        "no-sdg-target",
        "eleven-sdg-targets",
        "no-gender-marker",
        "one-agency",
        "lead-not-involved",
        "no-output",
        "starts-before-framework",
        "ends-after-framework",
        "completed-ending-in-future",
        "no-human-rights-marker",
        "no-target-group",
        "no-location",
    ],
)
def test_check_activity_flags(world, overrides, level, field, message):
    issues = check_activity(_activity(world, **overrides(world)))

    issue = [i for i in issues if i.field == field][-1]
    assert issue.level == level
    assert message in issue.message
    assert {i.field for i in issues} == {field}


def test_check_activity_accepts_completed_ending_today(world):
    activity = _activity(
        world,
        implementation_status="completed",
        start_date=datetime.date(world.framework.start_year, 1, 1),
        end_date=_today(),
    )

    assert check_activity(activity) == []


def test_check_activity_accepts_ten_sdg_targets(world):
    activity = _activity(world, sdg_targets=SdgTargetFactory.create_batch(10))

    assert check_activity(activity) == []


def test_check_activity_names_the_framework_period(world):
    activity = _activity(
        world, start_date=datetime.date(world.framework.start_year - 3, 1, 1)
    )

    issue = _one(check_activity(activity), "start_date")
    period = f"{world.framework.start_year}-{world.framework.end_year}"
    assert issue.message == (
        f"Starts in {world.framework.start_year - 3}, before the framework "
        f"period {period}."
    )


# --- contribution revisions -------------------------------------------------------


def test_check_revision_passes_complete_figures(world):
    contribution = _contribution(world)

    assert check_revision(contribution.current_revision) == []


@pytest.mark.parametrize(
    ("figures", "level", "field", "message"),
    [
        (
            {"spent": Decimal("900"), "available": Decimal("800")},
            ERROR,
            "spent",
            "Spent (900.00) is more than available (800.00).",
        ),
        (
            {"available": Decimal("1200"), "required": Decimal("1000")},
            WARNING,
            "available",
            "Available (1200.00) is more than required (1000.00).",
        ),
        ({"funding_source": ""}, WARNING, "funding_source", "funding source"),
    ],
    ids=["spent-over-available", "available-over-required", "no-funding-source"],
)
def test_check_revision_flags_money(world, figures, level, field, message):
    contribution = _contribution(world, **figures)

    issues = check_revision(contribution.current_revision)

    assert _found(issues) == {(level, field)}
    assert message in _one(issues, field).message


def test_check_revision_accepts_spent_equal_to_available(world):
    contribution = _contribution(world, spent=Decimal("800"), available=Decimal("800"))

    assert check_revision(contribution.current_revision) == []


def test_check_revision_flags_year_outside_framework(world):
    contribution = _contribution(world, year=world.framework.end_year + 1)

    issues = check_revision(contribution.current_revision)

    assert _found(issues) == {(ERROR, "year")}
    assert str(world.framework.end_year + 1) in issues[0].message


def test_check_revision_warns_of_year_outside_activity_dates(world):
    contribution = _contribution(world, year=world.framework.end_year)

    issues = check_revision(contribution.current_revision)

    assert _found(issues) == {(WARNING, "year")}
    assert "outside the activity's dates" in issues[0].message


def test_check_revision_warns_when_nothing_is_reported(world):
    contribution = ContributionFactory(
        activity=_activity(world),
        agency=world.undp,
        required=Decimal("0"),
        available=Decimal("0"),
        spent=Decimal("0"),
    )

    issues = check_revision(contribution.current_revision)

    assert _found(issues) == {(WARNING, "required")}


def test_check_revision_names_the_result_field(world):
    contribution = _contribution(world)
    ResultValueFactory(
        revision=contribution.current_revision,
        indicator=world.yes_no_indicator,
        value=Decimal("2"),
    )

    issues = check_revision(contribution.current_revision)

    assert _found(issues) == {(ERROR, "results.POLICY-ADOPTED")}
    assert issues[0].message == "POLICY-ADOPTED: answer 1 (yes) or 0 (no)."


# --- one reported value -----------------------------------------------------------


def _check(indicator, **kwargs):
    values = {
        "value": None,
        "numerator": None,
        "denominator": None,
        "disaggregation": {},
        "field": "value",
    }
    values.update(kwargs)
    return check_value(indicator, **values)


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [(None, None), (Decimal("5"), None), (None, Decimal("10"))],
    ids=["neither", "no-denominator", "no-numerator"],
)
def test_check_value_needs_numerator_and_denominator_for_percentage(
    world, numerator, denominator
):
    issues = _check(
        world.percentage_indicator,
        value=Decimal("50"),
        numerator=numerator,
        denominator=denominator,
    )

    assert _found(issues) == {(ERROR, "value")}
    assert "give numerator and denominator" in issues[0].message


def test_check_value_warns_when_numerator_exceeds_denominator(world):
    issues = _check(
        world.percentage_indicator, numerator=Decimal("11"), denominator=Decimal("10")
    )

    assert _found(issues) == {(WARNING, "value")}


@pytest.mark.parametrize(
    ("value", "blocks"),
    [
        (Decimal("0"), False),
        (Decimal("1"), False),
        (Decimal("1.0000"), False),
        (Decimal("2"), True),
        (Decimal("0.5"), True),
        (None, True),
    ],
)
def test_check_value_yes_no_takes_only_0_or_1(world, value, blocks):
    issues = _check(world.yes_no_indicator, value=value)

    assert bool(blocking(issues)) is blocks


def test_check_value_number_needs_a_value(world):
    issues = _check(world.wfp_indicator)

    assert _found(issues) == {(ERROR, "value")}
    assert issues[0].message == "MEALS: no value."


def test_check_value_qualitative_takes_text(world):
    indicator = IndicatorFactory(
        output=world.output,
        unit=IndicatorUnit.QUALITATIVE,
        baseline_value=None,
        target_value=None,
    )

    assert blocking(_check(indicator)) != []
    assert _check(indicator, text_value="Policy drafted") == []


def test_check_value_refuses_a_dimension_the_indicator_does_not_define(world):
    issues = _check(
        world.number_indicator,
        value=Decimal("100"),
        disaggregation={
            "sex": {"female": "60", "male": "40"},
            "age": {"0-4": "100"},
        },
    )

    assert _found(issues) == {(ERROR, "value")}
    assert issues[0].message == "CHILDREN-VACC is not disaggregated by age."


def test_check_value_refuses_a_breakdown_that_does_not_add_up(world):
    issues = _check(
        world.number_indicator,
        value=Decimal("100.0000"),
        disaggregation={"sex": {"female": "60", "male": "30"}},
    )

    assert _found(issues) == {(ERROR, "value")}
    assert issues[0].message == (
        "CHILDREN-VACC: the sex breakdown adds up to 90, not 100."
    )


def test_check_value_compares_a_percentage_breakdown_with_the_numerator(world):
    indicator = IndicatorFactory(
        output=world.output, unit=IndicatorUnit.PERCENTAGE, disaggregations=["sex"]
    )

    adds_up = _check(
        indicator,
        numerator=Decimal("45"),
        denominator=Decimal("60"),
        disaggregation={"sex": {"female": "25", "male": "20"}},
    )
    off = _check(
        indicator,
        numerator=Decimal("45"),
        denominator=Decimal("60"),
        disaggregation={"sex": {"female": "25", "male": "25"}},
    )

    assert adds_up == []
    assert _found(off) == {(ERROR, "value")}


def test_check_value_warns_of_a_missing_breakdown(world):
    issues = _check(world.outcome_indicator, value=Decimal("10"))

    assert [(i.level, i.message) for i in issues] == [
        (WARNING, "STUNTING: no breakdown by location."),
        (WARNING, "STUNTING: no breakdown by sex."),
    ]
    assert blocking(issues) == []


def test_check_value_passes_a_complete_breakdown(world):
    issues = _check(
        world.outcome_indicator,
        value=Decimal("10.5"),
        disaggregation={
            "sex": {"female": "5.25", "male": "5.25"},
            "location": {"urban": "10", "rural": "0.5"},
        },
    )

    assert issues == []


# --- measurements -----------------------------------------------------------------


def test_check_measurement_passes_a_complete_measurement(world):
    measurement = IndicatorMeasurementFactory(
        indicator=world.wfp_indicator, value=Decimal("12")
    )

    assert check_measurement(measurement) == []


def test_check_measurement_warns_without_source(world):
    measurement = IndicatorMeasurementFactory(indicator=world.wfp_indicator, source="")

    assert _found(check_measurement(measurement)) == {(WARNING, "source")}


def test_check_measurement_checks_the_value(world):
    measurement = IndicatorMeasurementFactory(
        indicator=world.number_indicator,
        value=Decimal("10"),
        disaggregation={"sex": {"female": "3", "male": "3"}},
    )

    issues = check_measurement(measurement)

    assert _found(issues) == {(ERROR, "value")}
    assert "adds up to 6, not 10" in issues[0].message


def test_blocking_keeps_only_errors():
    error = Issue(ERROR, "spent", "Too much.")
    warning = Issue(WARNING, "available", "Generous.")

    assert blocking([warning, error, warning]) == [error]
    assert error.is_blocking
    assert not warning.is_blocking


# --- submit refuses what the checks block ---------------------------------------


def test_submit_activity_lists_only_the_blocking_issues(world):
    activity = _activity(
        world, sdg_targets=[], gender_marker=None, human_rights_marker=None
    )
    before = count_rows()

    with pytest.raises(QualityError) as excinfo:
        submit_activity(actor=world.fp_undp, activity=activity)

    assert sorted(excinfo.value.messages) == [
        "gender_marker: Set the gender equality marker (0-3).",
        "sdg_targets: Tag at least one SDG target.",
    ]
    assert {i.field for i in excinfo.value.issues} == {
        "sdg_targets",
        "gender_marker",
        "human_rights_marker",
    }
    activity.refresh_from_db()
    assert activity.status == WorkflowStatus.DRAFT
    assert count_rows() == before


def test_submit_contribution_refuses_blocking_issues(world):
    contribution = _contribution(world, spent=Decimal("900"))
    before = count_rows()

    with pytest.raises(QualityError) as excinfo:
        submit_contribution(actor=world.fp_undp, contribution=contribution)

    assert excinfo.value.messages == [
        "spent: Spent (900.00) is more than available (800.00)."
    ]
    contribution.refresh_from_db()
    assert contribution.current_revision.status == WorkflowStatus.DRAFT
    assert count_rows() == before


def test_submit_measurement_refuses_blocking_issues(world):
    measurement = IndicatorMeasurementFactory(
        indicator=world.percentage_indicator, agency=world.undp, value=Decimal("50")
    )
    before = count_rows()

    with pytest.raises(QualityError) as excinfo:
        submit_measurement(actor=world.fp_undp, measurement=measurement)

    assert excinfo.value.messages == [
        "value: SCHOOL-PCT is a percentage: give numerator and denominator."
    ]
    measurement.refresh_from_db()
    assert measurement.status == WorkflowStatus.DRAFT
    assert count_rows() == before


def test_submit_returns_warnings_of_a_record_without_blocking_issues(world):
    activity = _activity(world, locations=[], target_groups=[])

    warnings = submit_activity(actor=world.fp_undp, activity=activity)

    assert sorted(w.field for w in warnings) == ["locations", "target_groups"]
    activity.refresh_from_db()
    assert activity.status == WorkflowStatus.SUBMITTED
