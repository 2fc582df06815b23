import re
from decimal import Decimal

import factory
import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from coordination.models import ApiToken, CrisisContext, Role
from frameworks.models import CommonChapterCommitment
from reporting.services import refresh_team_snapshot
from tests.coordination.factories import (
    AgencyFactory,
    CountryTeamFactory,
    MembershipFactory,
    TeamAgencyFactory,
    UserFactory,
)
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    FrameworkFactory,
    IndicatorFactory,
    JointProgrammeFactory,
    OutcomeFactory,
    OutputFactory,
    ParticipantFactory,
)

pytestmark = pytest.mark.django_db


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommonChapterCommitment

    country_team = factory.SubFactory(CountryTeamFactory)
    area = factory.SubFactory(CommonChapterAreaFactory)
    title = factory.Sequence(lambda n: f"Commitment {n}")
    year = 2023


def fill_team(team, *, rows=1, agency=None):
    """Give a team an active framework, a programme and a snapshot, `rows` deep."""
    agency = agency or AgencyFactory()
    TeamAgencyFactory(country_team=team, agency=agency)
    framework = FrameworkFactory(country_team=team, title=f"{team.name} framework")
    for _ in range(rows):
        output = OutputFactory(outcome__framework=framework)
        output.contributing_agencies.add(agency)
        IndicatorFactory(output=output)
        programme = JointProgrammeFactory(country_team=team, convening_agency=agency)
        ParticipantFactory(
            programme=programme, agency=agency, budget_share=Decimal("300000")
        )
        ParticipantFactory(programme=programme, budget_share=Decimal("700000"))
    refresh_team_snapshot(team_id=team.pk)
    return framework


def login(client, user):
    client.force_login(user)
    return client


# --- Sign-in and sign-out ----------------------------------------------------------


def test_login_page_explains_the_portal(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"unportal" in response.content
    assert b'<label for="id_username">' in response.content


def test_login_lands_on_home_in_the_saved_language(client):
    user = UserFactory(language="fr")
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": settings.DEMO_PASSWORD},
    )
    assert response.status_code == 302
    assert response.url == reverse("reporting:home")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_login_with_a_wrong_password_says_so(client):
    user = UserFactory()
    response = client.post(
        reverse("login"), {"username": user.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert b"alert--error" in response.content


def test_logout_needs_a_post_and_ends_the_session(client, resident_coordinator):
    login(client, resident_coordinator)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get(reverse("reporting:home")).status_code == 302


def test_home_setting_name_resolves_to_the_landing_page():
    assert reverse(settings.LOGIN_REDIRECT_URL) == reverse("reporting:home") == "/"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("reporting:home", {}),
        ("coordination:team_list", {}),
        ("reporting:team_detail", {"code": "SOM"}),
        ("coordination:profile", {}),
        ("password_change", {}),
    ],
)
def test_pages_require_login(client, team, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_language_change_requires_login(client):
    response = client.post(reverse("coordination:set_language"), {"language": "fr"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- Home, one landing per role -------------------------------------------------------


def test_home_for_resident_coordinator_shows_team_card_and_sign_off(
    client, team, resident_coordinator
):
    team.context = CrisisContext.PROTRACTED_CRISIS
    team.save()
    fill_team(team)
    FrameworkFactory(
        country_team=team,
        title="Next framework",
        status="draft",
        start_year=2026,
        end_year=2030,
    )
    refresh_team_snapshot(team_id=team.pk)
    response = login(client, resident_coordinator).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "My country teams" in html
    assert "Somalia" in html
    assert "Protracted crisis" in html
    assert "Somalia framework" in html
    assert "2021\u20132025" in html
    assert "Joint-programme budget (USD)" in html
    assert "1,000,000" in html
    assert "As of" in html
    assert "“Next framework” awaits your sign-off." in html


def test_home_for_rc_office_waits_for_the_coordinators_sign_off(
    client, team, rco_officer
):
    FrameworkFactory(country_team=team, title="Next framework", status="draft")
    html = login(client, rco_officer).get("/").content.decode()
    assert "“Next framework” awaits the Resident Coordinator&#x27;s sign-off." in html


def test_home_for_coordinator_flags_missing_framework_and_figures(
    client, team, rco_officer
):
    html = login(client, rco_officer).get("/").content.decode()
    assert "No Cooperation Framework is in force or in draft." in html
    assert "Headline figures have not been computed yet." in html


def test_home_for_coordinator_with_nothing_pending_says_so(client, team, rco_officer):
    fill_team(team)
    html = login(client, rco_officer).get("/").content.decode()
    assert "Nothing needs your attention right now." in html


def test_home_for_focal_point_shows_outputs_and_programme_shares(
    client, team, undp, focal_point
):
    framework = fill_team(team, agency=undp)
    output = framework.outputs.get()
    html = login(client, focal_point).get("/").content.decode()
    assert "My agency" in html
    assert "UNDP in Somalia" in html
    assert "1 output my agency contributes to" in html
    assert output.code in html
    assert "1 joint programme" in html
    assert "300,000" in html
    assert "30%" in html
    assert "My country teams" not in html


def test_home_for_focal_point_leaves_out_other_agencies_outputs(
    client, team, undp, focal_point
):
    fill_team(team, agency=AgencyFactory(code="WFP"))
    html = login(client, focal_point).get("/").content.decode()
    assert "0 outputs my agency contributes to" in html
    assert "does not take part in a joint programme" in html


def test_home_for_board_member_shows_cross_country_overview(
    client, team, other_team, board_member
):
    fill_team(team)
    fill_team(other_team)
    OutcomeFactory(
        framework=team.frameworks.get(), is_collective_outcome=True, code="CO1"
    )
    html = login(client, board_member).get("/").content.decode()
    assert "Cross-country overview" in html
    assert "Nigeria" in html
    assert "Somalia" in html
    assert "2,000,000" in html
    assert 'href="/teams/SOM/"' not in html
    assert "Administration" not in html


def test_home_for_administrator_shows_counts_and_reference_status(
    client, team, administrator
):
    html = login(client, administrator).get("/").content.decode()
    assert "Administration" in html
    assert "Open the admin site" in html
    assert "Incomplete" in html
    assert "manage.py load_reference_data" in html
    assert 'href="/admin/"' in html


def test_home_without_a_role_explains_how_to_get_access(client, outsider):
    html = login(client, outsider).get("/").content.decode()
    assert "You do not have a role in any country team yet" in html
    assert "My country teams" not in html


# 2 session and user, 1 memberships, 1 cards, 2 framework prefetches,
# 3 counts of submissions awaiting validation, 1 roles for the sign-off check,
# 2 model permissions (board, admin).
@pytest.mark.parametrize("rows", [1, 10])
def test_home_queries_do_not_grow_for_coordinators(
    client, rows, django_assert_num_queries
):
    user = UserFactory()
    for _ in range(rows):
        team = CountryTeamFactory()
        fill_team(team)
        FrameworkFactory(country_team=team, status="draft")
        MembershipFactory(user=user, country_team=team, role=Role.RC_OFFICE)
    login(client, user)
    with django_assert_num_queries(12):
        assert client.get("/").status_code == 200


# 2 session and user, 1 memberships, 3 counts of returned records, 1 outputs,
# 1 programme shares, 2 model permissions.
@pytest.mark.parametrize("rows", [1, 10])
def test_home_queries_do_not_grow_for_focal_points(
    client, rows, django_assert_num_queries
):
    user = UserFactory()
    for _ in range(rows):
        team = CountryTeamFactory()
        agency = AgencyFactory()
        fill_team(team, rows=rows, agency=agency)
        MembershipFactory(
            user=user, country_team=team, role=Role.FOCAL_POINT, agency=agency
        )
    login(client, user)
    with django_assert_num_queries(10):
        assert client.get("/").status_code == 200


# 2 session and user, 1 memberships, 1 teams with snapshots, 1 roles for the
# team links, 1 collective outcomes, 2 model permissions (admin).
@pytest.mark.parametrize("rows", [1, 10])
def test_home_queries_do_not_grow_for_board_members(
    client, board_member, rows, django_assert_num_queries
):
    for _ in range(rows):
        fill_team(CountryTeamFactory())
    login(client, board_member)
    with django_assert_num_queries(8):
        assert client.get("/").status_code == 200


# --- Team list ------------------------------------------------------------------------


def test_team_list_shows_only_the_members_teams(
    client, team, other_team, resident_coordinator
):
    html = login(client, resident_coordinator).get("/teams/").content.decode()
    assert "Somalia" in html
    assert "Nigeria" not in html
    assert "Resident Coordinator" in html


def test_team_list_shows_every_team_to_administrators(
    client, team, other_team, administrator
):
    html = login(client, administrator).get("/teams/").content.decode()
    assert "Somalia" in html
    assert "Nigeria" in html


def test_team_list_counts_agencies_and_members_not_only_mine(
    client, team, focal_point, resident_coordinator
):
    TeamAgencyFactory(country_team=team)
    html = login(client, focal_point).get("/teams/").content.decode()
    assert "<dt>Agencies</dt><dd>2</dd>" in html
    assert "<dt>Members</dt><dd>2</dd>" in html
    assert "Agency focal point · UNDP" in html


def test_team_list_for_board_member_points_to_the_overview(client, board_member):
    html = login(client, board_member).get("/teams/").content.decode()
    assert "No country teams to show" in html
    assert "Go to the overview" in html


def test_team_list_without_a_role_is_an_empty_state(client, outsider):
    html = login(client, outsider).get("/teams/").content.decode()
    assert "No country teams to show" in html
    assert "Go to the overview" not in html


# 2 session and user, 1 teams, 1 my memberships, 2 model permissions.
@pytest.mark.parametrize("rows", [1, 10])
def test_team_list_queries_do_not_grow(client, rows, django_assert_num_queries):
    user = UserFactory()
    for _ in range(rows):
        membership = MembershipFactory(user=user)
        TeamAgencyFactory(country_team=membership.country_team)
    login(client, user)
    with django_assert_num_queries(6):
        response = client.get("/teams/")
    assert response.status_code == 200
    assert len(response.context["teams"]) == rows


# --- Team page ------------------------------------------------------------------------


def test_team_detail_shows_agencies_members_frameworks_programmes_commitments(
    client, team, undp, resident_coordinator, focal_point
):
    fill_team(team, agency=undp)
    TeamAgencyFactory(
        country_team=team,
        agency=AgencyFactory(code="IFAD", name="Fund for Agriculture"),
        is_resident=False,
    )
    commitment = CommitmentFactory(country_team=team, title="Back office in Mogadishu")
    commitment.agencies.add(undp)
    html = login(client, resident_coordinator).get("/teams/SOM/").content.decode()
    assert "Resident in the country (1)" in html
    assert "Non-resident (1)" in html
    assert "Fund for Agriculture" in html
    assert str(resident_coordinator) in html
    assert str(focal_point) in html
    assert "RC Office officer" in html
    assert "Nobody yet." in html
    assert "Somalia framework" in html
    assert "Joint programme" in html
    assert "Back office in Mogadishu" in html
    assert "Headline figures of the active framework" in html


def test_team_detail_empty_team_has_helpful_empty_states(
    client, team, resident_coordinator
):
    html = login(client, resident_coordinator).get("/teams/SOM/").content.decode()
    assert "This team has no Cooperation Framework yet." in html
    assert "No joint programme is recorded for this team yet." in html
    assert "No common-chapter commitment is recorded for this team yet." in html
    assert "Headline figures have not been computed yet." in html


@pytest.mark.parametrize("role", ["rc", "rco", "focal_point", "administrator"])
def test_team_detail_opens_for_members_and_administrators(client, team, role, request):
    user = request.getfixturevalue(
        {
            "rc": "resident_coordinator",
            "rco": "rco_officer",
            "focal_point": "focal_point",
            "administrator": "administrator",
        }[role]
    )
    assert login(client, user).get("/teams/SOM/").status_code == 200


@pytest.mark.parametrize("user_fixture", ["outsider", "board_member"])
def test_team_detail_is_not_found_for_non_members(client, team, user_fixture, request):
    user = request.getfixturevalue(user_fixture)
    response = login(client, user).get("/teams/SOM/")
    assert response.status_code == 404
    assert b"We could not find that page" in response.content


def test_team_detail_is_not_found_for_a_member_of_another_team(
    client, team, other_team
):
    user = MembershipFactory(country_team=other_team).user
    assert login(client, user).get("/teams/SOM/").status_code == 404


def test_team_detail_is_not_found_for_an_unknown_code(client, administrator):
    assert login(client, administrator).get("/teams/XYZ/").status_code == 404


# 2 session and user, 1 team, 1 roles, 1 snapshot, 1 agencies, 1 members,
# 1 frameworks, 2 programmes and participants, 2 commitments and their agencies.
@pytest.mark.parametrize("rows", [1, 10])
def test_team_detail_queries_do_not_grow(
    client, team, resident_coordinator, rows, django_assert_num_queries
):
    fill_team(team, rows=rows)
    FrameworkFactory.create_batch(rows, country_team=team, status="closed")
    for _ in range(rows):
        agency = TeamAgencyFactory(country_team=team).agency
        MembershipFactory(country_team=team, role=Role.FOCAL_POINT, agency=agency)
        CommitmentFactory(country_team=team).agencies.add(agency)
    login(client, resident_coordinator)
    with django_assert_num_queries(12):
        assert client.get("/teams/SOM/").status_code == 200


# --- Profile and language -----------------------------------------------------------


def test_profile_lists_memberships_and_language_form(client, team, focal_point):
    html = login(client, focal_point).get("/me/").content.decode()
    assert "My memberships" in html
    assert "Agency focal point" in html
    assert "Somalia" in html
    assert '<label for="id_language">Preferred language</label>' in html
    assert reverse("password_change") in html


def test_profile_without_memberships_says_how_to_get_one(client, outsider):
    html = login(client, outsider).get("/me/").content.decode()
    assert "You hold no membership in a country team." in html


def test_language_form_saves_and_activates_the_language(client, outsider):
    response = login(client, outsider).post(
        reverse("coordination:set_language"), {"language": "fr"}
    )
    assert response.status_code == 302
    assert response.url == reverse("coordination:profile")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    outsider.refresh_from_db()
    assert outsider.language == "fr"
    page = client.get(reverse("coordination:profile"))
    assert page.context["LANGUAGE_CODE"] == "fr"


def test_language_form_returns_to_a_local_next_page(client, outsider):
    response = login(client, outsider).post(
        reverse("coordination:set_language"), {"language": "es", "next": "/teams/"}
    )
    assert response.url == "/teams/"


def test_language_form_ignores_a_next_page_elsewhere(client, outsider):
    response = login(client, outsider).post(
        reverse("coordination:set_language"),
        {"language": "es", "next": "https://example.com/"},
    )
    assert response.url == reverse("coordination:profile")


def test_language_form_rejects_an_unknown_language(client, outsider):
    response = login(client, outsider).post(
        reverse("coordination:set_language"), {"language": "xx"}
    )
    assert response.status_code == 400
    assert b"field__errors" in response.content
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    outsider.refresh_from_db()
    assert outsider.language == ""


def test_language_form_only_accepts_post(client, outsider):
    response = login(client, outsider).get(reverse("coordination:set_language"))
    assert response.status_code == 405


def test_password_change_page_uses_portal_layout(client, outsider):
    html = login(client, outsider).get(reverse("password_change")).content.decode()
    assert "Change my password" in html
    assert '<label for="id_old_password">' in html


# --- API token on the profile page -------------------------------------------------


def shown_token(response) -> str:
    """The key the page shows once, read as the person reads it."""
    match = re.search(r'<code class="token-key">([0-9a-f]{40})</code>', response.text)
    assert match, "the page shows no new token"
    return match.group(1)


def test_profile_creates_an_api_token_shown_once_that_works(client, focal_point):
    client.force_login(focal_point)
    assert "You hold no token." in client.get(reverse("coordination:profile")).text

    response = client.post(reverse("coordination:create_api_token"))

    assert response.status_code == 200
    key = shown_token(response)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/teams/").status_code == 200
    # Shown once: a later visit says a token exists but never prints it.
    later = client.get(reverse("coordination:profile")).text
    assert key not in later
    assert "You hold a token" in later


def test_profile_replacing_the_token_stops_the_old_one(client, focal_point):
    client.force_login(focal_point)
    old = shown_token(client.post(reverse("coordination:create_api_token")))

    new = shown_token(client.post(reverse("coordination:create_api_token")))

    assert new != old
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert api.get("/api/teams/").status_code == 401


def test_profile_revokes_the_api_token(client, focal_point):
    client.force_login(focal_point)
    key = shown_token(client.post(reverse("coordination:create_api_token")))

    response = client.post(reverse("coordination:revoke_api_token"))

    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=focal_point).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/teams/").status_code == 401


@pytest.mark.parametrize("name", ["create_api_token", "revoke_api_token"])
def test_api_token_pages_refuse_get_and_anonymous(client, focal_point, name):
    assert client.post(reverse(f"coordination:{name}")).status_code == 302
    assert not ApiToken.objects.exists()
    client.force_login(focal_point)
    assert client.get(reverse(f"coordination:{name}")).status_code == 405
