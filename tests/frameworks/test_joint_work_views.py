"""The joint-work pages: every page and step for every role, forms, conflicts,
the data-quality panel, the timeline, my work and fixed query counts."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from frameworks.models import (
    Contribution,
    CooperationFramework,
    IndicatorMeasurement,
    JointActivity,
    WorkflowStatus,
)
from frameworks.services import update_activity, update_contribution
from tests.frameworks.factories import FrameworkFactory, SdgTargetFactory
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    activity_data,
    build_world,
    count_rows,
    figures_data,
)

pytestmark = pytest.mark.django_db

ROLES = [
    "rc",
    "rco",
    "fp_owner",
    "fp_other_agency",
    "fp_other_team",
    "board",
    "admin",
    "outsider",
    "anonymous",
]
_USERS = {
    "rc": "rc",
    "rco": "rco",
    "fp_owner": "fp_undp",
    "fp_other_agency": "fp_wfp",
    "fp_other_team": "fp_undp_other_team",
    "board": "board_member",
    "admin": "administrator",
    "outsider": "outsider",
}


@pytest.fixture
def world():
    return build_world()


def sign_in(client, world, role: str):
    if role != "anonymous":
        client.force_login(getattr(world, _USERS[role]))
    return client


def url(name: str, **kwargs: Any) -> str:
    return reverse(f"frameworks:{name}", kwargs=kwargs)


def make_activity(world, **kwargs: Any) -> JointActivity:
    """A UNDP-led activity with UNICEF that passes every quality check."""
    values = {
        "country_team": world.team,
        "framework": world.framework,
        "agency": world.undp,
        "agencies": [world.undp, world.unicef],
        "outputs": [world.output],
        "sdg_targets": [world.sdg_target],
        "locations": [world.region],
    }
    values.update(kwargs)
    return JointActivityFactory(**values)


def make_contribution(world, activity=None, **kwargs: Any) -> Contribution:
    activity = activity or make_activity(world)
    values = {"activity": activity, "agency": world.undp, "year": world.year}
    values.update(kwargs)
    return ContributionFactory(**values)


def activity_post(world, activity: JointActivity | None = None, **overrides):
    """Form data of the activity form that passes every check."""
    start = datetime.date(world.framework.start_year, 3, 1)
    data = {
        "title": "Ending violence against women and girls in Banaadir",
        "description": "Joint prevention and response services.",
        "agency": world.undp.pk,
        "agencies": [world.undp.pk, world.unicef.pk],
        "outputs": [world.output.pk],
        "joint_programme": world.programme.pk,
        "start_date": start.isoformat(),
        "end_date": start.replace(year=start.year + 1).isoformat(),
        "implementation_status": "ongoing",
        "sdg_targets": [world.sdg_target.pk],
        "common_chapter_areas": [world.area.pk],
        "gender_marker": "3",
        "human_rights_marker": "2",
        "target_groups": ["women_girls", "youth"],
        "locations": [world.region.pk],
    }
    if activity is not None:
        data["version"] = activity.version
        del data["agency"]
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def contribution_post(world, contribution: Contribution | None = None, **overrides):
    """Form data of the contribution form with a sex breakdown that adds up."""
    number = world.number_indicator.pk
    percentage = world.percentage_indicator.pk
    data = {
        "agency": world.undp.pk,
        "year": world.year,
        "required": "100000",
        "available": "80000",
        "spent": "50000",
        "funding_source": "Spotlight Initiative",
        "implementing_partners": "Ministry of Women",
        "reach": "1200",
        f"r{number}_value": "100",
        f"r{number}_d_sex_0": "60",
        f"r{number}_d_sex_1": "40",
        f"r{percentage}_numerator": "45",
        f"r{percentage}_denominator": "60",
    }
    if contribution is not None:
        del data["agency"]
        del data["year"]
        data["version"] = contribution.version
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def measurement_post(world, **overrides):
    data = {
        "agency": world.undp.pk,
        "year": world.year,
        "period_label": "",
        "value": "250",
        "d_sex_0": "130",
        "d_sex_1": "120",
        "source": "Immunisation registry",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def assert_refused(response, role: str, expected: int) -> None:
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected


# --- who may open which page ---------------------------------------------------------

MEMBERS_READ = {
    "rc": 200,
    "rco": 200,
    "fp_owner": 200,
    "fp_other_agency": 200,
    "fp_other_team": 404,
    "board": 404,
    "admin": 200,
    "outsider": 404,
    "anonymous": 302,
}
CREATE_ACTIVITY_PAGE = MEMBERS_READ | {"rc": 403, "rco": 403}
OWNER_ONLY_PAGE = MEMBERS_READ | {"rc": 403, "rco": 403, "fp_other_agency": 403}


def _page_urls(world) -> dict[str, tuple[str, dict[str, int]]]:
    activity = make_activity(world)
    contribution = make_contribution(world, activity=activity)
    measurement = IndicatorMeasurementFactory(
        indicator=world.number_indicator, agency=world.undp
    )
    code = world.team.code
    return {
        "activity_list": (url("activity_list", code=code), MEMBERS_READ),
        "activity_detail": (
            url("activity_detail", code=code, pk=activity.pk),
            MEMBERS_READ,
        ),
        "indicator_detail": (
            url("indicator_detail", code=code, pk=world.number_indicator.pk),
            MEMBERS_READ,
        ),
        "activity_create": (url("activity_create", code=code), CREATE_ACTIVITY_PAGE),
        "activity_edit": (
            url("activity_edit", code=code, pk=activity.pk),
            OWNER_ONLY_PAGE,
        ),
        "contribution_create": (
            url("contribution_create", code=code, pk=activity.pk),
            OWNER_ONLY_PAGE,
        ),
        "contribution_edit": (
            url("contribution_edit", code=code, pk=contribution.pk),
            OWNER_ONLY_PAGE,
        ),
        # The RC office edits team-wide and agency measurements alike.
        "measurement_edit": (
            url("measurement_edit", code=code, pk=measurement.pk),
            MEMBERS_READ | {"fp_other_agency": 403},
        ),
        "my_work": (url("my_work"), dict.fromkeys(ROLES, 200) | {"anonymous": 302}),
    }


@pytest.mark.parametrize(
    "page",
    [
        "activity_list",
        "activity_detail",
        "indicator_detail",
        "activity_create",
        "activity_edit",
        "contribution_create",
        "contribution_edit",
        "measurement_edit",
        "my_work",
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_pages_answer_each_role(client, world, page, role):
    address, expected = _page_urls(world)[page]
    response = sign_in(client, world, role).get(address)
    assert response.status_code == expected[role]
    if role == "anonymous":
        assert response.url.startswith(reverse("login"))


def test_pages_of_a_team_are_not_found_under_another_teams_code(client, world):
    activity = make_activity(world)
    sign_in(client, world, "fp_other_team")
    for address in (
        url("activity_detail", code="NGA", pk=activity.pk),
        url("activity_edit", code="NGA", pk=activity.pk),
        url("contribution_create", code="NGA", pk=activity.pk),
        url("indicator_detail", code="NGA", pk=world.number_indicator.pk),
    ):
        assert client.get(address).status_code == 404


def test_a_partner_agency_adds_its_contribution_but_not_the_leads(client, world):
    activity = make_activity(world)
    contribution = make_contribution(world, activity=activity)
    client.force_login(world.fp_unicef)
    code = world.team.code
    assert (
        client.get(url("contribution_create", code=code, pk=activity.pk)).status_code
        == 200
    )
    assert (
        client.get(url("contribution_edit", code=code, pk=contribution.pk)).status_code
        == 403
    )
    assert (
        client.get(url("activity_edit", code=code, pk=activity.pk)).status_code == 403
    )


# --- every step for every role -------------------------------------------------------

OK = "ok"
STEPS: dict[str, dict[str, Any]] = {
    "activity_create": {
        "rc": 403,
        "rco": 403,
        "fp_owner": OK,
        # A WFP focal point may log activities, but not as UNDP.
        "fp_other_agency": 400,
        "fp_other_team": 404,
        "board": 404,
        "admin": OK,
        "outsider": 404,
    },
    "activity_update": {
        "rc": 403,
        "rco": 403,
        "fp_owner": OK,
        "fp_other_agency": 403,
        "fp_other_team": 404,
        "board": 404,
        "admin": OK,
        "outsider": 404,
    },
    "activity_submit": "activity_update",
    "activity_delete": "activity_update",
    "activity_validate": {
        "rc": OK,
        "rco": OK,
        "fp_owner": 403,
        "fp_other_agency": 403,
        "fp_other_team": 404,
        "board": 404,
        "admin": OK,
        "outsider": 404,
    },
    "activity_return": "activity_validate",
    "contribution_create": "activity_update",
    "contribution_update": "activity_update",
    "contribution_submit": "activity_update",
    "contribution_delete": "activity_update",
    "contribution_validate": "activity_validate",
    "contribution_return": "activity_validate",
    "measurement_record": {
        "rc": OK,
        "rco": OK,
        "fp_owner": OK,
        # WFP does not contribute to the indicator's output.
        "fp_other_agency": 403,
        "fp_other_team": 404,
        "board": 404,
        "admin": OK,
        "outsider": 404,
    },
    "measurement_update": "measurement_record",
    "measurement_submit": "measurement_record",
    "measurement_delete": "measurement_record",
    "measurement_validate": "activity_validate",
    "measurement_return": "activity_validate",
    "framework_sign_off": {
        "rc": OK,
        "rco": 403,
        "fp_owner": 403,
        "fp_other_agency": 403,
        "fp_other_team": 404,
        "board": 404,
        "admin": OK,
        "outsider": 404,
    },
}


def _expected(step: str, role: str) -> Any:
    table = STEPS[step]
    while isinstance(table, str):
        table = STEPS[table]
    return table.get(role, 302)


def _step(world, step: str):
    """Set up a record for the step; return (url, data, check that it happened)."""
    code = world.team.code
    if step == "activity_create":
        before = JointActivity.objects.count()
        return (
            url("activity_create", code=code),
            activity_post(world),
            lambda: JointActivity.objects.count() == before + 1,
        )
    if step.startswith("activity_"):
        status = (
            WorkflowStatus.SUBMITTED
            if step in ("activity_validate", "activity_return")
            else WorkflowStatus.DRAFT
        )
        activity = make_activity(world, status=status)
        action = step.removeprefix("activity_")
        if action == "update":
            return (
                url("activity_edit", code=code, pk=activity.pk),
                activity_post(world, activity, title="A better title"),
                lambda: (
                    JointActivity.objects.get(pk=activity.pk).title == "A better title"
                ),
            )
        if action == "delete":
            return (
                url("activity_delete", code=code, pk=activity.pk),
                {},
                lambda: not JointActivity.objects.filter(pk=activity.pk).exists(),
            )
        outcome = {
            "submit": WorkflowStatus.SUBMITTED,
            "validate": WorkflowStatus.VALIDATED,
            "return": WorkflowStatus.RETURNED,
        }[action]
        return (
            url(f"activity_{action}", code=code, pk=activity.pk),
            {"comment": "Add the 2024 figures."} if action == "return" else {},
            lambda: JointActivity.objects.get(pk=activity.pk).status == outcome,
        )
    if step == "contribution_create":
        activity = make_activity(world)
        return (
            url("contribution_create", code=code, pk=activity.pk),
            contribution_post(world),
            lambda: activity.contributions.count() == 1,
        )
    if step.startswith("contribution_"):
        action = step.removeprefix("contribution_")
        status = (
            WorkflowStatus.SUBMITTED
            if action in ("validate", "return")
            else WorkflowStatus.DRAFT
        )
        contribution = make_contribution(world, status=status)

        def current_status() -> str:
            return Contribution.objects.get(pk=contribution.pk).current_revision.status

        if action == "update":
            return (
                url("contribution_edit", code=code, pk=contribution.pk),
                contribution_post(world, contribution, required="123456"),
                lambda: (
                    Contribution.objects.get(
                        pk=contribution.pk
                    ).current_revision.required
                    == Decimal("123456")
                ),
            )
        if action == "delete":
            return (
                url("contribution_delete", code=code, pk=contribution.pk),
                {},
                lambda: not Contribution.objects.filter(pk=contribution.pk).exists(),
            )
        outcome = {
            "submit": WorkflowStatus.SUBMITTED,
            "validate": WorkflowStatus.VALIDATED,
            "return": WorkflowStatus.RETURNED,
        }[action]
        return (
            url(f"contribution_{action}", code=code, pk=contribution.pk),
            {"comment": "Spent is above available."} if action == "return" else {},
            lambda: current_status() == outcome,
        )
    if step == "measurement_record":
        before = IndicatorMeasurement.objects.count()
        return (
            url("measurement_create", code=code, pk=world.number_indicator.pk),
            measurement_post(world),
            lambda: IndicatorMeasurement.objects.count() == before + 1,
        )
    if step.startswith("measurement_"):
        action = step.removeprefix("measurement_")
        status = (
            WorkflowStatus.SUBMITTED
            if action in ("validate", "return")
            else WorkflowStatus.DRAFT
        )
        measurement = IndicatorMeasurementFactory(
            indicator=world.number_indicator,
            agency=world.undp,
            status=status,
            value=Decimal("250"),
            disaggregation={"sex": {"female": "130", "male": "120"}},
        )
        if action == "update":
            return (
                url("measurement_edit", code=code, pk=measurement.pk),
                measurement_post(world, agency=None, version=measurement.version)
                | {"value": "260", "d_sex_0": "140"},
                lambda: (
                    IndicatorMeasurement.objects.get(pk=measurement.pk).value
                    == Decimal("260")
                ),
            )
        if action == "delete":
            return (
                url("measurement_delete", code=code, pk=measurement.pk),
                {},
                lambda: (
                    not IndicatorMeasurement.objects.filter(pk=measurement.pk).exists()
                ),
            )
        outcome = {
            "submit": WorkflowStatus.SUBMITTED,
            "validate": WorkflowStatus.VALIDATED,
            "return": WorkflowStatus.RETURNED,
        }[action]
        return (
            url(f"measurement_{action}", code=code, pk=measurement.pk),
            {"comment": "Which survey round?"} if action == "return" else {},
            lambda: (
                IndicatorMeasurement.objects.get(pk=measurement.pk).status == outcome
            ),
        )
    assert step == "framework_sign_off"
    draft = FrameworkFactory(
        country_team=world.team, status="draft", start_year=2026, end_year=2030
    )
    return (
        url("framework_sign_off", code=code, pk=draft.pk),
        {},
        lambda: CooperationFramework.objects.get(pk=draft.pk).status == "active",
    )


def _snapshot() -> dict[str, Any]:
    rows = count_rows()
    rows["statuses"] = sorted(JointActivity.objects.values_list("pk", "status"))
    rows["versions"] = sorted(Contribution.objects.values_list("pk", "version"))
    rows["measurements"] = sorted(
        IndicatorMeasurement.objects.values_list("pk", "status", "value")
    )
    rows["frameworks"] = sorted(
        CooperationFramework.objects.values_list("pk", "status")
    )
    return rows


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("role", ROLES)
def test_steps_are_allowed_or_refused_by_role(client, world, step, role):
    address, data, happened = _step(world, step)
    before = _snapshot()
    response = sign_in(client, world, role).post(address, data)
    expected = _expected(step, role)
    if expected == OK:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert happened()
    else:
        assert_refused(response, role, expected)
        assert not happened()
        assert _snapshot() == before


def test_a_focal_point_of_another_agency_cannot_post_a_lead_agency_not_theirs(
    client, world
):
    client.force_login(world.fp_wfp)
    response = client.post(
        url("activity_create", code="SOM"), activity_post(world, agency=world.undp.pk)
    )
    assert response.status_code == 400
    assert response.context["form"].errors["agency"]


# --- the activity list ---------------------------------------------------------------


def _list(client, **params):
    return client.get(url("activity_list", code="SOM"), params)


def _titles(response) -> list[str]:
    return [a.title for a in response.context["page"].object_list]


def test_activity_list_shows_status_badges_and_links(client, world):
    activity = make_activity(world, title="Cash for nutrition", status="submitted")
    client.force_login(world.rco)
    html = _list(client).content.decode()
    assert "Cash for nutrition" in html
    assert activity.get_absolute_url() in html
    assert 'class="badge badge--submitted"' in html
    assert "Log a joint activity" not in html


def test_activity_list_offers_logging_to_focal_points(client, world):
    client.force_login(world.fp_wfp)
    html = _list(client).content.decode()
    assert url("activity_create", code="SOM") in html
    assert "/teams/SOM/import/" in html


def test_activity_list_empty_state_invites_focal_points(client, world):
    client.force_login(world.fp_undp)
    html = _list(client).content.decode()
    assert "No joint activity is logged yet" in html
    assert 'role="search"' not in html
    assert "Log the first joint activity" in html
    client.force_login(world.rco)
    html = _list(client).content.decode()
    assert "Log the first joint activity" not in html


def test_activity_list_searches_titles_and_descriptions(client, world):
    make_activity(world, title="Cash for nutrition")
    make_activity(world, title="Schools", description="Includes nutrition kits")
    make_activity(world, title="Elections")
    client.force_login(world.rco)
    assert sorted(_titles(_list(client, q="nutrition"))) == [
        "Cash for nutrition",
        "Schools",
    ]
    html = _list(client, q="zzz").content.decode()
    assert "No joint activity matches these filters" in html


def test_activity_list_filters_by_each_field(client, world):
    other_output = world.output_wfp
    tagged = make_activity(
        world,
        title="Tagged",
        status="validated",
        agency=world.wfp,
        agencies=[world.wfp, world.unicef],
        outputs=[other_output],
        sdg_targets=[SdgTargetFactory(code="2.1", goal__number=2)],
        start_date=datetime.date(world.framework.start_year + 1, 1, 1),
        end_date=datetime.date(world.framework.start_year + 1, 12, 31),
    )
    tagged.common_chapter_areas.set([world.area])
    make_activity(world, title="Plain")
    client.force_login(world.rc)
    checks = {
        "framework": world.framework.pk,
        "outcome": other_output.outcome_id,
        "output": other_output.pk,
        "agency": world.wfp.pk,
        "status": "validated",
        "sdg_goal": 2,
        "area": world.area.pk,
    }
    for name, value in checks.items():
        titles = _titles(_list(client, **{name: value}))
        expected = (
            ["Plain", "Tagged"] if name in ("framework", "outcome") else ["Tagged"]
        )
        assert sorted(titles) == expected, name
    in_year = _list(client, year=world.framework.start_year + 1)
    assert sorted(_titles(in_year)) == ["Plain", "Tagged"]
    assert _titles(_list(client, year=world.framework.start_year + 2)) == []


def test_activity_list_agency_filter_includes_partners(client, world):
    make_activity(world, title="UNICEF partner")
    client.force_login(world.rc)
    assert _titles(_list(client, agency=world.unicef.pk)) == ["UNICEF partner"]


def test_activity_list_ignores_malformed_filters_and_foreign_ids(client, world):
    make_activity(world, title="Ours")
    client.force_login(world.rc)
    assert _titles(_list(client, year="soon", status="bogus", sort="x")) == ["Ours"]
    assert _titles(_list(client, framework=world.other_framework.pk)) == []


def test_activity_list_never_shows_another_teams_activities(client, world):
    JointActivityFactory(
        country_team=world.other_team,
        framework=world.other_framework,
        title="Nigerian work",
    )
    client.force_login(world.administrator)
    assert "Nigerian work" not in _list(client).content.decode()


def test_activity_list_sorts(client, world):
    make_activity(
        world,
        title="B",
        status="validated",
        start_date=datetime.date(world.framework.start_year, 5, 1),
    )
    make_activity(
        world,
        title="A",
        status="draft",
        start_date=datetime.date(world.framework.start_year, 9, 1),
    )
    make_activity(
        world,
        title="C",
        status="submitted",
        start_date=datetime.date(world.framework.start_year, 1, 1),
    )
    client.force_login(world.rc)
    assert _titles(_list(client, sort="title")) == ["A", "B", "C"]
    assert _titles(_list(client, sort="-title")) == ["C", "B", "A"]
    assert _titles(_list(client, sort="start")) == ["C", "B", "A"]
    assert _titles(_list(client, sort="-start")) == ["A", "B", "C"]
    assert _titles(_list(client, sort="status")) == ["A", "C", "B"]
    assert _titles(_list(client, sort="-updated")) == ["C", "A", "B"]
    html = _list(client, sort="title").content.decode()
    assert 'aria-sort="ascending"' in html


def test_activity_list_paginates_keeping_the_filters(client, world):
    for number in range(30):
        make_activity(world, title=f"Activity {number:02d}")
    client.force_login(world.rc)
    first = _list(client, sort="title", q="Activity")
    assert len(first.context["page"].object_list) == 25
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?sort=title&amp;q=Activity&amp;page=2"' in html
    second = _list(client, sort="title", q="Activity", page=2)
    assert _titles(second) == [f"Activity {n}" for n in range(25, 30)]
    assert _titles(_list(client, sort="title", page=99)) == _titles(second)


def test_activity_list_answers_htmx_with_the_table_only(client, world):
    make_activity(world, title="Cash for nutrition")
    client.force_login(world.rc)
    response = client.get(
        url("activity_list", code="SOM"), {"q": "cash"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "Cash for nutrition" in html
    assert 'id="activity-count" hx-swap-oob="innerHTML"' in html
    assert "1 joint activity matches these filters" in html


def test_activity_list_filters_form_updates_in_place(client, world):
    make_activity(world)
    client.force_login(world.rc)
    html = _list(client).content.decode()
    assert 'hx-get="/teams/SOM/activities/"' in html
    assert 'hx-push-url="true"' in html
    assert 'hx-target="#activity-results"' in html


def _grow(world, rows: int) -> None:
    for _ in range(rows):
        activity = make_activity(world)
        make_contribution(world, activity=activity)


# 2 session and user, 1 team, 1 roles, 6 filter options, 1 count, 1 page,
# 3 prefetches (agencies, outputs, SDG targets).
@pytest.mark.parametrize("rows", [1, 10])
def test_activity_list_queries_do_not_grow(
    client, world, rows, django_assert_num_queries
):
    _grow(world, rows)
    client.force_login(world.fp_undp)
    with django_assert_num_queries(15):
        response = _list(client, sort="title")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows


# The same without the filter options.
@pytest.mark.parametrize("rows", [1, 10])
def test_activity_list_htmx_queries_do_not_grow(
    client, world, rows, django_assert_num_queries
):
    _grow(world, rows)
    client.force_login(world.rco)
    with django_assert_num_queries(9):
        response = client.get(
            url("activity_list", code="SOM"),
            {"agency": world.undp.pk, "q": "Joint"},
            headers={"HX-Request": "true"},
        )
    assert len(response.context["page"].object_list) == rows


# --- the activity form ------------------------------------------------------------


def test_create_activity_saves_a_draft_and_goes_to_it(client, world):
    client.force_login(world.fp_undp)
    response = client.post(url("activity_create", code="SOM"), activity_post(world))
    activity = JointActivity.objects.get()
    assert response.url == activity.get_absolute_url()
    assert activity.status == WorkflowStatus.DRAFT
    assert activity.created_by == world.fp_undp
    assert {a.code for a in activity.agencies.all()} == {"UNDP", "UNICEF"}
    assert activity.target_groups == ["women_girls", "youth"]
    assert list(activity.locations.all()) == [world.region]
    assert activity.gender_marker == 3


def test_create_activity_form_limits_choices_to_the_team(client, world):
    client.force_login(world.fp_undp)
    form = client.get(url("activity_create", code="SOM")).context["form"]
    assert list(form.fields["agency"].queryset) == [world.undp]
    assert world.fao not in form.fields["agencies"].queryset
    outputs = {
        pk for _group, options in form.fields["outputs"].choices for pk, _ in options
    }
    assert world.output.pk in outputs
    assert world.other_output.pk not in outputs
    assert [pk for pk, _name in form.fields["locations"].choices] == [world.region.pk]
    assert list(form.fields["joint_programme"].queryset) == [world.programme]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "This field is required."),
        ({"agencies": [None]}, "agencies", "two or more agencies"),
        ({"agencies": ["x"]}, "agencies", "is not a valid value"),
        ({"end_date": "2000-01-01"}, "end_date", "before the start date"),
        ({"start_date": "31/02/2024"}, "start_date", "valid date"),
        ({"outputs": []}, "outputs", "required"),
        ({"gender_marker": "7"}, "gender_marker", "valid choice"),
        ({"target_groups": ["aliens"]}, "target_groups", "valid choice"),
        ({"locations": ["999999"]}, "locations", "valid choice"),
    ],
)
def test_create_activity_reports_bad_input_on_its_field(
    client, world, overrides, field, message
):
    client.force_login(world.fp_undp)
    data = activity_post(world, **overrides)
    if overrides.get("agencies") == [None]:
        data["agencies"] = [world.undp.pk]
    response = client.post(url("activity_create", code="SOM"), data)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert JointActivity.objects.count() == 0
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html


def test_create_activity_needs_the_lead_agency_ticked(client, world):
    client.force_login(world.fp_undp)
    data = activity_post(world, agencies=[world.unicef.pk, world.wfp.pk])
    response = client.post(url("activity_create", code="SOM"), data)
    assert "Tick the lead agency (UNDP)" in str(response.context["form"].errors)
    assert JointActivity.objects.count() == 0


def test_create_activity_refuses_more_than_ten_sdg_targets(client, world):
    targets = [SdgTargetFactory(code=f"9.{n}") for n in range(11)]
    client.force_login(world.fp_undp)
    data = activity_post(world, sdg_targets=[t.pk for t in targets])
    response = client.post(url("activity_create", code="SOM"), data)
    assert "at most 10 SDG targets" in str(response.context["form"].errors)
    assert JointActivity.objects.count() == 0


def test_create_activity_without_an_active_framework_explains_why(client, world):
    world.framework.status = "closed"
    world.framework.save()
    client.force_login(world.fp_undp)
    response = client.get(url("activity_create", code="SOM"))
    assert "no framework in force" in response.content.decode()
    response = client.post(url("activity_create", code="SOM"), activity_post(world))
    assert response.status_code == 400
    assert JointActivity.objects.count() == 0


def test_edit_activity_shows_the_saved_values(client, world):
    activity = make_activity(world, title="Saved title")
    client.force_login(world.fp_undp)
    response = client.get(url("activity_edit", code="SOM", pk=activity.pk))
    form = response.context["form"]
    assert form.initial["title"] == "Saved title"
    assert form.initial["version"] == activity.version
    assert form.fields["agency"].disabled
    html = response.content.decode()
    assert f'name="version" value="{activity.version}"' in html


def test_edit_validated_activity_warns_it_starts_a_new_revision(client, world):
    activity = make_activity(world, status="validated")
    client.force_login(world.fp_undp)
    html = client.get(url("activity_edit", code="SOM", pk=activity.pk)).content
    assert "starts revision 2" in html.decode()


def test_edit_activity_keeps_the_import_reference(client, world):
    activity = make_activity(world, external_ref="ROW-7")
    client.force_login(world.fp_undp)
    client.post(
        url("activity_edit", code="SOM", pk=activity.pk),
        activity_post(world, activity, title="New"),
    )
    activity.refresh_from_db()
    assert (activity.title, activity.external_ref) == ("New", "ROW-7")


def test_stale_activity_edit_is_refused_with_what_changed(client, world):
    activity = make_activity(world, title="First title")
    client.force_login(world.fp_undp)
    stale = activity_post(world, activity, title="My title")
    update_activity(
        actor=world.fp_undp_2,
        activity=activity,
        data=activity_data(world, title="Their title"),
        expected_version=activity.version,
    )
    response = client.post(url("activity_edit", code="SOM", pk=activity.pk), stale)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved: someone else changed this record" in html
    assert "Their title" in html
    assert "My title" in html
    activity.refresh_from_db()
    assert activity.title == "Their title"
    assert response.context["form"].initial["title"] == "Their title"
    assert response.context["form"].initial["version"] == activity.version


def test_activity_edit_of_a_submitted_activity_is_forbidden(client, world):
    activity = make_activity(world, status="submitted")
    client.force_login(world.fp_undp)
    response = client.post(
        url("activity_edit", code="SOM", pk=activity.pk),
        activity_post(world, activity, title="Sneaky"),
    )
    assert response.status_code == 403
    activity.refresh_from_db()
    assert activity.title != "Sneaky"


def test_activity_check_reports_only_the_touched_fields(client, world):
    client.force_login(world.fp_undp)
    data = activity_post(world, title="", end_date="2000-01-01")
    data["_touched"] = ["end_date"]
    response = client.post(url("activity_check", code="SOM"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_end_date_error" hx-swap-oob="true"' in html
    assert "before the start date" in html
    assert "id_title_error" not in html
    assert JointActivity.objects.count() == 0


def test_activity_check_without_touched_fields_checks_them_all(client, world):
    client.force_login(world.fp_undp)
    response = client.post(url("activity_check", code="SOM"), {"title": ""})
    html = response.content.decode()
    assert 'id="id_title_error"' in html
    assert 'id="id_outputs_error"' in html
    assert 'id="id_version_error"' not in html


def test_activity_check_of_an_edit_uses_the_activity(client, world):
    activity = make_activity(world)
    client.force_login(world.fp_undp)
    data = activity_post(world, activity) | {"_touched": ["agencies"]}
    data["agencies"] = [world.unicef.pk, world.wfp.pk]
    response = client.post(url("activity_edit_check", code="SOM", pk=activity.pk), data)
    assert "Tick the lead agency (UNDP)" in response.content.decode()


@pytest.mark.parametrize(("role", "status"), [("rc", 403), ("outsider", 404)])
def test_activity_check_is_refused_like_the_form(client, world, role, status):
    sign_in(client, world, role)
    response = client.post(url("activity_check", code="SOM"), {"title": "x"})
    assert response.status_code == status


def test_activity_form_posts_changes_to_the_check(client, world):
    client.force_login(world.fp_undp)
    html = client.get(url("activity_create", code="SOM")).content.decode()
    assert f'hx-post="{url("activity_check", code="SOM")}"' in html
    assert 'hx-trigger="change"' in html
    assert "<legend" in html
    assert 'aria-describedby="id_agencies_helptext id_agencies_error"' in html


# --- the activity page --------------------------------------------------------------


def test_activity_detail_shows_everything_about_it(client, world):
    activity = make_activity(
        world,
        title="Safe schools",
        description="Latrines and water points.",
        joint_programme=world.programme,
    )
    activity.common_chapter_areas.set([world.area])
    contribution = make_contribution(
        world,
        activity=activity,
        status="validated",
        required=Decimal("1000"),
        available=Decimal("800"),
    )
    update_contribution(
        actor=world.fp_undp,
        contribution=contribution,
        figures=figures_data(world, required=Decimal("1500"), available=Decimal("900")),
        expected_version=contribution.version,
    )
    client.force_login(world.rco)
    html = client.get(activity.get_absolute_url()).content.decode()
    assert "Safe schools" in html
    assert "Latrines and water points." in html
    assert world.programme.title in html
    assert "Gender equality" in html
    assert "Banaadir" in html
    assert "Women and girls" in html
    # Current figures (revision 2) and, separately, the validated ones in force.
    assert "Current (revision 2)" in html
    assert "Revision 1 validated, in force" in html
    assert "1,500" in html
    assert "600" in html  # funding gap 1500 - 900
    assert "200" in html  # validated gap 1000 - 800
    assert "Spotlight Initiative" in html
    assert "CHILDREN-VACC" in html


def test_activity_detail_quality_panel_shows_errors_and_warnings(client, world):
    activity = make_activity(world, sdg_targets=[], locations=[], target_groups=[])
    client.force_login(world.fp_undp)
    html = client.get(activity.get_absolute_url()).content.decode()
    assert 'class="issue issue--error"' in html
    assert "Tag at least one SDG target." in html
    assert 'class="issue issue--warning"' in html
    assert "No location is selected." in html


def test_activity_detail_shows_steps_by_permission(client, world):
    draft = make_activity(world)
    client.force_login(world.fp_undp)
    html = client.get(draft.get_absolute_url()).content.decode()
    assert url("activity_edit", code="SOM", pk=draft.pk) in html
    assert url("activity_submit", code="SOM", pk=draft.pk) in html
    assert url("activity_delete", code="SOM", pk=draft.pk) in html
    assert url("activity_validate", code="SOM", pk=draft.pk) not in html
    client.force_login(world.rco)
    html = client.get(draft.get_absolute_url()).content.decode()
    assert url("activity_edit", code="SOM", pk=draft.pk) not in html
    assert url("activity_submit", code="SOM", pk=draft.pk) not in html

    submitted = make_activity(world, status="submitted")
    html = client.get(submitted.get_absolute_url()).content.decode()
    assert url("activity_validate", code="SOM", pk=submitted.pk) in html
    assert url("activity_return", code="SOM", pk=submitted.pk) in html
    client.force_login(world.fp_undp)
    html = client.get(submitted.get_absolute_url()).content.decode()
    assert url("activity_edit", code="SOM", pk=submitted.pk) not in html
    assert url("activity_validate", code="SOM", pk=submitted.pk) not in html


def test_administrators_see_only_steps_the_workflow_allows(client, world):
    validated = make_activity(world, status="validated")
    client.force_login(world.administrator)
    html = client.get(validated.get_absolute_url()).content.decode()
    assert url("activity_edit", code="SOM", pk=validated.pk) in html
    assert url("activity_submit", code="SOM", pk=validated.pk) not in html
    assert url("activity_delete", code="SOM", pk=validated.pk) not in html
    assert url("activity_validate", code="SOM", pk=validated.pk) not in html


def test_submit_with_blocking_issues_shows_them_and_changes_nothing(client, world):
    activity = make_activity(world, sdg_targets=[])
    client.force_login(world.fp_undp)
    response = client.post(url("activity_submit", code="SOM", pk=activity.pk))
    assert response.status_code == 400
    html = response.content.decode()
    assert "The activity could not be submitted" in html
    assert "Tag at least one SDG target." in html
    activity.refresh_from_db()
    assert activity.status == WorkflowStatus.DRAFT


def test_submit_contribution_with_blocking_issues_names_it(client, world):
    contribution = make_contribution(
        world, spent=Decimal("900"), available=Decimal("800")
    )
    client.force_login(world.fp_undp)
    response = client.post(url("contribution_submit", code="SOM", pk=contribution.pk))
    assert response.status_code == 400
    html = response.content.decode()
    assert f"The UNDP contribution for {world.year} could not be submitted" in html
    assert "is more than available" in html
    contribution.refresh_from_db()
    assert contribution.current_revision.status == WorkflowStatus.DRAFT


def test_return_needs_a_comment(client, world):
    activity = make_activity(world, status="submitted")
    client.force_login(world.rco)
    response = client.post(
        url("activity_return", code="SOM", pk=activity.pk), {"comment": "   "}
    )
    assert response.status_code == 400
    assert response.context["return_form"].errors["comment"]
    assert '<details class="step-dialog" open>' in response.content.decode()
    activity.refresh_from_db()
    assert activity.status == WorkflowStatus.SUBMITTED


def test_returned_activity_shows_the_comment_to_its_agency(client, world):
    activity = make_activity(world, status="submitted")
    client.force_login(world.rco)
    client.post(
        url("activity_return", code="SOM", pk=activity.pk),
        {"comment": "Add the Baidoa figures."},
    )
    client.force_login(world.fp_undp)
    html = client.get(activity.get_absolute_url()).content.decode()
    assert "Returned by" in html
    assert "Add the Baidoa figures." in html
    assert url("activity_submit", code="SOM", pk=activity.pk) in html


def test_a_refused_workflow_step_says_why(client, world):
    activity = make_activity(world, status="validated")
    client.force_login(world.administrator)
    response = client.post(
        url("activity_delete", code="SOM", pk=activity.pk), follow=True
    )
    assert "Only drafts that were never validated can be deleted." in (
        response.content.decode()
    )
    assert JointActivity.objects.filter(pk=activity.pk).exists()


def test_timeline_reads_who_when_what_and_changes(client, world):
    activity = make_activity(world, title="Old title")
    update_activity(
        actor=world.fp_undp,
        activity=activity,
        data=activity_data(world, title="New title", gender_marker=2),
        expected_version=activity.version,
    )
    client.force_login(world.rco)
    response = client.get(activity.get_absolute_url())
    html = response.content.decode()
    assert str(world.fp_undp) in html
    assert "Edited" in html
    assert "Title" in html
    assert 'class="change-list__old">Old title<' in html
    assert 'class="change-list__new">New title<' in html
    assert "2 — gender equality is a significant objective" in html


def test_activity_detail_links_contributions_for_partners(client, world):
    activity = make_activity(world)
    client.force_login(world.fp_unicef)
    html = client.get(activity.get_absolute_url()).content.decode()
    assert url("contribution_create", code="SOM", pk=activity.pk) in html
    client.force_login(world.rco)
    html = client.get(activity.get_absolute_url()).content.decode()
    assert url("contribution_create", code="SOM", pk=activity.pk) not in html


# 2 session and user, 1 team, 1 roles, 1 activity, 6 prefetches (agencies,
# outputs, indicators, SDG targets, areas, locations), 1 contributions,
# 2 results (current and validated), 1 timeline.
@pytest.mark.parametrize("rows", [1, 10])
def test_activity_detail_queries_do_not_grow(
    client, world, rows, django_assert_num_queries
):
    activity = make_activity(world)
    for year in range(rows):
        make_contribution(
            world, activity=activity, year=2000 + year, status="validated"
        )
    client.force_login(world.fp_undp)
    with django_assert_num_queries(15):
        response = client.get(activity.get_absolute_url())
    assert len(response.context["contributions"]) == rows


# --- contributions ----------------------------------------------------------------


def test_create_contribution_saves_figures_and_breakdowns(client, world):
    activity = make_activity(world)
    client.force_login(world.fp_undp)
    response = client.post(
        url("contribution_create", code="SOM", pk=activity.pk),
        contribution_post(world),
    )
    contribution = Contribution.objects.get()
    assert response.url.endswith(f"#contribution-{contribution.pk}")
    revision = contribution.current_revision
    assert (revision.required, revision.available, revision.spent) == (
        Decimal("100000"),
        Decimal("80000"),
        Decimal("50000"),
    )
    assert revision.reach == 1200
    results = {r.indicator.code: r for r in revision.results.all()}
    assert results["CHILDREN-VACC"].value == Decimal("100")
    assert results["CHILDREN-VACC"].disaggregation == {
        "sex": {"female": "60", "male": "40"}
    }
    assert results["SCHOOL-PCT"].numerator == Decimal("45")
    assert results["SCHOOL-PCT"].denominator == Decimal("60")
    assert "POLICY-ADOPTED" not in results


def test_contribution_form_offers_inputs_per_indicator_and_dimension(client, world):
    activity = make_activity(world)
    client.force_login(world.fp_undp)
    response = client.get(url("contribution_create", code="SOM", pk=activity.pk))
    form = response.context["form"]
    assert list(form.fields["agency"].queryset) == [world.undp]
    assert [c for c, _ in form.fields["year"].choices] == list(world.framework.years)
    html = response.content.decode()
    assert "Female" in html
    assert "Numerator" in html
    assert "Denominator" in html
    rows = {row.indicator.code: row for row in form.result_inputs}
    assert [b.dimension for b in rows["CHILDREN-VACC"].breakdowns] == ["sex"]
    assert rows["POLICY-ADOPTED"].fields[0].field.choices[1][1] == "Yes"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"required": "-5"}, "required", "greater than or equal to 0"),
        ({"available": "lots"}, "available", "Enter a number"),
        ({"reach": "-1"}, "reach", "greater than or equal to 0"),
        ({"year": "1999"}, "year", "valid choice"),
        ({"agency": "999999"}, "agency", "valid choice"),
    ],
)
def test_create_contribution_reports_bad_input_on_its_field(
    client, world, overrides, field, message
):
    activity = make_activity(world)
    client.force_login(world.fp_undp)
    response = client.post(
        url("contribution_create", code="SOM", pk=activity.pk),
        contribution_post(world, **overrides),
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert Contribution.objects.count() == 0


def test_create_contribution_reports_a_bad_denominator_and_breakdown(client, world):
    activity = make_activity(world)
    client.force_login(world.fp_undp)
    number = world.number_indicator.pk
    percentage = world.percentage_indicator.pk
    response = client.post(
        url("contribution_create", code="SOM", pk=activity.pk),
        contribution_post(
            world,
            **{f"r{percentage}_denominator": "0", f"r{number}_d_sex_0": "-3"},
        ),
    )
    errors = response.context["form"].errors
    assert "above zero" in str(errors[f"r{percentage}_denominator"])
    assert "greater than or equal to 0" in str(errors[f"r{number}_d_sex_0"])
    assert Contribution.objects.count() == 0


def test_create_contribution_for_a_year_already_recorded_says_so(client, world):
    contribution = make_contribution(world)
    client.force_login(world.fp_undp)
    response = client.post(
        url("contribution_create", code="SOM", pk=contribution.activity_id),
        contribution_post(world),
    )
    assert response.status_code == 400
    assert "already has a contribution" in str(response.context["form"].errors["year"])
    assert Contribution.objects.count() == 1


def test_edit_contribution_shows_saved_results(client, world):
    contribution = make_contribution(world)
    client.force_login(world.fp_undp)
    client.post(
        url("contribution_edit", code="SOM", pk=contribution.pk),
        contribution_post(world, contribution),
    )
    response = client.get(url("contribution_edit", code="SOM", pk=contribution.pk))
    form = response.context["form"]
    number = world.number_indicator.pk
    assert form.initial[f"r{number}_value"] == Decimal("100")
    assert form.initial[f"r{number}_d_sex_0"] == "60"


def test_edit_validated_contribution_explains_figures_stay_in_force(client, world):
    contribution = make_contribution(world, status="validated")
    client.force_login(world.fp_undp)
    html = client.get(url("contribution_edit", code="SOM", pk=contribution.pk))
    assert "stay in force on every dashboard until this change is validated" in (
        html.content.decode()
    )
    client.post(
        url("contribution_edit", code="SOM", pk=contribution.pk),
        contribution_post(world, contribution, required="5000"),
    )
    contribution.refresh_from_db()
    assert contribution.current_revision.number == 2
    assert contribution.validated_revision.required == Decimal("1000")


def test_edit_contribution_keeps_breakdown_categories_it_does_not_offer(client, world):
    contribution = make_contribution(world)
    update_contribution(
        actor=None,
        contribution=contribution,
        figures=figures_data(
            world,
            results=[
                figures_data(world)
                .results[0]
                .__class__(
                    indicator=world.number_indicator,
                    value=Decimal("10"),
                    disaggregation={"sex": {"female": 4, "male": 4, "other": 2}},
                )
            ],
        ),
        expected_version=contribution.version,
    )
    contribution.refresh_from_db()
    client.force_login(world.fp_undp)
    form = client.get(url("contribution_edit", code="SOM", pk=contribution.pk)).context[
        "form"
    ]
    row = form.result_inputs[0]
    assert [cell.category for cell in row.breakdowns[0].cells] == [
        "female",
        "male",
        "other",
    ]


def test_stale_contribution_edit_is_refused_with_what_changed(client, world):
    contribution = make_contribution(world)
    client.force_login(world.fp_undp)
    stale = contribution_post(world, contribution, required="7777")
    update_contribution(
        actor=world.fp_undp_2,
        contribution=contribution,
        figures=figures_data(world, required=Decimal("5555")),
        expected_version=contribution.version,
    )
    response = client.post(
        url("contribution_edit", code="SOM", pk=contribution.pk), stale
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved: someone else changed this record" in html
    assert "5555" in html
    assert "7777" in html
    contribution.refresh_from_db()
    assert contribution.current_revision.required == Decimal("5555")


def test_returned_contribution_shows_comment_on_the_activity_page(client, world):
    contribution = make_contribution(world, status="submitted")
    client.force_login(world.rco)
    client.post(
        url("contribution_return", code="SOM", pk=contribution.pk),
        {"comment": "Spent looks high."},
    )
    client.force_login(world.fp_undp)
    html = client.get(contribution.activity.get_absolute_url()).content.decode()
    assert "Spent looks high." in html
    assert url("contribution_edit", code="SOM", pk=contribution.pk) in html


def test_contribution_return_without_comment_keeps_it_submitted(client, world):
    contribution = make_contribution(world, status="submitted")
    client.force_login(world.rco)
    response = client.post(
        url("contribution_return", code="SOM", pk=contribution.pk), {"comment": ""}
    )
    assert response.status_code == 400
    contribution.refresh_from_db()
    assert contribution.current_revision.status == WorkflowStatus.SUBMITTED


# --- indicators and measurements ---------------------------------------------------


def test_framework_page_links_each_indicator(client, world):
    client.force_login(world.rco)
    html = client.get(world.framework.get_absolute_url()).content.decode()
    assert url("indicator_detail", code="SOM", pk=world.number_indicator.pk) in html
    assert url("indicator_detail", code="SOM", pk=world.outcome_indicator.pk) in html


def test_indicator_detail_lists_measurements_with_status(client, world):
    IndicatorMeasurementFactory(
        indicator=world.number_indicator,
        agency=world.undp,
        year=world.year,
        period_label="Q2",
        value=Decimal("250"),
        status="validated",
    )
    IndicatorMeasurementFactory(
        indicator=world.percentage_indicator, numerator=45, denominator=60
    )
    client.force_login(world.fp_unicef)
    html = client.get(
        url("indicator_detail", code="SOM", pk=world.number_indicator.pk)
    ).content.decode()
    assert f"{world.year} Q2" in html
    assert "250" in html
    assert ">UNDP</span>" in html
    assert "badge--validated" in html
    assert "Record a measurement" in html
    html = client.get(
        url("indicator_detail", code="SOM", pk=world.percentage_indicator.pk)
    ).content.decode()
    assert "75%" in html


def test_indicator_measurement_form_by_role(client, world):
    address = url("indicator_detail", code="SOM", pk=world.number_indicator.pk)
    client.force_login(world.fp_undp)
    form = client.get(address).context["form"]
    assert list(form.fields["agency"].queryset) == [world.undp]
    assert form.fields["agency"].required
    client.force_login(world.rco)
    form = client.get(address).context["form"]
    assert not form.fields["agency"].required
    assert set(form.fields["agency"].queryset) == {world.undp, world.unicef}
    client.force_login(world.fp_wfp)
    response = client.get(address)
    assert response.context["form"] is None
    assert "not listed as contributing" in response.content.decode()


def test_rc_office_records_a_team_wide_measurement(client, world):
    client.force_login(world.rco)
    client.post(
        url("measurement_create", code="SOM", pk=world.number_indicator.pk),
        measurement_post(world, agency=""),
    )
    measurement = IndicatorMeasurement.objects.get()
    assert measurement.agency is None
    assert measurement.disaggregation == {"sex": {"female": "130", "male": "120"}}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"year": "1900"}, "year", "greater than or equal to 1990"),
        ({"year": "1995"}, "year", "far outside the framework period"),
        ({"value": "many"}, "value", "Enter a number"),
        ({"d_sex_0": "-1"}, "d_sex_0", "greater than or equal to 0"),
    ],
)
def test_record_measurement_reports_bad_input(client, world, overrides, field, message):
    client.force_login(world.fp_undp)
    response = client.post(
        url("measurement_create", code="SOM", pk=world.number_indicator.pk),
        measurement_post(world, **overrides),
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert IndicatorMeasurement.objects.count() == 0


def test_stale_measurement_edit_is_refused(client, world):
    measurement = IndicatorMeasurementFactory(
        indicator=world.number_indicator, agency=world.undp, value=Decimal("10")
    )
    client.force_login(world.fp_undp)
    stale = measurement_post(world, agency=None, version=measurement.version) | {
        "value": "11"
    }
    IndicatorMeasurement.objects.filter(pk=measurement.pk).update(
        value=Decimal("12"), version=measurement.version + 1
    )
    response = client.post(
        url("measurement_edit", code="SOM", pk=measurement.pk), stale
    )
    assert response.status_code == 409
    assert "Not saved" in response.content.decode()
    measurement.refresh_from_db()
    assert measurement.value == Decimal("12")


def test_edit_validated_measurement_keeps_it_in_force(client, world):
    measurement = IndicatorMeasurementFactory(
        indicator=world.number_indicator,
        agency=world.undp,
        status="validated",
        disaggregation={"sex": {"female": "130", "male": "120"}},
        value=Decimal("250"),
    )
    client.force_login(world.fp_undp)
    address = url("measurement_edit", code="SOM", pk=measurement.pk)
    assert "stays in force" in client.get(address).content.decode()
    client.post(
        address,
        measurement_post(world, agency=None, version=measurement.version)
        | {"value": "300", "d_sex_0": "180"},
    )
    measurement.refresh_from_db()
    assert measurement.status == WorkflowStatus.VALIDATED
    assert measurement.value == Decimal("250")
    assert measurement.superseded_by.value == Decimal("300")


# --- framework sign-off ---------------------------------------------------------------


def test_only_the_rc_sees_the_sign_off_button(client, world):
    draft = FrameworkFactory(
        country_team=world.team, status="draft", start_year=2026, end_year=2030
    )
    sign_off = url("framework_sign_off", code="SOM", pk=draft.pk)
    client.force_login(world.rc)
    assert sign_off in client.get(draft.get_absolute_url()).content.decode()
    for user in (world.rco, world.fp_undp):
        client.force_login(user)
        assert sign_off not in client.get(draft.get_absolute_url()).content.decode()
    client.force_login(world.rc)
    active_url = url("framework_sign_off", code="SOM", pk=world.framework.pk)
    assert (
        active_url
        not in client.get(world.framework.get_absolute_url()).content.decode()
    )


def test_sign_off_activates_the_draft_and_closes_the_old_one(client, world):
    draft = FrameworkFactory(
        country_team=world.team, status="draft", start_year=2026, end_year=2030
    )
    client.force_login(world.rc)
    response = client.post(url("framework_sign_off", code="SOM", pk=draft.pk))
    assert response.url == draft.get_absolute_url()
    draft.refresh_from_db()
    world.framework.refresh_from_db()
    assert (draft.status, draft.signed_off_by) == ("active", world.rc)
    assert world.framework.status == "closed"


def test_signing_off_an_active_framework_says_why_not(client, world):
    client.force_login(world.rc)
    response = client.post(
        url("framework_sign_off", code="SOM", pk=world.framework.pk), follow=True
    )
    assert "Only a draft framework can be signed off." in response.content.decode()


# --- my work --------------------------------------------------------------------------


def test_my_work_for_a_focal_point_lists_drafts_returned_and_submitted(client, world):
    draft = make_activity(world, title="Draft work")
    returned = make_activity(world, title="Returned work", status="submitted")
    client.force_login(world.rco)
    client.post(
        url("activity_return", code="SOM", pk=returned.pk),
        {"comment": "Needs the Baidoa figures."},
    )
    make_activity(world, title="Waiting work", status="submitted")
    make_contribution(world, activity=draft, status="returned")
    make_activity(
        world, title="WFP work", agency=world.wfp, agencies=[world.wfp, world.undp]
    )
    client.force_login(world.fp_undp)
    response = client.get(url("my_work"))
    work = response.context["work"]
    assert {i.title for i in work.drafts} == {"Draft work"}
    assert {i.title for i in work.returned} == {
        "Returned work",
        f"{world.year} contribution to “Draft work”",
    }
    assert {i.title for i in work.submitted} == {"Waiting work"}
    assert work.to_validate == []
    html = response.content.decode()
    assert "Needs the Baidoa figures." in html
    assert "WFP work" not in html


def test_my_work_for_the_rc_office_lists_submissions_oldest_first(client, world):
    first = make_activity(world, title="First", status="submitted")
    JointActivity.objects.filter(pk=first.pk).update(
        updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    make_activity(world, title="Second", status="submitted")
    make_contribution(world, status="submitted")
    IndicatorMeasurementFactory(indicator=world.number_indicator, status="submitted")
    JointActivityFactory(
        country_team=world.other_team,
        framework=world.other_framework,
        status="submitted",
    )
    client.force_login(world.rco)
    work = client.get(url("my_work")).context["work"]
    assert [i.kind for i in work.to_validate].count("activity") == 2
    assert {i.kind for i in work.to_validate} == {
        "activity",
        "contribution",
        "measurement",
    }
    assert work.to_validate[0].title == "First"
    assert work.drafts == []


def test_my_work_without_a_role_explains_itself(client, world):
    client.force_login(world.board_member)
    html = client.get(url("my_work")).content.decode()
    assert "No work comes to you here" in html


def _grow_desk(world, rows: int) -> None:
    for _ in range(rows):
        activity = make_activity(world, status="submitted")
        make_contribution(world, activity=activity, status="returned")
        make_activity(world, status="draft")
        IndicatorMeasurementFactory(
            indicator=world.number_indicator, agency=world.undp, status="submitted"
        )


# 2 session and user, 1 roles, 3 focal-point reads (activities with their last
# return comment, contributions, measurements).
@pytest.mark.parametrize("rows", [1, 10])
def test_my_work_queries_do_not_grow_for_focal_points(
    client, world, rows, django_assert_num_queries
):
    _grow_desk(world, rows)
    client.force_login(world.fp_undp)
    with django_assert_num_queries(6):
        response = client.get(url("my_work"))
    assert len(response.context["work"].drafts) == rows


# 2 session and user, 1 roles, 3 reads of submissions.
@pytest.mark.parametrize("rows", [1, 10])
def test_my_work_queries_do_not_grow_for_coordinators(
    client, world, rows, django_assert_num_queries
):
    _grow_desk(world, rows)
    client.force_login(world.rco)
    with django_assert_num_queries(6):
        response = client.get(url("my_work"))
    assert len(response.context["work"].to_validate) == 2 * rows


def test_nav_badge_counts_what_needs_the_user(client, world):
    make_activity(world, status="submitted")
    make_contribution(world, status="returned")
    client.force_login(world.rco)
    assert ">1<" in client.get(url("my_work_count")).content.decode()
    client.force_login(world.fp_undp)
    assert ">1<" in client.get(url("my_work_count")).content.decode()
    client.force_login(world.fp_wfp)
    assert "nav-badge" not in client.get(url("my_work_count")).content.decode()


# 2 session and user, 1 roles, 3 counts of submissions, 3 counts of returns.
@pytest.mark.parametrize("rows", [1, 10])
def test_nav_badge_queries_do_not_grow(client, world, rows, django_assert_num_queries):
    _grow_desk(world, rows)
    user = world.fp_undp
    from tests.coordination.factories import MembershipFactory

    MembershipFactory(user=user, country_team=world.other_team, role="rco")
    client.force_login(user)
    with django_assert_num_queries(9):
        client.get(url("my_work_count"))


def test_base_page_loads_the_badge_and_links_my_work(client, world):
    client.force_login(world.rco)
    html = client.get(url("my_work")).content.decode()
    assert f'hx-get="{url("my_work_count")}"' in html
    assert 'aria-current="page">My work' in html


# 2 session and user, 1 team, 1 roles, 1 indicator, 1 measurements, 1 whether
# the user's agency reports on it, 1 regions, 2 agency choices (Django reads a
# select's first choice to decide on `required`, then all of them).
@pytest.mark.parametrize("rows", [1, 10])
def test_indicator_detail_queries_do_not_grow(
    client, world, rows, django_assert_num_queries
):
    for year in range(rows):
        IndicatorMeasurementFactory(
            indicator=world.number_indicator, agency=world.undp, year=2000 + year
        )
    client.force_login(world.fp_undp)
    address = url("indicator_detail", code="SOM", pk=world.number_indicator.pk)
    with django_assert_num_queries(10):
        response = client.get(address)
    assert len(response.context["rows"]) == rows
