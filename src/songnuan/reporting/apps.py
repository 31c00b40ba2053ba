from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "songnuan.reporting"
    verbose_name = _("统计报表")

    def ready(self) -> None:
        from songnuan.orgs.signals import unit_moved, unit_moving
        from songnuan.reporting import checks  # noqa: F401  (registers the system checks)

        unit_moving.connect(_branch_moving, dispatch_uid="reporting.branch_totals")
        unit_moved.connect(_branch_moved, dispatch_uid="reporting.branch_totals")


def _branch_moving(sender: object, *, unit_id: int, **kwargs: object) -> None:
    from songnuan.reporting import branch_totals

    branch_totals.lock_for_move()


def _branch_moved(sender: object, *, unit_id: int, old_path: str, new_path: str, **kwargs: object) -> None:
    from songnuan.reporting import branch_totals

    branch_totals.unit_moved(unit_id, old_path, new_path)
