"""The public open-data pages: what each country team has published, for
anyone, without an account. Validated figures only, always.

`UNPORTAL_OPEN_DATA = False` turns every page and download here into a 404.
These routes are the public face of data the team pages hand to members; they
never loosen those pages' own rules.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reporting.iati import NothingToExportError, export_team_iati
from reporting.report_charts import build_annual_charts
from reporting.report_content import (
    AnnualReport,
    get_annual_report,
)
from reporting.report_pdf import annual_report_context
from reporting.report_services import (
    PublishedTeam,
    get_published_team,
    list_published_teams,
)
from reporting.report_views import (
    annual_table_names,
    annual_table_response,
    serve_report_file,
)

View = Callable[..., HttpResponse]


def open_data_view(view: View) -> View:
    """A public GET view that exists only while open data is switched on."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.UNPORTAL_OPEN_DATA:
            raise Http404
        return view(request, *args, **kwargs)

    return require_GET(wrapper)


def _published_or_404(code: str) -> PublishedTeam:
    published = get_published_team(code=code)
    if published is None:
        raise Http404
    return published


def _report_or_404(published: PublishedTeam, year: int) -> AnnualReport:
    """The year's report, for a year with validated figures only."""
    if published.get_year(year) is None:
        raise Http404
    report = get_annual_report(team=published.team, year=year)
    if report is None:
        raise Http404
    return report


@open_data_view
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reporting/open_data/index.html",
        {"published": list_published_teams(), "tables": annual_table_names()},
    )


@open_data_view
def annual_report(request: HttpRequest, code: str, year: int) -> HttpResponse:
    published = _published_or_404(code)
    report = _report_or_404(published, year)
    context = annual_report_context(report, build_annual_charts(report))
    context.update(
        {
            "published": published,
            "published_year": published.get_year(year),
            "tables_offered": annual_table_names(),
        }
    )
    return render(request, "reporting/open_data/annual_report.html", context)


@open_data_view
def table_download(
    request: HttpRequest, code: str, year: int, table: str, extension: str
) -> HttpResponse:
    published = _published_or_404(code)
    report = _report_or_404(published, year)
    return annual_table_response(report, table, extension)


@open_data_view
def iati_download(request: HttpRequest, code: str) -> HttpResponse:
    published = _published_or_404(code)
    if not published.has_iati:
        raise Http404
    try:
        xml = export_team_iati(team=published.team)
    except NothingToExportError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{published.team.code.lower()}-iati-activities.xml"'
    )
    return response


@open_data_view
def report_download(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    published = _published_or_404(code)
    for item in published.years:
        for report in item.reports:
            if report.pk == pk:
                return serve_report_file(report)
    raise Http404
