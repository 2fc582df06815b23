"""Celery wrapper of the report job: takes an id, calls one service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry
from django.db import OperationalError


class ReportTask(Task):
    """Fails the report when its job crashes, so its page stops waiting.

    A lost database connection is retried first, so such a report fails only
    when Celery gives up (on_failure). Eager runs never call on_failure, they
    raise: __call__ covers them.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, Retry):
            raise
        except Exception as exc:
            self.fail_report(args, kwargs, exc)
            raise

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        self.fail_report(args, kwargs, exc)

    def fail_report(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], exc: BaseException
    ) -> None:
        from reporting.report_services import fail_report_after_crash

        report_id = kwargs.get("report_id", args[0] if args else None)
        if report_id is not None:
            fail_report_after_crash(report_id=report_id, error=exc)


@shared_task(
    base=ReportTask,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def build_report_task(report_id: int) -> None:
    from reporting.report_services import build_report

    build_report(report_id=report_id)
