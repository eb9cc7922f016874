"""The execution tables: their columns, their DDL, and bringing a database file up to them.

The column lists are the single source: the DDL, the SQL statements in
`kraken_bot.execution._store.rows` and the schema checks are all built from
them. ``execution_orders`` and ``execution_results`` hold the contract's
columns (section 9) followed by ours: the columns of the records' fields come
from their field tables (`kraken_bot.execution._fields`), and the store's own
columns (the exact JSON, the version, the quarantine mark) sit among them where
the tables say. ``execution_order_events`` is the audit trail;
``schema_version`` holds `SCHEMA_VERSION`.

`upgrade_tables` is idempotent: it creates what is missing, adds missing columns
(never ``NOT NULL`` without a default, which SQLite cannot add), checks that
what is there is usable, then creates the indexes and records
the version. A database from a newer version is left alone unless its tables
would need changes, which raises `StoreError`. Every function here runs inside
the caller's transaction, which then rewrites the rows of older formats
(`kraken_bot.execution._store.migration`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Final

from kraken_bot.execution._fields import ORDER, RESULT
from kraken_bot.execution.exceptions import StoreError

SCHEMA_VERSION: Final = 4
"""``schema_version.version`` once the execution tables are in place (the contract's v4 bump)."""

ORDER_COLUMNS: Final = (
    # the contract's columns (section 9.1), then ours: see the field table
    *ORDER.early_columns,
    ("snapshot_json", "TEXT"),
    # compare-and-set: every write of a row checks and bumps it (see the ledger)
    ("version", "INTEGER NOT NULL DEFAULT 0"),
    # why the row could not be read back (it is then left out of every read)
    ("quarantine", "TEXT"),
    *ORDER.late_columns,
)

RESULT_COLUMNS: Final = (
    # the contract's columns (section 9.2), then ours: see the field table
    *RESULT.early_columns,
    ("raw_json", "TEXT"),
    *RESULT.late_columns,
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
    ("execution_orders", ORDER_COLUMNS),
    ("execution_results", RESULT_COLUMNS),
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
    # Quarantined rows are few (usually none); every reconciliation lists them.
    (
        "CREATE INDEX IF NOT EXISTS execution_orders_quarantined ON execution_orders (quarantine)"
        " WHERE quarantine IS NOT NULL"
    ),
)
CREATE_STATEMENTS: Final = (*_CREATE_TABLES, *_CREATE_INDEXES)
"""The DDL the store applies (idempotent): tables, then (after ALTERs) indexes."""


# ---------------------------------------------------------------- migration


def read_version(conn: sqlite3.Connection, path: str) -> int | None:
    """The recorded schema version; None before the store first wrote to this file."""
    if "schema_version" not in _table_names(conn):
        return None
    (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    if version is None or (isinstance(version, int) and not isinstance(version, bool)):
        return version
    raise StoreError(
        f"{path}: schema_version holds {version!r}, not an integer version",
        path=path,
    )


def upgrade_tables(conn: sqlite3.Connection, path: str) -> int:
    """Create or upgrade the execution tables, then prove the file is writable; the
    schema version the file has now (`SCHEMA_VERSION`, or a newer one left as it was)."""
    version = read_version(conn, path)
    if version is not None and version > SCHEMA_VERSION:
        check_schema(conn, version, path=path, read_only=False)
    else:
        for statement in _CREATE_TABLES:
            conn.execute(statement)
        for table, columns in _TABLES:
            _add_missing_columns(conn, table, columns)
        check_schema(conn, version, path=path, read_only=False)
        for statement in _CREATE_INDEXES:
            conn.execute(statement)
        if version is None:
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif version < SCHEMA_VERSION:
            conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
    # A real write: fails now, not at the first order, when the file cannot be written.
    conn.execute("UPDATE schema_version SET version = version")
    return SCHEMA_VERSION if version is None else max(version, SCHEMA_VERSION)


def check_schema(
    conn: sqlite3.Connection, version: int | None, *, path: str, read_only: bool
) -> None:
    """Raise `StoreError` listing every gap in the execution tables, worded for the situation."""
    gaps = _schema_gaps(conn)
    if not gaps:
        return
    listed = "; ".join(gaps)
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}, newer than this version of "
            f"krakked understands ({SCHEMA_VERSION}), and its execution tables would "
            f"need changes: {listed}. Upgrade krakked or use another database file",
            path=path,
        )
    if read_only:
        raise StoreError(
            f"{path} has no usable execution records ({listed}); "
            "open it once for writing to create or upgrade them",
            path=path,
        )
    raise StoreError(
        f"{path} has execution tables this version cannot use: {listed}",
        path=path,
    )


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
