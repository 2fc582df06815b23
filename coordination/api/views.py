"""API views for teams, agencies and the caller's own API token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination.api.filters import AgencyFilter, CountryTeamFilter
from coordination.api.serializers import AgencyOutput, CountryTeamOutput, TokenOutput
from coordination.models import Agency, CountryTeam, TeamAgency
from coordination.services import revoke_api_token, rotate_api_token
from unportal.api import ApiViewMixin, CountryTeamScopedViewSet, ReferenceDataViewSet

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.request import Request


class CountryTeamViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CountryTeamScopedViewSet
):
    """Country teams you are a member of, addressed by ISO alpha-3 code."""

    queryset = CountryTeam.objects.all()
    serializer_class = CountryTeamOutput
    lookup_field = "code"
    lookup_value_regex = "[A-Z]{3}"
    filterset_class = CountryTeamFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "region"]
    ordering = ["name"]

    def scope_queryset(self, queryset: QuerySet[CountryTeam]) -> QuerySet[CountryTeam]:
        return queryset.prefetch_related(
            Prefetch(
                "team_agencies",
                queryset=TeamAgency.objects.select_related("agency").order_by(
                    "agency__code"
                ),
            )
        )


class AgencyViewSet(ReferenceDataViewSet):
    """UN entities, addressed by short code (e.g. UNDP, UN-Women)."""

    queryset = Agency.objects.all()
    serializer_class = AgencyOutput
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9-]{1,20}"
    filterset_class = AgencyFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]
    ordering = ["code"]


class ApiTokenView(ApiViewMixin, APIView):
    """Your own API token, for agency systems that call the API."""

    @extend_schema(
        request=None,
        responses={201: TokenOutput},
        summary="Create or rotate your API token",
        description=(
            "Issues a new token for the signed-in user. Any token issued before "
            "stops working at once."
        ),
    )
    def post(self, request: Request) -> Response:
        token = rotate_api_token(user=request.user)
        return Response(TokenOutput(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="The token no longer works.")},
        summary="Revoke your API token",
    )
    def delete(self, request: Request) -> Response:
        revoke_api_token(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
