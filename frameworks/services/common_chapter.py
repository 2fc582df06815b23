"""Writes to common-chapter commitments and accelerator initiatives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordination.models import Agency, CountryTeam
from frameworks.models import (
    CommitmentKind,
    CommitmentStatus,
    CommonChapterArea,
    CommonChapterCommitment,
)

if TYPE_CHECKING:
    from coordination.models import User


@transaction.atomic
def create_common_chapter_commitment(
    *,
    country_team: CountryTeam,
    area: CommonChapterArea,
    title: str,
    year: int,
    actor: User | None,
    kind: str = CommitmentKind.COMMITMENT,
    description: str = "",
    agencies: Iterable[Agency] = (),
    status: str = CommitmentStatus.PLANNED,
) -> CommonChapterCommitment:
    """Record a commitment or accelerator initiative of a team's country offices."""
    if actor is not None and not actor.has_perm(
        "coordination.coordinate_countryteam", country_team
    ):
        raise PermissionDenied(_("Only the RC office records commitments."))
    agencies = list(agencies)
    if any(
        not a.team_agencies.filter(country_team=country_team).exists() for a in agencies
    ):
        raise ValidationError({"agencies": _("Every agency must be part of the team.")})
    commitment = CommonChapterCommitment(
        country_team=country_team,
        area=area,
        kind=kind,
        title=title,
        description=description,
        year=year,
        status=status,
    )
    commitment.full_clean()
    commitment.save()
    commitment.agencies.set(agencies)
    return commitment
