"""Admin for reporting rows: shown, and recomputed from source rows on request.

Reporting rows are never edited by hand; they are derived from contributions and
measurements, so the only write here is "recompute".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reporting.models import TeamSnapshot
from reporting.services import refresh_team_snapshot

if TYPE_CHECKING:
    from django.http import HttpRequest


@admin.register(TeamSnapshot)
class TeamSnapshotAdmin(admin.ModelAdmin):
    list_display = (
        "country_team",
        "outcome_count",
        "output_count",
        "indicator_count",
        "programme_count",
        "programme_budget",
        "agency_count",
        "computed_at",
    )
    list_filter = ("country_team__region",)
    list_select_related = ("country_team",)
    search_fields = ("country_team__code", "country_team__name")
    actions = ("recompute",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Recompute the selected snapshots from source rows"))
    def recompute(self, request: HttpRequest, queryset: QuerySet[TeamSnapshot]) -> None:
        team_ids = list(queryset.values_list("country_team_id", flat=True))
        for team_id in team_ids:
            refresh_team_snapshot(team_id=team_id)
        self.message_user(
            request,
            ngettext(
                "Recomputed %d snapshot.", "Recomputed %d snapshots.", len(team_ids)
            )
            % len(team_ids),
            messages.SUCCESS,
        )
