"""Query filters for the teams and agencies lists."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from coordination.models import (
    Agency,
    AgencyKind,
    CountryTeam,
    CrisisContext,
    Region,
    TeamStatus,
)
from unportal.api import CodeFilter


class CountryTeamFilter(filters.FilterSet):
    region = filters.ChoiceFilter(choices=Region.choices)
    context = filters.ChoiceFilter(choices=CrisisContext.choices)
    status = filters.ChoiceFilter(choices=TeamStatus.choices)
    agency = CodeFilter(field_name="agencies__code", distinct=True)

    class Meta:
        model = CountryTeam
        fields = ["region", "context", "status", "agency"]


class AgencyFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=AgencyKind.choices)
    is_common_chapter_signatory = filters.BooleanFilter()
    team = CodeFilter(method="filter_team")

    class Meta:
        model = Agency
        fields = ["kind", "is_common_chapter_signatory", "team"]

    def filter_team(self, queryset: QuerySet[Agency], name: str, value: Any) -> Any:
        # Agencies are reference data, but who works in a team is the team's.
        teams = CountryTeam.objects.visible_to(self.request.user)
        return queryset.filter(
            country_teams__in=teams.filter(code__iexact=value)
        ).distinct()
