"""Pages that bring all three layers together: each role's home, the team page
and the team's dashboard with its downloads and rebuild button."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coordination.models import CountryTeam
from coordination.selectors import (
    get_team_for_user,
    list_team_agencies,
    list_team_members_by_role,
)
from frameworks.selectors import (
    list_commitments_for_team,
    list_frameworks_for_team,
    list_programmes_for_team,
)
from reporting.coherence_selectors import get_coherence_summary
from reporting.downloads import table_download
from reporting.exports import (
    TABLES,
    build_charts,
    build_tables,
    chart_blocks,
    dashboard_query,
    describe_download,
    download_name,
    measure_labels,
)
from reporting.models import Basis
from reporting.selectors import (
    Dashboard,
    get_dashboard,
    get_home_for_user,
    get_rollup_status,
    get_snapshot_for_team,
)
from reporting.services import queue_team_rollup_rebuild, rebuild_progress_key


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reporting/home.html",
        {"home": get_home_for_user(user=request.user)},
    )


@login_required
def team_detail(request: HttpRequest, code: str) -> HttpResponse:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    context = {
        "team": team,
        "snapshot": get_snapshot_for_team(team=team),
        "team_agencies": list_team_agencies(team=team),
        "role_groups": list_team_members_by_role(team=team),
        "frameworks": list_frameworks_for_team(team=team),
        "programmes": list_programmes_for_team(team=team),
        "commitments": list_commitments_for_team(team=team),
        "can_log_activities": request.user.has_perm(
            "frameworks.add_jointactivity", team
        ),
    }
    return render(request, "reporting/team_detail.html", context)


# --- the resident coordinator's dashboard -------------------------------------------


def _team_or_404(request: HttpRequest, code: str) -> CountryTeam:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    return team


def _positive_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _dashboard_for(request: HttpRequest, team: CountryTeam) -> Dashboard:
    """The dashboard the query string asks for; unknown values fall back to
    the defaults, so an old bookmark still opens."""
    params = request.GET
    return get_dashboard(
        team=team,
        year=_positive_int(params.get("year")),
        basis=params.get("basis", Basis.VALIDATED),
        measure=params.get("measure", "required"),
        outcome_id=_positive_int(params.get("outcome")),
    )


@login_required
@require_GET
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    board = _dashboard_for(request, team)
    charts = build_charts(board)
    context = {
        "team": team,
        "dashboard": board,
        "tables": {
            name.replace("-", "_"): t for name, t in build_tables(board).items()
        },
        "charts": charts,
        "chart_data": chart_blocks(charts),
        "query": dashboard_query(board) if board.framework else "",
        "query_all_outcomes": dashboard_query(board, outcome=None)
        if board.framework
        else "",
        "measures": measure_labels(),
        "bases": Basis.choices,
        "can_rebuild": request.user.has_perm(
            "coordination.coordinate_countryteam", team
        ),
        "coherence": get_coherence_summary(
            team=team, year=board.year, basis=board.basis
        )
        if board.framework
        else None,
    }
    return render(request, "reporting/dashboard.html", context)


@login_required
@require_GET
def dashboard_download(
    request: HttpRequest, code: str, table: str, extension: str
) -> HttpResponse:
    team = _team_or_404(request, code)
    if table not in TABLES:
        raise Http404
    board = _dashboard_for(request, team)
    if board.framework is None:
        raise Http404
    built = TABLES[table](board)
    return table_download(
        built,
        extension,
        filename=download_name(board, built, extension),
        about=lambda: describe_download(board, built),
    )


def _rebuild_context(team: CountryTeam, *, after: str) -> dict[str, Any]:
    progress = cache.get(rebuild_progress_key(team.pk)) or {}
    status = get_rollup_status(team=team)
    stamp = status.computed_at.isoformat() if status.computed_at else ""
    done, total = progress.get("done", 0), progress.get("total", 0)
    # The job reports its last step before its transaction commits; the new
    # "as of" stamp is what says the figures can be read.
    finished = bool(total) and done >= total and stamp != after
    return {
        "team": team,
        "done": done,
        "total": total,
        "finished": finished,
        "after": after,
    }


@login_required
@require_POST
def dashboard_rebuild(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    if not request.user.has_perm("coordination.coordinate_countryteam", team):
        raise PermissionDenied
    status = get_rollup_status(team=team)
    after = status.computed_at.isoformat() if status.computed_at else ""
    queue_team_rollup_rebuild(team_id=team.pk)
    if not request.htmx:
        messages.success(
            request, _("The figures of %(team)s are being rebuilt.") % {"team": team}
        )
        return redirect(reverse("reporting:dashboard", kwargs={"code": team.code}))
    return _rebuild_progress(request, team, after=after)


@login_required
@require_GET
def dashboard_rebuild_progress(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    return _rebuild_progress(request, team, after=request.GET.get("after", ""))


def _rebuild_progress(
    request: HttpRequest, team: CountryTeam, *, after: str
) -> HttpResponse:
    """The progress fragment; once the rebuild is in, the page reloads itself
    (with a worker in eager mode that is already the answer to the POST)."""
    context = _rebuild_context(team, after=after)
    response = render(request, "reporting/includes/rebuild_progress.html", context)
    if context["finished"]:
        messages.success(request, _("The figures are rebuilt."))
        response["HX-Refresh"] = "true"
    return response
