"""Spreadsheet import of joint activities and agency contributions.

A focal point downloads the team's template, fills one row per contribution (one
agency's share of one activity for one year) and uploads it as .xlsx or .csv. The
whole file is checked before anything is written, and every problem is reported as
{row, column, message}. Only a file without a single error can be written, and it is
written in one transaction through the joint-work services, so imported records get
the same rules, workflow and history as records typed on the web.

Rows carry stable references (activity_ref, contribution_ref) kept as the records'
`external_ref`, so importing the same file again finds the records it created: equal
figures are left alone, different ones go through update_activity and
update_contribution.

Checking and writing run as Celery tasks (frameworks.tasks) that take the job id.
Progress is published to the cache, because the write transaction hides its own
updates of the job row from the page that polls for progress.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypedDict
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coordination.models import AdminRegion, Agency, CountryTeam, TeamAgency
from coordination.permissions import agency_ids_for
from frameworks.models import (
    MAX_SDG_TARGETS,
    CommonChapterArea,
    Contribution,
    CooperationFramework,
    HumanRightsMarker,
    ImplementationStatus,
    ImportJob,
    JointActivity,
    JointProgramme,
    Output,
    ResultValue,
    SdgTarget,
    TargetGroup,
)
from frameworks.models.imports import RUNNING_STATUSES, ImportStatus
from frameworks.models.programmes import GenderMarker
from frameworks.permissions import is_editable
from frameworks.services.joint_work import (
    ActivityData,
    ConflictError,
    FiguresData,
    ResultData,
    create_activity,
    create_contribution,
    update_activity,
    update_contribution,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from coordination.models import User

ADD_PERMISSION = "frameworks.add_jointactivity"
MAX_ROWS_SETTING = "UNPORTAL_IMPORT_MAX_ROWS"
MAX_BYTES_SETTING = "UNPORTAL_IMPORT_MAX_BYTES"
DEFAULT_MAX_ROWS = 5000
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
FORMATS = ("xlsx", "csv")
PREVIEW_ROWS = 200
STORED_ERRORS = 1000
PROGRESS_EVERY = 25
# Far more columns than the template has: enough to name any unknown column, few
# enough that a sheet padded to column XFD is not read cell by cell.
MAX_COLUMNS = 60
SEPARATOR = ";"
UNPACKED_RATIO = 20

ACTION_NEW = "new"
ACTION_UPDATED = "updated"
ACTION_UNCHANGED = "unchanged"


def max_rows() -> int:
    return getattr(settings, MAX_ROWS_SETTING, DEFAULT_MAX_ROWS)


def max_bytes() -> int:
    return getattr(settings, MAX_BYTES_SETTING, DEFAULT_MAX_BYTES)


# --- the columns --------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    help: str
    # "always", "activity" (when the row describes its activity) or "" (optional)
    required: str = ""
    # Code columns are formatted as text in the template, so Excel keeps "1.10".
    text: bool = False


ACTIVITY_COLUMNS = (
    Column(
        "title",
        gettext_lazy("Title of the joint activity (at most 300 characters)."),
        "activity",
    ),
    Column(
        "lead_agency",
        gettext_lazy("Code of the lead agency; for a new activity, your agency."),
        "activity",
        text=True,
    ),
    Column(
        "agencies",
        gettext_lazy("Codes of all agencies involved, lead included, separated by ;."),
        "activity",
        text=True,
    ),
    Column(
        "outputs",
        gettext_lazy("Output codes of the active framework, separated by ;."),
        "activity",
        text=True,
    ),
    Column(
        "sdg_targets",
        gettext_lazy("SDG target codes such as 5.2, separated by ;."),
        text=True,
    ),
    Column(
        "common_chapter_areas",
        gettext_lazy("Common-chapter area codes, separated by ;."),
        text=True,
    ),
    Column("gender_marker", gettext_lazy("Gender equality marker: 0, 1, 2 or 3.")),
    Column("human_rights_marker", gettext_lazy("Human rights marker: 0, 1, 2 or 3.")),
    Column(
        "target_groups",
        gettext_lazy("Leave No One Behind target group codes, separated by ;."),
        text=True,
    ),
    Column(
        "locations",
        gettext_lazy("Codes of the country's admin-1 regions, separated by ;."),
        text=True,
    ),
    Column("start_date", gettext_lazy("Start date as YYYY-MM-DD."), "activity", True),
    Column("end_date", gettext_lazy("End date as YYYY-MM-DD."), "activity", True),
    Column(
        "implementation_status",
        gettext_lazy("planned, ongoing, completed, suspended or cancelled."),
        text=True,
    ),
    Column(
        "joint_programme",
        gettext_lazy("Id of the team's joint programme, or blank."),
    ),
)
CONTRIBUTION_COLUMNS = (
    Column(
        "contribution_ref",
        gettext_lazy(
            "Your stable reference for this agency's contribution for this year."
        ),
        "always",
        text=True,
    ),
    Column("agency", gettext_lazy("Code of your agency."), "always", text=True),
    Column("year", gettext_lazy("Year of the contribution, e.g. 2024."), "always"),
    Column("required", gettext_lazy("Money required, USD, e.g. 12500.50."), "always"),
    Column("available", gettext_lazy("Money available, USD."), "always"),
    Column("spent", gettext_lazy("Money spent, USD."), "always"),
    Column("funding_source", gettext_lazy("Funding source (contributing partner).")),
    Column("implementing_partners", gettext_lazy("Implementing partners.")),
    Column("reach", gettext_lazy("Number of people reached (a whole number).")),
)
COLUMNS = (
    Column(
        "activity_ref",
        gettext_lazy(
            "Your stable reference for the activity. Rows with the same reference "
            "describe the same activity; leave its other columns blank to add a "
            "contribution to an activity imported before."
        ),
        "always",
        text=True,
    ),
    *ACTIVITY_COLUMNS,
    *CONTRIBUTION_COLUMNS,
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
ACTIVITY_KEYS = tuple(c.key for c in ACTIVITY_COLUMNS)
_ACTIVITY_FIELD_COLUMNS = {
    "title": "title",
    "agency": "lead_agency",
    "agencies": "agencies",
    "outputs": "outputs",
    "sdg_targets": "sdg_targets",
    "common_chapter_areas": "common_chapter_areas",
    "gender_marker": "gender_marker",
    "human_rights_marker": "human_rights_marker",
    "target_groups": "target_groups",
    "locations": "locations",
    "start_date": "start_date",
    "end_date": "end_date",
    "implementation_status": "implementation_status",
    "joint_programme": "joint_programme",
    "external_ref": "activity_ref",
}
_CONTRIBUTION_FIELD_COLUMNS = {
    "agency": "agency",
    "year": "year",
    "required": "required",
    "available": "available",
    "spent": "spent",
    "funding_source": "funding_source",
    "implementing_partners": "implementing_partners",
    "reach": "reach",
    "external_ref": "contribution_ref",
}
_TEXT_LIMITS = {
    "activity_ref": 100,
    "contribution_ref": 100,
    "title": 300,
    "funding_source": 200,
    "implementing_partners": 500,
}


class RowError(TypedDict):
    row: int | None
    column: str
    message: str


def _error(row: int | None, column: str, message: str) -> RowError:
    return {"row": row, "column": column, "message": str(message)}


# --- the team's codes ---------------------------------------------------------------


def _key(code: object) -> str:
    return str(code).strip().casefold()


@dataclass
class _Lookups:
    """Everything a file may refer to, loaded once per check (a fixed query count)."""

    team: CountryTeam
    framework: CooperationFramework | None
    outputs: dict[str, Output]
    agencies: dict[str, Agency]
    foreign_agency_codes: set[str]
    regions: dict[str, AdminRegion]
    targets: dict[str, SdgTarget]
    areas: dict[str, CommonChapterArea]
    programmes: dict[str, JointProgramme]


def _load_lookups(team: CountryTeam) -> _Lookups:
    framework = CooperationFramework.objects.active().filter(country_team=team).first()
    outputs = (
        list(Output.objects.filter(framework=framework).order_by("code"))
        if framework
        else []
    )
    team_agencies = [
        ta.agency
        for ta in TeamAgency.objects.filter(country_team=team)
        .select_related("agency")
        .order_by("agency__code")
    ]
    team_codes = {_key(a.code) for a in team_agencies}
    return _Lookups(
        team=team,
        framework=framework,
        outputs={_key(o.code): o for o in outputs},
        agencies={_key(a.code): a for a in team_agencies},
        foreign_agency_codes={
            _key(code) for code in Agency.objects.values_list("code", flat=True)
        }
        - team_codes,
        regions={
            _key(r.code): r for r in AdminRegion.objects.filter(country_team=team)
        },
        targets={_key(t.code): t for t in SdgTarget.objects.order_by("sort_key")},
        areas={_key(a.code): a for a in CommonChapterArea.objects.order_by("position")},
        programmes={
            str(p.pk): p
            for p in JointProgramme.objects.filter(country_team=team).order_by("pk")
        },
    )


@dataclass(frozen=True)
class CodeList:
    key: str
    title: str
    columns: tuple[str, ...]
    entries: list[tuple[str | int, str]]


def _choice_entries(choices: Iterable[tuple[Any, Any]]) -> list[tuple[str | int, str]]:
    return [(value, str(label)) for value, label in choices]


def _code_lists(lookups: _Lookups) -> list[CodeList]:
    return [
        CodeList(
            "outputs",
            _("Outputs of the active framework"),
            ("outputs",),
            [(o.code, o.statement[:250]) for o in lookups.outputs.values()],
        ),
        CodeList(
            "agencies",
            _("Agencies in the team"),
            ("lead_agency", "agencies", "agency"),
            [(a.code, a.name) for a in lookups.agencies.values()],
        ),
        CodeList(
            "locations",
            _("Admin-1 regions"),
            ("locations",),
            [(r.code, r.name) for r in lookups.regions.values()],
        ),
        CodeList(
            "sdg_targets",
            _("SDG targets"),
            ("sdg_targets",),
            [(t.code, t.title[:250]) for t in lookups.targets.values()],
        ),
        CodeList(
            "common_chapter_areas",
            _("Common-chapter areas"),
            ("common_chapter_areas",),
            [(a.code, a.name) for a in lookups.areas.values()],
        ),
        CodeList(
            "implementation_status",
            _("Implementation statuses"),
            ("implementation_status",),
            _choice_entries(ImplementationStatus.choices),
        ),
        CodeList(
            "target_groups",
            _("Target groups"),
            ("target_groups",),
            _choice_entries(TargetGroup.choices),
        ),
        CodeList(
            "gender_marker",
            _("Gender equality marker"),
            ("gender_marker",),
            _choice_entries(GenderMarker.choices),
        ),
        CodeList(
            "human_rights_marker",
            _("Human rights marker"),
            ("human_rights_marker",),
            _choice_entries(HumanRightsMarker.choices),
        ),
        CodeList(
            "joint_programme",
            _("Joint programmes"),
            ("joint_programme",),
            [(p.pk, p.title) for p in lookups.programmes.values()],
        ),
    ]


def list_import_codes(*, team: CountryTeam) -> list[CodeList]:
    """Return the codes a file for this team may use, list by list."""
    return _code_lists(_load_lookups(team))


# --- templates ----------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadFile:
    content: bytes
    content_type: str
    filename: str


# Columns that take one code, so Excel can offer a drop-down list of them.
_SINGLE_CODE_COLUMNS = (
    "lead_agency",
    "agency",
    "implementation_status",
    "joint_programme",
    "gender_marker",
    "human_rights_marker",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
DATA_SHEET = "Import"
CODES_SHEET = "Codes"
HELP_SHEET = "Columns"


def _neutralised(value: Any) -> Any:
    """Keep CSV text from being run as a formula by the spreadsheet that opens it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _required_label(column: Column) -> str:
    if column.required == "always":
        return _("yes")
    if column.required == "activity":
        return _("when the row describes its activity")
    return _("no")


def build_template(*, team: CountryTeam, file_format: str) -> DownloadFile:
    """Return an empty import file for the team: an XLSX workbook or a CSV header."""
    if file_format == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow(COLUMN_KEYS)
        return DownloadFile(
            ("\ufeff" + buffer.getvalue()).encode(),
            CSV_TYPE,
            f"unportal-import-{team.code}.csv",
        )
    return DownloadFile(
        _template_workbook(team), XLSX_TYPE, f"unportal-import-{team.code}.xlsx"
    )


def build_codes_csv(*, team: CountryTeam) -> DownloadFile:
    """Return the team's valid codes as CSV (list, code, label), for CSV users."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["list", "code", "label"])
    for code_list in list_import_codes(team=team):
        writer.writerows(
            [code_list.key, _neutralised(str(code)), _neutralised(label)]
            for code, label in code_list.entries
        )
    return DownloadFile(
        ("\ufeff" + buffer.getvalue()).encode(),
        CSV_TYPE,
        f"unportal-import-codes-{team.code}.csv",
    )


def _template_workbook(team: CountryTeam) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    bold = Font(bold=True)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    sheet.append(list(COLUMN_KEYS))
    sheet.freeze_panes = "A2"
    letters = {}
    for position, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(position)
        letters[column.key] = letter
        sheet[f"{letter}1"].font = bold
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(14, len(column.key) + 4)
        if column.text:
            dimension.number_format = "@"

    codes = workbook.create_sheet(CODES_SHEET)
    last_row = max_rows() + 1
    for index, code_list in enumerate(_code_lists(_load_lookups(team))):
        code_col, label_col = index * 3 + 1, index * 3 + 2
        codes.cell(row=1, column=code_col, value=code_list.key).font = bold
        codes.cell(row=1, column=label_col, value=code_list.title).font = bold
        codes.column_dimensions[get_column_letter(code_col)].width = 14
        codes.column_dimensions[get_column_letter(label_col)].width = 40
        for row, (code, label) in enumerate(code_list.entries, start=2):
            codes.cell(row=row, column=code_col, value=code)
            # openpyxl stores text starting with "=" as a formula; labels are text.
            codes.cell(row=row, column=label_col, value=label).data_type = "s"
        letter = get_column_letter(code_col)
        source = f"{CODES_SHEET}!${letter}$2:${letter}${len(code_list.entries) + 1}"
        for key in code_list.columns:
            if key in _SINGLE_CODE_COLUMNS and code_list.entries:
                validation = DataValidation(
                    type="list",
                    formula1=f"={source}",
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=_("Unknown code"),
                    error=_("Pick a code from the %(sheet)s sheet.")
                    % {"sheet": CODES_SHEET},
                )
            else:
                validation = DataValidation(
                    showInputMessage=True,
                    promptTitle=key,
                    prompt=_("Codes from the %(sheet)s sheet, separated by ;")
                    % {"sheet": CODES_SHEET},
                )
            validation.add(f"{letters[key]}2:{letters[key]}{last_row}")
            sheet.add_data_validation(validation)
    for key, kind, low, high in (
        ("year", "whole", 2000, 2100),
        ("required", "decimal", 0, 10**14),
        ("available", "decimal", 0, 10**14),
        ("spent", "decimal", 0, 10**14),
        ("reach", "whole", 0, 2**31 - 1),
    ):
        validation = DataValidation(
            type=kind,
            operator="between",
            formula1=str(low),
            formula2=str(high),
            allow_blank=True,
            showErrorMessage=True,
            error=_("Give a number between %(low)s and %(high)s.")
            % {"low": low, "high": high},
        )
        validation.add(f"{letters[key]}2:{letters[key]}{last_row}")
        sheet.add_data_validation(validation)

    help_sheet = workbook.create_sheet(HELP_SHEET)
    help_sheet.append([_("column"), _("required"), _("what to write")])
    for cell in help_sheet[1]:
        cell.font = bold
    for column in COLUMNS:
        help_sheet.append([column.key, _required_label(column), str(column.help)])
    help_sheet.column_dimensions["A"].width = 24
    help_sheet.column_dimensions["B"].width = 34
    help_sheet.column_dimensions["C"].width = 90

    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# --- reading files ------------------------------------------------------------------


class ImportFileError(Exception):
    """The file as a whole cannot be imported."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass
class Table:
    header: list[str]
    # (spreadsheet row number, cells); blank rows are left out
    rows: list[tuple[int, list[Any]]]


def file_format_of(name: str) -> str:
    """Return "xlsx" or "csv" for a file name, or "" for anything else."""
    suffix = PurePath(name).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else ""


def read_table(data: bytes, file_format: str, *, limit: int) -> Table:
    """Read the first sheet (or the CSV): a header row and up to `limit` rows."""
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if file_format == "xlsx":
        return _read_xlsx(data, limit)
    return _read_csv(data, limit)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _collect(rows: Iterable[Sequence[Any]], limit: int) -> Table:
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        raise ImportFileError(_("The file is empty."))
    header = ["" if _blank(v) else str(v).strip() for v in first]
    if not any(header):
        raise ImportFileError(
            _("The first row is empty: it must hold the column names.")
        )
    table = Table(header=header, rows=[])
    for number, cells in enumerate(iterator, start=2):
        if all(_blank(v) for v in cells):
            continue
        if len(table.rows) >= limit:
            raise ImportFileError(
                _(
                    "The file has more than %(limit)d rows. Import at most "
                    "%(limit)d rows at a time: split the file."
                )
                % {"limit": limit}
            )
        table.rows.append((number, list(cells)))
    if not table.rows:
        raise ImportFileError(_("The file has column names but no rows to import."))
    return table


def _read_xlsx(data: bytes, limit: int) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    not_a_workbook = _(
        "This file is not an Excel workbook (.xlsx). Download the template, fill "
        "it in and upload it as .xlsx, or save the sheet as CSV UTF-8."
    )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFileError(not_a_workbook)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(not_a_workbook) from exc
    # A small upload may unpack to gigabytes; a real sheet of the allowed rows
    # stays far below this.
    if unpacked > UNPACKED_RATIO * max_bytes():
        raise ImportFileError(
            _("The workbook unpacks to %(mb)d MB, too large to read: split it.")
            % {"mb": unpacked // (1024 * 1024)}
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        ParseError,
    ) as exc:
        raise ImportFileError(not_a_workbook) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheet."))
        rows = workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True)
        return _collect(rows, limit)
    except (KeyError, ValueError, TypeError, ParseError, zipfile.BadZipFile) as exc:
        raise ImportFileError(not_a_workbook) from exc
    finally:
        workbook.close()


def _read_csv(data: bytes, limit: int) -> Table:
    if b"\x00" in data[:65536]:
        raise ImportFileError(
            _("This file is not a CSV text file. Upload .xlsx or CSV UTF-8.")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _(
                "The CSV file is not UTF-8 text (byte %(position)d). Save it as "
                "“CSV UTF-8” and upload it again."
            )
            % {"position": exc.start + 1}
        ) from exc
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in many locales save CSV with ";" between cells; header names
    # never contain a separator, so the first line says which one the file uses.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        return _collect(csv.reader(io.StringIO(text), delimiter=delimiter), limit)
    except csv.Error as exc:
        raise ImportFileError(
            _("The CSV file cannot be read: %(reason)s.") % {"reason": exc}
        ) from exc


# --- checking rows ------------------------------------------------------------------


def _text(value: Any) -> str:
    """Return a cell as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(sep=" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_AMOUNT = Decimal(10) ** 14


class _Row:
    """One data row: its cells by column, and the errors found in them."""

    def __init__(self, number: int, cells: list[Any], index: dict[str, int]):
        self.number = number
        self.raw = {
            key: cells[pos] if pos < len(cells) else None for key, pos in index.items()
        }
        self.errors: list[RowError] = []
        self.extra = [v for pos, v in enumerate(cells) if pos not in index.values()]

    def text(self, key: str) -> str:
        return _text(self.raw.get(key))

    def error(self, column: str, message: str) -> None:
        self.errors.append(_error(self.number, column, message))

    def has_error(self, *columns: str) -> bool:
        return any(e["column"] in columns for e in self.errors)

    def cells(self) -> list[str]:
        return [self.text(key)[:300] for key in COLUMN_KEYS]

    # Field readers return None (and record an error) when the cell is unusable.

    def required_text(self, key: str) -> str | None:
        value = self.optional_text(key)
        if value == "":
            self.error(key, _("%(column)s is required.") % {"column": key})
            return None
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.text(key)
        limit = _TEXT_LIMITS.get(key)
        if limit and len(value) > limit:
            self.error(
                key,
                _("At most %(limit)d characters (this has %(n)d).")
                % {"limit": limit, "n": len(value)},
            )
            return None
        return value

    def amount(self, key: str) -> Decimal | None:
        raw = self.raw.get(key)
        shown = self.text(key)
        if shown == "":
            self.error(key, _("%(column)s is required.") % {"column": key})
            return None
        number = self._decimal(raw, shown)
        if number is None:
            self.error(
                key,
                _(
                    "“%(value)s” is not a number. Write digits only, with a dot "
                    "for decimals and no thousands separators, e.g. 12500.50."
                )
                % {"value": shown},
            )
            return None
        if number < 0:
            self.error(
                key, _("Amounts cannot be negative (%(value)s).") % {"value": shown}
            )
            return None
        if number >= _MAX_AMOUNT:
            self.error(key, _("%(value)s is too large.") % {"value": shown})
            return None
        if number != number.quantize(Decimal("0.01")):
            self.error(
                key,
                _("Give at most two decimals (%(value)s).") % {"value": shown},
            )
            return None
        return number

    def _decimal(self, raw: Any, shown: str) -> Decimal | None:
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float):
            try:
                number = Decimal(str(raw))
            except InvalidOperation:
                return None
            return number if number.is_finite() else None
        if not _PLAIN_NUMBER.match(shown):
            return None
        return Decimal(shown)

    def whole_number(
        self, key: str, *, low: int, high: int, message: str, required: bool
    ) -> int | None:
        shown = self.text(key)
        if shown == "":
            if required:
                self.error(key, _("%(column)s is required.") % {"column": key})
            return None
        number = self._decimal(self.raw.get(key), shown)
        if number is None or number != number.to_integral_value():
            self.error(key, _("“%(value)s” is not a whole number.") % {"value": shown})
            return None
        if not low <= number <= high:
            self.error(key, message)
            return None
        return int(number)

    def date(self, key: str) -> date | None:
        raw = self.raw.get(key)
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        shown = self.text(key)
        if shown == "":
            self.error(key, _("%(column)s is required.") % {"column": key})
            return None
        if _ISO_DATE.match(shown):
            try:
                return date.fromisoformat(shown)
            except ValueError:
                pass
        self.error(
            key,
            _(
                "“%(value)s” is not a date in ISO format: write YYYY-MM-DD, "
                "e.g. 2024-03-31."
            )
            % {"value": shown},
        )
        return None

    def codes(self, key: str) -> list[str]:
        seen: dict[str, str] = {}
        for part in self.text(key).split(SEPARATOR):
            if part.strip():
                seen.setdefault(_key(part), part.strip())
        return list(seen.values())


@dataclass
class _ActivityRow:
    """The activity columns of one row, read into the shape of ActivityData."""

    data: ActivityData
    # comparable value per column, for rows that must agree and for "unchanged"
    values: dict[str, Any]


def _comparable(data: ActivityData) -> dict[str, Any]:
    return {
        "title": data.title,
        "lead_agency": data.agency.pk,
        "agencies": frozenset(a.pk for a in data.agencies),
        "outputs": frozenset(o.pk for o in data.outputs),
        "sdg_targets": frozenset(t.pk for t in data.sdg_targets),
        "common_chapter_areas": frozenset(a.pk for a in data.common_chapter_areas),
        "gender_marker": data.gender_marker,
        "human_rights_marker": data.human_rights_marker,
        "target_groups": frozenset(data.target_groups),
        "locations": frozenset(r.pk for r in data.locations),
        "start_date": data.start_date,
        "end_date": data.end_date,
        "implementation_status": data.implementation_status,
        "joint_programme": data.joint_programme.pk if data.joint_programme else None,
    }


def _agency_code_problem(code: str, lookups: _Lookups) -> str:
    if _key(code) in lookups.foreign_agency_codes:
        return _("%(code)s is not part of this country team.") % {"code": code}
    return _("Unknown agency code “%(code)s”.") % {"code": code}


def _read_many(
    row: _Row,
    key: str,
    table: dict[str, Any],
    unknown_message: str,
    *,
    required: bool = False,
) -> list[Any] | None:
    codes = row.codes(key)
    if not codes:
        if required:
            row.error(key, _("%(column)s is required.") % {"column": key})
            return None
        return []
    unknown = [c for c in codes if _key(c) not in table]
    if unknown:
        row.error(key, unknown_message % {"codes": ", ".join(unknown)})
        return None
    return [table[_key(c)] for c in codes]


def _read_activity(row: _Row, lookups: _Lookups, ref: str) -> _ActivityRow | None:
    title = row.required_text("title")
    lead_code = row.required_text("lead_agency")
    lead = None
    if lead_code:
        lead = lookups.agencies.get(_key(lead_code))
        if lead is None:
            row.error("lead_agency", _agency_code_problem(lead_code, lookups))
    agency_codes = row.codes("agencies")
    agencies: list[Agency] | None = None
    if not agency_codes:
        row.error("agencies", _("%(column)s is required.") % {"column": "agencies"})
    else:
        foreign = [c for c in agency_codes if _key(c) in lookups.foreign_agency_codes]
        unknown = [
            c
            for c in agency_codes
            if _key(c) not in lookups.agencies and c not in foreign
        ]
        if foreign:
            row.error(
                "agencies",
                _("Not part of this country team: %(codes)s.")
                % {"codes": ", ".join(foreign)},
            )
        elif unknown:
            row.error(
                "agencies",
                _("Unknown agency codes: %(codes)s.") % {"codes": ", ".join(unknown)},
            )
        else:
            agencies = [lookups.agencies[_key(c)] for c in agency_codes]
    outputs = _read_many(
        row,
        "outputs",
        lookups.outputs,
        _("Unknown output codes (not in the active framework): %(codes)s."),
        required=True,
    )
    targets = _read_many(
        row, "sdg_targets", lookups.targets, _("Unknown SDG target codes: %(codes)s.")
    )
    areas = _read_many(
        row,
        "common_chapter_areas",
        lookups.areas,
        _("Unknown common-chapter area codes: %(codes)s."),
    )
    regions = _read_many(
        row,
        "locations",
        lookups.regions,
        _("Unknown region codes for this country: %(codes)s."),
    )
    groups = _read_many(
        row,
        "target_groups",
        {_key(v): v for v in TargetGroup.values},
        _("Unknown target groups: %(codes)s."),
    )
    marker_message = _("A marker is 0, 1, 2 or 3.")
    gender = row.whole_number(
        "gender_marker", low=0, high=3, message=marker_message, required=False
    )
    rights = row.whole_number(
        "human_rights_marker", low=0, high=3, message=marker_message, required=False
    )
    start = row.date("start_date")
    end = row.date("end_date")
    status_text = row.text("implementation_status")
    status = ImplementationStatus.PLANNED.value
    if status_text:
        statuses = {_key(v): v for v in ImplementationStatus.values}
        if _key(status_text) in statuses:
            status = statuses[_key(status_text)]
        else:
            row.error(
                "implementation_status",
                _("Unknown implementation status “%(value)s”; use one of %(values)s.")
                % {
                    "value": status_text,
                    "values": ", ".join(ImplementationStatus.values),
                },
            )
    programme = None
    programme_text = row.text("joint_programme")
    if programme_text:
        programme = lookups.programmes.get(programme_text)
        if programme is None:
            row.error(
                "joint_programme",
                _("No joint programme of this team has the id “%(value)s”.")
                % {"value": programme_text},
            )
    if row.has_error(*ACTIVITY_KEYS):
        return None
    # has_error() above guarantees every required value was read.
    assert title  # noqa: S101
    assert lead  # noqa: S101
    assert agencies is not None  # noqa: S101
    assert outputs is not None  # noqa: S101
    assert start  # noqa: S101
    assert end  # noqa: S101
    data = ActivityData(
        title=title,
        agency=lead,
        agencies=agencies,
        outputs=outputs,
        start_date=start,
        end_date=end,
        joint_programme=programme,
        sdg_targets=targets or [],
        common_chapter_areas=areas or [],
        gender_marker=gender,
        human_rights_marker=rights,
        target_groups=sorted(set(groups or [])),
        locations=regions or [],
        implementation_status=status,
        external_ref=ref,
    )
    if len(data.agencies) < 2:
        row.error("agencies", _("A joint activity involves two or more agencies."))
    elif data.agency.pk not in {a.pk for a in data.agencies}:
        row.error(
            "agencies", _("The lead agency must be one of the agencies involved.")
        )
    if len(data.sdg_targets) > MAX_SDG_TARGETS:
        row.error(
            "sdg_targets",
            _("Tag at most %(max)d SDG targets.") % {"max": MAX_SDG_TARGETS},
        )
    if data.end_date < data.start_date:
        row.error("end_date", _("The end date is before the start date."))
    if row.has_error(*ACTIVITY_KEYS):
        return None
    return _ActivityRow(data=data, values=_comparable(data))


@dataclass
class _ContributionRow:
    row: _Row
    ref: str
    agency: Agency
    year: int
    figures: FiguresData
    existing: Contribution | None = None
    action: str = ACTION_NEW


def _read_contribution(row: _Row, lookups: _Lookups) -> _ContributionRow | None:
    ref = row.required_text("contribution_ref")
    agency_code = row.required_text("agency")
    agency = None
    if agency_code:
        agency = lookups.agencies.get(_key(agency_code))
        if agency is None:
            row.error("agency", _agency_code_problem(agency_code, lookups))
    year = row.whole_number(
        "year",
        low=2000,
        high=2100,
        message=_("Give a year between 2000 and 2100."),
        required=True,
    )
    required = row.amount("required")
    available = row.amount("available")
    spent = row.amount("spent")
    funding_source = row.optional_text("funding_source")
    partners = row.optional_text("implementing_partners")
    reach = row.whole_number(
        "reach",
        low=0,
        high=2**31 - 1,
        message=_("People reached cannot be negative."),
        required=False,
    )
    if row.has_error(*(c.key for c in CONTRIBUTION_COLUMNS)):
        return None
    assert ref  # noqa: S101 - has_error() above guarantees these
    assert agency  # noqa: S101
    assert year is not None  # noqa: S101
    return _ContributionRow(
        row=row,
        ref=ref,
        agency=agency,
        year=year,
        figures=FiguresData(
            required=required or Decimal(0),
            available=available or Decimal(0),
            spent=spent or Decimal(0),
            funding_source=funding_source or "",
            implementing_partners=partners or "",
            reach=reach,
        ),
    )


@dataclass
class _Group:
    """The rows that share one activity_ref."""

    ref: str
    rows: list[_Row] = field(default_factory=list)
    describing: _Row | None = None
    activity: _ActivityRow | None = None
    existing: JointActivity | None = None
    action: str = ACTION_UNCHANGED
    contributions: list[_ContributionRow] = field(default_factory=list)


@dataclass
class Plan:
    """What a checked file would do; writable only when `errors` is empty."""

    errors: list[RowError]
    rows: list[_Row]
    groups: list[_Group]
    row_actions: dict[int, str]

    def count(self, action: str) -> int:
        return sum(1 for a in self.row_actions.values() if a == action)


def _in_chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    chunk: list[str] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _existing_activities(team: CountryTeam, refs: set[str]) -> dict[str, JointActivity]:
    found: dict[str, JointActivity] = {}
    for chunk in _in_chunks(sorted(refs)):
        queryset = (
            JointActivity.objects.filter(country_team=team, external_ref__in=chunk)
            .select_related("agency", "joint_programme", "framework")
            .prefetch_related(
                "agencies",
                "outputs",
                "sdg_targets",
                "common_chapter_areas",
                "locations",
                Prefetch(
                    "contributions",
                    queryset=Contribution.objects.only(
                        "pk", "activity_id", "agency_id", "year", "external_ref"
                    ),
                ),
            )
        )
        found.update({a.external_ref: a for a in queryset})
    return found


def _existing_contributions(
    team: CountryTeam, refs: set[str]
) -> dict[str, Contribution]:
    found: dict[str, Contribution] = {}
    for chunk in _in_chunks(sorted(refs)):
        queryset = Contribution.objects.filter(
            country_team=team, external_ref__in=chunk
        ).select_related("activity", "agency", "current_revision")
        found.update({c.external_ref: c for c in queryset})
    return found


def _activity_data_of(activity: JointActivity) -> ActivityData:
    return ActivityData(
        title=activity.title,
        agency=activity.agency,
        agencies=list(activity.agencies.all()),
        outputs=list(activity.outputs.all()),
        start_date=activity.start_date,
        end_date=activity.end_date,
        description=activity.description,
        joint_programme=activity.joint_programme,
        sdg_targets=list(activity.sdg_targets.all()),
        common_chapter_areas=list(activity.common_chapter_areas.all()),
        gender_marker=activity.gender_marker,
        human_rights_marker=activity.human_rights_marker,
        target_groups=list(activity.target_groups or []),
        locations=list(activity.locations.all()),
        implementation_status=activity.implementation_status,
        external_ref=activity.external_ref,
    )


def _figures_equal(figures: FiguresData, contribution: Contribution) -> bool:
    revision = contribution.current_revision
    if revision is None:
        return False
    return (
        figures.required == revision.required
        and figures.available == revision.available
        and figures.spent == revision.spent
        and figures.funding_source == revision.funding_source
        and figures.implementing_partners == revision.implementing_partners
        and figures.reach == revision.reach
    )


def _my_agency_ids(actor: User, team: CountryTeam) -> set[int] | None:
    """The agencies the actor may import for; None means any (administrators)."""
    if actor.is_superuser:
        return None
    return agency_ids_for(actor, team.pk)


def check_table(
    *,
    table: Table,
    team: CountryTeam,
    actor: User,
    on_progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Check every row of a file against the team's data and the actor's rights."""
    errors: list[RowError] = []
    index: dict[str, int] = {}
    for position, name in enumerate(table.header):
        key = name.strip().lower()
        if not key:
            continue
        if key not in COLUMN_KEYS:
            errors.append(
                _error(
                    1,
                    name,
                    _("Unknown column “%(name)s”. The columns are: %(columns)s.")
                    % {"name": name, "columns": ", ".join(COLUMN_KEYS)},
                )
            )
        elif key in index:
            errors.append(
                _error(1, key, _("The column %(name)s appears twice.") % {"name": key})
            )
        else:
            index[key] = position
    errors.extend(
        _error(1, key, _("The column %(name)s is missing.") % {"name": key})
        for key in COLUMN_KEYS
        if key not in index
    )
    if errors:
        return Plan(errors=errors, rows=[], groups=[], row_actions={})

    lookups = _load_lookups(team)
    if lookups.framework is None:
        message = _(
            "%(team)s has no active Cooperation Framework; the RC office must "
            "activate one before joint work can be imported."
        ) % {"team": team.name}
        return Plan(
            errors=[_error(None, "", message)], rows=[], groups=[], row_actions={}
        )
    mine = _my_agency_ids(actor, team)
    rows = [_Row(number, cells, index) for number, cells in table.rows]
    total = len(rows)

    groups: dict[str, _Group] = {}
    parsed: list[tuple[_Row, str, _ContributionRow | None]] = []
    for done, row in enumerate(rows, start=1):
        if any(not _blank(v) for v in row.extra):
            row.error(
                "",
                _(
                    "Some cells hold values but have no column name above them; "
                    "remove them or name their column."
                ),
            )
        ref = row.required_text("activity_ref") or ""
        describes = any(row.text(key) for key in ACTIVITY_KEYS)
        activity = _read_activity(row, lookups, ref) if describes else None
        contribution = _read_contribution(row, lookups)
        parsed.append((row, ref, contribution))
        if ref:
            group = groups.setdefault(ref, _Group(ref=ref))
            group.rows.append(row)
            if describes and group.describing is None:
                group.describing, group.activity = row, activity
            elif describes and activity and group.activity:
                for key, value in activity.values.items():
                    if group.activity.values[key] != value:
                        row.error(
                            key,
                            _(
                                "Differs from row %(row)d, which describes the "
                                "same activity_ref."
                            )
                            % {"row": group.describing.number},
                        )
        if on_progress and (done % PROGRESS_EVERY == 0 or done == total):
            on_progress(done, total)

    existing_activities = _existing_activities(team, set(groups))
    for group in groups.values():
        group.existing = existing_activities.get(group.ref)
        _check_group(group, actor, mine)

    contribution_refs = {c.ref for _row, _ref, c in parsed if c}
    existing_contributions = _existing_contributions(team, contribution_refs)
    seen_refs: dict[str, int] = {}
    seen_keys: dict[tuple[str, int, int], int] = {}
    for row, ref, item in parsed:
        if item is None or not ref:
            continue
        group = groups[ref]
        _check_contribution(
            item,
            group,
            actor,
            mine,
            existing_contributions.get(item.ref),
            seen_refs,
            seen_keys,
        )
        if not row.errors:
            group.contributions.append(item)

    row_actions: dict[int, str] = {}
    for group in groups.values():
        for item in group.contributions:
            action = item.action
            if (
                action == ACTION_UNCHANGED
                and group.action == ACTION_UPDATED
                and item.row is group.describing
            ):
                action = ACTION_UPDATED
            row_actions[item.row.number] = action
    for row in rows:
        errors.extend(row.errors)
    errors.sort(key=lambda e: e["row"] or 0)
    return Plan(
        errors=errors, rows=rows, groups=list(groups.values()), row_actions=row_actions
    )


def _check_group(group: _Group, actor: User, mine: set[int] | None) -> None:
    existing = group.existing
    if group.describing is None:
        if existing is None:
            for row in group.rows:
                row.error(
                    "activity_ref",
                    _(
                        "No activity has the reference “%(ref)s” yet: fill in its "
                        "columns on at least one row."
                    )
                    % {"ref": group.ref},
                )
        return
    describing, activity = group.describing, group.activity
    if activity is None:
        return
    if existing is None:
        if mine is not None and activity.data.agency.pk not in mine:
            describing.error(
                "lead_agency",
                _(
                    "You can only create activities led by your own agency "
                    "(%(code)s is not yours)."
                )
                % {"code": activity.data.agency.code},
            )
        group.action = ACTION_NEW
        return
    activity.data = replace(activity.data, description=existing.description)
    if activity.data.agency.pk != existing.agency_id:
        describing.error(
            "lead_agency",
            _("The lead agency of an existing activity cannot change (it is %(code)s).")
            % {"code": existing.agency.code},
        )
        return
    before = _comparable(_activity_data_of(existing))
    changed = [k for k, v in activity.values.items() if before[k] != v]
    if not changed:
        return
    if existing.framework_id != activity.data.outputs[0].framework_id:
        describing.error(
            "outputs",
            _(
                "This activity belongs to an earlier Cooperation Framework "
                "(%(title)s); it cannot be changed by import."
            )
            % {"title": existing.framework.title},
        )
        return
    # The workflow state binds administrators too, so it is checked on its own.
    reason = ""
    if not is_editable(None, existing):
        reason = _("it awaits validation")
    elif not actor.has_perm("frameworks.change_jointactivity", existing):
        reason = _("only focal points of %(code)s, the lead agency, can") % {
            "code": existing.agency.code
        }
    if reason:
        describing.error(
            "activity_ref",
            _(
                "This activity cannot be changed now (%(reason)s), but these "
                "columns differ from the portal: %(columns)s. Copy the portal's "
                "values, or leave the activity columns blank to add contributions "
                "only."
            )
            % {"reason": reason, "columns": ", ".join(changed)},
        )
        return
    group.action = ACTION_UPDATED


def _check_contribution(
    item: _ContributionRow,
    group: _Group,
    actor: User,
    mine: set[int] | None,
    existing: Contribution | None,
    seen_refs: dict[str, int],
    seen_keys: dict[tuple[str, int, int], int],
) -> None:
    row = item.row
    code = item.agency.code
    if mine is not None and item.agency.pk not in mine:
        row.error(
            "agency",
            _(
                "You can only import your own agency's contributions (%(code)s is "
                "not yours)."
            )
            % {"code": code},
        )
        return
    if item.ref in seen_refs:
        row.error(
            "contribution_ref",
            _("Duplicate row: row %(row)d has the same contribution_ref.")
            % {"row": seen_refs[item.ref]},
        )
        return
    seen_refs[item.ref] = row.number
    key = (group.ref, item.agency.pk, item.year)
    if key in seen_keys:
        row.error(
            "year",
            _(
                "Duplicate row: row %(row)d already has %(code)s's %(year)d "
                "contribution to this activity."
            )
            % {"row": seen_keys[key], "code": code, "year": item.year},
        )
        return
    seen_keys[key] = row.number
    if group.activity is not None:
        involved = {a.pk for a in group.activity.data.agencies}
    elif group.existing is not None:
        involved = {a.pk for a in group.existing.agencies.all()}
    else:
        return
    if item.agency.pk not in involved:
        row.error(
            "agency",
            _("%(code)s is not one of the activity's agencies.") % {"code": code},
        )
        return
    if existing is not None:
        if (
            existing.activity.external_ref != group.ref
            or existing.agency_id != item.agency.pk
            or existing.year != item.year
        ):
            row.error(
                "contribution_ref",
                _(
                    "“%(ref)s” already names %(code)s's %(year)d contribution to "
                    "activity “%(activity)s”; give this row a new reference."
                )
                % {
                    "ref": item.ref,
                    "code": existing.agency.code,
                    "year": existing.year,
                    "activity": existing.activity.external_ref
                    or existing.activity.title,
                },
            )
            return
        item.existing = existing
        if _figures_equal(item.figures, existing):
            item.action = ACTION_UNCHANGED
            return
        if not is_editable(None, existing):
            row.error(
                "contribution_ref",
                _("This contribution cannot be changed now: it awaits validation."),
            )
            return
        if not actor.has_perm("frameworks.change_contribution", existing):
            row.error("contribution_ref", _("You cannot change this contribution now."))
            return
        item.action = ACTION_UPDATED
        return
    if group.existing is not None:
        for other in group.existing.contributions.all():
            if other.agency_id == item.agency.pk and other.year == item.year:
                row.error(
                    "year",
                    _(
                        "%(code)s already has a %(year)d contribution to this "
                        "activity (reference “%(ref)s”)."
                    )
                    % {
                        "code": code,
                        "year": item.year,
                        "ref": other.external_ref or _("entered on the web"),
                    },
                )
                return
    item.action = ACTION_NEW


# --- writing ------------------------------------------------------------------------


class _WriteRefusedError(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(errors[0]["message"] if errors else "")


def _service_errors(
    exc: Exception, row: int, columns: dict[str, str], default: str
) -> list[RowError]:
    """Place what a service refused on the row and column it came from."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return [
            _error(row, columns.get(name, default), message)
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    if isinstance(exc, ValidationError):
        return [_error(row, default, message) for message in exc.messages]
    if isinstance(exc, IntegrityError):
        return [
            _error(
                row,
                default,
                _("Someone saved a record with this reference meanwhile."),
            )
        ]
    return [_error(row, default, str(exc) or _("Refused."))]


_REFUSALS = (ValidationError, PermissionDenied, ConflictError, IntegrityError)


def _current_results(contribution: Contribution) -> list[ResultData]:
    """The reported results, carried over: a file has no column for them."""
    results = ResultValue.objects.filter(
        revision_id=contribution.current_revision_id
    ).select_related("indicator")
    return [
        ResultData(
            indicator=r.indicator,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            disaggregation=r.disaggregation,
        )
        for r in results
    ]


def _write_plan(
    plan: Plan, *, team: CountryTeam, actor: User, on_progress: Callable[[int], None]
) -> list[dict[str, Any]]:
    done = 0
    touched = []
    for group in plan.groups:
        activity = group.existing
        assert group.describing or activity  # noqa: S101 - a checked plan has one
        line = (group.describing or group.rows[0]).number
        try:
            if group.action == ACTION_NEW:
                activity = create_activity(
                    actor=actor, country_team=team, data=group.activity.data
                )
            elif group.action == ACTION_UPDATED:
                activity = update_activity(
                    actor=actor,
                    activity=activity,
                    data=group.activity.data,
                    expected_version=activity.version,
                )
        except _REFUSALS as exc:
            raise _WriteRefusedError(
                _service_errors(exc, line, _ACTIVITY_FIELD_COLUMNS, "activity_ref")
            ) from exc
        touched.append(
            {
                "ref": group.ref,
                "id": activity.pk,
                "title": activity.title,
                "action": group.action,
            }
        )
        for item in group.contributions:
            try:
                if item.action == ACTION_NEW:
                    create_contribution(
                        actor=actor,
                        activity=activity,
                        agency=item.agency,
                        year=item.year,
                        figures=item.figures,
                        external_ref=item.ref,
                    )
                elif item.action == ACTION_UPDATED:
                    update_contribution(
                        actor=actor,
                        contribution=item.existing,
                        figures=replace(
                            item.figures, results=_current_results(item.existing)
                        ),
                        expected_version=item.existing.version,
                    )
            except _REFUSALS as exc:
                raise _WriteRefusedError(
                    _service_errors(
                        exc,
                        item.row.number,
                        _CONTRIBUTION_FIELD_COLUMNS,
                        "contribution_ref",
                    )
                ) from exc
            done += 1
            on_progress(done)
    return touched


# --- jobs ---------------------------------------------------------------------------


def _progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def _publish_progress(job_id: int, done: int, total: int) -> None:
    cache.set(_progress_key(job_id), (done, total), timeout=6 * 3600)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


def get_import_progress(job: ImportJob) -> Progress:
    """Return how far a job has got: live from the cache while it runs."""
    if job.is_running:
        cached = cache.get(_progress_key(job.pk))
        if cached:
            return Progress(*cached)
    return Progress(job.progress_done, job.progress_total)


def can_import(user: User, team: CountryTeam) -> bool:
    return user.has_perm(ADD_PERMISSION, team)


def create_import_job(
    *, actor: User, country_team: CountryTeam, upload: UploadedFile
) -> ImportJob:
    """Store an uploaded file and queue its check. Contents are judged by the check,
    so that every problem is reported the same way: by row and column."""
    if not can_import(actor, country_team):
        raise PermissionDenied(
            _("Only agency focal points of this team can import joint work.")
        )
    name = PurePath(upload.name or "").name
    if PurePath(name).suffix.lower() == ".xls":
        raise ValidationError(
            {
                "file": _(
                    "Old .xls workbooks cannot be read: save the file as Excel "
                    "Workbook (.xlsx) or CSV UTF-8."
                )
            }
        )
    if not file_format_of(name):
        raise ValidationError(
            {
                "file": _("Upload an .xlsx or .csv file (“%(name)s” is neither).")
                % {"name": name}
            }
        )
    if upload.size is not None and upload.size > max_bytes():
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)d MB: split it.")
                % {"mb": max_bytes() // (1024 * 1024)}
            }
        )
    with transaction.atomic():
        job = ImportJob(
            country_team=country_team, uploaded_by=actor, original_name=name[:255]
        )
        job.file.save(name, upload, save=False)
        job.save()
        job_id = job.pk
        # robust: a broker that is down must not undo the upload, which is saved.
        transaction.on_commit(lambda: _queue_validation(job_id), robust=True)
    return job


def _queue_validation(job_id: int) -> None:
    from frameworks.tasks import validate_import_task

    validate_import_task.delay(job_id)


def _queue_write(job_id: int) -> None:
    from frameworks.tasks import write_import_task

    write_import_task.delay(job_id)


def _read_job_file(job: ImportJob) -> Table:
    with job.file.open("rb") as handle:
        data = handle.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise ImportFileError(
            _("The file is larger than %(mb)d MB: split it.")
            % {"mb": max_bytes() // (1024 * 1024)}
        )
    return read_table(data, file_format_of(job.file.name), limit=max_rows())


def _preview_rows(plan: Plan) -> list[dict[str, Any]]:
    bad = [r for r in plan.rows if r.errors][:PREVIEW_ROWS]
    good = [r for r in plan.rows if not r.errors][: PREVIEW_ROWS - len(bad)]
    return [
        {
            "row": r.number,
            "action": plan.row_actions.get(r.number, ""),
            "cells": r.cells(),
        }
        for r in sorted(bad + good, key=lambda r: r.number)
    ]


def _check_job(
    job: ImportJob, on_progress: Callable[[int, int], None] | None = None
) -> Plan:
    try:
        table = _read_job_file(job)
    except ImportFileError as problem:
        return Plan(
            errors=[_error(None, "", problem.message)],
            rows=[],
            groups=[],
            row_actions={},
        )
    return check_table(
        table=table,
        team=job.country_team,
        actor=job.uploaded_by,
        on_progress=on_progress,
    )


def _store_plan(job: ImportJob, plan: Plan) -> None:
    job.row_count = len(plan.rows)
    job.new_count = plan.count(ACTION_NEW)
    job.updated_count = plan.count(ACTION_UPDATED)
    job.unchanged_count = plan.count(ACTION_UNCHANGED)
    job.error_count = len(plan.errors)
    job.errors = plan.errors[:STORED_ERRORS]
    job.preview = _preview_rows(plan)
    job.activities = [
        {
            "ref": g.ref,
            "id": g.existing.pk if g.existing else None,
            "title": g.activity.data.title
            if g.activity
            else (g.existing.title if g.existing else ""),
            "action": g.action,
        }
        for g in plan.groups
    ]
    job.progress_done = job.progress_total = job.row_count


def _job_language(job: ImportJob) -> str:
    return job.uploaded_by.language or settings.LANGUAGE_CODE


def validate_import(*, job_id: int) -> ImportJob:
    """Check a pending job's file; the job ends ready to write or invalid.

    Safe to run again (a retried task): a job that has moved on is left alone.
    """
    job = ImportJob.objects.select_related("country_team", "uploaded_by").get(pk=job_id)
    if job.status not in (ImportStatus.PENDING, ImportStatus.VALIDATING):
        return job
    job.status = ImportStatus.VALIDATING
    job.save(update_fields=["status", "updated_at"])

    def report(done: int, total: int) -> None:
        _publish_progress(job.pk, done, total)

    with translation.override(_job_language(job)):
        plan = _check_job(job, report)
    _store_plan(job, plan)
    job.status = ImportStatus.INVALID if plan.errors else ImportStatus.READY
    job.finished_at = timezone.now() if plan.errors else None
    job.save()
    cache.delete(_progress_key(job.pk))
    return job


@transaction.atomic
def start_import_write(*, actor: User, job: ImportJob) -> ImportJob:
    """Queue the writing of a checked job; only its uploader may start it."""
    if job.uploaded_by_id != actor.pk or not can_import(actor, job.country_team):
        raise PermissionDenied(_("Only the person who uploaded a file can write it."))
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportStatus.READY:
        raise ValidationError(
            _("This import cannot be written: it is %(status)s.")
            % {"status": job.get_status_display().lower()}
        )
    if job.change_count == 0:
        raise ValidationError(
            _("Nothing to write: every row matches what the portal holds.")
        )
    job.status = ImportStatus.WRITING
    job.progress_done = 0
    job.progress_total = job.row_count
    job.message = ""
    job.save()
    job_id = job.pk
    transaction.on_commit(lambda: _queue_write(job_id), robust=True)
    return job


def write_import(*, job_id: int) -> ImportJob:
    """Check the file again, then write every row in one transaction, or nothing.

    The second check sees what changed since the preview (someone else's edit, a
    validation); if anything is wrong now, the job goes back to invalid. A service
    that refuses a row rolls the whole file back and fails the job with its reason.
    Safe to run again: only a job still marked as writing is written.
    """
    with transaction.atomic():
        # Lock only the job: the team row must stay free for the rest of the
        # portal during a long write.
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("country_team", "uploaded_by")
            .get(pk=job_id)
        )
        if job.status != ImportStatus.WRITING:
            return job
        with translation.override(_job_language(job)):
            plan = _check_job(job)
            _store_plan(job, plan)
            if plan.errors:
                job.status = ImportStatus.INVALID
                job.message = _(
                    "The file no longer passes the check (the portal changed since "
                    "the preview). Nothing was written."
                )
                job.finished_at = timezone.now()
                job.save()
                return job
            total = job.row_count

            def report(done: int) -> None:
                if done % PROGRESS_EVERY == 0 or done == total:
                    _publish_progress(job.pk, done, total)

            try:
                with transaction.atomic():
                    touched = _write_plan(
                        plan,
                        team=job.country_team,
                        actor=job.uploaded_by,
                        on_progress=report,
                    )
            except _WriteRefusedError as failure:
                first = failure.errors[0]
                job.status = ImportStatus.FAILED
                job.errors = failure.errors
                job.error_count = len(failure.errors)
                job.message = _(
                    "Row %(row)d, %(column)s: %(message)s Nothing was written."
                ) % {
                    "row": first["row"],
                    "column": first["column"],
                    "message": first["message"],
                }
                job.progress_done, job.progress_total = 0, total
            else:
                job.status = ImportStatus.DONE
                job.activities = touched
                job.message = _(
                    "Written: %(new)d new rows, %(updated)d updated, %(unchanged)d "
                    "unchanged."
                ) % {
                    "new": job.new_count,
                    "updated": job.updated_count,
                    "unchanged": job.unchanged_count,
                }
                job.progress_done = job.progress_total = total
            job.finished_at = timezone.now()
            job.save()
    cache.delete(_progress_key(job.pk))
    return job


def fail_import(*, job_id: int, message: str) -> None:
    """Mark a job that crashed as failed, so its page stops waiting."""
    ImportJob.objects.filter(pk=job_id, status__in=RUNNING_STATUSES).update(
        status=ImportStatus.FAILED,
        message=message,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    cache.delete(_progress_key(job_id))


# --- reads for the pages ------------------------------------------------------------


def list_recent_imports(
    *, user: User, team: CountryTeam, limit: int = 10
) -> QuerySet[ImportJob]:
    """Return the user's latest imports into one team, newest first."""
    return (
        ImportJob.objects.for_team(team)
        .uploaded_by_user(user)
        .select_related("country_team")
        .defer("errors", "preview", "activities")[:limit]
    )


def get_import_job_for_user(
    *, user: User, team: CountryTeam, pk: int
) -> ImportJob | None:
    """Return one of the user's imports into the team, or None.

    Imports are private to their uploader (administrators see all): a job is a
    person's draft, not team data.
    """
    jobs = ImportJob.objects.for_team(team).select_related("country_team")
    if not user.is_superuser:
        jobs = jobs.uploaded_by_user(user)
    return jobs.filter(pk=pk).first()


@dataclass(frozen=True)
class PreviewCell:
    column: str
    value: str
    messages: list[str]


@dataclass(frozen=True)
class PreviewRow:
    number: int
    action: str
    cells: list[PreviewCell]
    messages: list[str]

    @property
    def has_errors(self) -> bool:
        return bool(self.messages) or any(c.messages for c in self.cells)


@dataclass(frozen=True)
class ImportPreview:
    columns: tuple[str, ...]
    rows: list[PreviewRow]
    file_errors: list[RowError]
    errors: list[RowError]
    hidden_errors: int
    total_rows: int

    @property
    def is_partial(self) -> bool:
        return len(self.rows) < self.total_rows


def build_preview(job: ImportJob) -> ImportPreview:
    """Lay a job's stored rows and errors out as a table with per-cell messages."""
    by_cell: dict[tuple[int | None, str], list[str]] = {}
    for error in job.errors:
        by_cell.setdefault((error["row"], error["column"]), []).append(error["message"])
    rows = [
        PreviewRow(
            number=row["row"],
            action=row["action"],
            cells=[
                PreviewCell(key, value, by_cell.get((row["row"], key), []))
                for key, value in zip(COLUMN_KEYS, row["cells"], strict=False)
            ],
            messages=by_cell.get((row["row"], ""), []),
        )
        for row in job.preview
    ]
    return ImportPreview(
        columns=COLUMN_KEYS,
        rows=rows,
        file_errors=[e for e in job.errors if e["row"] in (None, 1)],
        errors=list(job.errors),
        hidden_errors=max(0, job.error_count - len(job.errors)),
        total_rows=job.row_count,
    )
