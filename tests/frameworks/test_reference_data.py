from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from coordination.models import Agency, AgencyKind
from frameworks.models import (
    REFERENCE_LANGUAGES,
    CommonChapterArea,
    SdgGoal,
    SdgIndicator,
    SdgTarget,
    text_in_language,
)
from frameworks.reference_data import (
    AGENCIES_FILE,
    SDG_DIR,
    ReferenceDataError,
    load_agencies,
    load_reference_data,
    load_sdg_reference,
    sdg_sort_key,
)

pytestmark = pytest.mark.django_db

SOURCE_DIRS = {"zh-hans": "zh-Hans"}


def source(language: str, kind: str) -> dict[str, str]:
    folder = SOURCE_DIRS.get(language, language)
    path = SDG_DIR / folder / f"global_{kind}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture
def counts():
    return load_reference_data()


def test_load_reference_data_loads_goals_targets_and_indicators(counts):
    indicator_keys = source("en", "indicators")
    assert (counts.sdg.goals, counts.sdg.targets) == (17, 169)
    assert counts.sdg.indicators == len(indicator_keys) > 230
    assert counts.sdg.languages == 6
    assert SdgGoal.objects.count() == 17
    assert SdgTarget.objects.count() == 169
    assert SdgIndicator.objects.count() == counts.sdg.indicators


def test_load_reference_data_stores_every_language_of_the_goals(counts):
    for goal in SdgGoal.objects.all():
        assert set(goal.titles) == set(REFERENCE_LANGUAGES), goal.number
        assert set(goal.short_titles) == set(REFERENCE_LANGUAGES), goal.number


def test_load_reference_data_keeps_each_language_the_source_has(counts):
    for language in REFERENCE_LANGUAGES:
        for kind, model in (("targets", SdgTarget), ("indicators", SdgIndicator)):
            in_source = len(source(language, kind))
            stored = sum(1 for t in model.objects.all() if language in t.titles)
            assert stored == in_source, (language, kind)
    assert not SdgTarget.objects.filter(titles__en__isnull=True).exists()
    assert not SdgIndicator.objects.filter(titles__en__isnull=True).exists()


def test_load_reference_data_keeps_the_source_text(counts):
    target = SdgTarget.objects.get(code="1.1")
    assert target.titles["zh-hans"] == source("zh-hans", "targets")["1-1-title"]
    assert target.titles["ar"] == source("ar", "targets")["1-1-title"]
    indicator = SdgIndicator.objects.select_related("target").get(code="17.18.1")
    assert indicator.target.code == "17.18"
    assert indicator.titles["en"] == source("en", "indicators")["17-18-1-title"]
    goal = SdgGoal.objects.get(number=5)
    assert goal.short_titles["fr"] == source("fr", "goals")["5-short"]


def test_sdg_sort_key_puts_numbers_before_letters():
    codes = ["1.a", "2.1", "1.10", "1.b", "1.2", "1.1"]
    assert sorted(codes, key=sdg_sort_key) == [
        "1.1",
        "1.2",
        "1.10",
        "1.a",
        "1.b",
        "2.1",
    ]
    assert sdg_sort_key("1.1.2") < sdg_sort_key("1.2.1") < sdg_sort_key("1.a.1")


def test_sdg_sort_key_refuses_an_unreadable_code():
    with pytest.raises(ReferenceDataError):
        sdg_sort_key("1.aa")


def test_load_reference_data_orders_targets_as_people_read_them(counts):
    goal_1 = list(SdgTarget.objects.filter(goal=1).values_list("code", flat=True))
    assert goal_1 == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.a", "1.b"]
    goal_17 = list(SdgTarget.objects.filter(goal=17).values_list("code", flat=True))
    assert goal_17[8:11] == ["17.9", "17.10", "17.11"]
    all_codes = list(SdgTarget.objects.values_list("code", flat=True))
    assert all_codes[:8] == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.a", "1.b", "2.1"]
    indicators = list(
        SdgIndicator.objects.filter(target__code="1.5").values_list("code", flat=True)
    )
    assert indicators == ["1.5.1", "1.5.2", "1.5.3", "1.5.4"]


def test_load_reference_data_twice_changes_nothing(counts):
    def state():
        target = SdgTarget.objects.get(code="2.2")
        undp = Agency.objects.get(code="UNDP")
        return (
            SdgGoal.objects.count(),
            SdgTarget.objects.count(),
            SdgIndicator.objects.count(),
            Agency.objects.count(),
            Agency.history.count(),
            CommonChapterArea.objects.count(),
            (target.pk, target.goal_id, target.sort_key, target.titles),
            (undp.pk, undp.name, undp.iati_identifier, undp.updated_at),
        )

    before = state()
    again = load_reference_data()
    assert state() == before
    assert again == counts


def test_load_agencies_updates_only_what_changed(counts):
    Agency.objects.filter(code="UNDP").update(name="Renamed")
    history_before = Agency.history.count()
    load_agencies()
    assert (
        Agency.objects.get(code="UNDP").name == "United Nations Development Programme"
    )
    assert Agency.history.count() == history_before + 1


def test_load_agencies_marks_the_common_chapter_signatories(counts):
    assert set(Agency.objects.signatories().values_list("code", flat=True)) == {
        "UNDP",
        "UNFPA",
        "UNICEF",
        "UN-Women",
    }
    assert Agency.objects.get(code="UNICEF").iati_identifier == "XM-DAC-41122"
    assert Agency.objects.get(code="WFP").kind == AgencyKind.FUND_PROGRAMME
    assert Agency.objects.get(code="FAO").kind == AgencyKind.SPECIALIZED_AGENCY
    listed = yaml.safe_load(AGENCIES_FILE.read_text(encoding="utf-8"))
    assert counts.agencies == len(listed) >= 22


def test_load_reference_data_loads_the_common_chapter_areas(counts):
    areas = list(CommonChapterArea.objects.all())
    assert counts.common_chapter_areas == len(areas) == 7
    assert [a.position for a in areas] == [1, 2, 3, 4, 5, 6, 7]
    assert areas[0].name == "Eradicating poverty"
    assert areas[3].name == (
        "Achieving gender equality and the empowerment of women and girls"
    )
    assert areas[6].name == "Business operations"
    assert all(a.description for a in areas)


def _write(path: Path, entries: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")


def test_load_sdg_reference_falls_back_to_english_for_missing_entries(tmp_path):
    _write(tmp_path / "en" / "global_goals.yml", {"1-title": "End poverty"})
    _write(
        tmp_path / "en" / "global_targets.yml",
        {"1-1-title": "Eradicate extreme poverty", "1-2-title": "Halve poverty"},
    )
    _write(tmp_path / "fr" / "global_targets.yml", {"1-1-title": "Éliminer"})
    counts = load_sdg_reference(directory=tmp_path)
    assert (counts.goals, counts.targets, counts.indicators) == (1, 2, 0)
    assert counts.languages == 2
    halve = SdgTarget.objects.get(code="1.2")
    assert halve.titles == {"en": "Halve poverty"}
    assert text_in_language(halve.titles, "fr") == "Halve poverty"
    assert SdgTarget.objects.get(code="1.1").titles["fr"] == "Éliminer"


def test_load_sdg_reference_refuses_an_unexpected_key(tmp_path):
    _write(tmp_path / "en" / "global_goals.yml", {"1-title": "End poverty"})
    _write(tmp_path / "en" / "global_targets.yml", {"1-1-1-title": "Not a target"})
    with pytest.raises(ReferenceDataError, match="unexpected key"):
        load_sdg_reference(directory=tmp_path)
    assert not SdgGoal.objects.exists()


def test_load_sdg_reference_refuses_an_indicator_without_target(tmp_path):
    _write(tmp_path / "en" / "global_goals.yml", {"1-title": "End poverty"})
    _write(tmp_path / "en" / "global_indicators.yml", {"1-9-1-title": "Orphan"})
    with pytest.raises(ReferenceDataError, match=r"1\.9\.1"):
        load_sdg_reference(directory=tmp_path)


def test_load_reference_data_command_prints_the_counts():
    indicators = len(source("en", "indicators"))
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    assert (
        f"17 goals, 169 targets, {indicators} indicators, 6 languages; "
        "22 agencies; 7 common-chapter areas"
    ) in out.getvalue()
