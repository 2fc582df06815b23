"""Reads for dashboards: the landing page of each role and the resident
coordinator's dashboard of a team, built from rollup rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Model, OuterRef, Prefetch, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coordination.models import Agency, CountryTeam, Membership, Region, Role
from coordination.selectors import (
    DirectoryCounts,
    count_directory,
    list_memberships_for_user,
)
from frameworks.models import (
    CommonChapterArea,
    CooperationFramework,
    FrameworkStatus,
    Indicator,
    JointProgramme,
    Outcome,
    Output,
    SdgGoal,
    SdgTarget,
)
from frameworks.selectors import (
    AgencyContribution,
    ReferenceDataCounts,
    count_awaiting_validation,
    count_collective_outcomes,
    count_reference_data,
    count_returned,
    list_agency_contributions,
)
from reporting.models import (
    Basis,
    FundingRollup,
    IndicatorProgress,
    OutcomeFundingRollup,
    ProgressStatus,
    RollupRequest,
    RollupState,
    TagFundingRollup,
    TagKind,
    TeamFundingRollup,
    TeamSnapshot,
)

if TYPE_CHECKING:
    from coordination.models import User


@dataclass(frozen=True)
class AttentionItem:
    """Something a user should act on or know about, with where to do it."""

    team: CountryTeam
    message: str
    url: str
    is_action: bool = False


@dataclass(frozen=True)
class RegionGroup:
    region: str
    label: str
    teams: list[CountryTeam]


@dataclass(frozen=True)
class BoardOverview:
    regions: list[RegionGroup]
    viewable_team_ids: frozenset[int]
    team_count: int
    collective_outcome_count: int
    programme_count: int
    programme_budget: Decimal
    oldest_snapshot_at: datetime | None


@dataclass(frozen=True)
class AdminOverview:
    directory: DirectoryCounts
    reference_data: ReferenceDataCounts


@dataclass
class HomeDashboard:
    coordinated_teams: list[CountryTeam] = field(default_factory=list)
    attention: list[AttentionItem] = field(default_factory=list)
    agency_contributions: list[AgencyContribution] = field(default_factory=list)
    board: BoardOverview | None = None
    admin: AdminOverview | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            self.coordinated_teams
            or self.agency_contributions
            or self.board
            or self.admin
        )


def list_team_cards(*, team_ids: set[int]) -> QuerySet[CountryTeam]:
    """Return teams with their snapshot and open frameworks, for dashboard cards.

    Each team carries `active_frameworks` and `draft_frameworks` (lists).
    """
    return (
        CountryTeam.objects.filter(pk__in=team_ids)
        .select_related("snapshot", "resident_coordinator")
        .prefetch_related(
            Prefetch(
                "frameworks",
                queryset=CooperationFramework.objects.active(),
                to_attr="active_frameworks",
            ),
            Prefetch(
                "frameworks",
                queryset=CooperationFramework.objects.filter(
                    status=FrameworkStatus.DRAFT
                ).order_by("-start_year"),
                to_attr="draft_frameworks",
            ),
        )
        .order_by("name")
    )


def get_snapshot_for_team(*, team: CountryTeam) -> TeamSnapshot | None:
    """Return the team's headline figures, or None before the first rollup."""
    return TeamSnapshot.objects.filter(country_team=team).first()


def get_board_overview(*, user: User) -> BoardOverview:
    """Return every active team's headline figures, grouped by region.

    `viewable_team_ids` says which team pages the user may open, so the page can
    link them without asking for permissions while it renders.
    """
    teams = list(
        CountryTeam.objects.active()
        .select_related("snapshot")
        .order_by("region", "name")
    )
    by_region: dict[str, list[CountryTeam]] = {}
    for team in teams:
        by_region.setdefault(team.region, []).append(team)
    snapshots = [team.snapshot for team in teams if hasattr(team, "snapshot")]
    return BoardOverview(
        regions=[
            RegionGroup(region=value, label=str(label), teams=by_region[value])
            for value, label in Region.choices
            if value in by_region
        ],
        viewable_team_ids=frozenset(
            team.pk
            for team in teams
            if user.has_perm("coordination.view_countryteam", team)
        ),
        team_count=len(teams),
        collective_outcome_count=count_collective_outcomes(
            team_ids=[team.pk for team in teams]
        ),
        programme_count=sum(s.programme_count for s in snapshots),
        programme_budget=sum((s.programme_budget for s in snapshots), Decimal("0")),
        oldest_snapshot_at=min((s.computed_at for s in snapshots), default=None),
    )


def list_attention_items(
    *,
    user: User,
    teams: list[CountryTeam],
    focal_memberships: list[Membership] | None = None,
) -> list[AttentionItem]:
    """Return what the user should look at first, with counts.

    For the coordinators of `teams` (from `list_team_cards`: frameworks and
    snapshot loaded): submissions awaiting validation, frameworks awaiting
    sign-off, missing frameworks and figures. For focal-point memberships (with
    team and agency loaded): records returned to their agency. Six queries at
    most, whatever the numbers.
    """
    my_work = reverse("frameworks:my_work")
    awaiting = count_awaiting_validation(team_ids=[team.pk for team in teams])
    items = [
        AttentionItem(
            team=team,
            message=ngettext(
                "%(n)d submission awaits your validation.",
                "%(n)d submissions await your validation.",
                awaiting[team.pk],
            )
            % {"n": awaiting[team.pk]},
            url=my_work,
            is_action=True,
        )
        for team in teams
        if awaiting.get(team.pk)
    ]
    focal_memberships = focal_memberships or []
    returned = count_returned(
        pairs=[(m.country_team_id, m.agency_id) for m in focal_memberships]
    )
    for membership in focal_memberships:
        count = returned.get((membership.country_team_id, membership.agency_id))
        if count:
            items.append(
                AttentionItem(
                    team=membership.country_team,
                    message=ngettext(
                        "%(n)d %(agency)s record was returned to you with a comment.",
                        "%(n)d %(agency)s records were returned to you with a comment.",
                        count,
                    )
                    % {"n": count, "agency": membership.agency.code},
                    url=my_work,
                    is_action=True,
                )
            )
    for team in teams:
        can_sign_off = user.has_perm("coordination.sign_off_countryteam", team)
        for framework in team.draft_frameworks:
            if can_sign_off:
                message = _("Draft framework “%(title)s” awaits your sign-off.")
            else:
                message = _(
                    "Draft framework “%(title)s” awaits the Resident Coordinator's "
                    "sign-off."
                )
            items.append(
                AttentionItem(
                    team=team,
                    message=message % {"title": framework.title},
                    url=reverse(
                        "frameworks:framework_detail",
                        kwargs={"code": team.code, "pk": framework.pk},
                    ),
                    is_action=can_sign_off,
                )
            )
        if not team.active_frameworks and not team.draft_frameworks:
            items.append(
                AttentionItem(
                    team=team,
                    message=_("No Cooperation Framework is in force or in draft."),
                    url=team.get_absolute_url(),
                )
            )
        if not hasattr(team, "snapshot"):
            items.append(
                AttentionItem(
                    team=team,
                    message=_("Headline figures have not been computed yet."),
                    url=team.get_absolute_url(),
                )
            )
    return items


def get_home_for_user(*, user: User) -> HomeDashboard:
    """Return the landing page of every role the user holds.

    Sections for roles the user does not hold stay empty and cost no queries.
    """
    home = HomeDashboard()
    memberships = list(list_memberships_for_user(user=user))
    coordinated_ids = {m.country_team_id for m in memberships if m.is_coordinator}
    focal_memberships = [m for m in memberships if m.role == Role.FOCAL_POINT]
    if coordinated_ids:
        home.coordinated_teams = list(list_team_cards(team_ids=coordinated_ids))
    if coordinated_ids or focal_memberships:
        home.attention = list_attention_items(
            user=user,
            teams=home.coordinated_teams,
            focal_memberships=focal_memberships,
        )
    home.agency_contributions = list_agency_contributions(memberships=focal_memberships)
    if user.has_perm("coordination.view_board_summary"):
        home.board = get_board_overview(user=user)
    if user.has_perm("coordination.manage_reference_data"):
        home.admin = AdminOverview(
            directory=count_directory(), reference_data=count_reference_data()
        )
    return home


# --- the resident coordinator's dashboard -------------------------------------------

MEASURES = ("required", "available", "spent")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Figures:
    """Money and counts of one rollup row; zeros where no row exists."""

    required: Decimal = Decimal(0)
    available: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    gap: Decimal = Decimal(0)
    contribution_count: int = 0
    activity_count: int = 0
    agency_count: int = 0

    @classmethod
    def from_row(cls, row: dict | None) -> Figures:
        if not row:
            return cls()
        return cls(**{name: row[name] for name in _FIGURE_FIELDS})

    @property
    def is_empty(self) -> bool:
        return self.contribution_count == 0

    @property
    def funded_percent(self) -> Decimal | None:
        """Available as a share of required, or None when nothing is required."""
        return _percent(self.available, self.required)

    @property
    def delivery_percent(self) -> Decimal | None:
        """Spent as a share of available: how much of the money is delivered."""
        return _percent(self.spent, self.available)

    def measure(self, name: str) -> Decimal:
        return getattr(self, name)

    def money(self) -> tuple[Decimal, Decimal, Decimal]:
        return (self.required, self.available, self.spent)


_FIGURE_FIELDS = (
    "required",
    "available",
    "spent",
    "gap",
    "contribution_count",
    "activity_count",
    "agency_count",
)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part * _HUNDRED / whole).quantize(Decimal("0.1"))


def _money_sum(figures: list[Figures]) -> tuple[Decimal, Decimal, Decimal]:
    return (
        sum((f.required for f in figures), Decimal(0)),
        sum((f.available for f in figures), Decimal(0)),
        sum((f.spent for f in figures), Decimal(0)),
    )


OVER, UNDER = "over", "under"


def compare_parts(parts: list[Figures], whole: Figures) -> str:
    """How rows of a breakdown add up against their total, which counts each
    contribution once: OVER when some money is in several rows (an activity
    with several tags, outputs or outcomes), UNDER when some is in none (an
    activity with no tag of the kind), "" when they add up."""
    summed = _money_sum(parts)
    if any(part > total for part, total in zip(summed, whole.money(), strict=True)):
        return OVER
    return UNDER if summed != whole.money() else ""


def _worst(comparisons: list[str]) -> str:
    return OVER if OVER in comparisons else (UNDER if UNDER in comparisons else "")


@dataclass(frozen=True)
class AgencyFigures:
    agency: Agency
    figures: Figures
    position: int

    @property
    def series(self) -> int:
        """Which of the dashboard's series colours the agency gets (1-12)."""
        return self.position % 12 + 1


@dataclass
class OutputLine:
    output: Output
    figures: Figures
    by_agency: dict[int, Figures]
    agencies: list[AgencyFigures] = field(default_factory=list)


@dataclass
class OutcomeLine:
    outcome: Outcome
    figures: Figures
    by_agency: dict[int, Figures]
    outputs: list[OutputLine] = field(default_factory=list)

    @property
    def outputs_compared(self) -> str:
        """How the outputs' money adds up to the outcome's (see compare_parts)."""
        return compare_parts([line.figures for line in self.outputs], self.figures)


@dataclass(frozen=True)
class MatrixRow:
    agency: AgencyFigures
    cells: list[Figures]


@dataclass(frozen=True)
class TagLine:
    """One SDG goal or target, common-chapter area or joint programme."""

    key: int
    code: str
    label: str
    figures: Figures
    obj: Any = None


@dataclass
class TagTable:
    """Rows of one tag kind, against the framework's total over distinct
    contributions. Rows overlap when activities carry several tags of the kind,
    and miss activities that carry none, so they need not add up."""

    lines: list[TagLine]
    total: Figures

    @property
    def compared(self) -> str:
        """How the rows add up to the total (see compare_parts)."""
        return compare_parts([line.figures for line in self.lines], self.total)

    @property
    def covered(self) -> list[TagLine]:
        return [line for line in self.lines if not line.figures.is_empty]


@dataclass(frozen=True)
class IndicatorLine:
    indicator: Indicator
    progress: IndicatorProgress | None

    @property
    def status(self) -> str:
        return self.progress.status if self.progress else ProgressStatus.NO_DATA

    @property
    def level_code(self) -> str:
        parent = self.indicator.output or self.indicator.outcome
        return parent.code if parent else ""


@dataclass(frozen=True)
class RollupStatus:
    computed_at: datetime | None
    pending_since: datetime | None

    @property
    def is_pending(self) -> bool:
        return self.pending_since is not None


@dataclass
class Dashboard:
    """Everything the dashboard of one team, framework, year and basis shows."""

    team: CountryTeam
    framework: CooperationFramework | None
    status: RollupStatus
    basis: str = Basis.VALIDATED
    measure: str = "required"
    year: int | None = None
    years: list[int] = field(default_factory=list)
    years_with_data: list[int] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)
    agencies: list[AgencyFigures] = field(default_factory=list)
    outcomes: list[OutcomeLine] = field(default_factory=list)
    selected_outcome: OutcomeLine | None = None
    indicators: list[IndicatorLine] = field(default_factory=list)
    sdg_goals: TagTable | None = None
    sdg_targets: TagTable | None = None
    areas: TagTable | None = None
    programmes: TagTable | None = None

    @property
    def has_figures(self) -> bool:
        return not self.total.is_empty

    @property
    def has_data(self) -> bool:
        return self.has_figures or any(
            line.progress and line.progress.year_value is not None
            for line in self.indicators
        )

    @property
    def latest_year_with_data(self) -> int | None:
        return self.years_with_data[0] if self.years_with_data else None

    @property
    def outputs(self) -> list[tuple[OutcomeLine, OutputLine]]:
        """The output table's rows: the selected outcome's, or every outcome's."""
        outcomes = [self.selected_outcome] if self.selected_outcome else self.outcomes
        return [(outcome, line) for outcome in outcomes for line in outcome.outputs]

    @property
    def outputs_compared(self) -> str:
        """How outputs add up to their outcomes, over the outputs shown."""
        if self.selected_outcome:
            return self.selected_outcome.outputs_compared
        return _worst([outcome.outputs_compared for outcome in self.outcomes])

    @property
    def outcomes_compared(self) -> str:
        return compare_parts([line.figures for line in self.outcomes], self.total)

    @property
    def matrix_compared(self) -> str:
        """How each agency's outcomes add up to its total over all outcomes."""
        return _worst(
            [compare_parts(row.cells, row.agency.figures) for row in self.matrix]
        )

    @property
    def matrix(self) -> list[MatrixRow]:
        """Agencies (rows) by outcomes (columns)."""
        return [
            MatrixRow(
                agency=agency,
                cells=[
                    line.by_agency.get(agency.agency.pk, Figures())
                    for line in self.outcomes
                ],
            )
            for agency in self.agencies
        ]

    @property
    def progress_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ProgressStatus.values, 0)
        for line in self.indicators:
            counts[line.status] += 1
        return counts


def get_rollup_status(*, team: CountryTeam) -> RollupStatus:
    """Return when the team's rollups were computed and since when a
    recomputation is waiting (one query, also before the first rollup)."""
    row = (
        CountryTeam.objects.filter(pk=team.pk)
        .annotate(
            computed_at=Subquery(
                RollupState.objects.filter(country_team=OuterRef("pk")).values(
                    "computed_at"
                )[:1]
            ),
            pending_since=Subquery(
                RollupRequest.objects.filter(country_team=OuterRef("pk"))
                .order_by("requested_at")
                .values("requested_at")[:1]
            ),
        )
        .values("computed_at", "pending_since")
        .get()
    )
    return RollupStatus(**row)


def _figures_by(rows: list[dict], key: str) -> tuple[dict, dict]:
    """Split rollup rows into all-agencies figures and per-agency figures by key."""
    total: dict[Any, Figures] = {}
    by_agency: dict[Any, dict[int, Figures]] = {}
    for row in rows:
        figures = Figures.from_row(row)
        if row["agency_id"] is None:
            total[row[key]] = figures
        else:
            by_agency.setdefault(row[key], {})[row["agency_id"]] = figures
    return total, by_agency


def _rows(model: type[Model], key: str, **filters: Any) -> list[dict]:
    # Rollup rows are keyed, not listed: the default ordering would join the
    # tables of every foreign key only to sort.
    return list(model.objects.filter(**filters).order_by().values(key, *_ROW_FIELDS))


_ROW_FIELDS = ("agency_id", *_FIGURE_FIELDS)


def get_dashboard(
    *,
    team: CountryTeam,
    year: int | None = None,
    basis: str = Basis.VALIDATED,
    measure: str = "required",
    outcome_id: int | None = None,
) -> Dashboard:
    """Return the dashboard of the team's active framework from rollup rows only.

    A year outside the framework's and the data's years, or none, falls back to
    the latest year with figures in the basis (else the framework's current or
    last year). The number of queries does not depend on the amount of data.
    """
    basis = basis if basis in Basis.values else Basis.VALIDATED
    measure = measure if measure in MEASURES else "required"
    framework = CooperationFramework.objects.active().filter(country_team=team).first()
    dashboard = Dashboard(
        team=team,
        framework=framework,
        status=get_rollup_status(team=team),
        basis=basis,
        measure=measure,
    )
    if framework is None:
        return dashboard

    # Every year's totals at once: small (years x agencies) and it tells which
    # years have figures.
    team_rows = list(
        TeamFundingRollup.objects.filter(framework=framework, basis=basis)
        .select_related("agency")
        .order_by("year", "agency__code")
    )
    progress_years = set(
        # A value "to date" carries over into later years; a value within the
        # year is what makes the year one with data.
        IndicatorProgress.objects.filter(
            country_team=team, basis=basis, year_value__isnull=False
        )
        .order_by()
        .values_list("year", flat=True)
        .distinct()
    )
    funded_years = {row.year for row in team_rows}
    dashboard.years_with_data = sorted(funded_years | progress_years, reverse=True)
    dashboard.years = sorted(
        set(framework.years) | set(dashboard.years_with_data), reverse=True
    )
    if year not in dashboard.years:
        year = dashboard.latest_year_with_data or _current_year_in(framework)
    dashboard.year = year

    agency_rows = sorted(
        (row for row in team_rows if row.year == year and row.agency_id),
        key=lambda row: (-row.required, -row.available, row.agency.code),
    )
    dashboard.agencies = [
        AgencyFigures(
            agency=row.agency, figures=Figures.from_row(vars(row)), position=i
        )
        for i, row in enumerate(agency_rows)
    ]
    total = next(
        (row for row in team_rows if row.year == year and row.agency_id is None), None
    )
    dashboard.total = Figures.from_row(vars(total) if total else None)
    agencies = {share.agency.pk: share for share in dashboard.agencies}

    scope = {"framework": framework, "year": year, "basis": basis}
    outcome_total, outcome_agencies = _figures_by(
        _rows(OutcomeFundingRollup, "outcome_id", **scope), "outcome_id"
    )
    output_total, output_agencies = _figures_by(
        _rows(FundingRollup, "output_id", **scope), "output_id"
    )
    outputs_by_outcome: dict[int, list[Output]] = {}
    for output in Output.objects.filter(framework=framework).order_by("code"):
        outputs_by_outcome.setdefault(output.outcome_id, []).append(output)
    for outcome in Outcome.objects.filter(framework=framework).order_by("code"):
        line = OutcomeLine(
            outcome=outcome,
            figures=outcome_total.get(outcome.pk, Figures()),
            by_agency=outcome_agencies.get(outcome.pk, {}),
        )
        for output in outputs_by_outcome.get(outcome.pk, []):
            shares = output_agencies.get(output.pk, {})
            line.outputs.append(
                OutputLine(
                    output=output,
                    figures=output_total.get(output.pk, Figures()),
                    by_agency=shares,
                    agencies=[agencies[pk] for pk in agencies if pk in shares],
                )
            )
        dashboard.outcomes.append(line)
        if outcome.pk == outcome_id:
            dashboard.selected_outcome = line

    _add_tag_tables(dashboard, scope)
    dashboard.indicators = _indicator_lines(framework, team, year, basis)
    return dashboard


def _current_year_in(framework: CooperationFramework) -> int:
    """This year, kept inside the framework's period."""
    today = timezone.localdate().year
    return min(max(today, framework.start_year), framework.end_year)


def _add_tag_tables(dashboard: Dashboard, scope: dict[str, Any]) -> None:
    """SDG goals (all 17, so gaps in coverage show), the targets and joint
    programmes that have figures, and every common-chapter area."""
    rows: dict[str, dict[int, Figures]] = {kind: {} for kind in TagKind.values}
    for row in (
        TagFundingRollup.objects.filter(agency=None, **scope)
        .order_by()
        .values("kind", "tag_id", *_FIGURE_FIELDS)
    ):
        rows[row["kind"]][row["tag_id"]] = Figures.from_row(row)
    total = dashboard.total

    goals = rows[TagKind.SDG_GOAL]
    dashboard.sdg_goals = TagTable(
        lines=[
            TagLine(
                key=goal.number,
                code=str(goal.number),
                label=goal.short_title,
                figures=goals.get(goal.number, Figures()),
                obj=goal,
            )
            for goal in SdgGoal.objects.order_by("number")
        ],
        total=total,
    )
    targets = rows[TagKind.SDG_TARGET]
    dashboard.sdg_targets = TagTable(
        lines=[
            TagLine(
                key=target.pk,
                code=target.code,
                label=target.title,
                figures=targets[target.pk],
                obj=target,
            )
            for target in SdgTarget.objects.filter(pk__in=list(targets)).order_by(
                "sort_key"
            )
        ],
        total=total,
    )
    areas = rows[TagKind.COMMON_CHAPTER_AREA]
    dashboard.areas = TagTable(
        lines=[
            TagLine(
                key=area.pk,
                code=area.code,
                label=area.name,
                figures=areas.get(area.pk, Figures()),
                obj=area,
            )
            for area in CommonChapterArea.objects.order_by("position")
        ],
        total=total,
    )
    programmes = rows[TagKind.JOINT_PROGRAMME]
    dashboard.programmes = TagTable(
        lines=[
            TagLine(
                key=programme.pk,
                code="",
                label=programme.title,
                figures=programmes[programme.pk],
                obj=programme,
            )
            for programme in JointProgramme.objects.filter(pk__in=list(programmes))
            .select_related("convening_agency")
            .order_by("title")
        ],
        total=total,
    )


def _indicator_lines(
    framework: CooperationFramework, team: CountryTeam, year: int, basis: str
) -> list[IndicatorLine]:
    progress = {
        row.indicator_id: row
        for row in IndicatorProgress.objects.filter(
            country_team=team, year=year, basis=basis
        ).order_by()
    }
    indicators = (
        Indicator.objects.filter(framework=framework)
        .select_related("outcome", "output")
        .order_by("code")
    )
    return [
        IndicatorLine(indicator=indicator, progress=progress.get(indicator.pk))
        for indicator in indicators
    ]
