"""Linking joint work to the agencies' strategic plans, through the services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from frameworks.models import (
    Contribution,
    ContributionPlanLink,
    FrameworkOutputPlanLink,
    WorkflowAction,
    WorkflowEvent,
    WorkflowStatus,
)
from frameworks.services import delete_contribution
from frameworks.services.strategic_plans import (
    create_contribution_with_plan_outputs,
    link_contribution_to_plan_output,
    link_framework_output_to_plan_output,
    set_contribution_plan_outputs,
    set_framework_output_plan_outputs,
    unlink_contribution_from_plan_output,
    unlink_framework_output_from_plan_output,
    update_contribution_with_plan_outputs,
)
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    JointActivityFactory,
    figures_data,
)
from tests.frameworks.strategic_plan_factories import (
    PlanOutputFactory,
    StrategicPlanFactory,
    build_plan_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans():
    return build_plan_world()


@pytest.fixture
def contribution(plans):
    """UNDP's validated contribution, in the first year of the framework."""
    world = plans.world
    activity = JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.undp,
        agencies=[world.undp, world.unicef],
        outputs=[world.output],
    )
    return ContributionFactory(
        activity=activity,
        agency=world.undp,
        year=world.year,
        status=WorkflowStatus.VALIDATED,
    )


def _state() -> tuple[int, int, int, int]:
    return (
        ContributionPlanLink.objects.count(),
        ContributionPlanLink.history.count(),
        FrameworkOutputPlanLink.objects.count(),
        WorkflowEvent.objects.count(),
    )


# --- contributions ----------------------------------------------------------------


def test_set_contribution_plan_outputs_links_own_plan_and_keeps_a_trace(
    plans, contribution
):
    actor = plans.world.fp_undp
    linked = set_contribution_plan_outputs(
        actor=actor,
        contribution=contribution,
        plan_outputs=[plans.undp_output, plans.undp_output_2],
    )
    assert {o.pk for o in linked} == {plans.undp_output.pk, plans.undp_output_2.pk}
    links = ContributionPlanLink.objects.filter(contribution=contribution)
    assert {link.plan_output_id for link in links} == {o.pk for o in linked}
    assert {link.linked_by for link in links} == {actor}
    assert {h.history_user for h in ContributionPlanLink.history.all()} == {actor}
    event = WorkflowEvent.objects.get(contribution=contribution)
    assert event.action == WorkflowAction.EDITED
    assert event.actor == actor
    year = plans.world.year
    before, after = event.changes["strategic_plan_outputs"]
    assert before == []
    assert after == [
        f"UNDP {year}-{year + 3} 1.1.1",
        f"UNDP {year}-{year + 3} 1.1.2",
    ]


def test_set_contribution_plan_outputs_does_not_reopen_validated_figures(
    plans, contribution
):
    revision = contribution.validated_revision_id
    set_contribution_plan_outputs(
        actor=plans.world.fp_undp,
        contribution=contribution,
        plan_outputs=[plans.undp_output],
    )
    contribution.refresh_from_db()
    assert contribution.validated_revision_id == revision
    assert contribution.current_revision.status == WorkflowStatus.VALIDATED


def test_set_contribution_plan_outputs_refuses_another_agencys_plan(
    plans, contribution
):
    before = _state()
    with pytest.raises(ValidationError) as refused:
        set_contribution_plan_outputs(
            actor=plans.world.fp_undp,
            contribution=contribution,
            plan_outputs=[plans.undp_output, plans.unicef_output],
        )
    message = " ".join(refused.value.message_dict["plan_outputs"])
    assert "is an output of the UNICEF Strategic Plan" in message
    assert "only deliver outputs of UNDP's own plan" in message
    assert _state() == before


def test_set_contribution_plan_outputs_refuses_a_plan_not_covering_the_year(
    plans, contribution
):
    before = _state()
    with pytest.raises(ValidationError) as refused:
        set_contribution_plan_outputs(
            actor=plans.world.fp_undp,
            contribution=contribution,
            plan_outputs=[plans.old_undp_output],
        )
    (message,) = refused.value.message_dict["plan_outputs"]
    plan = plans.old_undp_plan
    assert (
        f"which covers {plan.start_year}-{plan.end_year}; this contribution is "
        f"for {contribution.year}"
    ) in message
    assert _state() == before


def test_set_contribution_plan_outputs_names_every_bad_output(plans, contribution):
    with pytest.raises(ValidationError) as refused:
        set_contribution_plan_outputs(
            actor=plans.world.fp_undp,
            contribution=contribution,
            plan_outputs=[plans.unicef_output, plans.old_undp_output, plans.fao_output],
        )
    assert len(refused.value.message_dict["plan_outputs"]) == 3


@pytest.mark.parametrize("who", ["fp_unicef", "rco", "rc", "fp_undp_other_team"])
def test_set_contribution_plan_outputs_is_for_the_agencys_focal_points(
    plans, contribution, who
):
    before = _state()
    with pytest.raises(PermissionDenied):
        set_contribution_plan_outputs(
            actor=getattr(plans.world, who),
            contribution=contribution,
            plan_outputs=[plans.undp_output],
        )
    assert _state() == before


def test_set_contribution_plan_outputs_replaces_and_records_the_unlinking(
    plans, contribution
):
    actor = plans.world.fp_undp
    set_contribution_plan_outputs(
        actor=actor, contribution=contribution, plan_outputs=[plans.undp_output]
    )
    set_contribution_plan_outputs(
        actor=plans.world.fp_undp_2,
        contribution=contribution,
        plan_outputs=[plans.undp_output_2],
    )
    assert list(
        ContributionPlanLink.objects.values_list("plan_output_id", flat=True)
    ) == [plans.undp_output_2.pk]
    removed = ContributionPlanLink.history.get(history_type="-")
    assert removed.plan_output_id == plans.undp_output.pk
    assert removed.history_user == plans.world.fp_undp_2
    assert WorkflowEvent.objects.filter(contribution=contribution).count() == 2


def test_set_contribution_plan_outputs_without_change_records_nothing(
    plans, contribution
):
    set_contribution_plan_outputs(
        actor=None, contribution=contribution, plan_outputs=[plans.undp_output]
    )
    before = _state()
    set_contribution_plan_outputs(
        actor=None,
        contribution=contribution,
        plan_outputs=[plans.undp_output, plans.undp_output],
    )
    assert _state() == before


def test_link_and_unlink_contribution_one_output_at_a_time(plans, contribution):
    actor = plans.world.fp_undp
    link = link_contribution_to_plan_output(
        actor=actor, contribution=contribution, plan_output=plans.undp_output
    )
    assert link.plan_output == plans.undp_output
    with pytest.raises(ValidationError, match="already linked"):
        link_contribution_to_plan_output(
            actor=actor, contribution=contribution, plan_output=plans.undp_output
        )
    unlink_contribution_from_plan_output(
        actor=actor, contribution=contribution, plan_output=plans.undp_output
    )
    assert not ContributionPlanLink.objects.exists()
    with pytest.raises(ValidationError, match="not linked"):
        unlink_contribution_from_plan_output(
            actor=actor, contribution=contribution, plan_output=plans.undp_output
        )


def test_link_contribution_checks_permission_before_anything_else(plans, contribution):
    link_contribution_to_plan_output(
        actor=None, contribution=contribution, plan_output=plans.undp_output
    )
    with pytest.raises(PermissionDenied):
        link_contribution_to_plan_output(
            actor=plans.world.fp_unicef,
            contribution=contribution,
            plan_output=plans.undp_output,
        )


def test_create_contribution_with_plan_outputs_writes_nothing_when_refused(plans):
    world = plans.world
    activity = JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.undp,
        agencies=[world.undp, world.unicef],
        outputs=[world.output],
    )
    with pytest.raises(ValidationError):
        create_contribution_with_plan_outputs(
            actor=world.fp_undp,
            activity=activity,
            agency=world.undp,
            year=world.year,
            figures=figures_data(world),
            plan_outputs=[plans.unicef_output],
        )
    assert not Contribution.objects.exists()
    assert not WorkflowEvent.objects.exists()
    contribution = create_contribution_with_plan_outputs(
        actor=world.fp_undp,
        activity=activity,
        agency=world.undp,
        year=world.year,
        figures=figures_data(world),
        plan_outputs=[plans.undp_output],
    )
    assert list(contribution.strategic_plan_outputs.all()) == [plans.undp_output]


def test_update_contribution_with_plan_outputs_keeps_figures_when_links_refused(
    plans, contribution
):
    contribution.current_revision.status = WorkflowStatus.DRAFT
    contribution.current_revision.save()
    contribution.validated_revision = None
    contribution.save()
    with pytest.raises(ValidationError):
        update_contribution_with_plan_outputs(
            actor=plans.world.fp_undp,
            contribution=contribution,
            figures=figures_data(plans.world, required=12345),
            expected_version=contribution.version,
            plan_outputs=[plans.old_undp_output],
        )
    contribution.refresh_from_db()
    assert contribution.current_revision.required != 12345
    assert contribution.version == 1


def test_update_contribution_with_plan_outputs_none_leaves_links(plans, contribution):
    set_contribution_plan_outputs(
        actor=None, contribution=contribution, plan_outputs=[plans.undp_output]
    )
    update_contribution_with_plan_outputs(
        actor=plans.world.fp_undp,
        contribution=contribution,
        figures=figures_data(plans.world),
        expected_version=None,
        plan_outputs=None,
    )
    assert ContributionPlanLink.objects.count() == 1


def test_deleting_a_draft_contribution_removes_its_links(plans):
    world = plans.world
    draft = ContributionFactory(
        activity__country_team=world.team,
        activity__framework=world.framework,
        activity__agency=world.undp,
        agency=world.undp,
        year=world.year,
    )
    set_contribution_plan_outputs(
        actor=None, contribution=draft, plan_outputs=[plans.undp_output]
    )
    delete_contribution(actor=world.fp_undp, contribution=draft)
    assert not ContributionPlanLink.objects.exists()


# --- framework outputs ------------------------------------------------------------


def test_set_framework_output_plan_outputs_for_the_rc_office(plans):
    world = plans.world
    linked = set_framework_output_plan_outputs(
        actor=world.rco,
        output=world.output,
        plan_outputs=[plans.undp_output, plans.unicef_output],
    )
    assert len(linked) == 2
    links = FrameworkOutputPlanLink.objects.filter(output=world.output)
    assert {link.linked_by for link in links} == {world.rco}
    set_framework_output_plan_outputs(
        actor=world.rc, output=world.output, plan_outputs=[plans.unicef_output]
    )
    assert [link.plan_output for link in links.all()] == [plans.unicef_output]
    assert FrameworkOutputPlanLink.history.filter(history_type="-").count() == 1


@pytest.mark.parametrize("who", ["fp_undp", "rco_other_team", "board_member"])
def test_set_framework_output_plan_outputs_refuses_others(plans, who):
    before = _state()
    with pytest.raises(PermissionDenied):
        set_framework_output_plan_outputs(
            actor=getattr(plans.world, who),
            output=plans.world.output,
            plan_outputs=[plans.undp_output],
        )
    assert _state() == before


def test_set_framework_output_plan_outputs_refuses_an_agency_outside_the_team(
    plans,
):
    before = _state()
    with pytest.raises(ValidationError, match="FAO is not part of the Somalia"):
        set_framework_output_plan_outputs(
            actor=plans.world.rco,
            output=plans.world.output,
            plan_outputs=[plans.undp_output, plans.fao_output],
        )
    assert _state() == before


def test_set_framework_output_plan_outputs_refuses_a_plan_outside_the_period(
    plans,
):
    framework = plans.world.framework
    with pytest.raises(ValidationError) as refused:
        set_framework_output_plan_outputs(
            actor=plans.world.rco,
            output=plans.world.output,
            plan_outputs=[plans.old_undp_output],
        )
    (message,) = refused.value.message_dict["plan_outputs"]
    assert (
        f"does not overlap the framework's period "
        f"({framework.start_year}-{framework.end_year})"
    ) in message
    assert not FrameworkOutputPlanLink.objects.exists()


def test_link_and_unlink_framework_output_one_at_a_time(plans):
    world = plans.world
    link_framework_output_to_plan_output(
        actor=world.rco, output=world.output, plan_output=plans.undp_output
    )
    with pytest.raises(ValidationError, match="already linked"):
        link_framework_output_to_plan_output(
            actor=world.rco, output=world.output, plan_output=plans.undp_output
        )
    unlink_framework_output_from_plan_output(
        actor=world.rco, output=world.output, plan_output=plans.undp_output
    )
    assert not FrameworkOutputPlanLink.objects.exists()
    with pytest.raises(ValidationError, match="not linked"):
        unlink_framework_output_from_plan_output(
            actor=world.rco, output=world.output, plan_output=plans.undp_output
        )


def test_plan_outputs_of_a_plan_without_outcome_can_be_linked(plans, contribution):
    plan = StrategicPlanFactory(
        agency=plans.world.wfp,
        start_year=plans.world.year,
        end_year=plans.world.year + 3,
    )
    plan_wide = PlanOutputFactory(outcome=None, plan=plan, code="1")
    set_framework_output_plan_outputs(
        actor=plans.world.rco, output=plans.world.output, plan_outputs=[plan_wide]
    )
    assert FrameworkOutputPlanLink.objects.get().plan_output == plan_wide
