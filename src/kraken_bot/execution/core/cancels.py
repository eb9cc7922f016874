"""Pure: the decisions of canceling: withdraw or ask Kraken, what to follow up, when to wait.

The shell (`ExecutionService.cancel_order`, ``cancel_all``, the sender's refused
write-ahead) gathers the orders and Kraken's answers, and asks here:

* `withdrawal`: may the order be withdrawn locally (it never reached Kraken, or
  the mode never changes the exchange)?
* `withdrawal_after_refused_send`: a sender's write-ahead was refused; does a
  cancel requested meanwhile withdraw the order?
* `cancel_confirmation`: does a CancelOrder answer close the order?
* `in_flight_settle_at`: until when can sends in flight still be placed?
* `awaits_cancel` / `cancels_due`: which orders still need their CancelOrder sent?
* `offline_settlement`: in dry run, which leftovers can be settled without Kraken?
* `reprice_remaining`: after a cancel, what volume a reprice sends again.

>>> from datetime import UTC, datetime
>>> from kraken_bot.execution.core.models import OrderType, Side
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
...     side=Side.BUY, order_type=OrderType.LIMIT, kraken_order_id=None, userref=None,
...     client_order_id="L1", requested_base_size=Decimal(1), requested_price=Decimal(100),
...     status=OrderStatus.PENDING, created_at=t, updated_at=t)
>>> withdrawal(order, changes_exchange=True, now=t).message
'canceled before it was sent'
>>> from dataclasses import replace
>>> in_doubt(order), in_doubt(replace(order, kraken_order_id="OA", status=OrderStatus.OPEN))
(True, False)
>>> reprice_remaining(replace(order, status=OrderStatus.CANCELED,
...     cumulative_base_filled=Decimal("0.25")))
Decimal('0.75')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from kraken_bot.execution.core.models import (
    OPEN_STATUSES,
    CancelConfirmed,
    GaveUp,
    LocalOrder,
    OrderStatus,
    Withdrawn,
)
from kraken_bot.execution.core.reconciliation import NEVER_SENT_MESSAGE, provably_unsent
from kraken_bot.kraken.types import CancelAck

__all__ = [
    "UNKNOWN_CLOSED_MESSAGE",
    "WITHDRAWN_MESSAGE",
    "NotRepriced",
    "OfflineSettlement",
    "awaits_cancel",
    "cancel_confirmation",
    "cancelable_at_exchange",
    "cancels_due",
    "closed_unknown",
    "in_doubt",
    "in_flight",
    "in_flight_settle_at",
    "offline_settlement",
    "reprice_remaining",
    "withdrawal",
    "withdrawal_after_refused_send",
]

WITHDRAWN_MESSAGE: Final = "canceled before it was sent"
UNKNOWN_CLOSED_MESSAGE: Final = (
    "closed by a cancel: Kraken does not know this order (status was unknown)"
)


def in_doubt(order: LocalOrder) -> bool:
    """Live without a txid: not sent yet, or sent with an outcome not known yet."""
    return order.kraken_order_id is None and order.is_live


def in_flight(order: LocalOrder) -> bool:
    """In doubt after at least one AddOrder: Kraken may place it until its deadline."""
    return in_doubt(order) and order.attempts > 0


def withdrawal(order: LocalOrder, *, changes_exchange: bool, now: datetime) -> Withdrawn | None:
    """The event withdrawing ``order`` locally, or None when it may be on the exchange.

    An order with a txid is on the exchange. Without one, it is withdrawn when no
    AddOrder was attempted, or (paper and dry run, which never change the exchange)
    whatever was attempted; the event then names the last send's deadline as evidence.
    """
    if order.kraken_order_id is not None:
        return None
    if order.attempts > 0 and changes_exchange:
        return None
    deadline = order.send_deadline if order.attempts > 0 else None
    return Withdrawn(at=now, message=WITHDRAWN_MESSAGE, deadline=deadline)


def withdrawal_after_refused_send(
    order: LocalOrder, *, absent_after: int, now: datetime
) -> Withdrawn | None:
    """A sender's write-ahead was refused (nothing was sent): a cancel requested meanwhile
    withdraws the order, if no other attempt was recorded since the ``absent_after`` ones
    this sender knows did not place it. None: leave the order as it is."""
    if in_doubt(order) and order.cancel_requested_at is not None and order.attempts == absent_after:
        return Withdrawn(at=now, message=WITHDRAWN_MESSAGE, deadline=order.send_deadline)
    return None


def cancel_confirmation(ack: CancelAck, *, now: datetime) -> CancelConfirmed | None:
    """The event a CancelOrder answer justifies: Kraken canceled it (and is not still
    canceling it). None: the order stays open until its cancel is observed."""
    if ack.count >= 1 and not ack.pending:
        return CancelConfirmed(at=now, response_json=ack.raw)
    return None


def closed_unknown(now: datetime) -> GaveUp:
    """The event closing locally an order Kraken does not know, on a cancel."""
    return GaveUp(at=now, message=UNKNOWN_CLOSED_MESSAGE)


def in_flight_settle_at(orders: Iterable[LocalOrder], margin: timedelta) -> datetime | None:
    """When every send in flight among ``orders`` can no longer be placed: the latest
    AddOrder deadline plus ``margin`` (None: nothing is in flight)."""
    deadlines = [o.send_deadline for o in orders if in_flight(o) and o.send_deadline is not None]
    return max(deadlines) + margin if deadlines else None


def cancelable_at_exchange(order: LocalOrder) -> bool:
    """CancelOrder can name the order: by its txid, or by its client order id. An order
    sent with a userref only is canceled by txid once reconciliation has found it."""
    return order.kraken_order_id is not None or order.client_order_id is not None


def awaits_cancel(order: LocalOrder) -> bool:
    """A cancel was requested and the order's txid is known: its CancelOrder can be sent."""
    return order.cancel_requested_at is not None and order.kraken_order_id is not None


def cancels_due(orders: Iterable[LocalOrder]) -> list[LocalOrder]:
    """Orders resting on the book whose requested cancel can now be sent (a cancel asked
    for before the txid was known)."""
    return [o for o in orders if awaits_cancel(o) and o.status in OPEN_STATUSES]


@dataclass(frozen=True, slots=True, kw_only=True)
class OfflineSettlement:
    """What dry run can settle without asking Kraken.

    Attributes:
        give_up: (local id, event) for orders provably never sent.
        waiting: orders that may be on the exchange: they wait for a real mode.
    """

    give_up: tuple[tuple[str, GaveUp], ...]
    waiting: tuple[LocalOrder, ...]


def offline_settlement(orders: Sequence[LocalOrder], *, now: datetime) -> OfflineSettlement:
    """Settle leftovers without Kraken: live orders never sent are given up as never
    sent; every other one (a send was attempted, or its state is unknown) waits."""
    give_up: list[tuple[str, GaveUp]] = []
    waiting: list[LocalOrder] = []
    for order in orders:
        if order.is_live and provably_unsent(order):  # dry run: no sender of ours is at work
            event = GaveUp(at=now, message=NEVER_SENT_MESSAGE, never_sent=True)
            give_up.append((order.local_id, event))
        else:
            waiting.append(order)
    return OfflineSettlement(give_up=tuple(give_up), waiting=tuple(waiting))


@dataclass(frozen=True, slots=True, kw_only=True)
class NotRepriced:
    """Why a reprice sends nothing; ``warn``: a person should know (the cancel is unconfirmed)."""

    reason: str
    warn: bool = False


def reprice_remaining(final: LocalOrder) -> Decimal | NotRepriced:
    """The volume a reprice sends again, from the order as its cancel left it: none
    while the cancel is unconfirmed, none once it filled or nothing remains."""
    if final.is_live:
        return NotRepriced(
            reason=f"its cancel is not confirmed yet ({final.status.value})", warn=True
        )
    remaining = final.unfilled_base_size
    if remaining <= 0 or final.status is OrderStatus.FILLED:
        return NotRepriced(reason="nothing remains")
    return remaining
