from io import StringIO

import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.core.management import call_command

from coordination.models import CountryTeam, Membership, Role, User
from frameworks.demo import DemoDataError, seed_demo
from frameworks.demo import seed as demo_seed
from frameworks.models import (
    CommonChapterCommitment,
    CooperationFramework,
    FrameworkStatus,
    Indicator,
    IndicatorDirection,
    IndicatorUnit,
    JointProgramme,
    Outcome,
    SdgGoal,
)

pytestmark = pytest.mark.django_db

DEMO_APPS = ("coordination", "frameworks", "reporting")


def row_counts() -> dict[str, int]:
    """Rows of every table of the portal's apps, history and M2M tables included."""
    return {
        model._meta.label: model._default_manager.count()
        for label in DEMO_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }


@pytest.fixture
def demo():
    return seed_demo()


def test_seed_demo_loads_missing_reference_data_first(demo):
    assert demo.loaded_reference_data
    assert SdgGoal.objects.count() == 17


def test_seed_demo_creates_the_four_country_teams(demo):
    teams = {t.code: t for t in CountryTeam.objects.all()}
    assert set(teams) == {"SOM", "DOM", "AFG", "NGA"}
    assert teams["SOM"].context == "protracted_crisis"
    assert teams["AFG"].region == "asia_pacific"
    assert teams["DOM"].region == "latin_america_caribbean"
    assert len(demo.created_teams) == 4
    assert demo.existing_teams == ()
    somalia_agencies = set(teams["SOM"].agencies.values_list("code", flat=True))
    assert {"UNDP", "UNFPA", "UNOPS", "UNICEF", "UN-Women", "WFP"} <= somalia_agencies


def test_seed_demo_creates_an_account_for_every_role(demo):
    def roles(username):
        return set(
            Membership.objects.filter(user__username=username).values_list(
                "country_team__code", "role", "agency__code"
            )
        )

    assert roles("rc.somalia") == {("SOM", Role.RESIDENT_COORDINATOR, None)}
    assert roles("rco.somalia") == {("SOM", Role.RC_OFFICE, None)}
    assert roles("unicef.somalia") == {("SOM", Role.FOCAL_POINT, "UNICEF")}
    assert roles("wfp.somalia") == {("SOM", Role.FOCAL_POINT, "WFP")}
    assert roles("fao.focal") == {
        ("AFG", Role.FOCAL_POINT, "FAO"),
        ("NGA", Role.FOCAL_POINT, "FAO"),
    }
    board = User.objects.get(username="board")
    assert board.is_board_member
    assert not board.memberships.exists()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    for code in ("SOM", "DOM", "AFG", "NGA"):
        team = CountryTeam.objects.get(code=code)
        assert team.resident_coordinator is not None
        assert team.memberships.filter(role=Role.RC_OFFICE).exists()
    assert User.objects.get(username="unicef.somalia").agency.code == "UNICEF"


def test_seed_demo_accounts_sign_in_with_the_demo_password(demo, client):
    for username in ("rc.somalia", "wfp.somalia", "board", "admin"):
        assert client.login(username=username, password=settings.DEMO_PASSWORD)


def test_seed_demo_describes_each_account(demo):
    accounts = {a.username: a for a in demo.accounts}
    assert accounts["rc.somalia"].role == "Resident Coordinator"
    assert accounts["unicef.somalia"].scope == "UNICEF / SOM"
    assert accounts["fao.focal"].scope == "FAO / AFG, NGA"
    assert accounts["board"].role == "Executive Board member"
    assert accounts["admin"].role == "Administrator"


def test_seed_demo_flags_the_four_somali_collective_outcomes(demo):
    collective = Outcome.objects.collective().filter(
        framework__country_team__code="SOM"
    )
    statements = " ".join(o.statement.lower() for o in collective)
    assert collective.count() == 4
    for words in ("food insecurity", "durable solutions", "basic social services"):
        assert words in statements
    assert "climate" in statements
    for outcome in collective:
        assert outcome.sdg_targets.exists()
        assert outcome.lead_agencies.exists()
        assert outcome.outputs.count() >= 2
        assert outcome.indicators.exists()
    assert not Outcome.objects.collective().exclude(framework__country_team__code="SOM")


def test_seed_demo_signs_off_one_active_framework_per_team(demo):
    active = CooperationFramework.objects.active().select_related(
        "country_team", "signed_off_by"
    )
    assert {f.country_team.code for f in active} == {"SOM", "DOM", "AFG", "NGA"}
    for framework in active:
        assert framework.signed_off_by == framework.country_team.resident_coordinator
        assert framework.priorities.exists()
    closed = CooperationFramework.objects.get(status=FrameworkStatus.CLOSED)
    assert closed.country_team.code == "DOM"
    assert closed.end_year == 2022


def test_seed_demo_indicators_are_varied(demo):
    indicators = Indicator.objects.filter(framework__country_team__code="SOM")
    assert indicators.filter(outcome__isnull=False).exists()
    assert indicators.filter(output__isnull=False).exists()
    assert indicators.filter(unit=IndicatorUnit.PERCENTAGE).exists()
    assert indicators.filter(unit=IndicatorUnit.NUMBER).exists()
    assert indicators.filter(direction=IndicatorDirection.DESCENDING).exists()
    assert indicators.filter(sdg_indicator__isnull=False).exists()
    assert any(i.disaggregations for i in indicators)
    wasting = indicators.get(code="3.1-b")
    assert wasting.direction == IndicatorDirection.DESCENDING
    assert wasting.sdg_indicator.code == "2.2.2"
    assert wasting.baseline_year == 2020
    assert wasting.target_year == 2025


def test_seed_demo_creates_the_spotlight_programme(demo):
    spotlight = (
        JointProgramme.objects.with_budget()
        .select_related("country_team", "convening_agency")
        .get(fund="Spotlight Initiative")
    )
    assert spotlight.country_team.code == "NGA"
    assert spotlight.gender_marker == 3
    assert spotlight.convening_agency.code == "UN-Women"
    assert set(spotlight.agencies.values_list("code", flat=True)) == {
        "UNDP",
        "UNFPA",
        "UN-Women",
    }
    assert spotlight.total_budget > 0
    assert spotlight.outcomes.exists()
    assert set(spotlight.sdg_targets.values_list("code", flat=True)) >= {"5.2"}


def test_seed_demo_creates_other_joint_programmes_and_commitments(demo):
    assert JointProgramme.objects.filter(
        country_team__code="DOM", fund="Joint SDG Fund"
    ).exists()
    assert JointProgramme.objects.filter(
        country_team__code="SOM", title__icontains="resilience"
    ).exists()
    for code in ("SOM", "DOM", "AFG", "NGA"):
        commitments = CommonChapterCommitment.objects.filter(country_team__code=code)
        assert commitments.count() >= 3
        assert commitments.filter(agencies__isnull=False).exists()
    assert CommonChapterCommitment.objects.filter(kind="accelerator").exists()


def test_seed_demo_twice_changes_no_row(demo):
    before = row_counts()
    again = seed_demo()
    assert row_counts() == before
    assert again.created_teams == ()
    assert len(again.existing_teams) == 4
    assert not again.loaded_reference_data


def test_seed_demo_leaves_changed_demo_accounts_alone(demo):
    rc = User.objects.get(username="rc.somalia")
    rc.set_password("changed-by-its-owner")
    rc.save()
    Membership.objects.filter(user__username="rco.somalia").delete()
    seed_demo()
    rc.refresh_from_db()
    assert rc.check_password("changed-by-its-owner")
    assert not Membership.objects.filter(user__username="rco.somalia").exists()


def test_seed_demo_names_the_bad_entry_in_the_demo_files(tmp_path, monkeypatch):
    team = {
        "code": "XKX",
        "name": "Demo",
        "iso_alpha2": "XK",
        "region": "europe_central_asia",
        "context": "development",
        "agencies": ["NOPE"],
    }
    (tmp_path / "demo.yml").write_text(yaml.safe_dump(team), encoding="utf-8")
    monkeypatch.setattr(demo_seed, "TEAMS_DIR", tmp_path)
    with pytest.raises(DemoDataError, match="NOPE"):
        seed_demo()
    assert not CountryTeam.objects.exists()


def test_seed_demo_command_prints_the_accounts_and_password():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "Created demo team Somalia (SOM)." in text
    for username in ("rc.somalia", "rco.somalia", "unicef.somalia", "board", "admin"):
        assert username in text
    assert settings.DEMO_PASSWORD in text
    assert "http://127.0.0.1:8000/" in text

    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Already present, left unchanged" in out.getvalue()
    assert "rc.somalia" in out.getvalue()
