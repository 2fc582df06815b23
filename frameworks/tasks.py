"""Celery wrappers: take ids, call one service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry
from django.db import OperationalError


class ImportTask(Task):
    """Fails the import job when its task crashes, so its page stops waiting.

    A lost database connection is retried first, so such a job fails only when
    Celery gives up (on_failure). Eager runs never call on_failure, they raise:
    __call__ covers them.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, Retry):
            raise
        except Exception as exc:
            self.fail_job(args, kwargs, exc)
            raise

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        self.fail_job(args, kwargs, exc)

    def fail_job(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], exc: BaseException
    ) -> None:
        from django.utils.translation import gettext as _

        from frameworks.imports import fail_import

        job_id = kwargs.get("job_id", args[0] if args else None)
        if job_id is not None:
            fail_import(
                job_id=job_id,
                message=_("The import stopped because of an internal error (%(e)s).")
                % {"e": type(exc).__name__},
            )


@shared_task(
    base=ImportTask,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
)
def validate_import_task(job_id: int) -> None:
    from frameworks.imports import validate_import

    validate_import(job_id=job_id)


@shared_task(
    base=ImportTask,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
)
def write_import_task(job_id: int) -> None:
    from frameworks.imports import write_import

    write_import(job_id=job_id)
