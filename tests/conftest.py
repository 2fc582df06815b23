"""Shared fixtures. Service fixtures fail in CI instead of skipping."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from tests.coordination.factories import (
    AgencyFactory,
    CountryTeamFactory,
    MembershipFactory,
    UserFactory,
)

REQUIRE_SERVICES = os.environ.get("UNPORTAL_REQUIRE_SERVICES") == "1"


def service_missing(
    reason: str, hint: str = "set DATABASE_URL/REDIS_URL to run this test"
) -> None:
    """Skip on a laptop; fail in CI, where every service must be present."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (UNPORTAL_REQUIRE_SERVICES=1)")
    pytest.skip(f"{reason}; {hint}")


@pytest.fixture
def redis_url() -> str:
    """The Redis URL from the environment, checked to answer a PING."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        service_missing("REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {url} does not answer: {exc}")
    return url


@pytest.fixture
def postgres(django_db_blocker) -> None:
    """Require the test database to be PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing(f"needs PostgreSQL, the database is {connection.vendor}")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def team(db):
    return CountryTeamFactory(code="SOM", name="Somalia", iso_alpha2="SO")


@pytest.fixture
def other_team(db):
    return CountryTeamFactory(code="NGA", name="Nigeria", iso_alpha2="NG")


@pytest.fixture
def undp(db):
    return AgencyFactory(code="UNDP", name="United Nations Development Programme")


@pytest.fixture
def unicef(db):
    return AgencyFactory(code="UNICEF", name="United Nations Children's Fund")


@pytest.fixture
def resident_coordinator(team):
    return MembershipFactory(country_team=team, role="rc").user


@pytest.fixture
def rco_officer(team):
    return MembershipFactory(country_team=team, role="rco").user


@pytest.fixture
def focal_point(team, undp):
    team.team_agencies.get_or_create(agency=undp)
    return MembershipFactory(country_team=team, role="focal_point", agency=undp).user


@pytest.fixture
def board_member(db):
    return UserFactory(is_board_member=True)


@pytest.fixture
def administrator(db):
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def outsider(db):
    return UserFactory()


@pytest.fixture(autouse=True)
def fast_password_hashing(request, settings):
    """Argon2 is slow by design; tests that check hashing opt back in."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
