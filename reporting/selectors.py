"""Reads for dashboards: the landing page of each role, built from rollup rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coordination.models import CountryTeam, Membership, Region, Role
from coordination.selectors import (
    DirectoryCounts,
    count_directory,
    list_memberships_for_user,
)
from frameworks.models import CooperationFramework, FrameworkStatus
from frameworks.selectors import (
    AgencyContribution,
    ReferenceDataCounts,
    count_awaiting_validation,
    count_collective_outcomes,
    count_reference_data,
    count_returned,
    list_agency_contributions,
)
from reporting.models import TeamSnapshot

if TYPE_CHECKING:
    from coordination.models import User


@dataclass(frozen=True)
class AttentionItem:
    """Something a user should act on or know about, with where to do it."""

    team: CountryTeam
    message: str
    url: str
    is_action: bool = False


@dataclass(frozen=True)
class RegionGroup:
    region: str
    label: str
    teams: list[CountryTeam]


@dataclass(frozen=True)
class BoardOverview:
    regions: list[RegionGroup]
    viewable_team_ids: frozenset[int]
    team_count: int
    collective_outcome_count: int
    programme_count: int
    programme_budget: Decimal
    oldest_snapshot_at: datetime | None


@dataclass(frozen=True)
class AdminOverview:
    directory: DirectoryCounts
    reference_data: ReferenceDataCounts


@dataclass
class HomeDashboard:
    coordinated_teams: list[CountryTeam] = field(default_factory=list)
    attention: list[AttentionItem] = field(default_factory=list)
    agency_contributions: list[AgencyContribution] = field(default_factory=list)
    board: BoardOverview | None = None
    admin: AdminOverview | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            self.coordinated_teams
            or self.agency_contributions
            or self.board
            or self.admin
        )


def list_team_cards(*, team_ids: set[int]) -> QuerySet[CountryTeam]:
    """Return teams with their snapshot and open frameworks, for dashboard cards.

    Each team carries `active_frameworks` and `draft_frameworks` (lists).
    """
    return (
        CountryTeam.objects.filter(pk__in=team_ids)
        .select_related("snapshot", "resident_coordinator")
        .prefetch_related(
            Prefetch(
                "frameworks",
                queryset=CooperationFramework.objects.active(),
                to_attr="active_frameworks",
            ),
            Prefetch(
                "frameworks",
                queryset=CooperationFramework.objects.filter(
                    status=FrameworkStatus.DRAFT
                ).order_by("-start_year"),
                to_attr="draft_frameworks",
            ),
        )
        .order_by("name")
    )


def get_snapshot_for_team(*, team: CountryTeam) -> TeamSnapshot | None:
    """Return the team's headline figures, or None before the first rollup."""
    return TeamSnapshot.objects.filter(country_team=team).first()


def get_board_overview(*, user: User) -> BoardOverview:
    """Return every active team's headline figures, grouped by region.

    `viewable_team_ids` says which team pages the user may open, so the page can
    link them without asking for permissions while it renders.
    """
    teams = list(
        CountryTeam.objects.active()
        .select_related("snapshot")
        .order_by("region", "name")
    )
    by_region: dict[str, list[CountryTeam]] = {}
    for team in teams:
        by_region.setdefault(team.region, []).append(team)
    snapshots = [team.snapshot for team in teams if hasattr(team, "snapshot")]
    return BoardOverview(
        regions=[
            RegionGroup(region=value, label=str(label), teams=by_region[value])
            for value, label in Region.choices
            if value in by_region
        ],
        viewable_team_ids=frozenset(
            team.pk
            for team in teams
            if user.has_perm("coordination.view_countryteam", team)
        ),
        team_count=len(teams),
        collective_outcome_count=count_collective_outcomes(
            team_ids=[team.pk for team in teams]
        ),
        programme_count=sum(s.programme_count for s in snapshots),
        programme_budget=sum((s.programme_budget for s in snapshots), Decimal("0")),
        oldest_snapshot_at=min((s.computed_at for s in snapshots), default=None),
    )


def list_attention_items(
    *,
    user: User,
    teams: list[CountryTeam],
    focal_memberships: list[Membership] | None = None,
) -> list[AttentionItem]:
    """Return what the user should look at first, with counts.

    For the coordinators of `teams` (from `list_team_cards`: frameworks and
    snapshot loaded): submissions awaiting validation, frameworks awaiting
    sign-off, missing frameworks and figures. For focal-point memberships (with
    team and agency loaded): records returned to their agency. Six queries at
    most, whatever the numbers.
    """
    my_work = reverse("frameworks:my_work")
    awaiting = count_awaiting_validation(team_ids=[team.pk for team in teams])
    items = [
        AttentionItem(
            team=team,
            message=ngettext(
                "%(n)d submission awaits your validation.",
                "%(n)d submissions await your validation.",
                awaiting[team.pk],
            )
            % {"n": awaiting[team.pk]},
            url=my_work,
            is_action=True,
        )
        for team in teams
        if awaiting.get(team.pk)
    ]
    focal_memberships = focal_memberships or []
    returned = count_returned(
        pairs=[(m.country_team_id, m.agency_id) for m in focal_memberships]
    )
    for membership in focal_memberships:
        count = returned.get((membership.country_team_id, membership.agency_id))
        if count:
            items.append(
                AttentionItem(
                    team=membership.country_team,
                    message=ngettext(
                        "%(n)d %(agency)s record was returned to you with a comment.",
                        "%(n)d %(agency)s records were returned to you with a comment.",
                        count,
                    )
                    % {"n": count, "agency": membership.agency.code},
                    url=my_work,
                    is_action=True,
                )
            )
    for team in teams:
        can_sign_off = user.has_perm("coordination.sign_off_countryteam", team)
        for framework in team.draft_frameworks:
            if can_sign_off:
                message = _("Draft framework “%(title)s” awaits your sign-off.")
            else:
                message = _(
                    "Draft framework “%(title)s” awaits the Resident Coordinator's "
                    "sign-off."
                )
            items.append(
                AttentionItem(
                    team=team,
                    message=message % {"title": framework.title},
                    url=reverse(
                        "frameworks:framework_detail",
                        kwargs={"code": team.code, "pk": framework.pk},
                    ),
                    is_action=can_sign_off,
                )
            )
        if not team.active_frameworks and not team.draft_frameworks:
            items.append(
                AttentionItem(
                    team=team,
                    message=_("No Cooperation Framework is in force or in draft."),
                    url=team.get_absolute_url(),
                )
            )
        if not hasattr(team, "snapshot"):
            items.append(
                AttentionItem(
                    team=team,
                    message=_("Headline figures have not been computed yet."),
                    url=team.get_absolute_url(),
                )
            )
    return items


def get_home_for_user(*, user: User) -> HomeDashboard:
    """Return the landing page of every role the user holds.

    Sections for roles the user does not hold stay empty and cost no queries.
    """
    home = HomeDashboard()
    memberships = list(list_memberships_for_user(user=user))
    coordinated_ids = {m.country_team_id for m in memberships if m.is_coordinator}
    focal_memberships = [m for m in memberships if m.role == Role.FOCAL_POINT]
    if coordinated_ids:
        home.coordinated_teams = list(list_team_cards(team_ids=coordinated_ids))
    if coordinated_ids or focal_memberships:
        home.attention = list_attention_items(
            user=user,
            teams=home.coordinated_teams,
            focal_memberships=focal_memberships,
        )
    home.agency_contributions = list_agency_contributions(memberships=focal_memberships)
    if user.has_perm("coordination.view_board_summary"):
        home.board = get_board_overview(user=user)
    if user.has_perm("coordination.manage_reference_data"):
        home.admin = AdminOverview(
            directory=count_directory(), reference_data=count_reference_data()
        )
    return home
