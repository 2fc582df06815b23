"""IATI 2.03 activity XML for a country team's joint programmes and joint activities.

The Resident Coordinator Office of the team is the reporting organisation. It
publishes as a secondary reporter (`secondary-reporter="1"`): the agencies publish
their own IATI data for the same money, and the flag lets IATI tools avoid counting
it twice.

Identifiers
    The reporting organisation's `ref` is `<prefix>-<TEAM CODE>`, the prefix being
    `settings.IATI_ORGANISATION_PREFIX` or, when unset, `XM-UNPORTAL`. The default is
    a placeholder until the RC Office has an organisation identifier registered
    through org-id.guide. Activity identifiers append a stable database id:
    `<ref>-JP-<id>` for a joint programme, `<ref>-JA-<id>` for a joint activity.
    An activity's import reference, when it has one, goes in `other-identifier`
    (type A1, the reporting organisation's own identifier).

What is published
    Every joint programme of the team (hierarchy 1) and every joint activity that was
    validated at least once or has validated figures (hierarchy 2 under its programme,
    related both ways). Figures come only from validated contribution revisions and
    validated measurements; draft, submitted and returned figures never appear.

Mapping
    participating-org roles (IATI OrganisationRole):
        1 funding      the programme's fund and the funding sources named on
                       validated revisions (narrative only: they are free text);
        2 accountable  the activity's lead agency, the programme's convening agency;
        3 extending    agencies that manage money: for an activity, those with a
                       validated contribution; for a programme, the participants
                       with a budget share;
        4 implementing every agency involved, plus the implementing partners named on
                       validated revisions (narrative only).
        Agencies carry their IATI identifier as `ref` where known, type 40
        (multilateral), and always their name.
    tag          SDG goals (vocabulary 2, code "5") and targets (vocabulary 3,
                 code "5.2") with their English titles.
    sector       vocabulary 99 (reporting organisation): the common-chapter areas,
                 coded CC1..CC6 with their names, split in equal percentages that add
                 up to 100. A programme takes the areas of its published activities.
                 No DAC purpose code is derived: the portal records no sector that
                 maps onto them without guessing.
    location     one per admin-1 region (a programme: those of its activities), with
                 the region's name, location class 1 (administrative region) and
                 feature designation ADM1; recipient-country is the team's country.
    policy-marker the gender equality marker as the OECD DAC gender marker
                 (vocabulary 1, code 1): UN marker 3 -> 2 principal, 2 -> 1
                 significant, 0 and 1 -> 0 not targeted.
    budget       an activity: per calendar year, the sum of the validated `required`
                 of its contributions (type 1 original, status 1 indicative). A
                 programme: the participants' budget shares, spread over the calendar
                 years it runs in proportion to its days in each (IATI wants budget
                 periods of at most a year).
    transaction  per validated contribution: a commitment (type 2) of `available` and
                 an expenditure (type 4) of `spent`, provided by the agency, dated on
                 the day the figures were validated, moved into the contribution's
                 year. Agencies spend their share themselves, so no disbursement.
                 Zero amounts are left out.
    result       an activity: one output result (type 1) per output, with the
                 output's indicators; actuals come from the validated result values
                 of the activity's contributions. A programme: one outcome result
                 (type 2) per linked outcome that has indicators; actuals come from
                 the team's validated measurements (team-wide values, when recorded,
                 stand for the whole team; otherwise agencies' values combine).
                 Measure: number 1 (unit), percentage 2, yes/no 3 (nominal),
                 qualitative 5. Baseline from the indicator; the target goes in the
                 period of its target year. Agencies' values in one period combine by
                 the indicator's across-agencies rule (percentages pool numerators and
                 denominators). Each disaggregated category becomes an actual with a
                 `<dimension name="sex" value="female"/>`. Percentages publish no
                 breakdown: the portal breaks down their numerator, which is not a
                 percentage, and keeps no denominator per category.
"""

from __future__ import annotations

import datetime
import functools
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from lxml import etree

from coordination.models import Agency
from frameworks.models import (
    Aggregation,
    Contribution,
    Indicator,
    IndicatorDirection,
    IndicatorMeasurement,
    IndicatorUnit,
    JointActivity,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    ResultValue,
    SdgTarget,
    WorkflowStatus,
    text_in_language,
)

if TYPE_CHECKING:
    from coordination.models import AdminRegion, CountryTeam
    from frameworks.models import CommonChapterArea

IATI_VERSION = "2.03"
DEFAULT_ORGANISATION_PREFIX = "XM-UNPORTAL"
SCHEMA_DIR = Path(__file__).resolve().parent / "reference" / "iati"
SCHEMA_FILE = SCHEMA_DIR / "iati-activities-schema.xsd"
CURRENCY = "USD"
LANGUAGE = "en"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

MULTILATERAL = "40"
ROLE_FUNDING, ROLE_ACCOUNTABLE, ROLE_EXTENDING, ROLE_IMPLEMENTING = "1", "2", "3", "4"
DATE_PLANNED_START, DATE_PLANNED_END = "1", "3"
TAG_SDG_GOAL, TAG_SDG_TARGET = "2", "3"
SECTOR_REPORTING_ORG = "99"
BUDGET_ORIGINAL, BUDGET_INDICATIVE = "1", "1"
TRANSACTION_COMMITMENT, TRANSACTION_EXPENDITURE = "2", "4"
RELATED_PARENT, RELATED_CHILD = "1", "2"
RESULT_OUTPUT, RESULT_OUTCOME = "1", "2"

ACTIVITY_STATUS = {
    "planned": "1",
    "ongoing": "2",
    "completed": "3",
    "cancelled": "5",
    "suspended": "6",
}
PROGRAMME_STATUS = {"pipeline": "1", "active": "2", "completed": "3", "closed": "4"}
MEASURE = {
    IndicatorUnit.NUMBER: "1",
    IndicatorUnit.PERCENTAGE: "2",
    IndicatorUnit.YES_NO: "3",
    IndicatorUnit.QUALITATIVE: "5",
}
DAC_GENDER_SIGNIFICANCE = {0: "0", 1: "0", 2: "1", 3: "2"}

_QUARTER = re.compile(r"^Q([1-4])$", re.IGNORECASE)
_HALF = re.compile(r"^H([12])$", re.IGNORECASE)
_HUNDRED = Decimal(100)
_VALIDATION_LOCK = threading.Lock()


class NothingToExportError(Exception):
    """The team has neither joint programmes nor published joint activities."""


class InvalidIatiFileError(Exception):
    """The file built does not validate against the IATI schema."""

    def __init__(self, errors: Sequence[str]):
        super().__init__("; ".join(errors[:5]))
        self.errors = list(errors)


# --- Validation -------------------------------------------------------------------


class _LocalSchemaResolver(etree.Resolver):
    """Serve the schema's include and import from the project's copy."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        local = SCHEMA_DIR / Path(system_url).name
        if local.is_file():
            return self.resolve_filename(str(local), context)
        return None


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


@functools.cache
def load_schema() -> etree.XMLSchema:
    """Return the IATI 2.03 activity schema, compiled once per process."""
    parser = _safe_parser()
    parser.resolvers.add(_LocalSchemaResolver())
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE), parser))


def validate_iati(xml_bytes: bytes) -> list[str]:
    """Return the schema errors of an IATI activity file; empty when it is valid."""
    try:
        document = etree.fromstring(xml_bytes, _safe_parser())
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: {exc.msg}"]
    if document.getroottree().docinfo.doctype:
        # IATI files have no DTD; one here can only smuggle in entities.
        return ["line 1: an IATI file must not declare a DOCTYPE."]
    schema = load_schema()
    # The error log belongs to the schema object: without the lock, concurrent
    # requests would read each other's errors.
    with _VALIDATION_LOCK:
        try:
            valid = schema.validate(document)
        except etree.XMLSchemaValidateError as exc:
            return [f"the schema validator gave up: {exc}"]
        if valid:
            return []
        return [f"line {error.line}: {error.message}" for error in schema.error_log]


# --- Reading the team's data (a fixed number of queries) ----------------------------


@dataclass
class TeamIatiData:
    """Everything one team's file needs, loaded up front."""

    team: CountryTeam
    programmes: list[JointProgramme]
    activities: list[JointActivity]
    measurements: dict[int, list[IndicatorMeasurement]]
    children: dict[int, list[JointActivity]] = field(default_factory=dict)
    programmes_by_id: dict[int, JointProgramme] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.programmes_by_id = {p.pk: p for p in self.programmes}
        for activity in self.activities:
            if activity.joint_programme_id:
                self.children.setdefault(activity.joint_programme_id, []).append(
                    activity
                )


def _indicators() -> Prefetch:
    return Prefetch("indicators", queryset=Indicator.objects.order_by("code"))


def _sdg_targets() -> Prefetch:
    return Prefetch(
        "sdg_targets",
        queryset=SdgTarget.objects.select_related("goal").order_by("sort_key"),
    )


def list_programmes_for_iati(*, team: CountryTeam) -> list[JointProgramme]:
    """Return the team's joint programmes with participants, SDG targets, outcomes
    and the outcomes' indicators."""
    return list(
        JointProgramme.objects.filter(country_team=team)
        .select_related("convening_agency")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=JointProgrammeParticipant.objects.select_related(
                    "agency"
                ).order_by("agency__code"),
            ),
            _sdg_targets(),
            Prefetch(
                "outcomes",
                queryset=Outcome.objects.order_by("code").prefetch_related(
                    _indicators()
                ),
            ),
        )
        .order_by("pk")
    )


def list_activities_for_iati(*, team: CountryTeam) -> list[JointActivity]:
    """Return the team's joint activities that the RC office validated at least once,
    with everything the file shows; contributions are the validated ones.

    An activity never validated is left out even if some of its money is: its title
    and description are still draft text, not fit to publish."""
    return list(
        JointActivity.objects.filter(country_team=team, validated_at__isnull=False)
        .select_related("agency")
        .prefetch_related(
            Prefetch("agencies", queryset=Agency.objects.order_by("code")),
            _sdg_targets(),
            "common_chapter_areas",
            "locations",
            Prefetch(
                "outputs",
                queryset=Output.objects.order_by("code").prefetch_related(
                    _indicators()
                ),
            ),
            Prefetch(
                "contributions",
                queryset=Contribution.objects.filter(validated_revision__isnull=False)
                .select_related("agency", "validated_revision")
                .order_by("year", "agency__code")
                .prefetch_related(
                    Prefetch(
                        "validated_revision__results",
                        queryset=ResultValue.objects.order_by("indicator_id"),
                    )
                ),
                to_attr="validated_contributions",
            ),
        )
        .order_by("pk")
    )


def load_team_iati_data(*, team: CountryTeam) -> TeamIatiData:
    """Load what the team's IATI file shows, in a fixed number of queries."""
    measurements: dict[int, list[IndicatorMeasurement]] = defaultdict(list)
    for measurement in IndicatorMeasurement.objects.filter(
        country_team=team, status=WorkflowStatus.VALIDATED
    ).order_by("indicator_id", "year", "period_label", "validated_at", "pk"):
        measurements[measurement.indicator_id].append(measurement)
    return TeamIatiData(
        team=team,
        programmes=list_programmes_for_iati(team=team),
        activities=list_activities_for_iati(team=team),
        measurements=dict(measurements),
    )


# --- Small builders --------------------------------------------------------------


def organisation_ref(team: CountryTeam) -> str:
    """The reporting organisation's identifier: the team's RC Office."""
    prefix = getattr(settings, "IATI_ORGANISATION_PREFIX", DEFAULT_ORGANISATION_PREFIX)
    return f"{prefix}-{team.code}"


def programme_identifier(team: CountryTeam, programme: JointProgramme) -> str:
    return f"{organisation_ref(team)}-JP-{programme.pk}"


def activity_identifier(team: CountryTeam, activity: JointActivity) -> str:
    return f"{organisation_ref(team)}-JA-{activity.pk}"


def _number(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 1E+2 -> "100", 12.50 -> "12.5"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(
        parent, tag, {k.replace("_", "-"): v for k, v in attributes.items()}
    )


def _narrative(parent: etree._Element, text: str) -> None:
    _sub(parent, "narrative").text = text


def _text(parent: etree._Element, tag: str, text: str, **attributes: str) -> None:
    _narrative(_sub(parent, tag, **attributes), text)


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat()


def _reporting_org(parent: etree._Element, team: CountryTeam) -> None:
    org = _sub(
        parent,
        "reporting-org",
        ref=organisation_ref(team),
        type=MULTILATERAL,
        secondary_reporter="1",
    )
    _narrative(org, f"Resident Coordinator Office, {team.name}")


class _Participants:
    """participating-org elements, once per organisation and role, in role order."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], dict[str, str]] = {}

    def agency(self, role: str, agency: Agency) -> None:
        self._rows.setdefault(
            (role, f"agency:{agency.pk}"),
            {"name": agency.name, "ref": agency.iati_identifier, "type": MULTILATERAL},
        )

    def named(self, role: str, name: str) -> None:
        name = " ".join(name.split())
        if name:
            self._rows.setdefault((role, f"name:{name.casefold()}"), {"name": name})

    def write(self, parent: etree._Element) -> None:
        for (role, _key), row in sorted(
            self._rows.items(), key=lambda item: item[0][0]
        ):
            attributes = {"role": role}
            if row.get("ref"):
                attributes["ref"] = row["ref"]
            if row.get("type"):
                attributes["type"] = row["type"]
            _narrative(_sub(parent, "participating-org", **attributes), row["name"])


def _activity_dates(
    parent: etree._Element, start: datetime.date, end: datetime.date
) -> None:
    _sub(parent, "activity-date", type=DATE_PLANNED_START, iso_date=start.isoformat())
    _sub(parent, "activity-date", type=DATE_PLANNED_END, iso_date=end.isoformat())


def _recipient_country(parent: etree._Element, team: CountryTeam) -> None:
    _text(parent, "recipient-country", team.name, code=team.iso_alpha2)


def _locations(parent: etree._Element, regions: Iterable[AdminRegion]) -> None:
    for region in sorted(regions, key=lambda r: r.code):
        location = _sub(parent, "location", ref=region.code)
        _sub(location, "location-reach", code="1")
        _text(location, "name", region.name)
        _sub(location, "exactness", code="2")
        _sub(location, "location-class", code="1")
        _sub(location, "feature-designation", code="ADM1")


def _equal_percentages(count: int) -> list[Decimal]:
    """Percentages that add up to exactly 100, the remainder on the last."""
    share = (_HUNDRED / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    shares = [share] * count
    shares[-1] = _HUNDRED - share * (count - 1)
    return shares


def _sectors(parent: etree._Element, areas: Iterable[CommonChapterArea]) -> None:
    ordered = sorted(areas, key=lambda a: a.position)
    if not ordered:
        return
    for area, percentage in zip(ordered, _equal_percentages(len(ordered)), strict=True):
        _text(
            parent,
            "sector",
            area.name,
            vocabulary=SECTOR_REPORTING_ORG,
            code=area.code,
            percentage=_number(percentage),
        )


def _tags(parent: etree._Element, targets: Sequence[SdgTarget]) -> None:
    goals = {target.goal_id: target.goal for target in targets}
    for number in sorted(goals):
        goal = goals[number]
        _text(
            parent,
            "tag",
            text_in_language(goal.titles, LANGUAGE) or f"Goal {number}",
            vocabulary=TAG_SDG_GOAL,
            code=str(number),
        )
    for target in targets:
        _text(
            parent,
            "tag",
            text_in_language(target.titles, LANGUAGE) or f"Target {target.code}",
            vocabulary=TAG_SDG_TARGET,
            code=target.code,
        )


def _gender_marker(parent: etree._Element, marker: int | None) -> None:
    if marker is None:
        return
    _sub(
        parent,
        "policy-marker",
        vocabulary="1",
        code="1",
        significance=DAC_GENDER_SIGNIFICANCE[int(marker)],
    )


def _budget(
    parent: etree._Element, start: datetime.date, end: datetime.date, amount: Decimal
) -> None:
    budget = _sub(parent, "budget", type=BUDGET_ORIGINAL, status=BUDGET_INDICATIVE)
    _sub(budget, "period-start", iso_date=start.isoformat())
    _sub(budget, "period-end", iso_date=end.isoformat())
    value = _sub(budget, "value", currency=CURRENCY, value_date=start.isoformat())
    value.text = _money(amount)


def _year_within(
    year: int, start: datetime.date, end: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The calendar year cut to the activity's dates, or the whole year if apart."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    cut_first, cut_last = max(first, start), min(last, end)
    return (cut_first, cut_last) if cut_first <= cut_last else (first, last)


def _spread_over_years(
    total: Decimal, start: datetime.date, end: datetime.date
) -> list[tuple[datetime.date, datetime.date, Decimal]]:
    """Split an amount over the calendar years from start to end by days, in cents,
    the rounding remainder on the last year."""
    spans = [
        (max(start, datetime.date(y, 1, 1)), min(end, datetime.date(y, 12, 31)))
        for y in range(start.year, end.year + 1)
    ]
    days = sum((last - first).days + 1 for first, last in spans)
    cent = Decimal("0.01")
    parts = [
        (total * ((last - first).days + 1) / days).quantize(
            cent, rounding=ROUND_HALF_UP
        )
        for first, last in spans
    ]
    parts[-1] = total - sum(parts[:-1], Decimal(0))
    return [(f, la, p) for (f, la), p in zip(spans, parts, strict=True)]


def _related(parent: etree._Element, ref: str, kind: str) -> None:
    _sub(parent, "related-activity", ref=ref, type=kind)


# --- Results ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One validated value of an indicator for one period, from one reporter."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    disaggregation: dict[str, dict[str, Any]] = field(default_factory=dict)
    text: str = ""
    order: tuple[Any, ...] = ()

    def percent(self) -> Decimal | None:
        if self.numerator is not None and self.denominator:
            return self.numerator / self.denominator * _HUNDRED
        return self.value


@dataclass(frozen=True)
class Actual:
    value: Decimal | None
    dimensions: tuple[tuple[str, str], ...] = ()
    comment: str = ""


def _pick(values: Sequence[Decimal], rule: str) -> Decimal:
    if rule == Aggregation.MAX:
        return max(values)
    if rule == Aggregation.AVERAGE:
        return sum(values, Decimal(0)) / len(values)
    if rule == Aggregation.LATEST:
        return values[-1]
    return sum(values, Decimal(0))


def combine_readings(indicator: Indicator, readings: Sequence[Reading]) -> list[Actual]:
    """The period's actuals: the combined total first, then one per disaggregated
    category, combined across reporters by the indicator's across-agencies rule."""
    rule = indicator.across_agencies
    ordered = sorted(readings, key=lambda r: r.order)
    if not ordered:
        return []
    if indicator.unit == IndicatorUnit.QUALITATIVE:
        latest = ordered[-1]
        return [Actual(value=latest.value, comment=latest.text)]
    if indicator.unit == IndicatorUnit.PERCENTAGE:
        return _combine_percentages(ordered, rule)
    with_value = [r for r in ordered if r.value is not None]
    if not with_value:
        return []
    actuals = [Actual(value=_pick([r.value for r in with_value], rule))]
    # A maximum or latest value is one reporter's, so its breakdown is that
    # reporter's too; sums and averages break down category by category.
    sources: Sequence[Reading] = with_value
    category_rule = rule
    if rule == Aggregation.MAX:
        sources = [max(with_value, key=lambda r: r.value)]
    elif rule == Aggregation.LATEST:
        sources = [with_value[-1]]
    by_category: dict[tuple[str, str], list[Decimal]] = {}
    for reading in sources:
        for dimension, parts in sorted(reading.disaggregation.items()):
            for category, raw in parts.items():
                by_category.setdefault((dimension, str(category)), []).append(
                    Decimal(str(raw))
                )
    actuals.extend(
        Actual(value=_pick(found, category_rule), dimensions=(key,))
        for key, found in by_category.items()
    )
    return actuals


def _combine_percentages(ordered: Sequence[Reading], rule: str) -> list[Actual]:
    # Sums and averages of ratios pool numerators and denominators: 30/100 and
    # 10/50 make 40/150, never the mean of 30 % and 20 %.
    if rule in (Aggregation.SUM, Aggregation.AVERAGE) and all(
        r.numerator is not None and r.denominator for r in ordered
    ):
        numerator = sum((r.numerator for r in ordered), Decimal(0))
        denominator = sum((r.denominator for r in ordered), Decimal(0))
        return [
            Actual(
                value=numerator / denominator * _HUNDRED,
                comment=f"{_number(numerator)} of {_number(denominator)}",
            )
        ]
    with_value = [r for r in ordered if r.percent() is not None]
    if not with_value:
        return []
    chosen = (
        max(with_value, key=lambda r: r.percent())
        if rule == Aggregation.MAX
        else with_value[-1]
    )
    comment = ""
    if chosen.numerator is not None and chosen.denominator:
        comment = f"{_number(chosen.numerator)} of {_number(chosen.denominator)}"
    return [Actual(value=chosen.percent(), comment=comment)]


def _period_dates(year: int, label: str) -> tuple[datetime.date, datetime.date]:
    """A period's dates from its year and label (Q1..Q4, H1, H2; else the year)."""
    if match := _QUARTER.match(label.strip()):
        quarter = int(match.group(1))
        first = datetime.date(year, 3 * quarter - 2, 1)
        last_month = 3 * quarter
    elif match := _HALF.match(label.strip()):
        half = int(match.group(1))
        first = datetime.date(year, 6 * half - 5, 1)
        last_month = 6 * half
    else:
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    following = datetime.date(year + (last_month == 12), last_month % 12 + 1, 1)
    return first, following - datetime.timedelta(days=1)


def _value_text(indicator: Indicator, value: Decimal) -> str:
    if indicator.unit == IndicatorUnit.PERCENTAGE:
        value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return _number(value)


def _write_actual(parent: etree._Element, indicator: Indicator, actual: Actual) -> None:
    attributes = {}
    if actual.value is not None:
        attributes["value"] = _value_text(indicator, actual.value)
    element = _sub(parent, "actual", **attributes)
    for name, category in actual.dimensions:
        _sub(element, "dimension", name=name, value=category)
    if actual.comment:
        _text(element, "comment", actual.comment)


def _write_indicator(
    parent: etree._Element,
    indicator: Indicator,
    periods: dict[tuple[int, str], list[Reading]],
) -> None:
    element = _sub(
        parent,
        "indicator",
        measure=MEASURE.get(indicator.unit, "1"),
        ascending="1" if indicator.direction == IndicatorDirection.ASCENDING else "0",
    )
    _text(element, "title", f"{indicator.code} {indicator.name}")
    if indicator.data_source:
        _text(element, "description", f"Data source: {indicator.data_source}")
    if indicator.baseline_year:
        baseline = {"year": str(indicator.baseline_year)}
        if indicator.baseline_value is not None:
            baseline["value"] = _value_text(indicator, indicator.baseline_value)
        _sub(element, "baseline", **baseline)
    keys = set(periods)
    target_key = (indicator.target_year, "")
    has_target = indicator.target_value is not None and indicator.target_year
    if has_target:
        keys.add(target_key)
    for key in sorted(keys):
        first, last = _period_dates(*key)
        period = _sub(element, "period")
        _sub(period, "period-start", iso_date=first.isoformat())
        _sub(period, "period-end", iso_date=last.isoformat())
        if has_target and key == target_key:
            _sub(
                period,
                "target",
                value=_value_text(indicator, indicator.target_value),
            )
        for actual in combine_readings(indicator, periods.get(key, ())):
            _write_actual(period, indicator, actual)


def _write_result(
    parent: etree._Element,
    kind: str,
    title: str,
    indicators: Sequence[Indicator],
    periods_of: dict[int, dict[tuple[int, str], list[Reading]]],
) -> None:
    if not indicators:
        return
    result = _sub(parent, "result", type=kind)
    _text(result, "title", title)
    for indicator in indicators:
        _write_indicator(result, indicator, periods_of.get(indicator.pk, {}))


def _activity_readings(
    contributions: Sequence[Contribution],
) -> dict[int, dict[tuple[int, str], list[Reading]]]:
    readings: dict[int, dict[tuple[int, str], list[Reading]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for contribution in contributions:
        revision = contribution.validated_revision
        reviewed = revision.reviewed_at or revision.updated_at
        for result in revision.results.all():
            readings[result.indicator_id][(contribution.year, "")].append(
                Reading(
                    value=result.value,
                    numerator=result.numerator,
                    denominator=result.denominator,
                    disaggregation=result.disaggregation or {},
                    order=(reviewed, revision.pk),
                )
            )
    return readings


def _measurement_readings(
    measurements: Sequence[IndicatorMeasurement],
) -> dict[tuple[int, str], list[Reading]]:
    periods: dict[tuple[int, str], list[IndicatorMeasurement]] = defaultdict(list)
    for measurement in measurements:
        periods[(measurement.year, measurement.period_label)].append(measurement)
    readings: dict[tuple[int, str], list[Reading]] = {}
    for key, found in periods.items():
        team_wide = [m for m in found if m.agency_id is None]
        readings[key] = [
            Reading(
                value=m.value,
                numerator=m.numerator,
                denominator=m.denominator,
                disaggregation=m.disaggregation or {},
                text=m.text_value,
                order=(m.validated_at or m.updated_at, m.pk),
            )
            for m in (team_wide or found)
        ]
    return readings


# --- Activities ---------------------------------------------------------------------


def _activity_root(
    parent: etree._Element, *, updated_at: datetime.datetime, hierarchy: int
) -> etree._Element:
    return _sub(
        parent,
        "iati-activity",
        last_updated_datetime=_timestamp(updated_at),
        default_currency=CURRENCY,
        hierarchy=str(hierarchy),
        **{XML_LANG: LANGUAGE},
    )


def _write_programme(
    root: etree._Element, data: TeamIatiData, programme: JointProgramme
) -> None:
    team = data.team
    children = data.children.get(programme.pk, [])
    element = _activity_root(root, updated_at=programme.updated_at, hierarchy=1)
    _sub(element, "iati-identifier").text = programme_identifier(team, programme)
    _reporting_org(element, team)
    _text(element, "title", programme.title)
    participants = list(programme.participants.all())
    names = (
        ", ".join(p.agency.code for p in participants)
        or programme.convening_agency.code
    )
    summary = (
        f"Joint programme of {names}, convened by {programme.convening_agency.code}"
    )
    if programme.fund:
        summary += f", funded through the {programme.fund}"
    _text(element, "description", f"{summary}.", type="1")
    orgs = _Participants()
    if programme.fund:
        orgs.named(ROLE_FUNDING, programme.fund)
    orgs.agency(ROLE_ACCOUNTABLE, programme.convening_agency)
    for participant in participants:
        orgs.agency(ROLE_EXTENDING, participant.agency)
        orgs.agency(ROLE_IMPLEMENTING, participant.agency)
    orgs.write(element)
    _sub(element, "activity-status", code=PROGRAMME_STATUS.get(programme.status, "2"))
    _activity_dates(element, programme.start_date, programme.end_date)
    _recipient_country(element, team)
    regions = {r.pk: r for child in children for r in child.locations.all()}
    _locations(element, regions.values())
    areas = {a.pk: a for child in children for a in child.common_chapter_areas.all()}
    _sectors(element, areas.values())
    _tags(element, list(programme.sdg_targets.all()))
    _gender_marker(element, programme.gender_marker)
    total = sum((p.budget_share for p in participants), Decimal(0))
    if total > 0:
        for first, last, amount in _spread_over_years(
            total, programme.start_date, programme.end_date
        ):
            _budget(element, first, last, amount)
    for child in children:
        _related(element, activity_identifier(team, child), RELATED_CHILD)
    for outcome in programme.outcomes.all():
        indicators = list(outcome.indicators.all())
        _write_result(
            element,
            RESULT_OUTCOME,
            f"{outcome.code} {outcome.statement}",
            indicators,
            {
                i.pk: _measurement_readings(data.measurements.get(i.pk, []))
                for i in indicators
            },
        )


def _transaction_date(contribution: Contribution) -> datetime.date:
    revision = contribution.validated_revision
    moment = revision.reviewed_at or revision.updated_at
    day = timezone.localdate(moment)
    first = datetime.date(contribution.year, 1, 1)
    last = datetime.date(contribution.year, 12, 31)
    return min(max(day, first), last)


def _transaction(
    parent: etree._Element,
    kind: str,
    contribution: Contribution,
    amount: Decimal,
    what: str,
) -> None:
    if amount <= 0:
        return
    day = _transaction_date(contribution).isoformat()
    agency = contribution.agency
    element = _sub(parent, "transaction")
    _sub(element, "transaction-type", code=kind)
    _sub(element, "transaction-date", iso_date=day)
    _sub(element, "value", currency=CURRENCY, value_date=day).text = _money(amount)
    _text(
        element,
        "description",
        f"{agency.code} {contribution.year}: {what} "
        f"(validated revision {contribution.validated_revision.number})",
    )
    attributes = {"type": MULTILATERAL}
    if agency.iati_identifier:
        attributes["ref"] = agency.iati_identifier
    _narrative(_sub(element, "provider-org", **attributes), agency.name)


def _write_activity(
    root: etree._Element, data: TeamIatiData, activity: JointActivity
) -> None:
    team = data.team
    programme = data.programmes_by_id.get(activity.joint_programme_id or 0)
    contributions: list[Contribution] = activity.validated_contributions
    revisions = [c.validated_revision for c in contributions]
    element = _activity_root(
        root, updated_at=activity.updated_at, hierarchy=2 if programme else 1
    )
    _sub(element, "iati-identifier").text = activity_identifier(team, activity)
    _reporting_org(element, team)
    _text(element, "title", activity.title)
    _text(
        element, "description", activity.description.strip() or activity.title, type="1"
    )
    orgs = _Participants()
    if programme and programme.fund:
        orgs.named(ROLE_FUNDING, programme.fund)
    for revision in revisions:
        orgs.named(ROLE_FUNDING, revision.funding_source)
    orgs.agency(ROLE_ACCOUNTABLE, activity.agency)
    for contribution in contributions:
        orgs.agency(ROLE_EXTENDING, contribution.agency)
    for agency in activity.agencies.all():
        orgs.agency(ROLE_IMPLEMENTING, agency)
    for revision in revisions:
        orgs.named(ROLE_IMPLEMENTING, revision.implementing_partners)
    orgs.write(element)
    if activity.external_ref:
        _sub(element, "other-identifier", ref=activity.external_ref, type="A1")
    _sub(
        element,
        "activity-status",
        code=ACTIVITY_STATUS.get(activity.implementation_status, "2"),
    )
    _activity_dates(element, activity.start_date, activity.end_date)
    _recipient_country(element, team)
    _locations(element, activity.locations.all())
    _sectors(element, activity.common_chapter_areas.all())
    _tags(element, list(activity.sdg_targets.all()))
    _gender_marker(element, activity.gender_marker)
    required_by_year: dict[int, Decimal] = defaultdict(Decimal)
    for contribution in contributions:
        required_by_year[contribution.year] += contribution.validated_revision.required
    for year in sorted(required_by_year):
        if required_by_year[year] > 0:
            first, last = _year_within(year, activity.start_date, activity.end_date)
            _budget(element, first, last, required_by_year[year])
    for contribution in contributions:
        revision = contribution.validated_revision
        _transaction(
            element,
            TRANSACTION_COMMITMENT,
            contribution,
            revision.available,
            "available",
        )
        _transaction(
            element, TRANSACTION_EXPENDITURE, contribution, revision.spent, "spent"
        )
    if programme:
        _related(element, programme_identifier(team, programme), RELATED_PARENT)
    readings = _activity_readings(contributions)
    for output in activity.outputs.all():
        _write_result(
            element,
            RESULT_OUTPUT,
            f"{output.code} {output.statement}",
            list(output.indicators.all()),
            readings,
        )


# --- The file -----------------------------------------------------------------------


def build_iati_document(
    data: TeamIatiData, *, generated_at: datetime.datetime | None = None
) -> etree._Element:
    """Build the <iati-activities> tree: programmes first, then activities."""
    if not data.programmes and not data.activities:
        raise NothingToExportError(
            f"{data.team.name} has no joint programme and no validated joint work "
            "to publish yet."
        )
    root = etree.Element(
        "iati-activities",
        {
            "version": IATI_VERSION,
            "generated-datetime": _timestamp(generated_at or timezone.now()),
        },
    )
    for programme in data.programmes:
        _write_programme(root, data, programme)
    for activity in data.activities:
        _write_activity(root, data, activity)
    return root


def export_team_iati(
    *, team: CountryTeam, generated_at: datetime.datetime | None = None
) -> bytes:
    """Return the team's IATI 2.03 activity file, checked against the schema.

    Raises NothingToExportError when there is nothing to publish, and
    InvalidIatiFileError rather than hand out a file that does not validate.
    """
    document = build_iati_document(
        load_team_iati_data(team=team), generated_at=generated_at
    )
    xml = etree.tostring(
        document, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    errors = validate_iati(xml)
    if errors:
        raise InvalidIatiFileError(errors)
    return xml
