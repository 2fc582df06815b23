"""Reads of frameworks data: results frameworks, joint programmes, SDGs, and the
joint work logged against them (activities, contributions, measurements)."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import (
    Case,
    Count,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.urls import reverse
from django.utils.translation import gettext as _

from coordination.models import (
    COORDINATOR_ROLES,
    AdminRegion,
    Agency,
    CountryTeam,
    Membership,
    Role,
)
from coordination.permissions import agency_ids_for, roles_of
from frameworks.models import (
    EDITABLE_STATUSES,
    CommonChapterArea,
    CommonChapterCommitment,
    Contribution,
    ContributionRevision,
    CooperationFramework,
    FrameworkStatus,
    Indicator,
    IndicatorMeasurement,
    JointActivity,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    ResultValue,
    SdgGoal,
    SdgIndicator,
    SdgTarget,
    StrategicPriority,
    TargetGroup,
    WorkflowAction,
    WorkflowEvent,
    WorkflowStatus,
)
from frameworks.quality import Issue, check_activity, check_revision

if TYPE_CHECKING:
    from coordination.models import User


@dataclass(frozen=True)
class PriorityBranch:
    """A strategic priority with its outcomes; `priority` is None for loose ones."""

    priority: StrategicPriority | None
    outcomes: list[Outcome]


@dataclass(frozen=True)
class FrameworkTree:
    branches: list[PriorityBranch]
    outcome_count: int
    output_count: int
    indicator_count: int


@dataclass(frozen=True)
class ReferenceDataCounts:
    goals: int
    targets: int
    indicators: int
    common_chapter_areas: int

    @property
    def is_loaded(self) -> bool:
        return self.goals == 17 and self.targets >= 169 and self.indicators > 0


@dataclass(frozen=True)
class AgencyContribution:
    """What one agency contributes to in one team (a focal point's desk)."""

    membership: Membership
    outputs: list[Output]
    participations: list[JointProgrammeParticipant]

    @property
    def budget_share(self) -> Decimal:
        return sum((p.budget_share for p in self.participations), Decimal("0"))


def list_frameworks_for_team(*, team: CountryTeam) -> QuerySet[CooperationFramework]:
    """Return the team's frameworks, newest first, with outcome and output counts."""
    return (
        CooperationFramework.objects.filter(country_team=team)
        .select_related("signed_off_by")
        .annotate(
            outcome_count=Count("outcomes", distinct=True),
            output_count=Count("outputs", distinct=True),
        )
        .order_by("-start_year")
    )


def get_framework_for_team(
    *, team: CountryTeam, pk: int
) -> CooperationFramework | None:
    """Return one framework of the team with its whole results tree prefetched."""
    return (
        CooperationFramework.objects.filter(country_team=team, pk=pk)
        .select_related("signed_off_by")
        .prefetch_related(
            "priorities",
            Prefetch(
                "outcomes",
                queryset=Outcome.objects.prefetch_related(
                    Prefetch(
                        "sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")
                    ),
                    "lead_agencies",
                    Prefetch("indicators", queryset=Indicator.objects.order_by("code")),
                    Prefetch(
                        "outputs",
                        queryset=Output.objects.order_by("code").prefetch_related(
                            "contributing_agencies",
                            Prefetch(
                                "indicators",
                                queryset=Indicator.objects.order_by("code"),
                            ),
                        ),
                    ),
                ),
            ),
        )
        .first()
    )


def build_framework_tree(framework: CooperationFramework) -> FrameworkTree:
    """Arrange a framework from `get_framework_for_team` as priority → outcome.

    Works on the prefetched rows only; outcomes without a priority come last.
    """
    by_priority: dict[int | None, list[Outcome]] = defaultdict(list)
    output_count = indicator_count = 0
    for outcome in framework.outcomes.all():
        by_priority[outcome.strategic_priority_id].append(outcome)
        indicator_count += len(outcome.indicators.all())
        for output in outcome.outputs.all():
            output_count += 1
            indicator_count += len(output.indicators.all())
    branches = [
        PriorityBranch(priority=p, outcomes=by_priority.get(p.pk, []))
        for p in framework.priorities.all()
    ]
    if by_priority.get(None):
        branches.append(PriorityBranch(priority=None, outcomes=by_priority[None]))
    return FrameworkTree(
        branches=branches,
        outcome_count=len(framework.outcomes.all()),
        output_count=output_count,
        indicator_count=indicator_count,
    )


def list_programmes_for_team(*, team: CountryTeam) -> QuerySet[JointProgramme]:
    """Return the team's joint programmes with total budget and participants."""
    return (
        JointProgramme.objects.filter(country_team=team)
        .select_related("convening_agency")
        .with_budget()
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=JointProgrammeParticipant.objects.select_related("agency"),
            )
        )
        .order_by("-start_date", "title")
    )


def get_programme_for_team(*, team: CountryTeam, pk: int) -> JointProgramme | None:
    """Return one joint programme of the team with participants, outcomes, targets."""
    return (
        JointProgramme.objects.filter(country_team=team, pk=pk)
        .select_related("convening_agency")
        .with_budget()
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=JointProgrammeParticipant.objects.select_related(
                    "agency"
                ).order_by("-budget_share", "agency__code"),
            ),
            Prefetch(
                "outcomes",
                queryset=Outcome.objects.select_related("framework").order_by(
                    "framework__start_year", "code"
                ),
            ),
            Prefetch("sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")),
        )
        .first()
    )


def list_commitments_for_team(
    *, team: CountryTeam
) -> QuerySet[CommonChapterCommitment]:
    """Return the team's common-chapter commitments in area order, with agencies."""
    return (
        CommonChapterCommitment.objects.for_team(team)
        .select_related("area")
        .prefetch_related("agencies")
        .order_by("area__position", "-year", "title")
    )


def list_sdg_goals() -> QuerySet[SdgGoal]:
    """Return the 17 goals with their targets (two queries)."""
    return SdgGoal.objects.prefetch_related(
        Prefetch("targets", queryset=SdgTarget.objects.order_by("sort_key"))
    ).order_by("number")


def count_reference_data() -> ReferenceDataCounts:
    """Return how much SDG and common-chapter reference data is loaded."""
    return ReferenceDataCounts(
        goals=SdgGoal.objects.count(),
        targets=SdgTarget.objects.count(),
        indicators=SdgIndicator.objects.count(),
        common_chapter_areas=CommonChapterArea.objects.count(),
    )


def count_collective_outcomes(*, team_ids: Iterable[int] | None = None) -> int:
    """Return how many collective outcomes the active frameworks hold."""
    outcomes = Outcome.objects.collective().filter(
        framework__status=FrameworkStatus.ACTIVE
    )
    if team_ids is not None:
        outcomes = outcomes.filter(framework__country_team_id__in=team_ids)
    return outcomes.count()


def list_agency_contributions(
    *, memberships: Iterable[Membership]
) -> list[AgencyContribution]:
    """Return, per focal-point membership, its agency's outputs and programmes.

    Outputs come from each team's active framework. Two queries whatever the number
    of memberships: rows for all (team, agency) pairs are loaded at once and sorted
    out here.
    """
    memberships = [m for m in memberships if m.agency_id]
    if not memberships:
        return []
    team_ids = {m.country_team_id for m in memberships}
    agency_ids = {m.agency_id for m in memberships}

    outputs_by_pair: dict[tuple[int, int], list[Output]] = defaultdict(list)
    links = (
        Output.contributing_agencies.through.objects.filter(
            agency_id__in=agency_ids,
            output__framework__country_team_id__in=team_ids,
            output__framework__status=FrameworkStatus.ACTIVE,
        )
        .select_related("output__outcome", "output__framework")
        .order_by("output__code")
    )
    for link in links:
        pair = (link.output.framework.country_team_id, link.agency_id)
        outputs_by_pair[pair].append(link.output)

    shares_by_pair: dict[tuple[int, int], list[JointProgrammeParticipant]] = (
        defaultdict(list)
    )
    programme_total = (
        JointProgrammeParticipant.objects.filter(programme=OuterRef("programme"))
        .values("programme")
        .annotate(total=Sum("budget_share"))
        .values("total")
    )
    participations = (
        JointProgrammeParticipant.objects.filter(
            agency_id__in=agency_ids, programme__country_team_id__in=team_ids
        )
        .select_related("programme", "programme__convening_agency")
        .annotate(programme_total=Subquery(programme_total))
        .order_by("programme__title")
    )
    for participation in participations:
        pair = (participation.programme.country_team_id, participation.agency_id)
        shares_by_pair[pair].append(participation)

    return [
        AgencyContribution(
            membership=m,
            outputs=outputs_by_pair.get((m.country_team_id, m.agency_id), []),
            participations=shares_by_pair.get((m.country_team_id, m.agency_id), []),
        )
        for m in memberships
    ]


# --- joint work: activities, contributions, measurements ---------------------------

ACTIVITY_SORTS: dict[str, tuple[str, ...]] = {
    "title": ("title", "pk"),
    "-title": ("-title", "-pk"),
    "start": ("start_date", "title", "pk"),
    "-start": ("-start_date", "title", "pk"),
    "status": ("status_rank", "title", "pk"),
    "-status": ("-status_rank", "title", "pk"),
    "updated": ("updated_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
}
DEFAULT_ACTIVITY_SORT = "-updated"

# Sorting by status follows the workflow, not the alphabet of the stored codes.
_STATUS_RANK = Case(
    *(
        When(status=status, then=Value(rank))
        for rank, status in enumerate(
            (
                WorkflowStatus.DRAFT,
                WorkflowStatus.RETURNED,
                WorkflowStatus.SUBMITTED,
                WorkflowStatus.VALIDATED,
                WorkflowStatus.SUPERSEDED,
            )
        )
    ),
    default=Value(9),
)


@dataclass(frozen=True)
class ActivityFilters:
    """What the activity list is narrowed to; ids are checked against the team by
    the query itself, so a foreign id only ever yields an empty list."""

    q: str = ""
    framework: int | None = None
    outcome: int | None = None
    output: int | None = None
    agency: int | None = None
    status: str = ""
    year: int | None = None
    sdg_goal: int | None = None
    area: int | None = None
    sort: str = DEFAULT_ACTIVITY_SORT

    @property
    def is_filtered(self) -> bool:
        return any(
            (
                self.q,
                self.framework,
                self.outcome,
                self.output,
                self.agency,
                self.status,
                self.year,
                self.sdg_goal,
                self.area,
            )
        )


@dataclass(frozen=True)
class ActivityFilterOptions:
    frameworks: list[CooperationFramework]
    outcomes: list[Outcome]
    outputs: list[Output]
    agencies: list[Agency]
    goals: list[SdgGoal]
    areas: list[CommonChapterArea]
    years: list[int]


def list_activities_for_team(
    *, team: CountryTeam, filters: ActivityFilters
) -> QuerySet[JointActivity]:
    """Return the team's activities matching the filters, ready for the list.

    Many-to-many filters go through `pk__in` subqueries so that no row appears
    twice and the counts below are not multiplied by the joins.
    """
    activities = JointActivity.objects.for_team(team)
    if filters.q:
        activities = activities.filter(
            Q(title__icontains=filters.q) | Q(description__icontains=filters.q)
        )
    if filters.framework:
        activities = activities.filter(framework_id=filters.framework)
    if filters.status:
        activities = activities.filter(status=filters.status)
    if filters.year:
        activities = activities.filter(
            start_date__year__lte=filters.year, end_date__year__gte=filters.year
        )
    linked = JointActivity.objects.for_team(team)
    if filters.outcome:
        activities = activities.filter(
            pk__in=linked.filter(outputs__outcome_id=filters.outcome).values("pk")
        )
    if filters.output:
        activities = activities.filter(
            pk__in=linked.filter(outputs=filters.output).values("pk")
        )
    if filters.agency:
        activities = activities.filter(
            Q(agency_id=filters.agency)
            | Q(pk__in=linked.filter(agencies=filters.agency).values("pk"))
        )
    if filters.sdg_goal:
        activities = activities.filter(
            pk__in=linked.filter(sdg_targets__goal_id=filters.sdg_goal).values("pk")
        )
    if filters.area:
        activities = activities.filter(
            pk__in=linked.filter(common_chapter_areas=filters.area).values("pk")
        )
    ordering = ACTIVITY_SORTS.get(filters.sort, ACTIVITY_SORTS[DEFAULT_ACTIVITY_SORT])
    return (
        activities.select_related("agency", "framework", "joint_programme")
        .prefetch_related(
            Prefetch("agencies", queryset=Agency.objects.order_by("code")),
            Prefetch("outputs", queryset=Output.objects.order_by("code")),
            Prefetch("sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")),
        )
        .annotate(
            contribution_count=Count("contributions", distinct=True),
            required_total=Sum("contributions__current_revision__required"),
            status_rank=_STATUS_RANK,
        )
        .order_by(*ordering)
    )


def get_activity_filter_options(*, team: CountryTeam) -> ActivityFilterOptions:
    """Return the choices of the activity list's filters (six queries)."""
    frameworks = list(
        CooperationFramework.objects.filter(country_team=team).order_by("-start_year")
    )
    years = sorted({year for f in frameworks for year in f.years}, reverse=True)
    return ActivityFilterOptions(
        frameworks=frameworks,
        outcomes=list(
            Outcome.objects.filter(framework__country_team=team).order_by(
                "-framework__start_year", "code"
            )
        ),
        outputs=list(
            Output.objects.filter(framework__country_team=team).order_by(
                "-framework__start_year", "code"
            )
        ),
        agencies=list(
            Agency.objects.filter(team_agencies__country_team=team).order_by("code")
        ),
        goals=list(SdgGoal.objects.order_by("number")),
        areas=list(CommonChapterArea.objects.order_by("position")),
        years=years,
    )


def _contributions_with_figures() -> QuerySet[Contribution]:
    results = ResultValue.objects.select_related("indicator").order_by(
        "indicator__code"
    )
    return Contribution.objects.select_related(
        "agency",
        "current_revision",
        "current_revision__reviewed_by",
        "validated_revision",
    ).prefetch_related(
        Prefetch("current_revision__results", queryset=results),
        Prefetch("validated_revision__results", queryset=results),
    )


def get_activity_for_team(*, team: CountryTeam, pk: int) -> JointActivity | None:
    """Return one activity of the team with everything its page shows.

    Contributions point back at this very activity object, and their revisions at
    their contribution, so the quality checks run without another query.
    """
    activity = (
        JointActivity.objects.for_team(team)
        .filter(pk=pk)
        .select_related(
            "country_team",
            "agency",
            "framework__country_team",
            "joint_programme",
            "created_by",
        )
        .prefetch_related(
            Prefetch("agencies", queryset=Agency.objects.order_by("code")),
            Prefetch(
                "outputs",
                queryset=Output.objects.select_related("outcome")
                .order_by("code")
                .prefetch_related(
                    Prefetch("indicators", queryset=Indicator.objects.order_by("code"))
                ),
            ),
            Prefetch("sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")),
            Prefetch(
                "common_chapter_areas",
                queryset=CommonChapterArea.objects.order_by("position"),
            ),
            Prefetch("locations", queryset=AdminRegion.objects.order_by("name")),
            Prefetch(
                "contributions",
                queryset=_contributions_with_figures().order_by("year", "agency__code"),
            ),
        )
        .first()
    )
    if activity is not None:
        for contribution in activity.contributions.all():
            _link_contribution(contribution, activity)
    return activity


def _link_contribution(contribution: Contribution, activity: JointActivity) -> None:
    contribution.activity = activity
    for revision in (contribution.current_revision, contribution.validated_revision):
        if revision is not None:
            revision.contribution = contribution


def get_contribution_for_team(*, team: CountryTeam, pk: int) -> Contribution | None:
    """Return one contribution of the team with its activity, outputs' indicators
    and current figures."""
    contribution = (
        _contributions_with_figures()
        .filter(country_team=team, pk=pk)
        .select_related("activity", "activity__framework", "activity__agency")
        .first()
    )
    if contribution is None:
        return None
    activity = (
        JointActivity.objects.filter(pk=contribution.activity_id)
        .select_related("framework", "agency", "country_team")
        .prefetch_related(
            Prefetch("agencies", queryset=Agency.objects.order_by("code")),
            Prefetch(
                "outputs",
                queryset=Output.objects.order_by("code").prefetch_related(
                    Prefetch("indicators", queryset=Indicator.objects.order_by("code"))
                ),
            ),
            Prefetch("locations", queryset=AdminRegion.objects.order_by("name")),
        )
        .get()
    )
    _link_contribution(contribution, activity)
    return contribution


def list_output_indicators(activity: JointActivity) -> list[Indicator]:
    """Return the indicators of the activity's outputs (prefetched), by code."""
    indicators = {
        indicator.pk: indicator
        for output in activity.outputs.all()
        for indicator in output.indicators.all()
    }
    return sorted(indicators.values(), key=lambda i: i.code)


@dataclass(frozen=True)
class ContributionQuality:
    contribution: Contribution
    issues: list[Issue]


@dataclass(frozen=True)
class ActivityQuality:
    issues: list[Issue]
    contributions: list[ContributionQuality]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_blocking]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_blocking]

    @property
    def is_clean(self) -> bool:
        return not self.issues and not any(c.issues for c in self.contributions)


def check_activity_quality(activity: JointActivity) -> ActivityQuality:
    """Run the data-quality checks on an activity from `get_activity_for_team` and
    on the figures of its contributions that are still being worked on."""
    contributions = [
        ContributionQuality(
            contribution=c,
            issues=check_revision(c.current_revision)
            if c.current_revision is not None
            and c.current_revision.status in EDITABLE_STATUSES
            else [],
        )
        for c in activity.contributions.all()
    ]
    return ActivityQuality(issues=check_activity(activity), contributions=contributions)


@dataclass(frozen=True)
class Funding:
    required: Decimal
    available: Decimal
    spent: Decimal

    @property
    def gap(self) -> Decimal:
        return self.required - self.available


@dataclass(frozen=True)
class ActivityFunding:
    """Money of an activity's contributions: the figures being worked on, and the
    validated figures in force (what dashboards count)."""

    current: Funding
    validated: Funding
    validated_count: int


def summarize_funding(activity: JointActivity) -> ActivityFunding:
    """Add up the prefetched contributions of an activity from
    `get_activity_for_team`."""

    def total(revisions: list[ContributionRevision]) -> Funding:
        return Funding(
            required=sum((r.required for r in revisions), Decimal("0")),
            available=sum((r.available for r in revisions), Decimal("0")),
            spent=sum((r.spent for r in revisions), Decimal("0")),
        )

    contributions = list(activity.contributions.all())
    validated = [c.validated_revision for c in contributions if c.validated_revision]
    return ActivityFunding(
        current=total(
            [c.current_revision for c in contributions if c.current_revision]
        ),
        validated=total(validated),
        validated_count=len(validated),
    )


# --- the timeline ---------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class TimelineEntry:
    event: WorkflowEvent
    subject: str
    changes: list[Change]


def _choice_labels() -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {
        "target_groups": {k: str(v) for k, v in TargetGroup.choices}
    }
    for model in (JointActivity, ContributionRevision, IndicatorMeasurement):
        for model_field in model._meta.concrete_fields:
            if model_field.choices:
                labels.setdefault(
                    model_field.name,
                    {str(k): str(v) for k, v in model_field.flatchoices},
                )
    return labels


def _field_label(name: str) -> str:
    for model in (JointActivity, ContributionRevision, IndicatorMeasurement):
        try:
            return str(model._meta.get_field(name).verbose_name).capitalize()
        except FieldDoesNotExist:
            continue
    if name == "agency":
        return str(_("Lead agency"))
    if name == "strategic_plan_outputs":
        return str(_("Strategic-plan outputs"))
    if name.startswith("result "):
        return str(_("Result %(rest)s")) % {"rest": name.removeprefix("result ")}
    return name.replace("_", " ").capitalize()


def _readable(value: Any, choices: dict[str, str]) -> str:
    if value is None or value in ("", [], {}):
        return "—"
    if isinstance(value, list):
        return ", ".join(choices.get(str(v), str(v)) for v in value)
    if isinstance(value, dict):
        # A breakdown: {"sex": {"female": "60", "male": "40"}}.
        return "; ".join(
            f"{key}: " + ", ".join(f"{c} {v}" for c, v in part.items())
            if isinstance(part, dict)
            else f"{key} {part}"
            for key, part in value.items()
        )
    return choices.get(str(value), str(value))


def describe_changes(changes: dict[str, Any]) -> list[Change]:
    """Turn a {field: [old, new]} record into labelled, readable lines."""
    labels = _choice_labels()
    return [
        Change(
            label=_field_label(name),
            old=_readable(pair[0], labels.get(name, {})),
            new=_readable(pair[1], labels.get(name, {})),
        )
        for name, pair in changes.items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]


def list_activity_timeline(*, activity: JointActivity) -> list[TimelineEntry]:
    """Return the events of an activity and of its contributions, newest first."""
    events = (
        WorkflowEvent.objects.filter(
            Q(activity=activity) | Q(contribution__activity=activity)
        )
        .select_related("actor", "contribution", "contribution__agency")
        .order_by("-at", "-pk")
    )
    entries = []
    for event in events:
        if event.contribution_id:
            subject = _("%(agency)s contribution %(year)d") % {
                "agency": event.contribution.agency.code,
                "year": event.contribution.year,
            }
        else:
            subject = _("Activity")
        entries.append(
            TimelineEntry(
                event=event, subject=subject, changes=describe_changes(event.changes)
            )
        )
    return entries


# --- indicators and measurements ---------------------------------------------------


def get_indicator_for_team(*, team: CountryTeam, pk: int) -> Indicator | None:
    """Return one indicator of the team's frameworks with its place in the tree."""
    return (
        Indicator.objects.filter(framework__country_team=team, pk=pk)
        .select_related(
            "framework__country_team",
            "output",
            "output__outcome",
            "outcome",
            "sdg_indicator",
        )
        .first()
    )


def list_measurements_for_indicator(
    *, indicator: Indicator
) -> QuerySet[IndicatorMeasurement]:
    """Return the indicator's measurements, latest period first."""
    return (
        IndicatorMeasurement.objects.filter(indicator=indicator)
        .select_related("agency", "created_by", "supersedes")
        .order_by("-year", "-period_label", "agency__code", "-pk")
    )


def get_measurement_for_team(
    *, team: CountryTeam, pk: int
) -> IndicatorMeasurement | None:
    """Return one measurement of the team with its indicator and framework."""
    return (
        IndicatorMeasurement.objects.filter(country_team=team, pk=pk)
        .select_related(
            "agency",
            "indicator",
            "indicator__framework__country_team",
            "indicator__output",
            "indicator__outcome",
        )
        .first()
    )


def list_measuring_agencies(*, indicator: Indicator) -> QuerySet[Agency]:
    """Return the agencies that may report on the indicator: the output's
    contributors, or for an outcome its lead agencies and its outputs' contributors."""
    if indicator.output_id:
        return Agency.objects.filter(contributed_outputs=indicator.output_id)
    return Agency.objects.filter(
        Q(led_outcomes=indicator.outcome_id)
        | Q(contributed_outputs__outcome_id=indicator.outcome_id)
    ).distinct()


# --- the inbox: my work -----------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    """One record on someone's desk, with where to act on it."""

    kind: str
    team: CountryTeam
    title: str
    agency: str
    status: str
    status_label: str
    at: datetime
    url: str
    comment: str = ""


@dataclass
class MyWork:
    drafts: list[WorkItem] = field(default_factory=list)
    returned: list[WorkItem] = field(default_factory=list)
    submitted: list[WorkItem] = field(default_factory=list)
    to_validate: list[WorkItem] = field(default_factory=list)
    is_focal_point: bool = False
    is_coordinator: bool = False

    @property
    def action_count(self) -> int:
        return len(self.returned) + len(self.to_validate)


_OPEN_STATUSES = (
    WorkflowStatus.DRAFT,
    WorkflowStatus.RETURNED,
    WorkflowStatus.SUBMITTED,
)


def _pairs_filter(pairs: Iterable[tuple[int, int]]) -> Q:
    """Match rows of any of the (team, agency) pairs."""
    return reduce(
        operator.or_,
        (Q(country_team_id=team, agency_id=agency) for team, agency in pairs),
        Q(pk__in=[]),
    )


def _activity_item(activity: JointActivity) -> WorkItem:
    return WorkItem(
        kind="activity",
        team=activity.country_team,
        title=activity.title,
        agency=activity.agency.code,
        status=activity.status,
        status_label=activity.get_status_display(),
        at=activity.updated_at,
        url=reverse(
            "frameworks:activity_detail",
            kwargs={"code": activity.country_team.code, "pk": activity.pk},
        ),
        comment=getattr(activity, "return_comment", "") or "",
    )


def _contribution_item(contribution: Contribution) -> WorkItem:
    revision = contribution.current_revision
    return WorkItem(
        kind="contribution",
        team=contribution.country_team,
        title=_("%(year)d contribution to “%(title)s”")
        % {"year": contribution.year, "title": contribution.activity.title},
        agency=contribution.agency.code,
        status=revision.status,
        status_label=revision.get_status_display(),
        at=revision.submitted_at
        if revision.status == WorkflowStatus.SUBMITTED and revision.submitted_at
        else revision.updated_at,
        url=reverse(
            "frameworks:activity_detail",
            kwargs={
                "code": contribution.country_team.code,
                "pk": contribution.activity_id,
            },
        )
        + f"#contribution-{contribution.pk}",
        comment=revision.return_comment
        if revision.status == WorkflowStatus.RETURNED
        else "",
    )


def _measurement_item(measurement: IndicatorMeasurement) -> WorkItem:
    period = f"{measurement.year} {measurement.period_label}".strip()
    return WorkItem(
        kind="measurement",
        team=measurement.country_team,
        title=_("%(code)s measurement for %(period)s")
        % {"code": measurement.indicator.code, "period": period},
        agency=measurement.agency.code if measurement.agency else _("Team-wide"),
        status=measurement.status,
        status_label=measurement.get_status_display(),
        at=measurement.updated_at,
        url=reverse(
            "frameworks:indicator_detail",
            kwargs={
                "code": measurement.country_team.code,
                "pk": measurement.indicator_id,
            },
        )
        + f"#measurement-{measurement.pk}",
        comment=measurement.return_comment
        if measurement.status == WorkflowStatus.RETURNED
        else "",
    )


def _last_return_comment() -> Subquery:
    return Subquery(
        WorkflowEvent.objects.filter(
            activity=OuterRef("pk"), action=WorkflowAction.RETURNED
        )
        .order_by("-at", "-pk")
        .values("comment")[:1]
    )


def _sort_items(items: list[WorkItem], *, oldest_first: bool) -> list[WorkItem]:
    return sorted(items, key=lambda i: i.at, reverse=not oldest_first)


def get_work_for_user(*, user: User) -> MyWork:
    """Return what waits on the user's desk, per role.

    Focal points: their agencies' drafts, returned records (with the comment) and
    submissions still waiting. RC and RC office: submissions awaiting validation
    in their teams, oldest first. Three queries per role, whatever the numbers.
    """
    work = MyWork()
    roles = roles_of(user)
    pairs = {
        (r.country_team_id, r.agency_id)
        for r in roles
        if r.role == Role.FOCAL_POINT and r.agency_id
    }
    coordinated = {r.country_team_id for r in roles if r.role in COORDINATOR_ROLES}
    if pairs:
        work.is_focal_point = True
        items = [
            _activity_item(a)
            for a in JointActivity.objects.filter(
                _pairs_filter(pairs), status__in=_OPEN_STATUSES
            )
            .select_related("country_team", "agency")
            .annotate(return_comment=_last_return_comment())
        ]
        items += [
            _contribution_item(c)
            for c in Contribution.objects.filter(
                _pairs_filter(pairs), current_revision__status__in=_OPEN_STATUSES
            ).select_related("country_team", "agency", "activity", "current_revision")
        ]
        items += [
            _measurement_item(m)
            for m in IndicatorMeasurement.objects.filter(
                _pairs_filter(pairs), status__in=_OPEN_STATUSES
            ).select_related("country_team", "agency", "indicator")
        ]
        work.drafts = _sort_items(
            [i for i in items if i.status == WorkflowStatus.DRAFT], oldest_first=False
        )
        work.returned = _sort_items(
            [i for i in items if i.status == WorkflowStatus.RETURNED],
            oldest_first=False,
        )
        work.submitted = _sort_items(
            [i for i in items if i.status == WorkflowStatus.SUBMITTED],
            oldest_first=True,
        )
    if coordinated:
        work.is_coordinator = True
        items = [
            _activity_item(a)
            for a in JointActivity.objects.awaiting_validation()
            .filter(country_team_id__in=coordinated)
            .select_related("country_team", "agency")
        ]
        items += [
            _contribution_item(c)
            for c in Contribution.objects.awaiting_validation()
            .filter(country_team_id__in=coordinated)
            .select_related("country_team", "agency", "activity", "current_revision")
        ]
        items += [
            _measurement_item(m)
            for m in IndicatorMeasurement.objects.filter(
                country_team_id__in=coordinated, status=WorkflowStatus.SUBMITTED
            ).select_related("country_team", "agency", "indicator")
        ]
        work.to_validate = _sort_items(items, oldest_first=True)
    return work


def count_awaiting_validation(*, team_ids: Iterable[int]) -> dict[int, int]:
    """Return, per team, how many submissions await validation (three queries)."""
    team_ids = list(team_ids)
    counts: dict[int, int] = defaultdict(int)
    if not team_ids:
        return counts
    querysets = (
        JointActivity.objects.awaiting_validation(),
        Contribution.objects.awaiting_validation(),
        IndicatorMeasurement.objects.filter(status=WorkflowStatus.SUBMITTED),
    )
    for queryset in querysets:
        rows = (
            queryset.filter(country_team_id__in=team_ids)
            .values("country_team_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            counts[row["country_team_id"]] += row["n"]
    return counts


def count_returned(*, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Return, per (team, agency), how many records came back (three queries)."""
    pairs = set(pairs)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    if not pairs:
        return counts
    querysets = (
        JointActivity.objects.filter(status=WorkflowStatus.RETURNED),
        Contribution.objects.filter(current_revision__status=WorkflowStatus.RETURNED),
        IndicatorMeasurement.objects.filter(status=WorkflowStatus.RETURNED),
    )
    for queryset in querysets:
        rows = (
            queryset.filter(_pairs_filter(pairs))
            .values("country_team_id", "agency_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            counts[(row["country_team_id"], row["agency_id"])] += row["n"]
    return counts


def count_work_for_user(*, user: User) -> int:
    """Return how many records wait for the user to act: submissions to validate
    in teams they coordinate, and records returned to their agencies."""
    roles = roles_of(user)
    coordinated = {r.country_team_id for r in roles if r.role in COORDINATOR_ROLES}
    pairs = {
        (r.country_team_id, r.agency_id)
        for r in roles
        if r.role == Role.FOCAL_POINT and r.agency_id
    }
    return sum(count_awaiting_validation(team_ids=coordinated).values()) + sum(
        count_returned(pairs=pairs).values()
    )


def get_active_framework(*, team: CountryTeam) -> CooperationFramework | None:
    """Return the framework in force in the team, if any."""
    return CooperationFramework.objects.active().filter(country_team=team).first()


def list_own_agencies(*, user: User, team: CountryTeam) -> QuerySet[Agency]:
    """Return the team's agencies the user logs work for: those they are focal point
    of (every agency of the team, for administrators)."""
    agencies = Agency.objects.filter(team_agencies__country_team=team).order_by("code")
    if user.is_superuser:
        return agencies
    return agencies.filter(pk__in=agency_ids_for(user, team.pk))


def list_team_regions(*, team: CountryTeam) -> list[AdminRegion]:
    """Return the team's admin-1 regions by name."""
    return list(AdminRegion.objects.filter(country_team=team).order_by("name"))


def list_activity_regions(*, activity: JointActivity) -> list[AdminRegion]:
    """Return the regions an activity's results break down by: its locations
    (prefetched), or every region of the team when it names none."""
    return list(activity.locations.all()) or list_team_regions(
        team=activity.country_team
    )
