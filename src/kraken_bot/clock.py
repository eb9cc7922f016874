"""Clock and sleep as a port, so the shell and the fake exchange share one timeline.

Production code uses `SystemClock`. Tests and `krakked sim` pass the fake
exchange's virtual clock, which has the same three methods (structural typing:
the fake exchange does not import this module), so sleeps and timeouts advance
virtual time instantly and every run is reproducible.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


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
        """`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """`time.sleep`, ignoring non-positive durations."""
        if seconds > 0:
            time.sleep(seconds)
