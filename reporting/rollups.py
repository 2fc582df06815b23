# ruff: noqa: S608 -- SQL here is assembled from model metadata and constants only;
# every value goes in as a query parameter.
"""The rollup engine: recompute the rollup rows of a set of country teams from
source rows.

A job recomputes one team; a full rebuild recomputes the teams in batches, with
the same statements over `country_team_id = ANY(...)`, so its fixed cost is per
batch, not per team. Everything here takes a `Teams` and keeps the rows of each
team apart: a batch writes exactly the rows one job per team would.

Funding rollups are set-based SQL that runs unchanged on PostgreSQL and SQLite
(3.39+), in three temporary tables and one comparison per rollup table:

1. `stage_figures`: each counted contribution once, with the figures of both
   bases side by side, in integer cents;
2. `stage_keys`: each (activity, key) the activities fall under: outputs,
   outcomes, framework, SDG targets and goals, areas, joint programme;
3. `stage_sums`: one GROUP BY over the two, per team, key, agency and year; the
   only statement whose work grows with contributions times tags;
4. `write_funding_table`: pair the teams' stored rows of one table with the
   per-agency and all-agency rows the sums make, and write only the difference.

Indicator progress is aggregated in SQL down to one row per indicator, reporter,
year and period ("cells"); combining those few cells into a value to date needs
per-indicator rules, so that last step is Python.

`recompute_steps()` lists what a recompute does, in order; a job and a full
rebuild run the same list. The functions here do not manage transactions or job
bookkeeping: the callers in `reporting.services` run them inside the
transaction that locks the teams and claims their rollup requests, so a crash
anywhere rolls every table back together.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from django.conf import settings
from django.db import NotSupportedError, connection
from django.db.models import Model

from frameworks.models import (
    Aggregation,
    CommonChapterArea,
    Contribution,
    ContributionRevision,
    CooperationFramework,
    Indicator,
    IndicatorDirection,
    IndicatorMeasurement,
    IndicatorUnit,
    JointActivity,
    Outcome,
    Output,
    ResultValue,
    SdgTarget,
    WorkflowStatus,
)
from reporting import coherence
from reporting.models import (
    Basis,
    FundingRollup,
    IndicatorProgress,
    OutcomeFundingRollup,
    ProgressStatus,
    TagFundingRollup,
    TagKind,
    TeamFundingRollup,
)

Progress = Callable[[int, int], None]

# Figures "including submitted" come from the current revision in these states.
_CURRENT_COUNTS = (WorkflowStatus.SUBMITTED, WorkflowStatus.VALIDATED)
_CENT = Decimal("0.01")
_TEN_THOUSANDTH = Decimal("0.0001")
_HUNDRED = Decimal("100")


def quoted_table(model: type[Model]) -> str:
    """The model's table name, quoted for raw SQL."""
    return connection.ops.quote_name(model._meta.db_table)


def activity_m2m(name: str) -> tuple[str, str, str]:
    """Table, activity column and other column of a JointActivity M2M link."""
    link = JointActivity._meta.get_field(name)
    quote = connection.ops.quote_name
    return (
        quote(link.m2m_db_table()),
        quote(link.m2m_column_name()),
        quote(link.m2m_reverse_name()),
    )


# --- which teams ------------------------------------------------------------------


@dataclass(frozen=True)
class Teams:
    """The country teams one recompute covers: one for a job, a batch for a
    full rebuild. Statements filter with `condition` and pass `params`.

    `years` narrows a job after changes of figures to the funding and coherence
    rows of those years, and to indicator progress from the first of them on (a
    value counts in every later year's value to date); None covers every year.
    With years, `indicators` narrows indicator progress to those indicators
    (none at all when empty: a change of money alone); None covers every one.
    """

    ids: tuple[int, ...]
    years: tuple[int, ...] | None = None
    indicators: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not self.ids:
            raise ValueError("A recompute needs at least one team.")
        if self.years == ():
            raise ValueError("A recompute of some years needs at least one year.")
        if self.indicators is not None and self.years is None:
            raise ValueError("Only a recompute of some years can name indicators.")

    @classmethod
    def of(
        cls,
        team_ids: Iterable[int],
        years: Iterable[int] | None = None,
        indicators: Iterable[int] | None = None,
    ) -> Teams:
        def ints(values: Iterable[int] | None) -> tuple[int, ...] | None:
            return None if values is None else tuple(sorted({int(v) for v in values}))

        return cls(tuple(sorted(set(team_ids))), ints(years), ints(indicators))

    def in_years(self, column: str) -> str:
        """`column` is one of the years recomputed; always true for every year."""
        return _among(column, self.years)

    def in_indicators(self, column: str) -> str:
        """`column` is one of the indicators recomputed; true for all of them."""
        return _among(column, self.indicators)

    @property
    def first_year(self) -> int:
        """The first year recomputed; 0 when every year is."""
        return self.years[0] if self.years else 0

    def condition(self, column: str) -> str:
        """`column` is one of the teams: one placeholder, or one per team on a
        database without arrays."""
        if len(self.ids) == 1:
            return f"{column} = %s"
        if connection.vendor == "postgresql":
            return f"{column} = ANY(%s)"
        return f"{column} IN ({', '.join(['%s'] * len(self.ids))})"

    @property
    def params(self) -> list[Any]:
        """The values of one `condition`."""
        if len(self.ids) > 1 and connection.vendor == "postgresql":
            return [list(self.ids)]
        return list(self.ids)


def _among(column: str, values: tuple[int, ...] | None) -> str:
    """`column` is one of `values` (None: any). They are integers by
    construction (`Teams.of`), so they go in as literals."""
    if values is None:
        return "1 = 1"
    if not values:
        return "1 = 0"
    return f"{column} IN ({', '.join(str(value) for value in values)})"


# --- staging ----------------------------------------------------------------------

FIGURES_TABLE = "rollup_figures"
KEYS_TABLE = "rollup_keys"
SUMS_TABLE = "rollup_sums"
CHANGES_TABLE = "rollup_changes"
_SCRATCH = (CHANGES_TABLE, SUMS_TABLE, KEYS_TABLE, FIGURES_TABLE)

# Rollup keys an activity falls under, by kind (small integers group fastest);
# every kind lands in one table.
OUTPUT, OUTCOME, FRAMEWORK, SDG_TARGET, SDG_GOAL, AREA, PROGRAMME = range(1, 8)
TAG_KINDS = {
    SDG_TARGET: TagKind.SDG_TARGET,
    SDG_GOAL: TagKind.SDG_GOAL,
    AREA: TagKind.COMMON_CHAPTER_AREA,
    PROGRAMME: TagKind.JOINT_PROGRAMME,
}


def _prepare_session(cursor: Any) -> None:
    """Tune the planner for this transaction only (PostgreSQL).

    A job reads one team's rows out of tables holding every team's, mostly
    from cache. Priced at the default random_page_cost a large team's lookups
    by key look dearer than scanning whole tables, which is five times slower;
    its sorts and hashes should fit in memory; and compiling its statements
    (JIT) takes longer than running them.

    On SQLite, refuse a version without FULL JOIN (3.39) with a clear message.
    """
    if connection.vendor == "sqlite":
        version = connection.Database.sqlite_version_info
        if version < (3, 39):
            raise NotSupportedError(
                "Rollups need SQLite 3.39 or later (FULL JOIN); this Python uses "
                f"SQLite {'.'.join(map(str, version))}."
            )
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), "
            "set_config('random_page_cost', %s, true), "
            "set_config('jit', 'off', true)",
            [
                settings.UNPORTAL_ROLLUP_WORK_MEM,
                str(settings.UNPORTAL_ROLLUP_RANDOM_PAGE_COST),
            ],
        )


def create_scratch(cursor: Any, name: str, select: str, params: Sequence) -> None:
    """A temporary table of the rows of `select`, for the rest of the recompute."""
    # ON COMMIT DROP: on PostgreSQL a job that dies half-way leaves nothing behind
    # even on a pooled connection. SQLite drops it with the rollback or below.
    on_commit = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    # Not analysed: the planner sizes a fresh table from its pages, which is
    # enough for these joins, and ANALYZE would cost more than it saves.
    cursor.execute(f"CREATE TEMPORARY TABLE {name}{on_commit} AS {select}", params)


def analyze_scratch(cursor: Any, *names: str) -> None:
    """Give PostgreSQL's planner statistics on scratch tables that several
    statements join and group: without them it guesses a handful of rows per
    group and sorts where hashing is several times faster."""
    if connection.vendor == "postgresql":
        # A sample of 3,000 rows (statistics target 10) sizes the groups as
        # well as the default 30,000, in a tenth of the time.
        cursor.execute(
            "SELECT current_setting('default_statistics_target'), "
            "set_config('default_statistics_target', '10', true)"
        )
        ((target, _set),) = cursor.fetchall()
        for name in names:
            cursor.execute(f"ANALYZE {name}")
        cursor.execute(
            "SELECT set_config('default_statistics_target', %s, true)", [target]
        )


def drop_scratch(cursor: Any) -> None:
    for name in _SCRATCH:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def stage_figures(cursor: Any, teams: Teams) -> None:
    """One row per counted contribution of the teams, both bases side by side.

    `v_*` hold the validated revision (v_n = 0 when there is none), `s_*` the
    figures including submitted; every staged contribution counts in that basis,
    falling back to its validated revision. Money is in integer cents, which both
    databases add exactly and fast. `*_first` marks one contribution per
    activity and year (the lowest agency id), so summing it counts activities
    without a COUNT(DISTINCT).
    """
    current = "cur.status IN (%s, %s)"

    def pick(column: str) -> str:
        return f"CASE WHEN {current} THEN cur.{column} ELSE v.{column} END"

    def cents(expression: str) -> str:
        return f"CAST(ROUND({expression} * 100) AS bigint)"

    counted = "PARTITION BY x.activity_id, x.year"
    create_scratch(
        cursor,
        FIGURES_TABLE,
        f"""
        SELECT x.*,
            CASE WHEN x.v_n = 1 AND x.agency_id = MIN(
                CASE WHEN x.v_n = 1 THEN x.agency_id END) OVER ({counted})
            THEN 1 ELSE 0 END AS v_first,
            CASE WHEN x.agency_id = MIN(x.agency_id) OVER ({counted})
            THEN 1 ELSE 0 END AS s_first
        FROM (
            SELECT c.country_team_id AS country_team_id,
                c.activity_id AS activity_id, c.agency_id AS agency_id,
                c.year AS year, CASE WHEN v.id IS NULL THEN 0 ELSE 1 END AS v_n,
                {cents("v.required")} AS v_required,
                {cents("v.available")} AS v_available,
                {cents("v.spent")} AS v_spent,
                v.id AS v_revision_id, v.updated_at AS v_at,
                {cents(pick("required"))} AS s_required,
                {cents(pick("available"))} AS s_available,
                {cents(pick("spent"))} AS s_spent,
                {pick("id")} AS s_revision_id, {pick("updated_at")} AS s_at
            FROM {quoted_table(Contribution)} c
            LEFT JOIN {quoted_table(ContributionRevision)} v
                ON v.id = c.validated_revision_id
            LEFT JOIN {quoted_table(ContributionRevision)} cur
                ON cur.id = c.current_revision_id
            WHERE {teams.condition("c.country_team_id")}
                AND (c.validated_revision_id IS NOT NULL OR {current})
        ) x
        """,
        [*(_CURRENT_COUNTS * 5), *teams.params, *_CURRENT_COUNTS],
    )


def stage_keys(cursor: Any, teams: Teams) -> None:
    """Every (team, activity, kind, key) of the teams: the activity's outputs,
    outcomes, framework, SDG targets and goals, common-chapter areas and joint
    programme.

    Outcomes and goals are distinct per activity: an activity on two outputs of
    one outcome, or on two targets of one goal, is under that key once. Outputs
    and outcomes carry no framework here (0): their rows take it from the output
    or outcome itself, so a key is one row even if links disagree.
    """
    links, link_activity, link_output = activity_m2m("outputs")
    targets, target_activity, target_target = activity_m2m("sdg_targets")
    areas, area_activity, area_area = activity_m2m("common_chapter_areas")
    activity, output = quoted_table(JointActivity), quoted_table(Output)
    team = teams.condition("a.country_team_id")
    if teams.years is not None:
        # Only activities with figures in those years have sums; when every
        # year is recomputed, nearly all do and the test would cost more.
        team += (
            f" AND a.id IN (SELECT activity_id FROM {FIGURES_TABLE}"
            f" WHERE {teams.in_years('year')})"
        )
    create_scratch(
        cursor,
        KEYS_TABLE,
        f"""
        SELECT a.country_team_id AS country_team_id, a.id AS activity_id,
            a.framework_id AS framework_id, {FRAMEWORK} AS kind,
            a.framework_id AS key_id
        FROM {activity} a WHERE {team}
        UNION ALL
        SELECT a.country_team_id, l.{link_activity}, 0, {OUTPUT}, l.{link_output}
        FROM {links} l JOIN {activity} a ON a.id = l.{link_activity} WHERE {team}
        UNION ALL
        SELECT DISTINCT a.country_team_id, l.{link_activity}, 0, {OUTCOME},
            o.outcome_id
        FROM {links} l JOIN {activity} a ON a.id = l.{link_activity}
        JOIN {output} o ON o.id = l.{link_output} WHERE {team}
        UNION ALL
        SELECT a.country_team_id, t.{target_activity}, a.framework_id, {SDG_TARGET},
            t.{target_target}
        FROM {targets} t JOIN {activity} a ON a.id = t.{target_activity}
        WHERE {team}
        UNION ALL
        SELECT DISTINCT a.country_team_id, t.{target_activity}, a.framework_id,
            {SDG_GOAL}, st.goal_id
        FROM {targets} t JOIN {activity} a ON a.id = t.{target_activity}
        JOIN {quoted_table(SdgTarget)} st ON st.id = t.{target_target} WHERE {team}
        UNION ALL
        SELECT a.country_team_id, t.{area_activity}, a.framework_id, {AREA},
            t.{area_area}
        FROM {areas} t JOIN {activity} a ON a.id = t.{area_activity} WHERE {team}
        UNION ALL
        SELECT a.country_team_id, a.id, a.framework_id, {PROGRAMME},
            a.joint_programme_id
        FROM {activity} a WHERE {team} AND a.joint_programme_id IS NOT NULL
        """,
        teams.params * 7,
    )


def stage_sums(cursor: Any, teams: Teams) -> None:
    """Per team, key, agency and year: the sums every funding table is made of,
    for the years recomputed.

    This is the one pass that fans contributions out to their keys; everything
    after it reads a table the size of the rollups themselves. A contribution
    meets only keys of its own team, as in a job for that team alone.
    """
    create_scratch(
        cursor,
        SUMS_TABLE,
        f"""
        SELECT f.country_team_id AS country_team_id, k.kind AS kind,
            k.key_id AS key_id, k.framework_id AS framework_id,
            f.agency_id AS agency_id, f.year AS year,
            SUM(f.v_n) AS v_n, SUM(f.v_required) AS v_required,
            SUM(f.v_available) AS v_available, SUM(f.v_spent) AS v_spent,
            SUM(f.v_first) AS v_first,
            COUNT(*) AS s_n, SUM(f.s_required) AS s_required,
            SUM(f.s_available) AS s_available, SUM(f.s_spent) AS s_spent,
            SUM(f.s_first) AS s_first
        FROM {FIGURES_TABLE} f JOIN {KEYS_TABLE} k
            ON k.activity_id = f.activity_id
            AND k.country_team_id = f.country_team_id
        WHERE {teams.in_years("f.year")}
        GROUP BY f.country_team_id, k.kind, k.key_id, k.framework_id, f.agency_id,
            f.year
        """,
        [],
    )


def stage_keys_and_sums(cursor: Any, teams: Teams) -> None:
    """Stage the teams' keys and the sums over them and the staged figures."""
    stage_keys(cursor, teams)
    stage_sums(cursor, teams)


# --- funding rollups --------------------------------------------------------------

FUNDING_VALUES = (
    "required",
    "available",
    "spent",
    "gap",
    "contribution_count",
    "activity_count",
    "agency_count",
)


@dataclass(frozen=True)
class FundingTable:
    """One funding rollup table and how its rows come out of the staged sums.

    `keys` pairs each key column with its SQL expression over the sums (alias s)
    and `join`; `group` lists what those expressions depend on.
    """

    model: type[Model]
    kinds: tuple[int, ...]
    keys: tuple[tuple[str, str], ...]
    group: tuple[str, ...]
    join: str = ""

    @property
    def label(self) -> str:
        return self.model.__name__

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(column for column, _expression in self.keys)

    @property
    def row_key(self) -> tuple[str, ...]:
        return (*self.key_columns, "agency_id", "year", "basis")

    @property
    def columns(self) -> tuple[str, ...]:
        return ("country_team_id", *self.row_key, *FUNDING_VALUES)


def funding_tables() -> tuple[FundingTable, ...]:
    tag_kind = " ".join(
        f"WHEN {code} THEN '{kind}'" for code, kind in TAG_KINDS.items()
    )
    return (
        FundingTable(
            FundingRollup,
            kinds=(OUTPUT,),
            keys=(
                ("framework_id", "o.framework_id"),
                ("outcome_id", "o.outcome_id"),
                ("output_id", "s.key_id"),
            ),
            group=("o.framework_id", "o.outcome_id", "s.key_id"),
            join=f"JOIN {quoted_table(Output)} o ON o.id = s.key_id",
        ),
        FundingTable(
            OutcomeFundingRollup,
            kinds=(OUTCOME,),
            keys=(("framework_id", "oc.framework_id"), ("outcome_id", "s.key_id")),
            group=("oc.framework_id", "s.key_id"),
            join=f"JOIN {quoted_table(Outcome)} oc ON oc.id = s.key_id",
        ),
        FundingTable(
            TeamFundingRollup,
            kinds=(FRAMEWORK,),
            keys=(("framework_id", "s.key_id"),),
            group=("s.key_id",),
        ),
        FundingTable(
            TagFundingRollup,
            kinds=tuple(TAG_KINDS),
            keys=(
                ("framework_id", "s.framework_id"),
                ("kind", f"CASE s.kind {tag_kind} END"),
                ("tag_id", "s.key_id"),
                (
                    "tag_code",
                    f"CASE s.kind WHEN {SDG_TARGET} THEN st.code "
                    f"WHEN {AREA} THEN ar.code "
                    f"WHEN {SDG_GOAL} THEN CAST(s.key_id AS varchar(20)) ELSE '' END",
                ),
            ),
            group=("s.framework_id", "s.kind", "s.key_id", "st.code", "ar.code"),
            join=f"""
                LEFT JOIN {quoted_table(SdgTarget)} st
                    ON s.kind = {SDG_TARGET} AND st.id = s.key_id
                LEFT JOIN {quoted_table(CommonChapterArea)} ar
                    ON s.kind = {AREA} AND ar.id = s.key_id
            """,
        ),
    )


def _funding_select(table: FundingTable) -> str:
    """The table's rows for the staged teams: per agency, then all agencies
    together.

    A contribution is one agency's share of one activity in one year, so per
    agency the contribution count is also the activity count. Across agencies,
    activities are counted through the `*_first` marks and agencies are the
    per-agency groups that have contributions.
    """
    keys = ", ".join(f"{expression} AS {column}" for column, expression in table.keys)
    kinds = ", ".join(str(kind) for kind in table.kinds)

    def money(prefix: str, total: str = "") -> str:
        required, available, spent = (
            f"{total}(s.{prefix}_{column})"
            for column in ("required", "available", "spent")
        )
        return (
            f"{required} / 100.0 AS required, {available} / 100.0 AS available, "
            f"{spent} / 100.0 AS spent, ({required} - {available}) / 100.0 AS gap"
        )

    # Every branch names its columns: the rows may become a table of their own.
    def branch(prefix: str, basis: str, *, per_agency: bool) -> str:
        head = f"SELECT s.country_team_id AS country_team_id, {keys}"
        where = f"s.kind IN ({kinds}) AND s.{prefix}_n > 0"
        if per_agency:
            return f"""
                {head}, s.agency_id AS agency_id, s.year AS year,
                    '{basis}' AS basis, {money(prefix)},
                    s.{prefix}_n AS contribution_count,
                    s.{prefix}_n AS activity_count, 1 AS agency_count
                FROM {SUMS_TABLE} s {table.join} WHERE {where}
            """
        return f"""
            {head}, NULL AS agency_id, s.year AS year, '{basis}' AS basis,
                {money(prefix, "SUM")}, SUM(s.{prefix}_n) AS contribution_count,
                SUM(s.{prefix}_first) AS activity_count, COUNT(*) AS agency_count
            FROM {SUMS_TABLE} s {table.join} WHERE {where}
            GROUP BY s.country_team_id, {", ".join(table.group)}, s.year
        """

    return " UNION ALL ".join(
        branch(prefix, basis, per_agency=per_agency)
        for per_agency in (True, False)
        for prefix, basis in (("v", Basis.VALIDATED), ("s", Basis.SUBMITTED))
    )


def write_funding_table(cursor: Any, table: FundingTable, teams: Teams) -> int:
    """Bring the teams' rows of one table in line with the staged sums; return
    how many rows were deleted, changed or added."""
    return write_changed_rows(
        cursor,
        model=table.model,
        select=_funding_select(table),
        key=table.row_key,
        values=FUNDING_VALUES,
        teams=teams,
    )


def write_changed_rows(
    cursor: Any,
    *,
    model: type[Model],
    select: str,
    key: Sequence[str],
    values: Sequence[str],
    teams: Teams,
) -> int:
    """Bring the teams' rows of `model` in line with the rows `select` gives
    (columns: country_team_id, the key, the values); return how many rows were
    deleted, changed or added.

    One pass pairs the stored rows with the new ones by key (a FULL JOIN:
    PostgreSQL, SQLite 3.39+) and keeps only the differences; a changed row is
    then deleted and added again. An unchanged row costs a comparison, not a
    delete and an insert with their index entries: a job after one change
    writes a handful of rows, a full rebuild over current rollups next to none.
    With `teams.years`, both sides keep only the rows of those years (every
    table written here has a `year`), so a job leaves other years alone.
    """
    target = quoted_table(model)
    same_key = " AND ".join(
        [
            "o.country_team_id = n.country_team_id",
            *(_same(model, column) for column in key),
        ]
    )
    stored_values = ", ".join(f"o.{value}" for value in values)
    new_values = ", ".join(f"n.{value}" for value in values)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    if teams.years is not None:
        select = f"SELECT * FROM ({select}) y WHERE {teams.in_years('y.year')}"
    create_scratch(
        cursor,
        CHANGES_TABLE,
        f"""
        SELECT o.id AS stale_id, n.*
        FROM ({select}) n
        FULL JOIN (
            SELECT * FROM {target} WHERE {teams.condition("country_team_id")}
                AND {teams.in_years("year")}
        ) o ON {same_key}
        WHERE o.id IS NULL OR n.country_team_id IS NULL
            OR ({stored_values}) {distinct} ({new_values})
        """,
        teams.params,
    )
    # Each row there is one row deleted, changed or added.
    cursor.execute(f"SELECT COUNT(*) FROM {CHANGES_TABLE}")
    changes = cursor.fetchone()[0]
    if changes:
        cursor.execute(
            f"DELETE FROM {target} WHERE id IN "
            f"(SELECT stale_id FROM {CHANGES_TABLE} WHERE stale_id IS NOT NULL)"
        )
        columns = ", ".join(("country_team_id", *key, *values))
        cursor.execute(
            f"INSERT INTO {target} ({columns}) SELECT {columns} "
            f"FROM {CHANGES_TABLE} WHERE country_team_id IS NOT NULL"
        )
    return changes


def _same(model: type[Model], column: str) -> str:
    """Key equality of a stored (o) and a new (n) row; a nullable key matches
    NULL with NULL through a sentinel, which keeps the join a hash join."""
    model_field = model._meta.get_field(column)
    if not model_field.null:
        return f"o.{column} = n.{column}"
    text = model_field.get_internal_type() in ("CharField", "TextField")
    empty = "''" if text else "0"
    return f"COALESCE(o.{column}, {empty}) = COALESCE(n.{column}, {empty})"


def read_funding_table(cursor: Any, table: FundingTable) -> list[dict]:
    """The rows `write_funding_table` would write, without their team."""
    cursor.execute(_funding_select(table))
    columns = table.columns[1:]
    return [dict(zip(columns, row[1:], strict=True)) for row in cursor.fetchall()]


# --- indicator progress -----------------------------------------------------------


@dataclass
class Cell:
    """One reporter's values of one indicator for one period, aggregated in SQL.

    The reporter is an agency id, or 0 for team-wide values of the RC office.
    Several values in a cell are parallel reports (e.g. two activities of one
    agency); they combine like reports of different agencies.
    """

    reporter: int
    year: int
    period: str
    count: int
    total: Decimal | None
    maximum: Decimal | None
    ratio_count: int
    numerator: Decimal | None
    denominator: Decimal | None
    recorded_at: Any
    latest: Decimal | None = None
    latest_numerator: Decimal | None = None
    latest_denominator: Decimal | None = None

    @property
    def order(self) -> tuple:
        return (self.year, period_end_month(self.period), self.period, self.recorded_at)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    # SQLite hands back floats for sums of decimals; repr is the shortest exact form.
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


_MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
        ],
        start=1,
    )
}


@functools.cache
def period_end_month(label: str) -> int:
    """The month a period label ends in, so periods of a year sort in time.

    Q1-Q4 end in months 3-12, H1/H2 (or S1/S2) in 6 and 12, M1-M12, 01-12 and month
    names in their month; a blank label (the whole year) and anything unknown end
    in December.
    """
    text = label.strip().lower()
    if match := re.fullmatch(r"q([1-4])", text):
        return 3 * int(match[1])
    if match := re.fullmatch(r"[hs]([12])", text):
        return 6 * int(match[1])
    if (match := re.fullmatch(r"m?(\d{1,2})", text)) and 1 <= int(match[1]) <= 12:
        return int(match[1])
    return _MONTHS.get(text[:3], 12)


def _latest_only(latest_only: bool) -> str:
    return f" AND i.across_agencies = '{Aggregation.LATEST}'" if latest_only else ""


def _team_indicators(teams: Teams, *, latest_only: bool = False) -> tuple[str, list]:
    """Ids of the teams' indicators; with `latest_only`, those whose parallel
    values take the most recent (across agencies: latest)."""
    sql = f"""
        SELECT i.id FROM {quoted_table(Indicator)} i
        JOIN {quoted_table(CooperationFramework)} fw ON fw.id = i.framework_id
        WHERE {teams.condition("fw.country_team_id")}{_latest_only(latest_only)}
            AND {teams.in_indicators("i.id")}
    """
    return sql, teams.params


def _source_rows(teams: Teams, *, latest_only: bool = False) -> tuple[str, list]:
    """Every counted value of the teams' indicators, once per basis.

    Measurements count when validated, or (including submitted) when submitted
    or validated without a submitted replacement waiting; a superseded or draft
    one never counts. Result values count with their contribution's revision
    for the basis. A value counts for the team of its indicator's framework when
    it was recorded in that team (as a job for that team alone sees it); result
    values are reached through the teams' indicators, which keeps the lookup
    proportional to the teams, not to the whole table.
    """
    measurement, result = quoted_table(IndicatorMeasurement), quoted_table(ResultValue)
    validated, submitted = WorkflowStatus.VALIDATED, WorkflowStatus.SUBMITTED

    def of_the_team(alias: str, team_column: str) -> str:
        return f"""
            JOIN {quoted_table(Indicator)} i ON i.id = {alias}.indicator_id
            JOIN {quoted_table(CooperationFramework)} fw ON fw.id = i.framework_id
                AND fw.country_team_id = {team_column}{_latest_only(latest_only)}
                AND {teams.in_indicators("i.id")}
        """

    measured = f"""
        FROM {measurement} m {of_the_team("m", "m.country_team_id")}
        WHERE {teams.condition("m.country_team_id")}
    """
    reported = of_the_team("rv", "f.country_team_id")
    columns = "m.value, m.numerator, m.denominator, m.updated_at, 1, m.id"
    sql = f"""
        SELECT '{Basis.VALIDATED}' AS basis, m.indicator_id AS indicator_id,
            COALESCE(m.agency_id, 0) AS reporter, m.year AS year,
            m.period_label AS period, m.value AS value, m.numerator AS numerator,
            m.denominator AS denominator, m.updated_at AS recorded_at,
            1 AS source, m.id AS row_id
        {measured} AND m.status = '{validated}'
        UNION ALL
        SELECT '{Basis.SUBMITTED}', m.indicator_id, COALESCE(m.agency_id, 0), m.year,
            m.period_label, {columns}
        {measured}
            AND (m.status = '{submitted}' OR (m.status = '{validated}' AND NOT EXISTS (
                SELECT 1 FROM {measurement} r
                WHERE r.supersedes_id = m.id AND r.status = '{submitted}')))
        UNION ALL
        SELECT '{Basis.VALIDATED}', rv.indicator_id, f.agency_id, f.year, '',
            rv.value, rv.numerator, rv.denominator, f.v_at, 0, rv.id
        FROM {FIGURES_TABLE} f JOIN {result} rv ON rv.revision_id = f.v_revision_id
        {reported} WHERE {teams.condition("fw.country_team_id")}
        UNION ALL
        SELECT '{Basis.SUBMITTED}', rv.indicator_id, f.agency_id, f.year, '',
            rv.value, rv.numerator, rv.denominator, f.s_at, 0, rv.id
        FROM {FIGURES_TABLE} f JOIN {result} rv ON rv.revision_id = f.s_revision_id
        {reported} WHERE {teams.condition("fw.country_team_id")}
    """
    return sql, teams.params * 4


def read_cells(cursor: Any, teams: Teams) -> dict[tuple[str, int], list[Cell]]:
    """The teams' indicator values aggregated per (basis, indicator) into cells."""
    source, params = _source_rows(teams)
    both = "s.numerator IS NOT NULL AND s.denominator IS NOT NULL"
    cursor.execute(
        f"""
        SELECT s.basis, s.indicator_id, s.reporter, s.year, s.period,
            COUNT(s.value), SUM(s.value), MAX(s.value),
            COUNT(CASE WHEN {both} THEN 1 END),
            SUM(CASE WHEN {both} THEN s.numerator END),
            SUM(CASE WHEN {both} THEN s.denominator END),
            MAX(s.recorded_at)
        FROM ({source}) s
        GROUP BY s.basis, s.indicator_id, s.reporter, s.year, s.period
        """,
        params,
    )
    cells: dict[tuple[str, int], list[Cell]] = defaultdict(list)
    for basis, indicator_id, reporter, year, period, *figures in cursor.fetchall():
        count, total, maximum, ratio_count, numerator, denominator, at = figures
        cells[(basis, indicator_id)].append(
            Cell(
                reporter=reporter,
                year=year,
                period=period,
                count=count,
                total=_decimal(total),
                maximum=_decimal(maximum),
                ratio_count=ratio_count,
                numerator=_decimal(numerator),
                denominator=_decimal(denominator),
                recorded_at=at,
            )
        )
    _read_latest_in_cells(cursor, teams, cells)
    return cells


def _read_latest_in_cells(
    cursor: Any, teams: Teams, cells: dict[tuple[str, int], list[Cell]]
) -> None:
    """Give cells of indicators whose parallel values take the latest (across
    agencies: latest) that value: the most recent row with a value (with a
    numerator and a denominator, for a percentage).

    A cell with one such row needs no more; only when some cell holds several
    are the rows of those indicators sorted in a window, ties in time going to
    measurements, then to the later row.
    """
    cursor.execute(*_team_indicators(teams, latest_only=True))
    latest_ids = {row[0] for row in cursor.fetchall()}
    several = False
    for (_basis, indicator_id), indicator_cells in cells.items():
        if indicator_id not in latest_ids:
            continue
        for cell in indicator_cells:
            several = several or cell.count > 1 or cell.ratio_count > 1
            cell.latest = cell.total if cell.count == 1 else None
            if cell.ratio_count == 1:
                cell.latest_numerator = cell.numerator
                cell.latest_denominator = cell.denominator
    if not several:
        return
    source, params = _source_rows(teams, latest_only=True)
    counted = f"""
        CASE WHEN i.unit = '{IndicatorUnit.PERCENTAGE}'
        THEN s.numerator IS NOT NULL AND s.denominator IS NOT NULL
        ELSE s.value IS NOT NULL END
    """
    cursor.execute(
        f"""
        SELECT basis, indicator_id, reporter, year, period, value, numerator,
            denominator
        FROM (
            SELECT s.*, ROW_NUMBER() OVER (
                PARTITION BY s.basis, s.indicator_id, s.reporter, s.year, s.period
                ORDER BY s.recorded_at DESC, s.source DESC, s.row_id DESC
            ) AS position
            FROM ({source}) s JOIN {quoted_table(Indicator)} i ON i.id = s.indicator_id
            WHERE {counted}
        ) ranked
        WHERE position = 1
        """,
        params,
    )
    latest = {tuple(row[:5]): row[5:] for row in cursor.fetchall()}
    for (basis, indicator_id), indicator_cells in cells.items():
        for cell in indicator_cells:
            found = latest.get(
                (basis, indicator_id, cell.reporter, cell.year, cell.period)
            )
            if found:
                value, numerator, denominator = (_decimal(v) for v in found)
                cell.latest = value
                cell.latest_numerator = numerator
                cell.latest_denominator = denominator


@dataclass
class Reading:
    """A combined value: a plain value, or a ratio kept as its two sums."""

    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    order: tuple = ()
    sources: int = 0
    reporters: frozenset[int] = field(default_factory=frozenset)

    @property
    def result(self) -> Decimal | None:
        if self.denominator is not None:
            return self.numerator / self.denominator * _HUNDRED
        return self.value


def _cell_reading(cell: Cell, rule: str, is_ratio: bool) -> Reading | None:
    """Parallel values in one cell combine by the across-agencies rule."""
    base = {"order": cell.order, "reporters": frozenset({cell.reporter})}
    if is_ratio:
        if rule == Aggregation.LATEST:
            numerator, denominator = cell.latest_numerator, cell.latest_denominator
        else:
            numerator, denominator = cell.numerator, cell.denominator
        if numerator is None or not denominator:
            return None
        return Reading(
            numerator=numerator,
            denominator=denominator,
            sources=cell.ratio_count,
            **base,
        )
    if not cell.count:
        return None
    value = {
        Aggregation.SUM: cell.total,
        Aggregation.MAX: cell.maximum,
        Aggregation.AVERAGE: cell.total / cell.count
        if cell.total is not None
        else None,
        Aggregation.LATEST: cell.latest,
    }[rule]
    if value is None:
        return None
    return Reading(value=value, sources=cell.count, **base)


class Accumulator:
    """Folds readings, fed in time order, by one rule.

    Sum and average of ratios pool numerators and denominators, so 30/100 and
    10/50 make 40/150 (26.67 %), never the average of 30 % and 20 %; max keeps
    the largest (the later one on a tie); latest keeps the last. `tiebreak`
    extends the order of the result (a reporter's id, so reporters tied on time
    never depend on the order rows came back in).
    """

    __slots__ = (
        "chosen",
        "count",
        "denominator",
        "folded",
        "is_ratio",
        "last",
        "numerator",
        "reporters",
        "rule",
        "sources",
        "tiebreak",
        "total",
    )

    def __init__(self, rule: str, is_ratio: bool, tiebreak: tuple = ()) -> None:
        self.rule, self.is_ratio, self.tiebreak = rule, is_ratio, tiebreak
        self.count = self.sources = 0
        self.reporters: frozenset[int] = frozenset()
        self.total = self.numerator = self.denominator = Decimal(0)
        self.chosen: Reading | None = None
        self.last: tuple = ()
        self.folded: Reading | None = None

    def add(self, reading: Reading) -> None:
        self.folded = None
        self.count += 1
        self.sources += reading.sources
        self.reporters |= reading.reporters
        self.last = reading.order
        if self.rule == Aggregation.LATEST:
            self.chosen = reading
        elif self.rule == Aggregation.MAX:
            if self.chosen is None or (reading.result, reading.order) > (
                self.chosen.result,
                self.chosen.order,
            ):
                self.chosen = reading
        elif self.is_ratio:
            self.numerator += reading.numerator
            self.denominator += reading.denominator
        else:
            self.total += reading.value

    def result(self) -> Reading | None:
        """The combined reading; the same object until more readings come."""
        if not self.count or self.folded is not None:
            return self.folded
        found = Reading(
            order=(*self.last, *self.tiebreak),
            sources=self.sources,
            reporters=self.reporters,
        )
        if self.chosen is not None:
            found.value = self.chosen.value
            found.numerator = self.chosen.numerator
            found.denominator = self.chosen.denominator
        elif self.is_ratio:
            found.numerator, found.denominator = self.numerator, self.denominator
        elif self.rule == Aggregation.AVERAGE:
            found.value = self.total / self.count
        else:
            found.value = self.total
        self.folded = found
        return found


def combine(readings: Iterable[Reading], rule: str, is_ratio: bool) -> Reading | None:
    """Combine readings in any order by one rule (see `Accumulator`)."""
    folded = Accumulator(rule, is_ratio)
    for reading in sorted(readings, key=lambda r: r.order):
        folded.add(reading)
    return folded.result()


@dataclass(frozen=True)
class IndicatorCells:
    """One indicator's cells in one basis, as readings per reporter in time order."""

    indicator: Indicator
    by_reporter: dict[int, list[tuple[int, Reading]]]

    @classmethod
    def of(cls, indicator: Indicator, cells: Iterable[Cell]) -> IndicatorCells:
        is_ratio = indicator.unit == IndicatorUnit.PERCENTAGE
        by_reporter: dict[int, list[tuple[int, Reading]]] = defaultdict(list)
        for cell in cells:
            reading = _cell_reading(cell, indicator.across_agencies, is_ratio)
            if reading is not None:
                by_reporter[cell.reporter].append((cell.year, reading))
        for readings in by_reporter.values():
            readings.sort(key=lambda pair: pair[1].order)
        return cls(indicator=indicator, by_reporter=by_reporter)

    @property
    def years(self) -> set[int]:
        return {year for found in self.by_reporter.values() for year, _r in found}

    def values(self, years: Iterable[int]) -> dict[int, tuple[Reading | None, ...]]:
        """Per year: the combined value to the end of the year, and within it.

        Each reporter's cells (one per period) fold in time order by the
        indicator's `across_periods` rule, so a cumulative ("latest") indicator
        takes each agency's latest value; the reporters' values then combine by
        `across_agencies`. One pass over each reporter's cells serves every year.
        """
        indicator = self.indicator
        is_ratio = indicator.unit == IndicatorUnit.PERCENTAGE
        ordered = sorted(years)
        to_date: dict[int, list[Reading]] = {year: [] for year in ordered}
        within: dict[int, list[Reading]] = {year: [] for year in ordered}
        rule = indicator.across_periods
        for reporter, found in self.by_reporter.items():
            so_far = Accumulator(rule, is_ratio, (reporter,))
            position = 0
            for year in ordered:
                this_year = Accumulator(rule, is_ratio, (reporter,))
                while position < len(found) and found[position][0] <= year:
                    found_year, reading = found[position]
                    so_far.add(reading)
                    if found_year == year:
                        this_year.add(reading)
                    position += 1
                for folded, into in ((so_far, to_date), (this_year, within)):
                    if (reading := folded.result()) is not None:
                        into[year].append(reading)
        rule = indicator.across_agencies
        return {
            year: (
                combine(to_date[year], rule, is_ratio),
                combine(within[year], rule, is_ratio),
            )
            for year in ordered
        }


def combine_indicator(
    indicator: Indicator, cells: Iterable[Cell], *, up_to: int, only_year: bool = False
) -> Reading | None:
    """An indicator's value from its cells: see `IndicatorCells.values`."""
    return IndicatorCells.of(indicator, cells).values([up_to])[up_to][int(only_year)]


def expected_percent(framework: CooperationFramework, year: int) -> Decimal:
    """The share of the framework period elapsed by the end of `year`, in percent.

    A framework from start_year to end_year runs n = end - start + 1 years; by the
    end of year y, (y - start + 1) / n of it has passed, clamped to 0-100 %. An
    indicator is on track in year y when it is at least that far from its
    baseline to its target.
    """
    span = framework.end_year - framework.start_year + 1
    elapsed = min(max(year - framework.start_year + 1, 0), span)
    return (Decimal(elapsed) * _HUNDRED / Decimal(span)).quantize(_CENT)


def progress_row(
    indicator: Indicator,
    basis: str,
    year: int,
    reading: Reading | None,
    within: Reading | None,
) -> dict[str, Any]:
    """The values of one IndicatorProgress row: value to date and status.

    percent_of_way = (value - baseline) / (target - baseline) x 100, which also
    holds for descending indicators (both differences change sign). Status is
    no_data without a value to date, or without both a baseline and a target to
    measure against; when target equals baseline, on track means not worse than
    the target.
    """
    # Room for any ratio of the source fields: quantizing a value wider than the
    # default 28 digits would fail the job.
    with localcontext(prec=60):
        value = _quantize(reading and reading.result, _TEN_THOUSANDTH)
        baseline, target = indicator.baseline_value, indicator.target_value
        expected = expected_percent(indicator.framework, year)
        percent = None
        status = ProgressStatus.NO_DATA
        if value is not None and baseline is not None and target is not None:
            if target != baseline:
                percent = _quantize(
                    (value - baseline) / (target - baseline) * _HUNDRED, _CENT
                )
                on_track = percent >= expected
            elif indicator.direction == IndicatorDirection.DESCENDING:
                on_track = value <= target
            else:
                on_track = value >= target
            status = ProgressStatus.ON_TRACK if on_track else ProgressStatus.OFF_TRACK
        return {
            "indicator_id": indicator.pk,
            "year": year,
            "basis": basis,
            "value": value,
            "numerator": _quantize(reading and reading.numerator, _TEN_THOUSANDTH),
            "denominator": _quantize(reading and reading.denominator, _TEN_THOUSANDTH),
            "year_value": _quantize(within and within.result, _TEN_THOUSANDTH),
            "baseline": baseline,
            "target": target,
            "percent_of_way": percent,
            "expected_percent": expected,
            "status": str(status),
            "source_count": reading.sources if reading else 0,
            "reporter_count": len(reading.reporters) if reading else 0,
        }


def _quantize(value: Decimal | None, step: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(step)


def compute_progress(cursor: Any, teams: Teams) -> Iterator[dict[str, Any]]:
    """Progress rows of every indicator of the teams, for each framework year and
    each year with values, in both bases; with `teams.years`, only from the
    first of them on (earlier values to date read no value of those years)."""
    first_year = teams.first_year
    cells = read_cells(cursor, teams)
    indicators = Indicator.objects.filter(
        framework__country_team_id__in=teams.ids
    ).select_related("framework")
    if teams.indicators is not None:
        indicators = indicators.filter(pk__in=teams.indicators)
    for indicator in indicators:
        team_id = indicator.framework.country_team_id
        prepared = {
            basis: IndicatorCells.of(indicator, cells.get((basis, indicator.pk), ()))
            for basis in Basis
        }
        years = {
            year
            for year in set(indicator.framework.years).union(
                *(found.years for found in prepared.values())
            )
            if year >= first_year
        }
        for basis, found in prepared.items():
            for year, (reading, within) in found.values(years).items():
                row = progress_row(indicator, basis, year, reading, within)
                yield {"country_team_id": team_id, **row}


PROGRESS_KEY = ("indicator_id", "year", "basis")
PROGRESS_VALUES = (
    "value",
    "numerator",
    "denominator",
    "year_value",
    "baseline",
    "target",
    "percent_of_way",
    "expected_percent",
    "status",
    "source_count",
    "reporter_count",
)


def write_progress(cursor: Any, teams: Teams) -> int:
    """Bring the teams' progress rows in line with a recomputation; return how
    many were deleted, changed or added (only those are written). With
    `teams.years`, rows before the first of them are left as they are, and with
    `teams.indicators`, the rows of other indicators."""
    if teams.indicators == ():
        return 0
    key = ("country_team_id", *PROGRESS_KEY)
    computed = {
        tuple(row[name] for name in key): row for row in compute_progress(cursor, teams)
    }
    stored_rows = IndicatorProgress.objects.filter(
        country_team_id__in=teams.ids, year__gte=teams.first_year
    )
    if teams.indicators is not None:
        stored_rows = stored_rows.filter(indicator_id__in=teams.indicators)
    stored = {
        tuple(found[1 : len(key) + 1]): (found[0], found[len(key) + 1 :])
        for found in stored_rows.values_list("pk", *key, *PROGRESS_VALUES)
    }
    # A changed row is deleted and added again: few rows change in a job, and
    # this keeps the write to two set-based statements.
    stale = [
        pk
        for row_key, (pk, values) in stored.items()
        if row_key not in computed
        or values != tuple(computed[row_key][name] for name in PROGRESS_VALUES)
    ]
    stale_pks = set(stale)
    stale_keys = {
        row_key for row_key, (pk, _values) in stored.items() if pk in stale_pks
    }
    fresh = [
        IndicatorProgress(**row)
        for row_key, row in computed.items()
        if row_key not in stored or row_key in stale_keys
    ]
    for start in range(0, len(stale), 500):
        IndicatorProgress.objects.filter(pk__in=stale[start : start + 500]).delete()
    IndicatorProgress.objects.bulk_create(fresh, batch_size=500)
    return len(stale) + len(computed.keys() - stored.keys())


# --- the recompute ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a recompute, run over a cursor and the teams; it returns the
    rows it wrote per table (nothing when it only stages rows for later steps)."""

    label: str
    run: Callable[[Any, Teams], dict[str, int] | None]


def recompute_steps() -> tuple[Step, ...]:
    """What a recompute does, in order; a job and a full rebuild run this list.

    Later steps may read what earlier ones staged: the funding tables read the
    sums, indicator progress reads the staged contributions.
    """

    def writes(table: FundingTable) -> Step:
        return Step(
            table.label,
            lambda cursor, teams: {
                table.label: write_funding_table(cursor, table, teams)
            },
        )

    return (
        Step("contributions", stage_figures),
        Step("keys and sums", stage_keys_and_sums),
        *(writes(table) for table in funding_tables()),
        Step(
            IndicatorProgress.__name__,
            lambda cursor, teams: {
                IndicatorProgress.__name__: write_progress(cursor, teams)
            },
        ),
        Step("coherence", coherence.write_coherence),
    )


def recompute_teams(teams: Teams, progress: Progress | None = None) -> dict[str, int]:
    """Recompute every rollup row of the teams; return rows written per table.

    Runs inside the caller's transaction: the scratch tables live and die with
    it, and readers see the old rows or the new ones, never a mix. `progress`
    hears (steps done, steps) after each step.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Recompute rollups inside a transaction.")
    steps = recompute_steps()
    written: dict[str, int] = {}
    with connection.cursor() as cursor:
        _prepare_session(cursor)
        for done, step in enumerate(steps, start=1):
            written.update(step.run(cursor, teams) or {})
            if progress is not None:
                progress(done, len(steps))
        drop_scratch(cursor)
    return written


def recompute_team(team_id: int, progress: Progress | None = None) -> dict[str, int]:
    """Recompute every rollup row of one team (see `recompute_teams`)."""
    return recompute_teams(Teams.of([team_id]), progress)


# --- audit ------------------------------------------------------------------------

Rows = dict[tuple, dict[str, Any]]


@dataclass(frozen=True)
class Difference:
    """One rollup row that differs between the stored table and a recomputation."""

    table: str
    key: dict[str, Any]
    stored: dict[str, Any] | None
    expected: dict[str, Any] | None

    @property
    def changes(self) -> dict[str, tuple[Any, Any]]:
        if self.stored is None or self.expected is None:
            return {}
        return {
            name: (self.stored[name], value)
            for name, value in self.expected.items()
            if self.stored[name] != value
        }


def _normalise(model: type[Model], row: dict[str, Any]) -> dict[str, Any]:
    """Values as the model would read them back, so both sides compare equal."""
    with localcontext(prec=60):
        return _normalised(model, row)


def _normalised(model: type[Model], row: dict[str, Any]) -> dict[str, Any]:
    clean = {}
    for name, value in row.items():
        model_field = model._meta.get_field(name)
        if value is not None and model_field.get_internal_type() == "DecimalField":
            value = _decimal(value).quantize(
                Decimal(1).scaleb(-model_field.decimal_places)
            )
        clean[name] = value
    return clean


def _keyed(model: type[Model], key: Sequence[str], rows: Iterable[dict]) -> Rows:
    keyed = {}
    for row in rows:
        clean = _normalise(model, row)
        keyed[tuple(clean[name] for name in key)] = {
            name: value for name, value in clean.items() if name not in key
        }
    return keyed


def audit_team(team_id: int) -> list[Difference]:
    """Recompute the team's rollups in memory and list where stored rows differ.

    Runs the same SELECTs as a rebuild without writing; call inside a
    transaction (the scratch tables are temporary).
    """
    teams = Teams.of([team_id])
    differences: list[Difference] = []
    with connection.cursor() as cursor:
        _prepare_session(cursor)
        stage_figures(cursor, teams)
        stage_keys_and_sums(cursor, teams)
        for table in funding_tables():
            columns = [*table.row_key, *FUNDING_VALUES]
            expected = _keyed(
                table.model, table.row_key, read_funding_table(cursor, table)
            )
            stored = _keyed(
                table.model,
                table.row_key,
                table.model.objects.filter(country_team_id=team_id).values(*columns),
            )
            differences += _compare(table.label, table.row_key, stored, expected)
        computed = [
            {name: value for name, value in row.items() if name != "country_team_id"}
            for row in compute_progress(cursor, teams)
        ]
        drop_scratch(cursor)
    expected = _keyed(IndicatorProgress, PROGRESS_KEY, computed)
    stored = _keyed(
        IndicatorProgress,
        PROGRESS_KEY,
        IndicatorProgress.objects.filter(country_team_id=team_id).values(
            *PROGRESS_KEY, *PROGRESS_VALUES
        ),
    )
    differences += _compare(IndicatorProgress.__name__, PROGRESS_KEY, stored, expected)
    return differences


def _compare(
    label: str, key: Sequence[str], stored: Rows, expected: Rows
) -> list[Difference]:
    return [
        Difference(
            table=label,
            key=dict(zip(key, row_key, strict=True)),
            stored=stored.get(row_key),
            expected=expected.get(row_key),
        )
        for row_key in sorted(set(stored) | set(expected), key=_sort_key)
        if stored.get(row_key) != expected.get(row_key)
    ]


def _sort_key(row_key: tuple) -> tuple:
    return tuple((value is None, str(value)) for value in row_key)
