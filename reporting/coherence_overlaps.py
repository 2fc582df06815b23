# ruff: noqa: S608 -- SQL here is assembled from model metadata and constants only;
# every value goes in as a query parameter.
"""Overlap and duplication alerts: activities of different agencies that may be
the same work done twice.

A pair of activities is a candidate when it is in one team, led by different
agencies, linked to a common output (SQL finds these pairs), sharing a location
(sets of the team's few location links intersect in memory) and running at the
same time, cancelled activities left out. Python then compares only those
candidates' titles: the pair is an alert when their similarity reaches
`SIMILARITY_THRESHOLD`.

Decisions of the RC office (`OverlapDecision`) live apart from the alerts and
survive every recompute. A decided pair keeps its decision until it changes
materially (`changed_materially`): it comes to share an output or a location it
did not share when decided, or its overlap in time grows by more than
`OVERLAP_GROWTH_DAYS`. Then the alert is open again, marked as changed. Title
edits, money and an overlap that shrinks never reopen a decision.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any, Protocol

from django.db import connection
from django.db.models import Model

from frameworks.models import ImplementationStatus, JointActivity, WorkflowStatus
from reporting import rollups
from reporting.models import RollupState
from reporting.models.coherence import AlertStatus, OverlapAlert, OverlapDecision

LABEL = OverlapAlert.__name__
SIMILARITY_THRESHOLD = Decimal("0.5")
OVERLAP_GROWTH_DAYS = 90
STEM_LENGTH = 5
# Part of the digest of a search's inputs: change it with the search (its rules,
# thresholds or stop words) so the next recompute searches again everywhere.
SEARCH_VERSION = b"overlaps/1"

# Words that say nothing about what an activity does; without them two titles
# are not "similar" because both are "joint support to the programme".
STOP_WORDS = frozenset(
    {
        "and",
        "are",
        "for",
        "from",
        "into",
        "its",
        "the",
        "their",
        "with",
        "within",
        "through",
        "towards",
        "across",
        "among",
        "between",
        "after",
        "before",
        "over",
        "under",
        "via",
        "des",
        "les",
        "pour",
        "par",
        "dans",
        "sur",
        "avec",
        "los",
        "las",
        "del",
        "para",
        "con",
        "joint",
        "support",
        "programme",
        "program",
        "project",
        "activity",
        "activities",
        "initiative",
    }
)
_WORD = re.compile(r"[^\W\d_]+")


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def title_words(title: str) -> frozenset[str]:
    """The stems a title is compared by: lower-case words of three letters or
    more, stop words left out, cut to their first five letters (so
    "displaced" and "displacement" match)."""
    return frozenset(
        word[:STEM_LENGTH]
        for word in _WORD.findall(_ascii(title).lower())
        if len(word) >= 3 and word not in STOP_WORDS
    )


def title_similarity(first: str, second: str) -> Decimal:
    """Dice coefficient of the titles' stems: 2 |A ∩ B| / (|A| + |B|), 0 to 1."""
    return words_similarity(title_words(first), title_words(second))


def words_similarity(a: frozenset[str], b: frozenset[str]) -> Decimal:
    """The Dice coefficient of two titles' stems (see `title_similarity`)."""
    if not a or not b:
        return _ZERO
    return _dice(len(a & b), len(a) + len(b))


@cache
def _dice(shared: int, total: int) -> Decimal:
    # Few distinct (shared, total) pairs occur: the Decimal work is done once each.
    return (Decimal(2 * shared) / Decimal(total)).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP
    )


_ZERO = Decimal("0.000")


class PairSnapshot(Protocol):
    shared_output_ids: list[int]
    shared_location_ids: list[int]
    overlap_days: int


def changed_materially(now: Any, decided: PairSnapshot) -> bool:
    """Whether a pair changed enough since a decision to be looked at again.

    `now` is an alert (or its row as a dict), `decided` the decision.
    """

    def value(name: str) -> Any:
        return now[name] if isinstance(now, dict) else getattr(now, name)

    return (
        not set(value("shared_output_ids")) <= set(decided.shared_output_ids)
        or not set(value("shared_location_ids")) <= set(decided.shared_location_ids)
        or value("overlap_days") > decided.overlap_days + OVERLAP_GROWTH_DAYS
    )


# --- finding candidates --------------------------------------------------------------


def output_pairs(cursor: Any, teams: rollups.Teams) -> list[tuple[int, int]]:
    """The pairs (lower id first) of the teams' activities that share an output:
    one team, different lead agencies, periods that meet, neither cancelled.
    One statement, planned as hash joins; each pair once."""
    activity = rollups.quoted_table(JointActivity)
    outputs, output_activity, output_output = rollups.activity_m2m("outputs")
    cancelled = ImplementationStatus.CANCELLED
    cursor.execute(
        f"""
        SELECT DISTINCT a.id, b.id
        FROM {activity} a
        JOIN {outputs} la ON la.{output_activity} = a.id
        JOIN {outputs} lb ON lb.{output_output} = la.{output_output}
            AND lb.{output_activity} > a.id
        JOIN {activity} b ON b.id = lb.{output_activity}
        WHERE {teams.condition("a.country_team_id")}
            AND b.country_team_id = a.country_team_id
            AND b.agency_id <> a.agency_id
            AND a.start_date <= b.end_date AND b.start_date <= a.end_date
            AND a.implementation_status <> %s AND b.implementation_status <> %s
        """,
        [*teams.params, cancelled, cancelled],
    )
    return cursor.fetchall()


def team_links(cursor: Any, name: str, teams: rollups.Teams) -> dict[int, set[int]]:
    """What each of the teams' activities links to through the M2M `name`."""
    activity = rollups.quoted_table(JointActivity)
    table, owner, other = rollups.activity_m2m(name)
    cursor.execute(
        f"""
        SELECT l.{owner}, l.{other}
        FROM {table} l JOIN {activity} a ON a.id = l.{owner}
        WHERE {teams.condition("a.country_team_id")}
        """,
        teams.params,
    )
    found: dict[int, set[int]] = defaultdict(set)
    for activity_id, other_id in cursor.fetchall():
        found[activity_id].add(other_id)
    return found


_ACTIVITY_FIELDS = (
    "pk",
    "country_team_id",
    "agency_id",
    "title",
    "start_date",
    "end_date",
    "status",
    "implementation_status",
)
# The activity fields the search reads, as `input_digests` digests them.
_DIGESTED = tuple("id" if name == "pk" else name for name in _ACTIVITY_FIELDS)
_DECISION_FIELDS = (
    "activity_a_id",
    "activity_b_id",
    "status",
    "shared_output_ids",
    "shared_location_ids",
    "overlap_days",
)


@dataclass(frozen=True)
class OverlapInputs:
    """Everything the teams' alerts are computed from, but the pairs: their
    activities, what those link to, and the RC office's decisions."""

    activities: dict[int, dict[str, Any]]
    outputs: dict[int, set[int]]
    places: dict[int, set[int]]
    decisions: dict[tuple[int, int], OverlapDecision]

    @classmethod
    def load(cls, cursor: Any, teams: rollups.Teams) -> OverlapInputs:
        return cls(
            activities={
                row["pk"]: row
                for row in JointActivity.objects.filter(country_team_id__in=teams.ids)
                .order_by()
                .values(*_ACTIVITY_FIELDS)
            },
            outputs=team_links(cursor, "outputs", teams),
            places=team_links(cursor, "locations", teams),
            decisions={
                (decision.activity_a_id, decision.activity_b_id): decision
                for decision in OverlapDecision.objects.filter(
                    country_team_id__in=teams.ids
                ).order_by()
            },
        )


def compute_alerts(
    cursor: Any, teams: rollups.Teams, inputs: OverlapInputs | None = None
) -> list[dict[str, Any]]:
    """The teams' alert rows, with the RC office's decisions applied.

    SQL finds the pairs that share an output; the location test and the title
    comparison run in memory over each team's few links and titles, which is
    cheaper than a second join per pair. Only alerts build a row.
    """
    pairs = output_pairs(cursor, teams)
    if not pairs:
        return []
    if inputs is None:
        inputs = OverlapInputs.load(cursor, teams)
    activities, places, outputs = inputs.activities, inputs.places, inputs.outputs
    words = {pk: title_words(row["title"]) for pk, row in activities.items()}
    rows = []
    for a_id, b_id in pairs:
        if places[a_id].isdisjoint(places[b_id]):
            continue
        similarity = words_similarity(words[a_id], words[b_id])
        if similarity < SIMILARITY_THRESHOLD:
            continue
        a, b = activities[a_id], activities[b_id]
        start: date = max(a["start_date"], b["start_date"])
        end: date = min(a["end_date"], b["end_date"])
        row = {
            "country_team_id": a["country_team_id"],
            "activity_a_id": a_id,
            "activity_b_id": b_id,
            "agency_a_id": a["agency_id"],
            "agency_b_id": b["agency_id"],
            "similarity": similarity,
            "shared_output_ids": sorted(outputs[a_id] & outputs[b_id]),
            "shared_location_ids": sorted(places[a_id] & places[b_id]),
            "overlap_start": start,
            "overlap_end": end,
            "overlap_days": (end - start).days + 1,
            "both_validated": a["status"] == b["status"] == WorkflowStatus.VALIDATED,
        }
        row.update(_status(row, inputs.decisions.get((a_id, b_id))))
        rows.append(row)
    return rows


def _status(row: dict[str, Any], decision: OverlapDecision | None) -> dict[str, Any]:
    if decision is None:
        return {"status": AlertStatus.OPEN, "reopened": False}
    if changed_materially(row, decision):
        return {"status": AlertStatus.OPEN, "reopened": True}
    return {"status": decision.status, "reopened": False}


def write_alerts(cursor: Any, teams: rollups.Teams) -> int:
    """Bring the teams' alerts in line with their inputs; return how many were
    deleted, changed or added.

    The search is skipped for a team whose inputs have the digest its alerts
    were last computed from (`RollupState.overlap_inputs`) and whose stored
    alerts are still the rows that search wrote (`RollupState.overlap_alerts`):
    the search is deterministic, so it would write nothing. Most changes are to
    money and results, which no alert depends on, and the search is the one part
    of the recompute that grows with the square of a team's activities. An
    alert changed by anything but the search (a decision, an edit by hand)
    changes the second digest, so the next recompute repairs it. An alert that
    stays keeps its id, so a link to it (or an API client holding it) outlives
    recomputes.
    """
    digests = input_digests(cursor, teams)
    states = {
        state.country_team_id: state
        for state in RollupState.objects.filter(country_team_id__in=teams.ids).only(
            "pk", "country_team_id", "overlap_inputs", "overlap_alerts"
        )
    }
    stored = stored_digests(cursor, teams)
    stale = [
        team_id
        for team_id in teams.ids
        if team_id not in states
        or states[team_id].overlap_inputs != digests[team_id]
        or states[team_id].overlap_alerts != stored[team_id]
    ]
    if not stale:
        return 0
    stale_teams = rollups.Teams.of(stale)
    inputs = OverlapInputs.load(cursor, stale_teams)
    written = _write_alerts(cursor, stale_teams, inputs)
    written_digests = stored_digests(cursor, stale_teams)
    searched = [states[team_id] for team_id in stale if team_id in states]
    for state in searched:
        state.overlap_inputs = digests[state.country_team_id]
        state.overlap_alerts = written_digests[state.country_team_id]
    RollupState.objects.bulk_update(searched, ["overlap_inputs", "overlap_alerts"])
    return written


def input_digests(cursor: Any, teams: rollups.Teams) -> dict[int, str]:
    """Per team, a digest of what its alerts are computed from (the search's
    version, its activities, their outputs and locations, the decisions):
    equal digests, equal alerts."""
    activity = rollups.quoted_table(JointActivity)
    team = teams.condition("a.country_team_id")
    statements = [
        f"""SELECT a.country_team_id, {_row_text("a", JointActivity, _DIGESTED)}
        FROM {activity} a WHERE {team} ORDER BY a.country_team_id, a.id""",
        *(
            f"""SELECT a.country_team_id,
                CAST(l.{owner} AS TEXT) || '|' || CAST(l.{other} AS TEXT)
            FROM {table} l JOIN {activity} a ON a.id = l.{owner}
            WHERE {team} ORDER BY a.country_team_id, l.{owner}, l.{other}"""
            for table, owner, other in (
                rollups.activity_m2m("outputs"),
                rollups.activity_m2m("locations"),
            )
        ),
        f"""SELECT a.country_team_id,
            {_row_text("a", OverlapDecision, _DECISION_FIELDS)}
        FROM {rollups.quoted_table(OverlapDecision)} a WHERE {team}
        ORDER BY a.country_team_id, a.activity_a_id, a.activity_b_id""",
    ]
    return _digests(cursor, teams, statements)


def stored_digests(cursor: Any, teams: rollups.Teams) -> dict[int, str]:
    """Per team, a digest of its stored alert rows (keys and values)."""
    statement = f"""
        SELECT a.country_team_id,
            {_row_text("a", OverlapAlert, (*ALERT_KEY, *ALERT_VALUES))}
        FROM {rollups.quoted_table(OverlapAlert)} a
        WHERE {teams.condition("a.country_team_id")}
        ORDER BY a.country_team_id, a.activity_a_id, a.activity_b_id
    """
    return _digests(cursor, teams, [statement])


def _digests(
    cursor: Any, teams: rollups.Teams, statements: Sequence[str]
) -> dict[int, str]:
    """Per team, one digest of the rows of the statements, which select the
    team and one text per row, in team order. The database writes the text:
    converting dates, decimals and JSON to Python objects would cost more
    than hashing them."""
    hashes = {team_id: hashlib.sha256(SEARCH_VERSION) for team_id in teams.ids}
    for statement in statements:
        cursor.execute(statement, teams.params)
        for team_id, rows in groupby(cursor.fetchall(), key=itemgetter(0)):
            hashes[team_id].update("\n".join(row[1] for row in rows).encode())
        for digest in hashes.values():
            digest.update(b"\0")
    return {team_id: digest.hexdigest() for team_id, digest in hashes.items()}


def _row_text(alias: str, model: type[Model], fields: Sequence[str]) -> str:
    """The fields as one text, each prefixed with its length, so that no two
    rows read the same (a title may hold any character)."""
    quote = connection.ops.quote_name
    texts = [
        f"COALESCE(CAST({alias}.{quote(model._meta.get_field(name).column)} "
        "AS TEXT), '')"
        for name in fields
    ]
    return " || '|' || ".join(f"LENGTH({text}) || ':' || {text}" for text in texts)


def _write_alerts(cursor: Any, teams: rollups.Teams, inputs: OverlapInputs) -> int:
    computed = {
        (row["activity_a_id"], row["activity_b_id"]): row
        for row in compute_alerts(cursor, teams, inputs)
    }
    # Plain rows, not model instances: a rebuild compares tens of thousands.
    stored = {
        (row["activity_a_id"], row["activity_b_id"]): row
        for row in OverlapAlert.objects.filter(country_team_id__in=teams.ids)
        .order_by()
        .values("pk", *ALERT_KEY, *ALERT_VALUES)
    }
    gone = [row["pk"] for key, row in stored.items() if key not in computed]
    changed = [
        OverlapAlert(pk=row["pk"], **computed[key])
        for key, row in stored.items()
        if key in computed
        and any(row[name] != computed[key][name] for name in ALERT_VALUES)
    ]
    for start in range(0, len(gone), 500):
        OverlapAlert.objects.filter(pk__in=gone[start : start + 500]).delete()
    OverlapAlert.objects.bulk_update(changed, ALERT_VALUES, batch_size=1000)
    added = [OverlapAlert(**row) for key, row in computed.items() if key not in stored]
    OverlapAlert.objects.bulk_create(added, batch_size=1000)
    return len(gone) + len(changed) + len(added)


ALERT_KEY = ("activity_a_id", "activity_b_id")
ALERT_VALUES = (
    "agency_a_id",
    "agency_b_id",
    "similarity",
    "shared_output_ids",
    "shared_location_ids",
    "overlap_start",
    "overlap_end",
    "overlap_days",
    "both_validated",
    "status",
    "reopened",
)


def alert_rows(cursor: Any, teams: rollups.Teams) -> list[dict[str, Any]]:
    """A team's alert rows as the audit compares them, key and values only."""
    return [
        {name: row[name] for name in (*ALERT_KEY, *ALERT_VALUES)}
        for row in compute_alerts(cursor, teams)
    ]
