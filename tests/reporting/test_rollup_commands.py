"""manage.py rebuild_rollups and audit_rollups: output and exit status."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from reporting import rollups
from reporting.models import (
    FundingRollup,
    IndicatorProgress,
    RollupRequest,
    RollupState,
    TeamFundingRollup,
    TeamSnapshot,
)
from tests.frameworks.joint_work_factories import JointWorkWorld, build_world
from tests.reporting.test_rollups import activity, contribution, measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> JointWorkWorld:
    world = build_world()
    work = activity(world)
    contribution(
        world, work, world.undp, required=100, available=80, spent=50,
        state="validated",
    )  # fmt: skip
    measure(world.wfp_indicator, world.year, agency=world.wfp, value=12)
    return world


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def steps() -> int:
    return len(rollups.recompute_steps())


def test_rebuild_rollups_rebuilds_every_team_in_one_batch_with_a_progress_bar(world):
    RollupRequest.objects.create(country_team=world.other_team, reason="waiting")

    output = run("rebuild_rollups")

    bar = f"NGA-SOM (2 teams) [####################] {steps()}/{steps()}"
    assert bar in output
    assert "NGA-SOM (2 teams) [" in output.split("\r")[1]  # the bar fills up
    assert "Rebuilt the rollups of 2 teams (1 batch) in" in output
    assert TeamFundingRollup.objects.filter(country_team=world.team).exists()
    assert not RollupRequest.objects.exists()
    for team in (world.team, world.other_team):
        assert RollupState.objects.get(country_team=team).computed_at
        assert TeamSnapshot.objects.filter(country_team=team).exists()


def test_rebuild_rollups_cuts_batches_by_contributions(world):
    other_work = activity(
        world,
        outputs=[world.other_output],
        joint_programme=world.other_programme,
        locations=[world.other_region],
        team=world.other_team,
    )
    contribution(
        world, other_work, world.undp, required=7, available=7, spent=7,
        state="validated",
    )  # fmt: skip

    output = run("rebuild_rollups", "--batch-size", "1")

    # One contribution each: a team per batch, in code order.
    assert output.index("NGA [") < output.index("SOM [")
    assert f"SOM [####################] {steps()}/{steps()}" in output
    assert "Rebuilt the rollups of 2 teams (2 batches) in" in output
    assert run("audit_rollups").strip() == "No differences."


def test_rebuild_rollups_refuses_a_batch_size_below_one(world):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        run("rebuild_rollups", "--batch-size", "0")
    assert not RollupState.objects.exists()


def test_rebuild_rollups_of_one_team_leaves_the_others(world):
    output = run("rebuild_rollups", "--team", "som")

    assert "Rebuilt the rollups of 1 team (1 batch) in" in output
    assert f"SOM [####################] {steps()}/{steps()}" in output
    assert "NGA" not in output
    assert RollupState.objects.get(country_team=world.team).computed_at
    assert not RollupState.objects.filter(country_team=world.other_team).exists()


def test_rebuild_rollups_refuses_an_unknown_team(world):
    with pytest.raises(CommandError, match="No country team with the code 'XYZ'"):
        run("rebuild_rollups", "--team", "XYZ")


def test_audit_rollups_finds_nothing_after_a_rebuild(world):
    run("rebuild_rollups")
    assert run("audit_rollups").strip() == "No differences."
    assert run("audit_rollups", "--team", "SOM").strip() == "No differences."


def test_audit_rollups_names_a_tampered_row_and_exits_1(world):
    run("rebuild_rollups")
    row = FundingRollup.objects.get(
        output=world.output, agency=world.undp, basis="validated"
    )
    FundingRollup.objects.filter(pk=row.pk).update(required=Decimal("1.00"))
    out = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("audit_rollups", stdout=out)

    assert failure.value.returncode == 1
    assert "1 rollup row differs" in str(failure.value)
    assert (
        f"SOM FundingRollup [framework={world.framework.title}, "
        f"outcome={world.output.outcome.code}, output={world.output.code}, "
        f"agency=UNDP, year={world.year}, basis=validated]: "
        "required stored 1.00 expected 100.00\n"
    ) in out.getvalue()


def test_audit_rollups_reports_missing_and_extra_rows(world):
    run("rebuild_rollups")
    TeamFundingRollup.objects.filter(agency=None, basis="submitted").delete()
    progress = IndicatorProgress.objects.filter(indicator=world.wfp_indicator).first()
    IndicatorProgress.objects.create(
        country_team=world.team,
        indicator=world.wfp_indicator,
        year=progress.year + 40,
        basis="validated",
        expected_percent=Decimal(100),
        status="no_data",
    )
    RollupRequest.objects.create(country_team=world.team, reason="unprocessed")
    out = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("audit_rollups", "--team", "SOM", stdout=out)

    text = out.getvalue()
    assert failure.value.returncode == 1
    assert "SOM: 1 rollup request(s) still pending" in text
    assert "TeamFundingRollup [" in text
    assert "agency=all" in text
    assert "basis=submitted]: missing; expected required 100.00" in text
    assert (
        f"IndicatorProgress [indicator={world.wfp_indicator.code}, "
        f"year={progress.year + 40}, basis=validated]: stored but should not exist"
    ) in text
