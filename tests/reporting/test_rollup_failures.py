"""Rollup jobs under failure: repeated, killed half-way, broker down, raced, and
run by a real worker that gets killed.

The PostgreSQL tests commit for real (transaction=True) so that separate
connections and a separate worker process see the rows.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection, connections, transaction

from reporting import rollups
from reporting.models import (
    RollupRequest,
    RollupState,
    TeamFundingRollup,
)
from reporting.services import (
    audit_team_rollups,
    process_team_rollups,
    rebuild_all_rollups,
    rebuild_team_rollups,
    sweep_rollup_requests,
)
from reporting.tasks import process_team_rollups_task
from tests.frameworks.joint_work_factories import JointWorkWorld, build_world
from tests.reporting import test_live_worker
from tests.reporting.test_live_worker import LiveWorker
from tests.reporting.test_rollups import activity, contribution, measure, stored_rows
from unportal.celery import app as celery_app

# The live worker of test_live_worker: a process on a queue of its own.
live_worker = test_live_worker.live_worker


def add_work(world: JointWorkWorld, *, required: int = 100) -> None:
    """A validated and a submitted contribution, and a validated measurement."""
    work = activity(world, agencies=[world.undp, world.unicef])
    contribution(
        world, work, world.undp, required=required, available=60, spent=10,
        state="validated",
    )  # fmt: skip
    contribution(
        world, work, world.unicef, required=40, available=5, spent=0,
        state="submitted",
    )  # fmt: skip
    measure(world.wfp_indicator, world.year, agency=world.wfp, value=7)


# --- on any database ----------------------------------------------------------------


@pytest.fixture
def world(db) -> JointWorkWorld:
    return build_world()


def test_running_the_same_job_twice_gives_the_same_rows(world):
    add_work(world)
    rebuild_team_rollups(team_id=world.team.pk)
    first = stored_rows(world.team.pk)
    assert first["TeamFundingRollup"]

    again = rebuild_team_rollups(team_id=world.team.pk)
    RollupRequest.objects.create(country_team=world.team, reason="again")
    process_team_rollups(team_id=world.team.pk)

    assert stored_rows(world.team.pk) == first
    # Progress rows are written only where they change: here, none.
    assert again.rows["IndicatorProgress"] == 0
    assert audit_team_rollups(team_id=world.team.pk) == []


def test_a_job_killed_after_its_delete_leaves_old_rows_and_request(world, monkeypatch):
    add_work(world)
    rebuild_team_rollups(team_id=world.team.pk)
    before = stored_rows(world.team.pk)
    computed_at = RollupState.objects.get(country_team=world.team).computed_at
    add_work(world, required=999)  # a change that records a request
    assert RollupRequest.objects.filter(country_team=world.team).exists()
    write = rollups.write_funding_table

    def die_after_delete(cursor, table, teams):
        if table.model is TeamFundingRollup:
            TeamFundingRollup.objects.filter(country_team_id__in=teams.ids).delete()
            raise RuntimeError("worker lost half-way")
        return write(cursor, table, teams)

    monkeypatch.setattr(rollups, "write_funding_table", die_after_delete)
    with pytest.raises(RuntimeError, match="half-way"):
        process_team_rollups(team_id=world.team.pk)

    assert stored_rows(world.team.pk) == before
    assert RollupRequest.objects.filter(country_team=world.team).exists()
    state = RollupState.objects.get(country_team=world.team)
    assert state.computed_at == computed_at

    monkeypatch.undo()
    assert process_team_rollups(team_id=world.team.pk).recomputed
    assert not RollupRequest.objects.exists()
    assert audit_team_rollups(team_id=world.team.pk) == []
    totals = TeamFundingRollup.objects.get(agency=None, basis="validated")
    assert totals.required == Decimal(100 + 999)


def test_a_full_rebuild_killed_half_way_leaves_every_team_as_it_was(world, monkeypatch):
    add_work(world)
    other = world.other_team
    rebuild_team_rollups(team_id=world.team.pk)
    rebuild_team_rollups(team_id=other.pk)
    before = {team.pk: stored_rows(team.pk) for team in (world.team, other)}
    stamps = dict(RollupState.objects.values_list("country_team_id", "computed_at"))
    add_work(world, required=999)
    RollupRequest.objects.create(country_team=other, reason="waiting")
    write = rollups.write_progress

    def die_half_way(cursor, teams):
        TeamFundingRollup.objects.filter(country_team_id__in=teams.ids).delete()
        raise RuntimeError("worker lost half-way")

    monkeypatch.setattr(rollups, "write_progress", die_half_way)
    with pytest.raises(RuntimeError, match="half-way"):
        rebuild_all_rollups()

    assert {team.pk: stored_rows(team.pk) for team in (world.team, other)} == before
    assert set(RollupRequest.objects.values_list("country_team_id", flat=True)) == {
        world.team.pk,
        other.pk,
    }
    assert (
        dict(RollupState.objects.values_list("country_team_id", "computed_at"))
        == stamps
    )

    monkeypatch.setattr(rollups, "write_progress", write)
    rebuild_all_rollups()
    assert not RollupRequest.objects.exists()
    assert audit_team_rollups(team_id=world.team.pk) == []
    totals = TeamFundingRollup.objects.get(
        country_team=world.team, agency=None, basis="validated"
    )
    assert totals.required == Decimal(100 + 999)


@pytest.fixture
def broker_down():
    """Send tasks for real, to a broker address where nothing listens."""
    conf = celery_app.conf
    names = ("task_always_eager", "broker_url", "broker_transport_options")
    saved = {name: conf[name] for name in names}
    # The app keeps its connection and producer pools once made; pools for the
    # real (or the in-memory) broker must not be reused, nor outlive this test.
    saved_pools = celery_app._pool, celery_app.amqp._producer_pool
    celery_app._pool = celery_app.amqp._producer_pool = None
    conf.update(
        task_always_eager=False,
        broker_url="redis://127.0.0.1:1/0",
        broker_transport_options={"max_retries": 0},
    )
    try:
        yield
    finally:
        conf.update(saved)
        celery_app._pool, celery_app.amqp._producer_pool = saved_pools


def test_saving_with_the_broker_down_succeeds_and_the_sweep_catches_up(
    world, broker_down, django_capture_on_commit_callbacks, caplog
):
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="reporting.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        work = activity(world)
        contribution(
            world, work, world.undp, required=70, available=20, spent=5,
            state="validated",
        )  # fmt: skip
    assert time.monotonic() - started < 10
    assert "the sweep will run it" in caplog.text
    assert RollupRequest.objects.filter(country_team=world.team).exists()
    assert not TeamFundingRollup.objects.exists()

    celery_app.conf.task_always_eager = True  # the broker is back
    runs = sweep_rollup_requests()

    assert [run.team_id for run in runs if run.recomputed] == [world.team.pk]
    assert not RollupRequest.objects.exists()
    total = TeamFundingRollup.objects.get(agency=None, basis="validated")
    assert total.required == Decimal(70)


def test_the_sweep_skips_nothing_and_repeats_nothing(world):
    add_work(world)
    other = world.other_team
    RollupRequest.objects.create(country_team=other, reason="left behind")
    runs = {run.team_id: run for run in sweep_rollup_requests()}
    assert set(runs) == {world.team.pk, other.pk}
    assert all(run.recomputed for run in runs.values())
    assert sweep_rollup_requests() == []


# --- PostgreSQL: separate connections and a real worker -----------------------------


def _in_thread(target, *args):
    """Run target in a thread with its own connection; return (thread, outcome)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = target(*args)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.fixture
def slow_jobs(monkeypatch):
    """Call to hold every later job inside its transaction for a moment, so jobs
    overlap (set up data first: each write runs its own job in eager mode)."""
    stage = rollups.stage_sums

    def slow(cursor, teams):
        time.sleep(0.4)
        return stage(cursor, teams)

    return lambda: monkeypatch.setattr(rollups, "stage_sums", slow)


@pytest.mark.parametrize("job", ["process", "rebuild"])
@pytest.mark.usefixtures("postgres")
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_team_take_turns(job, slow_jobs):
    world = build_world()
    add_work(world)
    slow_jobs()
    RollupRequest.objects.create(country_team=world.team, reason="race")
    run = process_team_rollups if job == "process" else rebuild_team_rollups
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        return run(team_id=world.team.pk)

    started = [_in_thread(worker) for _ in range(2)]
    for thread, _outcome in started:
        thread.join(timeout=30)
    outcomes = [outcome for _thread, outcome in started]
    assert [o.get("error") for o in outcomes] == [None, None]
    recomputed = [o["result"].recomputed for o in outcomes]
    # The state row lock makes them take turns; only one finds the request.
    assert sorted(recomputed) == ([False, True] if job == "process" else [True, True])
    assert not RollupRequest.objects.exists()
    assert audit_team_rollups(team_id=world.team.pk) == []


@pytest.mark.usefixtures("postgres")
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_write_during_a_job_gets_a_job_of_its_own(slow_jobs):
    world = build_world()
    add_work(world)
    slow_jobs()
    RollupRequest.objects.create(country_team=world.team, reason="first")
    thread, outcome = _in_thread(lambda: process_team_rollups(team_id=world.team.pk))
    time.sleep(0.2)  # the job is staging, inside its transaction
    # Eager Celery: this write's job runs right after its commit and waits for
    # the running one to finish.
    work = activity(world)
    contribution(
        world, work, world.undp, required=555, available=0, spent=0,
        state="validated",
    )  # fmt: skip
    thread.join(timeout=30)
    assert outcome.get("error") is None
    assert not RollupRequest.objects.exists()
    assert audit_team_rollups(team_id=world.team.pk) == []
    call_command("audit_rollups")


def _holding_a_team(team) -> tuple[threading.Event, threading.Thread, dict]:
    """A thread that holds the team's job lock (as a running job does) until
    the returned event is set."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            RollupState.objects.select_for_update().get(country_team=team)
            locked.set()
            release.wait(timeout=30)

    thread, outcome = _in_thread(hold)
    assert locked.wait(timeout=10)
    return release, thread, outcome


@pytest.mark.usefixtures("postgres")
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_full_rebuild_waits_for_a_teams_running_job():
    world = build_world()
    add_work(world)
    RollupRequest.objects.create(country_team=world.team, reason="waiting")
    release, holder, held = _holding_a_team(world.team)
    try:
        rebuild, rebuilt = _in_thread(rebuild_all_rollups)
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_a_lock()
        assert rebuild.is_alive()
    finally:
        release.set()
        holder.join(timeout=30)
    rebuild.join(timeout=30)
    assert (held.get("error"), rebuilt.get("error")) == (None, None)
    (batch,) = rebuilt["result"]
    assert set(batch.team_ids) == {world.team.pk, world.other_team.pk}
    assert not RollupRequest.objects.exists()
    assert audit_team_rollups(team_id=world.team.pk) == []


@pytest.mark.usefixtures("postgres")
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_write_during_a_full_rebuild_gets_a_job_of_its_own(slow_jobs):
    world = build_world()
    add_work(world)
    slow_jobs()
    thread, outcome = _in_thread(rebuild_all_rollups)
    time.sleep(0.2)  # the rebuild is staging, inside its transaction
    # Eager Celery: this write's job runs right after its commit and waits for
    # the rebuild's batch to finish.
    work = activity(world)
    contribution(
        world, work, world.undp, required=555, available=0, spent=0,
        state="validated",
    )  # fmt: skip
    thread.join(timeout=30)
    assert outcome.get("error") is None
    assert not RollupRequest.objects.exists()
    total = TeamFundingRollup.objects.get(
        country_team=world.team, agency=None, basis="validated"
    )
    assert total.required == Decimal(100 + 555)
    call_command("audit_rollups")


@pytest.mark.usefixtures("postgres")
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_full_rebuilds_and_a_job_at_once_take_turns(slow_jobs):
    world = build_world()
    add_work(world)
    add_work(world, required=50)
    slow_jobs()
    RollupRequest.objects.create(country_team=world.team, reason="race")
    barrier = threading.Barrier(3)

    def rebuild(contributions: int):
        barrier.wait()
        return rebuild_all_rollups(contributions=contributions)

    def job():
        barrier.wait()
        return process_team_rollups(team_id=world.team.pk)

    # One rebuild in a batch per team, the other in one batch: their locks
    # overlap in every order a deadlock would need.
    started = [_in_thread(rebuild, 1), _in_thread(rebuild, 1000), _in_thread(job)]
    for thread, _outcome in started:
        thread.join(timeout=60)
    assert [outcome.get("error") for _thread, outcome in started] == [None] * 3
    assert not RollupRequest.objects.exists()
    call_command("audit_rollups")


def send_job(worker: LiveWorker, redis_url: str, team_id: int) -> None:
    """Send the team's job through Redis to the test worker's own queue."""
    conf = celery_app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False
    try:
        with celery_app.connection_for_write(redis_url) as broker:
            process_team_rollups_task.apply_async(
                args=[team_id], queue=worker.queue, connection=broker
            )
    finally:
        conf.task_always_eager = eager


def _wait_until(condition, timeout: float, what: str, worker: LiveWorker) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s:\n{worker.log()}")
        time.sleep(0.05)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_live_worker_runs_a_job_sent_through_redis(live_worker, redis_url):
    world = build_world()
    add_work(world)
    RollupRequest.objects.all().delete()
    TeamFundingRollup.objects.all().delete()
    # A change whose wake-up call goes through Redis to the worker's own queue.
    RollupRequest.objects.create(country_team=world.team, reason="through Redis")
    send_job(live_worker, redis_url, world.team.pk)
    _wait_until(
        lambda: not RollupRequest.objects.exists(),
        30,
        "the worker did not consume the request",
        live_worker,
    )
    assert TeamFundingRollup.objects.filter(country_team=world.team).exists()
    assert "process_team_rollups_task" in live_worker.log()
    call_command("audit_rollups")


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_leaves_requests_the_sweep_completes(
    live_worker, redis_url
):
    world = build_world()
    add_work(world)
    RollupRequest.objects.create(country_team=world.team, reason="doomed job")
    release = threading.Event()

    def hold_the_team():
        # Another job holds the team: the worker's job starts, takes its
        # transaction and waits there, which is as mid-job as it gets.
        with transaction.atomic():
            RollupState.objects.select_for_update().get(country_team=world.team)
            release.wait(timeout=30)

    holder, held = _in_thread(hold_the_team)
    try:
        _wait_until(
            lambda: RollupState.objects.filter(country_team=world.team).exists(),
            5,
            "no state row",
            live_worker,
        )
        send_job(live_worker, redis_url, world.team.pk)
        _wait_until(_waiting_on_a_lock, 30, "the job never started", live_worker)
        live_worker.process.send_signal(signal.SIGKILL)
        live_worker.process.wait(timeout=10)
    finally:
        release.set()
        holder.join(timeout=30)
    assert held.get("error") is None
    assert RollupRequest.objects.filter(country_team=world.team).exists()

    # The beat's sweep, until the killed job's connection is gone for good.
    deadline = time.monotonic() + 30
    while RollupRequest.objects.exists() and time.monotonic() < deadline:
        sweep_rollup_requests()
        close_old_connections()
        time.sleep(0.1)
    assert not RollupRequest.objects.exists()
    assert audit_team_rollups(team_id=world.team.pk) == []
    call_command("audit_rollups")
