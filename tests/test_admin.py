"""The admin: every model registered, every page answers, changelists stay flat."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalChanges

from coordination.models import (
    AdminRegion,
    CountryTeam,
    Membership,
    Role,
    TeamAgency,
    User,
)
from frameworks.models import (
    CommonChapterCommitment,
    Contribution,
    CooperationFramework,
    FrameworkStatus,
    Indicator,
    IndicatorMeasurement,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    SdgIndicator,
    StrategicPriority,
    WorkflowAction,
    WorkflowEvent,
)
from reporting.models import TeamSnapshot
from reporting.services import refresh_team_snapshot
from tests.coordination.factories import (
    AgencyFactory,
    CountryTeamFactory,
    MembershipFactory,
    TeamAgencyFactory,
    UserFactory,
)
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    FrameworkFactory,
    IndicatorFactory,
    JointProgrammeFactory,
    OutcomeFactory,
    OutputFactory,
    ParticipantFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    ResultValueFactory,
)

pytestmark = pytest.mark.django_db

PORTAL_APPS = ("coordination", "frameworks", "reporting")
REGISTERED = list(admin.site._registry)


def portal_models() -> list[type]:
    """The portal's own models, without the history tables simple_history adds."""
    return [
        model
        for label in PORTAL_APPS
        for model in apps.get_app_config(label).get_models()
        if not issubclass(model, HistoricalChanges)
    ]


def url(model: type, view: str, *args: object) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    # The manifest storage of production needs collectstatic; pages only need URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture
def superuser():
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def team():
    return CountryTeamFactory(code="SOM", name="Somalia", iso_alpha2="SO")


# --- One row of everything, for pages that must render real rows -----------------


def _commitment(team, n: int = 0) -> CommonChapterCommitment:
    commitment = CommonChapterCommitment.objects.create(
        country_team=team,
        area=CommonChapterAreaFactory(),
        title=f"Commitment {n}",
        year=2022,
    )
    commitment.agencies.set([AgencyFactory()])
    return commitment


def _sdg_indicator(n: int = 0) -> SdgIndicator:
    target = SdgTargetFactory(goal=SdgGoalFactory(number=(n % 17) + 1))
    return SdgIndicator.objects.create(
        code=f"{target.code}.{n}", target=target, sort_key=n, titles={"en": "Text"}
    )


def _snapshot(n: int = 0) -> TeamSnapshot:
    return refresh_team_snapshot(team_id=CountryTeamFactory().pk)


def _workflow_event(framework) -> WorkflowEvent:
    team = framework.country_team
    activity = JointActivityFactory(country_team=team, framework=framework)
    return WorkflowEvent.objects.create(
        country_team=team,
        activity=activity,
        action=WorkflowAction.CREATED,
        actor=UserFactory(),
    )


@pytest.fixture
def populated(team, superuser):
    """A row in every portal table, linked the way real data is."""
    agency = AgencyFactory(code="UNICEF")
    TeamAgencyFactory(country_team=team, agency=agency)
    MembershipFactory(country_team=team, role=Role.FOCAL_POINT, agency=agency)
    AdminRegion.objects.create(country_team=team, code="SO-BN", name="Banaadir")
    framework = FrameworkFactory(country_team=team)
    priority = StrategicPriority.objects.create(framework=framework, code="SP1")
    outcome = OutcomeFactory(framework=framework, strategic_priority=priority)
    output = OutputFactory(outcome=outcome)
    IndicatorFactory(output=output, sdg_indicator=_sdg_indicator())
    ParticipantFactory(programme=JointProgrammeFactory(country_team=team))
    _commitment(team)
    contribution = ContributionFactory(
        activity__country_team=team, activity__framework=framework
    )
    ResultValueFactory(revision=contribution.current_revision)
    IndicatorMeasurementFactory()
    _workflow_event(framework)
    refresh_team_snapshot(team_id=team.pk)
    return team


# --- Registration ------------------------------------------------------------------


def test_admin_registers_every_portal_model():
    missing = [m._meta.label for m in portal_models() if m not in admin.site._registry]
    assert missing == []


def test_admin_shows_history_for_models_that_keep_it():
    for model in portal_models():
        if hasattr(model, "history"):
            assert isinstance(admin.site._registry[model], SimpleHistoryAdmin), model


# --- Every page answers ------------------------------------------------------------


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_admin_changelist_and_add_page_answer(admin_client, populated, model):
    model_admin = admin.site._registry[model]
    assert admin_client.get(url(model, "changelist")).status_code == 200
    add = admin_client.get(url(model, "add"))
    request = add.wsgi_request
    # Workflow records and derived rows are shown, never added by hand.
    assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)
    obj = model._default_manager.first()
    if obj is not None:
        assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


def test_admin_search_answers_on_portal_models(admin_client, populated):
    for model in portal_models():
        if admin.site._registry[model].search_fields:
            response = admin_client.get(url(model, "changelist"), {"q": "som"})
            assert response.status_code == 200, model


# --- Changelists: a fixed number of queries, whatever the number of rows -----------


def _rows(team) -> dict[type, Callable[[int], object]]:
    """How to add one more row (number n) of a model, with its links filled in."""
    framework = FrameworkFactory(country_team=team)
    agency = AgencyFactory(code="WFP")
    TeamAgencyFactory(country_team=team, agency=agency)
    return {
        Membership: lambda n: MembershipFactory(
            country_team=team, role=Role.FOCAL_POINT, agency=agency
        ),
        TeamAgency: lambda n: TeamAgencyFactory(country_team=team),
        Outcome: lambda n: OutcomeFactory(
            framework=framework,
            strategic_priority=StrategicPriority.objects.create(
                framework=framework, code=f"SP{n}"
            ),
        ),
        Output: lambda n: OutputFactory(outcome=OutcomeFactory(framework=framework)),
        Indicator: lambda n: IndicatorFactory(
            output=OutputFactory(outcome=OutcomeFactory(framework=framework)),
            sdg_indicator=_sdg_indicator(n),
        ),
        JointProgramme: lambda n: (
            ParticipantFactory(
                programme=JointProgrammeFactory(country_team=team)
            ).programme
        ),
        JointProgrammeParticipant: lambda n: ParticipantFactory(),
        CommonChapterCommitment: lambda n: _commitment(team, n),
        SdgIndicator: _sdg_indicator,
        TeamSnapshot: _snapshot,
        User: lambda n: UserFactory(agency=AgencyFactory()),
        Contribution: lambda n: ContributionFactory(),
        IndicatorMeasurement: lambda n: IndicatorMeasurementFactory(
            agency=AgencyFactory()
        ),
        WorkflowEvent: lambda n: _workflow_event(framework),
    }


@pytest.mark.parametrize(
    "label",
    [
        "coordination.Membership",
        "coordination.TeamAgency",
        "coordination.User",
        "frameworks.Outcome",
        "frameworks.Output",
        "frameworks.Indicator",
        "frameworks.JointProgramme",
        "frameworks.JointProgrammeParticipant",
        "frameworks.CommonChapterCommitment",
        "frameworks.SdgIndicator",
        "frameworks.Contribution",
        "frameworks.IndicatorMeasurement",
        "frameworks.WorkflowEvent",
        "reporting.TeamSnapshot",
    ],
)
def test_admin_changelist_queries_do_not_grow_with_rows(admin_client, team, label):
    model = apps.get_model(label)
    add_row = _rows(team)[model]
    changelist = url(model, "changelist")
    add_row(0)
    admin_client.get(changelist)  # warms the session and content-type caches

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(changelist).status_code == 200
        return [q["sql"] for q in context.captured_queries]

    with_one = queries()
    for n in range(1, 10):
        add_row(n)
    assert model._default_manager.count() >= 10
    with_ten = queries()
    assert len(with_ten) == len(with_one), "\n".join(with_ten)


# --- Writes go through the services ------------------------------------------------


def test_membership_admin_grants_through_the_service(admin_client, team):
    person = UserFactory()
    response = admin_client.post(
        url(Membership, "add"),
        {"user": person.pk, "country_team": team.pk, "role": Role.RESIDENT_COORDINATOR},
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.resident_coordinator == person


def test_membership_admin_refuses_an_agency_outside_the_team(admin_client, team):
    outside = AgencyFactory(code="FAO")
    response = admin_client.post(
        url(Membership, "add"),
        {
            "user": UserFactory().pk,
            "country_team": team.pk,
            "role": Role.FOCAL_POINT,
            "agency": outside.pk,
        },
    )
    assert response.status_code == 200
    assert "FAO is not part of this country team." in response.content.decode()
    assert not Membership.objects.exists()


def test_membership_admin_refuses_a_second_resident_coordinator(admin_client, team):
    MembershipFactory(country_team=team, role=Role.RESIDENT_COORDINATOR)
    response = admin_client.post(
        url(Membership, "add"),
        {
            "user": UserFactory().pk,
            "country_team": team.pk,
            "role": Role.RESIDENT_COORDINATOR,
        },
    )
    assert response.status_code == 200
    assert Membership.objects.count() == 1


def test_membership_admin_delete_revokes_through_the_service(admin_client, team):
    person = UserFactory()
    admin_client.post(
        url(Membership, "add"),
        {"user": person.pk, "country_team": team.pk, "role": Role.RESIDENT_COORDINATOR},
    )
    membership = Membership.objects.get()
    response = admin_client.post(
        url(Membership, "delete", membership.pk), {"post": "yes"}
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.resident_coordinator is None
    assert not Membership.objects.exists()


def test_country_team_admin_inline_grants_memberships(admin_client, team):
    agency = AgencyFactory(code="UNDP")
    team_agency = TeamAgencyFactory(country_team=team, agency=agency)
    person = UserFactory()
    response = admin_client.post(
        url(CountryTeam, "change", team.pk),
        {
            "code": team.code,
            "name": team.name,
            "iso_alpha2": team.iso_alpha2,
            "region": team.region,
            "context": team.context,
            "status": team.status,
            "team_agencies-TOTAL_FORMS": "1",
            "team_agencies-INITIAL_FORMS": "1",
            "team_agencies-0-id": team_agency.pk,
            "team_agencies-0-country_team": team.pk,
            "team_agencies-0-agency": agency.pk,
            "team_agencies-0-is_resident": "on",
            "regions-TOTAL_FORMS": "0",
            "regions-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": person.pk,
            "memberships-0-role": Role.RESIDENT_COORDINATOR,
            "memberships-1-user": person.pk,
            "memberships-1-role": Role.FOCAL_POINT,
            "memberships-1-agency": agency.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    team.refresh_from_db()
    assert team.resident_coordinator == person
    assert set(person.memberships.values_list("role", "agency__code")) == {
        (Role.RESIDENT_COORDINATOR, None),
        (Role.FOCAL_POINT, "UNDP"),
    }


def test_framework_admin_signs_off_through_the_service(admin_client, superuser, team):
    framework = FrameworkFactory(country_team=team, status=FrameworkStatus.DRAFT)
    response = admin_client.post(
        url(CooperationFramework, "changelist"),
        {"action": "sign_off", "_selected_action": [framework.pk]},
    )
    assert response.status_code == 302
    framework.refresh_from_db()
    assert framework.status == FrameworkStatus.ACTIVE
    assert framework.signed_off_by == superuser


def test_outcome_admin_save_refreshes_the_team_snapshot(
    admin_client, team, django_capture_on_commit_callbacks
):
    framework = FrameworkFactory(country_team=team)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url(Outcome, "add"),
            {"framework": framework.pk, "code": "1.1", "statement": "Fewer hungry"},
        )
    assert response.status_code == 302
    assert TeamSnapshot.objects.get(country_team=team).outcome_count == 1


def test_snapshot_admin_recomputes_through_the_service(admin_client, team):
    snapshot = refresh_team_snapshot(team_id=team.pk)
    OutcomeFactory(framework=FrameworkFactory(country_team=team))
    response = admin_client.post(
        url(TeamSnapshot, "changelist"),
        {"action": "recompute", "_selected_action": [snapshot.pk]},
    )
    assert response.status_code == 302
    snapshot.refresh_from_db()
    assert snapshot.outcome_count == 1


def test_participant_inline_saves_budget_shares(admin_client, team):
    programme = JointProgrammeFactory(country_team=team)
    agency = AgencyFactory(code="UNFPA")
    data = {
        "country_team": team.pk,
        "title": programme.title,
        "fund": "Spotlight Initiative",
        "convening_agency": programme.convening_agency.pk,
        "start_date": "2019-01-01",
        "end_date": "2023-12-31",
        "gender_marker": 3,
        "status": "active",
        "participants-TOTAL_FORMS": "1",
        "participants-INITIAL_FORMS": "0",
        "participants-0-agency": agency.pk,
        "participants-0-budget_share": "2500000",
    }
    response = admin_client.post(url(JointProgramme, "change", programme.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    share = programme.participants.get()
    assert (share.agency, share.budget_share) == (agency, Decimal("2500000"))
    programme.refresh_from_db()
    assert programme.end_date == datetime.date(2023, 12, 31)
