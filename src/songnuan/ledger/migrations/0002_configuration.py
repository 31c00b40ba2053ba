"""The configured fund sources and help items (data/ledger.toml)."""

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from songnuan.ledger.config import sync_configuration

    sync_configuration(apps.get_model("ledger", "FundSource"), apps.get_model("ledger", "HelpItem"))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
