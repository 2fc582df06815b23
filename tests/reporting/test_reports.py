"""The UNCT annual results report: asked for, built by the Celery job into a
PDF, kept and handed out again; validated figures only.

Joint work is written through the joint-work services and the rollups rebuilt
by the engine, as a worker would after those writes commit. PDFs are read back
with poppler's `pdftotext` and `pdffonts`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import formats, translation
from kombu.exceptions import OperationalError as BrokerError

from frameworks.models import FrameworkStatus
from frameworks.services import (
    create_activity,
    create_contribution,
    submit_contribution,
    validate_contribution,
)
from reporting import report_services
from reporting.models import ReportFile, ReportStatus, RollupState
from reporting.report_charts import build_annual_charts
from reporting.report_content import get_annual_report, list_report_years
from reporting.report_services import (
    build_report,
    request_annual_report,
)
from reporting.report_tasks import build_report_task
from reporting.services import rebuild_team_rollups
from tests.conftest import service_missing
from tests.frameworks.joint_work_factories import (
    JointWorkWorld,
    activity_data,
    build_world,
    figures_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def poppler() -> None:
    """Require poppler's pdftotext and pdffonts (skip on a laptop, fail in CI)."""
    if not (shutil.which("pdftotext") and shutil.which("pdffonts")):
        service_missing(
            "poppler-utils (pdftotext, pdffonts) is not installed",
            "apt-get install poppler-utils",
        )


needs_poppler = pytest.mark.usefixtures("poppler")

# Figures no other number in a report can be mistaken for.
VALIDATED = {"required": "123456", "available": "98765", "spent": "45678"}
SUBMITTED = {"required": "654321", "available": "321098", "spent": "210987"}
DRAFT = {"required": "55555", "available": "44444", "spent": "33333"}


@dataclass
class Reported:
    """A team whose year holds a validated UNDP contribution, a submitted
    UNICEF one and a draft, with its rollups computed."""

    world: JointWorkWorld
    validated: object
    submitted: object
    draft: object

    @property
    def year(self) -> int:
        return self.world.year


def add_contribution(world, activity, agency, *, state, money):
    contribution = create_contribution(
        actor=None,
        activity=activity,
        agency=agency,
        year=world.year,
        figures=figures_data(
            world,
            results=[],
            **{name: Decimal(value) for name, value in money.items()},
        ),
    )
    if state in ("submitted", "validated"):
        submit_contribution(actor=None, contribution=contribution)
    if state == "validated":
        validate_contribution(actor=None, contribution=contribution)
    return contribution


def rebuild(world: JointWorkWorld) -> None:
    rebuild_team_rollups(team_id=world.team.pk)


def build_reported_world() -> Reported:
    world = build_world()
    activity = create_activity(
        actor=None, country_team=world.team, data=activity_data(world)
    )
    other = create_activity(
        actor=None,
        country_team=world.team,
        data=activity_data(world, title="Cash transfers", outputs=[world.output_wfp]),
    )
    reported = Reported(
        world=world,
        validated=add_contribution(
            world, activity, world.undp, state="validated", money=VALIDATED
        ),
        submitted=add_contribution(
            world, activity, world.unicef, state="submitted", money=SUBMITTED
        ),
        draft=add_contribution(world, other, world.undp, state="draft", money=DRAFT),
    )
    rebuild(world)
    return reported


@pytest.fixture
def reported() -> Reported:
    return build_reported_world()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_report(**fields) -> ReportFile:
    """A finished report row with a small file, for tests about who may read
    it rather than what it says (building a real one takes seconds)."""
    report = ReportFile(status=ReportStatus.DONE, progress_total=6, progress_done=6)
    for name, value in fields.items():
        setattr(report, name, value)
    report.file.save("stored.pdf", ContentFile(b"%PDF-1.7 stored"), save=False)
    report.size = report.file.size
    report.save()
    return report


def grouped(value: str) -> str:
    """A figure as an English page or PDF writes it: 123456 reads 123,456."""
    return f"{int(value):,}"


def pdf_text(report: ReportFile) -> str:
    result = subprocess.run(
        ["pdftotext", report.file.path, "-"],
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8")


def has_words(text: str, phrase: str) -> bool:
    """Whether the words of `phrase` follow each other in `text`, wherever a
    table cell wrapped them."""
    pattern = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.search(pattern, text) is not None


def pdf_fonts(report: ReportFile) -> str:
    result = subprocess.run(
        ["pdffonts", report.file.path],
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8")


def ask(reported: Reported, django_capture_on_commit_callbacks, **options):
    """Ask for the year's report as the RC Office would; the eager job runs
    when the request's transaction commits."""
    values = {
        "team": reported.world.team,
        "year": reported.year,
        "language": "en",
        "actor": reported.world.rco,
    }
    values.update(options)
    with django_capture_on_commit_callbacks(execute=True):
        report = request_annual_report(**values)
    report.refresh_from_db()
    return report


# --- the content ------------------------------------------------------------------


def test_annual_report_reads_validated_rollups_only(reported):
    content = get_annual_report(team=reported.world.team, year=reported.year)
    assert content.total.required == Decimal(VALIDATED["required"])
    assert [share.agency.code for share in content.agencies] == ["UNDP"]
    assert content.basis == "validated"
    outcome = content.outcomes[0]
    assert outcome.line.figures.required == Decimal(VALIDATED["required"])
    assert {line.indicator.code for line in outcome.indicators} == {
        "CHILDREN-VACC",
        "SCHOOL-PCT",
        "POLICY-ADOPTED",
        "MEALS",
        "STUNTING",
    }
    assert [summary.programme for summary in content.programmes] == [
        reported.world.programme
    ]


def test_annual_report_needs_an_active_framework_and_one_of_its_years(reported):
    world = reported.world
    years = list_report_years(team=world.team)
    assert years.years == sorted(world.framework.years, reverse=True)
    assert years.with_figures == [world.year]
    assert get_annual_report(team=world.team, year=world.framework.end_year + 5) is None
    world.framework.status = FrameworkStatus.CLOSED
    world.framework.save(update_fields=["status"])
    assert list_report_years(team=world.team).years == []
    assert get_annual_report(team=world.team, year=world.year) is None


def test_annual_report_reads_a_fixed_number_of_queries(
    reported, django_assert_max_num_queries
):
    # The dashboard's reads (17) plus priorities and joint programmes (3).
    with django_assert_max_num_queries(20):
        get_annual_report(team=reported.world.team, year=reported.year)


def test_charts_are_the_same_bytes_every_time(reported):
    content = get_annual_report(team=reported.world.team, year=reported.year)
    first = build_annual_charts(content)
    second = build_annual_charts(content)
    assert [chart.name for chart in first] == [
        "funding-by-outcome",
        "funding-by-agency",
        "indicator-status",
    ]
    assert [chart.svg for chart in first] == [chart.svg for chart in second]
    assert all(chart.svg.startswith("<?xml") for chart in first)
    # Dates and tool versions would make them differ from one run to the next.
    assert not any("<dc:date>" in chart.svg for chart in first)


def test_a_year_without_figures_draws_no_money_chart(reported):
    world = reported.world
    content = get_annual_report(team=world.team, year=world.year + 1)
    assert content.total.is_empty
    names = [chart.name for chart in build_annual_charts(content)]
    assert "funding-by-outcome" not in names
    assert "funding-by-agency" not in names


# --- asking and building ----------------------------------------------------------


@needs_poppler
def test_requested_report_is_a_pdf_of_the_validated_figures(
    reported, django_capture_on_commit_callbacks
):
    report = ask(reported, django_capture_on_commit_callbacks)
    assert report.status == ReportStatus.DONE
    assert report.progress_done == report.progress_total == 6
    assert report.file.name.startswith("reports/annual_results/")
    assert report.size == Path(report.file.path).stat().st_size > 0
    assert report.finished_at is not None
    assert report.requested_by == reported.world.rco
    assert Path(report.file.path).read_bytes().startswith(b"%PDF-")

    text = pdf_text(report)
    assert f"UNCT annual results report {reported.year}" in text
    assert "Somalia" in text
    for value in VALIDATED.values():
        assert grouped(value) in text
    for value in (*SUBMITTED.values(), *DRAFT.values()):
        assert grouped(value) not in text
    assert "Validated figures only" in text
    assert re.search(r"Page 1 / \d+", text)


@needs_poppler
def test_report_names_the_framework_results_and_programmes(
    reported, django_capture_on_commit_callbacks
):
    world = reported.world
    codes = ("CHILDREN-VACC", "SCHOOL-PCT", "MEALS", "STUNTING")
    # Long names squeeze the code column as far as a real framework's would.
    world.framework.indicators.filter(code__in=codes).update(
        name=" ".join(["Proportion of households reached in the districts"] * 6)
    )
    text = pdf_text(ask(reported, django_capture_on_commit_callbacks))
    flat = " ".join(text.split())
    outcome = world.output.outcome
    assert f"Outcome {outcome.code}" in flat
    assert world.output.code in flat
    # Codes are never broken across lines, whatever the width of the titles beside them.
    for code in codes:
        assert re.search(rf"(^|\s){code}(\s|$)", text, re.MULTILINE)
    assert has_words(text, world.programme.title)
    assert "UNDP" in flat
    assert "UNICEF" not in flat.split("Funding by agency")[1].split("Funding by")[0]


def test_report_remembers_the_rollups_it_was_built_from(
    reported, django_capture_on_commit_callbacks
):
    report = ask(reported, django_capture_on_commit_callbacks)
    state = RollupState.objects.get(country_team=reported.world.team)
    assert report.parameters == {
        "year": reported.year,
        "basis": "validated",
        "as_of": state.computed_at.isoformat(),
    }


@needs_poppler
def test_asking_again_hands_back_the_finished_file_until_the_rollups_change(
    reported, django_capture_on_commit_callbacks
):
    first = ask(reported, django_capture_on_commit_callbacks)
    again = ask(reported, django_capture_on_commit_callbacks, actor=reported.world.rc)
    assert again.pk == first.pk
    assert ReportFile.objects.count() == 1

    validate_contribution(actor=None, contribution=reported.submitted)
    rebuild(reported.world)
    fresh = ask(reported, django_capture_on_commit_callbacks)
    assert fresh.pk != first.pk
    assert fresh.status == ReportStatus.DONE
    both = Decimal(VALIDATED["required"]) + Decimal(SUBMITTED["required"])
    assert grouped(both) in pdf_text(fresh)
    # The older file stays, so what was downloaded before can be again.
    assert Path(ReportFile.objects.get(pk=first.pk).file.path).exists()


def test_asking_while_a_report_is_built_hands_back_that_one(
    reported, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        running = request_annual_report(
            team=reported.world.team, year=reported.year, language="en", actor=None
        )
    again = ask(reported, django_capture_on_commit_callbacks)
    assert again.pk == running.pk
    assert again.status == ReportStatus.QUEUED


def test_each_language_is_a_report_of_its_own(
    reported, django_capture_on_commit_callbacks
):
    english = ask(reported, django_capture_on_commit_callbacks)
    french = ask(reported, django_capture_on_commit_callbacks, language="fr-ca")
    assert french.pk != english.pk
    assert french.language == "fr"
    unknown = ask(reported, django_capture_on_commit_callbacks, language="xx")
    assert unknown.pk == english.pk


@needs_poppler
def test_report_is_written_in_the_language_it_was_asked_in(
    reported, django_capture_on_commit_callbacks
):
    report = ask(reported, django_capture_on_commit_callbacks, language="fr")
    as_of = RollupState.objects.get(country_team=reported.world.team).computed_at
    with translation.override("fr"):
        month = formats.date_format(as_of, "F")
    assert month.lower() in pdf_text(report).lower()


@needs_poppler
@pytest.mark.parametrize(
    ("language", "font"), [("ar", "NotoSansArabic"), ("zh-hans", "NotoSansCJK")]
)
def test_arabic_and_chinese_reports_are_set_in_fonts_that_have_their_letters(
    reported, django_capture_on_commit_callbacks, language, font
):
    report = ask(reported, django_capture_on_commit_callbacks, language=language)
    assert report.status == ReportStatus.DONE
    assert font in pdf_fonts(report).replace("-", "")
    if language == "ar":
        assert 'dir="rtl"' in _built_html(reported, language)


def _built_html(reported, language):
    from reporting.report_pdf import render_annual_report_html

    content = get_annual_report(team=reported.world.team, year=reported.year)
    with translation.override(language):
        return render_annual_report_html(content, [])


def test_a_year_the_report_cannot_cover_is_refused(reported):
    world = reported.world
    with pytest.raises(ValidationError) as refused:
        request_annual_report(
            team=world.team,
            year=world.framework.end_year + 1,
            language="en",
            actor=None,
        )
    assert refused.value.code == "year"
    assert ReportFile.objects.count() == 0


def test_progress_is_on_the_row_while_the_job_runs(
    reported, django_capture_on_commit_callbacks, monkeypatch
):
    seen = []
    real = report_services.render_pdf

    def render_and_look(html):
        seen.append(
            ReportFile.objects.values_list(
                "status", "progress_done", "progress_total"
            ).get()
        )
        return real(html)

    monkeypatch.setattr(report_services, "render_pdf", render_and_look)
    report = ask(reported, django_capture_on_commit_callbacks)
    assert seen == [(ReportStatus.RUNNING, 5, 6)]
    assert (report.status, report.progress_done) == (ReportStatus.DONE, 6)


def test_a_crashing_build_is_failed_with_a_message(
    reported, django_capture_on_commit_callbacks, monkeypatch
):
    def crash(html):
        raise RuntimeError("layout engine gave up")

    monkeypatch.setattr(report_services, "render_pdf", crash)
    report = ask(reported, django_capture_on_commit_callbacks)
    assert report.status == ReportStatus.FAILED
    assert "internal error (RuntimeError)" in report.message
    # The message names the kind of error, never its text.
    assert "layout engine" not in report.message
    assert not report.file
    assert report.finished_at is not None


def test_a_report_whose_framework_closed_before_the_job_ran_fails_with_the_reason(
    reported, django_capture_on_commit_callbacks
):
    world = reported.world
    with django_capture_on_commit_callbacks(execute=False):
        report = request_annual_report(
            team=world.team, year=world.year, language="en", actor=None
        )
    world.framework.status = FrameworkStatus.CLOSED
    world.framework.save(update_fields=["status"])
    build_report_task.delay(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "no active Cooperation Framework" in report.message


def test_building_a_finished_report_again_changes_nothing(
    reported, django_capture_on_commit_callbacks
):
    report = ask(reported, django_capture_on_commit_callbacks)
    again = build_report(report_id=report.pk)
    again.refresh_from_db()
    assert (again.file.name, again.finished_at) == (
        report.file.name,
        report.finished_at,
    )


def test_a_job_retried_after_a_crash_builds_the_report(
    reported, django_capture_on_commit_callbacks, monkeypatch
):
    real = report_services.render_pdf
    monkeypatch.setattr(report_services, "render_pdf", lambda html: 1 / 0)
    failed = ask(reported, django_capture_on_commit_callbacks)
    assert failed.status == ReportStatus.FAILED
    monkeypatch.setattr(report_services, "render_pdf", real)
    build_report_task.delay(failed.pk)
    failed.refresh_from_db()
    assert failed.status == ReportStatus.DONE
    assert failed.message == ""


def test_a_broker_that_is_down_fails_the_report_instead_of_the_request(
    reported, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise BrokerError("connection refused")

    monkeypatch.setattr(build_report_task, "apply_async", broker_down)
    report = ask(reported, django_capture_on_commit_callbacks)
    assert report.status == ReportStatus.FAILED
    assert "could not be queued" in report.message
    # Asking again tries again rather than handing back the failed one.
    monkeypatch.undo()
    assert ask(reported, django_capture_on_commit_callbacks).status == "done"


def test_a_report_deleted_before_its_job_ran_is_skipped(
    reported, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        report = request_annual_report(
            team=reported.world.team, year=reported.year, language="en", actor=None
        )
    report.delete()
    assert build_report(report_id=report.pk) is None
    build_report_task.delay(report.pk)
    assert not ReportFile.objects.exists()
