"""Pages that bring all three layers together: each role's home and the team page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

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
from reporting.selectors import get_home_for_user, get_snapshot_for_team


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
