"""Retrying reads and cancels on transient errors (shell: it sleeps).

Reads (market data, order listings) and cancels are safe to repeat: a second
read changes nothing, a second cancel only answers "not open". So a transient
error (the `ErrorClass` is anything but permanent) is retried with the
configured backoff (`kraken_bot.execution.core.policy.backoff_seconds`); a
permanent one, or the last transient one, is raised to the caller.

`retry_reads` is the one loop behind every such retry in the project (the
service's reads and cancels, the CLI's preflight, the bundled strategy's reads):
only the waits between attempts differ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from kraken_bot.clock import Clock
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core import policy
from kraken_bot.kraken.errors import KrakenAPIError

log = logging.getLogger("kraken_bot.execution")

_T = TypeVar("_T")


def retry_reads(
    call: Callable[[], _T],
    *,
    sleep: Callable[[float], None],
    waits: Sequence[float],
    what: str,
    never_retry: tuple[type[KrakenAPIError], ...] = (),
) -> _T:
    """Run ``call``; on a transient Kraken error wait the next of ``waits`` and run it again.

    ``len(waits)`` retries at most; a permanent error, one of ``never_retry``, or the last
    transient one is re-raised.
    """
    for retry in range(len(waits) + 1):
        try:
            return call()
        except KrakenAPIError as error:
            if not error.transient or isinstance(error, never_retry) or retry == len(waits):
                raise
            log.info("%s failed (%s); retrying in %.1fs", what, error, waits[retry])
            sleep(waits[retry])
    raise AssertionError("unreachable: the loop returns or raises")


def retry_transient(
    call: Callable[[], _T], *, clock: Clock, config: ExecutionConfig, what: str
) -> _T:
    """`retry_reads` with the configured backoff: at most ``config.max_retries`` retries."""
    waits = [policy.backoff_seconds(k, config) for k in range(1, config.max_retries + 1)]
    return retry_reads(call, sleep=clock.sleep, waits=waits, what=what)
