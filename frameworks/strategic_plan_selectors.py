"""Reads of the agencies' strategic plans and of the joint work linked to them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, QuerySet

from frameworks.models import (
    CommonChapterArea,
    CooperationFramework,
    FrameworkStatus,
    Output,
    SdgTarget,
    StrategicPlan,
    StrategicPlanOutcome,
    StrategicPlanOutput,
)

if TYPE_CHECKING:
    from coordination.models import Agency, CountryTeam
    from frameworks.models import Contribution


def _mappings() -> list[Prefetch]:
    return [
        Prefetch("sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")),
        Prefetch(
            "common_chapter_areas",
            queryset=CommonChapterArea.objects.order_by("position"),
        ),
    ]


def list_strategic_plans(*, agency: Agency | None = None) -> QuerySet[StrategicPlan]:
    """Return the plans (of one agency, if given) with outcome and output counts."""
    plans = StrategicPlan.objects.select_related("agency").annotate(
        outcome_count=Count("outcomes", distinct=True),
        output_count=Count("outputs", distinct=True),
    )
    if agency is not None:
        plans = plans.filter(agency=agency)
    return plans.order_by("agency__code", "start_year")


@dataclass(frozen=True)
class OutcomeGroup:
    """An outcome with its outputs; `outcome` is None for a plan's own outputs."""

    outcome: StrategicPlanOutcome | None
    outputs: list[StrategicPlanOutput]


@dataclass
class PlanDetail:
    plan: StrategicPlan
    groups: list[OutcomeGroup] = field(default_factory=list)

    @property
    def outcome_count(self) -> int:
        return sum(1 for group in self.groups if group.outcome is not None)

    @property
    def output_count(self) -> int:
        return sum(len(group.outputs) for group in self.groups)


def get_strategic_plan(*, pk: int) -> PlanDetail | None:
    """Return a plan with its outcomes and outputs, their SDG targets and areas,
    and per output how many contributions and framework outputs are linked."""
    plan = StrategicPlan.objects.select_related("agency").filter(pk=pk).first()
    if plan is None:
        return None
    outcomes = list(
        StrategicPlanOutcome.objects.filter(plan=plan)
        .prefetch_related(*_mappings())
        .order_by("order", "code")
    )
    outputs = list(
        StrategicPlanOutput.objects.filter(plan=plan)
        .prefetch_related(*_mappings())
        .annotate(
            contribution_count=Count("contribution_links", distinct=True),
            framework_output_count=Count("framework_output_links", distinct=True),
        )
        .order_by("order", "code")
    )
    by_outcome: dict[int | None, list[StrategicPlanOutput]] = {}
    for output in outputs:
        by_outcome.setdefault(output.outcome_id, []).append(output)
    detail = PlanDetail(
        plan=plan,
        groups=[
            OutcomeGroup(outcome=o, outputs=by_outcome.get(o.pk, [])) for o in outcomes
        ],
    )
    if None in by_outcome:
        detail.groups.append(OutcomeGroup(outcome=None, outputs=by_outcome[None]))
    return detail


def list_plan_outputs(
    *, agencies: Iterable[Agency], start_year: int, end_year: int
) -> list[StrategicPlanOutput]:
    """Return the outputs of the agencies' plans that share a year with the range,
    plan by plan in outcome order, with plan, agency and outcome loaded."""
    return list(
        StrategicPlanOutput.objects.filter(
            plan__agency__in=list(agencies),
            plan__start_year__lte=end_year,
            plan__end_year__gte=start_year,
        )
        .select_related("plan__agency", "outcome")
        .order_by("plan__agency__code", "plan__start_year", "order", "code")
    )


def list_plan_outputs_of_contribution(
    *, contribution: Contribution
) -> list[StrategicPlanOutput]:
    """Return the plan outputs the contribution's agency linked it to."""
    return list(
        StrategicPlanOutput.objects.filter(
            contribution_links__contribution=contribution
        )
        .select_related("plan__agency", "outcome")
        .order_by("plan__start_year", "order", "code")
    )


@dataclass(frozen=True)
class OutputAlignment:
    """One framework output with the plan outputs the RC office aligned it with."""

    output: Output
    plan_outputs: list[StrategicPlanOutput]


@dataclass
class TeamAlignment:
    """A team's active framework, its outputs and the plan outputs on offer."""

    framework: CooperationFramework | None
    outputs: list[OutputAlignment] = field(default_factory=list)
    offered: list[StrategicPlanOutput] = field(default_factory=list)

    @property
    def link_count(self) -> int:
        return sum(len(line.plan_outputs) for line in self.outputs)


def get_team_alignment(*, team: CountryTeam) -> TeamAlignment:
    """Return the active framework's outputs with their plan-output links, and the
    outputs of the plans of the team's agencies that overlap the framework."""
    framework = CooperationFramework.objects.active().filter(country_team=team).first()
    if framework is None:
        return TeamAlignment(framework=None)
    linked = StrategicPlanOutput.objects.select_related("plan__agency").order_by(
        "plan__agency__code", "plan__start_year", "order", "code"
    )
    outputs = (
        Output.objects.filter(framework=framework)
        .select_related("outcome")
        .prefetch_related(Prefetch("strategic_plan_outputs", queryset=linked))
        .order_by("outcome__code", "code")
    )
    return TeamAlignment(
        framework=framework,
        outputs=[
            OutputAlignment(output=o, plan_outputs=list(o.strategic_plan_outputs.all()))
            for o in outputs
        ],
        offered=list_plan_outputs(
            agencies=team.agencies.all(),
            start_year=framework.start_year,
            end_year=framework.end_year,
        ),
    )


def get_team_output(*, team: CountryTeam, pk: int) -> Output | None:
    """Return an output of the team's active framework, or None."""
    return (
        Output.objects.filter(
            pk=pk,
            framework__country_team=team,
            framework__status=FrameworkStatus.ACTIVE,
        )
        .select_related("framework__country_team", "outcome")
        .first()
    )
