"""Coherence pages: a team's scorecard, alerts, network and Leave No One Behind
measures with their downloads, the RC office's decisions on overlap alerts,
and the board's comparison of countries."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from coordination.selectors import get_team_for_user
from reporting.coherence_exports import (
    BOARD_TABLES,
    TEAM_TABLES,
    advantage_outcome_tables,
    build_board_chart,
    build_board_tables,
    build_team_charts,
    build_team_tables,
    describe_board_download,
    describe_team_download,
    team_download_name,
)
from reporting.coherence_selectors import (
    PART_DEFINITIONS,
    PART_LABELS,
    SCORE_DEFINITION,
    CoherencePage,
    get_board_coherence,
    get_coherence_page,
    list_alert_lines,
)
from reporting.coherence_services import (
    DECIDE_PERM,
    MAX_COMMENT_LENGTH,
    AlertNotFoundError,
    decide_overlap_alert,
)
from reporting.downloads import table_download
from reporting.models import Basis
from reporting.models.coherence import AlertStatus

if TYPE_CHECKING:
    from coordination.models import CountryTeam

BOARD_PERM = "coordination.view_board_summary"


def _team_or_404(request: HttpRequest, code: str) -> CountryTeam:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    return team


def _year(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 5 else None


def _page_for(request: HttpRequest, team: CountryTeam) -> CoherencePage:
    return get_coherence_page(
        team=team,
        year=_year(request.GET.get("year")),
        basis=request.GET.get("basis", Basis.VALIDATED),
    )


def _query(page: CoherencePage) -> str:
    return urlencode(
        {
            key: value
            for key, value in (("year", page.year), ("basis", page.basis))
            if value
        }
    )


# --- the team page -----------------------------------------------------------------


@login_required
@require_GET
def team_coherence(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    page = _page_for(request, team)
    charts = build_team_charts(page)
    context = {
        "team": team,
        "page": page,
        "tables": {
            name.replace("-", "_"): table
            for name, table in build_team_tables(page).items()
        },
        "charts": charts,
        "chart_data": [(f"chart-{name}-data", data) for name, data in charts.items()],
        "advantage_tables": advantage_outcome_tables(page),
        "network_data": page.network.graph() if page.network else None,
        "query": _query(page),
        "bases": Basis.choices,
        "part_definitions": [
            (str(PART_LABELS[key]), str(PART_DEFINITIONS[key])) for key in PART_LABELS
        ],
        "score_definition": SCORE_DEFINITION,
        "can_decide": request.user.has_perm(DECIDE_PERM, team),
    }
    return render(request, "reporting/coherence/team.html", context)


@login_required
@require_GET
def team_download(
    request: HttpRequest, code: str, table: str, extension: str
) -> HttpResponse:
    team = _team_or_404(request, code)
    if table not in TEAM_TABLES:
        raise Http404
    page = _page_for(request, team)
    built = TEAM_TABLES[table](page)
    return table_download(
        built,
        extension,
        filename=team_download_name(page, built, extension),
        about=lambda: describe_team_download(page, built),
    )


# --- decisions on alerts -------------------------------------------------------------


class AlertDecisionForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Decision"), choices=AlertStatus.choices
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@login_required
@require_POST
def decide_alert(
    request: HttpRequest, code: str, activity_a: int, activity_b: int
) -> HttpResponse:
    team = _team_or_404(request, code)
    if not request.user.has_perm(DECIDE_PERM, team):
        raise PermissionDenied
    form = AlertDecisionForm(request.POST)
    error = done = ""
    if form.is_valid():
        try:
            alert = decide_overlap_alert(
                actor=request.user,
                team=team,
                activity_a_id=activity_a,
                activity_b_id=activity_b,
                status=form.cleaned_data["status"],
                comment=form.cleaned_data["comment"],
            )
        except AlertNotFoundError as exc:
            raise Http404 from exc
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            done = _decided_message(alert.status)
    else:
        error = " ".join(
            message for errors in form.errors.values() for message in errors
        )
    if request.htmx:
        response = render(
            request,
            "reporting/coherence/includes/alerts.html",
            {
                "team": team,
                "alerts": list_alert_lines(team=team),
                "can_decide": True,
                "decision_error": error,
                "decision_done": done,
                "query": request.GET.urlencode(),
            },
            status=400 if error else 200,
        )
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    url = reverse("coherence:team", kwargs={"code": team.code})
    query = request.GET.urlencode()
    return redirect(f"{url}{'?' + query if query else ''}#alerts")


def _decided_message(status: str) -> str:
    return {
        AlertStatus.CONFIRMED: _("Overlap confirmed. The alert stays on the list."),
        AlertStatus.DISMISSED: _(
            "Alert dismissed. It comes back only if the two activities come to "
            "share more outputs, places or time."
        ),
        AlertStatus.OPEN: _("The alert is open again."),
    }[status]


# --- the board ------------------------------------------------------------------------


def _require_board(request: HttpRequest) -> None:
    if not request.user.has_perm(BOARD_PERM):
        raise PermissionDenied


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    _require_board(request)
    found = get_board_coherence(year=_year(request.GET.get("year")))
    chart = build_board_chart(found)
    return render(
        request,
        "reporting/coherence/board.html",
        {
            "board": found,
            "tables": build_board_tables(found),
            "chart": chart,
            "chart_data": [("chart-scores-data", chart)],
            "query": urlencode({"year": found.year}) if found.year else "",
            "part_definitions": [
                (str(PART_LABELS[key]), str(PART_DEFINITIONS[key]))
                for key in PART_LABELS
            ],
            "score_definition": SCORE_DEFINITION,
        },
    )


@login_required
@require_GET
def board_download(request: HttpRequest, table: str, extension: str) -> HttpResponse:
    _require_board(request)
    if table not in BOARD_TABLES:
        raise Http404
    found = get_board_coherence(year=_year(request.GET.get("year")))
    built = BOARD_TABLES[table](found)
    name = f"unportal-board-{found.year or 'all'}-coherence-{built.name}.{extension}"
    return table_download(
        built,
        extension,
        filename=name,
        about=lambda: describe_board_download(found, built),
    )
