"""The ledger's configured data (data/ledger.toml): fund sources and help items are copied into the database,
where the Django admin may change them; the banks' file layouts are read from the file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

CONFIG_FILE = Path(__file__).resolve().parent / "data" / "ledger.toml"

#: Column keys of a bank's payment file and their headers (the bank's 批量代发 template).
BANK_COLUMNS = {
    "seq": "序号",
    "name": "姓名",
    "id_number": "身份证号",
    "card_number": "卡号",
    "bank": "开户行",
    "amount": "金额",
    "purpose": "用途",
}


@dataclass(frozen=True)
class BankFormat:
    code: str
    name: str
    columns: tuple[str, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(BANK_COLUMNS[c] for c in self.columns)


@cache
def configuration() -> dict[str, Any]:
    with CONFIG_FILE.open("rb") as file:
        return tomllib.load(file)


def bank_formats() -> dict[str, BankFormat]:
    return {
        raw["code"]: BankFormat(raw["code"], raw["name"], tuple(raw["columns"]))
        for raw in configuration()["bank_formats"]
    }


def sync_configuration(fund_source_model: Any, help_item_model: Any) -> None:
    """Create the configured fund sources and help items that are missing; leave existing rows as the admin
    set them. Takes the models so that a migration can pass its historical ones."""
    data = configuration()
    for order, raw in enumerate(data["fund_sources"]):
        fund_source_model.objects.get_or_create(
            code=raw["code"],
            defaults={
                "name": raw["name"],
                "form_item": raw.get("form_item", ""),
                "archive_first": raw.get("archive_first", False),
                "sort_order": order,
            },
        )
    for order, raw in enumerate(data["help_items"]):
        help_item_model.objects.get_or_create(
            code=raw["code"],
            defaults={
                "name": raw["name"],
                "form_item": raw.get("form_item", ""),
                "cap_basis": raw.get("cap_basis", ""),
                "per_payment": _money(raw.get("per_payment")),
                "per_year": _money(raw.get("per_year")),
                "cap_severity": raw.get("cap_severity", "warning"),
                "sort_order": order,
            },
        )


def _money(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
