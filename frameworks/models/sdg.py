"""SDG goals, targets and indicators: official reference data in six languages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    pass

REFERENCE_LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh-hans")


def text_in_language(texts: dict[str, str], language: str | None = None) -> str:
    """Pick the text for the active (or given) language, falling back to English."""
    lang = (language or get_language() or "en").lower()
    return texts.get(lang) or texts.get(lang.split("-")[0]) or texts.get("en", "")


# --- SDG reference data ----------------------------------------------------------


class SdgGoal(models.Model):
    number = models.PositiveSmallIntegerField(
        primary_key=True, validators=[MinValueValidator(1), MaxValueValidator(17)]
    )
    titles = models.JSONField(_("official titles by language"), default=dict)
    short_titles = models.JSONField(_("short titles by language"), default=dict)

    class Meta:
        ordering = ["number"]
        verbose_name = _("SDG goal")
        constraints = [
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=17), name="sdg_goal_1_to_17"
            )
        ]

    def __str__(self) -> str:
        return f"SDG {self.number}: {self.short_title}"

    @property
    def title(self) -> str:
        return text_in_language(self.titles)

    @property
    def short_title(self) -> str:
        return text_in_language(self.short_titles)


class SdgTarget(models.Model):
    code = models.CharField(_("code"), max_length=10, unique=True)
    goal = models.ForeignKey(SdgGoal, on_delete=models.PROTECT, related_name="targets")
    sort_key = models.PositiveIntegerField(default=0, db_index=True)
    titles = models.JSONField(_("official texts by language"), default=dict)

    class Meta:
        ordering = ["sort_key"]
        verbose_name = _("SDG target")

    def __str__(self) -> str:
        return f"{self.code} {self.title[:60]}"

    @property
    def title(self) -> str:
        return text_in_language(self.titles)


class SdgIndicator(models.Model):
    code = models.CharField(_("code"), max_length=12, unique=True)
    target = models.ForeignKey(
        SdgTarget, on_delete=models.PROTECT, related_name="indicators"
    )
    sort_key = models.PositiveIntegerField(default=0, db_index=True)
    titles = models.JSONField(_("official texts by language"), default=dict)

    class Meta:
        ordering = ["sort_key"]
        verbose_name = _("SDG indicator")

    def __str__(self) -> str:
        return f"{self.code} {self.title[:60]}"

    @property
    def title(self) -> str:
        return text_in_language(self.titles)
