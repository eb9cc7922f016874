"""Pure: the service's own housekeeping decisions: the clock, scheduled passes, inspection.

* `judge_clock`: is this host's clock close enough to Kraken's (deadlines and
  order identities are exchange time)? Live trading is refused at start when the
  offset is unknown or too large; otherwise a problem is only reported.
  `offset_worth_telling`: whether a new measurement of the offset is news.
* `scheduled_look_back` / `completes_reconciliation`: how far back a scheduled
  reconciliation reads ClosedOrders (since the last complete pass, or the whole day).
* `resting` / `unknown_to_kraken`: which orders the inspection calls return.
* `stream_choice`: whether the service streams executions, with what warning.
* `newly_linked_txid`: the txid an order change links, for the stream to follow.

>>> from datetime import datetime, timedelta
>>> judge_clock(timedelta(seconds=1), max_offset_seconds=5.0, strict=True) is None
True
>>> judge_clock(timedelta(seconds=-9), max_offset_seconds=5.0, strict=False).refuse
False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from kraken_bot._enums import ExecutionMode, StreamMode
from kraken_bot.execution.core.models import OPEN_STATUSES, LocalOrder, OrderStatus
from kraken_bot.execution.core.streaming import stream_wanted

__all__ = [
    "SCHEDULED_LOOK_BACK_FLOOR",
    "ClockProblem",
    "completes_reconciliation",
    "judge_clock",
    "judge_unmeasured_clock",
    "newly_linked_txid",
    "offset_worth_telling",
    "resting",
    "scheduled_look_back",
    "stream_choice",
    "unknown_to_kraken",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockProblem:
    """What is wrong with the clock; ``refuse``: refuse to trade live (else report it)."""

    message: str
    refuse: bool


def judge_clock(
    offset: timedelta, *, max_offset_seconds: float, strict: bool
) -> ClockProblem | None:
    """The problem with a measured ``offset`` (Kraken minus local), if it exceeds the bound.

    ``strict``: the service is starting and will trade live, so a problem refuses it.
    """
    if abs(offset) <= timedelta(seconds=max_offset_seconds):
        return None
    message = (
        f"this host's clock is {-offset.total_seconds():+.1f} s from Kraken's"
        f" (more than execution.max_clock_offset_seconds ="
        f" {max_offset_seconds}); fix the host clock (NTP)"
    )
    if strict:
        return ClockProblem(message=f"refusing to trade live: {message}", refuse=True)
    return ClockProblem(message=message, refuse=False)


def judge_unmeasured_clock(error: str, *, strict: bool) -> ClockProblem:
    """The problem when Kraken's clock could not be read (``error``: why)."""
    if strict:
        return ClockProblem(
            message=f"refusing to trade live: the offset to Kraken's clock cannot be measured"
            f" ({error}); deadlines and order identities depend on it",
            refuse=True,
        )
    return ClockProblem(
        message=f"could not measure the offset to Kraken's clock: {error}", refuse=False
    )


def offset_worth_telling(previous: timedelta, offset: timedelta) -> bool:
    """True when a new measurement of Kraken's clock is worth a line in the log: it moved a
    second or more from the ``previous`` one, or the host is two seconds or more off.

    >>> offset_worth_telling(timedelta(0), timedelta(milliseconds=300))
    False
    >>> offset_worth_telling(timedelta(seconds=3), timedelta(seconds=3, milliseconds=1))
    True
    """
    moved = abs(offset - previous) >= timedelta(seconds=1)
    return moved or abs(offset) >= timedelta(seconds=2)


SCHEDULED_LOOK_BACK_FLOOR: Final = timedelta(minutes=15)
"""The least a scheduled pass reads back in ClosedOrders."""


def scheduled_look_back(
    reconcile_every_seconds: float | None, *, now: datetime, last_complete: datetime | None
) -> timedelta | None:
    """How far back a scheduled reconciliation reads ClosedOrders for orders of ours that
    the database does not know; None: the full default window (a day).

    A scheduled pass reads only since the last *complete* pass of this process (see
    `completes_reconciliation`), with a period to spare, and never less than ten periods
    or 15 minutes (orders in doubt still widen it to their first send). Until one has
    completed (the start's pass failed: Kraken did not answer, after the database was
    lost and nothing was adopted yet) it reads the whole window, as the start's pass
    would have: a short read would leave orders of ours that closed earlier unknown for
    good.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 1, 1, 12, tzinfo=UTC)
    >>> print(scheduled_look_back(60.0, now=t, last_complete=None))
    None
    >>> print(scheduled_look_back(None, now=t, last_complete=t - timedelta(minutes=1)))
    0:15:00
    >>> print(scheduled_look_back(60.0, now=t, last_complete=t - timedelta(hours=2)))
    2:01:00
    """
    if last_complete is None:
        return None
    every = timedelta(seconds=reconcile_every_seconds or 60.0)
    return max(10 * every, SCHEDULED_LOOK_BACK_FLOOR, now - last_complete + every)


def completes_reconciliation(
    ok: bool, *, started: datetime, look_back: timedelta | None, last_complete: datetime | None
) -> bool:
    """True when a pass that began at ``started`` leaves every order of ours known: it
    succeeded (``ok``), and its ClosedOrders read covered the whole default window
    (``look_back`` None) or reached back to the previous complete pass.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 1, 1, 12, tzinfo=UTC)
    >>> quarter = timedelta(minutes=15)
    >>> completes_reconciliation(True, started=t, look_back=None, last_complete=None)
    True
    >>> completes_reconciliation(True, started=t, look_back=quarter, last_complete=None)
    False
    >>> completes_reconciliation(True, started=t, look_back=quarter, last_complete=t - quarter)
    True
    >>> completes_reconciliation(False, started=t, look_back=None, last_complete=None)
    False
    """
    if not ok:
        return False
    if look_back is None:
        return True
    return last_complete is not None and started - look_back <= last_complete


def resting(orders: Iterable[LocalOrder]) -> list[LocalOrder]:
    """The contract's open orders: resting on the book (open, partially filled)."""
    return [o for o in orders if o.status in OPEN_STATUSES]


def unknown_to_kraken(orders: Iterable[LocalOrder]) -> list[LocalOrder]:
    """Orders Kraken says it does not know (status ``unknown``): a person should look."""
    return [o for o in orders if o.status is OrderStatus.UNKNOWN]


_CANNOT_STREAM = "this client cannot fetch a WebSocket token: polling"


def stream_choice(
    stream: StreamMode,
    *,
    mode: ExecutionMode,
    url: str | None,
    observer: bool,
    can_fetch_token: bool,
) -> tuple[bool, str | None]:
    """Whether the service streams executions, and the warning to give when it cannot:
    `stream_wanted`, and a client that cannot fetch a WebSocket token polls.

    >>> stream_choice(StreamMode.AUTO, mode=ExecutionMode.LIVE, url="wss://x", observer=False,
    ...     can_fetch_token=False)
    (False, 'this client cannot fetch a WebSocket token: polling')
    """
    wanted, warning = stream_wanted(stream, mode=mode, url=url, observer=observer)
    if wanted and not can_fetch_token:
        return False, warning or _CANNOT_STREAM
    return wanted, warning


def newly_linked_txid(before: LocalOrder | None, after: LocalOrder) -> str | None:
    """The txid ``after`` carries that ``before`` did not (None: no new link)."""
    txid = after.kraken_order_id
    if txid is None or (before is not None and before.kraken_order_id == txid):
        return None
    return txid
