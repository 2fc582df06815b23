from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        from frameworks.events import team_data_changed
        from reporting.receivers import record_rollup_request

        team_data_changed.connect(
            record_rollup_request, dispatch_uid="reporting.rollup_request"
        )
