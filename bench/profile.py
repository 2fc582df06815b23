"""Where a rebuild's time goes: SQL statements by kind, and plans of the slow ones."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

_WRITE = re.compile(
    r"\b(INSERT INTO|DELETE FROM|UPDATE|ANALYZE|CREATE TEMPORARY TABLE|"
    r"DROP TABLE IF EXISTS)\s+\"?([\w.]+)\"?",
    re.IGNORECASE,
)
_FROM = re.compile(r"\bFROM\s+\"?(\w+)\"?", re.IGNORECASE)


def label(sql: str) -> str:
    """A statement's kind and main table, e.g. 'INSERT INTO reporting_fundingrollup'."""
    text = " ".join(sql.split())
    if text.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "SET ")):
        return "transaction control"
    # SELECT ... FOR UPDATE is a read, whatever its last words say.
    if not text.upper().startswith("SELECT") and (match := _WRITE.search(text)):
        return f"{match[1].upper()} {match[2]}"
    if match := _FROM.search(text):
        return f"SELECT FROM {match[1]}"
    return text[:40]


@dataclass
class StatementProfile:
    """Time per statement label, recorded by a connection execute wrapper."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = label(sql)
            self.seconds[key] = self.seconds.get(key, 0.0) + (
                time.perf_counter() - started
            )
            self.calls[key] = self.calls.get(key, 0) + 1

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def top(self, count: int = 8) -> list[tuple[str, float, int]]:
        ranked = sorted(self.seconds.items(), key=lambda item: item[1], reverse=True)
        return [(name, secs, self.calls[name]) for name, secs in ranked[:count]]


COMMIT = "COMMIT (deferred foreign-key checks, WAL flush)"


@contextmanager
def profiled() -> Iterator[StatementProfile]:
    """Time every statement, and every commit: Django's foreign keys are
    DEFERRABLE INITIALLY DEFERRED, so a transaction's key checks run in COMMIT,
    which no execute wrapper sees."""
    profile = StatementProfile()
    commit = connection._commit

    def timed_commit() -> Any:
        started = time.perf_counter()
        try:
            return commit()
        finally:
            profile.seconds[COMMIT] = profile.seconds.get(COMMIT, 0.0) + (
                time.perf_counter() - started
            )
            profile.calls[COMMIT] = profile.calls.get(COMMIT, 0) + 1

    connection._commit = timed_commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(profile):
            yield profile
    finally:
        del connection._commit  # type: ignore[method-assign]


# --- plans --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanNode:
    """One plan node with the time spent in it, its children excluded."""

    description: str
    exclusive_ms: float
    rows: int
    loops: int


@dataclass(frozen=True)
class Plan:
    statement: str
    execution_ms: float
    top_nodes: list[PlanNode]
    trigger_ms: float = 0.0
    trigger_calls: int = 0


def _describe(node: dict[str, Any]) -> str:
    parts = [node["Node Type"]]
    if node.get("Strategy") and node["Node Type"] == "Aggregate":
        parts.insert(0, node["Strategy"])
    parts += [
        f"{key.split()[0].lower()} {node[key]}"
        for key in ("Relation Name", "CTE Name", "Index Name", "Subplan Name")
        if node.get(key)
    ]
    parts += [
        f"{key.lower()}: {node[key]}"
        for key in ("Sort Method", "Join Type")
        if node.get(key)
    ]
    if node.get("Sort Space Type") == "Disk":
        parts.append(f"{node.get('Sort Space Used')} kB on disk")
    if node.get("Temp Written Blocks"):
        parts.append(f"{node['Temp Written Blocks'] * 8 // 1024} MB temp written")
    return ", ".join(parts)


def _walk(node: dict[str, Any], found: list[PlanNode]) -> float:
    """Append nodes with their exclusive time; return the node's inclusive time."""
    inclusive = node.get("Actual Total Time", 0.0) * node.get("Actual Loops", 1)
    children = sum(_walk(child, found) for child in node.get("Plans", []))
    found.append(
        PlanNode(
            description=_describe(node),
            exclusive_ms=max(inclusive - children, 0.0),
            rows=int(node.get("Actual Rows", 0)),
            loops=int(node.get("Actual Loops", 1)),
        )
    )
    return inclusive


def explain(cursor: Any, sql: str, params: Any = None, top: int = 5) -> Plan:
    """EXPLAIN ANALYZE a statement (it runs: call inside a rolled-back block for
    writes) and list the nodes that took the most time."""
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
    raw = cursor.fetchone()[0]
    document = raw if isinstance(raw, list) else json.loads(raw)
    root = document[0]
    nodes: list[PlanNode] = []
    _walk(root["Plan"], nodes)
    nodes.sort(key=lambda node: node.exclusive_ms, reverse=True)
    triggers = root.get("Triggers", [])
    return Plan(
        statement=label(sql),
        execution_ms=float(root.get("Execution Time", 0.0)),
        top_nodes=nodes[:top],
        trigger_ms=sum(float(t.get("Time", 0.0)) for t in triggers),
        trigger_calls=sum(int(t.get("Calls", 0)) for t in triggers),
    )


class _Explained(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


def explain_engine_statement(
    run: Callable[[], Any], wanted: str, top: int = 5
) -> Plan | None:
    """Run `run` (one team's recompute) with every statement labelled `wanted`
    under EXPLAIN ANALYZE in its place and foreign keys checked immediately;
    return the slowest plan. Everything is rolled back afterwards.

    Only statements that return no rows to the engine can be swapped (EXPLAIN
    returns plan lines instead), so a SELECT or INSERT ... RETURNING yields None.
    """
    captured: list[Plan] = []

    def swap(
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if (
            not many
            and label(sql) == wanted
            and "RETURNING" not in sql.upper()
            and not sql.lstrip().upper().startswith("SELECT")
        ):
            # EXPLAIN ANALYZE runs the statement, so it takes the statement's
            # place; the block is rolled back whatever it wrote.
            captured.append(explain(context["cursor"].cursor, sql, params, top))
            return None
        return execute(sql, params, many, context)

    try:
        with transaction.atomic(), connection.execute_wrapper(swap):
            # Key checks then run in the statement, where the plan shows them,
            # instead of in COMMIT.
            connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
            run()
            raise _Explained
    except _Explained:
        pass
    return max(captured, key=lambda plan: plan.execution_ms, default=None)
