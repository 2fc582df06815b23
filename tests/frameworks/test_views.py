from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from frameworks.models import StrategicPriority
from tests.coordination.factories import AgencyFactory, MembershipFactory
from tests.frameworks.factories import (
    FrameworkFactory,
    IndicatorFactory,
    JointProgrammeFactory,
    OutcomeFactory,
    OutputFactory,
    ParticipantFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def framework_url(framework):
    return reverse(
        "frameworks:framework_detail",
        kwargs={"code": framework.country_team.code, "pk": framework.pk},
    )


def programme_url(programme):
    return reverse(
        "frameworks:programme_detail",
        kwargs={"code": programme.country_team.code, "pk": programme.pk},
    )


def grow_framework(framework, rows):
    """Add `rows` outcomes, each fully tagged, with an output and indicators."""
    priority = StrategicPriority.objects.create(
        framework=framework, code="SP1", title="Peace and governance"
    )
    for _ in range(rows):
        agency = AgencyFactory()
        outcome = OutcomeFactory(framework=framework, strategic_priority=priority)
        outcome.sdg_targets.add(SdgTargetFactory())
        outcome.lead_agencies.add(agency)
        IndicatorFactory(output=None, outcome=outcome, framework=framework)
        output = OutputFactory(outcome=outcome)
        output.contributing_agencies.add(agency)
        IndicatorFactory(output=output)


@pytest.fixture
def framework(team):
    return FrameworkFactory(country_team=team, title="Somalia framework")


@pytest.fixture
def programme(team, undp, unicef):
    programme = JointProgrammeFactory(
        country_team=team,
        title="Durable solutions",
        convening_agency=undp,
        gender_marker=2,
    )
    ParticipantFactory(programme=programme, agency=undp, budget_share=Decimal("750000"))
    ParticipantFactory(
        programme=programme, agency=unicef, budget_share=Decimal("250000")
    )
    return programme


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("frameworks:framework_detail", {"code": "SOM", "pk": 1}),
        ("frameworks:programme_list", {"code": "SOM"}),
        ("frameworks:programme_detail", {"code": "SOM", "pk": 1}),
        ("frameworks:sdg_list", {}),
    ],
)
def test_pages_require_login(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


# --- Framework tree -------------------------------------------------------------------


def test_framework_detail_reads_as_a_tree(client, framework, resident_coordinator):
    priority = StrategicPriority.objects.create(
        framework=framework, code="SP1", title="Peace and governance"
    )
    undp = AgencyFactory(code="UNDP")
    wfp = AgencyFactory(code="WFP")
    outcome = OutcomeFactory(
        framework=framework,
        strategic_priority=priority,
        code="1.1",
        statement="Fewer people face food insecurity.",
        is_collective_outcome=True,
    )
    outcome.sdg_targets.add(SdgTargetFactory(code="2.1"))
    outcome.lead_agencies.add(wfp)
    output = OutputFactory(
        outcome=outcome, code="1.1.1", statement="Households receive transfers."
    )
    output.contributing_agencies.add(undp)
    IndicatorFactory(
        output=output,
        name="Households reached",
        direction="descending",
        baseline_value=Decimal("1500.0000"),
        target_value=Decimal("2000.5000"),
    )
    IndicatorFactory(
        output=output,
        name="Share of women",
        unit="percentage",
        baseline_value=Decimal("24.0000"),
        target_value=Decimal("30.0000"),
    )
    html = login(client, resident_coordinator).get(framework_url(framework))
    html = html.content.decode()
    assert "Peace and governance" in html
    assert "Fewer people face food insecurity." in html
    assert "Collective outcome" in html
    assert ">2.1</a>" in html
    assert ">WFP</span>" in html
    assert "Households receive transfers." in html
    assert ">UNDP</span>" in html
    assert "Households reached" in html
    assert '1,500 <span class="muted small">(2020)</span>' in html
    assert '2,000.50 <span class="muted small">(2025)</span>' in html
    assert "Lower is better" in html
    assert "24% <span" in html
    assert "30% <span" in html
    assert "1 strategic priority" in html
    assert "2 indicators" in html


def test_framework_detail_groups_outcomes_without_a_priority(
    client, framework, resident_coordinator
):
    OutcomeFactory(framework=framework, statement="A loose outcome.")
    html = login(client, resident_coordinator).get(framework_url(framework))
    html = html.content.decode()
    assert "Outcomes without a strategic priority" in html
    assert "A loose outcome." in html
    assert "No output under this outcome yet." in html


def test_framework_detail_of_an_empty_draft_explains_itself(
    client, team, resident_coordinator
):
    draft = FrameworkFactory(country_team=team, status="draft")
    html = login(client, resident_coordinator).get(framework_url(draft))
    html = html.content.decode()
    assert "This framework is still empty" in html
    assert "awaiting the Resident Coordinator" in html


@pytest.mark.parametrize(
    "user_fixture", ["rco_officer", "focal_point", "administrator"]
)
def test_framework_detail_opens_for_members_and_administrators(
    client, framework, user_fixture, request
):
    user = request.getfixturevalue(user_fixture)
    assert login(client, user).get(framework_url(framework)).status_code == 200


@pytest.mark.parametrize("user_fixture", ["outsider", "board_member"])
def test_framework_detail_is_not_found_for_non_members(
    client, framework, user_fixture, request
):
    user = request.getfixturevalue(user_fixture)
    assert login(client, user).get(framework_url(framework)).status_code == 404


def test_framework_detail_is_not_found_under_another_teams_code(
    client, framework, other_team
):
    user = MembershipFactory(country_team=other_team).user
    url = reverse(
        "frameworks:framework_detail", kwargs={"code": "NGA", "pk": framework.pk}
    )
    assert login(client, user).get(url).status_code == 404


def test_framework_detail_is_not_found_for_unknown_team_or_framework(
    client, framework, administrator
):
    login(client, administrator)
    unknown_team = reverse(
        "frameworks:framework_detail", kwargs={"code": "XYZ", "pk": framework.pk}
    )
    unknown_pk = reverse(
        "frameworks:framework_detail", kwargs={"code": "SOM", "pk": framework.pk + 1}
    )
    assert client.get(unknown_team).status_code == 404
    assert client.get(unknown_pk).status_code == 404


# 2 session and user, 1 team, 1 roles, 1 framework, 1 priorities, 1 outcomes,
# 2 outcome targets and leads, 1 outcome indicators, 1 outputs, 1 contributing
# agencies, 1 output indicators.
@pytest.mark.parametrize("rows", [1, 10])
def test_framework_detail_queries_do_not_grow(
    client, framework, resident_coordinator, rows, django_assert_num_queries
):
    grow_framework(framework, rows)
    login(client, resident_coordinator)
    with django_assert_num_queries(13):
        response = client.get(framework_url(framework))
    assert response.status_code == 200
    assert response.context["tree"].outcome_count == rows


# --- Joint programmes -----------------------------------------------------------------


def test_programme_list_shows_budget_agencies_and_status(
    client, programme, resident_coordinator
):
    url = reverse("frameworks:programme_list", kwargs={"code": "SOM"})
    html = login(client, resident_coordinator).get(url).content.decode()
    assert "Durable solutions" in html
    assert "Joint SDG Fund" in html
    assert "1,000,000" in html
    assert ">UNICEF</span>" in html
    assert "GEM 2" in html
    assert "Active" in html
    assert programme_url(programme) in html


def test_programme_list_without_programmes_is_an_empty_state(
    client, team, resident_coordinator
):
    url = reverse("frameworks:programme_list", kwargs={"code": "SOM"})
    html = login(client, resident_coordinator).get(url).content.decode()
    assert "No joint programme yet" in html


@pytest.mark.parametrize("user_fixture", ["outsider", "board_member"])
def test_programme_list_is_not_found_for_non_members(
    client, team, user_fixture, request
):
    user = request.getfixturevalue(user_fixture)
    url = reverse("frameworks:programme_list", kwargs={"code": "SOM"})
    assert login(client, user).get(url).status_code == 404


def test_programme_list_is_not_found_for_an_unknown_team(client, administrator):
    url = reverse("frameworks:programme_list", kwargs={"code": "XYZ"})
    assert login(client, administrator).get(url).status_code == 404


# 2 session and user, 1 team, 1 roles, 1 programmes, 1 participants.
@pytest.mark.parametrize("rows", [1, 10])
def test_programme_list_queries_do_not_grow(
    client, team, resident_coordinator, rows, django_assert_num_queries
):
    for _ in range(rows):
        programme = JointProgrammeFactory(country_team=team)
        ParticipantFactory.create_batch(2, programme=programme)
    login(client, resident_coordinator)
    url = reverse("frameworks:programme_list", kwargs={"code": "SOM"})
    with django_assert_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["programmes"]) == rows


def test_programme_detail_shows_shares_outcomes_and_targets(
    client, programme, framework, focal_point
):
    outcome = OutcomeFactory(framework=framework, statement="Durable solutions grow.")
    programme.outcomes.add(outcome)
    programme.sdg_targets.add(SdgTargetFactory(code="1.4"))
    html = login(client, focal_point).get(programme_url(programme)).content.decode()
    assert "Durable solutions" in html
    assert "1,000,000" in html
    assert "750,000" in html
    assert "75%" in html
    assert "25%" in html
    assert "Convening agency" in html
    assert "share-bar" in html
    assert "2 — gender equality is a significant objective" in html
    assert "Durable solutions grow." in html
    assert ">1.4</a>" in html
    assert "Target 1.4" in html


def test_programme_detail_without_links_has_empty_states(
    client, team, resident_coordinator
):
    programme = JointProgrammeFactory(country_team=team)
    html = login(client, resident_coordinator).get(programme_url(programme))
    html = html.content.decode()
    assert "No participating agency is recorded yet." in html
    assert "Not linked to a framework outcome yet." in html
    assert "No SDG target tagged yet." in html


@pytest.mark.parametrize("user_fixture", ["outsider", "board_member"])
def test_programme_detail_is_not_found_for_non_members(
    client, programme, user_fixture, request
):
    user = request.getfixturevalue(user_fixture)
    assert login(client, user).get(programme_url(programme)).status_code == 404


def test_programme_detail_is_not_found_under_another_teams_code(
    client, programme, other_team
):
    user = MembershipFactory(country_team=other_team).user
    url = reverse(
        "frameworks:programme_detail", kwargs={"code": "NGA", "pk": programme.pk}
    )
    assert login(client, user).get(url).status_code == 404


def test_programme_detail_opens_for_administrators(client, programme, administrator):
    assert login(client, administrator).get(programme_url(programme)).status_code == 200


# --- SDGs -----------------------------------------------------------------------------


def test_sdg_list_shows_goals_and_targets(client, outsider):
    goal = SdgGoalFactory(
        number=2,
        titles={"en": "End hunger", "fr": "Éliminer la faim"},
        short_titles={"en": "Zero hunger", "fr": "Faim « zéro »"},
    )
    SdgTargetFactory(goal=goal, code="2.1", titles={"en": "By 2030, end hunger"})
    html = login(client, outsider).get("/sdg/").content.decode()
    assert "Goal 2: Zero hunger" in html
    assert "End hunger" in html
    assert 'id="target-2.1"' in html
    assert "By 2030, end hunger" in html


def test_sdg_list_speaks_the_users_language(client, outsider):
    SdgGoalFactory(
        number=2,
        titles={"en": "End hunger", "fr": "Éliminer la faim"},
        short_titles={"en": "Zero hunger", "fr": "Faim zéro"},
    )
    login(client, outsider)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get("/sdg/").content.decode()
    assert "Éliminer la faim" in html
    assert "End hunger" not in html


def test_sdg_list_without_reference_data_says_how_to_load_it(client, outsider):
    html = login(client, outsider).get("/sdg/").content.decode()
    assert "manage.py load_reference_data" in html


# 2 session and user, 1 goals, 1 targets.
@pytest.mark.parametrize("rows", [1, 10])
def test_sdg_list_queries_do_not_grow(
    client, outsider, rows, django_assert_num_queries
):
    for number in range(1, rows + 1):
        SdgTargetFactory.create_batch(3, goal=SdgGoalFactory(number=number))
    login(client, outsider)
    with django_assert_num_queries(4):
        assert client.get("/sdg/").status_code == 200
