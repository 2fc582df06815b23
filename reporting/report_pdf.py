"""Reports laid out as PDF with WeasyPrint, from the same HTML the page shows.

The PDF template wraps the report's body in a print stylesheet (A4, page
numbers in a running footer, table headers repeated on every page) and in the
report's language and direction. Everything it needs is inline: the charts are
data URIs and WeasyPrint is not allowed to fetch anything else.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from reporting.report_content import build_funding_tables

if TYPE_CHECKING:
    from reporting.report_charts import Chart
    from reporting.report_content import AnnualReport, BoardSummaryReport

# WeasyPrint logs each layout step at INFO, from its import on; the report's
# own progress bar says how far a build has got, so a log keeps its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def render_pdf(html: str) -> bytes:
    """Lay out a self-contained HTML document as PDF."""
    # Imported here, after its progress log is quietened above; a heavy import
    # that only the report job needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Report text comes from users: never let a stray address make the worker
    # read a local file or call another server. Only data: URIs are fetched.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(
        string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher
    ).write_pdf()


def annual_report_context(report: AnnualReport, charts: list[Chart]) -> dict[str, Any]:
    """What the page and the PDF of an annual report both render."""
    return {
        "report": report,
        "team": report.team,
        "charts": {chart.name.replace("-", "_"): chart for chart in charts},
        "tables": {
            name.replace("-", "_"): table
            for name, table in build_funding_tables(report).items()
        },
    }


def render_annual_report_html(report: AnnualReport, charts: list[Chart]) -> str:
    """The PDF's HTML, in the active language."""
    return render_to_string(
        "reporting/reports/annual_report_pdf.html",
        {
            **annual_report_context(report, charts),
            "language": translation.get_language(),
            "is_bidi": translation.get_language_bidi(),
        },
    )


def render_annual_report_pdf(report: AnnualReport, charts: list[Chart]) -> bytes:
    """The annual results report as PDF, in the active language."""
    return render_pdf(render_annual_report_html(report, charts))


def render_board_summary_html(report: BoardSummaryReport, charts: list[Chart]) -> str:
    """The board summary PDF's HTML, in the active language."""
    return render_to_string(
        "reporting/reports/board_summary_pdf.html",
        {
            "report": report,
            "charts": {chart.name.replace("-", "_"): chart for chart in charts},
            "tables": report.tables,
            "language": translation.get_language(),
            "is_bidi": translation.get_language_bidi(),
        },
    )
