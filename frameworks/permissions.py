"""Who may do what with joint work, built on the coordination predicates.

Views, the API and services all ask `user.has_perm(name, obj)` with the names
registered here. Workflow state is part of the rule: a submitted record is locked
until it is validated or returned, and only drafts that were never validated can
be deleted.
"""

from __future__ import annotations

from typing import Any

import rules

from coordination.permissions import (
    agency_ids_for,
    is_administrator,
    is_focal_point_of_owner,
    is_team_coordinator,
    is_team_focal_point,
    is_team_member,
    team_id_of,
)
from frameworks.models.joint_work import EDITABLE_STATUSES, WorkflowStatus


def _status(obj: Any) -> str:
    """Workflow status of an activity, measurement, contribution or revision."""
    current = getattr(obj, "current_revision", None)
    if current is not None:
        return current.status
    return getattr(obj, "status", "")


@rules.predicate
def is_editable(_user: Any, obj: Any) -> bool:
    """Drafts and returned records are edited in place; validated ones get a
    new revision; submitted ones wait for review."""
    return _status(obj) in (*EDITABLE_STATUSES, WorkflowStatus.VALIDATED)


@rules.predicate
def is_submittable(_user: Any, obj: Any) -> bool:
    return _status(obj) in EDITABLE_STATUSES


@rules.predicate
def is_awaiting_review(_user: Any, obj: Any) -> bool:
    return _status(obj) == WorkflowStatus.SUBMITTED


@rules.predicate
def was_never_validated(_user: Any, obj: Any) -> bool:
    if getattr(obj, "validated_revision_id", None) is not None:
        return False
    if getattr(obj, "validated_at", None) is not None:
        return False
    return _status(obj) in EDITABLE_STATUSES


@rules.predicate
def is_focal_point_of_partner(user: Any, activity: Any) -> bool:
    """Focal point of one of the agencies involved in the activity."""
    team_id = team_id_of(activity)
    if team_id is None:
        return False
    mine = agency_ids_for(user, team_id)
    return bool(mine) and any(a.pk in mine for a in activity.agencies.all())


owner = is_focal_point_of_owner
view_joint_work = is_team_member | is_administrator

# Activities: the lead agency's focal points own them.
rules.add_perm("frameworks.view_jointactivity", view_joint_work)
rules.add_perm("frameworks.add_jointactivity", is_team_focal_point)
rules.add_perm("frameworks.change_jointactivity", owner & is_editable)
rules.add_perm("frameworks.submit_jointactivity", owner & is_submittable)
rules.add_perm(
    "frameworks.review_jointactivity", is_team_coordinator & is_awaiting_review
)
rules.add_perm("frameworks.delete_jointactivity", owner & was_never_validated)

# Contributions: each agency's focal points own their agency's share.
rules.add_perm("frameworks.view_contribution", view_joint_work)
rules.add_perm("frameworks.add_contribution", is_focal_point_of_partner)
rules.add_perm("frameworks.change_contribution", owner & is_editable)
rules.add_perm("frameworks.submit_contribution", owner & is_submittable)
rules.add_perm(
    "frameworks.review_contribution", is_team_coordinator & is_awaiting_review
)
rules.add_perm("frameworks.delete_contribution", owner & was_never_validated)

# Measurements: focal points record their agency's, the RC office team-wide ones.
can_measure = is_team_focal_point | is_team_coordinator
measurement_owner = is_team_coordinator | owner
rules.add_perm("frameworks.view_indicatormeasurement", view_joint_work)
rules.add_perm("frameworks.add_indicatormeasurement", can_measure)
rules.add_perm(
    "frameworks.change_indicatormeasurement", measurement_owner & is_editable
)
rules.add_perm(
    "frameworks.submit_indicatormeasurement", measurement_owner & is_submittable
)
rules.add_perm(
    "frameworks.review_indicatormeasurement", is_team_coordinator & is_awaiting_review
)
rules.add_perm(
    "frameworks.delete_indicatormeasurement", measurement_owner & was_never_validated
)

# The framework itself is edited by the RC office.
rules.add_perm("frameworks.change_cooperationframework", is_team_coordinator)


# --- Coordination instruments --------------------------------------------------------
# MAPS missions, Zero Hunger reviews, collective outcomes and business operations
# belong to a team and are kept by its RC office. A recommendation's follow-up
# status may also be moved by focal points of the agency that owns it
# (Recommendation.agency_id is its owner agency). Global platforms are managed by
# administrators only.

can_edit_instrument = is_team_coordinator | is_administrator
rules.add_perm("frameworks.view_instrument", is_team_member | is_administrator)
rules.add_perm("frameworks.change_instrument", can_edit_instrument)
rules.add_perm(
    "frameworks.follow_up_recommendation",
    can_edit_instrument | is_focal_point_of_owner,
)
rules.add_perm("frameworks.manage_platform", is_administrator)


# --- Agency strategic plans ----------------------------------------------------------
# Plans are public reference data. An agency's focal points say which outputs of
# their own plan its contributions deliver (frameworks.services.strategic_plans
# checks the agency and year); the RC office aligns the framework's outputs with
# the plans of the agencies in the team.

rules.add_perm("frameworks.view_strategicplan", rules.is_authenticated)
rules.add_perm("frameworks.link_contribution_strategic_plan", is_focal_point_of_owner)
rules.add_perm("frameworks.link_output_strategic_plan", is_team_coordinator)
