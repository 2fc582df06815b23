from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from coordination.models import Membership, Role
from coordination.permissions import (
    forget_roles,
    is_focal_point_of_owner,
    is_resident_coordinator,
    is_team_coordinator,
    is_team_focal_point,
    is_team_member,
    roles_of,
)
from coordination.services import grant_membership
from tests.coordination.factories import (
    CountryTeamFactory,
    MembershipFactory,
    TeamAgencyFactory,
    UserFactory,
)
from tests.frameworks.factories import JointProgrammeFactory, OutcomeFactory

pytestmark = pytest.mark.django_db

Y, N = True, False

PERMISSIONS = (
    "coordination.view_countryteam",
    "coordination.coordinate_countryteam",
    "coordination.sign_off_countryteam",
    "coordination.view_board_summary",
    "coordination.manage_reference_data",
)

# The policy, for an object of the Somalia team owned by UNDP. "focal_point_own" is
# UNDP's focal point in Somalia, "focal_point_other" UNICEF's; "other_team_rc" is
# the Resident Coordinator of Nigeria.
#
# fmt: off
#                          view  coordinate  sign_off  board_summary  reference_data
PERMISSION_TABLE = {
    "resident_coordinator": (Y,    Y,          Y,        N,             N),
    "rco_officer":          (Y,    Y,          N,        N,             N),
    "focal_point_own":      (Y,    N,          N,        N,             N),
    "focal_point_other":    (Y,    N,          N,        N,             N),
    "board_member":         (N,    N,          N,        Y,             N),
    "administrator":        (Y,    Y,          Y,        Y,             Y),
    "outsider":             (N,    N,          N,        N,             N),
    "anonymous":            (N,    N,          N,        N,             N),
    "other_team_rc":        (N,    N,          N,        N,             N),
}
# fmt: on

PREDICATES = (
    is_team_member,
    is_team_coordinator,
    is_resident_coordinator,
    is_team_focal_point,
    is_focal_point_of_owner,
)

# Predicates speak only of memberships: administrators and board members get their
# powers from the permission table above, never from being "in" a team.
#
# fmt: off
#                          member  coordinator  rc  focal_point  focal_point_of_owner
PREDICATE_TABLE = {
    "resident_coordinator": (Y,      Y,           Y,  N,           N),
    "rco_officer":          (Y,      Y,           N,  N,           N),
    "focal_point_own":      (Y,      N,           N,  Y,           Y),
    "focal_point_other":    (Y,      N,           N,  Y,           N),
    "board_member":         (N,      N,           N,  N,           N),
    "administrator":        (N,      N,           N,  N,           N),
    "outsider":             (N,      N,           N,  N,           N),
    "anonymous":            (N,      N,           N,  N,           N),
    "other_team_rc":        (N,      N,           N,  N,           N),
}
# fmt: on


@pytest.fixture
def somalia(team, undp, unicef):
    TeamAgencyFactory(country_team=team, agency=undp)
    TeamAgencyFactory(country_team=team, agency=unicef)
    return team


@pytest.fixture
def make_actor(somalia, other_team, undp, unicef):
    def make(role):
        if role == "anonymous":
            return AnonymousUser()
        if role == "board_member":
            return UserFactory(is_board_member=True)
        if role == "administrator":
            return UserFactory(is_superuser=True, is_staff=True)
        user = UserFactory()
        memberships = {
            "resident_coordinator": (somalia, Role.RESIDENT_COORDINATOR, None),
            "rco_officer": (somalia, Role.RC_OFFICE, None),
            "focal_point_own": (somalia, Role.FOCAL_POINT, undp),
            "focal_point_other": (somalia, Role.FOCAL_POINT, unicef),
            "other_team_rc": (other_team, Role.RESIDENT_COORDINATOR, None),
            "outsider": None,
        }[role]
        if memberships:
            team, team_role, agency = memberships
            MembershipFactory(
                user=user, country_team=team, role=team_role, agency=agency
            )
        return user

    return make


@pytest.fixture
def undp_record(somalia, undp):
    return SimpleNamespace(country_team_id=somalia.pk, agency_id=undp.pk)


def test_tables_cover_every_registered_permission_and_role():
    assert all(len(row) == len(PERMISSIONS) for row in PERMISSION_TABLE.values())
    assert all(len(row) == len(PREDICATES) for row in PREDICATE_TABLE.values())
    assert PERMISSION_TABLE.keys() == PREDICATE_TABLE.keys()


@pytest.mark.parametrize("role", PERMISSION_TABLE)
@pytest.mark.parametrize("target", ["team", "record"])
def test_permission_table(role, target, make_actor, somalia, undp_record):
    user = make_actor(role)
    obj = somalia if target == "team" else undp_record
    granted = tuple(user.has_perm(perm, obj) for perm in PERMISSIONS)
    assert granted == PERMISSION_TABLE[role]


@pytest.mark.parametrize("role", PREDICATE_TABLE)
def test_predicate_table(role, make_actor, undp_record):
    user = make_actor(role)
    answers = tuple(bool(predicate(user, undp_record)) for predicate in PREDICATES)
    assert answers == PREDICATE_TABLE[role]


@pytest.mark.parametrize("role", [r for r in PREDICATE_TABLE if r != "administrator"])
def test_predicates_say_no_for_another_teams_record(role, make_actor, undp):
    user = make_actor(role)
    elsewhere = CountryTeamFactory()
    record = SimpleNamespace(country_team_id=elsewhere.pk, agency_id=undp.pk)
    assert not any(predicate(user, record) for predicate in PREDICATES)
    assert not user.has_perm("coordination.view_countryteam", record)


def test_team_roles_have_no_object_free_team_permission(make_actor):
    rc = make_actor("resident_coordinator")
    assert not rc.has_perm("coordination.view_countryteam")
    assert not rc.has_perm("coordination.sign_off_countryteam", None)


def test_focal_point_of_owner_needs_an_owning_agency(make_actor, somalia):
    focal_point = make_actor("focal_point_own")
    unowned = SimpleNamespace(country_team_id=somalia.pk, agency_id=None)
    assert is_team_focal_point(focal_point, unowned)
    assert not is_focal_point_of_owner(focal_point, unowned)
    assert not is_focal_point_of_owner(focal_point, somalia)


def test_permissions_follow_the_team_of_real_records(make_actor, somalia, other_team):
    rco = make_actor("rco_officer")
    own = OutcomeFactory(framework__country_team=somalia)
    foreign = JointProgrammeFactory(country_team=other_team)
    assert rco.has_perm("coordination.coordinate_countryteam", own)
    assert not rco.has_perm("coordination.view_countryteam", foreign)


@pytest.mark.parametrize(
    "role", ["resident_coordinator", "focal_point_own", "administrator", "board_member"]
)
def test_deactivated_account_has_no_permission(role, make_actor, somalia):
    user = make_actor(role)
    user.is_active = False
    forget_roles(user)
    assert not any(user.has_perm(perm, somalia) for perm in PERMISSIONS)


def test_member_of_two_teams_gets_each_teams_answer(somalia, other_team, undp):
    third_team = CountryTeamFactory()
    TeamAgencyFactory(country_team=other_team, agency=undp)
    user = UserFactory()
    MembershipFactory(user=user, country_team=somalia, role=Role.RESIDENT_COORDINATOR)
    MembershipFactory(
        user=user, country_team=other_team, role=Role.FOCAL_POINT, agency=undp
    )

    assert user.has_perm("coordination.sign_off_countryteam", somalia)
    assert user.has_perm("coordination.coordinate_countryteam", somalia)
    assert not user.has_perm("coordination.sign_off_countryteam", other_team)
    assert not user.has_perm("coordination.coordinate_countryteam", other_team)
    assert user.has_perm("coordination.view_countryteam", other_team)
    assert not user.has_perm("coordination.view_countryteam", third_team)

    undp_in_somalia = SimpleNamespace(country_team_id=somalia.pk, agency_id=undp.pk)
    undp_in_nigeria = SimpleNamespace(country_team_id=other_team.pk, agency_id=undp.pk)
    assert not is_focal_point_of_owner(user, undp_in_somalia)
    assert is_focal_point_of_owner(user, undp_in_nigeria)
    assert not is_team_focal_point(user, somalia)
    assert is_team_focal_point(user, other_team)


def test_roles_of_queries_once_then_caches(
    make_actor, somalia, undp_record, django_assert_num_queries
):
    user = make_actor("focal_point_own")
    with django_assert_num_queries(1):
        first = roles_of(user)
        for perm in PERMISSIONS:
            user.has_perm(perm, somalia)
            user.has_perm(perm, undp_record)
        assert roles_of(user) is first
    assert [(r.country_team_id, r.role) for r in first] == [
        (somalia.pk, Role.FOCAL_POINT)
    ]


def test_roles_of_anonymous_needs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert roles_of(AnonymousUser()) == ()
        assert roles_of(None) == ()


def test_cached_roles_stay_stale_until_forgotten(somalia):
    user = UserFactory()
    assert not user.has_perm("coordination.view_countryteam", somalia)
    Membership.objects.create(user=user, country_team=somalia, role=Role.RC_OFFICE)
    assert not user.has_perm("coordination.view_countryteam", somalia)
    forget_roles(user)
    assert user.has_perm("coordination.view_countryteam", somalia)


def test_grant_membership_refreshes_cached_roles(somalia):
    user = UserFactory()
    assert not user.has_perm("coordination.coordinate_countryteam", somalia)
    grant_membership(user=user, country_team=somalia, role=Role.RC_OFFICE)
    assert user.has_perm("coordination.coordinate_countryteam", somalia)
    assert not user.has_perm("coordination.sign_off_countryteam", somalia)


def test_forget_roles_on_a_fresh_user_is_harmless():
    user = UserFactory()
    forget_roles(user)
    assert roles_of(user) == ()
