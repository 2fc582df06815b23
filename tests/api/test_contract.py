"""The shape of every endpoint: fields, filters, search, ordering, pagination,
ETags, and a schema that generates cleanly."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command

from frameworks.models import ContributionRevision, WorkflowStatus
from tests.coordination.factories import MembershipFactory
from tests.frameworks.factories import FrameworkFactory, SdgGoalFactory
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    ContributionRevisionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    ResultValueFactory,
)

pytestmark = pytest.mark.django_db


def _ids(response):
    return sorted(row["id"] for row in response.json()["results"])


def _activity(world, **kwargs):
    defaults = {
        "country_team": world.team,
        "framework": world.framework,
        "agency": world.undp,
        "agencies": [world.undp, world.unicef],
        "outputs": [world.output],
        "sdg_targets": [world.sdg_target],
        "locations": [world.region],
    }
    return JointActivityFactory(**{**defaults, **kwargs})


# --- reference data and the framework ---------------------------------------------


def test_team_is_addressed_by_alpha3_code_with_its_agencies(world, client_as):
    response = client_as(world.rco).get("/api/teams/SOM/")
    assert response.status_code == 200
    assert response.json() == {
        "code": "SOM",
        "name": "Somalia",
        "iso_alpha2": "SO",
        "region": "africa",
        "context": "development",
        "status": "active",
        "agencies": [
            {"code": "UNDP", "is_resident": True},
            {"code": "UNICEF", "is_resident": True},
            {"code": "WFP", "is_resident": True},
        ],
    }


def test_team_list_shows_only_the_callers_teams(world, client_as):
    response = client_as(world.rco).get("/api/teams/")
    assert [t["code"] for t in response.json()["results"]] == ["SOM"]
    assert client_as(world.rco).get("/api/teams/NGA/").status_code == 404
    assert client_as(world.rco).get("/api/teams/som/").status_code == 404


def test_team_list_filters_by_agency(world, client_as):
    client = client_as(world.administrator)
    assert client.get("/api/teams/?agency=wfp").json()["count"] == 2
    assert client.get("/api/teams/?agency=FAO").json()["count"] == 0


def test_agency_is_addressed_by_code(world, client_as):
    response = client_as(world.outsider).get("/api/agencies/UNDP/")
    assert response.json() == {
        "code": "UNDP",
        "name": "Agency UNDP",
        "kind": "fund_programme",
        "iati_identifier": "",
        "is_common_chapter_signatory": False,
    }


def test_agency_team_filter_ignores_teams_the_caller_cannot_see(world, client_as):
    mine = client_as(world.rco).get("/api/agencies/?team=SOM").json()
    theirs = client_as(world.rco).get("/api/agencies/?team=NGA").json()
    assert [a["code"] for a in mine["results"]] == ["UNDP", "UNICEF", "WFP"]
    assert theirs["count"] == 0


def test_sdg_goal_lists_its_target_codes_and_titles_in_the_language_asked(
    world, client_as
):
    SdgGoalFactory(number=5, titles={"en": "Gender equality", "fr": "Égalité"})
    client = client_as(world.outsider)
    goal = client.get("/api/sdg-goals/5/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert goal["title"] == "Égalité"
    assert goal["titles"] == {"en": "Gender equality", "fr": "Égalité"}
    assert client.get("/api/sdg-goals/1/").json()["targets"] == ["5.2", "3.1"]


def test_sdg_target_is_addressed_by_code_and_filtered_by_goal(world, client_as):
    client = client_as(world.outsider)
    assert client.get("/api/sdg-targets/5.2/").json() == {
        "code": "5.2",
        "goal": 1,
        "title": "Target 5.2",
        "titles": {"en": "Target 5.2"},
    }
    assert client.get("/api/sdg-targets/?goal=1").json()["count"] == 2
    assert client.get("/api/sdg-targets/?goal=2").json()["count"] == 0
    assert client.get("/api/sdg-targets/?goal=18").status_code == 400


def test_framework_fields_and_year_filter(world, client_as):
    FrameworkFactory(
        country_team=world.team, start_year=2010, end_year=2014, status="closed"
    )
    client = client_as(world.rco)
    response = client.get(f"/api/frameworks/?team=som&year={world.year}")
    [framework] = response.json()["results"]
    assert framework == {
        "id": world.framework.pk,
        "country_team": "SOM",
        "title": world.framework.title,
        "start_year": world.framework.start_year,
        "end_year": world.framework.end_year,
        "status": "active",
        "signed_off_at": None,
        "outcome_count": 1,
        "output_count": 2,
    }
    assert client.get("/api/frameworks/?status=closed").json()["count"] == 1


def test_outcome_output_and_indicator_fields(world, client_as):
    client = client_as(world.rco)
    outcome = world.output.outcome
    outcome.sdg_targets.set([world.sdg_target])
    outcome.lead_agencies.set([world.undp])
    assert client.get(f"/api/outcomes/{outcome.pk}/").json() == {
        "id": outcome.pk,
        "country_team": "SOM",
        "framework": world.framework.pk,
        "strategic_priority": None,
        "code": outcome.code,
        "statement": outcome.statement,
        "is_collective_outcome": False,
        "sdg_targets": ["5.2"],
        "lead_agencies": ["UNDP"],
    }
    assert client.get(f"/api/outputs/{world.output.pk}/").json() == {
        "id": world.output.pk,
        "country_team": "SOM",
        "framework": world.framework.pk,
        "outcome": outcome.pk,
        "outcome_code": outcome.code,
        "code": world.output.code,
        "statement": world.output.statement,
        "contributing_agencies": ["UNDP", "UNICEF"],
    }
    indicator = client.get(f"/api/indicators/{world.number_indicator.pk}/").json()
    assert indicator["level"] == "output"
    assert indicator["output"] == world.output.pk
    assert indicator["disaggregations"] == ["sex"]
    assert indicator["baseline_value"] == "10.0000"


def test_framework_lists_filter_by_outcome_output_agency_and_goal(world, client_as):
    client = client_as(world.rco)
    outcome = world.output.outcome
    outcome.sdg_targets.set([world.sdg_target])
    assert client.get("/api/outputs/?agency=WFP").json()["count"] == 1
    assert client.get(f"/api/outputs/?outcome={outcome.pk}").json()["count"] == 2
    assert client.get("/api/outcomes/?sdg_goal=1").json()["count"] == 1
    assert client.get("/api/outcomes/?sdg_goal=2").json()["count"] == 0
    # The outcome's own indicator and its outputs' indicators.
    assert client.get(f"/api/indicators/?outcome={outcome.pk}").json()["count"] == 5
    assert client.get("/api/indicators/?unit=percentage").json()["count"] == 1


# --- joint work -------------------------------------------------------------------


def test_activity_fields(world, client_as):
    activity = _activity(world)
    activity.common_chapter_areas.set([world.area])
    response = client_as(world.fp_unicef).get(f"/api/activities/{activity.pk}/")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert set(body) == {
        "id",
        "country_team",
        "framework",
        "title",
        "description",
        "agency",
        "agencies",
        "outputs",
        "joint_programme",
        "sdg_targets",
        "common_chapter_areas",
        "gender_marker",
        "human_rights_marker",
        "target_groups",
        "locations",
        "start_date",
        "end_date",
        "implementation_status",
        "status",
        "version",
        "revision",
        "external_ref",
        "validated_at",
        "created_at",
        "updated_at",
    }
    assert body["agency"] == "UNDP"
    assert body["agencies"] == ["UNDP", "UNICEF"]
    assert body["outputs"] == [world.output.pk]
    assert body["sdg_targets"] == ["5.2"]
    assert body["common_chapter_areas"] == ["CC4"]
    assert body["locations"] == ["SO-BN"]
    assert body["status"] == "draft"


def test_contribution_shows_current_and_validated_figures_apart(world, client_as):
    contribution = ContributionFactory(
        activity=_activity(world), status=WorkflowStatus.VALIDATED
    )
    ResultValueFactory(
        revision=contribution.validated_revision,
        indicator=world.number_indicator,
        value=Decimal("100"),
        disaggregation={"sex": {"female": "60", "male": "40"}},
    )
    contribution.validated_revision.status = WorkflowStatus.VALIDATED
    draft = ContributionRevisionFactory(
        contribution=contribution,
        number=2,
        required=Decimal("1500"),
        available=Decimal("900"),
        spent=Decimal("600"),
    )
    contribution.current_revision = draft
    contribution.save(update_fields=["current_revision"])

    response = client_as(world.rco).get(f"/api/contributions/{contribution.pk}/")

    body = response.json()
    assert response["ETag"] == f'"{contribution.version}"'
    assert {k: body[k] for k in ("country_team", "activity", "agency", "year")} == {
        "country_team": "SOM",
        "activity": contribution.activity_id,
        "agency": "UNDP",
        "year": contribution.year,
    }
    assert body["status"] == "draft"
    assert body["current"]["revision"] == 2
    assert body["current"]["required"] == "1500.00"
    assert body["current"]["funding_gap"] == "600.00"
    assert body["current"]["results"] == []
    validated = body["validated"]
    assert validated["revision"] == 1
    assert validated["funding_gap"] == "200.00"
    assert validated["results"] == [
        {
            "indicator": "CHILDREN-VACC",
            "value": "100.0000",
            "numerator": None,
            "denominator": None,
            "disaggregation": {"sex": {"female": "60", "male": "40"}},
        }
    ]
    assert set(validated) == {
        "revision",
        "status",
        "required",
        "available",
        "spent",
        "funding_gap",
        "funding_source",
        "implementing_partners",
        "reach",
        "results",
        "submitted_at",
        "reviewed_at",
        "return_comment",
    }


def test_measurement_fields(world, client_as):
    measurement = IndicatorMeasurementFactory(
        indicator=world.number_indicator, agency=world.undp
    )
    body = client_as(world.fp_undp).get(f"/api/measurements/{measurement.pk}/").json()
    assert body["indicator"] == world.number_indicator.pk
    assert body["indicator_code"] == "CHILDREN-VACC"
    assert body["agency"] == "UNDP"
    assert body["value"] == "10.0000"
    assert body["status"] == "draft"
    assert body["version"] == 1


def test_activity_filters(world, client_as):
    a = _activity(world)
    a.common_chapter_areas.set([world.area])
    b = _activity(
        world,
        agency=world.wfp,
        agencies=[world.wfp, world.unicef],
        outputs=[world.output_wfp],
        sdg_targets=[],
        status="submitted",
    )
    client = client_as(world.rco)

    def ids(query):
        return _ids(client.get(f"/api/activities/?{query}"))

    assert ids("team=SOM") == [a.pk, b.pk]
    assert ids("team=NGA") == []
    assert ids(f"framework={world.framework.pk}") == [a.pk, b.pk]
    assert ids(f"output={world.output_wfp.pk}") == [b.pk]
    assert ids(f"outcome={world.output.outcome_id}") == [a.pk, b.pk]
    assert ids("agency=unicef") == [a.pk, b.pk]
    assert ids("agency=UNDP") == [a.pk]
    assert ids("status=submitted") == [b.pk]
    assert ids(f"year={world.year}") == [a.pk, b.pk]
    assert ids(f"year={world.year - 5}") == []
    assert ids("sdg_goal=1") == [a.pk]
    assert ids("common_chapter_area=CC4") == [a.pk]
    assert ids("search=" + a.title.split()[-1]) == [a.pk]


def test_contribution_filters(world, client_as):
    activity = _activity(world)
    activity.common_chapter_areas.set([world.area])
    undp = ContributionFactory(activity=activity, status="validated")
    unicef = ContributionFactory(
        activity=activity, agency=world.unicef, status="submitted", year=world.year + 1
    )
    other = ContributionFactory(
        activity=_activity(
            world,
            agency=world.wfp,
            agencies=[world.wfp, world.undp],
            outputs=[world.output_wfp],
            sdg_targets=[],
        ),
    )
    client = client_as(world.rco)

    def ids(query):
        return _ids(client.get(f"/api/contributions/?{query}"))

    assert ids("team=SOM") == [undp.pk, unicef.pk, other.pk]
    assert ids(f"activity={activity.pk}") == [undp.pk, unicef.pk]
    assert ids(f"framework={world.framework.pk}") == [undp.pk, unicef.pk, other.pk]
    assert ids(f"output={world.output.pk}") == [undp.pk, unicef.pk]
    assert ids(f"outcome={world.output.outcome_id}") == [undp.pk, unicef.pk, other.pk]
    assert ids("agency=UNICEF") == [unicef.pk]
    assert ids("status=submitted") == [unicef.pk]
    assert ids(f"year={world.year + 1}") == [unicef.pk]
    assert ids("sdg_goal=1") == [undp.pk, unicef.pk]
    assert ids("common_chapter_area=cc4") == [undp.pk, unicef.pk]
    assert ids("has_validated=true") == [undp.pk]


def test_measurement_filters(world, client_as):
    undp = IndicatorMeasurementFactory(
        indicator=world.number_indicator, agency=world.undp
    )
    team_wide = IndicatorMeasurementFactory(
        indicator=world.outcome_indicator, status="validated", year=world.year + 1
    )
    client = client_as(world.rco)

    def ids(query):
        return _ids(client.get(f"/api/measurements/?{query}"))

    assert ids("team=SOM") == [undp.pk, team_wide.pk]
    assert ids(f"indicator={world.number_indicator.pk}") == [undp.pk]
    assert ids(f"output={world.output.pk}") == [undp.pk]
    assert ids(f"outcome={world.output.outcome_id}") == [undp.pk, team_wide.pk]
    assert ids("agency=UNDP") == [undp.pk]
    assert ids("status=validated") == [team_wide.pk]
    assert ids(f"year={world.year + 1}") == [team_wide.pk]


@pytest.mark.parametrize(
    "query",
    [
        "status=finished",
        "framework=abc",
        "framework=0",
        "year=99999",
        "sdg_goal=18",
        "outcome=1.5",
        "framework=99999999999999999999",
    ],
)
def test_bad_filter_values_are_400_with_the_field_named(world, client_as, query):
    response = client_as(world.rco).get(f"/api/activities/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_lists_are_paginated_and_ordered(world, client_as):
    activities = [_activity(world, title=f"Activity {n:02}") for n in range(5)]
    client = client_as(world.rco)
    page = client.get("/api/activities/?ordering=title&page_size=2&page=2").json()
    assert page["count"] == 5
    assert [a["title"] for a in page["results"]] == ["Activity 02", "Activity 03"]
    assert "page=3" in page["next"]
    assert "page=1" in page["previous"] or page["previous"].endswith("page_size=2")
    newest_first = client.get("/api/activities/").json()["results"]
    assert newest_first[0]["id"] == activities[-1].pk
    assert client.get("/api/activities/?page=9").status_code == 404


def test_page_size_is_capped(world, client_as):
    response = client_as(world.rco).get("/api/agencies/?page_size=100000")
    assert response.status_code == 200


def test_absurd_ids_are_404_not_errors(world, client_as):
    client = client_as(world.administrator)
    assert client.get("/api/activities/9999999999999999999999/").status_code == 404
    assert client.get("/api/contributions/abc/").status_code == 404


def test_a_team_member_sees_other_agencies_records(world, client_as):
    contribution = ContributionFactory(activity=_activity(world), agency=world.unicef)
    assert (
        client_as(world.fp_undp)
        .get(f"/api/contributions/{contribution.pk}/")
        .status_code
        == 200
    )


def test_a_second_membership_widens_what_a_user_sees(world, client_as):
    MembershipFactory(
        user=world.fp_undp,
        country_team=world.other_team,
        role="focal_point",
        agency=world.undp,
    )
    response = client_as(world.fp_undp).get("/api/teams/")
    assert [t["code"] for t in response.json()["results"]] == ["NGA", "SOM"]


def test_schema_generates_without_errors_and_documents_concurrency(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path in (
        "/api/teams/{code}/",
        "/api/contributions/{id}/submit/",
        "/api/auth/token/",
        "/api/sdg-targets/{code}/",
    ):
        assert path in paths
    put = paths["/api/contributions/{id}/"]["put"]
    assert {"If-Match"} == {p["name"] for p in put["parameters"] if p["in"] == "header"}
    assert not next(p for p in put["parameters"] if p["name"] == "If-Match").get(
        "required"
    )
    assert {"200", "400", "401", "403", "404", "412"} <= set(put["responses"])
    assert "ETag" in put["responses"]["200"]["headers"]
    submit = paths["/api/contributions/{id}/submit/"]["post"]["responses"]
    assert submit["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/QualityError"
    )


def test_schema_and_docs_are_served(world, client_as):
    client = client_as(world.outsider)
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_revision_rows_are_not_exposed_beyond_their_contribution(world, client_as):
    ContributionFactory(activity=_activity(world))
    assert ContributionRevision.objects.count() == 1
    assert client_as(world.rco).get("/api/revisions/").status_code == 404
