"""Celery wrappers: take ids, call one service."""

from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def refresh_team_snapshot_task(team_id: int) -> None:
    from reporting.services import refresh_team_snapshot

    refresh_team_snapshot(team_id=team_id)
