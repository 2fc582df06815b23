"""API for the coherence measures: each team's scorecards, and its overlap
alerts with the RC office's decision on them.

Both lists are scoped to the caller's teams by CountryTeamScopedViewSet; a
decision asks the same permission as the page (coordinate_countryteam) and goes
through the same service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from reporting.coherence_selectors import PART_LABELS, Scorecard
from reporting.coherence_services import (
    DECIDE_PERM,
    MAX_COMMENT_LENGTH,
    decide_overlap_alert,
)
from reporting.models import Basis
from reporting.models.coherence import (
    AlertStatus,
    CoherenceScorecard,
    OverlapAlert,
)
from unportal.api import CodeFilter, CountryTeamScopedViewSet

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.request import Request
    from rest_framework.response import Response


# --- scorecards -----------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            key: {"type": "number", "nullable": True} for key in PART_LABELS
        },
    }
)
class PartsField(serializers.Field):
    """The five parts of the score, in percent (null: no data)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: CoherenceScorecard) -> dict[str, Any]:
        card = Scorecard(value.year, value.basis, value)
        return {
            part.key: float(part.percent) if part.percent is not None else None
            for part in card.parts
        }


@extend_schema_field({"type": "number", "nullable": True})
class ScoreField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: CoherenceScorecard) -> float | None:
        score = Scorecard(value.year, value.basis, value).score
        return None if score is None else float(score)


class ScorecardOutput(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(
        source="country_team", slug_field="code", read_only=True
    )
    score = ScoreField(
        help_text=_("Average of the parts with data, 0 to 100; null without any.")
    )
    parts = PartsField(
        help_text=_("Each part of the score in percent: %(parts)s.")
        % {"parts": ", ".join(PART_LABELS)}
    )

    class Meta:
        model = CoherenceScorecard
        fields = [
            "id",
            "team",
            "year",
            "basis",
            "score",
            "parts",
            "spent",
            "joint_spent",
            "programme_spent",
            "outputs_delivered",
            "outputs_single_agency",
            "output_agency_total",
            "agency_count",
            "linked_pairs",
            "values_expecting",
            "values_complete",
            "signatory_spent",
            "signatory_joint_spent",
        ]


class ScorecardFilter(filters.FilterSet):
    team = CodeFilter(field_name="country_team__code")
    year = filters.NumberFilter(min_value=2000, max_value=2100)
    basis = filters.ChoiceFilter(choices=Basis.choices)


class ScorecardViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CountryTeamScopedViewSet
):
    """Coherence scorecards of your teams, one per team, year and basis."""

    queryset = CoherenceScorecard.objects.all()
    serializer_class = ScorecardOutput
    team_path = "country_team"
    filterset_class = ScorecardFilter
    ordering_fields = ["year", "id"]
    ordering = ["country_team__code", "-year", "basis"]

    def scope_queryset(
        self, queryset: QuerySet[CoherenceScorecard]
    ) -> QuerySet[CoherenceScorecard]:
        return queryset.select_related("country_team")


# --- overlap alerts -------------------------------------------------------------


class AlertOutput(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(
        source="country_team", slug_field="code", read_only=True
    )
    agency_a = serializers.SlugRelatedField(slug_field="code", read_only=True)
    agency_b = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Not "status", and no enum: the schema has enums of that name and of
    # these choices (the decision's) already.
    review_status = serializers.CharField(
        source="status",
        read_only=True,
        help_text=_("open (to review), confirmed or dismissed."),
    )

    class Meta:
        model = OverlapAlert
        fields = [
            "id",
            "team",
            "activity_a",
            "agency_a",
            "activity_b",
            "agency_b",
            "similarity",
            "shared_output_ids",
            "shared_location_ids",
            "overlap_start",
            "overlap_end",
            "overlap_days",
            "both_validated",
            "review_status",
            "reopened",
        ]


class DecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=AlertStatus.choices,
        help_text=_("confirmed, dismissed, or open to withdraw a decision."),
    )
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_COMMENT_LENGTH,
        default="",
    )


class AlertFilter(filters.FilterSet):
    team = CodeFilter(field_name="country_team__code")
    review_status = filters.ChoiceFilter(
        field_name="status", choices=AlertStatus.choices
    )


class OverlapAlertViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CountryTeamScopedViewSet
):
    """Overlap and duplication alerts of your teams. POST {id}/decide/ confirms or
    dismisses one (RC and RC office); an alert keeps its id across recomputes."""

    queryset = OverlapAlert.objects.all()
    serializer_class = AlertOutput
    team_path = "country_team"
    object_rules: ClassVar[dict[str, str]] = {"decide": DECIDE_PERM}
    filterset_class = AlertFilter
    ordering_fields = ["similarity", "id"]
    ordering = ["-similarity", "id"]

    def scope_queryset(
        self, queryset: QuerySet[OverlapAlert]
    ) -> QuerySet[OverlapAlert]:
        return queryset.select_related("country_team", "agency_a", "agency_b")

    @extend_schema(request=DecisionInput, responses={200: AlertOutput})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Confirm the overlap, dismiss the alert, or open it again."""
        alert = self.get_object()
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        decide_overlap_alert(
            actor=request.user,
            team=alert.country_team,
            activity_a_id=alert.activity_a_id,
            activity_b_id=alert.activity_b_id,
            status=data.validated_data["decision"],
            comment=data.validated_data["comment"],
        )
        return self.respond(alert)
