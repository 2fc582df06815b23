"""Writes to the coordination instruments: MAPS missions, Zero Hunger reviews,
platforms, collective outcomes and Business Operations Strategies.

actor=None is reserved for trusted callers (the seed and import commands).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coordination.models import Agency, CountryTeam
from frameworks.models import (
    Accelerator,
    CollectiveOutcome,
    CommonService,
    CostAvoidance,
    FollowUpStatus,
    JointActivity,
    JointProgramme,
    MapsMission,
    MutualRecognition,
    OperationsStrategy,
    Outcome,
    Platform,
    PlatformKind,
    PriorityAction,
    Recommendation,
    ZeroHungerReview,
)

if TYPE_CHECKING:
    from coordination.models import User


def _require(actor: User | None, perm: str, obj: object, message: str) -> None:
    if actor is not None and not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


def _require_rc_office(actor: User | None, team: CountryTeam) -> None:
    _require(
        actor,
        "frameworks.change_instrument",
        team,
        _("Only the RC office records this country team's instruments."),
    )


def _require_team_agencies(
    team: CountryTeam, agencies: Iterable[Agency], field_name: str
) -> list[Agency]:
    agencies = list(agencies)
    team_agency_ids = set(team.team_agencies.values_list("agency_id", flat=True))
    if any(a.pk not in team_agency_ids for a in agencies):
        raise ValidationError(
            {field_name: _("Every agency must be part of the country team.")}
        )
    return agencies


def _require_team_outcomes(team: CountryTeam, outcomes: Iterable[Outcome]) -> list:
    outcomes = list(outcomes)
    if any(o.framework.country_team_id != team.pk for o in outcomes):
        raise ValidationError(
            {"outcomes": _("Every outcome must belong to this team's frameworks.")}
        )
    return outcomes


def _saved(instance: Any, actor: User | None) -> None:
    # full_clean turns a broken rule (dates, codes) into a ValidationError that
    # names the field, before the database would refuse it with an IntegrityError.
    instance.full_clean()
    # The history names who changed the row even outside a web request (API
    # token, shell, tasks), where simple_history's middleware cannot see a user.
    instance._history_user = actor
    instance.save()


# --- MAPS missions -----------------------------------------------------------------


@transaction.atomic
def create_maps_mission(
    *,
    country_team: CountryTeam,
    code: str,
    title: str,
    start_date: date,
    end_date: date,
    actor: User | None,
    participating_agencies: Iterable[Agency] = (),
    national_counterparts: Sequence[str] = (),
    roadmap: str = "",
) -> MapsMission:
    """Record a MAPS mission of a team, with the UN entities that took part."""
    _require_rc_office(actor, country_team)
    mission = MapsMission(
        country_team=country_team,
        code=code,
        title=title,
        start_date=start_date,
        end_date=end_date,
        national_counterparts="\n".join(national_counterparts),
        roadmap=roadmap,
    )
    _saved(mission, actor)
    # Non-resident entities take part in MAPS missions too, so any agency is fine.
    mission.participating_agencies.set(list(participating_agencies))
    return mission


@transaction.atomic
def create_accelerator(
    *,
    mission: MapsMission,
    code: str,
    name: str,
    actor: User | None,
    description: str = "",
    outcomes: Iterable[Outcome] = (),
    activities: Iterable[JointActivity] = (),
) -> Accelerator:
    """Add an accelerator to a mission, linked to the team's outcomes and
    joint activities that take it forward."""
    team = mission.country_team
    _require_rc_office(actor, team)
    outcomes = _require_team_outcomes(team, outcomes)
    activities = list(activities)
    if any(a.country_team_id != team.pk for a in activities):
        raise ValidationError(
            {"activities": _("Every activity must belong to this country team.")}
        )
    accelerator = Accelerator(
        mission=mission, code=code, name=name, description=description
    )
    _saved(accelerator, actor)
    accelerator.outcomes.set(outcomes)
    accelerator.activities.set(activities)
    return accelerator


@transaction.atomic
def create_recommendation(
    *,
    mission: MapsMission,
    code: str,
    text: str,
    owner_agency: Agency,
    due_date: date,
    actor: User | None,
    accelerator: Accelerator | None = None,
    status: str = FollowUpStatus.PLANNED,
) -> Recommendation:
    """Add a recommendation of a mission, owned by one agency of the team."""
    _require_rc_office(actor, mission.country_team)
    _require_team_agencies(mission.country_team, [owner_agency], "owner_agency")
    if accelerator is not None and accelerator.mission_id != mission.pk:
        raise ValidationError(
            {"accelerator": _("The accelerator belongs to another mission.")}
        )
    recommendation = Recommendation(
        mission=mission,
        accelerator=accelerator,
        code=code,
        text=text,
        owner_agency=owner_agency,
        due_date=due_date,
        status=status,
    )
    _saved(recommendation, actor)
    return recommendation


@transaction.atomic
def update_recommendation_status(
    *,
    recommendation: Recommendation,
    status: str,
    actor: User | None,
    note: str | None = None,
) -> Recommendation:
    """Move a recommendation's follow-up on (RC office or the owner agency)."""
    _require(
        actor,
        "frameworks.follow_up_recommendation",
        recommendation,
        _("Only the RC office or the owner agency follows this recommendation up."),
    )
    if status not in FollowUpStatus.values:
        raise ValidationError({"status": _("Unknown follow-up status.")})
    locked = (
        Recommendation.objects.select_for_update()
        .select_related("mission")
        .get(pk=recommendation.pk)
    )
    locked.status = status
    locked._history_user = actor  # type: ignore[attr-defined]
    fields = ["status", "updated_at"]
    if note is not None:
        locked.follow_up_note = note
        fields.append("follow_up_note")
    locked.save(update_fields=fields)
    return locked


# --- Zero Hunger Strategic Reviews -------------------------------------------------


@transaction.atomic
def create_zero_hunger_review(
    *,
    country_team: CountryTeam,
    code: str,
    title: str,
    lead_convener: str,
    start_date: date,
    end_date: date,
    actor: User | None,
    co_funding_agencies: Iterable[Agency] = (),
    follow_up_mechanism: str = "",
    priority_actions: Sequence[tuple[str, Iterable[Agency]]] = (),
) -> ZeroHungerReview:
    """Record a country-led SDG 2 review with its priority actions, in order."""
    _require_rc_office(actor, country_team)
    review = ZeroHungerReview(
        country_team=country_team,
        code=code,
        title=title,
        lead_convener=lead_convener,
        start_date=start_date,
        end_date=end_date,
        follow_up_mechanism=follow_up_mechanism,
    )
    _saved(review, actor)
    review.co_funding_agencies.set(
        _require_team_agencies(country_team, co_funding_agencies, "co_funding_agencies")
    )
    for position, (text, agencies) in enumerate(priority_actions, start=1):
        action = PriorityAction.objects.create(
            review=review, position=position, text=text
        )
        action.agencies.set(
            _require_team_agencies(country_team, agencies, "priority_actions")
        )
    return review


# --- Platforms and global initiatives ------------------------------------------------


@dataclass(frozen=True)
class PlatformData:
    code: str
    name: str
    kind: str = PlatformKind.PLATFORM
    description: str = ""
    launched_year: int | None = None
    country_count: int | None = None
    member_count: int | None = None
    initial_funding: Decimal | None = None
    funding_currency: str = ""
    member_agencies: Sequence[Agency] = field(default_factory=tuple)


@transaction.atomic
def create_platform(*, data: PlatformData, actor: User | None) -> Platform:
    """Record a global platform or initiative (administrators)."""
    _require(
        actor,
        "frameworks.manage_platform",
        None,
        _("Only administrators record global platforms."),
    )
    platform = Platform(
        code=data.code,
        name=data.name,
        kind=data.kind,
        description=data.description,
        launched_year=data.launched_year,
        country_count=data.country_count,
        member_count=data.member_count,
        initial_funding=data.initial_funding,
        funding_currency=data.funding_currency,
    )
    _saved(platform, actor)
    platform.member_agencies.set(list(data.member_agencies))
    return platform


@transaction.atomic
def add_team_to_platform(
    *,
    platform: Platform,
    country_team: CountryTeam,
    actor: User | None,
    joint_programmes: Iterable[JointProgramme] = (),
    activities: Iterable[JointActivity] = (),
) -> Platform:
    """Record that a team takes part, with its programmes and activities that
    belong to the platform (administrators)."""
    _require(
        actor,
        "frameworks.manage_platform",
        platform,
        _("Only administrators change global platforms."),
    )
    joint_programmes = list(joint_programmes)
    activities = list(activities)
    if any(p.country_team_id != country_team.pk for p in joint_programmes) or any(
        a.country_team_id != country_team.pk for a in activities
    ):
        raise ValidationError(
            _("Programmes and activities must belong to the country team.")
        )
    platform.countries.add(country_team)
    platform.joint_programmes.add(*joint_programmes)
    platform.activities.add(*activities)
    return platform


# --- Collective outcomes -------------------------------------------------------------


@transaction.atomic
def create_collective_outcome(
    *,
    country_team: CountryTeam,
    code: str,
    title: str,
    start_year: int,
    end_year: int,
    actor: User | None,
    statement: str = "",
    outcomes: Iterable[Outcome] = (),
    hrp_objectives: Sequence[str] = (),
) -> CollectiveOutcome:
    """Record a New Way of Working collective outcome, linked to framework
    outcomes (whose indicators measure it) and humanitarian response plan
    objectives."""
    _require_rc_office(actor, country_team)
    outcomes = _require_team_outcomes(country_team, outcomes)
    collective = CollectiveOutcome(
        country_team=country_team,
        code=code,
        title=title,
        statement=statement,
        start_year=start_year,
        end_year=end_year,
        hrp_objectives="\n".join(hrp_objectives),
    )
    _saved(collective, actor)
    collective.outcomes.set(outcomes)
    return collective


# --- Business operations -------------------------------------------------------------


@transaction.atomic
def create_operations_strategy(
    *,
    country_team: CountryTeam,
    code: str,
    title: str,
    start_year: int,
    end_year: int,
    actor: User | None,
) -> OperationsStrategy:
    """Record a team's Business Operations Strategy."""
    _require_rc_office(actor, country_team)
    strategy = OperationsStrategy(
        country_team=country_team,
        code=code,
        title=title,
        start_year=start_year,
        end_year=end_year,
    )
    _saved(strategy, actor)
    return strategy


@transaction.atomic
def create_common_service(
    *,
    strategy: OperationsStrategy,
    service_line: str,
    name: str,
    lead_agency: Agency,
    actor: User | None,
    agencies: Iterable[Agency] = (),
) -> CommonService:
    """Add a common service to a strategy, led by one agency of the team."""
    team = strategy.country_team
    _require_rc_office(actor, team)
    agencies = _require_team_agencies(team, [lead_agency, *agencies], "agencies")
    service = CommonService(
        strategy=strategy, service_line=service_line, name=name, lead_agency=lead_agency
    )
    _saved(service, actor)
    service.agencies.set(agencies)
    return service


@transaction.atomic
def record_cost_avoidance(
    *,
    service: CommonService,
    year: int,
    estimated: Decimal,
    actor: User | None,
    realised: Decimal | None = None,
) -> CostAvoidance:
    """Set a service's estimated and realised cost avoidance for a year.

    Recording the same year again replaces the figures, so it is safe to repeat.
    """
    strategy = service.strategy
    _require_rc_office(actor, strategy.country_team)
    if not strategy.start_year <= year <= strategy.end_year:
        raise ValidationError({"year": _("The year is outside the strategy.")})
    row = CostAvoidance.objects.filter(service=service, year=year).first()
    if row is None:
        row = CostAvoidance(service=service, year=year)
    row.estimated = estimated
    row.realised = realised
    _saved(row, actor)
    return row


@transaction.atomic
def record_mutual_recognition(
    *,
    strategy: OperationsStrategy,
    agency: Agency,
    adopted_on: date,
    actor: User | None,
    scope: str = "",
) -> MutualRecognition:
    """Record that an agency of the team adopted mutual recognition."""
    team = strategy.country_team
    _require_rc_office(actor, team)
    _require_team_agencies(team, [agency], "agency")
    recognition = MutualRecognition(
        strategy=strategy, agency=agency, adopted_on=adopted_on, scope=scope
    )
    _saved(recognition, actor)
    return recognition
