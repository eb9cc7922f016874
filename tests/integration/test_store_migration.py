"""Rows of the older formats are rewritten once, when a file is opened for writing.

Each old format is migrated to the rows this version writes; opening again changes
nothing; a row that cannot be migrated stops the opening with a message naming the
table, the row and the field, and leaves the file as it was; a process killed while
migrating leaves the old file, which the next opening migrates; two processes opening
one old file at once both end up with the migrated file.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.crash_child import run_child
from tests.integration.test_store_sqlite import (
    CONTRACT_DDL,
    FORMAT_DDL,
    T0_EPOCH,
    an_order,
    raw,
    snapshot,
)

from kraken_bot.execution.core._store.legacy import _request, _time
from kraken_bot.execution.core._store.records import order_snapshot, result_snapshot
from kraken_bot.execution.core._store.rows import order_row, result_row
from kraken_bot.execution.core.models import ExecutionMode, OrderStatus, TimeInForce
from kraken_bot.execution.exceptions import StoreError
from kraken_bot.execution.shell.store import SCHEMA_VERSION, SQLiteExecutionStore

CONTRACT_ORDER = (
    *("old-1", "plan-0", "s", "XBTUSD", "sell", "limit", "TX-OLD", 7, 0.1, 30000.5, "open"),
    *(0.025, 30000.5, T0_EPOCH, T0_EPOCH + 1, None, '{"pair": "XXBTZUSD", "volume": 0.1}'),
    '{"txid": ["TX-OLD"]}',
)
CONTRACT_RESULT = ("plan-0", T0_EPOCH, None, 0, "it broke", '{"free": 1}')


def contract_file(db: Path, orders: list[tuple[Any, ...]], *, version: int | None = 3) -> None:
    """A file as the contract's Phase 5 left it: its two tables, no column of ours."""
    conn = sqlite3.connect(db)
    conn.executescript(CONTRACT_DDL)
    if version is not None:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
    conn.executemany(f"INSERT INTO execution_orders VALUES ({', '.join('?' * 18)})", orders)
    conn.execute("INSERT INTO execution_results VALUES (?, ?, ?, ?, ?, ?)", CONTRACT_RESULT)
    conn.commit()
    conn.close()


def many_orders(count: int) -> list[tuple[Any, ...]]:
    return [
        (f"old-{n}", *CONTRACT_ORDER[1:6], f"TX-{n}", *CONTRACT_ORDER[7:]) for n in range(count)
    ]


def current_rows(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What this version would write for each record the file holds (orders keep their
    version), read back through the store."""
    with SQLiteExecutionStore(db, read_only=True) as store:
        orders = [store.get_versioned(local_id) for (local_id,) in ids(db)]
        results = store.recent_results(1000)
    return (
        [(*order_row(o, order_snapshot(o)), v, None) for o, v in filter(None, orders)],
        sorted(result_row(r, result_snapshot(r)) for r in results),
    )


def ids(db: Path) -> list[tuple[Any, ...]]:
    return raw(db, "SELECT local_id FROM execution_orders ORDER BY rowid")


def stored_rows(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    orders = raw(db, "SELECT * FROM execution_orders ORDER BY rowid")
    # the claimed_by column comes last in the file; order_row puts it before version
    reordered = [(*row[:-3], row[-1], row[-3], row[-2]) for row in orders]
    return reordered, sorted(raw(db, "SELECT * FROM execution_results"))


# ---------------------------------------------------------------- each old format


def test_a_contract_era_file_is_rewritten_to_the_current_format_once(tmp_path):
    db = tmp_path / "contract.db"
    contract_file(db, [CONTRACT_ORDER])

    with SQLiteExecutionStore(db) as store:
        old = store.get_order("old-1")
        result = store.get_result("plan-0")

    assert raw(db, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    assert stored_rows(db) == current_rows(db)
    assert old is not None
    assert result is not None
    assert (old.side, old.status, old.kraken_order_id, old.userref) == ("sell", "open", "TX-OLD", 7)
    assert (old.requested_base_size, old.fee) == (Decimal("0.1"), Decimal(0))
    assert dict(old.raw_request) == {"pair": "XXBTZUSD", "volume": "0.1"}
    assert (result.mode, result.errors, result.orders) == (ExecutionMode.PAPER, ("it broke",), ())
    (snapshot_json, version) = raw(db, "SELECT snapshot_json, version FROM execution_orders")[0]
    assert '"local_id":"old-1"' in snapshot_json
    assert version == 0  # the record did not change, only how it is written


def test_a_file_without_schema_version_is_migrated_too(tmp_path):
    db = tmp_path / "unversioned.db"
    contract_file(db, [CONTRACT_ORDER], version=None)

    SQLiteExecutionStore(db).close()

    assert raw(db, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    assert stored_rows(db) == current_rows(db)


def test_rows_left_old_in_a_file_with_every_column_are_rewritten(tmp_path):
    """A file an earlier version upgraded (its columns added) without rewriting its rows."""
    db = tmp_path / "columns-only.db"
    conn = sqlite3.connect(db)
    for ddl in FORMAT_DDL:
        conn.execute(ddl)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (4)")
    names = "local_id, pair, side, order_type, requested_base_size, status, created_at, updated_at"
    conn.execute(
        f"INSERT INTO execution_orders ({names}, time_in_force, attempts, post_only, fee)"
        " VALUES ('old-2', 'ETHUSD', 'buy', 'market', 2.5, 'filled', ?, ?, '', 0, 1, NULL)",
        (T0_EPOCH, T0_EPOCH),
    )
    conn.execute(
        "INSERT INTO execution_results (plan_id, started_at, success, error_summary, errors_json)"
        " VALUES ('plan-2', ?, 1, 'a; b', '[\"a\", \"b\"]')",
        (T0_EPOCH,),
    )
    conn.commit()
    conn.close()

    with SQLiteExecutionStore(db) as store:
        order = store.get_order("old-2")
        result = store.get_result("plan-2")

    assert stored_rows(db) == current_rows(db)
    assert order is not None
    assert (order.time_in_force, order.attempts, order.post_only) == (TimeInForce.GTC, 0, True)
    assert (order.status, order.fee, dict(order.raw_request)) == (
        OrderStatus.FILLED,
        Decimal(0),
        {},
    )
    assert result is not None
    assert (result.success, result.errors) == (True, ("a", "b"))


def test_opening_a_migrated_file_again_changes_nothing(tmp_path):
    db = tmp_path / "contract.db"
    contract_file(db, many_orders(3))
    SQLiteExecutionStore(db).close()
    migrated = snapshot(db)

    SQLiteExecutionStore(db).close()

    assert snapshot(db) == migrated


def test_a_current_file_is_not_rewritten(tmp_path):
    db = tmp_path / "current.db"
    with SQLiteExecutionStore(db) as store:
        store.save_order(an_order(), event="created")
    before = snapshot(db)

    SQLiteExecutionStore(db).close()

    assert snapshot(db) == before


def test_a_quarantined_old_row_is_left_as_it_is(tmp_path):
    db = tmp_path / "contract.db"
    contract_file(db, [(*CONTRACT_ORDER[:4], "up", *CONTRACT_ORDER[5:])])
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE execution_orders ADD COLUMN quarantine TEXT")
    conn.execute("UPDATE execution_orders SET quarantine = 'unreadable'")
    conn.commit()
    conn.close()

    with SQLiteExecutionStore(db) as store:
        assert store.quarantined() == {"old-1": "unreadable"}

    assert raw(db, "SELECT snapshot_json FROM execution_orders") == [(None,)]


def test_a_file_with_old_rows_opened_read_only_asks_to_be_opened_for_writing(tmp_path):
    db = tmp_path / "columns-only.db"
    contract_file(db, [CONTRACT_ORDER])
    SQLiteExecutionStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE execution_orders SET snapshot_json = NULL")  # an old writer's row
    conn.commit()
    conn.close()

    with pytest.raises(StoreError, match="older format; open it once for writing"):
        SQLiteExecutionStore(db, read_only=True)


def test_the_read_path_knows_only_the_current_format(tmp_path):
    """An old-format row appearing after the file was opened is set aside, not guessed at."""
    db = tmp_path / "current.db"
    with SQLiteExecutionStore(db) as store:
        store.save_order(an_order())
        conn = sqlite3.connect(db)
        conn.execute("UPDATE execution_orders SET snapshot_json = NULL")
        conn.commit()
        conn.close()

        assert store.get_order("L-1") is None
        assert "snapshot_json: not text" in store.quarantined()["L-1"]


# ---------------------------------------------------------------- rows that cannot be migrated


@pytest.mark.parametrize(
    ("table", "change", "named"),
    [
        (
            "execution_orders",
            "UPDATE execution_orders SET side = 'up' WHERE local_id = 'old-1'",
            (
                "execution_orders row local_id='old-1' cannot be migrated to this version's format"
                " (field side: expected one of buy | sell, got 'up')"
            ),
        ),
        (
            "execution_orders",
            "UPDATE execution_orders SET raw_request = '{\"nonce\": 1}' WHERE local_id = 'old-1'",
            (
                "execution_orders row local_id='old-1' cannot be migrated to this version's format"
                " (order old-1: raw_request carries credential field(s) nonce"
            ),
        ),
        (
            "execution_results",
            "UPDATE execution_results SET started_at = 'soon'",
            (
                "execution_results row plan_id='plan-0' cannot be migrated to this version's format"
                " (field started_at: expected an ISO 8601 time with an offset, got 'soon')"
            ),
        ),
        (
            "execution_orders",
            "UPDATE execution_orders SET cumulative_base_filled = 5 WHERE local_id = 'old-1'",
            (
                "execution_orders row local_id='old-1' cannot be migrated to this version's format"
                " (LocalOrder 'old-1': needs 0 <= cumulative_base_filled (5.0) <="
                " requested_base_size (0.1))"
            ),
        ),
    ],
    ids=["bad-field", "credential", "bad-result", "overfilled"],
)
def test_a_row_that_cannot_be_migrated_is_named_and_nothing_changes(tmp_path, table, change, named):
    db = tmp_path / "contract.db"
    contract_file(db, many_orders(3))
    conn = sqlite3.connect(db)
    conn.execute(change)
    conn.commit()
    conn.close()
    before = snapshot_all(db)

    with pytest.raises(StoreError) as caught:
        SQLiteExecutionStore(db)

    assert str(caught.value).startswith(f"{db}: {named}")
    assert "nothing was changed" in str(caught.value)
    assert table in str(caught.value)
    assert snapshot_all(db) == before  # no column added, no row rewritten, no version bumped


def snapshot_all(db: Path) -> list[Any]:
    return [
        raw(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name"),
        raw(db, "SELECT * FROM schema_version"),
        raw(db, "SELECT * FROM execution_orders ORDER BY rowid"),
        raw(db, "SELECT * FROM execution_results ORDER BY rowid"),
    ]


# ---------------------------------------------------------------- crashes and concurrency


def child_path() -> str:
    """The child's PYTHONPATH: the repository (for ``tests``), then this process's own."""
    root = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))


KILLED_WHILE_MIGRATING = textwrap.dedent(
    """
    import os, signal, sqlite3, sys
    from kraken_bot.execution.shell.store import SQLiteExecutionStore

    prefix, _, count = os.environ["KILL"].rpartition("@")
    seen = 0

    class DieAtAStatement(sqlite3.Connection):
        def execute(self, sql, params=(), /):
            global seen
            if sql.startswith(prefix):
                seen += 1
                if seen == int(count):
                    os.kill(os.getpid(), signal.SIGKILL)
            return super().execute(sql, params)

    SQLiteExecutionStore(sys.argv[1], connection_factory=DieAtAStatement)
    print("finished without being killed")
    """
)
OLD_ROWS = 2000


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "kill",
    [
        "ALTER TABLE@1",
        "UPDATE execution_orders SET plan_id@1",
        "UPDATE execution_orders SET plan_id@1000",
        "COMMIT@1",
    ],
    ids=["adding-columns", "first-row", "halfway", "committing"],
)
def test_a_process_killed_while_migrating_leaves_the_old_file_which_then_migrates(tmp_path, kill):
    db = tmp_path / "large.db"
    contract_file(db, many_orders(OLD_ROWS))
    before = snapshot_all(db)

    child = run_child(tmp_path, KILLED_WHILE_MIGRATING, db, key="", secret="", kill=kill)

    assert child.returncode == -9, child.stderr[-2000:]
    assert snapshot_all(db) == before  # nothing of the migration was committed
    with SQLiteExecutionStore(db) as store:
        assert len(store.live_orders()) == OLD_ROWS
    assert stored_rows(db) == current_rows(db)
    assert raw(db, "SELECT COUNT(*) FROM execution_orders WHERE snapshot_json IS NULL") == [(0,)]


OPENS_WHEN_TOLD = textwrap.dedent(
    """
    import os, sqlite3, sys, time
    from pathlib import Path
    from kraken_bot.execution.shell.store import SQLiteExecutionStore

    rewrites = 0

    class CountRewrites(sqlite3.Connection):
        def execute(self, sql, params=(), /):
            global rewrites
            rewrites += sql.startswith("UPDATE execution_orders SET plan_id")
            return super().execute(sql, params)

    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.001)
    with SQLiteExecutionStore(
        sys.argv[1], busy_timeout=60, connection_factory=CountRewrites
    ) as store:
        print(rewrites, len(store.live_orders()), store.get_order("old-7").kraken_order_id)
    """
)


@pytest.mark.subprocess
def test_two_processes_opening_one_old_file_at_once_both_read_it_migrated(tmp_path):
    db, go = tmp_path / "shared.db", tmp_path / "go"
    contract_file(db, many_orders(OLD_ROWS))
    script = tmp_path / "opener.py"
    script.write_text(OPENS_WHEN_TOLD)
    env = {**os.environ, "PYTHONPATH": child_path()}
    children = [
        subprocess.Popen(
            [sys.executable, str(script), str(db), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)  # both are waiting for the word
    go.touch()
    outputs = [child.communicate(timeout=120) for child in children]

    assert [child.returncode for child in children] == [0, 0], [err for _, err in outputs]
    lines = sorted(out.split() for out, _ in outputs)
    # one migrated every row; the other waited for it and found nothing left to do
    assert lines == [["0", str(OLD_ROWS), "TX-7"], [str(OLD_ROWS), str(OLD_ROWS), "TX-7"]]
    assert stored_rows(db) == current_rows(db)


# ---------------------------------------------------------------- reading old columns


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),
        ('{"pair": "XXBTZUSD", "volume": 0.1}', {"pair": "XXBTZUSD", "volume": "0.1"}),
        ("[1, 2]", {"raw": "[1, 2]"}),
        ("{", {"raw": "{"}),
    ],
)
def test_an_old_rows_raw_request_becomes_an_object_of_strings(value, expected):
    assert _request(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1772366400, "2026-03-01T12:00:00.000000+00:00"),
        (1772366400.5, "2026-03-01T12:00:00.500000+00:00"),
        (10**20, 10**20),  # beyond datetime: left for the decoder to refuse
        ("soon", "soon"),
        (None, None),
    ],
)
def test_an_old_rows_time_column_becomes_an_iso_time(value, expected):
    assert _time(value) == expected
