from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChecksConfig(AppConfig):
    name = "songnuan.checks"
    verbose_name = _("抽查与自查")

    def ready(self) -> None:
        from songnuan.checks.notes import overdue_task_notes, self_check_notes
        from songnuan.reporting.unit_notes import register

        register(units=self_check_notes, campaign=overdue_task_notes)
