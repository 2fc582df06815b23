"""Generated reports: asking for one, building it, and finding finished ones.

Asking (`request_annual_report`, `request_board_summary`) hands back a finished
file when one of the same kind, parameters and language was built from the
rollups as they stand (the "as of" stamp it was built from equals the current
`RollupState.computed_at` of its team, or the latest of all teams for a board
summary), or one still being built; otherwise it records a `ReportFile` and
queues the Celery job after commit. The job
(`build_report`) publishes its progress on the row, renders the report in the
language it was asked in and keeps the file, so it can be downloaded again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from coordination.models import CountryTeam
from frameworks.models import CooperationFramework, JointActivity, JointProgramme
from reporting.models import (
    Basis,
    IndicatorProgress,
    ReportFile,
    ReportKind,
    ReportStatus,
    RollupState,
    TeamFundingRollup,
)
from reporting.report_charts import (
    BOARD_CHARTS,
    CHARTS,
    build_annual_charts,
    build_board_charts,
)
from reporting.report_content import (
    BoardFiltersError,
    board_report_parameters,
    get_annual_report,
    get_board_summary_report,
    list_report_years,
    read_board_filters,
)
from reporting.report_pdf import (
    render_annual_report_html,
    render_board_summary_html,
    render_pdf,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from coordination.models import User
    from reporting.board_filters import BoardFilters

logger = logging.getLogger(__name__)

# A report still queued or running after this long is taken for lost (its
# worker died and the broker dropped it): asking again builds a new one.
STALE_AFTER = timedelta(minutes=30)
# A writer waits for the broker at most this long; the request is then failed
# with a message, and asking again retries.
QUEUE_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Keys the job adds to `parameters`; they say how a file was built, not what
# was asked for, so they are left out when matching a request.
BUILD_KEYS = frozenset({"as_of"})


class ReportUnavailableError(Exception):
    """The report cannot be built from the data as it stands (no framework...)."""


# --- who may ----------------------------------------------------------------------
# Compositions of the permissions in coordination/permissions.py, asked through
# rules like every other check.


def can_read_team_reports(user: User | AnonymousUser, team: CountryTeam) -> bool:
    """Members of the team and board members read a team's annual reports."""
    return user.has_perm("coordination.view_countryteam", team) or user.has_perm(
        "coordination.view_board_summary"
    )


def can_request_annual_report(user: User | AnonymousUser, team: CountryTeam) -> bool:
    """The RC and the RC Office ask for a new build of the team's report."""
    return user.has_perm("coordination.coordinate_countryteam", team)


def can_request_board_summary(user: User | AnonymousUser) -> bool:
    """Board members ask for board summaries (and read them)."""
    return user.has_perm("coordination.view_board_summary")


def get_team_for_reports(
    *, user: User | AnonymousUser, code: str
) -> CountryTeam | None:
    """Return the team with this code if the user may read its reports."""
    team = CountryTeam.objects.filter(code=code).first()
    if team is None or not can_read_team_reports(user, team):
        return None
    return team


# --- reads ------------------------------------------------------------------------


def requested_parameters(report: ReportFile) -> dict[str, Any]:
    """What was asked for: the report's parameters without the build's own."""
    return {k: v for k, v in report.parameters.items() if k not in BUILD_KEYS}


def current_as_of(*, kind: str, team: CountryTeam | None) -> str:
    """The rollups' "as of" a report of this kind is built from: the team's, or
    the latest of every team's for a report across teams."""
    states = RollupState.objects.all()
    if kind != ReportKind.BOARD_SUMMARY:
        states = states.filter(country_team=team)
    computed_at = states.aggregate(latest=Max("computed_at"))["latest"]
    return computed_at.isoformat() if computed_at else ""


def find_reusable_report(
    *,
    kind: str,
    team: CountryTeam | None,
    year: int,
    year_to: int | None,
    language: str,
    parameters: dict[str, Any],
) -> ReportFile | None:
    """Return a finished report built from the current rollups, or one still
    being built, for the same request; None when a new one is needed."""
    candidates = ReportFile.objects.filter(
        kind=kind,
        country_team=team,
        year=year,
        year_to=year_to,
        language=language,
        status__in=[ReportStatus.QUEUED, ReportStatus.RUNNING, ReportStatus.DONE],
    ).order_by("-created_at", "-pk")
    as_of = current_as_of(kind=kind, team=team)
    fresh_since = timezone.now() - STALE_AFTER
    for report in candidates:
        if requested_parameters(report) != parameters:
            continue
        if report.status == ReportStatus.DONE:
            if report.file and report.parameters.get("as_of") == as_of:
                return report
        elif report.created_at >= fresh_since:
            return report
    return None


def list_team_reports(*, team: CountryTeam) -> QuerySet[ReportFile]:
    """Return the team's annual reports, newest first, with who asked."""
    return (
        ReportFile.objects.for_team(team)
        .filter(kind=ReportKind.ANNUAL_RESULTS)
        .select_related("requested_by", "country_team")
        .order_by("-created_at", "-pk")
    )


def get_finished_team_report(
    *, team: CountryTeam, year: int, language: str
) -> ReportFile | None:
    """Return the team's latest finished annual report of the year in the
    language, or None."""
    return (
        list_team_reports(team=team)
        .finished()
        .filter(year=year, language=language)
        .exclude(file="")
        .first()
    )


def list_board_summaries() -> QuerySet[ReportFile]:
    """Return the board summaries, newest first, with who asked."""
    return (
        ReportFile.objects.filter(kind=ReportKind.BOARD_SUMMARY)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")
    )


def list_published_reports(
    *, team_ids: list[int]
) -> dict[int, dict[int, list[ReportFile]]]:
    """Return the latest finished annual report per team, year and language,
    as {team id: {year: [reports by language]}} (one query)."""
    reports = (
        ReportFile.objects.finished()
        .filter(kind=ReportKind.ANNUAL_RESULTS, country_team_id__in=team_ids)
        .select_related("country_team")
        .order_by("country_team_id", "-year", "language", "-finished_at", "-pk")
    )
    published: dict[int, dict[int, list[ReportFile]]] = {}
    seen: set[tuple[int, int, str]] = set()
    for report in reports:
        key = (report.country_team_id, report.year, report.language)
        if key in seen or not report.file:
            continue
        seen.add(key)
        published.setdefault(report.country_team_id, {}).setdefault(
            report.year, []
        ).append(report)
    return published


@dataclass(frozen=True)
class PublishedYear:
    """A year with validated figures and its finished report PDFs, one per
    language."""

    year: int
    reports: list[ReportFile]


@dataclass(frozen=True)
class PublishedTeam:
    """What one country team has published: its years with validated figures,
    latest first, and whether it has an IATI file to hand out."""

    team: CountryTeam
    framework: CooperationFramework
    years: list[PublishedYear]
    has_iati: bool

    def get_year(self, year: int) -> PublishedYear | None:
        return next((item for item in self.years if item.year == year), None)


def list_published_teams(*, code: str | None = None) -> list[PublishedTeam]:
    """Return the active teams with an active framework (or the one with this
    code) and what each has published, by region and name, in a fixed number
    of queries.

    A year counts as published when it holds validated money or a validated
    indicator value; only those years are offered to the public.
    """
    published_activities = JointActivity.objects.filter(
        country_team=OuterRef("pk"), validated_at__isnull=False
    )
    programmes = JointProgramme.objects.filter(country_team=OuterRef("pk"))
    scope = CountryTeam.objects.active()
    if code is not None:
        scope = scope.filter(code=code)
    teams = list(
        scope.annotate(
            has_iati=Exists(programmes) | Exists(published_activities),
        ).order_by("region", "name")
    )
    frameworks = {
        framework.country_team_id: framework
        for framework in CooperationFramework.objects.active().filter(
            country_team__in=teams
        )
    }
    years: dict[int, set[int]] = {}
    funded = (
        TeamFundingRollup.objects.filter(
            framework__in=list(frameworks.values()),
            basis=Basis.VALIDATED,
            agency=None,
        )
        .order_by()
        .values_list("country_team_id", "year")
        .distinct()
    )
    measured = (
        IndicatorProgress.objects.filter(
            country_team__in=list(frameworks),
            basis=Basis.VALIDATED,
            year_value__isnull=False,
        )
        .order_by()
        .values_list("country_team_id", "year")
        .distinct()
    )
    for team_id, year in [*funded, *measured]:
        years.setdefault(team_id, set()).add(year)
    reports = list_published_reports(team_ids=list(frameworks))
    return [
        PublishedTeam(
            team=team,
            framework=frameworks[team.pk],
            years=[
                PublishedYear(year, reports.get(team.pk, {}).get(year, []))
                for year in sorted(years.get(team.pk, ()), reverse=True)
            ],
            has_iati=team.has_iati,
        )
        for team in teams
        if team.pk in frameworks
    ]


def get_published_team(*, code: str) -> PublishedTeam | None:
    """Return one active team's published data, or None if it publishes none."""
    return next(iter(list_published_teams(code=code)), None)


def report_download_name(report: ReportFile) -> str:
    """The file name a download gets: what it is, never a user's text."""
    scope = report.country_team.code.lower() if report.country_team_id else "all"
    years = f"{report.year}-{report.year_to}" if report.year_to else f"{report.year}"
    kind = report.kind.replace("_", "-")
    return f"unportal-{scope}-{kind}-{years}-{report.language}.pdf"


# --- requests ---------------------------------------------------------------------


def supported_language(language: str | None) -> str:
    """The portal language closest to `language` (the default when none is)."""
    try:
        return translation.get_supported_language_variant(language or "")
    except LookupError:
        return settings.LANGUAGE_CODE


@transaction.atomic
def request_annual_report(
    *,
    team: CountryTeam,
    year: int,
    language: str,
    actor: User | None,
    queue: bool = True,
) -> ReportFile:
    """Return the team's annual report of `year` in `language`: a finished one
    built from the current rollups, one being built, or a new one queued
    (with `queue=False`, left for the caller to build with `build_report`).

    Raises ValidationError when no report can be built for the year (no active
    framework, or a year outside it with no figures).
    """
    if year not in list_report_years(team=team).years:
        raise ValidationError(
            _(
                "No annual report can be built for %(year)s: it is not a year of the "
                "team's active Cooperation Framework and has no validated figures."
            )
            % {"year": year},
            code="year",
        )
    return _request(
        kind=ReportKind.ANNUAL_RESULTS,
        team=team,
        year=year,
        year_to=None,
        language=supported_language(language),
        parameters={"year": year, "basis": Basis.VALIDATED.value},
        actor=actor,
        queue=queue,
    )


@transaction.atomic
def request_board_summary(
    *, filters: BoardFilters, language: str, actor: User | None, queue: bool = True
) -> ReportFile:
    """Return the board summary PDF for the filters in `language`: a finished
    one built from the current rollups, one being built, or a new one queued."""
    return _request(
        kind=ReportKind.BOARD_SUMMARY,
        team=None,
        year=filters.year_from,
        year_to=filters.year_to if filters.is_range else None,
        language=supported_language(language),
        parameters=board_report_parameters(filters),
        actor=actor,
        queue=queue,
    )


def _request(
    *,
    kind: str,
    team: CountryTeam | None,
    year: int,
    year_to: int | None,
    language: str,
    parameters: dict[str, Any],
    actor: User | None,
    queue: bool,
) -> ReportFile:
    existing = find_reusable_report(
        kind=kind,
        team=team,
        year=year,
        year_to=year_to,
        language=language,
        parameters=parameters,
    )
    if existing is not None:
        return existing
    report = ReportFile.objects.create(
        kind=kind,
        country_team=team,
        year=year,
        year_to=year_to,
        language=language,
        parameters=parameters,
        requested_by=actor if actor and actor.is_authenticated else None,
        progress_total=BUILDERS[kind].steps,
    )
    if not queue:
        return report
    report_id = report.pk

    # A function, not a partial: Django logs a failing robust callback by its
    # __qualname__. Robust: a failing build (eager mode) is on the row, and
    # must not turn the request that asked for it into an error page.
    def queue_build() -> None:
        queue_report_build(report_id)

    transaction.on_commit(queue_build, robust=True)
    return report


def queue_report_build(report_id: int) -> None:
    """Send the report's job to the broker; if it is down, fail the report with
    a message so that its page stops waiting and asking again retries."""
    from reporting.report_tasks import build_report_task

    try:
        build_report_task.apply_async(args=[report_id], retry_policy=QUEUE_RETRY_POLICY)
    except (BrokerError, OSError) as exc:
        logger.warning("Could not queue report %s (%s).", report_id, exc)
        fail_report(
            report_id=report_id,
            message=_("The report could not be queued; please ask for it again."),
        )


# --- the job ----------------------------------------------------------------------

Step = Callable[[], None]


@dataclass(frozen=True)
class BuiltReport:
    pdf: bytes
    as_of: str


@dataclass(frozen=True)
class Builder:
    """How one kind of report is built, in how many progress steps."""

    build: Callable[[ReportFile, Step], BuiltReport]
    steps: int


def _build_annual_report(report: ReportFile, step: Step) -> BuiltReport:
    content = get_annual_report(team=report.country_team, year=report.year)
    if content is None:
        raise ReportUnavailableError(
            _("The team has no active Cooperation Framework covering %(year)s.")
            % {"year": report.year}
        )
    step()
    charts = build_annual_charts(content, on_chart=lambda _name: step())
    html = render_annual_report_html(content, charts)
    step()
    pdf = render_pdf(html)
    step()
    return BuiltReport(pdf=pdf, as_of=content.as_of_stamp())


def _build_board_summary(report: ReportFile, step: Step) -> BuiltReport:
    try:
        filters = read_board_filters(requested_parameters(report))
    except BoardFiltersError as exc:
        raise ReportUnavailableError(" ".join(exc.messages)) from exc
    # Read first: a team's rollups that change while this runs make it stale.
    as_of = current_as_of(kind=ReportKind.BOARD_SUMMARY, team=None)
    content = get_board_summary_report(filters)
    step()
    charts = build_board_charts(content, on_chart=lambda _name: step())
    html = render_board_summary_html(content, charts)
    step()
    pdf = render_pdf(html)
    step()
    return BuiltReport(pdf=pdf, as_of=as_of)


BUILDERS: dict[str, Builder] = {
    # Gathering, each chart, the HTML, the PDF.
    ReportKind.ANNUAL_RESULTS: Builder(_build_annual_report, 1 + len(CHARTS) + 2),
    ReportKind.BOARD_SUMMARY: Builder(_build_board_summary, 1 + len(BOARD_CHARTS) + 2),
}


def build_report(*, report_id: int) -> ReportFile | None:
    """Build a requested report and keep its file; safe to run again.

    A finished report is left as it is, so a redelivered job does nothing; a
    deleted one is None. A
    report that cannot be built from the data as it stands is marked FAILED
    with the reason; any other error propagates (the task marks it FAILED).
    """
    report = (
        ReportFile.objects.select_related("country_team").filter(pk=report_id).first()
    )
    if report is None or (report.status == ReportStatus.DONE and report.file):
        # Deleted while it waited, or built by an earlier delivery of the job.
        return report
    builder = BUILDERS[report.kind]
    done = 0
    _update(
        report,
        status=ReportStatus.RUNNING,
        progress_done=0,
        progress_total=builder.steps,
        message="",
    )

    def step() -> None:
        nonlocal done
        done = min(done + 1, builder.steps)
        _update(report, progress_done=done)

    with translation.override(report.language):
        try:
            built = builder.build(report, step)
        except ReportUnavailableError as exc:
            fail_report(report_id=report.pk, message=str(exc))
            report.refresh_from_db()
            return report
    _store(report, built)
    return report


def _update(report: ReportFile, **fields: Any) -> None:
    """Write progress at once, outside any transaction, so a page polling the
    row sees it while the job runs."""
    ReportFile.objects.filter(pk=report.pk).update(updated_at=timezone.now(), **fields)
    for name, value in fields.items():
        setattr(report, name, value)


def _store(report: ReportFile, built: BuiltReport) -> None:
    report.file.save(f"{report.kind}.pdf", ContentFile(built.pdf), save=False)
    report.size = len(built.pdf)
    report.status = ReportStatus.DONE
    report.progress_done = report.progress_total
    report.finished_at = timezone.now()
    report.message = ""
    report.parameters = {**report.parameters, "as_of": built.as_of}
    report.save(
        update_fields=[
            "file",
            "size",
            "status",
            "progress_done",
            "finished_at",
            "message",
            "parameters",
            "updated_at",
        ]
    )


def fail_report(*, report_id: int, message: str) -> None:
    """Mark an unfinished report FAILED with a message its page shows."""
    ReportFile.objects.filter(pk=report_id).exclude(status=ReportStatus.DONE).update(
        status=ReportStatus.FAILED,
        message=message,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def fail_report_after_crash(*, report_id: int, error: BaseException) -> None:
    """Mark a report whose job crashed FAILED, in the language it was asked in;
    the message names the error's kind, never its text (it may hold data)."""
    language = (
        ReportFile.objects.filter(pk=report_id)
        .values_list("language", flat=True)
        .first()
    )
    if language is None:
        return
    with translation.override(language):
        fail_report(
            report_id=report_id,
            message=_(
                "The report could not be built because of an internal error "
                "(%(error)s). Ask for it again; if it fails again, tell the "
                "portal's administrators."
            )
            % {"error": type(error).__name__},
        )
