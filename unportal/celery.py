"""The Celery application: configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unportal.settings")

app = Celery("unportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# django-celery-beat's DatabaseScheduler copies these entries into its tables when
# beat starts, so they exist without anyone creating them in the admin.
app.conf.beat_schedule = {
    # Catches rollup requests whose wake-up call never reached a worker (broker
    # down, worker killed). Expires before the next one, so a stopped worker
    # does not come back to a queue of stale sweeps.
    "sweep-rollup-requests": {
        "task": "reporting.tasks.sweep_rollup_requests_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
