"""Loading the agencies' strategic plans from the reference files."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from frameworks.models import (
    ContributionPlanLink,
    StrategicPlan,
    StrategicPlanOutcome,
    StrategicPlanOutput,
)
from frameworks.reference_data import ReferenceDataError, load_reference_data
from frameworks.strategic_plan_reference import (
    STRATEGIC_PLANS_DIR,
    load_strategic_plans,
)
from tests.coordination.factories import AgencyFactory
from tests.frameworks.factories import CommonChapterAreaFactory, SdgTargetFactory
from tests.frameworks.joint_work_factories import ContributionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    return load_reference_data()


def test_load_reference_data_loads_the_four_agencies_2018_2021_plans(loaded):
    plans = StrategicPlan.objects.filter(start_year=2018, end_year=2021)
    assert sorted(plans.values_list("agency__code", flat=True)) == [
        "UN-Women",
        "UNDP",
        "UNFPA",
        "UNICEF",
    ]
    assert all(plan.source_document and plan.source_url for plan in plans)
    undp = plans.get(agency__code="UNDP")
    assert "DP/DPA/2017/38" in undp.source_document
    assert list(undp.outcomes.values_list("code", flat=True)) == ["1", "2", "3"]
    unfpa = plans.get(agency__code="UNFPA")
    assert unfpa.outputs.count() == 13
    assert StrategicPlanOutput.objects.get(plan=unfpa, code="12").outcome.code == "4"
    counts = loaded.strategic_plans
    assert (
        counts.plans
        == StrategicPlan.objects.count()
        == len(list(STRATEGIC_PLANS_DIR.glob("*.yml")))
    )
    assert counts.outputs == StrategicPlanOutput.objects.count()


def test_loaded_outcomes_and_outputs_map_to_sdg_targets_and_areas(loaded):
    output = StrategicPlanOutput.objects.get(
        plan__agency__code="UNDP", plan__start_year=2018, code="1.6.2"
    )
    assert set(output.sdg_targets.values_list("code", flat=True)) == {"5.2", "16.1"}
    assert list(output.common_chapter_areas.values_list("code", flat=True)) == ["CC4"]
    for model in (StrategicPlanOutcome, StrategicPlanOutput):
        unmapped = model.objects.filter(sdg_targets__isnull=True)
        assert not unmapped.exists(), list(unmapped)
        assert not model.objects.filter(common_chapter_areas__isnull=True).exists()


def test_outputs_that_serve_every_outcome_have_no_outcome(loaded):
    unfpa_2022 = StrategicPlan.objects.get(agency__code="UNFPA", start_year=2022)
    assert unfpa_2022.outputs.count() == 6
    assert not unfpa_2022.outputs.filter(outcome__isnull=False).exists()


def test_load_reference_data_twice_changes_nothing(loaded):
    def state():
        return (
            list(StrategicPlan.objects.values_list("pk", "title", "updated_at")),
            list(StrategicPlanOutcome.objects.values_list("pk", "updated_at")),
            list(StrategicPlanOutput.objects.values_list("pk", "title", "updated_at")),
            list(
                StrategicPlanOutput.sdg_targets.through.objects.values_list(
                    "pk", flat=True
                )
            ),
        )

    before = state()
    again = load_reference_data()
    assert state() == before
    assert again == loaded


def test_load_reference_data_command_names_the_plans():
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    assert "agency strategic plans (" in out.getvalue()


# --- files of one's own ------------------------------------------------------------


@pytest.fixture
def refs():
    AgencyFactory(code="UNDP")
    SdgTargetFactory(code="1.1")
    SdgTargetFactory(code="1.2")
    CommonChapterAreaFactory(position=1, code="CC1")


def _plan(**overrides) -> dict:
    plan = {
        "agency": "UNDP",
        "title": "UNDP Strategic Plan, 2018-2021",
        "start_year": 2018,
        "end_year": 2021,
        "source_document": "DP/DPA/2017/38",
        "source_url": "https://undocs.org/en/DP/DPA/2017/38",
        "outcomes": [
            {
                "code": "1",
                "title": "Advance poverty eradication",
                "sdg_targets": ["1.1"],
                "areas": ["CC1"],
                "outputs": [
                    {"code": "1.1.1", "title": "First", "sdg_targets": ["1.1"]},
                    {"code": "1.1.2", "title": "Second", "areas": ["CC1"]},
                ],
            }
        ],
    }
    plan.update(overrides)
    return plan


def _write(directory: Path, name: str, content: dict) -> None:
    (directory / name).write_text(yaml.safe_dump(content), encoding="utf-8")


def test_load_strategic_plans_updates_what_changed_and_drops_what_went(refs, tmp_path):
    _write(tmp_path, "undp.yml", _plan())
    load_strategic_plans(directory=tmp_path)
    first = StrategicPlanOutput.objects.get(code="1.1.1")
    changed = _plan()
    changed["outcomes"][0]["outputs"] = [
        {"code": "1.1.1", "title": "First, renamed", "sdg_targets": ["1.2"]}
    ]
    _write(tmp_path, "undp.yml", changed)
    counts = load_strategic_plans(directory=tmp_path)
    assert (counts.plans, counts.outcomes, counts.outputs) == (1, 1, 1)
    renamed = StrategicPlanOutput.objects.get()
    assert renamed.pk == first.pk
    assert renamed.title == "First, renamed"
    assert list(renamed.sdg_targets.values_list("code", flat=True)) == ["1.2"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agency": "XYZ"}, "unknown agency 'XYZ'"),
        ({"title": ""}, "missing title"),
        ({"source_url": "not a url"}, "valid URL"),
        ({"end_year": 2010}, "undp.yml"),
    ],
)
def test_load_strategic_plans_refuses_a_bad_plan_and_writes_nothing(
    refs, tmp_path, change, message
):
    _write(tmp_path, "undp.yml", _plan(**change))
    with pytest.raises(ReferenceDataError, match=message):
        load_strategic_plans(directory=tmp_path)
    assert not StrategicPlan.objects.exists()


def test_load_strategic_plans_refuses_an_unknown_sdg_target(refs, tmp_path):
    plan = _plan()
    plan["outcomes"][0]["outputs"][1]["sdg_targets"] = ["9.9"]
    _write(tmp_path, "undp.yml", plan)
    with pytest.raises(ReferenceDataError, match=r"output '1\.1\.2'.*'9\.9'"):
        load_strategic_plans(directory=tmp_path)
    assert not StrategicPlanOutput.objects.exists()


def test_load_strategic_plans_refuses_a_code_twice(refs, tmp_path):
    plan = _plan()
    plan["outcomes"][0]["outputs"][1]["code"] = "1.1.1"
    _write(tmp_path, "undp.yml", plan)
    with pytest.raises(ReferenceDataError, match="listed twice"):
        load_strategic_plans(directory=tmp_path)


def test_load_strategic_plans_refuses_overlapping_plans_of_one_agency(refs, tmp_path):
    _write(tmp_path, "a.yml", _plan())
    _write(tmp_path, "b.yml", _plan(start_year=2021, end_year=2024))
    with pytest.raises(ReferenceDataError, match="overlaps"):
        load_strategic_plans(directory=tmp_path)
    assert not StrategicPlan.objects.exists()


def test_load_strategic_plans_keeps_an_output_joint_work_is_linked_to(refs, tmp_path):
    _write(tmp_path, "undp.yml", _plan())
    load_strategic_plans(directory=tmp_path)
    linked = StrategicPlanOutput.objects.get(code="1.1.2")
    ContributionPlanLink.objects.create(
        contribution=ContributionFactory(), plan_output=linked
    )
    plan = _plan()
    del plan["outcomes"][0]["outputs"][1]
    _write(tmp_path, "undp.yml", plan)
    with pytest.raises(ReferenceDataError, match=r"1\.1\.2 is no longer listed"):
        load_strategic_plans(directory=tmp_path)
    assert StrategicPlanOutput.objects.count() == 2
