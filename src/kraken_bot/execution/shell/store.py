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

`InMemoryExecutionStore` behaves the same over a value (it stores the codec's
round trip of each record, so it normalises exactly as SQLite does; a stateful
test compares every read of the two); tests and dry runs use it.

The port, `ExecutionStore`, is defined by the core (`kraken_bot.execution.core.ports`);
this module gathers it and its implementations, which live in the private package
``kraken_bot.execution.shell._store``: ``schema`` (the schema upgrade), ``migration``
(rows of older formats rewritten once, at opening), ``connection`` (the SQLite file
and its errors), ``sqlite`` and ``memory``. Their pure half is
``kraken_bot.execution.core._store``: ``tables`` (columns and DDL), ``rows`` (records
to and from SQL rows), ``records`` (the audit record and the checks both stores apply)
``legacy`` (rows of older formats rebuilt) and ``model`` (the in-memory store's records
and rules, as a value).
"""

from __future__ import annotations

from kraken_bot.execution.core._store.records import OrderEventRecord, event_to_json, is_secret_key
from kraken_bot.execution.core._store.rows import SqlValue
from kraken_bot.execution.core.ports import ExecutionStore
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
