"""Recompute every rollup row from source rows: all teams, or one."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coordination.models import CountryTeam
from reporting.services import Progress, rebuild_team_rollups

BAR_WIDTH = 20


class Command(BaseCommand):
    help = (
        "Recompute the rollups of every country team (or of --team CODE) from "
        "contributions and measurements, one transaction per team."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", metavar="CODE", help="only this team, e.g. SOM")

    def handle(self, *args: Any, team: str | None = None, **options: Any) -> None:
        teams = CountryTeam.objects.order_by("code")
        if team:
            teams = teams.filter(code=team.upper())
            if not teams:
                raise CommandError(f"No country team with the code {team!r}.")
        started = time.perf_counter()
        count = 0
        for country_team in teams:
            self._rebuild(country_team)
            count += 1
        self.stdout.write(
            f"Rebuilt the rollups of {count} team{'s' if count != 1 else ''} in "
            f"{time.perf_counter() - started:.2f} s."
        )

    def _rebuild(self, team: CountryTeam) -> None:
        started = time.perf_counter()
        run = rebuild_team_rollups(team_id=team.pk, progress=self._bar(team))
        written = sum(run.rows.values())
        self.stdout.write(
            f"\r{team.code} [{'#' * BAR_WIDTH}] {written:,} rows written in "
            f"{time.perf_counter() - started:.2f} s"
        )

    def _bar(self, team: CountryTeam) -> Progress:
        def show(done: int, total: int) -> None:
            self.stdout.write(f"\r{team.code} {_bar(done, total)}", ending="")
            self.stdout.flush()

        return show


def _bar(done: int, total: int) -> str:
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}"
