"""API tokens: a signed-in person creates, rotates and revokes their own token,
and agency systems call the API with it."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from coordination.models import ApiToken
from coordination.services import revoke_api_token, rotate_api_token

pytestmark = pytest.mark.django_db


def _with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_is_created_used_rotated_and_revoked(world, client_as):
    browser = APIClient()
    browser.force_login(world.fp_undp)

    created = browser.post("/api/auth/token/")
    assert created.status_code == 201
    key = created.json()["token"]
    assert set(created.json()) == {"token", "created"}

    system = _with_token(key)
    teams = system.get("/api/teams/")
    assert teams.status_code == 200
    assert [t["code"] for t in teams.json()["results"]] == ["SOM"]

    rotated = system.post("/api/auth/token/")
    assert rotated.status_code == 201
    new_key = rotated.json()["token"]
    assert new_key != key
    assert system.get("/api/teams/").status_code == 401
    assert _with_token(new_key).get("/api/teams/").status_code == 200

    assert _with_token(new_key).delete("/api/auth/token/").status_code == 204
    revoked = _with_token(new_key).get("/api/teams/")
    assert revoked.status_code == 401
    assert revoked["WWW-Authenticate"] == "Token"
    assert not ApiToken.objects.filter(user=world.fp_undp).exists()


def test_token_writes_need_no_csrf_token(world):
    key = rotate_api_token(user=world.rco).key
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.delete("/api/auth/token/").status_code == 204


def test_anonymous_callers_get_401_with_the_scheme_to_use(db):
    client = APIClient()
    for method in ("post", "delete"):
        response = getattr(client, method)("/api/auth/token/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
    assert client.get("/api/contributions/").status_code == 401


def test_unknown_or_malformed_tokens_are_401(db):
    assert _with_token("0" * 40).get("/api/teams/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two parts")
    assert client.get("/api/teams/").status_code == 401


def test_a_deactivated_account_token_stops_working(world):
    key = rotate_api_token(user=world.fp_undp).key
    world.fp_undp.is_active = False
    world.fp_undp.save(update_fields=["is_active"])
    assert _with_token(key).get("/api/teams/").status_code == 401


def test_one_user_cannot_touch_another_users_token(world):
    mine = rotate_api_token(user=world.fp_undp).key
    theirs = rotate_api_token(user=world.rco).key
    assert _with_token(mine).delete("/api/auth/token/").status_code == 204
    assert ApiToken.objects.filter(digest=ApiToken.digest_of(theirs)).exists()


def test_rotate_and_revoke_services(world):
    first = rotate_api_token(user=world.fp_undp)
    second = rotate_api_token(user=world.fp_undp)
    stored = ApiToken.objects.get(user=world.fp_undp)
    assert stored.digest == ApiToken.digest_of(second.key)
    assert first.key != second.key
    assert revoke_api_token(user=world.fp_undp) is True
    assert revoke_api_token(user=world.fp_undp) is False


def test_the_database_holds_a_digest_never_the_key(world):
    issued = rotate_api_token(user=world.fp_undp)
    stored = ApiToken.objects.get(user=world.fp_undp)
    assert issued.key not in {stored.digest, stored.prefix}
    assert stored.prefix == issued.key[:8]
    assert len(issued.key) == 40
    # Knowing the digest is no use: it is not a key.
    assert _with_token(stored.digest).get("/api/teams/").status_code == 401


def test_keys_issued_before_digests_keep_working(world):
    """The migration carries DRF's plain keys over as digests and drops them."""
    migration = importlib.import_module("coordination.migrations.0004_hash_api_tokens")
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "user_id bigint NOT NULL, created timestamp with time zone NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [key, world.rco.pk, timezone.now()],
        )

    migration.carry_over_plain_tokens(apps, SimpleNamespace(connection=connection))

    assert "authtoken_token" not in connection.introspection.table_names()
    assert ApiToken.objects.get(user=world.rco).digest == ApiToken.digest_of(key)
    assert _with_token(key).get("/api/teams/").status_code == 200
