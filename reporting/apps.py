from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        from frameworks.events import team_data_changed
        from reporting.receivers import queue_team_snapshot_refresh

        team_data_changed.connect(
            queue_team_snapshot_refresh, dispatch_uid="reporting.team_snapshot"
        )
