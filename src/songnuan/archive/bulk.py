"""Bulk inserts for the archive import: SQLite executemany, PostgreSQL COPY — the database's own fast path.

The ORM's bulk_create builds a model object and prepares every field of every row (tens of microseconds
a row); an archive of a million households would spend most of its import there. Rows here are tuples in
the order of `columns`, already in the form the database takes (the import builds them that way), and the
caller holds the transaction.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for `model`, inserted explicitly so that child rows can refer to them."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction began IMMEDIATE (settings), so it holds the write lock: no one else inserts.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        start = int(cursor.fetchone()[0]) + 1
        return list(range(start, start + count))


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)


def existing_values(model: type[models.Model], column: str, values: Sequence[Any]) -> list[Any]:
    """Which of `values` are in `column` of `model`'s table: one probe of the column's index.

    PostgreSQL gets them as one array parameter (= ANY), which it plans once, rather than thousands of
    placeholders; SQLite binds each (a batch stays under its limit of 32,766).
    """
    if not values:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    name = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {name} FROM {table} WHERE {name} = ANY(%s)", [list(values)])
        else:
            placeholders = ", ".join(["%s"] * len(values))
            cursor.execute(f"SELECT {name} FROM {table} WHERE {name} IN ({placeholders})", list(values))
        return [row[0] for row in cursor.fetchall()]


def column_adapter(model: type[models.Model], column: str) -> Callable[[Any], Any] | None:
    """How a Python value of `column` goes to this database, or None when it goes as it is (text, numbers).

    Dates and times are adapted once per distinct value: an import stamps the same time on every row.
    """
    field = model._meta.get_field(column.removesuffix("_id") if column.endswith("_id") else column)
    ops = connection.ops
    if isinstance(field, models.JSONField):  # as JSON text, which both databases parse on the way in
        return _json_text
    if connection.vendor == "postgresql":
        return None  # psycopg adapts Decimal, date and aware datetime itself
    if isinstance(field, models.DecimalField):
        return lambda value: None if value is None else str(value) if isinstance(value, Decimal) else value
    if isinstance(field, models.DateTimeField):
        return functools.lru_cache(maxsize=4096)(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return functools.lru_cache(maxsize=65536)(ops.adapt_datefield_value)
    return None


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list) and not value:
        return "[]"  # what json.dumps gives, without its machinery: most households list no other cause
    return json.dumps(value, ensure_ascii=False)
