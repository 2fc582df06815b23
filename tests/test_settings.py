"""Settings fail closed in production and pass Django's deployment checks."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from tests.coordination.factories import UserFactory

BASE_DIR = settings.BASE_DIR


def clean_env(**values: str) -> dict[str, str]:
    """An environment with none of the developer's or CI's Django variables."""
    env = {
        name: os.environ[name]
        for name in ("PATH", "HOME", "LANG")
        if name in os.environ
    }
    env["DJANGO_SETTINGS_MODULE"] = "unportal.settings"
    env.update(values)
    return env


def test_settings_refuse_to_load_without_a_secret_key_in_production():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=clean_env(DJANGO_DEBUG="false"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_the_deployment_checks():
    secret_key = secrets.token_urlsafe(45)
    assert len(secret_key) == 60
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        cwd=BASE_DIR,
        env=clean_env(
            DJANGO_SECRET_KEY=secret_key,
            DJANGO_DEBUG="false",
            DJANGO_ALLOWED_HOSTS="portal.example.org",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output, output


@pytest.mark.real_password_hashing
def test_argon2_is_the_first_password_hasher():
    assert settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


@pytest.mark.real_password_hashing
@pytest.mark.django_db
def test_new_passwords_are_stored_with_argon2():
    user = UserFactory(password="a-long-passphrase-for-argon2")
    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert user.check_password("a-long-passphrase-for-argon2")
