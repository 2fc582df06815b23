"""HTML pages for results frameworks, joint programmes and the SDGs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from coordination.models import CountryTeam
from coordination.selectors import get_team_for_user
from frameworks.selectors import (
    build_framework_tree,
    get_framework_for_team,
    get_programme_for_team,
    list_programmes_for_team,
    list_sdg_goals,
)


def _team_or_404(request: HttpRequest, code: str) -> CountryTeam:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    return team


@login_required
def framework_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    framework = get_framework_for_team(team=team, pk=pk)
    if framework is None:
        raise Http404
    return render(
        request,
        "frameworks/framework_detail.html",
        {"team": team, "framework": framework, "tree": build_framework_tree(framework)},
    )


@login_required
def programme_list(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    return render(
        request,
        "frameworks/programme_list.html",
        {"team": team, "programmes": list_programmes_for_team(team=team)},
    )


@login_required
def programme_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    programme = get_programme_for_team(team=team, pk=pk)
    if programme is None:
        raise Http404
    return render(
        request,
        "frameworks/programme_detail.html",
        {"team": team, "programme": programme},
    )


@login_required
def sdg_list(request: HttpRequest) -> HttpResponse:
    return render(request, "frameworks/sdg_list.html", {"goals": list_sdg_goals()})
