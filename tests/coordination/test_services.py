import pytest
from django.core.exceptions import ValidationError

from coordination.models import (
    CountryTeam,
    CrisisContext,
    Membership,
    Region,
    Role,
    TeamAgency,
    User,
)
from coordination.services import (
    create_country_team,
    grant_membership,
    revoke_membership,
    set_user_language,
)
from tests.coordination.factories import (
    MembershipFactory,
    TeamAgencyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (CountryTeam, TeamAgency, Membership)
    }


@pytest.fixture
def team_with_undp(team, undp):
    TeamAgencyFactory(country_team=team, agency=undp)
    return team


# --- create_country_team -----------------------------------------------------------


def test_create_country_team_normalises_codes_and_lists_agencies(undp, unicef):
    team = create_country_team(
        code="som",
        name="Somalia",
        iso_alpha2="so",
        region=Region.AFRICA,
        context=CrisisContext.PROTRACTED_CRISIS,
        agencies=[(undp, True), (unicef, False)],
    )
    team.refresh_from_db()
    assert (team.code, team.iso_alpha2) == ("SOM", "SO")
    assert team.is_crisis_context
    assert dict(team.team_agencies.values_list("agency__code", "is_resident")) == {
        "UNDP": True,
        "UNICEF": False,
    }


def test_create_country_team_accepts_a_generator_of_agencies(undp):
    team = create_country_team(
        code="KEN",
        name="Kenya",
        iso_alpha2="KE",
        region=Region.AFRICA,
        agencies=((agency, True) for agency in [undp]),
    )
    assert list(team.agencies.all()) == [undp]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "S0M"}, "__all__"),
        ({"code": "SO"}, "__all__"),
        ({"iso_alpha2": "S1"}, "__all__"),
        ({"region": "atlantis"}, "region"),
        ({"context": "war"}, "context"),
        ({"name": ""}, "name"),
    ],
)
def test_create_country_team_rejects_bad_input_and_writes_nothing(changes, field, undp):
    before = row_counts()
    kwargs = {
        "code": "KEN",
        "name": "Kenya",
        "iso_alpha2": "KE",
        "region": Region.AFRICA,
        "agencies": [(undp, True)],
    } | changes
    with pytest.raises(ValidationError) as exc:
        create_country_team(**kwargs)
    assert field in exc.value.message_dict
    assert row_counts() == before


def test_create_country_team_rejects_a_taken_code(team):
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        create_country_team(
            code="som", name="Somalia again", iso_alpha2="SO", region=Region.AFRICA
        )
    assert "code" in exc.value.message_dict
    assert row_counts() == before


def test_create_country_team_rejects_an_agency_listed_twice(undp):
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        create_country_team(
            code="KEN",
            name="Kenya",
            iso_alpha2="KE",
            region=Region.AFRICA,
            agencies=[(undp, True), (undp, False)],
        )
    assert "agencies" in exc.value.message_dict
    assert row_counts() == before


# --- grant_membership --------------------------------------------------------------


def test_grant_membership_makes_a_focal_point_for_a_team_agency(team_with_undp, undp):
    user = UserFactory()
    membership = grant_membership(
        user=user, country_team=team_with_undp, role=Role.FOCAL_POINT, agency=undp
    )
    assert Membership.objects.get(user=user) == membership
    assert (membership.role, membership.agency) == (Role.FOCAL_POINT, undp)


def test_grant_membership_rejects_focal_point_without_agency(team_with_undp):
    user = UserFactory()
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        grant_membership(user=user, country_team=team_with_undp, role=Role.FOCAL_POINT)
    assert "agency" in exc.value.message_dict
    assert row_counts() == before


def test_grant_membership_rejects_agency_outside_the_team(
    team_with_undp, other_team, unicef
):
    # UNICEF is part of another team, not this one.
    TeamAgencyFactory(country_team=other_team, agency=unicef)
    user = UserFactory()
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        grant_membership(
            user=user, country_team=team_with_undp, role=Role.FOCAL_POINT, agency=unicef
        )
    assert "UNICEF" in exc.value.message_dict["agency"][0]
    assert row_counts() == before


@pytest.mark.parametrize("role", [Role.RESIDENT_COORDINATOR, Role.RC_OFFICE])
def test_grant_membership_rejects_agency_on_coordinator_roles(
    role, team_with_undp, undp
):
    user = UserFactory()
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        grant_membership(user=user, country_team=team_with_undp, role=role, agency=undp)
    assert "agency" in exc.value.message_dict
    assert row_counts() == before
    team_with_undp.refresh_from_db()
    assert team_with_undp.resident_coordinator is None


def test_grant_membership_rejects_unknown_role(team):
    user = UserFactory()
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        grant_membership(user=user, country_team=team, role="superhero")
    assert "role" in exc.value.message_dict
    assert row_counts() == before


def test_grant_membership_as_rc_sets_the_resident_coordinator(team):
    user = UserFactory()
    grant_membership(user=user, country_team=team, role=Role.RESIDENT_COORDINATOR)
    team.refresh_from_db()
    assert team.resident_coordinator == user


def test_grant_membership_as_rco_leaves_the_resident_coordinator(team):
    grant_membership(user=UserFactory(), country_team=team, role=Role.RC_OFFICE)
    team.refresh_from_db()
    assert team.resident_coordinator is None


def test_grant_membership_refuses_a_second_resident_coordinator(team):
    current = UserFactory()
    grant_membership(user=current, country_team=team, role=Role.RESIDENT_COORDINATOR)
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        grant_membership(
            user=UserFactory(), country_team=team, role=Role.RESIDENT_COORDINATOR
        )
    assert "role" in exc.value.message_dict
    assert row_counts() == before
    team.refresh_from_db()
    assert team.resident_coordinator == current


def test_grant_membership_hands_over_after_revoking_the_old_rc(team):
    old = UserFactory()
    new = UserFactory()
    revoke_membership(
        membership=grant_membership(
            user=old, country_team=team, role=Role.RESIDENT_COORDINATOR
        )
    )
    grant_membership(user=new, country_team=team, role=Role.RESIDENT_COORDINATOR)
    team.refresh_from_db()
    assert team.resident_coordinator == new
    assert new.has_perm("coordination.sign_off_countryteam", team)
    assert not old.has_perm("coordination.sign_off_countryteam", team)


@pytest.mark.parametrize(
    ("role", "with_agency"),
    [
        (Role.RESIDENT_COORDINATOR, False),
        (Role.RC_OFFICE, False),
        (Role.FOCAL_POINT, True),
    ],
)
def test_grant_membership_is_idempotent(role, with_agency, team_with_undp, undp):
    user = UserFactory()
    agency = undp if with_agency else None
    first = grant_membership(
        user=user, country_team=team_with_undp, role=role, agency=agency
    )
    again = grant_membership(
        user=user, country_team=team_with_undp, role=role, agency=agency
    )
    assert again.pk == first.pk
    assert Membership.objects.filter(user=user).count() == 1


def test_grant_membership_lets_one_user_represent_two_agencies(
    team_with_undp, undp, unicef
):
    TeamAgencyFactory(country_team=team_with_undp, agency=unicef)
    user = UserFactory()
    for agency in (undp, unicef):
        grant_membership(
            user=user, country_team=team_with_undp, role=Role.FOCAL_POINT, agency=agency
        )
    assert set(user.memberships.values_list("agency__code", flat=True)) == {
        "UNDP",
        "UNICEF",
    }


# --- revoke_membership -------------------------------------------------------------


def test_revoke_membership_removes_the_row_and_keeps_history(team):
    user = UserFactory()
    membership = grant_membership(user=user, country_team=team, role=Role.RC_OFFICE)
    assert user.has_perm("coordination.coordinate_countryteam", team)
    membership_id = membership.pk

    revoke_membership(membership=membership)

    assert not Membership.objects.filter(pk=membership_id).exists()
    assert Membership.history.filter(id=membership_id, history_type="-").exists()
    assert not user.has_perm("coordination.coordinate_countryteam", team)


def test_revoke_membership_of_the_rc_clears_the_resident_coordinator(team):
    user = UserFactory()
    membership = grant_membership(
        user=user, country_team=team, role=Role.RESIDENT_COORDINATOR
    )
    revoke_membership(membership=membership)
    team.refresh_from_db()
    assert team.resident_coordinator is None


def test_revoke_membership_of_another_role_keeps_the_resident_coordinator(team):
    user = UserFactory()
    grant_membership(user=user, country_team=team, role=Role.RESIDENT_COORDINATOR)
    rco = grant_membership(user=user, country_team=team, role=Role.RC_OFFICE)
    revoke_membership(membership=rco)
    team.refresh_from_db()
    assert team.resident_coordinator == user
    assert user.has_perm("coordination.sign_off_countryteam", team)


def test_revoke_membership_keeps_the_users_other_teams(team, other_team):
    user = UserFactory()
    MembershipFactory(user=user, country_team=other_team, role=Role.RC_OFFICE)
    membership = grant_membership(user=user, country_team=team, role=Role.RC_OFFICE)
    revoke_membership(membership=membership)
    assert not user.has_perm("coordination.view_countryteam", team)
    assert user.has_perm("coordination.view_countryteam", other_team)


# --- set_user_language -------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "ar", "zh-hans"])
def test_set_user_language_stores_a_known_language(language):
    user = UserFactory()
    set_user_language(user=user, language=language)
    assert User.objects.get(pk=user.pk).language == language


@pytest.mark.parametrize("language", ["de", "zh", "FR", "en-us"])
def test_set_user_language_rejects_unknown_languages(language):
    user = UserFactory(language="es")
    with pytest.raises(ValidationError) as exc:
        set_user_language(user=user, language=language)
    assert "language" in exc.value.message_dict
    assert User.objects.get(pk=user.pk).language == "es"


def test_set_user_language_does_not_touch_other_fields():
    user = UserFactory(first_name="Old")
    User.objects.filter(pk=user.pk).update(first_name="New")
    set_user_language(user=user, language="ru")
    stored = User.objects.get(pk=user.pk)
    assert (stored.first_name, stored.language) == ("New", "ru")
