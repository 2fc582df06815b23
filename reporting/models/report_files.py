"""Generated reports (PDF and HTML) kept on disk so they can be downloaded again.

A `ReportFile` row is created when someone asks for a report; a Celery job fills
in `progress_*` as it works and stores the file. The request parameters live in
`parameters` (year range, filters) so that the same report can be asked for again
and a finished one found instead of rebuilt.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from coordination.models import CountryTeam, TimeStampedModel


def report_upload_path(instance: ReportFile, filename: str) -> str:
    """Store files under reports/<kind>/ with a random name (never a user's text)."""
    suffix = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"reports/{instance.kind}/{uuid.uuid4().hex}.{suffix}"


class ReportKind(models.TextChoices):
    ANNUAL_RESULTS = "annual_results", _("UNCT annual results report")
    BOARD_SUMMARY = "board_summary", _("Executive board summary")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ReportFileQuerySet(models.QuerySet["ReportFile"]):
    def finished(self) -> ReportFileQuerySet:
        return self.filter(status=ReportStatus.DONE)

    def for_team(self, team: CountryTeam) -> ReportFileQuerySet:
        return self.filter(country_team=team)


class ReportFile(TimeStampedModel):
    kind = models.CharField(_("kind"), max_length=30, choices=ReportKind.choices)
    # Empty for reports across country teams (the board summary).
    country_team = models.ForeignKey(
        CountryTeam,
        on_delete=models.CASCADE,
        related_name="report_files",
        null=True,
        blank=True,
    )
    year = models.PositiveSmallIntegerField(_("year"))
    year_to = models.PositiveSmallIntegerField(_("to year"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    parameters = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_("The filters the report was built with."),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ReportStatus.choices,
        default=ReportStatus.QUEUED,
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.TextField(_("message"), blank=True)
    file = models.FileField(
        _("file"), upload_to=report_upload_path, max_length=200, blank=True
    )
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_files",
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ReportFileQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("report file")
        indexes = [
            models.Index(fields=["kind", "country_team", "year", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_done__lte=F("progress_total")),
                name="report_progress_not_past_total",
            ),
            models.CheckConstraint(
                condition=Q(kind="board_summary") | Q(country_team__isnull=False),
                name="report_team_unless_board_summary",
            ),
            models.CheckConstraint(
                condition=Q(year_to__isnull=True) | Q(year_to__gte=F("year")),
                name="report_year_range_in_order",
            ),
        ]

    def __str__(self) -> str:
        scope = self.country_team.code if self.country_team_id else _("all teams")
        return f"{self.get_kind_display()} {scope} {self.year}"

    @property
    def is_running(self) -> bool:
        return self.status in (ReportStatus.QUEUED, ReportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return round(100 * self.progress_done / self.progress_total)
