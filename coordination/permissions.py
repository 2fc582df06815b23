"""Who may do what, in one place.

Every view, API endpoint, template and service asks these predicates (directly or
through the `rules` permissions registered below), so the web and the API can
never disagree. Predicates take objects that expose `country_team_id` (and, for
agency-owned records, `agency_id`), or a CountryTeam itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rules

from coordination.models import COORDINATOR_ROLES, Membership, Role

_CACHE_ATTR = "_unportal_roles"


@dataclass(frozen=True)
class TeamRole:
    country_team_id: int
    role: str
    agency_id: int | None


def roles_of(user: Any) -> tuple[TeamRole, ...]:
    """Return the user's memberships, loaded once per user object (one query).

    A deactivated account holds no roles: the rules backend, unlike Django's
    ModelBackend, does not check `is_active` itself.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return ()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = tuple(
            TeamRole(team_id, role, agency_id)
            for team_id, role, agency_id in Membership.objects.filter(
                user_id=user.pk
            ).values_list("country_team_id", "role", "agency_id")
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user: Any) -> None:
    """Drop the cached memberships (after they change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def team_id_of(obj: Any) -> int | None:
    """Return the country-team id an object belongs to (a team is its own)."""
    from coordination.models import CountryTeam

    if obj is None:
        return None
    if isinstance(obj, CountryTeam):
        return obj.pk
    return getattr(obj, "country_team_id", None)


def team_ids_for(user: Any, *roles: str) -> set[int]:
    """Return ids of the teams where the user holds any of the roles (any if none)."""
    return {r.country_team_id for r in roles_of(user) if not roles or r.role in roles}


def agency_ids_for(user: Any, team_id: int) -> set[int]:
    """Return ids of the agencies the user is focal point for in one team."""
    return {
        r.agency_id
        for r in roles_of(user)
        if r.country_team_id == team_id and r.role == Role.FOCAL_POINT and r.agency_id
    }


@rules.predicate
def is_administrator(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


@rules.predicate
def is_board_member(user: Any) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and user.is_board_member
    )


@rules.predicate
def is_team_member(user: Any, obj: Any) -> bool:
    return team_id_of(obj) in team_ids_for(user)


@rules.predicate
def is_team_coordinator(user: Any, obj: Any) -> bool:
    """RC or RC Office officer of the object's country team."""
    return team_id_of(obj) in team_ids_for(user, *COORDINATOR_ROLES)


@rules.predicate
def is_resident_coordinator(user: Any, obj: Any) -> bool:
    return team_id_of(obj) in team_ids_for(user, Role.RESIDENT_COORDINATOR)


@rules.predicate
def is_team_focal_point(user: Any, obj: Any) -> bool:
    """Focal point of any agency in the object's country team."""
    return team_id_of(obj) in team_ids_for(user, Role.FOCAL_POINT)


@rules.predicate
def is_focal_point_of_owner(user: Any, obj: Any) -> bool:
    """Focal point, in the object's team, of the agency that owns the object."""
    team_id = team_id_of(obj)
    agency_id = getattr(obj, "agency_id", None)
    return team_id is not None and agency_id in agency_ids_for(user, team_id)


# The permission table. Views and the API check these names with user.has_perm.
can_view_team = is_team_member | is_administrator
can_coordinate_team = is_team_coordinator | is_administrator
can_sign_off = is_resident_coordinator | is_administrator
can_view_board_summary = is_board_member | is_administrator

rules.add_perm("coordination.view_countryteam", can_view_team)
rules.add_perm("coordination.coordinate_countryteam", can_coordinate_team)
rules.add_perm("coordination.sign_off_countryteam", can_sign_off)
rules.add_perm("coordination.view_board_summary", can_view_board_summary)
rules.add_perm("coordination.manage_reference_data", is_administrator)
