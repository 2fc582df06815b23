"""Coordination instruments: services, constraints, pages, export and demo data."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from frameworks.demo import seed_demo
from frameworks.models import (
    Accelerator,
    CollectiveOutcome,
    CostAvoidance,
    FollowUpStatus,
    MapsMission,
    MutualRecognition,
    Platform,
    Recommendation,
    ZeroHungerReview,
)
from frameworks.services import (
    PlatformData,
    create_accelerator,
    create_maps_mission,
    create_platform,
    create_zero_hunger_review,
    record_cost_avoidance,
    record_mutual_recognition,
    update_recommendation_status,
)
from tests.coordination.factories import AgencyFactory
from tests.frameworks.instrument_factories import (
    FUTURE,
    InstrumentWorld,
    add_recommendations,
    build_instrument_world,
)
from tests.frameworks.joint_work_factories import JointActivityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> InstrumentWorld:
    return build_instrument_world()


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


def _mission_kwargs(world: InstrumentWorld, **overrides):
    return {
        "country_team": world.team,
        "code": "SOM-MAPS-2",
        "title": "Second mission",
        "start_date": datetime.date(2022, 1, 10),
        "end_date": datetime.date(2022, 1, 20),
        **overrides,
    }


# --- services: who may write ----------------------------------------------------------


@pytest.mark.parametrize("role", ["rc", "rco", "administrator"])
def test_create_maps_mission_is_allowed_to_the_rc_office(world, role):
    mission = create_maps_mission(**_mission_kwargs(world), actor=getattr(world, role))
    assert mission.history.count() == 1


@pytest.mark.parametrize("role", ["fp_undp", "rco_other_team", "outsider"])
def test_create_maps_mission_refuses_others_and_writes_nothing(world, role):
    before = MapsMission.objects.count()
    with pytest.raises(PermissionDenied):
        create_maps_mission(**_mission_kwargs(world), actor=getattr(world, role))
    assert MapsMission.objects.count() == before


def test_create_maps_mission_rejects_end_before_start(world):
    with pytest.raises(ValidationError) as exc:
        create_maps_mission(
            **_mission_kwargs(world, end_date=datetime.date(2021, 12, 31)),
            actor=world.rco,
        )
    assert "__all__" in exc.value.message_dict
    assert not MapsMission.objects.filter(code="SOM-MAPS-2").exists()


def test_create_maps_mission_rejects_a_taken_code(world):
    with pytest.raises(ValidationError) as exc:
        create_maps_mission(**_mission_kwargs(world, code="SOM-MAPS"), actor=world.rco)
    assert "code" in exc.value.message_dict


def test_create_accelerator_refuses_another_teams_outcome_and_writes_nothing(world):
    with pytest.raises(ValidationError):
        create_accelerator(
            mission=world.mission,
            code="A9",
            name="Inclusion",
            outcomes=[world.other_outcome],
            actor=world.rco,
        )
    assert not Accelerator.objects.filter(code="A9").exists()


def test_create_accelerator_refuses_another_teams_activity(world):
    foreign = JointActivityFactory(
        country_team=world.other_team, framework=world.other_outcome.framework
    )
    with pytest.raises(ValidationError):
        create_accelerator(
            mission=world.mission,
            code="A9",
            name="Inclusion",
            activities=[foreign],
            actor=world.rco,
        )
    assert not Accelerator.objects.filter(code="A9").exists()


@pytest.mark.parametrize("role", ["rc", "rco", "fp_undp", "administrator"])
def test_update_recommendation_status_by_rc_office_or_owner_agency(world, role):
    updated = update_recommendation_status(
        recommendation=world.recommendation,
        status=FollowUpStatus.COMPLETED,
        note="Done with the social registry.",
        actor=getattr(world, role),
    )
    assert updated.status == FollowUpStatus.COMPLETED
    assert not updated.is_overdue
    history = list(updated.history.order_by("history_date"))
    assert [h.status for h in history][-2:] == ["ongoing", "completed"]
    assert history[-1].history_user == getattr(world, role)


@pytest.mark.parametrize("role", ["fp_unicef", "rco_other_team", "outsider"])
def test_update_recommendation_status_refuses_others(world, role):
    with pytest.raises(PermissionDenied):
        update_recommendation_status(
            recommendation=world.recommendation,
            status=FollowUpStatus.DROPPED,
            actor=getattr(world, role),
        )
    world.recommendation.refresh_from_db()
    assert world.recommendation.status == FollowUpStatus.ONGOING
    assert world.recommendation.history.count() == 1


def test_update_recommendation_status_rejects_an_unknown_status(world):
    with pytest.raises(ValidationError):
        update_recommendation_status(
            recommendation=world.recommendation, status="finished", actor=world.rco
        )


def test_overdue_recommendations_are_open_and_past_due(world):
    late, on_time = add_recommendations(world, 2)
    on_time.due_date = FUTURE
    on_time.save()
    update_recommendation_status(
        recommendation=late, status=FollowUpStatus.COMPLETED, actor=world.rco
    )
    overdue = set(Recommendation.objects.overdue().values_list("code", flat=True))
    assert overdue == {"R1"}


def test_create_zero_hunger_review_refuses_agencies_outside_the_team(world):
    outside = AgencyFactory(code="WFP")
    with pytest.raises(ValidationError):
        create_zero_hunger_review(
            country_team=world.team,
            code="SOM-ZHSR",
            title="Review",
            lead_convener="Government",
            start_date=datetime.date(2017, 1, 1),
            end_date=datetime.date(2018, 1, 1),
            co_funding_agencies=[outside],
            actor=world.rco,
        )
    assert not ZeroHungerReview.objects.exists()


def test_create_platform_is_for_administrators_only(world):
    data = PlatformData(code="SUN", name="Scaling Up Nutrition", country_count=60)
    with pytest.raises(PermissionDenied):
        create_platform(data=data, actor=world.rco)
    assert not Platform.objects.filter(code="SUN").exists()
    assert create_platform(data=data, actor=world.administrator).country_count == 60


def test_create_platform_rejects_negative_funding(world):
    with pytest.raises(ValidationError):
        create_platform(
            data=PlatformData(code="X", name="X", initial_funding=Decimal("-1")),
            actor=world.administrator,
        )


def test_record_cost_avoidance_replaces_the_years_figures(world):
    record_cost_avoidance(
        service=world.service, year=2021, estimated=Decimal("1200"), actor=world.rco
    )
    row = CostAvoidance.objects.get(service=world.service, year=2021)
    assert (row.estimated, row.realised) == (Decimal("1200"), None)
    assert CostAvoidance.objects.filter(service=world.service).count() == 1


@pytest.mark.parametrize(
    ("year", "estimated", "realised"),
    [(2021, "-1", None), (2022, "10", "-5"), (2030, "10", None)],
)
def test_record_cost_avoidance_rejects_bad_figures(world, year, estimated, realised):
    with pytest.raises(ValidationError):
        record_cost_avoidance(
            service=world.service,
            year=year,
            estimated=Decimal(estimated),
            realised=Decimal(realised) if realised else None,
            actor=world.rco,
        )
    assert CostAvoidance.objects.get(year=2021).estimated == Decimal("1000")
    assert CostAvoidance.objects.count() == 1


def test_record_cost_avoidance_refuses_focal_points(world):
    with pytest.raises(PermissionDenied):
        record_cost_avoidance(
            service=world.service,
            year=2022,
            estimated=Decimal("1"),
            actor=world.fp_undp,
        )


def test_record_mutual_recognition_once_per_agency(world):
    record_mutual_recognition(
        strategy=world.strategy,
        agency=world.undp,
        adopted_on=datetime.date(2021, 3, 1),
        actor=world.rco,
    )
    with pytest.raises(ValidationError):
        record_mutual_recognition(
            strategy=world.strategy,
            agency=world.undp,
            adopted_on=datetime.date(2022, 3, 1),
            actor=world.rco,
        )
    assert MutualRecognition.objects.count() == 1


def test_database_refuses_negative_cost_avoidance(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        CostAvoidance.objects.create(
            service=world.service, year=2023, estimated=Decimal("-1")
        )


def test_database_refuses_collective_outcome_ending_before_it_starts(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectiveOutcome.objects.create(
            country_team=world.team,
            code="CO9",
            title="X",
            start_year=2024,
            end_year=2023,
        )


# --- visibility --------------------------------------------------------------------


def test_team_instruments_are_visible_only_to_team_members(world):
    assert list(MapsMission.objects.visible_to(world.fp_unicef)) == [world.mission]
    assert not MapsMission.objects.visible_to(world.rco_other_team).exists()
    assert not Recommendation.objects.visible_to(world.outsider).exists()


def test_platforms_are_visible_to_any_signed_in_user(world):
    from django.contrib.auth.models import AnonymousUser

    assert list(Platform.objects.visible_to(world.outsider)) == [world.platform]
    assert not Platform.objects.visible_to(AnonymousUser()).exists()


# --- pages -------------------------------------------------------------------------


def _team_page(world):
    return reverse("instruments:team_instruments", kwargs={"code": world.team.code})


@pytest.mark.parametrize("role", ["rc", "rco", "fp_undp", "fp_unicef", "administrator"])
def test_team_instruments_page_answers_members(world, client, role):
    client.force_login(getattr(world, role))
    response = client.get(_team_page(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert "MAPS mission to Somalia" in html
    assert "Overdue" in html
    assert "Reduced food insecurity" in html
    assert "HRP objective 1" in html
    assert "Spotlight Initiative" in html


@pytest.mark.parametrize("role", ["rco_other_team", "outsider"])
def test_team_instruments_pages_are_404_to_non_members(world, client, role):
    client.force_login(getattr(world, role))
    code = world.team.code
    for url in (
        _team_page(world),
        reverse(
            "instruments:mission_detail", kwargs={"code": code, "pk": world.mission.pk}
        ),
        reverse(
            "instruments:recommendation_follow_up",
            kwargs={"code": code, "pk": world.recommendation.pk},
        ),
        reverse("instruments:recommendations_csv", kwargs={"code": code}),
    ):
        assert client.get(url).status_code == 404, url


def test_mission_of_another_team_is_404_through_my_team(world, client):
    client.force_login(world.rco_other_team)
    url = reverse(
        "instruments:mission_detail",
        kwargs={"code": world.other_team.code, "pk": world.mission.pk},
    )
    assert client.get(url).status_code == 404


def test_only_people_who_may_follow_up_see_the_update_link(world, client):
    follow_up = reverse(
        "instruments:recommendation_follow_up",
        kwargs={"code": world.team.code, "pk": world.recommendation.pk},
    )
    client.force_login(world.fp_undp)
    assert follow_up in client.get(_team_page(world)).content.decode()
    client.force_login(world.fp_unicef)
    assert follow_up not in client.get(_team_page(world)).content.decode()


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "page", ["team_instruments", "mission_detail", "recommendations_csv"]
)
def test_instrument_page_queries_do_not_grow_with_rows(world, client, page):
    client.force_login(world.fp_undp)
    kwargs = {"code": world.team.code}
    if page == "mission_detail":
        kwargs["pk"] = world.mission.pk
    url = reverse(f"instruments:{page}", kwargs=kwargs)
    _count_queries(client, url)  # warm the session and the role cache
    one = _count_queries(client, url)
    add_recommendations(world, 9, owner_agency=world.undp)
    for n in range(9):
        create_accelerator(
            mission=world.mission,
            code=f"B{n}",
            name=f"Accelerator {n}",
            outcomes=[world.outcome],
            actor=None,
        )
    assert _count_queries(client, url) == one


def test_follow_up_form_saves_the_status_for_the_owner_agency(world, client):
    client.force_login(world.fp_undp)
    url = reverse(
        "instruments:recommendation_follow_up",
        kwargs={"code": world.team.code, "pk": world.recommendation.pk},
    )
    assert client.get(url).status_code == 200
    response = client.post(url, {"status": "completed", "note": "Registry in use."})
    assert response.status_code == 302
    world.recommendation.refresh_from_db()
    assert world.recommendation.status == "completed"
    assert world.recommendation.follow_up_note == "Registry in use."


def test_follow_up_form_is_403_for_another_agency(world, client):
    client.force_login(world.fp_unicef)
    url = reverse(
        "instruments:recommendation_follow_up",
        kwargs={"code": world.team.code, "pk": world.recommendation.pk},
    )
    assert client.post(url, {"status": "dropped"}).status_code == 403
    world.recommendation.refresh_from_db()
    assert world.recommendation.status == "ongoing"


def test_follow_up_form_rejects_an_unknown_status(world, client):
    client.force_login(world.rco)
    url = reverse(
        "instruments:recommendation_follow_up",
        kwargs={"code": world.team.code, "pk": world.recommendation.pk},
    )
    assert client.post(url, {"status": "finished"}).status_code == 400
    world.recommendation.refresh_from_db()
    assert world.recommendation.status == "ongoing"


def test_recommendations_csv_lists_follow_up_and_neutralises_formulas(world, client):
    add_recommendations(world, 1)
    Recommendation.objects.filter(code="X0").update(text="=HYPERLINK(1)")
    client.force_login(world.rco)
    response = client.get(
        reverse("instruments:recommendations_csv", kwargs={"code": world.team.code})
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_code = {row["code"]: row for row in rows}
    assert by_code["R1"]["owner_agency"] == "UNDP"
    assert by_code["R1"]["status"] == "ongoing"
    assert by_code["R1"]["overdue"] == "yes"
    assert by_code["X0"]["recommendation"] == "'=HYPERLINK(1)"


def test_platform_page_shows_only_the_callers_teams_work(world, client):
    url = reverse("instruments:platform_detail", kwargs={"code": "SPOTLIGHT"})
    activity = world.platform.activities.get()
    client.force_login(world.fp_unicef)
    assert activity.title in client.get(url).content.decode()
    client.force_login(world.outsider)
    response = client.get(url)
    assert response.status_code == 200
    assert activity.title not in response.content.decode()
    assert "Somalia" not in response.content.decode()


def test_platform_pages_need_a_signed_in_user(world, client):
    url = reverse("instruments:platform_detail", kwargs={"code": "SPOTLIGHT"})
    assert client.get(url).status_code == 302
    client.force_login(world.outsider)
    assert client.get(reverse("instruments:platform_list")).status_code == 200
    missing = reverse("instruments:platform_detail", kwargs={"code": "NOPE"})
    assert client.get(missing).status_code == 404


# --- demo data ----------------------------------------------------------------------


@pytest.fixture
def demo():
    return seed_demo()


def test_seed_demo_records_the_dominican_republic_maps_mission(demo):
    mission = MapsMission.objects.get(country_team__code="DOM")
    assert mission.start_date.year == 2016
    accelerators = {
        a.name: {o.code for o in a.outcomes.all()}
        for a in mission.accelerators.prefetch_related("outcomes")
    }
    assert accelerators == {
        "Multidimensional poverty": {"1.1"},
        "Competitiveness and decent work": {"2.1"},
        "Sustainable consumption and production": {"3.1"},
        "Resilience to climate change and crises": {"3.2"},
        "Inclusion": {"4.1"},
    }
    linked = set(
        mission.accelerators.values_list("activities__external_ref", flat=True)
    )
    assert {"DOM-JA-001", "DOM-JA-002", "DOM-JA-003"} <= linked
    assert mission.recommendations.count() >= 5


def test_seed_demo_records_zero_hunger_reviews_of_afghanistan_and_nigeria(demo):
    reviews = {r.country_team.code: r for r in ZeroHungerReview.objects.all()}
    assert set(reviews) == {"AFG", "NGA"}
    for review in reviews.values():
        funders = set(review.co_funding_agencies.values_list("code", flat=True))
        assert {"FAO", "WFP", "UNICEF"} <= funders
        assert review.priority_actions.exists()
        assert review.follow_up_mechanism


def test_seed_demo_records_somalias_four_collective_outcomes(demo):
    collective = CollectiveOutcome.objects.filter(country_team__code="SOM")
    assert collective.count() == 4
    for item in collective:
        assert item.end_year - item.start_year + 1 == 3
        assert item.hrp_objective_list
        outcomes = list(item.outcomes.all())
        assert outcomes
        assert all(o.is_collective_outcome for o in outcomes)


def test_seed_demo_records_the_global_platforms(demo):
    platforms = {p.code: p for p in Platform.objects.all()}
    assert {"SUN", "WSSCC", "EWEC", "COMPACT-YOUTH", "SPOTLIGHT"} <= set(platforms)
    assert platforms["SUN"].country_count >= 60
    assert platforms["WSSCC"].country_count == 141
    assert platforms["COMPACT-YOUTH"].member_count == 52
    spotlight = platforms["SPOTLIGHT"]
    assert (spotlight.initial_funding, spotlight.funding_currency) == (
        Decimal("500000000"),
        "EUR",
    )
    assert list(spotlight.activities.values_list("external_ref", flat=True)) == [
        "NGA-JA-001"
    ]
    assert spotlight.joint_programmes.get().country_team.code == "NGA"


def test_seed_demo_records_somalias_business_operations(demo):
    from frameworks.models import OperationsStrategy

    strategy = OperationsStrategy.objects.get(country_team__code="SOM")
    lines = set(strategy.services.values_list("service_line", flat=True))
    assert {"premises", "ict", "procurement"} <= lines
    assert CostAvoidance.objects.filter(service__strategy=strategy).count() >= 6
    assert strategy.recognitions.count() >= 3


def test_seed_demo_twice_leaves_the_platforms_alone(demo):
    before = Platform.objects.count(), Platform.countries.through.objects.count()
    seed_demo()
    assert (Platform.objects.count(), Platform.countries.through.objects.count()) == (
        before
    )
