"""Pure: what an always-on service does on its own, and when.

The supervisor of a long-running service has three jobs, each a decision over
values (the time, the orders, the rate budget, the configuration) that returns
work to do and when to wake next; the shell performs the work:

1. **Keep the dead-man switch armed**: refresh it every ``refresh`` seconds
   (Kraken advises a 60 s timeout refreshed every 15-30 s); a failed refresh is
   tried again soon (the switch's record, schedule and notices are
   `kraken_bot.execution.core.dead_man`'s).
2. **Reconcile on a schedule**: every ``reconcile_every`` seconds, and only while
   the REST counter has room (below ``budget_fraction`` of its maximum): the
   orders' own QueryOrders must never crowd out trading (`reconcile_due`).
3. **Unfilled orders**: an order still open ``unfilled_timeout`` seconds after
   it was first sent is canceled, or canceled and sent again at a fresh price
   for what remains ("reprice"), like freqtrade's ``unfilledtimeout``
   (`unfilled_decisions`).

`next_wake` says when something is due next, so the shell sleeps exactly that
long (a virtual clock makes it instant).

What the operator hears is decided here too, as `HealthEvent` values the shell
publishes: a scheduled pass that failed or found orders Kraken does not know
(`reconcile_health`, `reconcile_failure`), and the REST counter near its limit,
at most once a minute (`pressure_warning`).

>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> reconcile_due(last=t, now=t + timedelta(seconds=61), every=timedelta(seconds=60),
...     rest_level=2.0, rest_max=15.0, budget_fraction=0.5)
True
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from pyrsistent import pmap

from kraken_bot.execution.core.events import HealthEvent, HealthKind
from kraken_bot.execution.core.models import OPEN_STATUSES, LocalOrder, OrderStatus, UnfilledAction
from kraken_bot.execution.core.reports import ReconcileReport

__all__ = [
    "PRESSURE_EVERY",
    "PRESSURE_FRACTION",
    "CancelUnfilled",
    "RepriceUnfilled",
    "UnfilledAction",
    "next_reconcile",
    "next_wake",
    "not_yet_handled",
    "pressure_warning",
    "reconcile_due",
    "reconcile_failure",
    "reconcile_health",
    "reconcile_period",
    "unfilled_decisions",
]

_WORKING: Final = OPEN_STATUSES | {OrderStatus.SUBMITTED}

PRESSURE_FRACTION: Final = 0.8
"""Of the REST counter's maximum: from this level on, calls wait (rate-limit pressure)."""
PRESSURE_EVERY: Final = timedelta(minutes=1)
"""The least time between two rate-limit pressure warnings."""


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


def reconcile_period(
    every: timedelta | None, backstop: timedelta | None, *, streaming: bool
) -> timedelta | None:
    """How often scheduled reconciliation runs (None: it does not).

    ``every`` as configured; while the executions stream is up (``streaming``) it is the
    fast path and REST the backstop, so the longer of ``every`` and ``backstop``.

    >>> minute, ten = timedelta(seconds=60), timedelta(minutes=10)
    >>> reconcile_period(minute, ten, streaming=True) == ten
    True
    >>> reconcile_period(minute, ten, streaming=False) == minute
    True
    """
    if every is not None and backstop is not None and streaming:
        return max(every, backstop)
    return every


def next_reconcile(
    every: timedelta | None, *, last: datetime | None, now: datetime
) -> datetime | None:
    """When the next scheduled reconciliation is due: ``every`` after the ``last`` one,
    ``now`` when none ran yet, None when none is scheduled (``every`` None).

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> next_reconcile(timedelta(seconds=60), last=None, now=t) == t
    True
    >>> print(next_reconcile(None, last=t, now=t))
    None
    """
    if every is None:
        return None
    return now if last is None else last + every


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
        remaining = order.unfilled_base_size
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


def not_yet_handled(
    decisions: Iterable[UnfilledDecision], handled: AbstractSet[str]
) -> tuple[UnfilledDecision, ...]:
    """The unfilled decisions still to carry out: each order is acted on once, and again
    only after the shell has taken it out of ``handled`` (its cancel or reprice failed).

    >>> not_yet_handled([CancelUnfilled(local_id="L1", reason="old")], {"L1"})
    ()
    """
    return tuple(d for d in decisions if d.local_id not in handled)


def reconcile_failure(error: str, *, at: datetime) -> HealthEvent:
    """The event for a scheduled reconciliation that could not run (``error``: why).

    >>> from datetime import UTC, datetime
    >>> reconcile_failure("timeout", at=datetime(2026, 1, 1, tzinfo=UTC)).message
    'scheduled reconciliation failed: timeout'
    """
    return HealthEvent(
        kind=HealthKind.RECONCILE_FAILED,
        message=f"scheduled reconciliation failed: {error}",
        at=at,
    )


def reconcile_health(report: ReconcileReport, *, at: datetime) -> tuple[HealthEvent, ...]:
    """What an operator must hear of a scheduled pass: the calls that failed (one event),
    and the orders Kraken says it does not know (one event naming them).

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> reconcile_health(ReconcileReport(), at=t)
    ()
    >>> [e.kind.value for e in reconcile_health(ReconcileReport(unknown_orders=["L1"]), at=t)]
    ['unknown_orders']
    """
    events: list[HealthEvent] = []
    if report.errors:
        events.append(reconcile_failure("; ".join(report.errors), at=at))
    if report.unknown_orders:
        named = ", ".join(report.unknown_orders)
        events.append(
            HealthEvent(
                kind=HealthKind.UNKNOWN_ORDERS,
                message=f"Kraken does not know {len(report.unknown_orders)} order(s): {named}"
                "; check the account, then cancel them",
                at=at,
                details=pmap({"local_ids": ",".join(report.unknown_orders)}),
            )
        )
    return tuple(events)


def pressure_warning(
    level: float,
    maximum: float,
    *,
    last_warned: datetime | None,
    now: datetime,
    at: datetime | None = None,
) -> HealthEvent | None:
    """The rate-limit pressure event, when the REST counter is at `PRESSURE_FRACTION` of
    its ``maximum`` (0: not modelled) or above and no warning was given in the last
    `PRESSURE_EVERY` before ``now`` (``last_warned``); None otherwise. The event is
    dated ``at`` (when it is told; default ``now``).

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> pressure_warning(13.0, 15.0, last_warned=None, now=t).details["level"]
    '13.00'
    >>> print(pressure_warning(13.0, 15.0, last_warned=t, now=t))
    None
    """
    if maximum <= 0 or level < maximum * PRESSURE_FRACTION:
        return None
    if last_warned is not None and now < last_warned + PRESSURE_EVERY:
        return None
    return HealthEvent(
        kind=HealthKind.RATE_LIMIT_PRESSURE,
        message=f"Kraken's REST counter is at {level:.1f} of {maximum:g}: calls are waiting",
        at=at or now,
        details=pmap({"level": f"{level:.2f}", "maximum": f"{maximum:g}"}),
    )


def next_wake(*deadlines: datetime | None) -> datetime | None:
    """The earliest of the deadlines given (None ones are not due at all).

    >>> from datetime import UTC, datetime
    >>> next_wake(None, datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    due = [d for d in deadlines if d is not None]
    return min(due) if due else None
