"""Every write to coordination data. Keyword-only, typed, atomic."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordination.models import (
    AdminRegion,
    Agency,
    ApiToken,
    CountryTeam,
    CrisisContext,
    Membership,
    Role,
    TeamAgency,
    User,
)
from coordination.permissions import forget_roles


@transaction.atomic
def create_country_team(
    *,
    code: str,
    name: str,
    iso_alpha2: str,
    region: str,
    context: str = CrisisContext.DEVELOPMENT,
    agencies: Iterable[tuple[Agency, bool]] = (),
) -> CountryTeam:
    """Create a country team with its agencies (agency, is_resident)."""
    agencies = list(agencies)
    if len({agency.pk for agency, _resident in agencies}) != len(agencies):
        raise ValidationError({"agencies": _("An agency is listed more than once.")})
    team = CountryTeam(
        code=code.upper(),
        name=name,
        iso_alpha2=iso_alpha2.upper(),
        region=region,
        context=context,
    )
    team.full_clean()
    team.save()
    TeamAgency.objects.bulk_create(
        TeamAgency(country_team=team, agency=agency, is_resident=resident)
        for agency, resident in agencies
    )
    return team


@transaction.atomic
def grant_membership(
    *, user: User, country_team: CountryTeam, role: str, agency: Agency | None = None
) -> Membership:
    """Give a user a role in a team; focal points need an agency of that team.

    A team has one Resident Coordinator: revoke the current one's membership first.
    """
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role == Role.FOCAL_POINT:
        if agency is None:
            raise ValidationError({"agency": _("A focal point represents an agency.")})
        if not country_team.team_agencies.filter(agency=agency).exists():
            raise ValidationError(
                {
                    "agency": _("%(agency)s is not part of this country team.")
                    % {"agency": agency.code}
                }
            )
    elif agency is not None:
        raise ValidationError({"agency": _("Only focal points represent an agency.")})
    if (
        role == Role.RESIDENT_COORDINATOR
        and Membership.objects.filter(
            country_team=country_team, role=Role.RESIDENT_COORDINATOR
        )
        .exclude(user=user)
        .exists()
    ):
        raise ValidationError(
            {"role": _("This country team already has a Resident Coordinator.")}
        )
    membership, _created = Membership.objects.get_or_create(
        user=user, country_team=country_team, role=role, agency=agency
    )
    if (
        role == Role.RESIDENT_COORDINATOR
        and country_team.resident_coordinator_id != user.pk
    ):
        country_team.resident_coordinator = user
        country_team.save(update_fields=["resident_coordinator", "updated_at"])
    forget_roles(user)
    return membership


@transaction.atomic
def revoke_membership(*, membership: Membership) -> None:
    """Remove a membership (history keeps the record)."""
    user = membership.user
    team = membership.country_team
    if (
        membership.role == Role.RESIDENT_COORDINATOR
        and team.resident_coordinator_id == user.pk
    ):
        team.resident_coordinator = None
        team.save(update_fields=["resident_coordinator", "updated_at"])
    membership.delete()
    forget_roles(user)


@transaction.atomic
def set_user_language(*, user: User, language: str) -> User:
    """Remember the user's preferred language."""
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    user.language = language
    user.save(update_fields=["language"])
    return user


@transaction.atomic
def add_admin_regions(
    *, country_team: CountryTeam, regions: Iterable[tuple[str, str]]
) -> list[AdminRegion]:
    """Add admin-1 regions (code, name) to a team; existing codes are left alone."""
    existing = set(country_team.regions.values_list("code", flat=True))
    new = []
    for code, name in regions:
        if not code or not name:
            raise ValidationError(
                {"regions": _("Each region needs a code and a name.")}
            )
        if code not in existing:
            existing.add(code)
            new.append(AdminRegion(country_team=country_team, code=code, name=name))
    return AdminRegion.objects.bulk_create(new)


@dataclass(frozen=True)
class IssuedToken:
    """A key just issued: the only moment it exists outside the caller's hands."""

    key: str
    created: datetime


@transaction.atomic
def rotate_api_token(*, user: User) -> IssuedToken:
    """Give the user a new token; any token they held stops working at once."""
    ApiToken.objects.filter(user=user).delete()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user, digest=ApiToken.digest_of(key), prefix=key[:8]
    )
    return IssuedToken(key=key, created=token.created)


@transaction.atomic
def revoke_api_token(*, user: User) -> bool:
    """Delete the user's token; return whether there was one."""
    deleted, _by_model = ApiToken.objects.filter(user=user).delete()
    return bool(deleted)
