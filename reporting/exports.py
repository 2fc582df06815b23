"""The dashboard's tables, for the page and for download, and its chart data.

A table is built once from a `Dashboard` and then either rendered on the page
or written as CSV or XLSX, so a download holds exactly the rows on screen. Cells
keep raw values (Decimal, int, str); formatting is the page's or the file's job.
Columns marked `file_only` repeat in a file what the page shows under a code
(an outcome's statement), so a spreadsheet needs no second look-up.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reporting.models import Basis, ProgressStatus
from reporting.selectors import OVER, UNDER, TagTable

if TYPE_CHECKING:
    from reporting.selectors import Dashboard, Figures

NUMERIC = ("money", "percent", "count", "number")
HEAT_STEPS = 5


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"
    file_only: bool = False

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC


@dataclass(frozen=True)
class Cell:
    """One value; `note`, `url` and `css` only matter on the page."""

    value: Any
    url: str = ""
    note: str = ""
    css: str = ""
    display: str = ""


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    footer: list[Cell] | None = None
    notes: list[str] = field(default_factory=list)
    empty: str = ""

    @property
    def screen_columns(self) -> list[Column]:
        return [column for column in self.columns if not column.file_only]

    def _screen(self, cells: list[Cell]) -> list[tuple[Column, Cell]]:
        return [
            (column, cell)
            for column, cell in zip(self.columns, cells, strict=True)
            if not column.file_only
        ]

    @property
    def screen_rows(self) -> list[list[tuple[Column, Cell]]]:
        return [self._screen(row) for row in self.rows]

    @property
    def screen_footer(self) -> list[tuple[Column, Cell]] | None:
        return self._screen(self.footer) if self.footer else None

    @property
    def file_rows(self) -> list[list[Any]]:
        """Header, body and footer as plain values: what a download holds."""
        body = [*self.rows, *([self.footer] if self.footer else [])]
        return [
            [column.label for column in self.columns],
            *([cell.value for cell in row] for row in body),
        ]


# --- links -------------------------------------------------------------------------


def dashboard_query(dashboard: Dashboard, **extra: Any) -> str:
    """The query string that reopens this view of the dashboard."""
    params = {
        "year": dashboard.year,
        "basis": dashboard.basis,
        "measure": dashboard.measure,
    }
    if dashboard.selected_outcome:
        params["outcome"] = dashboard.selected_outcome.outcome.pk
    params.update(extra)
    return urlencode({key: value for key, value in params.items() if value})


def activities_url(dashboard: Dashboard, **filters: Any) -> str:
    base = reverse("frameworks:activity_list", kwargs={"code": dashboard.team.code})
    return f"{base}?{urlencode({**filters, 'year': dashboard.year})}"


# --- tables ------------------------------------------------------------------------


def _money_columns() -> list[Column]:
    return [
        Column(_("Required (USD)"), "money"),
        Column(_("Available (USD)"), "money"),
        Column(_("Spent (USD)"), "money"),
        Column(_("Funding gap (USD)"), "money"),
        # xgettext:no-python-format
        Column(_("% funded"), "percent"),
    ]


def _money_cells(figures: Figures) -> list[Cell]:
    return [
        Cell(figures.required),
        Cell(figures.available),
        Cell(figures.spent),
        Cell(figures.gap, css="gap" if figures.gap > 0 else ""),
        Cell(figures.funded_percent),
    ]


def _total_label() -> str:
    return _("Total, each contribution once")


def outcome_table(dashboard: Dashboard) -> Table:
    table = Table(
        name="outcomes",
        title=_("Funding by outcome"),
        columns=[
            Column(_("Outcome")),
            Column(_("Statement"), file_only=True),
            *_money_columns(),
            Column(_("Joint activities"), "count"),
            Column(_("Agencies"), "count"),
        ],
        empty=_("The framework has no outcomes yet."),
    )
    for line in dashboard.outcomes:
        outcome = line.outcome
        drill = f"?{dashboard_query(dashboard, outcome=outcome.pk)}#outputs"
        table.rows.append(
            [
                Cell(outcome.code, url=drill, note=outcome.statement),
                Cell(outcome.statement),
                *_money_cells(line.figures),
                Cell(
                    line.figures.activity_count,
                    url=activities_url(dashboard, outcome=outcome.pk)
                    if line.figures.activity_count
                    else "",
                ),
                Cell(line.figures.agency_count),
            ]
        )
    total = dashboard.total
    table.footer = [
        Cell(_total_label()),
        Cell(""),
        *_money_cells(total),
        Cell(total.activity_count),
        Cell(total.agency_count),
    ]
    table.notes = _notes(
        dashboard.outcomes_compared,
        _(
            "An activity linked to outputs of several outcomes counts under "
            "each; the total counts it once."
        ),
        _("Activities linked to no output count in the total only."),
    )
    return table


def output_table(dashboard: Dashboard) -> Table:
    selected = dashboard.selected_outcome
    table = Table(
        name="outputs",
        title=(
            _("Outputs of outcome %(code)s") % {"code": selected.outcome.code}
            if selected
            else _("Funding by output")
        ),
        columns=[
            Column(_("Output")),
            Column(_("Statement"), file_only=True),
            Column(_("Outcome")),
            *_money_columns(),
            Column(_("Agencies")),
            Column(_("Joint activities"), "count"),
        ],
        empty=_("No outputs under this outcome yet."),
    )
    for outcome, line in dashboard.outputs:
        output = line.output
        activities = activities_url(dashboard, output=output.pk)
        table.rows.append(
            [
                Cell(output.code, url=activities, note=output.statement),
                Cell(output.statement),
                Cell(outcome.outcome.code),
                *_money_cells(line.figures),
                Cell(", ".join(share.agency.code for share in line.agencies)),
                Cell(
                    line.figures.activity_count,
                    url=activities if line.figures.activity_count else "",
                ),
            ]
        )
    figures = selected.figures if selected else dashboard.total
    table.footer = [
        Cell(_total_label()),
        Cell(""),
        Cell(selected.outcome.code if selected else ""),
        *_money_cells(figures),
        Cell(""),
        Cell(figures.activity_count),
    ]
    table.notes = _notes(
        dashboard.outputs_compared,
        _(
            "An activity linked to several outputs counts under each; the "
            "total counts it once."
        ),
        _("Activities linked to no output count in the total only."),
    )
    return table


def _heat(value: Decimal, highest: Decimal) -> str:
    if not value or not highest:
        return ""
    step = max(1, min(HEAT_STEPS, int(value * HEAT_STEPS / highest + Decimal("0.999"))))
    return f"heat-{step}"


def agency_table(dashboard: Dashboard) -> Table:
    measure = dashboard.measure
    measure_label = measure_labels()[measure]
    table = Table(
        name="agencies",
        title=_("%(measure)s by agency and outcome (USD)") % {"measure": measure_label},
        columns=[
            Column(_("Agency")),
            Column(_("Agency name"), file_only=True),
            *(Column(line.outcome.code, "money") for line in dashboard.outcomes),
            Column(_("All outcomes"), "money"),
        ],
        empty=_("No agency has figures for this year yet."),
    )
    matrix = dashboard.matrix
    highest = max(
        (cell.measure(measure) for row in matrix for cell in row.cells),
        default=Decimal(0),
    )
    for row in matrix:
        values = [cell.measure(measure) for cell in row.cells]
        total = row.agency.figures.measure(measure)
        agency = row.agency.agency
        table.rows.append(
            [
                Cell(
                    agency.code,
                    note=agency.name,
                    css=f"series-{row.agency.series}",
                    url=activities_url(dashboard, agency=agency.pk),
                ),
                Cell(agency.name),
                *(Cell(value or None, css=_heat(value, highest)) for value in values),
                Cell(total),
            ]
        )
    table.footer = [
        Cell(_("All agencies")),
        Cell(""),
        *(Cell(line.figures.measure(measure)) for line in dashboard.outcomes),
        Cell(dashboard.total.measure(measure)),
    ]
    table.notes = _notes(
        dashboard.matrix_compared,
        _(
            "An activity linked to outputs of several outcomes counts under "
            "each outcome; “All outcomes” counts it once."
        ),
        _("Activities linked to no output count under “All outcomes” only."),
    )
    return table


def _decimal(value: Decimal | None) -> Decimal | None:
    """Drop the trailing zeros of a 4-decimal value: 12.5000 reads 12.5."""
    if value is None:
        return None
    return (
        value.quantize(Decimal(1))
        if value == value.to_integral()
        else value.normalize()
    )


def indicator_table(dashboard: Dashboard) -> Table:
    table = Table(
        name="indicators",
        title=_("Indicator progress"),
        columns=[
            Column(_("Indicator")),
            Column(_("Name"), file_only=True),
            Column(_("Outcome or output")),
            Column(_("Baseline"), "number"),
            Column(_("Latest"), "number"),
            Column(_("Target"), "number"),
            # xgettext:no-python-format
            Column(_("% of the way"), "percent"),
            Column(_("Expected by now (%)"), "percent"),
            Column(_("Status"), "status"),
        ],
        empty=_("The framework has no indicators yet."),
    )
    labels = dict(ProgressStatus.choices)
    for line in dashboard.indicators:
        indicator, progress = line.indicator, line.progress
        table.rows.append(
            [
                Cell(
                    indicator.code,
                    note=indicator.name,
                    url=reverse(
                        "frameworks:indicator_detail",
                        kwargs={"code": dashboard.team.code, "pk": indicator.pk},
                    ),
                ),
                Cell(indicator.name),
                Cell(line.level_code),
                Cell(_decimal(indicator.baseline_value)),
                Cell(_decimal(progress.value if progress else None)),
                Cell(_decimal(indicator.target_value)),
                Cell(progress.percent_of_way if progress else None),
                Cell(progress.expected_percent if progress else None),
                Cell(str(labels[line.status]), css=line.status),
            ]
        )
    return table


def _tag_columns(first: str) -> list[Column]:
    return [
        Column(first),
        Column(_("Title"), file_only=True),
        *_money_columns(),
        Column(_("Joint activities"), "count"),
    ]


def _tag_rows(
    tags: TagTable,
    *,
    css: str = "",
    url: Any = None,
) -> list[list[Cell]]:
    return [
        [
            Cell(
                line.code,
                note=line.label,
                css=css.format(key=line.key) if css else "",
                url=url(line) if url and not line.figures.is_empty else "",
            ),
            Cell(line.label),
            *_money_cells(line.figures),
            Cell(line.figures.activity_count),
        ]
        for line in tags.lines
    ]


def _tag_footer(tags: TagTable) -> list[Cell]:
    total = tags.total
    return [
        Cell(_total_label()),
        Cell(""),
        *_money_cells(total),
        Cell(total.activity_count),
    ]


def _notes(compared: str, counts_twice: str, misses: str) -> list[str]:
    """The note under a table whose rows do not add up to its total."""
    return {OVER: [counts_twice], UNDER: [misses]}.get(compared, [])


def sdg_goal_table(dashboard: Dashboard) -> Table:
    """The goals with figures; the chart above shows all seventeen, and a note
    names the goals no joint work of the year is tagged to."""
    tags = dashboard.sdg_goals
    covered = TagTable(lines=tags.covered, total=tags.total)
    table = Table(
        name="sdg-goals",
        title=_("Funding by SDG goal"),
        columns=_tag_columns(_("Goal")),
        rows=_tag_rows(
            covered,
            css="sdg-{key}",
            url=lambda line: activities_url(dashboard, sdg_goal=line.key),
        ),
        footer=_tag_footer(covered),
        empty=_("No joint work with figures this year is tagged to an SDG."),
    )
    table.notes = _notes(
        covered.compared,
        _(
            "An activity tagged to several SDG goals counts in each; the total "
            "counts it once."
        ),
        _("Activities without an SDG target count in the total only."),
    )
    missing = [line.code for line in tags.lines if line.figures.is_empty]
    if covered.lines and missing:
        table.notes.append(
            _("No joint work of the year is tagged to goals %(goals)s.")
            % {"goals": ", ".join(missing)}
        )
    return table


def sdg_target_table(dashboard: Dashboard) -> Table:
    tags = dashboard.sdg_targets
    table = Table(
        name="sdg-targets",
        title=_("Funding by SDG target"),
        columns=_tag_columns(_("Target")),
        rows=_tag_rows(tags),
        footer=_tag_footer(tags),
        empty=_("No activity with figures this year is tagged to an SDG target."),
    )
    table.notes = _notes(
        tags.compared,
        _(
            "An activity tagged to several SDG targets counts in each; the total "
            "counts it once."
        ),
        _("Activities without an SDG target count in the total only."),
    )
    return table


def area_table(dashboard: Dashboard) -> Table:
    tags = dashboard.areas
    table = Table(
        name="areas",
        title=_("Funding by common-chapter area"),
        columns=_tag_columns(_("Area")),
        rows=_tag_rows(tags, url=lambda line: activities_url(dashboard, area=line.key)),
        footer=_tag_footer(tags),
        empty=_("Common-chapter reference data is not loaded."),
    )
    table.notes = _notes(
        tags.compared,
        _(
            "An activity tagged to several common-chapter areas counts in each; "
            "the total counts it once."
        ),
        _("Activities without a common-chapter area count in the total only."),
    )
    return table


def programme_table(dashboard: Dashboard) -> Table:
    tags = dashboard.programmes
    table = Table(
        name="programmes",
        title=_("Joint programmes and their delivery"),
        columns=[
            Column(_("Joint programme")),
            Column(_("Fund")),
            Column(_("Convening agency")),
            Column(_("Required (USD)"), "money"),
            Column(_("Available (USD)"), "money"),
            Column(_("Spent (USD)"), "money"),
            # xgettext:no-python-format
            Column(_("Delivery (% of available spent)"), "percent"),
            Column(_("Joint activities"), "count"),
        ],
        empty=_("No joint activity with figures this year belongs to a programme."),
    )
    for line in tags.lines:
        programme, figures = line.obj, line.figures
        table.rows.append(
            [
                Cell(
                    programme.title,
                    url=reverse(
                        "frameworks:programme_detail",
                        kwargs={"code": dashboard.team.code, "pk": programme.pk},
                    ),
                ),
                Cell(programme.fund),
                Cell(programme.convening_agency.code),
                Cell(figures.required),
                Cell(figures.available),
                Cell(figures.spent),
                Cell(figures.delivery_percent),
                Cell(figures.activity_count),
            ]
        )
    return table


TABLES = {
    "outcomes": outcome_table,
    "outputs": output_table,
    "agencies": agency_table,
    "indicators": indicator_table,
    "sdg-goals": sdg_goal_table,
    "sdg-targets": sdg_target_table,
    "areas": area_table,
    "programmes": programme_table,
}


def build_tables(dashboard: Dashboard) -> dict[str, Table]:
    """Every table of the dashboard by name; none without a framework."""
    if dashboard.framework is None:
        return {}
    return {name: build(dashboard) for name, build in TABLES.items()}


# --- files -------------------------------------------------------------------------

# A spreadsheet runs a cell that starts like a formula; text from the portal
# (statements, titles) is data, so it is written so that it cannot run.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return f"'{value}"
    return value


def write_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens accents and Arabic right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in table.file_rows:
        writer.writerow([_csv_value(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_NUMBER_FORMATS = {
    "money": "#,##0.00",
    "percent": "0.0",
    "count": "0",
    "number": "#,##0.####",
}


def write_xlsx(table: Table, about: list[tuple[str, Any]]) -> bytes:
    """The table on its own sheet (header frozen), and what it shows on a second."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.name[:31]
    for row in table.file_rows:
        sheet.append(
            [float(value) if isinstance(value, Decimal) else value for value in row]
        )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        width = 14 if column.is_numeric else 24
        sheet.column_dimensions[letter].width = width
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if column.is_numeric and cell.value is not None:
                cell.number_format = _NUMBER_FORMATS[column.kind]
            elif isinstance(cell.value, str) and cell.value.startswith("="):
                # openpyxl takes a leading "=" for a formula; this is text.
                cell.data_type = "s"
    if table.footer:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    info = workbook.create_sheet(_("About"))
    for label, value in about:
        info.append([label, value])
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def describe_download(dashboard: Dashboard, table: Table) -> list[tuple[str, Any]]:
    computed_at = dashboard.status.computed_at
    return [
        (_("Table"), table.title),
        (_("Country team"), f"{dashboard.team.name} ({dashboard.team.code})"),
        (_("Cooperation Framework"), str(dashboard.framework)),
        (_("Year"), dashboard.year),
        (_("Figures"), str(Basis(dashboard.basis).label)),
        (
            _("As of"),
            computed_at.isoformat(timespec="seconds") if computed_at else _("never"),
        ),
        *table_notes(table),
    ]


def table_notes(table: Table) -> list[tuple[str, str]]:
    return [(_("Note"), note) for note in table.notes]


def download_name(dashboard: Dashboard, table: Table, extension: str) -> str:
    return (
        f"unportal-{dashboard.team.code}-{dashboard.year}-{dashboard.basis}-"
        f"{table.name}.{extension}"
    )


# --- charts ------------------------------------------------------------------------


def measure_labels() -> dict[str, str]:
    return {
        "required": _("Required"),
        "available": _("Available"),
        "spent": _("Spent"),
    }


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def build_charts(dashboard: Dashboard) -> dict[str, dict[str, Any]]:
    """What dashboard.js draws, chart by chart; the page embeds each with
    json_script. Labels are translated here, so the script holds no text."""
    if dashboard.framework is None:
        return {}
    measure = dashboard.measure
    measure_label = measure_labels()[measure]
    in_usd = _("%(measure)s (USD)") % {"measure": measure_label}
    outcomes = dashboard.outcomes
    outcome_labels = [line.outcome.code for line in outcomes]
    outcome_titles = [line.outcome.statement for line in outcomes]
    progress = [
        line
        for line in dashboard.indicators
        if line.progress and line.progress.percent_of_way is not None
    ]
    goals = dashboard.sdg_goals.lines
    areas = dashboard.areas.lines
    outputs = dashboard.outputs
    selected = dashboard.selected_outcome
    charts = {
        "gap": {
            "kind": "gap",
            "title": _("Funding gap by outcome (USD)"),
            "description": _(
                "Bars to the right are shortfalls, to the left over-funding. "
                "The table below lists the figures."
            ),
            "labels": outcome_labels,
            "titles": outcome_titles,
            "axis": _("Funding gap (USD)"),
            "datasets": [
                {
                    "label": _("Funding gap"),
                    "data": [_number(line.figures.gap) for line in outcomes],
                },
            ],
        },
        "funding_by_agency": {
            "kind": "stacked",
            "title": _("%(measure)s by outcome and agency (USD)")
            % {"measure": measure_label},
            "description": _(
                "Each bar is one outcome, split by agency. The matrix below "
                "lists the figures."
            ),
            "labels": outcome_labels,
            "titles": outcome_titles,
            "axis": in_usd,
            "datasets": _agency_datasets(
                dashboard, [line.by_agency for line in outcomes]
            ),
        },
        "outputs_by_agency": {
            "kind": "stacked",
            "title": (
                _("%(measure)s by output of outcome %(code)s and agency (USD)")
                % {"measure": measure_label, "code": selected.outcome.code}
                if selected
                else _("%(measure)s by output and agency (USD)")
                % {"measure": measure_label}
            ),
            "description": _(
                "Each bar is one output, split by agency. The table below lists "
                "the figures."
            ),
            "labels": [line.output.code for _outcome, line in outputs],
            "titles": [line.output.statement for _outcome, line in outputs],
            "axis": in_usd,
            "datasets": _agency_datasets(
                dashboard, [line.by_agency for _outcome, line in outputs]
            ),
        },
        "progress": {
            "kind": "progress",
            "title": _("Progress from baseline to target (%)"),
            "description": _(
                "Bars show how far each indicator has come from its baseline to "
                "its target, the marks where it should be by now; the axis stops "
                "at 150 %. Indicators without data are in the table only."
            ),
            "labels": [line.indicator.code for line in progress],
            "titles": [line.indicator.name for line in progress],
            # xgettext:no-python-format
            "axis": _("% of the way from baseline to target"),
            "status": [line.status for line in progress],
            "datasets": [
                {
                    # xgettext:no-python-format
                    "label": _("Progress (% of the way)"),
                    "data": [
                        _number(line.progress.percent_of_way) for line in progress
                    ],
                },
                {
                    "label": _("Expected by now"),
                    "data": [
                        _number(line.progress.expected_percent) for line in progress
                    ],
                },
            ],
        },
        "sdg_goals": {
            "kind": "sdg",
            "title": _("%(measure)s by SDG goal (USD)") % {"measure": measure_label},
            "description": _(
                "One bar per goal, in the goal's official colour. The table "
                "below lists the figures."
            ),
            "labels": [line.code for line in goals],
            "titles": [
                _("SDG %(number)s: %(title)s")
                % {"number": line.code, "title": line.label}
                for line in goals
            ],
            "axis": in_usd,
            "datasets": [
                {
                    "label": measure_label,
                    "data": [_number(line.figures.measure(measure)) for line in goals],
                }
            ],
        },
        "areas": {
            "kind": "grouped",
            "title": _("Required, available and spent by area (USD)"),
            "description": _(
                "Three bars per common-chapter area. The table below lists the figures."
            ),
            "labels": [line.code for line in areas],
            "titles": [line.label for line in areas],
            "axis": _("USD"),
            "datasets": [
                {
                    "label": label,
                    "series": series,
                    "data": [_number(line.figures.measure(name)) for line in areas],
                }
                for series, (name, label) in enumerate(
                    measure_labels().items(), start=1
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


def _agency_datasets(
    dashboard: Dashboard, bars: list[dict[int, Figures]]
) -> list[dict[str, Any]]:
    """One stack segment per agency with money in any bar, in the measure shown;
    an agency keeps its colour (series) across charts and tables."""
    measure = dashboard.measure
    datasets = []
    for share in dashboard.agencies:
        pk = share.agency.pk
        data = [_number(bar[pk].measure(measure)) if pk in bar else 0 for bar in bars]
        if any(data):
            datasets.append(
                {"label": share.agency.code, "series": share.series, "data": data}
            )
    return datasets


def chart_blocks(charts: dict[str, dict[str, Any]]) -> list[tuple[str, Any]]:
    """(element id, data) of each chart's JSON block, for json_script."""
    return [(f"chart-{name}-data", data) for name, data in charts.items()]
