"""Writes of precomputed reporting rows, always recomputed from source rows.

Rollups follow one protocol. A writer records a `RollupRequest` for its team in
its own transaction and wakes a worker after commit (`request_team_rollups`). A
job (`process_team_rollups`) locks the team's `RollupState` row, so jobs of one
team run one at a time, claims the waiting requests with SKIP LOCKED, recomputes
the team, deletes what it claimed and stamps `computed_at`, all in one
transaction. A request that arrives while a job runs is not claimed by it and
gets a run of its own; a job that dies rolls back and leaves its requests for the
next run or the sweep.

A full rebuild (`rebuild_all_rollups`) follows the same protocol for a batch of
teams at a time: it locks the batch's state rows in team order (so two rebuilds
never deadlock, and a team's job waits for the batch or the batch for the job),
claims their requests, recomputes them with one set of statements and stamps
them all, in one transaction per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from coordination.models import CountryTeam, TeamAgency
from frameworks.models import (
    Contribution,
    CooperationFramework,
    FrameworkStatus,
    JointProgrammeParticipant,
)
from reporting import rollups
from reporting.models import RollupRequest, RollupState, TeamSnapshot

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# A writer waits for the broker at most this long before leaving its request to
# the sweep; saving must not hang because Redis is down.
WAKE_UP_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
REBUILD_PROGRESS_TIMEOUT = 60 * 60
# A full rebuild takes teams in batches of at most this many contributions:
# few enough that a batch's sorts and hashes fit in the rollup work_mem and a
# team's job does not wait long behind the batch, many enough that the fixed
# cost of a recompute (a few dozen statements) is paid a few times, not once
# per team.
REBUILD_BATCH_CONTRIBUTIONS = 200_000


def refresh_team_snapshot(*, team_id: int) -> TeamSnapshot:
    """Recompute a team's headline figures from source rows (idempotent)."""
    snapshots = refresh_team_snapshots(team_ids=[team_id])
    if not snapshots:
        raise CountryTeam.DoesNotExist(f"No country team with id {team_id}.")
    return snapshots[0]


@transaction.atomic
def refresh_team_snapshots(*, team_ids: Sequence[int]) -> list[TeamSnapshot]:
    """Recompute the headline figures of several teams from source rows, a
    fixed number of queries whatever their number (idempotent)."""
    ids = list(
        CountryTeam.objects.filter(pk__in=team_ids)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    frameworks = {
        row["country_team_id"]: row
        for row in CooperationFramework.objects.filter(
            country_team_id__in=ids, status=FrameworkStatus.ACTIVE
        )
        .values("country_team_id")
        .annotate(
            outcomes=Count("outcomes", distinct=True),
            outputs=Count("outputs", distinct=True),
            indicators=Count("indicators", distinct=True),
        )
        .order_by()
    }
    budgets = {
        row["programme__country_team_id"]: row
        for row in JointProgrammeParticipant.objects.filter(
            programme__country_team_id__in=ids
        )
        .values("programme__country_team_id")
        .annotate(
            total=Sum("budget_share"), programmes=Count("programme", distinct=True)
        )
        .order_by()
    }
    agencies = dict(
        TeamAgency.objects.filter(country_team_id__in=ids, agency__isnull=False)
        .values_list("country_team_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    computed_at = timezone.now()
    snapshots = []
    for team_id in ids:
        counts = frameworks.get(team_id, {})
        budget = budgets.get(team_id, {})
        snapshots.append(
            TeamSnapshot(
                country_team_id=team_id,
                outcome_count=counts.get("outcomes") or 0,
                output_count=counts.get("outputs") or 0,
                indicator_count=counts.get("indicators") or 0,
                programme_count=budget.get("programmes") or 0,
                programme_budget=budget.get("total") or Decimal("0"),
                agency_count=agencies.get(team_id, 0),
                computed_at=computed_at,
            )
        )
    TeamSnapshot.objects.bulk_create(
        snapshots,
        update_conflicts=True,
        unique_fields=["country_team"],
        update_fields=[
            "outcome_count",
            "output_count",
            "indicator_count",
            "programme_count",
            "programme_budget",
            "agency_count",
            "computed_at",
        ],
    )
    return list(TeamSnapshot.objects.filter(country_team_id__in=ids).order_by("pk"))


# --- requests ---------------------------------------------------------------------


def request_team_rollups(
    *,
    team_id: int,
    year: int | None = None,
    indicators: Iterable[int] | None = None,
    reason: str = "",
) -> bool:
    """Mark a team's rollups out of date in the caller's transaction, and wake a
    worker once it commits. With a `year`, only that year's figures changed,
    and with `indicators` too, only those indicators' values (see
    `RollupRequest`). Returns False when this transaction already asked for the
    year or for the whole team (widening that request's indicators if need be).

    An import writes thousands of rows in one transaction; one request per year
    is enough. The request and its wake-up call live in the same savepoint, so a
    rolled-back savepoint drops both and the next write records them again.
    """
    named = None if year is None or indicators is None else sorted(set(indicators))
    connection = transaction.get_connection()
    covering = [
        callback.unportal_rollup_request
        for _savepoints, callback, _robust in connection.run_on_commit
        if getattr(callback, "unportal_rollup_team", None) == team_id
        and callback.unportal_rollup_year in (None, year)
    ]
    # A job run inside this same transaction may have consumed the request; the
    # wake-up call is still queued, but the change needs a request of its own.
    found = list(RollupRequest.objects.filter(pk__in=covering))
    if found:
        # A request for the whole team covers everything; else widen the year's.
        _widen(min(found, key=lambda request: request.year is not None), named)
        return False
    request = RollupRequest.objects.create(
        country_team_id=team_id, year=year, indicators=named, reason=reason[:100]
    )

    # A function, not a partial: Django logs a failing robust callback by its
    # __qualname__, which partials lack.
    def wake_up() -> None:
        wake_rollup_worker(team_id)

    wake_up.unportal_rollup_team = team_id  # type: ignore[attr-defined]
    wake_up.unportal_rollup_year = year  # type: ignore[attr-defined]
    wake_up.unportal_rollup_request = request.pk  # type: ignore[attr-defined]
    # robust: the data is saved whatever happens to the rollup job; in eager mode
    # a failing job is logged and its request stays for the next run.
    transaction.on_commit(wake_up, robust=True)
    return True


def _widen(request: RollupRequest, indicators: list[int] | None) -> None:
    """Make an earlier request of this transaction cover these indicators too."""
    if request.year is None or request.indicators is None:
        return
    if indicators is None:
        request.indicators = None
    elif set(indicators) <= set(request.indicators):
        return
    else:
        request.indicators = sorted({*request.indicators, *indicators})
    request.save(update_fields=["indicators"])


def wake_rollup_worker(team_id: int) -> None:
    """Send the team's rollup job to the broker; if it is down, leave it to the
    sweep (the request row is already committed)."""
    from reporting.tasks import process_team_rollups_task

    try:
        process_team_rollups_task.apply_async(
            args=[team_id], retry_policy=WAKE_UP_RETRY_POLICY
        )
    except (BrokerError, OSError) as exc:
        logger.warning(
            "Could not queue the rollup job of team %s (%s); the sweep will run it.",
            team_id,
            exc,
        )


# --- jobs -------------------------------------------------------------------------


@dataclass(frozen=True)
class RollupRun:
    """What one job did for one team."""

    team_id: int
    claimed: int = 0
    recomputed: bool = False
    # The years recomputed when the requests named years; None: all of them.
    years: tuple[int, ...] | None = None
    # The indicators whose progress was recomputed; None: all of them.
    indicators: tuple[int, ...] | None = None
    busy: bool = False
    rows: dict[str, int] = field(default_factory=dict)  # written, per table
    computed_at: datetime | None = None


def process_team_rollups(*, team_id: int, wait: bool = True) -> RollupRun:
    """Recompute a team's rollups if it has requests waiting; consume them.

    Idempotent: with nothing waiting it does nothing. With `wait=False` a team
    whose job is running elsewhere is skipped (busy) instead of waited for.
    """
    return _run(team_id=team_id, wait=wait, force=False, progress=None)


def rebuild_team_rollups(
    *, team_id: int, progress: Progress | None = None
) -> RollupRun:
    """Recompute a team's rollups whether or not anything asked for it."""
    return _run(team_id=team_id, wait=True, force=True, progress=progress)


def _run(
    *, team_id: int, wait: bool, force: bool, progress: Progress | None
) -> RollupRun:
    with transaction.atomic():
        state = _lock_state(team_id, wait=wait)
        if state is None:
            return RollupRun(team_id=team_id, busy=True)
        claimed = _claim_requests([team_id])
        if not claimed and not force:
            return RollupRun(team_id=team_id)
        # A team never recomputed has no rows to keep: it gets all of them.
        teams = (
            rollups.Teams.of([team_id])
            if force or state.computed_at is None
            else _teams_asked(team_id, claimed.values())
        )
        rows = rollups.recompute_teams(teams, progress=progress)
        computed_at = _finish([team_id], list(claimed))
    return RollupRun(
        team_id=team_id,
        claimed=len(claimed),
        recomputed=True,
        years=teams.years,
        indicators=teams.indicators,
        rows=rows,
        computed_at=computed_at,
    )


def _teams_asked(
    team_id: int, asked: Iterable[tuple[int | None, list[int] | None]]
) -> rollups.Teams:
    """The recompute the claimed requests ask for, as (year, indicators) pairs:
    the years and indicators they name, or everything if one names none."""
    years: set[int] = set()
    indicators: set[int] | None = set()
    for year, named in asked:
        if year is None:
            return rollups.Teams.of([team_id])
        years.add(year)
        if named is None or indicators is None:
            indicators = None
        else:
            indicators.update(named)
    return rollups.Teams.of([team_id], years=years, indicators=indicators)


def _lock_state(team_id: int, *, wait: bool) -> RollupState | None:
    RollupState.objects.get_or_create(country_team_id=team_id)
    states = RollupState.objects.filter(country_team_id=team_id)
    if wait:
        return states.select_for_update().get()
    return states.select_for_update(skip_locked=True).first()


def _lock_states(team_ids: Sequence[int]) -> None:
    """Lock the teams' state rows, waiting for their jobs, in team order."""
    RollupState.objects.bulk_create(
        [RollupState(country_team_id=team_id) for team_id in team_ids],
        ignore_conflicts=True,
    )
    list(
        RollupState.objects.filter(country_team_id__in=team_ids)
        .order_by("country_team_id")
        .select_for_update()
        .values_list("pk", flat=True)
    )


def _claim_requests(
    team_ids: Sequence[int],
) -> dict[int, tuple[int | None, list[int] | None]]:
    """The teams' waiting requests, locked, with the year and the indicators
    each names; those another job holds are its own."""
    return {
        pk: (year, indicators)
        for pk, year, indicators in RollupRequest.objects.filter(
            country_team_id__in=team_ids
        )
        .select_for_update(skip_locked=True)
        .values_list("pk", "year", "indicators")
    }


def _finish(team_ids: Sequence[int], claimed: Sequence[int]) -> datetime:
    """After a recompute: snapshots, claimed requests consumed, teams stamped."""
    refresh_team_snapshots(team_ids=team_ids)
    RollupRequest.objects.filter(pk__in=claimed).delete()
    computed_at = timezone.now()
    RollupState.objects.filter(country_team_id__in=team_ids).update(
        computed_at=computed_at
    )
    return computed_at


def sweep_rollup_requests() -> list[RollupRun]:
    """Run the job of every team with requests left behind (broker down, worker
    killed), oldest first. Teams whose job is running are left to that job."""
    runs = []
    for team_id in RollupRequest.objects.team_ids():
        try:
            runs.append(process_team_rollups(team_id=team_id, wait=False))
        # One team's failing job must not starve the others; its requests stay
        # and the next sweep tries again.
        except Exception:
            logger.exception("Rollup job of team %s failed in the sweep", team_id)
    return runs


@dataclass(frozen=True)
class RebuildBatch:
    """What a full rebuild did for one batch of teams."""

    team_ids: tuple[int, ...]
    claimed: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # written, per table
    computed_at: datetime | None = None


def plan_rebuild_batches(
    *, contributions: int = REBUILD_BATCH_CONTRIBUTIONS
) -> list[list[CountryTeam]]:
    """Every team in code order, cut into batches of at most `contributions`
    contributions (a larger team is a batch of its own)."""
    sizes = dict(
        Contribution.objects.values_list("country_team_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    batches: list[list[CountryTeam]] = []
    batch: list[CountryTeam] = []
    size = 0
    for team in CountryTeam.objects.order_by("code"):
        team_size = sizes.get(team.pk, 0)
        if batch and size + team_size > contributions:
            batches.append(batch)
            batch, size = [], 0
        batch.append(team)
        size += team_size
    if batch:
        batches.append(batch)
    return batches


def rebuild_teams_rollups(
    *, team_ids: Sequence[int], progress: Progress | None = None
) -> RebuildBatch:
    """Recompute several teams' rollups in one transaction, with the statements
    of one team's job run once over all of them; waits for their running jobs."""
    teams = rollups.Teams.of(team_ids)
    with transaction.atomic():
        _lock_states(teams.ids)
        claimed = _claim_requests(teams.ids)
        rows = rollups.recompute_teams(teams, progress=progress)
        computed_at = _finish(teams.ids, list(claimed))
    return RebuildBatch(
        team_ids=teams.ids, claimed=len(claimed), rows=rows, computed_at=computed_at
    )


def rebuild_all_rollups(
    *,
    on_batch: Callable[[Sequence[CountryTeam]], Progress | None] | None = None,
    contributions: int = REBUILD_BATCH_CONTRIBUTIONS,
) -> list[RebuildBatch]:
    """Rebuild every team's rollups, one transaction per batch of teams (see
    `plan_rebuild_batches`); `on_batch` may give each batch a progress callback."""
    done = []
    for batch in plan_rebuild_batches(contributions=contributions):
        progress = on_batch(batch) if on_batch else None
        done.append(
            rebuild_teams_rollups(
                team_ids=[team.pk for team in batch], progress=progress
            )
        )
    return done


def audit_team_rollups(*, team_id: int) -> list[rollups.Difference]:
    """Recompute a team's rollups in memory; list stored rows that differ."""
    with transaction.atomic():
        return rollups.audit_team(team_id)


# --- the "rebuild" button -----------------------------------------------------------


def rebuild_progress_key(team_id: int) -> str:
    """The cache key a page polls for {done, total} of a team's rebuild."""
    return f"rollup-rebuild:{team_id}"


def report_rebuild_progress(*team_ids: int) -> Progress:
    """A progress callback that publishes the rebuild of one team, or of a
    batch of teams rebuilt together, to each team's cache key."""

    def publish(done: int, total: int) -> None:
        cache.set_many(
            {
                rebuild_progress_key(team_id): {"done": done, "total": total}
                for team_id in team_ids
            },
            timeout=REBUILD_PROGRESS_TIMEOUT,
        )

    return publish


def queue_team_rollup_rebuild(*, team_id: int) -> None:
    """Ask a worker to rebuild a team's rollups; the page can poll at once."""
    from reporting.tasks import rebuild_team_rollups_task

    report_rebuild_progress(team_id)(0, 0)
    transaction.on_commit(partial(rebuild_team_rollups_task.delay, team_id))
