"""Links from joint work to the agencies' strategic plans.

An agency's focal points link its contributions to outputs of its own plan that
covers the contribution's year; the RC office links the outputs of a Cooperation
Framework to plan outputs of agencies in the team whose period overlaps the
framework's. Every function checks the registered rule (actor=None is the
trusted-caller convention for seed and import commands), validates every output
before writing anything, and runs in one transaction. Link rows keep their
history (who linked or unlinked, and when); a contribution's links also appear
on its activity's timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from frameworks.models import (
    Contribution,
    ContributionPlanLink,
    FrameworkOutputPlanLink,
    Output,
    StrategicPlanOutput,
    WorkflowAction,
    WorkflowEvent,
)
from frameworks.services.joint_work import (
    FiguresData,
    create_contribution,
    update_contribution,
)

if TYPE_CHECKING:
    from coordination.models import Agency, User
    from frameworks.models import JointActivity, StrategicPlan

FIELD = "plan_outputs"
LINK_CONTRIBUTION = "frameworks.link_contribution_strategic_plan"
LINK_OUTPUT = "frameworks.link_output_strategic_plan"


def plan_label(plan: StrategicPlan) -> str:
    """How messages name a plan: "UNICEF Strategic Plan, 2018-2021"."""
    return plan.title


def output_label(output: StrategicPlanOutput) -> str:
    """How messages and the timeline name a plan output: "UNICEF 2018-2021 1.g"."""
    plan = output.plan
    return f"{plan.agency.code} {plan.start_year}-{plan.end_year} {output.code}"


def _require(actor: User | None, perm: str, obj: object, message: str) -> None:
    if actor is not None and not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


def _distinct(plan_outputs: Iterable[StrategicPlanOutput]) -> list[StrategicPlanOutput]:
    """The outputs once each, with their plan and agency loaded."""
    ids = list(dict.fromkeys(output.pk for output in plan_outputs))
    loaded = StrategicPlanOutput.objects.select_related("plan__agency").in_bulk(ids)
    missing = [pk for pk in ids if pk not in loaded]
    if missing:
        raise ValidationError(
            {FIELD: _("No strategic-plan output with id %(ids)s.") % {"ids": missing}}
        )
    return [loaded[pk] for pk in ids]


def _require_contribution_link(actor: User | None, contribution: Contribution) -> None:
    _require(
        actor,
        LINK_CONTRIBUTION,
        contribution,
        _("Only focal points of the contributing agency can link it to its plan."),
    )


def _require_output_link(actor: User | None, output: Output) -> None:
    _require(
        actor,
        LINK_OUTPUT,
        output,
        _("Only the RC office can align framework outputs with agencies' plans."),
    )


# --- contributions ----------------------------------------------------------------


def check_contribution_plan_outputs(
    *, agency: Agency, year: int, plan_outputs: Sequence[StrategicPlanOutput]
) -> None:
    """Refuse outputs of another agency's plan or of a plan not covering the year."""
    errors = []
    for output in plan_outputs:
        plan = output.plan
        if plan.agency_id != agency.pk:
            errors.append(
                _(
                    "%(output)s is an output of the %(plan)s: a contribution of "
                    "%(agency)s can only deliver outputs of %(agency)s's own plan."
                )
                % {
                    "output": output_label(output),
                    "plan": plan_label(plan),
                    "agency": agency.code,
                }
            )
        elif not plan.covers(year):
            errors.append(
                _(
                    "%(output)s belongs to the %(plan)s, which covers "
                    "%(start)d-%(end)d; this contribution is for %(year)d."
                )
                % {
                    "output": output_label(output),
                    "plan": plan_label(plan),
                    "start": plan.start_year,
                    "end": plan.end_year,
                    "year": year,
                }
            )
    if errors:
        raise ValidationError({FIELD: errors})


def _codes(outputs: Iterable[StrategicPlanOutput]) -> list[str]:
    return sorted(output_label(output) for output in outputs)


@transaction.atomic
def set_contribution_plan_outputs(
    *,
    actor: User | None,
    contribution: Contribution,
    plan_outputs: Iterable[StrategicPlanOutput],
) -> list[StrategicPlanOutput]:
    """Make these the plan outputs the contribution delivers; return them."""
    contribution = (
        Contribution.objects.select_for_update(of=("self",))
        .select_related("agency")
        .get(pk=contribution.pk)
    )
    _require_contribution_link(actor, contribution)
    wanted = _distinct(plan_outputs)
    check_contribution_plan_outputs(
        agency=contribution.agency, year=contribution.year, plan_outputs=wanted
    )
    links = {
        link.plan_output_id: link
        for link in contribution.plan_links.select_related("plan_output__plan__agency")
    }
    wanted_ids = {output.pk for output in wanted}
    dropped = [link for pk, link in links.items() if pk not in wanted_ids]
    added = [output for output in wanted if output.pk not in links]
    for link in dropped:
        link._history_user = actor  # type: ignore[attr-defined]
        link.delete()
    for output in added:
        link = ContributionPlanLink(
            contribution=contribution, plan_output=output, linked_by=actor
        )
        link._history_user = actor  # type: ignore[attr-defined]
        link.save()
    if dropped or added:
        before = [link.plan_output for link in links.values()]
        WorkflowEvent.objects.create(
            country_team_id=contribution.country_team_id,
            contribution=contribution,
            action=WorkflowAction.EDITED,
            actor=actor,
            changes={"strategic_plan_outputs": [_codes(before), _codes(wanted)]},
        )
    return wanted


def _current_outputs(contribution: Contribution) -> list[StrategicPlanOutput]:
    return list(
        StrategicPlanOutput.objects.filter(
            contribution_links__contribution=contribution
        )
    )


@transaction.atomic
def link_contribution_to_plan_output(
    *,
    actor: User | None,
    contribution: Contribution,
    plan_output: StrategicPlanOutput,
) -> ContributionPlanLink:
    """Add one plan output to those the contribution delivers."""
    _require_contribution_link(actor, contribution)
    current = _current_outputs(contribution)
    if any(output.pk == plan_output.pk for output in current):
        raise ValidationError(
            {FIELD: _("The contribution is already linked to this output.")}
        )
    set_contribution_plan_outputs(
        actor=actor, contribution=contribution, plan_outputs=[*current, plan_output]
    )
    return ContributionPlanLink.objects.get(
        contribution=contribution, plan_output=plan_output
    )


@transaction.atomic
def unlink_contribution_from_plan_output(
    *,
    actor: User | None,
    contribution: Contribution,
    plan_output: StrategicPlanOutput,
) -> None:
    """Remove one plan output from those the contribution delivers."""
    _require_contribution_link(actor, contribution)
    current = _current_outputs(contribution)
    if all(output.pk != plan_output.pk for output in current):
        raise ValidationError(
            {FIELD: _("The contribution is not linked to this output.")}
        )
    set_contribution_plan_outputs(
        actor=actor,
        contribution=contribution,
        plan_outputs=[o for o in current if o.pk != plan_output.pk],
    )


@transaction.atomic
def create_contribution_with_plan_outputs(
    *,
    actor: User | None,
    activity: JointActivity,
    agency: Agency,
    year: int,
    figures: FiguresData,
    plan_outputs: Sequence[StrategicPlanOutput],
) -> Contribution:
    """Record a contribution and the plan outputs it delivers, or neither."""
    contribution = create_contribution(
        actor=actor, activity=activity, agency=agency, year=year, figures=figures
    )
    if plan_outputs:
        set_contribution_plan_outputs(
            actor=actor, contribution=contribution, plan_outputs=plan_outputs
        )
    return contribution


@transaction.atomic
def update_contribution_with_plan_outputs(
    *,
    actor: User | None,
    contribution: Contribution,
    figures: FiguresData,
    expected_version: int | None,
    plan_outputs: Sequence[StrategicPlanOutput] | None,
) -> Contribution:
    """Change the figures and the plan outputs together, or neither; None leaves
    the links as they are."""
    contribution = update_contribution(
        actor=actor,
        contribution=contribution,
        figures=figures,
        expected_version=expected_version,
    )
    if plan_outputs is not None:
        set_contribution_plan_outputs(
            actor=actor, contribution=contribution, plan_outputs=plan_outputs
        )
    return contribution


# --- framework outputs ------------------------------------------------------------


def check_framework_output_plan_outputs(
    *, output: Output, plan_outputs: Sequence[StrategicPlanOutput]
) -> None:
    """Refuse outputs of agencies outside the team or of plans whose period does
    not overlap the framework's."""
    framework = output.framework
    team = framework.country_team
    team_agencies = set(team.team_agencies.values_list("agency_id", flat=True))
    errors = []
    for plan_output in plan_outputs:
        plan = plan_output.plan
        if plan.agency_id not in team_agencies:
            errors.append(
                _("%(agency)s is not part of the %(team)s country team.")
                % {"agency": plan.agency.code, "team": team.name}
            )
        elif (
            plan.start_year > framework.end_year or plan.end_year < framework.start_year
        ):
            errors.append(
                _(
                    "%(output)s belongs to the %(plan)s (%(start)d-%(end)d), which "
                    "does not overlap the framework's period (%(f_start)d-%(f_end)d)."
                )
                % {
                    "output": output_label(plan_output),
                    "plan": plan_label(plan),
                    "start": plan.start_year,
                    "end": plan.end_year,
                    "f_start": framework.start_year,
                    "f_end": framework.end_year,
                }
            )
    if errors:
        raise ValidationError({FIELD: errors})


@transaction.atomic
def set_framework_output_plan_outputs(
    *,
    actor: User | None,
    output: Output,
    plan_outputs: Iterable[StrategicPlanOutput],
) -> list[StrategicPlanOutput]:
    """Make these the plan outputs the framework output advances; return them."""
    output = (
        Output.objects.select_for_update(of=("self",))
        .select_related("framework__country_team")
        .get(pk=output.pk)
    )
    _require_output_link(actor, output)
    wanted = _distinct(plan_outputs)
    check_framework_output_plan_outputs(output=output, plan_outputs=wanted)
    links = {link.plan_output_id: link for link in output.plan_links.all()}
    wanted_ids = {plan_output.pk for plan_output in wanted}
    for pk, link in links.items():
        if pk not in wanted_ids:
            link._history_user = actor  # type: ignore[attr-defined]
            link.delete()
    for plan_output in wanted:
        if plan_output.pk not in links:
            link = FrameworkOutputPlanLink(
                output=output, plan_output=plan_output, linked_by=actor
            )
            link._history_user = actor  # type: ignore[attr-defined]
            link.save()
    return wanted


def _framework_output_links(output: Output) -> list[StrategicPlanOutput]:
    return list(
        StrategicPlanOutput.objects.filter(framework_output_links__output=output)
    )


@transaction.atomic
def link_framework_output_to_plan_output(
    *, actor: User | None, output: Output, plan_output: StrategicPlanOutput
) -> FrameworkOutputPlanLink:
    """Add one plan output to those the framework output advances."""
    _require_output_link(actor, output)
    current = _framework_output_links(output)
    if any(o.pk == plan_output.pk for o in current):
        raise ValidationError(
            {FIELD: _("The framework output is already linked to this output.")}
        )
    set_framework_output_plan_outputs(
        actor=actor, output=output, plan_outputs=[*current, plan_output]
    )
    return FrameworkOutputPlanLink.objects.get(output=output, plan_output=plan_output)


@transaction.atomic
def unlink_framework_output_from_plan_output(
    *, actor: User | None, output: Output, plan_output: StrategicPlanOutput
) -> None:
    """Remove one plan output from those the framework output advances."""
    _require_output_link(actor, output)
    current = _framework_output_links(output)
    if all(o.pk != plan_output.pk for o in current):
        raise ValidationError(
            {FIELD: _("The framework output is not linked to this output.")}
        )
    set_framework_output_plan_outputs(
        actor=actor,
        output=output,
        plan_outputs=[o for o in current if o.pk != plan_output.pk],
    )
