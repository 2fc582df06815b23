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
from simple_history.admin import SimpleHistoryAdmin

from reporting.models import (
    FundingRollup,
    IndicatorProgress,
    OutcomeFundingRollup,
    ReportFile,
    RollupRequest,
    RollupState,
    TagFundingRollup,
    TeamFundingRollup,
    TeamSnapshot,
)
from reporting.models.coherence import (
    AgencyOutcomeRollup,
    CoherenceScorecard,
    CollaborationLink,
    CommonChapterDeliveryRollup,
    DisaggregationRollup,
    JointDeliveryRollup,
    OutputAgencyRollup,
    OverlapAlert,
    OverlapDecision,
    TargetGroupFundingRollup,
)
from reporting.services import rebuild_team_rollups, refresh_team_snapshot

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


# --- Rollups: derived rows, shown and never edited -----------------------------------


class DerivedRowAdmin(admin.ModelAdmin):
    """Rows the rollup job writes; nobody adds, changes or deletes them here."""

    list_filter = ("basis", "year", "country_team__region")
    search_fields = ("country_team__code", "country_team__name")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


_FUNDING_FIGURES = (
    "year",
    "basis",
    "required",
    "available",
    "spent",
    "gap",
    "contribution_count",
    "activity_count",
    "agency_count",
)


@admin.register(FundingRollup)
class FundingRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "output", "agency", *_FUNDING_FIGURES)
    list_select_related = ("country_team", "output", "agency")


@admin.register(OutcomeFundingRollup)
class OutcomeFundingRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "outcome", "agency", *_FUNDING_FIGURES)
    list_select_related = ("country_team", "outcome", "agency")


@admin.register(TeamFundingRollup)
class TeamFundingRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "framework", "agency", *_FUNDING_FIGURES)
    list_select_related = ("country_team", "framework", "agency")


@admin.register(TagFundingRollup)
class TagFundingRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "kind", "tag_code", "tag_id", "agency")
    list_display += _FUNDING_FIGURES
    list_filter = ("kind", *DerivedRowAdmin.list_filter)
    list_select_related = ("country_team", "agency")


@admin.register(IndicatorProgress)
class IndicatorProgressAdmin(DerivedRowAdmin):
    list_display = (
        "country_team",
        "indicator",
        "year",
        "basis",
        "value",
        "baseline",
        "target",
        "percent_of_way",
        "expected_percent",
        "status",
    )
    list_filter = ("status", *DerivedRowAdmin.list_filter)
    list_select_related = ("country_team", "indicator")
    search_fields = (*DerivedRowAdmin.search_fields, "indicator__code")


@admin.register(RollupRequest)
class RollupRequestAdmin(DerivedRowAdmin):
    list_display = ("country_team", "year", "requested_at", "reason")
    list_filter = ("country_team__region", "year")
    list_select_related = ("country_team",)


@admin.register(RollupState)
class RollupStateAdmin(DerivedRowAdmin):
    list_display = ("country_team", "computed_at", "pending_since")
    list_filter = ("country_team__region",)
    list_select_related = ("country_team",)
    actions = ("rebuild",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RollupState]:
        return super().get_queryset(request).with_pending_since()

    @admin.display(description=_("pending since"))
    def pending_since(self, obj: RollupState) -> Any:
        return obj.pending_since

    @admin.action(description=_("Rebuild the selected teams' rollups now"))
    def rebuild(self, request: HttpRequest, queryset: QuerySet[RollupState]) -> None:
        team_ids = list(queryset.values_list("country_team_id", flat=True))
        for team_id in team_ids:
            rebuild_team_rollups(team_id=team_id)
        self.message_user(
            request,
            ngettext(
                "Rebuilt the rollups of %d team.",
                "Rebuilt the rollups of %d teams.",
                len(team_ids),
            )
            % len(team_ids),
            messages.SUCCESS,
        )


@admin.register(ReportFile)
class ReportFileAdmin(admin.ModelAdmin):
    """Generated reports: listed and deleted here, built only by the report job."""

    list_display = ("kind", "country_team", "year", "language", "status", "created_at")
    list_filter = ("kind", "status", "language")
    list_select_related = ("country_team",)
    search_fields = ("country_team__code", "country_team__name")
    readonly_fields = ("progress_done", "progress_total", "size", "finished_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Coherence measures: derived like the rollups, shown and never edited -----------


@admin.register(JointDeliveryRollup)
class JointDeliveryRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "agency", "year", "basis", "spent", "joint_spent")
    list_select_related = ("country_team", "agency")


@admin.register(OutputAgencyRollup)
class OutputAgencyRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "output", "year", "basis", "agency_count")
    list_select_related = ("country_team", "output")


@admin.register(AgencyOutcomeRollup)
class AgencyOutcomeRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "outcome", "agency", "year", "basis", "spent")
    list_select_related = ("country_team", "outcome", "agency")


@admin.register(DisaggregationRollup)
class DisaggregationRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "indicator", "year", "basis", "complete_count")
    list_select_related = ("country_team", "indicator")


@admin.register(TargetGroupFundingRollup)
class TargetGroupFundingRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "target_group", "year", "basis", "spent")
    list_select_related = ("country_team",)


@admin.register(CommonChapterDeliveryRollup)
class CommonChapterDeliveryRollupAdmin(DerivedRowAdmin):
    list_display = ("country_team", "area", "agency", "year", "basis", "joint_spent")
    list_select_related = ("country_team", "area", "agency")


@admin.register(CollaborationLink)
class CollaborationLinkAdmin(DerivedRowAdmin):
    list_display = ("country_team", "agency_a", "agency_b", "year", "basis")
    list_select_related = ("country_team", "agency_a", "agency_b")


@admin.register(CoherenceScorecard)
class CoherenceScorecardAdmin(DerivedRowAdmin):
    list_display = ("country_team", "year", "basis", "spent", "joint_spent")
    list_select_related = ("country_team",)


@admin.register(OverlapAlert)
class OverlapAlertAdmin(DerivedRowAdmin):
    list_display = ("country_team", "activity_a", "activity_b", "similarity", "status")
    list_filter = ("status", "country_team__region")
    list_select_related = ("country_team", "activity_a", "activity_b")


@admin.register(OverlapDecision)
class OverlapDecisionAdmin(SimpleHistoryAdmin):
    """The RC office decides on the coherence page; here decisions are read."""

    list_display = ("country_team", "activity_a", "activity_b", "status", "decided_at")
    list_filter = ("status",)
    list_select_related = ("country_team", "activity_a", "activity_b")
    search_fields = ("country_team__code", "comment")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
