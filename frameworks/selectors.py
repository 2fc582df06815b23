"""Reads of frameworks data: results frameworks, joint programmes, SDGs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Sum

from coordination.models import CountryTeam, Membership
from frameworks.models import (
    CommonChapterArea,
    CommonChapterCommitment,
    CooperationFramework,
    FrameworkStatus,
    Indicator,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    SdgGoal,
    SdgIndicator,
    SdgTarget,
    StrategicPriority,
)


@dataclass(frozen=True)
class PriorityBranch:
    """A strategic priority with its outcomes; `priority` is None for loose ones."""

    priority: StrategicPriority | None
    outcomes: list[Outcome]


@dataclass(frozen=True)
class FrameworkTree:
    branches: list[PriorityBranch]
    outcome_count: int
    output_count: int
    indicator_count: int


@dataclass(frozen=True)
class ReferenceDataCounts:
    goals: int
    targets: int
    indicators: int
    common_chapter_areas: int

    @property
    def is_loaded(self) -> bool:
        return self.goals == 17 and self.targets >= 169 and self.indicators > 0


@dataclass(frozen=True)
class AgencyContribution:
    """What one agency contributes to in one team (a focal point's desk)."""

    membership: Membership
    outputs: list[Output]
    participations: list[JointProgrammeParticipant]

    @property
    def budget_share(self) -> Decimal:
        return sum((p.budget_share for p in self.participations), Decimal("0"))


def list_frameworks_for_team(*, team: CountryTeam) -> QuerySet[CooperationFramework]:
    """Return the team's frameworks, newest first, with outcome and output counts."""
    return (
        CooperationFramework.objects.filter(country_team=team)
        .select_related("signed_off_by")
        .annotate(
            outcome_count=Count("outcomes", distinct=True),
            output_count=Count("outputs", distinct=True),
        )
        .order_by("-start_year")
    )


def get_framework_for_team(
    *, team: CountryTeam, pk: int
) -> CooperationFramework | None:
    """Return one framework of the team with its whole results tree prefetched."""
    return (
        CooperationFramework.objects.filter(country_team=team, pk=pk)
        .select_related("signed_off_by")
        .prefetch_related(
            "priorities",
            Prefetch(
                "outcomes",
                queryset=Outcome.objects.prefetch_related(
                    Prefetch(
                        "sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")
                    ),
                    "lead_agencies",
                    Prefetch("indicators", queryset=Indicator.objects.order_by("code")),
                    Prefetch(
                        "outputs",
                        queryset=Output.objects.order_by("code").prefetch_related(
                            "contributing_agencies",
                            Prefetch(
                                "indicators",
                                queryset=Indicator.objects.order_by("code"),
                            ),
                        ),
                    ),
                ),
            ),
        )
        .first()
    )


def build_framework_tree(framework: CooperationFramework) -> FrameworkTree:
    """Arrange a framework from `get_framework_for_team` as priority → outcome.

    Works on the prefetched rows only; outcomes without a priority come last.
    """
    by_priority: dict[int | None, list[Outcome]] = defaultdict(list)
    output_count = indicator_count = 0
    for outcome in framework.outcomes.all():
        by_priority[outcome.strategic_priority_id].append(outcome)
        indicator_count += len(outcome.indicators.all())
        for output in outcome.outputs.all():
            output_count += 1
            indicator_count += len(output.indicators.all())
    branches = [
        PriorityBranch(priority=p, outcomes=by_priority.get(p.pk, []))
        for p in framework.priorities.all()
    ]
    if by_priority.get(None):
        branches.append(PriorityBranch(priority=None, outcomes=by_priority[None]))
    return FrameworkTree(
        branches=branches,
        outcome_count=len(framework.outcomes.all()),
        output_count=output_count,
        indicator_count=indicator_count,
    )


def list_programmes_for_team(*, team: CountryTeam) -> QuerySet[JointProgramme]:
    """Return the team's joint programmes with total budget and participants."""
    return (
        JointProgramme.objects.filter(country_team=team)
        .select_related("convening_agency")
        .with_budget()
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=JointProgrammeParticipant.objects.select_related("agency"),
            )
        )
        .order_by("-start_date", "title")
    )


def get_programme_for_team(*, team: CountryTeam, pk: int) -> JointProgramme | None:
    """Return one joint programme of the team with participants, outcomes, targets."""
    return (
        JointProgramme.objects.filter(country_team=team, pk=pk)
        .select_related("convening_agency")
        .with_budget()
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=JointProgrammeParticipant.objects.select_related(
                    "agency"
                ).order_by("-budget_share", "agency__code"),
            ),
            Prefetch(
                "outcomes",
                queryset=Outcome.objects.select_related("framework").order_by(
                    "framework__start_year", "code"
                ),
            ),
            Prefetch("sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")),
        )
        .first()
    )


def list_commitments_for_team(
    *, team: CountryTeam
) -> QuerySet[CommonChapterCommitment]:
    """Return the team's common-chapter commitments in area order, with agencies."""
    return (
        CommonChapterCommitment.objects.for_team(team)
        .select_related("area")
        .prefetch_related("agencies")
        .order_by("area__position", "-year", "title")
    )


def list_sdg_goals() -> QuerySet[SdgGoal]:
    """Return the 17 goals with their targets (two queries)."""
    return SdgGoal.objects.prefetch_related(
        Prefetch("targets", queryset=SdgTarget.objects.order_by("sort_key"))
    ).order_by("number")


def count_reference_data() -> ReferenceDataCounts:
    """Return how much SDG and common-chapter reference data is loaded."""
    return ReferenceDataCounts(
        goals=SdgGoal.objects.count(),
        targets=SdgTarget.objects.count(),
        indicators=SdgIndicator.objects.count(),
        common_chapter_areas=CommonChapterArea.objects.count(),
    )


def count_collective_outcomes(*, team_ids: Iterable[int] | None = None) -> int:
    """Return how many collective outcomes the active frameworks hold."""
    outcomes = Outcome.objects.collective().filter(
        framework__status=FrameworkStatus.ACTIVE
    )
    if team_ids is not None:
        outcomes = outcomes.filter(framework__country_team_id__in=team_ids)
    return outcomes.count()


def list_agency_contributions(
    *, memberships: Iterable[Membership]
) -> list[AgencyContribution]:
    """Return, per focal-point membership, its agency's outputs and programmes.

    Outputs come from each team's active framework. Two queries whatever the number
    of memberships: rows for all (team, agency) pairs are loaded at once and sorted
    out here.
    """
    memberships = [m for m in memberships if m.agency_id]
    if not memberships:
        return []
    team_ids = {m.country_team_id for m in memberships}
    agency_ids = {m.agency_id for m in memberships}

    outputs_by_pair: dict[tuple[int, int], list[Output]] = defaultdict(list)
    links = (
        Output.contributing_agencies.through.objects.filter(
            agency_id__in=agency_ids,
            output__framework__country_team_id__in=team_ids,
            output__framework__status=FrameworkStatus.ACTIVE,
        )
        .select_related("output__outcome", "output__framework")
        .order_by("output__code")
    )
    for link in links:
        pair = (link.output.framework.country_team_id, link.agency_id)
        outputs_by_pair[pair].append(link.output)

    shares_by_pair: dict[tuple[int, int], list[JointProgrammeParticipant]] = (
        defaultdict(list)
    )
    programme_total = (
        JointProgrammeParticipant.objects.filter(programme=OuterRef("programme"))
        .values("programme")
        .annotate(total=Sum("budget_share"))
        .values("total")
    )
    participations = (
        JointProgrammeParticipant.objects.filter(
            agency_id__in=agency_ids, programme__country_team_id__in=team_ids
        )
        .select_related("programme", "programme__convening_agency")
        .annotate(programme_total=Subquery(programme_total))
        .order_by("programme__title")
    )
    for participation in participations:
        pair = (participation.programme.country_team_id, participation.agency_id)
        shares_by_pair[pair].append(participation)

    return [
        AgencyContribution(
            membership=m,
            outputs=outputs_by_pair.get((m.country_team_id, m.agency_id), []),
            participations=shares_by_pair.get((m.country_team_id, m.agency_id), []),
        )
        for m in memberships
    ]
