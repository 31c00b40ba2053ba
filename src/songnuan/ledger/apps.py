from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "songnuan.ledger"
    verbose_name = _("帮扶台账")
