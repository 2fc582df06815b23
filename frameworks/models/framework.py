"""The Cooperation Framework: priorities, outcomes, outputs and indicators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coordination.models import Agency, CountryTeam, TimeStampedModel
from frameworks.models.sdg import SdgIndicator, SdgTarget

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from coordination.models import User

# --- Cooperation Framework ---------------------------------------------------------


class FrameworkStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class CooperationFrameworkQuerySet(models.QuerySet["CooperationFramework"]):
    def active(self) -> CooperationFrameworkQuerySet:
        """Return frameworks currently in force."""
        return self.filter(status=FrameworkStatus.ACTIVE)

    def visible_to(self, user: User | AnonymousUser) -> CooperationFrameworkQuerySet:
        """Return frameworks of the teams the user is a member of."""
        return self.filter(country_team__in=CountryTeam.objects.visible_to(user))


class CooperationFramework(TimeStampedModel):
    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="frameworks"
    )
    title = models.CharField(_("title"), max_length=300)
    start_year = models.PositiveSmallIntegerField(_("start year"))
    end_year = models.PositiveSmallIntegerField(_("end year"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=FrameworkStatus.choices,
        default=FrameworkStatus.DRAFT,
    )
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)

    objects = CooperationFrameworkQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["country_team__name", "-start_year"]
        verbose_name = _("Cooperation Framework")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=F("start_year")),
                name="framework_end_not_before_start",
            ),
            models.UniqueConstraint(
                fields=["country_team"],
                condition=Q(status=FrameworkStatus.ACTIVE),
                name="one_active_framework_per_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.start_year}-{self.end_year})"

    def get_absolute_url(self) -> str:
        return reverse(
            "frameworks:framework_detail",
            kwargs={"code": self.country_team.code, "pk": self.pk},
        )

    @property
    def years(self) -> range:
        return range(self.start_year, self.end_year + 1)


class StrategicPriority(TimeStampedModel):
    framework = models.ForeignKey(
        CooperationFramework, on_delete=models.CASCADE, related_name="priorities"
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=300)

    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "code"]
        verbose_name = _("strategic priority")
        verbose_name_plural = _("strategic priorities")
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"], name="priority_code_unique_in_framework"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def country_team_id(self) -> int:
        return self.framework.country_team_id


class OutcomeQuerySet(models.QuerySet["Outcome"]):
    def collective(self) -> OutcomeQuerySet:
        """Return outcomes that are New Way of Working collective outcomes."""
        return self.filter(is_collective_outcome=True)

    def visible_to(self, user: User | AnonymousUser) -> OutcomeQuerySet:
        """Return outcomes of the teams the user is a member of."""
        return self.filter(
            framework__country_team__in=CountryTeam.objects.visible_to(user)
        )


class Outcome(TimeStampedModel):
    framework = models.ForeignKey(
        CooperationFramework, on_delete=models.PROTECT, related_name="outcomes"
    )
    strategic_priority = models.ForeignKey(
        StrategicPriority,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outcomes",
    )
    code = models.CharField(_("code"), max_length=20)
    statement = models.TextField(_("statement"))
    sdg_targets = models.ManyToManyField(SdgTarget, related_name="outcomes", blank=True)
    lead_agencies = models.ManyToManyField(
        Agency, related_name="led_outcomes", blank=True
    )
    is_collective_outcome = models.BooleanField(
        _("collective outcome"),
        default=False,
        help_text=_("Shared by humanitarian, development and peace actors."),
    )

    objects = OutcomeQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"], name="outcome_code_unique_in_framework"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.statement[:80]}"

    @property
    def country_team_id(self) -> int:
        return self.framework.country_team_id


class Output(TimeStampedModel):
    framework = models.ForeignKey(
        CooperationFramework,
        on_delete=models.PROTECT,
        related_name="outputs",
        help_text=_("Always the outcome's framework; kept here so codes are unique."),
    )
    outcome = models.ForeignKey(
        Outcome, on_delete=models.PROTECT, related_name="outputs"
    )
    code = models.CharField(_("code"), max_length=20)
    statement = models.TextField(_("statement"))
    contributing_agencies = models.ManyToManyField(
        Agency, related_name="contributed_outputs", blank=True
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"], name="output_code_unique_in_framework"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.statement[:80]}"

    @property
    def country_team_id(self) -> int:
        return self.framework.country_team_id


class IndicatorUnit(models.TextChoices):
    NUMBER = "number", _("Number")
    PERCENTAGE = "percentage", _("Percentage (numerator / denominator)")
    YES_NO = "yes_no", _("Yes / no")
    QUALITATIVE = "qualitative", _("Qualitative")


class IndicatorDirection(models.TextChoices):
    ASCENDING = "ascending", _("Higher is better")
    DESCENDING = "descending", _("Lower is better")


class Aggregation(models.TextChoices):
    SUM = "sum", _("Sum")
    MAX = "max", _("Maximum")
    AVERAGE = "average", _("Average")
    LATEST = "latest", _("Latest")


class Dimension(models.TextChoices):
    SEX = "sex", _("Sex")
    AGE = "age", _("Age group")
    DISABILITY = "disability", _("Disability")
    LOCATION = "location", _("Location")
    WEALTH = "wealth", _("Wealth quintile")


class Indicator(TimeStampedModel):
    framework = models.ForeignKey(
        CooperationFramework, on_delete=models.PROTECT, related_name="indicators"
    )
    outcome = models.ForeignKey(
        Outcome,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicators",
    )
    output = models.ForeignKey(
        Output,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicators",
    )
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=400)
    unit = models.CharField(
        _("unit"),
        max_length=20,
        choices=IndicatorUnit.choices,
        default=IndicatorUnit.NUMBER,
    )
    direction = models.CharField(
        _("direction"),
        max_length=20,
        choices=IndicatorDirection.choices,
        default=IndicatorDirection.ASCENDING,
    )
    baseline_value = models.DecimalField(
        _("baseline"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    baseline_year = models.PositiveSmallIntegerField(
        _("baseline year"), null=True, blank=True
    )
    target_value = models.DecimalField(
        _("target"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    target_year = models.PositiveSmallIntegerField(
        _("target year"), null=True, blank=True
    )
    across_periods = models.CharField(
        _("combine across periods"),
        max_length=10,
        choices=Aggregation.choices,
        default=Aggregation.SUM,
    )
    across_agencies = models.CharField(
        _("combine across agencies"),
        max_length=10,
        choices=Aggregation.choices,
        default=Aggregation.SUM,
    )
    sdg_indicator = models.ForeignKey(
        SdgIndicator,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="framework_indicators",
    )
    disaggregations = models.JSONField(
        _("disaggregation dimensions"),
        default=list,
        blank=True,
        help_text=_("Any of: sex, age, disability, location, wealth."),
    )
    data_source = models.CharField(_("data source"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"], name="indicator_code_unique_in_framework"
            ),
            models.CheckConstraint(
                condition=(Q(outcome__isnull=False) & Q(output__isnull=True))
                | (Q(outcome__isnull=True) & Q(output__isnull=False)),
                name="indicator_on_outcome_or_output",
            ),
            models.CheckConstraint(
                condition=Q(target_year__isnull=True)
                | Q(baseline_year__isnull=True)
                | Q(target_year__gte=F("baseline_year")),
                name="indicator_target_not_before_baseline",
            ),
            models.CheckConstraint(
                condition=~Q(unit="percentage")
                | (
                    (
                        Q(baseline_value__isnull=True)
                        | Q(baseline_value__gte=0, baseline_value__lte=100)
                    )
                    & (
                        Q(target_value__isnull=True)
                        | Q(target_value__gte=0, target_value__lte=100)
                    )
                ),
                name="indicator_percentages_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name[:80]}"

    @property
    def country_team_id(self) -> int:
        return self.framework.country_team_id

    @property
    def level(self) -> str:
        return "outcome" if self.outcome_id else "output"
