import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from coordination.models import (
    Agency,
    CountryTeam,
    CrisisContext,
    Membership,
    Role,
    TeamAgency,
    TeamStatus,
)
from tests.coordination.factories import (
    AgencyFactory,
    CountryTeamFactory,
    MembershipFactory,
    TeamAgencyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- Database invariants -----------------------------------------------------------
# Each row below is written straight to the database, past every form and service,
# so only the constraint itself can refuse it.


@pytest.mark.parametrize("code", ["som", "SO1", "S M", "Som", ""])
def test_country_team_code_must_be_three_capital_letters(code):
    with pytest.raises(IntegrityError), transaction.atomic():
        CountryTeam.objects.create(
            code=code, name="X", iso_alpha2="SO", region="africa"
        )


@pytest.mark.parametrize("iso_alpha2", ["so", "S1", "S", "", "s "])
def test_country_team_iso_alpha2_must_be_two_capital_letters(iso_alpha2):
    with pytest.raises(IntegrityError), transaction.atomic():
        CountryTeam.objects.create(
            code="SOM", name="X", iso_alpha2=iso_alpha2, region="africa"
        )


def test_country_team_code_constraint_also_guards_bulk_updates(team):
    with pytest.raises(IntegrityError), transaction.atomic():
        CountryTeam.objects.filter(pk=team.pk).update(code="so")
    team.refresh_from_db()
    assert team.code == "SOM"


def test_country_team_code_is_unique(team):
    with pytest.raises(IntegrityError), transaction.atomic():
        CountryTeam.objects.create(
            code=team.code, name="Again", iso_alpha2="SO", region="africa"
        )


def test_country_team_accepts_well_formed_codes():
    team = CountryTeam.objects.create(
        code="KEN", name="Kenya", iso_alpha2="KE", region="africa"
    )
    assert CountryTeam.objects.filter(pk=team.pk, code="KEN").exists()


def test_agency_code_is_unique(undp):
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.create(code=undp.code, name="Duplicate")


def test_team_agency_is_listed_once_per_team(team, undp):
    TeamAgency.objects.create(country_team=team, agency=undp)
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamAgency.objects.create(country_team=team, agency=undp, is_resident=False)


def test_membership_is_unique_per_role_and_agency(team, undp):
    user = UserFactory()
    Membership.objects.create(
        user=user, country_team=team, role=Role.FOCAL_POINT, agency=undp
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=user, country_team=team, role=Role.FOCAL_POINT, agency=undp
        )


@pytest.mark.parametrize("role", [Role.RESIDENT_COORDINATOR, Role.RC_OFFICE])
def test_membership_without_agency_is_unique_per_role(team, role):
    # NULL never equals NULL in a plain unique index; the partial one must catch it.
    user = UserFactory()
    Membership.objects.create(user=user, country_team=team, role=role)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.bulk_create(
            [Membership(user=user, country_team=team, role=role)]
        )


def test_membership_allows_several_roles_and_agencies_for_one_user(
    team, other_team, undp, unicef
):
    user = UserFactory()
    Membership.objects.bulk_create(
        [
            Membership(user=user, country_team=team, role=Role.RESIDENT_COORDINATOR),
            Membership(user=user, country_team=team, role=Role.RC_OFFICE),
            Membership(
                user=user, country_team=team, role=Role.FOCAL_POINT, agency=undp
            ),
            Membership(
                user=user, country_team=team, role=Role.FOCAL_POINT, agency=unicef
            ),
            Membership(user=user, country_team=other_team, role=Role.RC_OFFICE),
        ]
    )
    assert Membership.objects.filter(user=user).count() == 5


def test_focal_point_membership_needs_an_agency(team):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=UserFactory(), country_team=team, role=Role.FOCAL_POINT
        )


def test_focal_point_constraint_also_guards_bulk_updates(team):
    membership = MembershipFactory(country_team=team, role=Role.RC_OFFICE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(role=Role.FOCAL_POINT)
    membership.refresh_from_db()
    assert membership.role == Role.RC_OFFICE


# --- QuerySet vocabulary -----------------------------------------------------------


def test_country_team_active_excludes_inactive_teams(team, other_team):
    CountryTeam.objects.filter(pk=other_team.pk).update(status=TeamStatus.INACTIVE)
    assert list(CountryTeam.objects.active()) == [team]


def test_country_team_visible_to_member_lists_only_their_teams_once(team, other_team):
    user = UserFactory()
    MembershipFactory(user=user, country_team=team, role=Role.RESIDENT_COORDINATOR)
    MembershipFactory(user=user, country_team=team, role=Role.RC_OFFICE)
    assert list(CountryTeam.objects.visible_to(user)) == [team]


def test_country_team_visible_to_administrator_lists_every_team(
    team, other_team, administrator
):
    assert set(CountryTeam.objects.visible_to(administrator)) == {team, other_team}


@pytest.mark.parametrize("who", ["anonymous", "outsider", "board_member"])
def test_country_team_visible_to_non_members_is_empty(who, team, request):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    assert not CountryTeam.objects.visible_to(user).exists()


def test_agency_signatories_are_the_common_chapter_agencies(undp, unicef):
    Agency.objects.filter(pk=undp.pk).update(is_common_chapter_signatory=True)
    AgencyFactory(code="WFP")
    assert list(Agency.objects.signatories()) == [undp]


def test_membership_coordinators_and_focal_points_split_by_role(team, undp):
    rc = MembershipFactory(country_team=team, role=Role.RESIDENT_COORDINATOR)
    rco = MembershipFactory(country_team=team, role=Role.RC_OFFICE)
    focal = MembershipFactory(country_team=team, role=Role.FOCAL_POINT, agency=undp)
    assert set(Membership.objects.coordinators()) == {rc, rco}
    assert list(Membership.objects.focal_points()) == [focal]


# --- Model logic -------------------------------------------------------------------


def test_country_team_str_shows_name_and_code(team):
    assert str(team) == "Somalia (SOM)"


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (CrisisContext.DEVELOPMENT, False),
        (CrisisContext.HUMANITARIAN, True),
        (CrisisContext.PROTRACTED_CRISIS, True),
    ],
)
def test_country_team_is_crisis_context(context, expected):
    assert CountryTeamFactory(context=context).is_crisis_context is expected


def test_user_str_prefers_full_name_then_username():
    assert str(UserFactory(first_name="Amina", last_name="Mohammed")) == (
        "Amina Mohammed"
    )
    assert str(UserFactory(username="rco.som", first_name="", last_name="")) == (
        "rco.som"
    )


def test_agency_and_team_agency_str(team, undp):
    team_agency = TeamAgencyFactory(country_team=team, agency=undp)
    assert str(undp) == "UNDP"
    assert str(team_agency) == "UNDP in SOM"


def test_membership_str_names_user_role_and_place(team, undp):
    user = UserFactory(first_name="Ada", last_name="Obi")
    rco = MembershipFactory(user=user, country_team=team, role=Role.RC_OFFICE)
    focal = MembershipFactory(
        user=user, country_team=team, role=Role.FOCAL_POINT, agency=undp
    )
    assert str(rco) == "Ada Obi — RC Office officer (SOM)"
    assert str(focal) == "Ada Obi — Agency focal point (UNDP / SOM)"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.RESIDENT_COORDINATOR, True),
        (Role.RC_OFFICE, True),
        (Role.FOCAL_POINT, False),
    ],
)
def test_membership_is_coordinator(role, expected, team, undp):
    agency = undp if role == Role.FOCAL_POINT else None
    membership = MembershipFactory(country_team=team, role=role, agency=agency)
    assert membership.is_coordinator is expected
