"""Writes to the Cooperation Framework and joint programmes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination.models import Agency, CountryTeam
from frameworks.events import team_data_changed
from frameworks.models import (
    Aggregation,
    CooperationFramework,
    Dimension,
    FrameworkStatus,
    Indicator,
    IndicatorDirection,
    IndicatorUnit,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    ProgrammeStatus,
    SdgIndicator,
    SdgTarget,
    StrategicPriority,
)

if TYPE_CHECKING:
    from coordination.models import User


def _announce(team_id: int) -> None:
    team_data_changed.send(sender=CooperationFramework, team_id=team_id)


def _require_unused_code(
    model: type[StrategicPriority | Outcome | Output | Indicator],
    framework: CooperationFramework,
    code: str,
) -> None:
    # The database would refuse the row too, but as an IntegrityError that callers
    # could only turn into a 500; a taken code is bad input and says so.
    if model.objects.filter(framework=framework, code=code).exists():
        raise ValidationError(
            {"code": _("This code is already used in this framework.")}
        )


def _require(actor: User | None, perm: str, obj: object) -> None:
    # actor=None is reserved for trusted callers (seed and import commands).
    if actor is not None and not actor.has_perm(perm, obj):
        raise PermissionDenied(_("You may not change this country team's framework."))


@transaction.atomic
def create_framework(
    *,
    country_team: CountryTeam,
    title: str,
    start_year: int,
    end_year: int,
    actor: User | None,
) -> CooperationFramework:
    """Create a draft Cooperation Framework for a team."""
    _require(actor, "coordination.coordinate_countryteam", country_team)
    if end_year < start_year:
        raise ValidationError({"end_year": _("The end year is before the start year.")})
    framework = CooperationFramework.objects.create(
        country_team=country_team, title=title, start_year=start_year, end_year=end_year
    )
    _announce(country_team.pk)
    return framework


@transaction.atomic
def sign_off_framework(
    *, framework: CooperationFramework, actor: User | None
) -> CooperationFramework:
    """Make a draft framework the team's active one (Resident Coordinator only).

    The previously active framework, if any, is closed in the same transaction.
    """
    _require(actor, "coordination.sign_off_countryteam", framework.country_team)
    framework = CooperationFramework.objects.select_for_update().get(pk=framework.pk)
    if framework.status != FrameworkStatus.DRAFT:
        raise ValidationError(_("Only a draft framework can be signed off."))
    # Saved row by row, not with update(), so the closing is in the history and
    # bumps updated_at like every other change.
    previous_frameworks = CooperationFramework.objects.select_for_update().filter(
        country_team_id=framework.country_team_id, status=FrameworkStatus.ACTIVE
    )
    for previous in previous_frameworks:
        previous.status = FrameworkStatus.CLOSED
        previous.save(update_fields=["status", "updated_at"])
    framework.status = FrameworkStatus.ACTIVE
    framework.signed_off_by = actor
    framework.signed_off_at = timezone.now()
    framework.save(
        update_fields=["status", "signed_off_by", "signed_off_at", "updated_at"]
    )
    _announce(framework.country_team_id)
    return framework


@transaction.atomic
def create_strategic_priority(
    *, framework: CooperationFramework, code: str, title: str, actor: User | None
) -> StrategicPriority:
    """Add a strategic priority to a framework."""
    _require(actor, "coordination.coordinate_countryteam", framework.country_team)
    _require_unused_code(StrategicPriority, framework, code)
    return StrategicPriority.objects.create(framework=framework, code=code, title=title)


@transaction.atomic
def create_outcome(
    *,
    framework: CooperationFramework,
    code: str,
    statement: str,
    actor: User | None,
    strategic_priority: StrategicPriority | None = None,
    sdg_targets: Iterable[SdgTarget] = (),
    lead_agencies: Iterable[Agency] = (),
    is_collective_outcome: bool = False,
) -> Outcome:
    """Add an outcome to a framework."""
    _require(actor, "coordination.coordinate_countryteam", framework.country_team)
    if (
        strategic_priority is not None
        and strategic_priority.framework_id != framework.pk
    ):
        raise ValidationError(
            {"strategic_priority": _("The priority belongs to another framework.")}
        )
    _require_unused_code(Outcome, framework, code)
    outcome = Outcome.objects.create(
        framework=framework,
        code=code,
        statement=statement,
        strategic_priority=strategic_priority,
        is_collective_outcome=is_collective_outcome,
    )
    outcome.sdg_targets.set(sdg_targets)
    outcome.lead_agencies.set(lead_agencies)
    _announce(framework.country_team_id)
    return outcome


@transaction.atomic
def create_output(
    *,
    outcome: Outcome,
    code: str,
    statement: str,
    actor: User | None,
    contributing_agencies: Iterable[Agency] = (),
) -> Output:
    """Add an output under an outcome (in the outcome's framework)."""
    framework = outcome.framework
    _require(actor, "coordination.coordinate_countryteam", framework.country_team)
    _require_unused_code(Output, framework, code)
    output = Output.objects.create(
        framework=framework, outcome=outcome, code=code, statement=statement
    )
    output.contributing_agencies.set(contributing_agencies)
    _announce(framework.country_team_id)
    return output


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    name: str
    unit: str = IndicatorUnit.NUMBER
    direction: str = IndicatorDirection.ASCENDING
    baseline_value: Decimal | None = None
    baseline_year: int | None = None
    target_value: Decimal | None = None
    target_year: int | None = None
    across_periods: str = Aggregation.SUM
    across_agencies: str = Aggregation.SUM
    disaggregations: Sequence[str] = ()
    data_source: str = ""
    sdg_indicator: SdgIndicator | None = None


@transaction.atomic
def create_indicator(
    *,
    spec: IndicatorSpec,
    actor: User | None,
    outcome: Outcome | None = None,
    output: Output | None = None,
) -> Indicator:
    """Attach an indicator to exactly one outcome or output."""
    if (outcome is None) == (output is None):
        raise ValidationError(_("An indicator belongs to one outcome or one output."))
    framework = outcome.framework if outcome else output.framework  # type: ignore[union-attr]
    _require(actor, "coordination.coordinate_countryteam", framework.country_team)
    unknown = set(spec.disaggregations) - set(Dimension.values)
    if unknown:
        raise ValidationError(
            {
                "disaggregations": _("Unknown dimensions: %s")
                % ", ".join(sorted(unknown))
            }
        )
    _require_unused_code(Indicator, framework, spec.code)
    indicator = Indicator(
        framework=framework,
        outcome=outcome,
        output=output,
        code=spec.code,
        name=spec.name,
        unit=spec.unit,
        direction=spec.direction,
        baseline_value=spec.baseline_value,
        baseline_year=spec.baseline_year,
        target_value=spec.target_value,
        target_year=spec.target_year,
        across_periods=spec.across_periods,
        across_agencies=spec.across_agencies,
        disaggregations=list(spec.disaggregations),
        data_source=spec.data_source,
        sdg_indicator=spec.sdg_indicator,
    )
    indicator.full_clean(exclude=["framework", "outcome", "output", "sdg_indicator"])
    indicator.save()
    _announce(framework.country_team_id)
    return indicator


@transaction.atomic
def create_joint_programme(
    *,
    country_team: CountryTeam,
    title: str,
    convening_agency: Agency,
    start_date: date,
    end_date: date,
    budget_shares: dict[Agency, Decimal],
    actor: User | None,
    fund: str = "",
    outcomes: Iterable[Outcome] = (),
    sdg_targets: Iterable[SdgTarget] = (),
    gender_marker: int = 0,
    status: str = ProgrammeStatus.ACTIVE,
) -> JointProgramme:
    """Create a joint programme with its participating agencies and budget shares."""
    _require(actor, "coordination.coordinate_countryteam", country_team)
    if end_date < start_date:
        raise ValidationError({"end_date": _("The end date is before the start date.")})
    if len(budget_shares) < 2:
        raise ValidationError(
            {
                "agencies": _(
                    "A joint programme needs at least two participating agencies."
                )
            }
        )
    if convening_agency not in budget_shares:
        raise ValidationError(
            {"convening_agency": _("The convening agency must also participate.")}
        )
    if any(share < 0 for share in budget_shares.values()):
        raise ValidationError({"agencies": _("Budget shares cannot be negative.")})
    outcomes = list(outcomes)
    if any(o.framework.country_team_id != country_team.pk for o in outcomes):
        raise ValidationError({"outcomes": _("Outcomes must belong to this team.")})
    programme = JointProgramme(
        country_team=country_team,
        title=title,
        fund=fund,
        convening_agency=convening_agency,
        start_date=start_date,
        end_date=end_date,
        gender_marker=gender_marker,
        status=status,
    )
    # Status has no database constraint, so only full_clean stops an unknown one;
    # it also turns a gender marker outside 0-3 into a ValidationError.
    programme.full_clean(exclude=["country_team", "convening_agency"])
    programme.save()
    JointProgrammeParticipant.objects.bulk_create(
        JointProgrammeParticipant(
            programme=programme, agency=agency, budget_share=share
        )
        for agency, share in budget_shares.items()
    )
    programme.outcomes.set(outcomes)
    programme.sdg_targets.set(sdg_targets)
    _announce(country_team.pk)
    return programme
