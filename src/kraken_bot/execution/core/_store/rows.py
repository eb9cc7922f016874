"""Pure: SQL rows of the execution tables: the statements, and records to and from their parameters.

Writing: `order_row`, `event_row` and `result_row` give the parameters for
`UPSERT_ORDER`, `INSERT_EVENT` and `UPSERT_RESULT`, in column order. Times go
in as UTC epoch seconds (floored), amounts as REAL, lists and dicts as JSON
text (each field as its field table says: `kraken_bot.execution.core._fields`); the
exact record goes in ``snapshot_json`` / ``raw_json`` / ``at_iso``.

Reading: `decode_order`, `decode_result` and `decode_event` rebuild records
from a ``SELECT`` row, from the exact JSON only: rows of the older formats were
rewritten when the file was opened (`kraken_bot.execution.shell._store.migration`). A
row that cannot be decoded raises `StoreError` naming the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, TypeAlias, TypeVar

from returns.pipeline import is_successful
from returns.result import Failure, Result

from kraken_bot._problems import CodecProblem
from kraken_bot.execution.core import _fields
from kraken_bot.execution.core._fields import ORDER, RESULT, epoch_seconds
from kraken_bot.execution.core._store.records import OrderEventRecord
from kraken_bot.execution.core._store.tables import ORDER_COLUMNS, RESULT_COLUMNS
from kraken_bot.execution.core.codec import (
    CodecError,
    JsonObject,
    decode_datetime,
    encode_datetime,
    from_json_text,
    order_from_json,
    result_from_json,
    to_json_text,
)
from kraken_bot.execution.core.models import (
    TRACKED_STATUSES,
    ExecutionResult,
    LocalOrder,
    OrderStatus,
)
from kraken_bot.execution.exceptions import StoreError

SqlValue: TypeAlias = _fields.SqlValue
"""The only Python types the store binds as SQL parameters (named here for the store's modules)."""

_STATUS_VALUES: Final = frozenset(status.value for status in OrderStatus)
_T = TypeVar("_T")


def _names(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join(name for name, _ in columns)


def _parameter_marks(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join("?" for _ in columns)


_BOOKKEEPING: Final = frozenset({"version", "quarantine"})
WRITTEN_COLUMNS: Final = tuple(c for c in ORDER_COLUMNS if c[0] not in _BOOKKEEPING)
"""The columns `order_row` fills, in its order; ``version`` and ``quarantine`` are the store's."""
_ORDER_SNAPSHOT_AT: Final = WRITTEN_COLUMNS.index(("snapshot_json", "TEXT"))
_RESULT_SNAPSHOT_AT: Final = RESULT_COLUMNS.index(("raw_json", "TEXT"))
_ORDER_NAMES: Final = _names(ORDER_COLUMNS)
_WRITTEN_NAMES: Final = _names(WRITTEN_COLUMNS)
_RESULT_NAMES: Final = _names(RESULT_COLUMNS)
_TRACKED_IN: Final = ", ".join(f"'{status.value}'" for status in sorted(TRACKED_STATUSES))
_SET_WRITTEN: Final = ", ".join(f"{name} = excluded.{name}" for name, _ in WRITTEN_COLUMNS[1:])
_INSERT_WRITTEN: Final = (
    f"INSERT INTO execution_orders ({_WRITTEN_NAMES}, version, quarantine)"  # noqa: S608
    f" VALUES ({_parameter_marks(WRITTEN_COLUMNS)}, 1, NULL)"
)

# SQL below is assembled once, at import, from the constants above (no user input).
UPSERT_ORDER: Final = (
    f"{_INSERT_WRITTEN} ON CONFLICT(local_id) DO UPDATE SET {_SET_WRITTEN},"
    " version = execution_orders.version + 1, quarantine = NULL"
)
"""Insert, or overwrite whatever is there (bumping the version): for records the caller owns."""
ADOPT_ORDER: Final = (
    f"{_INSERT_WRITTEN} ON CONFLICT(local_id) DO UPDATE SET {_SET_WRITTEN},"
    " version = execution_orders.version + 1, quarantine = NULL"
    " WHERE execution_orders.quarantine IS NOT NULL"
)
"""Insert a new record; over an existing row only when that row was quarantined (unreadable)."""
CAS_ORDER: Final = (
    "UPDATE execution_orders SET "  # noqa: S608
    + ", ".join(f"{name} = ?" for name, _ in WRITTEN_COLUMNS[1:])
    + ", version = version + 1, quarantine = NULL WHERE local_id = ? AND version = ?"
)
"""Compare-and-set: write the new state only onto the version it was folded from."""
LINKED_TXID: Final = "SELECT kraken_order_id FROM execution_orders WHERE local_id = ?"
OTHER_OWNER: Final = (
    "SELECT local_id FROM execution_orders WHERE kraken_order_id = ? AND local_id != ? LIMIT 1"
)
USERREFS: Final = "SELECT DISTINCT userref FROM execution_orders WHERE userref IS NOT NULL"
QUARANTINE_ORDER: Final = "UPDATE execution_orders SET quarantine = ? WHERE local_id = ?"
QUARANTINE_BROKEN_JSON: Final = (
    "UPDATE execution_orders SET quarantine = 'snapshot_json is not valid JSON (damaged row)'"
    " WHERE quarantine IS NULL AND snapshot_json IS NOT NULL AND NOT json_valid(snapshot_json)"
)
"""Set aside, at opening, every row whose exact record is not even JSON (one scan)."""
QUARANTINED: Final = (
    "SELECT rowid, local_id, quarantine FROM execution_orders WHERE quarantine IS NOT NULL"
)
"""Quarantined rows as (rowid, id, reason); no ORDER BY, so SQLite reads the partial index
(sorting by rowid would make it scan the whole table): the caller sorts."""
NOTE_EVENT: Final = (
    "INSERT INTO execution_order_events (local_id, at, at_iso, status, event, detail)"
    " SELECT local_id, ?, ?, status, ?, ? FROM execution_orders WHERE local_id = ?"
)
"""An audit row carrying the order's status as its row has it now (`note_event`)."""
INSERT_EVENT: Final = (
    "INSERT INTO execution_order_events (local_id, at, at_iso, status, event, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
UPSERT_RESULT: Final = (
    f"INSERT INTO execution_results ({_RESULT_NAMES}) VALUES ({_parameter_marks(RESULT_COLUMNS)})"  # noqa: S608
    " ON CONFLICT(plan_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name, _ in RESULT_COLUMNS[1:])
)
# A row whose JSON is damaged must not break the whole query (it is quarantined when read).
_ORDER_EXACT: Final = (
    "CASE WHEN json_valid(snapshot_json) THEN json_extract(snapshot_json, '$.created_at') END"
)
_SELECT_ORDERS: Final = f"SELECT {_ORDER_NAMES} FROM execution_orders"  # noqa: S608
_READABLE: Final = "quarantine IS NULL"
GET_ORDER: Final = f"{_SELECT_ORDERS} WHERE local_id = ? AND {_READABLE}"
BY_KRAKEN_ID: Final = (
    f"{_SELECT_ORDERS} WHERE kraken_order_id = ? AND {_READABLE} ORDER BY rowid DESC LIMIT 1"
)
BY_CLIENT_ID: Final = (
    f"{_SELECT_ORDERS} WHERE client_order_id = ? AND {_READABLE} ORDER BY rowid DESC LIMIT 1"
)
LIVE_ORDERS: Final = (
    f"{_SELECT_ORDERS} WHERE status IN ({_TRACKED_IN}) AND {_READABLE}"
    f" ORDER BY created_at, {_ORDER_EXACT}, rowid"
)
PLAN_ORDERS: Final = (
    f"{_SELECT_ORDERS} WHERE plan_id = ? AND {_READABLE}"
    f" ORDER BY action_index IS NULL, action_index, created_at, {_ORDER_EXACT}, rowid"
)
RECENT_ORDERS: Final = (
    f"{_SELECT_ORDERS} WHERE {_READABLE}"
    f" ORDER BY created_at DESC, {_ORDER_EXACT} DESC, rowid DESC LIMIT ?"
)
_SELECT_RESULTS: Final = f"SELECT {_RESULT_NAMES} FROM execution_results"  # noqa: S608
GET_RESULT: Final = f"{_SELECT_RESULTS} WHERE plan_id = ?"
RECENT_RESULTS: Final = (
    f"{_SELECT_RESULTS} ORDER BY started_at DESC,"
    " CASE WHEN json_valid(raw_json) THEN json_extract(raw_json, '$.started_at') END DESC,"
    " rowid DESC LIMIT ?"
)
EVENTS_FOR: Final = (
    "SELECT id, local_id, at_iso, status, event, detail FROM execution_order_events"
    " WHERE local_id = ? ORDER BY id"
)
ALL_EVENTS: Final = (
    "SELECT id, local_id, at_iso, status, event, detail FROM execution_order_events ORDER BY id"
)


# ---------------------------------------------------------------- writing rows


def cas_row(row: tuple[SqlValue, ...], expected_version: int) -> tuple[SqlValue, ...]:
    """Parameters for `CAS_ORDER` from an `order_row`: the values, the id, the version."""
    return (*row[1:], row[0], expected_version)


def order_row(order: LocalOrder, snapshot: JsonObject) -> tuple[SqlValue, ...]:
    """Parameters for `UPSERT_ORDER`, in the written columns' order (no version)."""
    row = ORDER.sql_values(order, snapshot)
    row.insert(_ORDER_SNAPSHOT_AT, to_json_text(snapshot))
    return tuple(row)


def event_row(order: LocalOrder, event: str | None, detail: str | None) -> tuple[SqlValue, ...]:
    """Parameters for `INSERT_EVENT`: the audit row for this snapshot of the order."""
    return (
        order.local_id,
        epoch_seconds(order.updated_at),
        encode_datetime(order.updated_at),
        order.status.value,
        event,
        detail,
    )


def result_row(result: ExecutionResult, snapshot: JsonObject) -> tuple[SqlValue, ...]:
    """Parameters for `UPSERT_RESULT`, in `RESULT_COLUMNS` order."""
    row = RESULT.sql_values(result, snapshot)
    row.insert(_RESULT_SNAPSHOT_AT, to_json_text(snapshot))
    return tuple(row)


# ---------------------------------------------------------------- reading rows back


def decode_order(row: tuple[object, ...], path: str) -> LocalOrder:
    """The order in a row selected with `ORDER_COLUMNS`."""
    return decode_versioned(row, path)[0]


def row_id(row: tuple[object, ...]) -> str:
    """The local id of a row selected with `ORDER_COLUMNS` (for naming a bad row)."""
    return str(row[0])


_ORDER_AT: Final = {name: at for at, (name, _) in enumerate(ORDER_COLUMNS)}
_SNAPSHOT_AT, _VERSION_AT, _LOCAL_ID_AT = (
    _ORDER_AT["snapshot_json"],
    _ORDER_AT["version"],
    _ORDER_AT["local_id"],
)


def decode_versioned(row: tuple[object, ...], path: str) -> tuple[LocalOrder, int]:
    """The order in a row selected with `ORDER_COLUMNS`, and the row's version."""
    if len(row) != len(ORDER_COLUMNS):
        raise ValueError(f"an order row has {len(row)} columns, not {len(ORDER_COLUMNS)}")
    decoded = _exact(row[_SNAPSHOT_AT], "snapshot_json", "order").bind(order_from_json)
    version = row[_VERSION_AT]
    order = _unwrap(decoded, f"order {row[_LOCAL_ID_AT]}", path)
    return order, version if isinstance(version, int) else 0


def decode_result(row: tuple[object, ...], path: str) -> ExecutionResult:
    """The result in a row selected with `RESULT_COLUMNS`."""
    values = dict(zip((name for name, _ in RESULT_COLUMNS), row, strict=True))
    decoded = _exact(values["raw_json"], "raw_json", "result").bind(result_from_json)
    return _unwrap(decoded, f"result {values['plan_id']}", path)


def decode_event(row: tuple[object, ...], path: str) -> OrderEventRecord:
    """The audit record in a row selected by `EVENTS_FOR` (or `ALL_EVENTS`)."""
    event_id, local_id, at_iso, status, event, detail = row
    at = decode_datetime(at_iso)
    if (
        not isinstance(event_id, int)
        or not isinstance(local_id, str)
        or at is None
        or status not in _STATUS_VALUES
        or not isinstance(event, str | None)
        or not isinstance(detail, str | None)
    ):
        raise StoreError(f"{path}: event row {event_id!r} is malformed", path=path)
    return OrderEventRecord(
        id=event_id,
        local_id=local_id,
        at=at,
        status=OrderStatus(str(status)),
        event=event,
        detail=detail,
    )


def _exact(text: object, column: str, what: str) -> Result[object, CodecError]:
    if isinstance(text, str):
        return from_json_text(text, what)
    problem = CodecProblem(column, "not text (an older format, not migrated: open it for writing)")
    return Failure(CodecError(what, (problem,)))


def _unwrap(decoded: Result[_T, CodecError], what: str, path: str) -> _T:
    if is_successful(decoded):
        return decoded.unwrap()
    raise StoreError(f"{path}: {what} cannot be read back: {decoded.failure()}", path=path)
