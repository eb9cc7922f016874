"""Execution records on disk: the store port, its SQLite implementation and an in-memory fake.

The service writes every order state change through `ExecutionStore.save_order`
*before* acting on it (write-ahead: an order is stored ``pending`` before it is
sent), so after a crash the database says what was attempted and what
happened. Each call is one transaction: the order's snapshot row is upserted
and one audit row is appended to ``execution_order_events``, or neither.

SQLite (`SQLiteExecutionStore`):

* WAL journal, ``synchronous=NORMAL`` by default: a committed transaction
  survives a crash of the process (what reconciliation needs); ``FULL`` also
  survives power loss, at the cost of an fsync per commit.
* One connection guarded by a lock; every write is ``BEGIN IMMEDIATE`` ...
  ``COMMIT`` (rolled back on any error).
* Tables: the contract's ``execution_orders`` and ``execution_results``
  (section 9) with extra columns, ``execution_order_events`` (the audit trail)
  and ``schema_version`` (set to `SCHEMA_VERSION`). Timestamp columns hold
  **UTC epoch seconds** (INTEGER, floored); exact times and amounts live in
  ``snapshot_json`` / ``raw_json`` / ``at_iso`` (see `kraken_bot.execution.codec`),
  from which records are loaded, so Decimals and microseconds round-trip
  exactly. The REAL columns are for SQL readers and analytics.
* Lists and dicts never reach SQLite as parameters: they go in as JSON text.
* Opening checks everything that could stop a write *before* the service sends
  anything, and raises `StoreError` naming the file: missing directory, not a
  database, read-only, locked past the busy timeout, a newer schema whose
  execution tables this code would have to change.

`InMemoryExecutionStore` behaves the same over dicts (it stores the codec's
round trip of each record, so it normalises exactly as SQLite does); tests and
dry runs use it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, Protocol, Self, TypeAlias, TypeVar

from returns.pipeline import is_successful
from returns.result import Result

from kraken_bot.execution.codec import (
    CodecError,
    JsonObject,
    decode_datetime,
    encode_datetime,
    from_json_text,
    order_from_json,
    order_to_json,
    result_from_json,
    result_to_json,
    to_json_text,
)
from kraken_bot.execution.exceptions import StoreError
from kraken_bot.execution.models import (
    LIVE_STATUSES,
    ExecutionResult,
    LocalOrder,
    OrderStatus,
)

SCHEMA_VERSION: Final = 4
"""``schema_version.version`` once the execution tables are in place (the contract's v4 bump)."""

Synchronous: TypeAlias = Literal["NORMAL", "FULL"]
SqlValue: TypeAlias = str | int | float | bytes | None
"""The only Python types the store binds as SQL parameters."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND: Final = timedelta(seconds=1)
_STATUS_VALUES: Final = frozenset(status.value for status in OrderStatus)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEventRecord:
    """One row of an order's audit trail: the state it was saved in, and why.

    Attributes:
        id: increasing across the whole store (insertion order).
        local_id: the order.
        at: the order's ``updated_at`` in that snapshot.
        status: the order's status in that snapshot.
        event: what the service did or saw (``"send_attempted"``, ``"observed"``...).
        detail: free text (an error message, a Kraken txid...).
    """

    id: int
    local_id: str
    at: datetime
    status: OrderStatus
    event: str | None
    detail: str | None


def event_to_json(record: OrderEventRecord) -> JsonObject:
    """An audit row as a JSON-compatible dict (for ``--json`` output)."""
    return {
        "id": record.id,
        "local_id": record.local_id,
        "at": encode_datetime(record.at),
        "status": record.status.value,
        "event": record.event,
        "detail": record.detail,
    }


class ExecutionStore(Protocol):
    """Where the execution layer keeps its orders, results and audit trail."""

    def save_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> None:
        """Upsert the order's snapshot and append one audit row, in one transaction."""
        ...

    def save_orders(self, orders: Sequence[LocalOrder], *, event: str | None = None) -> None:
        """`save_order` for many orders, all in one transaction."""
        ...

    def save_result(self, result: ExecutionResult) -> None:
        """Upsert a plan's result (keyed by plan id)."""
        ...

    def get_order(self, local_id: str) -> LocalOrder | None:
        """The latest snapshot of an order."""
        ...

    def find_by_kraken_id(self, txid: str) -> LocalOrder | None:
        """The order with this Kraken txid (the newest, if several)."""
        ...

    def find_by_client_order_id(self, cl_ord_id: str) -> LocalOrder | None:
        """The order with this client order id (the newest, if several)."""
        ...

    def live_orders(self) -> list[LocalOrder]:
        """Orders whose status is in `LIVE_STATUSES`, oldest first."""
        ...

    def orders_for_plan(self, plan_id: str) -> list[LocalOrder]:
        """A plan's orders in action order (orders without one last), then creation time."""
        ...

    def recent_orders(self, limit: int = 50) -> list[LocalOrder]:
        """The ``limit`` most recently created orders, newest first."""
        ...

    def get_result(self, plan_id: str) -> ExecutionResult | None:
        """A plan's result as it was last saved."""
        ...

    def recent_results(self, limit: int = 50) -> list[ExecutionResult]:
        """The ``limit`` most recently started results, newest first."""
        ...

    def events_for(self, local_id: str) -> list[OrderEventRecord]:
        """An order's audit trail, oldest first."""
        ...

    def close(self) -> None:
        """Release the store; later calls raise `StoreError`. Closing twice is fine."""
        ...


# ---------------------------------------------------------------- checks shared by both stores

_SECRET_KEYS: Final = frozenset({"nonce", "api_key", "apikey", "api_sign", "apisign", "otp"})
_SECRET_PARTS: Final = ("secret", "signature", "api_key", "api_sign", "nonce")


@functools.lru_cache(maxsize=1024)
def is_secret_key(key: str) -> bool:
    """True for request keys that carry credentials (``nonce``, ``API-Key``, ``API-Sign``...).

    >>> [is_secret_key(k) for k in ("API-Sign", "api_secret", "pair", "cl_ord_id")]
    [True, True, False, False]
    """
    normalised = key.strip().lower().replace("-", "_").replace(" ", "_")
    return normalised in _SECRET_KEYS or any(part in normalised for part in _SECRET_PARTS)


def _check_request(order: LocalOrder) -> None:
    secrets = sorted(key for key in order.raw_request if is_secret_key(key))
    if secrets:
        raise StoreError(
            f"order {order.local_id}: raw_request carries credential field(s) "
            f"{', '.join(secrets)}; refusing to persist them (strip them before saving)"
        )


def _check_limit(limit: int) -> None:
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")


def _order_snapshot(order: LocalOrder) -> JsonObject:
    """Validate an order for storage and return its codec encoding."""
    _check_request(order)
    amounts = (
        order.requested_base_size,
        order.requested_price,
        order.cumulative_base_filled,
        order.avg_fill_price,
        order.fee,
        order.cost,
        order.reference_price,
    )
    if any(amount is not None and not amount.is_finite() for amount in amounts):
        raise StoreError(f"order {order.local_id}: amounts must be finite numbers")
    try:
        return order_to_json(order)
    except ValueError as error:
        raise StoreError(f"order {order.local_id} cannot be stored: {error}") from error


def _result_snapshot(result: ExecutionResult) -> JsonObject:
    for order in result.orders:
        _order_snapshot(order)
    for skip in result.skipped:
        if any(v is not None and not v.is_finite() for v in (skip.volume, skip.price)):
            raise StoreError(f"result {result.plan_id}: skip amounts must be finite numbers")
    try:
        return result_to_json(result)
    except ValueError as error:
        raise StoreError(f"result {result.plan_id} cannot be stored: {error}") from error


# ---------------------------------------------------------------- schema

_ORDER_COLUMNS: Final = (
    # the contract's columns (section 9.1)
    ("local_id", "TEXT PRIMARY KEY"),
    ("plan_id", "TEXT"),
    ("strategy_id", "TEXT"),
    ("pair", "TEXT NOT NULL"),
    ("side", "TEXT NOT NULL"),
    ("order_type", "TEXT NOT NULL"),
    ("kraken_order_id", "TEXT"),
    ("userref", "INTEGER"),
    ("requested_base_size", "REAL NOT NULL"),
    ("requested_price", "REAL"),
    ("status", "TEXT NOT NULL"),
    ("cumulative_base_filled", "REAL NOT NULL DEFAULT 0.0"),
    ("avg_fill_price", "REAL"),
    ("created_at", "INTEGER NOT NULL"),
    ("updated_at", "INTEGER NOT NULL"),
    ("last_error", "TEXT"),
    ("raw_request", "TEXT"),
    ("raw_response", "TEXT"),
    # ours
    ("client_order_id", "TEXT"),
    ("fee", "REAL"),
    ("cost", "REAL"),
    ("rest_pair", "TEXT"),
    ("time_in_force", "TEXT"),
    ("post_only", "INTEGER"),
    ("attempts", "INTEGER"),
    ("send_deadline", "INTEGER"),
    ("first_sent_at", "INTEGER"),
    ("cancel_requested_at", "INTEGER"),
    ("close_reason", "TEXT"),
    ("action_index", "INTEGER"),
    ("reference_price", "REAL"),
    ("snapshot_json", "TEXT"),
)

_RESULT_COLUMNS: Final = (
    # the contract's columns (section 9.2)
    ("plan_id", "TEXT PRIMARY KEY"),
    ("started_at", "INTEGER NOT NULL"),
    ("completed_at", "INTEGER"),
    ("success", "INTEGER NOT NULL"),
    ("error_summary", "TEXT"),
    ("raw_json", "TEXT"),
    # ours
    ("errors_json", "TEXT"),
    ("mode", "TEXT"),
    ("replayed", "INTEGER"),
)

_EVENT_COLUMNS: Final = (
    ("id", "INTEGER PRIMARY KEY AUTOINCREMENT"),
    ("local_id", "TEXT NOT NULL REFERENCES execution_orders(local_id)"),
    ("at", "INTEGER NOT NULL"),
    ("at_iso", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("event", "TEXT"),
    ("detail", "TEXT"),
)

_TABLES: Final = (
    ("execution_orders", _ORDER_COLUMNS),
    ("execution_results", _RESULT_COLUMNS),
    ("execution_order_events", _EVENT_COLUMNS),
)


def _create_table(table: str, columns: Sequence[tuple[str, str]]) -> str:
    body = ",\n    ".join(f"{name} {decl}" for name, decl in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n    {body}\n)"


_CREATE_TABLES: Final = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    *(_create_table(table, columns) for table, columns in _TABLES),
)
_CREATE_INDEXES: Final = (
    "CREATE INDEX IF NOT EXISTS execution_orders_plan_id ON execution_orders (plan_id)",
    "CREATE INDEX IF NOT EXISTS execution_orders_kraken_id ON execution_orders (kraken_order_id)",
    "CREATE INDEX IF NOT EXISTS execution_orders_client_id ON execution_orders (client_order_id)",
    "CREATE INDEX IF NOT EXISTS execution_orders_status ON execution_orders (status)",
    "CREATE INDEX IF NOT EXISTS execution_orders_created_at ON execution_orders (created_at)",
    "CREATE INDEX IF NOT EXISTS execution_results_started_at ON execution_results (started_at)",
    "CREATE INDEX IF NOT EXISTS execution_events_local_id ON execution_order_events (local_id)",
)
CREATE_STATEMENTS: Final = (*_CREATE_TABLES, *_CREATE_INDEXES)
"""The DDL the store applies (idempotent): tables, then (after ALTERs) indexes."""


def _names(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join(name for name, _ in columns)


def _placeholders(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join("?" for _ in columns)


_ORDER_NAMES: Final = _names(_ORDER_COLUMNS)
_RESULT_NAMES: Final = _names(_RESULT_COLUMNS)
_LIVE_IN: Final = ", ".join(f"'{status.value}'" for status in sorted(LIVE_STATUSES))

# SQL below is assembled once, at import, from the constants above (no user input).
_UPSERT_ORDER: Final = (
    f"INSERT INTO execution_orders ({_ORDER_NAMES}) VALUES ({_placeholders(_ORDER_COLUMNS)})"  # noqa: S608
    " ON CONFLICT(local_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name, _ in _ORDER_COLUMNS[1:])
)
_INSERT_EVENT: Final = (
    "INSERT INTO execution_order_events (local_id, at, at_iso, status, event, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_UPSERT_RESULT: Final = (
    f"INSERT INTO execution_results ({_RESULT_NAMES}) VALUES ({_placeholders(_RESULT_COLUMNS)})"  # noqa: S608
    " ON CONFLICT(plan_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name, _ in _RESULT_COLUMNS[1:])
)
_ORDER_EXACT: Final = "json_extract(snapshot_json, '$.created_at')"
_SELECT_ORDERS: Final = f"SELECT {_ORDER_NAMES} FROM execution_orders"  # noqa: S608
_GET_ORDER: Final = f"{_SELECT_ORDERS} WHERE local_id = ?"
_BY_KRAKEN_ID: Final = f"{_SELECT_ORDERS} WHERE kraken_order_id = ? ORDER BY rowid DESC LIMIT 1"
_BY_CLIENT_ID: Final = f"{_SELECT_ORDERS} WHERE client_order_id = ? ORDER BY rowid DESC LIMIT 1"
_LIVE_ORDERS: Final = (
    f"{_SELECT_ORDERS} WHERE status IN ({_LIVE_IN}) ORDER BY created_at, {_ORDER_EXACT}, rowid"
)
_PLAN_ORDERS: Final = (
    f"{_SELECT_ORDERS} WHERE plan_id = ?"
    f" ORDER BY action_index IS NULL, action_index, created_at, {_ORDER_EXACT}, rowid"
)
_RECENT_ORDERS: Final = (
    f"{_SELECT_ORDERS} ORDER BY created_at DESC, {_ORDER_EXACT} DESC, rowid DESC LIMIT ?"
)
_SELECT_RESULTS: Final = f"SELECT {_RESULT_NAMES} FROM execution_results"  # noqa: S608
_GET_RESULT: Final = f"{_SELECT_RESULTS} WHERE plan_id = ?"
_RECENT_RESULTS: Final = (
    f"{_SELECT_RESULTS} ORDER BY started_at DESC,"
    " json_extract(raw_json, '$.started_at') DESC, rowid DESC LIMIT ?"
)
_EVENTS_FOR: Final = (
    "SELECT id, local_id, at_iso, status, event, detail FROM execution_order_events"
    " WHERE local_id = ? ORDER BY id"
)


def _epoch(moment: datetime) -> int:
    return (moment - _EPOCH) // _SECOND


def _opt_epoch(moment: datetime | None) -> int | None:
    return None if moment is None else _epoch(moment)


def _real(amount: Decimal | None) -> float | None:
    return None if amount is None else float(amount)


def _order_row(order: LocalOrder, snapshot: JsonObject) -> tuple[SqlValue, ...]:
    """Parameters for `_UPSERT_ORDER`, in `_ORDER_COLUMNS` order."""
    return (
        order.local_id,
        order.plan_id,
        order.strategy_id,
        order.pair,
        order.side.value,
        order.order_type.value,
        order.kraken_order_id,
        order.userref,
        float(order.requested_base_size),
        _real(order.requested_price),
        order.status.value,
        float(order.cumulative_base_filled),
        _real(order.avg_fill_price),
        _epoch(order.created_at),
        _epoch(order.updated_at),
        order.last_error,
        to_json_text(snapshot["raw_request"]),  # the codec's copy, keys sorted
        order.raw_response_json,
        order.client_order_id,
        float(order.fee),
        float(order.cost),
        order.rest_pair,
        order.time_in_force.value,
        int(order.post_only),
        order.attempts,
        _opt_epoch(order.send_deadline),
        _opt_epoch(order.first_sent_at),
        _opt_epoch(order.cancel_requested_at),
        order.close_reason,
        order.action_index,
        _real(order.reference_price),
        to_json_text(snapshot),
    )


def _event_row(order: LocalOrder, event: str | None, detail: str | None) -> tuple[SqlValue, ...]:
    return (
        order.local_id,
        _epoch(order.updated_at),
        encode_datetime(order.updated_at),
        order.status.value,
        event,
        detail,
    )


def _result_row(result: ExecutionResult, snapshot: JsonObject) -> tuple[SqlValue, ...]:
    """Parameters for `_UPSERT_RESULT`, in `_RESULT_COLUMNS` order."""
    return (
        result.plan_id,
        _epoch(result.started_at),
        _opt_epoch(result.completed_at),
        int(result.success),
        "; ".join(result.errors) or None,
        to_json_text(snapshot),
        to_json_text(list(result.errors)),
        result.mode.value,
        int(result.replayed),
    )


# ---------------------------------------------------------------- reading rows back


def _legacy_real(value: object) -> object:
    return repr(float(value)) if isinstance(value, int | float) else value


def _legacy_time(value: object) -> object:
    if isinstance(value, int | float):
        try:
            return encode_datetime(_EPOCH + timedelta(seconds=value))
        except (OverflowError, ValueError):
            return value
    return value


def _legacy_request(value: object) -> object:
    if not isinstance(value, str):
        return {}
    decoded = from_json_text(value, "raw_request").value_or(None)
    if not isinstance(decoded, Mapping):
        return {"raw": value}
    return {str(k): v if isinstance(v, str) else to_json_text(v) for k, v in decoded.items()}


def _order_from_columns(row: Mapping[str, object]) -> Result[LocalOrder, CodecError]:
    """A row written before ``snapshot_json`` existed (only the contract's columns).

    REAL amounts come back through their shortest float repr; times to the second.
    """
    encoded: dict[str, object] = dict(row)
    for key in (
        "requested_base_size",
        "requested_price",
        "cumulative_base_filled",
        "avg_fill_price",
        "reference_price",
    ):
        encoded[key] = _legacy_real(row[key])
    for key in ("fee", "cost"):
        encoded[key] = _legacy_real(0.0 if row[key] is None else row[key])
    for key in (
        "created_at",
        "updated_at",
        "send_deadline",
        "first_sent_at",
        "cancel_requested_at",
    ):
        encoded[key] = _legacy_time(row[key])
    encoded["raw_request"] = _legacy_request(row["raw_request"])
    encoded["raw_response_json"] = row["raw_response"]
    encoded["time_in_force"] = row["time_in_force"] or "GTC"
    encoded["post_only"] = bool(row["post_only"])
    encoded["attempts"] = row["attempts"] or 0
    return order_from_json(encoded)


def _result_from_columns(row: Mapping[str, object]) -> Result[ExecutionResult, CodecError]:
    """A row written before our columns existed: the summary without orders or skips."""
    summary = row["error_summary"]
    errors: object = [summary] if isinstance(summary, str) and summary else []
    if isinstance(row["errors_json"], str):
        errors = from_json_text(row["errors_json"], "errors").value_or(errors)
    return result_from_json(
        {
            "plan_id": row["plan_id"],
            "started_at": _legacy_time(row["started_at"]),
            "completed_at": _legacy_time(row["completed_at"]),
            "success": bool(row["success"]),
            "orders": [],
            "errors": errors,
            "mode": "paper",
            "skipped": [],
            "replayed": False,
        }
    )


# ---------------------------------------------------------------- SQLite


class SQLiteExecutionStore:
    """`ExecutionStore` in a SQLite file (see the module docstring).

    Opening creates or upgrades the execution tables (unless ``read_only``) and
    raises `StoreError` for any problem that would stop a later write. Usable
    as a context manager; thread-safe.

    Args:
        path: the database file (the application's ``storage.path``).
        synchronous: ``NORMAL`` (survives process crashes) or ``FULL``
            (also survives power loss).
        busy_timeout: seconds to wait for another connection's lock before
            giving up with "locked by another process".
        read_only: open with SQLite's ``mode=ro`` for inspection: nothing is
            created or migrated, and every write raises `StoreError`.
        connection_factory: sqlite3's ``factory`` hook (a `sqlite3.Connection`
            subclass); tests use it to record every statement.

    Attributes:
        path: the database file, as given.
        read_only: whether writes are refused.
        journal_mode: SQLite's journal mode once open (``wal`` for writing; a
            filesystem without shared-memory support may keep ``delete``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "NORMAL",
        busy_timeout: float = 5.0,
        read_only: bool = False,
        connection_factory: type[sqlite3.Connection] = sqlite3.Connection,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
        self.path = os.fspath(path)
        self.read_only = read_only
        self.journal_mode = "unknown"
        self._busy_timeout = busy_timeout
        self._lock = threading.RLock()
        _check_location(Path(self.path), read_only=read_only)
        try:
            conn = _connect(Path(self.path), busy_timeout, read_only, connection_factory)
        except sqlite3.Error as error:
            raise self._error(error, "opening") from error
        try:
            self._prepare(conn, synchronous)
        except BaseException as error:
            conn.close()
            if isinstance(error, sqlite3.Error):
                raise self._error(error, "opening") from error
            raise
        self._conn: sqlite3.Connection | None = conn

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "NORMAL",
        busy_timeout: float = 5.0,
        read_only: bool = False,
        connection_factory: type[sqlite3.Connection] = sqlite3.Connection,
    ) -> Self:
        """Same as the constructor."""
        return cls(
            path,
            synchronous=synchronous,
            busy_timeout=busy_timeout,
            read_only=read_only,
            connection_factory=connection_factory,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL). Closing twice is fine."""
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                conn.close()

    # ------------------------------------------------------------ opening

    def _prepare(self, conn: sqlite3.Connection, synchronous: Synchronous) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if self.read_only:
            (self.journal_mode,) = conn.execute("PRAGMA journal_mode").fetchone()
            self._check_schema(conn, self._read_version(conn))
            return
        (self.journal_mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._migrate(conn)
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    def _read_version(self, conn: sqlite3.Connection) -> int | None:
        if "schema_version" not in _table_names(conn):
            return None
        (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        if version is None or (isinstance(version, int) and not isinstance(version, bool)):
            return version
        raise StoreError(
            f"{self.path}: schema_version holds {version!r}, not an integer version",
            path=self.path,
        )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = self._read_version(conn)
        if version is not None and version > SCHEMA_VERSION:
            self._check_schema(conn, version)
        else:
            for statement in _CREATE_TABLES:
                conn.execute(statement)
            for table, columns in _TABLES:
                _add_missing_columns(conn, table, columns)
            self._check_schema(conn, version)
            for statement in _CREATE_INDEXES:
                conn.execute(statement)
            if version is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif version < SCHEMA_VERSION:
                conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        # A real write: fails now, not at the first order, when the file cannot be written.
        conn.execute("UPDATE schema_version SET version = version")

    def _check_schema(self, conn: sqlite3.Connection, version: int | None) -> None:
        gaps = _schema_gaps(conn)
        if not gaps:
            return
        listed = "; ".join(gaps)
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this version of "
                f"krakked understands ({SCHEMA_VERSION}), and its execution tables would "
                f"need changes: {listed}. Upgrade krakked or use another database file",
                path=self.path,
            )
        if self.read_only:
            raise StoreError(
                f"{self.path} has no usable execution records ({listed}); "
                "open it once for writing to create or upgrade them",
                path=self.path,
            )
        raise StoreError(
            f"{self.path} has execution tables this version cannot use: {listed}",
            path=self.path,
        )

    # ------------------------------------------------------------ plumbing

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the execution store is closed", path=self.path)
        return self._conn

    def _error(self, error: sqlite3.Error, doing: str) -> StoreError:
        return StoreError(_describe(self.path, error, doing, self._busy_timeout), path=self.path)

    def _write(self, doing: str, work: Callable[[sqlite3.Connection], None]) -> None:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    work(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    _rollback(conn)
                    raise
            except sqlite3.Error as error:
                raise self._error(error, doing) from error

    def _rows(self, doing: str, sql: str, params: tuple[SqlValue, ...]) -> list[tuple[object, ...]]:
        with self._lock:
            conn = self._connection()
            try:
                rows: list[tuple[object, ...]] = conn.execute(sql, params).fetchall()
            except sqlite3.Error as error:
                raise self._error(error, doing) from error
        return rows

    def _orders(self, doing: str, sql: str, params: tuple[SqlValue, ...]) -> list[LocalOrder]:
        return [self._decode_order(row) for row in self._rows(doing, sql, params)]

    def _decode_order(self, row: tuple[object, ...]) -> LocalOrder:
        values = dict(zip((name for name, _ in _ORDER_COLUMNS), row, strict=True))
        snapshot = values["snapshot_json"]
        if isinstance(snapshot, str):
            decoded = from_json_text(snapshot, "order").bind(order_from_json)
        else:
            decoded = _order_from_columns(values)
        return self._unwrap(decoded, f"order {values['local_id']}")

    def _decode_result(self, row: tuple[object, ...]) -> ExecutionResult:
        values = dict(zip((name for name, _ in _RESULT_COLUMNS), row, strict=True))
        raw = values["raw_json"]
        if values["mode"] is not None and isinstance(raw, str):
            decoded = from_json_text(raw, "result").bind(result_from_json)
        else:
            decoded = _result_from_columns(values)
        return self._unwrap(decoded, f"result {values['plan_id']}")

    def _unwrap(self, decoded: Result[_T, CodecError], what: str) -> _T:
        if is_successful(decoded):
            return decoded.unwrap()
        raise StoreError(
            f"{self.path}: {what} cannot be read back: {decoded.failure()}", path=self.path
        )

    # ------------------------------------------------------------ writes

    def save_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> None:
        """Upsert the order's snapshot and append one audit row, in one transaction."""
        row = _order_row(order, _order_snapshot(order))
        audit = _event_row(order, event, detail)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(_UPSERT_ORDER, row)
            conn.execute(_INSERT_EVENT, audit)

        self._write(f"saving order {order.local_id}", work)

    def save_orders(self, orders: Sequence[LocalOrder], *, event: str | None = None) -> None:
        """`save_order` for many orders (in sequence order), all in one transaction."""
        rows = [_order_row(order, _order_snapshot(order)) for order in orders]
        audits = [_event_row(order, event, None) for order in orders]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(_UPSERT_ORDER, rows)
            conn.executemany(_INSERT_EVENT, audits)

        self._write(f"saving {len(rows)} orders", work)

    def save_result(self, result: ExecutionResult) -> None:
        """Upsert a plan's result; ``raw_json`` holds all of it, orders and skips included."""
        row = _result_row(result, _result_snapshot(result))

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(_UPSERT_RESULT, row)

        self._write(f"saving result {result.plan_id}", work)

    # ------------------------------------------------------------ reads

    def get_order(self, local_id: str) -> LocalOrder | None:
        """The latest snapshot of an order."""
        return next(iter(self._orders("reading an order", _GET_ORDER, (local_id,))), None)

    def find_by_kraken_id(self, txid: str) -> LocalOrder | None:
        """The order with this Kraken txid (the newest, if several)."""
        return next(iter(self._orders("reading an order", _BY_KRAKEN_ID, (txid,))), None)

    def find_by_client_order_id(self, cl_ord_id: str) -> LocalOrder | None:
        """The order with this client order id (the newest, if several)."""
        return next(iter(self._orders("reading an order", _BY_CLIENT_ID, (cl_ord_id,))), None)

    def live_orders(self) -> list[LocalOrder]:
        """Orders whose status is in `LIVE_STATUSES`, oldest first (uses the status index)."""
        return self._orders("reading live orders", _LIVE_ORDERS, ())

    def orders_for_plan(self, plan_id: str) -> list[LocalOrder]:
        """A plan's orders in action order (orders without one last), then creation time."""
        return self._orders("reading a plan's orders", _PLAN_ORDERS, (plan_id,))

    def recent_orders(self, limit: int = 50) -> list[LocalOrder]:
        """The ``limit`` most recently created orders, newest first."""
        _check_limit(limit)
        return self._orders("reading recent orders", _RECENT_ORDERS, (limit,))

    def get_result(self, plan_id: str) -> ExecutionResult | None:
        """A plan's result as it was last saved."""
        rows = self._rows("reading a result", _GET_RESULT, (plan_id,))
        return self._decode_result(rows[0]) if rows else None

    def recent_results(self, limit: int = 50) -> list[ExecutionResult]:
        """The ``limit`` most recently started results, newest first."""
        _check_limit(limit)
        rows = self._rows("reading recent results", _RECENT_RESULTS, (limit,))
        return [self._decode_result(row) for row in rows]

    def events_for(self, local_id: str) -> list[OrderEventRecord]:
        """An order's audit trail, oldest first."""
        rows = self._rows("reading an order's events", _EVENTS_FOR, (local_id,))
        return [self._decode_event(row) for row in rows]

    def _decode_event(self, row: tuple[object, ...]) -> OrderEventRecord:
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
            raise StoreError(f"{self.path}: event row {event_id!r} is malformed", path=self.path)
        return OrderEventRecord(
            id=event_id,
            local_id=local_id,
            at=at,
            status=OrderStatus(str(status)),
            event=event,
            detail=detail,
        )


def _check_location(path: Path, *, read_only: bool) -> None:
    where = str(path)
    if path.is_dir():
        raise StoreError(f"{where} is a directory, not a SQLite database file", path=where)
    parent = path.absolute().parent
    if not parent.is_dir():
        raise StoreError(
            f"{where}: directory {parent} does not exist (create it, or fix storage.path)",
            path=where,
        )
    if read_only:
        if not path.exists():
            raise StoreError(f"{where} does not exist: no execution records to inspect", path=where)
        return
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(
            f"{where} is read-only: execution records cannot be written (the file is not writable)",
            path=where,
        )
    if not os.access(parent, os.W_OK):
        raise StoreError(
            f"{where} is read-only: execution records cannot be written "
            f"(directory {parent} is not writable; SQLite creates its -wal and -shm files there)",
            path=where,
        )


def _connect(
    path: Path, busy_timeout: float, read_only: bool, factory: type[sqlite3.Connection]
) -> sqlite3.Connection:
    target = f"{path.absolute().as_uri()}?mode=ro" if read_only else str(path)
    return sqlite3.connect(
        target,
        timeout=busy_timeout,
        isolation_level=None,
        check_same_thread=False,
        uri=read_only,
        factory=factory,
    )


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _describe(path: str, error: sqlite3.Error, doing: str, busy_timeout: float) -> str:
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_NOTADB:
        return f"{path} is not a SQLite database ({error})"
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return (
            f"{path} is locked by another process (still busy after {busy_timeout:g} s "
            f"while {doing})"
        )
    if primary == sqlite3.SQLITE_READONLY:
        return f"{path} is read-only: execution records cannot be written ({error})"
    if primary == sqlite3.SQLITE_CANTOPEN:
        return f"{path} cannot be opened ({error})"
    if primary == sqlite3.SQLITE_FULL:
        return f"{path}: the disk is full while {doing} ({error})"
    if primary == sqlite3.SQLITE_CORRUPT:
        return f"{path} is corrupt ({error})"
    return f"{path}: {doing} failed ({error})"


def _table_names(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(name) for (name,) in rows}


def _table_info(conn: sqlite3.Connection, table: str) -> dict[str, tuple[int, object, int]]:
    """Column name -> (notnull, default, pk) for a table; empty when it does not exist."""
    rows = conn.execute(
        'SELECT name, "notnull", dflt_value, pk FROM pragma_table_info(?)', (table,)
    )
    return {str(name): (int(notnull), default, int(pk)) for name, notnull, default, pk in rows}


def _add_missing_columns(
    conn: sqlite3.Connection, table: str, columns: Sequence[tuple[str, str]]
) -> None:
    have = _table_info(conn, table)
    for name, decl in columns:
        if name in have or "PRIMARY KEY" in decl:
            continue
        if "NOT NULL" in decl and "DEFAULT" not in decl:
            decl = decl.replace(" NOT NULL", "")  # noqa: PLW2901 - SQLite cannot add it NOT NULL
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")


def _schema_gaps(conn: sqlite3.Connection) -> list[str]:
    """What stops this code from using the execution tables as they are."""
    gaps: list[str] = []
    for table, columns in _TABLES:
        have = _table_info(conn, table)
        if not have:
            gaps.append(f"table {table} is missing")
            continue
        wanted = {name for name, _ in columns}
        missing = [name for name, _ in columns if name not in have]
        if missing:
            gaps.append(f"{table} lacks column(s) {', '.join(missing)}")
        key = columns[0][0]
        if have.get(key, (0, None, 0))[2] != 1:
            gaps.append(f"{table}.{key} is not the primary key")
        required = [
            name
            for name, (notnull, default, pk) in have.items()
            if name not in wanted and notnull and default is None and not pk
        ]
        if required:
            gaps.append(
                f"{table} has required column(s) this version cannot fill: {', '.join(required)}"
            )
    return gaps


# ---------------------------------------------------------------- in memory


def _round_trip(decoded: Result[_T, CodecError]) -> _T:
    if is_successful(decoded):
        return decoded.unwrap()
    raise StoreError(f"record cannot be stored: {decoded.failure()}")


class InMemoryExecutionStore:
    """`ExecutionStore` over dicts, behaving like `SQLiteExecutionStore` (a fake).

    Each record is stored as the codec's round trip of what was saved, so it
    comes back exactly as the SQLite store would return it; ordering, the
    secret check, validation and closing behave the same. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._orders: dict[str, tuple[int, LocalOrder]] = {}
        self._results: dict[str, tuple[int, ExecutionResult]] = {}
        self._events: dict[str, list[OrderEventRecord]] = {}
        self._next_row = 0
        self._next_event = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Mark the store closed; later calls raise `StoreError`."""
        with self._lock:
            self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("in-memory execution store is closed")

    def _row_id(self, existing: tuple[int, object] | None) -> int:
        if existing is not None:
            return existing[0]
        self._next_row += 1
        return self._next_row

    def _put(self, snapshot: JsonObject, event: str | None, detail: str | None) -> None:
        stored = _round_trip(order_from_json(snapshot))
        self._orders[stored.local_id] = (self._row_id(self._orders.get(stored.local_id)), stored)
        self._next_event += 1
        record = OrderEventRecord(
            id=self._next_event,
            local_id=stored.local_id,
            at=stored.updated_at,
            status=stored.status,
            event=event,
            detail=detail,
        )
        self._events.setdefault(stored.local_id, []).append(record)

    def save_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> None:
        """Store the order's snapshot and append one audit row."""
        snapshot = _order_snapshot(order)
        with self._lock:
            self._check_open()
            self._put(snapshot, event, detail)

    def save_orders(self, orders: Sequence[LocalOrder], *, event: str | None = None) -> None:
        """`save_order` for many orders: all stored, or none when one is invalid."""
        snapshots = [_order_snapshot(order) for order in orders]
        with self._lock:
            self._check_open()
            for snapshot in snapshots:
                self._put(snapshot, event, None)

    def save_result(self, result: ExecutionResult) -> None:
        """Store a plan's result (replacing an earlier one for the same plan)."""
        stored = _round_trip(result_from_json(_result_snapshot(result)))
        with self._lock:
            self._check_open()
            row = self._row_id(self._results.get(stored.plan_id))
            self._results[stored.plan_id] = (row, stored)

    def _all_orders(self) -> list[tuple[int, LocalOrder]]:
        with self._lock:
            self._check_open()
            return list(self._orders.values())

    def get_order(self, local_id: str) -> LocalOrder | None:
        """The latest snapshot of an order."""
        with self._lock:
            self._check_open()
            found = self._orders.get(local_id)
        return None if found is None else found[1]

    def _newest(self, matches: Callable[[LocalOrder], bool]) -> LocalOrder | None:
        found = [(row, order) for row, order in self._all_orders() if matches(order)]
        return max(found, key=lambda item: item[0])[1] if found else None

    def find_by_kraken_id(self, txid: str) -> LocalOrder | None:
        """The order with this Kraken txid (the newest, if several)."""
        return self._newest(lambda order: order.kraken_order_id == txid)

    def find_by_client_order_id(self, cl_ord_id: str) -> LocalOrder | None:
        """The order with this client order id (the newest, if several)."""
        return self._newest(lambda order: order.client_order_id == cl_ord_id)

    def live_orders(self) -> list[LocalOrder]:
        """Orders whose status is in `LIVE_STATUSES`, oldest first."""
        rows = [(row, o) for row, o in self._all_orders() if o.status in LIVE_STATUSES]
        return [o for row, o in sorted(rows, key=lambda item: (item[1].created_at, item[0]))]

    def orders_for_plan(self, plan_id: str) -> list[LocalOrder]:
        """A plan's orders in action order (orders without one last), then creation time."""
        rows = [(row, o) for row, o in self._all_orders() if o.plan_id == plan_id]

        def key(item: tuple[int, LocalOrder]) -> tuple[bool, int, datetime, int]:
            row, order = item
            index = order.action_index
            return (index is None, index or 0, order.created_at, row)

        return [order for _, order in sorted(rows, key=key)]

    def recent_orders(self, limit: int = 50) -> list[LocalOrder]:
        """The ``limit`` most recently created orders, newest first."""
        _check_limit(limit)
        rows = sorted(self._all_orders(), key=lambda item: (item[1].created_at, item[0]))
        return [order for _, order in reversed(rows[-limit:])] if limit else []

    def get_result(self, plan_id: str) -> ExecutionResult | None:
        """A plan's result as it was last saved."""
        with self._lock:
            self._check_open()
            found = self._results.get(plan_id)
        return None if found is None else found[1]

    def recent_results(self, limit: int = 50) -> list[ExecutionResult]:
        """The ``limit`` most recently started results, newest first."""
        _check_limit(limit)
        with self._lock:
            self._check_open()
            rows = list(self._results.values())
        rows.sort(key=lambda item: (item[1].started_at, item[0]))
        return [result for _, result in reversed(rows[-limit:])] if limit else []

    def events_for(self, local_id: str) -> list[OrderEventRecord]:
        """An order's audit trail, oldest first."""
        with self._lock:
            self._check_open()
            return list(self._events.get(local_id, ()))
