"""Pages that link joint work to the agencies' strategic plans, and the plans'
own pages: the contribution form, a team's alignment, the plan list and detail."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frameworks.models import (
    Contribution,
    ContributionPlanLink,
    FrameworkOutputPlanLink,
    WorkflowStatus,
)
from frameworks.services.strategic_plans import set_framework_output_plan_outputs
from tests.frameworks.factories import OutputFactory
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    JointActivityFactory,
)
from tests.frameworks.strategic_plan_factories import (
    PlanOutputFactory,
    build_plan_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans():
    return build_plan_world()


@pytest.fixture
def activity(plans):
    world = plans.world
    return JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.undp,
        agencies=[world.undp, world.unicef],
        outputs=[world.output],
    )


def _figures(**extra) -> dict:
    return {
        "required": "1000",
        "available": "800",
        "spent": "500",
        "funding_source": "Core resources",
        "implementing_partners": "",
        "reach": "",
        **extra,
    }


def _new_url(activity) -> str:
    return reverse(
        "frameworks:contribution_create",
        kwargs={"code": activity.country_team.code, "pk": activity.pk},
    )


# --- the contribution form ----------------------------------------------------------


def test_contribution_form_offers_only_the_own_agencys_plan_outputs(
    client, plans, activity
):
    client.force_login(plans.world.fp_undp)
    html = client.get(_new_url(activity)).content.decode()
    assert "Strategic-plan outputs this work delivers" in html
    assert f'value="{plans.undp_output.pk}"' in html
    assert plans.undp_plan.title in html
    assert f'value="{plans.unicef_output.pk}"' not in html
    assert f'value="{plans.old_undp_output.pk}"' not in html


def test_contribution_form_links_the_new_contribution(client, plans, activity):
    client.force_login(plans.world.fp_undp)
    response = client.post(
        _new_url(activity),
        _figures(
            agency=plans.world.undp.pk,
            year=plans.world.year,
            plan_outputs=[plans.undp_output.pk, plans.undp_output_2.pk],
        ),
    )
    assert response.status_code == 302
    contribution = Contribution.objects.get()
    assert set(contribution.strategic_plan_outputs.all()) == {
        plans.undp_output,
        plans.undp_output_2,
    }


def test_contribution_form_refuses_a_year_the_plan_does_not_cover(
    client, plans, activity
):
    world = plans.world
    year = world.framework.end_year  # after the UNDP plan in the world ends
    assert not plans.undp_plan.covers(year)
    client.force_login(world.fp_undp)
    response = client.post(
        _new_url(activity),
        _figures(agency=world.undp.pk, year=year, plan_outputs=[plans.undp_output.pk]),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f"this contribution is for {year}" in html
    assert not Contribution.objects.exists()


def test_contribution_form_refuses_an_output_it_did_not_offer(client, plans, activity):
    client.force_login(plans.world.fp_undp)
    response = client.post(
        _new_url(activity),
        _figures(
            agency=plans.world.undp.pk,
            year=plans.world.year,
            plan_outputs=[plans.unicef_output.pk],
        ),
    )
    assert response.status_code == 400
    assert not Contribution.objects.exists()


def test_contribution_edit_form_shows_and_changes_the_links(client, plans, activity):
    world = plans.world
    contribution = ContributionFactory(
        activity=activity,
        agency=world.undp,
        year=world.year,
        status=WorkflowStatus.VALIDATED,
    )
    ContributionPlanLink.objects.create(
        contribution=contribution, plan_output=plans.undp_output
    )
    url = reverse(
        "frameworks:contribution_edit",
        kwargs={"code": world.team.code, "pk": contribution.pk},
    )
    client.force_login(world.fp_undp)
    html = client.get(url).content.decode()
    assert f'value="{plans.undp_output.pk}" id="id_plan_outputs_0_0" checked' in html
    revision = contribution.current_revision
    response = client.post(
        url,
        {
            **_figures(
                required=revision.required,
                available=revision.available,
                spent=revision.spent,
                funding_source=revision.funding_source,
            ),
            "version": contribution.version,
            "plan_outputs": [plans.undp_output_2.pk],
        },
    )
    assert response.status_code == 302
    assert list(contribution.strategic_plan_outputs.all()) == [plans.undp_output_2]
    contribution.refresh_from_db()
    # Only the links changed: the validated figures are not reopened.
    assert contribution.current_revision_id == revision.pk


def test_contribution_form_without_a_plan_has_no_plan_section(client, plans):
    world = plans.world
    activity = JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.wfp,
        agencies=[world.wfp, world.undp],
        outputs=[world.output_wfp],
    )
    client.force_login(world.fp_wfp)
    html = client.get(_new_url(activity)).content.decode()
    assert "Strategic-plan outputs this work delivers" not in html


# --- the plans' pages ---------------------------------------------------------------


def test_plan_pages_are_for_everyone_signed_in(client, plans):
    list_url = reverse("strategic_plans:plan_list")
    detail_url = reverse(
        "strategic_plans:plan_detail", kwargs={"pk": plans.undp_plan.pk}
    )
    assert client.get(list_url).status_code == 302
    assert client.get(detail_url).status_code == 302
    client.force_login(plans.world.outsider)
    html = client.get(list_url).content.decode()
    assert plans.undp_plan.title in html
    detail = client.get(detail_url)
    assert detail.status_code == 200
    assert plans.undp_output.title in detail.content.decode()
    missing = reverse("strategic_plans:plan_detail", kwargs={"pk": 999999})
    assert client.get(missing).status_code == 404


def test_plan_detail_shows_mappings_and_link_counts(client, plans):
    world = plans.world
    plans.undp_output.sdg_targets.set([world.sdg_target])
    plans.undp_output.common_chapter_areas.set([world.area])
    set_framework_output_plan_outputs(
        actor=None, output=world.output, plan_outputs=[plans.undp_output]
    )
    client.force_login(world.board_member)
    url = reverse("strategic_plans:plan_detail", kwargs={"pk": plans.undp_plan.pk})
    html = client.get(url).content.decode()
    assert f">{world.sdg_target.code}</a>" in html
    assert "CC4 · Gender equality" in html
    assert "1 framework output aligned" in html


def test_plan_list_queries_do_not_grow(client, plans, django_assert_max_num_queries):
    client.force_login(plans.world.outsider)
    url = reverse("strategic_plans:plan_list")
    with django_assert_max_num_queries(5):
        client.get(url)


# --- a team's alignment -------------------------------------------------------------


def _alignment(world) -> str:
    return reverse("strategic_plans:team_alignment", kwargs={"code": world.team.code})


def _output_form(world) -> str:
    return reverse(
        "strategic_plans:output_alignment",
        kwargs={"code": world.team.code, "pk": world.output.pk},
    )


@pytest.mark.parametrize(
    ("who", "status", "can_edit"),
    [
        ("rco", 200, True),
        ("rc", 200, True),
        ("fp_undp", 200, False),
        ("rco_other_team", 404, False),
        ("board_member", 404, False),
        ("outsider", 404, False),
    ],
)
def test_team_alignment_page_by_role(client, plans, who, status, can_edit):
    client.force_login(getattr(plans.world, who))
    response = client.get(_alignment(plans.world))
    assert response.status_code == status
    if status == 200:
        assert (_output_form(plans.world) in response.content.decode()) is can_edit


@pytest.mark.parametrize(
    ("who", "status"),
    [("rco", 200), ("fp_undp", 403), ("rco_other_team", 404), ("outsider", 404)],
)
def test_output_alignment_form_by_role(client, plans, who, status):
    client.force_login(getattr(plans.world, who))
    assert client.get(_output_form(plans.world)).status_code == status
    response = client.post(
        _output_form(plans.world), {"plan_outputs": [plans.undp_output.pk]}
    )
    assert response.status_code == (302 if status == 200 else status)
    assert FrameworkOutputPlanLink.objects.exists() is (status == 200)


def test_output_alignment_form_saves_and_shows_on_the_team_page(client, plans):
    world = plans.world
    client.force_login(world.rco)
    html = client.get(_output_form(world)).content.decode()
    assert f'value="{plans.unicef_output.pk}"' in html
    assert f'value="{plans.fao_output.pk}"' not in html  # FAO is not in the team
    assert f'value="{plans.old_undp_output.pk}"' not in html  # before the framework
    response = client.post(
        _output_form(world),
        {"plan_outputs": [plans.undp_output.pk, plans.unicef_output.pk]},
    )
    assert response.status_code == 302
    page = client.get(_alignment(world)).content.decode()
    assert f"UNDP {world.year}\u2013{world.year + 3} · 1.1.1" in page
    assert FrameworkOutputPlanLink.objects.count() == 2


def test_output_alignment_form_refuses_an_output_it_did_not_offer(client, plans):
    client.force_login(plans.world.rco)
    response = client.post(
        _output_form(plans.world), {"plan_outputs": [plans.fao_output.pk]}
    )
    assert response.status_code == 400
    assert not FrameworkOutputPlanLink.objects.exists()


def _more_plan_outputs(plans, rows: int) -> None:
    world = plans.world
    for _ in range(rows):
        extra = PlanOutputFactory(outcome=plans.undp_output.outcome)
        extra.sdg_targets.set([world.sdg_target, world.sdg_target_2])
        extra.common_chapter_areas.set([world.area])
        set_framework_output_plan_outputs(
            actor=None,
            output=OutputFactory(outcome=world.output.outcome),
            plan_outputs=[extra, plans.unicef_output],
        )


@pytest.mark.parametrize("page", ["plan_detail", "team_alignment"])
def test_plan_and_alignment_page_queries_do_not_grow(
    client, plans, page, django_assert_num_queries
):
    url = (
        reverse("strategic_plans:plan_detail", kwargs={"pk": plans.undp_plan.pk})
        if page == "plan_detail"
        else _alignment(plans.world)
    )
    client.force_login(plans.world.rco)
    client.get(url)  # warm the session
    _more_plan_outputs(plans, 1)
    with django_assert_num_queries(PAGE_QUERIES[page]):
        client.get(url)
    _more_plan_outputs(plans, 8)
    with django_assert_num_queries(PAGE_QUERIES[page]):
        client.get(url)


# Including the session and the user.
PAGE_QUERIES = {"plan_detail": 11, "team_alignment": 10}
