"""The IATI 2.03 export: schema validity, validated figures only, the command and the
download's permissions, and a query count that does not grow with the data."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from lxml import etree

from coordination.models import CountryTeam, Role
from frameworks.demo import seed_demo
from frameworks.models import (
    Aggregation,
    Contribution,
    IndicatorUnit,
    WorkflowStatus,
)
from reporting.iati import (
    Reading,
    _period_dates,
    _spread_over_years,
    combine_readings,
    export_team_iati,
    organisation_ref,
    validate_iati,
)
from tests.coordination.factories import CountryTeamFactory, MembershipFactory
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    IndicatorFactory,
    ParticipantFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)
from tests.frameworks.joint_work_factories import (
    AdminRegionFactory,
    ContributionFactory,
    ContributionRevisionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    JointWorkWorld,
    ResultValueFactory,
    build_world,
)

pytestmark = pytest.mark.django_db

VALIDATED = WorkflowStatus.VALIDATED
# Amounts that only unvalidated revisions carry, so their absence is easy to check.
DRAFT_SPENT = Decimal("919191.91")
SUBMITTED_SPENT = Decimal("828282.82")
PENDING_SPENT = Decimal("737373.73")
RETURNED_SPENT = Decimal("646464.64")


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def transactions(root: etree._Element, code: str) -> list[Decimal]:
    return [
        Decimal(value)
        for value in root.xpath(
            f"//transaction[transaction-type/@code='{code}']/value/text()"
        )
    ]


def activity(root: etree._Element, identifier: str) -> etree._Element:
    (found,) = root.xpath(f"iati-activity[iati-identifier='{identifier}']")
    return found


def validated_contribution(world: JointWorkWorld, activity, agency, year, **figures):
    return ContributionFactory(
        activity=activity, agency=agency, year=year, status=VALIDATED, **figures
    )


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


@pytest.fixture
def rich(world: JointWorkWorld) -> dict:
    """A programme with two agencies' shares and an outcome indicator measured by
    the team; a validated activity of three agencies with figures in every state;
    and a draft activity that must not appear."""
    year = world.year
    goal_5 = SdgGoalFactory(number=5, titles={"en": "Gender equality"})
    target = SdgTargetFactory(code="5.5", goal=goal_5, titles={"en": "Leadership"})
    health = CommonChapterAreaFactory(position=3, code="CC3", name="Health")
    second_region = AdminRegionFactory(
        country_team=world.team, code="SO-BY", name="Bay"
    )
    programme = world.programme
    programme.fund = "Spotlight Initiative"
    programme.start_date = datetime.date(year, 1, 1)
    programme.end_date = datetime.date(year + 2, 6, 30)
    programme.save()
    programme.sdg_targets.set([target])
    programme.outcomes.set([world.outcome_indicator.outcome])
    ParticipantFactory(
        programme=programme, agency=world.undp, budget_share=Decimal("600000")
    )
    ParticipantFactory(
        programme=programme, agency=world.unicef, budget_share=Decimal("400000.50")
    )
    qualitative = IndicatorFactory(
        output=world.output, code="POLICY-NOTE", unit=IndicatorUnit.QUALITATIVE
    )

    activity = JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.undp,
        agencies=[world.undp, world.unicef, world.wfp],
        outputs=[world.output],
        joint_programme=programme,
        sdg_targets=[world.sdg_target, target],
        locations=[world.region, second_region],
        status=VALIDATED,
        external_ref="SOM-JA-900",
        description="Joint prevention and response services.",
    )
    activity.common_chapter_areas.set([world.area, health])

    undp = validated_contribution(
        world,
        activity,
        world.undp,
        year,
        required=Decimal("100000"),
        available=Decimal("80000"),
        spent=Decimal("50000.25"),
        funding_source="Spotlight Initiative",
    )
    ResultValueFactory(
        revision=undp.validated_revision,
        indicator=world.number_indicator,
        value=Decimal("100"),
        disaggregation={"sex": {"female": "60", "male": "40"}},
    )
    ResultValueFactory(
        revision=undp.validated_revision,
        indicator=world.percentage_indicator,
        value=None,
        numerator=Decimal("30"),
        denominator=Decimal("100"),
    )
    unicef = validated_contribution(
        world,
        activity,
        world.unicef,
        year,
        required=Decimal("50000"),
        available=Decimal("40000"),
        spent=Decimal("30000"),
        funding_source="UNICEF thematic funds",
    )
    ResultValueFactory(
        revision=unicef.validated_revision,
        indicator=world.number_indicator,
        value=Decimal("50"),
        disaggregation={"sex": {"female": "35", "male": "15"}},
    )
    ResultValueFactory(
        revision=unicef.validated_revision,
        indicator=world.percentage_indicator,
        value=None,
        numerator=Decimal("10"),
        denominator=Decimal("50"),
    )
    # Validated last year, with a change awaiting validation: the old figures stand.
    pending = validated_contribution(
        world,
        activity,
        world.unicef,
        year + 1,
        required=Decimal("20000"),
        available=Decimal("15000"),
        spent=Decimal("12000"),
    )
    revision = ContributionRevisionFactory(
        contribution=pending,
        number=2,
        status=WorkflowStatus.SUBMITTED,
        required=Decimal("25000"),
        available=Decimal("21000"),
        spent=PENDING_SPENT,
    )
    ResultValueFactory(
        revision=revision, indicator=world.number_indicator, value=Decimal("9999")
    )
    pending.current_revision = revision
    pending.save(update_fields=["current_revision"])
    submitted = ContributionFactory(
        activity=activity,
        agency=world.wfp,
        year=year,
        status=WorkflowStatus.SUBMITTED,
        spent=SUBMITTED_SPENT,
    )
    ResultValueFactory(
        revision=submitted.current_revision,
        indicator=world.number_indicator,
        value=Decimal("8888"),
    )
    ContributionFactory(
        activity=activity,
        agency=world.undp,
        year=year + 1,
        status=WorkflowStatus.DRAFT,
        spent=DRAFT_SPENT,
    )
    ContributionFactory(
        activity=activity,
        agency=world.wfp,
        year=year + 1,
        status=WorkflowStatus.RETURNED,
        spent=RETURNED_SPENT,
    )

    draft_activity = JointActivityFactory(
        country_team=world.team,
        framework=world.framework,
        agency=world.unicef,
        agencies=[world.unicef, world.undp],
        outputs=[world.output],
        title="Draft activity nobody validated",
    )
    ContributionFactory(
        activity=draft_activity, agency=world.unicef, year=year, spent=DRAFT_SPENT
    )

    IndicatorMeasurementFactory(
        indicator=world.outcome_indicator,
        country_team=world.team,
        year=year,
        value=Decimal("42"),
        status=VALIDATED,
        disaggregation={"sex": {"female": "22", "male": "20"}},
    )
    IndicatorMeasurementFactory(
        indicator=world.outcome_indicator,
        country_team=world.team,
        year=year + 1,
        value=Decimal("7777"),
        status=WorkflowStatus.SUBMITTED,
    )
    IndicatorMeasurementFactory(
        indicator=qualitative,
        country_team=world.team,
        agency=world.undp,
        year=year,
        value=None,
        text_value="Draft policy note shared with the ministry.",
        status=VALIDATED,
    )
    return {
        "activity": activity,
        "draft_activity": draft_activity,
        "programme": programme,
        "target": target,
        "contributions": [undp, unicef, pending],
    }


# --- The schema ---------------------------------------------------------------------


def test_validate_iati_accepts_a_minimal_activity_file():
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03"><iati-activity>
<iati-identifier>XM-X-1</iati-identifier>
<reporting-org ref="XM-X" type="40"><narrative>X</narrative></reporting-org>
<title><narrative>T</narrative></title>
<description><narrative>D</narrative></description>
<participating-org role="1"><narrative>F</narrative></participating-org>
<activity-status code="2"/>
<activity-date type="1" iso-date="2024-01-01"/>
</iati-activity></iati-activities>"""
    assert validate_iati(xml) == []


def test_validate_iati_names_elements_out_of_order_and_missing():
    xml = b"""<iati-activities version="2.03"><iati-activity>
<iati-identifier>XM-X-1</iati-identifier>
<title><narrative>T</narrative></title>
<reporting-org ref="XM-X" type="40"><narrative>X</narrative></reporting-org>
</iati-activity></iati-activities>"""
    errors = validate_iati(xml)
    assert errors
    assert any("reporting-org" in e or "title" in e for e in errors)


def test_validate_iati_reports_malformed_xml_and_never_resolves_entities():
    assert validate_iati(b"<iati-activities>")[0].startswith("line ")
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<iati-activities version="2.03">&e;</iati-activities>"""
    assert validate_iati(xxe) == ["line 1: an IATI file must not declare a DOCTYPE."]


# --- The export of a rich team ------------------------------------------------------


def test_export_team_iati_validates_against_the_schema(world, rich):
    xml = export_team_iati(team=world.team)
    assert validate_iati(xml) == []
    root = parse(xml)
    assert root.get("version") == "2.03"
    prefix = organisation_ref(world.team)
    assert prefix == "XM-UNPORTAL-SOM"
    assert root.xpath("iati-activity/iati-identifier/text()") == [
        f"{prefix}-JP-{rich['programme'].pk}",
        f"{prefix}-JA-{rich['activity'].pk}",
    ]
    assert set(root.xpath("iati-activity/reporting-org/@ref")) == {prefix}


def test_export_team_iati_leaves_out_activities_without_validated_work(world, rich):
    xml = export_team_iati(team=world.team)
    assert b"Draft activity nobody validated" not in xml
    assert str(rich["draft_activity"].pk) not in parse(xml).xpath(
        "iati-activity/iati-identifier/text()"
    )


def test_export_team_iati_transactions_are_exactly_the_validated_figures(world, rich):
    root = parse(export_team_iati(team=world.team))
    revisions = [c.validated_revision for c in rich["contributions"]]
    assert sorted(transactions(root, "4")) == sorted(r.spent for r in revisions)
    assert sorted(transactions(root, "2")) == sorted(r.available for r in revisions)
    assert sum(transactions(root, "4")) == Decimal("92000.25")
    text = etree.tostring(root).decode()
    for amount in (DRAFT_SPENT, SUBMITTED_SPENT, PENDING_SPENT, RETURNED_SPENT):
        assert money(amount) not in text
        assert format(amount, "f") not in text
    assert "21000" not in text
    assert "8888" not in text
    assert "9999" not in text
    assert "7777" not in text


def test_export_team_iati_budgets_per_year_from_validated_required(world, rich):
    year = world.year
    root = parse(export_team_iati(team=world.team))
    element = activity(root, f"XM-UNPORTAL-SOM-JA-{rich['activity'].pk}")
    budgets = [
        (b.find("period-start").get("iso-date"), b.findtext("value"))
        for b in element.findall("budget")
    ]
    start = rich["activity"].start_date.isoformat()
    assert budgets == [(start, "150000.00"), (f"{year + 1}-01-01", "20000.00")]


def test_export_team_iati_programme_budget_spreads_the_shares_by_year(world, rich):
    root = parse(export_team_iati(team=world.team))
    element = activity(root, f"XM-UNPORTAL-SOM-JP-{rich['programme'].pk}")
    values = [Decimal(v) for v in element.xpath("budget/value/text()")]
    assert len(values) == 3
    assert sum(values) == Decimal("1000000.50")
    assert element.xpath("budget[3]/period-end/@iso-date") == [
        f"{world.year + 2}-06-30"
    ]


def test_export_team_iati_participating_orgs_have_roles_refs_and_names(world, rich):
    world.undp.iati_identifier = "XM-DAC-41114"
    world.undp.save()
    root = parse(export_team_iati(team=world.team))
    element = activity(root, f"XM-UNPORTAL-SOM-JA-{rich['activity'].pk}")
    roles: dict[str, set[str]] = {}
    for org in element.findall("participating-org"):
        roles.setdefault(org.get("role"), set()).add(org.findtext("narrative"))
        assert org.findtext("narrative")
    # The programme's fund and the sources on validated revisions, once each.
    assert roles["1"] == {
        "Spotlight Initiative",
        "UNICEF thematic funds",
        "Joint SDG Fund",
    }
    assert roles["2"] == {world.undp.name}
    assert roles["3"] == {world.undp.name, world.unicef.name}
    assert {world.undp.name, world.unicef.name, world.wfp.name} <= roles["4"]
    assert element.xpath("participating-org[@role='2']/@ref") == ["XM-DAC-41114"]
    assert element.xpath("other-identifier/@ref") == ["SOM-JA-900"]
    assert element.xpath("related-activity/@ref") == [
        f"XM-UNPORTAL-SOM-JP-{rich['programme'].pk}"
    ]


def test_export_team_iati_tags_sectors_and_locations(world, rich):
    root = parse(export_team_iati(team=world.team))
    element = activity(root, f"XM-UNPORTAL-SOM-JA-{rich['activity'].pk}")
    tags = {(t.get("vocabulary"), t.get("code")) for t in element.findall("tag")}
    assert ("3", "5.5") in tags
    assert ("3", "5.2") in tags
    assert ("2", "5") in tags
    sectors = element.findall("sector")
    assert {s.get("code") for s in sectors} == {"CC3", "CC4"}
    assert {s.get("vocabulary") for s in sectors} == {"99"}
    assert sum(Decimal(s.get("percentage")) for s in sectors) == 100
    assert element.xpath("recipient-country/@code") == ["SO"]
    assert sorted(element.xpath("location/name/narrative/text()")) == [
        "Banaadir",
        "Bay",
    ]
    programme = activity(root, f"XM-UNPORTAL-SOM-JP-{rich['programme'].pk}")
    assert programme.xpath("tag[@vocabulary='3']/@code") == ["5.5"]
    assert len(programme.findall("location")) == 2


def test_export_team_iati_results_with_disaggregated_actuals(world, rich):
    year = world.year
    root = parse(export_team_iati(team=world.team))
    element = activity(root, f"XM-UNPORTAL-SOM-JA-{rich['activity'].pk}")
    (number,) = element.xpath(
        "result[@type='1']/indicator[starts-with(title/narrative, 'CHILDREN-VACC')]"
    )
    assert number.get("measure") == "1"
    assert number.xpath("baseline/@year") == ["2020"]
    (period,) = number.xpath(f"period[period-start/@iso-date='{year}-01-01']")
    actuals = {
        tuple((d.get("name"), d.get("value")) for d in a.findall("dimension")): a.get(
            "value"
        )
        for a in period.findall("actual")
    }
    assert actuals == {
        (): "150",
        (("sex", "female"),): "95",
        (("sex", "male"),): "55",
    }
    (percentage,) = element.xpath(
        "result/indicator[starts-with(title/narrative, 'SCHOOL-PCT')]"
    )
    assert percentage.get("measure") == "2"
    (actual,) = percentage.xpath(
        f"period[period-start/@iso-date='{year}-01-01']/actual"
    )
    assert actual.get("value") == "26.67"
    assert actual.findtext("comment/narrative") == "40 of 150"
    (target,) = number.xpath("period/target")
    assert target.get("value") == "50"


def test_export_team_iati_programme_outcomes_report_validated_measurements(world, rich):
    root = parse(export_team_iati(team=world.team))
    element = activity(root, f"XM-UNPORTAL-SOM-JP-{rich['programme'].pk}")
    (indicator,) = element.xpath(
        "result[@type='2']/indicator[starts-with(title/narrative, 'STUNTING')]"
    )
    values = {
        tuple(a.xpath("dimension/@value")): a.get("value")
        for a in indicator.xpath("period/actual")
    }
    assert values == {(): "42", ("female",): "22", ("male",): "20"}


def test_export_team_iati_follows_the_prefix_setting(world, rich, settings):
    settings.IATI_ORGANISATION_PREFIX = "XM-TEST"
    root = parse(export_team_iati(team=world.team))
    assert set(root.xpath("iati-activity/reporting-org/@ref")) == {"XM-TEST-SOM"}
    assert all(
        i.startswith("XM-TEST-SOM-")
        for i in root.xpath("iati-activity/iati-identifier/text()")
    )


# --- Every demo team ----------------------------------------------------------------


def test_export_team_iati_of_every_demo_team_validates_with_validated_figures():
    seed_demo()
    teams = list(CountryTeam.objects.order_by("code"))
    assert [t.code for t in teams] == ["AFG", "DOM", "NGA", "SOM"]
    for team in teams:
        xml = export_team_iati(team=team)
        assert validate_iati(xml) == [], team.code
        root = parse(xml)
        # Only activities the RC office validated are published, with their
        # validated contributions.
        validated = list(
            Contribution.objects.filter(
                country_team=team,
                validated_revision__isnull=False,
                activity__validated_at__isnull=False,
            ).select_related("validated_revision", "current_revision")
        )
        assert validated, team.code
        spent = Counter(
            c.validated_revision.spent for c in validated if c.validated_revision.spent
        )
        available = Counter(
            c.validated_revision.available
            for c in validated
            if c.validated_revision.available
        )
        assert Counter(transactions(root, "4")) == spent, team.code
        assert Counter(transactions(root, "2")) == available, team.code
        assert sum(transactions(root, "4")) == sum(spent.elements()), team.code
        # Budgets of activities add up to the validated `required`, to the cent.
        budgets = root.xpath(
            "iati-activity[contains(iati-identifier, '-JA-')]/budget/value/text()"
        )
        assert sum(Decimal(v) for v in budgets) == sum(
            c.validated_revision.required for c in validated
        ), team.code
        # A pending change (drafted, submitted or returned) never shows.
        pending = Contribution.objects.filter(country_team=team).exclude(
            current_revision__status=VALIDATED
        )
        validated_amounts = set(spent) | set(available)
        for contribution in pending.select_related("current_revision"):
            for amount in (
                contribution.current_revision.available,
                contribution.current_revision.spent,
            ):
                if amount not in validated_amounts:
                    assert amount not in set(transactions(root, "2")) | set(
                        transactions(root, "4")
                    ), (team.code, contribution.external_ref)


# --- Reads stay set-based -------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 10])
def test_export_team_iati_queries_do_not_grow(world, rows, django_assert_num_queries):
    for n in range(rows):
        item = JointActivityFactory(
            country_team=world.team,
            framework=world.framework,
            agency=world.undp,
            agencies=[world.undp, world.unicef],
            outputs=[world.output],
            joint_programme=world.programme,
            status=VALIDATED,
        )
        item.common_chapter_areas.set([world.area])
        contribution = validated_contribution(world, item, world.unicef, world.year)
        ResultValueFactory(
            revision=contribution.validated_revision,
            indicator=world.number_indicator,
            value=Decimal(n + 1),
            disaggregation={"sex": {"female": str(n + 1), "male": "0"}},
        )
        IndicatorMeasurementFactory(
            indicator=world.outcome_indicator,
            country_team=world.team,
            year=world.year - 1 + n % 3,
            status=VALIDATED,
        )
    world.programme.outcomes.set([world.outcome_indicator.outcome])
    ParticipantFactory(programme=world.programme, agency=world.undp)
    with django_assert_num_queries(15):
        xml = export_team_iati(team=world.team)
    assert len(parse(xml).findall("iati-activity")) == rows + 1


# --- Pieces -------------------------------------------------------------------------


def test_combine_readings_pools_percentages_and_keeps_one_reporters_breakdown():
    percentage = IndicatorFactory.build(
        unit=IndicatorUnit.PERCENTAGE, across_agencies=Aggregation.SUM
    )
    (pooled,) = combine_readings(
        percentage,
        [
            Reading(value=None, numerator=Decimal(30), denominator=Decimal(100)),
            Reading(value=None, numerator=Decimal(10), denominator=Decimal(50)),
        ],
    )
    assert round(pooled.value, 2) == Decimal("26.67")
    latest = IndicatorFactory.build(
        unit=IndicatorUnit.NUMBER, across_agencies=Aggregation.LATEST
    )
    actuals = combine_readings(
        latest,
        [
            Reading(
                value=Decimal(5), disaggregation={"sex": {"female": 5}}, order=(2,)
            ),
            Reading(
                value=Decimal(9), disaggregation={"sex": {"female": 9}}, order=(1,)
            ),
        ],
    )
    assert [(a.value, a.dimensions) for a in actuals] == [
        (Decimal(5), ()),
        (Decimal(5), (("sex", "female"),)),
    ]


def test_spread_over_years_adds_up_to_the_cent():
    parts = _spread_over_years(
        Decimal("1000000.01"), datetime.date(2022, 7, 1), datetime.date(2024, 3, 31)
    )
    assert [p[0].isoformat() for p in parts] == [
        "2022-07-01",
        "2023-01-01",
        "2024-01-01",
    ]
    assert sum(p[2] for p in parts) == Decimal("1000000.01")


def test_period_dates_understand_quarters_and_halves():
    assert _period_dates(2024, "Q4") == (
        datetime.date(2024, 10, 1),
        datetime.date(2024, 12, 31),
    )
    assert _period_dates(2024, "h1") == (
        datetime.date(2024, 1, 1),
        datetime.date(2024, 6, 30),
    )
    assert _period_dates(2024, "") == (
        datetime.date(2024, 1, 1),
        datetime.date(2024, 12, 31),
    )


# --- The command --------------------------------------------------------------------


def test_export_iati_command_writes_the_file(world, rich, tmp_path):
    path = tmp_path / "som.xml"
    call_command("export_iati", team="som", output=str(path), stderr=StringIO())
    assert validate_iati(path.read_bytes()) == []
    assert parse(path.read_bytes()).findall("iati-activity")


def test_export_iati_command_writes_to_stdout(world, rich):
    out = StringIO()
    call_command("export_iati", team="SOM", stdout=out)
    assert validate_iati(out.getvalue().encode("utf-8")) == []


def test_export_iati_command_refuses_an_unknown_team(db):
    with pytest.raises(CommandError, match="No country team with the code 'XYZ'"):
        call_command("export_iati", team="XYZ", stdout=StringIO())


def test_export_iati_command_says_when_there_is_nothing_to_publish(db):
    CountryTeamFactory(code="NER", name="Niger", iso_alpha2="NE")
    with pytest.raises(CommandError, match="no joint programme"):
        call_command("export_iati", team="NER", stdout=StringIO())


# --- The download -------------------------------------------------------------------


def url(code: str = "SOM") -> str:
    return reverse("iati:team_activities", kwargs={"code": code})


def test_iati_download_url():
    assert url() == "/teams/SOM/iati.xml"


@pytest.mark.parametrize("who", ["rc", "rco", "fp_undp", "fp_wfp", "administrator"])
def test_iati_download_serves_members_a_valid_file(client, world, rich, who):
    client.force_login(getattr(world, who))
    response = client.get(url())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert "som-iati-activities.xml" in response["Content-Disposition"]
    assert validate_iati(response.content) == []


@pytest.mark.parametrize(
    "who", ["outsider", "board_member", "fp_undp_other_team", "rco_other_team"]
)
def test_iati_download_is_404_for_non_members(client, world, rich, who):
    client.force_login(getattr(world, who))
    assert client.get(url()).status_code == 404


def test_iati_download_sends_anonymous_visitors_to_sign_in(client, world, rich):
    response = client.get(url())
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_iati_download_is_404_for_an_unknown_team(client, world):
    client.force_login(world.administrator)
    assert client.get(url("XYZ")).status_code == 404


def test_iati_download_is_404_when_there_is_nothing_to_publish(client, db):
    team = CountryTeamFactory(code="NER", name="Niger", iso_alpha2="NE")
    member = MembershipFactory(country_team=team, role=Role.RC_OFFICE).user
    client.force_login(member)
    assert client.get(url("NER")).status_code == 404


def test_iati_download_refuses_posts(client, world, rich):
    client.force_login(world.rco)
    assert client.post(url()).status_code == 405
