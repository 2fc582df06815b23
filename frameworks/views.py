"""HTML pages for results frameworks, joint programmes, the SDGs and joint work.

Views stay thin: they find the team (404 for people outside it), ask
`user.has_perm` with the names in frameworks/permissions.py (403 for members
without the right), read through selectors and write through services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coordination.models import CountryTeam
from coordination.selectors import get_team_for_user
from frameworks.forms import (
    ActivityFilterForm,
    ActivityForm,
    ContributionForm,
    MeasurementForm,
    ReturnForm,
    apply_service_errors,
)
from frameworks.models import (
    FrameworkStatus,
    TargetGroup,
    WorkflowAction,
    WorkflowStatus,
)
from frameworks.permissions import (
    is_awaiting_review,
    is_editable,
    is_submittable,
    was_never_validated,
)
from frameworks.quality import blocking
from frameworks.selectors import (
    build_framework_tree,
    check_activity_quality,
    count_work_for_user,
    describe_changes,
    get_active_framework,
    get_activity_filter_options,
    get_activity_for_team,
    get_contribution_for_team,
    get_framework_for_team,
    get_indicator_for_team,
    get_measurement_for_team,
    get_programme_for_team,
    get_work_for_user,
    list_activities_for_team,
    list_activity_regions,
    list_activity_timeline,
    list_measurements_for_indicator,
    list_measuring_agencies,
    list_output_indicators,
    list_own_agencies,
    list_programmes_for_team,
    list_sdg_goals,
    list_team_regions,
    summarize_funding,
)
from frameworks.services import (
    ConflictError,
    QualityError,
    create_activity,
    delete_activity,
    delete_contribution,
    delete_measurement,
    record_measurement,
    return_activity,
    return_contribution,
    return_measurement,
    sign_off_framework,
    submit_activity,
    submit_contribution,
    submit_measurement,
    update_activity,
    update_measurement,
    validate_activity,
    validate_contribution,
    validate_measurement,
)
from frameworks.services.strategic_plans import (
    create_contribution_with_plan_outputs,
    update_contribution_with_plan_outputs,
)
from frameworks.strategic_plan_selectors import (
    list_plan_outputs,
    list_plan_outputs_of_contribution,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from frameworks.models import (
        Contribution,
        Indicator,
        IndicatorMeasurement,
        JointActivity,
    )
    from frameworks.quality import Issue

ACTIVITY_PAGE_SIZE = 25
SORT_LABELS = [
    ("-updated", gettext_lazy("Recently updated first")),
    ("updated", gettext_lazy("Least recently updated first")),
    ("title", gettext_lazy("Title, A to Z")),
    ("-title", gettext_lazy("Title, Z to A")),
    ("-start", gettext_lazy("Latest start first")),
    ("start", gettext_lazy("Earliest start first")),
    ("status", gettext_lazy("Status, drafts first")),
    ("-status", gettext_lazy("Status, validated first")),
]


def _team_or_404(request: HttpRequest, code: str) -> CountryTeam:
    team = get_team_for_user(user=request.user, code=code)
    if team is None:
        raise Http404
    return team


def _require_perm(request: HttpRequest, perm: str, obj: Any) -> None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied


def _found(obj: Any) -> Any:
    if obj is None:
        raise Http404
    return obj


@dataclass(frozen=True)
class Actions:
    """What the user may do with a record now: the permission and the workflow
    state both have to allow it (administrators pass every permission, but the
    workflow binds them too)."""

    edit: bool = False
    submit: bool = False
    review: bool = False
    delete: bool = False

    @property
    def any(self) -> bool:
        return self.edit or self.submit or self.review or self.delete


def _actions(request: HttpRequest, model: str, obj: Any) -> Actions:
    user = request.user
    return Actions(
        edit=user.has_perm(f"frameworks.change_{model}", obj)
        and is_editable(None, obj),
        submit=user.has_perm(f"frameworks.submit_{model}", obj)
        and is_submittable(None, obj),
        review=user.has_perm(f"frameworks.review_{model}", obj)
        and is_awaiting_review(None, obj),
        delete=user.has_perm(f"frameworks.delete_{model}", obj)
        and was_never_validated(None, obj),
    )


def _run_step(request: HttpRequest, step: Callable[[], Any], success: str) -> bool:
    """Run a workflow service; a refusal by the workflow becomes a message."""
    try:
        step()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, success)
    return True


def _warnings_note(request: HttpRequest, issues: list[Issue]) -> None:
    warnings = [i for i in issues if not i.is_blocking]
    if warnings:
        messages.warning(
            request,
            ngettext(
                "It has %(n)d data-quality warning; the RC office will see it.",
                "It has %(n)d data-quality warnings; the RC office will see them.",
                len(warnings),
            )
            % {"n": len(warnings)},
        )


# --- frameworks, programmes, SDGs ---------------------------------------------------


@login_required
def framework_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    framework = _found(get_framework_for_team(team=team, pk=pk))
    return render(
        request,
        "frameworks/framework_detail.html",
        {
            "team": team,
            "framework": framework,
            "tree": build_framework_tree(framework),
            "can_sign_off": framework.status == FrameworkStatus.DRAFT
            and request.user.has_perm("coordination.sign_off_countryteam", team),
        },
    )


@login_required
@require_POST
def framework_sign_off(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    framework = _found(get_framework_for_team(team=team, pk=pk))
    _require_perm(request, "coordination.sign_off_countryteam", team)
    _run_step(
        request,
        lambda: sign_off_framework(framework=framework, actor=request.user),
        _("The framework is signed off and now in force."),
    )
    return redirect(framework.get_absolute_url())


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
    programme = _found(get_programme_for_team(team=team, pk=pk))
    return render(
        request,
        "frameworks/programme_detail.html",
        {"team": team, "programme": programme},
    )


@login_required
def sdg_list(request: HttpRequest) -> HttpResponse:
    return render(request, "frameworks/sdg_list.html", {"goals": list_sdg_goals()})


# --- joint activities -------------------------------------------------------------


def _query_without(request: HttpRequest, *names: str, **values: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    for name, value in values.items():
        params[name] = value
    for name in [k for k, v in params.items() if v == ""]:
        params.pop(name)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def _sort_links(request: HttpRequest, current: str) -> dict[str, dict[str, str]]:
    """Per column, the link that sorts by it (flipping the order when it is the
    current sort) and the aria-sort value."""
    links = {}
    for column in ("title", "start", "status", "updated"):
        ascending = current == column
        descending = current == f"-{column}"
        target = f"-{column}" if ascending else column
        links[column] = {
            "url": _query_without(request, "page", sort=target),
            "aria_sort": "ascending"
            if ascending
            else "descending"
            if descending
            else "none",
        }
    return links


@login_required
@require_GET
def activity_list(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    filters = ActivityFilterForm(request.GET).to_filters()
    page = Paginator(
        list_activities_for_team(team=team, filters=filters), ACTIVITY_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context = {
        "team": team,
        "filters": filters,
        "page": page,
        "sorts": _sort_links(request, filters.sort),
        "page_query": _query_without(request, "page"),
        "list_url": reverse("frameworks:activity_list", kwargs={"code": team.code}),
        "can_add": request.user.has_perm("frameworks.add_jointactivity", team),
    }
    if request.htmx and not request.htmx.boosted:
        return render(
            request,
            "frameworks/includes/activity_results.html",
            context | {"oob": True},
        )
    context["options"] = get_activity_filter_options(team=team)
    context["status_choices"] = WorkflowStatus.choices
    context["sort_labels"] = SORT_LABELS
    return render(request, "frameworks/activity_list.html", context)


def _activity_form(
    request: HttpRequest,
    team: CountryTeam,
    activity: JointActivity | None = None,
    data: Any = None,
    initial: dict | None = None,
) -> ActivityForm | None:
    framework = activity.framework if activity else get_active_framework(team=team)
    if framework is None:
        return None
    return ActivityForm(
        data,
        initial=initial,
        team=team,
        framework=framework,
        lead_agencies=list_own_agencies(user=request.user, team=team),
        regions=list_team_regions(team=team),
        activity=activity,
    )


def _render_activity_form(
    request: HttpRequest,
    team: CountryTeam,
    form: ActivityForm | None,
    activity: JointActivity | None = None,
    conflict: ConflictError | None = None,
    status: int = 200,
) -> HttpResponse:
    if activity is None:
        check_url = reverse("frameworks:activity_check", kwargs={"code": team.code})
    else:
        check_url = reverse(
            "frameworks:activity_edit_check",
            kwargs={"code": team.code, "pk": activity.pk},
        )
    return render(
        request,
        "frameworks/activity_form.html",
        {
            "team": team,
            "form": form,
            "activity": activity,
            "check_url": check_url,
            "conflict": conflict,
            "conflict_changes": describe_changes(conflict.changes) if conflict else [],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request: HttpRequest, code: str) -> HttpResponse:
    team = _team_or_404(request, code)
    _require_perm(request, "frameworks.add_jointactivity", team)
    if request.method != "POST":
        form = _activity_form(request, team)
        if form is not None:
            leads = list(form.fields["agency"].queryset)
            if len(leads) == 1:
                form.initial.update(agency=leads[0].pk, agencies=[leads[0].pk])
        return _render_activity_form(request, team, form)
    form = _activity_form(request, team, data=request.POST)
    if form is not None and form.is_valid():
        try:
            activity = create_activity(
                actor=request.user, country_team=team, data=form.to_data()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The activity is saved as a draft. Add your agency's contribution, "
                    "then submit it for validation."
                ),
            )
            return redirect(activity.get_absolute_url())
    return _render_activity_form(request, team, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    activity = _found(get_activity_for_team(team=team, pk=pk))
    _require_perm(request, "frameworks.change_jointactivity", activity)
    initial = ActivityForm.initial_for(activity)
    if request.method != "POST":
        form = _activity_form(request, team, activity, initial=initial)
        return _render_activity_form(request, team, form, activity)
    form = _activity_form(request, team, activity, data=request.POST, initial=initial)
    assert form is not None  # noqa: S101 - an activity always has its framework
    if form.is_valid():
        try:
            update_activity(
                actor=request.user,
                activity=activity,
                data=form.to_data(),
                expected_version=form.cleaned_data["version"],
            )
        except ConflictError as conflict:
            # Never overwrite: show what differs and start again from what is saved.
            current = _found(get_activity_for_team(team=team, pk=pk))
            fresh = _activity_form(
                request, team, current, initial=ActivityForm.initial_for(current)
            )
            return _render_activity_form(
                request, team, fresh, current, conflict=conflict, status=409
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect(activity.get_absolute_url())
    return _render_activity_form(request, team, form, activity, status=400)


@login_required
@require_POST
def activity_check(
    request: HttpRequest, code: str, pk: int | None = None
) -> HttpResponse:
    """Check the activity form as it is being filled in and return the fields'
    errors, for HTMX to put in place. Only fields the person has touched are
    judged, so an empty field they have not reached yet is not flagged."""
    team = _team_or_404(request, code)
    activity = None
    if pk is None:
        _require_perm(request, "frameworks.add_jointactivity", team)
    else:
        activity = _found(get_activity_for_team(team=team, pk=pk))
        _require_perm(request, "frameworks.change_jointactivity", activity)
    initial = ActivityForm.initial_for(activity) if activity else None
    form = _activity_form(request, team, activity, data=request.POST, initial=initial)
    if form is None:
        raise Http404
    form.is_valid()
    touched = set(request.POST.getlist("_touched"))
    fields = [
        form[name]
        for name in form.fields
        if not form.fields[name].widget.is_hidden and (not touched or name in touched)
    ]
    return render(request, "frameworks/includes/field_errors.html", {"fields": fields})


def _render_activity_detail(
    request: HttpRequest,
    team: CountryTeam,
    activity: JointActivity,
    *,
    submit_issues: list[Issue] | None = None,
    submit_subject: str = "",
    return_form: ReturnForm | None = None,
    return_target: str = "",
    status: int = 200,
) -> HttpResponse:
    def return_form_for(target: str, auto_id: str) -> ReturnForm:
        if return_form is not None and return_target == target:
            return return_form
        return ReturnForm(auto_id=auto_id)

    quality = check_activity_quality(activity)
    rows = [
        {
            "contribution": item.contribution,
            "issues": item.issues,
            "actions": _actions(request, "contribution", item.contribution),
            "return_form": return_form_for(
                f"contribution-{item.contribution.pk}",
                f"id_return_{item.contribution.pk}_%s",
            ),
        }
        for item in quality.contributions
    ]
    timeline = list_activity_timeline(activity=activity)
    last_return = next(
        (
            entry.event
            for entry in timeline
            if entry.event.activity_id and entry.event.action == WorkflowAction.RETURNED
        ),
        None,
    )
    return render(
        request,
        "frameworks/activity_detail.html",
        {
            "team": team,
            "activity": activity,
            "quality": quality,
            "funding": summarize_funding(activity),
            "contributions": rows,
            "timeline": timeline,
            "last_return": last_return,
            "actions": _actions(request, "jointactivity", activity),
            "can_add_contribution": request.user.has_perm(
                "frameworks.add_contribution", activity
            ),
            "submit_issues": submit_issues or [],
            "submit_subject": submit_subject,
            "return_form": return_form_for("activity", "id_return_%s"),
            "return_open": return_target == "activity",
            "target_group_labels": [
                TargetGroup(group).label
                for group in activity.target_groups
                if group in TargetGroup.values
            ],
            "return_target": return_target,
        },
        status=status,
    )


@login_required
@require_GET
def activity_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    activity = _found(get_activity_for_team(team=team, pk=pk))
    _require_perm(request, "frameworks.view_jointactivity", activity)
    return _render_activity_detail(request, team, activity)


def _activity_for_step(
    request: HttpRequest, code: str, pk: int, perm: str
) -> tuple[CountryTeam, JointActivity]:
    team = _team_or_404(request, code)
    activity = _found(get_activity_for_team(team=team, pk=pk))
    _require_perm(request, perm, activity)
    return team, activity


@login_required
@require_POST
def activity_submit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team, activity = _activity_for_step(
        request, code, pk, "frameworks.submit_jointactivity"
    )
    try:
        issues = submit_activity(actor=request.user, activity=activity)
    except QualityError as exc:
        return _render_activity_detail(
            request,
            team,
            activity,
            submit_issues=blocking(exc.issues),
            submit_subject=_("The activity"),
            status=400,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The activity is submitted for validation."))
        _warnings_note(request, issues)
    return redirect(activity.get_absolute_url())


@login_required
@require_POST
def activity_validate(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    _team, activity = _activity_for_step(
        request, code, pk, "frameworks.review_jointactivity"
    )
    _run_step(
        request,
        lambda: validate_activity(actor=request.user, activity=activity),
        _("The activity is validated."),
    )
    return redirect(activity.get_absolute_url())


@login_required
@require_POST
def activity_return(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team, activity = _activity_for_step(
        request, code, pk, "frameworks.review_jointactivity"
    )
    form = ReturnForm(request.POST, auto_id="id_return_%s")
    if form.is_valid():
        try:
            return_activity(
                actor=request.user,
                activity=activity,
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, _("The activity is returned to its agency with your comment.")
            )
            return redirect(activity.get_absolute_url())
    return _render_activity_detail(
        request,
        team,
        activity,
        return_form=form,
        return_target="activity",
        status=400,
    )


@login_required
@require_POST
def activity_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team, activity = _activity_for_step(
        request, code, pk, "frameworks.delete_jointactivity"
    )
    done = _run_step(
        request,
        lambda: delete_activity(actor=request.user, activity=activity),
        _("The draft activity “%(title)s” is deleted.") % {"title": activity.title},
    )
    if done:
        return redirect("frameworks:activity_list", code=team.code)
    return redirect(activity.get_absolute_url())


# --- contributions ----------------------------------------------------------------


def _contribution_url(contribution: Contribution) -> str:
    return (
        reverse(
            "frameworks:activity_detail",
            kwargs={
                "code": contribution.activity.country_team.code,
                "pk": contribution.activity_id,
            },
        )
        + f"#contribution-{contribution.pk}"
    )


def _render_contribution_form(
    request: HttpRequest,
    team: CountryTeam,
    activity: JointActivity,
    form: ContributionForm,
    contribution: Contribution | None = None,
    conflict: ConflictError | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "frameworks/contribution_form.html",
        {
            "team": team,
            "activity": activity,
            "form": form,
            "contribution": contribution,
            "conflict": conflict,
            "conflict_changes": describe_changes(conflict.changes) if conflict else [],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contribution_create(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    activity = _found(get_activity_for_team(team=team, pk=pk))
    _require_perm(request, "frameworks.add_contribution", activity)
    involved = {a.pk for a in activity.agencies.all()}
    agencies = list_own_agencies(user=request.user, team=team).filter(pk__in=involved)
    form = ContributionForm(
        request.POST if request.method == "POST" else None,
        activity=activity,
        indicators=list_output_indicators(activity),
        regions=list_activity_regions(activity=activity),
        agencies=agencies,
        plan_outputs=list_plan_outputs(
            agencies=agencies,
            start_year=activity.framework.start_year,
            end_year=activity.framework.end_year,
        ),
    )
    if request.method != "POST":
        return _render_contribution_form(request, team, activity, form)
    if form.is_valid():
        try:
            contribution = create_contribution_with_plan_outputs(
                actor=request.user,
                activity=activity,
                agency=form.cleaned_data["agency"],
                year=form.cleaned_data["year"],
                figures=form.to_figures(),
                plan_outputs=form.cleaned_data.get("plan_outputs") or [],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The %(agency)s contribution for %(year)d is saved as a draft.")
                % {"agency": contribution.agency.code, "year": contribution.year},
            )
            return redirect(_contribution_url(contribution))
    return _render_contribution_form(request, team, activity, form, status=400)


def _contribution_form(
    request: HttpRequest, team: CountryTeam, contribution: Contribution, data: Any
) -> ContributionForm:
    return ContributionForm(
        data,
        initial={
            **ContributionForm.initial_for(contribution),
            "plan_outputs": [
                o.pk
                for o in list_plan_outputs_of_contribution(contribution=contribution)
            ],
        },
        activity=contribution.activity,
        indicators=list_output_indicators(contribution.activity),
        regions=list_activity_regions(activity=contribution.activity),
        contribution=contribution,
        plan_outputs=list_plan_outputs(
            agencies=[contribution.agency],
            start_year=contribution.year,
            end_year=contribution.year,
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contribution_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    contribution = _found(get_contribution_for_team(team=team, pk=pk))
    _require_perm(request, "frameworks.change_contribution", contribution)
    activity = contribution.activity
    if request.method != "POST":
        form = _contribution_form(request, team, contribution, None)
        return _render_contribution_form(request, team, activity, form, contribution)
    form = _contribution_form(request, team, contribution, request.POST)
    if form.is_valid():
        try:
            update_contribution_with_plan_outputs(
                actor=request.user,
                contribution=contribution,
                figures=form.to_figures(),
                expected_version=form.cleaned_data["version"],
                plan_outputs=form.cleaned_data.get("plan_outputs"),
            )
        except ConflictError as conflict:
            current = _found(get_contribution_for_team(team=team, pk=pk))
            fresh = _contribution_form(request, team, current, None)
            return _render_contribution_form(
                request, team, activity, fresh, current, conflict=conflict, status=409
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The figures are saved."))
            return redirect(_contribution_url(contribution))
    return _render_contribution_form(
        request, team, activity, form, contribution, status=400
    )


def _contribution_for_step(
    request: HttpRequest, code: str, pk: int, perm: str
) -> tuple[CountryTeam, Contribution]:
    team = _team_or_404(request, code)
    contribution = _found(get_contribution_for_team(team=team, pk=pk))
    _require_perm(request, perm, contribution)
    return team, contribution


@login_required
@require_POST
def contribution_submit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team, contribution = _contribution_for_step(
        request, code, pk, "frameworks.submit_contribution"
    )
    try:
        issues = submit_contribution(actor=request.user, contribution=contribution)
    except QualityError as exc:
        activity = _found(get_activity_for_team(team=team, pk=contribution.activity_id))
        return _render_activity_detail(
            request,
            team,
            activity,
            submit_issues=blocking(exc.issues),
            submit_subject=_("The %(agency)s contribution for %(year)d")
            % {"agency": contribution.agency.code, "year": contribution.year},
            status=400,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The contribution is submitted for validation."))
        _warnings_note(request, issues)
    return redirect(_contribution_url(contribution))


@login_required
@require_POST
def contribution_validate(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    _team, contribution = _contribution_for_step(
        request, code, pk, "frameworks.review_contribution"
    )
    _run_step(
        request,
        lambda: validate_contribution(actor=request.user, contribution=contribution),
        _("The contribution is validated; its figures are now in force."),
    )
    return redirect(_contribution_url(contribution))


@login_required
@require_POST
def contribution_return(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team, contribution = _contribution_for_step(
        request, code, pk, "frameworks.review_contribution"
    )
    form = ReturnForm(request.POST, auto_id=f"id_return_{contribution.pk}_%s")
    if form.is_valid():
        try:
            return_contribution(
                actor=request.user,
                contribution=contribution,
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The contribution is returned to its agency with your comment."),
            )
            return redirect(_contribution_url(contribution))
    activity = _found(get_activity_for_team(team=team, pk=contribution.activity_id))
    return _render_activity_detail(
        request,
        team,
        activity,
        return_form=form,
        return_target=f"contribution-{contribution.pk}",
        status=400,
    )


@login_required
@require_POST
def contribution_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    _team, contribution = _contribution_for_step(
        request, code, pk, "frameworks.delete_contribution"
    )
    activity_url = contribution.activity.get_absolute_url()
    done = _run_step(
        request,
        lambda: delete_contribution(actor=request.user, contribution=contribution),
        _("The draft contribution is deleted."),
    )
    return redirect(activity_url if done else _contribution_url(contribution))


# --- indicators and measurements ---------------------------------------------------


def _measurement_form(
    request: HttpRequest,
    team: CountryTeam,
    indicator: Indicator,
    data: Any = None,
) -> MeasurementForm | None:
    """The form to record a measurement, or None if the user may not record one
    (or, as a focal point, has no agency that reports on the indicator)."""
    user = request.user
    if not user.has_perm("frameworks.add_indicatormeasurement", team):
        return None
    team_wide = user.has_perm("coordination.coordinate_countryteam", team)
    agencies = list_measuring_agencies(indicator=indicator).order_by("code")
    if not team_wide:
        agencies = list_own_agencies(user=user, team=team).filter(
            pk__in=agencies.values("pk")
        )
        if not agencies.exists():
            return None
    return MeasurementForm(
        data,
        indicator=indicator,
        regions=list_team_regions(team=team),
        agencies=agencies,
        team_wide=team_wide,
        auto_id="id_measurement_%s",
    )


def _render_indicator(
    request: HttpRequest,
    team: CountryTeam,
    indicator: Indicator,
    *,
    form: MeasurementForm | None = None,
    return_form: ReturnForm | None = None,
    return_target: str = "",
    submit_issues: list[Issue] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = [
        {
            "measurement": m,
            "percent": m.numerator * 100 / m.denominator
            if m.numerator is not None and m.denominator
            else None,
            "actions": _actions(request, "indicatormeasurement", m),
            "return_form": return_form
            if return_form is not None and return_target == f"measurement-{m.pk}"
            else ReturnForm(auto_id=f"id_return_{m.pk}_%s"),
        }
        for m in list_measurements_for_indicator(indicator=indicator)
    ]
    if form is None:
        form = _measurement_form(request, team, indicator)
    return render(
        request,
        "frameworks/indicator_detail.html",
        {
            "team": team,
            "indicator": indicator,
            "rows": rows,
            "form": form,
            "can_measure": request.user.has_perm(
                "frameworks.add_indicatormeasurement", team
            ),
            "submit_issues": submit_issues or [],
        },
        status=status,
    )


@login_required
@require_GET
def indicator_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    indicator = _found(get_indicator_for_team(team=team, pk=pk))
    return _render_indicator(request, team, indicator)


@login_required
@require_POST
def measurement_create(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    indicator = _found(get_indicator_for_team(team=team, pk=pk))
    _require_perm(request, "frameworks.add_indicatormeasurement", team)
    form = _measurement_form(request, team, indicator, data=request.POST)
    if form is None:
        raise PermissionDenied
    if form.is_valid():
        try:
            record_measurement(
                actor=request.user,
                indicator=indicator,
                data=form.to_data(),
                agency=form.cleaned_data.get("agency"),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The measurement is saved as a draft."))
            return redirect("frameworks:indicator_detail", code=team.code, pk=pk)
    return _render_indicator(request, team, indicator, form=form, status=400)


def _measurement_url(measurement: IndicatorMeasurement) -> str:
    return (
        reverse(
            "frameworks:indicator_detail",
            kwargs={
                "code": measurement.indicator.framework.country_team.code,
                "pk": measurement.indicator_id,
            },
        )
        + f"#measurement-{measurement.pk}"
    )


def _edit_measurement_form(
    team: CountryTeam, measurement: IndicatorMeasurement, data: Any
) -> MeasurementForm:
    return MeasurementForm(
        data,
        initial=MeasurementForm.initial_for(measurement),
        indicator=measurement.indicator,
        regions=list_team_regions(team=team),
        measurement=measurement,
    )


@login_required
@require_http_methods(["GET", "POST"])
def measurement_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, code)
    measurement = _found(get_measurement_for_team(team=team, pk=pk))
    _require_perm(request, "frameworks.change_indicatormeasurement", measurement)
    conflict = None
    status = 200
    if request.method != "POST":
        form = _edit_measurement_form(team, measurement, None)
    else:
        form = _edit_measurement_form(team, measurement, request.POST)
        status = 400
        if form.is_valid():
            try:
                update_measurement(
                    actor=request.user,
                    measurement=measurement,
                    data=form.to_data(),
                    expected_version=form.cleaned_data["version"],
                )
            except ConflictError as exc:
                conflict, status = exc, 409
                measurement = _found(get_measurement_for_team(team=team, pk=pk))
                form = _edit_measurement_form(team, measurement, None)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The measurement is saved."))
                return redirect(_measurement_url(measurement))
    return render(
        request,
        "frameworks/measurement_form.html",
        {
            "team": team,
            "indicator": measurement.indicator,
            "measurement": measurement,
            "form": form,
            "conflict": conflict,
            "conflict_changes": describe_changes(conflict.changes) if conflict else [],
        },
        status=status,
    )


def _measurement_for_step(
    request: HttpRequest, code: str, pk: int, perm: str
) -> tuple[CountryTeam, IndicatorMeasurement]:
    team = _team_or_404(request, code)
    measurement = _found(get_measurement_for_team(team=team, pk=pk))
    _require_perm(request, perm, measurement)
    return team, measurement


@login_required
@require_POST
def measurement_submit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team, measurement = _measurement_for_step(
        request, code, pk, "frameworks.submit_indicatormeasurement"
    )
    try:
        issues = submit_measurement(actor=request.user, measurement=measurement)
    except QualityError as exc:
        return _render_indicator(
            request,
            team,
            measurement.indicator,
            submit_issues=blocking(exc.issues),
            status=400,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The measurement is submitted for validation."))
        _warnings_note(request, issues)
    return redirect(_measurement_url(measurement))


@login_required
@require_POST
def measurement_validate(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    _team, measurement = _measurement_for_step(
        request, code, pk, "frameworks.review_indicatormeasurement"
    )
    _run_step(
        request,
        lambda: validate_measurement(actor=request.user, measurement=measurement),
        _("The measurement is validated."),
    )
    return redirect(_measurement_url(measurement))


@login_required
@require_POST
def measurement_return(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team, measurement = _measurement_for_step(
        request, code, pk, "frameworks.review_indicatormeasurement"
    )
    form = ReturnForm(request.POST, auto_id=f"id_return_{measurement.pk}_%s")
    if form.is_valid():
        try:
            return_measurement(
                actor=request.user,
                measurement=measurement,
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, _("The measurement is returned with your comment.")
            )
            return redirect(_measurement_url(measurement))
    return _render_indicator(
        request,
        team,
        measurement.indicator,
        return_form=form,
        return_target=f"measurement-{measurement.pk}",
        status=400,
    )


@login_required
@require_POST
def measurement_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    team, measurement = _measurement_for_step(
        request, code, pk, "frameworks.delete_indicatormeasurement"
    )
    _run_step(
        request,
        lambda: delete_measurement(actor=request.user, measurement=measurement),
        _("The draft measurement is deleted."),
    )
    return redirect(
        "frameworks:indicator_detail", code=team.code, pk=measurement.indicator_id
    )


# --- my work ---------------------------------------------------------------------


@login_required
@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frameworks/my_work.html",
        {"work": get_work_for_user(user=request.user)},
    )


@login_required
@require_GET
def my_work_count(request: HttpRequest) -> HttpResponse:
    """The inbox badge of the main navigation, loaded after the page."""
    return render(
        request,
        "frameworks/includes/my_work_badge.html",
        {"count": count_work_for_user(user=request.user)},
    )
