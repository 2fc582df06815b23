"""The annual report's charts, drawn as SVG with matplotlib.

The same SVG goes into the HTML page and the PDF. Text inside a chart is kept
to codes and numbers (outcome and agency codes, axis ticks): SVG renderers lay
text out glyph by glyph, which breaks Arabic shaping, so titles, units and
legends in the reader's language are written by the page around the chart.
The output is deterministic: the same figures give the same bytes, whatever
the time or the process.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import matplotlib
from django.utils.translation import gettext as _
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reporting.models import ProgressStatus

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from reporting.report_content import AnnualReport, BoardSummaryReport


class MoneyFigures(Protocol):
    """Required, available and spent: a rollup's Figures or the board's Money."""

    required: Decimal
    available: Decimal
    spent: Decimal


# Okabe-Ito colours: told apart with every common colour-vision deficiency.
MONEY_COLOURS = {
    "required": "#0072B2",
    "available": "#E69F00",
    "spent": "#009E73",
}
STATUS_COLOURS = {
    ProgressStatus.ON_TRACK: "#009E73",
    ProgressStatus.OFF_TRACK: "#D55E00",
    ProgressStatus.NO_DATA: "#BBBBBB",
}
# Every font the portal's six languages need, in case a label ever holds one.
FONT_FAMILIES = [
    "Noto Sans",
    "Noto Sans CJK SC",
    "Noto Sans Arabic",
    "DejaVu Sans",
]
WIDTH_INCHES = 6.6
INK = "#1f2933"
GRID = "#d9dee3"


@dataclass(frozen=True)
class LegendEntry:
    label: str
    colour: str


@dataclass(frozen=True)
class Chart:
    """One drawn chart and the words around it."""

    name: str
    title: str
    description: str
    unit: str
    legend: list[LegendEntry]
    svg: str

    @property
    def data_uri(self) -> str:
        """The SVG as an image address: no script in it can run on a page."""
        encoded = base64.b64encode(self.svg.encode("utf-8")).decode("ascii")
        return f"data:image/svg+xml;base64,{encoded}"


def money_legend() -> list[LegendEntry]:
    return [
        LegendEntry(_("Required"), MONEY_COLOURS["required"]),
        LegendEntry(_("Available"), MONEY_COLOURS["available"]),
        LegendEntry(_("Spent"), MONEY_COLOURS["spent"]),
    ]


def status_legend() -> list[LegendEntry]:
    return [
        LegendEntry(str(label), STATUS_COLOURS[value])
        for value, label in ProgressStatus.choices
    ]


def money_scale(highest: Decimal) -> tuple[Decimal, str]:
    """A divisor that keeps tick labels short, and the unit it makes."""
    if highest >= 1_000_000:
        return Decimal(1_000_000), _("USD millions")
    if highest >= 1_000:
        return Decimal(1_000), _("USD thousands")
    return Decimal(1), _("USD")


def build_annual_charts(
    report: AnnualReport, *, on_chart: Callable[[str], None] | None = None
) -> list[Chart]:
    """Draw the report's charts; `on_chart` is told after each one (progress)."""
    return _draw(CHARTS, report, on_chart)


def _draw(
    charts: list[tuple[str, Callable[[Any], Chart | None]]],
    report: Any,
    on_chart: Callable[[str], None] | None,
) -> list[Chart]:
    drawn = []
    for name, draw in charts:
        chart = draw(report)
        if chart is not None:
            drawn.append(chart)
        if on_chart:
            on_chart(name)
    return drawn


def funding_by_outcome_chart(report: AnnualReport) -> Chart | None:
    outcomes = report.outcomes
    if not outcomes or not report.has_figures:
        return None
    return _money_chart(
        name="funding-by-outcome",
        title=_("Funding by outcome, %(year)s") % {"year": report.year},
        description=_(
            "Required, available and spent money for each outcome of the "
            "framework. The table that follows lists the figures."
        ),
        labels=[outcome.line.outcome.code for outcome in outcomes],
        figures=[outcome.line.figures for outcome in outcomes],
    )


def funding_by_agency_chart(report: AnnualReport) -> Chart | None:
    if not report.agencies:
        return None
    return _money_chart(
        name="funding-by-agency",
        title=_("Funding by agency, %(year)s") % {"year": report.year},
        description=_(
            "Required, available and spent money for each agency, over all "
            "outcomes. The table that follows lists the figures."
        ),
        labels=[share.agency.code for share in report.agencies],
        figures=[share.figures for share in report.agencies],
    )


def indicator_status_chart(report: AnnualReport) -> Chart | None:
    outcomes = [outcome for outcome in report.outcomes if outcome.indicators]
    if not outcomes:
        return None
    return _status_chart(
        name="indicator-status",
        title=_("Indicator progress by outcome, %(year)s") % {"year": report.year},
        description=_(
            "For each outcome, how many of its indicators are on track, off "
            "track or without data. The tables of results list each indicator."
        ),
        labels=[outcome.line.outcome.code for outcome in outcomes],
        counts=[outcome.progress_counts for outcome in outcomes],
    )


CHARTS: list[tuple[str, Callable[[AnnualReport], Chart | None]]] = [
    ("funding-by-outcome", funding_by_outcome_chart),
    ("funding-by-agency", funding_by_agency_chart),
    ("indicator-status", indicator_status_chart),
]


# --- the board summary's charts -------------------------------------------------

# A chart of every country team or agency would not fit a page; the tables
# under the charts list them all.
BOARD_CHART_ROWS = 15


def build_board_charts(
    report: BoardSummaryReport, *, on_chart: Callable[[str], None] | None = None
) -> list[Chart]:
    """Draw the board summary's charts; `on_chart` is told after each one."""
    return _draw(BOARD_CHARTS, report, on_chart)


def _largest(lines: list, count: int = BOARD_CHART_ROWS) -> list:
    with_money = [line for line in lines if not line.money.is_empty]
    return sorted(with_money, key=lambda line: (-line.money.required, line.key))[:count]


def board_team_funding_chart(report: BoardSummaryReport) -> Chart | None:
    lines = _largest(report.summary.teams)
    if not lines:
        return None
    period = report.filters.period_label
    return _money_chart(
        name="board-funding-by-team",
        title=_("Funding by country team, %(period)s") % {"period": period},
        description=_(
            "Required, available and spent money of the country teams with the "
            "most money required (at most %(n)s). The table of country teams "
            "lists every team's figures."
        )
        % {"n": BOARD_CHART_ROWS},
        labels=[line.key for line in lines],
        figures=[line.money for line in lines],
    )


def board_agency_funding_chart(report: BoardSummaryReport) -> Chart | None:
    lines = _largest(report.summary.agencies)
    if not lines:
        return None
    period = report.filters.period_label
    return _money_chart(
        name="board-funding-by-agency",
        title=_("Funding by agency, %(period)s") % {"period": period},
        description=_(
            "Required, available and spent money of the agencies with the most "
            "money required (at most %(n)s). The table of agencies lists every "
            "agency's figures."
        )
        % {"n": BOARD_CHART_ROWS},
        labels=[line.key for line in lines],
        figures=[line.money for line in lines],
    )


def board_progress_chart(report: BoardSummaryReport) -> Chart | None:
    lines = [line for line in report.summary.teams if line.progress.total]
    if not lines:
        return None
    return _status_chart(
        name="board-indicator-status",
        title=_("Indicator progress by country team, %(period)s")
        % {"period": report.filters.period_label},
        description=_(
            "For each country team, how many of its indicators are on track, "
            "off track or without data at the end of the period. The table of "
            "country teams lists the same counts."
        ),
        labels=[line.key for line in lines],
        counts=[
            {
                ProgressStatus.ON_TRACK: line.progress.on_track,
                ProgressStatus.OFF_TRACK: line.progress.off_track,
                ProgressStatus.NO_DATA: line.progress.no_data,
            }
            for line in lines
        ],
    )


BOARD_CHARTS: list[tuple[str, Callable[[BoardSummaryReport], Chart | None]]] = [
    ("board-funding-by-team", board_team_funding_chart),
    ("board-funding-by-agency", board_agency_funding_chart),
    ("board-indicator-status", board_progress_chart),
]


# --- drawing ----------------------------------------------------------------------


def _status_chart(
    *,
    name: str,
    title: str,
    description: str,
    labels: list[str],
    counts: list[dict[str, int]],
) -> Chart:
    figure, axes = _figure(len(labels), per_row=0.34, name=name)
    positions = range(len(labels))
    left = [0] * len(labels)
    for status in ProgressStatus.values:
        values = [count[status] for count in counts]
        bars = axes.barh(
            positions,
            values,
            left=left,
            height=0.62,
            color=STATUS_COLOURS[status],
            edgecolor="white",
            linewidth=0.8,
        )
        # The count inside each segment: the colour is not the only signal.
        axes.bar_label(
            bars,
            labels=[str(value) if value else "" for value in values],
            label_type="center",
            fontsize=8,
            color="white" if status != ProgressStatus.NO_DATA else INK,
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(list(positions), labels=labels)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return Chart(
        name=name,
        title=title,
        description=description,
        unit=_("Number of indicators"),
        legend=status_legend(),
        svg=_svg(figure, salt=name),
    )


def _money_chart(
    *,
    name: str,
    title: str,
    description: str,
    labels: list[str],
    figures: Sequence[MoneyFigures],
) -> Chart:
    highest = max(
        (getattr(f, measure) for f in figures for measure in MONEY_COLOURS),
        default=Decimal(0),
    )
    divisor, unit = money_scale(Decimal(highest))
    # Thinner bars when there are many, so that a chart fits on a page.
    per_row = 0.5 if len(labels) <= 8 else 0.36
    figure, axes = _figure(len(labels), per_row=per_row, name=name)
    bar = 0.27
    for offset, measure in enumerate(MONEY_COLOURS):
        axes.barh(
            [i + (offset - 1) * bar for i in range(len(labels))],
            [float(getattr(f, measure) / divisor) for f in figures],
            height=bar,
            color=MONEY_COLOURS[measure],
        )
    axes.set_yticks(range(len(labels)), labels=labels)
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(FuncFormatter(_tick))
    return Chart(
        name=name,
        title=title,
        description=description,
        unit=unit,
        legend=money_legend(),
        svg=_svg(figure, salt=name),
    )


def _tick(value: float, _position: int) -> str:
    return f"{value:,.1f}".removesuffix(".0")


def _figure(rows: int, *, per_row: float, name: str) -> tuple[Figure, Axes]:
    # A Figure with its own Agg canvas: no pyplot, no global backend, safe in
    # a worker that draws several reports at once.
    with matplotlib.rc_context(_STYLE):
        figure = Figure(
            figsize=(WIDTH_INCHES, 0.55 + per_row * max(rows, 1)),
            layout="constrained",
        )
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
    axes.set_gid(name)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["left"].set_color(GRID)
    axes.spines["bottom"].set_color(GRID)
    axes.tick_params(colors=INK, labelsize=8.5, length=0)
    axes.grid(axis="x", color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


_STYLE = {
    "font.family": FONT_FAMILIES,
    "font.size": 8.5,
    "svg.fonttype": "none",
    "axes.edgecolor": GRID,
    "text.color": INK,
}


def _svg(figure: Figure, *, salt: str) -> str:
    buffer = io.StringIO()
    # A fixed salt per chart keeps generated ids stable between runs and
    # distinct between the charts of one page.
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": f"unportal-{salt}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()
