"""The coherence pages' tables, for the page and for download, and their chart
data. Built with the dashboard's `Table`, so a download holds exactly the rows
on screen and is written by the same CSV and XLSX writers."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from reporting.coherence_selectors import (
    ADVANTAGE_DEFINITION,
    PART_LABELS,
    SCORE_DEFINITION,
    BoardCoherence,
    CoherencePage,
    CoverageLine,
    Scorecard,
)
from reporting.exports import Cell, Column, Table
from reporting.models import Basis
from reporting.models.coherence import LNOB_DIMENSIONS, AlertStatus

if TYPE_CHECKING:
    from collections.abc import Callable

PART_KEYS = tuple(PART_LABELS)


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --- the team page -----------------------------------------------------------------


def scorecard_table(page: CoherencePage) -> Table:
    table = Table(
        name="scorecard",
        title=_("Coherence scorecard %(year)s") % {"year": page.year},
        columns=[
            Column(_("Part")),
            Column(_("Share"), "percent"),
            Column(_("Of"), "text"),
            Column(_("Definition"), file_only=True),
        ],
        empty=_("No figures for this year yet."),
    )
    card = page.scorecard
    if card is None or not card.has_data:
        return table
    for part in card.parts:
        whole = part.whole
        table.rows.append(
            [
                Cell(part.label),
                Cell(part.percent),
                Cell(_of(part.part, whole)),
                Cell(part.definition),
            ]
        )
    table.footer = [
        Cell(_("Coherence score")),
        Cell(card.score),
        Cell(""),
        Cell(str(SCORE_DEFINITION)),
    ]
    return table


def _of(part: Decimal | int, whole: Decimal | int) -> str:
    if isinstance(whole, Decimal):
        return _("%(part)s of %(whole)s USD") % {
            "part": number_format(part, 0, force_grouping=True),
            "whole": number_format(whole, 0, force_grouping=True),
        }
    return _("%(part)s of %(whole)s") % {"part": part, "whole": whole}


def _trend_columns() -> list[Column]:
    return [
        Column(_("Score"), "percent"),
        *(Column(str(PART_LABELS[key]), "percent") for key in PART_KEYS),
    ]


def _trend_cells(card: Scorecard) -> list[Cell]:
    parts = {part.key: part for part in card.parts}
    return [
        Cell(card.score),
        *(Cell(parts[key].percent if key in parts else None) for key in PART_KEYS),
    ]


def trend_table(page: CoherencePage) -> Table:
    table = Table(
        name="trend",
        title=_("Coherence over the years (%)"),
        columns=[
            Column(_("Year")),
            *_trend_columns(),
            Column(_("Spent (USD)"), "money"),
        ],
        empty=_("No figures yet."),
    )
    for card in reversed(page.trend):
        table.rows.append(
            [
                Cell(str(card.year)),
                *_trend_cells(card),
                Cell(card.row.spent if card.row else None),
            ]
        )
    return table


def delivery_table(page: CoherencePage) -> Table:
    table = Table(
        name="delivery",
        title=_("Money delivered jointly, by agency (USD)"),
        columns=[
            Column(_("Agency")),
            Column(_("Agency name"), file_only=True),
            Column(_("Spent"), "money"),
            Column(_("In joint programmes"), "money"),
            Column(_("On activities shared with other agencies"), "money"),
            Column(_("Alone"), "money"),
            Column(_("Delivered jointly"), "percent"),
            Column(_("Joint activities"), "count"),
        ],
        empty=_("No agency delivered anything this year."),
    )

    def cells(line, label: str, name: str = "") -> list[Cell]:
        row = line.row
        return [
            Cell(label, note=name),
            Cell(name),
            Cell(row.spent),
            Cell(row.programme_spent),
            Cell(line.other_joint_spent),
            Cell(line.single_spent),
            Cell(line.joint_percent),
            Cell(row.activity_count),
        ]

    for line in page.delivery:
        table.rows.append(cells(line, line.agency.code, line.agency.name))
    if page.delivery_total:
        table.footer = cells(page.delivery_total, _("All agencies"))
    table.notes = [
        _(
            "Joint: in a joint programme, or on an activity two or more agencies "
            "deliver in the year. Money counts in the first that applies."
        )
    ]
    return table


def outputs_table(page: CoherencePage) -> Table:
    table = Table(
        name="outputs",
        title=_("Agencies delivering each output"),
        columns=[
            Column(_("Output")),
            Column(_("Statement"), file_only=True),
            Column(_("Outcome")),
            Column(_("Delivering agencies"), "count"),
            Column(_("Agencies in the framework"), "count"),
            Column(_("Single agency")),
            Column(_("Spent (USD)"), "money"),
        ],
        empty=_("No output had delivery this year."),
    )
    for row in page.outputs:
        table.rows.append(
            [
                Cell(row.output.code, note=row.output.statement),
                Cell(row.output.statement),
                Cell(row.outcome.code),
                Cell(row.agency_count),
                Cell(row.planned_agency_count),
                Cell(
                    row.sole_agency.code if row.sole_agency else "",
                    css="coh-single" if row.sole_agency else "",
                ),
                Cell(row.spent),
            ]
        )
    card = page.scorecard
    if card and card.agencies_per_output is not None:
        table.notes = [
            _("%(n)s agencies deliver an output on average.")
            % {"n": card.agencies_per_output}
        ]
    return table


def _activity_url(page: CoherencePage, activity_id: int) -> str:
    return reverse(
        "frameworks:activity_detail",
        kwargs={"code": page.team.code, "pk": activity_id},
    )


def alerts_table(page: CoherencePage) -> Table:
    table = Table(
        name="alerts",
        title=_("Overlap and duplication alerts"),
        columns=[
            Column(_("Activity")),
            Column(_("Lead agency")),
            Column(_("Similar activity")),
            Column(_("Its lead agency")),
            Column(_("Title similarity"), "percent"),
            Column(_("Shared outputs")),
            Column(_("Shared locations")),
            Column(_("Together from")),
            Column(_("Until")),
            Column(_("Status")),
            Column(_("Decided by")),
            Column(_("Comment")),
        ],
        empty=_("No overlapping activities found."),
    )
    labels = dict(AlertStatus.choices)
    for line in [*page.alerts.open, *page.alerts.decided]:
        alert, decision = line.alert, line.decision
        table.rows.append(
            [
                Cell(
                    alert.activity_a.title,
                    url=_activity_url(page, alert.activity_a_id),
                ),
                Cell(alert.agency_a.code),
                Cell(
                    alert.activity_b.title,
                    url=_activity_url(page, alert.activity_b_id),
                ),
                Cell(alert.agency_b.code),
                Cell(line.percent),
                Cell(", ".join(output.code for output in line.outputs)),
                Cell(", ".join(region.name for region in line.locations)),
                Cell(alert.overlap_start.isoformat()),
                Cell(alert.overlap_end.isoformat()),
                Cell(str(labels[alert.status])),
                Cell(str(decision.decided_by or "") if decision else ""),
                Cell(decision.comment if decision else ""),
            ]
        )
    return table


def advantage_table(page: CoherencePage) -> Table:
    table = Table(
        name="advantage",
        title=_("Comparative advantage by outcome"),
        columns=[
            Column(_("Outcome")),
            Column(_("Agency")),
            Column(_("Resident")),
            Column(_("Lead agency now")),
            Column(_("Share of delivery"), "percent"),
            Column(_("Funds mobilised (USD)"), "money"),
            Column(_("Share of funds"), "percent"),
            Column(_("Indicators reported"), "count"),
            Column(_("Indicators with a target"), "count"),
            Column(_("Results reported"), "percent"),
            Column(_("Advantage"), "percent"),
        ],
        empty=_("No agency delivered under an outcome this year."),
    )
    for group in page.advantage:
        strongest = group.strongest
        for line in group.lines:
            table.rows.append(
                [
                    Cell(group.outcome.code, note=group.outcome.statement),
                    Cell(
                        line.agency.code,
                        note=_("strongest resident agency")
                        if line is strongest
                        else "",
                        css="coh-strongest" if line is strongest else "",
                    ),
                    Cell(_yes_no(line.is_resident)),
                    Cell(_yes_no(line.is_lead)),
                    Cell(line.delivery_percent),
                    Cell(line.row.available),
                    Cell(line.mobilised_percent),
                    Cell(line.row.indicators_reported),
                    Cell(line.row.indicator_count),
                    Cell(line.results_percent),
                    Cell(line.advantage),
                ]
            )
    table.notes = [str(ADVANTAGE_DEFINITION)]
    return table


def advantage_outcome_tables(page: CoherencePage) -> list[tuple[Any, Table]]:
    """One table per outcome for the page; the download is `advantage_table`."""
    found = []
    for group in page.advantage:
        strongest = group.strongest
        table = Table(
            name="advantage",
            title=_("Agencies under outcome %(code)s") % {"code": group.outcome.code},
            columns=[
                Column(_("Agency")),
                Column(_("Resident")),
                Column(_("Leads it now")),
                Column(_("Share of delivery"), "percent"),
                Column(_("Funds mobilised (USD)"), "money"),
                Column(_("Share of funds"), "percent"),
                Column(_("Indicators reported"), "count"),
                Column(_("Results reported"), "percent"),
                Column(_("Advantage"), "percent"),
            ],
        )
        for line in group.lines:
            is_strongest = line is strongest
            table.rows.append(
                [
                    Cell(
                        line.agency.code,
                        note=_("strongest resident agency") if is_strongest else "",
                        css="coh-strongest" if is_strongest else "",
                    ),
                    Cell(_yes_no(line.is_resident)),
                    Cell(_yes_no(line.is_lead)),
                    Cell(line.delivery_percent),
                    Cell(line.row.available),
                    Cell(line.mobilised_percent),
                    Cell(
                        line.row.indicators_reported,
                        note=_("of %(n)s with a target")
                        % {"n": line.row.indicator_count},
                    ),
                    Cell(line.results_percent),
                    Cell(line.advantage),
                ]
            )
        found.append((group, table))
    return found


def network_table(page: CoherencePage) -> Table:
    table = Table(
        name="network",
        title=_("Agencies working together"),
        columns=[
            Column(_("Agency")),
            Column(_("Works with")),
            Column(_("Shared joint activities"), "count"),
            Column(_("Shared joint programmes"), "count"),
            Column(_("Spent by the two on shared activities (USD)"), "money"),
        ],
        empty=_("No two agencies worked together this year."),
    )
    for link in page.network.links if page.network else []:
        table.rows.append(
            [
                Cell(link.agency_a.code),
                Cell(link.agency_b.code),
                Cell(link.shared_activities),
                Cell(link.shared_programmes),
                Cell(link.shared_spent),
            ]
        )
    return table


def network_agencies_table(page: CoherencePage) -> Table:
    table = Table(
        name="network-agencies",
        title=_("Agencies at work and their partners"),
        columns=[
            Column(_("Agency")),
            Column(_("Agency name"), file_only=True),
            Column(_("Resident")),
            Column(_("Partners"), "count"),
            Column(_("Spent (USD)"), "money"),
        ],
        empty=_("No agency at work this year."),
    )
    for node in page.network.nodes if page.network else []:
        table.rows.append(
            [
                Cell(node.agency.code, note=node.agency.name),
                Cell(node.agency.name),
                Cell(_yes_no(node.is_resident)),
                Cell(node.partners),
                Cell(node.spent),
            ]
        )
    return table


def _coverage_columns(first: str) -> list[Column]:
    columns = [Column(first), Column(_("Name"), file_only=True)]
    columns.append(Column(_("Values reported"), "count"))
    labels = {
        "sex": _("By sex"),
        "age": _("By age"),
        "disability": _("By disability"),
        "location": _("By location"),
    }
    for dimension in LNOB_DIMENSIONS:
        label = labels[dimension]
        columns += [
            Column(_("%(label)s: asked") % {"label": label}, "count", file_only=True),
            Column(_("%(label)s: given") % {"label": label}, "count", file_only=True),
            Column(f"{label} (%)", "percent"),
        ]
    columns.append(Column(_("Every breakdown asked for"), "percent"))
    return columns


def _coverage_cells(line: CoverageLine, first: Cell) -> list[Cell]:
    cells = [first, Cell(line.label), Cell(line.row.value_count)]
    for _name, count, expected, share in line.dimensions:
        cells += [
            Cell(expected),
            Cell(count),
            Cell(share, note="" if expected else _("not asked")),
        ]
    cells.append(Cell(line.complete_percent))
    return cells


def disaggregation_table(page: CoherencePage) -> Table:
    table = Table(
        name="disaggregation",
        title=_("Disaggregated results by outcome"),
        columns=_coverage_columns(_("Outcome")),
        empty=_("No indicator values were reported this year."),
    )
    lnob = page.lnob
    if lnob is None:
        return table
    for line in lnob.outcomes:
        table.rows.append(_coverage_cells(line, Cell(line.code, note=line.label)))
    if lnob.team:
        table.footer = _coverage_cells(lnob.team, Cell(_("All indicators")))
    table.notes = [
        _(
            "A share counts the values of indicators that ask for the breakdown; "
            "“—” means no indicator with values asks for it."
        )
    ]
    return table


def indicator_disaggregation_table(page: CoherencePage) -> Table:
    table = Table(
        name="indicator-disaggregation",
        title=_("Disaggregated results by indicator"),
        columns=_coverage_columns(_("Indicator")),
        empty=_("No indicator values were reported this year."),
    )
    for line in page.lnob.indicators if page.lnob else []:
        table.rows.append(_coverage_cells(line, Cell(line.code, note=line.label)))
    return table


def target_group_table(page: CoherencePage) -> Table:
    table = Table(
        name="target-groups",
        title=_("Money by Leave No One Behind target group (USD)"),
        columns=[
            Column(_("Target group")),
            Column(_("Required"), "money"),
            Column(_("Available"), "money"),
            Column(_("Spent"), "money"),
            Column(_("Joint activities"), "count"),
        ],
        empty=_("No money this year."),
    )
    for line in page.lnob.target_groups if page.lnob else []:
        table.rows.append(
            [
                Cell(line.label),
                Cell(line.row.required),
                Cell(line.row.available),
                Cell(line.row.spent),
                Cell(line.row.activity_count),
            ]
        )
    table.notes = [
        _(
            "Target groups are recorded per joint activity, not per contribution "
            "or result: each group shows the full money of the activities naming "
            "it, so an activity naming two groups counts in both and the rows do "
            "not add up."
        )
    ]
    return table


def common_chapter_table(page: CoherencePage) -> Table:
    signatories = page.signatories
    table = Table(
        name="common-chapter",
        title=_("Common-chapter joint delivery by area (USD)"),
        columns=[
            Column(_("Area")),
            Column(_("Area name"), file_only=True),
            Column(_("Signatories' spent"), "money"),
            Column(_("With another signatory"), "money"),
            Column(_("Joint"), "percent"),
            Column(_("Signatories delivering"), "count"),
            *(Column(agency.code, "money") for agency in signatories),
        ],
        empty=_("Common-chapter reference data is not loaded."),
    )
    table.notes = [
        _(
            "Under each signatory: what it spent on activities of the area that "
            "another signatory delivers too."
        )
    ]
    for line in page.areas:
        total = line.total
        table.rows.append(
            [
                Cell(line.area.code, note=line.area.name),
                Cell(line.area.name),
                Cell(total.spent if total else None),
                Cell(total.joint_spent if total else None),
                Cell(line.joint_percent),
                Cell(total.signatory_count if total else None),
                *(
                    Cell(
                        line.by_agency[agency.pk].joint_spent
                        if agency.pk in line.by_agency
                        else None
                    )
                    for agency in signatories
                ),
            ]
        )
    return table


TEAM_TABLES: dict[str, Callable[[CoherencePage], Table]] = {
    "scorecard": scorecard_table,
    "trend": trend_table,
    "delivery": delivery_table,
    "outputs": outputs_table,
    "alerts": alerts_table,
    "advantage": advantage_table,
    "network": network_table,
    "network-agencies": network_agencies_table,
    "disaggregation": disaggregation_table,
    "indicator-disaggregation": indicator_disaggregation_table,
    "target-groups": target_group_table,
    "common-chapter": common_chapter_table,
}


def build_team_tables(page: CoherencePage) -> dict[str, Table]:
    return {name: build(page) for name, build in TEAM_TABLES.items()}


def describe_team_download(page: CoherencePage, table: Table) -> list[tuple[str, Any]]:
    computed_at = page.status.computed_at
    return [
        (_("Table"), table.title),
        (_("Country team"), f"{page.team.name} ({page.team.code})"),
        (_("Year"), page.year),
        (_("Figures"), str(Basis(page.basis).label)),
        (
            _("As of"),
            computed_at.isoformat(timespec="seconds") if computed_at else _("never"),
        ),
        *((_("Note"), note) for note in table.notes),
    ]


def team_download_name(page: CoherencePage, table: Table, extension: str) -> str:
    year = page.year or "all"
    return (
        f"unportal-{page.team.code}-{year}-{page.basis}-coherence-"
        f"{table.name}.{extension}"
    )


def build_team_charts(page: CoherencePage) -> dict[str, dict[str, Any]]:
    """What the page's scripts draw; every chart has its table on the page."""
    if not page.has_data:
        return {}
    charts: dict[str, dict[str, Any]] = {
        "trend": {
            "kind": "trend",
            "title": _("Coherence score and its parts over the years (%)"),
            "description": _(
                "One line per part of the score and a thicker one for the score. "
                "The table below lists the figures."
            ),
            "labels": [str(card.year) for card in page.trend],
            "axis": _("%"),
            "datasets": [
                {
                    "label": _("Coherence score"),
                    "score": True,
                    "data": [_float(card.score) for card in page.trend],
                },
                *(
                    {
                        "label": str(PART_LABELS[key]),
                        "series": position,
                        "data": [
                            _float(card.part(key).percent) if card.part(key) else None
                            for card in page.trend
                        ],
                    }
                    for position, key in enumerate(PART_KEYS, start=1)
                ),
            ],
        },
        "delivery": {
            "kind": "stacked",
            "title": _("Money spent by agency, jointly and alone (USD)"),
            "description": _(
                "Each bar is one agency's spending, split into joint programmes, "
                "activities shared with other agencies and work done alone. The "
                "table below lists the figures."
            ),
            "labels": [line.agency.code for line in page.delivery],
            "titles": [line.agency.name for line in page.delivery],
            "axis": _("Spent (USD)"),
            "datasets": [
                {
                    "label": label,
                    "series": series,
                    "data": [float(value(line)) for line in page.delivery],
                }
                for series, label, value in (
                    (
                        1,
                        _("In joint programmes"),
                        lambda line: line.row.programme_spent,
                    ),
                    (
                        3,
                        _("On shared activities"),
                        lambda line: line.other_joint_spent,
                    ),
                    (9, _("Alone"), lambda line: line.single_spent),
                )
            ],
        },
    }
    for chart in charts.values():
        chart["empty"] = not any(
            value for dataset in chart["datasets"] for value in dataset["data"]
        )
        chart["empty_text"] = _("Nothing to chart for this year yet.")
    return charts


# --- the board ------------------------------------------------------------------------


def board_table(board: BoardCoherence) -> Table:
    table = Table(
        name="countries",
        title=_("Coherence by country, %(year)s (validated figures)")
        % {"year": board.year},
        columns=[
            Column(_("Country")),
            Column(_("Code"), file_only=True),
            *_trend_columns(),
            Column(_("Overlaps to review"), "count"),
            Column(_("Confirmed overlaps"), "count"),
            Column(_("Spent (USD)"), "money"),
        ],
        empty=_("No country team has validated figures yet."),
    )
    for line in board.lines:
        card = line.scorecard
        table.rows.append(
            [
                Cell(line.team.name),
                Cell(line.team.code),
                *_trend_cells(card),
                Cell(line.open_alerts),
                Cell(line.confirmed_alerts),
                Cell(card.row.spent if card.row else None),
            ]
        )
    return table


def board_trend_table(board: BoardCoherence) -> Table:
    table = Table(
        name="trend",
        title=_("Coherence score by country and year (validated figures)"),
        columns=[
            Column(_("Country")),
            *(Column(str(year), "percent") for year in board.years),
        ],
        empty=_("No country team has validated figures yet."),
    )
    for line in sorted(board.lines, key=lambda line: line.team.name):
        table.rows.append(
            [
                Cell(line.team.name),
                *(Cell(line.trend.get(year)) for year in board.years),
            ]
        )
    return table


BOARD_TABLES: dict[str, Callable[[BoardCoherence], Table]] = {
    "countries": board_table,
    "trend": board_trend_table,
}


def build_board_tables(board: BoardCoherence) -> dict[str, Table]:
    return {name: build(board) for name, build in BOARD_TABLES.items()}


def describe_board_download(board: BoardCoherence, table: Table) -> list[tuple]:
    return [
        (_("Table"), table.title),
        (_("Year"), board.year),
        (_("Figures"), str(Basis.VALIDATED.label)),
        (_("Score"), str(SCORE_DEFINITION)),
    ]


def build_board_chart(board: BoardCoherence) -> dict[str, Any]:
    lines = [line for line in board.lines if line.scorecard.score is not None]
    return {
        "kind": "scores",
        "title": _("Coherence score by country, %(year)s (%%)") % {"year": board.year},
        "description": _(
            "One bar per country team, highest first. The table below lists the "
            "score and its parts."
        ),
        "labels": [line.team.name for line in lines],
        "axis": _("Coherence score (%)"),
        "datasets": [
            {
                "label": _("Coherence score"),
                "data": [_float(line.scorecard.score) for line in lines],
            }
        ],
        "empty": not lines,
        "empty_text": _("No country team has validated figures yet."),
    }
