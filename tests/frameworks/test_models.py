import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import translation

from coordination.models import Role
from frameworks.models import (
    CommonChapterArea,
    CommonChapterCommitment,
    CooperationFramework,
    FrameworkStatus,
    Indicator,
    IndicatorUnit,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    SdgGoal,
    SdgIndicator,
    SdgTarget,
    StrategicPriority,
    text_in_language,
)
from tests.coordination.factories import AgencyFactory, MembershipFactory, UserFactory
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

pytestmark = pytest.mark.django_db


@pytest.fixture
def framework(team):
    return FrameworkFactory(country_team=team, title="Somalia UNSDCF")


@pytest.fixture
def other_framework(other_team):
    return FrameworkFactory(country_team=other_team)


@pytest.fixture
def outcome(framework):
    return OutcomeFactory(framework=framework, code="OC1")


@pytest.fixture
def output(outcome):
    return OutputFactory(outcome=outcome, code="OP1.1")


def indicator_row(output, /, **fields):
    values = {
        "framework": output.framework,
        "output": output,
        "code": "IND",
        "name": "Share of births attended by skilled personnel",
    } | fields
    return Indicator(**values)


def programme_row(team, agency, **fields):
    values = {
        "country_team": team,
        "title": "Spotlight Initiative",
        "convening_agency": agency,
        "start_date": datetime.date(2022, 1, 1),
        "end_date": datetime.date(2024, 12, 31),
    } | fields
    return JointProgramme(**values)


# --- Cooperation Framework invariants ----------------------------------------------


def test_framework_one_active_per_team(team, framework):
    with pytest.raises(IntegrityError), transaction.atomic():
        CooperationFramework.objects.create(
            country_team=team,
            title="A second active one",
            start_year=2026,
            end_year=2030,
            status=FrameworkStatus.ACTIVE,
        )


def test_framework_active_constraint_also_guards_bulk_updates(team, framework):
    draft = FrameworkFactory(country_team=team, status=FrameworkStatus.DRAFT)
    with pytest.raises(IntegrityError), transaction.atomic():
        CooperationFramework.objects.filter(pk=draft.pk).update(
            status=FrameworkStatus.ACTIVE
        )
    draft.refresh_from_db()
    assert draft.status == FrameworkStatus.DRAFT


def test_framework_allows_many_drafts_and_closed_beside_the_active_one(
    team, framework, other_framework
):
    CooperationFramework.objects.bulk_create(
        CooperationFramework(
            country_team=team,
            title=f"{status} {n}",
            start_year=2016,
            end_year=2020,
            status=status,
        )
        for status in (FrameworkStatus.DRAFT, FrameworkStatus.CLOSED)
        for n in range(2)
    )
    assert CooperationFramework.objects.filter(country_team=team).count() == 5
    assert CooperationFramework.objects.active().count() == 2


def test_framework_end_year_not_before_start_year(team):
    with pytest.raises(IntegrityError), transaction.atomic():
        FrameworkFactory(country_team=team, start_year=2025, end_year=2024)


def test_framework_may_last_a_single_year(team):
    framework = FrameworkFactory(country_team=team, start_year=2025, end_year=2025)
    assert list(framework.years) == [2025]


@pytest.mark.parametrize(
    "make",
    [
        lambda fw, code: StrategicPriority.objects.create(
            framework=fw, code=code, title="Peace"
        ),
        lambda fw, code: OutcomeFactory(framework=fw, code=code),
        lambda fw, code: OutputFactory(outcome__framework=fw, code=code),
        lambda fw, code: IndicatorFactory(output__outcome__framework=fw, code=code),
    ],
    ids=["strategic_priority", "outcome", "output", "indicator"],
)
def test_codes_are_unique_within_a_framework_only(make, framework, other_framework):
    make(framework, "X1")
    make(other_framework, "X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        make(framework, "X1")


# --- Indicator invariants ----------------------------------------------------------


def test_indicator_may_not_sit_on_both_outcome_and_output(outcome, output):
    with pytest.raises(IntegrityError), transaction.atomic():
        indicator_row(output, outcome=outcome).save()


def test_indicator_must_sit_on_an_outcome_or_output(output):
    with pytest.raises(IntegrityError), transaction.atomic():
        indicator_row(output, output=None).save()


def test_indicator_may_sit_on_an_outcome_alone(outcome, output):
    indicator = indicator_row(output, output=None, outcome=outcome)
    indicator.save()
    assert indicator.level == "outcome"
    assert IndicatorFactory(output=output).level == "output"


def test_indicator_target_year_not_before_baseline_year(output):
    with pytest.raises(IntegrityError), transaction.atomic():
        indicator_row(output, baseline_year=2022, target_year=2021).save()


@pytest.mark.parametrize(
    ("baseline_year", "target_year"), [(2022, 2022), (None, 2021), (2022, None)]
)
def test_indicator_years_may_match_or_be_missing(output, baseline_year, target_year):
    indicator_row(output, baseline_year=baseline_year, target_year=target_year).save()
    assert Indicator.objects.filter(output=output).count() == 1


@pytest.mark.parametrize(
    ("baseline", "target"),
    [("-0.01", "50"), ("100.01", "50"), ("10", "-1"), ("10", "150")],
)
def test_indicator_percentages_stay_between_0_and_100(output, baseline, target):
    with pytest.raises(IntegrityError), transaction.atomic():
        indicator_row(
            output,
            unit=IndicatorUnit.PERCENTAGE,
            baseline_value=Decimal(baseline),
            target_value=Decimal(target),
        ).save()


def test_indicator_percentage_bounds_are_inclusive_and_unit_specific(output):
    indicator_row(
        output,
        code="PCT",
        unit=IndicatorUnit.PERCENTAGE,
        baseline_value=Decimal(0),
        target_value=Decimal(100),
    ).save()
    indicator_row(
        output,
        code="NUM",
        unit=IndicatorUnit.NUMBER,
        baseline_value=Decimal(-5),
        target_value=Decimal(250000),
    ).save()
    assert set(Indicator.objects.values_list("code", flat=True)) == {"PCT", "NUM"}


def test_indicator_percentage_constraint_also_guards_unit_changes(output):
    indicator = IndicatorFactory(output=output, target_value=Decimal(500))
    with pytest.raises(IntegrityError), transaction.atomic():
        Indicator.objects.filter(pk=indicator.pk).update(unit=IndicatorUnit.PERCENTAGE)


# --- Joint programme invariants ----------------------------------------------------


def test_programme_end_not_before_start(team, undp):
    with pytest.raises(IntegrityError), transaction.atomic():
        programme_row(
            team,
            undp,
            start_date=datetime.date(2024, 1, 1),
            end_date=datetime.date(2023, 12, 31),
        ).save()


def test_programme_may_start_and_end_on_one_day(team, undp):
    day = datetime.date(2024, 6, 1)
    programme_row(team, undp, start_date=day, end_date=day).save()
    assert JointProgramme.objects.filter(start_date=day, end_date=day).exists()


@pytest.mark.parametrize("marker", [4, 9])
def test_programme_gender_marker_is_0_to_3(team, undp, marker):
    with pytest.raises(IntegrityError), transaction.atomic():
        programme_row(team, undp, gender_marker=marker).save()


def test_programme_gender_marker_constraint_also_guards_bulk_updates(team):
    programme = JointProgrammeFactory(country_team=team, gender_marker=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        JointProgramme.objects.filter(pk=programme.pk).update(gender_marker=4)


def test_participant_budget_share_is_not_negative(team, undp):
    programme = JointProgrammeFactory(country_team=team)
    with pytest.raises(IntegrityError), transaction.atomic():
        JointProgrammeParticipant.objects.create(
            programme=programme, agency=undp, budget_share=Decimal("-0.01")
        )


def test_participant_zero_share_is_allowed(team, undp):
    share = ParticipantFactory(programme__country_team=team, budget_share=Decimal(0))
    assert share.budget_share == 0


def test_participant_one_share_per_agency_per_programme(team, undp):
    first = ParticipantFactory(programme__country_team=team, agency=undp)
    ParticipantFactory(programme__country_team=team, agency=undp)
    with pytest.raises(IntegrityError), transaction.atomic():
        JointProgrammeParticipant.objects.bulk_create(
            [JointProgrammeParticipant(programme=first.programme, agency=undp)]
        )


# --- Reference data invariants -----------------------------------------------------


@pytest.mark.parametrize("number", [0, 18])
def test_sdg_goal_number_is_1_to_17(number):
    with pytest.raises(IntegrityError), transaction.atomic():
        SdgGoal.objects.create(number=number, titles={"en": "Not a goal"})


def test_sdg_goal_accepts_1_and_17():
    SdgGoal.objects.bulk_create([SdgGoal(number=1), SdgGoal(number=17)])
    assert list(SdgGoal.objects.values_list("number", flat=True)) == [1, 17]


def test_sdg_target_code_is_unique():
    target = SdgTargetFactory(code="5.2")
    with pytest.raises(IntegrityError), transaction.atomic():
        SdgTarget.objects.create(code="5.2", goal=target.goal)


@pytest.mark.parametrize("field", ["code", "position"])
def test_common_chapter_area_code_and_position_are_unique(field):
    area = CommonChapterAreaFactory(position=1, code="POV")
    values = {"code": "OTHER", "position": 2, "name": "Other"} | {
        field: getattr(area, field)
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        CommonChapterArea.objects.create(**values)


# --- QuerySet vocabulary -----------------------------------------------------------


def test_framework_active_excludes_draft_and_closed(team, framework):
    FrameworkFactory(country_team=team, status=FrameworkStatus.DRAFT)
    FrameworkFactory(country_team=team, status=FrameworkStatus.CLOSED)
    assert list(CooperationFramework.objects.active()) == [framework]


def test_visible_to_members_shows_only_their_teams_rows(
    team, framework, other_framework, undp
):
    own_outcome = OutcomeFactory(framework=framework)
    OutcomeFactory(framework=other_framework)
    own_programme = JointProgrammeFactory(country_team=team)
    JointProgrammeFactory(country_team=other_framework.country_team)
    user = UserFactory()
    MembershipFactory(user=user, country_team=team, role=Role.RESIDENT_COORDINATOR)
    MembershipFactory(user=user, country_team=team, role=Role.RC_OFFICE)

    assert list(CooperationFramework.objects.visible_to(user)) == [framework]
    assert list(Outcome.objects.visible_to(user)) == [own_outcome]
    assert list(JointProgramme.objects.visible_to(user)) == [own_programme]


def test_visible_to_administrator_shows_every_team(
    administrator, framework, other_framework
):
    OutcomeFactory(framework=framework)
    OutcomeFactory(framework=other_framework)
    assert CooperationFramework.objects.visible_to(administrator).count() == 2
    assert Outcome.objects.visible_to(administrator).count() == 2


@pytest.mark.parametrize("who", ["anonymous", "outsider", "board_member"])
def test_visible_to_non_members_is_empty(who, request, framework):
    OutcomeFactory(framework=framework)
    JointProgrammeFactory(country_team=framework.country_team)
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    assert not CooperationFramework.objects.visible_to(user).exists()
    assert not Outcome.objects.visible_to(user).exists()
    assert not JointProgramme.objects.visible_to(user).exists()


def test_outcome_collective_lists_only_collective_outcomes(framework):
    collective = OutcomeFactory(framework=framework, is_collective_outcome=True)
    OutcomeFactory(framework=framework)
    assert list(Outcome.objects.collective()) == [collective]


def test_programme_with_budget_sums_the_shares(team, undp, unicef):
    programme = JointProgrammeFactory(country_team=team)
    ParticipantFactory(programme=programme, agency=undp, budget_share=Decimal("1.50"))
    ParticipantFactory(programme=programme, agency=unicef, budget_share=Decimal(2))
    empty = JointProgrammeFactory(country_team=team)
    totals = dict(
        JointProgramme.objects.with_budget().values_list("pk", "total_budget")
    )
    assert totals == {programme.pk: Decimal("3.50"), empty.pk: None}


def test_commitments_for_team(team, other_team):
    area = CommonChapterAreaFactory()
    own = CommonChapterCommitment.objects.create(
        country_team=team, area=area, title="Joint data initiative", year=2022
    )
    CommonChapterCommitment.objects.create(
        country_team=other_team, area=area, title="Elsewhere", year=2022
    )
    assert list(CommonChapterCommitment.objects.for_team(team)) == [own]


# --- Model logic -------------------------------------------------------------------

TEXTS = {"en": "No poverty", "fr": "Pas de pauvreté", "zh-hans": "无贫穷"}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Pas de pauvreté"),
        ("fr-ca", "Pas de pauvreté"),
        ("zh-hans", "无贫穷"),
        ("zh-Hans", "无贫穷"),
        ("es", "No poverty"),
        ("en", "No poverty"),
    ],
)
def test_text_in_language_picks_language_or_falls_back_to_english(language, expected):
    assert text_in_language(TEXTS, language) == expected


def test_text_in_language_falls_back_on_empty_translation():
    assert text_in_language({"en": "Zero hunger", "ar": ""}, "ar") == "Zero hunger"


def test_text_in_language_without_english_is_empty():
    assert text_in_language({"fr": "Faim zéro"}, "ru") == ""


def test_text_in_language_follows_the_active_language():
    with translation.override("zh-hans"):
        assert text_in_language(TEXTS) == "无贫穷"
    with translation.override("fr"):
        assert text_in_language(TEXTS) == "Pas de pauvreté"


def test_sdg_goal_titles_follow_the_active_language():
    goal = SdgGoalFactory(
        number=5,
        titles={"en": "Achieve gender equality", "es": "Lograr la igualdad"},
        short_titles={"en": "Gender equality", "es": "Igualdad de género"},
    )
    assert str(goal) == "SDG 5: Gender equality"
    with translation.override("es"):
        assert goal.title == "Lograr la igualdad"
        assert str(goal) == "SDG 5: Igualdad de género"
    with translation.override("ru"):
        assert goal.title == "Achieve gender equality"


def test_sdg_target_and_indicator_str_cut_long_titles():
    target = SdgTargetFactory(code="1.1", titles={"en": "x" * 100})
    indicator = SdgIndicator.objects.create(
        code="1.1.1", target=target, titles={"en": "Proportion below the line"}
    )
    assert str(target) == "1.1 " + "x" * 60
    assert str(indicator) == "1.1.1 Proportion below the line"


def test_framework_str_and_years(framework):
    assert str(framework) == "Somalia UNSDCF (2021-2025)"
    assert list(framework.years) == [2021, 2022, 2023, 2024, 2025]


def test_results_str_cut_long_statements(framework):
    priority = StrategicPriority.objects.create(
        framework=framework, code="SP1", title="Peace"
    )
    outcome = OutcomeFactory(framework=framework, code="OC1", statement="s" * 100)
    output = OutputFactory(outcome=outcome, code="OP1", statement="Short")
    indicator = IndicatorFactory(output=output, code="I1", name="n" * 90)
    assert str(priority) == "SP1 Peace"
    assert str(outcome) == "OC1 " + "s" * 80
    assert str(output) == "OP1 Short"
    assert str(indicator) == "I1 " + "n" * 80


def test_results_know_their_country_team(team, framework):
    priority = StrategicPriority.objects.create(
        framework=framework, code="SP1", title="Peace"
    )
    indicator = IndicatorFactory(output__outcome__framework=framework)
    rows = [priority, indicator.output.outcome, indicator.output, indicator]
    assert {row.country_team_id for row in rows} == {team.pk}


def test_programme_participant_and_area_str(team):
    agency = AgencyFactory(code="UNFPA")
    share = ParticipantFactory(
        programme__country_team=team, programme__title="Spotlight", agency=agency
    )
    area = CommonChapterAreaFactory(name="Eradicating poverty")
    assert str(share.programme) == "Spotlight"
    assert str(share) == "UNFPA in Spotlight"
    assert str(area) == "Eradicating poverty"
