"""The duplication detector on known overlapping and non-overlapping pairs, and
decisions that survive recomputes until a pair changes materially."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from frameworks.services import (
    submit_activity,
    update_activity,
    validate_activity,
)
from reporting import coherence_overlaps
from reporting.coherence import audit_team_coherence
from reporting.coherence_overlaps import (
    changed_materially,
    title_similarity,
    title_words,
)
from reporting.coherence_services import AlertNotFoundError, decide_overlap_alert
from reporting.models.coherence import OverlapAlert, OverlapDecision
from reporting.services import (
    process_team_rollups,
    rebuild_team_rollups,
    request_team_rollups,
)
from tests.frameworks.joint_work_factories import (
    AdminRegionFactory,
    JointWorkWorld,
    activity_data,
    build_world,
)
from tests.reporting.test_coherence import give, work

pytestmark = pytest.mark.django_db

FOOD = "Integrated food assistance and nutrition in Baidoa displacement sites"
SCREENING = "Nutrition screening and food assistance for displaced families in Baidoa"


# --- title similarity ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "similarity"),
    [
        # 5 of 7 stems shared each way: food, assis, nutri, baido, displ.
        (FOOD, SCREENING, "0.714"),
        ("Cash transfers in Bay", "Cash transfers in Bay region", "0.857"),
        ("Éducation des filles", "Education des filles à Mogadiscio", "0.800"),
        ("Safe water in schools", "Women's political participation", "0.000"),
        ("Legal aid clinics", "Land tenure for returnees", "0.000"),
        # Words that say nothing (joint, support, programme) are left out.
        ("Joint support programme for rangelands", "Joint support for fisheries", "0"),
        ("", "Cash transfers", "0"),
    ],
)
def test_title_similarity_on_known_pairs(first, second, similarity):
    assert title_similarity(first, second) == Decimal(similarity)
    assert title_similarity(second, first) == Decimal(similarity)


def test_title_words_are_stems_without_stop_words_or_short_words():
    assert title_words("Displaced and displacement: WASH in Bay") == frozenset(
        {"displ", "wash", "bay"}
    )


# --- detection through the rollup job -------------------------------------------------


@pytest.fixture
def world() -> JointWorkWorld:
    return build_world()


def pair(world: JointWorkWorld, **second_overrides):
    """A UNDP-led activity and a UNICEF-led one on the same output, in
    Banaadir, in the same period, with similar titles."""
    first = work(world, title=FOOD)
    values = {
        "title": SCREENING,
        "agency": world.unicef,
        "agencies": [world.unicef, world.undp],
    }
    values.update(second_overrides)
    second = work(world, **values)
    rebuild_team_rollups(team_id=world.team.pk)
    return first, second


def alerts() -> list[OverlapAlert]:
    return list(OverlapAlert.objects.order_by("activity_a", "activity_b"))


def test_an_overlapping_pair_is_an_alert(world):
    first, second = pair(world)
    (alert,) = alerts()
    assert (alert.activity_a, alert.activity_b) == (first, second)
    assert (alert.agency_a, alert.agency_b) == (world.undp, world.unicef)
    assert alert.similarity == Decimal("0.714")
    assert alert.shared_output_ids == [world.output.pk]
    assert alert.shared_location_ids == [world.region.pk]
    assert (alert.overlap_start, alert.overlap_end) == (
        first.start_date,
        first.end_date,
    )
    assert alert.overlap_days == (first.end_date - first.start_date).days + 1
    assert alert.status == "open"
    assert not alert.both_validated
    assert not alert.reopened


def later_period(world):
    start = datetime.date(world.framework.start_year + 1, 7, 1)
    return {"start_date": start, "end_date": start + datetime.timedelta(days=200)}


@pytest.mark.parametrize(
    "difference",
    [
        "same_lead_agency",
        "other_output",
        "other_location",
        "no_common_period",
        "cancelled",
        "different_title",
    ],
)
def test_pairs_that_do_not_overlap_are_not_alerts(world, difference):
    overrides = {
        "same_lead_agency": lambda: {"agency": world.undp},
        "other_output": lambda: {"outputs": [world.output_wfp]},
        "other_location": lambda: {
            "locations": [AdminRegionFactory(country_team=world.team, code="SO-BY")]
        },
        "no_common_period": lambda: later_period(world),
        "cancelled": lambda: {"implementation_status": "cancelled"},
        "different_title": lambda: {"title": "Women's political participation"},
    }[difference]()
    pair(world, **overrides)
    assert alerts() == []


def test_a_pair_of_validated_activities_says_so(world):
    first, second = pair(world)
    for activity in (first, second):
        submit_activity(actor=None, activity=activity)
        validate_activity(actor=None, activity=activity)
    rebuild_team_rollups(team_id=world.team.pk)
    (alert,) = alerts()
    assert alert.both_validated


def test_activities_of_another_team_are_never_paired(world):
    pair(world)
    rebuild_team_rollups(team_id=world.other_team.pk)
    assert not OverlapAlert.objects.filter(country_team=world.other_team).exists()
    assert len(alerts()) == 1


# --- when the rollup job searches again -----------------------------------------------


def job(world) -> dict[str, int]:
    """The team's rollup job, as a worker runs it after a change."""
    run = process_team_rollups(team_id=world.team.pk)
    assert run.recomputed
    return run.rows


def test_a_job_searches_again_when_a_title_changes(world):
    first, _second = pair(world)
    data = {"title": "Women's political participation", "joint_programme": None}
    update_activity(
        actor=None,
        activity=first,
        data=activity_data(world, agencies=[world.undp, world.unicef], **data),
        expected_version=first.version,
    )
    assert job(world)["OverlapAlert"] == 1
    assert alerts() == []


def test_a_job_after_a_money_change_leaves_the_alerts_alone(world):
    first, _second = pair(world)
    # A change made outside the engine, which a job for figures does not see.
    OverlapAlert.objects.update(similarity=Decimal("0.999"))
    give(world, first, world.undp, 100)
    run = process_team_rollups(team_id=world.team.pk)
    # Figures of one year changed: that year is recomputed, the search not run.
    assert run.years == (world.year,)
    assert "OverlapAlert" not in run.rows
    assert alerts()[0].similarity == Decimal("0.999")
    # The audit searches in full and sees it.
    (difference,) = audit_team_coherence(team_id=world.team.pk)
    assert difference.changes == {"similarity": (Decimal("0.999"), Decimal("0.714"))}


@pytest.mark.parametrize("recompute", ["job", "rebuild"])
def test_a_whole_team_recompute_repairs_an_alert_changed_outside_the_search(
    world, recompute
):
    pair(world)
    # Its inputs are unchanged, but the stored alert is no longer what the last
    # search wrote.
    OverlapAlert.objects.update(similarity=Decimal("0.999"), status="dismissed")
    if recompute == "job":
        request_team_rollups(team_id=world.team.pk, reason="test")
        assert job(world)["OverlapAlert"] == 1
    else:
        assert rebuild_team_rollups(team_id=world.team.pk).rows["OverlapAlert"] == 1
    assert (alerts()[0].similarity, alerts()[0].status) == (Decimal("0.714"), "open")
    assert audit_team_coherence(team_id=world.team.pk) == []


@pytest.fixture
def searches(monkeypatch) -> list[tuple[int, ...]]:
    """The teams of each overlap search the engine runs."""
    searched: list[tuple[int, ...]] = []
    search = coherence_overlaps.output_pairs

    def spy(cursor, teams):
        searched.append(teams.ids)
        return search(cursor, teams)

    monkeypatch.setattr(coherence_overlaps, "output_pairs", spy)
    return searched


def test_a_rebuild_searches_only_when_inputs_or_alerts_changed(
    world, searches, monkeypatch
):
    first, _second = pair(world)
    team = (world.team.pk,)
    assert searches == [team]  # the first rebuild of the team
    rebuild_team_rollups(team_id=world.team.pk)
    assert searches == [team]
    assert len(alerts()) == 1
    # A new version of the search searches again, and finds the same.
    monkeypatch.setattr(coherence_overlaps, "SEARCH_VERSION", b"overlaps/test")
    assert rebuild_team_rollups(team_id=world.team.pk).rows["OverlapAlert"] == 0
    assert searches == [team, team]
    # An alert deleted by hand is missed and written again.
    OverlapAlert.objects.all().delete()
    assert rebuild_team_rollups(team_id=world.team.pk).rows["OverlapAlert"] == 1
    assert searches == [team, team, team]
    assert len(alerts()) == 1
    # A title that drops the pair below the threshold is an input (`edit`
    # rebuilds).
    edit(world, first, title="Women's political participation")
    assert len(searches) == 4
    assert alerts() == []


def test_a_decision_withdrawn_outside_the_service_is_an_input_too(world):
    pair(world)
    decide(world, alerts()[0], "dismissed")
    OverlapDecision.objects.all().delete()
    request_team_rollups(team_id=world.team.pk, reason="test")
    assert job(world)["OverlapAlert"] == 1
    assert (alerts()[0].status, alerts()[0].reopened) == ("open", False)


# --- decisions ------------------------------------------------------------------------


def decide(world, alert, status, *, actor=None, comment=""):
    return decide_overlap_alert(
        actor=actor or world.rco,
        team=world.team,
        activity_a_id=alert.activity_a_id,
        activity_b_id=alert.activity_b_id,
        status=status,
        comment=comment,
    )


def edit(world, activity, **overrides):
    values = {
        "title": activity.title,
        "agency": activity.agency,
        "agencies": list(activity.agencies.all()),
        "joint_programme": None,
    }
    values.update(overrides)
    update_activity(
        actor=None,
        activity=activity,
        data=activity_data(world, **values),
        expected_version=activity.version,
    )
    activity.refresh_from_db()
    rebuild_team_rollups(team_id=world.team.pk)


def test_a_dismissal_survives_recomputes_and_the_audit(world):
    first, _second = pair(world)
    (alert,) = alerts()
    decided = decide(world, alert, "dismissed", comment="Two phases of one plan.")
    assert decided.status == "dismissed"
    decision = OverlapDecision.objects.get()
    assert decision.decided_by == world.rco
    assert decision.comment == "Two phases of one plan."
    assert decision.shared_location_ids == [world.region.pk]

    rebuild_team_rollups(team_id=world.team.pk)
    (again,) = alerts()
    assert (again.status, again.reopened) == ("dismissed", False)
    assert again.pk == alert.pk
    assert audit_team_coherence(team_id=world.team.pk) == []
    # A new title, shorter dates: not a material change.
    edit(world, first, title=f"{FOOD} (phase 2)")
    (alert,) = alerts()
    assert alert.status == "dismissed"


def test_sharing_a_new_location_opens_a_decided_alert_again(world):
    bay = AdminRegionFactory(country_team=world.team, code="SO-BY", name="Bay")
    first, second = pair(world)
    decide(world, alerts()[0], "confirmed")
    edit(world, first, locations=[world.region, bay])
    assert alerts()[0].status == "confirmed"  # only one of them is in Bay
    edit(world, second, locations=[world.region, bay])
    (alert,) = alerts()
    assert (alert.status, alert.reopened) == ("open", True)
    assert alert.shared_location_ids == sorted([world.region.pk, bay.pk])
    assert OverlapDecision.objects.get().status == "confirmed"
    assert audit_team_coherence(team_id=world.team.pk) == []


def test_a_longer_overlap_opens_a_decided_alert_again_but_a_shorter_does_not(world):
    first, second = pair(world)
    decide(world, alerts()[0], "dismissed")
    shorter = {
        "start_date": first.start_date + datetime.timedelta(days=60),
        "end_date": first.end_date,
    }
    edit(world, second, title=second.title, agency=world.unicef, **shorter)
    assert alerts()[0].status == "dismissed"
    longer = {"end_date": first.end_date + datetime.timedelta(days=400)}
    edit(world, first, **longer)
    edit(world, second, agency=world.unicef, start_date=first.start_date, **longer)
    (alert,) = alerts()
    assert alert.overlap_days > OverlapDecision.objects.get().overlap_days + 90
    assert (alert.status, alert.reopened) == ("open", True)


def test_deciding_again_on_a_reopened_alert_takes_the_new_snapshot(world):
    bay = AdminRegionFactory(country_team=world.team, code="SO-BY", name="Bay")
    first, second = pair(world)
    decide(world, alerts()[0], "dismissed")
    edit(world, first, locations=[world.region, bay])
    edit(world, second, agency=world.unicef, locations=[world.region, bay])
    decide(world, alerts()[0], "dismissed")
    rebuild_team_rollups(team_id=world.team.pk)
    assert (alerts()[0].status, alerts()[0].reopened) == ("dismissed", False)


def test_reopening_withdraws_the_decision(world):
    pair(world)
    decide(world, alerts()[0], "confirmed")
    alert = decide(world, alerts()[0], "open")
    assert alert.status == "open"
    assert not OverlapDecision.objects.exists()
    assert OverlapDecision.history.filter(history_type="-").count() == 1


def test_a_focal_point_cannot_decide(world):
    pair(world)
    with pytest.raises(PermissionDenied):
        decide(world, alerts()[0], "dismissed", actor=world.fp_undp)
    with pytest.raises(PermissionDenied):
        decide(world, alerts()[0], "dismissed", actor=world.rco_other_team)
    assert alerts()[0].status == "open"


def test_deciding_refuses_unknown_decisions_pairs_and_long_comments(world):
    pair(world)
    alert = alerts()[0]
    with pytest.raises(ValidationError):
        decide(world, alert, "maybe")
    with pytest.raises(ValidationError):
        decide(world, alert, "dismissed", comment="x" * 2001)
    with pytest.raises(AlertNotFoundError):
        decide_overlap_alert(
            actor=world.rco,
            team=world.team,
            activity_a_id=alert.activity_b_id,
            activity_b_id=alert.activity_a_id,
            status="dismissed",
        )
    assert not OverlapDecision.objects.exists()


def test_changed_materially_rule():
    class Decided:
        shared_output_ids = [1, 2]
        shared_location_ids = [5]
        overlap_days = 100

    same = {"shared_output_ids": [1], "shared_location_ids": [5], "overlap_days": 190}
    assert not changed_materially(same, Decided)
    assert changed_materially({**same, "shared_output_ids": [3]}, Decided)
    assert changed_materially({**same, "shared_location_ids": [5, 6]}, Decided)
    assert changed_materially({**same, "overlap_days": 191}, Decided)
