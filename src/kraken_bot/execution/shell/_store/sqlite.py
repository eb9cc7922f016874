"""The SQLite execution store: one connection, one lock, one transaction per call.

Opening checks the location, connects (`kraken_bot.execution.shell._store.connection`),
sets the pragmas and, unless read-only, migrates the schema
(`kraken_bot.execution.shell._store.schema`) and rewrites rows of older formats
(`kraken_bot.execution.shell._store.migration`) in one ``BEGIN IMMEDIATE`` transaction
that also proves the file is writable. Every write is ``BEGIN IMMEDIATE`` ...
``COMMIT``, rolled back on any error; every `sqlite3.Error` becomes a
`StoreError` whose message names the file and says in words what went wrong.
The statements, and the rows bound to them and read back, are in
`kraken_bot.execution.core._store.rows`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeAlias

from kraken_bot._closing import Closing
from kraken_bot._memo import remember
from kraken_bot.execution.core._store.records import (
    OrderEventRecord,
    check_limit,
    order_snapshot,
    result_snapshot,
)
from kraken_bot.execution.core._store.rows import (
    ADOPT_ORDER,
    ALL_EVENTS,
    BY_CLIENT_ID,
    BY_KRAKEN_ID,
    CAS_ORDER,
    EVENTS_FOR,
    GET_ORDER,
    GET_RESULT,
    INSERT_EVENT,
    LINKED_TXID,
    LIVE_ORDERS,
    NOTE_EVENT,
    OTHER_OWNER,
    PLAN_ORDERS,
    QUARANTINE_BROKEN_JSON,
    QUARANTINE_ORDER,
    QUARANTINED,
    RECENT_ORDERS,
    RECENT_RESULTS,
    UPSERT_ORDER,
    UPSERT_RESULT,
    USERREFS,
    SqlValue,
    cas_row,
    decode_event,
    decode_result,
    decode_versioned,
    event_row,
    order_row,
    result_row,
    row_id,
)
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder
from kraken_bot.execution.exceptions import StoreError, TxidTakenError
from kraken_bot.execution.shell._store.connection import (
    check_location,
    connect,
    describe,
    enter_wal,
    rollback,
)
from kraken_bot.execution.shell._store.migration import count_old_rows, rewrite_old_rows
from kraken_bot.execution.shell._store.schema import (
    SCHEMA_VERSION,
    check_schema,
    read_version,
    upgrade_tables,
)

Synchronous: TypeAlias = Literal["NORMAL", "FULL"]
"""SQLite's ``synchronous`` pragma as the store allows it (see `SQLiteExecutionStore`)."""

"""How many decoded rows a store remembers (see `SQLiteExecutionStore._decode`)."""


class SQLiteExecutionStore(Closing):
    """`ExecutionStore` in a SQLite file (see `kraken_bot.execution.shell.store`).

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
        self._quarantined: dict[str, str] = {}
        # local id -> (the row as last read, its decoding): a row read again unchanged (the
        # same version and the same bytes) is not decoded again. Orders are immutable
        # values, so sharing one is safe; see `_decode`.
        self._decoded: dict[str, tuple[tuple[object, ...], tuple[LocalOrder, int]]] = {}
        check_location(Path(self.path), read_only=read_only)
        try:
            conn = connect(Path(self.path), busy_timeout, read_only, connection_factory)
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

    def backup_to(self, path: str | os.PathLike[str]) -> None:
        """Copy the whole database, consistently, into the file ``path`` (replaced).

        Safe while the store is in use: SQLite's online backup, under the store's lock,
        into a temporary file beside ``path`` that then replaces it (with any journal it
        had), so a reader never sees half a copy.
        """
        final = Path(path)
        temporary = final.with_name(f".{final.name}.{os.getpid()}.backup")
        with self._lock:
            conn = self._connection()
            try:
                target = sqlite3.connect(temporary)
                try:
                    conn.backup(target)
                finally:
                    target.close()
            except sqlite3.Error as error:
                temporary.unlink(missing_ok=True)
                raise self._error(error, f"backing up to {final}") from error
            for suffix in ("-wal", "-shm", "-journal"):
                final.with_name(final.name + suffix).unlink(missing_ok=True)
            temporary.replace(final)

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
            version = read_version(conn, self.path)
            check_schema(conn, version, path=self.path, read_only=True)
            if version is not None and version <= SCHEMA_VERSION and count_old_rows(conn):
                raise StoreError(
                    f"{self.path} holds execution rows in an older format; open it once for"
                    " writing to migrate them",
                    path=self.path,
                )
            return
        self.journal_mode = enter_wal(conn, self._busy_timeout)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            # One transaction: the schema, the old rows rewritten, the broken rows set aside.
            if upgrade_tables(conn, self.path) <= SCHEMA_VERSION:
                rewrite_old_rows(conn, self.path)
            conn.execute(QUARANTINE_BROKEN_JSON)
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise

    # ------------------------------------------------------------ plumbing

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the execution store is closed", path=self.path)
        return self._conn

    def _error(self, error: sqlite3.Error, doing: str) -> StoreError:
        return StoreError(describe(self.path, error, doing, self._busy_timeout), path=self.path)

    def _write(self, doing: str, work: Callable[[sqlite3.Connection], None]) -> None:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    work(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    rollback(conn)
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
        return [order for order, _ in self._versioned(doing, sql, params)]

    def _versioned(
        self, doing: str, sql: str, params: tuple[SqlValue, ...]
    ) -> list[tuple[LocalOrder, int]]:
        """Decode the rows; a row that cannot be read back is quarantined and left out."""
        decoded: list[tuple[LocalOrder, int]] = []
        for row in self._rows(doing, sql, params):
            try:
                decoded.append(self._decode(row))
            except StoreError as error:
                self._quarantine(row_id(row), error.message)
        return decoded

    def _decode(self, row: tuple[object, ...]) -> tuple[LocalOrder, int]:
        """`decode_versioned`, remembered per order: the service reads its live orders
        again and again (every reconciliation, every supervision tick) and most come back
        as they were, so an unchanged row (equal in every column, the version among them)
        gives the order decoded the last time. At most `_memo.KEPT` rows are kept."""
        local_id = row_id(row)
        kept = self._decoded.get(local_id)
        if kept is not None and kept[0] == row:
            return kept[1]
        decoded = decode_versioned(row, self.path)
        remember(self._decoded, local_id, (row, decoded))
        return decoded

    def _quarantine(self, local_id: str, reason: str) -> None:
        """Set a row that cannot be read aside: it no longer stops any read (the kill switch,
        start-up, reconciliation of the other orders); an exchange order carrying its id
        rewrites it (see `adopt_order`)."""
        with self._lock:
            self._quarantined[local_id] = reason
        if self.read_only:
            return

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(QUARANTINE_ORDER, (reason[:2000], local_id))

        # Still reported through `quarantined` if this write fails; the next read tries again.
        with contextlib.suppress(StoreError):
            self._write(f"quarantining order {local_id}", work)

    def quarantined(self) -> dict[str, str]:
        """Rows that could not be read back: local id -> why (this store's and earlier ones)."""
        rows = self._rows("reading quarantined orders", QUARANTINED, ())
        rows.sort(key=lambda row: int(str(row[0])))
        found = {str(local_id): str(reason) for _, local_id, reason in rows}
        with self._lock:
            return {**self._quarantined, **found}

    # ------------------------------------------------------------ writes

    def save_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> None:
        """Upsert the order's snapshot and append one audit row, in one transaction."""
        row = order_row(order, order_snapshot(order))
        audit = event_row(order, event, detail)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(UPSERT_ORDER, row)
            conn.execute(INSERT_EVENT, audit)

        self._write(f"saving order {order.local_id}", work)

    def save_orders(self, orders: Sequence[LocalOrder], *, event: str | None = None) -> None:
        """`save_order` for many orders (in sequence order), all in one transaction."""
        rows = [order_row(order, order_snapshot(order)) for order in orders]
        audits = [event_row(order, event, None) for order in orders]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(UPSERT_ORDER, rows)
            conn.executemany(INSERT_EVENT, audits)

        self._write(f"saving {len(rows)} orders", work)

    def update_order(
        self,
        order: LocalOrder,
        *,
        expected_version: int,
        event: str | None = None,
        detail: str | None = None,
        linking: bool = True,
    ) -> int | None:
        """`ExecutionStore.update_order`: the txid check, the versioned write and its audit
        row in one transaction."""
        row = order_row(order, order_snapshot(order))
        audit = event_row(order, event, detail)
        written: list[int] = []

        def work(conn: sqlite3.Connection) -> None:
            if linking:
                _refuse_a_taken_txid(conn, order, self.path)
            if conn.execute(CAS_ORDER, cas_row(row, expected_version)).rowcount == 1:
                conn.execute(INSERT_EVENT, audit)
                written.append(expected_version + 1)

        self._write(f"saving order {order.local_id}", work)
        return written[0] if written else None

    def note_event(
        self, order: LocalOrder, event: str, detail: str | None, *, at: datetime
    ) -> None:
        """One audit row for ``order``, in its own transaction, with the status its row has
        at that moment (another writer may have moved it since ``order`` was read)."""
        local_id, epoch, at_iso, _, _, _ = event_row(replace(order, updated_at=at), event, detail)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(NOTE_EVENT, (epoch, at_iso, event, detail, local_id))

        self._write(f"recording {event} of order {order.local_id}", work)

    def adopt_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> bool:
        """Insert a record for an exchange order no local order owned.

        Over an existing row only when that row was quarantined (unreadable): the
        exchange's copy then repairs it. False when a readable row already exists.
        """
        row = order_row(order, order_snapshot(order))
        audit = event_row(order, event, detail)
        written: list[bool] = []

        def work(conn: sqlite3.Connection) -> None:
            _refuse_a_taken_txid(conn, order, self.path)
            if conn.execute(ADOPT_ORDER, row).rowcount == 1:
                conn.execute(INSERT_EVENT, audit)
                written.append(True)

        try:
            self._write(f"adopting order {order.local_id}", work)
        except TxidTakenError:
            return False  # its txid was linked by another process a moment ago
        if written:
            with self._lock:
                self._quarantined.pop(order.local_id, None)
        return bool(written)

    def save_result(self, result: ExecutionResult) -> None:
        """Upsert a plan's result; ``raw_json`` holds all of it, orders and skips included."""
        row = result_row(result, result_snapshot(result))

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(UPSERT_RESULT, row)

        self._write(f"saving result {result.plan_id}", work)

    # ------------------------------------------------------------ reads

    def get_order(self, local_id: str) -> LocalOrder | None:
        """The latest snapshot of an order."""
        return next(iter(self._orders("reading an order", GET_ORDER, (local_id,))), None)

    def userrefs(self) -> frozenset[int]:
        """Every userref this layer ever sent (so an exchange order carrying one is ours)."""
        rows = self._rows("reading userrefs", USERREFS, ())
        return frozenset(int(ref) for (ref,) in rows if isinstance(ref, int) and ref)

    def get_versioned(self, local_id: str) -> tuple[LocalOrder, int] | None:
        """The latest snapshot of an order and its row version (for compare-and-set)."""
        return next(iter(self._versioned("reading an order", GET_ORDER, (local_id,))), None)

    def live_versioned(self) -> list[tuple[LocalOrder, int]]:
        """`live_orders` with each row's version."""
        return self._versioned("reading live orders", LIVE_ORDERS, ())

    def find_by_kraken_id(self, txid: str) -> LocalOrder | None:
        """The order with this Kraken txid (the newest, if several)."""
        return next(iter(self._orders("reading an order", BY_KRAKEN_ID, (txid,))), None)

    def find_by_client_order_id(self, cl_ord_id: str) -> LocalOrder | None:
        """The order with this client order id (the newest, if several)."""
        return next(iter(self._orders("reading an order", BY_CLIENT_ID, (cl_ord_id,))), None)

    def live_orders(self) -> list[LocalOrder]:
        """Orders whose status is in `TRACKED_STATUSES` (live, and ``unknown``), oldest first."""
        return self._orders("reading live orders", LIVE_ORDERS, ())

    def orders_for_plan(self, plan_id: str) -> list[LocalOrder]:
        """A plan's orders in action order (orders without one last), then creation time."""
        return self._orders("reading a plan's orders", PLAN_ORDERS, (plan_id,))

    def status_counts(self) -> dict[str, int]:
        """How many orders are in each status (``krakked status``)."""
        rows = self._rows(
            "counting orders", "SELECT status, COUNT(*) FROM execution_orders GROUP BY status", ()
        )
        return {str(status): int(str(count)) for status, count in rows}

    def recent_orders(self, limit: int = 50) -> list[LocalOrder]:
        """The ``limit`` most recently created orders, newest first."""
        check_limit(limit)
        return self._orders("reading recent orders", RECENT_ORDERS, (limit,))

    def get_result(self, plan_id: str) -> ExecutionResult | None:
        """A plan's result as it was last saved."""
        rows = self._rows("reading a result", GET_RESULT, (plan_id,))
        return decode_result(rows[0], self.path) if rows else None

    def recent_results(self, limit: int = 50) -> list[ExecutionResult]:
        """The ``limit`` most recently started results, newest first."""
        check_limit(limit)
        rows = self._rows("reading recent results", RECENT_RESULTS, (limit,))
        return [decode_result(row, self.path) for row in rows]

    def events_for(self, local_id: str) -> list[OrderEventRecord]:
        """An order's audit trail, oldest first."""
        rows = self._rows("reading an order's events", EVENTS_FOR, (local_id,))
        return [decode_event(row, self.path) for row in rows]

    def trails(self) -> dict[str, list[OrderEventRecord]]:
        """Every order's audit trail (oldest first), by local id, read at once."""
        found: dict[str, list[OrderEventRecord]] = {}
        for row in self._rows("reading the audit trails", ALL_EVENTS, ()):
            event = decode_event(row, self.path)
            found.setdefault(event.local_id, []).append(event)
        return found


def _refuse_a_taken_txid(conn: sqlite3.Connection, order: LocalOrder, path: str) -> None:
    """Inside the write transaction (so across processes): a txid newly linked to ``order``
    must not belong to another local order. Rows linked before are left as they are."""
    txid = order.kraken_order_id
    if txid is None:
        return
    linked = conn.execute(LINKED_TXID, (order.local_id,)).fetchone()
    if linked is not None and linked[0] == txid:
        return
    other = conn.execute(OTHER_OWNER, (txid, order.local_id)).fetchone()
    if other is not None:
        raise TxidTakenError(f"txid {txid} is owned by order {other[0]}", path=path)
