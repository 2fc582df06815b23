"""API for the agencies' strategic plans and the links of joint work to them.

Plans and their outputs are reference data that every signed-in user reads.
Links are team records: lists are scoped by CountryTeamScopedViewSet; an agency's
focal points link its contributions to outputs of its own plan covering the
year, the RC office links framework outputs. Writes call the same services as
the web pages, which check the rule and every output before writing anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from coordination.models import CountryTeam
from frameworks.api.serializers import VisiblePrimaryKeyField
from frameworks.models import (
    CommonChapterArea,
    Contribution,
    ContributionPlanLink,
    FrameworkOutputPlanLink,
    Output,
    SdgTarget,
    StrategicPlan,
    StrategicPlanOutcome,
    StrategicPlanOutput,
)
from frameworks.services.strategic_plans import (
    LINK_CONTRIBUTION,
    LINK_OUTPUT,
    link_contribution_to_plan_output,
    link_framework_output_to_plan_output,
    unlink_contribution_from_plan_output,
    unlink_framework_output_from_plan_output,
)
from unportal.api import (
    VALIDATION_ERROR,
    CodeFilter,
    CountryTeamScopedViewSet,
    IdFilter,
    ReferenceDataViewSet,
)

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.routers import SimpleRouter


def _codes(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, **kwargs
    )


def _mappings() -> list[Prefetch]:
    return [
        Prefetch("sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")),
        Prefetch(
            "common_chapter_areas",
            queryset=CommonChapterArea.objects.order_by("position"),
        ),
    ]


def _year() -> IdFilter:
    return IdFilter(
        method="filter_year",
        min_value=1900,
        max_value=2200,
        help_text="Plans whose period includes the year.",
    )


# --- serializers --------------------------------------------------------------------


class PlanOutcomeSerializer(serializers.ModelSerializer):
    sdg_targets = _codes()
    common_chapter_areas = _codes()

    class Meta:
        ref_name = "StrategicPlanOutcome"
        model = StrategicPlanOutcome
        fields = ["id", "code", "title", "sdg_targets", "common_chapter_areas"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    outcomes = PlanOutcomeSerializer(many=True, read_only=True)

    class Meta:
        ref_name = "StrategicPlan"
        model = StrategicPlan
        fields = [
            "id",
            "agency",
            "title",
            "start_year",
            "end_year",
            "source_document",
            "source_url",
            "outcomes",
        ]
        read_only_fields = fields


class PlanOutputSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(
        source="plan.agency", slug_field="code", read_only=True
    )
    outcome = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text=_("Empty when the output serves every outcome of its plan."),
    )
    sdg_targets = _codes()
    common_chapter_areas = _codes()

    class Meta:
        ref_name = "StrategicPlanOutput"
        model = StrategicPlanOutput
        fields = [
            "id",
            "plan",
            "agency",
            "outcome",
            "code",
            "title",
            "sdg_targets",
            "common_chapter_areas",
        ]
        read_only_fields = fields


class ContributionPlanLinkSerializer(serializers.ModelSerializer):
    country_team = serializers.SlugRelatedField(
        source="contribution.country_team", slug_field="code", read_only=True
    )
    agency = serializers.SlugRelatedField(
        source="contribution.agency", slug_field="code", read_only=True
    )
    year = serializers.IntegerField(source="contribution.year", read_only=True)
    plan = serializers.IntegerField(source="plan_output.plan_id", read_only=True)
    plan_output_code = serializers.CharField(source="plan_output.code", read_only=True)
    linked_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        ref_name = "ContributionPlanLink"
        model = ContributionPlanLink
        fields = [
            "id",
            "country_team",
            "contribution",
            "agency",
            "year",
            "plan",
            "plan_output",
            "plan_output_code",
            "linked_by",
            "linked_at",
        ]
        read_only_fields = fields


class FrameworkOutputPlanLinkSerializer(serializers.ModelSerializer):
    country_team = serializers.SlugRelatedField(
        source="output.framework.country_team", slug_field="code", read_only=True
    )
    output_code = serializers.CharField(source="output.code", read_only=True)
    agency = serializers.SlugRelatedField(
        source="plan_output.plan.agency", slug_field="code", read_only=True
    )
    plan = serializers.IntegerField(source="plan_output.plan_id", read_only=True)
    plan_output_code = serializers.CharField(source="plan_output.code", read_only=True)
    linked_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        ref_name = "FrameworkOutputPlanLink"
        model = FrameworkOutputPlanLink
        fields = [
            "id",
            "country_team",
            "output",
            "output_code",
            "agency",
            "plan",
            "plan_output",
            "plan_output_code",
            "linked_by",
            "linked_at",
        ]
        read_only_fields = fields


def _visible_contributions(user: Any) -> QuerySet[Contribution]:
    return Contribution.objects.visible_to(user)


def _visible_outputs(user: Any) -> QuerySet[Output]:
    return Output.objects.filter(
        framework__country_team__in=CountryTeam.objects.visible_to(user)
    )


class ContributionPlanLinkInput(serializers.Serializer):
    contribution = VisiblePrimaryKeyField(
        visible=_visible_contributions, queryset=Contribution.objects.all()
    )
    plan_output = serializers.PrimaryKeyRelatedField(
        queryset=StrategicPlanOutput.objects.all(),
        help_text=_(
            "An output of your agency's plan covering the contribution's year."
        ),
    )


class FrameworkOutputPlanLinkInput(serializers.Serializer):
    output = VisiblePrimaryKeyField(
        visible=_visible_outputs,
        queryset=Output.objects.all(),
        help_text=_("An output of your team's Cooperation Framework."),
    )
    plan_output = serializers.PrimaryKeyRelatedField(
        queryset=StrategicPlanOutput.objects.all(),
        help_text=_(
            "An output of the plan of an agency in the team, whose period overlaps "
            "the framework's."
        ),
    )


# --- filters -------------------------------------------------------------------------


class StrategicPlanFilter(filters.FilterSet):
    agency = CodeFilter(field_name="agency__code")
    year = _year()

    class Meta:
        model = StrategicPlan
        fields = ["agency", "year"]

    def filter_year(self, queryset: QuerySet[Any], name: str, value: int) -> Any:
        return queryset.covering(value)


class StrategicPlanOutputFilter(filters.FilterSet):
    plan = IdFilter()
    agency = CodeFilter(field_name="plan__agency__code")
    year = _year()
    sdg_target = CodeFilter(field_name="sdg_targets__code", distinct=True)
    common_chapter_area = CodeFilter(
        field_name="common_chapter_areas__code", distinct=True
    )

    class Meta:
        model = StrategicPlanOutput
        fields = ["plan", "agency", "year", "sdg_target", "common_chapter_area"]

    def filter_year(self, queryset: QuerySet[Any], name: str, value: int) -> Any:
        return queryset.filter(plan__start_year__lte=value, plan__end_year__gte=value)


class ContributionPlanLinkFilter(filters.FilterSet):
    team = CodeFilter(field_name="contribution__country_team__code")
    contribution = IdFilter()
    plan = IdFilter(field_name="plan_output__plan")
    plan_output = IdFilter()
    agency = CodeFilter(field_name="contribution__agency__code")

    class Meta:
        model = ContributionPlanLink
        fields = ["team", "contribution", "plan", "plan_output", "agency"]


class FrameworkOutputPlanLinkFilter(filters.FilterSet):
    team = CodeFilter(field_name="output__framework__country_team__code")
    output = IdFilter()
    plan = IdFilter(field_name="plan_output__plan")
    plan_output = IdFilter()
    agency = CodeFilter(field_name="plan_output__plan__agency__code")

    class Meta:
        model = FrameworkOutputPlanLink
        fields = ["team", "output", "plan", "plan_output", "agency"]


# --- views ---------------------------------------------------------------------------


class StrategicPlanViewSet(ReferenceDataViewSet):
    """The agencies' strategic plans with their outcomes (public reference data)."""

    queryset = StrategicPlan.objects.select_related("agency").prefetch_related(
        Prefetch(
            "outcomes",
            queryset=StrategicPlanOutcome.objects.order_by(
                "order", "code"
            ).prefetch_related(*_mappings()),
        )
    )
    serializer_class = PlanSerializer
    filterset_class = StrategicPlanFilter
    search_fields = ["title", "agency__code", "source_document"]
    ordering_fields = ["start_year", "id"]
    ordering = ["agency__code", "start_year"]


class StrategicPlanOutputViewSet(ReferenceDataViewSet):
    """Outputs of the agencies' strategic plans, with their SDG targets and
    common-chapter areas."""

    queryset = StrategicPlanOutput.objects.select_related(
        "plan__agency", "outcome"
    ).prefetch_related(*_mappings())
    serializer_class = PlanOutputSerializer
    filterset_class = StrategicPlanOutputFilter
    search_fields = ["code", "title"]
    ordering_fields = ["order", "code", "id"]
    ordering = ["plan__agency__code", "plan__start_year", "order", "id"]


class _LinkViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    CountryTeamScopedViewSet,
):
    input_class: ClassVar[type[serializers.Serializer]]
    ordering_fields: ClassVar[list[str]] = ["linked_at", "id"]
    ordering: ClassVar[list[str]] = ["-linked_at", "-id"]

    def _input(self, request: Request) -> dict[str, Any]:
        data = self.input_class(
            data=request.data, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        return data.validated_data


class ContributionPlanLinkViewSet(_LinkViewSet):
    """Which outputs of their agency's strategic plan contributions deliver."""

    queryset = ContributionPlanLink.objects.all()
    serializer_class = ContributionPlanLinkSerializer
    input_class = ContributionPlanLinkInput
    team_path = "contribution__country_team"
    object_rules: ClassVar[dict[str, str]] = {"destroy": LINK_CONTRIBUTION}
    filterset_class = ContributionPlanLinkFilter

    def scope_queryset(
        self, queryset: QuerySet[ContributionPlanLink]
    ) -> QuerySet[ContributionPlanLink]:
        return queryset.select_related(
            "contribution__country_team",
            "contribution__agency",
            "plan_output",
            "linked_by",
        )

    @extend_schema(
        request=ContributionPlanLinkInput,
        responses={201: ContributionPlanLinkSerializer, 400: VALIDATION_ERROR},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Link a contribution of your agency to an output of your agency's plan
        that covers the contribution's year."""
        data = self._input(request)
        link = link_contribution_to_plan_output(
            actor=request.user,
            contribution=data["contribution"],
            plan_output=data["plan_output"],
        )
        return self.respond(link, status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Unlink (focal points of the contributing agency)."""
        link = self.get_object()
        unlink_contribution_from_plan_output(
            actor=request.user,
            contribution=link.contribution,
            plan_output=link.plan_output,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class FrameworkOutputPlanLinkViewSet(_LinkViewSet):
    """Which agency plan outputs the outputs of your teams' frameworks advance."""

    queryset = FrameworkOutputPlanLink.objects.all()
    serializer_class = FrameworkOutputPlanLinkSerializer
    input_class = FrameworkOutputPlanLinkInput
    team_path = "output__framework__country_team"
    object_rules: ClassVar[dict[str, str]] = {"destroy": LINK_OUTPUT}
    filterset_class = FrameworkOutputPlanLinkFilter

    def scope_queryset(
        self, queryset: QuerySet[FrameworkOutputPlanLink]
    ) -> QuerySet[FrameworkOutputPlanLink]:
        return queryset.select_related(
            "output__framework__country_team", "plan_output__plan__agency", "linked_by"
        )

    @extend_schema(
        request=FrameworkOutputPlanLinkInput,
        responses={201: FrameworkOutputPlanLinkSerializer, 400: VALIDATION_ERROR},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Align a framework output with an agency's plan output (RC office)."""
        data = self._input(request)
        link = link_framework_output_to_plan_output(
            actor=request.user, output=data["output"], plan_output=data["plan_output"]
        )
        return self.respond(link, status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Remove the alignment (RC office)."""
        link = self.get_object()
        unlink_framework_output_from_plan_output(
            actor=request.user, output=link.output, plan_output=link.plan_output
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router: SimpleRouter) -> None:
    """Add these endpoints to the frameworks API router."""
    router.register("strategic-plans", StrategicPlanViewSet, basename="strategic-plan")
    router.register(
        "strategic-plan-outputs",
        StrategicPlanOutputViewSet,
        basename="strategic-plan-output",
    )
    router.register(
        "contribution-plan-links",
        ContributionPlanLinkViewSet,
        basename="contribution-plan-link",
    )
    router.register(
        "framework-output-plan-links",
        FrameworkOutputPlanLinkViewSet,
        basename="framework-output-plan-link",
    )
