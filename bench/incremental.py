"""Incremental latency: a contribution changes, a live worker updates its rollups.

A real Celery worker (a separate process, prefork, one child) takes the rollup
jobs off Redis, exactly as in production. For each sample the bench changes one
contribution through the services with actor=None (a trusted caller): a new
revision with more money required (update_contribution), then submit, then
validate. It times the submit and the validate separately, from just before the
service call until the team's framework rollup row for that agency, year and
basis shows the new amount, polling the database every few milliseconds. The
request of the previous step is drained first, so a sample never waits behind
an earlier job.

Contributions are drawn at random (fixed seed) among those whose figures are
validated, so large teams, whose jobs take longer, are drawn more often, as
edits are in real life.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count

from frameworks.models import Contribution, ContributionRevision, WorkflowStatus
from frameworks.services import (
    FiguresData,
    ResultData,
    submit_contribution,
    update_contribution,
    validate_contribution,
)
from reporting.models import Basis, RollupRequest, TeamFundingRollup

READY_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.005
STEP = Decimal("1000.00")


class WorkerError(RuntimeError):
    """The worker did not start or a job never showed up."""


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            # Warm shutdown: the job in hand finishes and commits first.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextmanager
def live_worker() -> Iterator[Worker]:
    """A Celery worker on the bench database and broker, stopped with SIGTERM."""
    from unportal.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        raise WorkerError(
            "Set REDIS_URL and CELERY_TASK_ALWAYS_EAGER=false (make bench does), or "
            "jobs would run inside the bench process instead of a worker."
        )
    # Wake-up calls left by an interrupted run would only make the first job
    # wait; the requests themselves are in the database.
    app.control.purge()
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false"}
    with tempfile.TemporaryDirectory(prefix="unportal-bench-") as tmp:
        log_path = Path(tmp) / "worker.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "unportal",
                    "worker",
                    "--concurrency=1",
                    "--without-mingle",
                    "--without-gossip",
                    "-l",
                    "INFO",
                ],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process=process, log_path=log_path)
        try:
            _wait_until_ready(worker)
            yield worker
        finally:
            worker.stop()


def _wait_until_ready(worker: Worker) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while " ready." not in worker.log():
        if worker.process.poll() is not None:
            raise WorkerError(f"The Celery worker exited:\n{worker.log()[-3000:]}")
        if time.monotonic() > deadline:
            raise WorkerError(
                f"The Celery worker was not ready:\n{worker.log()[-3000:]}"
            )
        time.sleep(0.05)


@dataclass(frozen=True)
class Sample:
    contribution_id: int
    team_contributions: int
    submit_s: float
    validate_s: float


def _last_error(log: str) -> str:
    """The worker's last traceback, or the end of its log."""
    start = log.rfind("Traceback (most recent call last)")
    tail = log[start:] if start >= 0 else log[-1500:]
    lines = tail.strip().splitlines()
    return "\n".join([*lines[:1], "  ...", *lines[-4:]] if len(lines) > 6 else lines)


@dataclass
class Sampler:
    """Changes contributions and waits for the worker, failing fast: a job that
    fails or a worker that dies ends the measurement with its traceback."""

    worker: Worker
    timeout_s: float = 30.0

    def _wait(self, done: Callable[[], bool], what: str) -> float:
        started = time.perf_counter()
        seen = len(self.worker.log())
        polls = 0
        while not done():
            polls += 1
            # A failed job leaves its request for a retry that may never come:
            # stop at its traceback instead of waiting out the timeout.
            if polls % 100 == 0 and "Traceback" in self.worker.log()[seen:]:
                raise WorkerError(
                    f"{what}: the job failed:\n{_last_error(self.worker.log())}"
                )
            if self.worker.process.poll() is not None:
                raise WorkerError(
                    f"The worker exited:\n{_last_error(self.worker.log())}"
                )
            if time.perf_counter() - started > self.timeout_s:
                raise WorkerError(
                    f"{what} not done after {self.timeout_s:.0f} s; the worker's "
                    f"last error:\n{_last_error(self.worker.log())}"
                )
            time.sleep(POLL_INTERVAL_S)
        return time.perf_counter() - started

    def drain(self, team_id: int) -> None:
        """Wait until the team has no rollup request left (its jobs committed)."""
        self._wait(
            lambda: not RollupRequest.objects.filter(country_team_id=team_id).exists(),
            f"Team {team_id}'s rollup job",
        )

    def drain_all(self) -> None:
        self._wait(lambda: not RollupRequest.objects.exists(), "The last rollup jobs")

    def timed(
        self,
        action: Callable[..., object],
        contribution: Contribution,
        basis: str,
        expected: Decimal,
    ) -> float:
        """Seconds from the service call until the rollup shows `expected`."""
        started = time.perf_counter()
        action(actor=None, contribution=contribution)
        self._wait(
            lambda: _rollup_required(contribution, basis) == expected,
            f"The {basis} rollup of contribution {contribution.pk}",
        )
        return time.perf_counter() - started

    def change_one(self, contribution_id: int, team_size: int) -> Sample:
        """Update, submit and validate one contribution; time the last two."""
        contribution = Contribution.objects.select_related(
            "activity", "current_revision"
        ).get(pk=contribution_id)
        team_id = contribution.country_team_id
        self.drain(team_id)
        revision = contribution.current_revision
        validated_before = _rollup_required(contribution, Basis.VALIDATED)
        submitted_before = _rollup_required(contribution, Basis.SUBMITTED)
        if validated_before is None or submitted_before is None:
            raise WorkerError(
                f"Contribution {contribution_id} has no rollup row: rebuild first."
            )
        update_contribution(
            actor=None,
            contribution=contribution,
            figures=_figures(revision, revision.required + STEP),
            expected_version=None,
        )
        # A draft changes no figure; its job only has to finish before timing.
        self.drain(team_id)
        submit_s = self.timed(
            submit_contribution, contribution, Basis.SUBMITTED, submitted_before + STEP
        )
        self.drain(team_id)
        validate_s = self.timed(
            validate_contribution,
            contribution,
            Basis.VALIDATED,
            validated_before + STEP,
        )
        return Sample(
            contribution_id=contribution_id,
            team_contributions=team_size,
            submit_s=submit_s,
            validate_s=validate_s,
        )


def _rollup_required(contribution: Contribution, basis: str) -> Decimal | None:
    return (
        TeamFundingRollup.objects.filter(
            framework_id=contribution.activity.framework_id,
            agency_id=contribution.agency_id,
            year=contribution.year,
            basis=basis,
        )
        .values_list("required", flat=True)
        .first()
    )


def pick_contributions(count: int, seed: int) -> list[int]:
    """Ids of `count` distinct contributions with validated figures."""
    ids = list(
        Contribution.objects.filter(
            current_revision__status=WorkflowStatus.VALIDATED
        ).values_list("pk", flat=True)
    )
    ids.sort()
    return random.Random(seed).sample(ids, min(count, len(ids)))


def _figures(revision: ContributionRevision, required: Decimal) -> FiguresData:
    return FiguresData(
        required=required,
        available=revision.available,
        spent=revision.spent,
        funding_source=revision.funding_source,
        implementing_partners=revision.implementing_partners,
        reach=revision.reach,
        results=[
            ResultData(
                indicator=result.indicator,
                value=result.value,
                numerator=result.numerator,
                denominator=result.denominator,
                disaggregation=result.disaggregation,
            )
            for result in revision.results.select_related("indicator")
        ],
    )


@dataclass(frozen=True)
class Measured:
    samples: list[Sample]
    refused: list[str]


def measure(*, worker: Worker, samples: int, seed: int) -> Measured:
    """Change `samples` contributions, timing how soon their rollups follow.

    A change the services refuse (a data-quality error) is skipped and reported,
    and another contribution is drawn instead.
    """
    sampler = Sampler(worker=worker)
    sizes = dict(
        Contribution.objects.values_list("country_team_id")
        .annotate(n=Count("pk"))
        .values_list("country_team_id", "n")
    )
    measured: list[Sample] = []
    refused: list[str] = []
    for contribution_id in pick_contributions(samples * 3, seed):
        if len(measured) == samples:
            break
        team_id = Contribution.objects.values_list("country_team_id", flat=True).get(
            pk=contribution_id
        )
        try:
            measured.append(sampler.change_one(contribution_id, sizes[team_id]))
        except ValidationError as exc:
            refused.append(f"contribution {contribution_id}: {exc.messages}")
    sampler.drain_all()
    return Measured(samples=measured, refused=refused)
