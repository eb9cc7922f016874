"""Every database problem is a clear StoreError naming the file, raised when the store opens.

The service opens the store before it sends anything, so these are the errors a
user meets instead of a half-executed plan. Each case uses a real file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kraken_bot.execution.core.models import LocalOrder, OrderStatus, OrderType, Side
from kraken_bot.execution.exceptions import ExecutionError, StoreError
from kraken_bot.execution.shell.store import SQLiteExecutionStore

IS_ROOT = os.geteuid() == 0
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
READ_ONLY = "is read-only: execution records cannot be written"


def an_order(**overrides: Any) -> LocalOrder:
    fields: dict[str, Any] = {
        "local_id": "L-1",
        "plan_id": "plan-1",
        "strategy_id": None,
        "pair": "XBTUSD",
        "side": Side.BUY,
        "order_type": OrderType.MARKET,
        "kraken_order_id": None,
        "userref": None,
        "client_order_id": "cl-L-1",
        "requested_base_size": Decimal("0.5"),
        "requested_price": None,
        "status": OrderStatus.PENDING,
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return LocalOrder(**fields)


def open_error(path: Path, **options: Any) -> StoreError:
    with pytest.raises(StoreError) as caught:
        SQLiteExecutionStore(path, **options)
    error = caught.value
    assert str(path) in str(error)
    assert error.path == str(path)
    assert isinstance(error, ExecutionError)
    return error


def a_store_file(path: Path) -> Path:
    with SQLiteExecutionStore(path) as store:
        store.save_order(an_order(), event="created")
    return path


# ---------------------------------------------------------------- not a database


def test_a_text_file_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("plan: buy low, sell high\n" * 50)

    error = open_error(path)

    assert str(error) == f"{path} is not a SQLite database (file is not a database)"
    assert path.read_text().startswith("plan: buy low")


def test_a_directory_is_not_a_database(tmp_path):
    error = open_error(tmp_path)

    assert str(error) == f"{tmp_path} is a directory, not a SQLite database file"


def test_an_empty_file_becomes_a_new_database(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()

    with SQLiteExecutionStore(path) as store:
        assert store.recent_orders() == []


# ---------------------------------------------------------------- missing directory


def test_a_missing_parent_directory_is_named(tmp_path):
    path = tmp_path / "no" / "such" / "dir" / "portfolio.db"

    error = open_error(path)

    assert str(error).startswith(f"{path}: directory {tmp_path / 'no' / 'such' / 'dir'} does not")
    assert not (tmp_path / "no").exists()


# ---------------------------------------------------------------- read-only


@pytest.mark.skipif(IS_ROOT, reason="root ignores file permissions; see the chattr/mode=ro tests")
def test_a_read_only_file_is_refused(tmp_path):
    path = a_store_file(tmp_path / "portfolio.db")
    path.chmod(0o444)
    try:
        error = open_error(path)
    finally:
        path.chmod(0o644)

    assert str(error).startswith(f"{path} {READ_ONLY}")


@pytest.mark.skipif(IS_ROOT, reason="root ignores directory permissions; see the chattr test")
def test_a_read_only_directory_is_refused(tmp_path):
    directory = tmp_path / "ro"
    directory.mkdir()
    path = a_store_file(directory / "portfolio.db")
    directory.chmod(0o555)
    try:
        existing = open_error(path)
        new = open_error(directory / "new.db")
    finally:
        directory.chmod(0o755)

    assert str(existing).startswith(f"{path} {READ_ONLY}")
    assert "is not writable" in str(existing)
    assert str(new).startswith(f"{directory / 'new.db'} {READ_ONLY}")


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Paths made immutable with chattr +i, which binds even root; undone afterwards."""
    if not IS_ROOT or shutil.which("chattr") is None:
        pytest.skip("chattr +i needs root and e2fsprogs")
    marked: list[Path] = []
    yield marked
    for path in reversed(marked):
        subprocess.run(["chattr", "-i", str(path)], check=True)


def make_immutable(path: Path, marked: list[Path]) -> None:
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this filesystem refuses chattr +i: {done.stderr.decode().strip()}")
    marked.append(path)


def test_an_immutable_file_is_read_only_even_for_root(tmp_path, immutable):
    path = a_store_file(tmp_path / "portfolio.db")
    make_immutable(path, immutable)

    error = open_error(path)

    assert str(error).startswith(f"{path} {READ_ONLY}")


def test_an_immutable_directory_is_read_only_even_for_root(tmp_path, immutable):
    directory = tmp_path / "locked-dir"
    directory.mkdir()
    make_immutable(directory, immutable)

    error = open_error(directory / "portfolio.db")

    assert str(error).startswith(f"{directory / 'portfolio.db'} {READ_ONLY}")


def test_a_store_opened_read_only_reads_and_refuses_every_write(tmp_path):
    path = a_store_file(tmp_path / "portfolio.db")

    with SQLiteExecutionStore(path, read_only=True) as store:
        assert store.get_order("L-1") == an_order()
        assert [e.event for e in store.events_for("L-1")] == ["created"]
        for write in (
            lambda: store.save_order(an_order(status=OrderStatus.SUBMITTED)),
            lambda: store.save_orders([an_order(local_id="L-2")]),
        ):
            with pytest.raises(StoreError) as caught:
                write()
            assert str(caught.value).startswith(f"{path} {READ_ONLY}")

    with SQLiteExecutionStore(path) as store:
        assert store.get_order("L-1") == an_order()


def test_reading_a_missing_file_read_only_creates_nothing(tmp_path):
    path = tmp_path / "absent.db"

    error = open_error(path, read_only=True)

    assert "does not exist" in str(error)
    assert not path.exists()


def test_reading_a_database_without_execution_tables_says_so(tmp_path):
    path = tmp_path / "phase3.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE trades (trade_id TEXT)")
    conn.close()

    error = open_error(path, read_only=True)

    assert "table execution_orders is missing" in str(error)
    assert "open it once for writing" in str(error)


# ---------------------------------------------------------------- locked


@pytest.fixture
def other_process() -> Iterator[list[sqlite3.Connection]]:
    """Connections standing in for another process; rolled back and closed afterwards."""
    held: list[sqlite3.Connection] = []
    yield held
    for conn in held:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def hold_exclusive(path: Path, held: list[sqlite3.Connection]) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    held.append(conn)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_a_new_database_locked_by_another_process_is_refused(tmp_path, other_process):
    path = tmp_path / "portfolio.db"
    sqlite3.connect(path).close()
    hold_exclusive(path, other_process)

    error = open_error(path, busy_timeout=0.05)

    assert str(error).startswith(f"{path} is locked by another process")


def test_an_existing_store_locked_by_another_process_is_refused(tmp_path, other_process):
    path = a_store_file(tmp_path / "portfolio.db")
    hold_exclusive(path, other_process)

    error = open_error(path, busy_timeout=0.05)

    assert str(error).startswith(f"{path} is locked by another process")


def test_a_write_blocked_past_the_busy_timeout_fails_cleanly_and_the_store_recovers(
    tmp_path, other_process
):
    path = tmp_path / "portfolio.db"
    with SQLiteExecutionStore(path, busy_timeout=0.05) as store:
        other = hold_exclusive(path, other_process)

        with pytest.raises(StoreError) as caught:
            store.save_order(an_order(), event="created")
        assert str(caught.value).startswith(f"{path} is locked by another process")

        other.execute("ROLLBACK")
        store.save_order(an_order(), event="created")
        assert [e.event for e in store.events_for("L-1")] == ["created"]


def test_a_short_lock_is_waited_out_within_the_busy_timeout(tmp_path, other_process):
    path = a_store_file(tmp_path / "portfolio.db")
    other = hold_exclusive(path, other_process)
    release = threading.Timer(0.05, lambda: other.execute("ROLLBACK"))
    release.start()
    try:
        with SQLiteExecutionStore(path, busy_timeout=5) as store:
            store.save_order(an_order(status=OrderStatus.SUBMITTED))
            saved = store.get_order("L-1")
    finally:
        release.join()
    assert saved is not None
    assert saved.status is OrderStatus.SUBMITTED
