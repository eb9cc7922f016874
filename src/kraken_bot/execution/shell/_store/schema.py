"""Bringing a database file's execution tables up to this version (shell: it runs SQL).

The tables, their DDL and the rules for what a file's tables lack are pure
(`kraken_bot.execution.core._store.tables`); this module reads a file's catalog and
applies them.

`upgrade_tables` is idempotent: it creates what is missing, adds missing columns
(never ``NOT NULL`` without a default, which SQLite cannot add), checks that
what is there is usable, then creates the indexes and records
the version. A database from a newer version is left alone unless its tables
would need changes, which raises `StoreError`. Every function here runs inside
the caller's transaction, which then rewrites the rows of older formats
(`kraken_bot.execution.shell._store.migration`).
"""

from __future__ import annotations

import sqlite3

from kraken_bot.execution.core._store.tables import (
    CREATE_INDEXES,
    CREATE_STATEMENTS,
    CREATE_TABLES,
    SCHEMA_VERSION,
    TABLES,
    TableInfo,
    missing_column_statements,
    schema_gaps,
    schema_refusal,
)
from kraken_bot.execution.exceptions import StoreError

__all__ = ["CREATE_STATEMENTS", "SCHEMA_VERSION", "check_schema", "read_version", "upgrade_tables"]


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
        for statement in CREATE_TABLES:
            conn.execute(statement)
        for table, columns in TABLES:
            for statement in missing_column_statements(table, columns, _table_info(conn, table)):
                conn.execute(statement)
        check_schema(conn, version, path=path, read_only=False)
        for statement in CREATE_INDEXES:
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
    infos = {table: _table_info(conn, table) for table, _ in TABLES}
    refusal = schema_refusal(schema_gaps(infos), version, path=path, read_only=read_only)
    if refusal is not None:
        raise refusal


def _table_names(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(name) for (name,) in rows}


def _table_info(conn: sqlite3.Connection, table: str) -> TableInfo:
    """Column name -> (notnull, default, pk) for a table; empty when it does not exist."""
    rows = conn.execute(
        'SELECT name, "notnull", dflt_value, pk FROM pragma_table_info(?)', (table,)
    )
    return {str(name): (int(notnull), default, int(pk)) for name, notnull, default, pk in rows}
