"""Pages of the generated reports: a team's annual results report on screen,
the list of its PDFs with their progress, asking for a new one, and downloads;
the same for the executive board summary.

Members of the team and board members read a team's reports; the RC and the RC
Office ask for a build. Anyone else gets 404 for the team, as everywhere in the
portal. Board summaries are the board's: others get 403, as on the board pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from coordination.models import CountryTeam
from reporting.board_filters import BoardFilterForm
from reporting.board_selectors import load_filter_options
from reporting.downloads import table_download
from reporting.exports import Table, table_notes
from reporting.models import ReportFile, ReportStatus
from reporting.report_charts import build_annual_charts
from reporting.report_content import (
    FUNDING_TABLES,
    AnnualReport,
    BoardFiltersError,
    describe_board_filters,
    get_annual_report,
    list_report_years,
    read_board_filters,
)
from reporting.report_pdf import annual_report_context
from reporting.report_services import (
    can_request_annual_report,
    can_request_board_summary,
    get_finished_team_report,
    get_team_for_reports,
    list_board_summaries,
    list_team_reports,
    report_download_name,
    request_annual_report,
    request_board_summary,
    requested_parameters,
)


class AnnualReportRequestForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("Year"), coerce=int)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, str(year)) for year in years]


def _team_or_404(request: HttpRequest, code: str) -> CountryTeam:
    team = get_team_for_reports(user=request.user, code=code)
    if team is None:
        raise Http404
    return team


def _report_or_404(team: CountryTeam, pk: int) -> ReportFile:
    report = list_team_reports(team=team).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


def _team_context(request: HttpRequest, team: CountryTeam) -> dict[str, Any]:
    """What every report page of a team needs to link back where the user may go."""
    return {
        "team": team,
        "is_member": request.user.has_perm("coordination.view_countryteam", team),
        "can_request": can_request_annual_report(request.user, team),
    }


@login_required
@require_GET
def team_reports(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    years = list_report_years(team=team)
    context = _team_context(request, team)
    form = None
    if context["can_request"] and years.years:
        form = AnnualReportRequestForm(
            years=years.years, initial={"year": years.latest_with_figures}
        )
    context.update(
        {
            "years": years,
            "reports": list_team_reports(team=team),
            "form": form,
            "language_name": translation.get_language_info(translation.get_language())[
                "name_local"
            ],
        }
    )
    return render(request, "reporting/reports/team_reports.html", context)


@login_required
@require_POST
def team_report_request(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    if not can_request_annual_report(request.user, team):
        raise PermissionDenied
    form = AnnualReportRequestForm(
        request.POST, years=list_report_years(team=team).years
    )
    list_url = reverse("reports:team_reports", kwargs={"code": team.code})
    if not form.is_valid():
        messages.error(request, _("Choose one of the years offered."))
        return redirect(list_url)
    try:
        report = request_annual_report(
            team=team,
            year=form.cleaned_data["year"],
            language=translation.get_language(),
            actor=request.user,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(list_url)
    report.refresh_from_db()
    messages.success(request, _request_message(report))
    return redirect(f"{list_url}#report-{report.pk}")


def _request_message(report: ReportFile) -> str:
    if report.status == ReportStatus.DONE:
        return _(
            "The %(year)s report is ready. It was built from the figures as they "
            "stand, so it can be downloaded at once."
        ) % {"year": report.year}
    if report.status == ReportStatus.FAILED:
        return _("The %(year)s report could not be built; see its message below.") % {
            "year": report.year
        }
    return _("The %(year)s report is being built. Its progress shows below.") % {
        "year": report.year
    }


@login_required
@require_GET
def annual_report(request: HttpRequest, code: str, year: int) -> HttpResponse:
    team = _team_or_404(request, code)
    report = get_annual_report(team=team, year=year)
    if report is None:
        raise Http404
    context = _team_context(request, team)
    context.update(annual_report_context(report, build_annual_charts(report)))
    context["years"] = list_report_years(team=team)
    context["tables_offered"] = annual_table_names()
    context["pdf"] = get_finished_team_report(
        team=team, year=year, language=translation.get_language()
    )
    return render(request, "reporting/reports/annual_report.html", context)


@login_required
@require_GET
def annual_table_download(
    request: HttpRequest, code: str, year: int, table: str, extension: str
) -> HttpResponse:
    team = _team_or_404(request, code)
    report = get_annual_report(team=team, year=year)
    if report is None:
        raise Http404
    return annual_table_response(report, table, extension)


def annual_table_names() -> list[tuple[str, str]]:
    """The report's downloadable tables: (name in the address, label)."""
    return [
        ("funding-by-outcome", _("Funding by outcome")),
        ("funding-by-agency", _("Funding by agency")),
        ("funding-by-outcome-and-agency", _("Funding by outcome and agency")),
    ]


def annual_table_response(
    report: AnnualReport, table: str, extension: str
) -> HttpResponse:
    """One funding table of a report as CSV or XLSX: the rows the page shows."""
    if table not in FUNDING_TABLES:
        raise Http404
    built = FUNDING_TABLES[table](report)
    return table_download(
        built,
        extension,
        filename=f"unportal-{report.team.code.lower()}-{report.year}-{table}.{extension}",
        about=lambda: _describe_table(report, built),
    )


def _describe_table(report: AnnualReport, table: Table) -> list[tuple[str, Any]]:
    return [
        (_("Table"), table.title),
        (_("Country team"), f"{report.team.name} ({report.team.code})"),
        (_("Cooperation Framework"), str(report.framework)),
        (_("Year"), report.year),
        (_("Figures"), _("Validated figures only")),
        (_("As of"), report.as_of_stamp() or _("never")),
        *table_notes(table),
    ]


@login_required
@require_GET
def report_progress(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    report = _report_or_404(team, pk)
    return render(request, "reporting/reports/_report_status.html", {"report": report})


@login_required
@require_GET
def report_download(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    return serve_report_file(_report_or_404(team, pk))


def serve_report_file(report: ReportFile) -> FileResponse:
    """The finished report's PDF as a download; 404 while it is not there."""
    if report.status != ReportStatus.DONE or not report.file:
        raise Http404
    try:
        handle = report.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=report_download_name(report),
        content_type="application/pdf",
    )


# --- board summaries --------------------------------------------------------------


def _require_board(request: HttpRequest) -> None:
    if not can_request_board_summary(request.user):
        raise PermissionDenied


def _board_report_or_404(pk: int) -> ReportFile:
    report = list_board_summaries().filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


@login_required
@require_GET
def board_summaries(request: HttpRequest) -> HttpResponse:
    """Board summary PDFs and the form to ask for one; the query string (the
    board page's filters) fills the form in."""
    _require_board(request)
    options = load_filter_options()
    form = BoardFilterForm(request.GET or None, options=options)
    filters = form.filters() if form.is_bound and form.is_valid() else None
    context = {
        "form": form,
        "filters": filters,
        "year_choices": sorted(
            {
                *options.years,
                options.default_year,
                *((filters.year_from, filters.year_to) if filters else ()),
            },
            reverse=True,
        ),
        "default_year": options.default_year,
        "reports": [
            (report, describe_board_filters(requested_parameters(report), options))
            for report in list_board_summaries()
        ],
        "teams": CountryTeam.objects.active().order_by("name"),
        "language_name": translation.get_language_info(translation.get_language())[
            "name_local"
        ],
    }
    return render(request, "reporting/reports/board_summaries.html", context)


@login_required
@require_POST
def board_summary_request(request: HttpRequest) -> HttpResponse:
    _require_board(request)
    list_url = reverse("reports:board_summaries")
    try:
        filters = read_board_filters(request.POST)
    except BoardFiltersError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(list_url)
    report = request_board_summary(
        filters=filters, language=translation.get_language(), actor=request.user
    )
    report.refresh_from_db()
    messages.success(request, _board_request_message(report))
    return redirect(f"{list_url}#report-{report.pk}")


def _board_request_message(report: ReportFile) -> str:
    if report.status == ReportStatus.DONE:
        return _(
            "This summary is ready. It was built from the figures as they stand, "
            "so it can be downloaded at once."
        )
    if report.status == ReportStatus.FAILED:
        return _("The summary could not be built; see its message below.")
    return _("The summary is being built. Its progress shows below.")


@login_required
@require_GET
def board_progress(request: HttpRequest, pk: int) -> HttpResponse:
    _require_board(request)
    return render(
        request,
        "reporting/reports/_report_status.html",
        {"report": _board_report_or_404(pk)},
    )


@login_required
@require_GET
def board_download(request: HttpRequest, pk: int) -> HttpResponse:
    _require_board(request)
    return serve_report_file(_board_report_or_404(pk))
