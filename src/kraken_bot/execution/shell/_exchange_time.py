"""Exchange time: Kraken's clock as this host measures it (shell).

Deadlines Kraken enforces (AddOrder ``deadline``), the windows in which an
order may be missing from its listings, and the identity check of userref
orders (Kraken's ``opentm`` against our first send) all compare our times with
Kraken's. A host whose clock drifts seconds from Kraken's would have every
order refused (``EService:Deadline elapsed``) or would fail to recognise its
own orders and send them twice. So the service reads time through an
`ExchangeClock`: the local clock plus an offset measured against Kraken's
public ``Time`` (the arithmetic is pure: `kraken_bot.execution.core.clock_offset`).

Between measurements exchange time advances with the host's *monotonic* clock
from the last measurement, not with its wall clock: an NTP step or a resumed VM
moves the wall clock by seconds at once, and an order sent just after such a
step must still carry the right deadline and be looked up in the right window
(a lookup that misses an order whose answer was lost sends it twice). A step is
noticed (`stepped`) by comparing the two clocks, and the service measures again
at its next tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from kraken_bot.clock import Clock, SystemClock
from kraken_bot.execution.core.clock_offset import (
    PRECISE_ENOUGH,
    SAMPLES,
    ClockReading,
    ClockSample,
    estimate_offset,
    exchange_time,
    has_stepped,
)
from kraken_bot.execution.core.housekeeping import offset_worth_telling

__all__ = [
    "ClockReading",
    "ClockSample",
    "ExchangeClock",
    "estimate_offset",
    "exchange_clock",
]

log = logging.getLogger("kraken_bot.execution")


class ExchangeClock:
    """The local clock, shifted by the measured offset to Kraken's. Thread-safe.

    ``sleep`` and ``monotonic`` are the local clock's; ``now`` is exchange time.
    """

    def __init__(self, local: Clock) -> None:
        self._local = local
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._anchor: tuple[datetime, float] | None = None  # (exchange time, monotonic)
        self._stepped = False
        self.reading: ClockReading | None = None
        """The last successful measurement (None: never measured)."""

    @property
    def local(self) -> Clock:
        """The host's own clock."""
        return self._local

    @property
    def offset(self) -> timedelta:
        """Kraken's time minus the host's (zero until measured)."""
        with self._lock:
            return self._offset

    @property
    def stepped(self) -> bool:
        """True when the host's wall clock jumped since the last measurement."""
        with self._lock:
            return self._stepped

    def now(self) -> datetime:
        """Exchange time: the last measurement advanced by the monotonic clock.

        Before any measurement, the local time. A wall clock that moved away from
        the monotonic one by more than two seconds marks the clock `stepped`.
        """
        with self._lock:
            anchor, offset = self._anchor, self._offset
        local = self._local.now()
        if anchor is None:
            return local + offset
        exchange = exchange_time(anchor, self._local.monotonic())
        if has_stepped(local + offset, exchange):
            with self._lock:
                first = not self._stepped and self._anchor is anchor
                if self._anchor is anchor:
                    self._stepped = True
            if first:
                log.warning(
                    "the host clock jumped by %+.1f s since Kraken's clock was measured;"
                    " exchange time follows the monotonic clock until it is measured again",
                    (local + offset - exchange).total_seconds(),
                )
        return exchange

    def monotonic(self) -> float:
        """The local monotonic clock."""
        return self._local.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep on the local clock."""
        self._local.sleep(seconds)

    def measure(self, server_unix: Callable[[], int]) -> ClockReading:
        """Read Kraken's ``Time`` a few times and adopt the offset they allow.

        Raises whatever ``server_unix`` raises (the caller decides whether an
        unknown offset is acceptable).
        """
        samples: list[ClockSample] = []
        offset, uncertainty = timedelta(0), timedelta(0)
        for _ in range(SAMPLES):
            before = self._local.now()
            unix = server_unix()
            samples.append(ClockSample(before=before, after=self._local.now(), server_unix=unix))
            offset, uncertainty = estimate_offset(samples)
            if uncertainty <= PRECISE_ENOUGH:
                break
        measured_at = self._local.now() + offset
        reading = ClockReading(offset=offset, uncertainty=uncertainty, measured_at=measured_at)
        with self._lock:
            news = offset_worth_telling(self._offset, offset)
            self._offset = offset
            self._anchor = (measured_at, self._local.monotonic())
            self._stepped = False
            self.reading = reading
        if news:
            log.info(
                "clock offset to Kraken: %+.3f s (+/- %.3f s)",
                offset.total_seconds(),
                uncertainty.total_seconds(),
            )
        return reading


def exchange_clock(clock: Clock | None) -> ExchangeClock:
    """``clock`` read in Kraken's time (an `ExchangeClock` is kept as it is; None is the
    host's own clock)."""
    if isinstance(clock, ExchangeClock):
        return clock
    return ExchangeClock(clock if clock is not None else SystemClock())
