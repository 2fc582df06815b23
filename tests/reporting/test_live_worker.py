"""A real Celery worker takes reporting jobs off Redis and writes to PostgreSQL.

Eager mode hides serialisation, routing and cross-process transaction visibility;
this test goes through the broker to a separate worker process instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from reporting.models import TeamSnapshot
from reporting.tasks import refresh_team_snapshot_task
from tests.coordination.factories import CountryTeamFactory, TeamAgencyFactory
from tests.frameworks.factories import (
    FrameworkFactory,
    IndicatorFactory,
    OutcomeFactory,
    OutputFactory,
    ParticipantFactory,
)
from unportal.celery import app as celery_app

pytestmark = pytest.mark.services

READY_TIMEOUT = 30.0
RESULT_TIMEOUT = 30.0


@dataclass
class LiveWorker:
    queue: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in self.log():
            if self.process.poll() is not None:
                pytest.fail(f"Celery worker exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Celery worker not ready in {READY_TIMEOUT} s:\n{self.log()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGTERM is Celery's warm shutdown: the current task finishes first.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def database_url_for_worker() -> str:
    """A URL for the database pytest-django created, for another process."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def live_worker(postgres, redis_url, tmp_path) -> Iterator[LiveWorker]:
    """A worker process on a queue of its own, so stale messages never reach it."""
    queue = f"test-live-worker-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "unportal.settings",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url_for_worker(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Lets the worker drop its connection before pytest drops the test database.
        "DATABASE_CONN_MAX_AGE": "0",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "unportal",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "-l",
                "INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    worker = LiveWorker(queue=queue, process=process, log_path=log_path)
    try:
        worker.wait_until_ready()
        yield worker
    finally:
        worker.stop()
        _forget_queue(redis_url, queue)


def _forget_queue(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture
def celery_through_redis(redis_url) -> Iterator[None]:
    """Send tasks from this process through Redis instead of running them inline."""
    conf = celery_app.conf
    saved = {"task_always_eager": conf.task_always_eager, "broker_url": conf.broker_url}
    conf.task_always_eager = False
    conf.broker_url = redis_url
    try:
        yield
    finally:
        conf.update(saved)


def wait_for_snapshot(team_id: int, worker: LiveWorker) -> TeamSnapshot:
    deadline = time.monotonic() + RESULT_TIMEOUT
    while time.monotonic() < deadline:
        snapshot = TeamSnapshot.objects.filter(country_team_id=team_id).first()
        if snapshot is not None:
            return snapshot
        if worker.process.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail(
        f"no TeamSnapshot for team {team_id} within {RESULT_TIMEOUT} s "
        f"(worker exit code {worker.process.poll()}):\n{worker.log()}"
    )


@pytest.mark.django_db(transaction=True)
def test_worker_refreshes_team_snapshot_sent_through_redis(
    live_worker, celery_through_redis
):
    team = CountryTeamFactory()
    framework = FrameworkFactory(country_team=team, status="active")
    first_outcome, second_outcome = OutcomeFactory.create_batch(2, framework=framework)
    outputs = [
        OutputFactory(outcome=first_outcome),
        OutputFactory(outcome=first_outcome),
        OutputFactory(outcome=second_outcome),
    ]
    IndicatorFactory(output=outputs[0])
    TeamAgencyFactory(country_team=team)
    TeamAgencyFactory(country_team=team)
    first = ParticipantFactory(
        programme__country_team=team, budget_share=Decimal("250000")
    )
    ParticipantFactory(programme=first.programme, budget_share=Decimal("150000.50"))
    # Another team's rows must not leak into this team's figures.
    OutputFactory(outcome__framework__country_team=CountryTeamFactory())
    assert not TeamSnapshot.objects.filter(country_team=team).exists()

    with celery_app.connection_for_write() as broker:
        refresh_team_snapshot_task.apply_async(
            args=[team.pk], queue=live_worker.queue, connection=broker
        )

    snapshot = wait_for_snapshot(team.pk, live_worker)
    figures = (
        snapshot.outcome_count,
        snapshot.output_count,
        snapshot.indicator_count,
        snapshot.programme_count,
        snapshot.programme_budget,
        snapshot.agency_count,
    )
    assert figures == (2, 3, 1, 1, Decimal("400000.50"), 2), live_worker.log()
    assert "refresh_team_snapshot_task" in live_worker.log()
