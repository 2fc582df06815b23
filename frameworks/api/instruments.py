"""API for the coordination instruments: read everything, move a recommendation's
follow-up status.

Team-owned instruments are scoped by CountryTeamScopedViewSet; platforms are seen
by every signed-in user, but only with the programmes, activities and teams of the
caller's own teams inside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from coordination.models import CountryTeam
from frameworks.models import (
    CLOSED_FOLLOW_UP,
    Accelerator,
    CollectiveOutcome,
    CommonService,
    CostAvoidance,
    FollowUpStatus,
    JointActivity,
    JointProgramme,
    MapsMission,
    MutualRecognition,
    OperationsStrategy,
    Outcome,
    Platform,
    PlatformKind,
    PriorityAction,
    Recommendation,
    ZeroHungerReview,
)
from frameworks.services import update_recommendation_status
from unportal.api import CodeFilter, CountryTeamScopedViewSet

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.request import Request
    from rest_framework.response import Response


def _codes(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, **kwargs
    )


def _code(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)


def _ids(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(many=True, read_only=True, **kwargs)


class LinesField(serializers.ListField):
    """A text field kept one item per line, given as a list."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(), read_only=True, **kwargs)

    def to_representation(self, value: str) -> list[str]:
        return [line.strip() for line in value.splitlines() if line.strip()]


# --- serializers --------------------------------------------------------------------


class AcceleratorOutput(serializers.ModelSerializer):
    outcomes = _ids(help_text=_("Ids of the framework outcomes that take it forward."))
    activities = _ids(help_text=_("Ids of the joint activities that take it forward."))

    class Meta:
        ref_name = "Accelerator"
        model = Accelerator
        fields = ["id", "code", "name", "description", "outcomes", "activities"]
        read_only_fields = fields


class RecommendationOutput(serializers.ModelSerializer):
    country_team = _code(source="mission.country_team")
    mission = serializers.CharField(source="mission.code", read_only=True)
    accelerator = _code(allow_null=True)
    owner_agency = _code()
    follow_up_status = serializers.ChoiceField(
        source="status", choices=FollowUpStatus.choices, read_only=True
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        ref_name = "Recommendation"
        model = Recommendation
        fields = [
            "id",
            "country_team",
            "mission",
            "code",
            "text",
            "accelerator",
            "owner_agency",
            "due_date",
            "follow_up_status",
            "is_overdue",
            "follow_up_note",
            "updated_at",
        ]
        read_only_fields = fields


class RecommendationFollowUpInput(serializers.Serializer):
    follow_up_status = serializers.ChoiceField(choices=FollowUpStatus.choices)
    follow_up_note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True
    )

    class Meta:
        ref_name = "RecommendationFollowUp"


class MapsMissionOutput(serializers.ModelSerializer):
    country_team = _code()
    participating_agencies = _codes()
    national_counterparts = LinesField()
    accelerators = AcceleratorOutput(many=True, read_only=True)
    recommendations = RecommendationOutput(many=True, read_only=True)

    class Meta:
        ref_name = "MapsMission"
        model = MapsMission
        fields = [
            "id",
            "country_team",
            "code",
            "title",
            "start_date",
            "end_date",
            "participating_agencies",
            "national_counterparts",
            "roadmap",
            "accelerators",
            "recommendations",
        ]
        read_only_fields = fields


class PriorityActionOutput(serializers.ModelSerializer):
    agencies = _codes()

    class Meta:
        ref_name = "PriorityAction"
        model = PriorityAction
        fields = ["position", "text", "agencies"]
        read_only_fields = fields


class ZeroHungerReviewOutput(serializers.ModelSerializer):
    country_team = _code()
    co_funding_agencies = _codes()
    priority_actions = PriorityActionOutput(many=True, read_only=True)

    class Meta:
        ref_name = "ZeroHungerReview"
        model = ZeroHungerReview
        fields = [
            "id",
            "country_team",
            "code",
            "title",
            "lead_convener",
            "start_date",
            "end_date",
            "co_funding_agencies",
            "priority_actions",
            "follow_up_mechanism",
        ]
        read_only_fields = fields


class PlatformOutput(serializers.ModelSerializer):
    member_agencies = _codes()
    countries = _codes(help_text=_("Your country teams that take part."))
    joint_programmes = _ids(help_text=_("Ids of its joint programmes in your teams."))
    activities = _ids(help_text=_("Ids of its joint activities in your teams."))

    class Meta:
        ref_name = "Platform"
        model = Platform
        fields = [
            "code",
            "name",
            "kind",
            "description",
            "launched_year",
            "country_count",
            "member_count",
            "initial_funding",
            "funding_currency",
            "member_agencies",
            "countries",
            "joint_programmes",
            "activities",
        ]
        read_only_fields = fields


class LinkedIndicatorOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)

    class Meta:
        ref_name = "LinkedIndicator"


class LinkedOutcomeOutput(serializers.ModelSerializer):
    indicators = LinkedIndicatorOutput(many=True, read_only=True)

    class Meta:
        ref_name = "LinkedOutcome"
        model = Outcome
        fields = ["id", "code", "statement", "indicators"]
        read_only_fields = fields


class CollectiveOutcomeOutput(serializers.ModelSerializer):
    country_team = _code()
    outcomes = LinkedOutcomeOutput(
        many=True,
        read_only=True,
        help_text=_("Framework outcomes whose indicators measure it."),
    )
    hrp_objectives = LinesField()

    class Meta:
        ref_name = "CollectiveOutcome"
        model = CollectiveOutcome
        fields = [
            "id",
            "country_team",
            "code",
            "title",
            "statement",
            "start_year",
            "end_year",
            "outcomes",
            "hrp_objectives",
        ]
        read_only_fields = fields


class CostAvoidanceOutput(serializers.ModelSerializer):
    class Meta:
        ref_name = "CostAvoidance"
        model = CostAvoidance
        fields = ["year", "estimated", "realised"]
        read_only_fields = fields


class CommonServiceOutput(serializers.ModelSerializer):
    lead_agency = _code()
    agencies = _codes()
    cost_avoidance = CostAvoidanceOutput(many=True, read_only=True)

    class Meta:
        ref_name = "CommonService"
        model = CommonService
        fields = [
            "id",
            "service_line",
            "name",
            "lead_agency",
            "agencies",
            "cost_avoidance",
        ]
        read_only_fields = fields


class MutualRecognitionOutput(serializers.ModelSerializer):
    agency = _code()

    class Meta:
        ref_name = "MutualRecognition"
        model = MutualRecognition
        fields = ["agency", "adopted_on", "scope"]
        read_only_fields = fields


class OperationsStrategyOutput(serializers.ModelSerializer):
    country_team = _code()
    services = CommonServiceOutput(many=True, read_only=True)
    recognitions = MutualRecognitionOutput(many=True, read_only=True)

    class Meta:
        ref_name = "OperationsStrategy"
        model = OperationsStrategy
        fields = [
            "id",
            "country_team",
            "code",
            "title",
            "start_year",
            "end_year",
            "services",
            "recognitions",
        ]
        read_only_fields = fields


# --- filters ------------------------------------------------------------------------


class TeamFilter(filters.FilterSet):
    team = CodeFilter(field_name="country_team__code")


class RecommendationFilter(filters.FilterSet):
    team = CodeFilter(field_name="mission__country_team__code")
    mission = CodeFilter(field_name="mission__code", max_length=30)
    agency = CodeFilter(field_name="owner_agency__code")
    follow_up_status = filters.ChoiceFilter(
        field_name="status", choices=FollowUpStatus.choices
    )
    overdue = filters.BooleanFilter(
        method="filter_overdue", help_text="Open and past their due date."
    )

    class Meta:
        model = Recommendation
        fields = ["team", "mission", "agency", "follow_up_status", "overdue"]

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool) -> Any:
        late = Q(due_date__lt=timezone.localdate()) & ~Q(status__in=CLOSED_FOLLOW_UP)
        return queryset.filter(late if value else ~late)


class PlatformFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=PlatformKind.choices)
    team = CodeFilter(field_name="countries__code", distinct=True)

    class Meta:
        model = Platform
        fields = ["kind", "team"]


# --- viewsets -----------------------------------------------------------------------


class ReadOnlyInstrumentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CountryTeamScopedViewSet
):
    pass


def _recommendations() -> QuerySet[Recommendation]:
    return Recommendation.objects.select_related(
        "mission__country_team", "owner_agency", "accelerator"
    )


class MapsMissionViewSet(ReadOnlyInstrumentViewSet):
    """MAPS missions of your teams, with accelerators and recommendations."""

    queryset = MapsMission.objects.all()
    serializer_class = MapsMissionOutput
    filterset_class = TeamFilter
    search_fields = ["code", "title"]
    ordering_fields = ["start_date", "code", "id"]
    ordering = ["-start_date", "id"]

    def scope_queryset(self, queryset: QuerySet[MapsMission]) -> QuerySet[MapsMission]:
        return queryset.select_related("country_team").prefetch_related(
            "participating_agencies",
            Prefetch(
                "accelerators",
                queryset=Accelerator.objects.prefetch_related(
                    Prefetch("outcomes", queryset=Outcome.objects.only("id")),
                    Prefetch("activities", queryset=JointActivity.objects.only("id")),
                ),
            ),
            Prefetch("recommendations", queryset=_recommendations()),
        )


@extend_schema(tags=["recommendations"])
class RecommendationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    CountryTeamScopedViewSet,
):
    """Recommendations of your teams' MAPS missions. PATCH moves the follow-up on:
    the RC office, or focal points of the owner agency."""

    queryset = Recommendation.objects.all()
    serializer_class = RecommendationOutput
    object_rules: ClassVar[dict[str, str]] = {
        "partial_update": "frameworks.follow_up_recommendation"
    }
    http_method_names: ClassVar[list[str]] = ["get", "patch", "head", "options"]
    filterset_class = RecommendationFilter
    search_fields = ["code", "text"]
    ordering_fields = ["due_date", "code", "id"]
    ordering = ["due_date", "id"]

    def scope_queryset(
        self, queryset: QuerySet[Recommendation]
    ) -> QuerySet[Recommendation]:
        return queryset.select_related(
            "mission__country_team", "owner_agency", "accelerator"
        )

    @extend_schema(
        request=RecommendationFollowUpInput, responses={200: RecommendationOutput}
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Set the follow-up status (and, optionally, the note)."""
        recommendation = self.get_object()
        data = RecommendationFollowUpInput(data=request.data)
        data.is_valid(raise_exception=True)
        update_recommendation_status(
            recommendation=recommendation,
            status=data.validated_data["follow_up_status"],
            note=data.validated_data.get("follow_up_note"),
            actor=request.user,
        )
        return self.respond(recommendation)


class ZeroHungerReviewViewSet(ReadOnlyInstrumentViewSet):
    """Zero Hunger Strategic Reviews of your teams."""

    queryset = ZeroHungerReview.objects.all()
    serializer_class = ZeroHungerReviewOutput
    filterset_class = TeamFilter
    search_fields = ["code", "title"]
    ordering_fields = ["start_date", "code", "id"]
    ordering = ["-start_date", "id"]

    def scope_queryset(
        self, queryset: QuerySet[ZeroHungerReview]
    ) -> QuerySet[ZeroHungerReview]:
        return queryset.select_related("country_team").prefetch_related(
            "co_funding_agencies",
            Prefetch(
                "priority_actions",
                queryset=PriorityAction.objects.prefetch_related("agencies"),
            ),
        )


class PlatformViewSet(ReadOnlyInstrumentViewSet):
    """Multi-stakeholder platforms and global initiatives, by code."""

    queryset = Platform.objects.all()
    serializer_class = PlatformOutput
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9-]{1,20}"
    filterset_class = PlatformFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]
    ordering = ["name"]

    def scope_queryset(self, queryset: QuerySet[Platform]) -> QuerySet[Platform]:
        teams = CountryTeam.objects.visible_to(self.request.user)
        return queryset.prefetch_related(
            "member_agencies",
            Prefetch("countries", queryset=teams.order_by("code")),
            Prefetch(
                "joint_programmes",
                queryset=JointProgramme.objects.filter(country_team__in=teams).only(
                    "id"
                ),
            ),
            Prefetch(
                "activities",
                queryset=JointActivity.objects.filter(country_team__in=teams).only(
                    "id"
                ),
            ),
        )


class CollectiveOutcomeViewSet(ReadOnlyInstrumentViewSet):
    """New Way of Working collective outcomes of your teams."""

    queryset = CollectiveOutcome.objects.all()
    serializer_class = CollectiveOutcomeOutput
    filterset_class = TeamFilter
    search_fields = ["code", "title"]
    ordering_fields = ["code", "id"]
    ordering = ["country_team_id", "code"]

    def scope_queryset(
        self, queryset: QuerySet[CollectiveOutcome]
    ) -> QuerySet[CollectiveOutcome]:
        return queryset.select_related("country_team").prefetch_related(
            Prefetch(
                "outcomes",
                queryset=Outcome.objects.prefetch_related("indicators").order_by(
                    "code"
                ),
            )
        )


class OperationsStrategyViewSet(ReadOnlyInstrumentViewSet):
    """Business Operations Strategies of your teams: common services with cost
    avoidance per year, and mutual-recognition adoptions."""

    queryset = OperationsStrategy.objects.all()
    serializer_class = OperationsStrategyOutput
    filterset_class = TeamFilter
    search_fields = ["code", "title"]
    ordering_fields = ["start_year", "code", "id"]
    ordering = ["-start_year", "id"]

    def scope_queryset(
        self, queryset: QuerySet[OperationsStrategy]
    ) -> QuerySet[OperationsStrategy]:
        return queryset.select_related("country_team").prefetch_related(
            Prefetch(
                "services",
                queryset=CommonService.objects.select_related(
                    "lead_agency"
                ).prefetch_related(
                    "agencies",
                    Prefetch(
                        "cost_avoidance",
                        queryset=CostAvoidance.objects.order_by("year"),
                    ),
                ),
            ),
            Prefetch(
                "recognitions",
                queryset=MutualRecognition.objects.select_related("agency"),
            ),
        )
