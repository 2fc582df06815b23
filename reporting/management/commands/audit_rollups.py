"""Recompute the rollups in memory and report where the stored rows differ."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Model

from coordination.models import Agency, CountryTeam
from frameworks.models import (
    CommonChapterArea,
    CooperationFramework,
    Indicator,
    Outcome,
    Output,
)
from reporting.coherence import audit_team_coherence
from reporting.models import RollupRequest
from reporting.rollups import Difference
from reporting.services import audit_team_rollups

# Key columns shown by the code of the row they point at.
_CODES: dict[str, type[Model]] = {
    "outcome_id": Outcome,
    "output_id": Output,
    "indicator_id": Indicator,
    "agency_id": Agency,
    "agency_a_id": Agency,
    "agency_b_id": Agency,
    "area_id": CommonChapterArea,
}


class Command(BaseCommand):
    help = (
        "Recompute every rollup row without writing it and list the stored rows "
        "that differ. Exits with status 1 when there is any difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", metavar="CODE", help="only this team, e.g. SOM")

    def handle(self, *args: Any, team: str | None = None, **options: Any) -> None:
        teams = CountryTeam.objects.order_by("code")
        if team:
            teams = teams.filter(code=team.upper())
            if not teams:
                raise CommandError(f"No country team with the code {team!r}.")
        found = 0
        for country_team in teams:
            differences = audit_team_rollups(team_id=country_team.pk)
            differences += audit_team_coherence(team_id=country_team.pk)
            if not differences:
                continue
            found += len(differences)
            pending = RollupRequest.objects.for_team(country_team).count()
            if pending:
                self.stdout.write(
                    f"{country_team.code}: {pending} rollup request(s) still pending; "
                    "some differences may be changes not processed yet."
                )
            for difference in differences:
                self.stdout.write(f"{country_team.code} {describe(difference)}")
        if found:
            raise CommandError(
                f"{found} rollup row{'s differ' if found > 1 else ' differs'} "
                "from a recomputation.",
                returncode=1,
            )
        self.stdout.write("No differences.")


def describe(difference: Difference) -> str:
    """One line: the table, the row's key, and what differs."""
    key = ", ".join(_key_part(name, value) for name, value in difference.key.items())
    where = f"{difference.table} [{key}]"
    if difference.stored is None:
        return f"{where}: missing; expected {_values(difference.expected)}"
    if difference.expected is None:
        return f"{where}: stored but should not exist ({_values(difference.stored)})"
    changes = "; ".join(
        f"{name} stored {stored} expected {expected}"
        for name, (stored, expected) in difference.changes.items()
    )
    return f"{where}: {changes}"


def _key_part(name: str, value: Any) -> str:
    label = name.removesuffix("_id")
    if name == "agency_id" and value is None:
        return "agency=all"
    if name == "framework_id":
        framework = CooperationFramework.objects.filter(pk=value).first()
        return f"framework={framework.title if framework else value}"
    model = _CODES.get(name)
    if model is not None and value is not None:
        code = model.objects.filter(pk=value).values_list("code", flat=True).first()
        return f"{label}={code or value}"
    return f"{label}={value}"


def _values(row: dict[str, Any] | None) -> str:
    return ", ".join(f"{name} {value}" for name, value in (row or {}).items())
