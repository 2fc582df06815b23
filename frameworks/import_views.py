"""HTML pages for importing joint work from a spreadsheet.

Members of the team without the right to log joint work get 403; people outside
the team get 404, as everywhere else. The work itself is in frameworks.imports.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from coordination.models import CountryTeam
from coordination.selectors import get_team_for_user
from frameworks.imports import (
    FORMATS,
    DownloadFile,
    build_codes_csv,
    build_preview,
    build_template,
    can_import,
    create_import_job,
    get_import_job_for_user,
    get_import_progress,
    list_recent_imports,
    max_rows,
    start_import_write,
)
from frameworks.models import ImportJob


class UploadForm(forms.Form):
    # Empty files reach the import check, which reports them like every other
    # problem with a file's contents.
    file = forms.FileField(
        label=_("Filled-in template (.xlsx or .csv)"),
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


def _team_for_import(request: HttpRequest, code: str) -> CountryTeam:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    if not can_import(request.user, team):
        raise PermissionDenied
    return team


def _job_or_404(request: HttpRequest, team: CountryTeam, pk: int) -> ImportJob:
    job = get_import_job_for_user(user=request.user, team=team, pk=pk)
    if job is None:
        raise Http404
    return job


def _download(file: DownloadFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_for_import(request, code)
    form = UploadForm()
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = create_import_job(
                    actor=request.user,
                    country_team=team,
                    upload=form.cleaned_data["file"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(job)
        status = 400
    return render(
        request,
        "frameworks/imports/start.html",
        {
            "team": team,
            "form": form,
            "jobs": list_recent_imports(user=request.user, team=team),
            "max_rows": max_rows(),
            "formats": FORMATS,
        },
        status=status,
    )


@login_required
@require_GET
def import_template(request: HttpRequest, code: str, file_format: str) -> HttpResponse:
    team = _team_for_import(request, code)
    if file_format not in FORMATS:
        raise Http404
    return _download(build_template(team=team, file_format=file_format))


@login_required
@require_GET
def import_codes(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_for_import(request, code)
    return _download(build_codes_csv(team=team))


@login_required
@require_GET
def import_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_for_import(request, code)
    job = _job_or_404(request, team, pk)
    return render(
        request,
        "frameworks/imports/detail.html",
        {
            "team": team,
            "job": job,
            "progress": get_import_progress(job),
            "preview": None if job.is_running else build_preview(job),
        },
    )


@login_required
@require_GET
def import_progress(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_for_import(request, code)
    job = _job_or_404(request, team, pk)
    if not job.is_running and request.htmx:
        # The finished page is more than a progress bar: reload it whole.
        return HttpResponseClientRefresh()
    return render(
        request,
        "frameworks/imports/_progress.html",
        {"team": team, "job": job, "progress": get_import_progress(job)},
    )


@login_required
@require_POST
def import_write(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_for_import(request, code)
    job = _job_or_404(request, team, pk)
    try:
        job = start_import_write(actor=request.user, job=job)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(job)
