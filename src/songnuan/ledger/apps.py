from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _configured_data(sender: AppConfig, **kwargs: Any) -> None:
    """The configured fund sources and help items (data/ledger.toml) after every migrate — and after every
    flush, which empties the tables a data migration filled once (as Django does for its permissions)."""
    from songnuan.ledger.config import sync_configuration
    from songnuan.ledger.models import FundSource, HelpItem

    using = kwargs.get("using", "default")
    if using == "default":
        sync_configuration(FundSource, HelpItem)


class LedgerConfig(AppConfig):
    name = "songnuan.ledger"
    verbose_name = _("帮扶台账")

    def ready(self) -> None:
        post_migrate.connect(_configured_data, sender=self)
