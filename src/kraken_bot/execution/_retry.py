"""Retrying reads and cancels on transient errors (shell: it sleeps).

Reads (market data, order listings) and cancels are safe to repeat: a second
read changes nothing, a second cancel only answers "not open". So a transient
error (the `ErrorClass` is anything but permanent) is retried with the
configured backoff (`kraken_bot.execution.policy.backoff_seconds`); a
permanent one, or the last transient one, is raised to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from kraken_bot.clock import Clock
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution import policy
from kraken_bot.kraken.errors import KrakenAPIError

log = logging.getLogger("kraken_bot.execution")

_T = TypeVar("_T")


def retry_transient(
    call: Callable[[], _T], *, clock: Clock, config: ExecutionConfig, what: str
) -> _T:
    """Run ``call``; on a transient Kraken error wait the backoff and run it again.

    At most ``config.max_retries`` retries; the last error is re-raised.
    """
    for retry in range(config.max_retries + 1):
        try:
            return call()
        except KrakenAPIError as error:
            if not error.transient or retry == config.max_retries:
                raise
            delay = policy.backoff_seconds(retry + 1, config)
            log.info("%s failed (%s); retrying in %.1fs", what, error, delay)
            clock.sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")
