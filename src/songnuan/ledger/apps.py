from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _configured_data(sender: AppConfig, **kwargs: Any) -> None:
    """The configured fund sources and help items (data/ledger.toml) after every migrate — and after every
    flush, which empties the tables a data migration filled once (as Django does for its permissions)."""
    from songnuan.ledger.config import sync_configuration
    from songnuan.ledger.models import FundSource, HelpItem

    using = kwargs.get("using", "default")
    if using == "default":
        sync_configuration(FundSource, HelpItem)


def _household_saved(sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """A filed household's category is a filter of the derived items: the maintained totals of whoever
    helped it are derived again (the archive, a lower app, knows nothing of the ledger)."""
    from songnuan.ledger.totals import household_changed

    if not created and not raw:
        household_changed(instance.pk)


class LedgerConfig(AppConfig):
    name = "songnuan.ledger"
    verbose_name = _("帮扶台账")

    def ready(self) -> None:
        from songnuan.archive.models import Household

        post_migrate.connect(_configured_data, sender=self)
        post_save.connect(_household_saved, sender=Household, dispatch_uid="ledger-totals-household")
