"""Every role against every endpoint and verb of joint work.

Team members see their team's records; only the owning agency's focal points edit,
submit and delete them; only the RC office validates and returns; the RC office
also records and edits measurements. Anyone outside the team gets 404 for the
team's records (and 400 when naming them in a new record): never a 403 that would
confirm they exist.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import (
    ROLES,
    activity_body,
    contribution_body,
    measurement_body,
    user_of,
)
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    count_rows,
)

pytestmark = pytest.mark.django_db

ACTIONS = [
    "list",
    "retrieve",
    "create",
    "update",
    "submit",
    "validate",
    "return",
    "delete",
]


def _expect(**by_role: int) -> dict[str, int]:
    """Outsiders of the team and anonymous callers answer the same everywhere."""
    return {
        "fp_undp_other_team": 404,
        "board_member": 404,
        "outsider": 404,
        "anonymous": 401,
        **by_role,
    }


READ = _expect(rc=200, rco=200, fp_undp=200, fp_unicef=200, administrator=200)
LIST = {**READ, "fp_undp_other_team": 200, "board_member": 200, "outsider": 200}
OWNER_ONLY = _expect(rc=403, rco=403, fp_undp=200, fp_unicef=403, administrator=200)
REVIEW = _expect(rc=200, rco=200, fp_undp=403, fp_unicef=403, administrator=200)
CREATE_BY_OWNER = _expect(
    rc=403,
    rco=403,
    fp_undp=201,
    fp_unicef=403,
    administrator=201,
    fp_undp_other_team=400,
    board_member=400,
    outsider=400,
)

EXPECTED: dict[str, dict[str, dict[str, int]]] = {
    "activities": {
        "list": LIST,
        "retrieve": READ,
        "create": CREATE_BY_OWNER,
        "update": OWNER_ONLY,
        "submit": OWNER_ONLY,
        "validate": REVIEW,
        "return": REVIEW,
        "delete": {**OWNER_ONLY, "fp_undp": 204, "administrator": 204},
    },
    "contributions": {
        "list": LIST,
        "retrieve": READ,
        "create": CREATE_BY_OWNER,
        "update": OWNER_ONLY,
        "submit": OWNER_ONLY,
        "validate": REVIEW,
        "return": REVIEW,
        "delete": {**OWNER_ONLY, "fp_undp": 204, "administrator": 204},
    },
    "measurements": {
        "list": LIST,
        "retrieve": READ,
        "create": {**CREATE_BY_OWNER, "rc": 201, "rco": 201},
        "update": {**OWNER_ONLY, "rc": 200, "rco": 200},
        "submit": {**OWNER_ONLY, "rc": 200, "rco": 200},
        "validate": REVIEW,
        "return": REVIEW,
        "delete": {
            **OWNER_ONLY,
            "rc": 204,
            "rco": 204,
            "fp_undp": 204,
            "administrator": 204,
        },
    },
}


def _activity(world: Any, status: str) -> Any:
    return JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.undp,
        agencies=[world.undp, world.unicef],
        outputs=[world.output],
        sdg_targets=[world.sdg_target],
        locations=[world.region],
        status=status,
    )


def _record(world: Any, resource: str, status: str) -> Any:
    """A record UNDP owns in Somalia, in the workflow status given."""
    if resource == "activities":
        return _activity(world, status)
    if resource == "contributions":
        return ContributionFactory(activity=_activity(world, "draft"), status=status)
    return IndicatorMeasurementFactory(
        indicator=world.number_indicator, agency=world.undp, status=status
    )


def _create_body(world: Any, resource: str) -> dict[str, Any]:
    if resource == "activities":
        return activity_body(world)
    if resource == "contributions":
        return contribution_body(world, _activity(world, "draft"))
    return measurement_body(world)


UPDATES = {
    "activities": {"title": "A clearer title"},
    "contributions": {"spent": "400.00"},
    "measurements": {"value": "11"},
}


def _prepare(world: Any, resource: str, action: str) -> tuple[str, str, Any]:
    """Set up the record the call needs; return (method, path, body)."""
    base = f"/api/{resource}/"
    if action == "list":
        return "get", base, None
    if action == "create":
        return "post", base, _create_body(world, resource)
    reviewing = action in ("validate", "return")
    record = _record(world, resource, "submitted" if reviewing else "draft")
    url = f"{base}{record.pk}/"
    if action == "retrieve":
        return "get", url, None
    if action == "update":
        return "patch", url, UPDATES[resource]
    if action == "delete":
        return "delete", url, None
    body = {"comment": "Please add the sex breakdown."} if action == "return" else {}
    return "post", f"{url}{action}/", body


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("resource", list(EXPECTED))
def test_permission_matrix(world, client_as, subtests, resource, action):
    if action == "list":
        _record(world, resource, "draft")
    for role in ROLES:
        with subtests.test(role=role):
            client = client_as(user_of(world, role))
            method, path, body = _prepare(world, resource, action)
            before = count_rows()

            response = getattr(client, method)(path, body, format="json")

            expected = EXPECTED[resource][action][role]
            assert response.status_code == expected, response.content
            if expected >= 400:
                assert count_rows() == before
            if expected in (401, 403, 404):
                assert set(response.json()) == {"detail"}
            if action == "list" and expected == 200:
                sees_team = READ[role] == 200
                assert response.json()["count"] == (1 if sees_team else 0)


TEAM_SCOPED_READS = {
    "teams": lambda world: world.team.code,
    "frameworks": lambda world: world.framework.pk,
    "outcomes": lambda world: world.output.outcome_id,
    "outputs": lambda world: world.output.pk,
    "indicators": lambda world: world.number_indicator.pk,
}
REFERENCE_READS = {
    "agencies": lambda world: "UNDP",
    "sdg-goals": lambda world: 1,
    "sdg-targets": lambda world: world.sdg_target.code,
    "common-chapter-areas": lambda world: world.area.code,
}


@pytest.mark.parametrize("resource", list(TEAM_SCOPED_READS))
def test_team_scoped_reads_by_role(world, client_as, subtests, resource):
    key = TEAM_SCOPED_READS[resource](world)
    for role in ROLES:
        with subtests.test(role=role):
            client = client_as(user_of(world, role))
            listed = client.get(f"/api/{resource}/")
            detail = client.get(f"/api/{resource}/{key}/")
            assert listed.status_code == LIST[role]
            assert detail.status_code == READ[role]
            if listed.status_code == 200:
                keys = {
                    str(row.get("id", row.get("code")))
                    for row in listed.json()["results"]
                }
                assert (str(key) in keys) == (READ[role] == 200)


@pytest.mark.parametrize("resource", list(REFERENCE_READS))
def test_reference_data_is_read_by_anyone_signed_in(world, client_as, resource):
    key = REFERENCE_READS[resource](world)
    for role in ROLES:
        client = client_as(user_of(world, role))
        expected = 401 if role == "anonymous" else 200
        assert client.get(f"/api/{resource}/").status_code == expected
        assert client.get(f"/api/{resource}/{key}/").status_code == expected


@pytest.mark.parametrize(
    "path",
    [
        "/api/teams/SOM/",
        "/api/frameworks/{framework}/",
        "/api/agencies/UNDP/",
        "/api/sdg-goals/1/",
    ],
)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_read_only_endpoints_refuse_writes(world, client_as, path, method):
    path = path.format(framework=world.framework.pk)
    response = getattr(client_as(world.administrator), method)(path, {}, format="json")
    assert response.status_code == 405


def test_a_session_signed_in_browser_needs_the_csrf_token(world, activity_factory):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.fp_undp)
    record = activity_factory()
    assert client.get(f"/api/activities/{record.pk}/").status_code == 200
    response = client.post(f"/api/activities/{record.pk}/submit/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.fixture
def activity_factory(world):
    return lambda: _activity(world, "draft")
