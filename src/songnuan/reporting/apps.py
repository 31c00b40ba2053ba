from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "songnuan.reporting"
    verbose_name = _("统计报表")

    def ready(self) -> None:
        from songnuan.orgs.signals import unit_moved
        from songnuan.reporting import checks  # noqa: F401  (registers the system checks)

        unit_moved.connect(_branch_moved, dispatch_uid="reporting.branch_totals")


def _branch_moved(sender: object, *, unit_id: int, old_path: str, new_path: str, **kwargs: object) -> None:
    from songnuan.reporting import branch_totals

    branch_totals.unit_moved(unit_id, old_path, new_path)
