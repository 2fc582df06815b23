"""Spreadsheet import: templates, the check, the one-transaction write, the pages."""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from coordination.models import AdminRegion
from frameworks import imports
from frameworks.imports import (
    COLUMN_KEYS,
    create_import_job,
    get_import_progress,
    start_import_write,
    validate_import,
    write_import,
)
from frameworks.models import (
    Contribution,
    ContributionRevision,
    ImportJob,
    JointActivity,
    ResultValue,
    WorkflowStatus,
)
from frameworks.models.imports import ImportStatus
from frameworks.services import (
    ResultData,
    submit_activity,
    submit_contribution,
    update_contribution,
    validate_contribution,
)
from frameworks.tasks import validate_import_task, write_import_task
from tests.coordination.factories import AgencyFactory, MembershipFactory
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    FrameworkFactory,
    IndicatorFactory,
    JointProgrammeFactory,
    OutcomeFactory,
    OutputFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
    b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


# --- the world a file refers to ------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(team, other_team, undp, unicef, focal_point):
    team.team_agencies.get_or_create(agency=unicef)
    framework = FrameworkFactory(country_team=team, start_year=2021, end_year=2025)
    outcome = OutcomeFactory(framework=framework, code="OC1")
    op11 = OutputFactory(outcome=outcome, code="OP1.1")
    op12 = OutputFactory(outcome=outcome, code="OP1.2")
    indicator = IndicatorFactory(output=op11, code="IND1.1")
    other_output = OutputFactory(
        outcome=OutcomeFactory(framework=FrameworkFactory(country_team=other_team)),
        code="NG1.1",
    )
    SdgTargetFactory(code="3.1", goal=SdgGoalFactory(number=3))
    SdgTargetFactory(code="5.2", goal=SdgGoalFactory(number=5))
    CommonChapterAreaFactory(code="CC3", position=3)
    AdminRegion.objects.create(country_team=team, code="BN", name="Banadir")
    AdminRegion.objects.create(country_team=other_team, code="LA", name="Lagos")
    programme = JointProgrammeFactory(country_team=team, convening_agency=undp)
    unfpa = AgencyFactory(code="UNFPA", name="United Nations Population Fund")
    other_team.team_agencies.get_or_create(agency=unfpa)
    return {
        "team": team,
        "framework": framework,
        "outputs": (op11, op12),
        "indicator": indicator,
        "other_output": other_output,
        "programme": programme,
        "unfpa": unfpa,
    }


@pytest.fixture
def unicef_focal_point(team, unicef):
    team.team_agencies.get_or_create(agency=unicef)
    return MembershipFactory(country_team=team, role="focal_point", agency=unicef).user


ROW = {
    "activity_ref": "SOM-UNDP-001",
    "title": "Safe births in Banadir",
    "lead_agency": "UNDP",
    "agencies": "UNDP;UNICEF",
    "outputs": "OP1.1",
    "sdg_targets": "3.1;5.2",
    "common_chapter_areas": "CC3",
    "gender_marker": "2",
    "human_rights_marker": "1",
    "target_groups": "women_girls;children",
    "locations": "BN",
    "start_date": "2023-01-01",
    "end_date": "2024-12-31",
    "implementation_status": "ongoing",
    "joint_programme": "",
    "contribution_ref": "SOM-UNDP-001-2023",
    "agency": "UNDP",
    "year": "2023",
    "required": "100000",
    "available": "80000",
    "spent": "50000.50",
    "funding_source": "Joint SDG Fund",
    "implementing_partners": "Ministry of Health",
    "reach": "1200",
}


def good_rows() -> list[dict[str, str]]:
    """Two activities: the first with two years of UNDP's contribution."""
    return [
        dict(ROW),
        ROW | {"contribution_ref": "SOM-UNDP-001-2024", "year": "2024"},
        ROW
        | {
            "activity_ref": "SOM-UNDP-002",
            "title": "Sex-disaggregated data for SDG 5",
            "outputs": "OP1.2",
            "sdg_targets": "5.2",
            "contribution_ref": "SOM-UNDP-002-2023",
            "required": "25000",
            "available": "25000",
            "spent": "0",
            "reach": "",
        },
    ]


def xlsx_bytes(rows, columns=COLUMN_KEYS) -> bytes:
    """A workbook as Excel users make it: numbers and dates typed as such."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(columns))
    for row in rows:
        cells = []
        for key in columns:
            value = row.get(key, "")
            if key in ("year", "required", "available", "spent", "reach") and value:
                try:
                    value = Decimal(value)
                    value = int(value) if value == int(value) else float(value)
                except ArithmeticError:
                    pass
            elif key in ("start_date", "end_date") and value:
                with contextlib.suppress(ValueError):
                    value = datetime.date.fromisoformat(value)
            cells.append(value if value != "" else None)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, columns=COLUMN_KEYS, *, bom=True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([row.get(key, "") for key in columns] for row in rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def counts() -> tuple[int, int, int, int]:
    return (
        JointActivity.objects.count(),
        Contribution.objects.count(),
        ContributionRevision.objects.count(),
        ResultValue.objects.count(),
    )


def upload(
    user, team, data: bytes, name: str, django_capture_on_commit_callbacks
) -> ImportJob:
    """Upload and check, as the eager Celery default does right after the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        job = create_import_job(
            actor=user, country_team=team, upload=SimpleUploadedFile(name, data)
        )
    job.refresh_from_db()
    return job


def write(user, job, django_capture_on_commit_callbacks) -> ImportJob:
    with django_capture_on_commit_callbacks(execute=True):
        start_import_write(actor=user, job=job)
    job.refresh_from_db()
    return job


@pytest.fixture
def do_import(world, focal_point, django_capture_on_commit_callbacks):
    def run(data: bytes, name: str = "joint-work.xlsx", user=None) -> ImportJob:
        return upload(
            user or focal_point,
            world["team"],
            data,
            name,
            django_capture_on_commit_callbacks,
        )

    return run


@pytest.fixture
def do_write(focal_point, django_capture_on_commit_callbacks):
    def run(job: ImportJob, user=None) -> ImportJob:
        return write(user or focal_point, job, django_capture_on_commit_callbacks)

    return run


# --- templates ---------------------------------------------------------------------


def test_template_xlsx_has_the_columns_and_the_team_codes(client, world, focal_point):
    client.force_login(focal_point)
    response = client.get(
        reverse("imports:template", kwargs={"code": "SOM", "file_format": "xlsx"})
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('unportal-import-SOM.xlsx"')
    workbook = load_workbook(io.BytesIO(response.content))
    data = workbook["Import"]
    assert [c.value for c in data[1]] == list(COLUMN_KEYS)
    codes = workbook["Codes"]
    values = {str(c.value) for row in codes.iter_rows() for c in row if c.value}
    assert {"OP1.1", "OP1.2", "UNDP", "UNICEF", "BN", "3.1", "5.2", "CC3"} <= values
    assert {"ongoing", "women_girls", str(world["programme"].pk)} <= values
    # Another team's output, region and agency are not offered.
    assert not {"NG1.1", "LA", "UNFPA"} & values
    validated = {str(v.sqref) for v in data.data_validations.dataValidation}
    assert any(ref.startswith("C2:") for ref in validated)  # lead_agency list
    assert [c.value for c in workbook["Columns"]["A"]][1:] == list(COLUMN_KEYS)


def test_template_csv_has_the_columns(client, world, focal_point):
    client.force_login(focal_point)
    response = client.get(
        reverse("imports:template", kwargs={"code": "SOM", "file_format": "csv"})
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == list(COLUMN_KEYS)


def test_codes_csv_lists_the_team_codes(client, world, focal_point):
    client.force_login(focal_point)
    response = client.get(reverse("imports:codes", kwargs={"code": "SOM"}))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["list", "code", "label"]
    assert ["outputs", "OP1.1"] in [r[:2] for r in rows]
    assert ["agencies", "UNICEF"] in [r[:2] for r in rows]
    assert "NG1.1" not in {r[1] for r in rows}


def test_template_in_an_unknown_format_is_404(client, world, focal_point):
    client.force_login(focal_point)
    url = reverse("imports:template", kwargs={"code": "SOM", "file_format": "ods"})
    assert client.get(url).status_code == 404


# --- a good file -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build"), [("work.xlsx", xlsx_bytes), ("work.csv", csv_bytes)]
)
def test_import_good_file_previews_clean_and_writes_every_row(
    do_import, do_write, world, name, build
):
    before = counts()
    job = do_import(build(good_rows()), name)
    assert job.errors == []
    assert job.status == ImportStatus.READY
    assert (job.row_count, job.new_count, job.updated_count) == (3, 3, 0)
    assert counts() == before, "the preview writes nothing"

    job = do_write(job)
    assert job.status == ImportStatus.DONE, job.message
    assert counts() == (before[0] + 2, before[1] + 3, before[2] + 3, before[3])
    assert (job.progress_done, job.progress_total) == (3, 3)
    activity = JointActivity.objects.get(external_ref="SOM-UNDP-001")
    assert activity.title == "Safe births in Banadir"
    assert activity.agency.code == "UNDP"
    assert {a.code for a in activity.agencies.all()} == {"UNDP", "UNICEF"}
    assert {t.code for t in activity.sdg_targets.all()} == {"3.1", "5.2"}
    assert sorted(activity.target_groups) == ["children", "women_girls"]
    assert activity.start_date == datetime.date(2023, 1, 1)
    assert activity.implementation_status == "ongoing"
    contribution = Contribution.objects.get(external_ref="SOM-UNDP-001-2023")
    revision = contribution.current_revision
    assert (revision.required, revision.spent) == (Decimal(100000), Decimal("50000.5"))
    assert revision.reach == 1200
    assert contribution.year == 2023
    assert {a["ref"] for a in job.activities} == {"SOM-UNDP-001", "SOM-UNDP-002"}


def test_import_csv_with_semicolons_and_no_bom_is_read(do_import):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(COLUMN_KEYS)
    writer.writerows([r[k] for k in COLUMN_KEYS] for r in good_rows())
    job = do_import(buffer.getvalue().encode(), "work.csv")
    assert job.errors == []
    assert job.new_count == 3


def test_import_links_a_joint_programme_by_id(do_import, do_write, world):
    rows = [ROW | {"joint_programme": str(world["programme"].pk)}]
    job = do_write(do_import(csv_bytes(rows), "work.csv"))
    assert job.status == ImportStatus.DONE
    activity = JointActivity.objects.get(external_ref="SOM-UNDP-001")
    assert activity.joint_programme == world["programme"]


# --- importing again ---------------------------------------------------------------


def test_reimport_of_the_same_file_creates_nothing(do_import, do_write, focal_point):
    data = xlsx_bytes(good_rows())
    do_write(do_import(data))
    before = counts()
    versions = sorted(Contribution.objects.values_list("version", flat=True))

    again = do_import(data)
    assert again.status == ImportStatus.READY
    assert (again.new_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    with pytest.raises(ValidationError, match="Nothing to write"):
        start_import_write(actor=focal_point, job=again)
    assert counts() == before
    assert sorted(Contribution.objects.values_list("version", flat=True)) == versions


def test_reimport_with_one_changed_amount_updates_that_draft_in_place(
    do_import, do_write
):
    do_write(do_import(xlsx_bytes(good_rows())))
    before = counts()
    rows = good_rows()
    rows[1]["spent"] = "60000"

    job = do_import(xlsx_bytes(rows))
    assert (job.new_count, job.updated_count, job.unchanged_count) == (0, 1, 2)
    assert [r["action"] for r in job.preview] == ["unchanged", "updated", "unchanged"]
    job = do_write(job)
    assert job.status == ImportStatus.DONE
    assert counts() == before, "a draft is edited in place: no new revision"
    changed = Contribution.objects.get(external_ref="SOM-UNDP-001-2024")
    assert changed.current_revision.spent == Decimal(60000)
    assert changed.version == 2
    untouched = Contribution.objects.get(external_ref="SOM-UNDP-001-2023")
    assert untouched.version == 1


def test_reimport_of_a_validated_contribution_opens_a_new_revision(
    do_import, do_write, world, focal_point, rco_officer
):
    do_write(do_import(xlsx_bytes(good_rows())))
    contribution = Contribution.objects.get(external_ref="SOM-UNDP-001-2023")
    update_contribution(
        actor=focal_point,
        contribution=contribution,
        figures=imports.FiguresData(
            required=Decimal(100000),
            available=Decimal(80000),
            spent=Decimal("50000.50"),
            funding_source="Joint SDG Fund",
            implementing_partners="Ministry of Health",
            reach=1200,
            results=[ResultData(indicator=world["indicator"], value=Decimal(30))],
        ),
        expected_version=None,
    )
    submit_contribution(actor=focal_point, contribution=contribution)
    validate_contribution(actor=rco_officer, contribution=contribution)
    before = counts()
    rows = good_rows()
    rows[0]["available"] = "90000"

    job = do_write(do_import(xlsx_bytes(rows)))
    assert job.status == ImportStatus.DONE, job.message
    contribution.refresh_from_db()
    # One new revision, and the reported result carried over into it.
    assert counts() == (before[0], before[1], before[2] + 1, before[3] + 1)
    assert contribution.current_revision.number == 2
    assert contribution.current_revision.available == Decimal(90000)
    assert contribution.current_revision.status == WorkflowStatus.DRAFT
    assert contribution.validated_revision.available == Decimal(80000)
    assert contribution.current_revision.results.get().value == Decimal(30)


def test_reimport_cannot_change_a_submitted_contribution(
    do_import, do_write, focal_point
):
    do_write(do_import(xlsx_bytes(good_rows())))
    contribution = Contribution.objects.get(external_ref="SOM-UNDP-001-2023")
    submit_contribution(actor=focal_point, contribution=contribution)
    rows = good_rows()
    rows[0]["spent"] = "1"
    job = do_import(xlsx_bytes(rows))
    assert job.status == ImportStatus.INVALID
    assert job.errors == [
        {
            "row": 2,
            "column": "contribution_ref",
            "message": "This contribution cannot be changed now: it awaits validation.",
        }
    ]


def test_partner_agency_adds_its_contribution_to_an_imported_activity(
    do_import, do_write, unicef_focal_point
):
    do_write(do_import(xlsx_bytes(good_rows())))
    before = counts()
    blank_activity = dict.fromkeys(imports.ACTIVITY_KEYS, "")
    rows = [
        ROW
        | blank_activity
        | {"contribution_ref": "SOM-UNICEF-001-2023", "agency": "UNICEF"}
    ]
    job = do_import(csv_bytes(rows), "unicef.csv", user=unicef_focal_point)
    assert job.errors == []
    job = do_write(job, user=unicef_focal_point)
    assert job.status == ImportStatus.DONE, job.message
    assert counts()[:2] == (before[0], before[1] + 1)
    activity = JointActivity.objects.get(external_ref="SOM-UNDP-001")
    assert activity.contributions.filter(agency__code="UNICEF").exists()


def test_partner_agency_cannot_change_the_lead_agency_activity(
    do_import, do_write, unicef_focal_point
):
    do_write(do_import(xlsx_bytes(good_rows())))
    rows = [
        ROW
        | {
            "title": "Renamed by UNICEF",
            "contribution_ref": "SOM-UNICEF-001-2023",
            "agency": "UNICEF",
        }
    ]
    job = do_import(csv_bytes(rows), "unicef.csv", user=unicef_focal_point)
    assert job.status == ImportStatus.INVALID
    [error] = job.errors
    assert (error["row"], error["column"]) == (2, "activity_ref")
    assert "only focal points of UNDP" in error["message"]
    assert "title" in error["message"]


# --- bad rows ------------------------------------------------------------------------


def _second_row(**changes):
    return [
        dict(ROW),
        ROW | {"contribution_ref": "SOM-UNDP-001-2024", "year": "2024"} | changes,
    ]


BAD_FILES = {
    "unknown output code": (
        [ROW | {"outputs": "OP1.1;OP9.9"}],
        2,
        "outputs",
        "Unknown output codes (not in the active framework): OP9.9.",
    ),
    "output of another team": (
        [ROW | {"outputs": "NG1.1"}],
        2,
        "outputs",
        "Unknown output codes (not in the active framework): NG1.1.",
    ),
    "bad number": (
        [ROW | {"required": "12,5k"}],
        2,
        "required",
        "“12,5k” is not a number. Write digits only, with a dot for decimals and "
        "no thousands separators, e.g. 12500.50.",
    ),
    "negative amount": (
        [ROW | {"spent": "-5"}],
        2,
        "spent",
        "Amounts cannot be negative (-5).",
    ),
    "too many decimals": (
        [ROW | {"available": "10.125"}],
        2,
        "available",
        "Give at most two decimals (10.125).",
    ),
    "missing required field": (
        [ROW | {"title": ""}],
        2,
        "title",
        "title is required.",
    ),
    "missing amount": (
        [ROW | {"available": ""}],
        2,
        "available",
        "available is required.",
    ),
    "missing contribution_ref": (
        [ROW | {"contribution_ref": ""}],
        2,
        "contribution_ref",
        "contribution_ref is required.",
    ),
    "date not ISO": (
        [ROW | {"start_date": "03/04/2023"}],
        2,
        "start_date",
        "“03/04/2023” is not a date in ISO format: write YYYY-MM-DD, e.g. 2024-03-31.",
    ),
    "impossible date": (
        [ROW | {"end_date": "2024-02-30"}],
        2,
        "end_date",
        "“2024-02-30” is not a date in ISO format: write YYYY-MM-DD, e.g. 2024-03-31.",
    ),
    "end before start": (
        [ROW | {"end_date": "2022-12-31"}],
        2,
        "end_date",
        "The end date is before the start date.",
    ),
    "bad year": (
        [ROW | {"year": "20x3"}],
        2,
        "year",
        "“20x3” is not a whole number.",
    ),
    "implausible year": (
        [ROW | {"year": "1999"}],
        2,
        "year",
        "Give a year between 2000 and 2100.",
    ),
    "bad marker": (
        [ROW | {"gender_marker": "4"}],
        2,
        "gender_marker",
        "A marker is 0, 1, 2 or 3.",
    ),
    "unknown agency": (
        [ROW | {"agencies": "UNDP;XYZ"}],
        2,
        "agencies",
        "Unknown agency codes: XYZ.",
    ),
    "agency outside the team": (
        [ROW | {"agencies": "UNDP;UNFPA"}],
        2,
        "agencies",
        "Not part of this country team: UNFPA.",
    ),
    "lead not among the agencies": (
        [ROW | {"agencies": "UNICEF;UNFPA", "lead_agency": "UNDP"}],
        2,
        "agencies",
        "Not part of this country team: UNFPA.",
    ),
    "single agency": (
        [ROW | {"agencies": "UNDP"}],
        2,
        "agencies",
        "A joint activity involves two or more agencies.",
    ),
    "unknown SDG target": (
        [ROW | {"sdg_targets": "3.1;18.1"}],
        2,
        "sdg_targets",
        "Unknown SDG target codes: 18.1.",
    ),
    "region of another country": (
        [ROW | {"locations": "LA"}],
        2,
        "locations",
        "Unknown region codes for this country: LA.",
    ),
    "unknown target group": (
        [ROW | {"target_groups": "women_girls;aliens"}],
        2,
        "target_groups",
        "Unknown target groups: aliens.",
    ),
    "unknown status": (
        [ROW | {"implementation_status": "paused"}],
        2,
        "implementation_status",
        "Unknown implementation status “paused”; use one of planned, ongoing, "
        "completed, suspended, cancelled.",
    ),
    "unknown joint programme": (
        [ROW | {"joint_programme": "999999"}],
        2,
        "joint_programme",
        "No joint programme of this team has the id “999999”.",
    ),
    "contribution of another agency": (
        [ROW | {"agency": "UNICEF"}],
        2,
        "agency",
        "You can only import your own agency's contributions (UNICEF is not yours).",
    ),
    "new activity led by another agency": (
        [ROW | {"lead_agency": "UNICEF"}],
        2,
        "lead_agency",
        "You can only create activities led by your own agency (UNICEF is not yours).",
    ),
    "duplicate contribution_ref": (
        _second_row(contribution_ref="SOM-UNDP-001-2023"),
        3,
        "contribution_ref",
        "Duplicate row: row 2 has the same contribution_ref.",
    ),
    "duplicate activity, agency and year": (
        _second_row(year="2023"),
        3,
        "year",
        "Duplicate row: row 2 already has UNDP's 2023 contribution to this activity.",
    ),
    "rows of one activity disagree": (
        _second_row(title="Another title"),
        3,
        "title",
        "Differs from row 2, which describes the same activity_ref.",
    ),
    "contribution-only row of an unknown activity": (
        [ROW | dict.fromkeys(imports.ACTIVITY_KEYS, "")],
        2,
        "activity_ref",
        "No activity has the reference “SOM-UNDP-001” yet: fill in its columns on "
        "at least one row.",
    ),
    "reference too long": (
        [ROW | {"activity_ref": "X" * 101}],
        2,
        "activity_ref",
        "At most 100 characters (this has 101).",
    ),
}


@pytest.mark.parametrize("build", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
@pytest.mark.parametrize("case", BAD_FILES.keys())
def test_import_bad_row_is_reported_by_row_and_column_and_nothing_is_written(
    do_import, focal_point, case, build
):
    rows, row, column, message = BAD_FILES[case]
    before = counts()
    name = "work.xlsx" if build is xlsx_bytes else "work.csv"
    job = do_import(build(rows), name)
    assert job.status == ImportStatus.INVALID
    assert {"row": row, "column": column, "message": message} in job.errors, job.errors
    with pytest.raises(ValidationError):
        start_import_write(actor=focal_point, job=job)
    assert counts() == before


def test_import_reports_every_error_of_every_row(do_import):
    rows = [
        ROW | {"required": "abc", "outputs": "NOPE"},
        ROW | {"contribution_ref": "R2", "year": "2024", "spent": "-1"},
    ]
    job = do_import(csv_bytes(rows), "work.csv")
    cells = {(e["row"], e["column"]) for e in job.errors}
    assert {(2, "required"), (2, "outputs"), (3, "spent")} <= cells
    assert job.error_count == len(job.errors)


def test_reference_reused_for_another_contribution_is_refused(do_import, do_write):
    do_write(do_import(xlsx_bytes(good_rows())))
    rows = good_rows()
    rows[2]["contribution_ref"] = "SOM-UNDP-001-2023"
    job = do_import(xlsx_bytes(rows))
    assert job.status == ImportStatus.INVALID
    assert job.errors == [
        {
            "row": 4,
            "column": "contribution_ref",
            "message": "Duplicate row: row 2 has the same contribution_ref.",
        }
    ]


def test_contribution_already_entered_on_the_web_is_not_duplicated(do_import, do_write):
    do_write(do_import(xlsx_bytes(good_rows())))
    Contribution.objects.filter(external_ref="SOM-UNDP-001-2024").update(
        external_ref=""
    )
    job = do_import(xlsx_bytes(good_rows()))
    assert job.errors == [
        {
            "row": 3,
            "column": "year",
            "message": "UNDP already has a 2024 contribution to this activity "
            "(reference “entered on the web”).",
        }
    ]


# --- bad files -----------------------------------------------------------------------


def test_missing_and_unknown_columns_are_named(do_import):
    columns = [c for c in COLUMN_KEYS if c not in ("spent", "reach")] + ["amount"]
    job = do_import(csv_bytes(good_rows(), columns), "work.csv")
    assert job.status == ImportStatus.INVALID
    assert {"row": 1, "column": "spent", "message": "The column spent is missing."} in (
        job.errors
    )
    assert {"row": 1, "column": "reach", "message": "The column reach is missing."} in (
        job.errors
    )
    [unknown] = [e for e in job.errors if e["column"] == "amount"]
    assert unknown["row"] == 1
    assert unknown["message"].startswith("Unknown column “amount”.")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.xlsx", b"", "The file is empty."),
        ("empty.csv", b"", "The file is empty."),
        ("blank.csv", b"\xef\xbb\xbf\r\n", "The file is empty."),
        (
            "picture.xlsx",
            PNG,
            "This file is not an Excel workbook (.xlsx). Download the template, "
            "fill it in and upload it as .xlsx, or save the sheet as CSV UTF-8.",
        ),
        (
            "archive.xlsx",
            b"PK\x03\x04" + b"\x00" * 200,
            "This file is not an Excel workbook (.xlsx). Download the template, "
            "fill it in and upload it as .xlsx, or save the sheet as CSV UTF-8.",
        ),
        (
            "picture.csv",
            PNG,
            "This file is not a CSV text file. Upload .xlsx or CSV UTF-8.",
        ),
        (
            "latin1.csv",
            "activity_ref,title\r\nA,Santé\r\n".encode("latin-1"),
            "The CSV file is not UTF-8 text (byte 27). Save it as “CSV UTF-8” and "
            "upload it again.",
        ),
        (
            "header-only.csv",
            ",".join(COLUMN_KEYS).encode(),
            "The file has column names but no rows to import.",
        ),
    ],
)
def test_file_that_is_not_a_usable_spreadsheet_is_refused(
    do_import, name, data, message
):
    before = counts()
    job = do_import(data, name)
    assert job.status == ImportStatus.INVALID
    assert job.errors == [{"row": None, "column": "", "message": message}]
    assert counts() == before


def test_docx_zip_renamed_xlsx_is_refused(do_import):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    job = do_import(buffer.getvalue(), "letter.xlsx")
    assert job.status == ImportStatus.INVALID
    assert job.errors[0]["message"].startswith("This file is not an Excel workbook")


def test_file_over_the_row_limit_is_refused(do_import, settings):
    settings.UNPORTAL_IMPORT_MAX_ROWS = 2
    before = counts()
    job = do_import(xlsx_bytes(good_rows()))
    assert job.status == ImportStatus.INVALID
    assert job.errors == [
        {
            "row": None,
            "column": "",
            "message": "The file has more than 2 rows. Import at most 2 rows at a "
            "time: split the file.",
        }
    ]
    assert counts() == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("notes.txt", "Upload an .xlsx or .csv file (“notes.txt” is neither)."),
        ("old.xls", "Old .xls workbooks cannot be read"),
    ],
)
def test_upload_of_another_file_type_is_refused(world, focal_point, name, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        create_import_job(
            actor=focal_point,
            country_team=world["team"],
            upload=SimpleUploadedFile(name, b"hello"),
        )
    assert not ImportJob.objects.exists()


def test_upload_over_the_byte_limit_is_refused(world, focal_point, settings):
    settings.UNPORTAL_IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="larger than"):
        create_import_job(
            actor=focal_point,
            country_team=world["team"],
            upload=SimpleUploadedFile("big.csv", b"x" * 101),
        )


def test_team_without_an_active_framework_cannot_import(do_import, world):
    world["framework"].status = "closed"
    world["framework"].save()
    job = do_import(xlsx_bytes(good_rows()))
    assert job.status == ImportStatus.INVALID
    assert job.errors[0]["row"] is None
    assert "no active Cooperation Framework" in job.errors[0]["message"]


# --- writing -----------------------------------------------------------------------


def test_service_failure_mid_write_rolls_everything_back(
    do_import, do_write, monkeypatch
):
    job = do_import(xlsx_bytes(good_rows()))
    assert job.status == ImportStatus.READY
    before = counts()
    real = imports.create_contribution
    calls = []

    def fail_on_second(**kwargs):
        calls.append(kwargs["external_ref"])
        if len(calls) == 2:
            raise ValidationError({"year": "The service refused this year."})
        return real(**kwargs)

    monkeypatch.setattr(imports, "create_contribution", fail_on_second)
    job = do_write(job)
    assert job.status == ImportStatus.FAILED
    assert job.errors == [
        {"row": 3, "column": "year", "message": "The service refused this year."}
    ]
    assert job.message == (
        "Row 3, year: The service refused this year. Nothing was written."
    )
    assert counts() == before, "the first activity and contribution are rolled back"


def test_permission_refused_by_a_service_is_mapped_to_the_row(
    do_import, do_write, monkeypatch
):
    job = do_import(xlsx_bytes(good_rows()))

    def refuse(**kwargs):
        raise PermissionDenied("You cannot log this activity.")

    monkeypatch.setattr(imports, "create_activity", refuse)
    job = do_write(job)
    assert job.status == ImportStatus.FAILED
    assert job.errors == [
        {
            "row": 2,
            "column": "activity_ref",
            "message": "You cannot log this activity.",
        }
    ]
    assert not JointActivity.objects.exists()


def test_write_checks_again_and_stops_if_the_portal_changed(do_import, do_write, world):
    job = do_import(xlsx_bytes(good_rows()))
    world["team"].team_agencies.filter(agency__code="UNICEF").delete()
    before = counts()
    job = do_write(job)
    assert job.status == ImportStatus.INVALID
    assert "Nothing was written" in job.message
    assert {
        "row": 2,
        "column": "agencies",
        "message": "Not part of this country team: UNICEF.",
    } in job.errors
    assert counts() == before


def test_write_checks_again_and_adapts_to_an_import_in_between(do_import, do_write):
    job = do_import(xlsx_bytes(good_rows()))
    do_write(do_import(xlsx_bytes(good_rows()[:1]), "first-row.xlsx"))
    job = do_write(job)
    assert job.status == ImportStatus.DONE
    assert (job.new_count, job.unchanged_count) == (2, 1)
    assert Contribution.objects.count() == 3


def test_only_a_ready_job_can_be_written_and_only_by_its_uploader(
    do_import, do_write, unicef_focal_point
):
    job = do_import(xlsx_bytes(good_rows()))
    with pytest.raises(PermissionDenied):
        start_import_write(actor=unicef_focal_point, job=job)
    job = do_write(job)
    with pytest.raises(ValidationError, match="cannot be written"):
        start_import_write(actor=job.uploaded_by, job=job)


def test_celery_task_path_checks_and_writes_with_progress(
    world, focal_point, django_capture_on_commit_callbacks
):
    # Without running the on-commit queueing, the job waits for a worker.
    job = create_import_job(
        actor=focal_point,
        country_team=world["team"],
        upload=SimpleUploadedFile("work.xlsx", xlsx_bytes(good_rows())),
    )
    assert job.status == ImportStatus.PENDING
    assert get_import_progress(job).total == 0

    validate_import_task(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    assert (job.progress_done, job.progress_total) == (3, 3)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        start_import_write(actor=focal_point, job=job)
    assert len(queued) == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.WRITING
    assert (job.progress_done, job.progress_total) == (0, 3)

    write_import_task(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert get_import_progress(job).percent == 100
    assert Contribution.objects.count() == 3

    # A redelivered message (acks_late) finds the job done and writes nothing.
    write_import_task(job.pk)
    validate_import_task(job.pk)
    assert Contribution.objects.count() == 3


def test_progress_is_read_from_the_cache_while_a_job_runs(world, focal_point):
    job = create_import_job(
        actor=focal_point,
        country_team=world["team"],
        upload=SimpleUploadedFile("work.csv", csv_bytes(good_rows())),
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.WRITING)
    job.refresh_from_db()
    imports._publish_progress(job.pk, 2, 3)
    progress = get_import_progress(job)
    assert (progress.done, progress.total, progress.percent) == (2, 3, 66)


def test_task_that_crashes_marks_the_job_failed(world, focal_point, monkeypatch):
    job = create_import_job(
        actor=focal_point,
        country_team=world["team"],
        upload=SimpleUploadedFile("work.csv", csv_bytes(good_rows())),
    )

    def crash(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports, "validate_import", crash)
    with pytest.raises(RuntimeError):
        validate_import_task.delay(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "RuntimeError" in job.message


def test_validate_import_leaves_a_finished_job_alone(do_import, do_write):
    job = do_write(do_import(xlsx_bytes(good_rows())))
    assert validate_import(job_id=job.pk).status == ImportStatus.DONE
    assert write_import(job_id=job.pk).status == ImportStatus.DONE


# --- pages ---------------------------------------------------------------------------


def test_pages_upload_preview_and_write(
    client, world, focal_point, django_capture_on_commit_callbacks
):
    client.force_login(focal_point)
    start = reverse("imports:start", kwargs={"code": "SOM"})
    page = client.get(start)
    assert page.status_code == 200
    assert b"template.xlsx" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            start,
            {"file": SimpleUploadedFile("work.xlsx", xlsx_bytes(good_rows()))},
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()

    preview = client.get(job.get_absolute_url())
    assert preview.status_code == 200
    assert "Write 3 rows" in preview.content.decode()
    assert b"Safe births in Banadir" in preview.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:write", kwargs={"code": "SOM", "pk": job.pk})
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    done = client.get(job.get_absolute_url())
    assert b"Activities in this file" in done.content
    assert b"work.xlsx" in client.get(start).content


def test_preview_page_marks_the_bad_cells(client, do_import, focal_point):
    job = do_import(csv_bytes([ROW | {"required": "12,5k"}]), "bad.csv")
    client.force_login(focal_point)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "import-preview__cell--error" in page
    assert "is not a number" in page
    assert "Write 1 row" not in page


def test_upload_page_refuses_another_file_type_with_400(client, world, focal_point):
    client.force_login(focal_point)
    response = client.post(
        reverse("imports:start", kwargs={"code": "SOM"}),
        {"file": SimpleUploadedFile("notes.txt", b"hello")},
    )
    assert response.status_code == 400
    assert "neither" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_fragment_polls_while_running_and_reloads_when_done(
    client, world, focal_point
):
    job = create_import_job(
        actor=focal_point,
        country_team=world["team"],
        upload=SimpleUploadedFile("work.csv", csv_bytes(good_rows())),
    )
    client.force_login(focal_point)
    url = reverse("imports:progress", kwargs={"code": "SOM", "pk": job.pk})
    running = client.get(url, headers={"HX-Request": "true"})
    assert running.status_code == 200
    assert 'hx-trigger="every 1s"' in running.content.decode()
    detail = client.get(job.get_absolute_url())
    assert 'hx-trigger="every 1s"' in detail.content.decode()

    validate_import(job_id=job.pk)
    finished = client.get(url, headers={"HX-Request": "true"})
    assert finished["HX-Refresh"] == "true"


@pytest.fixture
def job(do_import):
    return do_import(xlsx_bytes(good_rows()))


def _urls(job):
    kwargs = {"code": "SOM"}
    return [
        ("get", reverse("imports:start", kwargs=kwargs)),
        ("get", reverse("imports:template", kwargs=kwargs | {"file_format": "xlsx"})),
        ("get", reverse("imports:codes", kwargs=kwargs)),
        ("get", reverse("imports:detail", kwargs=kwargs | {"pk": job.pk})),
        ("get", reverse("imports:progress", kwargs=kwargs | {"pk": job.pk})),
        ("post", reverse("imports:write", kwargs=kwargs | {"pk": job.pk})),
    ]


def test_member_of_another_team_gets_404(client, job, other_team, undp):
    stranger = MembershipFactory(
        country_team=other_team, role="focal_point", agency=undp
    ).user
    client.force_login(stranger)
    for method, url in _urls(job):
        assert getattr(client, method)(url).status_code == 404, url


def test_outsider_gets_404(client, job, outsider):
    client.force_login(outsider)
    for method, url in _urls(job):
        assert getattr(client, method)(url).status_code == 404, url


def test_rc_office_officer_gets_403(client, job, rco_officer):
    client.force_login(rco_officer)
    for method, url in _urls(job):
        assert getattr(client, method)(url).status_code == 403, url
    assert ImportJob.objects.get().status == ImportStatus.READY


def test_another_focal_point_of_the_team_cannot_see_my_import(
    client, job, unicef_focal_point
):
    client.force_login(unicef_focal_point)
    for method, url in _urls(job)[3:]:
        assert getattr(client, method)(url).status_code == 404, url
    assert client.get(_urls(job)[0][1]).status_code == 200


def test_anonymous_user_is_sent_to_sign_in(client, job):
    for method, url in _urls(job):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]


def test_write_page_accepts_only_post(client, job, focal_point):
    client.force_login(focal_point)
    url = reverse("imports:write", kwargs={"code": "SOM", "pk": job.pk})
    assert client.get(url).status_code == 405


def test_workbook_that_unpacks_to_too_much_is_refused(do_import, settings):
    settings.UNPORTAL_IMPORT_MAX_BYTES = 100_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 3_000_000)
    assert len(buffer.getvalue()) < 100_000
    job = do_import(buffer.getvalue())
    assert job.status == ImportStatus.INVALID
    assert job.errors[0]["message"].startswith("The workbook unpacks to")


def test_reimport_cannot_change_a_submitted_activity(do_import, do_write, focal_point):
    do_write(do_import(xlsx_bytes(good_rows())))
    activity = JointActivity.objects.get(external_ref="SOM-UNDP-001")
    submit_activity(actor=focal_point, activity=activity)
    rows = good_rows()
    for row in rows[:2]:
        row["implementation_status"] = "completed"
    job = do_import(xlsx_bytes(rows))
    assert job.status == ImportStatus.INVALID
    [error] = job.errors
    assert (error["row"], error["column"]) == (2, "activity_ref")
    assert error["message"].startswith(
        "This activity cannot be changed now (it awaits validation), but these "
        "columns differ from the portal: implementation_status."
    )


def test_import_page_queries_do_not_grow_with_my_imports(
    client, world, focal_point, django_assert_num_queries
):
    client.force_login(focal_point)
    url = reverse("imports:start", kwargs={"code": "SOM"})

    def add_jobs(n):
        for _ in range(n):
            create_import_job(
                actor=focal_point,
                country_team=world["team"],
                upload=SimpleUploadedFile("work.csv", csv_bytes(good_rows())),
            )

    add_jobs(1)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add_jobs(4)
    with django_assert_num_queries(len(one)):
        client.get(url)
