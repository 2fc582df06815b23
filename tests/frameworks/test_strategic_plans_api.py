"""The API of the agencies' strategic plans and of the links to them."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from frameworks.models import (
    ContributionPlanLink,
    FrameworkOutputPlanLink,
    WorkflowStatus,
)
from frameworks.services.strategic_plans import (
    set_contribution_plan_outputs,
    set_framework_output_plan_outputs,
)
from tests.coordination.factories import AgencyFactory
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    JointActivityFactory,
)
from tests.frameworks.strategic_plan_factories import (
    PlanOutcomeFactory,
    PlanOutputFactory,
    StrategicPlanFactory,
    build_plan_world,
)

pytestmark = pytest.mark.django_db

ROLES = [
    "rc",
    "rco",
    "fp_undp",
    "fp_unicef",
    "fp_undp_other_team",
    "board_member",
    "administrator",
    "outsider",
]


@pytest.fixture
def plans():
    return build_plan_world()


@pytest.fixture
def contribution(plans):
    world = plans.world
    return ContributionFactory(
        activity=JointActivityFactory(
            country_team=world.team,
            framework=world.framework,
            agency=world.undp,
            agencies=[world.undp, world.unicef],
            outputs=[world.output],
        ),
        agency=world.undp,
        year=world.year,
        status=WorkflowStatus.VALIDATED,
    )


def _client(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- the plans ------------------------------------------------------------------------


def test_plans_are_read_by_everyone_signed_in(plans):
    assert _client(None).get("/api/strategic-plans/").status_code == 401
    response = _client(plans.world.outsider).get("/api/strategic-plans/?agency=UNDP")
    assert response.status_code == 200
    found = {plan["id"] for plan in response.json()["results"]}
    assert found == {plans.undp_plan.pk, plans.old_undp_plan.pk}
    plan = next(p for p in response.json()["results"] if p["id"] == plans.undp_plan.pk)
    assert plan["agency"] == "UNDP"
    assert plan["source_url"] == "https://example.org/strategic-plan"
    assert [o["code"] for o in plan["outcomes"]] == ["1"]


def test_plans_filter_by_the_year_they_cover(plans):
    year = plans.old_undp_plan.start_year
    response = _client(plans.world.rc).get(f"/api/strategic-plans/?year={year}")
    assert [p["id"] for p in response.json()["results"]] == [plans.old_undp_plan.pk]
    bad = _client(plans.world.rc).get("/api/strategic-plans/?year=soon")
    assert bad.status_code == 400


def test_plan_outputs_carry_their_mappings_and_filter(plans):
    world = plans.world
    plans.undp_output.sdg_targets.set([world.sdg_target])
    plans.undp_output.common_chapter_areas.set([world.area])
    client = _client(world.board_member)
    response = client.get(
        f"/api/strategic-plan-outputs/?sdg_target={world.sdg_target.code}"
    )
    (output,) = response.json()["results"]
    assert output == {
        "id": plans.undp_output.pk,
        "plan": plans.undp_plan.pk,
        "agency": "UNDP",
        "outcome": "1",
        "code": "1.1.1",
        "title": plans.undp_output.title,
        "sdg_targets": [world.sdg_target.code],
        "common_chapter_areas": [world.area.code],
    }
    by_plan = client.get(f"/api/strategic-plan-outputs/?plan={plans.unicef_plan.pk}")
    assert [o["code"] for o in by_plan.json()["results"]] == ["1.a"]


# --- links from contributions ---------------------------------------------------------

CONTRIBUTION_LINK_CREATE = {
    "rc": 403,
    "rco": 403,
    "fp_undp": 201,
    "fp_unicef": 403,
    "fp_undp_other_team": 400,
    "board_member": 400,
    "administrator": 201,
    "outsider": 400,
}


@pytest.mark.parametrize("role", ROLES)
def test_contribution_link_create_by_role(plans, contribution, role):
    response = _client(getattr(plans.world, role)).post(
        "/api/contribution-plan-links/",
        {"contribution": contribution.pk, "plan_output": plans.undp_output.pk},
        format="json",
    )
    assert response.status_code == CONTRIBUTION_LINK_CREATE[role], response.json()
    created = response.status_code == 201
    assert ContributionPlanLink.objects.exists() is created
    if created:
        body = response.json()
        assert body["plan_output_code"] == "1.1.1"
        assert body["agency"] == "UNDP"
        assert body["country_team"] == "SOM"


def test_contribution_link_create_says_why_a_link_is_refused(plans, contribution):
    client = _client(plans.world.fp_undp)
    for output, reason in (
        (plans.unicef_output, "only deliver outputs of UNDP's own plan"),
        (plans.old_undp_output, f"this contribution is for {contribution.year}"),
    ):
        response = client.post(
            "/api/contribution-plan-links/",
            {"contribution": contribution.pk, "plan_output": output.pk},
            format="json",
        )
        assert response.status_code == 400
        assert reason in " ".join(response.json()["plan_outputs"])
    assert not ContributionPlanLink.objects.exists()
    missing = client.post(
        "/api/contribution-plan-links/",
        {"contribution": contribution.pk, "plan_output": 999999},
        format="json",
    )
    assert missing.status_code == 400
    assert "plan_output" in missing.json()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("fp_undp", 204),
        ("administrator", 204),
        ("fp_unicef", 403),
        ("rco", 403),
        ("fp_undp_other_team", 404),
        ("board_member", 404),
    ],
)
def test_contribution_link_delete_by_role(plans, contribution, role, status):
    set_contribution_plan_outputs(
        actor=None, contribution=contribution, plan_outputs=[plans.undp_output]
    )
    link = ContributionPlanLink.objects.get()
    response = _client(getattr(plans.world, role)).delete(
        f"/api/contribution-plan-links/{link.pk}/"
    )
    assert response.status_code == status
    assert ContributionPlanLink.objects.exists() is (status != 204)


def test_contribution_link_list_is_scoped_to_the_callers_teams(plans, contribution):
    world = plans.world
    set_contribution_plan_outputs(
        actor=None, contribution=contribution, plan_outputs=[plans.undp_output]
    )
    assert _client(world.rco).get("/api/contribution-plan-links/").json()["count"] == 1
    for outsider in (world.fp_undp_other_team, world.board_member, world.outsider):
        listed = _client(outsider).get("/api/contribution-plan-links/")
        assert listed.json()["count"] == 0


# --- links from framework outputs -----------------------------------------------------

OUTPUT_LINK_CREATE = {
    "rc": 201,
    "rco": 201,
    "fp_undp": 403,
    "fp_unicef": 403,
    "fp_undp_other_team": 400,
    "board_member": 400,
    "administrator": 201,
    "outsider": 400,
}


@pytest.mark.parametrize("role", ROLES)
def test_framework_output_link_create_by_role(plans, role):
    response = _client(getattr(plans.world, role)).post(
        "/api/framework-output-plan-links/",
        {"output": plans.world.output.pk, "plan_output": plans.unicef_output.pk},
        format="json",
    )
    assert response.status_code == OUTPUT_LINK_CREATE[role]
    assert FrameworkOutputPlanLink.objects.exists() is (response.status_code == 201)


def test_framework_output_link_refuses_an_agency_outside_the_team(plans):
    response = _client(plans.world.rco).post(
        "/api/framework-output-plan-links/",
        {"output": plans.world.output.pk, "plan_output": plans.fao_output.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "FAO is not part of" in " ".join(response.json()["plan_outputs"])


@pytest.mark.parametrize(
    ("role", "status"),
    [("rco", 204), ("fp_undp", 403), ("rco_other_team", 404), ("outsider", 404)],
)
def test_framework_output_link_delete_by_role(plans, role, status):
    set_framework_output_plan_outputs(
        actor=None, output=plans.world.output, plan_outputs=[plans.undp_output]
    )
    link = FrameworkOutputPlanLink.objects.get()
    response = _client(getattr(plans.world, role)).delete(
        f"/api/framework-output-plan-links/{link.pk}/"
    )
    assert response.status_code == status
    assert FrameworkOutputPlanLink.objects.exists() is (status != 204)


# --- a fixed number of queries --------------------------------------------------------


def _grow(plans, contribution, rows: int) -> None:
    world = plans.world
    for _ in range(rows):
        extra = PlanOutputFactory(outcome=plans.undp_output.outcome)
        extra.sdg_targets.set([world.sdg_target, world.sdg_target_2])
        extra.common_chapter_areas.set([world.area])
        ContributionPlanLink.objects.create(
            contribution=contribution, plan_output=extra
        )
        FrameworkOutputPlanLink.objects.create(output=world.output, plan_output=extra)
        outcome = PlanOutcomeFactory(plan=StrategicPlanFactory(agency=AgencyFactory()))
        outcome.sdg_targets.set([world.sdg_target])


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/api/strategic-plans/", 5),
        ("/api/strategic-plan-outputs/", 4),
        ("/api/contribution-plan-links/", 2),
        ("/api/framework-output-plan-links/", 2),
    ],
)
def test_lists_run_a_fixed_number_of_queries(
    plans, contribution, url, queries, django_assert_num_queries
):
    client = _client(plans.world.rco)
    _grow(plans, contribution, 1)
    with django_assert_num_queries(queries):
        first = client.get(url)
    _grow(plans, contribution, 10)
    with django_assert_num_queries(queries):
        second = client.get(url)
    assert second.json()["count"] > first.json()["count"]
