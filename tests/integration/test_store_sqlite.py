"""The SQLite store on a real file: schema, pragmas, bound parameters, atomicity, migration."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pyrsistent import pmap

from kraken_bot.execution.core.models import (
    ExecutionMode,
    ExecutionResult,
    LocalOrder,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from kraken_bot.execution.exceptions import StoreError
from kraken_bot.execution.shell.store import SCHEMA_VERSION, SQLiteExecutionStore

T0 = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
T0_EPOCH = 1772366400

# The contract's DDL, section 9, verbatim.
CONTRACT_DDL = """
CREATE TABLE IF NOT EXISTS execution_orders (
    local_id TEXT PRIMARY KEY,
    plan_id TEXT,
    strategy_id TEXT,
    pair TEXT NOT NULL,
    side TEXT NOT NULL,
    order_type TEXT NOT NULL,
    kraken_order_id TEXT,
    userref INTEGER,
    requested_base_size REAL NOT NULL,
    requested_price REAL,
    status TEXT NOT NULL,
    cumulative_base_filled REAL NOT NULL DEFAULT 0.0,
    avg_fill_price REAL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_error TEXT,
    raw_request TEXT,
    raw_response TEXT
);
CREATE TABLE IF NOT EXISTS execution_results (
    plan_id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    completed_at INTEGER,
    success INTEGER NOT NULL,
    error_summary TEXT,
    raw_json TEXT
);
"""

EXTRA_ORDER_COLUMNS = {
    "client_order_id": "TEXT",
    "fee": "REAL",
    "cost": "REAL",
    "rest_pair": "TEXT",
    "time_in_force": "TEXT",
    "post_only": "INTEGER",
    "attempts": "INTEGER",
    "send_deadline": "INTEGER",
    "first_sent_at": "INTEGER",
    "cancel_requested_at": "INTEGER",
    "close_reason": "TEXT",
    "action_index": "INTEGER",
    "reference_price": "REAL",
    "snapshot_json": "TEXT",
}
EXTRA_RESULT_COLUMNS = {"errors_json": "TEXT", "mode": "TEXT", "replayed": "INTEGER"}


def an_order(**overrides: Any) -> LocalOrder:
    fields: dict[str, Any] = {
        "local_id": "L-1",
        "plan_id": "plan-1",
        "strategy_id": "trend_v1",
        "pair": "XBTUSD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "kraken_order_id": "TX-1",
        "userref": 1001,
        "client_order_id": "cl-L-1",
        "requested_base_size": Decimal("0.12500000"),
        "requested_price": Decimal("27500.0"),
        "status": OrderStatus.PARTIALLY_FILLED,
        "created_at": T0,
        "updated_at": T0 + timedelta(seconds=2),
        "cumulative_base_filled": Decimal("0.05"),
        "avg_fill_price": Decimal("27490.5"),
        "fee": Decimal("0.26"),
        "cost": Decimal("1374.525"),
        "raw_request": pmap({"pair": "XXBTZUSD", "type": "buy", "volume": "0.12500000"}),
        "raw_response_json": '{"txid":["TX-1"]}',
        "rest_pair": "XXBTZUSD",
        "time_in_force": TimeInForce.GTC,
        "post_only": True,
        "attempts": 1,
        "send_deadline": T0 + timedelta(seconds=30),
        "first_sent_at": T0 + timedelta(seconds=1),
        "action_index": 0,
        "reference_price": Decimal(27480),
    }
    fields.update(overrides)
    return LocalOrder(**fields)


def a_result(**overrides: Any) -> ExecutionResult:
    fields: dict[str, Any] = {
        "plan_id": "plan-1",
        "started_at": T0,
        "completed_at": T0 + timedelta(seconds=3),
        "success": False,
        "orders": (an_order(),),
        "errors": ("first problem", "second problem"),
        "mode": ExecutionMode.PAPER,
    }
    fields.update(overrides)
    return ExecutionResult(**fields)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "portfolio.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteExecutionStore]:
    with SQLiteExecutionStore(db) as opened:
        yield opened


def raw(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the file with a separate connection, as an analytics reader would."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def columns(db: Path, table: str) -> dict[str, tuple[str, int, Any, int]]:
    rows = raw(
        db, 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)', (table,)
    )
    return {name: (kind, notnull, default, pk) for name, kind, notnull, default, pk in rows}


def snapshot(db: Path) -> tuple[list[tuple[Any, ...]], ...]:
    """Everything in the file: schema, version, and every row of our tables."""
    return (
        raw(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name"),
        raw(db, "SELECT version FROM schema_version"),
        raw(db, "SELECT * FROM execution_orders ORDER BY local_id"),
        raw(db, "SELECT * FROM execution_order_events ORDER BY id"),
        raw(db, "SELECT * FROM execution_results ORDER BY plan_id"),
    )


# ---------------------------------------------------------------- schema and pragmas


def test_the_tables_have_every_contract_column_exactly(store, db, tmp_path):
    reference = tmp_path / "contract.db"
    conn = sqlite3.connect(reference)
    conn.executescript(CONTRACT_DDL)
    conn.close()

    for table in ("execution_orders", "execution_results"):
        ours = columns(db, table)
        for name, declared in columns(reference, table).items():
            assert ours[name] == declared, (table, name)


def test_the_extra_columns_and_the_audit_table_exist(store, db):
    orders = columns(db, "execution_orders")
    results = columns(db, "execution_results")

    assert {name: orders[name][0] for name in EXTRA_ORDER_COLUMNS} == EXTRA_ORDER_COLUMNS
    assert {name: results[name][0] for name in EXTRA_RESULT_COLUMNS} == EXTRA_RESULT_COLUMNS
    assert columns(db, "execution_order_events") == {
        "id": ("INTEGER", 0, None, 1),
        "local_id": ("TEXT", 1, None, 0),
        "at": ("INTEGER", 1, None, 0),
        "at_iso": ("TEXT", 1, None, 0),
        "status": ("TEXT", 1, None, 0),
        "event": ("TEXT", 0, None, 0),
        "detail": ("TEXT", 0, None, 0),
    }
    assert raw(db, "SELECT * FROM pragma_foreign_key_list('execution_order_events')")[0][2:5] == (
        "execution_orders",
        "local_id",
        "local_id",
    )


def test_the_lookups_are_indexed(store, db):
    indexed = {
        (table, column)
        for table in ("execution_orders", "execution_results", "execution_order_events")
        for (index,) in raw(db, "SELECT name FROM pragma_index_list(?)", (table,))
        for (column,) in raw(db, "SELECT name FROM pragma_index_info(?)", (index,))
    }

    assert {
        ("execution_orders", "plan_id"),
        ("execution_orders", "kraken_order_id"),
        ("execution_orders", "client_order_id"),
        ("execution_orders", "status"),
        ("execution_orders", "local_id"),
        ("execution_order_events", "local_id"),
    } <= indexed


def test_the_schema_version_is_one_row_set_to_4(store, db):
    assert SCHEMA_VERSION == 4
    assert raw(db, "SELECT version FROM schema_version") == [(4,)]


@pytest.mark.parametrize(("synchronous", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_the_file_is_in_wal_mode_with_the_chosen_durability(db, synchronous, level):
    with SQLiteExecutionStore(db, synchronous=synchronous, busy_timeout=2.5) as opened:
        conn = opened._conn
        assert conn is not None
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert opened.journal_mode == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone() == (level,)
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (2500,)


def test_an_unknown_synchronous_level_is_refused(db):
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteExecutionStore(db, synchronous="OFF")  # type: ignore[arg-type]


# ---------------------------------------------------------------- what lands in the columns


def test_an_order_row_holds_epoch_seconds_reals_and_json_text(store, db):
    order = an_order()

    store.save_order(order, event="observed", detail="TX-1")

    (row,) = raw(
        db,
        "SELECT created_at, updated_at, send_deadline, first_sent_at, cancel_requested_at,"
        " requested_base_size, requested_price, cumulative_base_filled, fee, cost,"
        " raw_request, raw_response, status, side, post_only, time_in_force, snapshot_json"
        " FROM execution_orders",
    )
    assert row[:5] == (T0_EPOCH, T0_EPOCH + 2, T0_EPOCH + 30, T0_EPOCH + 1, None)
    assert row[5:10] == (0.125, 27500.0, 0.05, 0.26, 1374.525)
    assert json.loads(row[10]) == {"pair": "XXBTZUSD", "type": "buy", "volume": "0.12500000"}
    assert row[11:16] == ('{"txid":["TX-1"]}', "partially_filled", "buy", 1, "GTC")
    assert json.loads(row[16])["requested_base_size"] == "0.12500000"
    assert raw(
        db, "SELECT local_id, at, at_iso, status, event, detail FROM execution_order_events"
    ) == [
        (
            "L-1",
            T0_EPOCH + 2,
            "2026-03-01T12:00:02.250000+00:00",
            "partially_filled",
            "observed",
            "TX-1",
        )
    ]


def test_a_result_row_holds_the_summary_columns_and_the_whole_result(store, db):
    store.save_result(a_result())

    (row,) = raw(db, "SELECT * FROM execution_results")

    plan_id, started, completed, success, summary, raw_json, errors_json, mode, replayed = row
    assert (plan_id, started, completed, success) == ("plan-1", T0_EPOCH, T0_EPOCH + 3, 0)
    assert summary == "first problem; second problem"
    assert json.loads(errors_json) == ["first problem", "second problem"]
    assert (mode, replayed) == ("paper", 0)
    assert json.loads(raw_json)["orders"][0]["local_id"] == "L-1"


def test_a_result_without_errors_has_no_summary(store, db):
    store.save_result(a_result(success=True, errors=()))

    assert raw(db, "SELECT success, error_summary, errors_json FROM execution_results") == [
        (1, None, "[]")
    ]


def test_records_survive_closing_and_reopening(db):
    order, result = an_order(), a_result()
    with SQLiteExecutionStore(db) as first:
        first.save_order(order, event="created")
        first.save_result(result)

    with SQLiteExecutionStore(db) as second:
        assert second.get_order("L-1") == order
        assert second.get_result("plan-1") == result
        assert [e.event for e in second.events_for("L-1")] == ["created"]


# ---------------------------------------------------------------- the file format

# The two tables exactly as this version creates them, and the rows it writes for one
# order and one result: a file written before the field tables existed must read the
# same, and a file written now must hold the same bytes. Changing any of this changes
# the file format.


def contract_columns(table: str) -> list[str]:
    """The column lines of ``table`` in `CONTRACT_DDL`."""
    after = CONTRACT_DDL.partition(f"CREATE TABLE IF NOT EXISTS {table} (\n")[2]
    body = after.partition("\n);")[0]
    return [line.strip().rstrip(",") for line in body.splitlines()]


def create_table(table: str, columns: list[str]) -> str:
    return f"CREATE TABLE {table} (\n    " + ",\n    ".join(columns) + "\n)"


FORMAT_DDL = (
    create_table(
        "execution_orders",
        [
            *contract_columns("execution_orders"),
            *(f"{name} {kind}" for name, kind in EXTRA_ORDER_COLUMNS.items()),
            "version INTEGER NOT NULL DEFAULT 0",
            "quarantine TEXT",
            "claimed_by TEXT",
        ],
    ),
    create_table(
        "execution_results",
        [
            *contract_columns("execution_results"),
            *(f"{name} {kind}" for name, kind in EXTRA_RESULT_COLUMNS.items()),
        ],
    ),
)
ORDER_JSON = (
    '{"local_id":"L-1","plan_id":"plan-1","strategy_id":"trend_v1","pair":"XBTUSD",'
    '"side":"buy","order_type":"limit","kraken_order_id":"TX-1","userref":1001,'
    '"client_order_id":"cl-L-1","requested_base_size":"0.12500000",'
    '"requested_price":"27500.0","status":"partially_filled",'
    '"created_at":"2026-03-01T12:00:00.250000+00:00",'
    '"updated_at":"2026-03-01T12:00:02.250000+00:00","cumulative_base_filled":"0.05",'
    '"avg_fill_price":"27490.5","fee":"0.26","cost":"1374.525","last_error":null,'
    '"raw_request":{"pair":"XXBTZUSD","type":"buy","volume":"0.12500000"},'
    '"raw_response_json":"{\\"txid\\":[\\"TX-1\\"]}","rest_pair":"XXBTZUSD",'
    '"time_in_force":"GTC","post_only":true,"attempts":1,'
    '"send_deadline":"2026-03-01T12:00:30.250000+00:00",'
    '"first_sent_at":"2026-03-01T12:00:01.250000+00:00","cancel_requested_at":null,'
    '"close_reason":null,"action_index":0,"reference_price":"27480",'
    '"exists_on_exchange":true,"claimed_by":"svc-1"}'
)
FORMAT_ORDER_ROW = (
    *("L-1", "plan-1", "trend_v1", "XBTUSD", "buy", "limit", "TX-1", 1001, 0.125, 27500.0),
    *("partially_filled", 0.05, 27490.5, T0_EPOCH, T0_EPOCH + 2, None),
    *('{"pair":"XXBTZUSD","type":"buy","volume":"0.12500000"}', '{"txid":["TX-1"]}'),
    *("cl-L-1", 0.26, 1374.525, "XXBTZUSD", "GTC", 1, 1, T0_EPOCH + 30, T0_EPOCH + 1, None),
    *(None, 0, 27480.0, ORDER_JSON, 1, None, "svc-1"),
)
FORMAT_RESULT_ROW = (
    *("plan-1", T0_EPOCH, T0_EPOCH + 3, 0, "first problem; second problem"),
    (
        '{"plan_id":"plan-1","started_at":"2026-03-01T12:00:00.250000+00:00",'
        '"completed_at":"2026-03-01T12:00:03.250000+00:00","success":false,'
        f'"orders":[{ORDER_JSON}],"errors":["first problem","second problem"],'
        '"mode":"paper","skipped":[],"replayed":false}'
    ),
    *('["first problem","second problem"]', "paper", 0),
)


def format_order() -> LocalOrder:
    """The order of `FORMAT_ORDER_ROW`: `an_order()` with the fields added last set."""
    return an_order(exists_on_exchange=True, claimed_by="svc-1")


def format_result() -> ExecutionResult:
    return a_result(orders=(format_order(),))


def test_a_file_in_the_format_reads_back_every_field(tmp_path):
    db = tmp_path / "written-before.db"
    conn = sqlite3.connect(db)
    for ddl in FORMAT_DDL:
        conn.execute(ddl)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (4)")
    conn.execute(f"INSERT INTO execution_orders VALUES ({', '.join('?' * 35)})", FORMAT_ORDER_ROW)
    conn.execute(f"INSERT INTO execution_results VALUES ({', '.join('?' * 9)})", FORMAT_RESULT_ROW)
    conn.commit()
    conn.close()

    with SQLiteExecutionStore(db) as store:
        assert store.get_order("L-1") == format_order()
        assert store.get_result("plan-1") == format_result()
        store.save_order(replace(format_order(), status=OrderStatus.FILLED))  # writable as it is

    tables = "SELECT sql FROM sqlite_master WHERE name IN ('execution_orders', 'execution_results')"
    assert sorted(sql for (sql,) in raw(db, tables)) == list(FORMAT_DDL)


def test_a_file_written_now_has_the_format_to_the_byte(store, db):
    store.save_order(format_order())
    store.save_result(format_result())

    tables = "SELECT sql FROM sqlite_master WHERE name IN ('execution_orders', 'execution_results')"
    assert sorted(sql for (sql,) in raw(db, tables)) == list(FORMAT_DDL)
    assert raw(db, "SELECT * FROM execution_orders") == [FORMAT_ORDER_ROW]
    assert raw(db, "SELECT * FROM execution_results") == [FORMAT_RESULT_ROW]


# ---------------------------------------------------------------- bound parameters


class RecordingConnection(sqlite3.Connection):
    """Records every statement and its parameters; fails on demand."""

    statements: ClassVar[list[tuple[str, tuple[Any, ...]]]] = []
    fail_on: ClassVar[str | None] = None

    def _record(self, sql: str, params: Any) -> None:
        if self.fail_on is not None and sql.startswith(self.fail_on):
            raise sqlite3.OperationalError("disk I/O error (injected)")
        self.statements.append((sql, tuple(params)))

    def execute(self, sql: str, params: Any = (), /) -> sqlite3.Cursor:
        self._record(sql, params)
        return super().execute(sql, params)

    def executemany(self, sql: str, params: Any, /) -> sqlite3.Cursor:
        rows = list(params)
        for row in rows:
            self._record(sql, row)
        return super().executemany(sql, rows)


@pytest.fixture
def recording(db: Path) -> Iterator[SQLiteExecutionStore]:
    RecordingConnection.statements = []
    RecordingConnection.fail_on = None
    with SQLiteExecutionStore(db, connection_factory=RecordingConnection) as opened:
        yield opened
    RecordingConnection.fail_on = None


def test_every_bound_parameter_is_a_plain_sqlite_value(recording):
    order = an_order()
    recording.save_order(order, event="created", detail="d")
    recording.save_orders([replace(order, local_id=f"B-{n}") for n in range(3)], event="batch")
    recording.save_result(a_result())
    recording.get_order("L-1")
    recording.find_by_kraken_id("TX-1")
    recording.find_by_client_order_id("cl-L-1")
    recording.live_orders()
    recording.orders_for_plan("plan-1")
    recording.recent_orders(5)
    recording.get_result("plan-1")
    recording.recent_results(5)
    recording.events_for("L-1")

    bound = [param for _, params in RecordingConnection.statements for param in params]
    assert len(bound) > 150
    assert {type(param) for param in bound} <= {str, int, float, bytes, type(None)}


def test_the_snapshot_and_its_audit_row_commit_together_or_not_at_all(recording, db):
    first = an_order()
    recording.save_order(first, event="created")
    RecordingConnection.fail_on = "INSERT INTO execution_order_events"

    with pytest.raises(StoreError, match="disk I/O error"):
        recording.save_order(replace(first, status=OrderStatus.FILLED), event="filled")
    with pytest.raises(StoreError, match="disk I/O error"):
        recording.save_order(an_order(local_id="L-2"), event="created")
    with pytest.raises(StoreError, match="disk I/O error"):
        recording.save_orders([an_order(local_id="L-3"), an_order(local_id="L-4")])

    RecordingConnection.fail_on = None
    assert recording.get_order("L-1") == first
    assert [e.event for e in recording.events_for("L-1")] == ["created"]
    assert raw(db, "SELECT local_id FROM execution_orders") == [("L-1",)]
    recording.save_order(an_order(local_id="L-2"))  # the store is usable afterwards
    assert recording.get_order("L-2") is not None


def test_writes_use_one_immediate_transaction_and_a_constant_upsert(recording):
    RecordingConnection.statements = []

    recording.save_order(an_order(), event="created")
    recording.save_order(an_order(status=OrderStatus.FILLED), event="filled")

    sql = [statement.split(" (")[0] for statement, _ in RecordingConnection.statements]
    assert (
        sql
        == [
            "BEGIN IMMEDIATE",
            "INSERT INTO execution_orders",
            "INSERT INTO execution_order_events",
            "COMMIT",
        ]
        * 2
    )
    upserts = {s for s, _ in RecordingConnection.statements if "execution_orders" in s}
    assert len(upserts) == 1
    assert "ON CONFLICT(local_id) DO UPDATE" in upserts.pop()


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("live_orders", "USING INDEX execution_orders_status"),
        ("find_by_kraken_id", "USING INDEX execution_orders_kraken_id"),
        ("find_by_client_order_id", "USING INDEX execution_orders_client_id"),
        ("orders_for_plan", "USING INDEX execution_orders_plan_id"),
        ("events_for", "USING INDEX execution_events_local_id"),
        ("get_order", "USING INDEX sqlite_autoindex_execution_orders_1"),
        ("quarantined", "USING INDEX execution_orders_quarantined"),
    ],
)
def test_lookups_search_an_index_instead_of_scanning(recording, db, call, expected):
    RecordingConnection.statements = []
    method = getattr(recording, call)
    if call in ("live_orders", "quarantined"):
        method()
    else:
        method("x")
    (sql, params) = RecordingConnection.statements[-1]

    plan = " / ".join(row[3] for row in raw(db, f"EXPLAIN QUERY PLAN {sql}", params))

    assert expected in plan
    assert "SCAN execution_orders" not in plan


# ---------------------------------------------------------------- migration


def test_opening_twice_changes_nothing(db):
    with SQLiteExecutionStore(db) as first:
        first.save_order(an_order(), event="created")
        first.save_result(a_result())
    before = snapshot(db)

    SQLiteExecutionStore(db).close()

    assert snapshot(db) == before


def test_an_old_shape_table_is_upgraded_in_place_and_its_rows_survive(db):
    conn = sqlite3.connect(db)
    conn.executescript(CONTRACT_DDL)
    conn.executescript(
        """
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (3);
        CREATE TABLE orders (txid TEXT PRIMARY KEY, pair TEXT);
        INSERT INTO orders VALUES ('OABC', 'XBTUSD');
        CREATE TABLE trades (trade_id TEXT PRIMARY KEY, volume REAL);
        INSERT INTO trades VALUES ('T1', 0.5);
        CREATE TABLE cash_flows (id INTEGER PRIMARY KEY, amount REAL);
        INSERT INTO cash_flows VALUES (1, 100.0);
        """
    )
    conn.execute(
        "INSERT INTO execution_orders (local_id, plan_id, strategy_id, pair, side, order_type,"
        " kraken_order_id, userref, requested_base_size, requested_price, status,"
        " cumulative_base_filled, avg_fill_price, created_at, updated_at, last_error,"
        " raw_request, raw_response) VALUES"
        " ('old-1', 'plan-0', 's', 'XBTUSD', 'sell', 'limit', 'TX-OLD', 7, 0.1, 30000.5,"
        ' \'open\', 0.025, 30000.5, ?, ?, NULL, \'{"pair": "XXBTZUSD", "volume": 0.1}\','
        ' \'{"txid": ["TX-OLD"]}\')',
        (T0_EPOCH, T0_EPOCH + 1),
    )
    conn.execute(
        "INSERT INTO execution_results VALUES ('plan-0', ?, NULL, 0, 'it broke', '{\"free\": 1}')",
        (T0_EPOCH,),
    )
    conn.commit()
    conn.close()
    phase3 = [raw(db, f"SELECT * FROM {table}") for table in ("orders", "trades", "cash_flows")]

    with SQLiteExecutionStore(db) as upgraded:
        old = upgraded.get_order("old-1")
        old_result = upgraded.get_result("plan-0")
        assert [o.local_id for o in upgraded.live_orders()] == ["old-1"]
        upgraded.save_order(an_order(), event="created")

    assert set(EXTRA_ORDER_COLUMNS) <= set(columns(db, "execution_orders"))
    assert set(EXTRA_RESULT_COLUMNS) <= set(columns(db, "execution_results"))
    assert raw(db, "SELECT version FROM schema_version") == [(4,)]
    assert [raw(db, f"SELECT * FROM {t}") for t in ("orders", "trades", "cash_flows")] == phase3
    assert old is not None
    assert (old.side, old.status, old.kraken_order_id, old.userref) == (
        Side.SELL,
        OrderStatus.OPEN,
        "TX-OLD",
        7,
    )
    assert (old.requested_base_size, old.requested_price) == (Decimal("0.1"), Decimal("30000.5"))
    assert old.cumulative_base_filled == Decimal("0.025")
    assert old.created_at == datetime.fromtimestamp(T0_EPOCH, UTC)
    assert dict(old.raw_request) == {"pair": "XXBTZUSD", "volume": "0.1"}
    assert old.raw_response == {"txid": ["TX-OLD"]}
    assert (old.fee, old.attempts, old.time_in_force) == (Decimal(0), 0, TimeInForce.GTC)
    assert old_result is not None
    assert (old_result.success, old_result.errors, old_result.orders) == (False, ("it broke",), ())


def test_a_database_without_schema_version_gets_one_row(db):
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE trades (trade_id TEXT)")
    conn.close()

    SQLiteExecutionStore(db).close()

    assert raw(db, "SELECT version FROM schema_version") == [(4,)]


def test_a_newer_version_with_usable_tables_is_kept_and_used(db):
    SQLiteExecutionStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_version SET version = 6")
    conn.execute("ALTER TABLE execution_orders ADD COLUMN added_later TEXT")
    conn.execute("CREATE TABLE phase6_things (x)")
    conn.commit()
    conn.close()

    with SQLiteExecutionStore(db) as newer:
        newer.save_order(an_order())
        assert newer.get_order("L-1") == an_order()

    assert raw(db, "SELECT version FROM schema_version") == [(6,)]


def test_a_newer_version_whose_tables_would_need_changes_is_refused(db):
    conn = sqlite3.connect(db)
    conn.executescript(CONTRACT_DDL)
    conn.executescript("CREATE TABLE schema_version (version INTEGER NOT NULL);")
    conn.execute("INSERT INTO schema_version VALUES (5)")
    conn.commit()
    conn.close()
    before = snapshot_schema(db)

    with pytest.raises(StoreError) as caught:
        SQLiteExecutionStore(db)

    message = str(caught.value)
    assert message.startswith(f"{db} has schema version 5, newer than this version of krakked")
    assert "execution_orders lacks column(s) client_order_id" in message
    assert "table execution_order_events is missing" in message
    assert snapshot_schema(db) == before


def snapshot_schema(db: Path) -> list[tuple[Any, ...]]:
    return raw(db, "SELECT name, sql FROM sqlite_master ORDER BY name") + raw(
        db, "SELECT version FROM schema_version"
    )


def test_a_table_with_a_required_column_this_code_cannot_fill_is_refused(db):
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE execution_results (plan_id TEXT PRIMARY KEY, owner TEXT NOT NULL)")
    conn.close()

    with pytest.raises(StoreError, match=r"required column.*owner"):
        SQLiteExecutionStore(db)


def test_a_schema_version_that_is_not_a_number_is_refused(db):
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version)")
    conn.execute("INSERT INTO schema_version VALUES ('four')")
    conn.commit()
    conn.close()

    with pytest.raises(StoreError, match="schema_version holds 'four'"):
        SQLiteExecutionStore(db)


def test_a_corrupt_snapshot_is_quarantined_and_named_instead_of_stopping_reads(store, db):
    store.save_order(an_order())
    store.save_order(an_order(local_id="L-2"))
    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE execution_orders SET snapshot_json = '{\"local_id\": 5}' WHERE local_id = 'L-1'"
    )
    conn.commit()
    conn.close()

    assert [o.local_id for o in store.live_orders()] == ["L-2"]  # the others still read
    assert store.get_order("L-1") is None
    reasons = store.quarantined()
    assert list(reasons) == ["L-1"]
    assert "order L-1 cannot be read back" in reasons["L-1"]
    # Kept across reopening: the row is marked, not forgotten.
    store.close()
    with SQLiteExecutionStore(db) as again:
        assert list(again.quarantined()) == ["L-1"]
        assert [o.local_id for o in again.live_orders()] == ["L-2"]


def test_a_store_in_memory_is_written_whole_to_a_file_that_reopens_as_a_store(tmp_path):
    """What `krakked sim` does: replay in memory, then one consistent copy on disk."""
    memory = SQLiteExecutionStore(":memory:")
    memory.save_order(an_order(), event="created")
    memory.save_result(a_result())
    target = tmp_path / "copy.db"
    target.write_text("an older file is replaced")
    memory.backup_to(target)
    memory.close()
    with SQLiteExecutionStore(target) as copy:
        assert copy.get_order(an_order().local_id) == an_order()
        assert copy.journal_mode == "wal"
    assert raw(target, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
