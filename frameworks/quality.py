"""Data-quality checks run before a record is submitted.

Each check says exactly what is missing or inconsistent. Errors block submission;
warnings are shown but do not. Checks read only what the caller has loaded or can
load in a handful of queries: they run on one record at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from frameworks.models import (
    MAX_SDG_TARGETS,
    ImplementationStatus,
    Indicator,
    IndicatorUnit,
)

if TYPE_CHECKING:
    from frameworks.models import (
        ContributionRevision,
        IndicatorMeasurement,
        JointActivity,
    )

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    level: str
    field: str
    message: str

    @property
    def is_blocking(self) -> bool:
        return self.level == ERROR


def blocking(issues: Iterable[Issue]) -> list[Issue]:
    """Return only the issues that prevent submission."""
    return [i for i in issues if i.is_blocking]


def check_activity(activity: JointActivity) -> list[Issue]:
    """Check a joint activity's completeness and consistency."""
    issues: list[Issue] = []
    framework = activity.framework
    agency_ids = {a.pk for a in activity.agencies.all()}
    if not activity.outputs.exists():
        issues.append(Issue(ERROR, "outputs", _("Link at least one output.")))
    if len(agency_ids) < 2:
        issues.append(
            Issue(
                ERROR, "agencies", _("A joint activity involves two or more agencies.")
            )
        )
    if activity.agency_id not in agency_ids:
        issues.append(
            Issue(ERROR, "agencies", _("The lead agency must be one of the agencies."))
        )
    target_count = activity.sdg_targets.count()
    if target_count == 0:
        issues.append(Issue(ERROR, "sdg_targets", _("Tag at least one SDG target.")))
    elif target_count > MAX_SDG_TARGETS:
        issues.append(
            Issue(
                ERROR,
                "sdg_targets",
                _("Tag at most %(max)d SDG targets (%(n)d tagged).")
                % {"max": MAX_SDG_TARGETS, "n": target_count},
            )
        )
    if activity.gender_marker is None:
        issues.append(
            Issue(ERROR, "gender_marker", _("Set the gender equality marker (0-3)."))
        )
    if activity.human_rights_marker is None:
        issues.append(
            Issue(WARNING, "human_rights_marker", _("Set the human rights marker."))
        )
    if not activity.target_groups:
        issues.append(
            Issue(
                WARNING,
                "target_groups",
                _("No Leave No One Behind target group is selected."),
            )
        )
    if not activity.locations.exists():
        issues.append(Issue(WARNING, "locations", _("No location is selected.")))
    if activity.start_date.year < framework.start_year:
        issues.append(
            Issue(
                ERROR,
                "start_date",
                _("Starts in %(year)d, before the framework period %(a)d-%(b)d.")
                % {
                    "year": activity.start_date.year,
                    "a": framework.start_year,
                    "b": framework.end_year,
                },
            )
        )
    if activity.end_date.year > framework.end_year:
        issues.append(
            Issue(
                ERROR,
                "end_date",
                _("Ends in %(year)d, after the framework period %(a)d-%(b)d.")
                % {
                    "year": activity.end_date.year,
                    "a": framework.start_year,
                    "b": framework.end_year,
                },
            )
        )
    if (
        activity.implementation_status == ImplementationStatus.COMPLETED
        and activity.end_date > timezone.localdate()
    ):
        issues.append(
            Issue(
                ERROR,
                "implementation_status",
                _("Marked completed, but the end date %(date)s is in the future.")
                % {"date": activity.end_date.isoformat()},
            )
        )
    return issues


def check_revision(revision: ContributionRevision) -> list[Issue]:
    """Check a contribution revision's money and reported results."""
    issues: list[Issue] = []
    contribution = revision.contribution
    activity = contribution.activity
    framework = activity.framework
    if revision.spent > revision.available:
        issues.append(
            Issue(
                ERROR,
                "spent",
                _("Spent (%(spent)s) is more than available (%(available)s).")
                % {"spent": revision.spent, "available": revision.available},
            )
        )
    if revision.available > revision.required:
        issues.append(
            Issue(
                WARNING,
                "available",
                _("Available (%(available)s) is more than required (%(required)s).")
                % {"available": revision.available, "required": revision.required},
            )
        )
    if contribution.year not in framework.years:
        issues.append(
            Issue(
                ERROR,
                "year",
                _("%(year)d is outside the framework period %(a)d-%(b)d.")
                % {
                    "year": contribution.year,
                    "a": framework.start_year,
                    "b": framework.end_year,
                },
            )
        )
    elif not activity.start_date.year <= contribution.year <= activity.end_date.year:
        issues.append(
            Issue(
                WARNING,
                "year",
                _("%(year)d is outside the activity's dates.")
                % {"year": contribution.year},
            )
        )
    if not revision.funding_source:
        issues.append(
            Issue(WARNING, "funding_source", _("Name the funding source (partner)."))
        )
    results = list(revision.results.all())
    if revision.required == 0 and not results:
        issues.append(
            Issue(WARNING, "required", _("No money and no results are reported."))
        )
    for result in results:
        issues.extend(
            check_value(
                result.indicator,
                value=result.value,
                numerator=result.numerator,
                denominator=result.denominator,
                disaggregation=result.disaggregation,
                field=f"results.{result.indicator.code}",
            )
        )
    return issues


def check_measurement(measurement: IndicatorMeasurement) -> list[Issue]:
    """Check an indicator measurement."""
    issues = check_value(
        measurement.indicator,
        value=measurement.value,
        numerator=measurement.numerator,
        denominator=measurement.denominator,
        disaggregation=measurement.disaggregation,
        field="value",
        text_value=measurement.text_value,
    )
    if not measurement.source:
        issues.append(Issue(WARNING, "source", _("Name the data source.")))
    return issues


def check_value(
    indicator: Indicator,
    *,
    value: Decimal | None,
    numerator: Decimal | None,
    denominator: Decimal | None,
    disaggregation: dict,
    field: str,
    text_value: str = "",
) -> list[Issue]:
    """Check one reported value against its indicator's definition."""
    issues: list[Issue] = []
    code = indicator.code
    if indicator.unit == IndicatorUnit.PERCENTAGE:
        if numerator is None or denominator is None:
            issues.append(
                Issue(
                    ERROR,
                    field,
                    _("%(code)s is a percentage: give numerator and denominator.")
                    % {"code": code},
                )
            )
        elif numerator > denominator:
            issues.append(
                Issue(
                    WARNING,
                    field,
                    _("%(code)s: the numerator is larger than the denominator.")
                    % {"code": code},
                )
            )
    elif indicator.unit == IndicatorUnit.QUALITATIVE:
        if not text_value and value is None:
            issues.append(
                Issue(ERROR, field, _("%(code)s: no value.") % {"code": code})
            )
    elif value is None:
        issues.append(Issue(ERROR, field, _("%(code)s: no value.") % {"code": code}))
    elif indicator.unit == IndicatorUnit.YES_NO and value not in (0, 1):
        issues.append(
            Issue(
                ERROR, field, _("%(code)s: answer 1 (yes) or 0 (no).") % {"code": code}
            )
        )
    defined = set(indicator.disaggregations or [])
    given = set((disaggregation or {}).keys())
    issues.extend(
        Issue(
            ERROR,
            field,
            _("%(code)s is not disaggregated by %(dimension)s.")
            % {"code": code, "dimension": dimension},
        )
        for dimension in sorted(given - defined)
    )
    issues.extend(
        Issue(
            WARNING,
            field,
            _("%(code)s: no breakdown by %(dimension)s.")
            % {"code": code, "dimension": dimension},
        )
        for dimension in sorted(defined - given)
    )
    total = numerator if indicator.unit == IndicatorUnit.PERCENTAGE else value
    if total is not None and indicator.unit in (
        IndicatorUnit.NUMBER,
        IndicatorUnit.PERCENTAGE,
    ):
        for dimension in sorted(given & defined):
            parts = disaggregation[dimension]
            part_sum = sum((Decimal(str(v)) for v in parts.values()), Decimal("0"))
            if part_sum != total:
                issues.append(
                    Issue(
                        ERROR,
                        field,
                        _(
                            "%(code)s: the %(dimension)s breakdown adds up to "
                            "%(sum)s, not %(total)s."
                        )
                        % {
                            "code": code,
                            "dimension": dimension,
                            "sum": format(part_sum.normalize(), "f"),
                            "total": format(Decimal(total).normalize(), "f"),
                        },
                    )
                )
    return issues
