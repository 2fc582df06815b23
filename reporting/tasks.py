"""Celery wrappers: take ids, call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

# A lost connection, a deadlock or a serialisation failure is worth another go;
# the job is idempotent and its requests stay until it succeeds.
_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def refresh_team_snapshot_task(team_id: int) -> None:
    from reporting.services import refresh_team_snapshot

    refresh_team_snapshot(team_id=team_id)


@shared_task(**_RETRY)
def process_team_rollups_task(team_id: int) -> None:
    from reporting.services import process_team_rollups

    process_team_rollups(team_id=team_id)


@shared_task(**_RETRY)
def sweep_rollup_requests_task() -> None:
    from reporting.services import sweep_rollup_requests

    sweep_rollup_requests()


@shared_task(**_RETRY)
def rebuild_team_rollups_task(team_id: int) -> None:
    from reporting.services import rebuild_team_rollups, report_rebuild_progress

    rebuild_team_rollups(team_id=team_id, progress=report_rebuild_progress(team_id))


@shared_task(**_RETRY)
def rebuild_all_rollups_task() -> None:
    from reporting.services import rebuild_all_rollups, report_rebuild_progress

    # Each team's page shows the progress of the batch its team is rebuilt in.
    rebuild_all_rollups(
        on_batch=lambda teams: report_rebuild_progress(*(team.pk for team in teams))
    )


# The report job lives in its own module; Celery finds tasks in <app>.tasks.
from reporting.report_tasks import build_report_task as build_report_task  # noqa: E402
