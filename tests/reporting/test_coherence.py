"""Coherence measures on small, hand-computed examples, written through the
joint-work services and recomputed by the rollup job (`rebuild_team_rollups`)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from coordination.models import Agency
from frameworks.models import JointProgrammeParticipant
from frameworks.services import (
    ResultData,
    create_activity,
    create_contribution,
    submit_contribution,
    validate_contribution,
)
from reporting.coherence import audit_team_coherence, recompute_coherence
from reporting.models.coherence import (
    AgencyOutcomeRollup,
    CoherenceScorecard,
    CollaborationLink,
    CommonChapterDeliveryRollup,
    DisaggregationRollup,
    JointDeliveryRollup,
    OutputAgencyRollup,
    TargetGroupFundingRollup,
)
from reporting.services import rebuild_team_rollups
from tests.frameworks.joint_work_factories import (
    JointWorkWorld,
    activity_data,
    build_world,
    figures_data,
)
from tests.reporting.test_rollups import measure

pytestmark = pytest.mark.django_db

MEASURES = (
    JointDeliveryRollup,
    OutputAgencyRollup,
    AgencyOutcomeRollup,
    DisaggregationRollup,
    TargetGroupFundingRollup,
    CommonChapterDeliveryRollup,
    CollaborationLink,
    CoherenceScorecard,
)


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


def d(value) -> Decimal:
    return Decimal(str(value))


def work(world: JointWorkWorld, **overrides):
    """A UNDP-led activity with UNICEF, outside any programme unless told."""
    overrides.setdefault("joint_programme", None)
    return create_activity(
        actor=None, country_team=world.team, data=activity_data(world, **overrides)
    )


def give(world, activity, agency, spent, *, state="validated", results=(), year=None):
    """`agency`'s contribution: `spent`, twice that available, three times
    required, walked through the workflow to `state`."""
    made = create_contribution(
        actor=None,
        activity=activity,
        agency=agency,
        year=year or world.year,
        figures=figures_data(
            world,
            required=d(3 * spent),
            available=d(2 * spent),
            spent=d(spent),
            results=list(results),
        ),
    )
    if state in ("submitted", "validated"):
        submit_contribution(actor=None, contribution=made)
    if state == "validated":
        validate_contribution(actor=None, contribution=made)
    return made


def rebuild(world: JointWorkWorld) -> None:
    rebuild_team_rollups(team_id=world.team.pk)


def delivery(world, *, agency=None, basis="validated") -> JointDeliveryRollup:
    return JointDeliveryRollup.objects.get(
        country_team=world.team, agency=agency, year=world.year, basis=basis
    )


def scorecard(world, basis="validated") -> CoherenceScorecard:
    return CoherenceScorecard.objects.get(
        country_team=world.team, year=world.year, basis=basis
    )


def numbers(row, *names) -> tuple:
    return tuple(getattr(row, name) for name in names)


# --- edge cases ---------------------------------------------------------------------


def test_a_team_without_contributions_has_no_coherence_rows(world):
    work(world)
    rebuild(world)
    for model in MEASURES:
        assert not model.objects.exists(), model.__name__


def test_recompute_of_no_team_writes_nothing(world):
    with transaction.atomic():
        assert recompute_coherence([]) == {}


def test_draft_contributions_count_in_no_basis(world):
    give(world, work(world), world.undp, 50, state="draft")
    rebuild(world)
    assert not JointDeliveryRollup.objects.exists()
    assert not CoherenceScorecard.objects.exists()


def test_one_agency_delivers_nothing_jointly(world):
    give(world, work(world), world.undp, 50)
    rebuild(world)

    team = delivery(world)
    assert numbers(team, "spent", "joint_spent", "programme_spent") == (d(50), 0, 0)
    assert numbers(team, "activity_count", "joint_activity_count") == (1, 0)
    assert delivery(world, agency=world.undp).joint_spent == 0
    output = OutputAgencyRollup.objects.get(output=world.output, basis="validated")
    assert numbers(output, "agency_count", "sole_agency", "planned_agency_count") == (
        1,
        world.undp,
        2,
    )
    assert not CollaborationLink.objects.exists()
    card = scorecard(world)
    assert numbers(card, "outputs_delivered", "outputs_single_agency") == (1, 1)
    assert numbers(card, "agency_count", "linked_pairs") == (1, 0)


def test_all_joint_when_two_agencies_deliver_every_activity(world):
    shared = work(world)
    give(world, shared, world.undp, 50)
    give(world, shared, world.unicef, 30)
    rebuild(world)

    team = delivery(world)
    assert numbers(team, "spent", "joint_spent") == (d(80), d(80))
    assert numbers(team, "available", "joint_available") == (d(160), d(160))
    assert numbers(team, "contribution_count", "activity_count") == (2, 1)
    assert team.joint_activity_count == 1
    output = OutputAgencyRollup.objects.get(output=world.output, basis="validated")
    assert numbers(output, "agency_count", "sole_agency") == (2, None)
    link = CollaborationLink.objects.get(basis="validated")
    assert numbers(link, "agency_a", "agency_b") == (world.undp, world.unicef)
    assert numbers(link, "shared_activities", "shared_programmes") == (1, 0)
    assert link.shared_spent == d(80)
    card = scorecard(world)
    assert numbers(card, "spent", "joint_spent") == (d(80), d(80))
    assert numbers(card, "outputs_single_agency", "agency_count", "linked_pairs") == (
        0,
        2,
        1,
    )


def test_a_joint_programme_makes_one_agency_s_money_joint(world):
    give(world, work(world, joint_programme=world.programme), world.undp, 40)
    rebuild(world)

    team = delivery(world)
    assert numbers(team, "spent", "joint_spent", "programme_spent") == (
        d(40),
        d(40),
        d(40),
    )
    assert team.joint_activity_count == 1


def test_programme_participants_are_linked_in_every_year_with_data(world):
    for agency in (world.undp, world.wfp):
        JointProgrammeParticipant.objects.create(
            programme=world.programme, agency=agency
        )
    give(world, work(world), world.unicef, 10)
    rebuild(world)

    link = CollaborationLink.objects.get(basis="validated")
    assert numbers(link, "agency_a", "agency_b") == (world.undp, world.wfp)
    assert numbers(link, "shared_activities", "shared_programmes") == (0, 1)
    assert link.shared_spent == 0
    # UNICEF delivers, UNDP and WFP take part in the programme: three agencies
    # at work, one pair working together.
    assert numbers(scorecard(world), "agency_count", "linked_pairs") == (3, 1)


def test_a_programme_outside_the_year_or_in_the_pipeline_links_nobody(world):
    world.programme.status = "pipeline"
    world.programme.save(update_fields=["status"])
    for agency in (world.undp, world.wfp):
        JointProgrammeParticipant.objects.create(
            programme=world.programme, agency=agency
        )
    give(world, work(world), world.unicef, 10)
    rebuild(world)
    assert not CollaborationLink.objects.exists()
    assert scorecard(world).agency_count == 1


# --- one team with everything, computed by hand -------------------------------------


@dataclass
class Mixed:
    world: JointWorkWorld
    safe_spaces: object
    legal_aid: object
    school_meals: object


def mixed(world: JointWorkWorld) -> Mixed:
    """Validated: UNDP 50 and UNICEF 30 on "safe spaces" (joint, common-chapter
    area, two target groups), UNDP 20 alone on "legal aid" (no group, no area).
    Submitted on top: WFP 40 alone on "school meals" (output 2, children).
    UNDP and UNICEF are signatories; WFP is not."""
    Agency.objects.filter(pk__in=[world.undp.pk, world.unicef.pk]).update(
        is_common_chapter_signatory=True
    )
    safe_spaces = work(world, title="Safe spaces for women and girls")
    with_sex = ResultData(
        indicator=world.number_indicator,
        value=d(100),
        disaggregation={"sex": {"female": 60, "male": 40}},
    )
    give(world, safe_spaces, world.undp, 50, results=[with_sex])
    without = ResultData(indicator=world.number_indicator, value=d(40))
    give(world, safe_spaces, world.unicef, 30, results=[without])
    legal_aid = work(
        world,
        title="Legal aid clinics",
        agencies=[world.undp, world.wfp],
        target_groups=[],
        common_chapter_areas=[],
    )
    give(world, legal_aid, world.undp, 20)
    school_meals = work(
        world,
        title="School meals",
        agency=world.wfp,
        agencies=[world.wfp, world.unicef],
        outputs=[world.output_wfp],
        target_groups=["children"],
    )
    give(world, school_meals, world.wfp, 40, state="submitted")
    # A team-wide value of an outcome indicator broken down by sex but not by
    # location, which the indicator also asks for.
    measure(
        world.outcome_indicator,
        world.year,
        value=d(10),
        disaggregation={"sex": {"female": 6, "male": 4}},
    )
    rebuild(world)
    return Mixed(world, safe_spaces, legal_aid, school_meals)


@pytest.fixture
def team(world) -> Mixed:
    return mixed(world)


def test_joint_delivery_by_hand(team):
    world = team.world
    assert numbers(
        delivery(world),
        "spent",
        "joint_spent",
        "programme_spent",
        "available",
        "joint_available",
        "contribution_count",
        "activity_count",
        "joint_activity_count",
    ) == (d(100), d(80), 0, d(200), d(160), 3, 2, 1)
    undp = delivery(world, agency=world.undp)
    assert numbers(undp, "spent", "joint_spent", "activity_count") == (d(70), d(50), 2)
    unicef = delivery(world, agency=world.unicef)
    assert numbers(unicef, "spent", "joint_spent") == (d(30), d(30))
    assert not JointDeliveryRollup.objects.filter(agency=world.wfp, basis="validated")

    submitted = delivery(world, basis="submitted")
    assert numbers(submitted, "spent", "joint_spent", "activity_count") == (
        d(140),
        d(80),
        3,
    )
    wfp = delivery(world, agency=world.wfp, basis="submitted")
    assert numbers(wfp, "spent", "joint_spent") == (d(40), 0)


def test_agencies_per_output_by_hand(team):
    world = team.world
    validated = OutputAgencyRollup.objects.filter(basis="validated")
    assert [(row.output, row.agency_count, row.spent) for row in validated] == [
        (world.output, 2, d(100))
    ]
    meals = OutputAgencyRollup.objects.get(output=world.output_wfp, basis="submitted")
    assert numbers(meals, "agency_count", "sole_agency", "planned_agency_count") == (
        1,
        world.wfp,
        1,
    )
    assert meals.outcome == world.output_wfp.outcome


def test_comparative_advantage_by_hand(team):
    world = team.world
    outcome = world.output.outcome
    rows = {
        row.agency: row
        for row in AgencyOutcomeRollup.objects.filter(
            outcome=outcome, basis="validated"
        )
    }
    assert set(rows) == {world.undp, world.unicef}
    # Five indicators of the outcome and its outputs have a target; each
    # agency reported one of them (the number of children, on output 1).
    assert numbers(
        rows[world.undp], "spent", "available", "indicators_reported", "indicator_count"
    ) == (d(70), d(140), 1, 5)
    assert numbers(rows[world.unicef], "spent", "available", "indicators_reported") == (
        d(30),
        d(60),
        1,
    )
    wfp = AgencyOutcomeRollup.objects.get(agency=world.wfp, basis="submitted")
    assert numbers(wfp, "spent", "indicators_reported") == (d(40), 0)


def test_an_agency_measurement_counts_as_a_reported_result(team):
    world = team.world
    measure(world.wfp_indicator, world.year, agency=world.wfp, value=d(12))
    rebuild(world)
    wfp = AgencyOutcomeRollup.objects.get(agency=world.wfp, basis="submitted")
    assert wfp.indicators_reported == 1


def test_disaggregation_by_hand(team):
    world = team.world
    team_row = DisaggregationRollup.objects.get(
        outcome=None, indicator=None, basis="validated"
    )
    # Three values: UNDP's children (by sex, complete), UNICEF's children (no
    # breakdown) and the team-wide outcome value (by sex, not by location).
    assert numbers(
        team_row,
        "value_count",
        "expecting_count",
        "complete_count",
        "sex_expected",
        "sex_count",
        "location_expected",
        "location_count",
        "age_expected",
        "disability_expected",
    ) == (3, 3, 1, 3, 2, 1, 0, 0, 0)
    outcome_row = DisaggregationRollup.objects.get(
        outcome=world.output.outcome, indicator=None, basis="validated"
    )
    assert numbers(outcome_row, "value_count", "complete_count") == (3, 1)
    children = DisaggregationRollup.objects.get(
        indicator=world.number_indicator, basis="validated"
    )
    assert numbers(children, "value_count", "complete_count", "sex_count") == (2, 1, 1)
    stunting = DisaggregationRollup.objects.get(
        indicator=world.outcome_indicator, basis="validated"
    )
    assert numbers(stunting, "value_count", "complete_count", "sex_count") == (1, 0, 1)


def test_target_group_money_by_hand(team):
    rows = {
        (row.target_group, row.basis): row
        for row in TargetGroupFundingRollup.objects.all()
    }
    for group in ("women_girls", "youth"):
        assert numbers(
            rows[(group, "validated")],
            "required",
            "available",
            "spent",
            "activity_count",
            "contribution_count",
        ) == (d(240), d(160), d(80), 1, 2)
    assert numbers(rows[("", "validated")], "spent", "activity_count") == (d(20), 1)
    assert ("children", "validated") not in rows
    assert numbers(rows[("children", "submitted")], "required", "spent") == (
        d(120),
        d(40),
    )


def test_common_chapter_delivery_by_hand(team):
    world = team.world
    rows = {
        row.agency: row
        for row in CommonChapterDeliveryRollup.objects.filter(
            area=world.area, basis="validated"
        )
    }
    assert set(rows) == {None, world.undp, world.unicef}
    assert numbers(
        rows[None],
        "spent",
        "joint_spent",
        "activity_count",
        "joint_activity_count",
        "signatory_count",
    ) == (d(80), d(80), 1, 1, 2)
    assert numbers(rows[world.undp], "spent", "joint_spent") == (d(50), d(50))
    # WFP's school meals carry the area too, but WFP is not a signatory.
    assert not CommonChapterDeliveryRollup.objects.filter(agency=world.wfp)
    submitted = CommonChapterDeliveryRollup.objects.get(
        area=world.area, agency=None, basis="submitted"
    )
    assert submitted.spent == d(80)


def test_collaboration_network_by_hand(team):
    world = team.world
    links = list(CollaborationLink.objects.filter(basis="validated"))
    assert [(link.agency_a, link.agency_b) for link in links] == [
        (world.undp, world.unicef)
    ]
    assert links[0].shared_spent == d(80)
    # WFP is involved in "legal aid" and "school meals" but delivers neither
    # with another agency.
    assert CollaborationLink.objects.filter(basis="submitted").count() == 1


def test_scorecard_by_hand(team):
    world = team.world
    assert numbers(
        scorecard(world),
        "spent",
        "joint_spent",
        "programme_spent",
        "outputs_delivered",
        "outputs_single_agency",
        "output_agency_total",
        "agency_count",
        "linked_pairs",
        "values_expecting",
        "values_complete",
        "signatory_spent",
        "signatory_joint_spent",
    ) == (d(100), d(80), 0, 1, 0, 2, 2, 1, 3, 1, d(80), d(80))
    assert numbers(
        scorecard(world, "submitted"),
        "spent",
        "outputs_delivered",
        "outputs_single_agency",
        "output_agency_total",
        "agency_count",
    ) == (d(140), 2, 1, 3, 3)


def test_scorecard_has_a_row_per_year_with_contributions(team):
    world = team.world
    give(world, team.legal_aid, world.undp, 5, year=world.year + 1)
    rebuild(world)
    years = sorted(
        CoherenceScorecard.objects.filter(basis="validated").values_list(
            "year", flat=True
        )
    )
    assert years == [world.year, world.year + 1]
    assert scorecard(world).spent == d(100)


# --- recompute, many teams, audit -----------------------------------------------------


def other_team_work(world: JointWorkWorld) -> None:
    activity = create_activity(
        actor=None,
        country_team=world.other_team,
        data=activity_data(
            world,
            outputs=[world.other_output],
            locations=[world.other_region],
            joint_programme=None,
            common_chapter_areas=[],
        ),
    )
    give(world, activity, world.undp, 7)
    give(world, activity, world.unicef, 3)


def stored_rows() -> dict[str, list[tuple]]:
    return {
        model.__name__: sorted(
            tuple(str(value) for value in row)
            for row in model.objects.values_list(
                *(f.attname for f in model._meta.concrete_fields if f.name != "id")
            )
        )
        for model in MEASURES
    }


def test_one_call_for_several_teams_gives_the_rows_of_one_call_each(team):
    world = team.world
    other_team_work(world)
    rebuild(world)
    rebuild_team_rollups(team_id=world.other_team.pk)
    one_by_one = stored_rows()
    assert CoherenceScorecard.objects.filter(country_team=world.other_team).exists()

    for model in MEASURES:
        model.objects.all().delete()
    with transaction.atomic():
        written = recompute_coherence([world.other_team.pk, world.team.pk])
    assert stored_rows() == one_by_one
    assert written["CoherenceScorecard"] == CoherenceScorecard.objects.count()

    # Over current rows a recompute finds nothing to write.
    with transaction.atomic():
        again = recompute_coherence([world.other_team.pk, world.team.pk])
    assert set(again.values()) == {0}
    assert stored_rows() == one_by_one


def test_recomputing_one_team_leaves_the_others(team):
    world = team.world
    other_team_work(world)
    rebuild_team_rollups(team_id=world.other_team.pk)
    before = JointDeliveryRollup.objects.filter(country_team=world.other_team).count()
    rebuild(world)
    after = JointDeliveryRollup.objects.filter(country_team=world.other_team).count()
    assert before == after == 6


def test_audit_finds_nothing_after_a_rebuild(team):
    assert audit_team_coherence(team_id=team.world.team.pk) == []


def test_audit_names_a_tampered_and_a_missing_row(team):
    world = team.world
    JointDeliveryRollup.objects.filter(
        agency=None, basis="validated", year=world.year
    ).update(joint_spent=d(1))
    CollaborationLink.objects.filter(basis="submitted").delete()

    differences = audit_team_coherence(team_id=world.team.pk)
    found = {(difference.table, str(difference.changes)) for difference in differences}
    assert (
        "JointDeliveryRollup",
        str({"joint_spent": (d("1.00"), d("80.00"))}),
    ) in found
    missing = [
        difference
        for difference in differences
        if difference.table == "CollaborationLink"
    ]
    assert len(missing) == 1
    assert missing[0].stored is None


def test_audit_command_compares_the_coherence_tables(team):
    world = team.world
    out = io.StringIO()
    call_command("audit_rollups", "--team", "SOM", stdout=out)
    assert out.getvalue().strip() == "No differences."

    CoherenceScorecard.objects.filter(basis="validated").update(linked_pairs=9)
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("audit_rollups", "--team", "SOM", stdout=out)
    assert failure.value.returncode == 1
    assert (
        f"SOM CoherenceScorecard [year={world.year}, basis=validated]: "
        "linked_pairs stored 9 expected 1"
    ) in out.getvalue()


def test_a_change_of_source_rows_reaches_the_measures_through_the_rollup_job(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shared = work(world)
        give(world, shared, world.undp, 50)
    assert delivery(world).joint_spent == 0
    with django_capture_on_commit_callbacks(execute=True):
        give(world, shared, world.unicef, 10)
    assert delivery(world).joint_spent == d(60)
