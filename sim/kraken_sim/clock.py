"""Clocks for the fake exchange: a virtual one for tests, the wall clock for serving.

Both implement the same three-method port (:class:`Clock`). The engine reads time only through
it, so a test drives matching, expiries and the dead-man switch by advancing a
:class:`VirtualClock`, and a served exchange follows real time with :class:`WallClock`.

Virtual time is kept as an integer count of nanoseconds since the clock's start, so repeated
sleeps never accumulate float rounding and two runs see identical timestamps.

>>> from datetime import UTC, datetime
>>> clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
>>> clock.sleep(1.5)
>>> clock.now().isoformat()
'2026-01-01T00:00:01.500000+00:00'
>>> clock.monotonic()
1.5
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "VirtualClock", "WallClock"]

_NS_PER_S = 1_000_000_000


@runtime_checkable
class Clock(Protocol):
    """The time port: what the engine and the fronts need to know about time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass (really, or virtually)."""
        ...


class VirtualClock:
    """A thread-safe clock that moves only when told to.

    ``sleep(s)`` returns at once and moves time to ``max(now, t_at_call + s)``: two threads
    sleeping 5 s at the same moment advance time by 5 s, not 10, as they would in real life.

    >>> from datetime import UTC, datetime
    >>> clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    >>> clock.advance(60)
    >>> clock.now().isoformat()
    '2026-01-01T00:01:00+00:00'
    """

    __slots__ = ("_last", "_lock", "_ns", "_start")

    def __init__(self, start: datetime | None = None) -> None:
        start = start if start is not None else datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time")
        self._start = start.astimezone(UTC)
        self._ns = 0
        self._lock = threading.Lock()
        self._last = (0, self._start)
        """The last `now` answer and its nanoseconds (one value: read atomically)."""

    def now(self) -> datetime:
        """The current virtual time (UTC, microsecond resolution)."""
        ns = self._ns
        last_ns, last = self._last
        if ns == last_ns:  # asked again before time moved: most calls are
            return last
        moment = self._start + timedelta(microseconds=ns // 1000)
        self._last = (ns, moment)
        return moment

    def monotonic(self) -> float:
        """Virtual seconds since the clock's start."""
        return self._ns / _NS_PER_S

    def sleep(self, seconds: float) -> None:
        """Advance virtual time to ``max(now, t_at_call + seconds)``; returns immediately."""
        target = self._ns + _to_ns(seconds)
        with self._lock:
            self._ns = max(self._ns, target)

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds`` (negative values are refused)."""
        step = _to_ns(seconds)
        with self._lock:
            self._ns += step

    def advance_to(self, moment: datetime) -> None:
        """Move virtual time forward to ``moment`` (never backwards)."""
        delta = moment.astimezone(UTC) - self._start
        target = (delta // timedelta(microseconds=1)) * 1000
        with self._lock:
            self._ns = max(self._ns, target)


class WallClock:
    """Real time: ``datetime.now(UTC)``, ``time.monotonic`` and ``time.sleep``."""

    __slots__ = ()

    def now(self) -> datetime:
        """The current wall-clock time in UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)


def _to_ns(seconds: float) -> int:
    if seconds < 0:
        raise ValueError(f"cannot move time backwards by {seconds} s")
    return round(seconds * _NS_PER_S)
