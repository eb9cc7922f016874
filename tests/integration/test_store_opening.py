"""Several processes opening one database file at once: each waits its turn, none is refused.

Found while testing the store's pure parts: SQLite answers the switch to WAL "database is
locked" at once, without calling its busy handler, while another connection holds the file.
Three processes opening a new file together (the bot, a cron ``krakked run-once``, a
``krakked reconcile``) saw 15 refusals in 180 opens ("locked by another process (still busy
after 5 s ...)" within milliseconds). The switch now waits like every other statement.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from kraken_bot.execution.shell._store.connection import enter_wal
from kraken_bot.execution.shell.store import SQLiteExecutionStore


def a_rollback_journal_file(path: Path) -> sqlite3.Connection:
    """A file in SQLite's default journal mode, with a reader holding it (a shared lock)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN")
    holder.execute("SELECT * FROM t").fetchall()
    return holder


def test_the_switch_to_wal_waits_for_another_connection_to_let_go(tmp_path):
    path = tmp_path / "x.db"
    holder = a_rollback_journal_file(path)
    timer = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
    timer.start()
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)  # no busy handler: the loop waits
    began = time.monotonic()
    assert enter_wal(conn, busy_timeout=5.0) == "wal"
    assert time.monotonic() - began >= 0.15
    timer.join()
    conn.close()
    holder.close()


def test_the_switch_to_wal_gives_up_after_the_busy_timeout(tmp_path):
    path = tmp_path / "x.db"
    holder = a_rollback_journal_file(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)  # no busy handler: the loop waits
    began = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enter_wal(conn, busy_timeout=0.2)
    assert time.monotonic() - began >= 0.2
    conn.close()
    holder.close()


def test_another_error_is_not_retried(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.close()
    with pytest.raises(sqlite3.ProgrammingError):
        enter_wal(conn, busy_timeout=5.0)


def test_four_threads_opening_a_new_file_at_once_all_open_it(tmp_path):
    """Before the fix, about one open in a hundred was refused here."""
    refused: list[BaseException] = []
    for round_ in range(300):
        path = tmp_path / f"new-{round_}.db"
        start = threading.Barrier(4)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                SQLiteExecutionStore(path).close()
            except Exception as error:
                refused.append(error)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert refused == []
