"""What the API says about frameworks and joint work, and what it accepts.

Output serializers read only what the viewsets' querysets have loaded. Input
serializers check shapes and resolve references among the records the caller may
see, then hand plain data (ActivityData, FiguresData, MeasurementData) to the
services, which own every rule and every write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coordination.models import AdminRegion, Agency, CountryTeam
from frameworks.models import (
    CommonChapterArea,
    Contribution,
    ContributionRevision,
    CooperationFramework,
    Dimension,
    GenderMarker,
    HumanRightsMarker,
    ImplementationStatus,
    Indicator,
    IndicatorMeasurement,
    JointActivity,
    JointProgramme,
    Outcome,
    Output,
    ResultValue,
    SdgGoal,
    SdgTarget,
    TargetGroup,
    WorkflowStatus,
)
from frameworks.services import ActivityData, FiguresData, MeasurementData, ResultData
from unportal.api import MAX_ID, IssueOutput

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from coordination.models import User

MONEY = {"max_digits": 16, "decimal_places": 2}
MEASURE = {"max_digits": 20, "decimal_places": 4}


def _codes(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, **kwargs
    )


def _code(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)


class DisaggregationOutput(serializers.DictField):
    """{dimension: {category: value}}, values as decimal strings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=serializers.DictField(child=serializers.CharField()), **kwargs
        )


# --- reference data ---------------------------------------------------------------


class SdgGoalOutput(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    short_title = serializers.CharField(read_only=True)
    titles = serializers.DictField(child=serializers.CharField(), read_only=True)
    targets = _codes(help_text=_("Codes of the goal's targets."))

    class Meta:
        ref_name = "SdgGoal"
        model = SdgGoal
        fields = ["number", "title", "short_title", "titles", "targets"]
        read_only_fields = fields


class SdgTargetOutput(serializers.ModelSerializer):
    goal = serializers.IntegerField(source="goal_id", read_only=True)
    title = serializers.CharField(read_only=True)
    titles = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        ref_name = "SdgTarget"
        model = SdgTarget
        fields = ["code", "goal", "title", "titles"]
        read_only_fields = fields


class CommonChapterAreaOutput(serializers.ModelSerializer):
    class Meta:
        ref_name = "CommonChapterArea"
        model = CommonChapterArea
        fields = ["code", "position", "name", "description"]
        read_only_fields = fields


# --- the Cooperation Framework ----------------------------------------------------


class FrameworkOutput(serializers.ModelSerializer):
    country_team = _code()
    outcome_count = serializers.IntegerField(read_only=True)
    output_count = serializers.IntegerField(read_only=True)

    class Meta:
        ref_name = "Framework"
        model = CooperationFramework
        fields = [
            "id",
            "country_team",
            "title",
            "start_year",
            "end_year",
            "status",
            "signed_off_at",
            "outcome_count",
            "output_count",
        ]
        read_only_fields = fields


class OutcomeOutput(serializers.ModelSerializer):
    country_team = _code(source="framework.country_team")
    strategic_priority = _code(allow_null=True)
    sdg_targets = _codes()
    lead_agencies = _codes()

    class Meta:
        ref_name = "Outcome"
        model = Outcome
        fields = [
            "id",
            "country_team",
            "framework",
            "strategic_priority",
            "code",
            "statement",
            "is_collective_outcome",
            "sdg_targets",
            "lead_agencies",
        ]
        read_only_fields = fields


class OutputOutput(serializers.ModelSerializer):
    country_team = _code(source="framework.country_team")
    outcome_code = serializers.CharField(source="outcome.code", read_only=True)
    contributing_agencies = _codes()

    class Meta:
        ref_name = "Output"
        model = Output
        fields = [
            "id",
            "country_team",
            "framework",
            "outcome",
            "outcome_code",
            "code",
            "statement",
            "contributing_agencies",
        ]
        read_only_fields = fields


class IndicatorOutput(serializers.ModelSerializer):
    country_team = _code(source="framework.country_team")
    level = serializers.ChoiceField(choices=["outcome", "output"], read_only=True)
    sdg_indicator = _code(allow_null=True)
    disaggregations = serializers.ListField(
        child=serializers.ChoiceField(choices=Dimension.choices), read_only=True
    )

    class Meta:
        ref_name = "Indicator"
        model = Indicator
        fields = [
            "id",
            "country_team",
            "framework",
            "level",
            "outcome",
            "output",
            "code",
            "name",
            "unit",
            "direction",
            "baseline_value",
            "baseline_year",
            "target_value",
            "target_year",
            "across_periods",
            "across_agencies",
            "sdg_indicator",
            "disaggregations",
            "data_source",
        ]
        read_only_fields = fields


# --- joint work: what is read -----------------------------------------------------


class JointActivityOutput(serializers.ModelSerializer):
    country_team = _code()
    agency = _code(help_text=_("The lead agency, which owns the record."))
    agencies = _codes()
    outputs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    sdg_targets = _codes()
    common_chapter_areas = _codes()
    locations = _codes()
    target_groups = serializers.ListField(
        child=serializers.ChoiceField(choices=TargetGroup.choices), read_only=True
    )

    class Meta:
        ref_name = "JointActivity"
        model = JointActivity
        fields = [
            "id",
            "country_team",
            "framework",
            "title",
            "description",
            "agency",
            "agencies",
            "outputs",
            "joint_programme",
            "sdg_targets",
            "common_chapter_areas",
            "gender_marker",
            "human_rights_marker",
            "target_groups",
            "locations",
            "start_date",
            "end_date",
            "implementation_status",
            "status",
            "version",
            "revision",
            "external_ref",
            "validated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ResultOutput(serializers.ModelSerializer):
    indicator = _code()
    disaggregation = DisaggregationOutput(read_only=True)

    class Meta:
        ref_name = "ResultValue"
        model = ResultValue
        fields = ["indicator", "value", "numerator", "denominator", "disaggregation"]
        read_only_fields = fields


class FiguresOutput(serializers.ModelSerializer):
    revision = serializers.IntegerField(source="number", read_only=True)
    funding_gap = serializers.DecimalField(
        max_digits=17,
        decimal_places=2,
        read_only=True,
        help_text=_("Required minus available; derived, never entered."),
    )
    results = ResultOutput(many=True, read_only=True)

    class Meta:
        ref_name = "Figures"
        model = ContributionRevision
        fields = [
            "revision",
            "status",
            "required",
            "available",
            "spent",
            "funding_gap",
            "funding_source",
            "implementing_partners",
            "reach",
            "results",
            "submitted_at",
            "reviewed_at",
            "return_comment",
        ]
        read_only_fields = fields


class ContributionOutput(serializers.ModelSerializer):
    country_team = _code()
    agency = _code()
    activity_title = serializers.CharField(source="activity.title", read_only=True)
    status = serializers.ChoiceField(
        choices=WorkflowStatus.choices,
        read_only=True,
        help_text=_("Workflow status of the current figures."),
    )
    current = FiguresOutput(
        source="current_revision",
        read_only=True,
        help_text=_("The figures being edited or reviewed."),
    )
    validated = FiguresOutput(
        source="validated_revision",
        read_only=True,
        allow_null=True,
        help_text=_("The figures last validated, which dashboards show; or null."),
    )

    class Meta:
        ref_name = "Contribution"
        model = Contribution
        fields = [
            "id",
            "country_team",
            "activity",
            "activity_title",
            "agency",
            "year",
            "external_ref",
            "status",
            "version",
            "current",
            "validated",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MeasurementOutput(serializers.ModelSerializer):
    country_team = _code()
    indicator_code = serializers.CharField(source="indicator.code", read_only=True)
    agency = _code(allow_null=True)
    disaggregation = DisaggregationOutput(read_only=True)

    class Meta:
        ref_name = "Measurement"
        model = IndicatorMeasurement
        fields = [
            "id",
            "country_team",
            "indicator",
            "indicator_code",
            "agency",
            "year",
            "period_label",
            "value",
            "numerator",
            "denominator",
            "text_value",
            "disaggregation",
            "source",
            "status",
            "return_comment",
            "supersedes",
            "validated_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class JointActivitySubmitted(JointActivityOutput):
    warnings = IssueOutput(many=True, read_only=True)

    class Meta(JointActivityOutput.Meta):
        ref_name = "JointActivitySubmitted"
        fields = [*JointActivityOutput.Meta.fields, "warnings"]


class ContributionSubmitted(ContributionOutput):
    warnings = IssueOutput(many=True, read_only=True)

    class Meta(ContributionOutput.Meta):
        ref_name = "ContributionSubmitted"
        fields = [*ContributionOutput.Meta.fields, "warnings"]


class MeasurementSubmitted(MeasurementOutput):
    warnings = IssueOutput(many=True, read_only=True)

    class Meta(MeasurementOutput.Meta):
        ref_name = "MeasurementSubmitted"
        fields = [*MeasurementOutput.Meta.fields, "warnings"]


# --- joint work: what is accepted -------------------------------------------------


def _user(field: serializers.Field) -> User:
    return field.context["request"].user


class VisiblePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id among the records the caller may see; others do not exist."""

    def __init__(
        self, *, visible: Callable[[Any], QuerySet[Any]], **kwargs: Any
    ) -> None:
        self.visible = visible
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.visible(_user(self))

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, int) and not isinstance(data, bool) and data > MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class CodeField(serializers.SlugRelatedField):
    """A record named by its code, among those the caller may see if `visible`."""

    def __init__(
        self, *, visible: Callable[[Any], QuerySet[Any]] | None = None, **kwargs: Any
    ) -> None:
        self.visible = visible
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        if self.visible is None:
            return super().get_queryset()
        return self.visible(_user(self))

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not 0 < len(data) <= 20 or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


def _visible_teams(user: Any) -> QuerySet[CountryTeam]:
    return CountryTeam.objects.visible_to(user)


def _visible_outputs(user: Any) -> QuerySet[Output]:
    return Output.objects.filter(framework__country_team__in=_visible_teams(user))


def _visible_programmes(user: Any) -> QuerySet[JointProgramme]:
    return JointProgramme.objects.visible_to(user)


def _visible_activities(user: Any) -> QuerySet[JointActivity]:
    return JointActivity.objects.visible_to(user)


def _visible_indicators(user: Any) -> QuerySet[Indicator]:
    return Indicator.objects.filter(framework__country_team__in=_visible_teams(user))


class DisaggregationInput(serializers.DictField):
    """{dimension: {category: non-negative number}}."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", dict)
        super().__init__(
            child=serializers.DictField(
                child=serializers.DecimalField(**MEASURE, min_value=Decimal("0")),
                allow_empty=False,
            ),
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> dict[str, dict[str, Decimal]]:
        value = super().to_internal_value(data)
        unknown = sorted(set(value) - set(Dimension.values))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown dimensions: %(names)s. Use %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(Dimension.values)}
            )
        return value


def _measure(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        **MEASURE, required=False, allow_null=True, default=None, **kwargs
    )


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, min_value=Decimal("0"))


class JointActivityInput(serializers.Serializer):
    """An activity's content; the lead agency is fixed once created."""

    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    agency = CodeField(
        queryset=Agency.objects.all(), help_text=_("The lead agency, by code.")
    )
    agencies = CodeField(
        queryset=Agency.objects.all(),
        many=True,
        help_text=_("Codes of all agencies involved, the lead agency among them."),
    )
    outputs = VisiblePrimaryKeyField(
        visible=_visible_outputs, queryset=Output.objects.all(), many=True
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    joint_programme = VisiblePrimaryKeyField(
        visible=_visible_programmes,
        queryset=JointProgramme.objects.all(),
        allow_null=True,
        required=False,
        default=None,
    )
    sdg_targets = CodeField(
        queryset=SdgTarget.objects.all(), many=True, required=False, default=list
    )
    common_chapter_areas = CodeField(
        queryset=CommonChapterArea.objects.all(),
        many=True,
        required=False,
        default=list,
    )
    gender_marker = serializers.ChoiceField(
        choices=GenderMarker.choices, allow_null=True, required=False, default=None
    )
    human_rights_marker = serializers.ChoiceField(
        choices=HumanRightsMarker.choices,
        allow_null=True,
        required=False,
        default=None,
    )
    target_groups = serializers.ListField(
        child=serializers.ChoiceField(choices=TargetGroup.choices),
        required=False,
        default=list,
    )
    locations = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        default=list,
        help_text=_("Codes of admin-1 regions of the team's country."),
    )
    implementation_status = serializers.ChoiceField(
        choices=ImplementationStatus.choices,
        required=False,
        default=ImplementationStatus.PLANNED,
    )
    external_ref = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )

    def team_of(self, attrs: dict[str, Any]) -> CountryTeam:
        return self.instance.country_team

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        codes = attrs.get("locations")
        if codes:
            team = self.team_of(attrs)
            regions = {
                r.code: r
                for r in AdminRegion.objects.filter(country_team=team, code__in=codes)
            }
            unknown = sorted(set(codes) - set(regions))
            if unknown:
                raise serializers.ValidationError(
                    {
                        "locations": _("Not regions of %(team)s: %(codes)s.")
                        % {"team": team.code, "codes": ", ".join(unknown)}
                    }
                )
            attrs["locations"] = [regions[code] for code in dict.fromkeys(codes)]
        return attrs

    def to_data(self) -> ActivityData:
        """The activity as the service takes it; a PATCH keeps unsent fields."""
        values = {}
        if self.partial and self.instance is not None:
            activity = self.instance
            values = {f.name: getattr(activity, f.name) for f in fields(ActivityData)}
            for name in (
                "agencies",
                "outputs",
                "sdg_targets",
                "common_chapter_areas",
                "locations",
            ):
                values[name] = list(getattr(activity, name).all())
        values.update(
            (name, value)
            for name, value in self.validated_data.items()
            if name in {f.name for f in fields(ActivityData)}
        )
        return ActivityData(**values)


class JointActivityCreateInput(JointActivityInput):
    country_team = CodeField(
        visible=_visible_teams,
        queryset=CountryTeam.objects.all(),
        help_text=_(
            "Alpha-3 code of your team; the activity goes on its active framework."
        ),
    )

    def team_of(self, attrs: dict[str, Any]) -> CountryTeam:
        return attrs["country_team"]


class ResultInput(serializers.Serializer):
    indicator = serializers.CharField(
        max_length=30, help_text=_("Code of an indicator of the activity's outputs.")
    )
    value = _measure()
    numerator = _measure()
    denominator = _measure(min_value=Decimal("0.0001"))
    disaggregation = DisaggregationInput()


class FiguresInput(serializers.Serializer):
    """One agency's money and results for the year."""

    required = _money()
    available = _money()
    spent = _money()
    funding_source = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    implementing_partners = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    reach = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, allow_null=True, default=None
    )
    results = ResultInput(many=True, required=False, default=list)

    def activity_of(self, attrs: dict[str, Any]) -> JointActivity:
        return self.instance.activity

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        results = attrs.get("results")
        if results:
            codes = [r["indicator"] for r in results]
            indicators = {
                i.code: i
                for i in Indicator.objects.filter(
                    framework_id=self.activity_of(attrs).framework_id, code__in=codes
                )
            }
            unknown = sorted(set(codes) - set(indicators))
            if unknown:
                raise serializers.ValidationError(
                    {
                        "results": _("No such indicator in the framework: %(codes)s.")
                        % {"codes": ", ".join(unknown)}
                    }
                )
            attrs["results"] = [
                ResultData(**{**r, "indicator": indicators[r["indicator"]]})
                for r in results
            ]
        return attrs

    def to_data(self) -> FiguresData:
        """The figures as the service takes them; a PATCH keeps unsent fields."""
        values: dict[str, Any] = {}
        if self.partial and self.instance is not None:
            revision = self.instance.current_revision
            values = {
                f.name: getattr(revision, f.name)
                for f in fields(FiguresData)
                if f.name != "results"
            }
            values["results"] = [
                ResultData(
                    indicator=r.indicator,
                    value=r.value,
                    numerator=r.numerator,
                    denominator=r.denominator,
                    disaggregation=r.disaggregation,
                )
                for r in revision.results.all()
            ]
        values.update(
            (name, value)
            for name, value in self.validated_data.items()
            if name in {f.name for f in fields(FiguresData)}
        )
        return FiguresData(**values)


class ContributionCreateInput(FiguresInput):
    activity = VisiblePrimaryKeyField(
        visible=_visible_activities, queryset=JointActivity.objects.all()
    )
    agency = CodeField(
        queryset=Agency.objects.all(), help_text=_("Your agency, by code.")
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    external_ref = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )

    def activity_of(self, attrs: dict[str, Any]) -> JointActivity:
        return attrs["activity"]


class MeasurementInput(serializers.Serializer):
    """A value of an indicator for a year (and optionally a period in it)."""

    year = serializers.IntegerField(min_value=1990, max_value=2100)
    period_label = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )
    value = _measure()
    numerator = _measure()
    denominator = _measure(min_value=Decimal("0.0001"))
    text_value = serializers.CharField(required=False, allow_blank=True, default="")
    disaggregation = DisaggregationInput()
    source = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )

    def to_data(self) -> MeasurementData:
        """The measurement as the service takes it; a PATCH keeps unsent fields."""
        names = {f.name for f in fields(MeasurementData)}
        values: dict[str, Any] = {}
        if self.partial and self.instance is not None:
            values = {name: getattr(self.instance, name) for name in names}
        values.update(
            (name, value)
            for name, value in self.validated_data.items()
            if name in names
        )
        return MeasurementData(**values)


class MeasurementCreateInput(MeasurementInput):
    indicator = VisiblePrimaryKeyField(
        visible=_visible_indicators, queryset=Indicator.objects.all()
    )
    agency = CodeField(
        queryset=Agency.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        help_text=_("Your agency; leave empty for a team-wide value (RC office)."),
    )


class ReturnInput(serializers.Serializer):
    comment = serializers.CharField(
        max_length=5000, help_text=_("What needs to change.")
    )
