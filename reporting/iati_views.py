"""The IATI activity file of a country team, for its members."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from coordination.selectors import get_team_for_user
from reporting.iati import NothingToExportError, export_team_iati


@login_required
@require_GET
def team_iati_download(request: HttpRequest, code: str) -> HttpResponse:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    try:
        xml = export_team_iati(team=team)
    except NothingToExportError as exc:
        # IATI has no empty activity file: <iati-activities> needs one activity.
        raise Http404(str(exc)) from exc
    response = HttpResponse(xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{team.code.lower()}-iati-activities.xml"'
    )
    return response
