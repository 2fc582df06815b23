"""Query filters for the frameworks and joint-work lists.

The same names mean the same thing on every list: `team` is an alpha-3 code,
`agency` and `common_chapter_area` are codes, `framework`, `outcome` and `output`
are ids, `sdg_goal` is a goal number and `year` a calendar year.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from frameworks.models import (
    CommonChapterArea,
    Contribution,
    CooperationFramework,
    FrameworkStatus,
    ImplementationStatus,
    Indicator,
    IndicatorMeasurement,
    IndicatorUnit,
    JointActivity,
    Outcome,
    Output,
    SdgTarget,
    WorkflowStatus,
)
from unportal.api import CodeFilter, IdFilter


def _year() -> IdFilter:
    return IdFilter(min_value=1900, max_value=2200)


def _goal(field_name: str) -> IdFilter:
    return IdFilter(field_name=field_name, max_value=17, distinct=True)


class SdgTargetFilter(filters.FilterSet):
    goal = IdFilter(field_name="goal", max_value=17)

    class Meta:
        model = SdgTarget
        fields = ["goal"]


class CommonChapterAreaFilter(filters.FilterSet):
    class Meta:
        model = CommonChapterArea
        fields: list[str] = []


class FrameworkFilter(filters.FilterSet):
    team = CodeFilter(field_name="country_team__code")
    status = filters.ChoiceFilter(choices=FrameworkStatus.choices)
    year = IdFilter(
        method="filter_year",
        min_value=1900,
        max_value=2200,
        help_text="Frameworks in force at some time in the year.",
    )

    class Meta:
        model = CooperationFramework
        fields = ["team", "status", "year"]

    def filter_year(self, queryset: QuerySet[Any], name: str, value: int) -> Any:
        return queryset.filter(start_year__lte=value, end_year__gte=value)


class OutcomeFilter(filters.FilterSet):
    team = CodeFilter(field_name="framework__country_team__code")
    framework = IdFilter()
    agency = CodeFilter(field_name="lead_agencies__code", distinct=True)
    sdg_goal = _goal("sdg_targets__goal")
    is_collective_outcome = filters.BooleanFilter()

    class Meta:
        model = Outcome
        fields = ["team", "framework", "agency", "sdg_goal", "is_collective_outcome"]


class OutputFilter(filters.FilterSet):
    team = CodeFilter(field_name="framework__country_team__code")
    framework = IdFilter()
    outcome = IdFilter()
    agency = CodeFilter(field_name="contributing_agencies__code", distinct=True)
    sdg_goal = _goal("outcome__sdg_targets__goal")

    class Meta:
        model = Output
        fields = ["team", "framework", "outcome", "agency", "sdg_goal"]


class IndicatorFilter(filters.FilterSet):
    team = CodeFilter(field_name="framework__country_team__code")
    framework = IdFilter()
    outcome = IdFilter(
        method="filter_outcome", help_text="Indicators of the outcome and its outputs."
    )
    output = IdFilter()
    unit = filters.ChoiceFilter(choices=IndicatorUnit.choices)
    sdg_goal = IdFilter(field_name="sdg_indicator__target__goal", max_value=17)

    class Meta:
        model = Indicator
        fields = ["team", "framework", "outcome", "output", "unit", "sdg_goal"]

    def filter_outcome(self, queryset: QuerySet[Any], name: str, value: int) -> Any:
        return queryset.filter(Q(outcome=value) | Q(output__outcome=value))


class JointActivityFilter(filters.FilterSet):
    team = CodeFilter(field_name="country_team__code")
    framework = IdFilter()
    outcome = IdFilter(field_name="outputs__outcome", distinct=True)
    output = IdFilter(field_name="outputs", distinct=True)
    agency = CodeFilter(
        field_name="agencies__code",
        distinct=True,
        help_text="Any agency involved, the lead agency included.",
    )
    status = filters.ChoiceFilter(choices=WorkflowStatus.choices)
    implementation_status = filters.ChoiceFilter(choices=ImplementationStatus.choices)
    year = IdFilter(
        method="filter_year",
        min_value=1900,
        max_value=2200,
        help_text="Activities running at some time in the year.",
    )
    sdg_goal = _goal("sdg_targets__goal")
    common_chapter_area = CodeFilter(
        field_name="common_chapter_areas__code", distinct=True
    )

    class Meta:
        model = JointActivity
        fields = [
            "team",
            "framework",
            "outcome",
            "output",
            "agency",
            "status",
            "implementation_status",
            "year",
            "sdg_goal",
            "common_chapter_area",
        ]

    def filter_year(self, queryset: QuerySet[Any], name: str, value: int) -> Any:
        return queryset.filter(start_date__year__lte=value, end_date__year__gte=value)


class ContributionFilter(filters.FilterSet):
    team = CodeFilter(field_name="country_team__code")
    framework = IdFilter(field_name="activity__framework")
    activity = IdFilter()
    outcome = IdFilter(field_name="activity__outputs__outcome", distinct=True)
    output = IdFilter(field_name="activity__outputs", distinct=True)
    agency = CodeFilter(field_name="agency__code")
    status = filters.ChoiceFilter(
        field_name="current_revision__status", choices=WorkflowStatus.choices
    )
    year = _year()
    sdg_goal = _goal("activity__sdg_targets__goal")
    common_chapter_area = CodeFilter(
        field_name="activity__common_chapter_areas__code", distinct=True
    )
    has_validated = filters.BooleanFilter(
        field_name="validated_revision", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Contribution
        fields = [
            "team",
            "framework",
            "activity",
            "outcome",
            "output",
            "agency",
            "status",
            "year",
            "sdg_goal",
            "common_chapter_area",
            "has_validated",
        ]


class MeasurementFilter(filters.FilterSet):
    team = CodeFilter(field_name="country_team__code")
    framework = IdFilter(field_name="indicator__framework")
    indicator = IdFilter()
    outcome = IdFilter(
        method="filter_outcome",
        help_text="Measurements of the outcome's indicators and its outputs'.",
    )
    output = IdFilter(field_name="indicator__output")
    agency = CodeFilter(field_name="agency__code")
    status = filters.ChoiceFilter(choices=WorkflowStatus.choices)
    year = _year()
    sdg_goal = IdFilter(
        field_name="indicator__sdg_indicator__target__goal", max_value=17
    )

    class Meta:
        model = IndicatorMeasurement
        fields = [
            "team",
            "framework",
            "indicator",
            "outcome",
            "output",
            "agency",
            "status",
            "year",
            "sdg_goal",
        ]

    def filter_outcome(self, queryset: QuerySet[Any], name: str, value: int) -> Any:
        return queryset.filter(
            Q(indicator__outcome=value) | Q(indicator__output__outcome=value)
        )
