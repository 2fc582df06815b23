"""Coherence of a country team's joint work: derived rows that `reporting.coherence`
recomputes with the other rollups, and the RC office's decisions on overlap alerts.

Every measure is per country team and calendar year, in both bases (validated
figures, or including submitted ones), over the same counted contributions as the
funding rollups. Rows hold sums and counts, never percentages: pages divide, so a
share is always exactly the stored figures' ratio.

Money "delivered" is money spent. A contribution is delivered jointly when its
activity belongs to a joint programme, or when two or more agencies have counted
contributions to the activity in the same year.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coordination.models import Agency, CountryTeam
from frameworks.models import (
    CommonChapterArea,
    CooperationFramework,
    Indicator,
    JointActivity,
    Outcome,
    Output,
)
from reporting.models.rollups import Basis, _derived_link


def _money(label: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=24, decimal_places=2)


def _count(label: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(label, default=0)


class JointDeliveryRollup(models.Model):
    """Money delivered per team, year and basis, and how much of it jointly; one
    row per agency and one with `agency` empty for all agencies together."""

    country_team = _derived_link(CountryTeam)
    agency = _derived_link(
        Agency, null=True, blank=True, help_text=_("Empty: all agencies together.")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    spent = _money(_("spent (USD)"))
    joint_spent = _money(_("spent jointly (USD)"))
    programme_spent = _money(_("spent in joint programmes (USD)"))
    available = _money(_("available (USD)"))
    joint_available = _money(_("available jointly (USD)"))
    contribution_count = _count(_("contributions"))
    activity_count = _count(_("joint activities"))
    joint_activity_count = _count(_("activities delivered jointly"))

    class Meta:
        verbose_name = _("joint delivery rollup")
        ordering = ["country_team", "year", "basis", "agency"]
        constraints = [
            models.UniqueConstraint(
                F("country_team"),
                Coalesce(F("agency"), Value(0)),
                F("year"),
                F("basis"),
                name="joint_delivery_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(joint_spent__lte=F("spent"))
                & Q(programme_spent__lte=F("joint_spent")),
                name="joint_delivery_parts_within_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"joint delivery {self.country_team_id} {self.year} {self.basis}"


class OutputAgencyRollup(models.Model):
    """How many agencies deliver under an output in a year (counted
    contributions to activities linked to it), against how many the framework
    plans; `sole_agency` names the one agency when there is only one."""

    country_team = _derived_link(CountryTeam)
    framework = _derived_link(CooperationFramework)
    outcome = _derived_link(Outcome)
    output = _derived_link(Output)
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    agency_count = _count(_("delivering agencies"))
    planned_agency_count = _count(_("contributing agencies in the framework"))
    sole_agency = _derived_link(Agency, null=True, blank=True)
    spent = _money(_("spent (USD)"))

    class Meta:
        verbose_name = _("agencies per output")
        verbose_name_plural = _("agencies per output")
        ordering = ["country_team", "output", "year", "basis"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "output", "year", "basis"],
                name="output_agency_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(agency_count__gt=0)
                & (Q(agency_count=1) | Q(sole_agency__isnull=True)),
                name="output_agency_sole_only_when_one",
            ),
        ]

    def __str__(self) -> str:
        return f"output {self.output_id} {self.year} {self.basis}"


class AgencyOutcomeRollup(models.Model):
    """An agency's comparative-advantage figures under one outcome and year:
    its delivery, the funds it mobilised (available), and how many of the
    outcome's indicators with a target it reported values for."""

    country_team = _derived_link(CountryTeam)
    framework = _derived_link(CooperationFramework)
    outcome = _derived_link(Outcome)
    agency = _derived_link(Agency)
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    spent = _money(_("spent (USD)"))
    available = _money(_("funds mobilised (USD)"))
    indicators_reported = _count(_("indicators reported"))
    indicator_count = _count(_("indicators with a target"))

    class Meta:
        verbose_name = _("agency advantage by outcome")
        ordering = ["country_team", "outcome", "agency", "year", "basis"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "outcome", "agency", "year", "basis"],
                name="agency_outcome_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(indicators_reported__lte=F("indicator_count")),
                name="agency_outcome_reported_within_count",
            ),
        ]

    def __str__(self) -> str:
        return f"outcome {self.outcome_id} agency {self.agency_id} {self.year}"


# Dimensions the Leave No One Behind measures count; wealth is recorded too, and
# counts towards "complete" when an indicator asks for it.
LNOB_DIMENSIONS = ("sex", "age", "disability", "location")


class DisaggregationRollup(models.Model):
    """How much of the reported data is disaggregated, per indicator (indicator
    set), per outcome (outcome set) or for the whole team (neither).

    A value counts under a dimension it was asked for (the indicator lists it)
    and carries a breakdown by it; `complete` values carry every dimension their
    indicator asks for.
    """

    country_team = _derived_link(CountryTeam)
    outcome = _derived_link(Outcome, null=True, blank=True)
    indicator = _derived_link(Indicator, null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    value_count = _count(_("values reported"))
    expecting_count = _count(_("values asked to be disaggregated"))
    complete_count = _count(_("values with every breakdown asked for"))
    sex_expected = _count(_("values asked by sex"))
    sex_count = _count(_("values by sex"))
    age_expected = _count(_("values asked by age"))
    age_count = _count(_("values by age"))
    disability_expected = _count(_("values asked by disability"))
    disability_count = _count(_("values by disability"))
    location_expected = _count(_("values asked by location"))
    location_count = _count(_("values by location"))

    class Meta:
        verbose_name = _("disaggregation coverage")
        verbose_name_plural = _("disaggregation coverage")
        ordering = ["country_team", "year", "basis", "outcome", "indicator"]
        constraints = [
            models.UniqueConstraint(
                F("country_team"),
                Coalesce(F("outcome"), Value(0)),
                Coalesce(F("indicator"), Value(0)),
                F("year"),
                F("basis"),
                name="disaggregation_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(complete_count__lte=F("expecting_count"))
                & Q(expecting_count__lte=F("value_count"))
                & Q(sex_count__lte=F("sex_expected"))
                & Q(age_count__lte=F("age_expected"))
                & Q(disability_count__lte=F("disability_expected"))
                & Q(location_count__lte=F("location_expected")),
                name="disaggregation_parts_within_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"disaggregation {self.country_team_id} {self.year} {self.basis}"


class TargetGroupFundingRollup(models.Model):
    """The money of activities that name a Leave No One Behind target group.

    Target groups are recorded per joint activity, so a group's row holds the
    full money of every activity naming it: rows overlap and never add up.
    An empty `target_group` holds the money of activities that name none.
    """

    country_team = _derived_link(CountryTeam)
    target_group = models.CharField(_("target group"), max_length=30, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    required = _money(_("required (USD)"))
    available = _money(_("available (USD)"))
    spent = _money(_("spent (USD)"))
    activity_count = _count(_("joint activities"))
    contribution_count = _count(_("contributions"))

    class Meta:
        verbose_name = _("funding by target group")
        ordering = ["country_team", "year", "basis", "target_group"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "target_group", "year", "basis"],
                name="target_group_funding_unique_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_group or '-'} {self.year} {self.basis}"


class CommonChapterDeliveryRollup(models.Model):
    """Common-chapter signatories' delivery under one area: what they spent and
    how much of it on activities where two or more signatories deliver. One row
    per signatory and one with `agency` empty for the signatories together."""

    country_team = _derived_link(CountryTeam)
    area = _derived_link(CommonChapterArea)
    agency = _derived_link(
        Agency, null=True, blank=True, help_text=_("Empty: the signatories together.")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    spent = _money(_("spent (USD)"))
    joint_spent = _money(_("spent with another signatory (USD)"))
    activity_count = _count(_("joint activities"))
    joint_activity_count = _count(_("activities with two or more signatories"))
    signatory_count = _count(_("signatories delivering"))

    class Meta:
        verbose_name = _("common-chapter delivery")
        verbose_name_plural = _("common-chapter delivery")
        ordering = ["country_team", "area", "year", "basis", "agency"]
        constraints = [
            models.UniqueConstraint(
                F("country_team"),
                F("area"),
                Coalesce(F("agency"), Value(0)),
                F("year"),
                F("basis"),
                name="common_chapter_delivery_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(joint_spent__lte=F("spent")),
                name="common_chapter_joint_within_spent",
            ),
        ]

    def __str__(self) -> str:
        return f"area {self.area_id} {self.year} {self.basis}"


class CollaborationLink(models.Model):
    """Two agencies that work together in a year: activities both deliver
    (counted contributions in the year) and joint programmes both take part in
    (running in the year). `agency_a` has the lower id."""

    country_team = _derived_link(CountryTeam)
    agency_a = _derived_link(Agency)
    agency_b = _derived_link(Agency)
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    shared_activities = _count(_("shared joint activities"))
    shared_programmes = _count(_("shared joint programmes"))
    shared_spent = _money(_("spent by the two on shared activities (USD)"))

    class Meta:
        verbose_name = _("collaboration link")
        ordering = ["country_team", "year", "basis", "agency_a", "agency_b"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "agency_a", "agency_b", "year", "basis"],
                name="collaboration_link_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(agency_a__lt=F("agency_b")),
                name="collaboration_link_ordered_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency_a_id}-{self.agency_b_id} {self.year} {self.basis}"


class CoherenceScorecard(models.Model):
    """The headline coherence figures of one team, year and basis; see
    `reporting.coherence_selectors.Scorecard` for the score built on them."""

    country_team = _derived_link(CountryTeam)
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    spent = _money(_("spent (USD)"))
    joint_spent = _money(_("spent jointly (USD)"))
    programme_spent = _money(_("spent in joint programmes (USD)"))
    outputs_delivered = _count(_("outputs with delivery"))
    outputs_single_agency = _count(_("outputs delivered by a single agency"))
    output_agency_total = _count(_("delivering agencies, summed over outputs"))
    agency_count = _count(_("agencies at work"))
    linked_pairs = _count(_("pairs of agencies working together"))
    values_expecting = _count(_("values asked to be disaggregated"))
    values_complete = _count(_("values with every breakdown asked for"))
    signatory_spent = _money(_("common-chapter signatories' spent in the areas (USD)"))
    signatory_joint_spent = _money(
        _("of which with another signatory on the activity (USD)")
    )

    class Meta:
        verbose_name = _("coherence scorecard")
        ordering = ["country_team", "year", "basis"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "year", "basis"],
                name="coherence_scorecard_unique_key",
            )
        ]

    def __str__(self) -> str:
        return f"scorecard {self.country_team_id} {self.year} {self.basis}"


# --- overlap and duplication alerts -------------------------------------------------


class AlertStatus(models.TextChoices):
    OPEN = "open", _("To review")
    CONFIRMED = "confirmed", _("Confirmed overlap")
    DISMISSED = "dismissed", _("Dismissed")


DECISIONS = (AlertStatus.CONFIRMED, AlertStatus.DISMISSED)


class OverlapAlertQuerySet(models.QuerySet["OverlapAlert"]):
    def for_team(self, team: CountryTeam) -> OverlapAlertQuerySet:
        """Return one team's alerts."""
        return self.filter(country_team=team)

    def open(self) -> OverlapAlertQuerySet:
        """Return alerts nobody has decided on, or that changed since."""
        return self.filter(status=AlertStatus.OPEN)


class OverlapAlert(models.Model):
    """Two activities of different lead agencies under one output, in one place
    and at one time, with similar titles: possibly the same work done twice.

    Derived like the rollups; `status` and `reopened` carry the RC office's
    decision on the pair (see `OverlapDecision`) as it stood at the recompute,
    and the decision service updates them when it records a decision.
    """

    country_team = _derived_link(CountryTeam)
    activity_a = _derived_link(JointActivity, help_text=_("The lower id."))
    activity_b = _derived_link(JointActivity)
    agency_a = _derived_link(Agency)
    agency_b = _derived_link(Agency)
    similarity = models.DecimalField(
        _("title similarity"),
        max_digits=4,
        decimal_places=3,
        help_text=_("0 to 1: shared title words over all title words (Dice)."),
    )
    shared_output_ids = models.JSONField(_("shared outputs"), default=list)
    shared_location_ids = models.JSONField(_("shared locations"), default=list)
    overlap_start = models.DateField(_("overlap from"))
    overlap_end = models.DateField(_("overlap until"))
    overlap_days = models.PositiveIntegerField(_("days of overlap"))
    both_validated = models.BooleanField(_("both activities validated"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AlertStatus.choices,
        default=AlertStatus.OPEN,
    )
    reopened = models.BooleanField(
        _("changed since decided"),
        default=False,
        help_text=_("A decision exists, but the pair changed materially since."),
    )

    objects = OverlapAlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("overlap alert")
        ordering = ["country_team", "-similarity", "activity_a", "activity_b"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "activity_a", "activity_b"],
                name="overlap_alert_unique_pair",
            ),
            models.CheckConstraint(
                condition=Q(activity_a__lt=F("activity_b")),
                name="overlap_alert_ordered_pair",
            ),
            models.CheckConstraint(
                condition=Q(overlap_end__gte=F("overlap_start")),
                name="overlap_alert_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"overlap {self.activity_a_id}/{self.activity_b_id}"


class OverlapDecision(models.Model):
    """The RC office's word on a pair of activities: a real overlap, or not.

    Kept apart from the derived alerts so it survives every recompute. It holds
    what the pair shared when decided, to tell a material change later: see
    `reporting.coherence_overlaps.changed_materially`.
    """

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.CASCADE, related_name="overlap_decisions"
    )
    activity_a = models.ForeignKey(
        JointActivity, on_delete=models.CASCADE, related_name="+"
    )
    activity_b = models.ForeignKey(
        JointActivity, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("decision"), max_length=10, choices=AlertStatus.choices)
    comment = models.TextField(_("comment"), blank=True)
    shared_output_ids = models.JSONField(default=list)
    shared_location_ids = models.JSONField(default=list)
    overlap_days = models.PositiveIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("overlap decision")
        ordering = ["country_team", "-decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity_a", "activity_b"], name="one_decision_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(activity_a__lt=F("activity_b")),
                name="overlap_decision_ordered_pair",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[str(s) for s in DECISIONS]),
                name="overlap_decision_is_a_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.activity_a_id}/{self.activity_b_id}"
