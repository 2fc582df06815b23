"""Every user-facing string is translated into the five other UN languages.

The catalogs under locale/ are checked three ways: they hold every string the
code and templates mark (makemessages run on a copy of the project finds nothing
new), every entry is translated and none is fuzzy, and msgfmt accepts them with
placeholders intact. Then pages are rendered in each language.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import service_missing

ROOT = Path(settings.BASE_DIR)
LOCALES = {"fr": "fr", "es": "es", "ru": "ru", "ar": "ar", "zh-hans": "zh_Hans"}
SOURCE_DIRS = ("coordination", "frameworks", "reporting", "unportal", "templates")


def catalog_path(locale: str) -> Path:
    return ROOT / "locale" / locale / "LC_MESSAGES" / "django.po"


def entry_label(entry: polib.POEntry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    return f"{entry.msgid[:70]!r} ({where})"


def test_every_official_language_is_offered() -> None:
    offered = {code for code, _name in settings.LANGUAGES}
    assert offered == {"en", *LOCALES}


@pytest.mark.parametrize("locale", LOCALES.values())
def test_catalog_is_complete_and_not_fuzzy(locale: str) -> None:
    catalog = polib.pofile(str(catalog_path(locale)))
    untranslated = [entry_label(e) for e in catalog.untranslated_entries()]
    fuzzy = [entry_label(e) for e in catalog.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated in {locale}: " + (
        "; ".join(untranslated[:10])
    )
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {locale}: " + "; ".join(fuzzy[:10])
    assert catalog.metadata.get("Language"), f"{locale} catalog names no language"


@pytest.mark.parametrize("locale", LOCALES.values())
def test_msgfmt_accepts_catalog_with_placeholders_intact(locale: str) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        service_missing("msgfmt is not installed", "apt-get install gettext")
    po = catalog_path(locale)
    result = subprocess.run(
        [
            msgfmt,
            "--check-format",
            "--check-header",
            "-o",
            "/dev/null",
            str(po),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_catalogs_hold_every_marked_string(tmp_path: Path) -> None:
    """makemessages on a copy of the sources adds no msgid the catalogs lack."""
    if shutil.which("xgettext") is None:
        service_missing("xgettext is not installed", "apt-get install gettext")
    copy = tmp_path / "project"
    copy.mkdir()
    for name in SOURCE_DIRS:
        shutil.copytree(
            ROOT / name,
            copy / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static"),
        )
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    shutil.copytree(ROOT / "locale" / "fr", copy / "locale" / "fr")
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(catalog_path("fr")))}

    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=copy,
        env={"DJANGO_DEBUG": "true", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    )

    regenerated = polib.pofile(str(copy / "locale/fr/LC_MESSAGES/django.po"))
    missing = sorted(
        entry_label(e) for e in regenerated if (e.msgctxt, e.msgid) not in committed
    )
    assert not missing, (
        f"{len(missing)} marked strings are not in the catalogs; run `make messages` "
        "and translate them: " + "; ".join(missing[:10])
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", LOCALES)
def test_login_page_is_served_in_each_language(client, language: str) -> None:
    catalog = polib.pofile(str(catalog_path(LOCALES[language])))
    skip_link = catalog.find("Skip to main content")
    assert skip_link is not None
    assert skip_link.msgstr

    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=language)

    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert skip_link.msgstr in page
    assert "Skip to main content" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "direction"),
    [("ar", "rtl"), ("en", "ltr"), ("zh-hans", "ltr"), ("ru", "ltr")],
)
def test_pages_follow_the_languages_direction(
    client, language: str, direction: str
) -> None:
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=language)

    assert f'dir="{direction}"' in response.content.decode()
