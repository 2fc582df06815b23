"""How it adds up: precomputed figures that pages read instead of source rows.

Rollup rows are derived, never edited: `reporting.rollups` recomputes a country
team's rows from contributions and measurements in one transaction. Writers only
record a `RollupRequest`; the job that consumes it stamps `RollupState.computed_at`,
the "as of" every dashboard shows.

Funding rollups come in two flavours of agency: one row per agency, and one row
with `agency` empty for all agencies together. The second is stored, not summed by
the page, because its activity and agency counts are distinct counts: an activity
that two agencies fund is one activity.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination.models import Agency, CountryTeam
from frameworks.models import CooperationFramework, Indicator, Outcome, Output


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


# --- the job table ----------------------------------------------------------------


class Basis(models.TextChoices):
    """Which figures a rollup row adds up."""

    VALIDATED = "validated", _("Validated")
    SUBMITTED = "submitted", _("Including submitted")


class RollupRequestQuerySet(models.QuerySet["RollupRequest"]):
    def for_team(self, team: CountryTeam | int) -> RollupRequestQuerySet:
        """Return the requests still waiting for one team's rollup job."""
        return self.filter(country_team=team)

    def team_ids(self) -> list[int]:
        """Return the ids of the teams with requests waiting, oldest first."""
        oldest = (
            self.values("country_team_id")
            .annotate(first=models.Min("requested_at"))
            .order_by("first")
        )
        return [row["country_team_id"] for row in oldest]


class RollupRequest(models.Model):
    """A team's rollups are out of date: written in the writer's transaction.

    The row is the durable half of "recompute this team"; the Celery message is
    only a wake-up call. A job deletes the requests it consumed in the same
    transaction as the rows it wrote, so a crash leaves them for the next run.

    A request with a `year` says only figures of that year changed (a
    contribution or a measurement): the job recomputes that year's rows, and
    indicator progress from that year on. Without one, the whole team. Such a
    request may also name the only `indicators` whose values changed (a list of
    ids, maybe empty: money alone): progress is then recomputed for those
    indicators only. None: any indicator.
    """

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.CASCADE, related_name="rollup_requests"
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    indicators = models.JSONField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=100, blank=True)

    objects = RollupRequestQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at", "pk"]
        indexes = [
            models.Index(
                fields=["country_team", "requested_at"], name="rollup_request_team"
            )
        ]

    def __str__(self) -> str:
        return f"{self.country_team_id} at {self.requested_at:%Y-%m-%d %H:%M:%S}"


class RollupStateQuerySet(models.QuerySet["RollupState"]):
    def with_pending_since(self) -> RollupStateQuerySet:
        """Annotate `pending_since`: the oldest waiting request, or None."""
        oldest = (
            RollupRequest.objects.filter(country_team=models.OuterRef("country_team"))
            .order_by("requested_at")
            .values("requested_at")[:1]
        )
        return self.annotate(pending_since=models.Subquery(oldest))


class RollupState(models.Model):
    """When a team's rollups were last computed; its row lock serialises jobs."""

    country_team = models.OneToOneField(
        CountryTeam, on_delete=models.CASCADE, related_name="rollup_state"
    )
    computed_at = models.DateTimeField(null=True, blank=True)
    # Digest of what the team's overlap alerts were last computed from; empty
    # means unknown, so the next recompute searches again (see
    # reporting.coherence_overlaps.write_alerts).
    overlap_inputs = models.CharField(max_length=64, blank=True, default="")
    # Digest of the alert rows that search stored: alerts changed since, by
    # anything but the search, make the next recompute search again.
    overlap_alerts = models.CharField(max_length=64, blank=True, default="")

    objects = RollupStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("rollup state")

    def __str__(self) -> str:
        when = f"{self.computed_at:%Y-%m-%d %H:%M:%S}" if self.computed_at else "never"
        return f"Rollups of {self.country_team_id} as of {when}"


# --- funding rollups --------------------------------------------------------------


def _derived_link(model: type[models.Model], **options: object) -> models.ForeignKey:
    """A link from a rollup row to the row it is about.

    No foreign-key constraint: a rebuild inserts hundreds of thousands of rows
    derived from rows that exist in the same transaction, and checking each link
    again would cost more than the insert. Django still cascades deletes.
    """
    return models.ForeignKey(
        model,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
        **options,
    )


class FundingFigures(models.Model):
    """Money and counts over the contributions of one rollup key and basis."""

    country_team = _derived_link(CountryTeam)
    framework = _derived_link(CooperationFramework)
    agency = _derived_link(
        Agency, null=True, blank=True, help_text=_("Empty: all agencies together.")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    required = models.DecimalField(_("required (USD)"), max_digits=24, decimal_places=2)
    available = models.DecimalField(
        _("available (USD)"), max_digits=24, decimal_places=2
    )
    spent = models.DecimalField(_("spent (USD)"), max_digits=24, decimal_places=2)
    gap = models.DecimalField(
        _("funding gap (USD)"),
        max_digits=24,
        decimal_places=2,
        help_text=_("Required minus available; negative when over-funded."),
    )
    contribution_count = models.PositiveIntegerField(_("contributions"))
    activity_count = models.PositiveIntegerField(_("joint activities"))
    agency_count = models.PositiveIntegerField(_("contributing agencies"))

    class Meta:
        abstract = True


def _funding_constraints(prefix: str, key: list[str]) -> list[models.BaseConstraint]:
    return [
        # One index serves the key and every read, which starts from the team.
        # Empty agencies (all agencies together) count as 0, so there is one
        # such row per key: a plain unique index would let NULLs repeat.
        models.UniqueConstraint(
            F("country_team"),
            *(F(name) for name in key),
            Coalesce(F("agency"), Value(0)),
            F("year"),
            F("basis"),
            name=f"{prefix}_unique_key",
        ),
        models.CheckConstraint(
            condition=Q(required__gte=0, available__gte=0, spent__gte=0),
            name=f"{prefix}_money_not_negative",
        ),
        models.CheckConstraint(
            condition=Q(contribution_count__gt=0, activity_count__gt=0),
            name=f"{prefix}_has_contributions",
        ),
    ]


class FundingRollup(FundingFigures):
    """Per output: the money of every contribution to an activity on the output.

    An activity linked to two outputs shows its full money under each; totals
    over outputs are in `OutcomeFundingRollup` and `TeamFundingRollup`.
    """

    outcome = _derived_link(Outcome)
    output = _derived_link(Output)

    class Meta:
        verbose_name = _("funding rollup by output")
        ordering = ["country_team", "output", "agency", "year", "basis"]
        constraints = _funding_constraints("funding_rollup", ["output"])

    def __str__(self) -> str:
        return f"output {self.output_id} {self.year} {self.basis}"


class OutcomeFundingRollup(FundingFigures):
    """Per outcome, counting a contribution once however many of the outcome's
    outputs its activity is linked to."""

    outcome = _derived_link(Outcome)

    class Meta:
        verbose_name = _("funding rollup by outcome")
        ordering = ["country_team", "outcome", "agency", "year", "basis"]
        constraints = _funding_constraints("outcome_funding_rollup", ["outcome"])

    def __str__(self) -> str:
        return f"outcome {self.outcome_id} {self.year} {self.basis}"


class TeamFundingRollup(FundingFigures):
    """Per framework: the totals, over distinct contributions."""

    class Meta:
        verbose_name = _("funding rollup by framework")
        ordering = ["country_team", "framework", "agency", "year", "basis"]
        constraints = _funding_constraints("team_funding_rollup", ["framework"])

    def __str__(self) -> str:
        return f"framework {self.framework_id} {self.year} {self.basis}"


class TagKind(models.TextChoices):
    SDG_GOAL = "sdg_goal", _("SDG goal")
    SDG_TARGET = "sdg_target", _("SDG target")
    COMMON_CHAPTER_AREA = "cc_area", _("Common-chapter area")
    JOINT_PROGRAMME = "joint_programme", _("Joint programme")


class TagFundingRollup(FundingFigures):
    """Per tag: the full money of every contribution whose activity carries it.

    Tag rows of one kind overlap (an activity tagged 5.2 and 3.1 is in both), so
    they are never added together; an SDG goal counts a contribution once even
    when its activity carries several of the goal's targets.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=TagKind.choices)
    tag_id = models.PositiveBigIntegerField(
        _("tag"),
        help_text=_(
            "SDG goal number, or the id of the SDG target, common-chapter area "
            "or joint programme."
        ),
    )
    tag_code = models.CharField(
        _("code"),
        max_length=20,
        blank=True,
        help_text=_("SDG goal number, target or area code; empty for programmes."),
    )

    class Meta:
        verbose_name = _("funding rollup by tag")
        ordering = ["country_team", "kind", "tag_code", "tag_id", "agency", "year"]
        constraints = _funding_constraints(
            "tag_funding_rollup", ["framework", "kind", "tag_id"]
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.tag_code or self.tag_id} {self.year} {self.basis}"


# --- indicator progress -----------------------------------------------------------


class ProgressStatus(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    OFF_TRACK = "off_track", _("Off track")
    NO_DATA = "no_data", _("No data")


class IndicatorProgress(models.Model):
    """An indicator's combined value up to the end of a year, against its target.

    See `reporting.rollups.IndicatorCells.values` for how values are combined and
    `reporting.rollups.progress_row` for when an indicator is on track. Values
    have room for any sum or ratio of the source fields, so no job can fail on
    an outsized figure.
    """

    country_team = _derived_link(CountryTeam)
    indicator = _derived_link(Indicator)
    year = models.PositiveSmallIntegerField(_("year"))
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    value = models.DecimalField(
        _("value to date"), max_digits=40, decimal_places=4, null=True, blank=True
    )
    numerator = models.DecimalField(
        max_digits=40, decimal_places=4, null=True, blank=True
    )
    denominator = models.DecimalField(
        max_digits=40, decimal_places=4, null=True, blank=True
    )
    year_value = models.DecimalField(
        _("value within the year"),
        max_digits=40,
        decimal_places=4,
        null=True,
        blank=True,
    )
    baseline = models.DecimalField(
        max_digits=20, decimal_places=4, null=True, blank=True
    )
    target = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    percent_of_way = models.DecimalField(
        # xgettext:no-python-format
        _("% of the way from baseline to target"),
        max_digits=40,
        decimal_places=2,
        null=True,
        blank=True,
    )
    expected_percent = models.DecimalField(
        # xgettext:no-python-format
        _("% of the framework period elapsed"),
        max_digits=5,
        decimal_places=2,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ProgressStatus.choices
    )
    source_count = models.PositiveIntegerField(_("values reported to date"), default=0)
    reporter_count = models.PositiveIntegerField(
        _("agencies reporting to date"),
        default=0,
        help_text=_("Team-wide values count as one reporter."),
    )

    class Meta:
        verbose_name = _("indicator progress")
        verbose_name_plural = _("indicator progress")
        ordering = ["country_team", "indicator", "year", "basis"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "indicator", "year", "basis"],
                name="one_progress_row_per_indicator_year_basis",
            ),
            models.CheckConstraint(
                condition=Q(expected_percent__gte=0, expected_percent__lte=100),
                name="progress_expected_percent_0_to_100",
            ),
            models.CheckConstraint(
                condition=~Q(status="no_data") | Q(percent_of_way__isnull=True),
                name="progress_no_data_has_no_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"indicator {self.indicator_id} {self.year} {self.basis}: {self.status}"
