"""Who may still send an order, and who owns the account's live work (shell).

Two questions other processes must be able to answer about a service, even if
it was killed without a chance to say goodbye:

* **Is this send claim alive?** Every service instance has an owner id. It
  holds an exclusive ``flock`` on ``<state>/owners/<owner id>.lock`` for as long
  as it lives; the operating system releases the lock when the process dies,
  even on SIGKILL. `ClaimRegistry.alive` tries to take that lock: if it can,
  the owner is gone. Services in this process are known directly.
* **Who owns the account?** Placing live orders and arming the dead-man switch
  is one process's job per API key (`AccountLease`: an exclusive ``flock`` on
  ``<state>/account-<key fingerprint>.lock``, with the holder's pid and start
  time written inside for messages). A second live service refuses to start
  and names the holder; read, cancel and reconcile commands need no lease.

Both work across processes on one machine (file locks do not cross hosts:
one database and one API key belong to one machine).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Final

from kraken_bot.execution.core.lease import lease_holder, lease_record
from kraken_bot.execution.exceptions import AccountInUseError

_OWNERS: Final = "owners"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in {errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES}:
            return False
        raise
    return True


class ClaimRegistry:
    """Liveness of service instances (send-claim owners) sharing one state directory.

    Args:
        directory: where the owners' lock files live (None: this process only, kept in a
            set shared by every registry of the process).
    """

    _local: ClassVar[set[str]] = set()
    _local_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory / _OWNERS if directory is not None else None
        self._held: dict[str, int] = {}

    def register(self, owner: str) -> None:
        """Start holding ``owner``'s lock (until `release` or the process's death)."""
        if self._directory is None:
            with self._local_lock:
                self._local.add(owner)
            return
        self._directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._directory / f"{owner}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            raise RuntimeError(f"owner id {owner} is already in use")
        self._held[owner] = fd

    def release(self, owner: str) -> None:
        """Stop holding ``owner``'s lock (as the OS does when the process dies)."""
        with self._local_lock:
            self._local.discard(owner)
        fd = self._held.pop(owner, None)
        if fd is None or self._directory is None:
            return
        with contextlib.suppress(OSError):
            (self._directory / f"{owner}.lock").unlink()
        os.close(fd)

    def alive(self, owner: str) -> bool:
        """True while the service instance ``owner`` may still be running.

        With a directory, the lock file decides, for services of this process too (each
        holds its own open file: one service's death is seen even beside another).
        """
        if self._directory is None:
            with self._local_lock:
                return owner in self._local
        path = self._directory / f"{owner}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            if not _try_lock(fd):
                return True
            with contextlib.suppress(OSError):
                path.unlink()  # a dead owner's lock file: tidy it
            return False
        finally:
            os.close(fd)


class AccountLease:
    """The right to place live orders and to arm the dead-man switch on one API key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this process holds the lease."""
        return self._fd is not None

    def acquire(self, *, now: datetime) -> None:
        """Take the lease, or raise `AccountInUseError` naming the process that holds it."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            holder = lease_holder(os.pread(fd, 4096, 0))
            os.close(fd)
            raise AccountInUseError(
                f"another krakked process owns live trading on this API key ({holder});"
                " one process per key places orders and keeps the dead-man switch:"
                " stop it first, or use `krakked cancel` / `krakked reconcile` beside it",
                holder=holder,
            )
        payload = lease_record(pid=os.getpid(), since=now)
        os.pwrite(fd, payload, 0)
        os.ftruncate(fd, len(payload))
        self._fd = fd

    def release(self) -> None:
        """Give the lease up (as the OS does when the process dies)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
