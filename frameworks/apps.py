from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrameworksConfig(AppConfig):
    name = "frameworks"
    verbose_name = _("Frameworks and joint work")

    def ready(self) -> None:
        # Registers this app's rules permissions.
        from frameworks import permissions  # noqa: F401
