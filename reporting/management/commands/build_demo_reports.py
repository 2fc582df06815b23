"""Build the demo's report PDFs at once, so a newcomer finds them ready."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coordination.models import CountryTeam
from reporting.models import ReportFile, ReportStatus
from reporting.report_content import list_report_years, read_board_filters
from reporting.report_services import (
    build_report,
    request_annual_report,
    request_board_summary,
)

DEMO_TEAMS = ["SOM"]


class Command(BaseCommand):
    help = (
        "Build the annual results report PDF of the demo teams (Somalia unless "
        "--team is given) for their latest year with validated figures, and the "
        "executive board summary PDF of the board's default year, in this "
        "process. Safe to run again: a report built from the current figures is "
        "kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--team",
            metavar="CODE",
            action="append",
            help="a team's code; repeat for several (default: SOM)",
        )
        parser.add_argument(
            "--language", default="en", help="the reports' language (default: en)"
        )
        parser.add_argument(
            "--no-board-summary",
            action="store_true",
            help="leave out the executive board summary",
        )

    def handle(
        self,
        *args: Any,
        team: list[str] | None,
        language: str,
        no_board_summary: bool,
        **options: Any,
    ) -> None:
        for code in team or DEMO_TEAMS:
            country_team = CountryTeam.objects.filter(code=code.strip().upper()).first()
            if country_team is None:
                raise CommandError(
                    f"No country team with the code {code!r}; run seed_demo first."
                )
            self._build(country_team, language)
        if not no_board_summary:
            self._build_board_summary(language)

    def _build(self, team: CountryTeam, language: str) -> None:
        year = list_report_years(team=team).latest_with_figures
        if year is None:
            self.stdout.write(
                f"{team.code}: no validated figures yet, no report built."
            )
            return
        report = request_annual_report(
            team=team, year=year, language=language, actor=None, queue=False
        )
        report = self._finish(report, f"{team.code} {year}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{team.code}: annual results report {year} ({report.language}) "
                f"ready at /teams/{team.code}/reports/ and /open-data/."
            )
        )

    def _build_board_summary(self, language: str) -> None:
        filters = read_board_filters({})
        report = request_board_summary(
            filters=filters, language=language, actor=None, queue=False
        )
        report = self._finish(report, f"board summary {filters.period_label}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Executive board summary {filters.period_label} ({report.language}) "
                "ready at /reports/board-summaries/."
            )
        )

    @staticmethod
    def _finish(report: ReportFile, what: str) -> ReportFile:
        if report.status != ReportStatus.DONE:
            report = build_report(report_id=report.pk) or report
        if report.status != ReportStatus.DONE:
            raise CommandError(f"{what}: {report.message}")
        return report
