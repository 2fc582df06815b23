"""How it adds up: precomputed figures that pages read instead of source rows."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from coordination.models import CountryTeam


class TeamSnapshot(models.Model):
    """Headline figures of a team's active framework, refreshed by a Celery job."""

    country_team = models.OneToOneField(
        CountryTeam, on_delete=models.CASCADE, related_name="snapshot"
    )
    outcome_count = models.PositiveIntegerField(default=0)
    output_count = models.PositiveIntegerField(default=0)
    indicator_count = models.PositiveIntegerField(default=0)
    programme_count = models.PositiveIntegerField(default=0)
    programme_budget = models.DecimalField(
        max_digits=18, decimal_places=2, default=Decimal("0")
    )
    agency_count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("team snapshot")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(programme_budget__gte=0),
                name="snapshot_budget_not_negative",
            )
        ]

    def __str__(self) -> str:
        return (
            f"Snapshot of {self.country_team.code} at {self.computed_at:%Y-%m-%d %H:%M}"
        )
