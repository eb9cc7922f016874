"""Pure: Kraken's clock as readings of its ``Time`` bound it, and when a host clock stepped.

Kraken's ``Time`` has one-second resolution. One reading bounds the offset to
the interval ``[server - t_after, server + 1 - t_before]``; a few readings are
intersected (`estimate_offset`). When the interval contains zero the offset is
taken as zero (nothing distinguishable to correct); otherwise its midpoint is
used, with half its width as the uncertainty. Readings stop once the uncertainty
is within `PRECISE_ENOUGH`, after at most `SAMPLES`.

Between measurements exchange time advances with the host's monotonic clock
(`exchange_time`); a wall clock more than `STEP` away from it has stepped
(`has_stepped`). The clock that reads and holds all this is the shell's
`kraken_bot.execution.shell._exchange_time.ExchangeClock`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

SAMPLES: Final = 3
"""Readings of ``Time`` at most, per measurement."""
PRECISE_ENOUGH: Final = timedelta(milliseconds=600)
"""An uncertainty this small ends a measurement early."""
STEP: Final = timedelta(seconds=2)
"""A wall clock this far from the monotonic one since the last measurement has stepped."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockSample:
    """One reading of Kraken's ``Time``: local times around it, and the server's second."""

    before: datetime
    after: datetime
    server_unix: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockReading:
    """The measured offset (Kraken minus local), its uncertainty, and when it was taken."""

    offset: timedelta
    uncertainty: timedelta
    measured_at: datetime


def estimate_offset(samples: Sequence[ClockSample]) -> tuple[timedelta, timedelta]:
    """The offset (Kraken minus local) the samples allow, and its uncertainty.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)
    >>> estimate_offset([ClockSample(before=t, after=t, server_unix=int(t.timestamp()))])
    (datetime.timedelta(0), datetime.timedelta(microseconds=500000))
    >>> ahead = t + timedelta(seconds=12)
    >>> offset, _ = estimate_offset([ClockSample(before=ahead, after=ahead,
    ...     server_unix=int(t.timestamp()))])
    >>> round(offset.total_seconds(), 2)
    -11.75

    Readings that contradict each other (the host clock stepped between them): the last.

    >>> later, second = t + timedelta(seconds=10), int(t.timestamp())
    >>> offset, half = estimate_offset([ClockSample(before=t, after=t, server_unix=second),
    ...     ClockSample(before=later, after=later, server_unix=second)])
    >>> offset.total_seconds(), half.total_seconds()
    (-9.75, 0.5)
    """
    low, high = float("-inf"), float("inf")
    for sample in samples:
        low = max(low, sample.server_unix - sample.after.timestamp())
        high = min(high, sample.server_unix + 1 - sample.before.timestamp())
    if low > high:  # inconsistent readings (a clock stepped meanwhile): trust the last one
        last = samples[-1]
        low = last.server_unix - last.after.timestamp()
        high = last.server_unix + 1 - last.before.timestamp()
    half = timedelta(seconds=(high - low) / 2)
    if low <= 0 <= high:
        return timedelta(0), half
    return timedelta(seconds=(low + high) / 2), half


def exchange_time(anchor: tuple[datetime, float], monotonic: float) -> datetime:
    """Exchange time now: the measurement's time ``anchor[0]``, advanced by the monotonic
    seconds since it was taken (``anchor[1]``).

    >>> from datetime import UTC
    >>> exchange_time((datetime(2026, 1, 1, tzinfo=UTC), 100.0), 102.5).isoformat()
    '2026-01-01T00:00:02.500000+00:00'
    """
    return anchor[0] + timedelta(seconds=monotonic - anchor[1])


def has_stepped(shifted_wall: datetime, exchange: datetime) -> bool:
    """True when the wall clock (shifted by the offset) is more than `STEP` from exchange
    time as the monotonic clock carried it.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> has_stepped(t + timedelta(seconds=2), t), has_stepped(t - timedelta(seconds=3), t)
    (False, True)
    """
    return abs(shifted_wall - exchange) > STEP
