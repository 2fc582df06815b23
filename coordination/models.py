"""Who: agencies, country teams, people and their memberships."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    """A person who signs in; roles come from memberships, not from the user row."""

    is_board_member = models.BooleanField(
        _("executive board member"),
        default=False,
        help_text=_("Global, read-only access to validated collective results."),
    )
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    agency = models.ForeignKey(
        "coordination.Agency",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("The agency this person works for, if any."),
    )

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class AgencyKind(models.TextChoices):
    FUND_PROGRAMME = "fund_programme", _("Fund or programme")
    SPECIALIZED_AGENCY = "specialized_agency", _("Specialized agency")
    SECRETARIAT = "secretariat", _("Secretariat entity")
    OTHER = "other", _("Other entity")


class AgencyQuerySet(models.QuerySet["Agency"]):
    def signatories(self) -> AgencyQuerySet:
        """Return the agencies that signed the common chapter."""
        return self.filter(is_common_chapter_signatory=True)


class Agency(TimeStampedModel):
    code = models.CharField(_("short code"), max_length=20, unique=True)
    name = models.CharField(_("full name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=30, choices=AgencyKind.choices, default=AgencyKind.OTHER
    )
    iati_identifier = models.CharField(
        _("IATI organisation identifier"), max_length=50, blank=True
    )
    is_common_chapter_signatory = models.BooleanField(
        _("common-chapter signatory"), default=False
    )

    objects = AgencyQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.code


class Region(models.TextChoices):
    AFRICA = "africa", _("Africa")
    ARAB_STATES = "arab_states", _("Arab States")
    ASIA_PACIFIC = "asia_pacific", _("Asia and the Pacific")
    EUROPE_CENTRAL_ASIA = "europe_central_asia", _("Europe and Central Asia")
    LATIN_AMERICA_CARIBBEAN = (
        "latin_america_caribbean",
        _("Latin America and the Caribbean"),
    )


class CrisisContext(models.TextChoices):
    DEVELOPMENT = "development", _("Development")
    HUMANITARIAN = "humanitarian", _("Humanitarian")
    PROTRACTED_CRISIS = "protracted_crisis", _("Protracted crisis")


class TeamStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class CountryTeamQuerySet(models.QuerySet["CountryTeam"]):
    def active(self) -> CountryTeamQuerySet:
        """Return teams that are currently operating."""
        return self.filter(status=TeamStatus.ACTIVE)

    def visible_to(self, user: User | AnonymousUser) -> CountryTeamQuerySet:
        """Return the teams the user holds a membership in (all, for administrators)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user).distinct()


class CountryTeam(TimeStampedModel):
    code = models.CharField(
        _("ISO 3166 alpha-3 code"),
        max_length=3,
        unique=True,
        help_text=_("Three capital letters, e.g. SOM. Used in URLs and the API."),
    )
    name = models.CharField(_("country"), max_length=100)
    iso_alpha2 = models.CharField(_("ISO 3166 alpha-2 code"), max_length=2)
    region = models.CharField(_("region"), max_length=30, choices=Region.choices)
    resident_coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coordinated_teams",
    )
    context = models.CharField(
        _("context"),
        max_length=30,
        choices=CrisisContext.choices,
        default=CrisisContext.DEVELOPMENT,
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=TeamStatus.choices,
        default=TeamStatus.ACTIVE,
    )
    agencies = models.ManyToManyField(
        Agency, through="TeamAgency", related_name="country_teams", blank=True
    )

    objects = CountryTeamQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{3}$"), name="team_code_is_alpha3"
            ),
            models.CheckConstraint(
                condition=Q(iso_alpha2__regex=r"^[A-Z]{2}$"),
                name="team_iso_alpha2_is_two_letters",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("reporting:team_detail", kwargs={"code": self.code})

    @property
    def is_crisis_context(self) -> bool:
        return self.context != CrisisContext.DEVELOPMENT


class TeamAgency(models.Model):
    """An agency that is part of a country team, resident in the country or not."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.CASCADE, related_name="team_agencies"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="team_agencies"
    )
    is_resident = models.BooleanField(_("resident in the country"), default=True)

    class Meta:
        ordering = ["agency__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "agency"], name="one_team_agency_row"
            )
        ]
        verbose_name = _("team agency")
        verbose_name_plural = _("team agencies")

    def __str__(self) -> str:
        return f"{self.agency} in {self.country_team.code}"


class Role(models.TextChoices):
    RESIDENT_COORDINATOR = "rc", _("Resident Coordinator")
    RC_OFFICE = "rco", _("RC Office officer")
    FOCAL_POINT = "focal_point", _("Agency focal point")


COORDINATOR_ROLES = (Role.RESIDENT_COORDINATOR, Role.RC_OFFICE)


class MembershipQuerySet(models.QuerySet["Membership"]):
    def coordinators(self) -> MembershipQuerySet:
        """Return memberships of the Resident Coordinator and RC Office."""
        return self.filter(role__in=COORDINATOR_ROLES)

    def focal_points(self) -> MembershipQuerySet:
        """Return agency focal-point memberships."""
        return self.filter(role=Role.FOCAL_POINT)


class Membership(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.CASCADE, related_name="memberships"
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        help_text=_("Required for agency focal points."),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    objects = MembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["country_team__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "country_team", "role", "agency"],
                name="one_membership_per_role_and_agency",
            ),
            models.UniqueConstraint(
                fields=["user", "country_team", "role"],
                condition=Q(agency__isnull=True),
                name="one_agencyless_membership_per_role",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.FOCAL_POINT) | Q(agency__isnull=False),
                name="focal_point_has_agency",
            ),
            models.UniqueConstraint(
                fields=["country_team"],
                condition=Q(role=Role.RESIDENT_COORDINATOR),
                name="one_resident_coordinator_per_team",
            ),
        ]

    def __str__(self) -> str:
        where = self.country_team.code
        if self.agency_id:
            where = f"{self.agency.code} / {where}"
        return f"{self.user} — {self.get_role_display()} ({where})"

    @property
    def is_coordinator(self) -> bool:
        return self.role in COORDINATOR_ROLES


class AdminRegion(models.Model):
    """A first-level administrative region (admin-1) of a team's country."""

    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.CASCADE, related_name="regions"
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=150)

    class Meta:
        ordering = ["country_team", "name"]
        verbose_name = _("admin-1 region")
        constraints = [
            models.UniqueConstraint(
                fields=["country_team", "code"], name="region_code_unique_in_team"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A person's API key, kept only as its SHA-256 digest.

    The key is shown once, when it is issued; a copy of the database cannot be used
    to call the API. Keys are 160 random bits, so an unsalted digest is enough.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token"
    )
    digest = models.CharField(_("key digest"), max_length=64, unique=True)
    prefix = models.CharField(
        _("key prefix"),
        max_length=8,
        help_text=_("The key's first characters, to tell keys apart."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
