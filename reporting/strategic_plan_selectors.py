# ruff: noqa: S608 -- SQL here is assembled from model metadata and constants only;
# every value goes in as a query parameter.
"""The board's view of the agencies' strategic plans: what joint work delivers.

A validated contribution counts towards a plan output when its agency linked it
to the output, or when the RC office aligned a framework output of its activity
with the plan output; either way only contributions of the plan's agency, in a
year of the plan's period, with validated figures, of active country teams.
The links are many-to-many, so the money is added up in SQL over distinct
(key, contribution) pairs: an output, an outcome or a plan counts each
contribution once however many links lead to it. One statement per level
(output, outcome, plan), whatever the number of rows: link rows live in
frameworks and no rollup table is keyed by plan output, so these aggregates
read the source tables, validated revisions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Model

from coordination.models import Agency, CountryTeam, Region, TeamStatus
from frameworks.models import (
    Contribution,
    ContributionPlanLink,
    ContributionRevision,
    FrameworkOutputPlanLink,
    JointActivity,
    StrategicPlan,
    StrategicPlanOutcome,
    StrategicPlanOutput,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from coordination.models import User

_HUNDRED = Decimal(100)
OUTPUT, OUTCOME, PLAN = "output", "outcome", "plan"
_KEYS = {OUTPUT: "po.id", OUTCOME: "po.outcome_id", PLAN: "po.plan_id"}


@dataclass(frozen=True)
class PlanBoardFilters:
    """What the board page shows: every value None means "all"."""

    agency: Agency | None = None
    year: int | None = None
    region: str | None = None


@dataclass(frozen=True)
class Delivery:
    """Validated money and results over distinct contributions."""

    required: Decimal = Decimal(0)
    available: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    reach: int = 0
    contribution_count: int = 0
    activity_count: int = 0

    @property
    def gap(self) -> Decimal:
        return self.required - self.available

    @property
    def delivery_percent(self) -> Decimal | None:
        """Spent as a share of available: how much of the money is delivered."""
        if not self.available:
            return None
        return (self.spent * _HUNDRED / self.available).quantize(Decimal("0.1"))

    @property
    def is_empty(self) -> bool:
        return self.contribution_count == 0

    def __add__(self, other: Delivery) -> Delivery:
        # Only for rows over disjoint contributions (different country teams).
        return Delivery(
            required=self.required + other.required,
            available=self.available + other.available,
            spent=self.spent + other.spent,
            reach=self.reach + other.reach,
            contribution_count=self.contribution_count + other.contribution_count,
            activity_count=self.activity_count + other.activity_count,
        )


def _sum(deliveries: Iterable[Delivery]) -> Delivery:
    total = Delivery()
    for delivery in deliveries:
        total = total + delivery
    return total


@dataclass
class OutputLine:
    output: StrategicPlanOutput
    by_team: dict[int, Delivery] = field(default_factory=dict)
    framework_outputs: dict[int, list[str]] = field(default_factory=dict)

    @property
    def delivery(self) -> Delivery:
        return _sum(self.by_team.values())

    @property
    def country_count(self) -> int:
        return len(self.by_team)

    @property
    def framework_output_count(self) -> int:
        return sum(len(codes) for codes in self.framework_outputs.values())


@dataclass
class OutcomeLine:
    """An outcome and its outputs; `outcome` is None for the plan's own outputs."""

    outcome: StrategicPlanOutcome | None
    outputs: list[OutputLine]
    by_team: dict[int, Delivery] = field(default_factory=dict)

    @property
    def delivery(self) -> Delivery:
        return _sum(self.by_team.values())


@dataclass
class CountryLine:
    team: CountryTeam
    delivery: Delivery
    outputs_reached: int
    framework_output_count: int
    latest_year: int | None
    can_view: bool


@dataclass(frozen=True)
class ResultLine:
    """One plan output in one country: what joint work delivered there."""

    team: CountryTeam
    outcome: StrategicPlanOutcome | None
    output: StrategicPlanOutput
    delivery: Delivery
    framework_outputs: list[str]


@dataclass
class PlanBoard:
    plan: StrategicPlan
    outcomes: list[OutcomeLine] = field(default_factory=list)
    countries: list[CountryLine] = field(default_factory=list)
    results: list[ResultLine] = field(default_factory=list)

    @property
    def total(self) -> Delivery:
        return _sum(line.delivery for line in self.countries)

    @property
    def outputs(self) -> list[tuple[OutcomeLine, OutputLine]]:
        return [(group, line) for group in self.outcomes for line in group.outputs]

    @property
    def outputs_reached(self) -> int:
        return sum(1 for _group, line in self.outputs if line.by_team)


@dataclass
class StrategicPlanBoard:
    filters: PlanBoardFilters
    plans: list[PlanBoard] = field(default_factory=list)
    agencies: list[Agency] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    regions: list[tuple[str, str]] = field(default_factory=list)


# --- the aggregates --------------------------------------------------------------


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _links_select() -> str:
    """(plan output, contribution) pairs, once each, from both kinds of link."""
    through = JointActivity._meta.get_field("outputs")
    quote = connection.ops.quote_name
    activity_outputs = quote(through.m2m_db_table())
    activity_column = quote(through.m2m_column_name())
    output_column = quote(through.m2m_reverse_name())
    return f"""
        SELECT l.plan_output_id AS plan_output_id,
            l.contribution_id AS contribution_id
        FROM {_table(ContributionPlanLink)} l
        UNION
        SELECT f.plan_output_id, c.id
        FROM {_table(FrameworkOutputPlanLink)} f
        JOIN {activity_outputs} ao ON ao.{output_column} = f.output_id
        JOIN {_table(Contribution)} c ON c.activity_id = ao.{activity_column}
    """


def _cents(column: str) -> str:
    # Integer cents add up exactly on both databases.
    return f"SUM(CAST(ROUND(r.{column} * 100) AS bigint))"


def _money(cents: Any) -> Decimal:
    return Decimal(str(cents or 0)) / _HUNDRED


def delivery_by_team(
    *, level: str, plan_ids: list[int], filters: PlanBoardFilters
) -> dict[tuple[int, int], tuple[Delivery, int]]:
    """Per (output, outcome or plan id, country team id): the delivery of the
    validated contributions behind it, and the latest year they are for."""
    if not plan_ids:
        return {}
    key = _KEYS[level]
    placeholders = ", ".join(["%s"] * len(plan_ids))
    conditions = ["t.status = %s"]
    params: list[Any] = [*plan_ids, TeamStatus.ACTIVE]
    if filters.year is not None:
        conditions.append("c.year = %s")
        params.append(filters.year)
    if filters.region:
        conditions.append("t.region = %s")
        params.append(filters.region)
    sql = f"""
        SELECT x.key_id, c.country_team_id,
            {_cents("required")}, {_cents("available")}, {_cents("spent")},
            SUM(COALESCE(r.reach, 0)), COUNT(*), COUNT(DISTINCT c.activity_id),
            MAX(c.year)
        FROM (
            SELECT DISTINCT {key} AS key_id, k.contribution_id AS contribution_id,
                p.agency_id AS agency_id, p.start_year AS start_year,
                p.end_year AS end_year
            FROM ({_links_select()}) k
            JOIN {_table(StrategicPlanOutput)} po ON po.id = k.plan_output_id
            JOIN {_table(StrategicPlan)} p ON p.id = po.plan_id
            WHERE po.plan_id IN ({placeholders}) AND {key} IS NOT NULL
        ) x
        JOIN {_table(Contribution)} c ON c.id = x.contribution_id
        JOIN {_table(ContributionRevision)} r ON r.id = c.validated_revision_id
        JOIN {_table(CountryTeam)} t ON t.id = c.country_team_id
        WHERE c.agency_id = x.agency_id
            AND c.year >= x.start_year AND c.year <= x.end_year
            AND {" AND ".join(conditions)}
        GROUP BY x.key_id, c.country_team_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        (key_id, team_id): (
            Delivery(
                required=_money(required),
                available=_money(available),
                spent=_money(spent),
                reach=int(reach or 0),
                contribution_count=int(count),
                activity_count=int(activities),
            ),
            int(latest),
        )
        for (
            key_id,
            team_id,
            required,
            available,
            spent,
            reach,
            count,
            activities,
            latest,
        ) in rows
    }


def _aligned_framework_outputs(
    plan_ids: list[int], filters: PlanBoardFilters
) -> dict[tuple[int, int], list[str]]:
    """Per (plan output, team): codes of the framework outputs aligned with it."""
    links = FrameworkOutputPlanLink.objects.filter(
        plan_output__plan_id__in=plan_ids,
        output__framework__country_team__status=TeamStatus.ACTIVE,
    )
    if filters.region:
        links = links.filter(output__framework__country_team__region=filters.region)
    if filters.year is not None:
        links = links.filter(
            output__framework__start_year__lte=filters.year,
            output__framework__end_year__gte=filters.year,
        )
    aligned: dict[tuple[int, int], list[str]] = {}
    for plan_output_id, team_id, code in links.order_by("output__code").values_list(
        "plan_output_id", "output__framework__country_team_id", "output__code"
    ):
        aligned.setdefault((plan_output_id, team_id), []).append(code)
    return aligned


# --- the page --------------------------------------------------------------------


def _plans(filters: PlanBoardFilters, plan_id: int | None) -> list[StrategicPlan]:
    plans = StrategicPlan.objects.select_related("agency").order_by(
        "agency__code", "start_year"
    )
    if plan_id is not None:
        plans = plans.filter(pk=plan_id)
    if filters.agency is not None:
        plans = plans.filter(agency=filters.agency)
    if filters.year is not None:
        plans = plans.covering(filters.year)
    return list(plans)


def _by_key(
    rows: dict[tuple[int, int], tuple[Delivery, int]],
) -> dict[int, dict[int, Delivery]]:
    """{key id: {team id: delivery}} from the rows of one level."""
    grouped: dict[int, dict[int, Delivery]] = {}
    for (key_id, team_id), (delivery, _latest) in rows.items():
        grouped.setdefault(key_id, {})[team_id] = delivery
    return grouped


def _outcome_lines(
    plans: list[StrategicPlan],
    by_output: dict[tuple[int, int], tuple[Delivery, int]],
    by_outcome: dict[tuple[int, int], tuple[Delivery, int]],
    aligned: dict[tuple[int, int], list[str]],
) -> dict[int, list[OutcomeLine]]:
    """Per plan id, its outcomes with their outputs, each with its deliveries."""
    plan_ids = [plan.pk for plan in plans]
    outcomes = StrategicPlanOutcome.objects.filter(plan_id__in=plan_ids).order_by(
        "plan_id", "order", "code"
    )
    outputs = StrategicPlanOutput.objects.filter(plan_id__in=plan_ids).order_by(
        "plan_id", "order", "code"
    )
    output_deliveries = _by_key(by_output)
    outcome_deliveries = _by_key(by_outcome)
    aligned_by_output: dict[int, dict[int, list[str]]] = {}
    for (output_id, team_id), codes in aligned.items():
        aligned_by_output.setdefault(output_id, {})[team_id] = codes
    # Outputs of an outcome go under it; a plan's own outputs under (plan, None).
    output_lines: dict[tuple[int, int | None], list[OutputLine]] = {}
    for output in outputs:
        output_lines.setdefault((output.plan_id, output.outcome_id), []).append(
            OutputLine(
                output=output,
                by_team=output_deliveries.get(output.pk, {}),
                framework_outputs=aligned_by_output.get(output.pk, {}),
            )
        )
    by_plan: dict[int, list[OutcomeLine]] = {plan.pk: [] for plan in plans}
    for outcome in outcomes:
        by_plan[outcome.plan_id].append(
            OutcomeLine(
                outcome=outcome,
                outputs=output_lines.get((outcome.plan_id, outcome.pk), []),
                by_team=outcome_deliveries.get(outcome.pk, {}),
            )
        )
    for plan in plans:
        own = output_lines.get((plan.pk, None))
        if own:
            by_plan[plan.pk].append(OutcomeLine(outcome=None, outputs=own))
    return by_plan


def _country_lines(
    entry: PlanBoard,
    by_plan: dict[tuple[int, int], tuple[Delivery, int]],
    teams: dict[int, CountryTeam],
    user: User,
) -> list[CountryLine]:
    """The plan's countries: where validated joint work delivers it, or where
    the RC office aligned framework outputs with it."""
    plan_id = entry.plan.pk
    team_ids = {team_id for (pid, team_id) in by_plan if pid == plan_id}
    for _group, line in entry.outputs:
        team_ids |= set(line.framework_outputs)
    lines = []
    for team_id in team_ids:
        delivery, latest = by_plan.get((plan_id, team_id), (Delivery(), None))
        lines.append(
            CountryLine(
                team=teams[team_id],
                delivery=delivery,
                outputs_reached=sum(
                    1 for _g, line in entry.outputs if team_id in line.by_team
                ),
                framework_output_count=sum(
                    len(line.framework_outputs.get(team_id, ()))
                    for _g, line in entry.outputs
                ),
                latest_year=latest,
                # The team dashboard is for the team's members; the link shows
                # only where it opens.
                can_view=user.has_perm("coordination.view_countryteam", teams[team_id]),
            )
        )
    lines.sort(key=lambda line: (line.team.region, line.team.name))
    return lines


def _result_lines(entry: PlanBoard) -> list[ResultLine]:
    """Country by country, each plan output that joint work there serves."""
    return [
        ResultLine(
            team=country.team,
            outcome=group.outcome,
            output=line.output,
            delivery=line.by_team.get(country.team.pk, Delivery()),
            framework_outputs=line.framework_outputs.get(country.team.pk, []),
        )
        for country in entry.countries
        for group, line in entry.outputs
        if country.team.pk in line.by_team or country.team.pk in line.framework_outputs
    ]


def get_strategic_plan_board(
    *, filters: PlanBoardFilters, user: User, plan_id: int | None = None
) -> StrategicPlanBoard:
    """Return, plan by plan, what validated joint work delivered for each outcome,
    output and country. A fixed number of queries, whatever the data size."""
    plans = _plans(filters, plan_id)
    plan_ids = [plan.pk for plan in plans]
    by_output = delivery_by_team(level=OUTPUT, plan_ids=plan_ids, filters=filters)
    by_outcome = delivery_by_team(level=OUTCOME, plan_ids=plan_ids, filters=filters)
    by_plan = delivery_by_team(level=PLAN, plan_ids=plan_ids, filters=filters)
    aligned = _aligned_framework_outputs(plan_ids, filters)
    outcome_lines = _outcome_lines(plans, by_output, by_outcome, aligned)
    team_ids = {team_id for _key, team_id in [*by_plan, *aligned]}
    teams = CountryTeam.objects.in_bulk(team_ids)
    board = StrategicPlanBoard(
        filters=filters,
        agencies=list(
            Agency.objects.filter(strategic_plans__isnull=False)
            .distinct()
            .order_by("code")
        ),
        years=list_plan_years(),
        regions=[(value, str(label)) for value, label in Region.choices],
    )
    for plan in plans:
        entry = PlanBoard(plan=plan, outcomes=outcome_lines[plan.pk])
        entry.countries = _country_lines(entry, by_plan, teams, user)
        entry.results = _result_lines(entry)
        board.plans.append(entry)
    return board


def list_plan_years() -> list[int]:
    """Return every year some strategic plan covers, in order."""
    years: set[int] = set()
    for start, end in StrategicPlan.objects.values_list("start_year", "end_year"):
        years.update(range(start, end + 1))
    return sorted(years)
