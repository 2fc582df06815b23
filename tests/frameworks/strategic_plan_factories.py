"""Factories for agency strategic plans, and a country team linked to them.

`build_plan_world` adds to the joint-work world (tests.frameworks.
joint_work_factories) a UNDP and a UNICEF plan covering the framework's first
years, an earlier UNDP plan and an FAO plan (FAO is in no team).
"""

from __future__ import annotations

from dataclasses import dataclass

import factory

from frameworks.models import StrategicPlan, StrategicPlanOutcome, StrategicPlanOutput
from tests.coordination.factories import AgencyFactory
from tests.frameworks.joint_work_factories import JointWorkWorld, build_world


class StrategicPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategicPlan

    agency = factory.SubFactory(AgencyFactory)
    title = factory.LazyAttribute(
        lambda p: f"{p.agency.code} Strategic Plan, {p.start_year}-{p.end_year}"
    )
    start_year = 2018
    end_year = 2021
    source_document = "DP/TEST/2017/1"
    source_url = "https://example.org/strategic-plan"


class PlanOutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategicPlanOutcome

    plan = factory.SubFactory(StrategicPlanFactory)
    code = factory.Sequence(lambda n: f"{n + 1}")
    title = factory.Sequence(lambda n: f"Plan outcome {n}")


class PlanOutputFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategicPlanOutput

    outcome = factory.SubFactory(PlanOutcomeFactory)
    plan = factory.SelfAttribute("outcome.plan")
    code = factory.Sequence(lambda n: f"{n + 1}.1")
    title = factory.Sequence(lambda n: f"Plan output {n}")


@dataclass
class PlanWorld:
    world: JointWorkWorld
    undp_plan: StrategicPlan
    undp_output: StrategicPlanOutput
    undp_output_2: StrategicPlanOutput
    old_undp_plan: StrategicPlan
    old_undp_output: StrategicPlanOutput
    unicef_plan: StrategicPlan
    unicef_output: StrategicPlanOutput
    fao_output: StrategicPlanOutput


def build_plan_world() -> PlanWorld:
    world = build_world()
    start = world.framework.start_year
    undp_plan = StrategicPlanFactory(
        agency=world.undp, start_year=start, end_year=start + 3
    )
    undp_outcome = PlanOutcomeFactory(plan=undp_plan, code="1")
    old_undp_plan = StrategicPlanFactory(
        agency=world.undp, start_year=start - 10, end_year=start - 7
    )
    unicef_plan = StrategicPlanFactory(
        agency=world.unicef, start_year=start, end_year=start + 3
    )
    return PlanWorld(
        world=world,
        undp_plan=undp_plan,
        undp_output=PlanOutputFactory(outcome=undp_outcome, code="1.1.1"),
        undp_output_2=PlanOutputFactory(outcome=undp_outcome, code="1.1.2"),
        old_undp_plan=old_undp_plan,
        old_undp_output=PlanOutputFactory(outcome__plan=old_undp_plan, code="1.1"),
        unicef_plan=unicef_plan,
        unicef_output=PlanOutputFactory(outcome__plan=unicef_plan, code="1.a"),
        fao_output=PlanOutputFactory(
            outcome__plan=StrategicPlanFactory(
                agency=world.fao, start_year=start, end_year=start + 3
            ),
            code="A",
        ),
    )
