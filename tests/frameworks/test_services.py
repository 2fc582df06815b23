import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from coordination.models import Role
from frameworks.models import (
    CooperationFramework,
    FrameworkStatus,
    Indicator,
    IndicatorUnit,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    StrategicPriority,
)
from frameworks.services import (
    IndicatorSpec,
    create_framework,
    create_indicator,
    create_joint_programme,
    create_outcome,
    create_output,
    create_strategic_priority,
    sign_off_framework,
)
from reporting.models import TeamSnapshot
from tests.coordination.factories import (
    AgencyFactory,
    MembershipFactory,
    TeamAgencyFactory,
)
from tests.frameworks.factories import (
    FrameworkFactory,
    IndicatorFactory,
    OutcomeFactory,
    OutputFactory,
    SdgTargetFactory,
)

pytestmark = pytest.mark.django_db

WRITTEN_MODELS = (
    CooperationFramework,
    StrategicPriority,
    Outcome,
    Output,
    Indicator,
    JointProgramme,
    JointProgrammeParticipant,
    TeamSnapshot,
)


def row_counts():
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


@pytest.fixture
def somalia(team, undp, unicef):
    TeamAgencyFactory(country_team=team, agency=undp)
    TeamAgencyFactory(country_team=team, agency=unicef)
    return team


@pytest.fixture
def active_framework(somalia):
    return FrameworkFactory(
        country_team=somalia, start_year=2017, end_year=2020, status="active"
    )


@pytest.fixture
def draft(somalia):
    return FrameworkFactory(
        country_team=somalia, start_year=2021, end_year=2025, status="draft"
    )


@pytest.fixture
def outcome(active_framework):
    return OutcomeFactory(framework=active_framework, code="OC1")


@pytest.fixture
def output(outcome):
    return OutputFactory(outcome=outcome, code="OP1.1")


@pytest.fixture
def other_team_rc(other_team):
    return MembershipFactory(
        country_team=other_team, role=Role.RESIDENT_COORDINATOR
    ).user


@pytest.fixture
def actor(request):
    name = request.param
    return AnonymousUser() if name == "anonymous" else request.getfixturevalue(name)


COORDINATORS = ["resident_coordinator", "rco_officer", "administrator"]
NOT_COORDINATORS = [
    "focal_point",
    "board_member",
    "outsider",
    "anonymous",
    "other_team_rc",
]


class Refused:
    """Run a rejected write and check it left no row and queued no refresh behind."""

    def __init__(self, capture):
        self.capture = capture

    def __call__(self, exc_type, write, **kwargs):
        before = row_counts()
        with self.capture() as callbacks, pytest.raises(exc_type) as exc:
            write(**kwargs)
        assert row_counts() == before
        assert callbacks == []
        return exc.value


@pytest.fixture
def assert_refused(django_capture_on_commit_callbacks):
    return Refused(django_capture_on_commit_callbacks)


# --- create_framework --------------------------------------------------------------


@pytest.mark.parametrize("actor", COORDINATORS, indirect=True)
def test_create_framework_makes_a_draft_for_coordinators(
    actor, somalia, outcome, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        framework = create_framework(
            country_team=somalia,
            title="UNSDCF 2021-2025",
            start_year=2021,
            end_year=2025,
            actor=actor,
        )
    framework.refresh_from_db()
    assert (framework.status, framework.country_team) == ("draft", somalia)
    assert framework.signed_off_by is None
    # A draft does not count yet: the snapshot still shows the active framework.
    assert TeamSnapshot.objects.get(country_team=somalia).outcome_count == 1


def test_create_framework_by_a_trusted_caller(somalia):
    framework = create_framework(
        country_team=somalia, title="Seeded", start_year=2021, end_year=2021, actor=None
    )
    assert CooperationFramework.objects.get(pk=framework.pk).status == "draft"


@pytest.mark.parametrize("actor", NOT_COORDINATORS, indirect=True)
def test_create_framework_refuses_non_coordinators(actor, somalia, assert_refused):
    assert_refused(
        PermissionDenied,
        create_framework,
        country_team=somalia,
        title="UNSDCF",
        start_year=2021,
        end_year=2025,
        actor=actor,
    )


def test_create_framework_rejects_end_before_start(
    somalia, rco_officer, assert_refused
):
    error = assert_refused(
        ValidationError,
        create_framework,
        country_team=somalia,
        title="UNSDCF",
        start_year=2025,
        end_year=2021,
        actor=rco_officer,
    )
    assert "end_year" in error.message_dict


# --- sign_off_framework ------------------------------------------------------------


def test_sign_off_framework_activates_the_draft_and_closes_the_old_one(
    somalia,
    active_framework,
    draft,
    other_team,
    resident_coordinator,
    django_capture_on_commit_callbacks,
):
    other_active = FrameworkFactory(country_team=other_team, status="active")
    new_outcome, _empty_outcome = OutcomeFactory.create_batch(2, framework=draft)
    OutputFactory.create_batch(2, outcome=new_outcome)
    IndicatorFactory(output__outcome=new_outcome)
    # Rows of the framework being closed must drop out of the snapshot.
    IndicatorFactory.create_batch(3, output__outcome__framework=active_framework)

    with django_capture_on_commit_callbacks(execute=True):
        signed = sign_off_framework(framework=draft, actor=resident_coordinator)

    draft.refresh_from_db()
    active_framework.refresh_from_db()
    other_active.refresh_from_db()
    assert signed.pk == draft.pk
    assert draft.status == FrameworkStatus.ACTIVE
    assert draft.signed_off_by == resident_coordinator
    assert draft.signed_off_at is not None
    assert active_framework.status == FrameworkStatus.CLOSED
    assert other_active.status == FrameworkStatus.ACTIVE
    snapshot = TeamSnapshot.objects.get(country_team=somalia)
    assert (
        snapshot.outcome_count,
        snapshot.output_count,
        snapshot.indicator_count,
    ) == (2, 3, 1)


def test_sign_off_framework_records_the_closing_in_history(
    active_framework, draft, resident_coordinator
):
    stamped = active_framework.updated_at
    sign_off_framework(framework=draft, actor=resident_coordinator)
    latest = active_framework.history.latest()
    assert latest.status == FrameworkStatus.CLOSED
    assert latest.updated_at > stamped


def test_sign_off_framework_without_a_previous_one(draft, administrator):
    CooperationFramework.objects.exclude(pk=draft.pk).delete()
    sign_off_framework(framework=draft, actor=administrator)
    assert list(CooperationFramework.objects.active()) == [draft]


def test_sign_off_framework_by_a_trusted_caller(draft):
    sign_off_framework(framework=draft, actor=None)
    draft.refresh_from_db()
    assert (draft.status, draft.signed_off_by) == ("active", None)


@pytest.mark.parametrize("actor", ["rco_officer", *NOT_COORDINATORS], indirect=True)
def test_sign_off_framework_refuses_all_but_rc_and_admin(
    actor, active_framework, draft, assert_refused
):
    assert_refused(PermissionDenied, sign_off_framework, framework=draft, actor=actor)
    draft.refresh_from_db()
    active_framework.refresh_from_db()
    assert (draft.status, active_framework.status) == ("draft", "active")
    assert draft.signed_off_by is None


@pytest.mark.parametrize("status", [FrameworkStatus.ACTIVE, FrameworkStatus.CLOSED])
def test_sign_off_framework_rejects_non_drafts(
    status, somalia, resident_coordinator, assert_refused
):
    framework = FrameworkFactory(country_team=somalia, status=status)
    assert_refused(
        ValidationError,
        sign_off_framework,
        framework=framework,
        actor=resident_coordinator,
    )
    framework.refresh_from_db()
    assert framework.status == status
    assert framework.signed_off_at is None


def test_sign_off_framework_rejects_a_stale_draft(
    draft, resident_coordinator, assert_refused
):
    # The caller's copy still says draft; the row was closed meanwhile.
    CooperationFramework.objects.filter(pk=draft.pk).update(status="closed")
    assert_refused(
        ValidationError, sign_off_framework, framework=draft, actor=resident_coordinator
    )


def test_sign_off_framework_closes_and_opens_in_one_transaction(
    active_framework, draft, resident_coordinator, monkeypatch
):
    def fail_after_writes(team_id):
        raise RuntimeError("broker down")

    monkeypatch.setattr("frameworks.services.framework._announce", fail_after_writes)
    with pytest.raises(RuntimeError):
        sign_off_framework(framework=draft, actor=resident_coordinator)
    active_framework.refresh_from_db()
    draft.refresh_from_db()
    assert (active_framework.status, draft.status) == ("active", "draft")


# --- create_strategic_priority -----------------------------------------------------


def test_create_strategic_priority(active_framework, rco_officer):
    priority = create_strategic_priority(
        framework=active_framework, code="SP1", title="Peace", actor=rco_officer
    )
    assert StrategicPriority.objects.get(framework=active_framework) == priority


def test_create_strategic_priority_rejects_a_taken_code(
    active_framework, rco_officer, assert_refused
):
    StrategicPriority.objects.create(framework=active_framework, code="SP1", title="A")
    error = assert_refused(
        ValidationError,
        create_strategic_priority,
        framework=active_framework,
        code="SP1",
        title="B",
        actor=rco_officer,
    )
    assert "code" in error.message_dict


def test_create_strategic_priority_refuses_focal_points(
    active_framework, focal_point, assert_refused
):
    assert_refused(
        PermissionDenied,
        create_strategic_priority,
        framework=active_framework,
        code="SP1",
        title="Peace",
        actor=focal_point,
    )


# --- create_outcome ----------------------------------------------------------------


def test_create_outcome_with_priority_targets_and_leads(
    somalia, active_framework, undp, rco_officer, django_capture_on_commit_callbacks
):
    priority = StrategicPriority.objects.create(
        framework=active_framework, code="SP1", title="Peace"
    )
    target = SdgTargetFactory(code="16.1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcome = create_outcome(
            framework=active_framework,
            code="OC1",
            statement="Fewer people are food insecure.",
            actor=rco_officer,
            strategic_priority=priority,
            sdg_targets=[target],
            lead_agencies=[undp],
            is_collective_outcome=True,
        )
    assert len(callbacks) == 1
    outcome.refresh_from_db()
    assert outcome.strategic_priority == priority
    assert list(outcome.sdg_targets.all()) == [target]
    assert list(outcome.lead_agencies.all()) == [undp]
    assert list(Outcome.objects.collective()) == [outcome]
    assert TeamSnapshot.objects.get(country_team=somalia).outcome_count == 1


def test_create_outcome_rejects_a_priority_of_another_framework(
    active_framework, draft, rco_officer, assert_refused
):
    elsewhere = StrategicPriority.objects.create(framework=draft, code="SP1", title="X")
    error = assert_refused(
        ValidationError,
        create_outcome,
        framework=active_framework,
        code="OC1",
        statement="Statement",
        actor=rco_officer,
        strategic_priority=elsewhere,
    )
    assert "strategic_priority" in error.message_dict


def test_create_outcome_rejects_a_taken_code(
    active_framework, outcome, rco_officer, assert_refused
):
    error = assert_refused(
        ValidationError,
        create_outcome,
        framework=active_framework,
        code=outcome.code,
        statement="Statement",
        actor=rco_officer,
    )
    assert "code" in error.message_dict


def test_create_outcome_allows_a_code_used_in_another_framework(
    draft, outcome, rco_officer
):
    again = create_outcome(
        framework=draft, code=outcome.code, statement="Same code", actor=rco_officer
    )
    assert again.framework == draft


@pytest.mark.parametrize("actor", NOT_COORDINATORS, indirect=True)
def test_create_outcome_refuses_non_coordinators(
    actor, active_framework, assert_refused
):
    assert_refused(
        PermissionDenied,
        create_outcome,
        framework=active_framework,
        code="OC1",
        statement="Statement",
        actor=actor,
    )


# --- create_output -----------------------------------------------------------------


def test_create_output_takes_the_outcomes_framework(
    somalia, outcome, undp, unicef, rco_officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = create_output(
            outcome=outcome,
            code="OP1.1",
            statement="Health workers are trained.",
            actor=rco_officer,
            contributing_agencies=[undp, unicef],
        )
    output.refresh_from_db()
    assert output.framework_id == outcome.framework_id
    assert set(output.contributing_agencies.all()) == {undp, unicef}
    snapshot = TeamSnapshot.objects.get(country_team=somalia)
    assert (snapshot.outcome_count, snapshot.output_count) == (1, 1)


def test_create_output_rejects_a_taken_code(
    outcome, output, rco_officer, assert_refused
):
    other_outcome = OutcomeFactory(framework=outcome.framework)
    error = assert_refused(
        ValidationError,
        create_output,
        outcome=other_outcome,
        code=output.code,
        statement="Statement",
        actor=rco_officer,
    )
    assert "code" in error.message_dict


@pytest.mark.parametrize("actor", NOT_COORDINATORS, indirect=True)
def test_create_output_refuses_non_coordinators(actor, outcome, assert_refused):
    assert_refused(
        PermissionDenied,
        create_output,
        outcome=outcome,
        code="OP1",
        statement="Statement",
        actor=actor,
    )


# --- create_indicator --------------------------------------------------------------


@pytest.mark.parametrize("level", ["outcome", "output"])
def test_create_indicator_on_one_level(
    level, somalia, output, rco_officer, django_capture_on_commit_callbacks
):
    parent = output if level == "output" else output.outcome
    spec = IndicatorSpec(
        code="IND1",
        name="Births attended by skilled personnel",
        unit=IndicatorUnit.PERCENTAGE,
        baseline_value=Decimal(0),
        baseline_year=2020,
        target_value=Decimal(100),
        target_year=2025,
        disaggregations=("sex", "location"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        indicator = create_indicator(spec=spec, actor=rco_officer, **{level: parent})
    indicator.refresh_from_db()
    assert indicator.level == level
    assert indicator.framework_id == output.framework_id
    assert indicator.disaggregations == ["sex", "location"]
    assert TeamSnapshot.objects.get(country_team=somalia).indicator_count == 1


@pytest.mark.parametrize("parents", ["both", "neither"])
def test_create_indicator_needs_exactly_one_parent(
    parents, output, rco_officer, assert_refused
):
    kwargs = {"outcome": output.outcome, "output": output} if parents == "both" else {}
    assert_refused(
        ValidationError,
        create_indicator,
        spec=IndicatorSpec(code="IND1", name="Name"),
        actor=rco_officer,
        **kwargs,
    )


def test_create_indicator_rejects_unknown_dimensions(
    output, rco_officer, assert_refused
):
    error = assert_refused(
        ValidationError,
        create_indicator,
        spec=IndicatorSpec(
            code="IND1", name="Name", disaggregations=("sex", "colour", "caste")
        ),
        actor=rco_officer,
        output=output,
    )
    assert error.message_dict["disaggregations"] == [
        "Unknown dimensions: caste, colour"
    ]


@pytest.mark.parametrize(
    ("baseline", "target"),
    [("-1", "50"), ("100.5", "50"), ("10", "-0.01"), ("10", "101")],
)
def test_create_indicator_rejects_percentages_outside_0_to_100(
    baseline, target, output, rco_officer, assert_refused
):
    spec = IndicatorSpec(
        code="IND1",
        name="Name",
        unit=IndicatorUnit.PERCENTAGE,
        baseline_value=Decimal(baseline),
        target_value=Decimal(target),
    )
    error = assert_refused(
        ValidationError, create_indicator, spec=spec, actor=rco_officer, output=output
    )
    assert "indicator_percentages_0_to_100" in str(error)


def test_create_indicator_allows_large_numbers_when_not_a_percentage(
    output, rco_officer
):
    spec = IndicatorSpec(
        code="IND1", name="People reached", target_value=Decimal(1_000_000)
    )
    indicator = create_indicator(spec=spec, actor=rco_officer, output=output)
    assert Indicator.objects.get(pk=indicator.pk).target_value == 1_000_000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"baseline_year": 2022, "target_year": 2021}, "indicator_target_not_before"),
        ({"unit": "furlongs"}, "unit"),
        ({"across_agencies": "median"}, "across_agencies"),
        ({"name": ""}, "name"),
    ],
)
def test_create_indicator_rejects_invalid_fields(
    changes, message, output, rco_officer, assert_refused
):
    spec = IndicatorSpec(**({"code": "IND1", "name": "Name"} | changes))
    error = assert_refused(
        ValidationError, create_indicator, spec=spec, actor=rco_officer, output=output
    )
    assert message in str(error)


def test_create_indicator_rejects_a_taken_code(output, rco_officer, assert_refused):
    IndicatorFactory(output=output, code="IND1")
    other_output = OutputFactory(outcome=output.outcome)
    error = assert_refused(
        ValidationError,
        create_indicator,
        spec=IndicatorSpec(code="IND1", name="Name"),
        actor=rco_officer,
        output=other_output,
    )
    assert "code" in error.message_dict


@pytest.mark.parametrize("actor", NOT_COORDINATORS, indirect=True)
def test_create_indicator_refuses_non_coordinators(actor, output, assert_refused):
    assert_refused(
        PermissionDenied,
        create_indicator,
        spec=IndicatorSpec(code="IND1", name="Name"),
        actor=actor,
        output=output,
    )


# --- create_joint_programme --------------------------------------------------------


@pytest.fixture
def programme_input(somalia, undp, unicef, outcome):
    return {
        "country_team": somalia,
        "title": "Spotlight Initiative Somalia",
        "convening_agency": undp,
        "start_date": datetime.date(2022, 1, 1),
        "end_date": datetime.date(2024, 12, 31),
        "budget_shares": {undp: Decimal("600000"), unicef: Decimal("400000.50")},
        "fund": "Spotlight Initiative",
        "outcomes": [outcome],
        "gender_marker": 3,
    }


def test_create_joint_programme(
    programme_input,
    somalia,
    undp,
    unicef,
    outcome,
    rco_officer,
    django_capture_on_commit_callbacks,
):
    target = SdgTargetFactory(code="5.2")
    with django_capture_on_commit_callbacks(execute=True):
        programme = create_joint_programme(
            **programme_input, sdg_targets=[target], actor=rco_officer
        )
    stored = JointProgramme.objects.with_budget().get(pk=programme.pk)
    assert stored.total_budget == Decimal("1000000.50")
    assert stored.convening_agency == undp
    assert (stored.status, stored.gender_marker) == ("active", 3)
    assert dict(stored.participants.values_list("agency__code", "budget_share")) == {
        "UNDP": Decimal("600000.00"),
        "UNICEF": Decimal("400000.50"),
    }
    assert list(stored.outcomes.all()) == [outcome]
    assert list(stored.sdg_targets.all()) == [target]
    snapshot = TeamSnapshot.objects.get(country_team=somalia)
    assert (snapshot.programme_count, snapshot.programme_budget) == (
        1,
        Decimal("1000000.50"),
    )


def test_create_joint_programme_accepts_zero_shares(programme_input, undp, unicef):
    programme_input["budget_shares"] = {undp: Decimal(0), unicef: Decimal(0)}
    programme = create_joint_programme(**programme_input, actor=None)
    assert programme.participants.count() == 2


def broken_programme_input(case, programme_input, other_team):
    undp, unicef = list(programme_input["budget_shares"])
    wfp = AgencyFactory(code="WFP")
    changes = {
        "one_agency": {"budget_shares": {undp: Decimal(1)}},
        "no_agency": {"budget_shares": {}},
        "convener_not_participating": {"convening_agency": wfp},
        "negative_share": {"budget_shares": {undp: Decimal(1), unicef: Decimal(-1)}},
        "foreign_outcome": {
            "outcomes": [OutcomeFactory(framework__country_team=other_team)]
        },
        "end_before_start": {"end_date": datetime.date(2021, 12, 31)},
        "gender_marker_4": {"gender_marker": 4},
        "unknown_status": {"status": "dreaming"},
        "no_title": {"title": ""},
    }[case]
    return programme_input | changes


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("one_agency", "agencies"),
        ("no_agency", "agencies"),
        ("convener_not_participating", "convening_agency"),
        ("negative_share", "agencies"),
        ("foreign_outcome", "outcomes"),
        ("end_before_start", "end_date"),
        ("gender_marker_4", "gender_marker"),
        ("unknown_status", "status"),
        ("no_title", "title"),
    ],
)
def test_create_joint_programme_rejects_bad_input(
    case, field, programme_input, other_team, rco_officer, assert_refused
):
    kwargs = broken_programme_input(case, programme_input, other_team)
    error = assert_refused(
        ValidationError, create_joint_programme, **kwargs, actor=rco_officer
    )
    assert field in error.message_dict


@pytest.mark.parametrize("actor", NOT_COORDINATORS, indirect=True)
def test_create_joint_programme_refuses_non_coordinators(
    actor, programme_input, assert_refused
):
    assert_refused(
        PermissionDenied, create_joint_programme, **programme_input, actor=actor
    )
