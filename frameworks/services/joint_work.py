"""Writes to joint activities, contributions and measurements, with their workflow.

Every function checks permissions through the registered rules (actor=None is the
trusted-caller convention for seed and import commands), runs in one transaction,
records a WorkflowEvent for the timeline, announces the change to reporting, and
sends notifications only after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination.models import AdminRegion, Agency, CountryTeam
from coordination.permissions import agency_ids_for, is_team_coordinator
from frameworks import notifications
from frameworks.events import team_data_changed
from frameworks.models import (
    EDITABLE_STATUSES,
    MAX_SDG_TARGETS,
    CommonChapterArea,
    Contribution,
    ContributionRevision,
    CooperationFramework,
    Dimension,
    ImplementationStatus,
    Indicator,
    IndicatorMeasurement,
    JointActivity,
    JointProgramme,
    Output,
    ResultValue,
    SdgTarget,
    TargetGroup,
    WorkflowAction,
    WorkflowEvent,
    WorkflowStatus,
)
from frameworks.permissions import (
    is_awaiting_review,
    is_editable,
    is_submittable,
    was_never_validated,
)
from frameworks.quality import (
    Issue,
    blocking,
    check_activity,
    check_measurement,
    check_revision,
)

if TYPE_CHECKING:
    from coordination.models import User


class QualityError(ValidationError):
    """Submission refused: blocking data-quality issues."""

    def __init__(self, issues: Sequence[Issue]):
        self.issues = list(issues)
        super().__init__([f"{i.field}: {i.message}" for i in blocking(issues)])


class ConflictError(Exception):
    """Someone else saved the record since this edit started."""

    def __init__(self, *, current_version: int, changes: dict[str, Any]):
        self.current_version = current_version
        self.changes = changes
        super().__init__(
            _(
                "This record was changed by someone else while you were editing "
                "(now version %(version)d). Review their changes and save again."
            )
            % {"version": current_version}
        )


# --- inputs -----------------------------------------------------------------------


@dataclass
class ActivityData:
    title: str
    agency: Agency
    agencies: list[Agency]
    outputs: list[Output]
    start_date: date
    end_date: date
    description: str = ""
    joint_programme: JointProgramme | None = None
    sdg_targets: list[SdgTarget] = field(default_factory=list)
    common_chapter_areas: list[CommonChapterArea] = field(default_factory=list)
    gender_marker: int | None = None
    human_rights_marker: int | None = None
    target_groups: list[str] = field(default_factory=list)
    locations: list[AdminRegion] = field(default_factory=list)
    implementation_status: str = ImplementationStatus.PLANNED
    external_ref: str = ""


_ACTIVITY_M2M = (
    "agencies",
    "outputs",
    "sdg_targets",
    "common_chapter_areas",
    "locations",
)


@dataclass
class ResultData:
    indicator: Indicator
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    disaggregation: dict[str, dict[str, Decimal]] = field(default_factory=dict)


@dataclass
class FiguresData:
    required: Decimal = Decimal("0")
    available: Decimal = Decimal("0")
    spent: Decimal = Decimal("0")
    funding_source: str = ""
    implementing_partners: str = ""
    reach: int | None = None
    results: list[ResultData] = field(default_factory=list)


_FIGURE_FIELDS = (
    "required",
    "available",
    "spent",
    "funding_source",
    "implementing_partners",
    "reach",
)


@dataclass
class MeasurementData:
    year: int
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    text_value: str = ""
    period_label: str = ""
    disaggregation: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    source: str = ""


# --- shared helpers ---------------------------------------------------------------

# How a workflow event names the record a step was taken on.
_SUBJECTS: dict[type, str] = {
    JointActivity: "activity",
    Contribution: "contribution",
    IndicatorMeasurement: "measurement",
}


def _require(actor: User | None, perm: str, obj: object, message: str) -> None:
    if actor is not None and not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


def _require_state(check: Callable[..., bool], obj: object, message: str) -> None:
    # Superusers and trusted callers pass every permission check; the workflow
    # still binds them, so validated figures stay locked and never get deleted.
    if not check(None, obj):
        raise ValidationError(message)


def _announce(
    team_id: int, *years: int, indicators: Iterable[int] | None = None
) -> None:
    """Tell reporting the team's data changed: only figures of `years`, or,
    without years, anything (an activity's links and dates reach every year).
    With years, `indicators` are the only indicators whose values may have
    changed (None: any of them)."""
    team_data_changed.send(
        sender=Contribution,
        team_id=team_id,
        years=years,
        indicators=None if indicators is None else frozenset(indicators),
    )


def _announce_change(
    record: JointActivity | Contribution | IndicatorMeasurement,
    *,
    also: frozenset[int] = frozenset(),
) -> None:
    """Announce a write to `record`: its years and its indicators (see
    `_years_of`, `_indicators_of`), with `also` the indicators of values the
    write removed."""
    indicators = _indicators_of(record)
    _announce(
        record.country_team_id,
        *_years_of(record),
        indicators=None if indicators is None else indicators | also,
    )


def _indicators_of(
    record: JointActivity | Contribution | IndicatorMeasurement,
) -> frozenset[int] | None:
    """The indicators whose counted values a workflow step on `record` can
    change: for a contribution, those its revisions report on (any of them may
    start or stop counting); for a measurement, its own. None: any."""
    if isinstance(record, Contribution):
        return frozenset(
            ResultValue.objects.filter(revision__contribution=record)
            .values_list("indicator_id", flat=True)
            .distinct()
        )
    if isinstance(record, IndicatorMeasurement):
        return frozenset({record.indicator_id})
    return None


def _years_of(record: JointActivity | Contribution | IndicatorMeasurement) -> tuple:
    """The years whose figures a workflow step on `record` can change."""
    if isinstance(record, Contribution):
        return (record.year,)
    if isinstance(record, IndicatorMeasurement):
        # A replacement may be for another year than the measurement it replaces,
        # whose year then loses (or regains) its value.
        replaced = record.supersedes.year if record.supersedes_id else record.year
        return tuple({record.year, replaced})
    return ()


def _require_comment(comment: str) -> None:
    if not comment.strip():
        raise ValidationError({"comment": _("Say what needs to change.")})


def _finish_step(
    record: JointActivity | Contribution | IndicatorMeasurement,
    *,
    action: str,
    actor: User | None,
    fields: Sequence[str] = (),
    comment: str = "",
) -> None:
    """Close a workflow step: bump the version, log it, tell reporting.

    `record` is saved with `fields` plus its version; the event names it by its
    kind (activity, contribution or measurement).
    """
    record.version += 1
    record.save(update_fields=[*fields, "version", "updated_at"])
    subject = _SUBJECTS[type(record)]
    _record(
        team_id=record.country_team_id,
        action=action,
        actor=actor,
        comment=comment,
        **{subject: record},
    )
    _announce_change(record)


def _record(
    *,
    team_id: int,
    action: str,
    actor: User | None,
    comment: str = "",
    changes: dict[str, Any] | None = None,
    **subject: Any,
) -> WorkflowEvent:
    return WorkflowEvent.objects.create(
        country_team_id=team_id,
        action=action,
        actor=actor,
        comment=comment,
        changes=changes or {},
        **subject,
    )


def _display(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _display_breakdown_part(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return sorted(str(v) for v in value)
    if isinstance(value, Decimal):
        # Fixed-point, so 100.00 reads "100" (not "1E+2") and equals input 100.
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, int | str | bool):
        return value
    return str(value)


def _display_breakdown_part(value: Any) -> Any:
    """Breakdowns are stored as text and given as numbers: compare amounts."""
    if isinstance(value, dict):
        return _display(value)
    if isinstance(value, bool):
        return value
    try:
        return _display(Decimal(str(value)))
    except ArithmeticError:
        return _display(value)


def _check_version(record: Any, expected_version: int | None, changes: dict) -> None:
    if expected_version is not None and record.version != expected_version:
        raise ConflictError(current_version=record.version, changes=changes)


def _clean_disaggregation(
    indicator: Indicator, disaggregation: dict[str, Any] | None
) -> dict[str, dict[str, str]]:
    """Validate the shape {dimension: {category: non-negative number}}."""
    cleaned: dict[str, dict[str, str]] = {}
    for dimension, parts in (disaggregation or {}).items():
        if dimension not in Dimension.values:
            raise ValidationError(
                {"disaggregation": _("Unknown dimension %(d)s.") % {"d": dimension}}
            )
        if not isinstance(parts, dict) or not parts:
            raise ValidationError(
                {
                    "disaggregation": _(
                        "Give %(d)s as categories with values, e.g. "
                        '{"female": 10, "male": 8}.'
                    )
                    % {"d": dimension}
                }
            )
        cleaned[dimension] = {}
        for category, raw in parts.items():
            try:
                number = Decimal(str(raw))
            except ArithmeticError:
                number = Decimal("NaN")
            if not number.is_finite() or number < 0:
                raise ValidationError(
                    {
                        "disaggregation": _(
                            "%(code)s %(d)s/%(c)s: %(v)r is not a non-negative number."
                        )
                        % {
                            "code": indicator.code,
                            "d": dimension,
                            "c": category,
                            "v": raw,
                        }
                    }
                )
            cleaned[dimension][str(category)] = str(number)
    return cleaned


def _active_framework(team: CountryTeam) -> CooperationFramework:
    framework = CooperationFramework.objects.active().filter(country_team=team).first()
    if framework is None:
        raise ValidationError(
            _("%(team)s has no active Cooperation Framework to log work against.")
            % {"team": team.name}
        )
    return framework


# --- joint activities -------------------------------------------------------------


def _validate_activity(
    team: CountryTeam, framework: CooperationFramework, data: ActivityData
) -> None:
    errors: dict[str, str] = {}
    team_agency_ids = set(team.team_agencies.values_list("agency_id", flat=True))
    agency_ids = {a.pk for a in data.agencies}
    if not data.title.strip():
        errors["title"] = _("Give the activity a title.")
    if len(agency_ids) < 2:
        errors["agencies"] = _("A joint activity involves two or more agencies.")
    elif data.agency.pk not in agency_ids:
        errors["agencies"] = _("The lead agency must be one of the agencies involved.")
    elif not agency_ids <= team_agency_ids:
        outside = sorted(a.code for a in data.agencies if a.pk not in team_agency_ids)
        errors["agencies"] = _("Not part of this country team: %(codes)s.") % {
            "codes": ", ".join(outside)
        }
    if not data.outputs:
        errors["outputs"] = _("Link at least one output.")
    elif any(o.framework_id != framework.pk for o in data.outputs):
        errors["outputs"] = _("Outputs must belong to the active framework.")
    if len(data.sdg_targets) > MAX_SDG_TARGETS:
        errors["sdg_targets"] = _("Tag at most %(max)d SDG targets.") % {
            "max": MAX_SDG_TARGETS
        }
    if any(r.country_team_id != team.pk for r in data.locations):
        errors["locations"] = _("Locations must be regions of this country.")
    if data.joint_programme and data.joint_programme.country_team_id != team.pk:
        errors["joint_programme"] = _("The joint programme belongs to another team.")
    unknown = set(data.target_groups) - set(TargetGroup.values)
    if unknown:
        errors["target_groups"] = _("Unknown target groups: %(g)s.") % {
            "g": ", ".join(sorted(unknown))
        }
    if data.end_date < data.start_date:
        errors["end_date"] = _("The end date is before the start date.")
    if data.implementation_status not in ImplementationStatus.values:
        errors["implementation_status"] = _("Unknown implementation status.")
    for marker in ("gender_marker", "human_rights_marker"):
        value = getattr(data, marker)
        if value is not None and not 0 <= value <= 3:
            errors[marker] = _("A marker is between 0 and 3.")
    if errors:
        raise ValidationError(errors)


def _activity_values(activity: JointActivity) -> dict[str, Any]:
    values = {f.name: getattr(activity, f.name) for f in fields(ActivityData)}
    for name in _ACTIVITY_M2M:
        values[name] = list(getattr(activity, name).all())
    values["joint_programme"] = activity.joint_programme
    values["agency"] = activity.agency
    return values


def _apply_activity(activity: JointActivity, data: ActivityData) -> None:
    for f in fields(ActivityData):
        if f.name not in _ACTIVITY_M2M:
            setattr(activity, f.name, getattr(data, f.name))
    activity.full_clean(
        exclude=["country_team", "framework", "agency", "joint_programme", "created_by"]
    )
    activity.save()
    for name in _ACTIVITY_M2M:
        getattr(activity, name).set(getattr(data, name))


def _require_own_agency(actor: User | None, team: CountryTeam, agency: Agency) -> None:
    if (
        actor is not None
        and not actor.is_superuser
        and agency.pk not in agency_ids_for(actor, team.pk)
    ):
        raise PermissionDenied(
            _("You can only log records for your own agency (%(agency)s is not).")
            % {"agency": agency.code}
        )


@transaction.atomic
def create_activity(
    *, actor: User | None, country_team: CountryTeam, data: ActivityData
) -> JointActivity:
    """Log a joint activity against the team's active framework, as a draft."""
    _require(
        actor,
        "frameworks.add_jointactivity",
        country_team,
        _("Only agency focal points of this team can log joint activities."),
    )
    _require_own_agency(actor, country_team, data.agency)
    framework = _active_framework(country_team)
    _validate_activity(country_team, framework, data)
    activity = JointActivity(
        country_team=country_team, framework=framework, created_by=actor
    )
    try:
        with transaction.atomic():
            _apply_activity(activity, data)
    except IntegrityError as exc:
        raise ValidationError(
            {"external_ref": _("An activity with this reference already exists.")}
        ) from exc
    _record(
        team_id=country_team.pk,
        action=WorkflowAction.CREATED,
        actor=actor,
        activity=activity,
    )
    _announce(country_team.pk)
    return activity


@transaction.atomic
def update_activity(
    *,
    actor: User | None,
    activity: JointActivity,
    data: ActivityData,
    expected_version: int | None,
) -> JointActivity:
    """Change an activity. A validated one goes back to draft as a new revision."""
    activity = JointActivity.objects.select_for_update().get(pk=activity.pk)
    before = {k: _display(v) for k, v in _activity_values(activity).items()}
    after = {f.name: _display(getattr(data, f.name)) for f in fields(ActivityData)}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    _require(
        actor,
        "frameworks.change_jointactivity",
        activity,
        _("You cannot change this activity now."),
    )
    _check_version(activity, expected_version, changes)
    _require_state(is_editable, activity, _("The activity awaits validation."))
    if data.agency.pk != activity.agency_id:
        raise ValidationError({"agency": _("The lead agency cannot be changed.")})
    _validate_activity(activity.country_team, activity.framework, data)
    if not changes:
        return activity
    reopened = activity.status == WorkflowStatus.VALIDATED
    if reopened:
        activity.status = WorkflowStatus.DRAFT
        activity.revision += 1
    activity.version += 1
    try:
        with transaction.atomic():
            _apply_activity(activity, data)
    except IntegrityError as exc:
        raise ValidationError(
            {"external_ref": _("An activity with this reference already exists.")}
        ) from exc
    _record(
        team_id=activity.country_team_id,
        action=WorkflowAction.REOPENED if reopened else WorkflowAction.EDITED,
        actor=actor,
        changes=changes,
        activity=activity,
    )
    _announce(activity.country_team_id)
    return activity


@transaction.atomic
def submit_activity(*, actor: User | None, activity: JointActivity) -> list[Issue]:
    """Submit for validation; refuse with the blocking issues. Returns warnings."""
    activity = JointActivity.objects.select_for_update().get(pk=activity.pk)
    _require(
        actor,
        "frameworks.submit_jointactivity",
        activity,
        _("You cannot submit this activity now."),
    )
    _require_state(is_submittable, activity, _("Only drafts can be submitted."))
    issues = check_activity(activity)
    if blocking(issues):
        raise QualityError(issues)
    activity.status = WorkflowStatus.SUBMITTED
    _finish_step(
        activity, action=WorkflowAction.SUBMITTED, actor=actor, fields=["status"]
    )
    notifications.notify_submitted(activity=activity)
    return issues


@transaction.atomic
def validate_activity(*, actor: User | None, activity: JointActivity) -> JointActivity:
    """Accept a submitted activity (RC office or RC of the team)."""
    activity = JointActivity.objects.select_for_update().get(pk=activity.pk)
    _require(
        actor,
        "frameworks.review_jointactivity",
        activity,
        _("Only the RC office can validate, and only submitted activities."),
    )
    _require_state(is_awaiting_review, activity, _("The activity is not submitted."))
    activity.status = WorkflowStatus.VALIDATED
    activity.validated_at = timezone.now()
    _finish_step(
        activity,
        action=WorkflowAction.VALIDATED,
        actor=actor,
        fields=["status", "validated_at"],
    )
    return activity


@transaction.atomic
def return_activity(
    *, actor: User | None, activity: JointActivity, comment: str
) -> JointActivity:
    """Send a submitted activity back to its agency with a comment."""
    activity = JointActivity.objects.select_for_update().get(pk=activity.pk)
    _require(
        actor,
        "frameworks.review_jointactivity",
        activity,
        _("Only the RC office can return, and only submitted activities."),
    )
    _require_state(is_awaiting_review, activity, _("The activity is not submitted."))
    _require_comment(comment)
    activity.status = WorkflowStatus.RETURNED
    _finish_step(
        activity,
        action=WorkflowAction.RETURNED,
        actor=actor,
        fields=["status"],
        comment=comment,
    )
    notifications.notify_returned(activity=activity, comment=comment)
    return activity


@transaction.atomic
def delete_activity(*, actor: User | None, activity: JointActivity) -> None:
    """Delete a never-validated activity with its never-validated contributions."""
    activity = JointActivity.objects.select_for_update().get(pk=activity.pk)
    _require(
        actor,
        "frameworks.delete_jointactivity",
        activity,
        _("Only drafts that were never validated can be deleted."),
    )
    _require_state(
        was_never_validated,
        activity,
        _("Only drafts that were never validated can be deleted."),
    )
    contributions = list(activity.contributions.select_related("current_revision"))
    if any(c.validated_revision_id for c in contributions):
        raise ValidationError(
            _("The activity has validated contributions and cannot be deleted.")
        )
    # Another agency's submitted share is waiting for the RC office; deleting the
    # activity would discard it without anyone having looked at it.
    if any(c.status == WorkflowStatus.SUBMITTED for c in contributions):
        raise ValidationError(
            _("Contributions to this activity await validation; it cannot be deleted.")
        )
    team_id = activity.country_team_id
    for contribution in contributions:
        _delete_contribution_rows(contribution)
    WorkflowEvent.objects.filter(activity=activity).delete()
    activity.delete()
    _announce(team_id)


# --- contributions ----------------------------------------------------------------


def _validate_figures(activity: JointActivity, figures: FiguresData) -> None:
    errors: dict[str, str] = {}
    for name in ("required", "available", "spent"):
        value = getattr(figures, name)
        if value is None or not Decimal(value).is_finite() or value < 0:
            errors[name] = _("Give a non-negative amount in USD.")
    if figures.reach is not None and figures.reach < 0:
        errors["reach"] = _("People reached cannot be negative.")
    allowed = set(
        Indicator.objects.filter(output__in=activity.outputs.all()).values_list(
            "pk", flat=True
        )
    )
    seen: set[int] = set()
    for result in figures.results:
        if result.indicator.pk not in allowed:
            errors["results"] = _(
                "%(code)s is not an indicator of the activity's outputs."
            ) % {"code": result.indicator.code}
        elif result.indicator.pk in seen:
            errors["results"] = _("%(code)s is reported twice.") % {
                "code": result.indicator.code
            }
        seen.add(result.indicator.pk)
        if result.denominator is not None and result.denominator <= 0:
            errors["results"] = _("%(code)s: the denominator must be above zero.") % {
                "code": result.indicator.code
            }
        if result.numerator is not None and result.numerator < 0:
            errors["results"] = _("%(code)s: the numerator cannot be negative.") % {
                "code": result.indicator.code
            }
    if errors:
        raise ValidationError(errors)


def _write_figures(revision: ContributionRevision, figures: FiguresData) -> None:
    for name in _FIGURE_FIELDS:
        setattr(revision, name, getattr(figures, name))
    revision.save()
    revision.results.all().delete()
    ResultValue.objects.bulk_create(
        ResultValue(
            revision=revision,
            indicator=r.indicator,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            disaggregation=_clean_disaggregation(r.indicator, r.disaggregation),
        )
        for r in figures.results
    )


def _results_display(results: Sequence[ResultValue | ResultData]) -> dict[str, Any]:
    # Every part of a result counts: a change to only the denominator or the
    # breakdown is a change, not a no-op.
    values: dict[str, Any] = {}
    for result in results:
        key = f"result {result.indicator.code}"
        values[key] = _display(
            result.value if result.value is not None else result.numerator
        )
        if result.value is not None and result.numerator is not None:
            values[f"{key} numerator"] = _display(result.numerator)
        if result.denominator is not None:
            values[f"{key} denominator"] = _display(result.denominator)
        if result.disaggregation:
            values[f"{key} disaggregation"] = _display(result.disaggregation)
    return values


def _figures_of(revision: ContributionRevision) -> dict[str, Any]:
    values = {name: _display(getattr(revision, name)) for name in _FIGURE_FIELDS}
    values.update(_results_display(list(revision.results.select_related("indicator"))))
    return values


def _figures_display(figures: FiguresData) -> dict[str, Any]:
    values = {name: _display(getattr(figures, name)) for name in _FIGURE_FIELDS}
    values.update(_results_display(figures.results))
    return values


@transaction.atomic
def create_contribution(
    *,
    actor: User | None,
    activity: JointActivity,
    agency: Agency,
    year: int,
    figures: FiguresData,
    external_ref: str = "",
) -> Contribution:
    """Record one agency's share of an activity for a year, as a draft."""
    _require(
        actor,
        "frameworks.add_contribution",
        activity,
        _("Only focal points of the agencies involved can add contributions."),
    )
    _require_own_agency(actor, activity.country_team, agency)
    if not activity.agencies.filter(pk=agency.pk).exists():
        raise ValidationError(
            {
                "agency": _("%(agency)s is not involved in this activity.")
                % {"agency": agency.code}
            }
        )
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("Give a year between 2000 and 2100.")})
    _validate_figures(activity, figures)
    if Contribution.objects.filter(
        activity=activity, agency=agency, year=year
    ).exists():
        raise ValidationError(
            {
                "year": _("%(agency)s already has a contribution for %(year)d.")
                % {"agency": agency.code, "year": year}
            }
        )
    if (
        external_ref
        and Contribution.objects.filter(
            country_team_id=activity.country_team_id, external_ref=external_ref
        ).exists()
    ):
        raise ValidationError(
            {"external_ref": _("A contribution with this reference already exists.")}
        )
    contribution = Contribution.objects.create(
        country_team_id=activity.country_team_id,
        activity=activity,
        agency=agency,
        year=year,
        external_ref=external_ref,
    )
    revision = ContributionRevision(contribution=contribution, number=1)
    _write_figures(revision, figures)
    contribution.current_revision = revision
    contribution.save(update_fields=["current_revision", "updated_at"])
    _record(
        team_id=contribution.country_team_id,
        action=WorkflowAction.CREATED,
        actor=actor,
        contribution=contribution,
    )
    _announce_change(contribution)
    return contribution


def _locked_contribution(contribution: Contribution) -> Contribution:
    return (
        Contribution.objects.select_for_update(of=("self",))
        .select_related("current_revision", "activity__framework")
        .get(pk=contribution.pk)
    )


@transaction.atomic
def update_contribution(
    *,
    actor: User | None,
    contribution: Contribution,
    figures: FiguresData,
    expected_version: int | None,
) -> Contribution:
    """Change the figures. Validated figures stay in force: a new revision holds
    the change until it is validated."""
    contribution = _locked_contribution(contribution)
    current = contribution.current_revision
    before = _figures_of(current)
    after = _figures_display(figures)
    changes = {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }
    _require(
        actor,
        "frameworks.change_contribution",
        contribution,
        _("You cannot change this contribution now."),
    )
    _check_version(contribution, expected_version, changes)
    _require_state(is_editable, contribution, _("The contribution awaits validation."))
    _validate_figures(contribution.activity, figures)
    if not changes:
        return contribution
    # An edit in place replaces the revision's values: their indicators too.
    touched = _indicators_of(contribution) or frozenset()
    reopened = current.status == WorkflowStatus.VALIDATED
    if reopened:
        current = ContributionRevision(
            contribution=contribution, number=current.number + 1
        )
    _write_figures(current, figures)
    contribution.current_revision = current
    contribution.version += 1
    contribution.save(update_fields=["current_revision", "version", "updated_at"])
    _record(
        team_id=contribution.country_team_id,
        action=WorkflowAction.REOPENED if reopened else WorkflowAction.EDITED,
        actor=actor,
        changes=changes,
        contribution=contribution,
    )
    _announce_change(contribution, also=touched)
    return contribution


@transaction.atomic
def submit_contribution(
    *, actor: User | None, contribution: Contribution
) -> list[Issue]:
    """Submit the current revision for validation. Returns the warnings."""
    contribution = _locked_contribution(contribution)
    _require(
        actor,
        "frameworks.submit_contribution",
        contribution,
        _("You cannot submit this contribution now."),
    )
    _require_state(is_submittable, contribution, _("Only drafts can be submitted."))
    revision = contribution.current_revision
    issues = check_revision(revision)
    if blocking(issues):
        raise QualityError(issues)
    revision.status = WorkflowStatus.SUBMITTED
    revision.submitted_at = timezone.now()
    revision.save(update_fields=["status", "submitted_at", "updated_at"])
    _finish_step(contribution, action=WorkflowAction.SUBMITTED, actor=actor)
    notifications.notify_submitted(contribution=contribution)
    return issues


@transaction.atomic
def validate_contribution(
    *, actor: User | None, contribution: Contribution
) -> Contribution:
    """Accept the submitted revision; it replaces the previously validated one."""
    contribution = _locked_contribution(contribution)
    _require(
        actor,
        "frameworks.review_contribution",
        contribution,
        _("Only the RC office can validate, and only submitted contributions."),
    )
    _require_state(
        is_awaiting_review, contribution, _("The contribution is not submitted.")
    )
    revision = contribution.current_revision
    previous_id = contribution.validated_revision_id
    if previous_id:
        ContributionRevision.objects.filter(pk=previous_id).update(
            status=WorkflowStatus.SUPERSEDED
        )
    revision.status = WorkflowStatus.VALIDATED
    revision.reviewed_at = timezone.now()
    revision.reviewed_by = actor
    revision.save(update_fields=["status", "reviewed_at", "reviewed_by", "updated_at"])
    contribution.validated_revision = revision
    _finish_step(
        contribution,
        action=WorkflowAction.VALIDATED,
        actor=actor,
        fields=["validated_revision"],
    )
    return contribution


@transaction.atomic
def return_contribution(
    *, actor: User | None, contribution: Contribution, comment: str
) -> Contribution:
    """Send the submitted revision back with a comment."""
    contribution = _locked_contribution(contribution)
    _require(
        actor,
        "frameworks.review_contribution",
        contribution,
        _("Only the RC office can return, and only submitted contributions."),
    )
    _require_state(
        is_awaiting_review, contribution, _("The contribution is not submitted.")
    )
    _require_comment(comment)
    revision = contribution.current_revision
    revision.status = WorkflowStatus.RETURNED
    revision.return_comment = comment
    revision.reviewed_at = timezone.now()
    revision.reviewed_by = actor
    revision.save(
        update_fields=[
            "status",
            "return_comment",
            "reviewed_at",
            "reviewed_by",
            "updated_at",
        ]
    )
    _finish_step(
        contribution, action=WorkflowAction.RETURNED, actor=actor, comment=comment
    )
    notifications.notify_returned(contribution=contribution, comment=comment)
    return contribution


def _delete_contribution_rows(contribution: Contribution) -> None:
    revision_ids = list(contribution.revisions.values_list("pk", flat=True))
    Contribution.objects.filter(pk=contribution.pk).update(current_revision=None)
    ResultValue.objects.filter(revision_id__in=revision_ids).delete()
    ContributionRevision.objects.filter(pk__in=revision_ids).delete()
    WorkflowEvent.objects.filter(contribution=contribution).delete()
    Contribution.objects.filter(pk=contribution.pk).delete()


@transaction.atomic
def delete_contribution(*, actor: User | None, contribution: Contribution) -> None:
    """Delete a contribution that was never validated."""
    contribution = _locked_contribution(contribution)
    _require(
        actor,
        "frameworks.delete_contribution",
        contribution,
        _("Only drafts that were never validated can be deleted."),
    )
    _require_state(
        was_never_validated,
        contribution,
        _("Only drafts that were never validated can be deleted."),
    )
    team_id, year = contribution.country_team_id, contribution.year
    touched = _indicators_of(contribution)
    _delete_contribution_rows(contribution)
    _announce(team_id, year, indicators=touched)


# --- indicator measurements -------------------------------------------------------


def _validate_measurement(indicator: Indicator, data: MeasurementData) -> dict:
    framework = indicator.framework
    if not framework.start_year - 10 <= data.year <= framework.end_year + 5:
        raise ValidationError(
            {
                "year": _("%(year)d is far outside the framework period.")
                % {"year": data.year}
            }
        )
    if data.denominator is not None and data.denominator <= 0:
        raise ValidationError({"denominator": _("The denominator must be above zero.")})
    return _clean_disaggregation(indicator, data.disaggregation)


@transaction.atomic
def record_measurement(
    *,
    actor: User | None,
    indicator: Indicator,
    data: MeasurementData,
    agency: Agency | None = None,
) -> IndicatorMeasurement:
    """Record an indicator value for a period, as a draft.

    Focal points record their agency's value for outputs it contributes to; the RC
    office may record team-wide values (no agency).
    """
    team = indicator.framework.country_team
    _require(
        actor,
        "frameworks.add_indicatormeasurement",
        team,
        _("Only focal points and the RC office of this team can record measurements."),
    )
    coordinator = (
        actor is None or actor.is_superuser or is_team_coordinator(actor, team)
    )
    if agency is None and not coordinator:
        raise ValidationError({"agency": _("Say which agency the value is from.")})
    if agency is not None and not coordinator:
        _require_own_agency(actor, team, agency)
        contributes = (
            indicator.output.contributing_agencies.filter(pk=agency.pk).exists()
            if indicator.output_id
            else indicator.outcome.lead_agencies.filter(pk=agency.pk).exists()
            or Output.objects.filter(
                outcome_id=indicator.outcome_id, contributing_agencies=agency
            ).exists()
        )
        if not contributes:
            raise PermissionDenied(
                _("%(agency)s does not contribute to %(code)s.")
                % {"agency": agency.code, "code": indicator.code}
            )
    disaggregation = _validate_measurement(indicator, data)
    measurement = IndicatorMeasurement.objects.create(
        country_team=team,
        indicator=indicator,
        agency=agency,
        year=data.year,
        period_label=data.period_label,
        value=data.value,
        numerator=data.numerator,
        denominator=data.denominator,
        text_value=data.text_value,
        disaggregation=disaggregation,
        source=data.source,
        created_by=actor,
    )
    _record(
        team_id=team.pk,
        action=WorkflowAction.CREATED,
        actor=actor,
        measurement=measurement,
    )
    _announce_change(measurement)
    return measurement


_MEASUREMENT_FIELDS = tuple(f.name for f in fields(MeasurementData))


@transaction.atomic
def update_measurement(
    *,
    actor: User | None,
    measurement: IndicatorMeasurement,
    data: MeasurementData,
    expected_version: int | None,
) -> IndicatorMeasurement:
    """Change a measurement. A validated one stays in force: the change is a new
    draft measurement that supersedes it once validated."""
    measurement = IndicatorMeasurement.objects.select_for_update().get(
        pk=measurement.pk
    )
    before = {n: _display(getattr(measurement, n)) for n in _MEASUREMENT_FIELDS}
    after = {n: _display(getattr(data, n)) for n in _MEASUREMENT_FIELDS}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    _require(
        actor,
        "frameworks.change_indicatormeasurement",
        measurement,
        _("You cannot change this measurement now."),
    )
    _check_version(measurement, expected_version, changes)
    _require_state(is_editable, measurement, _("The measurement awaits validation."))
    disaggregation = _validate_measurement(measurement.indicator, data)
    if not changes:
        return measurement
    before_year = measurement.year
    target = measurement
    if measurement.status == WorkflowStatus.VALIDATED:
        pending = IndicatorMeasurement.objects.filter(supersedes=measurement).first()
        target = pending or IndicatorMeasurement(
            country_team_id=measurement.country_team_id,
            indicator_id=measurement.indicator_id,
            agency_id=measurement.agency_id,
            supersedes=measurement,
            created_by=actor,
        )
        if target.status not in EDITABLE_STATUSES:
            raise ValidationError(_("A change to this measurement awaits validation."))
    for name in _MEASUREMENT_FIELDS:
        setattr(target, name, getattr(data, name))
    target.disaggregation = disaggregation
    target.version += 1 if target.pk else 0
    target.save()
    if target is not measurement:
        measurement.version += 1
        measurement.save(update_fields=["version", "updated_at"])
    _record(
        team_id=measurement.country_team_id,
        action=WorkflowAction.REOPENED
        if target is not measurement
        else WorkflowAction.EDITED,
        actor=actor,
        changes=changes,
        measurement=target,
    )
    # The year may have changed: both the old and the new one are touched.
    _announce(
        measurement.country_team_id,
        *{before_year, target.year},
        indicators=_indicators_of(measurement),
    )
    return target


@transaction.atomic
def submit_measurement(
    *, actor: User | None, measurement: IndicatorMeasurement
) -> list[Issue]:
    """Submit a measurement for validation. Returns the warnings."""
    measurement = IndicatorMeasurement.objects.select_for_update().get(
        pk=measurement.pk
    )
    _require(
        actor,
        "frameworks.submit_indicatormeasurement",
        measurement,
        _("You cannot submit this measurement now."),
    )
    _require_state(is_submittable, measurement, _("Only drafts can be submitted."))
    issues = check_measurement(measurement)
    if blocking(issues):
        raise QualityError(issues)
    measurement.status = WorkflowStatus.SUBMITTED
    _finish_step(
        measurement, action=WorkflowAction.SUBMITTED, actor=actor, fields=["status"]
    )
    notifications.notify_submitted(measurement=measurement)
    return issues


@transaction.atomic
def validate_measurement(
    *, actor: User | None, measurement: IndicatorMeasurement
) -> IndicatorMeasurement:
    """Accept a submitted measurement; it supersedes the one it replaces."""
    measurement = IndicatorMeasurement.objects.select_for_update().get(
        pk=measurement.pk
    )
    _require(
        actor,
        "frameworks.review_indicatormeasurement",
        measurement,
        _("Only the RC office can validate, and only submitted measurements."),
    )
    _require_state(
        is_awaiting_review, measurement, _("The measurement is not submitted.")
    )
    if measurement.supersedes_id:
        IndicatorMeasurement.objects.filter(pk=measurement.supersedes_id).update(
            status=WorkflowStatus.SUPERSEDED
        )
    measurement.status = WorkflowStatus.VALIDATED
    measurement.validated_at = timezone.now()
    _finish_step(
        measurement,
        action=WorkflowAction.VALIDATED,
        actor=actor,
        fields=["status", "validated_at"],
    )
    return measurement


@transaction.atomic
def return_measurement(
    *, actor: User | None, measurement: IndicatorMeasurement, comment: str
) -> IndicatorMeasurement:
    """Send a submitted measurement back with a comment."""
    measurement = IndicatorMeasurement.objects.select_for_update().get(
        pk=measurement.pk
    )
    _require(
        actor,
        "frameworks.review_indicatormeasurement",
        measurement,
        _("Only the RC office can return, and only submitted measurements."),
    )
    _require_state(
        is_awaiting_review, measurement, _("The measurement is not submitted.")
    )
    _require_comment(comment)
    measurement.status = WorkflowStatus.RETURNED
    measurement.return_comment = comment
    _finish_step(
        measurement,
        action=WorkflowAction.RETURNED,
        actor=actor,
        fields=["status", "return_comment"],
        comment=comment,
    )
    notifications.notify_returned(measurement=measurement, comment=comment)
    return measurement


@transaction.atomic
def delete_measurement(
    *, actor: User | None, measurement: IndicatorMeasurement
) -> None:
    """Delete a measurement that was never validated."""
    measurement = IndicatorMeasurement.objects.select_for_update().get(
        pk=measurement.pk
    )
    _require(
        actor,
        "frameworks.delete_indicatormeasurement",
        measurement,
        _("Only drafts that were never validated can be deleted."),
    )
    _require_state(
        was_never_validated,
        measurement,
        _("Only drafts that were never validated can be deleted."),
    )
    team_id, years = measurement.country_team_id, _years_of(measurement)
    indicators = _indicators_of(measurement)
    WorkflowEvent.objects.filter(measurement=measurement).delete()
    measurement.delete()
    _announce(team_id, *years, indicators=indicators)
