"""The strategic-plan board's tables, for the page and for download.

Built with the dashboard's Table, Column and Cell, so a download holds exactly
the rows on screen, and written with its CSV and XLSX writers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from reporting.exports import Cell, Column, Table, table_notes
from reporting.models import Basis

if TYPE_CHECKING:
    from collections.abc import Callable

    from reporting.strategic_plan_selectors import (
        CountryLine,
        Delivery,
        PlanBoard,
        PlanBoardFilters,
    )


# (name, label, kind) of the delivery figures, in column order.
_MEASURES = (
    ("required", _lazy("Required (USD)"), "money"),
    ("available", _lazy("Available (USD)"), "money"),
    ("spent", _lazy("Spent (USD)"), "money"),
    ("gap", _lazy("Funding gap (USD)"), "money"),
    ("delivery_percent", _lazy("Delivery (% spent)"), "percent"),
    ("contribution_count", _lazy("Contributions"), "count"),
    ("activity_count", _lazy("Joint activities"), "count"),
    ("reach", _lazy("People reached"), "count"),
)


def _delivery_columns(on_screen: tuple[str, ...]) -> list[Column]:
    """Every delivery figure; those not named `on_screen` go to files only,
    so wide tables stay readable while downloads keep everything."""
    return [
        Column(str(label), kind, file_only=name not in on_screen)
        for name, label, kind in _MEASURES
    ]


def _delivery_cells(delivery: Delivery) -> list[Cell]:
    # An empty row reads "none" on screen and stays blank in files.
    if delivery.is_empty:
        return [Cell(None) for _measure in _MEASURES]
    return [
        Cell(
            getattr(delivery, name),
            css="gap" if name == "gap" and delivery.gap > 0 else "",
        )
        for name, _label, _kind in _MEASURES
    ]


COUNTRY_SCREEN = (
    "required",
    "available",
    "spent",
    "delivery_percent",
    "contribution_count",
    "reach",
)
OUTCOME_SCREEN = (
    "required",
    "available",
    "spent",
    "delivery_percent",
    "contribution_count",
)
OUTPUT_SCREEN = ("required", "available", "spent", "contribution_count")
RESULT_SCREEN = ("required", "available", "spent", "contribution_count", "reach")


def _total_label() -> str:
    return _("Total, each contribution once")


def drill_down_url(country: CountryLine, filters: PlanBoardFilters) -> str:
    """Where a country's figures lead: its team dashboard for the year shown (or
    the latest year with figures) for those who may open it, else the board's
    own page of the team, if the board pages are installed."""
    if not country.can_view:
        try:
            return reverse("board:team", kwargs={"code": country.team.code})
        except NoReverseMatch:
            return ""
    year = filters.year or country.latest_year
    query = urlencode({"year": year or "", "basis": Basis.VALIDATED})
    base = reverse("reporting:dashboard", kwargs={"code": country.team.code})
    return f"{base}?{query}"


def country_table(board: PlanBoard, filters: PlanBoardFilters) -> Table:
    table = Table(
        name="countries",
        title=_("%(plan)s: delivery through joint work, by country")
        % {"plan": board.plan.title},
        columns=[
            Column(_("Country team")),
            Column(_("Code"), file_only=True),
            Column(_("Region")),
            *_delivery_columns(COUNTRY_SCREEN),
            Column(_("Plan outputs served"), "count"),
            Column(_("Framework outputs aligned"), "count", file_only=True),
        ],
        empty=_("No validated joint work is linked to this plan yet."),
    )
    for country in board.countries:
        team = country.team
        table.rows.append(
            [
                Cell(team.name, url=drill_down_url(country, filters)),
                Cell(team.code),
                Cell(str(team.get_region_display())),
                *_delivery_cells(country.delivery),
                Cell(country.outputs_reached),
                Cell(country.framework_output_count),
            ]
        )
    if board.countries:
        table.footer = [
            Cell(_total_label()),
            Cell(""),
            Cell(""),
            *_delivery_cells(board.total),
            Cell(board.outputs_reached),
            Cell(sum(c.framework_output_count for c in board.countries)),
        ]
    return table


def outcome_table(board: PlanBoard, filters: PlanBoardFilters) -> Table:
    table = Table(
        name="outcomes",
        title=_("%(plan)s: delivery by outcome") % {"plan": board.plan.title},
        columns=[
            Column(_("Outcome")),
            Column(_("Title")),
            *_delivery_columns(OUTCOME_SCREEN),
            Column(_("Countries"), "count"),
        ],
        empty=_("The plan's outputs serve all its outcomes; see them below."),
    )
    for group in board.outcomes:
        if group.outcome is None:
            continue
        delivery = group.delivery
        table.rows.append(
            [
                Cell(group.outcome.code),
                Cell(group.outcome.title),
                *_delivery_cells(delivery),
                Cell(len(group.by_team)),
            ]
        )
    if table.rows:
        table.footer = [
            Cell(_total_label()),
            Cell(""),
            *_delivery_cells(board.total),
            Cell(len(board.countries)),
        ]
        table.notes = [
            _(
                "A contribution linked to outputs of several outcomes counts under "
                "each; the total counts it once."
            )
        ]
    return table


def output_table(board: PlanBoard, filters: PlanBoardFilters) -> Table:
    table = Table(
        name="outputs",
        title=_("%(plan)s: delivery by output") % {"plan": board.plan.title},
        columns=[
            Column(_("Output")),
            Column(_("Title")),
            Column(_("Outcome")),
            *_delivery_columns(OUTPUT_SCREEN),
            Column(_("Countries"), "count"),
            Column(_("Framework outputs aligned"), "count"),
        ],
        empty=_("The plan has no outputs."),
    )
    for group, line in board.outputs:
        table.rows.append(
            [
                Cell(line.output.code),
                Cell(line.output.title),
                Cell(group.outcome.code if group.outcome else _("All outcomes")),
                *_delivery_cells(line.delivery),
                Cell(line.country_count),
                Cell(line.framework_output_count),
            ]
        )
    table.footer = [
        Cell(_total_label()),
        Cell(""),
        Cell(""),
        *_delivery_cells(board.total),
        Cell(len(board.countries)),
        Cell(sum(line.framework_output_count for _g, line in board.outputs)),
    ]
    table.notes = [
        _(
            "A contribution linked to several outputs counts under each; the total "
            "counts it once."
        )
    ]
    return table


def result_table(board: PlanBoard, filters: PlanBoardFilters) -> Table:
    table = Table(
        name="results",
        title=_("%(plan)s: results country by country") % {"plan": board.plan.title},
        columns=[
            Column(_("Country team")),
            Column(_("Outcome"), file_only=True),
            Column(_("Output")),
            Column(_("Output title")),
            *_delivery_columns(RESULT_SCREEN),
            Column(_("Framework outputs aligned")),
        ],
        empty=_("No validated joint work is linked to this plan yet."),
    )
    dashboards = {c.team.pk: drill_down_url(c, filters) for c in board.countries}
    for line in board.results:
        table.rows.append(
            [
                Cell(line.team.name, url=dashboards.get(line.team.pk, "")),
                Cell(line.outcome.code if line.outcome else _("All outcomes")),
                Cell(line.output.code),
                Cell(line.output.title),
                *_delivery_cells(line.delivery),
                Cell(", ".join(line.framework_outputs)),
            ]
        )
    return table


TABLES: dict[str, Callable[[PlanBoard, PlanBoardFilters], Table]] = {
    "countries": country_table,
    "outcomes": outcome_table,
    "outputs": output_table,
    "results": result_table,
}


def build_plan_tables(board: PlanBoard, filters: PlanBoardFilters) -> list[Table]:
    """Every table of one plan's section, in page order."""
    return [build(board, filters) for build in TABLES.values()]


def describe_filters(filters: PlanBoardFilters) -> list[tuple[str, Any]]:
    every = _("all")
    return [
        (_("Agency"), filters.agency.code if filters.agency else every),
        (_("Year"), filters.year or _("every year of the plan")),
        (_("Region"), filters.region or every),
    ]


def describe_download(
    board: PlanBoard, table: Table, filters: PlanBoardFilters
) -> list[tuple[str, Any]]:
    plan = board.plan
    return [
        (_("Table"), table.title),
        (_("Strategic plan"), plan.title),
        (_("Source"), f"{plan.source_document} {plan.source_url}".strip()),
        *describe_filters(filters),
        (_("Figures"), _("Validated contributions only")),
        *table_notes(table),
    ]


def download_name(board: PlanBoard, table: Table, extension: str) -> str:
    plan = board.plan
    return (
        f"unportal-strategic-plan-{plan.agency.code}-{plan.start_year}-"
        f"{plan.end_year}-{table.name}.{extension}"
    )
