"""What an annual results report says, gathered before anything is drawn.

The report of a team and year reads the rollup tables on the validated basis
only (through `get_dashboard`, the same reads as the RC dashboard) and the
framework rows that give them meaning: priorities, outcomes, outputs,
indicators and joint programmes. The HTML page, the PDF and the open-data
downloads all render one `AnnualReport`, so they can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from frameworks.models import CooperationFramework, StrategicPriority
from frameworks.selectors import list_programmes_for_team
from reporting.board_exports import (
    SUMMARY_TABLES,
    BoardLinks,
    joint_definition,
    progress_definition,
)
from reporting.board_filters import BoardFilterForm, BoardFilters, FilterOptions
from reporting.board_selectors import (
    BoardSummary,
    board_summary,
    load_filter_options,
)
from reporting.exports import Cell, Column, Table
from reporting.models import (
    Basis,
    IndicatorProgress,
    ProgressStatus,
    TeamFundingRollup,
)
from reporting.selectors import (
    AgencyFigures,
    Figures,
    IndicatorLine,
    OutcomeLine,
    TagLine,
    get_dashboard,
)

if TYPE_CHECKING:
    from coordination.models import CountryTeam
    from frameworks.models import JointProgramme


@dataclass(frozen=True)
class OutcomeResults:
    """One outcome: its money, its outputs' money and every indicator under it."""

    line: OutcomeLine
    indicators: list[IndicatorLine]

    @property
    def progress_counts(self) -> dict[str, int]:
        return _count_statuses(self.indicators)


@dataclass(frozen=True)
class PriorityResults:
    """A strategic priority and its outcomes; `priority` is None for outcomes
    filed under no priority."""

    priority: StrategicPriority | None
    outcomes: list[OutcomeResults]


@dataclass(frozen=True)
class ProgrammeSummary:
    """A joint programme: its agreed budget and the year's validated money that
    agencies reported through its joint activities."""

    programme: JointProgramme
    figures: Figures


@dataclass(frozen=True)
class FundingCell:
    """One outcome and agency pair of the funding table."""

    outcome: OutcomeLine
    agency: AgencyFigures | None
    figures: Figures


@dataclass
class AnnualReport:
    """Everything the UNCT annual results report of one team and year shows."""

    team: CountryTeam
    framework: CooperationFramework
    year: int
    as_of: datetime | None
    total: Figures
    agencies: list[AgencyFigures]
    priorities: list[PriorityResults]
    indicators: list[IndicatorLine]
    programmes: list[ProgrammeSummary]
    sdg_goals: list[TagLine] = field(default_factory=list)
    areas: list[TagLine] = field(default_factory=list)
    basis: str = Basis.VALIDATED

    @property
    def outcomes(self) -> list[OutcomeResults]:
        return [outcome for group in self.priorities for outcome in group.outcomes]

    @property
    def progress_counts(self) -> dict[str, int]:
        return _count_statuses(self.indicators)

    @property
    def has_figures(self) -> bool:
        return not self.total.is_empty

    @property
    def funding_cells(self) -> list[FundingCell]:
        """Per outcome, each agency with money in it, then all agencies."""
        agencies = {share.agency.pk: share for share in self.agencies}
        cells = []
        for outcome in self.outcomes:
            line = outcome.line
            for agency_id, share in agencies.items():
                figures = line.by_agency.get(agency_id)
                if figures and not figures.is_empty:
                    cells.append(FundingCell(line, share, figures))
            cells.append(FundingCell(line, None, line.figures))
        return cells

    def as_of_stamp(self) -> str:
        """The rollups' "as of", as stored with a built report."""
        return self.as_of.isoformat() if self.as_of else ""


def _count_statuses(indicators: list[IndicatorLine]) -> dict[str, int]:
    counts = dict.fromkeys(ProgressStatus.values, 0)
    for line in indicators:
        counts[line.status] += 1
    return counts


@dataclass(frozen=True)
class ReportYears:
    """The years a team's annual report can be built for, latest first."""

    years: list[int]
    with_figures: list[int]

    @property
    def latest_with_figures(self) -> int | None:
        return self.with_figures[0] if self.with_figures else None


def list_report_years(*, team: CountryTeam) -> ReportYears:
    """Return the years of the active framework and any year with validated
    figures: the years `get_dashboard` (and so `get_annual_report`) accepts.
    Three queries."""
    framework = CooperationFramework.objects.active().filter(country_team=team).first()
    if framework is None:
        return ReportYears(years=[], with_figures=[])
    funded = TeamFundingRollup.objects.filter(
        framework=framework, basis=Basis.VALIDATED
    ).values_list("year", flat=True)
    measured = IndicatorProgress.objects.filter(
        country_team=team, basis=Basis.VALIDATED, year_value__isnull=False
    ).values_list("year", flat=True)
    with_figures = set(funded.order_by().distinct()) | set(
        measured.order_by().distinct()
    )
    return ReportYears(
        years=sorted(set(framework.years) | with_figures, reverse=True),
        with_figures=sorted(with_figures, reverse=True),
    )


def get_annual_report(*, team: CountryTeam, year: int) -> AnnualReport | None:
    """Return the team's annual results report for a year, validated figures only.

    None when the team has no active framework or the year is neither one of
    its years nor one with figures. A fixed number of queries: the dashboard's,
    the strategic priorities and the joint programmes.
    """
    dashboard = get_dashboard(team=team, year=year, basis=Basis.VALIDATED)
    framework = dashboard.framework
    if framework is None or dashboard.year != year:
        return None

    by_outcome: dict[int, list[IndicatorLine]] = {}
    for line in dashboard.indicators:
        indicator = line.indicator
        outcome_id = (
            indicator.output.outcome_id if indicator.output else indicator.outcome_id
        )
        by_outcome.setdefault(outcome_id, []).append(line)

    priorities = {
        priority.pk: priority
        for priority in StrategicPriority.objects.filter(framework=framework)
    }
    grouped: dict[int | None, list[OutcomeResults]] = {}
    for line in dashboard.outcomes:
        grouped.setdefault(line.outcome.strategic_priority_id, []).append(
            OutcomeResults(line=line, indicators=by_outcome.get(line.outcome.pk, []))
        )
    ordered = sorted(
        grouped.items(),
        key=lambda item: (item[0] is None, _priority_code(priorities, item[0])),
    )

    programme_figures = {line.key: line.figures for line in dashboard.programmes.lines}
    programmes = [
        ProgrammeSummary(
            programme=programme,
            figures=programme_figures.get(programme.pk, Figures()),
        )
        for programme in list_programmes_for_team(team=team)
        if programme.pk in programme_figures
        or programme.start_date.year <= year <= programme.end_date.year
    ]

    return AnnualReport(
        team=team,
        framework=framework,
        year=year,
        as_of=dashboard.status.computed_at,
        total=dashboard.total,
        agencies=dashboard.agencies,
        priorities=[
            PriorityResults(priority=priorities.get(key) if key else None, outcomes=o)
            for key, o in ordered
        ],
        indicators=dashboard.indicators,
        programmes=programmes,
        sdg_goals=dashboard.sdg_goals.covered,
        areas=dashboard.areas.covered,
    )


def _priority_code(priorities: dict[int, StrategicPriority], key: int | None) -> str:
    priority = priorities.get(key) if key else None
    return priority.code if priority else ""


# --- funding tables, for the page, the PDF and the downloads ----------------------


def _money_columns() -> list[Column]:
    return [
        Column(_("Required (USD)"), "money"),
        Column(_("Available (USD)"), "money"),
        Column(_("Spent (USD)"), "money"),
        Column(_("Funding gap (USD)"), "money"),
        Column(_("% funded"), "percent"),
    ]


def _money(figures: Figures) -> list[Cell]:
    return [
        Cell(figures.required),
        Cell(figures.available),
        Cell(figures.spent),
        Cell(figures.gap, css="gap" if figures.gap > 0 else ""),
        Cell(figures.funded_percent),
    ]


def _total_label() -> str:
    return _("Total, each contribution once")


def outcome_funding_table(report: AnnualReport) -> Table:
    """Validated money per outcome, and the framework's total."""
    table = Table(
        name="funding-by-outcome",
        title=_("Funding by outcome, %(year)s") % {"year": report.year},
        columns=[
            Column(_("Outcome")),
            Column(_("Statement")),
            *_money_columns(),
            Column(_("Joint activities"), "count"),
        ],
        empty=_("The framework has no outcomes yet."),
    )
    for outcome in report.outcomes:
        line = outcome.line
        table.rows.append(
            [
                Cell(line.outcome.code),
                Cell(line.outcome.statement),
                *_money(line.figures),
                Cell(line.figures.activity_count),
            ]
        )
    table.footer = [
        Cell(_total_label()),
        Cell(""),
        *_money(report.total),
        Cell(report.total.activity_count),
    ]
    return table


def agency_funding_table(report: AnnualReport) -> Table:
    """Validated money per agency over all outcomes."""
    table = Table(
        name="funding-by-agency",
        title=_("Funding by agency, %(year)s") % {"year": report.year},
        columns=[
            Column(_("Agency")),
            Column(_("Agency name")),
            *_money_columns(),
            Column(_("Delivery (% of available spent)"), "percent"),
            Column(_("Joint activities"), "count"),
        ],
        empty=_("No agency has validated figures for this year yet."),
    )
    for share in report.agencies:
        figures = share.figures
        table.rows.append(
            [
                Cell(share.agency.code),
                Cell(share.agency.name),
                *_money(figures),
                Cell(figures.delivery_percent),
                Cell(figures.activity_count),
            ]
        )
    total = report.total
    table.footer = [
        Cell(_total_label()),
        Cell(""),
        *_money(total),
        Cell(total.delivery_percent),
        Cell(total.activity_count),
    ]
    return table


def outcome_agency_funding_table(report: AnnualReport) -> Table:
    """Validated money per outcome and agency, with each outcome's total over
    all agencies (which counts an activity of several agencies once)."""
    table = Table(
        name="funding-by-outcome-and-agency",
        title=_("Funding by outcome and agency, %(year)s") % {"year": report.year},
        columns=[
            Column(_("Outcome")),
            Column(_("Statement"), file_only=True),
            Column(_("Agency")),
            *_money_columns(),
            Column(_("Joint activities"), "count"),
        ],
        empty=_("No validated figures for this year yet."),
    )
    all_agencies = _("All agencies")
    for cell in report.funding_cells:
        outcome, figures = cell.outcome.outcome, cell.figures
        table.rows.append(
            [
                Cell(outcome.code),
                Cell(outcome.statement),
                Cell(cell.agency.agency.code if cell.agency else all_agencies),
                *_money(figures),
                Cell(figures.activity_count),
            ],
        )
    total = report.total
    table.footer = [
        Cell(_total_label()),
        Cell(""),
        Cell(all_agencies),
        *_money(total),
        Cell(total.activity_count),
    ]
    return table


FUNDING_TABLES = {
    "funding-by-outcome": outcome_funding_table,
    "funding-by-agency": agency_funding_table,
    "funding-by-outcome-and-agency": outcome_agency_funding_table,
}


def build_funding_tables(report: AnnualReport) -> dict[str, Table]:
    """The report's funding tables by name (also the names of the downloads)."""
    return {name: build(report) for name, build in FUNDING_TABLES.items()}


# --- the executive board summary -------------------------------------------------


class _UnlinkedBoardLinks(BoardLinks):
    """A PDF leads nowhere: its tables are the board page's, without links."""

    def team(self, team: CountryTeam, anchor: str = "") -> str:
        return ""


@dataclass
class BoardSummaryReport:
    """The board summary PDF: the board page's figures and tables for the
    same filters (`board_summary`), validated figures only."""

    filters: BoardFilters
    summary: BoardSummary
    tables: dict[str, Table]
    joint_definition: str
    progress_definition: str

    @property
    def as_of(self) -> datetime | None:
        return self.summary.status.computed_at

    def as_of_stamp(self) -> str:
        return self.as_of.isoformat() if self.as_of else ""


class BoardFiltersError(ValueError):
    """Stored board filters that no longer read (an agency removed...)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def read_board_filters(data: Mapping[str, Any]) -> BoardFilters:
    """Board filters from GET-style parameters, checked as the board pages
    check them; raises BoardFiltersError with their messages."""
    form = BoardFilterForm(data, options=load_filter_options())
    if not form.is_valid():
        raise BoardFiltersError(form.messages)
    return form.filters()


def describe_board_filters(
    data: Mapping[str, Any], options: FilterOptions
) -> list[str]:
    """The filters of a board summary other than its years, in words (none
    for all teams); the options are loaded once for a whole list."""
    form = BoardFilterForm(data, options=options)
    if not form.is_valid():
        return []
    filters = form.filters()
    return [
        label
        for label in (
            filters.region_label,
            f"{filters.agency.code}" if filters.agency else "",
            f"{filters.area.code} {filters.area}" if filters.area else "",
            _("SDG %(number)s") % {"number": filters.goal.number}
            if filters.goal
            else "",
        )
        if label
    ]


def board_report_parameters(filters: BoardFilters) -> dict[str, Any]:
    """What a board summary PDF is asked for with: the filters, without the
    world map's colour, which the summary does not show."""
    return filters.params(measure="")


def get_board_summary_report(filters: BoardFilters) -> BoardSummaryReport:
    """The board summary's figures and tables for the filters."""
    summary = board_summary(filters)
    links = _UnlinkedBoardLinks(filters=filters)
    return BoardSummaryReport(
        filters=filters,
        summary=summary,
        tables={
            name.replace("-", "_"): build(summary, links)
            for name, build in SUMMARY_TABLES.items()
        },
        joint_definition=joint_definition(),
        progress_definition=progress_definition(),
    )
