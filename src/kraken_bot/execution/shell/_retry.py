"""Retrying reads and cancels on transient errors (shell: it sleeps).

Whether an error is tried again, and after how long, is decided by the pure
`kraken_bot.execution.core.retries`; this loop calls, sleeps and re-raises.

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
from kraken_bot.execution.core.retries import read_waits, wait_before_retry
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
            wait = wait_before_retry(error, retry=retry, waits=waits, never_retry=never_retry)
            if wait is None:
                raise
            log.info("%s failed (%s); retrying in %.1fs", what, error, wait)
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")


def retry_transient(
    call: Callable[[], _T], *, clock: Clock, config: ExecutionConfig, what: str
) -> _T:
    """`retry_reads` with the configured backoff: at most ``config.max_retries`` retries."""
    return retry_reads(call, sleep=clock.sleep, waits=read_waits(config), what=what)
