"""make bench: rollup rebuild against the bare SQL aggregate, incremental latency
with a live worker, and the RC dashboard, on a generated data set.

Prints a readable report and ends with one JSON line:
{"contributions", "rebuild_s", "bare_sql_s", "ratio", "incremental_median_s",
"dashboard_queries", "dashboard_ms"}. See bench/README.md.

Usage: python -m bench.run [--size N] [--seed S] [--regenerate] [--repeat R]
       [--samples S] [--explain] [--no-worker] [--jit]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unportal.settings")
# The bench serves pages from a checkout without collectstatic.
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "false")
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.db.models import Count  # noqa: E402

from bench import aggregate, dashboard, database, incremental, profile  # noqa: E402
from bench.generate import DEFAULT_SEED, DEFAULT_SIZE, prepare  # noqa: E402
from coordination.models import CountryTeam  # noqa: E402
from frameworks.models import (  # noqa: E402
    Contribution,
    ContributionRevision,
    JointActivity,
    ResultValue,
)


def say(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


def heading(title: str) -> None:
    say("", title, "-" * len(title))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def seconds(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


# --- the machine ------------------------------------------------------------------


def machine() -> list[str]:
    memory = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kilobytes = int(meminfo.read_text().split("\n")[0].split()[1])
        memory = f"{kilobytes / 1024**2:.0f} GB"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        settings_shown = []
        for name in (
            "shared_buffers",
            "work_mem",
            "max_parallel_workers_per_gather",
            "jit",
        ):
            cursor.execute(f"SHOW {name}")
            settings_shown.append(f"{name}={cursor.fetchone()[0]}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"Machine: {os.cpu_count()} cores, {memory} RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"PostgreSQL {version} (bench session: {', '.join(settings_shown)}), db "
        f"{database.describe()}",
        f"Load average at start: {load} (other work on the machine adds noise)",
    ]


def _jit_off(sender: object, connection: Any, **kwargs: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")


def turn_jit_off() -> None:
    """JIT off for every connection of the bench process (not the worker's).

    PostgreSQL compiles any statement its planner costs above jit_above_cost;
    the one big bare statement then spends seconds compiling, which is not
    aggregation work. Both sides of the ratio run with the same setting.
    """
    connection_created.connect(_jit_off, dispatch_uid="bench.jit_off")
    if connection.connection is not None:
        _jit_off(None, connection)


def dataset_summary() -> str:
    counts = {
        "teams": CountryTeam.objects.count(),
        "activities": JointActivity.objects.count(),
        "contributions": Contribution.objects.count(),
        "revisions": ContributionRevision.objects.count(),
        "result values": ResultValue.objects.count(),
    }
    return "Data set: " + ", ".join(f"{n:,} {name}" for name, n in counts.items())


# --- the engine's full rebuild -----------------------------------------------------


def run_command() -> None:
    """The full rebuild as an operator runs it: `manage.py rebuild_rollups`."""
    call_command("rebuild_rollups", stdout=io.StringIO(), stderr=io.StringIO())


def rollup_step_labels() -> set[str]:
    """The recompute steps that make the rows the bare SQL adds up: staging,
    the funding tables and indicator progress. Other steps (coherence
    measures) compute tables the bare SQL does not."""
    from reporting import rollups

    return {
        "contributions",
        "keys and sums",
        *(table.label for table in rollups.funding_tables()),
        "IndicatorProgress",
    }


@contextmanager
def timed_steps() -> Iterator[dict[str, float]]:
    """Seconds spent in each recompute step (by label) while the block runs, for
    any caller of the engine: every recompute asks `recompute_steps()` for its
    list, which this wraps."""
    from reporting import rollups

    spent: dict[str, float] = {}
    original = rollups.recompute_steps

    def timed(step: Any) -> Any:
        def run(cursor: Any, teams: Any) -> Any:
            started = time.perf_counter()
            try:
                return step.run(cursor, teams)
            finally:
                spent[step.label] = spent.get(step.label, 0.0) + (
                    time.perf_counter() - started
                )

        return rollups.Step(step.label, run)

    rollups.recompute_steps = lambda: tuple(timed(s) for s in original())
    try:
        yield spent
    finally:
        rollups.recompute_steps = original


def other_steps(spent: dict[str, float]) -> dict[str, float]:
    """Time in steps that are not the rollups' own (see `rollup_step_labels`)."""
    own = rollup_step_labels()
    return {label: t for label, t in spent.items() if label not in own}


@dataclass(frozen=True)
class Timed:
    """Seconds spent on each unit of a rebuild (a batch, or a team), with the
    contributions it covered; `rollup_timings` leave out the steps whose tables
    the bare SQL does not compute."""

    timings: list[tuple[int, float]]
    labels: list[str]
    rows_written: int
    rollup_timings: list[tuple[int, float]] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(seconds for _n, seconds in self.timings)


def contribution_counts() -> dict[int, int]:
    return dict(
        Contribution.objects.values_list("country_team_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("country_team_id", "n")
    )


def rebuild_by_batch() -> Timed:
    """The full rebuild's service, batch by batch as the command runs it,
    timing each batch."""
    from reporting import services

    sizes = contribution_counts()
    timings: list[tuple[int, float]] = []
    labels: list[str] = []
    written = 0
    for batch in services.plan_rebuild_batches():
        team_ids = [team.pk for team in batch]
        started = time.perf_counter()
        done = services.rebuild_teams_rollups(team_ids=team_ids)
        timings.append(
            (sum(sizes.get(t, 0) for t in team_ids), time.perf_counter() - started)
        )
        labels.append(f"{batch[0].code}-{batch[-1].code} ({len(batch)} teams)")
        written += sum(done.rows.values())
    return Timed(timings=timings, labels=labels, rows_written=written)


def rebuild_team_by_team() -> Timed:
    """Every team through the per-team path (`rebuild_team_rollups`), one
    transaction each, as the full rebuild did before it worked in batches."""
    from reporting import services

    sizes = contribution_counts()
    timings: list[tuple[int, float]] = []
    rollup_timings: list[tuple[int, float]] = []
    labels: list[str] = []
    written = 0
    for team in CountryTeam.objects.order_by("code"):
        with timed_steps() as spent:
            started = time.perf_counter()
            run = services.rebuild_team_rollups(team_id=team.pk)
            seconds = time.perf_counter() - started
        size = sizes.get(team.pk, 0)
        timings.append((size, seconds))
        rollup_timings.append((size, seconds - sum(other_steps(spent).values())))
        labels.append(team.code)
        written += sum(run.rows.values())
    return Timed(
        timings=timings,
        labels=labels,
        rows_written=written,
        rollup_timings=rollup_timings,
    )


def fit_line(points: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares intercept and slope of seconds against contributions."""
    xs = [float(x) for x, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return mean_y, 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return mean_y - slope * mean_x, slope


def vacuum_rollups() -> None:
    """Clear the dead rows of the last rebuild, as autovacuum would between runs,
    so no run pays for (or races with) the previous one's clean-up."""
    tables = [
        model._meta.db_table
        for model in apps.get_app_config("reporting").get_models()
        if not model._meta.proxy
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")


def derived_tables() -> list[str]:
    """The reporting tables a rebuild fills: all but the job bookkeeping."""
    from reporting.models import RollupRequest, RollupState

    return [
        model._meta.db_table
        for model in apps.get_app_config("reporting").get_models()
        if not model._meta.proxy and model not in (RollupRequest, RollupState)
    ]


def empty_rollups() -> None:
    """Delete every rollup row, so the next rebuild writes them all."""
    tables = ", ".join(connection.ops.quote_name(t) for t in derived_tables())
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")


def time_rebuild() -> tuple[float, dict[str, float]]:
    """Seconds for the command, and seconds per recompute step within it."""
    vacuum_rollups()
    with timed_steps() as spent:
        started = time.perf_counter()
        run_command()
        seconds = time.perf_counter() - started
    return seconds, spent


def engine_work_mem() -> str | None:
    """The work_mem the engine gives its own transactions, if it sets one."""
    return getattr(settings, "UNPORTAL_ROLLUP_WORK_MEM", None)


@contextmanager
def bare_session() -> Iterator[Any]:
    """A cursor in a transaction with the same memory budget as a rollup job."""
    with transaction.atomic(), connection.cursor() as cursor:
        if work_mem := engine_work_mem():
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        yield cursor


def time_bare() -> aggregate.BareResult:
    with bare_session() as cursor:
        return aggregate.run_bare(cursor)


# --- report ------------------------------------------------------------------------


@dataclass
class Results:
    contributions: int
    rebuild_s: float | None = None
    other_steps_s: float | None = None
    bare_sql_s: float | None = None
    per_team_s: float | None = None
    incremental_median_s: float | None = None
    dashboard_queries: int | None = None
    dashboard_ms: float | None = None

    def as_json(self) -> str:
        ratio = rollups_ratio = None
        if self.rebuild_s and self.bare_sql_s:
            ratio = round(self.rebuild_s / self.bare_sql_s, 2)
            rollups_ratio = round(self.rollups_s / self.bare_sql_s, 2)
        return json.dumps(
            {
                "contributions": self.contributions,
                "rebuild_s": _round(self.rebuild_s, 2),
                "bare_sql_s": _round(self.bare_sql_s, 2),
                "ratio": ratio,
                "other_steps_s": _round(self.other_steps_s, 2),
                "rollups_ratio": rollups_ratio,
                "per_team_rebuild_s": _round(self.per_team_s, 2),
                "incremental_median_s": _round(self.incremental_median_s, 3),
                "dashboard_queries": self.dashboard_queries,
                "dashboard_ms": _round(self.dashboard_ms, 1),
            }
        )

    @property
    def rollups_s(self) -> float:
        """The rebuild without the steps whose tables the bare SQL does not
        compute."""
        return (self.rebuild_s or 0.0) - (self.other_steps_s or 0.0)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def plan_lines(plan: profile.Plan) -> list[str]:
    lines = [f"  EXPLAIN ANALYZE {plan.statement}: {plan.execution_ms:,.0f} ms"]
    if plan.trigger_calls:
        lines.append(
            f"    of which foreign-key triggers {plan.trigger_ms:,.0f} ms "
            f"({plan.trigger_calls:,} checks); by plan node, children excluded:"
        )
    lines += [
        f"    {node.exclusive_ms:9,.0f} ms  {node.description} "
        f"(rows={node.rows:,} loops={node.loops:,})"
        for node in plan.top_nodes
    ]
    return lines


def measure_rebuild(args: argparse.Namespace, results: Results) -> None:
    heading("Full rebuild against the bare SQL aggregate")
    say(
        "Rebuild: manage.py rebuild_rollups (call_command, in-process): every "
        "team, in batches of teams, one transaction per batch.",
        "Bare SQL: one SELECT computing the same groups and sums over the same "
        "rows, returning only totals (bench/aggregate.py), with the work_mem the "
        f"engine gives its jobs ({engine_work_mem() or 'server default'}).",
        "First one bare SQL run warms the caches (not timed). Then the rollup "
        "tables are emptied and rebuilt batch by batch, as the command does, with "
        "every statement timed: the rebuild into empty tables. Then the timed "
        "rebuilds (over current rollups, as a routine rebuild finds them) and "
        "bare SQL runs alternate; before each rebuild the rollup tables are "
        "vacuumed. Last, for comparison, every team once through the per-team "
        "path of the rollup jobs.",
    )
    time_bare()
    empty_rollups()
    with profile.profiled() as statements, timed_steps() as cold_steps:
        started = time.perf_counter()
        by_batch = rebuild_by_batch()
        cold_rebuild = time.perf_counter() - started
    # Alternating spreads any outside load over both sides of the ratio.
    rebuilds: list[tuple[float, dict[str, float]]] = []
    bares: list[float] = []
    for _ in range(args.repeat):
        rebuilds.append(time_rebuild())
        bare = time_bare()
        bares.append(bare.seconds)
    rebuilds.sort(key=lambda timed: timed[0])
    results.rebuild_s, spent = rebuilds[(len(rebuilds) - 1) // 2]
    others = other_steps(spent)
    results.other_steps_s = sum(others.values())
    results.bare_sql_s = median(bares)
    ratio = results.rebuild_s / results.bare_sql_s
    rollups_ratio = results.rollups_s / results.bare_sql_s
    cold_ratio = cold_rebuild / results.bare_sql_s
    say(
        f"Rebuild:  median {results.rebuild_s:.2f} s of {args.repeat} "
        f"({seconds([t for t, _spent in rebuilds])})",
        f"Bare SQL: median {results.bare_sql_s:.2f} s of {args.repeat} "
        f"({seconds(bares)})",
        f"Ratio:    {ratio:.2f} (target <= 1.5: {verdict(ratio)})",
    )
    if others:
        say(
            "  Of the median rebuild, steps that compute tables the bare SQL does "
            "not: "
            + ", ".join(f"{label} {t:.2f} s" for label, t in others.items())
            + f". Without them: {results.rollups_s:.2f} s, ratio "
            f"{rollups_ratio:.2f} ({verdict(rollups_ratio)}).",
        )
    say(
        "  Per step: " + ", ".join(f"{label} {t:.2f} s" for label, t in spent.items()),
        f"Rebuild into empty rollup tables: {cold_rebuild:.2f} s, "
        f"{cold_ratio:.2f} x the bare SQL (not in the JSON line).",
    )
    with connection.cursor() as cursor:
        problems = aggregate.compare_with_rollups(cursor, bare)
    if problems:
        say("WARNING: the bare SQL and the stored rollups disagree:", *problems)
    else:
        say(
            "Check: the bare SQL gives the same row counts and column sums (money, "
            "contributions, activities, agencies) as the stored rollup tables ("
            + ", ".join(f"{t.name} {t.totals.rows:,} rows" for t in bare.tables)
            + f"; {bare.cells:,} indicator cells)."
        )

    report_profile(
        statements, cold_rebuild, cold_steps, by_batch, results.contributions
    )
    explain_slowest(statements)
    if not args.no_per_team:
        compare_per_team(results)
    if args.explain:
        with bare_session() as cursor:
            say("Bare SQL statement:")
            say(*plan_lines(profile.explain(cursor, aggregate.statement(), top=8)))


def verdict(ratio: float) -> str:
    return "meets" if ratio <= 1.5 else f"misses by {ratio / 1.5:.1f}x"


def report_profile(
    statements: profile.StatementProfile,
    rebuild_s: float,
    steps: dict[str, float],
    by_batch: Timed,
    contributions: int,
) -> None:
    heading("Where the time goes (rebuild into empty rollup tables, all teams)")
    say(
        f"Rows the engine reports writing: {by_batch.rows_written:,} "
        f"({by_batch.rows_written / max(contributions, 1):.1f} per contribution)."
    )
    sql_share = statements.total / rebuild_s if rebuild_s else 0
    say(
        f"{rebuild_s:.1f} s in all: {statements.total:.1f} s in SQL "
        f"({100 * sql_share:.0f}%), {rebuild_s - statements.total:.1f} s in "
        "Python (indicator progress, ORM, Django)."
    )
    say("By recompute step:")
    for label, spent in steps.items():
        say(f"  {spent:8.2f} s  {100 * spent / rebuild_s:4.1f}%  {label}")
    say("By kind of statement:")
    for name, spent, calls in statements.top(10):
        share = 100 * spent / rebuild_s
        say(f"  {spent:8.2f} s  {share:4.1f}%  {calls:6,} x  {name}")
    say(f"{len(by_batch.timings)} batches:")
    say(
        *(
            f"  {label}: {n:,} contributions, {spent:.2f} s"
            for label, (n, spent) in zip(by_batch.labels, by_batch.timings, strict=True)
        )
    )


def compare_per_team(results: Results) -> None:
    heading("For comparison: every team through the per-team path")
    vacuum_rollups()
    per_team = rebuild_team_by_team()
    results.per_team_s = per_team.total
    rollups_only = sum(seconds for _n, seconds in per_team.rollup_timings)
    fixed, per_contribution = fit_line(per_team.rollup_timings)
    largest = max(range(len(per_team.timings)), key=lambda i: per_team.timings[i])
    size, seconds = per_team.timings[largest]
    say(
        f"{len(per_team.timings)} transactions (rebuild_team_rollups), over current "
        f"rollups: {per_team.total:.2f} s, "
        f"{per_team.total / results.bare_sql_s:.2f} x the bare SQL "
        f"(the batched rebuild: {results.rebuild_s:.2f} s); without the steps "
        f"the bare SQL does not do: {rollups_only:.2f} s, "
        f"{rollups_only / results.bare_sql_s:.2f} x (batched: "
        f"{results.rollups_s:.2f} s).",
        f"Per team, without those steps (least squares): {1000 * fixed:.0f} ms "
        f"fixed + {1e6 * per_contribution:.1f} ms per 1,000 contributions; the "
        f"fixed part is {len(per_team.timings) * fixed:.1f} s of the "
        f"{rollups_only:.1f} s. Largest team ({size:,} contributions): "
        f"{seconds:.2f} s, {per_team.rollup_timings[largest][1]:.2f} s without "
        "those steps.",
        "One team's transaction, median of the teams: "
        f"{median([t for _n, t in per_team.timings]):.2f} s; without those steps "
        f"{median([t for _n, t in per_team.rollup_timings]):.2f} s (what a rollup "
        "job adds to a change, besides Celery).",
    )


def explain_slowest(statements: profile.StatementProfile) -> None:
    """EXPLAIN ANALYZE the statement of the costliest kind in the largest batch."""
    from reporting import services

    slowest = next(
        (
            name
            for name, _spent, _calls in statements.top(20)
            if not name.startswith(("SELECT", "transaction", "COMMIT"))
        ),
        None,
    )
    if not slowest:
        return
    sizes = contribution_counts()
    largest = max(
        services.plan_rebuild_batches(),
        key=lambda batch: sum(sizes.get(team.pk, 0) for team in batch),
    )
    team_ids = [team.pk for team in largest]
    plan = profile.explain_engine_statement(
        lambda: services.rebuild_teams_rollups(team_ids=team_ids), slowest
    )
    if plan:
        say(
            f"Largest batch ({largest[0].code}-{largest[-1].code}, "
            f"{sum(sizes.get(t, 0) for t in team_ids):,} contributions), its "
            "slowest kind of statement:"
        )
        say(*plan_lines(plan))


def measure_incremental(args: argparse.Namespace, results: Results) -> None:
    heading("Incremental latency with a live worker")
    say(
        f"{args.samples} contributions with validated figures, drawn at random "
        "(fixed seed). Each: update (new revision, +1,000 USD required), then "
        "submit, then validate, through the services; timed from the service "
        "call until the team's framework rollup row shows the new amount.",
        "Worker: celery -A unportal worker --concurrency=1 --without-mingle "
        "--without-gossip",
    )
    try:
        with incremental.live_worker() as worker:
            measured = incremental.measure(
                worker=worker, samples=args.samples, seed=args.seed
            )
    except incremental.WorkerError as exc:
        say(f"Not measured: {exc}")
        return
    samples = measured.samples
    if measured.refused:
        say(
            f"Skipped {len(measured.refused)} changes the services refused:",
            *(f"  {reason}" for reason in measured.refused),
        )
    validated = [s.validate_s for s in samples]
    submitted = [s.submit_s for s in samples]
    if not validated:
        return
    results.incremental_median_s = median(validated)
    verdict = "meets" if results.incremental_median_s < 1 else "misses"
    ordered = sorted(validated)
    say(
        f"Validate -> validated figures: median {median(validated):.3f} s, "
        f"90th percentile {ordered[int(0.9 * (len(ordered) - 1))]:.3f} s, "
        f"max {ordered[-1]:.3f} s (target < 1 s: {verdict})",
    )
    if submitted:
        say(
            f"Submit -> figures including submitted: median {median(submitted):.3f} "
            f"s, max {max(submitted):.3f} s"
        )
    by_size = sorted(samples, key=lambda s: s.team_contributions)
    say("Per sample (team size in contributions: validate latency):")
    say(
        "  "
        + ", ".join(f"{s.team_contributions:,}: {s.validate_s:.2f} s" for s in by_size)
    )


def measure_dashboard(results: Results) -> None:
    heading("RC dashboard")
    team = dashboard.largest_team()
    url = dashboard.find_dashboard_url(team.code)
    if url is None:
        say(
            "Not measured: no URL named "
            + " or ".join(dashboard.URL_NAMES)
            + " yet; the bench requests it as soon as it exists.",
        )
        reference = dashboard.time_page(dashboard.reference_page_url(team.code))
        say(
            f"For reference, the team page {reference.url} of the largest team "
            f"({team.code}): {reference.queries} queries, median "
            f"{reference.median_ms:.1f} ms of 5 (HTTP {reference.status}).",
        )
        return
    try:
        timing = dashboard.time_page(url)
    except dashboard.PageError as exc:
        say(f"Not measured: {exc}")
        selector = dashboard.time_selector(team)
        if selector is not None:
            say(
                f"The selector alone, {selector.url}: {selector.queries} queries, "
                f"median {selector.median_ms:.1f} ms of 5 (not in the JSON line; "
                "querysets left for the template are not evaluated)."
            )
        return
    say(
        f"{timing.url} (largest team, {team.code}), superuser, test client, "
        f"in-process: HTTP {timing.status}, {timing.queries} queries, "
        f"median {timing.median_ms:.1f} ms of 5 ("
        + ", ".join(f"{t:.1f}" for t in timing.runs_ms)
        + " ms)",
    )
    if timing.status == 200:
        results.dashboard_queries = timing.queries
        results.dashboard_ms = timing.median_ms


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also EXPLAIN ANALYZE the bare SQL (runs it once more)",
    )
    parser.add_argument("--no-worker", action="store_true")
    parser.add_argument(
        "--no-rebuild",
        action="store_true",
        help="skip the rebuild and the bare SQL: measure a reused data set's jobs "
        "and dashboard over the rollups stored by an earlier run (no ratio)",
    )
    parser.add_argument(
        "--no-per-team",
        action="store_true",
        help="skip the comparison with every team through the per-team path",
    )
    parser.add_argument(
        "--jit",
        action="store_true",
        help="keep PostgreSQL's JIT as the server has it (off in the bench session "
        "by default; the worker always uses the server's setting)",
    )
    args = parser.parse_args(argv)
    args.repeat = max(args.repeat, 1)

    heading(f"unportal bench: {args.size:,} contributions")
    try:
        database.ensure_database()
    except database.BenchDatabaseError as exc:
        sys.exit(str(exc))
    if not args.jit:
        turn_jit_off()
    say(*machine())
    prepare(size=args.size, seed=args.seed, regenerate=args.regenerate)
    say(dataset_summary())
    results = Results(contributions=Contribution.objects.count())
    if not args.no_rebuild:
        measure_rebuild(args, results)
    if not args.no_worker:
        measure_incremental(args, results)
    measure_dashboard(results)
    heading("Result")
    print(results.as_json(), flush=True)


if __name__ == "__main__":
    main()
