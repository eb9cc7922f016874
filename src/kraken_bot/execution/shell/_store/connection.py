"""The SQLite file behind the execution store: opening it, and saying what went wrong.

`check_location` catches, before SQLite is asked, what SQLite would report
vaguely or only at the first write: a directory instead of a file, a missing
directory, a file or directory that cannot be written (SQLite creates its
``-wal`` and ``-shm`` files next to the database). `connect` opens the one
connection the store uses: autocommit (the store issues its own ``BEGIN
IMMEDIATE``), usable from any thread (the store holds a lock), and
``mode=ro`` for inspection. `enter_wal` switches a writable file to WAL, waiting
out other processes doing the same (SQLite answers that switch "locked" at once,
without its busy handler). `describe` turns a `sqlite3.Error` into a sentence
naming the file: locked, read-only, not a database, disk full, corrupt.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from kraken_bot.execution.exceptions import StoreError


def check_location(path: Path, *, read_only: bool) -> None:
    """Raise `StoreError` when the store could not use ``path`` (see the module docstring)."""
    where = str(path)
    if path.is_dir():
        raise StoreError(f"{where} is a directory, not a SQLite database file", path=where)
    parent = path.absolute().parent
    if not parent.is_dir():
        raise StoreError(
            f"{where}: directory {parent} does not exist (create it, or fix storage.path)",
            path=where,
        )
    if read_only:
        if not path.exists():
            raise StoreError(f"{where} does not exist: no execution records to inspect", path=where)
        return
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(
            f"{where} is read-only: execution records cannot be written (the file is not writable)",
            path=where,
        )
    if not os.access(parent, os.W_OK):
        raise StoreError(
            f"{where} is read-only: execution records cannot be written "
            f"(directory {parent} is not writable; SQLite creates its -wal and -shm files there)",
            path=where,
        )


def connect(
    path: Path, busy_timeout: float, read_only: bool, factory: type[sqlite3.Connection]
) -> sqlite3.Connection:
    """Open the store's connection (see the module docstring)."""
    target = f"{path.absolute().as_uri()}?mode=ro" if read_only else str(path)
    return sqlite3.connect(
        target,
        timeout=busy_timeout,
        isolation_level=None,
        check_same_thread=False,
        uri=read_only,
        factory=factory,
    )


WAL_RETRY_SECONDS = 0.01
"""The pause between two tries of the switch to WAL while another process holds the file."""


def enter_wal(conn: sqlite3.Connection, busy_timeout: float) -> str:
    """Switch to WAL and return the journal mode the file has then.

    Changing the journal mode needs the file to itself, and SQLite reports "database is
    locked" at once (its busy handler is not called) while another connection holds a
    lock: two processes opening a new file together, such as the bot and a
    ``krakked reconcile``, would see one of them refused. So the switch is tried again
    for up to ``busy_timeout`` seconds, like every other statement waits.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        except sqlite3.OperationalError as error:
            if _primary_code(error) not in _BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(WAL_RETRY_SECONDS)
            continue
        return str(mode)


_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _primary_code(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``error`` (its extended code's low byte), if given."""
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any; an error doing so is ignored."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def describe(  # noqa: PLR0911 - one sentence per SQLite error class
    path: str, error: sqlite3.Error, doing: str, busy_timeout: float
) -> str:
    """A `sqlite3.Error` met while ``doing`` something, in words naming the file."""
    primary = _primary_code(error)
    if primary == sqlite3.SQLITE_NOTADB:
        return f"{path} is not a SQLite database ({error})"
    if primary in _BUSY:
        return (
            f"{path} is locked by another process (still busy after {busy_timeout:g} s "
            f"while {doing})"
        )
    if primary == sqlite3.SQLITE_READONLY:
        return f"{path} is read-only: execution records cannot be written ({error})"
    if primary == sqlite3.SQLITE_CANTOPEN:
        return f"{path} cannot be opened ({error})"
    if primary == sqlite3.SQLITE_FULL:
        return f"{path}: the disk is full while {doing} ({error})"
    if primary == sqlite3.SQLITE_CORRUPT:
        return f"{path} is corrupt ({error})"
    return f"{path}: {doing} failed ({error})"
