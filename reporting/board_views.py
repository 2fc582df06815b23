"""The executive board's pages: the global summary, the world map, the common
chapter and the drill-down to one country team, with a download of every table.

Read-only, validated figures only, for users with the permission
`coordination.view_board_summary` (board members and administrators). The
filters live in the query string (`reporting.board_filters`); a bad value is
answered with the page's filter form, its message and status 400.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from coordination.models import CountryTeam
from reporting.board_exports import (
    COMMON_CHAPTER_TABLES,
    MAP_TABLES,
    SUMMARY_TABLES,
    TEAM_TABLES,
    BoardLinks,
    board_download_name,
    common_chapter_charts,
    describe_board_download,
    joint_definition,
    map_chart,
    progress_definition,
    summary_charts,
    team_charts,
)
from reporting.board_filters import BoardFilterForm, BoardFilters, FilterOptions
from reporting.board_selectors import (
    BoardStatus,
    board_summary,
    board_team,
    common_chapter_summary,
    load_filter_options,
)
from reporting.downloads import table_download
from reporting.exports import Table

PERMISSION = "coordination.view_board_summary"


@dataclass(frozen=True)
class BoardPage:
    """One board page: its template, how it reads its figures and its tables."""

    template: str
    read: Callable[[BoardFilters], Any]
    tables: dict[str, Callable[[Any, BoardLinks], Table]]


PAGES = {
    "summary": BoardPage("reporting/board/summary.html", board_summary, SUMMARY_TABLES),
    "map": BoardPage("reporting/board/map.html", board_summary, MAP_TABLES),
    "common-chapter": BoardPage(
        "reporting/board/common_chapter.html",
        common_chapter_summary,
        COMMON_CHAPTER_TABLES,
    ),
    "team": BoardPage("reporting/board/team.html", board_team, TEAM_TABLES),
}


def _require_board(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _viewable_team_ids(request: HttpRequest, teams: list[CountryTeam]) -> frozenset:
    """Teams whose own pages the viewer may open (memberships are loaded once
    per user, so this asks the database nothing per team)."""
    user = request.user
    return frozenset(
        team.pk
        for team in teams
        if user.has_perm("coordination.view_countryteam", team)
    )


def _teams_of(page: str, figures: Any) -> list[CountryTeam]:
    if page == "team":
        return [figures.team]
    if page == "common-chapter":
        return list({line.team.pk: line.team for line in figures.delivery}.values())
    teams = [line.obj for line in figures.teams]
    teams.extend(gap.team for gap in figures.outcome_gaps or [])
    return teams


def _status_of(page: str, figures: Any) -> BoardStatus:
    return figures.summary.status if page == "team" else figures.status


def _downloads(page: str, names: list[str], filters: BoardFilters) -> dict[str, dict]:
    query = filters.query()
    links = {}
    for name in names:
        urls = {}
        for extension in ("csv", "xlsx"):
            if page == "team":
                url = reverse(
                    "board:team_download",
                    kwargs={
                        "code": filters.team.code,
                        "table": name,
                        "extension": extension,
                    },
                )
            else:
                url = reverse(
                    "board:download",
                    kwargs={"page": page, "table": name, "extension": extension},
                )
            urls[extension] = f"{url}?{query}" if query else url
        links[name.replace("-", "_")] = urls
    return links


def _pdf_url(filters: BoardFilters) -> str:
    """Where the board summary PDF of these filters is made, when the reports
    module is installed."""
    try:
        url = reverse("reports:board_summaries")
    except NoReverseMatch:
        return ""
    query = filters.query(measure="")
    return f"{url}?{query}" if query else url


def _invalid(
    request: HttpRequest,
    page: str,
    form: BoardFilterForm,
    options: FilterOptions,
    team: CountryTeam | None,
) -> HttpResponse:
    context = {
        "page": page,
        "form": form,
        "options": options,
        "errors": form.messages,
        "team": team,
        "year_choices": sorted(options.years),
        "show_measure": page == "map",
    }
    return render(request, "reporting/board/invalid.html", context, status=400)


def _render(request: HttpRequest, page: str, team: CountryTeam | None = None):
    _require_board(request)
    options = load_filter_options()
    form = BoardFilterForm(request.GET, options=options)
    if not form.is_valid():
        return _invalid(request, page, form, options, team)
    filters = form.filters(team=team)
    board = PAGES[page]
    figures = board.read(filters)
    links = BoardLinks(
        filters=filters,
        viewable_team_ids=_viewable_team_ids(request, _teams_of(page, figures)),
    )
    tables = {name: build(figures, links) for name, build in board.tables.items()}
    context = {
        "page": page,
        "form": form,
        "options": options,
        "filters": filters,
        "figures": figures,
        "status": _status_of(page, figures),
        "links": links,
        "tables": {name.replace("-", "_"): table for name, table in tables.items()},
        "downloads": _downloads(page, list(tables), filters),
        "query": filters.query(),
        "year_choices": sorted({*options.years, filters.year_from, filters.year_to}),
        "joint_definition": joint_definition(),
        "progress_definition": progress_definition(),
    }
    if page == "summary":
        context["charts"] = summary_charts(figures)
        context["pdf_url"] = _pdf_url(filters)
    elif page == "map":
        context["charts"] = {"map": map_chart(figures, links)}
    elif page == "common-chapter":
        context["charts"] = common_chapter_charts(figures)
    elif team is not None:
        context["charts"] = team_charts(figures)
        context["team"] = team
        context["team_dashboard"] = links.dashboard(team)
        context["frameworks"] = [
            (framework, links.framework(team, framework))
            for framework in figures.frameworks
        ]
    context["chart_data"] = [
        (f"chart-{name}-data", data) for name, data in context.get("charts", {}).items()
    ]
    return render(request, board.template, context)


@login_required
@require_GET
def summary(request: HttpRequest) -> HttpResponse:
    return _render(request, "summary")


@login_required
@require_GET
def world_map(request: HttpRequest) -> HttpResponse:
    return _render(request, "map")


@login_required
@require_GET
def common_chapter(request: HttpRequest) -> HttpResponse:
    return _render(request, "common-chapter")


@login_required
@require_GET
def team(request: HttpRequest, code: str) -> HttpResponse:
    _require_board(request)
    return _render(request, "team", get_object_or_404(CountryTeam, code=code))


def _download(
    request: HttpRequest,
    page: str,
    table: str,
    extension: str,
    team: CountryTeam | None = None,
) -> HttpResponse:
    _require_board(request)
    board = PAGES[page]
    if table not in board.tables:
        raise Http404
    form = BoardFilterForm(request.GET, options=load_filter_options())
    if not form.is_valid():
        return HttpResponse(
            "\n".join(form.messages) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    filters = form.filters(team=team)
    figures = board.read(filters)
    built = board.tables[table](figures, BoardLinks(filters=filters))
    return table_download(
        built,
        extension,
        filename=board_download_name(filters, built, extension),
        about=lambda: describe_board_download(
            filters, _status_of(page, figures), built
        ),
    )


@login_required
@require_GET
def download(request: HttpRequest, page: str, table: str, extension: str):
    if page not in PAGES or page == "team":
        raise Http404
    return _download(request, page, table, extension)


@login_required
@require_GET
def team_download(request: HttpRequest, code: str, table: str, extension: str):
    _require_board(request)
    team = get_object_or_404(CountryTeam, code=code)
    return _download(request, "team", table, extension, team)
