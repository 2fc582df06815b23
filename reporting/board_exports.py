"""The board pages' tables, for the screen and for download, and their charts.

Each table is built once from a selector's result (`reporting.board_selectors`)
as a `reporting.exports.Table`: the page renders it, and the CSV and XLSX
downloads write the same rows with `write_csv` / `write_xlsx`, so a file holds
exactly what the page shows for the same filters. Links (`Cell.url`) only
matter on screen, and depend on who is looking: `BoardLinks` knows which
team pages the viewer may open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from coordination.models import CountryTeam
from frameworks.models import (
    CommitmentKind,
    CommitmentStatus,
    CooperationFramework,
    Indicator,
    Outcome,
)
from reporting.board_filters import BoardFilters, measure_choices
from reporting.board_selectors import (
    BoardLine,
    BoardStatus,
    BoardSummary,
    BoardTeam,
    CommonChapterSummary,
    Money,
    Progress,
    iso_numeric,
    signatory_order,
)
from reporting.exports import Cell, Column, Table
from reporting.models import ProgressStatus
from reporting.selectors import OVER, UNDER

# --- links -----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardLinks:
    """Where the figures of a board page lead, for one viewer.

    Every board figure leads to the board's page of its team; the team's own
    pages (dashboard, framework, indicator) are linked only for viewers who
    may open them (members of the team and administrators)."""

    filters: BoardFilters
    viewable_team_ids: frozenset[int] = frozenset()

    def team(self, team: CountryTeam, anchor: str = "") -> str:
        url = reverse("board:team", kwargs={"code": team.code})
        query = self.filters.query()
        return f"{url}?{query}{anchor}" if query else f"{url}{anchor}"

    def can_view(self, team_id: int) -> bool:
        return team_id in self.viewable_team_ids

    def dashboard(self, team: CountryTeam, outcome: Outcome | None = None) -> str:
        """The team's own dashboard for the period's last year, validated
        figures, the outcome's outputs when one is given; "" if not allowed."""
        if not self.can_view(team.pk):
            return ""
        url = reverse("reporting:dashboard", kwargs={"code": team.code})
        query = f"year={self.filters.year_to}&basis=validated"
        if outcome is not None:
            return f"{url}?{query}&outcome={outcome.pk}#outputs"
        return f"{url}?{query}"

    def framework(self, team: CountryTeam, framework: CooperationFramework) -> str:
        if not self.can_view(team.pk):
            return ""
        return reverse(
            "frameworks:framework_detail",
            kwargs={"code": team.code, "pk": framework.pk},
        )

    def indicator(self, team: CountryTeam, indicator: Indicator) -> str:
        if not self.can_view(team.pk):
            return ""
        return reverse(
            "frameworks:indicator_detail",
            kwargs={"code": team.code, "pk": indicator.pk},
        )

    def outcome(self, team: CountryTeam, outcome: Outcome) -> str:
        """An outcome's figures: the team's dashboard if the viewer may open
        it, else the outcome's row on the board's team page."""
        return self.dashboard(team, outcome) or self.team(
            team, f"#outcome-{outcome.pk}"
        )


# --- columns and cells -----------------------------------------------------------


@dataclass(frozen=True)
class AnchoredCell(Cell):
    """A row's first cell that other pages link to (`#anchor`)."""

    anchor: str = ""


def _money_columns() -> list[Column]:
    return [
        Column(_("Required (USD)"), "money"),
        Column(_("Available (USD)"), "money"),
        Column(_("Spent (USD)"), "money"),
        Column(_("Funding gap (USD)"), "money"),
        Column(_("% funded"), "percent"),
    ]


def _money_cells(money: Money | None) -> list[Cell]:
    """Money of the row; blanks (not zeros) where no contribution counts."""
    if money is None or money.is_empty:
        return [Cell(None)] * 5
    return [
        Cell(money.required),
        Cell(money.available),
        Cell(money.spent),
        Cell(money.gap, css="gap" if money.gap > 0 else ""),
        Cell(money.funded_percent),
    ]


def _programme_columns() -> list[Column]:
    return [
        Column(_("Spent via joint programmes (USD)"), "money"),
        Column(_("Share of spending via joint programmes (%)"), "percent"),
    ]


def _programme_cells(line: BoardLine | Any) -> list[Cell]:
    if line.programme is None or line.money.is_empty:
        return [Cell(None), Cell(None)]
    return [Cell(line.programme.spent), Cell(line.programme_share)]


def _progress_columns() -> list[Column]:
    return [
        Column(_("Indicators on track"), "count"),
        Column(_("Off track"), "count"),
        Column(_("No data"), "count"),
        # xgettext:no-python-format
        Column(_("% on track"), "percent"),
    ]


def _progress_cells(progress: Progress) -> list[Cell]:
    return [
        Cell(progress.on_track),
        Cell(progress.off_track),
        Cell(progress.no_data),
        Cell(progress.on_track_percent),
    ]


def _total_label() -> str:
    return _("Total, each contribution once")


def _notes(compared: str, counts_twice: str, misses: str) -> list[str]:
    return {OVER: [counts_twice], UNDER: [misses]}.get(compared, [])


def joint_definition() -> str:
    return _(
        "Joint: the money agencies report for joint activities, work that two or "
        "more agencies do together under the Cooperation Framework; the portal "
        "records no single-agency work, so all of it is joint. Through joint "
        "programmes: the part whose activity belongs to a joint programme, with "
        "one budget and fund for several agencies (e.g. the Joint SDG Fund or the "
        "Spotlight Initiative). The rest is joint work outside programmes."
    )


def progress_definition() -> str:
    return _(
        "Indicators: each indicator's status at the end of the period (the last "
        "year its framework covers), from validated values to date against the "
        "share of the framework period elapsed."
    )


# --- the global summary ----------------------------------------------------------


def team_table(summary: BoardSummary, links: BoardLinks) -> Table:
    table = Table(
        name="teams",
        title=_("Results by country team"),
        columns=[
            Column(_("Country team")),
            Column(_("Code"), file_only=True),
            Column(_("Region")),
            *_money_columns(),
            *_programme_columns(),
            *_progress_columns(),
        ],
        empty=_("No country team matches these filters."),
    )
    for line in summary.teams:
        team = line.obj
        table.rows.append(
            [
                Cell(team.name, url=links.team(team)),
                Cell(team.code),
                Cell(team.get_region_display()),
                *_money_cells(line.money),
                *_programme_cells(line),
                *_progress_cells(line.progress),
            ]
        )
    table.footer = [
        Cell(_total_label()),
        Cell(""),
        Cell(""),
        *_money_cells(summary.total),
        *_programme_cells(_TotalLine(summary)),
        *_progress_cells(summary.progress),
    ]
    return table


@dataclass(frozen=True)
class _TotalLine:
    """The summary's totals, shaped like a BoardLine for the programme cells."""

    summary: BoardSummary

    @property
    def money(self) -> Money:
        return self.summary.total

    @property
    def programme(self) -> Money | None:
        return self.summary.programme

    @property
    def programme_share(self) -> Decimal | None:
        return self.summary.programme_share


def region_table(summary: BoardSummary, links: BoardLinks) -> Table:
    table = Table(
        name="regions",
        title=_("Results by region"),
        columns=[
            Column(_("Region")),
            Column(_("Country teams"), "count"),
            *_money_columns(),
            *_programme_columns(),
            *_progress_columns(),
        ],
        empty=_("No country team matches these filters."),
    )
    for line in summary.regions:
        count = sum(1 for team in summary.teams if team.obj.region == line.key)
        table.rows.append(
            [
                Cell(
                    line.label,
                    url=f"?{links.filters.query(region=line.key)}"
                    if not links.filters.region and not links.filters.team
                    else "",
                ),
                Cell(count),
                *_money_cells(line.money),
                *_programme_cells(line),
                *_progress_cells(line.progress),
            ]
        )
    table.footer = [
        Cell(_total_label()),
        Cell(len(summary.teams)),
        *_money_cells(summary.total),
        *_programme_cells(_TotalLine(summary)),
        *_progress_cells(summary.progress),
    ]
    return table


def agency_table(summary: BoardSummary, links: BoardLinks) -> Table:
    table = Table(
        name="agencies",
        title=_("Results and joint delivery by agency"),
        columns=[
            Column(_("Agency")),
            Column(_("Agency name"), file_only=True),
            *_money_columns(),
            *_programme_columns(),
            *_progress_columns(),
        ],
        empty=_("No agency has validated figures or indicators for these filters."),
    )
    for line in summary.agencies:
        agency = line.obj
        filtered = links.filters.agency is not None
        table.rows.append(
            [
                Cell(
                    agency.code,
                    note=agency.name,
                    url=""
                    if filtered
                    else f"?{links.filters.query(agency=agency.code)}",
                ),
                Cell(agency.name),
                *_money_cells(line.money),
                *_programme_cells(line),
                *_progress_cells(line.progress),
            ]
        )
    table.footer = [
        Cell(_("All agencies")),
        Cell(""),
        *_money_cells(summary.total),
        *_programme_cells(_TotalLine(summary)),
        Cell(None),
        Cell(None),
        Cell(None),
        Cell(None),
    ]
    table.notes = [
        _(
            "An indicator counts under every agency that contributes to its output "
            "or leads its outcome, so the indicator columns do not add up."
        )
    ]
    return table


def _tag_table(
    *,
    name: str,
    title: str,
    first: str,
    lines: list[BoardLine] | None,
    summary: BoardSummary,
    css: str,
    url: Callable[[BoardLine], str],
    counts_twice: str,
    misses: str,
    compared: str,
    unavailable: str,
) -> Table:
    table = Table(
        name=name,
        title=title,
        columns=[
            Column(first),
            Column(_("Title"), file_only=True),
            *_money_columns(),
            *_progress_columns(),
        ],
        empty=unavailable if lines is None else _("Nothing to show."),
    )
    for line in lines or []:
        table.rows.append(
            [
                Cell(
                    line.key,
                    note=line.label,
                    css=css.format(key=line.key) if css else "",
                    url=url(line),
                ),
                Cell(line.label),
                *_money_cells(line.money),
                *_progress_cells(line.progress),
            ]
        )
    if lines:
        table.footer = [
            Cell(_total_label()),
            Cell(""),
            *_money_cells(summary.total),
            *_progress_cells(summary.progress),
        ]
        table.notes = _notes(compared, counts_twice, misses)
    return table


def goal_table(summary: BoardSummary, links: BoardLinks) -> Table:
    filters = links.filters
    table = _tag_table(
        name="goals",
        title=_("Results by SDG goal"),
        first=_("Goal"),
        lines=summary.goals,
        summary=summary,
        css="sdg-{key}",
        url=lambda line: "" if filters.goal else f"?{filters.query(goal=line.key)}",
        counts_twice=_(
            "Money tagged to several SDG goals counts in full under each goal; the "
            "total counts it once, so the column adds up to more than the total."
        ),
        misses=_(
            "Activities without an SDG target count in the total only, so the "
            "column adds up to less than the total."
        ),
        compared=summary.goals_compared,
        unavailable=_(
            "Money by SDG goal is not kept per common-chapter area: clear the area "
            "filter to see it."
        ),
    )
    if summary.goals:
        table.notes.append(
            _(
                "An indicator counts under the goal of its SDG indicator, else under "
                "the goals of its outcome's SDG targets."
            )
        )
    return table


def area_table(summary: BoardSummary, links: BoardLinks) -> Table:
    filters = links.filters
    table = _tag_table(
        name="areas",
        title=_("Results by common-chapter area"),
        first=_("Area"),
        lines=summary.areas,
        summary=summary,
        css="",
        url=lambda line: "" if filters.area else f"?{filters.query(area=line.key)}",
        counts_twice=_(
            "Money tagged to several areas counts in full under each area; the "
            "total counts it once, so the column adds up to more than the total."
        ),
        misses=_(
            "Activities without a common-chapter area count in the total only, so "
            "the column adds up to less than the total."
        ),
        compared=summary.areas_compared,
        unavailable=_(
            "Money by common-chapter area is not kept per SDG goal: clear the goal "
            "filter to see it."
        ),
    )
    if summary.areas:
        table.notes.append(
            _(
                "An indicator counts under the areas of the joint activities with "
                "validated figures on its output (for an outcome indicator, on any "
                "of the outcome's outputs)."
            )
        )
    return table


def trend_table(summary: BoardSummary, links: BoardLinks) -> Table:
    table = Table(
        name="trend",
        title=_("Results over the years"),
        columns=[
            Column(_("Year")),
            Column(_("In the period shown")),
            *_money_columns(),
            *_programme_columns(),
            *_progress_columns(),
        ],
        empty=_("No year has validated figures for these filters yet."),
    )
    for line in summary.trend:
        table.rows.append(
            [
                Cell(
                    str(line.year),
                    url=f"?{links.filters.query(year=line.year)}"
                    if not line.in_period or links.filters.is_range
                    else "",
                    css="in-period" if line.in_period else "",
                ),
                Cell(_("yes") if line.in_period else ""),
                *_money_cells(line.money),
                *_programme_cells(line),
                *_progress_cells(line.progress),
            ]
        )
    table.notes = [
        _(
            "Each year counts indicators by their status at the end of that year; "
            "the period's figures above use the last year of the period."
        )
    ]
    return table


def gap_table(summary: BoardSummary, links: BoardLinks) -> Table:
    table = Table(
        name="gaps",
        title=_("Largest funding gaps by outcome"),
        columns=[
            Column(_("Country team")),
            Column(_("Outcome")),
            Column(_("Statement"), file_only=True),
            *_money_columns(),
        ],
        empty=(
            _(
                "Outcome figures are not kept per SDG goal or area: clear that "
                "filter to see the outcomes with the largest gaps."
            )
            if summary.outcome_gaps is None
            else _("No outcome has a funding gap for these filters.")
        ),
    )
    for gap in summary.outcome_gaps or []:
        table.rows.append(
            [
                Cell(gap.team.name, url=links.team(gap.team)),
                Cell(
                    gap.outcome.code,
                    note=gap.outcome.statement,
                    url=links.outcome(gap.team, gap.outcome),
                ),
                Cell(gap.outcome.statement),
                *_money_cells(gap.money),
            ]
        )
    return table


def map_table(summary: BoardSummary, links: BoardLinks) -> Table:
    """The teams the map colours, in the order of the chosen measure."""
    measure = links.filters.measure
    label = measure_choices()[measure]
    kind = (
        "money" if measure in ("required", "available", "spent", "gap") else "percent"
    )
    table = Table(
        name="map",
        title=_("Country teams: %(measure)s") % {"measure": label},
        columns=[
            Column(_("Country team")),
            Column(_("Code")),
            Column(_("Region")),
            Column(label, kind),
        ],
        empty=_("No country team matches these filters."),
    )
    lines = sorted(
        summary.teams,
        key=lambda line: (
            line.measure(measure) is None,
            -(line.measure(measure) or 0),
            line.label,
        ),
    )
    for line in lines:
        team = line.obj
        table.rows.append(
            [
                Cell(team.name, url=links.team(team)),
                Cell(team.code),
                Cell(team.get_region_display()),
                Cell(line.measure(measure)),
            ]
        )
    missing = [line.obj.code for line in lines if not iso_numeric(line.obj.code)]
    if missing:
        table.notes.append(
            _("Not on the map (no ISO 3166 country code): %(codes)s.")
            % {"codes": ", ".join(missing)}
        )
    return table


SUMMARY_TABLES = {
    "teams": team_table,
    "regions": region_table,
    "agencies": agency_table,
    "goals": goal_table,
    "areas": area_table,
    "trend": trend_table,
    "gaps": gap_table,
}
MAP_TABLES = {"map": map_table}


# --- the common chapter ----------------------------------------------------------


def cc_area_table(summary: CommonChapterSummary, links: BoardLinks) -> Table:
    statuses = dict(CommitmentStatus.choices)
    table = Table(
        name="cc-areas",
        title=_("Common-chapter areas at a glance"),
        columns=[
            Column(_("Area")),
            Column(_("Name"), file_only=True),
            Column(_("Countries with commitments"), "count"),
            Column(_("Commitments"), "count"),
            Column(_("Accelerator initiatives"), "count"),
            *(Column(str(label), "count") for label in statuses.values()),
            Column(_("Four agencies: spent (USD)"), "money"),
            # xgettext:no-python-format
            Column(_("Four agencies: delivery (% of available)"), "percent"),
            Column(_("All agencies: spent (USD)"), "money"),
            Column(_("Four agencies' share of spending (%)"), "percent"),
        ],
        empty=_("Common-chapter reference data is not loaded."),
    )
    for overview in summary.areas:
        area = overview.area
        table.rows.append(
            [
                Cell(
                    area.code,
                    note=area.name,
                    url=""
                    if links.filters.area
                    else f"?{links.filters.query(area=area.code)}",
                ),
                Cell(area.name),
                Cell(overview.countries),
                Cell(overview.commitments),
                Cell(overview.accelerators),
                *(Cell(overview.by_status[status]) for status in statuses),
                Cell(overview.signatories.spent),
                Cell(overview.signatories.delivery_percent),
                Cell(overview.everyone.spent),
                Cell(overview.signatory_share),
            ]
        )
    return table


def commitment_table(summary: CommonChapterSummary, links: BoardLinks) -> Table:
    kinds = dict(CommitmentKind.choices)
    statuses = dict(CommitmentStatus.choices)
    table = Table(
        name="commitments",
        title=_("Commitments and accelerator initiatives"),
        columns=[
            Column(_("Area")),
            Column(_("Country team")),
            Column(_("Kind")),
            Column(_("Title")),
            Column(_("Agencies")),
            Column(_("Year"), "year"),
            Column(_("Status"), "status"),
        ],
        empty=_("No commitment matches these filters."),
    )
    for commitment in summary.commitments:
        team = commitment.country_team
        table.rows.append(
            [
                Cell(commitment.area.code, note=commitment.area.name),
                Cell(team.name, url=links.team(team)),
                Cell(str(kinds[commitment.kind])),
                Cell(commitment.title, note=commitment.description),
                Cell(_agency_codes(commitment.agencies.all())),
                Cell(commitment.year),
                Cell(str(statuses[commitment.status]), css=commitment.status),
            ]
        )
    return table


def _agency_codes(agencies: Any) -> str:
    """Codes in the common chapter's order (UNDP, UNFPA, UNICEF, UN-Women)."""
    return ", ".join(sorted((a.code for a in agencies), key=signatory_order))


def cc_delivery_table(summary: CommonChapterSummary, links: BoardLinks) -> Table:
    signatories = summary.signatories
    table = Table(
        name="cc-delivery",
        title=_("Joint delivery of the four agencies by area and country"),
        columns=[
            Column(_("Area")),
            Column(_("Area name"), file_only=True),
            Column(_("Country team")),
            Column(_("Commitments"), "count"),
            Column(_("Accelerator initiatives"), "count"),
            *(
                Column(_("%(agency)s spent (USD)") % {"agency": agency.code}, "money")
                for agency in signatories
            ),
            Column(_("Four agencies: spent (USD)"), "money"),
            Column(_("Four agencies: available (USD)"), "money"),
            Column(_("Four agencies: delivery (%)"), "percent"),
            Column(_("All agencies: spent (USD)"), "money"),
            Column(_("Four agencies' share (%)"), "percent"),
        ],
        empty=_("No commitment or validated spending in these areas yet."),
    )
    for line in summary.delivery:
        together = line.signatories
        table.rows.append(
            [
                Cell(line.area.code),
                Cell(line.area.name),
                Cell(line.team.name, url=links.team(line.team)),
                Cell(line.commitments),
                Cell(line.accelerators),
                *(
                    Cell(line.by_signatory[agency.pk].spent)
                    if agency.pk in line.by_signatory
                    else Cell(None)
                    for agency in signatories
                ),
                Cell(together.spent),
                Cell(together.available),
                Cell(together.delivery_percent),
                Cell(line.everyone.spent),
                Cell(line.signatory_share),
            ]
        )
    return table


COMMON_CHAPTER_TABLES = {
    "cc-areas": cc_area_table,
    "commitments": commitment_table,
    "cc-delivery": cc_delivery_table,
}


# --- one team --------------------------------------------------------------------


def outcome_table(board: BoardTeam, links: BoardLinks) -> Table:
    team = board.team
    has_money = not links.filters.has_tag
    table = Table(
        name="outcomes",
        title=_("Outcomes"),
        columns=[
            Column(_("Outcome")),
            Column(_("Statement"), file_only=True),
            Column(_("Framework")),
            *(_money_columns() if has_money else []),
            *_progress_columns(),
        ],
        empty=_("No signed-off framework of this team covers the period."),
    )
    for line in board.outcomes:
        outcome = line.outcome
        table.rows.append(
            [
                AnchoredCell(
                    outcome.code,
                    note=outcome.statement,
                    url=links.dashboard(team, outcome),
                    anchor=f"outcome-{outcome.pk}",
                ),
                Cell(outcome.statement),
                Cell(
                    f"{outcome.framework.start_year}\u2013{outcome.framework.end_year}"
                ),
                *(_money_cells(line.money) if has_money else []),
                *_progress_cells(line.progress),
            ]
        )
    if not has_money:
        table.notes.append(
            _(
                "Money by outcome is not kept per SDG goal or area: clear that filter "
                "to see it. Indicators are those the filter keeps."
            )
        )
    elif board.outcomes:
        table.notes.append(
            _(
                "An activity linked to outputs of several outcomes counts under each; "
                "the team's total counts it once."
            )
        )
    return table


def indicator_table(board: BoardTeam, links: BoardLinks) -> Table:
    team = board.team
    labels = dict(ProgressStatus.choices)
    table = Table(
        name="indicators",
        title=_("Indicator progress at the end of the period"),
        columns=[
            Column(_("Indicator")),
            Column(_("Name"), file_only=True),
            Column(_("Outcome or output")),
            Column(_("Baseline"), "number"),
            Column(_("Value to date"), "number"),
            Column(_("Target"), "number"),
            Column(_("% of the way"), "percent"),
            Column(_("Expected by then (%)"), "percent"),
            Column(_("Status in"), "year"),
            Column(_("Status"), "status"),
        ],
        empty=_("No indicator matches these filters."),
    )
    for line in board.indicators:
        indicator, row = line.indicator, line.progress
        table.rows.append(
            [
                Cell(
                    indicator.code,
                    note=indicator.name,
                    url=links.indicator(team, indicator),
                ),
                Cell(indicator.name),
                Cell(line.level_code),
                Cell(_number(indicator.baseline_value)),
                Cell(_number(row.value if row else None)),
                Cell(_number(indicator.target_value)),
                Cell(row.percent_of_way if row else None),
                Cell(row.expected_percent if row else None),
                Cell(row.year if row else None),
                Cell(str(labels[line.status]), css=line.status),
            ]
        )
    return table


def team_agency_table(board: BoardTeam, links: BoardLinks) -> Table:
    return agency_table(board.summary, links)


def _number(value: Decimal | None) -> Decimal | None:
    """12.5000 reads 12.5."""
    if value is None:
        return None
    return (
        value.quantize(Decimal(1))
        if value == value.to_integral()
        else value.normalize()
    )


TEAM_TABLES = {
    "outcomes": outcome_table,
    "indicators": indicator_table,
    "agencies": team_agency_table,
}


# --- downloads -------------------------------------------------------------------


def describe_board_download(
    filters: BoardFilters, status: BoardStatus, table: Table
) -> list[tuple[str, Any]]:
    """The XLSX "About" sheet: what the table is, its filters and its age."""
    computed_at = status.computed_at
    return [
        (_("Table"), table.title),
        *filters.describe(),
        (
            _("As of"),
            computed_at.isoformat(timespec="seconds") if computed_at else _("never"),
        ),
        *((_("Note"), note) for note in table.notes),
        (_("Definition"), joint_definition()),
        (_("Definition"), progress_definition()),
    ]


def board_download_name(filters: BoardFilters, table: Table, extension: str) -> str:
    parts = ["unportal-board"]
    if filters.team:
        parts.append(filters.team.code)
    parts.append(filters.period_label.replace("\u2013", "-"))
    parts.extend(
        value
        for value in (
            filters.region,
            filters.agency.code if filters.agency else "",
            filters.area.code if filters.area else "",
            f"sdg{filters.goal.number}" if filters.goal else "",
        )
        if value
    )
    parts.append(table.name)
    return "-".join(parts) + f".{extension}"


# --- charts ----------------------------------------------------------------------


def _number_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _empty(chart: dict[str, Any]) -> dict[str, Any]:
    chart["empty"] = not any(
        value for dataset in chart["datasets"] for value in dataset["data"]
    )
    chart["empty_text"] = _("Nothing to chart for these filters yet.")
    return chart


def summary_charts(summary: BoardSummary) -> dict[str, dict[str, Any]]:
    """What board.js draws on the global summary; labels translated here."""
    trend = summary.trend
    teams = summary.teams_by_gap
    agencies = [line for line in summary.agencies if not line.money.is_empty]
    money_labels = (
        ("required", _("Required")),
        ("available", _("Available")),
        ("spent", _("Spent")),
    )
    charts: dict[str, dict[str, Any]] = {
        "trend": {
            "kind": "trend",
            "title": _("Money and indicators on track over the years"),
            "description": _(
                "Bars: required, available and spent (USD) per year; line: the "
                "share of indicators with data that are on track. The years of the "
                "period are marked. The table below lists the figures."
            ),
            "labels": [str(line.year) for line in trend],
            "highlight": [line.in_period for line in trend],
            "axis": _("USD"),
            # xgettext:no-python-format
            "axis_percent": _("% on track"),
            "datasets": [
                *(
                    {
                        "label": label,
                        "series": name,
                        "data": [
                            _number_or_none(getattr(line.money, name)) for line in trend
                        ],
                    }
                    for name, label in money_labels
                ),
                {
                    "label": _("Indicators on track (%)"),
                    "series": "on_track",
                    "data": [
                        _number_or_none(line.progress.on_track_percent)
                        for line in trend
                    ],
                },
            ],
        },
        "team_gaps": {
            "kind": "gaps",
            "title": _("Where the funding gaps are largest (USD)"),
            "description": _(
                "Required minus available per country team, the largest first. "
                "The table of country teams lists the figures."
            ),
            "labels": [line.label for line in teams],
            "axis": _("Funding gap (USD)"),
            "datasets": [
                {
                    "label": _("Funding gap"),
                    "data": [float(line.money.gap) for line in teams],
                }
            ],
        },
        "agencies": {
            "kind": "joint",
            "title": _(
                "What each agency spends, and how much through joint programmes"
            ),
            "description": _(
                "Each bar is one agency's spending on joint activities (USD), split "
                "into joint programmes and other joint work. The table below lists "
                "the figures."
            ),
            "labels": [line.key for line in agencies],
            "titles": [line.label for line in agencies],
            "short_labels": True,
            "axis": _("Spent (USD)"),
            "datasets": [
                {
                    "label": _("Through joint programmes"),
                    "series": "programme",
                    "data": [
                        _number_or_none(
                            line.programme.spent if line.programme else None
                        )
                        for line in agencies
                    ],
                },
                {
                    "label": _("Other joint activities"),
                    "series": "other",
                    "data": [
                        _number_or_none(
                            line.money.spent - line.programme.spent
                            if line.programme
                            else line.money.spent
                        )
                        for line in agencies
                    ],
                },
            ],
        },
    }
    if summary.goals is not None:
        goals = summary.goals
        charts["goals"] = {
            "kind": "sdg",
            "title": _("Required by SDG goal (USD)"),
            "description": _(
                "One bar per goal, in the goal's official colour; money tagged to "
                "several goals counts under each. The table below lists the figures."
            ),
            "labels": [line.key for line in goals],
            "titles": [
                _("SDG %(number)s: %(title)s")
                % {"number": line.key, "title": line.label}
                for line in goals
            ],
            "axis": _("Required (USD)"),
            "datasets": [
                {
                    "label": _("Required"),
                    "data": [float(line.money.required) for line in goals],
                }
            ],
        }
    if summary.areas is not None:
        areas = summary.areas
        charts["areas"] = {
            "kind": "grouped",
            "title": _("Required, available and spent by common-chapter area (USD)"),
            "description": _(
                "Three bars per area; money tagged to several areas counts under "
                "each. The table below lists the figures."
            ),
            "labels": [line.key for line in areas],
            "titles": [line.label for line in areas],
            "axis": _("USD"),
            "datasets": [
                {
                    "label": label,
                    "series": name,
                    "data": [float(getattr(line.money, name)) for line in areas],
                }
                for name, label in money_labels
            ],
        }
    return {name: _empty(chart) for name, chart in charts.items()}


def map_chart(summary: BoardSummary, links: BoardLinks) -> dict[str, Any]:
    """The world map's data: one entry per team ISO knows."""
    measure = links.filters.measure
    label = measure_choices()[measure]
    teams = []
    for line in summary.teams:
        numeric = iso_numeric(line.obj.code)
        value = line.measure(measure)
        if numeric:
            teams.append(
                {
                    "id": numeric,
                    "code": line.obj.code,
                    "name": line.label,
                    "value": _number_or_none(value),
                    "url": links.team(line.obj),
                }
            )
    return {
        "kind": "map",
        "title": _("Country teams: %(measure)s") % {"measure": label},
        "description": _(
            "Darker countries have higher values; grey ones have no figure for "
            "this measure, and countries without a team are not coloured. Select a "
            "country to open its team. The table beside the map lists every team."
        ),
        "measure": measure,
        "label": label,
        "percent": measure not in ("required", "available", "spent", "gap"),
        "no_value": _("no figure"),
        "teams": teams,
        "datasets": [{"data": [team["value"] for team in teams]}],
        "empty": not teams,
        "empty_text": _("No country team matches these filters."),
    }


def common_chapter_charts(summary: CommonChapterSummary) -> dict[str, dict[str, Any]]:
    areas = summary.areas
    chart = {
        "kind": "stacked",
        "title": _("What the four agencies spent by area (USD)"),
        "description": _(
            "Each bar is one area, split by signatory agency: validated spending "
            "through joint activities tagged to the area. The table below lists "
            "the figures."
        ),
        "labels": [overview.area.code for overview in areas],
        "titles": [overview.area.name for overview in areas],
        "axis": _("Spent (USD)"),
        "datasets": [
            {
                "label": agency.code,
                "series": position + 1,
                "data": [
                    float(
                        sum(
                            (
                                line.by_signatory[agency.pk].spent
                                for line in summary.delivery
                                if line.area.pk == overview.area.pk
                                and agency.pk in line.by_signatory
                            ),
                            Decimal(0),
                        )
                    )
                    for overview in areas
                ],
            }
            for position, agency in enumerate(summary.signatories)
        ],
    }
    return {"signatories": _empty(chart)}


def team_charts(board: BoardTeam) -> dict[str, dict[str, Any]]:
    outcomes = [line for line in board.outcomes if line.money is not None]
    chart = {
        "kind": "grouped",
        "title": _("Required, available and spent by outcome (USD)"),
        "description": _(
            "Three bars per outcome over the period. The table below lists the figures."
        ),
        "labels": [line.outcome.code for line in outcomes],
        "titles": [line.outcome.statement for line in outcomes],
        "axis": _("USD"),
        "datasets": [
            {
                "label": label,
                "series": name,
                "data": [float(getattr(line.money, name)) for line in outcomes],
            }
            for name, label in (
                ("required", _("Required")),
                ("available", _("Available")),
                ("spent", _("Spent")),
            )
        ],
    }
    return {"outcomes": _empty(chart)}
