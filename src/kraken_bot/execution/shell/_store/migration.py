"""Rewriting rows of the older formats into the current one, once, when a file is opened.

Two older formats exist, both from before the exact JSON columns:

* an order row whose ``snapshot_json`` is not text: it holds the contract's columns
  (section 9) and ours as ``ALTER TABLE`` left them (empty);
* a result row without ``mode``, or whose ``raw_json`` is not our text: the
  contract's columns only (``raw_json`` was the contract's free-form debug text).

`rewrite_old_rows` runs inside the transaction that opens the file for writing
(`kraken_bot.execution.shell._store.sqlite`), after `kraken_bot.execution.shell._store.schema`
has added the columns and recorded the schema version: every old row is rebuilt
from its columns as well as they allow, through the codec (so it is validated like
any record), and written back exactly as this version writes that record (every
column, the exact JSON included; an order keeps its version, its record did not
change). One transaction holds the schema change and every rewritten row, so a
crash leaves the file either as it was or fully migrated, and a second process
opening the file at the same time waits for the lock, then finds nothing to do. A
row that cannot be rebuilt raises `StoreError` naming the table, the row and the
field; the caller rolls everything back. Rows already quarantined are left alone:
no read returns them, and an exchange order carrying their id rewrites them.

The rebuilding is pure (`kraken_bot.execution.core._store.legacy`: how an old row's
columns read, and the row written back); this module finds the old rows and writes
them back.

After this, `kraken_bot.execution.core._store.rows` reads only the current format.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from kraken_bot.execution.core._store.legacy import (
    COUNT_OLD,
    OLD_ORDERS,
    OLD_RESULTS,
    REWRITE_ORDER,
    rewritten_order,
    rewritten_result,
)
from kraken_bot.execution.core._store.rows import UPSERT_RESULT
from kraken_bot.execution.core._store.tables import ORDER_COLUMNS, RESULT_COLUMNS


def rewrite_old_rows(conn: sqlite3.Connection, path: str) -> int:
    """Rewrite every old row in the current format (see the module docstring); how many.

    Runs inside the caller's transaction; raises `StoreError` on a row it cannot rebuild.
    """
    rewritten = 0
    for values in _old_rows(conn, OLD_ORDERS, ORDER_COLUMNS):
        conn.execute(REWRITE_ORDER, rewritten_order(values, path))
        rewritten += 1
    for values in _old_rows(conn, OLD_RESULTS, RESULT_COLUMNS):
        conn.execute(UPSERT_RESULT, rewritten_result(values, path))
        rewritten += 1
    return rewritten


def count_old_rows(conn: sqlite3.Connection) -> int:
    """How many rows `rewrite_old_rows` would rewrite (a file opened read-only must have none)."""
    (count,) = conn.execute(COUNT_OLD).fetchone()
    return int(count)


def _old_rows(
    conn: sqlite3.Connection, sql: str, columns: Sequence[tuple[str, str]]
) -> Iterator[dict[str, object]]:
    names = [name for name, _ in columns]
    after = 0
    while batch := conn.execute(sql, (after,)).fetchall():
        for _, *row in batch:  # the rowid first
            yield dict(zip(names, row, strict=True))
        after = batch[-1][0]
