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
* Compare-and-set: every row has a ``version``; `ExecutionStore.update_order`
  writes a new state only onto the version it was folded from, so two
  processes on one database never overwrite each other's changes.
* A row that cannot be read back is quarantined (its reason kept in the
  ``quarantine`` column) and left out of every read instead of stopping it.
* Tables: the contract's ``execution_orders`` and ``execution_results``
  (section 9) with extra columns, ``execution_order_events`` (the audit trail)
  and ``schema_version`` (set to `SCHEMA_VERSION`). Timestamp columns hold
  **UTC epoch seconds** (INTEGER, floored); exact times and amounts live in
  ``snapshot_json`` / ``raw_json`` / ``at_iso`` (see `kraken_bot.execution.core.codec`),
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

This module is the port; the implementations live in the private package
``kraken_bot.execution.shell._store``: ``schema`` (the schema upgrade), ``migration``
(rows of older formats rewritten once, at opening), ``connection`` (the SQLite file
and its errors), ``sqlite`` and ``memory``. Their pure half is
``kraken_bot.execution.core._store``: ``tables`` (columns and DDL), ``rows`` (records
to and from SQL rows), ``records`` (the audit record and the checks both stores apply)
and ``legacy`` (rows of older formats rebuilt).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kraken_bot.execution.core._store.records import OrderEventRecord, is_secret_key
from kraken_bot.execution.core._store.rows import SqlValue
from kraken_bot.execution.core.codec import JsonObject, encode_datetime
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder
from kraken_bot.execution.shell._store.memory import InMemoryExecutionStore
from kraken_bot.execution.shell._store.schema import CREATE_STATEMENTS, SCHEMA_VERSION
from kraken_bot.execution.shell._store.sqlite import SQLiteExecutionStore, Synchronous

__all__ = [
    "CREATE_STATEMENTS",
    "SCHEMA_VERSION",
    "ExecutionStore",
    "InMemoryExecutionStore",
    "OrderEventRecord",
    "SQLiteExecutionStore",
    "SqlValue",
    "Synchronous",
    "event_to_json",
    "is_secret_key",
]


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

    def update_order(
        self,
        order: LocalOrder,
        *,
        expected_version: int,
        event: str | None = None,
        detail: str | None = None,
        linking: bool = True,
    ) -> int | None:
        """Compare-and-set: write ``order`` only if its row is still at ``expected_version``.

        Returns the new version, or None when another writer changed the row first, or
        there is no row (nothing is written then). ``linking``: the write may give the
        order a txid it did not have, so the txid's ownership is checked with the write,
        atomically, before the version (`TxidTakenError` when another order owns it).
        """
        ...

    def adopt_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> bool:
        """Insert a new record (over a quarantined row only); False when one exists."""
        ...

    def get_versioned(self, local_id: str) -> tuple[LocalOrder, int] | None:
        """An order's latest snapshot and its version."""
        ...

    def live_versioned(self) -> list[tuple[LocalOrder, int]]:
        """`live_orders`, each with its version."""
        ...

    def quarantined(self) -> dict[str, str]:
        """Order rows that could not be read back (left out of every read): local id -> why."""
        ...

    def userrefs(self) -> frozenset[int]:
        """Every userref on a stored order."""
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
        """Orders whose status is in `TRACKED_STATUSES` (live, and ``unknown``), oldest first."""
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

    def trails(self) -> dict[str, list[OrderEventRecord]]:
        """Every order's audit trail (oldest first), by local id, read at once."""
        ...

    def note_event(
        self, order: LocalOrder, event: str, detail: str | None, *, at: datetime
    ) -> None:
        """Append one audit row for ``order`` as it stands (its snapshot is not rewritten):
        what is about to be attempted (an amend, before it is sent)."""
        ...

    def status_counts(self) -> dict[str, int]:
        """How many orders are in each status (``krakked status``)."""
        ...

    def close(self) -> None:
        """Release the store; later calls raise `StoreError`. Closing twice is fine."""
        ...
