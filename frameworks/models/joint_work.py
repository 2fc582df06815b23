"""Joint work: activities, agency contributions with revisions, and measurements.

Figures go through a workflow: draft -> submitted -> validated, or returned with a
comment. A contribution's figures live in revisions. The contribution points at its
current revision (being edited or reviewed) and at its last validated revision, so
dashboards keep showing validated figures while a change waits for validation, and a
validated revision is never overwritten or deleted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coordination.models import AdminRegion, Agency, CountryTeam, TimeStampedModel
from frameworks.models.common_chapter import CommonChapterArea
from frameworks.models.framework import CooperationFramework, Indicator, Output
from frameworks.models.programmes import GenderMarker, JointProgramme
from frameworks.models.sdg import SdgTarget

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from coordination.models import User

MAX_SDG_TARGETS = 10


class WorkflowStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    VALIDATED = "validated", _("Validated")
    RETURNED = "returned", _("Returned")
    SUPERSEDED = "superseded", _("Superseded by a later validated revision")


EDITABLE_STATUSES = (WorkflowStatus.DRAFT, WorkflowStatus.RETURNED)


class ImplementationStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ONGOING = "ongoing", _("Ongoing")
    COMPLETED = "completed", _("Completed")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", _("Cancelled")


class HumanRightsMarker(models.IntegerChoices):
    NONE = 0, _("0 — no contribution to human rights")
    SOME = 1, _("1 — limited contribution")
    SIGNIFICANT = 2, _("2 — significant objective")
    PRINCIPAL = 3, _("3 — principal objective")


class TargetGroup(models.TextChoices):
    WOMEN_GIRLS = "women_girls", _("Women and girls")
    CHILDREN = "children", _("Children")
    YOUTH = "youth", _("Youth")
    DISABILITIES = "disabilities", _("Persons with disabilities")
    REFUGEES_IDPS = "refugees_idps", _("Refugees and internally displaced persons")
    MIGRANTS = "migrants", _("Migrants")
    OLDER_PERSONS = "older_persons", _("Older persons")
    INDIGENOUS = "indigenous", _("Indigenous peoples")
    RURAL_POOR = "rural_poor", _("Rural poor")
    MINORITIES = "minorities", _("Minorities")
    PLHIV = "plhiv", _("People living with HIV")


class JointActivityQuerySet(models.QuerySet["JointActivity"]):
    def visible_to(self, user: User | AnonymousUser) -> JointActivityQuerySet:
        """Return activities of the teams the user is a member of."""
        return self.filter(country_team__in=CountryTeam.objects.visible_to(user))

    def for_team(self, team: CountryTeam) -> JointActivityQuerySet:
        """Return one team's activities."""
        return self.filter(country_team=team)

    def awaiting_validation(self) -> JointActivityQuerySet:
        """Return activities submitted and not yet validated or returned."""
        return self.filter(status=WorkflowStatus.SUBMITTED)


class JointActivity(TimeStampedModel):
    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="joint_activities"
    )
    framework = models.ForeignKey(
        CooperationFramework, on_delete=models.PROTECT, related_name="joint_activities"
    )
    outputs = models.ManyToManyField(Output, related_name="joint_activities")
    joint_programme = models.ForeignKey(
        JointProgramme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="joint_activities",
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="led_activities",
        verbose_name=_("lead agency"),
        help_text=_("The lead agency owns the record; its focal points edit it."),
    )
    agencies = models.ManyToManyField(
        Agency, related_name="joint_activities", verbose_name=_("agencies involved")
    )
    sdg_targets = models.ManyToManyField(
        SdgTarget, related_name="joint_activities", blank=True
    )
    common_chapter_areas = models.ManyToManyField(
        CommonChapterArea, related_name="joint_activities", blank=True
    )
    gender_marker = models.PositiveSmallIntegerField(
        _("gender equality marker"), choices=GenderMarker.choices, null=True, blank=True
    )
    human_rights_marker = models.PositiveSmallIntegerField(
        _("human rights marker"),
        choices=HumanRightsMarker.choices,
        null=True,
        blank=True,
    )
    target_groups = models.JSONField(
        _("Leave No One Behind target groups"), default=list, blank=True
    )
    locations = models.ManyToManyField(
        AdminRegion, related_name="joint_activities", blank=True
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    implementation_status = models.CharField(
        _("implementation status"),
        max_length=20,
        choices=ImplementationStatus.choices,
        default=ImplementationStatus.PLANNED,
    )
    status = models.CharField(
        _("workflow status"),
        max_length=20,
        choices=WorkflowStatus.choices,
        default=WorkflowStatus.DRAFT,
    )
    version = models.PositiveIntegerField(default=1)
    revision = models.PositiveIntegerField(
        default=1, help_text=_("Goes up when a validated activity is changed.")
    )
    external_ref = models.CharField(
        _("external reference"),
        max_length=100,
        blank=True,
        help_text=_("A stable reference from an import, so re-importing updates."),
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = JointActivityQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[outputs, agencies, sdg_targets])

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("joint activity")
        verbose_name_plural = _("joint activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="activity_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(gender_marker__isnull=True)
                | Q(gender_marker__gte=0, gender_marker__lte=3),
                name="activity_gender_marker_0_to_3",
            ),
            models.CheckConstraint(
                condition=Q(human_rights_marker__isnull=True)
                | Q(human_rights_marker__gte=0, human_rights_marker__lte=3),
                name="activity_human_rights_marker_0_to_3",
            ),
            models.UniqueConstraint(
                fields=["country_team", "external_ref"],
                condition=~Q(external_ref=""),
                name="activity_external_ref_unique_in_team",
            ),
        ]
        indexes = [models.Index(fields=["country_team", "status"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "frameworks:activity_detail",
            kwargs={"code": self.country_team.code, "pk": self.pk},
        )


class ContributionQuerySet(models.QuerySet["Contribution"]):
    def visible_to(self, user: User | AnonymousUser) -> ContributionQuerySet:
        """Return contributions of the teams the user is a member of."""
        return self.filter(country_team__in=CountryTeam.objects.visible_to(user))

    def awaiting_validation(self) -> ContributionQuerySet:
        """Return contributions whose current revision waits for validation."""
        return self.filter(current_revision__status=WorkflowStatus.SUBMITTED)

    def validated(self) -> ContributionQuerySet:
        """Return contributions that have validated figures."""
        return self.filter(validated_revision__isnull=False)


class Contribution(TimeStampedModel):
    """One agency's share of a joint activity for one year."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="contributions"
    )
    activity = models.ForeignKey(
        JointActivity, on_delete=models.PROTECT, related_name="contributions"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="contributions"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    current_revision = models.OneToOneField(
        "ContributionRevision",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    validated_revision = models.OneToOneField(
        "ContributionRevision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = ContributionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["activity", "agency__code", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "agency", "year"],
                name="one_contribution_per_agency_activity_year",
            ),
            models.UniqueConstraint(
                fields=["country_team", "external_ref"],
                condition=~Q(external_ref=""),
                name="contribution_external_ref_unique_in_team",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100),
                name="contribution_year_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency.code} {self.year}: {self.activity}"

    @property
    def status(self) -> str:
        return self.current_revision.status if self.current_revision else ""


class ContributionRevision(TimeStampedModel):
    """The figures of one contribution at one revision; frozen once validated."""

    contribution = models.ForeignKey(
        Contribution, on_delete=models.PROTECT, related_name="revisions"
    )
    number = models.PositiveIntegerField(default=1)
    status = models.CharField(
        _("workflow status"),
        max_length=20,
        choices=WorkflowStatus.choices,
        default=WorkflowStatus.DRAFT,
    )
    required = models.DecimalField(
        _("required (USD)"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    available = models.DecimalField(
        _("available (USD)"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    spent = models.DecimalField(
        _("spent (USD)"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    funding_source = models.CharField(
        _("funding source (contributing partner)"), max_length=200, blank=True
    )
    implementing_partners = models.CharField(
        _("implementing partners"), max_length=500, blank=True
    )
    reach = models.PositiveIntegerField(_("people reached"), null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    return_comment = models.TextField(_("comment when returned"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contribution", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["contribution", "number"], name="one_revision_number"
            ),
            models.CheckConstraint(
                condition=Q(required__gte=0) & Q(available__gte=0) & Q(spent__gte=0),
                name="revision_money_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contribution} r{self.number}"

    @property
    def funding_gap(self) -> Decimal:
        """Required minus available: derived, never stored by hand."""
        return self.required - self.available


class ResultValue(models.Model):
    """A contribution revision's reported value for one of its outputs' indicators."""

    revision = models.ForeignKey(
        ContributionRevision, on_delete=models.CASCADE, related_name="results"
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="result_values"
    )
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(
        max_digits=20, decimal_places=4, null=True, blank=True
    )
    denominator = models.DecimalField(
        max_digits=20, decimal_places=4, null=True, blank=True
    )
    disaggregation = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Per dimension, values by category: {"sex": {"female": 60}}.'),
    )

    class Meta:
        ordering = ["revision", "indicator__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "indicator"], name="one_result_per_indicator"
            ),
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gt=0),
                name="result_denominator_positive",
            ),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True) | Q(numerator__gte=0),
                name="result_numerator_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} = {self.value}"


class MeasurementQuerySet(models.QuerySet["IndicatorMeasurement"]):
    def visible_to(self, user: User | AnonymousUser) -> MeasurementQuerySet:
        """Return measurements of the teams the user is a member of."""
        return self.filter(country_team__in=CountryTeam.objects.visible_to(user))


class IndicatorMeasurement(TimeStampedModel):
    """A value of an outcome or output indicator for a period."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="measurements"
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="measurements"
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measurements",
        help_text=_("Empty when the RC office records a team-wide value."),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    period_label = models.CharField(
        _("period"), max_length=30, blank=True, help_text=_("e.g. Q2 or H1; blank=year")
    )
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(
        max_digits=20, decimal_places=4, null=True, blank=True
    )
    denominator = models.DecimalField(
        max_digits=20, decimal_places=4, null=True, blank=True
    )
    text_value = models.TextField(_("qualitative value"), blank=True)
    disaggregation = models.JSONField(default=dict, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    status = models.CharField(
        _("workflow status"),
        max_length=20,
        choices=WorkflowStatus.choices,
        default=WorkflowStatus.DRAFT,
    )
    return_comment = models.TextField(blank=True)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text=_("The validated measurement this one will replace once validated."),
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = MeasurementQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["indicator__code", "year", "period_label"]
        constraints = [
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gt=0),
                name="measurement_denominator_positive",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=1990, year__lte=2100),
                name="measurement_year_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.year}{self.period_label}: {self.value}"


class WorkflowAction(models.TextChoices):
    CREATED = "created", _("Created")
    EDITED = "edited", _("Edited")
    SUBMITTED = "submitted", _("Submitted")
    VALIDATED = "validated", _("Validated")
    RETURNED = "returned", _("Returned")
    REOPENED = "reopened", _("New revision started")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class WorkflowEvent(models.Model):
    """One step in a record's life, for the timeline and the inbox."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.CASCADE, related_name="workflow_events"
    )
    activity = models.ForeignKey(
        JointActivity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )
    contribution = models.ForeignKey(
        Contribution,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )
    measurement = models.ForeignKey(
        IndicatorMeasurement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )
    action = models.CharField(max_length=20, choices=WorkflowAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["country_team", "-at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(activity__isnull=False)
                | Q(contribution__isnull=False)
                | Q(measurement__isnull=False),
                name="event_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"
