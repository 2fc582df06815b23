"""Pages of the agencies' strategic plans.

- the executive board's view: each plan's outcomes and outputs, with the
  validated money and results joint work delivers, country by country, and a
  download of every table;
- the plans themselves, with their outcomes, outputs and mappings, for anyone
  signed in;
- a team's alignment: which agency plan outputs each output of the active
  Cooperation Framework advances, kept by the RC office.

Views stay thin: permissions through `user.has_perm`, reads through selectors,
writes through frameworks.services.strategic_plans.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
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
from django.views.decorators.http import require_GET, require_http_methods

from coordination.models import Agency, Region
from coordination.selectors import get_team_for_user
from frameworks.forms import GroupedCheckboxSelectMultiple, apply_service_errors
from frameworks.models import StrategicPlanOutput
from frameworks.services.strategic_plans import (
    LINK_OUTPUT,
    set_framework_output_plan_outputs,
)
from frameworks.strategic_plan_selectors import (
    get_strategic_plan,
    get_team_alignment,
    get_team_output,
    list_plan_outputs,
    list_strategic_plans,
)
from reporting.downloads import table_download
from reporting.strategic_plan_exports import (
    TABLES,
    build_plan_tables,
    describe_download,
    download_name,
)
from reporting.strategic_plan_selectors import (
    PlanBoardFilters,
    get_strategic_plan_board,
)

if TYPE_CHECKING:
    from coordination.models import CountryTeam


# --- the board's view -------------------------------------------------------------


class BoardFilterForm(forms.Form):
    """The board page's GET parameters; a bad value is named and then ignored."""

    agency = forms.ModelChoiceField(
        label=gettext_lazy("Agency"),
        queryset=Agency.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("All agencies"),
    )
    year = forms.IntegerField(
        label=gettext_lazy("Year"), min_value=2000, max_value=2100, required=False
    )
    region = forms.ChoiceField(
        label=gettext_lazy("Region"),
        choices=[("", gettext_lazy("All regions")), *Region.choices],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = (
            Agency.objects.filter(strategic_plans__isnull=False)
            .distinct()
            .order_by("code")
        )

    def to_filters(self) -> PlanBoardFilters:
        self.is_valid()
        values = {
            name: self.cleaned_data.get(name) or None
            for name in self.fields
            if name not in self.errors
        }
        return PlanBoardFilters(**values)


def _require_board(request: HttpRequest) -> None:
    if not request.user.has_perm("coordination.view_board_summary"):
        raise PermissionDenied


def _query(filters: PlanBoardFilters) -> str:
    params = {
        "agency": filters.agency.code if filters.agency else "",
        "year": filters.year or "",
        "region": filters.region or "",
    }
    return urlencode({key: value for key, value in params.items() if value})


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    _require_board(request)
    form = BoardFilterForm(request.GET or None)
    filters = form.to_filters() if request.GET else PlanBoardFilters()
    figures = get_strategic_plan_board(filters=filters, user=request.user)
    query = _query(filters)
    sections = [
        {
            "board": plan_board,
            "tables": build_plan_tables(plan_board, filters),
            "download_query": query,
        }
        for plan_board in figures.plans
    ]
    context = {
        "form": form,
        "filters": filters,
        "figures": figures,
        "sections": sections,
        "query": query,
    }
    return render(request, "reporting/strategic_plans/board.html", context)


@login_required
@require_GET
def board_download(
    request: HttpRequest, pk: int, table: str, extension: str
) -> HttpResponse:
    _require_board(request)
    if table not in TABLES:
        raise Http404
    filters = BoardFilterForm(request.GET).to_filters()
    figures = get_strategic_plan_board(filters=filters, user=request.user, plan_id=pk)
    if not figures.plans:
        raise Http404
    plan_board = figures.plans[0]
    built = TABLES[table](plan_board, filters)
    return table_download(
        built,
        extension,
        filename=download_name(plan_board, built, extension),
        about=lambda: describe_download(plan_board, built, filters),
    )


# --- the plans --------------------------------------------------------------------


def _require_view_plans(request: HttpRequest) -> None:
    if not request.user.has_perm("frameworks.view_strategicplan"):
        raise PermissionDenied


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    _require_view_plans(request)
    return render(
        request,
        "reporting/strategic_plans/plan_list.html",
        {
            "plans": list_strategic_plans(),
            "can_see_board": request.user.has_perm("coordination.view_board_summary"),
        },
    )


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view_plans(request)
    detail = get_strategic_plan(pk=pk)
    if detail is None:
        raise Http404
    return render(
        request,
        "reporting/strategic_plans/plan_detail.html",
        {
            "detail": detail,
            "plan": detail.plan,
            "can_see_board": request.user.has_perm("coordination.view_board_summary"),
        },
    )


# --- a team's alignment -----------------------------------------------------------


def _team_or_404(request: HttpRequest, code: str) -> CountryTeam:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    return team


@login_required
@require_GET
def team_alignment(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    alignment = get_team_alignment(team=team)
    can_edit = request.user.has_perm(LINK_OUTPUT, team)
    return render(
        request,
        "reporting/strategic_plans/team_alignment.html",
        {"team": team, "alignment": alignment, "can_edit": can_edit},
    )


class OutputAlignmentForm(forms.Form):
    plan_outputs = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Agency strategic-plan outputs this output advances"),
        queryset=StrategicPlanOutput.objects.none(),
        required=False,
        widget=GroupedCheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Outputs of the plans of the team's agencies that overlap the "
            "framework's period. Every validated contribution of an agency to "
            "joint work on this output then counts towards that agency's plan."
        ),
    )

    def __init__(
        self, *args: Any, offered: list[StrategicPlanOutput], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["plan_outputs"]
        field.queryset = StrategicPlanOutput.objects.filter(
            pk__in=[o.pk for o in offered]
        )
        groups: dict[str, list[tuple[int, str]]] = {}
        for output in offered:
            groups.setdefault(output.plan.title, []).append(
                (output.pk, f"{output.code} {output.title}")
            )
        field.choices = list(groups.items())


@login_required
@require_http_methods(["GET", "POST"])
def output_alignment(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    output = get_team_output(team=team, pk=pk)
    if output is None:
        raise Http404
    if not request.user.has_perm(LINK_OUTPUT, output):
        raise PermissionDenied
    framework = output.framework
    offered = list_plan_outputs(
        agencies=team.agencies.all(),
        start_year=framework.start_year,
        end_year=framework.end_year,
    )
    linked = [o.pk for o in output.strategic_plan_outputs.all()]
    form = OutputAlignmentForm(
        request.POST if request.method == "POST" else None,
        initial={"plan_outputs": linked},
        offered=offered,
    )
    if request.method == "POST" and form.is_valid():
        try:
            set_framework_output_plan_outputs(
                actor=request.user,
                output=output,
                plan_outputs=form.cleaned_data["plan_outputs"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The plan outputs that %(code)s advances are saved.")
                % {"code": output.code},
            )
            return redirect(
                reverse("strategic_plans:team_alignment", kwargs={"code": team.code})
                + f"#output-{output.pk}"
            )
    return render(
        request,
        "reporting/strategic_plans/output_form.html",
        {"team": team, "output": output, "form": form},
        status=400 if request.method == "POST" else 200,
    )
