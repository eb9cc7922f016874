"""Pure: whether a read or a cancel is tried again after an error, and after how long.

Reads (market data, order listings) and cancels are safe to repeat: a second read
changes nothing, a second cancel only answers "not open". So an error Kraken may not
repeat (`KrakenAPIError.transient`: anything but permanent) is tried again after the
next of a list of waits (`read_waits`: the configured backoff); a permanent one, one
the caller never retries, or one after the last wait, is given up on
(`wait_before_retry`). The loop that sleeps and calls is the shell's
(`kraken_bot.execution.shell._retry.retry_reads`).

>>> from kraken_bot.config import ExecutionConfig
>>> read_waits(ExecutionConfig(max_retries=3))
(2.0, 4.0, 8.0)
"""

from __future__ import annotations

from collections.abc import Sequence

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.policy import backoff_seconds
from kraken_bot.kraken.errors import KrakenAPIError

__all__ = ["read_waits", "wait_before_retry"]


def read_waits(config: ExecutionConfig) -> tuple[float, ...]:
    """The waits between attempts of a read or cancel: ``max_retries`` of them, on the
    configured backoff (`policy.backoff_seconds`)."""
    return tuple(backoff_seconds(k, config) for k in range(1, config.max_retries + 1))


def wait_before_retry(
    error: KrakenAPIError,
    *,
    retry: int,
    waits: Sequence[float],
    never_retry: tuple[type[KrakenAPIError], ...] = (),
) -> float | None:
    """Seconds to wait before trying again after attempt ``retry`` (counted from 0) failed
    with ``error``; None to give up and raise it: a permanent error, one of
    ``never_retry``, or every one of ``waits`` already spent.

    >>> from kraken_bot.kraken.errors import error_from_kraken
    >>> busy = error_from_kraken(["EService:Busy"])
    >>> wait_before_retry(busy, retry=1, waits=[1.0, 2.0]), wait_before_retry(busy, retry=2,
    ...     waits=[1.0, 2.0])
    (2.0, None)
    >>> print(wait_before_retry(error_from_kraken(["EOrder:Insufficient funds"]), retry=0,
    ...     waits=[1.0]))
    None
    """
    if not error.transient or isinstance(error, never_retry) or retry >= len(waits):
        return None
    return waits[retry]
