from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "songnuan.reporting"
    verbose_name = _("统计报表")

    def ready(self) -> None:
        from songnuan.reporting import checks  # noqa: F401  (registers the system checks)
