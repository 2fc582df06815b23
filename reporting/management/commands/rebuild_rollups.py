"""Recompute every rollup row from source rows: all teams, or one."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coordination.models import CountryTeam
from reporting.services import (
    REBUILD_BATCH_CONTRIBUTIONS,
    Progress,
    plan_rebuild_batches,
    rebuild_teams_rollups,
)

BAR_WIDTH = 20


class Command(BaseCommand):
    help = (
        "Recompute the rollups of every country team (or of --team CODE) from "
        "contributions and measurements, in batches of teams, one transaction "
        "per batch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", metavar="CODE", help="only this team, e.g. SOM")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=REBUILD_BATCH_CONTRIBUTIONS,
            metavar="N",
            help="contributions per batch of teams (default %(default)s); a "
            "larger team is a batch of its own",
        )

    def handle(
        self,
        *args: Any,
        team: str | None = None,
        batch_size: int = REBUILD_BATCH_CONTRIBUTIONS,
        **options: Any,
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if team:
            found = CountryTeam.objects.filter(code=team.upper()).first()
            if found is None:
                raise CommandError(f"No country team with the code {team!r}.")
            batches = [[found]]
        else:
            batches = plan_rebuild_batches(contributions=batch_size)
        started = time.perf_counter()
        for batch in batches:
            self._rebuild(batch)
        count = sum(len(batch) for batch in batches)
        self.stdout.write(
            f"Rebuilt the rollups of {_plural(count, 'team', 'teams')} "
            f"({_plural(len(batches), 'batch', 'batches')}) in "
            f"{time.perf_counter() - started:.2f} s."
        )

    def _rebuild(self, batch: Sequence[CountryTeam]) -> None:
        label = _label(batch)
        started = time.perf_counter()
        done = rebuild_teams_rollups(
            team_ids=[team.pk for team in batch], progress=self._bar(label)
        )
        written = sum(done.rows.values())
        self.stdout.write(
            f"\r{label} [{'#' * BAR_WIDTH}] {written:,} rows written in "
            f"{time.perf_counter() - started:.2f} s"
        )

    def _bar(self, label: str) -> Progress:
        def show(done: int, total: int) -> None:
            self.stdout.write(f"\r{label} {_bar(done, total)}", ending="")
            self.stdout.flush()

        return show


def _label(batch: Sequence[CountryTeam]) -> str:
    """SOM for one team; AFG-KEN (38 teams) for a batch."""
    if len(batch) == 1:
        return batch[0].code
    return f"{batch[0].code}-{batch[-1].code} ({len(batch)} teams)"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _bar(done: int, total: int) -> str:
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}"
