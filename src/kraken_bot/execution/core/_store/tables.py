"""Pure: the execution tables as text: their columns, their DDL, and what stops a file's
tables from being used as they are.

The column lists are the single source: the DDL, the SQL statements in
`kraken_bot.execution.core._store.rows` and the schema checks are all built from
them. ``execution_orders`` and ``execution_results`` hold the contract's
columns (section 9) followed by ours: the columns of the records' fields come
from their field tables (`kraken_bot.execution.core._fields`), and the store's own
columns (the exact JSON, the version, the quarantine mark) sit among them where
the tables say. ``execution_order_events`` is the audit trail;
``schema_version`` holds `SCHEMA_VERSION`.

What a file holds comes in as `TableInfo` values read by
`kraken_bot.execution.shell._store.schema`, which applies what this module decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

from kraken_bot.execution.core._fields import ORDER, RESULT
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

EVENT_COLUMNS: Final = (
    ("id", "INTEGER PRIMARY KEY AUTOINCREMENT"),
    ("local_id", "TEXT NOT NULL REFERENCES execution_orders(local_id)"),
    ("at", "INTEGER NOT NULL"),
    ("at_iso", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("event", "TEXT"),
    ("detail", "TEXT"),
)

TABLES: Final = (
    ("execution_orders", ORDER_COLUMNS),
    ("execution_results", RESULT_COLUMNS),
    ("execution_order_events", EVENT_COLUMNS),
)


def _create_table(table: str, columns: Sequence[tuple[str, str]]) -> str:
    body = ",\n    ".join(f"{name} {decl}" for name, decl in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n    {body}\n)"


CREATE_TABLES: Final = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    *(_create_table(table, columns) for table, columns in TABLES),
)
CREATE_INDEXES: Final = (
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
CREATE_STATEMENTS: Final = (*CREATE_TABLES, *CREATE_INDEXES)
"""The DDL the store applies (idempotent): tables, then (after ALTERs) indexes."""

TableInfo: TypeAlias = Mapping[str, tuple[int, object, int]]
"""A table as a file has it: column name -> (notnull, default, pk); empty when it is missing."""


def missing_column_statements(
    table: str, columns: Sequence[tuple[str, str]], have: TableInfo
) -> list[str]:
    """The ``ALTER TABLE`` statements adding ``columns`` a file's ``table`` lacks (never a
    primary key; ``NOT NULL`` only with a default, which is all SQLite can add).

    >>> missing_column_statements("t", [("id", "TEXT PRIMARY KEY"), ("n", "INTEGER NOT NULL"),
    ...     ("v", "INTEGER NOT NULL DEFAULT 0")], {"id": (0, None, 1)})
    ['ALTER TABLE t ADD COLUMN n INTEGER', 'ALTER TABLE t ADD COLUMN v INTEGER NOT NULL DEFAULT 0']
    """
    statements = []
    for name, decl in columns:
        if name in have or "PRIMARY KEY" in decl:
            continue
        addable = (
            decl.replace(" NOT NULL", "") if "NOT NULL" in decl and "DEFAULT" not in decl else decl
        )
        statements.append(f"ALTER TABLE {table} ADD COLUMN {name} {addable}")
    return statements


def schema_gaps(infos: Mapping[str, TableInfo]) -> list[str]:
    """What stops this code from using the execution tables as a file has them
    (``infos``: each of `TABLES` by name).

    >>> schema_gaps({"execution_orders": {}, "execution_results": {},
    ...     "execution_order_events": {}})[0]
    'table execution_orders is missing'
    """
    gaps: list[str] = []
    for table, columns in TABLES:
        have = infos.get(table, {})
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


def schema_refusal(
    gaps: Sequence[str], version: int | None, *, path: str, read_only: bool
) -> StoreError | None:
    """The error listing every gap, worded for the situation; None when there is none.

    >>> refusal = schema_refusal(["table t is missing"], None, path="x.db", read_only=True)
    >>> str(refusal).startswith("x.db has no usable execution records (table t is missing)")
    True
    >>> schema_refusal([], 9, path="x.db", read_only=False) is None
    True
    """
    if not gaps:
        return None
    listed = "; ".join(gaps)
    if version is not None and version > SCHEMA_VERSION:
        return StoreError(
            f"{path} has schema version {version}, newer than this version of "
            f"krakked understands ({SCHEMA_VERSION}), and its execution tables would "
            f"need changes: {listed}. Upgrade krakked or use another database file",
            path=path,
        )
    if read_only:
        return StoreError(
            f"{path} has no usable execution records ({listed}); "
            "open it once for writing to create or upgrade them",
            path=path,
        )
    return StoreError(f"{path} has execution tables this version cannot use: {listed}", path=path)
