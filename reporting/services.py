"""Writes of precomputed reporting rows, always recomputed from source rows.

Rollups follow one protocol. A writer records a `RollupRequest` for its team in
its own transaction and wakes a worker after commit (`request_team_rollups`). A
job (`process_team_rollups`) locks the team's `RollupState` row, so jobs of one
team run one at a time, claims the waiting requests with SKIP LOCKED, recomputes
the team, deletes what it claimed and stamps `computed_at`, all in one
transaction. A request that arrives while a job runs is not claimed by it and
gets a run of its own; a job that dies rolls back and leaves its requests for the
next run or the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from coordination.models import CountryTeam
from frameworks.models import (
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


@transaction.atomic
def refresh_team_snapshot(*, team_id: int) -> TeamSnapshot:
    """Recompute a team's headline figures from source rows (idempotent)."""
    team = CountryTeam.objects.select_for_update().get(pk=team_id)
    framework_counts = CooperationFramework.objects.filter(
        country_team=team, status=FrameworkStatus.ACTIVE
    ).aggregate(
        outcomes=Count("outcomes", distinct=True),
        outputs=Count("outputs", distinct=True),
        indicators=Count("indicators", distinct=True),
    )
    budget = JointProgrammeParticipant.objects.filter(
        programme__country_team=team
    ).aggregate(total=Sum("budget_share"), programmes=Count("programme", distinct=True))
    agency_count = team.team_agencies.filter(~Q(agency=None)).count()
    snapshot, _ = TeamSnapshot.objects.update_or_create(
        country_team=team,
        defaults={
            "outcome_count": framework_counts["outcomes"] or 0,
            "output_count": framework_counts["outputs"] or 0,
            "indicator_count": framework_counts["indicators"] or 0,
            "programme_count": budget["programmes"] or 0,
            "programme_budget": budget["total"] or Decimal("0"),
            "agency_count": agency_count,
            "computed_at": timezone.now(),
        },
    )
    return snapshot


# --- requests ---------------------------------------------------------------------


def request_team_rollups(*, team_id: int, reason: str = "") -> bool:
    """Mark a team's rollups out of date in the caller's transaction, and wake a
    worker once it commits. Returns False when this transaction already did.

    An import writes thousands of rows in one transaction; one request is enough.
    The request and its wake-up call live in the same savepoint, so a rolled-back
    savepoint drops both and the next write records them again.
    """
    connection = transaction.get_connection()
    pending = [
        callback.unportal_rollup_request
        for _savepoints, callback, _robust in connection.run_on_commit
        if getattr(callback, "unportal_rollup_team", None) == team_id
    ]
    # A job run inside this same transaction may have consumed the request; the
    # wake-up call is still queued, but the change needs a request of its own.
    if pending and RollupRequest.objects.filter(pk=pending[-1]).exists():
        return False
    request = RollupRequest.objects.create(country_team_id=team_id, reason=reason[:100])

    # A function, not a partial: Django logs a failing robust callback by its
    # __qualname__, which partials lack.
    def wake_up() -> None:
        wake_rollup_worker(team_id)

    wake_up.unportal_rollup_team = team_id  # type: ignore[attr-defined]
    wake_up.unportal_rollup_request = request.pk  # type: ignore[attr-defined]
    # robust: the data is saved whatever happens to the rollup job; in eager mode
    # a failing job is logged and its request stays for the next run.
    transaction.on_commit(wake_up, robust=True)
    return True


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
        claimed = list(
            RollupRequest.objects.filter(country_team_id=team_id)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        if not claimed and not force:
            return RollupRun(team_id=team_id)
        rows = rollups.recompute_team(team_id, progress=progress)
        refresh_team_snapshot(team_id=team_id)
        RollupRequest.objects.filter(pk__in=claimed).delete()
        state.computed_at = timezone.now()
        state.save(update_fields=["computed_at"])
    return RollupRun(
        team_id=team_id,
        claimed=len(claimed),
        recomputed=True,
        rows=rows,
        computed_at=state.computed_at,
    )


def _lock_state(team_id: int, *, wait: bool) -> RollupState | None:
    RollupState.objects.get_or_create(country_team_id=team_id)
    states = RollupState.objects.filter(country_team_id=team_id)
    if wait:
        return states.select_for_update().get()
    return states.select_for_update(skip_locked=True).first()


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


def rebuild_all_rollups(
    *, on_team: Callable[[CountryTeam], Progress | None] | None = None
) -> list[RollupRun]:
    """Rebuild every team's rollups, one transaction per team."""
    runs = []
    for team in CountryTeam.objects.order_by("code"):
        progress = on_team(team) if on_team else None
        runs.append(rebuild_team_rollups(team_id=team.pk, progress=progress))
    return runs


def audit_team_rollups(*, team_id: int) -> list[rollups.Difference]:
    """Recompute a team's rollups in memory; list stored rows that differ."""
    with transaction.atomic():
        return rollups.audit_team(team_id)


# --- the "rebuild" button -----------------------------------------------------------


def rebuild_progress_key(team_id: int) -> str:
    """The cache key a page polls for {done, total} of a team's rebuild."""
    return f"rollup-rebuild:{team_id}"


def report_rebuild_progress(team_id: int) -> Progress:
    """A progress callback that publishes a team's rebuild to the cache."""

    def publish(done: int, total: int) -> None:
        cache.set(
            rebuild_progress_key(team_id),
            {"done": done, "total": total},
            timeout=REBUILD_PROGRESS_TIMEOUT,
        )

    return publish


def queue_team_rollup_rebuild(*, team_id: int) -> None:
    """Ask a worker to rebuild a team's rollups; the page can poll at once."""
    from reporting.tasks import rebuild_team_rollups_task

    report_rebuild_progress(team_id)(0, 0)
    transaction.on_commit(partial(rebuild_team_rollups_task.delay, team_id))
