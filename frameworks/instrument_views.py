"""HTML pages for the coordination instruments of a country team and the global
platforms.

A team's instruments are a 404 for people outside the team; follow-up forms ask
`user.has_perm` (403 for members without the right) and write through services.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from coordination.selectors import get_team_for_user
from frameworks.instrument_selectors import (
    get_mission_for_team,
    get_platform_for_user,
    get_recommendation_for_team,
    list_collective_outcomes_for_team,
    list_missions_for_team,
    list_operations_strategies_for_team,
    list_platforms,
    list_platforms_for_team,
    list_recommendations_for_team,
    list_zero_hunger_reviews_for_team,
    summarize_cost_avoidance,
)
from frameworks.models import FollowUpStatus
from frameworks.services import update_recommendation_status

if TYPE_CHECKING:
    from collections.abc import Iterable

    from coordination.models import CountryTeam
    from frameworks.models import MapsMission, Recommendation

FOLLOW_UP_PERM = "frameworks.follow_up_recommendation"


def _team_or_404(request: HttpRequest, code: str) -> CountryTeam:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    return team


def _mark_follow_up_rights(
    request: HttpRequest, missions: Iterable[MapsMission]
) -> list[MapsMission]:
    # Asked once per row here so the template only reads a flag; the rules read
    # the user's cached memberships and the prefetched mission, never the database.
    missions = list(missions)
    for mission in missions:
        for recommendation in mission.recommendations.all():
            recommendation.can_follow_up = request.user.has_perm(
                FOLLOW_UP_PERM, recommendation
            )
    return missions


def _overdue_count(missions: Iterable[MapsMission]) -> int:
    return sum(
        1
        for mission in missions
        for recommendation in mission.recommendations.all()
        if recommendation.is_overdue
    )


@login_required
@require_GET
def team_instruments(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    missions = _mark_follow_up_rights(request, list_missions_for_team(team=team))
    strategies = [
        (strategy, summarize_cost_avoidance(strategy))
        for strategy in list_operations_strategies_for_team(team=team)
    ]
    return render(
        request,
        "frameworks/instruments/team_instruments.html",
        {
            "team": team,
            "missions": missions,
            "overdue_count": _overdue_count(missions),
            "reviews": list_zero_hunger_reviews_for_team(team=team),
            "collective_outcomes": list_collective_outcomes_for_team(team=team),
            "strategies": strategies,
            "platforms": list_platforms_for_team(team=team),
        },
    )


@login_required
@require_GET
def mission_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    mission = get_mission_for_team(team=team, pk=pk)
    if mission is None:
        raise Http404
    _mark_follow_up_rights(request, [mission])
    return render(
        request,
        "frameworks/instruments/mission_detail.html",
        {
            "team": team,
            "mission": mission,
            "overdue_count": _overdue_count([mission]),
        },
    )


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Follow-up status"), choices=FollowUpStatus.choices
    )
    note = forms.CharField(
        label=gettext_lazy("Follow-up note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What was done, what is blocking it, what comes next."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_follow_up(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    recommendation: Recommendation | None = get_recommendation_for_team(
        team=team, pk=pk
    )
    if recommendation is None:
        raise Http404
    if not request.user.has_perm(FOLLOW_UP_PERM, recommendation):
        raise PermissionDenied
    form = FollowUpForm(
        request.POST or None,
        initial={
            "status": recommendation.status,
            "note": recommendation.follow_up_note,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_recommendation_status(
                recommendation=recommendation,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The follow-up status is saved."))
            return redirect(recommendation.mission.get_absolute_url())
    return render(
        request,
        "frameworks/instruments/recommendation_form.html",
        {"team": team, "recommendation": recommendation, "form": form},
        status=400 if form.errors else 200,
    )


CSV_COLUMNS = (
    "mission",
    "code",
    "recommendation",
    "accelerator",
    "owner_agency",
    "due_date",
    "status",
    "overdue",
    "follow_up_note",
)


def _csv_cell(value: Any) -> str:
    # A cell that starts like a formula would run in a spreadsheet; quote it.
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
@require_GET
def recommendations_csv(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{team.code}-maps-recommendations.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for rec in list_recommendations_for_team(team=team):
        writer.writerow(
            _csv_cell(value)
            for value in (
                rec.mission.code,
                rec.code,
                rec.text,
                rec.accelerator.name if rec.accelerator else "",
                rec.owner_agency.code,
                rec.due_date.isoformat(),
                rec.status,
                "yes" if rec.is_overdue else "no",
                rec.follow_up_note,
            )
        )
    return response


@login_required
@require_GET
def platform_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frameworks/instruments/platform_list.html",
        {"platforms": list_platforms(user=request.user)},
    )


@login_required
@require_GET
def platform_detail(request: HttpRequest, code: str) -> HttpResponse:
    platform = get_platform_for_user(user=request.user, code=code)
    if platform is None:
        raise Http404
    return render(
        request,
        "frameworks/instruments/platform_detail.html",
        {"platform": platform},
    )
