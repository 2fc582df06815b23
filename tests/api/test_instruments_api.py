"""API for the coordination instruments: contract, scoping, follow-up writes and
query counts."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from frameworks.services import (
    add_team_to_platform,
    create_accelerator,
    create_collective_outcome,
    create_maps_mission,
)
from tests.frameworks.instrument_factories import (
    InstrumentWorld,
    add_recommendations,
    build_instrument_world,
)
from tests.frameworks.joint_work_factories import JointActivityFactory

pytestmark = pytest.mark.django_db

TEAM_LISTS = [
    "/api/maps-missions/",
    "/api/recommendations/",
    "/api/zero-hunger-reviews/",
    "/api/collective-outcomes/",
    "/api/operations-strategies/",
]


@pytest.fixture
def iw() -> InstrumentWorld:
    return build_instrument_world()


def as_user(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_maps_mission_contract(iw):
    body = as_user(iw.fp_unicef).get("/api/maps-missions/").json()
    assert body["count"] == 1
    mission = body["results"][0]
    assert mission["country_team"] == "SOM"
    assert mission["code"] == "SOM-MAPS"
    assert mission["participating_agencies"] == ["UNDP", "UNICEF"]
    assert mission["national_counterparts"] == ["Ministry of Planning"]
    accelerator = mission["accelerators"][0]
    assert accelerator["outcomes"] == [iw.outcome.pk]
    assert len(accelerator["activities"]) == 1
    recommendation = mission["recommendations"][0]
    assert recommendation["owner_agency"] == "UNDP"
    assert recommendation["accelerator"] == "A1"
    assert recommendation["follow_up_status"] == "ongoing"
    assert recommendation["is_overdue"] is True


def test_collective_outcome_reuses_the_framework_outcomes_indicators(iw):
    body = as_user(iw.rco).get("/api/collective-outcomes/").json()
    collective = body["results"][0]
    assert collective["hrp_objectives"] == ["HRP objective 1"]
    (outcome,) = collective["outcomes"]
    assert outcome["code"] == "3.1"
    assert [i["id"] for i in outcome["indicators"]] == list(
        iw.outcome.indicators.values_list("pk", flat=True)
    )


def test_operations_strategy_contract(iw):
    body = as_user(iw.rco).get("/api/operations-strategies/").json()
    (service,) = body["results"][0]["services"]
    assert service["lead_agency"] == "UNDP"
    assert service["cost_avoidance"] == [
        {"year": 2021, "estimated": "1000.00", "realised": "900.00"}
    ]


@pytest.mark.parametrize("url", TEAM_LISTS)
@pytest.mark.parametrize("role", ["rco_other_team", "outsider"])
def test_team_instruments_are_not_listed_outside_the_team(iw, url, role):
    response = as_user(getattr(iw, role)).get(url)
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("url", TEAM_LISTS)
def test_instrument_lists_need_a_signed_in_user(iw, url):
    assert as_user(None).get(url).status_code == 401


def test_a_recommendation_of_another_team_is_404(iw):
    url = f"/api/recommendations/{iw.recommendation.pk}/"
    assert as_user(iw.rco_other_team).get(url).status_code == 404
    response = as_user(iw.rco_other_team).patch(
        url, {"follow_up_status": "dropped"}, format="json"
    )
    assert response.status_code == 404
    iw.recommendation.refresh_from_db()
    assert iw.recommendation.status == "ongoing"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("rc", 200),
        ("rco", 200),
        ("fp_undp", 200),
        ("administrator", 200),
        ("fp_unicef", 403),
        ("rco_other_team", 404),
        ("outsider", 404),
        ("anonymous", 401),
    ],
)
def test_recommendation_status_update_by_role(iw, role, expected):
    user = None if role == "anonymous" else getattr(iw, role)
    response = as_user(user).patch(
        f"/api/recommendations/{iw.recommendation.pk}/",
        {"follow_up_status": "completed", "follow_up_note": "Done."},
        format="json",
    )
    assert response.status_code == expected
    iw.recommendation.refresh_from_db()
    if expected == 200:
        assert response.json()["follow_up_status"] == "completed"
        assert response.json()["is_overdue"] is False
        assert iw.recommendation.follow_up_note == "Done."
    else:
        assert iw.recommendation.status == "ongoing"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"follow_up_status": "finished"},
        {"status": "completed"},
        {"follow_up_status": "completed", "follow_up_note": 5},
    ],
)
def test_recommendation_status_update_rejects_bad_input(iw, body):
    response = as_user(iw.rco).patch(
        f"/api/recommendations/{iw.recommendation.pk}/", body, format="json"
    )
    if "follow_up_note" in body:
        # DRF reads a number as its text; the status alone decides here.
        assert response.status_code == 200
        return
    assert response.status_code == 400
    iw.recommendation.refresh_from_db()
    assert iw.recommendation.status == "ongoing"


def test_recommendations_cannot_be_replaced_or_deleted(iw):
    url = f"/api/recommendations/{iw.recommendation.pk}/"
    client = as_user(iw.rco)
    assert (
        client.put(url, {"follow_up_status": "completed"}, format="json").status_code
        == 405
    )
    assert client.delete(url).status_code == 405


def test_recommendation_filters(iw):
    add_recommendations(iw, 2, owner_agency=iw.unicef)
    client = as_user(iw.rco)
    assert client.get("/api/recommendations/?agency=UNDP").json()["count"] == 1
    assert client.get("/api/recommendations/?overdue=true").json()["count"] == 3
    assert (
        client.get("/api/recommendations/?follow_up_status=ongoing").json()["count"]
        == 1
    )
    assert client.get("/api/recommendations/?follow_up_status=bogus").status_code == 400


def test_platforms_are_seen_by_everyone_with_only_their_teams_work(iw):
    mine = as_user(iw.fp_unicef).get("/api/platforms/SPOTLIGHT/").json()
    assert mine["countries"] == ["SOM"]
    assert len(mine["activities"]) == 1
    theirs = as_user(iw.outsider).get("/api/platforms/SPOTLIGHT/").json()
    assert theirs["name"] == "Spotlight Initiative"
    assert theirs["countries"] == []
    assert theirs["activities"] == []
    assert as_user(None).get("/api/platforms/").status_code == 401


def test_platforms_are_read_only(iw):
    client = as_user(iw.administrator)
    assert client.post("/api/platforms/", {}, format="json").status_code == 405
    assert client.delete("/api/platforms/SPOTLIGHT/").status_code == 405


# --- query counts ---------------------------------------------------------------------


def _grow(iw: InstrumentWorld, rows: int) -> None:
    for n in range(rows):
        mission = create_maps_mission(
            country_team=iw.team,
            code=f"M{n}",
            title=f"Mission {n}",
            start_date=datetime.date(2020, 1, 1),
            end_date=datetime.date(2020, 1, 5),
            participating_agencies=[iw.undp],
            actor=None,
        )
        create_accelerator(
            mission=mission,
            code="A",
            name="Accelerator",
            outcomes=[iw.outcome],
            actor=None,
        )
        create_collective_outcome(
            country_team=iw.team,
            code=f"C{n}",
            title="Collective",
            start_year=2021,
            end_year=2023,
            outcomes=[iw.outcome],
            actor=None,
        )
        activity = JointActivityFactory(
            country_team=iw.team, framework=iw.outcome.framework
        )
        add_team_to_platform(
            platform=iw.platform,
            country_team=iw.team,
            activities=[activity],
            actor=None,
        )
    add_recommendations(iw, rows)


def _queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [*TEAM_LISTS, "/api/platforms/"])
def test_instrument_list_queries_do_not_grow(iw, url):
    client = as_user(iw.rco)
    _queries(client, url)
    one = _queries(client, url)
    _grow(iw, 9)
    assert _queries(client, url) == one
