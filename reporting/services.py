"""Writes of precomputed reporting rows, always recomputed from source rows."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from coordination.models import CountryTeam
from frameworks.models import (
    CooperationFramework,
    FrameworkStatus,
    JointProgrammeParticipant,
)
from reporting.models import TeamSnapshot


@transaction.atomic
def refresh_team_snapshot(*, team_id: int) -> TeamSnapshot:
    """Recompute a team's headline figures from source rows (idempotent)."""
    team = CountryTeam.objects.select_for_update().get(pk=team_id)
    framework_counts = CooperationFramework.objects.filter(
        country_team=team, status=FrameworkStatus.ACTIVE
    ).aggregate(
        outcomes=Count("outcomes", distinct=True),
        outputs=Count("outputs", distinct=True),
        indicators=Count("indicators", distinct=True),
    )
    budget = JointProgrammeParticipant.objects.filter(
        programme__country_team=team
    ).aggregate(total=Sum("budget_share"), programmes=Count("programme", distinct=True))
    agency_count = team.team_agencies.filter(~Q(agency=None)).count()
    snapshot, _ = TeamSnapshot.objects.update_or_create(
        country_team=team,
        defaults={
            "outcome_count": framework_counts["outcomes"] or 0,
            "output_count": framework_counts["outputs"] or 0,
            "indicator_count": framework_counts["indicators"] or 0,
            "programme_count": budget["programmes"] or 0,
            "programme_budget": budget["total"] or Decimal("0"),
            "agency_count": agency_count,
            "computed_at": timezone.now(),
        },
    )
    return snapshot
