"""Coordination instruments a country team records and follows up.

MAPS missions with their accelerators and recommendations, Zero Hunger Strategic
Reviews, New Way of Working collective outcomes and Business Operations Strategies
belong to one country team. Multi-stakeholder platforms and global initiatives
(SUN, the Spotlight Initiative, ...) are global: every signed-in user sees them,
but only the joint programmes and activities of their own teams inside them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coordination.models import Agency, CountryTeam, TimeStampedModel
from frameworks.models.framework import Outcome
from frameworks.models.joint_work import JointActivity
from frameworks.models.programmes import JointProgramme

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from coordination.models import User

# --- shared vocabulary -------------------------------------------------------------


class TeamOwnedQuerySet(models.QuerySet):
    def for_team(self, team: CountryTeam) -> TeamOwnedQuerySet:
        """Return the instruments of one country team."""
        return self.filter(country_team=team)

    def visible_to(self, user: User | AnonymousUser) -> TeamOwnedQuerySet:
        """Return instruments of the teams the user is a member of."""
        return self.filter(country_team__in=CountryTeam.objects.visible_to(user))


# --- MAPS missions -----------------------------------------------------------------


class MapsMission(TimeStampedModel):
    """A Mainstreaming, Acceleration and Policy Support mission and its roadmap."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="maps_missions"
    )
    code = models.CharField(
        _("code"), max_length=30, unique=True, help_text=_("e.g. DOM-MAPS-2016.")
    )
    title = models.CharField(_("title"), max_length=300)
    start_date = models.DateField(_("mission start"))
    end_date = models.DateField(_("mission end"))
    participating_agencies = models.ManyToManyField(
        Agency, related_name="maps_missions", blank=True
    )
    national_counterparts = models.TextField(
        _("national counterparts"), blank=True, help_text=_("One per line.")
    )
    roadmap = models.TextField(_("SDG roadmap"), blank=True)

    objects = TeamOwnedQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[participating_agencies])

    class Meta:
        ordering = ["country_team__name", "-start_date"]
        verbose_name = _("MAPS mission")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="maps_mission_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "instruments:mission_detail",
            kwargs={"code": self.country_team.code, "pk": self.pk},
        )

    @property
    def counterpart_list(self) -> list[str]:
        return [
            line.strip()
            for line in self.national_counterparts.splitlines()
            if line.strip()
        ]


class Accelerator(TimeStampedModel):
    """A policy area a MAPS mission found would move several SDGs at once."""

    mission = models.ForeignKey(
        MapsMission, on_delete=models.CASCADE, related_name="accelerators"
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    outcomes = models.ManyToManyField(
        Outcome,
        related_name="accelerators",
        blank=True,
        help_text=_("Framework outcomes that take the accelerator forward."),
    )
    activities = models.ManyToManyField(
        JointActivity, related_name="accelerators", blank=True
    )

    history = HistoricalRecords(m2m_fields=[outcomes, activities])

    class Meta:
        ordering = ["mission", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["mission", "code"], name="accelerator_code_unique_in_mission"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def country_team_id(self) -> int:
        return self.mission.country_team_id


class FollowUpStatus(models.TextChoices):
    PLANNED = "planned", _("Not started")
    ONGOING = "ongoing", _("In progress")
    DELAYED = "delayed", _("Delayed")
    COMPLETED = "completed", _("Completed")
    DROPPED = "dropped", _("Dropped")


CLOSED_FOLLOW_UP = (FollowUpStatus.COMPLETED, FollowUpStatus.DROPPED)


class RecommendationQuerySet(models.QuerySet["Recommendation"]):
    def visible_to(self, user: User | AnonymousUser) -> RecommendationQuerySet:
        """Return recommendations of missions in the user's teams."""
        return self.filter(
            mission__country_team__in=CountryTeam.objects.visible_to(user)
        )

    def overdue(self, today: date | None = None) -> RecommendationQuerySet:
        """Return open recommendations whose due date has passed."""
        return self.filter(due_date__lt=today or timezone.localdate()).exclude(
            status__in=CLOSED_FOLLOW_UP
        )


class Recommendation(TimeStampedModel):
    mission = models.ForeignKey(
        MapsMission, on_delete=models.CASCADE, related_name="recommendations"
    )
    accelerator = models.ForeignKey(
        Accelerator,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recommendations",
    )
    code = models.CharField(_("code"), max_length=20)
    text = models.TextField(_("recommendation"))
    owner_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="maps_recommendations",
        help_text=_("Its focal points may update the follow-up status."),
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("follow-up status"),
        max_length=20,
        choices=FollowUpStatus.choices,
        default=FollowUpStatus.PLANNED,
    )
    follow_up_note = models.TextField(_("follow-up note"), blank=True)

    objects = RecommendationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["mission", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["mission", "code"],
                name="recommendation_code_unique_in_mission",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text[:80]}"

    @property
    def country_team_id(self) -> int:
        return self.mission.country_team_id

    @property
    def agency_id(self) -> int:
        # The owner agency's focal points are this record's owners for the rules.
        return self.owner_agency_id

    @property
    def is_overdue(self) -> bool:
        return (
            self.status not in CLOSED_FOLLOW_UP and self.due_date < timezone.localdate()
        )


# --- Zero Hunger Strategic Reviews -------------------------------------------------


class ZeroHungerReview(TimeStampedModel):
    """A country-led strategic review of SDG 2 and how its actions are followed."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="zero_hunger_reviews"
    )
    code = models.CharField(_("code"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=300)
    lead_convener = models.CharField(
        _("country lead"), max_length=300, help_text=_("Who led the review.")
    )
    start_date = models.DateField(_("review start"))
    end_date = models.DateField(_("review end"))
    co_funding_agencies = models.ManyToManyField(
        Agency, related_name="zero_hunger_reviews", blank=True
    )
    follow_up_mechanism = models.TextField(_("follow-up mechanism"), blank=True)

    objects = TeamOwnedQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[co_funding_agencies])

    class Meta:
        ordering = ["country_team__name", "-start_date"]
        verbose_name = _("Zero Hunger Strategic Review")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="zero_hunger_review_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PriorityAction(TimeStampedModel):
    review = models.ForeignKey(
        ZeroHungerReview, on_delete=models.CASCADE, related_name="priority_actions"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.TextField(_("priority action"))
    agencies = models.ManyToManyField(
        Agency, related_name="zero_hunger_actions", blank=True
    )

    history = HistoricalRecords(m2m_fields=[agencies])

    class Meta:
        ordering = ["review", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "position"], name="priority_action_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text[:80]}"

    @property
    def country_team_id(self) -> int:
        return self.review.country_team_id


# --- Multi-stakeholder platforms and global initiatives -----------------------------


class PlatformKind(models.TextChoices):
    PLATFORM = "platform", _("Multi-stakeholder platform")
    INITIATIVE = "initiative", _("Global initiative")
    COMPACT = "compact", _("Compact")


class PlatformQuerySet(models.QuerySet["Platform"]):
    def visible_to(self, user: User | AnonymousUser) -> PlatformQuerySet:
        """Return every platform to a signed-in user: they are public knowledge."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self

    def for_team(self, team: CountryTeam) -> PlatformQuerySet:
        """Return the platforms a country team takes part in."""
        return self.filter(countries=team)


class Platform(TimeStampedModel):
    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        help_text=_("Upper-case letters, digits and dashes, e.g. SUN. Used in URLs."),
    )
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=PlatformKind.choices,
        default=PlatformKind.PLATFORM,
    )
    description = models.TextField(_("description"), blank=True)
    launched_year = models.PositiveSmallIntegerField(
        _("launched"), null=True, blank=True
    )
    country_count = models.PositiveIntegerField(
        _("countries taking part"),
        null=True,
        blank=True,
        help_text=_("Worldwide, not only the country teams in the portal."),
    )
    member_count = models.PositiveIntegerField(_("members"), null=True, blank=True)
    initial_funding = models.DecimalField(
        _("initial funding"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    funding_currency = models.CharField(_("currency"), max_length=3, blank=True)
    member_agencies = models.ManyToManyField(
        Agency, related_name="platforms", blank=True
    )
    countries = models.ManyToManyField(
        CountryTeam, related_name="platforms", blank=True
    )
    joint_programmes = models.ManyToManyField(
        JointProgramme, related_name="platforms", blank=True
    )
    activities = models.ManyToManyField(
        JointActivity, related_name="platforms", blank=True
    )

    objects = PlatformQuerySet.as_manager()
    history = HistoricalRecords(
        m2m_fields=[member_agencies, countries, joint_programmes, activities]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("platform or initiative")
        verbose_name_plural = _("platforms and initiatives")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9-]+$"),
                name="platform_code_upper_case",
            ),
            models.CheckConstraint(
                condition=Q(initial_funding__isnull=True) | Q(initial_funding__gte=0),
                name="platform_funding_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("instruments:platform_detail", kwargs={"code": self.code})


# --- New Way of Working collective outcomes ------------------------------------------


class CollectiveOutcome(TimeStampedModel):
    """A measurable, time-bound outcome shared by humanitarian, development and
    peace actors; measured through the indicators of its framework outcomes."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="collective_outcomes"
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=300)
    statement = models.TextField(_("statement"), blank=True)
    start_year = models.PositiveSmallIntegerField(_("start year"))
    end_year = models.PositiveSmallIntegerField(_("end year"))
    outcomes = models.ManyToManyField(
        Outcome, related_name="collective_outcomes", blank=True
    )
    hrp_objectives = models.TextField(
        _("humanitarian response plan objectives"),
        blank=True,
        help_text=_("One per line."),
    )

    objects = TeamOwnedQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[outcomes])

    class Meta:
        ordering = ["country_team__name", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=F("start_year")),
                name="collective_outcome_end_not_before_start",
            ),
            models.UniqueConstraint(
                fields=["country_team", "code"],
                name="collective_outcome_code_unique_in_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def hrp_objective_list(self) -> list[str]:
        return [
            line.strip() for line in self.hrp_objectives.splitlines() if line.strip()
        ]


# --- Business operations ------------------------------------------------------------


class OperationsStrategy(TimeStampedModel):
    """A Business Operations Strategy: the team's common back-office services."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.PROTECT, related_name="operations_strategies"
    )
    code = models.CharField(_("code"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=300)
    start_year = models.PositiveSmallIntegerField(_("start year"))
    end_year = models.PositiveSmallIntegerField(_("end year"))

    objects = TeamOwnedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["country_team__name", "-start_year"]
        verbose_name = _("Business Operations Strategy")
        verbose_name_plural = _("Business Operations Strategies")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=F("start_year")),
                name="operations_strategy_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ServiceLine(models.TextChoices):
    PREMISES = "premises", _("Common premises")
    ICT = "ict", _("Information and communication technology")
    PROCUREMENT = "procurement", _("Procurement")
    LOGISTICS = "logistics", _("Logistics")
    HUMAN_RESOURCES = "human_resources", _("Human resources")
    FINANCE = "finance", _("Finance")
    ADMINISTRATION = "administration", _("Administration")


class CommonService(TimeStampedModel):
    strategy = models.ForeignKey(
        OperationsStrategy, on_delete=models.CASCADE, related_name="services"
    )
    service_line = models.CharField(
        _("service line"), max_length=30, choices=ServiceLine.choices
    )
    name = models.CharField(_("name"), max_length=300)
    lead_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="led_common_services"
    )
    agencies = models.ManyToManyField(
        Agency, related_name="common_services", blank=True
    )

    history = HistoricalRecords(m2m_fields=[agencies])

    class Meta:
        ordering = ["strategy", "service_line", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "name"], name="common_service_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def country_team_id(self) -> int:
        return self.strategy.country_team_id


class CostAvoidance(TimeStampedModel):
    """What a common service saves the agencies in one year, in USD."""

    service = models.ForeignKey(
        CommonService, on_delete=models.CASCADE, related_name="cost_avoidance"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    estimated = models.DecimalField(
        _("estimated (USD)"), max_digits=16, decimal_places=2
    )
    realised = models.DecimalField(
        _("realised (USD)"), max_digits=16, decimal_places=2, null=True, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["service", "year"]
        verbose_name = _("cost avoidance")
        verbose_name_plural = _("cost avoidance")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "year"], name="one_cost_avoidance_per_year"
            ),
            models.CheckConstraint(
                condition=Q(estimated__gte=0),
                name="cost_avoidance_estimate_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(realised__isnull=True) | Q(realised__gte=0),
                name="cost_avoidance_realised_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.year}"


class MutualRecognition(TimeStampedModel):
    """An agency's adoption of the mutual-recognition agreement in one strategy."""

    strategy = models.ForeignKey(
        OperationsStrategy, on_delete=models.CASCADE, related_name="recognitions"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="mutual_recognitions"
    )
    adopted_on = models.DateField(_("adopted on"))
    scope = models.CharField(
        _("scope"),
        max_length=300,
        blank=True,
        help_text=_("Policies and procedures the agency accepts from the others."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "adopted_on", "agency__code"]
        verbose_name = _("mutual-recognition adoption")
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "agency"], name="one_recognition_per_agency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} ({self.adopted_on})"
