"""Spreadsheet imports of joint work: one uploaded file and what became of it."""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from coordination.models import CountryTeam, TimeStampedModel

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from coordination.models import User


def import_upload_path(instance: ImportJob, filename: str) -> str:
    """Store uploads under imports/<team>/ with a random name.

    The uploader's file name is kept in `original_name` only: it is shown, never
    used as a path.
    """
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"imports/{instance.country_team.code}/{uuid.uuid4().hex}{suffix}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be checked")
    VALIDATING = "validating", _("Checking")
    INVALID = "invalid", _("Has errors")
    READY = "ready", _("Ready to write")
    WRITING = "writing", _("Writing")
    DONE = "done", _("Written")
    FAILED = "failed", _("Failed")


RUNNING_STATUSES = (
    ImportStatus.PENDING,
    ImportStatus.VALIDATING,
    ImportStatus.WRITING,
)


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    def uploaded_by_user(self, user: User | AnonymousUser) -> ImportJobQuerySet:
        """Return the jobs the user uploaded (none for anonymous users)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(uploaded_by_id=user.pk)

    def for_team(self, team: CountryTeam) -> ImportJobQuerySet:
        """Return one team's jobs."""
        return self.filter(country_team=team)


class ImportJob(TimeStampedModel):
    country_team = models.ForeignKey(
        CountryTeam, on_delete=models.CASCADE, related_name="import_jobs"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    file = models.FileField(_("file"), upload_to=import_upload_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ImportStatus.choices,
        default=ImportStatus.PENDING,
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    new_count = models.PositiveIntegerField(_("new rows"), default=0)
    updated_count = models.PositiveIntegerField(_("updated rows"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged rows"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        _("errors"),
        default=list,
        blank=True,
        help_text=_("A list of {row, column, message}; row is null for the file."),
    )
    preview = models.JSONField(
        default=list,
        blank=True,
        help_text=_("The rows the preview shows: {row, action, cells}."),
    )
    activities = models.JSONField(
        default=list,
        blank=True,
        help_text=_("The activities the file touches: {ref, id, title, action}."),
    )
    message = models.TextField(_("message"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        indexes = [
            models.Index(fields=["country_team", "uploaded_by", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_done__lte=F("progress_total")),
                name="import_progress_not_past_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse(
            "imports:detail", kwargs={"code": self.country_team.code, "pk": self.pk}
        )

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def change_count(self) -> int:
        return self.new_count + self.updated_count
