"""Clock and sleep as a port, so the shell and the fake exchange share one timeline.

Production code uses `SystemClock`. Tests and `krakked sim` pass the fake
exchange's virtual clock, which has the same three methods (structural typing:
the fake exchange does not import this module), so sleeps and timeouts advance
virtual time instantly and every run is reproducible.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


def _boot_clock() -> Callable[[], float]:
    """The monotonic clock that counts suspended time, where the platform has one."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is None:
        return time.monotonic
    return lambda: time.clock_gettime(boottime)


_since_boot = _boot_clock()


@runtime_checkable
class Clock(Protocol):
    """What the shell needs of time."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (or, on a virtual clock, advance) ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Wall-clock time in UTC."""
        return datetime.now(tz=UTC)

    def monotonic(self) -> float:
        """Seconds since boot, the time the host was suspended included (Linux's
        ``CLOCK_BOOTTIME``; `time.monotonic` where there is none).

        `time.monotonic` stands still while a laptop or a VM is suspended: exchange time,
        which the service carries forward on this clock between measurements of Kraken's
        (`kraken_bot.execution.shell._exchange_time`), would then lag Kraken's by the whole
        suspension after a resume, and an AddOrder deadline stamped from it would be long
        past. Rate-limit counters and caches age correctly across a suspension too.
        """
        return _since_boot()

    def sleep(self, seconds: float) -> None:
        """`time.sleep`, ignoring non-positive durations."""
        if seconds > 0:
            time.sleep(seconds)
