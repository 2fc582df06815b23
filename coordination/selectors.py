"""Reads of coordination data: teams, agencies and the people in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, QuerySet

from coordination.models import (
    Agency,
    ApiToken,
    CountryTeam,
    Membership,
    Role,
    TeamAgency,
    User,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class RoleGroup:
    role: str
    label: str
    memberships: list[Membership]


@dataclass(frozen=True)
class DirectoryCounts:
    users: int
    memberships: int
    teams: int
    agencies: int


def list_memberships_for_user(*, user: User | AnonymousUser) -> QuerySet[Membership]:
    """Return the user's memberships with their team and agency."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user_id=user.pk)
        .select_related("country_team", "agency")
        .order_by("country_team__name", "role", "agency__code")
    )


def list_teams_for_user(*, user: User | AnonymousUser) -> QuerySet[CountryTeam]:
    """Return the teams the user may see, with agency and member counts.

    Each team carries `my_memberships`, the user's own roles in it.
    """
    # Filtering by membership and counting memberships in one query would make the
    # counts share the filter's join, so visibility is applied as a subquery.
    visible_ids = CountryTeam.objects.visible_to(user).values("pk")
    return (
        CountryTeam.objects.filter(pk__in=visible_ids)
        .select_related("resident_coordinator")
        .annotate(
            agency_count=Count("team_agencies", distinct=True),
            member_count=Count("memberships", distinct=True),
        )
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(user_id=user.pk).select_related(
                    "agency"
                ),
                to_attr="my_memberships",
            )
        )
        .order_by("region", "name")
    )


def get_team_for_user(*, user: User | AnonymousUser, code: str) -> CountryTeam | None:
    """Return the team with this code if the user may see it, else None.

    Callers answer None with a 404: a team the user has no part in is not
    acknowledged to exist.
    """
    team = (
        CountryTeam.objects.select_related("resident_coordinator")
        .filter(code=code)
        .first()
    )
    if team is None or not user.has_perm("coordination.view_countryteam", team):
        return None
    return team


def list_team_agencies(*, team: CountryTeam) -> QuerySet[TeamAgency]:
    """Return the team's agencies, resident ones first."""
    return (
        TeamAgency.objects.filter(country_team=team)
        .select_related("agency")
        .order_by("-is_resident", "agency__code")
    )


def list_team_members_by_role(*, team: CountryTeam) -> list[RoleGroup]:
    """Return the team's members grouped by role, in the order of `Role`."""
    memberships = (
        Membership.objects.filter(country_team=team)
        .select_related("user", "agency")
        .order_by("agency__code", "user__last_name", "user__first_name")
    )
    by_role: dict[str, list[Membership]] = {role: [] for role in Role.values}
    for membership in memberships:
        by_role[membership.role].append(membership)
    return [
        RoleGroup(role=role, label=str(Role(role).label), memberships=members)
        for role, members in by_role.items()
    ]


def count_directory() -> DirectoryCounts:
    """Return how many users, memberships, teams and agencies exist."""
    return DirectoryCounts(
        users=User.objects.count(),
        memberships=Membership.objects.count(),
        teams=CountryTeam.objects.count(),
        agencies=Agency.objects.count(),
    )


def get_api_token_created(*, user: User) -> datetime | None:
    """Return when the user's API token was created, or None if they hold none."""
    return ApiToken.objects.filter(user=user).values_list("created", flat=True).first()
