"""API views for SDGs, Cooperation Frameworks and joint work.

Reads are scoped by CountryTeamScopedViewSet. Writes validate the input, ask the
registered rule for the record (HasObjectRule, through get_object), and call the
same services as the web pages; the services check the rules again under a row
lock and raise what unportal.api.exception_handler turns into 400/403/412.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from frameworks.api import filters
from frameworks.api.serializers import (
    CommonChapterAreaOutput,
    ContributionCreateInput,
    ContributionOutput,
    ContributionSubmitted,
    FiguresInput,
    FrameworkOutput,
    IndicatorOutput,
    JointActivityCreateInput,
    JointActivityInput,
    JointActivityOutput,
    JointActivitySubmitted,
    MeasurementCreateInput,
    MeasurementInput,
    MeasurementOutput,
    MeasurementSubmitted,
    OutcomeOutput,
    OutputOutput,
    ReturnInput,
    SdgGoalOutput,
    SdgTargetOutput,
)
from frameworks.models import (
    CommonChapterArea,
    Contribution,
    CooperationFramework,
    Indicator,
    IndicatorMeasurement,
    JointActivity,
    Outcome,
    Output,
    ResultValue,
    SdgGoal,
    SdgTarget,
)
from frameworks.services import (
    create_activity,
    create_contribution,
    delete_activity,
    delete_contribution,
    delete_measurement,
    record_measurement,
    return_activity,
    return_contribution,
    return_measurement,
    submit_activity,
    submit_contribution,
    submit_measurement,
    update_activity,
    update_contribution,
    update_measurement,
    validate_activity,
    validate_contribution,
    validate_measurement,
)
from unportal.api import (
    QUALITY_ERROR,
    VALIDATION_ERROR,
    CountryTeamScopedViewSet,
    ReferenceDataViewSet,
    check_if_match,
    expected_version,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.request import Request

# --- reference data ---------------------------------------------------------------


class SdgGoalViewSet(ReferenceDataViewSet):
    """The 17 Sustainable Development Goals, by number."""

    queryset = SdgGoal.objects.prefetch_related(
        Prefetch("targets", queryset=SdgTarget.objects.order_by("sort_key"))
    )
    serializer_class = SdgGoalOutput
    lookup_value_regex = "[0-9]{1,2}"
    filterset_class = None
    search_fields = ["titles", "short_titles"]
    ordering_fields = ["number"]
    ordering = ["number"]


class SdgTargetViewSet(ReferenceDataViewSet):
    """The 169 SDG targets, by code (e.g. 5.2 or 1.a)."""

    queryset = SdgTarget.objects.all()
    serializer_class = SdgTargetOutput
    lookup_field = "code"
    lookup_value_regex = r"[0-9]{1,2}\.[0-9a-z]{1,2}"
    filterset_class = filters.SdgTargetFilter
    search_fields = ["code", "titles"]
    ordering_fields = ["sort_key", "code"]
    ordering = ["sort_key"]


class CommonChapterAreaViewSet(ReferenceDataViewSet):
    """The six common-chapter areas and business operations, by code."""

    queryset = CommonChapterArea.objects.all()
    serializer_class = CommonChapterAreaOutput
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9]{1,10}"
    filterset_class = filters.CommonChapterAreaFilter
    search_fields = ["code", "name"]
    ordering_fields = ["position", "code"]
    ordering = ["position"]


# --- the Cooperation Framework ----------------------------------------------------


class ReadOnlyScopedViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CountryTeamScopedViewSet
):
    pass


class FrameworkViewSet(ReadOnlyScopedViewSet):
    """Cooperation Frameworks of your teams."""

    queryset = CooperationFramework.objects.all()
    serializer_class = FrameworkOutput
    filterset_class = filters.FrameworkFilter
    search_fields = ["title"]
    ordering_fields = ["start_year", "end_year", "title", "id"]
    ordering = ["country_team__name", "-start_year", "id"]

    def scope_queryset(
        self, queryset: QuerySet[CooperationFramework]
    ) -> QuerySet[CooperationFramework]:
        return queryset.select_related("country_team").annotate(
            outcome_count=Count("outcomes", distinct=True),
            output_count=Count("outputs", distinct=True),
        )


class OutcomeViewSet(ReadOnlyScopedViewSet):
    """Outcomes of your teams' frameworks."""

    queryset = Outcome.objects.all()
    serializer_class = OutcomeOutput
    filterset_class = filters.OutcomeFilter
    search_fields = ["code", "statement"]
    ordering_fields = ["code", "id"]
    ordering = ["framework_id", "code"]

    def scope_queryset(self, queryset: QuerySet[Outcome]) -> QuerySet[Outcome]:
        return queryset.select_related(
            "framework__country_team", "strategic_priority"
        ).prefetch_related(
            Prefetch("sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")),
            "lead_agencies",
        )


class OutputViewSet(ReadOnlyScopedViewSet):
    """Outputs of your teams' frameworks."""

    queryset = Output.objects.all()
    serializer_class = OutputOutput
    team_path = "framework__country_team"
    filterset_class = filters.OutputFilter
    search_fields = ["code", "statement"]
    ordering_fields = ["code", "id"]
    ordering = ["framework_id", "code"]

    def scope_queryset(self, queryset: QuerySet[Output]) -> QuerySet[Output]:
        return queryset.select_related(
            "framework__country_team", "outcome"
        ).prefetch_related("contributing_agencies")


class IndicatorViewSet(ReadOnlyScopedViewSet):
    """Outcome and output indicators of your teams' frameworks."""

    queryset = Indicator.objects.all()
    serializer_class = IndicatorOutput
    team_path = "framework__country_team"
    filterset_class = filters.IndicatorFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "id"]
    ordering = ["framework_id", "code"]

    def scope_queryset(self, queryset: QuerySet[Indicator]) -> QuerySet[Indicator]:
        return queryset.select_related("framework__country_team", "sdg_indicator")


# --- joint work -------------------------------------------------------------------


@dataclass(frozen=True)
class Workflow:
    """The services that move one kind of record through its workflow.

    Each takes the actor and the record by the keyword `record` names.
    """

    record: str
    submit: Callable[..., Any]
    validate: Callable[..., Any]
    return_: Callable[..., Any]
    delete: Callable[..., Any]


def _rules(model: str) -> dict[str, str]:
    return {
        "update": f"frameworks.change_{model}",
        "partial_update": f"frameworks.change_{model}",
        "destroy": f"frameworks.delete_{model}",
        "submit": f"frameworks.submit_{model}",
        "validate": f"frameworks.review_{model}",
        "return_": f"frameworks.review_{model}",
    }


class JointWorkViewSet(mixins.ListModelMixin, CountryTeamScopedViewSet):
    """Reads, deletes and workflow actions shared by activities, contributions and
    measurements; each subclass writes its own create and update."""

    versioned = True
    workflow: ClassVar[Workflow]

    def _run(self, service: Callable[..., Any], record: Any, **kwargs: Any) -> Any:
        return service(
            actor=self.request.user, **{self.workflow.record: record}, **kwargs
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond(self.get_object(), reload=False)

    @extend_schema(request=None)
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()
        check_if_match(request, record)
        self._run(self.workflow.delete, record)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: None, 400: QUALITY_ERROR})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Submit for validation by the RC office; warnings do not block it."""
        record = self.get_object()
        check_if_match(request, record)
        issues = self._run(self.workflow.submit, record)
        return self.respond(
            record, extra={"warnings": [asdict(issue) for issue in issues]}
        )

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def validate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Accept the submitted record (RC office)."""
        record = self.get_object()
        check_if_match(request, record)
        self._run(self.workflow.validate, record)
        return self.respond(record)

    @extend_schema(request=ReturnInput, responses={200: None, 400: VALIDATION_ERROR})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send the submitted record back to its agency with a comment (RC office)."""
        record = self.get_object()
        check_if_match(request, record)
        comment = ReturnInput(data=request.data)
        comment.is_valid(raise_exception=True)
        self._run(
            self.workflow.return_, record, comment=comment.validated_data["comment"]
        )
        return self.respond(record)

    def input(self, serializer_class: type, **kwargs: Any) -> Any:
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return serializer


def _responses(output: type, submitted: type) -> dict[str, Any]:
    """Name the record's serializer wherever JointWorkViewSet left it open."""
    return {
        "submit": extend_schema(responses={200: submitted, 400: QUALITY_ERROR}),
        "validate": extend_schema(responses={200: output}),
        "return_": extend_schema(responses={200: output, 400: VALIDATION_ERROR}),
    }


@extend_schema_view(
    **_responses(JointActivityOutput, JointActivitySubmitted),
    # Refused while the activity has validated contributions.
    destroy=extend_schema(responses={204: None, 400: VALIDATION_ERROR}),
)
class JointActivityViewSet(JointWorkViewSet):
    """Joint activities of your teams; the lead agency's focal points own them."""

    queryset = JointActivity.objects.all()
    serializer_class = JointActivityOutput
    object_rules = _rules("jointactivity")
    workflow = Workflow(
        record="activity",
        submit=submit_activity,
        validate=validate_activity,
        return_=return_activity,
        delete=delete_activity,
    )
    filterset_class = filters.JointActivityFilter
    search_fields = ["title", "description", "external_ref"]
    ordering_fields = ["updated_at", "start_date", "end_date", "title", "id"]
    ordering = ["-updated_at", "-id"]

    def scope_queryset(
        self, queryset: QuerySet[JointActivity]
    ) -> QuerySet[JointActivity]:
        return queryset.select_related("country_team", "agency").prefetch_related(
            "agencies",
            "outputs",
            Prefetch("sdg_targets", queryset=SdgTarget.objects.order_by("sort_key")),
            "common_chapter_areas",
            "locations",
        )

    @extend_schema(
        request=JointActivityCreateInput, responses={201: JointActivityOutput}
    )
    def create(self, request: Request) -> Response:
        """Log a joint activity, as a draft, on the team's active framework."""
        data = self.input(JointActivityCreateInput)
        activity = create_activity(
            actor=request.user,
            country_team=data.validated_data["country_team"],
            data=data.to_data(),
        )
        return self.respond(activity, status.HTTP_201_CREATED)

    @extend_schema(request=JointActivityInput)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the activity; a validated one goes back to draft as a revision."""
        activity = self.get_object()
        data = self.input(
            JointActivityInput,
            instance=activity,
            partial=kwargs.get("partial", False),
        )
        activity = update_activity(
            actor=request.user,
            activity=activity,
            data=data.to_data(),
            expected_version=expected_version(request, activity),
        )
        return self.respond(activity)

    @extend_schema(request=JointActivityInput)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


@extend_schema_view(**_responses(ContributionOutput, ContributionSubmitted))
class ContributionViewSet(JointWorkViewSet):
    """Agencies' contributions (money and results) to your teams' joint activities."""

    queryset = Contribution.objects.all()
    serializer_class = ContributionOutput
    object_rules = _rules("contribution")
    workflow = Workflow(
        record="contribution",
        submit=submit_contribution,
        validate=validate_contribution,
        return_=return_contribution,
        delete=delete_contribution,
    )
    filterset_class = filters.ContributionFilter
    search_fields = ["activity__title", "external_ref"]
    ordering_fields = ["updated_at", "year", "id"]
    ordering = ["-updated_at", "-id"]

    def scope_queryset(
        self, queryset: QuerySet[Contribution]
    ) -> QuerySet[Contribution]:
        results = ResultValue.objects.select_related("indicator").order_by(
            "indicator__code"
        )
        return queryset.select_related(
            "country_team",
            "agency",
            "activity",
            "current_revision",
            "validated_revision",
        ).prefetch_related(
            Prefetch("current_revision__results", queryset=results),
            Prefetch("validated_revision__results", queryset=results),
        )

    @extend_schema(request=ContributionCreateInput, responses={201: ContributionOutput})
    def create(self, request: Request) -> Response:
        """Record your agency's share of an activity for a year, as a draft."""
        data = self.input(ContributionCreateInput)
        contribution = create_contribution(
            actor=request.user,
            activity=data.validated_data["activity"],
            agency=data.validated_data["agency"],
            year=data.validated_data["year"],
            external_ref=data.validated_data["external_ref"],
            figures=data.to_data(),
        )
        return self.respond(contribution, status.HTTP_201_CREATED)

    @extend_schema(request=FiguresInput)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the figures; validated figures stay in force until the new
        revision is validated."""
        contribution = self.get_object()
        data = self.input(
            FiguresInput, instance=contribution, partial=kwargs.get("partial", False)
        )
        contribution = update_contribution(
            actor=request.user,
            contribution=contribution,
            figures=data.to_data(),
            expected_version=expected_version(request, contribution),
        )
        return self.respond(contribution)

    @extend_schema(request=FiguresInput)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


@extend_schema_view(**_responses(MeasurementOutput, MeasurementSubmitted))
class MeasurementViewSet(JointWorkViewSet):
    """Indicator measurements of your teams' frameworks."""

    queryset = IndicatorMeasurement.objects.all()
    serializer_class = MeasurementOutput
    object_rules = _rules("indicatormeasurement")
    workflow = Workflow(
        record="measurement",
        submit=submit_measurement,
        validate=validate_measurement,
        return_=return_measurement,
        delete=delete_measurement,
    )
    filterset_class = filters.MeasurementFilter
    search_fields = ["indicator__code", "source", "text_value"]
    ordering_fields = ["updated_at", "year", "id"]
    ordering = ["-updated_at", "-id"]

    def scope_queryset(
        self, queryset: QuerySet[IndicatorMeasurement]
    ) -> QuerySet[IndicatorMeasurement]:
        return queryset.select_related("country_team", "indicator", "agency")

    @extend_schema(request=MeasurementCreateInput, responses={201: MeasurementOutput})
    def create(self, request: Request) -> Response:
        """Record an indicator value for a period, as a draft."""
        data = self.input(MeasurementCreateInput)
        measurement = record_measurement(
            actor=request.user,
            indicator=data.validated_data["indicator"],
            agency=data.validated_data["agency"],
            data=data.to_data(),
        )
        return self.respond(measurement, status.HTTP_201_CREATED)

    @extend_schema(request=MeasurementInput)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the value. A validated measurement stays in force: the answer is
        the new draft that will supersede it once validated."""
        measurement = self.get_object()
        data = self.input(
            MeasurementInput, instance=measurement, partial=kwargs.get("partial", False)
        )
        measurement = update_measurement(
            actor=request.user,
            measurement=measurement,
            data=data.to_data(),
            expected_version=expected_version(request, measurement),
        )
        return self.respond(measurement)

    @extend_schema(request=MeasurementInput)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)
