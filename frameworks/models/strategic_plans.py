"""Agency strategic plans: outcomes and outputs, and what joint work serves them.

Each agency's executive board adopts a strategic plan for a period (UNDP, UNFPA,
UNICEF and UN-Women shared a common chapter in their 2018-2021 plans). Plans are
reference data, loaded from frameworks/reference/strategic_plans/. Agencies link
their contributions to outputs of their own plan, and the RC office links the
outputs of a Cooperation Framework to the plan outputs they advance; the board
page adds up the validated money behind both kinds of link.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coordination.models import Agency, TimeStampedModel
from frameworks.models.common_chapter import CommonChapterArea
from frameworks.models.framework import Output
from frameworks.models.joint_work import Contribution
from frameworks.models.sdg import SdgTarget

__all__ = [
    "ContributionPlanLink",
    "FrameworkOutputPlanLink",
    "StrategicPlan",
    "StrategicPlanOutcome",
    "StrategicPlanOutput",
]


class StrategicPlanQuerySet(models.QuerySet["StrategicPlan"]):
    def covering(self, year: int) -> StrategicPlanQuerySet:
        """Return plans whose period includes the year."""
        return self.filter(start_year__lte=year, end_year__gte=year)

    def overlapping(self, start_year: int, end_year: int) -> StrategicPlanQuerySet:
        """Return plans whose period shares at least one year with the range."""
        return self.filter(start_year__lte=end_year, end_year__gte=start_year)


class StrategicPlan(TimeStampedModel):
    """One agency's strategic plan for its period, as its executive board adopted it."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="strategic_plans"
    )
    title = models.CharField(_("title"), max_length=300)
    start_year = models.PositiveSmallIntegerField(_("first year"))
    end_year = models.PositiveSmallIntegerField(_("last year"))
    source_document = models.CharField(
        _("source document"),
        max_length=300,
        help_text=_("The board document the plan was adopted as, e.g. DP/FPA/2017/9."),
    )
    source_url = models.URLField(_("source URL"), max_length=500)

    objects = StrategicPlanQuerySet.as_manager()

    class Meta:
        ordering = ["agency__code", "start_year"]
        verbose_name = _("agency strategic plan")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=F("start_year")),
                name="strategic_plan_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(start_year__gte=2000, end_year__lte=2100),
                name="strategic_plan_years_plausible",
            ),
            models.UniqueConstraint(
                fields=["agency", "start_year"],
                name="one_strategic_plan_per_agency_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency.code} {self.start_year}-{self.end_year}"

    def clean(self) -> None:
        # A contribution's year must name exactly one plan of its agency; the
        # databases differ too much in range constraints to say so there.
        if None in (self.agency_id, self.start_year, self.end_year):
            return
        overlapping = (
            StrategicPlan.objects.filter(agency_id=self.agency_id)
            .overlapping(self.start_year, self.end_year)
            .exclude(pk=self.pk)
            .first()
        )
        if overlapping is not None:
            raise ValidationError(
                _("The period overlaps %(plan)s of the same agency.")
                % {"plan": overlapping.title}
            )

    @property
    def years(self) -> range:
        return range(self.start_year, self.end_year + 1)

    def covers(self, year: int) -> bool:
        return self.start_year <= year <= self.end_year


class StrategicPlanOutcome(TimeStampedModel):
    """An outcome (UNICEF: goal area) of a strategic plan."""

    plan = models.ForeignKey(
        StrategicPlan, on_delete=models.CASCADE, related_name="outcomes"
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=400)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    sdg_targets = models.ManyToManyField(
        SdgTarget, related_name="strategic_plan_outcomes", blank=True
    )
    common_chapter_areas = models.ManyToManyField(
        CommonChapterArea, related_name="strategic_plan_outcomes", blank=True
    )

    class Meta:
        ordering = ["plan", "order", "code"]
        verbose_name = _("strategic-plan outcome")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "code"], name="strategic_plan_outcome_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title[:80]}"


class StrategicPlanOutput(TimeStampedModel):
    """An output (UNICEF: result area) of a strategic plan.

    Most outputs serve one outcome; a plan whose outputs serve all its outcomes
    (UNFPA 2022-2025) leaves `outcome` empty.
    """

    plan = models.ForeignKey(
        StrategicPlan,
        on_delete=models.CASCADE,
        related_name="outputs",
        help_text=_("Always the outcome's plan; kept here so codes are unique."),
    )
    outcome = models.ForeignKey(
        StrategicPlanOutcome,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outputs",
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=400)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    sdg_targets = models.ManyToManyField(
        SdgTarget, related_name="strategic_plan_outputs", blank=True
    )
    common_chapter_areas = models.ManyToManyField(
        CommonChapterArea, related_name="strategic_plan_outputs", blank=True
    )
    contributions = models.ManyToManyField(
        Contribution,
        through="ContributionPlanLink",
        related_name="strategic_plan_outputs",
        blank=True,
    )
    framework_outputs = models.ManyToManyField(
        Output,
        through="FrameworkOutputPlanLink",
        related_name="strategic_plan_outputs",
        blank=True,
    )

    class Meta:
        ordering = ["plan", "order", "code"]
        verbose_name = _("strategic-plan output")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "code"], name="strategic_plan_output_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title[:80]}"

    def clean(self) -> None:
        if self.outcome is not None and self.outcome.plan_id != self.plan_id:
            raise ValidationError(
                {"outcome": _("The outcome belongs to another strategic plan.")}
            )


class ContributionPlanLink(models.Model):
    """An agency says its contribution delivers one of its own plan's outputs.

    Only outputs of the contribution's agency's plan covering its year may be
    linked; `frameworks.services.strategic_plans` checks that before writing.
    """

    contribution = models.ForeignKey(
        Contribution, on_delete=models.CASCADE, related_name="plan_links"
    )
    plan_output = models.ForeignKey(
        StrategicPlanOutput, on_delete=models.CASCADE, related_name="contribution_links"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contribution", "plan_output"]
        verbose_name = _("contribution to strategic-plan output link")
        constraints = [
            models.UniqueConstraint(
                fields=["contribution", "plan_output"],
                name="one_link_per_contribution_and_plan_output",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contribution_id} → {self.plan_output_id}"

    @property
    def country_team_id(self) -> int:
        return self.contribution.country_team_id

    @property
    def agency_id(self) -> int:
        return self.contribution.agency_id


class FrameworkOutputPlanLink(models.Model):
    """The RC office says a framework output advances an agency's plan output.

    Every validated contribution of that agency to joint work on the framework
    output then counts towards the plan output.
    """

    output = models.ForeignKey(
        Output, on_delete=models.CASCADE, related_name="plan_links"
    )
    plan_output = models.ForeignKey(
        StrategicPlanOutput,
        on_delete=models.CASCADE,
        related_name="framework_output_links",
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["output", "plan_output"]
        verbose_name = _("framework output to strategic-plan output link")
        constraints = [
            models.UniqueConstraint(
                fields=["output", "plan_output"],
                name="one_link_per_framework_output_and_plan_output",
            )
        ]

    def __str__(self) -> str:
        return f"{self.output_id} → {self.plan_output_id}"

    @property
    def country_team_id(self) -> int:
        return self.output.framework.country_team_id
