"""API for the coherence measures: scorecards and overlap alerts, scoped to the
caller's teams; decisions by every role; fixed query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from reporting.models.coherence import OverlapAlert, OverlapDecision
from tests.frameworks.joint_work_factories import JointWorkWorld, build_world
from tests.reporting.test_coherence import mixed
from tests.reporting.test_coherence_views import grow, with_alert

pytestmark = pytest.mark.django_db

SCORECARDS = "/api/coherence-scorecards/"
ALERTS = "/api/overlap-alerts/"


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


def client_as(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_scorecards_of_the_caller_s_teams_with_score_and_parts(world):
    mixed(world)
    response = client_as(world.fp_undp).get(
        SCORECARDS, {"team": "SOM", "basis": "validated"}
    )
    assert response.status_code == 200
    (card,) = response.json()["results"]
    assert (card["team"], card["year"], card["basis"]) == (
        "SOM",
        world.year,
        "validated",
    )
    assert card["score"] == 82.7
    assert card["parts"] == {
        "joint_delivery": 80.0,
        "shared_outputs": 100.0,
        "network": 100.0,
        "disaggregation": 33.3,
        "common_chapter": 100.0,
    }
    assert card["spent"] == "100.00"


@pytest.mark.parametrize(
    ("who", "count"),
    [("rc", 2), ("fp_undp_other_team", 0), ("board_member", 0), ("outsider", 0)],
)
def test_scorecards_are_scoped_to_the_caller_s_teams(world, who, count):
    mixed(world)
    response = client_as(getattr(world, who)).get(SCORECARDS)
    assert response.status_code == 200
    assert response.json()["count"] == count


def test_scorecards_need_a_signed_in_caller(world):
    assert client_as(None).get(SCORECARDS).status_code == 401


def test_alerts_list_and_filter(world):
    alert = with_alert(world)
    client = client_as(world.rco)
    (found,) = client.get(ALERTS, {"team": "SOM", "review_status": "open"}).json()[
        "results"
    ]
    assert found["id"] == alert.pk
    assert (found["agency_a"], found["agency_b"]) == ("UNDP", "UNICEF")
    assert found["similarity"] == "0.714"
    assert client.get(ALERTS, {"review_status": "dismissed"}).json()["count"] == 0
    assert client_as(world.rco_other_team).get(ALERTS).json()["count"] == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("rc", 200),
        ("rco", 200),
        ("administrator", 200),
        ("fp_undp", 403),
        ("fp_unicef", 403),
        ("fp_undp_other_team", 404),
        ("rco_other_team", 404),
        ("board_member", 404),
        ("outsider", 404),
        (None, 401),
    ],
)
def test_only_the_rc_office_decides_through_the_api(world, who, status):
    alert = with_alert(world)
    user = getattr(world, who) if who else None
    response = client_as(user).post(
        f"{ALERTS}{alert.pk}/decide/",
        {"decision": "confirmed", "comment": "Same families."},
        format="json",
    )
    assert response.status_code == status
    alert.refresh_from_db()
    if status == 200:
        assert response.json()["review_status"] == "confirmed"
        assert alert.status == "confirmed"
        assert OverlapDecision.objects.get().comment == "Same families."
    else:
        assert alert.status == "open"
        assert not OverlapDecision.objects.exists()


def test_a_bad_decision_is_a_400_with_the_field(world):
    alert = with_alert(world)
    response = client_as(world.rco).post(
        f"{ALERTS}{alert.pk}/decide/", {"decision": "maybe"}, format="json"
    )
    assert response.status_code == 400
    assert "decision" in response.json()
    assert OverlapAlert.objects.get().status == "open"


def test_alerts_refuse_other_verbs(world):
    alert = with_alert(world)
    client = client_as(world.rco)
    assert client.delete(f"{ALERTS}{alert.pk}/").status_code == 405
    assert client.post(ALERTS, {}, format="json").status_code == 405


@pytest.mark.parametrize("path", [SCORECARDS, ALERTS])
def test_list_queries_do_not_grow(world, path):
    client = client_as(world.rco)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    grow(world, 1)
    small = count()
    grow(world, 4)
    assert OverlapAlert.objects.count() > 1
    assert count() == small
