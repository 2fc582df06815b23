"""Writes on the coherence measures: the RC office's decisions on overlap alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reporting.models import RollupState
from reporting.models.coherence import (
    DECISIONS,
    AlertStatus,
    OverlapAlert,
    OverlapDecision,
)

if TYPE_CHECKING:
    from coordination.models import CountryTeam, User

DECIDE_PERM = "coordination.coordinate_countryteam"
MAX_COMMENT_LENGTH = 2000


class AlertNotFoundError(Exception):
    """No alert for that pair of activities in that team."""


@transaction.atomic
def decide_overlap_alert(
    *,
    actor: User | None,
    team: CountryTeam,
    activity_a_id: int,
    activity_b_id: int,
    status: str,
    comment: str = "",
) -> OverlapAlert:
    """Confirm or dismiss an overlap alert, or open it again ("open" withdraws
    the decision). The decision keeps what the pair shares now, so a later
    material change opens the alert again (see coherence_overlaps)."""
    if actor is not None and not actor.has_perm(DECIDE_PERM, team):
        raise PermissionDenied(
            _("Only the Resident Coordinator and the RC office decide on overlaps.")
        )
    if status not in AlertStatus.values:
        raise ValidationError({"status": _("Confirm, dismiss or reopen the alert.")})
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ValidationError(
            {
                "comment": _("Keep the comment under %(n)d characters.")
                % {"n": MAX_COMMENT_LENGTH}
            }
        )
    # The team's rollup job holds this row while it rewrites the alerts: taking
    # it here means the job either sees this decision or runs after it.
    RollupState.objects.get_or_create(country_team=team)
    states = RollupState.objects.filter(country_team=team)
    states.select_for_update().get()
    # The decision is an input of the search and changes the stored alert, so
    # both digests (`RollupState.overlap_inputs`, `overlap_alerts`) differ and
    # the next whole-team job searches again.
    alert = (
        OverlapAlert.objects.for_team(team)
        .select_for_update()
        .filter(activity_a_id=activity_a_id, activity_b_id=activity_b_id)
        .first()
    )
    if alert is None:
        raise AlertNotFoundError
    pair = {"activity_a_id": activity_a_id, "activity_b_id": activity_b_id}
    if status in DECISIONS:
        OverlapDecision.objects.update_or_create(
            **pair,
            defaults={
                "country_team": team,
                "status": status,
                "comment": comment,
                "shared_output_ids": alert.shared_output_ids,
                "shared_location_ids": alert.shared_location_ids,
                "overlap_days": alert.overlap_days,
                "decided_by": actor,
                "decided_at": timezone.now(),
            },
        )
    else:
        for decision in OverlapDecision.objects.filter(**pair):
            decision.delete()
    alert.status = status
    alert.reopened = False
    alert.save(update_fields=["status", "reopened"])
    return alert
