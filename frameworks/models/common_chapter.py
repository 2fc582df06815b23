"""The common chapter of UNDP, UNFPA, UNICEF and UN-Women: areas and commitments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coordination.models import Agency, CountryTeam, TimeStampedModel

if TYPE_CHECKING:
    pass

# --- Common chapter ---------------------------------------------------------------


class CommonChapterArea(models.Model):
    """One of the six areas of collaborative advantage, or business operations."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    position = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("common-chapter area")

    def __str__(self) -> str:
        return self.name


class CommitmentKind(models.TextChoices):
    COMMITMENT = "commitment", _("Commitment")
    ACCELERATOR = "accelerator", _("Accelerator initiative")


class CommitmentStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ON_TRACK = "on_track", _("On track")
    DELAYED = "delayed", _("Delayed")
    ACHIEVED = "achieved", _("Achieved")
    DROPPED = "dropped", _("Dropped")


class CommonChapterCommitmentQuerySet(models.QuerySet["CommonChapterCommitment"]):
    def for_team(self, team: CountryTeam) -> CommonChapterCommitmentQuerySet:
        """Return the commitments made by the offices of one country team."""
        return self.filter(country_team=team)


class CommonChapterCommitment(TimeStampedModel):
    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.CASCADE, related_name="common_chapter_commitments"
    )
    area = models.ForeignKey(
        CommonChapterArea, on_delete=models.PROTECT, related_name="commitments"
    )
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=CommitmentKind.choices,
        default=CommitmentKind.COMMITMENT,
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    agencies = models.ManyToManyField(
        Agency, related_name="common_chapter_commitments", blank=True
    )
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CommitmentStatus.choices,
        default=CommitmentStatus.PLANNED,
    )

    objects = CommonChapterCommitmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["country_team__name", "area__position", "title"]
        verbose_name = _("common-chapter commitment")

    def __str__(self) -> str:
        return self.title
