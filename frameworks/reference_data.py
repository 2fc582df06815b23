"""Loading reference data: SDG texts, UN agencies, common-chapter areas and the
agencies' strategic plans.

Reference data is not domain data, so these loaders write the tables directly. Each
one is atomic and idempotent: running it again with the same files changes nothing.
The files live in frameworks/reference/ (see its README for sources and licences).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction

from coordination.models import Agency
from frameworks.models import (
    REFERENCE_LANGUAGES,
    CommonChapterArea,
    SdgGoal,
    SdgIndicator,
    SdgTarget,
)

if TYPE_CHECKING:
    from frameworks.strategic_plan_reference import StrategicPlanCounts

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
SDG_DIR = REFERENCE_DIR / "sdg"
AGENCIES_FILE = REFERENCE_DIR / "agencies.yml"
COMMON_CHAPTER_FILE = REFERENCE_DIR / "common_chapter.yml"

# `1-title`/`1-short` (goal 1), `1-a-title` (target 1.a), `1-1-1-title` (1.1.1).
_SDG_KEY = re.compile(r"^(?P<code>\d+(?:-[0-9a-z]+){0,2})-(?P<field>title|short)$")
_SDG_FILES = {"goals": 1, "targets": 2, "indicators": 3}


class ReferenceDataError(ValueError):
    """A reference file is missing or does not hold what the loader expects."""


@dataclass(frozen=True)
class SdgCounts:
    goals: int
    targets: int
    indicators: int
    languages: int

    def __str__(self) -> str:
        return (
            f"{self.goals} goals, {self.targets} targets, "
            f"{self.indicators} indicators, {self.languages} languages"
        )


@dataclass(frozen=True)
class ReferenceCounts:
    sdg: SdgCounts
    agencies: int
    common_chapter_areas: int
    strategic_plans: StrategicPlanCounts

    def __str__(self) -> str:
        return (
            f"{self.sdg}; {self.agencies} agencies; "
            f"{self.common_chapter_areas} common-chapter areas; "
            f"{self.strategic_plans}"
        )


@dataclass
class SdgTexts:
    """SDG texts read from the files, by code and then by Django language code."""

    goal_titles: dict[str, dict[str, str]] = field(default_factory=dict)
    goal_short_titles: dict[str, dict[str, str]] = field(default_factory=dict)
    targets: dict[str, dict[str, str]] = field(default_factory=dict)
    indicators: dict[str, dict[str, str]] = field(default_factory=dict)
    languages: set[str] = field(default_factory=set)


def sdg_sort_key(code: str) -> int:
    """Return an integer that orders SDG codes as people read them.

    Numbers come first in numeric order, then letters: 1.1 < 1.2 < 1.10 < 1.a < 2.1,
    and 1.1.1 < 1.1.2 < 1.2.1 for indicators.
    """
    key = 0
    for part in code.split("."):
        if part.isdigit() and int(part) < 100:
            rank = int(part)
        elif len(part) == 1 and "a" <= part <= "z":
            rank = 100 + ord(part) - ord("a")
        else:
            raise ReferenceDataError(f"Cannot order the SDG code {code!r}.")
        key = key * 1000 + rank
    return key


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.safe_load(stream)
    except OSError as exc:
        raise ReferenceDataError(f"Cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{path} is not valid YAML: {exc}") from exc


def _language_dir(directory: Path, language: str) -> Path | None:
    # The files use BCP 47 case (zh-Hans); Django language codes are lower case.
    for candidate in directory.iterdir():
        if candidate.is_dir() and candidate.name.lower() == language:
            return candidate
    return None


def read_sdg_texts(*, directory: Path = SDG_DIR) -> SdgTexts:
    """Read every language's goal, target and indicator texts that exist."""
    if not directory.is_dir():
        raise ReferenceDataError(f"{directory} is not a directory.")
    texts = SdgTexts()
    for language in REFERENCE_LANGUAGES:
        language_dir = _language_dir(directory, language)
        if language_dir is None:
            continue
        for kind, depth in _SDG_FILES.items():
            path = language_dir / f"global_{kind}.yml"
            if not path.exists():
                continue
            entries = _read_yaml(path) or {}
            if not isinstance(entries, Mapping):
                raise ReferenceDataError(f"{path} should map keys to texts.")
            for key, text in entries.items():
                _add_text(texts, path, depth, language, str(key), text)
    if not texts.goal_titles:
        raise ReferenceDataError(f"No SDG goals found under {directory}.")
    return texts


def _add_text(
    texts: SdgTexts, path: Path, depth: int, language: str, key: str, text: Any
) -> None:
    match = _SDG_KEY.match(key)
    parts = match["code"].split("-") if match else []
    if match is None or len(parts) != depth:
        raise ReferenceDataError(f"{path}: unexpected key {key!r}.")
    if not isinstance(text, str) or not text.strip():
        return
    code = ".".join(parts)
    if depth == 1:
        by_code = (
            texts.goal_short_titles if match["field"] == "short" else texts.goal_titles
        )
    elif depth == 2:
        by_code = texts.targets
    else:
        by_code = texts.indicators
    by_code.setdefault(code, {})[language] = text.strip()
    texts.languages.add(language)


def _in_language_order(texts: Mapping[str, str]) -> dict[str, str]:
    # A stable key order keeps the stored JSON identical from one run to the next.
    return {lang: texts[lang] for lang in REFERENCE_LANGUAGES if lang in texts}


def _parent_code(code: str) -> str:
    return code.rsplit(".", 1)[0]


@transaction.atomic
def load_sdg_reference(*, directory: Path = SDG_DIR) -> SdgCounts:
    """Create or update the SDG goals, targets and indicators from the files."""
    texts = read_sdg_texts(directory=directory)
    goal_codes = sorted(
        set(texts.goal_titles) | set(texts.goal_short_titles), key=sdg_sort_key
    )
    for code in [*texts.targets, *texts.indicators]:
        if code.split(".")[0] not in goal_codes:
            raise ReferenceDataError(f"SDG {code} belongs to no known goal.")
    SdgGoal.objects.bulk_create(
        [
            SdgGoal(
                number=int(code),
                titles=_in_language_order(texts.goal_titles.get(code, {})),
                short_titles=_in_language_order(texts.goal_short_titles.get(code, {})),
            )
            for code in goal_codes
        ],
        update_conflicts=True,
        unique_fields=["number"],
        update_fields=["titles", "short_titles"],
    )
    SdgTarget.objects.bulk_create(
        [
            SdgTarget(
                code=code,
                goal_id=int(_parent_code(code)),
                sort_key=sdg_sort_key(code),
                titles=_in_language_order(titles),
            )
            for code, titles in texts.targets.items()
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["goal", "sort_key", "titles"],
    )
    target_ids = dict(SdgTarget.objects.values_list("code", "pk"))
    missing = sorted(
        code for code in texts.indicators if _parent_code(code) not in target_ids
    )
    if missing:
        raise ReferenceDataError(
            f"SDG indicators without a target: {', '.join(missing)}."
        )
    SdgIndicator.objects.bulk_create(
        [
            SdgIndicator(
                code=code,
                target_id=target_ids[_parent_code(code)],
                sort_key=sdg_sort_key(code),
                titles=_in_language_order(titles),
            )
            for code, titles in texts.indicators.items()
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["target", "sort_key", "titles"],
    )
    return SdgCounts(
        goals=len(goal_codes),
        targets=len(texts.targets),
        indicators=len(texts.indicators),
        languages=len(texts.languages),
    )


def _read_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = _read_yaml(path)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ReferenceDataError(f"{path} should be a list of entries.")
    for number, row in enumerate(rows, start=1):
        absent = [key for key in required if row.get(key) in (None, "")]
        if absent:
            raise ReferenceDataError(
                f"{path}, entry {number}: missing {', '.join(absent)}."
            )
    return rows


def _upsert_by_code(
    model: type[models.Model],
    existing: Mapping[str, models.Model],
    code: str,
    values: Mapping[str, Any],
) -> None:
    # Saving only what changed keeps re-runs from writing history rows or bumping
    # updated_at for nothing.
    obj = existing.get(code)
    if obj is None:
        obj = model(code=code, **values)
    elif all(getattr(obj, name) == value for name, value in values.items()):
        return
    else:
        for name, value in values.items():
            setattr(obj, name, value)
    try:
        obj.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ReferenceDataError(f"{model.__name__} {code}: {exc}") from exc
    obj.save()


@transaction.atomic
def load_agencies(*, path: Path = AGENCIES_FILE) -> int:
    """Create or update the UN agencies listed in the file; return how many."""
    rows = _read_rows(path, ("code", "name", "kind"))
    existing = Agency.objects.in_bulk(field_name="code")
    for row in rows:
        _upsert_by_code(
            Agency,
            existing,
            str(row["code"]),
            {
                "name": str(row["name"]),
                "kind": row["kind"],
                "iati_identifier": str(row.get("iati_identifier") or ""),
                "is_common_chapter_signatory": bool(
                    row.get("common_chapter_signatory", False)
                ),
            },
        )
    return len(rows)


@transaction.atomic
def load_common_chapter_areas(*, path: Path = COMMON_CHAPTER_FILE) -> int:
    """Create or update the common-chapter areas listed in the file."""
    rows = _read_rows(path, ("code", "position", "name"))
    existing = CommonChapterArea.objects.in_bulk(field_name="code")
    for row in rows:
        _upsert_by_code(
            CommonChapterArea,
            existing,
            str(row["code"]),
            {
                "position": int(row["position"]),
                "name": str(row["name"]),
                "description": str(row.get("description") or "").strip(),
            },
        )
    return len(rows)


@transaction.atomic
def load_reference_data() -> ReferenceCounts:
    """Load SDG texts, agencies, common-chapter areas and strategic plans, all or
    nothing."""
    # The plans' loader reads files with this module's helpers, so it is
    # imported here rather than at the top.
    from frameworks.strategic_plan_reference import load_strategic_plans

    return ReferenceCounts(
        sdg=load_sdg_reference(),
        agencies=load_agencies(),
        common_chapter_areas=load_common_chapter_areas(),
        strategic_plans=load_strategic_plans(),
    )


def is_reference_data_loaded() -> bool:
    """Return whether SDG goals, agencies and common-chapter areas are present."""
    return (
        SdgGoal.objects.exists()
        and Agency.objects.exists()
        and CommonChapterArea.objects.exists()
    )
