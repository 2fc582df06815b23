"""The executive board's sub-navigation, shared by every board page.

Pages that other url modules add under /board/ (coherence, agency strategic
plans) are listed only when their URL names resolve, so the layout works
whichever of them are installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

register = template.Library()

# (URL name, label, whether the page reads the filters of `board_filters`):
# links to those carry the current filters along.
BOARD_PAGES = (
    ("board:summary", _("Global summary"), True),
    ("board:map", _("World map"), True),
    ("board:common_chapter", _("Common chapter"), True),
    ("coherence:board", _("Coherence"), False),
    ("strategic_plans:board", _("Agency strategic plans"), False),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    is_current: bool
    keeps_filters: bool


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@register.simple_tag(takes_context=True)
def board_nav(context: dict[str, Any]) -> list[NavItem]:
    """The board pages that exist, the current one marked."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    items = []
    for name, label, keeps_filters in BOARD_PAGES:
        url = _url(name)
        if url is not None:
            items.append(
                NavItem(
                    label=str(label),
                    url=url,
                    is_current=name == current,
                    keeps_filters=keeps_filters,
                )
            )
    return items
