"""Rows as JSON and back: what a packet, an outbox payload and a briefcase carry.

Values are encoded by column type: UUIDs and instants as text (instants ISO 8601 in UTC), dates
ISO, JSON columns as they are, everything else (int, bool, str, None) unchanged. Money stays in
integer minor units, so nothing is ever rounded on the way.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Table, Uuid
from sqlmodel import SQLModel

import collector_tui.models  # noqa: F401  (registers every table on the metadata)
from collector_tui.dates import check_day, check_instant, parse_day, parse_instant
from collector_tui.models import UTCDateTime

# Rows a laptop keeps to itself: never captured, never carried.
LOCAL_TABLES = frozenset(
    {
        "draft",
        "sync_state",
        "sync_outbox",
        "sync_applied_op",
        "sync_tombstone",
        "sync_briefcase",
        "sync_device",
        "sync_received_packet",
        # The compliance verdict cache's change log (services/rules/verdicts.py): derived, local.
        "verdict_change",
        # Derived counts, kept by each database's own triggers from the rows it holds (migration
        # 0017): a laptop counts its briefcase, the master its book; never sent either way.
        "workload_counter",
        "attempt_counter",
    }
)


def _case_tables() -> tuple[str, ...]:
    """Every table whose rows belong to one case (a `case_id` pointing at the case), parents
    first: a table added later (settlements) travels in the briefcase without a change here."""
    found: list[str] = []
    for candidate in SQLModel.metadata.sorted_tables:
        if candidate.name in LOCAL_TABLES or "case_id" not in candidate.columns:
            continue
        targets = {fk.column.table.name for fk in candidate.columns["case_id"].foreign_keys}
        if "collection_case" in targets:
            found.append(candidate.name)
    return tuple(found)


CASE_TABLES: tuple[str, ...] = _case_tables()
# A debtor's contact data (services/contacts): rows by `debtor_id`, carried with the debtor, parents
# first (a third party names their phone).
DEBTOR_TABLES: tuple[str, ...] = ("phone", "postaladdress", "emailaddress", "thirdparty")
# Tables in the order their rows can be inserted (parents first); deletes go the other way.
BRIEFCASE_TABLES: tuple[str, ...] = (
    "app_user",
    "debtor",
    *DEBTOR_TABLES,
    "collection_case",
    *CASE_TABLES,
    "paymentallocation",
)


def table(name: str) -> Table:
    found = SQLModel.metadata.tables.get(name)
    if found is None:
        raise KeyError(name)
    return found


def model_for(name: str) -> type[SQLModel] | None:
    for mapper in SQLModel._sa_registry.mappers:
        if getattr(mapper.local_table, "name", None) == name:
            return mapper.class_
    return None


def encode_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def decode_value(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, Uuid):
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    # Dates and instants from another database pass the one accepted range (collector_tui.dates):
    # a value outside it is a ValueError (a refused operation), never an overflow later on.
    if isinstance(column_type, UTCDateTime):
        if isinstance(value, datetime):
            return check_instant(value)
        if not isinstance(value, str):
            raise ValueError(f"not an instant: {type(value).__name__}")
        return parse_instant(value)
    if isinstance(column_type, Date):
        if isinstance(value, date) and not isinstance(value, datetime):
            return check_day(value)
        if not isinstance(value, str):
            raise ValueError(f"not a date: {type(value).__name__}")
        return parse_day(value)
    if isinstance(column_type, JSON):
        return value
    return value


def encode_row(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: encode_value(value) for name, value in values.items()}


def decode_row(table_name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values for `table_name`'s columns; names the table does not have are dropped (a
    packet from a newer program may carry columns this one does not know)."""
    columns = table(table_name).columns
    return {
        name: decode_value(columns[name].type, value)
        for name, value in values.items()
        if name in columns
    }


def row_values(row: Any) -> dict[str, Any]:
    """Every column of an ORM object, by column name, encoded."""
    return {column.name: encode_value(getattr(row, column.key)) for column in row.__table__.columns}


__all__ = [
    "BRIEFCASE_TABLES",
    "CASE_TABLES",
    "DEBTOR_TABLES",
    "LOCAL_TABLES",
    "decode_row",
    "decode_value",
    "encode_row",
    "encode_value",
    "model_for",
    "row_values",
    "table",
]
