"""Reads for the coherence pages: a team's scorecard, joint delivery, outputs,
overlap alerts, comparative advantage, collaboration network, Leave No One
Behind coverage and common-chapter delivery, and the board's comparison of
countries. Built from the coherence rows only; a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coordination.models import AdminRegion, Agency, CountryTeam, TeamAgency
from frameworks.models import CommonChapterArea, Outcome, Output, TargetGroup
from reporting.models import Basis
from reporting.models.coherence import (
    LNOB_DIMENSIONS,
    AgencyOutcomeRollup,
    AlertStatus,
    CoherenceScorecard,
    CollaborationLink,
    CommonChapterDeliveryRollup,
    DisaggregationRollup,
    JointDeliveryRollup,
    OutputAgencyRollup,
    OverlapAlert,
    OverlapDecision,
    TargetGroupFundingRollup,
)
from reporting.selectors import RollupStatus, get_rollup_status

_HUNDRED = Decimal(100)
_TENTH = Decimal("0.1")
# The six areas of collaborative advantage come first; business operations
# (position 7) is not one of them.
COMMON_CHAPTER_AREAS = 6


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole in percent to one decimal, or None when whole is nothing."""
    if not whole:
        return None
    return (Decimal(part) * _HUNDRED / Decimal(whole)).quantize(_TENTH)


def average(values: list[Decimal | None]) -> Decimal | None:
    """The mean of the values that exist, to one decimal; None if none does."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    return (sum(present, Decimal(0)) / len(present)).quantize(_TENTH)


# --- the scorecard ----------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of the coherence score: a share in percent, with what it is
    made of and what it means."""

    key: str
    label: str
    definition: str
    part: Decimal | int
    whole: Decimal | int

    @property
    def percent(self) -> Decimal | None:
        return percent(self.part, self.whole)


PART_LABELS = {
    "joint_delivery": gettext_lazy("Joint delivery"),
    "shared_outputs": gettext_lazy("Outputs with several agencies"),
    "network": gettext_lazy("Agencies working together"),
    "disaggregation": gettext_lazy("Complete disaggregation"),
    "common_chapter": gettext_lazy("Common-chapter joint delivery"),
}
PART_DEFINITIONS = {
    "joint_delivery": gettext_lazy(
        "Share of the money spent that was delivered jointly: in a joint "
        "programme, or on a joint activity that two or more agencies deliver "
        "(have counted contributions to) in the year."
    ),
    "shared_outputs": gettext_lazy(
        "Share of the outputs with delivery in the year that two or more "
        "agencies deliver."
    ),
    "network": gettext_lazy(
        "Pairs of agencies that deliver an activity together or take part in the "
        "same running joint programme, out of every possible pair of the agencies "
        "at work in the year."
    ),
    "disaggregation": gettext_lazy(
        "Share of the reported indicator values that should be disaggregated "
        "which carry every breakdown their indicator asks for (sex, age, "
        "disability, location, wealth)."
    ),
    "common_chapter": gettext_lazy(
        "Share of what UNDP, UNFPA, UNICEF and UN-Women spent on activities "
        "tagged to a common-chapter area that went to activities two or more of "
        "them deliver."
    ),
}
SCORE_DEFINITION = gettext_lazy(
    "The coherence score is the average of its five parts, each a share from 0 to "
    "100 %. A part without data for the year (no outputs delivered, fewer than two "
    "agencies at work, no value that should be disaggregated, no common-chapter "
    "money) is left out of the average and shown as “no data”. Overlap alerts are "
    "shown beside the score, not in it."
)


def _possible_pairs(agencies: int) -> int:
    return agencies * (agencies - 1) // 2


@dataclass(frozen=True)
class Scorecard:
    """A team's coherence in one year and basis (row None: no figures)."""

    year: int | None
    basis: str
    row: CoherenceScorecard | None

    @property
    def has_data(self) -> bool:
        return self.row is not None

    @property
    def parts(self) -> list[Part]:
        row = self.row
        if row is None:
            return []
        numbers = {
            "joint_delivery": (row.joint_spent, row.spent),
            "shared_outputs": (
                row.outputs_delivered - row.outputs_single_agency,
                row.outputs_delivered,
            ),
            "network": (row.linked_pairs, _possible_pairs(row.agency_count)),
            "disaggregation": (row.values_complete, row.values_expecting),
            "common_chapter": (row.signatory_joint_spent, row.signatory_spent),
        }
        return [
            Part(
                key=key,
                label=str(PART_LABELS[key]),
                definition=str(PART_DEFINITIONS[key]),
                part=part,
                whole=whole,
            )
            for key, (part, whole) in numbers.items()
        ]

    def part(self, key: str) -> Part | None:
        return next((part for part in self.parts if part.key == key), None)

    @property
    def score(self) -> Decimal | None:
        return average([part.percent for part in self.parts])

    @property
    def agencies_per_output(self) -> Decimal | None:
        row = self.row
        if row is None or not row.outputs_delivered:
            return None
        return (Decimal(row.output_agency_total) / row.outputs_delivered).quantize(
            _TENTH
        )


# --- the team page -----------------------------------------------------------------


@dataclass(frozen=True)
class AgencyDelivery:
    agency: Agency | None
    row: JointDeliveryRollup

    @property
    def joint_percent(self) -> Decimal | None:
        return percent(self.row.joint_spent, self.row.spent)

    @property
    def single_spent(self) -> Decimal:
        return self.row.spent - self.row.joint_spent

    @property
    def other_joint_spent(self) -> Decimal:
        """Spent jointly outside joint programmes."""
        return self.row.joint_spent - self.row.programme_spent


@dataclass(frozen=True)
class AlertLine:
    alert: OverlapAlert
    decision: OverlapDecision | None
    outputs: list[Output]
    locations: list[AdminRegion]

    @property
    def percent(self) -> Decimal:
        return (self.alert.similarity * _HUNDRED).quantize(Decimal(1))


@dataclass(frozen=True)
class AlertLists:
    """A team's overlap alerts: those to review, and those decided."""

    open: list[AlertLine]
    decided: list[AlertLine]

    @property
    def count(self) -> int:
        return len(self.open) + len(self.decided)


@dataclass(frozen=True)
class AdvantageLine:
    """One agency under one outcome, with its shares of the outcome's figures."""

    agency: Agency
    row: AgencyOutcomeRollup
    delivery_percent: Decimal | None
    mobilised_percent: Decimal | None
    is_resident: bool | None
    is_lead: bool

    @property
    def results_percent(self) -> Decimal | None:
        return percent(self.row.indicators_reported, self.row.indicator_count)

    @property
    def advantage(self) -> Decimal | None:
        return average(
            [self.delivery_percent, self.mobilised_percent, self.results_percent]
        )


ADVANTAGE_DEFINITION = gettext_lazy(
    "Per outcome and agency: its share of the outcome's money spent (delivery) and "
    "available (funds mobilised), and the share of the outcome's indicators with a "
    "target it reported values for. The advantage is the average of the three; "
    "the strongest resident agency is marked, since leading an outcome needs a "
    "presence in the country."
)


@dataclass
class OutcomeAdvantage:
    outcome: Outcome
    lines: list[AdvantageLine]

    @property
    def strongest(self) -> AdvantageLine | None:
        """The resident agency with the highest advantage (more money spent, then
        the code, on a tie)."""
        ranked = [
            line
            for line in self.lines
            if line.is_resident and line.advantage is not None
        ]
        return min(
            ranked,
            key=lambda line: (-line.advantage, -line.row.spent, line.agency.code),
            default=None,
        )


@dataclass(frozen=True)
class NetworkNode:
    agency: Agency
    spent: Decimal
    is_resident: bool | None
    partners: int


@dataclass
class Network:
    nodes: list[NetworkNode]
    links: list[CollaborationLink]

    def graph(self) -> dict[str, Any]:
        """What coherence.js draws with Cytoscape: plain data, no markup."""
        return {
            "nodes": [
                {
                    "id": str(node.agency.pk),
                    "label": node.agency.code,
                    "name": node.agency.name,
                    "spent": float(node.spent),
                    "resident": node.is_resident is not False,
                    "partners": node.partners,
                }
                for node in self.nodes
            ],
            "links": [
                {
                    "source": str(link.agency_a_id),
                    "target": str(link.agency_b_id),
                    "activities": link.shared_activities,
                    "programmes": link.shared_programmes,
                }
                for link in self.links
            ],
        }


@dataclass(frozen=True)
class CoverageLine:
    """Disaggregation coverage of the team, an outcome or an indicator."""

    row: DisaggregationRollup
    label: str = ""
    code: str = ""

    def dimension(self, name: str) -> tuple[int, int, Decimal | None]:
        count = getattr(self.row, f"{name}_count")
        expected = getattr(self.row, f"{name}_expected")
        return count, expected, percent(count, expected)

    @property
    def dimensions(self) -> list[tuple[str, int, int, Decimal | None]]:
        return [(name, *self.dimension(name)) for name in LNOB_DIMENSIONS]

    @property
    def complete_percent(self) -> Decimal | None:
        return percent(self.row.complete_count, self.row.expecting_count)


@dataclass(frozen=True)
class TargetGroupLine:
    group: str
    label: str
    row: TargetGroupFundingRollup


@dataclass
class Lnob:
    team: CoverageLine | None
    outcomes: list[CoverageLine]
    indicators: list[CoverageLine]
    target_groups: list[TargetGroupLine]


@dataclass(frozen=True)
class AreaLine:
    area: CommonChapterArea
    total: CommonChapterDeliveryRollup | None
    by_agency: dict[int, CommonChapterDeliveryRollup]

    @property
    def joint_percent(self) -> Decimal | None:
        if self.total is None:
            return None
        return percent(self.total.joint_spent, self.total.spent)


@dataclass
class CoherencePage:
    """Everything the coherence page of one team, year and basis shows."""

    team: CountryTeam
    status: RollupStatus
    basis: str
    year: int | None = None
    years: list[int] = field(default_factory=list)
    scorecard: Scorecard | None = None
    trend: list[Scorecard] = field(default_factory=list)
    delivery_total: AgencyDelivery | None = None
    delivery: list[AgencyDelivery] = field(default_factory=list)
    outputs: list[OutputAgencyRollup] = field(default_factory=list)
    alerts: AlertLists = field(default_factory=lambda: AlertLists([], []))
    advantage: list[OutcomeAdvantage] = field(default_factory=list)
    network: Network | None = None
    lnob: Lnob | None = None
    areas: list[AreaLine] = field(default_factory=list)
    signatories: list[Agency] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.scorecard is not None and self.scorecard.has_data

    @property
    def single_agency_outputs(self) -> list[OutputAgencyRollup]:
        return [row for row in self.outputs if row.agency_count == 1]


def get_coherence_page(
    *, team: CountryTeam, year: int | None = None, basis: str = Basis.VALIDATED
) -> CoherencePage:
    """Return the team's coherence measures for a year and basis.

    A year without figures, or none, falls back to the latest year with
    figures. Alerts are not per year: the page lists all of the team's.
    """
    basis = basis if basis in Basis.values else Basis.VALIDATED
    page = CoherencePage(team=team, status=get_rollup_status(team=team), basis=basis)
    cards = {
        row.year: row
        for row in CoherenceScorecard.objects.filter(
            country_team=team, basis=basis
        ).order_by("year")
    }
    page.years = sorted(cards, reverse=True)
    page.trend = [Scorecard(year, basis, row) for year, row in cards.items()]
    page.alerts = list_alert_lines(team=team)
    if not page.years:
        page.scorecard = Scorecard(None, basis, None)
        return page
    if year not in cards:
        year = page.years[0]
    page.year = year
    page.scorecard = Scorecard(year, basis, cards[year])
    scope = {"country_team": team, "year": year, "basis": basis}
    residency = dict(
        TeamAgency.objects.filter(country_team=team).values_list(
            "agency_id", "is_resident"
        )
    )
    _add_delivery(page, scope)
    page.outputs = list(
        OutputAgencyRollup.objects.filter(**scope)
        .select_related("output", "outcome", "sole_agency")
        .order_by("output__code")
    )
    page.advantage = _advantage(scope, residency)
    page.network = _network(page, scope, residency)
    page.lnob = _lnob(scope)
    page.signatories = sorted(
        Agency.objects.signatories(),
        # The common chapter's own order: UNDP, UNFPA, UNICEF, UN-Women.
        key=lambda agency: agency.code.replace("-", ""),
    )
    page.areas = _areas(scope)
    return page


def _add_delivery(page: CoherencePage, scope: dict[str, Any]) -> None:
    rows = JointDeliveryRollup.objects.filter(**scope).select_related("agency")
    for row in rows:
        if row.agency_id is None:
            page.delivery_total = AgencyDelivery(agency=None, row=row)
        else:
            page.delivery.append(AgencyDelivery(agency=row.agency, row=row))
    page.delivery.sort(key=lambda line: (-line.row.spent, line.agency.code))


def list_alert_lines(*, team: CountryTeam) -> AlertLists:
    """Every overlap alert of the team, by similarity, with the decision,
    outputs and locations behind each (four queries at most)."""
    alerts = list(
        OverlapAlert.objects.for_team(team)
        .select_related("activity_a", "activity_b", "agency_a", "agency_b")
        .order_by("-similarity", "activity_a_id", "activity_b_id")
    )
    decisions = {
        (decision.activity_a_id, decision.activity_b_id): decision
        for decision in OverlapDecision.objects.filter(
            country_team=team
        ).select_related("decided_by")
    }
    output_ids = {pk for alert in alerts for pk in alert.shared_output_ids}
    region_ids = {pk for alert in alerts for pk in alert.shared_location_ids}
    outputs = Output.objects.in_bulk(output_ids) if output_ids else {}
    regions = AdminRegion.objects.in_bulk(region_ids) if region_ids else {}
    found = AlertLists(open=[], decided=[])
    for alert in alerts:
        line = AlertLine(
            alert=alert,
            decision=decisions.get((alert.activity_a_id, alert.activity_b_id)),
            outputs=[outputs[pk] for pk in alert.shared_output_ids if pk in outputs],
            locations=[
                regions[pk] for pk in alert.shared_location_ids if pk in regions
            ],
        )
        if alert.status == AlertStatus.OPEN:
            found.open.append(line)
        else:
            found.decided.append(line)
    return found


def _advantage(
    scope: dict[str, Any], residency: dict[int, bool]
) -> list[OutcomeAdvantage]:
    rows = list(
        AgencyOutcomeRollup.objects.filter(**scope)
        .select_related("outcome", "agency")
        .order_by("outcome__code", "agency__code")
    )
    outcome_ids = {row.outcome_id for row in rows}
    leads = set(
        Outcome.lead_agencies.through.objects.filter(
            outcome_id__in=outcome_ids
        ).values_list("outcome_id", "agency_id")
    )
    by_outcome: dict[int, list[AgencyOutcomeRollup]] = defaultdict(list)
    for row in rows:
        by_outcome[row.outcome_id].append(row)
    found = []
    for outcome_rows in by_outcome.values():
        spent = sum((row.spent for row in outcome_rows), Decimal(0))
        available = sum((row.available for row in outcome_rows), Decimal(0))
        lines = [
            AdvantageLine(
                agency=row.agency,
                row=row,
                delivery_percent=percent(row.spent, spent),
                mobilised_percent=percent(row.available, available),
                is_resident=residency.get(row.agency_id),
                is_lead=(row.outcome_id, row.agency_id) in leads,
            )
            for row in outcome_rows
        ]
        lines.sort(
            key=lambda line: (
                -(line.advantage or Decimal(-1)),
                -line.row.spent,
                line.agency.code,
            )
        )
        found.append(OutcomeAdvantage(outcome=outcome_rows[0].outcome, lines=lines))
    return found


def _network(
    page: CoherencePage, scope: dict[str, Any], residency: dict[int, bool]
) -> Network:
    links = list(
        CollaborationLink.objects.filter(**scope)
        .select_related("agency_a", "agency_b")
        .order_by("-shared_activities", "-shared_programmes", "agency_a__code")
    )
    agencies: dict[int, Agency] = {
        line.agency.pk: line.agency for line in page.delivery
    }
    spent = {line.agency.pk: line.row.spent for line in page.delivery}
    partners: dict[int, int] = defaultdict(int)
    for link in links:
        agencies.setdefault(link.agency_a_id, link.agency_a)
        agencies.setdefault(link.agency_b_id, link.agency_b)
        partners[link.agency_a_id] += 1
        partners[link.agency_b_id] += 1
    nodes = [
        NetworkNode(
            agency=agency,
            spent=spent.get(pk, Decimal(0)),
            is_resident=residency.get(pk),
            partners=partners[pk],
        )
        for pk, agency in agencies.items()
    ]
    nodes.sort(key=lambda node: (-node.partners, -node.spent, node.agency.code))
    return Network(nodes=nodes, links=links)


def _lnob(scope: dict[str, Any]) -> Lnob:
    team_line = None
    outcomes, indicators = [], []
    for row in DisaggregationRollup.objects.filter(**scope).select_related(
        "outcome", "indicator"
    ):
        if row.indicator_id:
            indicators.append(
                CoverageLine(row, label=row.indicator.name, code=row.indicator.code)
            )
        elif row.outcome_id:
            outcomes.append(
                CoverageLine(row, label=row.outcome.statement, code=row.outcome.code)
            )
        else:
            team_line = CoverageLine(row, label=_("All indicators"))
    outcomes.sort(key=lambda line: line.code)
    indicators.sort(key=lambda line: line.code)
    labels = dict(TargetGroup.choices)
    groups = [
        TargetGroupLine(
            group=row.target_group,
            label=str(labels.get(row.target_group, row.target_group))
            if row.target_group
            else _("No target group recorded"),
            row=row,
        )
        for row in TargetGroupFundingRollup.objects.filter(**scope)
    ]
    groups.sort(key=lambda line: (not line.group, -line.row.spent, line.label))
    return Lnob(
        team=team_line, outcomes=outcomes, indicators=indicators, target_groups=groups
    )


def _areas(scope: dict[str, Any]) -> list[AreaLine]:
    totals: dict[int, CommonChapterDeliveryRollup] = {}
    by_agency: dict[int, dict[int, CommonChapterDeliveryRollup]] = defaultdict(dict)
    for row in CommonChapterDeliveryRollup.objects.filter(**scope):
        if row.agency_id is None:
            totals[row.area_id] = row
        else:
            by_agency[row.area_id][row.agency_id] = row
    return [
        AreaLine(area=area, total=totals.get(area.pk), by_agency=by_agency[area.pk])
        for area in CommonChapterArea.objects.filter(
            position__lte=COMMON_CHAPTER_AREAS
        ).order_by("position")
    ]


# --- the RC dashboard ----------------------------------------------------------------


@dataclass(frozen=True)
class CoherenceSummary:
    scorecard: Scorecard
    open_alerts: int


def get_coherence_summary(
    *, team: CountryTeam, year: int | None, basis: str
) -> CoherenceSummary:
    """The dashboard's coherence tiles: the year's scorecard and how many
    overlap alerts wait for the RC office (two queries)."""
    row = CoherenceScorecard.objects.filter(
        country_team=team, year=year, basis=basis
    ).first()
    return CoherenceSummary(
        scorecard=Scorecard(year, basis, row),
        open_alerts=OverlapAlert.objects.for_team(team).open().count(),
    )


# --- the board ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardLine:
    team: CountryTeam
    scorecard: Scorecard
    open_alerts: int
    confirmed_alerts: int
    trend: dict[int, Decimal | None]


@dataclass
class BoardCoherence:
    """Validated coherence of every active team, for one year, with each
    team's score over the years."""

    year: int | None
    years: list[int]
    lines: list[BoardLine]

    @property
    def has_data(self) -> bool:
        return any(line.scorecard.has_data for line in self.lines)


def get_board_coherence(*, year: int | None = None) -> BoardCoherence:
    """Every active team's validated scorecard for the year (when none or an
    unknown one is asked for, the latest of the years most teams have figures
    for). Alert counts are of pairs of validated activities. Three queries."""
    teams = list(CountryTeam.objects.active().order_by("name"))
    cards: dict[int, dict[int, CoherenceScorecard]] = defaultdict(dict)
    for row in CoherenceScorecard.objects.filter(
        country_team__in=teams, basis=Basis.VALIDATED
    ):
        cards[row.country_team_id][row.year] = row
    teams_per_year: dict[int, int] = defaultdict(int)
    for by_year in cards.values():
        for each in by_year:
            teams_per_year[each] += 1
    years = sorted(teams_per_year, reverse=True)
    if year not in teams_per_year:
        # The latest of the years most teams have figures for: the current
        # year is often still empty for many.
        year = max(
            teams_per_year,
            key=lambda each: (teams_per_year[each], each),
            default=None,
        )
    counts = {
        row["country_team_id"]: row
        for row in OverlapAlert.objects.filter(
            country_team__in=teams, both_validated=True
        )
        .values("country_team_id")
        .annotate(
            open=Count("pk", filter=Q(status=AlertStatus.OPEN)),
            confirmed=Count("pk", filter=Q(status=AlertStatus.CONFIRMED)),
        )
        .order_by()
    }
    lines = []
    for team in teams:
        by_year = cards.get(team.pk, {})
        found = counts.get(team.pk, {})
        lines.append(
            BoardLine(
                team=team,
                scorecard=Scorecard(year, Basis.VALIDATED, by_year.get(year)),
                open_alerts=found.get("open", 0),
                confirmed_alerts=found.get("confirmed", 0),
                trend={
                    each: Scorecard(each, Basis.VALIDATED, by_year.get(each)).score
                    for each in sorted(years)
                },
            )
        )
    lines.sort(
        key=lambda line: (
            line.scorecard.score is None,
            -(line.scorecard.score or 0),
            line.team.name,
        )
    )
    return BoardCoherence(year=year, years=sorted(years), lines=lines)
