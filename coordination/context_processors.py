"""What the navigation shows, decided by the same predicates as the permissions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from coordination.permissions import can_view_board_summary


def navigation(request: HttpRequest) -> dict[str, Any]:
    # The predicate, not user.has_perm: a refusal there falls through to Django's
    # model backend, which costs two queries on every page.
    return {
        "show_board_nav": can_view_board_summary(getattr(request, "user", None)),
        "show_open_data": settings.UNPORTAL_OPEN_DATA,
    }
