"""Reads for the executive board: validated collective results across country
teams, from rollup rows only.

The board pages, their downloads and the board summary report all start from
`board_summary(filters)`, `common_chapter_summary(filters)` and
`board_team(filters)`; each runs a fixed number of queries whatever the data
size, and reads validated figures (`Basis.VALIDATED`) only.

How the figures add up:

- Money is the agencies' contributions to joint activities (work that two or
  more agencies do together; every contribution belongs to one). Rows per
  country team, region and agency share out each contribution once, so they add
  up to the total.
- Rows per SDG goal and common-chapter area show the full money of every
  activity tagged to them: an activity tagged to two goals counts under both,
  and an untagged one under none, so those columns need not add up.
- "Through joint programmes" is the part of that money whose activity belongs
  to a joint programme (one budget and fund for several agencies).
- Indicator progress is each indicator's status at the end of the period (the
  last year of the range its framework covers), from the rollup's value to date.
  An indicator counts under its country team; under the agencies that contribute
  to its output or lead its outcome; under its SDG indicator's goal, else the
  goals of its outcome; and under the common-chapter areas of the joint
  activities with validated figures on its output (for an outcome indicator,
  on any output of the outcome).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pycountry
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum

from coordination.models import Agency, CountryTeam, Region, TeamStatus
from frameworks.models import (
    CommitmentKind,
    CommitmentStatus,
    CommonChapterArea,
    CommonChapterCommitment,
    CooperationFramework,
    FrameworkStatus,
    Indicator,
    JointActivity,
    Outcome,
    Output,
    SdgGoal,
)
from reporting.board_filters import BoardFilters, FilterOptions
from reporting.models import (
    Basis,
    IndicatorProgress,
    OutcomeFundingRollup,
    ProgressStatus,
    RollupRequest,
    RollupState,
    TagFundingRollup,
    TagKind,
    TeamFundingRollup,
)
from reporting.selectors import OVER, UNDER

ZERO = Decimal(0)
HUNDRED = Decimal(100)
VALIDATED = Basis.VALIDATED
# Frameworks the Resident Coordinator has signed off: a draft's indicators
# have no validated values yet and would only swell the "no data" count.
SIGNED_OFF = (FrameworkStatus.ACTIVE, FrameworkStatus.CLOSED)
# How many outcomes the "largest funding gaps" table lists.
GAP_ROWS = 10


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole in percent to one decimal, or None when whole is zero."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Money:
    """Required, available and spent over some contributions; the gap is
    required minus available, as the rollups store it."""

    required: Decimal = ZERO
    available: Decimal = ZERO
    spent: Decimal = ZERO
    contributions: int = 0

    def __add__(self, other: Money) -> Money:
        return Money(
            self.required + other.required,
            self.available + other.available,
            self.spent + other.spent,
            self.contributions + other.contributions,
        )

    @classmethod
    def total(cls, items: Iterable[Money]) -> Money:
        return sum(items, cls())

    @property
    def gap(self) -> Decimal:
        return self.required - self.available

    @property
    def funded_percent(self) -> Decimal | None:
        return percent(self.available, self.required)

    @property
    def delivery_percent(self) -> Decimal | None:
        """Spent as a share of available."""
        return percent(self.spent, self.available)

    @property
    def is_empty(self) -> bool:
        return self.contributions == 0

    def values(self) -> tuple[Decimal, Decimal, Decimal]:
        return (self.required, self.available, self.spent)


@dataclass(frozen=True)
class Progress:
    """How many indicators are on track, off track or without data."""

    on_track: int = 0
    off_track: int = 0
    no_data: int = 0

    def __add__(self, other: Progress) -> Progress:
        return Progress(
            self.on_track + other.on_track,
            self.off_track + other.off_track,
            self.no_data + other.no_data,
        )

    @classmethod
    def of(cls, statuses: Iterable[str]) -> Progress:
        counts = dict.fromkeys(ProgressStatus.values, 0)
        for status in statuses:
            counts[status] += 1
        return cls(**counts)

    @property
    def measured(self) -> int:
        return self.on_track + self.off_track

    @property
    def total(self) -> int:
        return self.measured + self.no_data

    @property
    def on_track_percent(self) -> Decimal | None:
        """On track as a share of the indicators with data."""
        return percent(self.on_track, self.measured)


@dataclass(frozen=True)
class BoardLine:
    """One row of a breakdown: a country team, region, agency, goal or area.

    `programme` is the money through joint programmes, None where the rollups
    cannot tell it (figures narrowed to an area or a goal)."""

    key: str
    label: str
    money: Money = Money()
    progress: Progress = Progress()
    programme: Money | None = None
    obj: Any = None

    @property
    def programme_share(self) -> Decimal | None:
        """The share of the money spent that went through joint programmes."""
        if self.programme is None:
            return None
        return percent(self.programme.spent, self.money.spent)

    @property
    def is_empty(self) -> bool:
        return self.money.is_empty and not self.progress.total

    def measure(self, name: str) -> Decimal | None:
        """A map measure (see `board_filters.measure_choices`)."""
        if name in ("required", "available", "spent", "gap"):
            return None if self.money.is_empty else getattr(self.money, name)
        if name == "funded":
            return self.money.funded_percent
        if name == "joint_programme_share":
            return self.programme_share
        if name == "on_track_share":
            return self.progress.on_track_percent
        raise ValueError(name)


@cache
def iso_numeric(alpha3: str) -> str:
    """ISO 3166-1 numeric code of a country ("706" for SOM), as the world atlas
    names its shapes; "" for codes ISO does not know."""
    country = pycountry.countries.get(alpha_3=alpha3)
    return country.numeric if country else ""


@dataclass(frozen=True)
class YearLine:
    year: int
    money: Money
    programme: Money | None
    progress: Progress
    in_period: bool

    @property
    def programme_share(self) -> Decimal | None:
        if self.programme is None:
            return None
        return percent(self.programme.spent, self.money.spent)


@dataclass(frozen=True)
class OutcomeGap:
    team: CountryTeam
    outcome: Outcome
    money: Money


@dataclass(frozen=True)
class BoardStatus:
    """When the figures shown were computed: the oldest team's stamp."""

    computed_at: datetime | None
    pending_teams: int
    never_computed: int

    @property
    def is_pending(self) -> bool:
        return self.pending_teams > 0


def compare(parts: Iterable[Money], whole: Money) -> str:
    """OVER when rows share money (an activity with several tags), UNDER when
    some money is in no row (an activity without a tag), "" when they add up."""
    summed = Money.total(parts).values()
    if any(part > total for part, total in zip(summed, whole.values(), strict=True)):
        return OVER
    return UNDER if summed != whole.values() else ""


@dataclass
class BoardSummary:
    """Everything the global summary shows for one set of filters."""

    filters: BoardFilters
    status: BoardStatus
    total: Money
    programme: Money | None
    progress: Progress
    teams: list[BoardLine]
    regions: list[BoardLine]
    agencies: list[BoardLine]
    goals: list[BoardLine] | None
    areas: list[BoardLine] | None
    trend: list[YearLine]
    outcome_gaps: list[OutcomeGap] | None

    @property
    def has_figures(self) -> bool:
        return not self.total.is_empty or self.progress.total > 0

    @property
    def programme_share(self) -> Decimal | None:
        if self.programme is None:
            return None
        return percent(self.programme.spent, self.total.spent)

    @property
    def teams_by_gap(self) -> list[BoardLine]:
        """Teams with a shortfall, the largest first."""
        short = [line for line in self.teams if line.money.gap > 0]
        return sorted(short, key=lambda line: (-line.money.gap, line.label))

    @property
    def goals_compared(self) -> str:
        return compare((line.money for line in self.goals or []), self.total)

    @property
    def areas_compared(self) -> str:
        return compare((line.money for line in self.areas or []), self.total)


# --- reading rollup rows ----------------------------------------------------------

_SUMS = {
    "r": Sum("required"),
    "a": Sum("available"),
    "s": Sum("spent"),
    "n": Sum("contribution_count"),
}


def _money(row: Mapping[str, Any]) -> Money:
    return Money(row["r"], row["a"], row["s"], row["n"])


def _scope(filters: BoardFilters) -> Q:
    """Rollup rows of the teams the filters keep."""
    scope = Q()
    if filters.team:
        scope &= Q(country_team_id=filters.team.pk)
    if filters.region:
        scope &= Q(country_team__region=filters.region)
    return scope


def _agency_rows(filters: BoardFilters) -> Q:
    """One agency's rows, or both the all-agency and the per-agency rows."""
    return Q(agency_id=filters.agency.pk) if filters.agency else Q()


def _funding(filters: BoardFilters) -> QuerySet:
    """The rollup the filters read money from: team totals, or an area's or a
    goal's tagged money."""
    if filters.area:
        rows = TagFundingRollup.objects.filter(
            kind=TagKind.COMMON_CHAPTER_AREA, tag_id=filters.area.pk
        )
    elif filters.goal:
        rows = TagFundingRollup.objects.filter(
            kind=TagKind.SDG_GOAL, tag_id=filters.goal.number
        )
    else:
        rows = TeamFundingRollup.objects.all()
    return rows.filter(_scope(filters), _agency_rows(filters), basis=VALIDATED)


@dataclass
class _Sums:
    """Money by team, by agency and by year, all within the period unless
    said otherwise; the totals come from all-agency rows (or the one agency's)."""

    by_team: dict[int, Money] = field(default_factory=dict)
    by_agency: dict[int, Money] = field(default_factory=dict)
    by_year: dict[int, Money] = field(default_factory=dict)
    total: Money = Money()

    @classmethod
    def of(cls, rows: list[dict[str, Any]], filters: BoardFilters) -> _Sums:
        sums = cls()
        teams: dict[int, Money] = defaultdict(Money)
        agencies: dict[int, Money] = defaultdict(Money)
        years: dict[int, Money] = defaultdict(Money)
        for row in rows:
            money = _money(row)
            is_total = filters.agency is not None or row["agency_id"] is None
            if row["agency_id"] is not None and row["year"] in filters.years:
                agencies[row["agency_id"]] += money
            if not is_total:
                continue
            years[row["year"]] += money
            if row["year"] in filters.years:
                teams[row["country_team_id"]] += money
        sums.by_team, sums.by_agency, sums.by_year = (
            dict(teams),
            dict(agencies),
            dict(years),
        )
        sums.total = Money.total(teams.values())
        return sums


def _grouped(rows: QuerySet) -> list[dict[str, Any]]:
    return list(
        rows.order_by().values("country_team_id", "agency_id", "year").annotate(**_SUMS)
    )


def _money_sums(filters: BoardFilters) -> _Sums:
    return _Sums.of(_grouped(_funding(filters)), filters)


def _programme_sums(filters: BoardFilters) -> _Sums | None:
    """Money through joint programmes; unknown for an area's or a goal's money,
    since the rollups keep no programme by tag."""
    if filters.has_tag:
        return None
    rows = TagFundingRollup.objects.filter(
        _scope(filters),
        _agency_rows(filters),
        kind=TagKind.JOINT_PROGRAMME,
        basis=VALIDATED,
    )
    return _Sums.of(_grouped(rows), filters)


def _tag_sums(filters: BoardFilters) -> dict[tuple[str, int], Money]:
    """Money per SDG goal and per common-chapter area over the period."""
    if filters.area:
        kinds = Q(kind=TagKind.COMMON_CHAPTER_AREA, tag_id=filters.area.pk)
    elif filters.goal:
        kinds = Q(kind=TagKind.SDG_GOAL, tag_id=filters.goal.number)
    else:
        kinds = Q(kind__in=(TagKind.SDG_GOAL, TagKind.COMMON_CHAPTER_AREA))
    agency = (
        Q(agency_id=filters.agency.pk) if filters.agency else Q(agency__isnull=True)
    )
    rows = (
        TagFundingRollup.objects.filter(
            kinds,
            agency,
            _scope(filters),
            basis=VALIDATED,
            year__gte=filters.year_from,
            year__lte=filters.year_to,
        )
        .order_by()
        .values("kind", "tag_id")
        .annotate(**_SUMS)
    )
    return {(row["kind"], row["tag_id"]): _money(row) for row in rows}


def _outcome_gaps(
    filters: BoardFilters, teams: Mapping[int, CountryTeam]
) -> list[OutcomeGap] | None:
    """The outcomes with the largest shortfall over the period (two queries)."""
    if filters.has_tag:
        return None
    agency = (
        Q(agency_id=filters.agency.pk) if filters.agency else Q(agency__isnull=True)
    )
    rows = list(
        OutcomeFundingRollup.objects.filter(
            agency,
            _scope(filters),
            basis=VALIDATED,
            year__gte=filters.year_from,
            year__lte=filters.year_to,
        )
        .order_by()
        .values("country_team_id", "outcome_id")
        .annotate(**_SUMS)
        .annotate(g=F("r") - F("a"))
        .filter(g__gt=0)
        .order_by("-g", "outcome_id")[:GAP_ROWS]
    )
    outcomes = Outcome.objects.in_bulk([row["outcome_id"] for row in rows])
    return [
        OutcomeGap(
            team=teams[row["country_team_id"]],
            outcome=outcomes[row["outcome_id"]],
            money=_money(row),
        )
        for row in rows
        if row["outcome_id"] in outcomes and row["country_team_id"] in teams
    ]


def _teams(filters: BoardFilters) -> list[CountryTeam]:
    """The teams in scope, each with `computed_at` and `pending_since`."""
    teams = CountryTeam.objects.all()
    if filters.team:
        teams = teams.filter(pk=filters.team.pk)
    if filters.region:
        teams = teams.filter(region=filters.region)
    return list(
        teams.annotate(
            computed_at=Subquery(
                RollupState.objects.filter(country_team=OuterRef("pk")).values(
                    "computed_at"
                )[:1]
            ),
            pending_since=Subquery(
                RollupRequest.objects.filter(country_team=OuterRef("pk"))
                .order_by("requested_at")
                .values("requested_at")[:1]
            ),
        ).order_by("name")
    )


def _status(teams: list[CountryTeam]) -> BoardStatus:
    stamps = [team.computed_at for team in teams if team.computed_at]
    return BoardStatus(
        computed_at=min(stamps, default=None),
        pending_teams=sum(1 for team in teams if team.pending_since),
        never_computed=len(teams) - len(stamps),
    )


# --- indicator progress -----------------------------------------------------------


@dataclass
class _Indicator:
    """One indicator's statuses by year, and what it counts under."""

    team_id: int
    indicator_id: int
    by_year: dict[int, tuple[str, bool]] = field(default_factory=dict)
    agencies: frozenset[int] = frozenset()
    goals: frozenset[int] = frozenset()
    areas: frozenset[int] = frozenset()

    def status_in(self, years: range) -> str | None:
        """The status at the last year of `years` its framework covers."""
        covered = [year for year in self.by_year if year in years]
        return self.by_year[max(covered)][0] if covered else None


def _links(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    links: dict[int, set[int]] = defaultdict(set)
    for key, value in pairs:
        if value is not None:
            links[key].add(value)
    return links


def _signed_off_in_scope(filters: BoardFilters, prefix: str) -> Q:
    """Rows of signed-off frameworks of the teams in scope; `prefix` leads
    from the row to its framework."""
    scope = Q(**{f"{prefix}status__in": SIGNED_OFF})
    if filters.team:
        scope &= Q(**{f"{prefix}country_team_id": filters.team.pk})
    if filters.region:
        scope &= Q(**{f"{prefix}country_team__region": filters.region})
    return scope


def _indicators(filters: BoardFilters) -> list[_Indicator]:
    """Every indicator of a signed-off framework in scope, with its statuses in
    the framework's years and what it counts under (five queries at most),
    narrowed by the agency, area and goal filters."""
    rows = (
        IndicatorProgress.objects.filter(
            _signed_off_in_scope(filters, "indicator__framework__"),
            basis=VALIDATED,
            year__gte=F("indicator__framework__start_year"),
            year__lte=F("indicator__framework__end_year"),
        )
        .order_by()
        .values_list(
            "country_team_id",
            "indicator_id",
            "year",
            "status",
            "year_value",
            "indicator__output_id",
            "indicator__outcome_id",
            "indicator__output__outcome_id",
            "indicator__sdg_indicator__target__goal_id",
        )
    )
    found: dict[int, _Indicator] = {}
    places: dict[int, tuple[int | None, int | None, int | None]] = {}
    for team_id, pk, year, status, year_value, output, outcome, parent, goal in rows:
        indicator = found.setdefault(pk, _Indicator(team_id, pk))
        indicator.by_year[year] = (status, year_value is not None)
        places[pk] = (output, outcome or parent, goal)
    if not found:
        return []

    # Agencies: an output's contributing agencies; for an outcome, its lead
    # agencies and the agencies of all its outputs.
    output_links = list(
        Output.contributing_agencies.through.objects.filter(
            _signed_off_in_scope(filters, "output__framework__")
        ).values_list("output_id", "output__outcome_id", "agency_id")
    )
    output_agencies = _links((output, agency) for output, _o, agency in output_links)
    outcome_agencies = _links((outcome, agency) for _p, outcome, agency in output_links)
    for outcome, agency in Outcome.lead_agencies.through.objects.filter(
        _signed_off_in_scope(filters, "outcome__framework__")
    ).values_list("outcome_id", "agency_id"):
        outcome_agencies[outcome].add(agency)

    # Goals: the indicator's own SDG indicator, else its outcome's targets.
    outcome_goals: dict[int, set[int]] = {}
    if not filters.area:
        outcome_goals = _links(
            Outcome.sdg_targets.through.objects.filter(
                _signed_off_in_scope(filters, "outcome__framework__")
            ).values_list("outcome_id", "sdgtarget__goal_id")
        )

    # Areas: the areas of the joint activities on the output that have
    # validated figures, as the money by area counts them.
    output_areas: dict[int, set[int]] = {}
    outcome_areas: dict[int, set[int]] = {}
    if not filters.goal:
        tagged = list(
            JointActivity.outputs.through.objects.filter(
                _signed_off_in_scope(filters, "output__framework__"),
                jointactivity__contributions__validated_revision__isnull=False,
                jointactivity__common_chapter_areas__isnull=False,
            )
            .values_list(
                "output_id",
                "output__outcome_id",
                "jointactivity__common_chapter_areas",
            )
            .distinct()
        )
        output_areas = _links((output, area) for output, _o, area in tagged)
        outcome_areas = _links((outcome, area) for _p, outcome, area in tagged)

    kept = []
    for pk, indicator in found.items():
        output, outcome, goal = places[pk]
        if output:
            indicator.agencies = frozenset(output_agencies.get(output, ()))
            indicator.areas = frozenset(output_areas.get(output, ()))
        else:
            indicator.agencies = frozenset(outcome_agencies.get(outcome, ()))
            indicator.areas = frozenset(outcome_areas.get(outcome, ()))
        indicator.goals = frozenset([goal] if goal else outcome_goals.get(outcome, ()))
        if filters.agency and filters.agency.pk not in indicator.agencies:
            continue
        if filters.area and filters.area.pk not in indicator.areas:
            continue
        if filters.goal and filters.goal.number not in indicator.goals:
            continue
        kept.append(indicator)
    return kept


def _progress_by(
    indicators: list[_Indicator], years: range, keys: str | None = None
) -> dict[Any, Progress]:
    """Status counts at the end of `years`, per team (keys=None) or per agency,
    goal or area the indicators count under."""
    statuses: dict[Any, list[str]] = defaultdict(list)
    for indicator in indicators:
        status = indicator.status_in(years)
        if status is None:
            continue
        for key in getattr(indicator, keys) if keys else (indicator.team_id,):
            statuses[key].append(status)
    return {key: Progress.of(found) for key, found in statuses.items()}


# --- the global summary -----------------------------------------------------------


def _lines(
    objects: Iterable[Any],
    *,
    key: Any,
    label: Any,
    money: Mapping[Any, Money],
    progress: Mapping[Any, Progress],
    programme: Mapping[Any, Money] | None,
    ident: Any,
) -> list[BoardLine]:
    return [
        BoardLine(
            key=key(obj),
            label=label(obj),
            money=money.get(ident(obj), Money()),
            progress=progress.get(ident(obj), Progress()),
            programme=None if programme is None else programme.get(ident(obj), Money()),
            obj=obj,
        )
        for obj in objects
    ]


def _region_lines(teams: list[BoardLine], programme_known: bool) -> list[BoardLine]:
    lines = []
    for value, label in Region.choices:
        members = [line for line in teams if line.obj.region == value]
        if not members:
            continue
        lines.append(
            BoardLine(
                key=value,
                label=str(label),
                money=Money.total(line.money for line in members),
                progress=sum((line.progress for line in members), Progress()),
                programme=Money.total(line.programme for line in members)
                if programme_known
                else None,
            )
        )
    return lines


def _trend(
    filters: BoardFilters,
    sums: _Sums,
    programme: _Sums | None,
    indicators: list[_Indicator],
) -> list[YearLine]:
    """Every year with figures: money, or an indicator value within the year."""
    valued = {
        year
        for indicator in indicators
        for year, (_status, has_value) in indicator.by_year.items()
        if has_value
    }
    lines = []
    for year in sorted(set(sums.by_year) | valued):
        statuses = [
            indicator.by_year[year][0]
            for indicator in indicators
            if year in indicator.by_year
        ]
        lines.append(
            YearLine(
                year=year,
                money=sums.by_year.get(year, Money()),
                programme=None
                if programme is None
                else programme.by_year.get(year, Money()),
                progress=Progress.of(statuses),
                in_period=year in filters.years,
            )
        )
    return lines


def board_summary(filters: BoardFilters) -> BoardSummary:
    """Validated collective results across the country teams the filters keep.

    A fixed number of queries (fourteen at most) whatever the number of teams,
    agencies, years or contributions.
    """
    return _summary(filters)[0]


def _summary(filters: BoardFilters) -> tuple[BoardSummary, list[_Indicator]]:
    teams = _teams(filters)
    by_pk = {team.pk: team for team in teams}
    sums = _money_sums(filters)
    programme = _programme_sums(filters)
    indicators = _indicators(filters)
    period = filters.years
    team_progress = _progress_by(indicators, period)

    team_lines = [
        line
        for line in _lines(
            teams,
            key=lambda team: team.code,
            label=lambda team: team.name,
            money=sums.by_team,
            progress=team_progress,
            programme=programme.by_team if programme else None,
            ident=lambda team: team.pk,
        )
        if line.obj.status == TeamStatus.ACTIVE or not line.is_empty
    ]

    agency_ids = set(sums.by_agency) | {
        agency for indicator in indicators for agency in indicator.agencies
    }
    if filters.agency:
        agency_ids &= {filters.agency.pk}
    agencies = sorted(
        Agency.objects.filter(pk__in=agency_ids),
        key=lambda agency: (
            -sums.by_agency.get(agency.pk, Money()).required,
            agency.code,
        ),
    )
    agency_lines = _lines(
        agencies,
        key=lambda agency: agency.code,
        label=lambda agency: agency.name,
        money=sums.by_agency,
        progress=_progress_by(indicators, period, "agencies"),
        programme=programme.by_agency if programme else None,
        ident=lambda agency: agency.pk,
    )

    tags = _tag_sums(filters)
    goals = areas = None
    if not filters.area:
        goal_rows = SdgGoal.objects.order_by("number")
        if filters.goal:
            goal_rows = goal_rows.filter(pk=filters.goal.number)
        goals = _lines(
            goal_rows,
            key=lambda goal: str(goal.number),
            label=lambda goal: goal.short_title,
            money={
                key: money
                for (kind, key), money in tags.items()
                if kind == TagKind.SDG_GOAL
            },
            progress=_progress_by(indicators, period, "goals"),
            programme=None,
            ident=lambda goal: goal.number,
        )
    if not filters.goal:
        area_rows = CommonChapterArea.objects.order_by("position")
        if filters.area:
            area_rows = area_rows.filter(pk=filters.area.pk)
        areas = _lines(
            area_rows,
            key=lambda area: area.code,
            label=lambda area: area.name,
            money={
                key: money
                for (kind, key), money in tags.items()
                if kind == TagKind.COMMON_CHAPTER_AREA
            },
            progress=_progress_by(indicators, period, "areas"),
            programme=None,
            ident=lambda area: area.pk,
        )

    summary = BoardSummary(
        filters=filters,
        status=_status(teams),
        total=sums.total,
        programme=programme.total if programme else None,
        progress=sum((line.progress for line in team_lines), Progress()),
        teams=team_lines,
        regions=_region_lines(team_lines, programme is not None),
        agencies=agency_lines,
        goals=goals,
        areas=areas,
        trend=_trend(filters, sums, programme, indicators),
        outcome_gaps=_outcome_gaps(filters, by_pk),
    )
    return summary, indicators


# --- the filter form's choices ----------------------------------------------------


def list_board_years() -> list[int]:
    """Years with validated figures in any team, latest first: money, or an
    indicator value within the year (two queries)."""
    funded = TeamFundingRollup.objects.filter(basis=VALIDATED).values_list(
        "year", flat=True
    )
    valued = IndicatorProgress.objects.filter(
        basis=VALIDATED, year_value__isnull=False
    ).values_list("year", flat=True)
    return sorted(
        set(funded.order_by().distinct()) | set(valued.order_by().distinct()),
        reverse=True,
    )


def load_filter_options() -> FilterOptions:
    """What the board's filter form offers (five queries)."""
    return FilterOptions(
        years=list_board_years(),
        agencies=list(Agency.objects.order_by("code")),
        areas=list(CommonChapterArea.objects.order_by("position")),
        goals=list(SdgGoal.objects.order_by("number")),
    )


# --- the common chapter -----------------------------------------------------------


def signatory_order(code: str) -> str:
    """Sort key that keeps the common chapter's order of its signatories:
    UNDP, UNFPA, UNICEF, UN-Women."""
    return code.replace("-", "")


@dataclass(frozen=True)
class AreaDelivery:
    """One area in one country: its commitments and what the four signatory
    agencies deliver through joint activities tagged to the area."""

    area: CommonChapterArea
    team: CountryTeam
    commitments: int
    accelerators: int
    by_signatory: dict[int, Money]
    everyone: Money

    @property
    def signatories(self) -> Money:
        return Money.total(self.by_signatory.values())

    @property
    def signatory_share(self) -> Decimal | None:
        """The four agencies' share of all agencies' spending in the area."""
        return percent(self.signatories.spent, self.everyone.spent)


@dataclass(frozen=True)
class AreaOverview:
    area: CommonChapterArea
    countries: int
    commitments: int
    accelerators: int
    by_status: dict[str, int]
    signatories: Money
    everyone: Money

    @property
    def signatory_share(self) -> Decimal | None:
        return percent(self.signatories.spent, self.everyone.spent)


@dataclass
class CommonChapterSummary:
    filters: BoardFilters
    status: BoardStatus
    signatories: list[Agency]
    areas: list[AreaOverview]
    commitments: list[CommonChapterCommitment]
    delivery: list[AreaDelivery]


def common_chapter_summary(filters: BoardFilters) -> CommonChapterSummary:
    """The common chapter across countries: for each area (and business
    operations) the commitments and accelerator initiatives recorded up to the
    end of the period, and the four signatory agencies' validated spending
    through joint activities tagged to the area (six queries).

    An SDG goal filter does not apply: the rollups keep money per area and per
    goal, not per pair.
    """
    teams = _teams(filters)
    by_pk = {team.pk: team for team in teams}
    signatories = sorted(
        Agency.objects.signatories(), key=lambda agency: signatory_order(agency.code)
    )
    areas = CommonChapterArea.objects.order_by("position")
    if filters.area:
        areas = areas.filter(pk=filters.area.pk)
    areas = list(areas)

    commitments = (
        CommonChapterCommitment.objects.filter(
            country_team__in=list(by_pk), year__lte=filters.year_to
        )
        .select_related("country_team", "area")
        .prefetch_related("agencies")
        .order_by("area__position", "country_team__name", "year", "title")
    )
    if filters.area:
        commitments = commitments.filter(area=filters.area)
    if filters.agency:
        commitments = commitments.filter(agencies=filters.agency)
    commitments = list(commitments)

    money_scope = Q(agency__isnull=True) | Q(agency__in=signatories)
    rows = (
        TagFundingRollup.objects.filter(
            money_scope,
            _scope(filters),
            kind=TagKind.COMMON_CHAPTER_AREA,
            tag_id__in=[area.pk for area in areas],
            basis=VALIDATED,
            year__gte=filters.year_from,
            year__lte=filters.year_to,
        )
        .order_by()
        .values("tag_id", "country_team_id", "agency_id")
        .annotate(**_SUMS)
    )
    money: dict[tuple[int, int], dict[int | None, Money]] = defaultdict(dict)
    for row in rows:
        money[(row["tag_id"], row["country_team_id"])][row["agency_id"]] = _money(row)

    counts: dict[tuple[int, int], list[CommonChapterCommitment]] = defaultdict(list)
    for commitment in commitments:
        counts[(commitment.area_id, commitment.country_team_id)].append(commitment)

    delivery = []
    for area in areas:
        for team in teams:
            found = counts.get((area.pk, team.pk), [])
            spent = money.get((area.pk, team.pk), {})
            if not found and not spent:
                continue
            delivery.append(
                AreaDelivery(
                    area=area,
                    team=team,
                    commitments=sum(
                        1 for c in found if c.kind == CommitmentKind.COMMITMENT
                    ),
                    accelerators=sum(
                        1 for c in found if c.kind == CommitmentKind.ACCELERATOR
                    ),
                    by_signatory={
                        agency.pk: spent[agency.pk]
                        for agency in signatories
                        if agency.pk in spent
                    },
                    everyone=spent.get(None, Money()),
                )
            )

    overviews = []
    for area in areas:
        lines = [line for line in delivery if line.area.pk == area.pk]
        found = [c for c in commitments if c.area_id == area.pk]
        by_status = dict.fromkeys(CommitmentStatus.values, 0)
        for commitment in found:
            by_status[commitment.status] += 1
        overviews.append(
            AreaOverview(
                area=area,
                countries=len({c.country_team_id for c in found}),
                commitments=sum(
                    1 for c in found if c.kind == CommitmentKind.COMMITMENT
                ),
                accelerators=sum(
                    1 for c in found if c.kind == CommitmentKind.ACCELERATOR
                ),
                by_status=by_status,
                signatories=Money.total(line.signatories for line in lines),
                everyone=Money.total(line.everyone for line in lines),
            )
        )
    return CommonChapterSummary(
        filters=filters,
        status=_status(teams),
        signatories=signatories,
        areas=overviews,
        commitments=commitments,
        delivery=delivery,
    )


# --- one team ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeLine:
    outcome: Outcome
    money: Money | None
    progress: Progress


@dataclass(frozen=True)
class IndicatorLine:
    indicator: Indicator
    progress: IndicatorProgress | None

    @property
    def status(self) -> str:
        return self.progress.status if self.progress else ProgressStatus.NO_DATA

    @property
    def level_code(self) -> str:
        parent = self.indicator.output or self.indicator.outcome
        return parent.code if parent else ""

    @property
    def outcome_id(self) -> int | None:
        if self.indicator.output_id:
            return self.indicator.output.outcome_id
        return self.indicator.outcome_id


@dataclass
class BoardTeam:
    """One country team seen from the board: the summary's figures narrowed to
    the team, and its outcomes and indicators over the period."""

    summary: BoardSummary
    frameworks: list[CooperationFramework]
    outcomes: list[OutcomeLine]
    indicators: list[IndicatorLine]

    @property
    def team(self) -> CountryTeam:
        return self.summary.filters.team

    @property
    def line(self) -> BoardLine | None:
        return self.summary.teams[0] if self.summary.teams else None


def board_team(filters: BoardFilters) -> BoardTeam:
    """The drill-down from any board figure to the team behind it: its signed-off
    frameworks that overlap the period, money by outcome and each indicator's
    status at the end of the period (the summary's queries and four more)."""
    team = filters.team
    if team is None:
        raise ValueError("board_team needs filters with a team.")
    summary, found = _summary(filters)
    frameworks = list(
        CooperationFramework.objects.filter(
            country_team=team,
            status__in=SIGNED_OFF,
            start_year__lte=filters.year_to,
            end_year__gte=filters.year_from,
        ).order_by("-start_year")
    )
    framework_ids = [framework.pk for framework in frameworks]
    # Each indicator's row at the end of the period, among those the filters
    # keep (an agency's, an area's or a goal's).
    last_year = {}
    for indicator in found:
        covered = [year for year in indicator.by_year if year in filters.years]
        if covered:
            last_year[indicator.indicator_id] = max(covered)
    rows = {
        row.indicator_id: row
        for row in IndicatorProgress.objects.filter(
            country_team=team,
            basis=VALIDATED,
            indicator_id__in=list(last_year),
            year__gte=filters.year_from,
            year__lte=filters.year_to,
        ).order_by()
        if row.year == last_year[row.indicator_id]
    }
    kept = {indicator.indicator_id for indicator in found}
    indicators = [
        indicator
        for indicator in Indicator.objects.filter(framework_id__in=framework_ids)
        .select_related("framework", "outcome", "output")
        .order_by("framework__start_year", "code")
        if indicator.pk in kept
    ]
    indicator_lines = [
        IndicatorLine(indicator=indicator, progress=rows.get(indicator.pk))
        for indicator in indicators
    ]

    money: dict[int, Money] | None = None
    if not filters.has_tag:
        agency = (
            Q(agency_id=filters.agency.pk) if filters.agency else Q(agency__isnull=True)
        )
        money = {
            row["outcome_id"]: _money(row)
            for row in OutcomeFundingRollup.objects.filter(
                agency,
                country_team_id=team.pk,
                basis=VALIDATED,
                year__gte=filters.year_from,
                year__lte=filters.year_to,
            )
            .order_by()
            .values("outcome_id")
            .annotate(**_SUMS)
        }
    statuses: dict[int, list[str]] = defaultdict(list)
    for line in indicator_lines:
        if line.outcome_id:
            statuses[line.outcome_id].append(line.status)
    outcomes = [
        OutcomeLine(
            outcome=outcome,
            money=None if money is None else money.get(outcome.pk, Money()),
            progress=Progress.of(statuses.get(outcome.pk, ())),
        )
        for outcome in Outcome.objects.filter(framework_id__in=framework_ids)
        .select_related("framework")
        .order_by("framework__start_year", "code")
    ]
    return BoardTeam(
        summary=summary,
        frameworks=frameworks,
        outcomes=outcomes,
        indicators=indicator_lines,
    )
