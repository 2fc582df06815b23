"""Demo joint work: activities, yearly contributions in every workflow state, and
indicator measurements, created through the workflow services.

Money is given per agency per year in joint_work/<TEAM>.yml; available and spent
follow fixed curves, so the demo shows funding gaps that widen over time. Result
values and measurements are derived from the file's reach figures and from each
indicator's baseline and target, so the same command gives the same data.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from coordination.models import AdminRegion, Agency
from coordination.services import add_admin_regions
from frameworks.models import (
    Contribution,
    Indicator,
    IndicatorUnit,
    JointActivity,
    JointProgramme,
    WorkflowStatus,
)
from frameworks.services import (
    ActivityData,
    FiguresData,
    MeasurementData,
    ResultData,
    create_activity,
    create_contribution,
    record_measurement,
    return_contribution,
    submit_activity,
    submit_contribution,
    submit_measurement,
    update_contribution,
    validate_activity,
    validate_contribution,
    validate_measurement,
)

if TYPE_CHECKING:
    from frameworks.demo.seed import Spec, TeamContext

JOINT_WORK_DIR = Path(__file__).resolve().parent / "joint_work"

# Share of the required money that was available, and of the available that was
# spent, by position of the year in the activity: funding thins out over time and
# the last year is still being spent.
AVAILABLE_SHARE = (Decimal("0.92"), Decimal("0.81"), Decimal("0.74"), Decimal("0.66"))
SPENT_SHARE = (Decimal("0.96"), Decimal("0.93"), Decimal("0.88"), Decimal("0.55"))
CATEGORIES = {
    "sex": {"female": 52, "male": 48},
    "age": {"0-17": 45, "18-59": 47, "60+": 8},
    "disability": {"with disability": 9, "without disability": 91},
    "wealth": {"Q1": 34, "Q2": 26, "Q3": 19, "Q4": 13, "Q5": 8},
}
DEFAULT_RETURN_COMMENT = "Please check the figures against the agency's own system."


def read_joint_work(team_code: str) -> dict[str, Any]:
    """Return the demo joint work of a team, or nothing if it has none."""
    path = JOINT_WORK_DIR / f"{team_code}.yml"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream) or {}


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1000"), rounding=ROUND_HALF_UP)


def split(total: Decimal, weights: Sequence[int]) -> list[Decimal]:
    """Split a whole number into parts proportional to weights, summing exactly."""
    whole = int(total)
    parts = [whole * w // sum(weights) for w in weights]
    parts[0] += whole - sum(parts)
    return [Decimal(p) for p in parts]


def breakdown(
    indicator: Indicator,
    total: Decimal,
    regions: Sequence[AdminRegion],
    only: Sequence[str] | None = None,
) -> dict[str, dict[str, Decimal]]:
    """A disaggregation by every dimension the indicator defines (or those of
    them in `only`), adding up to total."""
    result: dict[str, dict[str, Decimal]] = {}
    if total != total.to_integral():
        return result
    for dimension in indicator.disaggregations:
        if only is not None and dimension not in only:
            continue
        if dimension == "location":
            names = [r.name for r in regions] or ["National"]
            weights = list(range(len(names) + 1, 1, -1))
        else:
            names = list(CATEGORIES[dimension])
            weights = list(CATEGORIES[dimension].values())
        result[dimension] = dict(zip(names, split(total, weights), strict=True))
    return result


def _pace(indicator: Indicator) -> Decimal:
    """How far along an indicator is by the last year: some lag, some lead."""
    return (Decimal("0.35"), Decimal("0.6"), Decimal("0.8"))[
        zlib.crc32(indicator.code.encode()) % 3
    ]


def seed_regions(*, ctx: TeamContext, spec: Spec) -> None:
    """Give the team its admin-1 regions, used as activity locations."""
    regions = read_joint_work(ctx.team.code).get("regions", {})
    add_admin_regions(country_team=ctx.team, regions=sorted(regions.items()))


def seed_joint_work(*, ctx: TeamContext, spec: Spec) -> None:
    """Log the team's joint activities and walk their contributions through the
    workflow: earlier years validated, the last year in the state the file says."""
    entries = read_joint_work(ctx.team.code).get("activities", ())
    if not entries:
        return
    regions = {r.code: r for r in ctx.team.regions.all()}
    programmes = {
        p.title: p for p in JointProgramme.objects.filter(country_team=ctx.team)
    }
    framework = ctx.frameworks[ctx.current_framework]
    outputs = {o.code: o for o in framework.outputs.all()}
    for entry in entries:
        activity = _seed_activity(
            ctx=ctx,
            entry=entry,
            outputs=outputs,
            regions=regions,
            programmes=programmes,
        )
        for agency_code, required in entry["budget"].items():
            _seed_contributions(
                activity=activity,
                agency=ctx.agency(agency_code),
                base=Decimal(str(required)),
                entry=entry,
            )


def _seed_activity(
    *,
    ctx: TeamContext,
    entry: Spec,
    outputs: dict[str, Any],
    regions: dict[str, AdminRegion],
    programmes: dict[str, JointProgramme],
) -> JointActivity:
    programme = entry.get("programme")
    data = ActivityData(
        title=entry["title"],
        description=entry.get("description", "").strip(),
        agency=ctx.agency(entry["lead"]),
        agencies=ctx.agencies(entry["agencies"]),
        outputs=[outputs[code] for code in entry["outputs"]],
        start_date=entry["start_date"],
        end_date=entry["end_date"],
        joint_programme=programmes[programme] if programme else None,
        sdg_targets=ctx.ref.sdg_targets(entry.get("sdg_targets", ())),
        common_chapter_areas=[ctx.ref.area(code) for code in entry.get("areas", ())],
        gender_marker=entry.get("gender_marker"),
        human_rights_marker=entry.get("human_rights_marker"),
        target_groups=list(entry.get("target_groups", ())),
        locations=[regions[code] for code in entry.get("locations", ())],
        implementation_status=entry.get("implementation_status", "ongoing"),
        external_ref=entry["ref"],
    )
    activity = create_activity(actor=None, country_team=ctx.team, data=data)
    status = entry.get("status", WorkflowStatus.SUBMITTED)
    if status != WorkflowStatus.DRAFT:
        submit_activity(actor=None, activity=activity)
    if status == WorkflowStatus.VALIDATED:
        validate_activity(actor=None, activity=activity)
    return activity


def _figures(
    *,
    activity: JointActivity,
    agency: Agency,
    base: Decimal,
    position: int,
    reach: int,
    dimensions: Sequence[str] | None = None,
) -> FiguresData:
    step = min(position, len(AVAILABLE_SHARE) - 1)
    required = _money(base * (Decimal("1") + Decimal("0.06") * position))
    available = _money(required * AVAILABLE_SHARE[step])
    spent = _money(available * SPENT_SHARE[step])
    regions = list(activity.locations.all())
    results = []
    for output in activity.outputs.all():
        if not output.contributing_agencies.filter(pk=agency.pk).exists():
            continue
        results.extend(
            _result(indicator, reach=reach, regions=regions, dimensions=dimensions)
            for indicator in output.indicators.all()
        )
    return FiguresData(
        required=required,
        available=available,
        spent=spent,
        funding_source=f"{agency.code} core and thematic funds",
        implementing_partners="National NGOs and line ministries",
        reach=reach or None,
        results=[r for r in results if r is not None],
    )


def _result(
    indicator: Indicator,
    *,
    reach: int,
    regions: Sequence[AdminRegion],
    dimensions: Sequence[str] | None = None,
) -> ResultData | None:
    """A value for the indicator; broken down by the indicator's dimensions, or
    only by those in `dimensions` (an agency that reports fewer breakdowns)."""
    if indicator.unit == IndicatorUnit.PERCENTAGE:
        denominator = Decimal(max(reach, 100))
        numerator = (denominator * Decimal("0.62")).to_integral()
        return ResultData(
            indicator=indicator,
            numerator=numerator,
            denominator=denominator,
            disaggregation=breakdown(indicator, numerator, regions, dimensions),
        )
    if indicator.unit == IndicatorUnit.YES_NO:
        return ResultData(indicator=indicator, value=Decimal("1"))
    if indicator.unit == IndicatorUnit.NUMBER and reach:
        value = Decimal(reach)
        return ResultData(
            indicator=indicator,
            value=value,
            disaggregation=breakdown(indicator, value, regions, dimensions),
        )
    return None


def _seed_contributions(
    *, activity: JointActivity, agency: Agency, base: Decimal, entry: Spec
) -> None:
    years = list(entry["years"])
    reach = int(entry.get("reach", {}).get(agency.code, 0))
    # Breakdowns an agency reports, when fewer than its indicators ask for.
    dimensions = entry.get("breakdowns", {}).get(agency.code)
    latest = entry.get("latest", {}).get(agency.code, WorkflowStatus.VALIDATED)
    revise = entry.get("revise") or {}
    for position, year in enumerate(years):
        contribution = create_contribution(
            actor=None,
            activity=activity,
            agency=agency,
            year=year,
            figures=_figures(
                activity=activity,
                agency=agency,
                base=base,
                position=position,
                reach=reach,
                dimensions=dimensions,
            ),
            external_ref=f"{entry['ref']}-{agency.code}-{year}",
        )
        state = latest if year == years[-1] else WorkflowStatus.VALIDATED
        _walk_workflow(contribution, state, entry)
        if revise.get("agency") == agency.code and revise.get("year") == year:
            _start_revision(contribution, Decimal(str(revise["factor"])))


def _walk_workflow(contribution: Contribution, state: str, entry: Spec) -> None:
    if state == WorkflowStatus.DRAFT:
        return
    submit_contribution(actor=None, contribution=contribution)
    if state == WorkflowStatus.VALIDATED:
        validate_contribution(actor=None, contribution=contribution)
    elif state == WorkflowStatus.RETURNED:
        return_contribution(
            actor=None,
            contribution=contribution,
            comment=entry.get("return_comment", DEFAULT_RETURN_COMMENT).strip(),
        )


def _start_revision(contribution: Contribution, factor: Decimal) -> None:
    """Change a validated contribution, so the demo shows a pending revision while
    the validated figures stay in force."""
    contribution.refresh_from_db()
    current = contribution.current_revision
    figures = FiguresData(
        required=_money(current.required * factor),
        available=_money(current.available * factor),
        spent=current.spent,
        funding_source=current.funding_source,
        implementing_partners=current.implementing_partners,
        reach=current.reach,
        results=[
            ResultData(
                indicator=r.indicator,
                value=r.value,
                numerator=r.numerator,
                denominator=r.denominator,
                disaggregation=r.disaggregation,
            )
            for r in current.results.all()
        ],
    )
    update_contribution(
        actor=None,
        contribution=contribution,
        figures=figures,
        expected_version=contribution.version,
    )


def seed_measurements(*, ctx: TeamContext, spec: Spec) -> None:
    """Record team-wide values of outcome indicators for each year so far, moving
    from the baseline towards the target at each indicator's own pace. The last
    year is left submitted, awaiting the RC office."""
    if not ctx.current_framework:
        return
    framework = ctx.frameworks[ctx.current_framework]
    regions = list(ctx.team.regions.all()[:3])
    last_year = min(framework.end_year, 2026)
    years = list(range(framework.start_year, last_year + 1))
    indicators = Indicator.objects.filter(framework=framework, outcome__isnull=False)
    for indicator in indicators.order_by("code"):
        if indicator.baseline_value is None or indicator.target_value is None:
            continue
        if indicator.unit not in (IndicatorUnit.NUMBER, IndicatorUnit.PERCENTAGE):
            continue
        for position, year in enumerate(years, start=1):
            progress = _pace(indicator) * position / len(years)
            value = (
                indicator.baseline_value
                + (indicator.target_value - indicator.baseline_value) * progress
            )
            measurement = record_measurement(
                actor=None,
                indicator=indicator,
                data=_measurement_data(indicator, year, value, regions),
            )
            submit_measurement(actor=None, measurement=measurement)
            if year != years[-1]:
                validate_measurement(actor=None, measurement=measurement)


def _measurement_data(
    indicator: Indicator, year: int, value: Decimal, regions: Sequence[AdminRegion]
) -> MeasurementData:
    source = indicator.data_source or "RC office monitoring"
    if indicator.unit == IndicatorUnit.PERCENTAGE:
        denominator = Decimal("1000")
        numerator = (value * 10).to_integral()
        return MeasurementData(
            year=year,
            value=numerator / 10,
            numerator=numerator,
            denominator=denominator,
            source=source,
            disaggregation=breakdown(indicator, numerator, regions),
        )
    whole = value.to_integral()
    return MeasurementData(
        year=year,
        value=whole,
        source=source,
        disaggregation=breakdown(indicator, whole, regions),
    )
