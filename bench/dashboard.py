"""The RC dashboard of one team: SQL queries per request and server time.

The page is requested in-process with Django's test client, signed in as a
superuser, so the time is the server's (URL resolution, middleware, view,
selectors, template) without a network or a browser. The URL is found by name,
so the bench picks the page up as soon as it exists.
"""

from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from coordination.models import CountryTeam, User

# Names the dashboard may be registered under, most likely first.
URL_NAMES = (
    "reporting:dashboard",
    "reporting:team_dashboard",
    "reporting:rc_dashboard",
)
REFERENCE_PAGE = "reporting:team_detail"
BENCH_USER = "bench-admin"


@dataclass(frozen=True)
class PageTiming:
    url: str
    status: int
    queries: int
    median_ms: float
    runs_ms: list[float]


def find_dashboard_url(code: str) -> str | None:
    for name in URL_NAMES:
        try:
            return reverse(name, kwargs={"code": code})
        except NoReverseMatch:
            continue
    return None


def _client() -> Client:
    user, created = User.objects.get_or_create(
        username=BENCH_USER,
        defaults={"is_superuser": True, "is_staff": True, "email": ""},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    client = Client()
    client.force_login(user)
    return client


class PageError(RuntimeError):
    """The page did not render (e.g. it is still being built)."""


def time_page(url: str, runs: int = 5) -> PageTiming:
    """Median server time of `runs` requests after one warm-up request."""
    client = _client()
    # The traceback of a failing page would drown the report; it is summed up
    # in one line instead.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.CRITICAL)
    try:
        # secure=True: production settings redirect plain HTTP to HTTPS.
        client.get(url, secure=True)
    except Exception as exc:  # re-raised as PageError: the report goes on
        raise PageError(f"{url} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        request_log.setLevel(level)
    timings = []
    queries = 0
    status = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            timings.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        queries = max(queries, len(captured.captured_queries))
    return PageTiming(
        url=url,
        status=status,
        queries=queries,
        median_ms=statistics.median(timings),
        runs_ms=timings,
    )


def largest_team() -> CountryTeam:
    """The team with the most contributions: the dashboard's worst case."""
    from django.db.models import Count

    return CountryTeam.objects.annotate(n=Count("contributions")).order_by("-n")[0]


def reference_page_url(code: str) -> str:
    return reverse(REFERENCE_PAGE, kwargs={"code": code})


def time_selector(team: CountryTeam, runs: int = 5) -> PageTiming | None:
    """The dashboard's selector alone, when the page itself cannot be timed."""
    from reporting import selectors

    get_dashboard = getattr(selectors, "get_dashboard", None)
    if get_dashboard is None:
        return None
    get_dashboard(team=team)
    timings = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            get_dashboard(team=team)
            timings.append((time.perf_counter() - started) * 1000)
        queries = max(queries, len(captured.captured_queries))
    return PageTiming(
        url="reporting.selectors.get_dashboard(team=...)",
        status=0,
        queries=queries,
        median_ms=statistics.median(timings),
        runs_ms=timings,
    )
