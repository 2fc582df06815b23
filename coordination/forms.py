"""Forms of the coordination pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=settings.LANGUAGES,
        help_text=_("Pages, menus and SDG texts are shown in this language."),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
