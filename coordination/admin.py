"""Admin for people, agencies, country teams and memberships.

Memberships are written through coordination.services, on their own pages and in
the inlines, because granting or revoking one also moves the team's Resident
Coordinator and drops the person's cached roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from coordination.models import (
    AdminRegion,
    Agency,
    ApiToken,
    CountryTeam,
    Membership,
    Role,
    TeamAgency,
    User,
)
from coordination.services import grant_membership, revoke_membership

if TYPE_CHECKING:
    from django.forms.models import BaseInlineFormSet
    from django.http import HttpRequest


class MembershipForm(forms.ModelForm):
    """Checks the rules grant_membership enforces, so a refusal is a form error."""

    class Meta:
        model = Membership
        fields = ("user", "country_team", "role", "agency")

    def _value(self, name: str) -> Any:
        # In an inline, the parent (user or team) is on the instance, not in the data.
        if name in self.cleaned_data:
            return self.cleaned_data[name]
        return getattr(self.instance, name, None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user, team = self._value("user"), self._value("country_team")
        role, agency = cleaned.get("role"), cleaned.get("agency")
        if role == Role.FOCAL_POINT:
            if agency is None:
                self.add_error("agency", _("A focal point represents an agency."))
            elif (
                team is not None
                and not team.team_agencies.filter(agency=agency).exists()
            ):
                self.add_error(
                    "agency",
                    _("%(agency)s is not part of this country team.")
                    % {"agency": agency.code},
                )
        elif agency is not None:
            self.add_error("agency", _("Only focal points represent an agency."))
        if (
            role == Role.RESIDENT_COORDINATOR
            and team is not None
            and Membership.objects.filter(
                country_team=team, role=Role.RESIDENT_COORDINATOR
            )
            .exclude(user=user)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error(
                "role", _("This country team already has a Resident Coordinator.")
            )
        return cleaned


def _same_membership(a: Membership, b: Membership) -> bool:
    return (a.user_id, a.country_team_id, a.role, a.agency_id) == (
        b.user_id,
        b.country_team_id,
        b.role,
        b.agency_id,
    )


def save_membership(membership: Membership) -> None:
    """Write an admin-edited membership through the services.

    A changed membership is revoked and granted again, so history shows both steps.
    The admin keeps using its own instance (for the log entry and the redirect), so
    it takes the saved row's identity.
    """
    if membership.pk is not None:
        original = Membership.objects.get(pk=membership.pk)
        if _same_membership(original, membership):
            return
        revoke_membership(membership=original)
    saved = grant_membership(
        user=membership.user,
        country_team=membership.country_team,
        role=membership.role,
        agency=membership.agency,
    )
    membership.pk = saved.pk
    membership.created_at = saved.created_at
    membership.updated_at = saved.updated_at
    membership._state.adding = False
    membership._state.db = saved._state.db


class SavesMembershipsThroughServices:
    """For admins with a membership inline."""

    def save_formset(
        self,
        request: HttpRequest,
        form: forms.ModelForm,
        formset: BaseInlineFormSet,
        change: bool,
    ) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)  # type: ignore[misc]
            return
        formset.save(commit=False)
        # Removals and changes first, so that a role someone gives up (a team's one
        # Resident Coordinator) is free before a new row takes it.
        for membership in formset.deleted_objects:
            revoke_membership(membership=membership)
        for membership, _fields in formset.changed_objects:
            save_membership(membership)
        for membership in formset.new_objects:
            save_membership(membership)


class MembershipOfUserInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    fk_name = "user"
    fields = ("country_team", "role", "agency")
    autocomplete_fields = ("country_team", "agency")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return (
            super()
            .get_queryset(request)
            .select_related("user", "country_team", "agency")
        )


class MembershipInTeamInline(MembershipOfUserInline):
    fk_name = "country_team"
    fields = ("user", "role", "agency")
    autocomplete_fields = ("user", "agency")


class TeamAgencyInline(admin.TabularInline):
    model = TeamAgency
    fields = ("agency", "is_resident")
    autocomplete_fields = ("agency",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[TeamAgency]:
        return super().get_queryset(request).select_related("agency", "country_team")


class AdminRegionInline(admin.TabularInline):
    model = AdminRegion
    fields = ("code", "name")
    extra = 0


@admin.register(User)
class UserAdmin(SavesMembershipsThroughServices, DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Portal"), {"fields": ("agency", "is_board_member", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            _("Portal"),
            {"classes": ("wide",), "fields": ("agency", "is_board_member", "language")},
        ),
    )
    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "agency",
        "is_board_member",
        "is_staff",
        "is_active",
    )
    list_filter = (*DjangoUserAdmin.list_filter, "is_board_member", "language")
    list_select_related = ("agency",)
    search_fields = (*DjangoUserAdmin.search_fields, "agency__code")
    autocomplete_fields = ("agency",)
    inlines = (MembershipOfUserInline,)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type[Any]]:
        # A membership needs a saved user: add the person first, then their roles.
        return list(self.inlines) if obj is not None else []


@admin.register(Agency)
class AgencyAdmin(SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "iati_identifier",
        "is_common_chapter_signatory",
    )
    list_filter = ("kind", "is_common_chapter_signatory")
    search_fields = ("code", "name", "iati_identifier")
    ordering = ("code",)


@admin.register(CountryTeam)
class CountryTeamAdmin(SavesMembershipsThroughServices, SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "region",
        "context",
        "status",
        "resident_coordinator",
    )
    list_filter = ("region", "context", "status")
    list_select_related = ("resident_coordinator",)
    search_fields = ("code", "name")
    # Follows the Resident Coordinator membership; granting one sets it.
    readonly_fields = ("resident_coordinator", "created_at", "updated_at")
    inlines = (TeamAgencyInline, AdminRegionInline, MembershipInTeamInline)

    def get_inlines(
        self, request: HttpRequest, obj: CountryTeam | None
    ) -> list[type[Any]]:
        # A focal point needs an agency the team already has, so members are added
        # once the team and its agencies are saved.
        if obj is None:
            return [i for i in self.inlines if i is not MembershipInTeamInline]
        return list(self.inlines)


@admin.register(TeamAgency)
class TeamAgencyAdmin(admin.ModelAdmin):
    list_display = ("agency", "country_team", "is_resident")
    list_filter = ("is_resident", "agency__kind")
    list_select_related = ("agency", "country_team")
    search_fields = ("agency__code", "agency__name", "country_team__code")
    autocomplete_fields = ("country_team", "agency")


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    form = MembershipForm
    list_display = ("user", "role", "country_team", "agency", "created_at")
    list_filter = ("role", "country_team", "agency")
    list_select_related = ("user", "country_team", "agency")
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "country_team__code",
        "country_team__name",
        "agency__code",
    )
    autocomplete_fields = ("user", "country_team", "agency")

    def save_model(
        self,
        request: HttpRequest,
        obj: Membership,
        form: forms.ModelForm,
        change: bool,
    ) -> None:
        save_membership(obj)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        revoke_membership(membership=obj)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Membership]
    ) -> None:
        for membership in queryset.select_related("user", "country_team"):
            revoke_membership(membership=membership)


@admin.register(AdminRegion)
class AdminRegionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "country_team")
    list_filter = ("country_team",)
    list_select_related = ("country_team",)
    search_fields = ("name", "code", "country_team__code")
    autocomplete_fields = ("country_team",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be seen and revoked here; only their owner can issue one."""

    list_display = ("user", "prefix", "created")
    search_fields = ("user__username", "prefix")
    list_select_related = ("user",)
    readonly_fields = ("user", "prefix", "digest", "created")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
