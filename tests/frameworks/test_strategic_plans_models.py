"""What the database (and model validation) keeps true about strategic plans."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from frameworks.models import ContributionPlanLink, FrameworkOutputPlanLink
from tests.coordination.factories import AgencyFactory
from tests.frameworks.factories import OutputFactory
from tests.frameworks.joint_work_factories import ContributionFactory
from tests.frameworks.strategic_plan_factories import (
    PlanOutcomeFactory,
    PlanOutputFactory,
    StrategicPlanFactory,
)

pytestmark = pytest.mark.django_db


def assert_refused(build) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        build()


def test_plan_period_must_be_in_order():
    assert_refused(lambda: StrategicPlanFactory(start_year=2021, end_year=2018))


def test_plan_years_must_be_plausible():
    assert_refused(lambda: StrategicPlanFactory(start_year=1890, end_year=1893))


def test_one_plan_per_agency_and_first_year():
    plan = StrategicPlanFactory()
    assert_refused(lambda: StrategicPlanFactory(agency=plan.agency, end_year=2022))
    StrategicPlanFactory(agency=AgencyFactory(), start_year=plan.start_year)


def test_plan_periods_of_one_agency_may_not_overlap():
    plan = StrategicPlanFactory(start_year=2018, end_year=2021)
    overlapping = StrategicPlanFactory.build(
        agency=plan.agency, start_year=2021, end_year=2024
    )
    with pytest.raises(ValidationError, match="overlaps"):
        overlapping.full_clean()
    StrategicPlanFactory.build(
        agency=plan.agency, start_year=2022, end_year=2025
    ).full_clean()
    plan.full_clean()  # a plan does not overlap itself


def test_outcome_and_output_codes_are_unique_within_a_plan_only():
    outcome = PlanOutcomeFactory(code="1")
    assert_refused(lambda: PlanOutcomeFactory(plan=outcome.plan, code="1"))
    PlanOutcomeFactory(code="1")
    output = PlanOutputFactory(outcome=outcome, code="1.1")
    assert_refused(
        lambda: PlanOutputFactory(
            outcome=PlanOutcomeFactory(plan=outcome.plan), code="1.1"
        )
    )
    other = PlanOutputFactory(code="1.1")
    assert other.plan != output.plan


def test_output_outcome_must_belong_to_its_plan():
    output = PlanOutputFactory.build(
        outcome=PlanOutcomeFactory(), plan=StrategicPlanFactory(end_year=2019)
    )
    with pytest.raises(ValidationError) as refused:
        output.full_clean()
    assert "outcome" in refused.value.message_dict


def test_a_contribution_links_to_an_output_once():
    contribution = ContributionFactory()
    output = PlanOutputFactory()
    ContributionPlanLink.objects.create(contribution=contribution, plan_output=output)
    assert_refused(
        lambda: ContributionPlanLink.objects.create(
            contribution=contribution, plan_output=output
        )
    )


def test_a_framework_output_links_to_a_plan_output_once():
    framework_output = OutputFactory()
    output = PlanOutputFactory()
    FrameworkOutputPlanLink.objects.create(output=framework_output, plan_output=output)
    assert_refused(
        lambda: FrameworkOutputPlanLink.objects.create(
            output=framework_output, plan_output=output
        )
    )


def test_plan_covers_only_its_period():
    plan = StrategicPlanFactory(start_year=2018, end_year=2021)
    assert [plan.covers(year) for year in (2017, 2018, 2021, 2022)] == [
        False,
        True,
        True,
        False,
    ]
    assert list(plan.years) == [2018, 2019, 2020, 2021]
