"""Nonces for private Kraken calls: strictly increasing, across threads and restarts (shell).

Kraken refuses a nonce that is not above the last one it accepted for the API
key (``EAPI:Invalid nonce``). `NonceSource.next` returns
``max(last + 1, now_in_unit)``, under a lock, so nonces never repeat or go
down, even when the wall clock steps backwards.

Across restarts a state file keeps a *high-water mark*: a value above every
nonce handed out so far. Writing it on every call would cost a disk write per
request, so the source reserves ahead instead: when a nonce would pass the
mark, it first persists a new mark ``reserve_seconds`` (10 s) worth of units
beyond it, atomically (temporary file, fsync, `os.replace`), and only then
returns the nonce. A new process starts above the persisted mark, so it can
never reuse or undercut a nonce of a previous process, whatever its clock says.
`close` writes the exact last nonce instead, so after a clean exit the next
process simply follows the clock; only a crash leaves the key's nonces up to
one reserve ahead of the clock (which another tool on the same key would feel
as ``EAPI:Invalid nonce`` for at most that long).
The file also records the unit: Kraken's counter is per key, and switching the
unit on a used key (ms after ns) would produce nonces below old ones, so a
mismatch is refused.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from kraken_bot.clock import Clock

UNITS: Final[dict[str, int]] = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
"""Supported nonce units, as units per second."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


class NonceStateError(RuntimeError):
    """The nonce state file cannot be read, parsed or written, or names another unit."""


class NonceSource:
    """Thread-safe, strictly increasing nonces for one API key.

    Args:
        clock: wall-clock source (``now()``); a virtual clock in tests.
        state_file: where the high-water mark is kept across restarts (None: in memory only).
        unit: ``ms`` (default, as Kraken's examples), ``us``, ``ns`` or ``s``. Never change
            the unit of a key that has been used.
        reserve_seconds: how far ahead of use the persisted mark is set.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        state_file: Path | None = None,
        unit: str = "ms",
        reserve_seconds: float = 10.0,
    ) -> None:
        if unit not in UNITS:
            raise ValueError(f"nonce unit must be one of {', '.join(UNITS)}, got {unit!r}")
        if reserve_seconds <= 0:
            raise ValueError("reserve_seconds must be positive")
        self._clock = clock
        self._state_file = state_file
        self._unit = unit
        self._per_second = UNITS[unit]
        self._reserve = max(1, int(reserve_seconds * self._per_second))
        self._lock = threading.Lock()
        self._persisted = self._load() if state_file is not None else 0
        self._last = self._persisted
        self.writes = 0
        """How many times the state file was written (for tests and diagnostics)."""

    @property
    def unit(self) -> str:
        """The nonce unit (``ms``, ``us``, ``ns`` or ``s``)."""
        return self._unit

    @property
    def last(self) -> int:
        """The last nonce handed out (or the mark a restarted source starts above)."""
        with self._lock:
            return self._last

    def next(self) -> int:
        """The next nonce: ``max(last + 1, now_in_unit)``; persists a new mark first if needed."""
        now = self._now_in_unit()
        with self._lock:
            nonce = max(self._last + 1, now)
            if self._state_file is not None and nonce > self._persisted:
                mark = nonce + self._reserve
                self._store(self._state_file, mark)
                self._persisted = mark
            self._last = nonce
            return nonce

    def close(self) -> None:
        """Persist the exact last nonce, so the next process starts right above it."""
        with self._lock:
            if self._state_file is not None and self._last > 0 and self._persisted > self._last:
                self._store(self._state_file, self._last)
                self._persisted = self._last

    def _now_in_unit(self) -> int:
        micros = (self._clock.now() - _EPOCH) // _MICROSECOND
        if self._per_second >= 1_000_000:
            return micros * (self._per_second // 1_000_000)
        return micros // (1_000_000 // self._per_second)

    def _load(self) -> int:
        assert self._state_file is not None
        try:
            text = self._state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise NonceStateError(f"cannot read nonce state {self._state_file}: {exc}") from None
        try:
            data = json.loads(text)
            unit, mark = data["unit"], data["high_water"]
        except (ValueError, TypeError, KeyError):
            raise NonceStateError(
                f"nonce state {self._state_file} is not valid; delete it only if no process"
                " uses this API key (the next nonces then follow the clock)"
            ) from None
        if unit != self._unit:
            raise NonceStateError(
                f"nonce state {self._state_file} was written with unit {unit!r}, not"
                f" {self._unit!r}: changing the unit of a used key makes Kraken refuse nonces"
            )
        if isinstance(mark, bool) or not isinstance(mark, int) or mark < 0:
            raise NonceStateError(f"nonce state {self._state_file}: bad high_water {mark!r}")
        return mark

    def _store(self, path: Path, mark: int) -> None:
        payload = json.dumps({"unit": self._unit, "high_water": mark}).encode("ascii")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                Path(tmp).replace(path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise NonceStateError(f"cannot write nonce state {path}: {exc}") from None
        self.writes += 1
