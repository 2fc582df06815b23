# ruff: noqa: S608 -- SQL here is assembled from model metadata and constants only;
# every value goes in as a query parameter.
"""Coherence measures: recompute a set of country teams' coherence rows.

A step of the rollup recompute (`reporting.rollups.recompute_steps`), inside its
transaction, as set-based SQL that runs unchanged on PostgreSQL and SQLite but
for the JSON look-ups in `_Json`:

1. `coherence_contributions`: each counted contribution once per basis, read
   from the figures the rollups staged (`rollups.stage_figures`), so both count
   the same contributions and the source tables are read once;
2. `coherence_activity_years`: per activity, year and basis, how many agencies
   and common-chapter signatories deliver, whether it is in a programme, and
   its money;
3. one scratch table per measure, grouped from those two (and the result
   values, measurements and programme participants of the teams); measures
   per output or outcome and agency read the rollups' own sums per key
   (`rollups.SUMS_TABLE`) instead of fanning the contributions out again;
4. the scorecard, from the measures' scratch tables;
5. for each table, only the rows that differ from the stored ones are deleted
   and added (`rollups.write_changed_rows`).

An audit builds the same scratch tables and compares them with the stored rows.
The overlap alerts come from `reporting.coherence_overlaps`: SQL finds the
candidate pairs, Python compares their titles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from coordination.models import Agency
from frameworks.models import (
    CooperationFramework,
    Indicator,
    IndicatorMeasurement,
    JointActivity,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    ProgrammeStatus,
    ResultValue,
    WorkflowStatus,
)
from reporting import coherence_overlaps, rollups
from reporting.models import Basis
from reporting.models.coherence import (
    LNOB_DIMENSIONS,
    AgencyOutcomeRollup,
    CoherenceScorecard,
    CollaborationLink,
    CommonChapterDeliveryRollup,
    DisaggregationRollup,
    JointDeliveryRollup,
    OutputAgencyRollup,
    OverlapAlert,
    TargetGroupFundingRollup,
)

# Dimensions that make a value "complete": every one its indicator asks for.
_ALL_DIMENSIONS = (*LNOB_DIMENSIONS, "wealth")


def _table(model: type[Model]) -> str:
    # Not imported by name: rollups imports this module (its recompute steps).
    return rollups.quoted_table(model)


def _m2m(model: type[Model], name: str) -> tuple[str, str, str]:
    """Table, owner column and other column of an M2M link."""
    link = model._meta.get_field(name)
    quote = connection.ops.quote_name
    return (
        quote(link.m2m_db_table()),
        quote(link.m2m_column_name()),
        quote(link.m2m_reverse_name()),
    )


class _Json:
    """The few JSON look-ups the measures need, per database."""

    @staticmethod
    def has_breakdown(column: str, dimension: str) -> str:
        """1 when the value's disaggregation holds a non-empty breakdown."""
        if connection.vendor == "postgresql":
            part = f"{column} -> '{dimension}'"
            return (
                f"CASE WHEN jsonb_typeof({part}) = 'object' "
                f"AND {part} <> '{{}}'::jsonb THEN 1 ELSE 0 END"
            )
        path = f"'$.\"{dimension}\"'"
        return (
            f"CASE WHEN json_type({column}, {path}) = 'object' "
            f"AND json_extract({column}, {path}) <> '{{}}' THEN 1 ELSE 0 END"
        )

    @staticmethod
    def lists(column: str, item: str) -> str:
        """1 when the JSON list holds the item."""
        if connection.vendor == "postgresql":
            return (
                f"CASE WHEN jsonb_typeof({column}) = 'array' "
                f"AND {column} @> '[\"{item}\"]'::jsonb THEN 1 ELSE 0 END"
            )
        return (
            f"CASE WHEN EXISTS (SELECT 1 FROM json_each({column}) "
            f"WHERE json_each.value = '{item}') THEN 1 ELSE 0 END"
        )

    @staticmethod
    def items(column: str, alias: str) -> str:
        """A join that yields one row per item of a JSON list, as `alias.value`."""
        if connection.vendor == "postgresql":
            return (
                f"CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN "
                f"jsonb_typeof({column}) = 'array' THEN {column} ELSE '[]'::jsonb "
                f"END) AS {alias}(value)"
            )
        return f"JOIN json_each({column}) AS {alias}"

    @staticmethod
    def is_empty_list(column: str) -> str:
        if connection.vendor == "postgresql":
            return (
                f"(jsonb_typeof({column}) <> 'array' "
                f"OR jsonb_array_length({column}) = 0)"
            )
        return f"COALESCE(json_array_length({column}), 0) = 0"


def _year_of(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {column}) AS integer)"
    return f"CAST(strftime('%%Y', {column}) AS integer)"


# --- scratch tables ----------------------------------------------------------------

# Scratch rows carry the basis as a small integer, turned into the stored text
# only when rows are written or compared (`_stored_columns`): sorting, grouping
# and joining on text under a linguistic collation costs several times more.
VALIDATED, SUBMITTED = 1, 2

CONTRIBUTIONS = "coherence_contributions"
ACTIVITY_YEARS = "coherence_activity_years"
VALUES = "coherence_values"
INDICATOR_ASKS = "coherence_indicator_asks"
TEAM_YEARS = "coherence_team_years"
PROGRAMME_PAIRS = "coherence_programme_pairs"


def stage_contributions(cursor: Any, teams: rollups.Teams) -> None:
    """Every counted contribution of the staged teams in the years recomputed,
    once per basis.

    Validated: the validated revision. Including submitted: the current revision
    when submitted or validated, else the validated one, exactly as the funding
    rollups count them, since these rows are theirs (`rollups.FIGURES_TABLE`).
    `revision_id` leads to the revision's result values.
    """
    figures = rollups.FIGURES_TABLE
    years = teams.in_years("year")
    rollups.create_scratch(
        cursor,
        CONTRIBUTIONS,
        f"""
        SELECT country_team_id AS team_id, activity_id, agency_id, year,
            {VALIDATED} AS basis, v_required AS required,
            v_available AS available, v_spent AS spent, v_revision_id AS revision_id
        FROM {figures} WHERE v_n = 1 AND {years}
        UNION ALL
        SELECT country_team_id, activity_id, agency_id, year, {SUBMITTED},
            s_required, s_available, s_spent, s_revision_id
        FROM {figures} WHERE {years}
        """,
        [],
    )


def stage_activity_years(cursor: Any, teams: rollups.Teams) -> None:
    """Per activity, year and basis: delivering agencies and signatories,
    whether the activity belongs to a joint programme, and its money (in cents).

    Grouped once from the staged figures, where both bases sit side by side,
    then split by basis: half the rows the contributions per basis would be.
    """
    figures = rollups.FIGURES_TABLE
    signatory = "ag.is_common_chapter_signatory = %s"
    rollups.create_scratch(
        cursor,
        ACTIVITY_YEARS,
        f"""
        WITH g AS (
            SELECT f.country_team_id AS team_id, f.activity_id AS activity_id,
                f.year AS year,
                MAX(CASE WHEN a.joint_programme_id IS NULL THEN 0 ELSE 1 END)
                    AS in_programme,
                SUM(f.v_n) AS v_count,
                SUM(CASE WHEN f.v_n = 1 AND {signatory} THEN 1 ELSE 0 END)
                    AS v_signatories,
                SUM(f.v_required) AS v_required, SUM(f.v_available) AS v_available,
                SUM(f.v_spent) AS v_spent,
                COUNT(*) AS s_count,
                SUM(CASE WHEN {signatory} THEN 1 ELSE 0 END) AS s_signatories,
                SUM(f.s_required) AS s_required, SUM(f.s_available) AS s_available,
                SUM(f.s_spent) AS s_spent
            FROM {figures} f
            JOIN {_table(JointActivity)} a ON a.id = f.activity_id
            JOIN {_table(Agency)} ag ON ag.id = f.agency_id
            WHERE {teams.in_years("f.year")}
            GROUP BY f.country_team_id, f.activity_id, f.year
        )
        SELECT g.team_id AS team_id, g.activity_id AS activity_id, g.year AS year,
            {VALIDATED} AS basis, g.v_count AS agency_count,
            g.v_signatories AS signatory_count, g.in_programme AS in_programme,
            g.v_required AS required, g.v_available AS available,
            g.v_spent AS spent
        FROM g WHERE g.v_count > 0
        UNION ALL
        SELECT g.team_id, g.activity_id, g.year, {SUBMITTED}, g.s_count,
            g.s_signatories, g.in_programme, g.s_required, g.s_available, g.s_spent
        FROM g
        """,
        [True, True],
    )


def stage_values(cursor: Any, teams: rollups.Teams) -> None:
    """Every counted indicator value of the teams with its breakdown flags.

    Values are result values of counted contributions and measurements that
    count in the basis (validated; or submitted, or validated without a
    submitted replacement), with a number in them.
    """
    measurement, result = _table(IndicatorMeasurement), _table(ResultValue)
    validated, submitted = WorkflowStatus.VALIDATED, WorkflowStatus.SUBMITTED
    in_teams = f"{teams.condition('m.country_team_id')} AND {teams.in_years('m.year')}"
    params = teams.params
    has_number = "{0}.value IS NOT NULL OR {0}.numerator IS NOT NULL"
    flags = ", ".join(
        [
            *(
                f"{_Json.has_breakdown('x.disaggregation', d)} AS has_{d}"
                for d in LNOB_DIMENSIONS
            ),
            *(f"i.asks_{d} AS asks_{d}" for d in _ALL_DIMENSIONS),
            f"{_Json.has_breakdown('x.disaggregation', 'wealth')} AS has_wealth",
        ]
    )
    # What each indicator asks for, read once per indicator, not once per value.
    asks = ", ".join(
        f"{_Json.lists('i.disaggregations', d)} AS asks_{d}" for d in _ALL_DIMENSIONS
    )
    rollups.create_scratch(
        cursor,
        INDICATOR_ASKS,
        f"""
        SELECT i.id AS indicator_id,
            COALESCE(i.outcome_id, op.outcome_id) AS outcome_id, {asks}
        FROM {_table(Indicator)} i
        LEFT JOIN {_table(Output)} op ON op.id = i.output_id
        """,
        [],
    )
    rollups.create_scratch(
        cursor,
        VALUES,
        f"""
        SELECT x.team_id AS team_id, x.year AS year, x.basis AS basis,
            x.indicator_id AS indicator_id, i.outcome_id AS outcome_id, {flags}
        FROM (
            SELECT s.team_id AS team_id, s.year AS year, s.basis AS basis,
                rv.indicator_id AS indicator_id, rv.disaggregation AS disaggregation
            FROM {CONTRIBUTIONS} s JOIN {result} rv ON rv.revision_id = s.revision_id
            WHERE {has_number.format("rv")}
            UNION ALL
            SELECT m.country_team_id, m.year, {VALIDATED}, m.indicator_id,
                m.disaggregation
            FROM {measurement} m
            WHERE {in_teams} AND m.status = '{validated}'
                AND ({has_number.format("m")})
            UNION ALL
            SELECT m.country_team_id, m.year, {SUBMITTED}, m.indicator_id,
                m.disaggregation
            FROM {measurement} m
            WHERE {in_teams} AND ({has_number.format("m")})
                AND (m.status = '{submitted}' OR (m.status = '{validated}'
                AND NOT EXISTS (SELECT 1 FROM {measurement} r
                    WHERE r.supersedes_id = m.id AND r.status = '{submitted}')))
        ) x
        JOIN {INDICATOR_ASKS} i ON i.indicator_id = x.indicator_id
        """,
        [*params, *params],
    )


# --- measures ---------------------------------------------------------------------

_JOINT = "(y.in_programme = 1 OR y.agency_count >= 2)"
_ACTIVITY_YEAR = (
    f"JOIN {ACTIVITY_YEARS} y ON y.activity_id = s.activity_id "
    "AND y.year = s.year AND y.basis = s.basis"
)


def _money(expression: str, name: str) -> str:
    return f"SUM({expression}) / 100.0 AS {name}"


def _delivery_money(row: str) -> str:
    """The money columns of a joint-delivery row, from the money of `row` (an
    alias) and the activity year `y` it is part of."""
    return ", ".join(
        [
            _money(f"{row}.spent", "spent"),
            _money(f"CASE WHEN {_JOINT} THEN {row}.spent ELSE 0 END", "joint_spent"),
            _money(
                f"CASE WHEN y.in_programme = 1 THEN {row}.spent ELSE 0 END",
                "programme_spent",
            ),
            _money(f"{row}.available", "available"),
            _money(
                f"CASE WHEN {_JOINT} THEN {row}.available ELSE 0 END",
                "joint_available",
            ),
        ]
    )


def _joint_delivery(teams: rollups.Teams) -> tuple[str, list]:
    """Per agency from the contributions; for all agencies from the activity
    years, where each activity is one row, so no COUNT(DISTINCT) is needed."""
    joint_count = f"SUM(CASE WHEN {_JOINT} THEN 1 ELSE 0 END)"
    return (
        f"""
        SELECT s.team_id AS country_team_id, s.agency_id AS agency_id,
            s.year AS year, s.basis AS basis, {_delivery_money("s")},
            COUNT(*) AS contribution_count, COUNT(*) AS activity_count,
            {joint_count} AS joint_activity_count
        FROM {CONTRIBUTIONS} s {_ACTIVITY_YEAR}
        GROUP BY s.team_id, s.agency_id, s.year, s.basis
        UNION ALL
        SELECT y.team_id, NULL, y.year, y.basis, {_delivery_money("y")},
            SUM(y.agency_count), COUNT(*), {joint_count}
        FROM {ACTIVITY_YEARS} y
        GROUP BY y.team_id, y.year, y.basis
        """,
        [],
    )


def _per_basis_sums(kind: int, *columns: str) -> str:
    """The rollups' per-key, per-agency sums of one kind of key
    (`rollups.SUMS_TABLE`), once per basis: an agency counts in the validated
    basis only with a validated contribution."""
    validated = ", ".join(f"v_{column} AS {column}" for column in columns)
    submitted = ", ".join(f"s_{column}" for column in columns)
    sums = rollups.SUMS_TABLE
    return f"""
        SELECT country_team_id AS team_id, key_id, agency_id, year,
            {VALIDATED} AS basis, {validated}
        FROM {sums} WHERE kind = {kind} AND v_n > 0
        UNION ALL
        SELECT country_team_id, key_id, agency_id, year, {SUBMITTED}, {submitted}
        FROM {sums} WHERE kind = {kind}
    """


def _output_agencies(teams: rollups.Teams) -> tuple[str, list]:
    """Agencies and money per output, from the rollups' sums per output and
    agency (one row per agency there), not from the contributions again."""
    planned, planned_output, _planned_agency = _m2m(Output, "contributing_agencies")
    return (
        f"""
        SELECT s.team_id AS country_team_id, o.framework_id AS framework_id,
            o.outcome_id AS outcome_id, o.id AS output_id, s.year AS year,
            s.basis AS basis, COUNT(*) AS agency_count,
            (SELECT COUNT(*) FROM {planned} p WHERE p.{planned_output} = o.id)
                AS planned_agency_count,
            CASE WHEN COUNT(*) = 1 THEN MIN(s.agency_id) END AS sole_agency_id,
            {_money("s.spent", "spent")}
        FROM ({_per_basis_sums(rollups.OUTPUT, "spent")}) s
        JOIN {_table(Output)} o ON o.id = s.key_id
        GROUP BY s.team_id, o.framework_id, o.outcome_id, o.id, s.year, s.basis
        """,
        [],
    )


def _agency_outcomes(teams: rollups.Teams) -> tuple[str, list]:
    """Money per agency and outcome (each contribution once per outcome, however
    many of the outcome's outputs its activity is on), the indicators with a
    target the agency reported on, and how many the outcome has."""
    indicator, output = _table(Indicator), _table(Output)
    measurement, result = _table(IndicatorMeasurement), _table(ResultValue)
    in_framework_teams = teams.condition("fw.country_team_id")
    in_measurement_teams = (
        f"{teams.condition('m.country_team_id')} AND {teams.in_years('m.year')}"
    )
    validated, submitted = WorkflowStatus.VALIDATED, WorkflowStatus.SUBMITTED
    indicator_outcome = "COALESCE(i.outcome_id, op.outcome_id)"
    targeted = f"""
        JOIN {indicator} i ON i.id = {{0}}.indicator_id
        LEFT JOIN {output} op ON op.id = i.output_id
        WHERE i.target_value IS NOT NULL
    """
    return (
        f"""
        SELECT money.team_id AS country_team_id, money.framework_id AS framework_id,
            money.outcome_id AS outcome_id, money.agency_id AS agency_id,
            money.year AS year, money.basis AS basis, money.spent AS spent,
            money.available AS available,
            COALESCE(reported.n, 0) AS indicators_reported,
            COALESCE(targets.n, 0) AS indicator_count
        FROM (
            SELECT s.team_id AS team_id, oc.framework_id AS framework_id,
                s.key_id AS outcome_id, s.agency_id AS agency_id,
                s.year AS year, s.basis AS basis,
                s.spent / 100.0 AS spent, s.available / 100.0 AS available
            FROM ({_per_basis_sums(rollups.OUTCOME, "spent", "available")}) s
            JOIN {_table(Outcome)} oc ON oc.id = s.key_id
        ) money
        LEFT JOIN (
            SELECT r.outcome_id AS outcome_id, r.agency_id AS agency_id,
                r.year AS year, r.basis AS basis,
                COUNT(DISTINCT r.indicator_id) AS n
            FROM (
                SELECT {indicator_outcome} AS outcome_id, s.agency_id AS agency_id,
                    s.year AS year, s.basis AS basis,
                    rv.indicator_id AS indicator_id
                FROM {CONTRIBUTIONS} s
                JOIN {result} rv ON rv.revision_id = s.revision_id
                {targeted.format("rv")}
                    AND (rv.value IS NOT NULL OR rv.numerator IS NOT NULL)
                UNION ALL
                SELECT {indicator_outcome}, m.agency_id, m.year, b.basis,
                    m.indicator_id
                FROM {measurement} m
                JOIN (SELECT {VALIDATED} AS basis UNION ALL SELECT {SUBMITTED}) b
                    ON m.status = '{validated}'
                    OR (b.basis = {SUBMITTED} AND m.status = '{submitted}')
                {targeted.format("m")}
                    AND {in_measurement_teams} AND m.agency_id IS NOT NULL
                    AND (m.value IS NOT NULL OR m.numerator IS NOT NULL)
            ) r
            GROUP BY r.outcome_id, r.agency_id, r.year, r.basis
        ) reported ON reported.outcome_id = money.outcome_id
            AND reported.agency_id = money.agency_id
            AND reported.year = money.year AND reported.basis = money.basis
        LEFT JOIN (
            SELECT {indicator_outcome} AS outcome_id, COUNT(*) AS n
            FROM {indicator} i
            JOIN {_table(CooperationFramework)} fw ON fw.id = i.framework_id
            LEFT JOIN {output} op ON op.id = i.output_id
            WHERE {in_framework_teams} AND i.target_value IS NOT NULL
            GROUP BY {indicator_outcome}
        ) targets ON targets.outcome_id = money.outcome_id
        """,
        [*teams.params, *teams.params],
    )


def _disaggregation(teams: rollups.Teams) -> tuple[str, list]:
    expecting = " OR ".join(f"v.asks_{d} = 1" for d in _ALL_DIMENSIONS)
    complete = " AND ".join(
        f"(v.asks_{d} = 0 OR v.has_{d} = 1)" for d in _ALL_DIMENSIONS
    )
    per_dimension = ", ".join(
        f"SUM(v.asks_{d}) AS {d}_expected, "
        f"SUM(CASE WHEN v.asks_{d} = 1 AND v.has_{d} = 1 THEN 1 ELSE 0 END) "
        f"AS {d}_count"
        for d in LNOB_DIMENSIONS
    )

    def level(outcome: str, indicator: str, group: str) -> str:
        return f"""
            SELECT v.team_id AS country_team_id, {outcome} AS outcome_id,
                {indicator} AS indicator_id, v.year AS year, v.basis AS basis,
                COUNT(*) AS value_count,
                SUM(CASE WHEN {expecting} THEN 1 ELSE 0 END) AS expecting_count,
                SUM(CASE WHEN ({expecting}) AND {complete} THEN 1 ELSE 0 END)
                    AS complete_count,
                {per_dimension}
            FROM {VALUES} v
            GROUP BY v.team_id, {group}v.year, v.basis
        """

    return (
        " UNION ALL ".join(
            [
                level("NULL", "v.indicator_id", "v.indicator_id, "),
                level("v.outcome_id", "NULL", "v.outcome_id, "),
                level("NULL", "NULL", ""),
            ]
        ),
        [],
    )


def _target_groups(teams: rollups.Teams) -> tuple[str, list]:
    """Money per target group, from the activity years: an activity's money
    goes in full to each group it names (the page says so). Each activity's
    list is read once, not once per year and basis."""
    activity = _table(JointActivity)
    team = teams.condition("a.country_team_id")
    return (
        f"""
        SELECT y.team_id AS country_team_id, g.target_group AS target_group,
            y.year AS year, y.basis AS basis,
            {_money("y.required", "required")},
            {_money("y.available", "available")},
            {_money("y.spent", "spent")},
            COUNT(DISTINCT y.activity_id) AS activity_count,
            SUM(y.agency_count) AS contribution_count
        FROM {ACTIVITY_YEARS} y JOIN (
            SELECT a.id AS activity_id, g.value AS target_group
            FROM {activity} a {_Json.items("a.target_groups", "g")}
            WHERE {team}
            UNION ALL
            SELECT a.id, '' FROM {activity} a
            WHERE {team} AND {_Json.is_empty_list("a.target_groups")}
        ) g ON g.activity_id = y.activity_id
        GROUP BY y.team_id, g.target_group, y.year, y.basis
        """,
        [*teams.params, *teams.params],
    )


def _common_chapter(teams: rollups.Teams) -> tuple[str, list]:
    areas, area_activity, area_area = _m2m(JointActivity, "common_chapter_areas")
    joint = "y.signatory_count >= 2"

    def branch(*, per_agency: bool) -> str:
        agency = "s.agency_id" if per_agency else "NULL"
        group = "s.agency_id, " if per_agency else ""
        activities = "COUNT(*)" if per_agency else "COUNT(DISTINCT s.activity_id)"
        joint_activities = (
            f"SUM(CASE WHEN {joint} THEN 1 ELSE 0 END)"
            if per_agency
            else f"COUNT(DISTINCT CASE WHEN {joint} THEN s.activity_id END)"
        )
        signatories = "1" if per_agency else "COUNT(DISTINCT s.agency_id)"
        return f"""
            SELECT s.team_id AS country_team_id, t.{area_area} AS area_id,
                {agency} AS agency_id, s.year AS year, s.basis AS basis,
                {_money("s.spent", "spent")},
                {_money(f"CASE WHEN {joint} THEN s.spent ELSE 0 END", "joint_spent")},
                {activities} AS activity_count,
                {joint_activities} AS joint_activity_count,
                {signatories} AS signatory_count
            FROM {CONTRIBUTIONS} s {_ACTIVITY_YEAR}
            JOIN {_table(Agency)} ag ON ag.id = s.agency_id
            JOIN {areas} t ON t.{area_activity} = s.activity_id
            WHERE ag.is_common_chapter_signatory = %s
            GROUP BY s.team_id, t.{area_area}, {group}s.year, s.basis
        """

    return (
        f"{branch(per_agency=True)} UNION ALL {branch(per_agency=False)}",
        [True, True],
    )


def _programme_pairs() -> str:
    """Pairs of agencies taking part in one running programme, per team year."""
    participant = _table(JointProgrammeParticipant)
    return f"""
        SELECT k.team_id AS team_id, k.year AS year, k.basis AS basis,
            p.agency_id AS agency_a_id, q.agency_id AS agency_b_id,
            jp.id AS programme_id
        FROM {TEAM_YEARS} k
        JOIN {_table(JointProgramme)} jp ON jp.country_team_id = k.team_id
            AND {_year_of("jp.start_date")} <= k.year
            AND {_year_of("jp.end_date")} >= k.year
            AND jp.status <> '{ProgrammeStatus.PIPELINE}'
        JOIN {participant} p ON p.programme_id = jp.id
        JOIN {participant} q ON q.programme_id = jp.id AND q.agency_id > p.agency_id
    """


def _links(teams: rollups.Teams) -> tuple[str, list]:
    """Pairs of agencies on one activity year, from the staged figures (both
    bases side by side: half the pairs of joining the contributions per basis),
    and pairs in one running programme."""
    figures = rollups.FIGURES_TABLE
    both_validated = "f.v_n = 1 AND g.v_n = 1"
    return (
        f"""
        WITH contribution_pairs AS (
            SELECT f.country_team_id AS team_id, f.year AS year,
                f.agency_id AS agency_a_id, g.agency_id AS agency_b_id,
                SUM(CASE WHEN {both_validated} THEN 1 ELSE 0 END) AS v_activities,
                SUM(CASE WHEN {both_validated} THEN f.v_spent + g.v_spent END)
                    AS v_spent,
                COUNT(*) AS s_activities, SUM(f.s_spent + g.s_spent) AS s_spent
            FROM {figures} f JOIN {figures} g
                ON g.activity_id = f.activity_id AND g.year = f.year
                AND g.agency_id > f.agency_id
            WHERE {teams.in_years("f.year")}
            GROUP BY f.country_team_id, f.year, f.agency_id, g.agency_id
        )
        SELECT x.team_id AS country_team_id, x.agency_a_id AS agency_a_id,
            x.agency_b_id AS agency_b_id, x.year AS year, x.basis AS basis,
            SUM(x.activities) AS shared_activities,
            SUM(x.programmes) AS shared_programmes,
            SUM(x.spent) / 100.0 AS shared_spent
        FROM (
            SELECT team_id, year, {VALIDATED} AS basis, agency_a_id, agency_b_id,
                v_activities AS activities, 0 AS programmes, v_spent AS spent
            FROM contribution_pairs WHERE v_activities > 0
            UNION ALL
            SELECT team_id, year, {SUBMITTED}, agency_a_id, agency_b_id,
                s_activities, 0, s_spent
            FROM contribution_pairs
            UNION ALL
            SELECT team_id, year, basis, agency_a_id, agency_b_id, 0, COUNT(*), 0
            FROM {PROGRAMME_PAIRS} pp
            GROUP BY team_id, year, basis, agency_a_id, agency_b_id
        ) x
        GROUP BY x.team_id, x.agency_a_id, x.agency_b_id, x.year, x.basis
        """,
        [],
    )


@dataclass(frozen=True)
class CoherenceTable:
    """One coherence table, its row key and its scratch table's SELECT."""

    model: type[Model]
    key: tuple[str, ...]
    values: tuple[str, ...]
    select: Any  # Callable[[rollups.Teams], tuple[str, list]]

    @property
    def label(self) -> str:
        return self.model.__name__

    @property
    def scratch(self) -> str:
        return f"coherence_{self.model._meta.model_name}"

    @property
    def columns(self) -> tuple[str, ...]:
        return ("country_team_id", *self.key, *self.values)


def _scorecard(teams: rollups.Teams) -> tuple[str, list]:
    """Headline figures per team year, from the measures' scratch tables."""
    delivery = coherence_table(JointDeliveryRollup).scratch
    outputs = coherence_table(OutputAgencyRollup).scratch
    links = coherence_table(CollaborationLink).scratch
    values = coherence_table(DisaggregationRollup).scratch
    areas, area_activity, _area = _m2m(JointActivity, "common_chapter_areas")
    same = "{0}.team_id = k.team_id AND {0}.year = k.year AND {0}.basis = k.basis"
    same_row = (
        "{0}.country_team_id = k.team_id AND {0}.year = k.year AND {0}.basis = k.basis"
    )
    return (
        f"""
        SELECT k.team_id AS country_team_id, k.year AS year, k.basis AS basis,
            COALESCE(d.spent, 0) AS spent, COALESCE(d.joint_spent, 0) AS joint_spent,
            COALESCE(d.programme_spent, 0) AS programme_spent,
            COALESCE(o.delivered, 0) AS outputs_delivered,
            COALESCE(o.single, 0) AS outputs_single_agency,
            COALESCE(o.agency_total, 0) AS output_agency_total,
            COALESCE(n.agencies, 0) AS agency_count,
            COALESCE(l.pairs, 0) AS linked_pairs,
            COALESCE(v.expecting_count, 0) AS values_expecting,
            COALESCE(v.complete_count, 0) AS values_complete,
            COALESCE(cc.spent, 0) AS signatory_spent,
            COALESCE(cc.joint_spent, 0) AS signatory_joint_spent
        FROM {TEAM_YEARS} k
        LEFT JOIN {delivery} d ON {same_row.format("d")} AND d.agency_id IS NULL
        LEFT JOIN (
            SELECT country_team_id, year, basis, COUNT(*) AS delivered,
                SUM(CASE WHEN agency_count = 1 THEN 1 ELSE 0 END) AS single,
                SUM(agency_count) AS agency_total
            FROM {outputs} GROUP BY country_team_id, year, basis
        ) o ON {same_row.format("o")}
        LEFT JOIN (
            SELECT team_id, year, basis, COUNT(*) AS agencies FROM (
                SELECT team_id, year, basis, agency_id FROM {CONTRIBUTIONS}
                UNION
                SELECT team_id, year, basis, agency_a_id
                FROM {PROGRAMME_PAIRS} pa
                UNION
                SELECT team_id, year, basis, agency_b_id
                FROM {PROGRAMME_PAIRS} pb
            ) at_work GROUP BY team_id, year, basis
        ) n ON {same.format("n")}
        LEFT JOIN (
            SELECT country_team_id, year, basis, COUNT(*) AS pairs
            FROM {links} GROUP BY country_team_id, year, basis
        ) l ON {same_row.format("l")}
        LEFT JOIN {values} v ON {same_row.format("v")}
            AND v.outcome_id IS NULL AND v.indicator_id IS NULL
        LEFT JOIN (
            SELECT s.team_id AS team_id, s.year AS year, s.basis AS basis,
                {_money("s.spent", "spent")},
                {
            _money(
                "CASE WHEN y.signatory_count >= 2 THEN s.spent ELSE 0 END",
                "joint_spent",
            )
        }
            FROM {CONTRIBUTIONS} s {_ACTIVITY_YEAR}
            JOIN {_table(Agency)} ag ON ag.id = s.agency_id
            WHERE ag.is_common_chapter_signatory = %s AND EXISTS (
                SELECT 1 FROM {areas} t WHERE t.{area_activity} = s.activity_id)
            GROUP BY s.team_id, s.year, s.basis
        ) cc ON {same.format("cc")}
        """,
        [True],
    )


_MONEY_DELIVERY = (
    "spent",
    "joint_spent",
    "programme_spent",
    "available",
    "joint_available",
)

# In dependency order: the scorecard reads the others' scratch tables.
TABLES: tuple[CoherenceTable, ...] = (
    CoherenceTable(
        JointDeliveryRollup,
        key=("agency_id", "year", "basis"),
        values=(
            *_MONEY_DELIVERY,
            "contribution_count",
            "activity_count",
            "joint_activity_count",
        ),
        select=_joint_delivery,
    ),
    CoherenceTable(
        OutputAgencyRollup,
        key=("framework_id", "outcome_id", "output_id", "year", "basis"),
        values=("agency_count", "planned_agency_count", "sole_agency_id", "spent"),
        select=_output_agencies,
    ),
    CoherenceTable(
        AgencyOutcomeRollup,
        key=("framework_id", "outcome_id", "agency_id", "year", "basis"),
        values=("spent", "available", "indicators_reported", "indicator_count"),
        select=_agency_outcomes,
    ),
    CoherenceTable(
        DisaggregationRollup,
        key=("outcome_id", "indicator_id", "year", "basis"),
        values=(
            "value_count",
            "expecting_count",
            "complete_count",
            *(f"{d}_{part}" for d in LNOB_DIMENSIONS for part in ("expected", "count")),
        ),
        select=_disaggregation,
    ),
    CoherenceTable(
        TargetGroupFundingRollup,
        key=("target_group", "year", "basis"),
        values=(
            "required",
            "available",
            "spent",
            "activity_count",
            "contribution_count",
        ),
        select=_target_groups,
    ),
    CoherenceTable(
        CommonChapterDeliveryRollup,
        key=("area_id", "agency_id", "year", "basis"),
        values=(
            "spent",
            "joint_spent",
            "activity_count",
            "joint_activity_count",
            "signatory_count",
        ),
        select=_common_chapter,
    ),
    CoherenceTable(
        CollaborationLink,
        key=("agency_a_id", "agency_b_id", "year", "basis"),
        values=("shared_activities", "shared_programmes", "shared_spent"),
        select=_links,
    ),
    CoherenceTable(
        CoherenceScorecard,
        key=("year", "basis"),
        values=(
            "spent",
            "joint_spent",
            "programme_spent",
            "outputs_delivered",
            "outputs_single_agency",
            "output_agency_total",
            "agency_count",
            "linked_pairs",
            "values_expecting",
            "values_complete",
            "signatory_spent",
            "signatory_joint_spent",
        ),
        select=_scorecard,
    ),
)


def coherence_table(model: type[Model]) -> CoherenceTable:
    return next(table for table in TABLES if table.model is model)


def _stage(cursor: Any, teams: rollups.Teams) -> None:
    stage_contributions(cursor, teams)
    stage_activity_years(cursor, teams)
    stage_values(cursor, teams)
    # Small, and read by several measures.
    rollups.create_scratch(
        cursor,
        TEAM_YEARS,
        f"SELECT DISTINCT team_id, year, basis FROM {ACTIVITY_YEARS}",
        [],
    )
    rollups.create_scratch(cursor, PROGRAMME_PAIRS, _programme_pairs(), [])
    if teams.years is None:
        # A job for some years stages a few thousand rows: statistics would
        # cost more than the plans they improve.
        rollups.analyze_scratch(cursor, CONTRIBUTIONS, ACTIVITY_YEARS, VALUES)
    for table in TABLES:
        select, params = table.select(teams)
        rollups.create_scratch(cursor, table.scratch, select, params)


def _stored_columns(columns: Sequence[str]) -> str:
    """The scratch columns as the table stores them: the basis as its text."""
    basis = (
        f"CASE basis WHEN {VALIDATED} THEN '{Basis.VALIDATED}' "
        f"ELSE '{Basis.SUBMITTED}' END AS basis"
    )
    return ", ".join(basis if column == "basis" else column for column in columns)


def _drop_scratch(cursor: Any) -> None:
    for name in (
        *(table.scratch for table in reversed(TABLES)),
        PROGRAMME_PAIRS,
        TEAM_YEARS,
        VALUES,
        INDICATOR_ASKS,
        ACTIVITY_YEARS,
        CONTRIBUTIONS,
    ):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


# --- the whole job ----------------------------------------------------------------


def write_coherence(cursor: Any, teams: rollups.Teams) -> dict[str, int]:
    """The recompute step: bring the teams' coherence rows and overlap alerts in
    line with their staged figures; return rows deleted, changed or added per
    table. Runs after `rollups.stage_figures` and `rollups.stage_keys_and_sums`,
    in the recompute's transaction, so the measures change together with the
    rollups."""
    written: dict[str, int] = {}
    _stage(cursor, teams)
    for table in TABLES:
        written[table.label] = rollups.write_changed_rows(
            cursor,
            model=table.model,
            select=f"SELECT {_stored_columns(table.columns)} FROM {table.scratch}",
            key=table.key,
            values=table.values,
            teams=teams,
        )
    # Changes of figures (a job for some years) cannot change the alerts: the
    # search reads activities, their links and dates, and decisions only.
    if teams.years is None:
        written[coherence_overlaps.LABEL] = coherence_overlaps.write_alerts(
            cursor, teams
        )
    _drop_scratch(cursor)
    return written


def recompute_coherence(team_ids: Iterable[int]) -> dict[str, int]:
    """Recompute only the coherence rows of the teams (the rollup jobs run
    `write_coherence` as one of their steps). Call inside a transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("Recompute coherence measures inside a transaction.")
    if not set(team_ids):
        return {}
    teams = rollups.Teams.of(team_ids)
    with connection.cursor() as cursor:
        rollups.stage_figures(cursor, teams)
        rollups.stage_keys_and_sums(cursor, teams)
        written = write_coherence(cursor, teams)
        rollups.drop_scratch(cursor)
    return written


# --- audit ------------------------------------------------------------------------


def audit_coherence(team_id: int) -> list[rollups.Difference]:
    """Recompute a team's coherence rows in memory and list where the stored
    rows differ (alerts included). Call inside a transaction."""
    differences: list[rollups.Difference] = []
    teams = rollups.Teams.of([team_id])
    with connection.cursor() as cursor:
        rollups.stage_figures(cursor, teams)
        rollups.stage_keys_and_sums(cursor, teams)
        _stage(cursor, teams)
        for table in TABLES:
            cursor.execute(
                f"SELECT {_stored_columns(table.columns[1:])} FROM {table.scratch}"
            )
            names = table.columns[1:]
            expected = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            stored = table.model.objects.filter(country_team_id=team_id).values(*names)
            differences += compare_rows(
                table.model, table.label, table.key, stored, expected
            )
        differences += compare_rows(
            OverlapAlert,
            coherence_overlaps.LABEL,
            coherence_overlaps.ALERT_KEY,
            OverlapAlert.objects.filter(country_team_id=team_id).values(
                *coherence_overlaps.ALERT_KEY, *coherence_overlaps.ALERT_VALUES
            ),
            coherence_overlaps.alert_rows(cursor, teams),
        )
        _drop_scratch(cursor)
        rollups.drop_scratch(cursor)
    return differences


def audit_team_coherence(*, team_id: int) -> list[rollups.Difference]:
    """The audit in its own transaction, for the audit command."""
    with transaction.atomic():
        return audit_coherence(team_id)


def compare_rows(
    model: type[Model],
    label: str,
    key: Sequence[str],
    stored: Iterable[dict[str, Any]],
    expected: Iterable[dict[str, Any]],
) -> list[rollups.Difference]:
    """Differences between two sets of rows of one table, by key."""
    stored_rows, expected_rows = (
        _keyed(model, key, stored),
        _keyed(model, key, expected),
    )
    return [
        rollups.Difference(
            table=label,
            key=dict(zip(key, row_key, strict=True)),
            stored=stored_rows.get(row_key),
            expected=expected_rows.get(row_key),
        )
        for row_key in sorted(
            set(stored_rows) | set(expected_rows),
            key=lambda k: tuple((v is None, str(v)) for v in k),
        )
        if stored_rows.get(row_key) != expected_rows.get(row_key)
    ]


def _keyed(
    model: type[Model], key: Sequence[str], rows: Iterable[dict[str, Any]]
) -> dict[tuple, dict[str, Any]]:
    keyed = {}
    for row in rows:
        clean = {name: _normalised(model, name, value) for name, value in row.items()}
        keyed[tuple(clean[name] for name in key)] = {
            name: value for name, value in clean.items() if name not in key
        }
    return keyed


def _normalised(model: type[Model], name: str, value: Any) -> Any:
    """A value as the model reads it back, so both sides compare equal."""
    if value is None:
        return None
    field = model._meta.get_field(name)
    kind = field.get_internal_type()
    if kind == "DecimalField":
        with localcontext(prec=60):
            number = (
                Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            )
            return number.quantize(Decimal(1).scaleb(-field.decimal_places))
    if kind == "BooleanField":
        return bool(value)
    return value
