"""Nonces for private Kraken calls: one strictly increasing source per API key (shell).

Kraken refuses a nonce that is not above the last one it accepted for the API
key (``EAPI:Invalid nonce``), and it checks them in the order the requests
*arrive*. So every process that uses a key on this machine must draw its
nonces from one source and keep the order until the request is sent.

`NonceSource.reserve` does exactly that. It takes a thread lock and, when the
source has a state file, an exclusive ``flock`` on that file (the operating
system releases it if the process dies, even on SIGKILL); reads the last nonce
any process wrote there; hands out ``max(last + 1, now_in_unit)``; writes it
back; and keeps both locks until the caller's ``with`` block ends, i.e. until
the request was signed and sent. A second command on the same key therefore
waits its turn instead of making the running one fail, and a nonce error
becomes a bug signal (another tool using the key outside this file).

The file needs no fsync: nonces follow the clock, so after a power loss the
clock is past any nonce the lost write held. The file records the unit as
well: switching the unit of a used key (ms after ns) would produce nonces
below old ones, so a mismatch is refused.

By default the file lives in the user's state directory and is named after a
fingerprint of the API key (`nonce_file_for`), so every configuration and
database using that key on the machine shares it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from kraken_bot._errors import ExecutionError
from kraken_bot.clock import Clock
from kraken_bot.config import KrakenConfig

UNITS: Final[dict[str, int]] = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
"""Supported nonce units, as units per second."""

ENV_STATE_DIR: Final = "KRAKKED_STATE_DIR"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


class NonceStateError(ExecutionError, RuntimeError):
    """The nonce state file cannot be read, parsed or written, or names another unit.

    Raised by ``ExecutionService.from_config`` (opening the key's nonce file) and by any
    private call (taking a nonce).
    """


def default_state_dir(env: Mapping[str, str]) -> Path:
    """Where per-key state lives: ``$KRAKKED_STATE_DIR``, else ``$XDG_STATE_HOME/krakked``,
    else ``~/.local/state/krakked``."""
    if env.get(ENV_STATE_DIR):
        return Path(env[ENV_STATE_DIR])
    if env.get("XDG_STATE_HOME"):
        return Path(env["XDG_STATE_HOME"]) / "krakked"
    return Path(env.get("HOME") or Path.home()) / ".local" / "state" / "krakked"


def key_fingerprint(api_key: str) -> str:
    """A short, one-way name for an API key (file names; never the key itself).

    >>> key_fingerprint("my key")
    'a0e12d601e10154f'
    """
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


def nonce_file_for(api_key: str | None, state_dir: Path) -> Path:
    """The nonce file every process using ``api_key`` on this machine shares."""
    name = key_fingerprint(api_key) if api_key else "no-key"
    return state_dir / f"nonce-{name}.json"


def state_dir_for(config: KrakenConfig, env: Mapping[str, str] | None = None) -> Path:
    """The state directory for ``config`` (``kraken.state_dir``, else `default_state_dir`)."""
    if config.state_dir:
        return Path(config.state_dir)
    return default_state_dir(os.environ if env is None else env)


IN_MEMORY: Final = ":memory:"
"""``kraken.nonce_state_file`` for nonces kept by this process alone: a key no other process
uses (the replay's, on its own fake exchange)."""


def nonce_file(config: KrakenConfig, env: Mapping[str, str] | None = None) -> Path | None:
    """The one rule for a key's nonce file: ``kraken.nonce_state_file`` when set (None, in
    memory, for `IN_MEMORY`), else the file of the key's fingerprint in the state directory
    (shared by every process)."""
    if config.nonce_state_file == IN_MEMORY:
        return None
    if config.nonce_state_file:
        return Path(config.nonce_state_file)
    key = config.api_key.reveal() if config.api_key is not None else None
    return nonce_file_for(key, state_dir_for(config, env))


class NonceSource:
    """Strictly increasing nonces for one API key, across threads and processes.

    Args:
        clock: wall-clock source (``now()``); a virtual clock in tests.
        state_file: the key's shared state file (None: in memory only, this process).
        unit: ``ms`` (default, as Kraken's examples), ``us``, ``ns`` or ``s``. Never change
            the unit of a key that has been used.
    """

    def __init__(self, *, clock: Clock, state_file: Path | None = None, unit: str = "ms") -> None:
        if unit not in UNITS:
            raise ValueError(f"nonce unit must be one of {', '.join(UNITS)}, got {unit!r}")
        self._clock = clock
        self._state_file = state_file
        self._unit = unit
        self._per_second = UNITS[unit]
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._last = 0
        self.writes = 0
        """How many times the state file was written (for tests and diagnostics)."""
        if state_file is not None:
            with self._locked_file() as fd:
                self._last = self._read(fd)

    @property
    def unit(self) -> str:
        """The nonce unit (``ms``, ``us``, ``ns`` or ``s``)."""
        return self._unit

    @property
    def state_file(self) -> Path | None:
        """The shared state file, if any."""
        return self._state_file

    @property
    def last(self) -> int:
        """The last nonce this source handed out (or read from the shared file)."""
        with self._lock:
            return self._last

    def next(self) -> int:
        """A nonce for a caller that does not need to hold the order until sending."""
        with self.reserve() as nonce:
            return nonce

    @contextlib.contextmanager
    def reserve(self) -> Iterator[int]:
        """The next nonce, with the key's order held until the block ends.

        Sign and send the request inside the block: no other thread or process
        using this key can take a nonce until it is over.
        """
        with self._lock:
            if self._state_file is None:
                self._last = max(self._last + 1, self._now_in_unit())
                yield self._last
                return
            with self._locked_file() as fd:
                shared = self._read(fd)
                nonce = max(self._last + 1, shared + 1, self._now_in_unit())
                self._write(fd, nonce)
                self._last = nonce
                yield nonce

    def close(self) -> None:
        """Release the state file."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    # ---------------------------------------------------------------- the file

    @contextlib.contextmanager
    def _locked_file(self) -> Iterator[int]:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise NonceStateError(f"cannot lock nonce state {self._state_file}: {exc}") from None
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int:
        if self._fd is None:
            assert self._state_file is not None
            try:
                self._state_file.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self._state_file, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise NonceStateError(
                    f"cannot open nonce state {self._state_file}: {exc}"
                ) from None
        return self._fd

    def _read(self, fd: int) -> int:
        try:
            raw = os.pread(fd, 4096, 0)
        except OSError as exc:
            raise NonceStateError(f"cannot read nonce state {self._state_file}: {exc}") from None
        if not raw.strip():
            return 0
        try:
            data = json.loads(raw)
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

    def _write(self, fd: int, nonce: int) -> None:
        payload = json.dumps({"unit": self._unit, "high_water": nonce}).encode("ascii")
        try:
            os.pwrite(fd, payload, 0)
            os.ftruncate(fd, len(payload))
        except OSError as exc:
            raise NonceStateError(f"cannot write nonce state {self._state_file}: {exc}") from None
        self.writes += 1

    def _now_in_unit(self) -> int:
        micros = (self._clock.now() - _EPOCH) // _MICROSECOND
        if self._per_second >= 1_000_000:
            return micros * (self._per_second // 1_000_000)
        return micros // (1_000_000 // self._per_second)
