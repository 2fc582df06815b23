"""Joint work over the API: the whole workflow, If-Match, bad input and quality
errors, always through the same services as the web pages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from frameworks.models import (
    Contribution,
    IndicatorMeasurement,
    JointActivity,
    WorkflowAction,
    WorkflowEvent,
)
from tests.api.conftest import (
    activity_body,
    contribution_body,
    figures_body,
    measurement_body,
)
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    count_rows,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(world):
    return JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.undp,
        agencies=[world.undp, world.unicef],
        outputs=[world.output],
        sdg_targets=[world.sdg_target],
        locations=[world.region],
    )


def test_contribution_workflow_from_create_to_validate(world, client_as, activity):
    focal_point = client_as(world.fp_undp)
    office = client_as(world.rco)

    created = focal_point.post(
        "/api/contributions/", contribution_body(world, activity), format="json"
    )
    assert created.status_code == 201, created.json()
    url = f"/api/contributions/{created.json()['id']}/"
    assert created["ETag"] == '"1"'
    assert created.json()["status"] == "draft"
    assert created.json()["current"]["funding_gap"] == "20000.00"

    submitted = focal_point.post(url + "submit/", HTTP_IF_MATCH='"1"')
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["warnings"] == []
    assert submitted["ETag"] == '"2"'

    returned = office.post(
        url + "return/", {"comment": "Spent is not final yet."}, format="json"
    )
    assert returned.status_code == 200
    assert returned.json()["status"] == "returned"
    assert returned.json()["current"]["return_comment"] == "Spent is not final yet."
    etag = returned["ETag"]
    assert etag == '"3"'

    updated = focal_point.patch(
        url, {"spent": "60000.00"}, format="json", HTTP_IF_MATCH=etag
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["current"]["spent"] == "60000.00"
    # A PATCH keeps what it does not send.
    assert updated.json()["current"]["required"] == "100000.00"
    assert len(updated.json()["current"]["results"]) == 2
    assert updated["ETag"] == '"4"'

    resubmitted = focal_point.post(url + "submit/", HTTP_IF_MATCH='"4"')
    assert resubmitted.status_code == 200
    validated = office.post(url + "validate/", HTTP_IF_MATCH='"5"')
    assert validated.status_code == 200
    body = validated.json()
    assert body["status"] == "validated"
    assert body["validated"]["spent"] == "60000.00"
    assert body["validated"]["revision"] == 1
    actions = list(
        WorkflowEvent.objects.filter(contribution_id=body["id"])
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        WorkflowAction.CREATED,
        WorkflowAction.SUBMITTED,
        WorkflowAction.RETURNED,
        WorkflowAction.EDITED,
        WorkflowAction.SUBMITTED,
        WorkflowAction.VALIDATED,
    ]

    # Changing validated figures opens revision 2; revision 1 stays in force.
    reopened = focal_point.put(
        url, figures_body(world, spent="61000.00"), format="json"
    )
    assert reopened.status_code == 200
    assert reopened.json()["current"]["revision"] == 2
    assert reopened.json()["current"]["status"] == "draft"
    assert reopened.json()["validated"]["spent"] == "60000.00"


def test_activity_workflow_and_delete(world, client_as):
    focal_point = client_as(world.fp_undp)
    created = focal_point.post("/api/activities/", activity_body(world), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["agencies"] == ["UNDP", "UNICEF"]
    assert body["locations"] == ["SO-BN"]
    assert body["framework"] == world.framework.pk
    url = f"/api/activities/{body['id']}/"

    renamed = focal_point.put(
        url,
        {
            k: v
            for k, v in activity_body(world, title="Renamed").items()
            if k != "country_team"
        },
        format="json",
        HTTP_IF_MATCH=created["ETag"],
    )
    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["title"] == "Renamed"
    patched = focal_point.patch(url, {"gender_marker": 2}, format="json")
    assert patched.json()["gender_marker"] == 2
    assert patched.json()["title"] == "Renamed"
    assert patched.json()["agencies"] == ["UNDP", "UNICEF"]

    submitted = focal_point.post(url + "submit/")
    assert submitted.status_code == 200
    # Warnings do not block: nothing here, but the key is always there.
    assert "warnings" in submitted.json()
    assert client_as(world.rc).post(url + "validate/").json()["status"] == "validated"
    # Validated records are never deleted.
    assert focal_point.delete(url).status_code == 403

    draft = focal_point.post("/api/activities/", activity_body(world), format="json")
    assert (
        focal_point.delete(f"/api/activities/{draft.json()['id']}/").status_code == 204
    )
    assert not JointActivity.objects.filter(pk=draft.json()["id"]).exists()


def test_measurement_workflow_and_superseding(world, client_as):
    focal_point = client_as(world.fp_undp)
    created = focal_point.post(
        "/api/measurements/", measurement_body(world), format="json"
    )
    assert created.status_code == 201, created.json()
    url = f"/api/measurements/{created.json()['id']}/"
    assert focal_point.post(url + "submit/").json()["status"] == "submitted"
    validated = client_as(world.rco).post(url + "validate/")
    assert validated.json()["status"] == "validated"

    change = focal_point.patch(
        url,
        {"value": "260", "disaggregation": {"sex": {"female": 140, "male": 120}}},
        format="json",
        HTTP_IF_MATCH=validated["ETag"],
    )
    assert change.status_code == 200, change.json()
    # The answer is the new draft that will replace the validated value.
    assert change.json()["supersedes"] == created.json()["id"]
    assert change.json()["status"] == "draft"
    assert change.json()["value"] == "260.0000"
    assert IndicatorMeasurement.objects.get(pk=created.json()["id"]).value == 250


def test_team_wide_measurement_by_the_rc_office(world, client_as):
    body = measurement_body(
        world, indicator=world.outcome_indicator.pk, agency=None, disaggregation={}
    )
    response = client_as(world.rco).post("/api/measurements/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["agency"] is None


# --- optimistic concurrency -------------------------------------------------------


def test_stale_if_match_is_412_with_the_changes_and_writes_nothing(
    world, client_as, activity
):
    contribution = ContributionFactory(activity=activity)
    url = f"/api/contributions/{contribution.pk}/"
    focal_point = client_as(world.fp_undp)
    etag = focal_point.get(url)["ETag"]
    # Someone else saves first.
    assert (
        client_as(world.fp_undp_2)
        .patch(url, {"spent": "700.00"}, format="json")
        .status_code
        == 200
    )
    before = count_rows()

    response = focal_point.patch(
        url, {"spent": "650.00"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 412
    body = response.json()
    assert body["current_version"] == 2
    assert list(body["changes"]) == ["spent"]
    assert [Decimal(v) for v in body["changes"]["spent"]] == [700, 650]
    assert count_rows() == before
    contribution.refresh_from_db()
    assert contribution.current_revision.spent == 700


@pytest.mark.parametrize("if_match", ['"7"', 'W/"1"', "garbage", ""])
def test_workflow_actions_honour_if_match(world, client_as, activity, if_match):
    contribution = ContributionFactory(activity=activity)
    response = client_as(world.fp_undp).post(
        f"/api/contributions/{contribution.pk}/submit/", HTTP_IF_MATCH=if_match
    )
    assert response.status_code == 412
    assert response.json() == {
        "detail": response.json()["detail"],
        "current_version": 1,
        "changes": {},
    }
    contribution.refresh_from_db()
    assert contribution.status == "draft"


def test_delete_honours_if_match(world, client_as):
    measurement = IndicatorMeasurementFactory(
        indicator=world.number_indicator, agency=world.undp, version=3
    )
    url = f"/api/measurements/{measurement.pk}/"
    client = client_as(world.fp_undp)
    assert client.delete(url, HTTP_IF_MATCH='"2"').status_code == 412
    assert client.delete(url, HTTP_IF_MATCH='"2", "3"').status_code == 204


def test_if_match_star_or_absent_means_no_precondition(world, client_as, activity):
    contribution = ContributionFactory(activity=activity)
    url = f"/api/contributions/{contribution.pk}/"
    client = client_as(world.fp_undp)
    assert (
        client.patch(url, {"reach": 5}, format="json", HTTP_IF_MATCH="*").status_code
        == 200
    )
    assert client.patch(url, {"reach": 6}, format="json").status_code == 200


# --- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"agency": "NOPE"}, "agency"),
        ({"agencies": ["UNDP"]}, "agencies"),
        ({"agencies": ["UNDP", "FAO"]}, "agencies"),
        ({"outputs": []}, "outputs"),
        ({"outputs": [999999]}, "outputs"),
        ({"end_date": "2000-01-01"}, "end_date"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"gender_marker": 4}, "gender_marker"),
        ({"target_groups": ["aliens"]}, "target_groups"),
        ({"locations": ["NG-LA"]}, "locations"),
        ({"sdg_targets": ["99.9"]}, "sdg_targets"),
        ({"country_team": "ZZZ"}, "country_team"),
        ({"joint_programme": "x"}, "joint_programme"),
    ],
)
def test_bad_activity_is_400_naming_the_field_and_writes_nothing(
    world, client_as, overrides, field
):
    before = count_rows()
    response = client_as(world.fp_undp).post(
        "/api/activities/", activity_body(world, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert count_rows() == before


def test_outputs_of_another_team_do_not_exist_for_the_caller(world, client_as):
    response = client_as(world.fp_undp).post(
        "/api/activities/",
        activity_body(world, outputs=[world.other_output.pk]),
        format="json",
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["outputs"][0]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"required": "-1"}, "required"),
        ({"spent": "abc"}, "spent"),
        ({"spent": "NaN"}, "spent"),
        ({"available": "1e30"}, "available"),
        ({"reach": -5}, "reach"),
        ({"year": 1999}, "year"),
        ({"year": None}, "year"),
        ({"results": [{"indicator": "NOPE", "value": "1"}]}, "results"),
        ({"results": [{"indicator": "MEALS", "value": "1"}]}, "results"),
        ({"results": [{"indicator": "CHILDREN-VACC", "denominator": "0"}]}, "results"),
        (
            {
                "results": [
                    {
                        "indicator": "CHILDREN-VACC",
                        "value": "1",
                        "disaggregation": {"colour": {"red": 1}},
                    }
                ]
            },
            "results",
        ),
        (
            {
                "results": [
                    {
                        "indicator": "CHILDREN-VACC",
                        "value": "1",
                        "disaggregation": {"sex": {"female": -1}},
                    }
                ]
            },
            "results",
        ),
    ],
)
def test_bad_contribution_is_400_naming_the_field_and_writes_nothing(
    world, client_as, activity, overrides, field
):
    before = count_rows()
    response = client_as(world.fp_undp).post(
        "/api/contributions/",
        contribution_body(world, activity, **overrides),
        format="json",
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert count_rows() == before


def test_contribution_of_an_agency_not_involved_is_400(world, client_as, activity):
    response = client_as(world.administrator).post(
        "/api/contributions/",
        contribution_body(world, activity, agency="WFP"),
        format="json",
    )
    assert response.status_code == 400
    assert "not involved" in response.json()["agency"][0]


def test_duplicate_contribution_is_400_on_year(world, client_as, activity):
    client = client_as(world.fp_undp)
    body = contribution_body(world, activity)
    assert client.post("/api/contributions/", body, format="json").status_code == 201
    again = client.post("/api/contributions/", body, format="json")
    assert again.status_code == 400
    assert "already has a contribution" in again.json()["year"][0]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"year": 1900}, "year"),
        ({"year": 2000}, "year"),  # far outside the framework period
        ({"denominator": "0"}, "denominator"),
        ({"indicator": 999999}, "indicator"),
        ({"disaggregation": {"sex": "many"}}, "disaggregation"),
    ],
)
def test_bad_measurement_is_400_naming_the_field_and_writes_nothing(
    world, client_as, overrides, field
):
    before = count_rows()
    response = client_as(world.fp_undp).post(
        "/api/measurements/", measurement_body(world, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert count_rows() == before


def test_bad_update_writes_nothing(world, client_as, activity):
    contribution = ContributionFactory(activity=activity)
    before = count_rows()
    response = client_as(world.fp_undp).put(
        f"/api/contributions/{contribution.pk}/",
        figures_body(world, available="-3"),
        format="json",
    )
    assert response.status_code == 400
    assert "available" in response.json()
    assert count_rows() == before
    contribution.refresh_from_db()
    assert contribution.version == 1


def test_put_requires_the_money_fields(world, client_as, activity):
    contribution = ContributionFactory(activity=activity)
    response = client_as(world.fp_undp).put(
        f"/api/contributions/{contribution.pk}/", {"spent": "1"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"required", "available"}


def test_submit_with_quality_errors_is_400_listing_every_issue(
    world, client_as, activity
):
    contribution = ContributionFactory(
        activity=activity, spent=900, available=800, funding_source=""
    )
    before = count_rows()
    response = client_as(world.fp_undp).post(
        f"/api/contributions/{contribution.pk}/submit/"
    )
    assert response.status_code == 400
    issues = response.json()["issues"]
    assert (issues[0]["level"], issues[0]["field"]) == ("error", "spent")
    assert {"warning"} <= {i["level"] for i in issues}
    assert all(set(i) == {"level", "field", "message"} for i in issues)
    assert count_rows() == before
    assert Contribution.objects.get(pk=contribution.pk).status == "draft"


def test_return_needs_a_comment(world, client_as, activity):
    contribution = ContributionFactory(activity=activity, status="submitted")
    url = f"/api/contributions/{contribution.pk}/return/"
    client = client_as(world.rco)
    assert client.post(url, {}, format="json").json() == {
        "comment": ["This field is required."]
    }
    assert "comment" in client.post(url, {"comment": "   "}, format="json").json()
    assert Contribution.objects.get(pk=contribution.pk).status == "submitted"


def test_services_messages_reach_the_client_on_403(world, client_as, activity):
    response = client_as(world.fp_unicef).post(
        "/api/contributions/", contribution_body(world, activity), format="json"
    )
    assert response.status_code == 403
    assert "own agency" in response.json()["detail"]


def test_non_json_bodies_are_refused(world, client_as, activity):
    response = client_as(world.fp_undp).post(
        "/api/contributions/", {"activity": activity.pk}
    )
    assert response.status_code == 415


def test_activity_with_validated_contributions_is_not_deleted(
    world, client_as, activity
):
    ContributionFactory(activity=activity, agency=world.unicef, status="validated")
    response = client_as(world.fp_undp).delete(f"/api/activities/{activity.pk}/")
    assert response.status_code == 400
    assert "validated contributions" in response.json()["non_field_errors"][0]
    assert JointActivity.objects.filter(pk=activity.pk).exists()
