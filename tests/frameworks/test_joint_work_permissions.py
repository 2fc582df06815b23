"""Who may do what with joint work, in every workflow state.

The policy is written out below as tables; the tests ask `user.has_perm` (what views
and the API ask) and then call the services as every refused user, expecting
PermissionDenied and not a single row written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from coordination.models import Role
from frameworks.models import (
    ContributionRevision,
    IndicatorMeasurement,
    WorkflowStatus,
)
from frameworks.services import (
    create_activity,
    create_contribution,
    delete_activity,
    delete_contribution,
    delete_measurement,
    record_measurement,
    return_activity,
    return_contribution,
    return_measurement,
    submit_activity,
    submit_contribution,
    submit_measurement,
    update_activity,
    update_contribution,
    update_measurement,
    validate_activity,
    validate_contribution,
    validate_measurement,
)
from tests.coordination.factories import MembershipFactory, UserFactory
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    JointWorkWorld,
    activity_data,
    build_world,
    count_rows,
    figures_data,
    measurement_data,
)

pytestmark = pytest.mark.django_db

ACTIONS = ("view", "add", "change", "submit", "review", "delete")

# Each cell lists the answer per workflow state, in this order:
#   d  draft
#   s  submitted
#   v  validated
#   r  returned
#   o  reopened: validated once, then changed (a new draft revision, or for a
#      measurement the draft that will supersede the validated value)
STATES = ("draft", "submitted", "validated", "returned", "reopened")

# The record is in Somalia, led or owned by UNDP; the activity involves UNDP and
# UNICEF. "fp_owner" is UNDP's focal point in Somalia, "fp_partner" UNICEF's,
# "fp_uninvolved" WFP's; "fp_owner_other_team" is UNDP's focal point in Nigeria.
# "add" is asked of the team (activities, measurements) or of the activity
# (contributions). Administrators are superusers, whom Django grants every
# permission; the services still hold them to the workflow (see
# test_joint_work_services.py::test_administrator_is_held_to_the_workflow).
ALL, NONE = "YYYYY", "NNNNN"

# fmt: off
#                          view   add    change   submit   review   delete
ACTIVITY_POLICY = {
    "rc":                  (ALL,  NONE,  NONE,    NONE,    "NYNNN", NONE),
    "rco":                 (ALL,  NONE,  NONE,    NONE,    "NYNNN", NONE),
    "fp_owner":            (ALL,  ALL,   "YNYYY", "YNNYY", NONE,    "YNNYN"),
    "fp_partner":          (ALL,  ALL,   NONE,    NONE,    NONE,    NONE),
    "fp_uninvolved":       (ALL,  ALL,   NONE,    NONE,    NONE,    NONE),
    "fp_owner_other_team": (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "rc_other_team":       (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "board_member":        (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "administrator":       (ALL,  ALL,   ALL,     ALL,     ALL,     ALL),
    "outsider":            (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "anonymous":           (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "fp_owner_deactivated": (NONE, NONE, NONE,    NONE,    NONE,    NONE),
}

CONTRIBUTION_POLICY = {
    "rc":                  (ALL,  NONE,  NONE,    NONE,    "NYNNN", NONE),
    "rco":                 (ALL,  NONE,  NONE,    NONE,    "NYNNN", NONE),
    "fp_owner":            (ALL,  ALL,   "YNYYY", "YNNYY", NONE,    "YNNYN"),
    "fp_partner":          (ALL,  ALL,   NONE,    NONE,    NONE,    NONE),
    "fp_uninvolved":       (ALL,  NONE,  NONE,    NONE,    NONE,    NONE),
    "fp_owner_other_team": (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "rc_other_team":       (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "board_member":        (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "administrator":       (ALL,  ALL,   ALL,     ALL,     ALL,     ALL),
    "outsider":            (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "anonymous":           (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "fp_owner_deactivated": (NONE, NONE, NONE,    NONE,    NONE,    NONE),
}

# The RC office records team-wide values and may correct any of its team's; a
# pending superseding draft was never validated itself, so it can be dropped.
MEASUREMENT_POLICY = {
    "rc":                  (ALL,  ALL,   "YNYYY", "YNNYY", "NYNNN", "YNNYY"),
    "rco":                 (ALL,  ALL,   "YNYYY", "YNNYY", "NYNNN", "YNNYY"),
    "fp_owner":            (ALL,  ALL,   "YNYYY", "YNNYY", NONE,    "YNNYY"),
    "fp_partner":          (ALL,  ALL,   NONE,    NONE,    NONE,    NONE),
    "fp_uninvolved":       (ALL,  ALL,   NONE,    NONE,    NONE,    NONE),
    "fp_owner_other_team": (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "rc_other_team":       (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "board_member":        (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "administrator":       (ALL,  ALL,   ALL,     ALL,     ALL,     ALL),
    "outsider":            (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "anonymous":           (NONE, NONE,  NONE,    NONE,    NONE,    NONE),
    "fp_owner_deactivated": (NONE, NONE, NONE,    NONE,    NONE,    NONE),
}
# fmt: on

POLICIES = {
    "jointactivity": ACTIVITY_POLICY,
    "contribution": CONTRIBUTION_POLICY,
    "indicatormeasurement": MEASUREMENT_POLICY,
}
MODELS = tuple(POLICIES)


def expected(model: str, role: str, action: str, state: str) -> bool:
    cell = POLICIES[model][role][ACTIONS.index(action)]
    return cell[STATES.index(state)] == "Y"


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


@pytest.fixture
def users(world) -> dict[str, Any]:
    deactivated = MembershipFactory(
        country_team=world.team,
        role=Role.FOCAL_POINT,
        agency=world.undp,
        user=UserFactory(is_active=False),
    ).user
    return {
        "rc": world.rc,
        "rco": world.rco,
        "fp_owner": world.fp_undp,
        "fp_partner": world.fp_unicef,
        "fp_uninvolved": world.fp_wfp,
        "fp_owner_other_team": world.fp_undp_other_team,
        "rc_other_team": world.rc_other_team,
        "board_member": world.board_member,
        "administrator": world.administrator,
        "outsider": world.outsider,
        "anonymous": AnonymousUser(),
        "fp_owner_deactivated": deactivated,
    }


def _activity_in(world: JointWorkWorld, state: str):
    status = WorkflowStatus.DRAFT if state == "reopened" else state
    activity = JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.undp,
        agencies=[world.undp, world.unicef],
        outputs=[world.output],
        locations=[world.region],
        status=status,
    )
    if state == "reopened":
        activity.revision = 2
        activity.validated_at = timezone.now()
        activity.save()
    return activity


def _contribution_in(world: JointWorkWorld, state: str):
    status = WorkflowStatus.VALIDATED if state == "reopened" else state
    contribution = ContributionFactory(
        activity=_activity_in(world, state), agency=world.undp, status=status
    )
    if state == "reopened":
        contribution.current_revision = ContributionRevision.objects.create(
            contribution=contribution, number=2, required=Decimal("1")
        )
        contribution.save()
    return contribution


def _measurement_in(world: JointWorkWorld, state: str):
    status = WorkflowStatus.VALIDATED if state == "reopened" else state
    measurement = IndicatorMeasurementFactory(
        indicator=world.number_indicator, agency=world.undp, status=status
    )
    if state == "reopened":
        measurement = IndicatorMeasurementFactory(
            indicator=world.number_indicator,
            agency=world.undp,
            supersedes=measurement,
            value=Decimal("11"),
        )
    return measurement


RECORD_IN = {
    "jointactivity": _activity_in,
    "contribution": _contribution_in,
    "indicatormeasurement": _measurement_in,
}


def _reload(record):
    return type(record).objects.get(pk=record.pk)


def _add_target(world: JointWorkWorld, model: str, record):
    return record.activity if model == "contribution" else world.team


def test_policy_tables_cover_every_role_and_action():
    for policy in POLICIES.values():
        assert {len(row) for row in policy.values()} == {len(ACTIONS)}
        assert {len(cell) for row in policy.values() for cell in row} == {len(STATES)}
        assert set(policy) == set(ACTIVITY_POLICY)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("model", MODELS)
def test_has_perm_follows_the_policy(world, users, model, state):
    record = _reload(RECORD_IN[model](world, state))
    add_target = _add_target(world, model, record)

    mismatches = []
    for role, user in users.items():
        for action in ACTIONS:
            obj = add_target if action == "add" else record
            allowed = user.has_perm(f"frameworks.{action}_{model}", obj)
            if allowed != expected(model, role, action, state):
                mismatches.append(f"{role} may {action}: {allowed}")

    assert mismatches == []


# --- the services refuse whoever the policy refuses --------------------------------


def _call(world: JointWorkWorld, model: str, action: str, user, record) -> None:
    """Ask the service behind `action` on `record`, as `user`."""
    if model == "jointactivity":
        calls = {
            "add": lambda: create_activity(
                actor=user, country_team=world.team, data=activity_data(world)
            ),
            "change": lambda: update_activity(
                actor=user,
                activity=record,
                data=activity_data(world, title="Changed"),
                expected_version=None,
            ),
            "submit": lambda: submit_activity(actor=user, activity=record),
            "validate": lambda: validate_activity(actor=user, activity=record),
            "return": lambda: return_activity(
                actor=user, activity=record, comment="No."
            ),
            "delete": lambda: delete_activity(actor=user, activity=record),
        }
    elif model == "contribution":
        calls = {
            "add": lambda: create_contribution(
                actor=user,
                activity=record.activity,
                agency=world.undp,
                year=record.year + 1,
                figures=figures_data(world),
            ),
            "change": lambda: update_contribution(
                actor=user,
                contribution=record,
                figures=figures_data(world, spent=Decimal("1")),
                expected_version=None,
            ),
            "submit": lambda: submit_contribution(actor=user, contribution=record),
            "validate": lambda: validate_contribution(actor=user, contribution=record),
            "return": lambda: return_contribution(
                actor=user, contribution=record, comment="No."
            ),
            "delete": lambda: delete_contribution(actor=user, contribution=record),
        }
    else:
        calls = {
            "add": lambda: record_measurement(
                actor=user,
                indicator=world.number_indicator,
                agency=world.undp,
                data=measurement_data(world),
            ),
            "change": lambda: update_measurement(
                actor=user,
                measurement=record,
                data=measurement_data(world, value=Decimal("1")),
                expected_version=None,
            ),
            "submit": lambda: submit_measurement(actor=user, measurement=record),
            "validate": lambda: validate_measurement(actor=user, measurement=record),
            "return": lambda: return_measurement(
                actor=user, measurement=record, comment="No."
            ),
            "delete": lambda: delete_measurement(actor=user, measurement=record),
        }
    calls[action]()


SERVICE_ACTIONS = {
    "add": "add",
    "change": "change",
    "submit": "submit",
    "validate": "review",
    "return": "review",
    "delete": "delete",
}


def _snapshot(record) -> tuple:
    fresh = _reload(record)
    status = fresh.status
    current = getattr(fresh, "current_revision_id", None)
    return (status, fresh.version, current, getattr(fresh, "updated_at", None))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("model", MODELS)
def test_services_refuse_whom_the_policy_refuses(world, users, model, state):
    record = RECORD_IN[model](world, state)
    refused = [
        (role, service_action)
        for role in users
        for service_action, action in SERVICE_ACTIONS.items()
        if not expected(model, role, action, state)
    ]
    assert refused, "every state refuses someone something"
    before = count_rows()
    snapshot = _snapshot(record)

    not_refused = []
    for role, service_action in refused:
        try:
            _call(world, model, service_action, users[role], _reload(record))
        except PermissionDenied:
            pass
        else:
            not_refused.append(f"{role} {service_action}")

    assert not_refused == []
    assert count_rows() == before
    assert _snapshot(record) == snapshot


def test_update_with_stale_version_by_refused_user_reveals_nothing(world):
    activity = _activity_in(world, "draft")

    with pytest.raises(PermissionDenied):
        update_activity(
            actor=world.fp_undp_other_team,
            activity=activity,
            data=activity_data(world, title="Probe"),
            expected_version=activity.version - 1,
        )


def test_django_model_permission_grants_no_joint_work(world):
    """A global model permission (e.g. from a group) opens no team's records."""
    outsider = world.outsider
    outsider.user_permissions.add(
        Permission.objects.get(
            codename="change_contribution", content_type__app_label="frameworks"
        )
    )
    contribution = _contribution_in(world, "draft")
    before = count_rows()

    with pytest.raises(PermissionDenied):
        update_contribution(
            actor=outsider,
            contribution=contribution,
            figures=figures_data(world, spent=Decimal("1")),
            expected_version=None,
        )

    assert not outsider.has_perm("frameworks.change_contribution", contribution)
    assert count_rows() == before


@pytest.mark.parametrize("reviewer", ["rc", "rco"])
def test_resident_coordinator_and_rc_office_both_validate(world, reviewer):
    contribution = _contribution_in(world, "submitted")

    validate_contribution(actor=getattr(world, reviewer), contribution=contribution)

    assert _reload(contribution).validated_revision is not None


def test_rc_office_of_another_team_cannot_review(world):
    contribution = _contribution_in(world, "submitted")

    with pytest.raises(PermissionDenied):
        validate_contribution(actor=world.rco_other_team, contribution=contribution)

    assert _reload(contribution).status == WorkflowStatus.SUBMITTED


def test_focal_point_of_two_teams_acts_only_where_the_agency_is_own(world):
    """UNDP's focal point in Nigeria also holds a WFP focal-point role in Somalia:
    neither role lets them touch UNDP's Somali record."""
    MembershipFactory(
        user=world.fp_undp_other_team,
        country_team=world.team,
        role=Role.FOCAL_POINT,
        agency=world.wfp,
    )
    contribution = _contribution_in(world, "draft")
    user = world.fp_undp_other_team

    assert user.has_perm("frameworks.view_contribution", contribution)
    assert not user.has_perm("frameworks.change_contribution", contribution)
    with pytest.raises(PermissionDenied):
        submit_contribution(actor=user, contribution=contribution)
    assert _reload(contribution).status == WorkflowStatus.DRAFT


def test_team_wide_measurement_belongs_to_the_rc_office(world):
    measurement = IndicatorMeasurementFactory(indicator=world.number_indicator)

    assert world.rco.has_perm("frameworks.change_indicatormeasurement", measurement)
    assert not world.fp_undp.has_perm(
        "frameworks.change_indicatormeasurement", measurement
    )
    assert IndicatorMeasurement.objects.visible_to(world.fp_undp).count() == 1
    assert (
        IndicatorMeasurement.objects.visible_to(world.fp_undp_other_team).count() == 0
    )
