"""Pure: what an always-on service does on its own, and when.

The supervisor of a long-running service has three jobs, each a decision over
values (the time, the orders, the rate budget, the configuration) that returns
work to do and when to wake next; the shell performs the work:

1. **Keep the dead-man switch armed**: refresh it every ``refresh`` seconds
   (Kraken advises a 60 s timeout refreshed every 15-30 s); a failed refresh is
   tried again soon (`dead_man_due`).
2. **Reconcile on a schedule**: every ``reconcile_every`` seconds, and only while
   the REST counter has room (below ``budget_fraction`` of its maximum): the
   orders' own QueryOrders must never crowd out trading (`reconcile_due`).
3. **Unfilled orders**: an order still open ``unfilled_timeout`` seconds after
   it was first sent is canceled, or canceled and sent again at a fresh price
   for what remains ("reprice"), like freqtrade's ``unfilledtimeout``
   (`unfilled_decisions`).

`next_wake` says when something is due next, so the shell sleeps exactly that
long (a virtual clock makes it instant).

>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> reconcile_due(last=t, now=t + timedelta(seconds=61), every=timedelta(seconds=60),
...     rest_level=2.0, rest_max=15.0, budget_fraction=0.5)
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from kraken_bot.execution.core.models import OPEN_STATUSES, LocalOrder, OrderStatus, UnfilledAction

__all__ = [
    "CancelUnfilled",
    "RepriceUnfilled",
    "UnfilledAction",
    "dead_man_due",
    "next_wake",
    "reconcile_due",
    "unfilled_decisions",
]

_WORKING: Final = OPEN_STATUSES | {OrderStatus.SUBMITTED}


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelUnfilled:
    """Cancel ``local_id``: it stayed open past the unfilled timeout."""

    local_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RepriceUnfilled:
    """Cancel ``local_id``, then send what remains of it at a fresh price."""

    local_id: str
    remaining: Decimal
    reason: str


UnfilledDecision = CancelUnfilled | RepriceUnfilled


def dead_man_due(
    *,
    last_armed: datetime | None,
    last_failed: datetime | None,
    now: datetime,
    refresh: timedelta,
    retry: timedelta,
) -> bool:
    """True when the switch must be (re)armed: never armed, a refresh period passed since
    it last was, or a failed refresh's retry delay passed.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> dead_man_due(last_armed=t, last_failed=None, now=t + timedelta(seconds=5),
    ...     refresh=timedelta(seconds=20), retry=timedelta(seconds=5))
    False
    """
    if last_armed is None:
        return True
    if last_failed is not None and last_failed > last_armed:
        return now >= last_failed + retry
    return now >= last_armed + refresh


def reconcile_due(
    *,
    last: datetime | None,
    now: datetime,
    every: timedelta,
    rest_level: float,
    rest_max: float,
    budget_fraction: float,
) -> bool:
    """True when a scheduled reconciliation should run now.

    Due once ``every`` passed since the last one (or never ran), and only while the
    REST counter is below ``budget_fraction`` of its maximum (``rest_max`` 0 means no
    limit is modelled): otherwise it waits for the counter to decay.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> reconcile_due(last=t, now=t + timedelta(seconds=90), every=timedelta(seconds=60),
    ...     rest_level=12.0, rest_max=15.0, budget_fraction=0.5)
    False
    """
    if last is not None and now < last + every:
        return False
    return rest_max <= 0 or rest_level < rest_max * budget_fraction


def unfilled_decisions(
    orders: Iterable[LocalOrder],
    *,
    now: datetime,
    timeout: timedelta | None,
    action: UnfilledAction,
) -> tuple[UnfilledDecision, ...]:
    """The working orders older than the unfilled timeout, and what to do with each.

    An order whose cancel was already requested, or that has nothing left to fill,
    is left alone; a repriced one carries the volume still to fill.

    >>> unfilled_decisions((), now=datetime(2026, 1, 1), timeout=None,
    ...     action=UnfilledAction.CANCEL)
    ()
    """
    if timeout is None:
        return ()
    decided: list[UnfilledDecision] = []
    for order in orders:
        sent = order.first_sent_at or order.created_at
        remaining = order.requested_base_size - order.cumulative_base_filled
        if (
            order.status not in _WORKING
            or order.kraken_order_id is None
            or order.cancel_requested_at is not None
            or remaining <= 0
            or now < sent + timeout
        ):
            continue
        reason = f"still {order.status.value} {int(timeout.total_seconds())} s after it was sent"
        if action is UnfilledAction.REPRICE:
            decided.append(
                RepriceUnfilled(local_id=order.local_id, remaining=remaining, reason=reason)
            )
        else:
            decided.append(CancelUnfilled(local_id=order.local_id, reason=reason))
    return tuple(decided)


def next_wake(*deadlines: datetime | None) -> datetime | None:
    """The earliest of the deadlines given (None ones are not due at all).

    >>> from datetime import UTC, datetime
    >>> next_wake(None, datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    due = [d for d in deadlines if d is not None]
    return min(due) if due else None
