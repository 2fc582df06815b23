"""Joint programmes: one budget, several agencies."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coordination.models import Agency, CountryTeam, TimeStampedModel
from frameworks.models.framework import Outcome
from frameworks.models.sdg import SdgTarget

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from coordination.models import User

# --- Joint programmes --------------------------------------------------------------


class ProgrammeStatus(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Financially closed")


class GenderMarker(models.IntegerChoices):
    NONE = 0, _("0 — not expected to contribute to gender equality")
    SOME = 1, _("1 — contributes in a limited way")
    SIGNIFICANT = 2, _("2 — gender equality is a significant objective")
    PRINCIPAL = 3, _("3 — gender equality is the principal objective")


class JointProgrammeQuerySet(models.QuerySet["JointProgramme"]):
    def visible_to(self, user: User | AnonymousUser) -> JointProgrammeQuerySet:
        """Return programmes of the teams the user is a member of."""
        return self.filter(country_team__in=CountryTeam.objects.visible_to(user))

    def with_budget(self) -> JointProgrammeQuerySet:
        """Annotate `total_budget`, the sum of the participants' shares."""
        return self.annotate(total_budget=Sum("participants__budget_share"))


class JointProgramme(TimeStampedModel):
    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="joint_programmes"
    )
    title = models.CharField(_("title"), max_length=300)
    fund = models.CharField(
        _("fund"),
        max_length=200,
        blank=True,
        help_text=_("e.g. Joint SDG Fund, Spotlight Initiative, MPTF pass-through."),
    )
    convening_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="convened_programmes"
    )
    agencies = models.ManyToManyField(
        Agency,
        through="JointProgrammeParticipant",
        related_name="joint_programmes",
        blank=True,
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    outcomes = models.ManyToManyField(
        Outcome, related_name="joint_programmes", blank=True
    )
    sdg_targets = models.ManyToManyField(
        SdgTarget, related_name="joint_programmes", blank=True
    )
    gender_marker = models.PositiveSmallIntegerField(
        _("gender equality marker"),
        choices=GenderMarker.choices,
        default=GenderMarker.NONE,
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ProgrammeStatus.choices,
        default=ProgrammeStatus.PIPELINE,
    )

    objects = JointProgrammeQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["country_team__name", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="programme_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(gender_marker__gte=0, gender_marker__lte=3),
                name="programme_gender_marker_0_to_3",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "frameworks:programme_detail",
            kwargs={"code": self.country_team.code, "pk": self.pk},
        )


class JointProgrammeParticipant(models.Model):
    programme = models.ForeignKey(
        JointProgramme, on_delete=models.CASCADE, related_name="participants"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="programme_participations"
    )
    budget_share = models.DecimalField(
        _("budget share (USD)"), max_digits=16, decimal_places=2, default=Decimal("0")
    )

    class Meta:
        ordering = ["programme", "agency__code"]
        verbose_name = _("participating agency")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "agency"], name="one_share_per_agency"
            ),
            models.CheckConstraint(
                condition=Q(budget_share__gte=0), name="budget_share_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} in {self.programme}"
