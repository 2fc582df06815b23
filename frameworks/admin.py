"""Admin for SDG reference data, the common chapter, frameworks and joint work.

Reference data and the framework structure are editable here; every save tells
reporting that the team's figures changed, as the services do. Joint activities,
contributions, measurements and imports move through a submit/validate workflow
with its own services, so the admin only shows them (with their history).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from frameworks.events import team_data_changed
from frameworks.models import (
    CommonChapterArea,
    CommonChapterCommitment,
    Contribution,
    ContributionRevision,
    CooperationFramework,
    ImportJob,
    Indicator,
    IndicatorMeasurement,
    JointActivity,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    ResultValue,
    SdgGoal,
    SdgIndicator,
    SdgTarget,
    StrategicPriority,
    WorkflowEvent,
)
from frameworks.services import sign_off_framework

if TYPE_CHECKING:
    from django.db.models import Model
    from django.forms import ModelForm
    from django.http import HttpRequest


def _english(texts: dict[str, str], length: int = 100) -> str:
    return Truncator(texts.get("en", "")).chars(length)


# --- SDG reference data ------------------------------------------------------------


@admin.register(SdgGoal)
class SdgGoalAdmin(admin.ModelAdmin):
    list_display = ("number", "english_short_title", "english_title")
    search_fields = ("short_titles", "titles")
    ordering = ("number",)

    @admin.display(description=_("short title (English)"))
    def english_short_title(self, obj: SdgGoal) -> str:
        return _english(obj.short_titles)

    @admin.display(description=_("title (English)"))
    def english_title(self, obj: SdgGoal) -> str:
        return _english(obj.titles)


@admin.register(SdgTarget)
class SdgTargetAdmin(admin.ModelAdmin):
    list_display = ("code", "english_title", "goal")
    list_filter = ("goal",)
    list_select_related = ("goal",)
    search_fields = ("code", "titles")
    autocomplete_fields = ("goal",)
    ordering = ("sort_key",)

    @admin.display(description=_("title (English)"), ordering="sort_key")
    def english_title(self, obj: SdgTarget) -> str:
        return _english(obj.titles, 140)


@admin.register(SdgIndicator)
class SdgIndicatorAdmin(admin.ModelAdmin):
    list_display = ("code", "english_title", "target")
    list_filter = ("target__goal",)
    list_select_related = ("target",)
    search_fields = ("code", "titles")
    autocomplete_fields = ("target",)
    ordering = ("sort_key",)

    @admin.display(description=_("title (English)"), ordering="sort_key")
    def english_title(self, obj: SdgIndicator) -> str:
        return _english(obj.titles, 140)


# --- Writes that change a team's figures -------------------------------------------


def _announce(obj: Any) -> None:
    team_id = getattr(obj, "country_team_id", None)
    if team_id is not None:
        team_data_changed.send(sender=type(obj), team_id=team_id)


class AnnouncesTeamChanges:
    """Tell reporting that a team's source rows changed, as the services do."""

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm,
        formsets: Any,
        change: bool,
    ) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        _announce(form.instance)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        team_id = getattr(obj, "country_team_id", None)
        super().delete_model(request, obj)  # type: ignore[misc]
        if team_id is not None:
            team_data_changed.send(sender=type(obj), team_id=team_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        team_ids = {getattr(obj, "country_team_id", None) for obj in queryset}
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        for team_id in team_ids - {None}:
            team_data_changed.send(sender=queryset.model, team_id=team_id)


# --- Common chapter ----------------------------------------------------------------


@admin.register(CommonChapterArea)
class CommonChapterAreaAdmin(admin.ModelAdmin):
    list_display = ("position", "code", "name")
    list_display_links = ("code", "name")
    search_fields = ("code", "name")
    ordering = ("position",)


@admin.register(CommonChapterCommitment)
class CommonChapterCommitmentAdmin(AnnouncesTeamChanges, SimpleHistoryAdmin):
    list_display = ("title", "country_team", "area", "kind", "year", "status")
    list_filter = ("area", "kind", "status", "year", "country_team")
    list_select_related = ("country_team", "area")
    search_fields = ("title", "description", "country_team__code")
    autocomplete_fields = ("country_team", "area", "agencies")


# --- Cooperation Framework ---------------------------------------------------------


class StrategicPriorityInline(admin.TabularInline):
    model = StrategicPriority
    fields = ("code", "title")
    extra = 0


@admin.register(CooperationFramework)
class CooperationFrameworkAdmin(AnnouncesTeamChanges, SimpleHistoryAdmin):
    list_display = (
        "title",
        "country_team",
        "start_year",
        "end_year",
        "status",
        "signed_off_by",
        "signed_off_at",
    )
    list_filter = ("status", "country_team__region", "country_team")
    list_select_related = ("country_team", "signed_off_by")
    search_fields = ("title", "country_team__code", "country_team__name")
    autocomplete_fields = ("country_team",)
    # A framework becomes active only by sign-off, which closes the previous one.
    readonly_fields = ("status", "signed_off_by", "signed_off_at")
    inlines = (StrategicPriorityInline,)
    actions = ("sign_off",)

    @admin.action(description=_("Sign off the selected draft frameworks"))
    def sign_off(
        self, request: HttpRequest, queryset: QuerySet[CooperationFramework]
    ) -> None:
        signed = 0
        for framework in queryset.select_related("country_team"):
            try:
                sign_off_framework(framework=framework, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{framework}: {exc}", messages.ERROR)
            else:
                signed += 1
        if signed:
            self.message_user(
                request,
                ngettext(
                    "Signed off %d framework.", "Signed off %d frameworks.", signed
                )
                % signed,
                messages.SUCCESS,
            )


@admin.register(StrategicPriority)
class StrategicPriorityAdmin(AnnouncesTeamChanges, SimpleHistoryAdmin):
    list_display = ("code", "title", "framework")
    list_filter = ("framework__country_team",)
    list_select_related = ("framework",)
    search_fields = ("code", "title", "framework__title")
    autocomplete_fields = ("framework",)


@admin.register(Outcome)
class OutcomeAdmin(AnnouncesTeamChanges, SimpleHistoryAdmin):
    list_display = (
        "code",
        "short_statement",
        "framework",
        "strategic_priority",
        "is_collective_outcome",
    )
    list_filter = (
        "is_collective_outcome",
        "framework__status",
        "framework__country_team",
    )
    list_select_related = ("framework", "strategic_priority")
    search_fields = ("code", "statement", "framework__title")
    autocomplete_fields = (
        "framework",
        "strategic_priority",
        "sdg_targets",
        "lead_agencies",
    )

    @admin.display(description=_("statement"))
    def short_statement(self, obj: Outcome) -> str:
        return Truncator(obj.statement).chars(100)


@admin.register(Output)
class OutputAdmin(AnnouncesTeamChanges, SimpleHistoryAdmin):
    list_display = ("code", "short_statement", "outcome", "framework")
    list_filter = ("framework__status", "framework__country_team")
    list_select_related = ("framework", "outcome")
    search_fields = ("code", "statement", "framework__title")
    autocomplete_fields = ("framework", "outcome", "contributing_agencies")

    @admin.display(description=_("statement"))
    def short_statement(self, obj: Output) -> str:
        return Truncator(obj.statement).chars(100)


@admin.register(Indicator)
class IndicatorAdmin(AnnouncesTeamChanges, SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "level",
        "unit",
        "direction",
        "baseline_value",
        "target_value",
        "sdg_indicator",
        "framework",
    )
    list_filter = ("unit", "direction", "framework__country_team")
    list_select_related = ("framework", "sdg_indicator")
    search_fields = ("code", "name", "framework__title")
    autocomplete_fields = ("framework", "outcome", "output", "sdg_indicator")


# --- Joint programmes --------------------------------------------------------------


class ParticipantInline(admin.TabularInline):
    model = JointProgrammeParticipant
    fields = ("agency", "budget_share")
    autocomplete_fields = ("agency",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[JointProgrammeParticipant]:
        return super().get_queryset(request).select_related("agency", "programme")


@admin.register(JointProgramme)
class JointProgrammeAdmin(AnnouncesTeamChanges, SimpleHistoryAdmin):
    list_display = (
        "title",
        "country_team",
        "fund",
        "convening_agency",
        "status",
        "gender_marker",
        "start_date",
        "end_date",
        "total_budget",
    )
    list_filter = ("status", "gender_marker", "fund", "country_team")
    list_select_related = ("country_team", "convening_agency")
    search_fields = ("title", "fund", "country_team__code")
    autocomplete_fields = (
        "country_team",
        "convening_agency",
        "outcomes",
        "sdg_targets",
    )
    inlines = (ParticipantInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[JointProgramme]:
        return super().get_queryset(request).with_budget()

    @admin.display(description=_("budget (USD)"), ordering="total_budget")
    def total_budget(self, obj: JointProgramme) -> Any:
        return obj.total_budget


@admin.register(JointProgrammeParticipant)
class JointProgrammeParticipantAdmin(admin.ModelAdmin):
    list_display = ("agency", "programme", "budget_share")
    list_filter = ("agency",)
    list_select_related = ("agency", "programme")
    search_fields = ("agency__code", "programme__title")
    autocomplete_fields = ("programme", "agency")

    def _announce(self, obj: JointProgrammeParticipant) -> None:
        team_data_changed.send(
            sender=JointProgrammeParticipant, team_id=obj.programme.country_team_id
        )

    def save_model(
        self,
        request: HttpRequest,
        obj: JointProgrammeParticipant,
        form: ModelForm,
        change: bool,
    ) -> None:
        super().save_model(request, obj, form, change)
        self._announce(obj)

    def delete_model(
        self, request: HttpRequest, obj: JointProgrammeParticipant
    ) -> None:
        super().delete_model(request, obj)
        self._announce(obj)


# --- Joint work: shown, changed only through the workflow services -----------------


class ViewOnly:
    """Records that move through submit and validate; validated figures stay."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JointActivity)
class JointActivityAdmin(ViewOnly, SimpleHistoryAdmin):
    list_display = (
        "title",
        "country_team",
        "agency",
        "status",
        "implementation_status",
        "start_date",
        "end_date",
        "updated_at",
    )
    list_filter = ("status", "implementation_status", "country_team", "agency")
    list_select_related = ("country_team", "agency")
    search_fields = ("title", "description", "external_ref")


@admin.register(Contribution)
class ContributionAdmin(ViewOnly, SimpleHistoryAdmin):
    list_display = ("activity", "agency", "year", "workflow_status", "country_team")
    list_filter = ("year", "current_revision__status", "country_team", "agency")
    list_select_related = ("activity", "agency", "country_team", "current_revision")
    search_fields = ("activity__title", "agency__code", "external_ref")

    @admin.display(description=_("workflow status"))
    def workflow_status(self, obj: Contribution) -> str:
        revision = obj.current_revision
        return revision.get_status_display() if revision else ""


@admin.register(ContributionRevision)
class ContributionRevisionAdmin(ViewOnly, SimpleHistoryAdmin):
    list_display = (
        "contribution",
        "number",
        "status",
        "required",
        "available",
        "spent",
        "reviewed_by",
    )
    list_filter = ("status",)
    list_select_related = (
        "contribution__agency",
        "contribution__activity",
        "reviewed_by",
    )
    search_fields = ("contribution__activity__title", "contribution__agency__code")


@admin.register(ResultValue)
class ResultValueAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ("indicator", "revision", "value", "numerator", "denominator")
    list_select_related = (
        "indicator",
        "revision__contribution__agency",
        "revision__contribution__activity",
    )
    search_fields = ("indicator__code", "revision__contribution__activity__title")


@admin.register(IndicatorMeasurement)
class IndicatorMeasurementAdmin(ViewOnly, SimpleHistoryAdmin):
    list_display = (
        "indicator",
        "country_team",
        "agency",
        "year",
        "period_label",
        "value",
        "status",
    )
    list_filter = ("status", "year", "country_team")
    list_select_related = ("indicator", "country_team", "agency")
    search_fields = ("indicator__code", "indicator__name", "source")


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ("at", "action", "country_team", "actor", "comment")
    list_filter = ("action", "country_team")
    list_select_related = ("country_team", "actor")
    search_fields = ("comment", "actor__username")
    date_hierarchy = "at"


@admin.register(ImportJob)
class ImportJobAdmin(ViewOnly, admin.ModelAdmin):
    list_display = (
        "original_name",
        "country_team",
        "uploaded_by",
        "status",
        "row_count",
        "error_count",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "country_team")
    list_select_related = ("country_team", "uploaded_by")
    search_fields = ("original_name", "uploaded_by__username", "country_team__code")


# --- Coordination instruments ------------------------------------------------------
# MAPS missions, Zero Hunger reviews, platforms, collective outcomes and Business
# Operations Strategies. None of them feeds a rollup, so saves announce nothing.

from frameworks.models import (  # noqa: E402
    Accelerator,
    CollectiveOutcome,
    CommonService,
    CostAvoidance,
    MapsMission,
    MutualRecognition,
    OperationsStrategy,
    Platform,
    PriorityAction,
    Recommendation,
    ZeroHungerReview,
)


class AcceleratorInline(admin.StackedInline):
    model = Accelerator
    fields = ("code", "name", "description", "outcomes", "activities")
    autocomplete_fields = ("outcomes", "activities")
    extra = 0


class RecommendationInline(admin.TabularInline):
    model = Recommendation
    fields = ("code", "text", "accelerator", "owner_agency", "due_date", "status")
    autocomplete_fields = ("owner_agency",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Recommendation]:
        return super().get_queryset(request).select_related("owner_agency", "mission")


@admin.register(MapsMission)
class MapsMissionAdmin(SimpleHistoryAdmin):
    list_display = ("code", "title", "country_team", "start_date", "end_date")
    list_filter = ("country_team",)
    list_select_related = ("country_team",)
    search_fields = ("code", "title", "country_team__code")
    autocomplete_fields = ("country_team", "participating_agencies")
    date_hierarchy = "start_date"
    inlines = (AcceleratorInline, RecommendationInline)


@admin.register(Accelerator)
class AcceleratorAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code", "mission")
    list_filter = ("mission__country_team",)
    list_select_related = ("mission",)
    search_fields = ("name", "code", "mission__code")
    autocomplete_fields = ("mission", "outcomes", "activities")


@admin.register(Recommendation)
class RecommendationAdmin(SimpleHistoryAdmin):
    list_display = ("code", "mission", "owner_agency", "due_date", "status")
    list_filter = ("status", "owner_agency", "mission__country_team")
    list_select_related = ("mission", "owner_agency")
    search_fields = ("code", "text", "mission__code")
    autocomplete_fields = ("mission", "accelerator", "owner_agency")
    date_hierarchy = "due_date"


class PriorityActionInline(admin.TabularInline):
    model = PriorityAction
    fields = ("position", "text", "agencies")
    autocomplete_fields = ("agencies",)
    extra = 0


@admin.register(ZeroHungerReview)
class ZeroHungerReviewAdmin(SimpleHistoryAdmin):
    list_display = ("code", "title", "country_team", "start_date", "end_date")
    list_filter = ("country_team",)
    list_select_related = ("country_team",)
    search_fields = ("code", "title", "lead_convener", "country_team__code")
    autocomplete_fields = ("country_team", "co_funding_agencies")
    inlines = (PriorityActionInline,)


@admin.register(PriorityAction)
class PriorityActionAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "review", "position")
    list_filter = ("review__country_team",)
    list_select_related = ("review",)
    search_fields = ("text", "review__code")
    autocomplete_fields = ("review", "agencies")


@admin.register(Platform)
class PlatformAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "kind", "country_count", "member_count")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    autocomplete_fields = (
        "member_agencies",
        "countries",
        "joint_programmes",
        "activities",
    )


@admin.register(CollectiveOutcome)
class CollectiveOutcomeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "title", "country_team", "start_year", "end_year")
    list_filter = ("country_team",)
    list_select_related = ("country_team",)
    search_fields = ("code", "title", "statement", "country_team__code")
    autocomplete_fields = ("country_team", "outcomes")


class CommonServiceInline(admin.TabularInline):
    model = CommonService
    fields = ("service_line", "name", "lead_agency")
    autocomplete_fields = ("lead_agency",)
    extra = 0


class MutualRecognitionInline(admin.TabularInline):
    model = MutualRecognition
    fields = ("agency", "adopted_on", "scope")
    autocomplete_fields = ("agency",)
    extra = 0


@admin.register(OperationsStrategy)
class OperationsStrategyAdmin(SimpleHistoryAdmin):
    list_display = ("code", "title", "country_team", "start_year", "end_year")
    list_filter = ("country_team",)
    list_select_related = ("country_team",)
    search_fields = ("code", "title", "country_team__code")
    autocomplete_fields = ("country_team",)
    inlines = (CommonServiceInline, MutualRecognitionInline)


class CostAvoidanceInline(admin.TabularInline):
    model = CostAvoidance
    fields = ("year", "estimated", "realised")
    extra = 0


@admin.register(CommonService)
class CommonServiceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "service_line", "strategy", "lead_agency")
    list_filter = ("service_line", "strategy__country_team")
    list_select_related = ("strategy", "lead_agency")
    search_fields = ("name", "strategy__code")
    autocomplete_fields = ("strategy", "lead_agency", "agencies")
    inlines = (CostAvoidanceInline,)


@admin.register(CostAvoidance)
class CostAvoidanceAdmin(SimpleHistoryAdmin):
    list_display = ("service", "year", "estimated", "realised")
    list_filter = ("year", "service__service_line")
    list_select_related = ("service",)
    search_fields = ("service__name",)
    autocomplete_fields = ("service",)


@admin.register(MutualRecognition)
class MutualRecognitionAdmin(SimpleHistoryAdmin):
    list_display = ("agency", "strategy", "adopted_on")
    list_filter = ("agency", "strategy__country_team")
    list_select_related = ("agency", "strategy")
    search_fields = ("agency__code", "strategy__code", "scope")
    autocomplete_fields = ("strategy", "agency")


# --- Agency strategic plans --------------------------------------------------------
# Plans are reference data (load_reference_data keeps them in line with the files);
# links from joint work to them are made by agencies and the RC office through the
# services, so the admin only shows those, with their history.

from frameworks.models import (  # noqa: E402
    ContributionPlanLink,
    FrameworkOutputPlanLink,
    StrategicPlan,
    StrategicPlanOutcome,
    StrategicPlanOutput,
)


class StrategicPlanOutcomeInline(admin.TabularInline):
    model = StrategicPlanOutcome
    fields = ("code", "title", "order")
    extra = 0
    show_change_link = True


@admin.register(StrategicPlan)
class StrategicPlanAdmin(admin.ModelAdmin):
    list_display = ("title", "agency", "start_year", "end_year", "source_document")
    list_filter = ("agency", "start_year")
    list_select_related = ("agency",)
    search_fields = ("title", "agency__code", "source_document")
    autocomplete_fields = ("agency",)
    # A source address typed without a scheme is an https one.
    formfield_overrides: ClassVar[dict] = {models.URLField: {"assume_scheme": "https"}}
    inlines = (StrategicPlanOutcomeInline,)


@admin.register(StrategicPlanOutcome)
class StrategicPlanOutcomeAdmin(admin.ModelAdmin):
    list_display = ("code", "short_title", "plan", "order")
    list_filter = ("plan__agency", "plan")
    list_select_related = ("plan__agency",)
    search_fields = ("code", "title", "plan__agency__code")
    autocomplete_fields = ("plan", "sdg_targets", "common_chapter_areas")
    ordering = ("plan__agency__code", "plan__start_year", "order")

    @admin.display(description=_("title"))
    def short_title(self, obj: StrategicPlanOutcome) -> str:
        return Truncator(obj.title).chars(100)


@admin.register(StrategicPlanOutput)
class StrategicPlanOutputAdmin(admin.ModelAdmin):
    list_display = ("code", "short_title", "outcome", "plan", "order")
    list_filter = ("plan__agency", "plan")
    list_select_related = ("plan__agency", "outcome")
    search_fields = ("code", "title", "plan__agency__code")
    autocomplete_fields = ("plan", "outcome", "sdg_targets", "common_chapter_areas")
    ordering = ("plan__agency__code", "plan__start_year", "order")

    @admin.display(description=_("title"))
    def short_title(self, obj: StrategicPlanOutput) -> str:
        return Truncator(obj.title).chars(100)


@admin.register(ContributionPlanLink)
class ContributionPlanLinkAdmin(ViewOnly, SimpleHistoryAdmin):
    list_display = ("contribution", "plan_output", "plan", "linked_by", "linked_at")
    list_filter = ("plan_output__plan", "contribution__country_team")
    list_select_related = (
        "contribution__agency",
        "contribution__activity",
        "plan_output__plan__agency",
        "linked_by",
    )
    search_fields = ("contribution__activity__title", "plan_output__code")

    @admin.display(description=_("strategic plan"))
    def plan(self, obj: ContributionPlanLink) -> str:
        return str(obj.plan_output.plan)


@admin.register(FrameworkOutputPlanLink)
class FrameworkOutputPlanLinkAdmin(ViewOnly, SimpleHistoryAdmin):
    list_display = ("output", "plan_output", "plan", "linked_by", "linked_at")
    list_filter = ("plan_output__plan", "output__framework__country_team")
    list_select_related = ("output", "plan_output__plan__agency", "linked_by")
    search_fields = ("output__code", "output__statement", "plan_output__code")

    @admin.display(description=_("strategic plan"))
    def plan(self, obj: FrameworkOutputPlanLink) -> str:
        return str(obj.plan_output.plan)
