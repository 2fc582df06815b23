"""Reads of the coordination instruments, loaded so pages and exports run a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet

from coordination.models import CountryTeam
from frameworks.models import (
    Accelerator,
    CollectiveOutcome,
    CommonService,
    CostAvoidance,
    Indicator,
    JointActivity,
    JointProgramme,
    MapsMission,
    MutualRecognition,
    OperationsStrategy,
    Outcome,
    Platform,
    PriorityAction,
    Recommendation,
    ZeroHungerReview,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from coordination.models import User


def _missions() -> QuerySet[MapsMission]:
    return MapsMission.objects.select_related("country_team").prefetch_related(
        "participating_agencies",
        Prefetch(
            "accelerators",
            queryset=Accelerator.objects.prefetch_related(
                Prefetch(
                    "outcomes",
                    queryset=Outcome.objects.select_related("framework").order_by(
                        "framework__start_year", "code"
                    ),
                ),
                Prefetch(
                    "activities", queryset=JointActivity.objects.order_by("title")
                ),
            ),
        ),
        Prefetch(
            "recommendations",
            queryset=Recommendation.objects.select_related(
                "owner_agency", "accelerator"
            ),
        ),
    )


def list_missions_for_team(*, team: CountryTeam) -> QuerySet[MapsMission]:
    """Return a team's MAPS missions with accelerators, links and recommendations."""
    return _missions().for_team(team)


def get_mission_for_team(*, team: CountryTeam, pk: int) -> MapsMission | None:
    """Return one MAPS mission of the team, loaded as the overview loads it."""
    return _missions().for_team(team).filter(pk=pk).first()


def list_recommendations_for_team(*, team: CountryTeam) -> QuerySet[Recommendation]:
    """Return every recommendation of the team's missions, mission by mission."""
    return (
        Recommendation.objects.filter(mission__country_team=team)
        .select_related("mission__country_team", "owner_agency", "accelerator")
        .order_by("mission__start_date", "mission__code", "code")
    )


def get_recommendation_for_team(*, team: CountryTeam, pk: int) -> Recommendation | None:
    """Return one recommendation of the team's missions."""
    return list_recommendations_for_team(team=team).filter(pk=pk).first()


def list_zero_hunger_reviews_for_team(
    *, team: CountryTeam
) -> QuerySet[ZeroHungerReview]:
    """Return a team's Zero Hunger Strategic Reviews with their priority actions."""
    return ZeroHungerReview.objects.for_team(team).prefetch_related(
        "co_funding_agencies",
        Prefetch(
            "priority_actions",
            queryset=PriorityAction.objects.prefetch_related("agencies"),
        ),
    )


def list_collective_outcomes_for_team(
    *, team: CountryTeam
) -> QuerySet[CollectiveOutcome]:
    """Return a team's collective outcomes with their framework outcomes and the
    indicators that measure them."""
    return CollectiveOutcome.objects.for_team(team).prefetch_related(
        Prefetch(
            "outcomes",
            queryset=Outcome.objects.select_related("framework").prefetch_related(
                Prefetch("indicators", queryset=Indicator.objects.order_by("code"))
            ),
        )
    )


@dataclass(frozen=True)
class CostYear:
    year: int
    estimated: Decimal
    realised: Decimal | None


def summarize_cost_avoidance(strategy: OperationsStrategy) -> list[CostYear]:
    """Total a strategy's cost avoidance per year, from its prefetched services.

    The realised total is None for a year without any realised figure yet, so a
    year still running does not read as a year that saved nothing.
    """
    estimated: dict[int, Decimal] = defaultdict(Decimal)
    realised: dict[int, Decimal | None] = {}
    for service in strategy.services.all():
        for row in service.cost_avoidance.all():
            estimated[row.year] += row.estimated
            if row.realised is not None:
                realised[row.year] = (realised.get(row.year) or Decimal(0)) + (
                    row.realised
                )
            else:
                realised.setdefault(row.year, None)
    return [
        CostYear(year=year, estimated=estimated[year], realised=realised.get(year))
        for year in sorted(estimated)
    ]


def list_operations_strategies_for_team(
    *, team: CountryTeam
) -> QuerySet[OperationsStrategy]:
    """Return a team's Business Operations Strategies with services, yearly cost
    avoidance and mutual-recognition adoptions."""
    return OperationsStrategy.objects.for_team(team).prefetch_related(
        Prefetch(
            "services",
            queryset=CommonService.objects.select_related(
                "lead_agency"
            ).prefetch_related(
                "agencies",
                Prefetch(
                    "cost_avoidance", queryset=CostAvoidance.objects.order_by("year")
                ),
            ),
        ),
        Prefetch(
            "recognitions", queryset=MutualRecognition.objects.select_related("agency")
        ),
    )


def list_platforms_for_team(*, team: CountryTeam) -> QuerySet[Platform]:
    """Return the platforms and initiatives a team takes part in."""
    return Platform.objects.for_team(team).prefetch_related("member_agencies")


def list_platforms(*, user: User | AnonymousUser) -> QuerySet[Platform]:
    """Return every platform the user may see."""
    return Platform.objects.visible_to(user).prefetch_related("member_agencies")


def get_platform_for_user(*, user: User | AnonymousUser, code: str) -> Platform | None:
    """Return a platform with only the teams, programmes and activities the user
    may see inside it."""
    teams = CountryTeam.objects.visible_to(user)
    return (
        Platform.objects.visible_to(user)
        .prefetch_related(
            "member_agencies",
            Prefetch("countries", queryset=teams.order_by("name")),
            Prefetch(
                "joint_programmes",
                queryset=JointProgramme.objects.filter(country_team__in=teams)
                .select_related("country_team", "convening_agency")
                .order_by("country_team__name", "title"),
            ),
            Prefetch(
                "activities",
                queryset=JointActivity.objects.filter(country_team__in=teams)
                .select_related("country_team", "agency")
                .order_by("country_team__name", "title"),
            ),
        )
        .filter(code=code)
        .first()
    )
