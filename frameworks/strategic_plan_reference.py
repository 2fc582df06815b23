"""Loading the agencies' strategic plans from frameworks/reference/strategic_plans/.

One YAML file per plan: the agency, title, period and source, its outcomes with
their outputs, and (for plans whose outputs serve every outcome) outputs of the
plan itself. Each outcome and output names the SDG targets and common-chapter
areas it maps to. Loading is atomic and idempotent: a row is saved only when the
file says something new, and an outcome or output dropped from a file is deleted
unless joint work is linked to it, in which case nothing is loaded at all. Two
plans of one agency may not overlap (StrategicPlan.clean says why).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction

from coordination.models import Agency
from frameworks.models import (
    CommonChapterArea,
    SdgTarget,
    StrategicPlan,
    StrategicPlanOutcome,
    StrategicPlanOutput,
)
from frameworks.reference_data import REFERENCE_DIR, ReferenceDataError, _read_yaml

STRATEGIC_PLANS_DIR = REFERENCE_DIR / "strategic_plans"

_PLAN_KEYS = ("agency", "title", "start_year", "end_year", "source_document")
_ENTRY_KEYS = ("code", "title")
_Row = TypeVar("_Row", bound=models.Model)


@dataclass(frozen=True)
class StrategicPlanCounts:
    plans: int
    outcomes: int
    outputs: int

    def __str__(self) -> str:
        return (
            f"{self.plans} agency strategic plans "
            f"({self.outcomes} outcomes, {self.outputs} outputs)"
        )


class _References:
    """Agencies, SDG targets and areas by code, read once per load."""

    def __init__(self) -> None:
        self.agencies = Agency.objects.in_bulk(field_name="code")
        self.targets = SdgTarget.objects.in_bulk(field_name="code")
        self.areas = CommonChapterArea.objects.in_bulk(field_name="code")

    def agency(self, where: str, code: Any) -> Agency:
        return self._one(self.agencies, where, code, "agency")

    def sdg_targets(self, where: str, codes: Any) -> list[SdgTarget]:
        return [self._one(self.targets, where, c, "SDG target") for c in codes or ()]

    def areas_of(self, where: str, codes: Any) -> list[CommonChapterArea]:
        return [
            self._one(self.areas, where, c, "common-chapter area") for c in codes or ()
        ]

    @staticmethod
    def _one(rows: Mapping[str, _Row], where: str, code: Any, what: str) -> _Row:
        # An SDG target such as 1.10 must be quoted in YAML, or it reads as 1.1.
        if not isinstance(code, str):
            raise ReferenceDataError(f"{where}: the {what} {code!r} must be quoted.")
        if code not in rows:
            raise ReferenceDataError(f"{where}: unknown {what} {code!r}.")
        return rows[code]


def read_plan_specs(*, directory: Path = STRATEGIC_PLANS_DIR) -> list[tuple[str, Any]]:
    """Return (file name, content) of every plan file, in name order."""
    if not directory.is_dir():
        raise ReferenceDataError(f"{directory} is not a directory.")
    return [(path.name, _read_yaml(path)) for path in sorted(directory.glob("*.yml"))]


def _require(where: str, spec: Any, keys: Sequence[str]) -> None:
    if not isinstance(spec, Mapping):
        raise ReferenceDataError(f"{where} should be a mapping of keys to values.")
    absent = [key for key in keys if spec.get(key) in (None, "")]
    if absent:
        raise ReferenceDataError(f"{where}: missing {', '.join(absent)}.")


def _entries(spec: Mapping, key: str) -> list[Any]:
    entries = spec.get(key) or []
    if not isinstance(entries, list):
        raise ReferenceDataError(f"{key} should be a list of entries.")
    return entries


def _identify(what: str, entry: Any, seen: set[str]) -> tuple[str, str]:
    """Return where an entry is (for messages) and its code, seen only once."""
    label = entry.get("code") if isinstance(entry, Mapping) else entry
    where = f"{what} {label!r}"
    _require(where, entry, _ENTRY_KEYS)
    code = _code(where, entry["code"])
    if code in seen:
        raise ReferenceDataError(f"{where}: the code is listed twice.")
    seen.add(code)
    return where, code


def _text(value: Any) -> str:
    return " ".join(str(value).split())


def _code(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ReferenceDataError(f"{where}: the code {value!r} must be quoted text.")
    return value.strip()


def _saved(where: str, obj: models.Model, values: Mapping[str, Any]) -> bool:
    """Set the values and save if any differs; return whether it was saved."""
    if obj.pk and all(getattr(obj, name) == value for name, value in values.items()):
        return False
    for name, value in values.items():
        setattr(obj, name, value)
    try:
        obj.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ReferenceDataError(f"{where}: {' '.join(exc.messages)}") from exc
    obj.save()
    return True


def _set_links(obj: Any, name: str, rows: Iterable[models.Model]) -> None:
    wanted = {row.pk for row in rows}
    manager = getattr(obj, name)
    if set(manager.values_list("pk", flat=True)) != wanted:
        manager.set(wanted)


class _PlanLoader:
    def __init__(self, refs: _References) -> None:
        self.refs = refs
        self.outcomes = 0
        self.outputs = 0

    def plan(self, name: str, spec: Any) -> StrategicPlan:
        _require(name, spec, _PLAN_KEYS)
        agency = self.refs.agency(name, spec["agency"])
        start_year, end_year = int(spec["start_year"]), int(spec["end_year"])
        plan = StrategicPlan.objects.filter(
            agency=agency, start_year=start_year
        ).first() or StrategicPlan(agency=agency, start_year=start_year)
        _saved(
            name,
            plan,
            {
                "title": _text(spec["title"]),
                "end_year": end_year,
                "source_document": _text(spec["source_document"]),
                "source_url": str(spec.get("source_url") or "").strip(),
            },
        )
        return plan

    def entries(self, name: str, plan: StrategicPlan, spec: Mapping) -> None:
        outcomes = {o.code: o for o in plan.outcomes.all()}
        outputs = {o.code: o for o in plan.outputs.all()}
        seen_outcomes: set[str] = set()
        seen_outputs: set[str] = set()
        # Outputs of outcomes first, in file order, then the plan's own outputs.
        listed: list[tuple[StrategicPlanOutcome | None, Any]] = []
        for order, entry in enumerate(_entries(spec, "outcomes"), start=1):
            where, code = _identify(f"{name}, outcome", entry, seen_outcomes)
            outcome = outcomes.get(code) or StrategicPlanOutcome(plan=plan, code=code)
            self._entry(where, outcome, entry, order)
            outcomes[code] = outcome
            listed += [(outcome, o) for o in _entries(entry, "outputs")]
        listed += [(None, o) for o in _entries(spec, "outputs")]
        for order, (outcome, entry) in enumerate(listed, start=1):
            where, code = _identify(f"{name}, output", entry, seen_outputs)
            output = outputs.get(code) or StrategicPlanOutput(plan=plan, code=code)
            self._entry(where, output, entry, order, outcome=outcome)
        self._drop(name, outputs, seen_outputs)
        self._drop(name, outcomes, seen_outcomes)
        self.outcomes += len(seen_outcomes)
        self.outputs += len(seen_outputs)

    def _entry(
        self,
        where: str,
        obj: StrategicPlanOutcome | StrategicPlanOutput,
        entry: Mapping,
        order: int,
        **extra: Any,
    ) -> None:
        values = {"title": _text(entry["title"]), "order": order, **extra}
        _saved(where, obj, values)
        targets = self.refs.sdg_targets(where, entry.get("sdg_targets"))
        _set_links(obj, "sdg_targets", targets)
        _set_links(
            obj,
            "common_chapter_areas",
            self.refs.areas_of(where, entry.get("areas")),
        )

    @staticmethod
    def _drop(name: str, rows: Mapping[str, models.Model], keep: set[str]) -> None:
        for code, row in rows.items():
            if code in keep:
                continue
            if isinstance(row, StrategicPlanOutput) and (
                row.contribution_links.exists() or row.framework_output_links.exists()
            ):
                raise ReferenceDataError(
                    f"{name}: output {code} is no longer listed, but joint work is "
                    "linked to it; move the links before removing it."
                )
            row.delete()


@transaction.atomic
def load_strategic_plans(
    *, directory: Path = STRATEGIC_PLANS_DIR
) -> StrategicPlanCounts:
    """Create or update the agencies' strategic plans listed in the files."""
    loader = _PlanLoader(_References())
    plans = 0
    for name, spec in read_plan_specs(directory=directory):
        loader.entries(name, loader.plan(name, spec), spec)
        plans += 1
    return StrategicPlanCounts(
        plans=plans, outcomes=loader.outcomes, outputs=loader.outputs
    )
