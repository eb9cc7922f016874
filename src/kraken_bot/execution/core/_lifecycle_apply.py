"""Pure: what `lifecycle.apply` checks before an event applies, and what the event changes.

`broken_invariant` names the reason a legal transition must still be
refused (rules 3, 4 and 7 of `kraken_bot.execution.core.lifecycle`): a txid other
than the known one, an observation that is not this order (`matches_identity`),
a fill that shrinks or exceeds the requested volume, and an event whose
evidence no longer holds on this version of the order (a second writer got
there first: a send attempt already recorded, a newer deadline, a cancel
requested before a send). `UPDATES` maps each event
type to the function that builds the new order from the old one, the event, the
status the table chose and the new ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from kraken_bot.execution.core.models import (
    Acknowledged,
    CancelConfirmed,
    CancelRequested,
    GaveUp,
    LocalOrder,
    NotFoundOnExchange,
    Observed,
    OrderEvent,
    OrderStatus,
    OrderType,
    Rejected,
    SendAttempted,
    SendFailed,
    SendUnconfirmed,
    Simulated,
    Validated,
    Withdrawn,
)
from kraken_bot.kraken.types import OrderInfo

IDENTITY_CLOCK_SKEW: Final = timedelta(seconds=10)
"""How far Kraken's ``opentm`` may precede our first send time (clock skew) and still match."""


# ---------------------------------------------------------------- identity


def _opened_after_send(order: LocalOrder, info: OrderInfo, skew: timedelta) -> bool:
    sent = order.first_sent_at or order.created_at
    return info.opened_at is not None and info.opened_at >= sent - skew


def _same_order_by_userref(order: LocalOrder, info: OrderInfo, skew: timedelta) -> bool:
    return (
        info.userref == order.userref
        and info.pair == order.pair
        and info.side == order.side
        and info.order_type == order.order_type
        and info.volume == order.requested_base_size
        and info.limit_price == order.requested_price
        and _opened_after_send(order, info, skew)
    )


def matches_identity(
    order: LocalOrder, info: OrderInfo, *, skew: timedelta = IDENTITY_CLOCK_SKEW
) -> bool:
    """True when Kraken's order info describes this local order.

    The known txid, when there is one, identifies the order. Otherwise an order
    sent with a ``cl_ord_id`` matches on it; an order sent with a strategy
    ``userref`` (Kraken refuses both on one order) matches on userref, pair,
    side, order type, volume and limit price, and must have been opened no
    earlier than our first send (``created_at`` if none was recorded) minus
    ``skew``.

    >>> from datetime import UTC, datetime
    >>> from decimal import Decimal
    >>> from kraken_bot.execution.core.models import OrderType, Side
    >>> from kraken_bot.kraken.types import parse_order_info
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
    ...     side=Side.BUY, order_type=OrderType.MARKET, kraken_order_id=None, userref=None,
    ...     client_order_id="L1", requested_base_size=Decimal(1), requested_price=None,
    ...     status=OrderStatus.SUBMITTED, created_at=t, updated_at=t)
    >>> info = parse_order_info("OX", {"status": "open", "vol": "1", "vol_exec": "0",
    ...     "cl_ord_id": "L1"}).unwrap()
    >>> matches_identity(order, info), matches_identity(replace(order, client_order_id="L2"), info)
    (True, False)
    """
    if order.kraken_order_id is not None and info.txid == order.kraken_order_id:
        return True
    if order.client_order_id is not None:
        return info.cl_ord_id == order.client_order_id
    if order.userref is not None:
        return _same_order_by_userref(order, info, skew)
    return False


# ---------------------------------------------------------------- invariants


def _txid_conflict(order: LocalOrder, txid: str) -> str | None:
    known = order.kraken_order_id
    if known is None or known == txid:
        return None
    return f"txid {txid} differs from known {known} (two exchange orders for one local order)"


def _observation_problem(order: LocalOrder, info: OrderInfo) -> str | None:
    conflict = _txid_conflict(order, info.txid)
    if conflict is not None:
        return conflict
    if not matches_identity(order, info):
        return f"order info {info.txid} does not match this order's identity"
    if info.volume_executed < order.cumulative_base_filled:
        return (
            f"vol_exec {info.volume_executed} is below the known fill"
            f" {order.cumulative_base_filled} (stale observation)"
        )
    if info.volume_executed > _requested_size(order, info):
        return (
            f"vol_exec {info.volume_executed} exceeds the requested"
            f" volume {order.requested_base_size}"
        )
    return None


def shows_amend(order: LocalOrder, info: OrderInfo) -> bool:
    """Kraken's report of this very order (by txid) shows another limit price or volume:
    it was amended (by this process, another one, or one that died before writing it)."""
    return (
        order.kraken_order_id == info.txid
        and order.order_type is OrderType.LIMIT
        and info.limit_price is not None
        and info.volume > 0
        and (info.limit_price != order.requested_price or info.volume != order.requested_base_size)
    )


def _requested_size(order: LocalOrder, info: OrderInfo) -> Decimal:
    """The order's size after folding ``info``: Kraken's smaller volume once it was amended
    down. A larger one is never taken: this layer only ever amends an order down (a plan's
    delta is the most it sends), so a larger volume is a misreading, refused as before."""
    if shows_amend(order, info) and info.volume < order.requested_base_size:
        return max(info.volume, info.volume_executed)
    return order.requested_base_size


def _send_problem(order: LocalOrder, event: SendAttempted) -> str | None:
    if order.cancel_requested_at is not None:
        return "a cancel was requested: the order is not sent (again)"
    if event.attempt != order.attempts + 1:
        return (
            f"send attempt {event.attempt} is not the next one after {order.attempts}"
            " (another sender got there first)"
        )
    return None


def _absence_problem(order: LocalOrder, deadline: datetime | None, what: str) -> str | None:
    """Why "the exchange provably lacks this order" no longer holds, if it does not."""
    if order.exists_on_exchange:
        return f"Kraken proved it holds this order (duplicate client id): it is never {what}"
    if order.attempts == 0:
        return None
    if order.kraken_order_id is not None:
        return f"the order has txid {order.kraken_order_id}: it is on the exchange"
    if deadline is None or order.send_deadline != deadline:
        return (
            f"decided on deadline {deadline}, but the last send has deadline"
            f" {order.send_deadline} (a newer send was recorded)"
        )
    return None


def _gave_up_problem(order: LocalOrder, event: GaveUp) -> str | None:
    if event.never_sent and order.attempts > 0:
        return f"decided as never sent, but {order.attempts} send attempt(s) are recorded"
    if order.status is OrderStatus.UNKNOWN:
        return None
    if event.never_sent:
        return None
    return _absence_problem(order, event.deadline, "given up on")


def broken_invariant(  # noqa: PLR0911 - a flat table: one check per event type
    order: LocalOrder, event: OrderEvent
) -> str | None:
    if isinstance(event, Observed):
        return _observation_problem(order, event.info)
    if isinstance(event, Acknowledged):
        return _txid_conflict(order, event.txid)
    if isinstance(event, SendAttempted):
        return _send_problem(order, event)
    if isinstance(event, GaveUp):
        return _gave_up_problem(order, event)
    if isinstance(event, Withdrawn):
        return _absence_problem(order, event.deadline, "withdrawn")
    if isinstance(event, NotFoundOnExchange) and order.kraken_order_id is None:
        return "an order without a txid cannot be reported unknown by txid"
    return None


# ---------------------------------------------------------------- updates

Update = Callable[[LocalOrder, Any, OrderStatus, datetime], LocalOrder]


def _on_send_attempted(
    order: LocalOrder, event: SendAttempted, status: OrderStatus, at: datetime
) -> LocalOrder:
    return replace(
        order,
        status=status,
        updated_at=at,
        attempts=max(order.attempts, event.attempt),
        raw_request=event.request,
        send_deadline=event.deadline,
        first_sent_at=order.first_sent_at or event.at,
    )


def _on_acknowledged(
    order: LocalOrder, event: Acknowledged, status: OrderStatus, at: datetime
) -> LocalOrder:
    return replace(
        order,
        status=status,
        updated_at=at,
        kraken_order_id=event.txid,
        raw_response_json=event.response_json,
    )


def _on_response(
    order: LocalOrder,
    event: Validated | CancelConfirmed | Rejected,
    status: OrderStatus,
    at: datetime,
) -> LocalOrder:
    response = event.response_json or order.raw_response_json
    return replace(order, status=status, updated_at=at, raw_response_json=response)


def _on_rejected(
    order: LocalOrder, event: Rejected, status: OrderStatus, at: datetime
) -> LocalOrder:
    return replace(_on_response(order, event, status, at), last_error=event.message)


def _on_send_error(
    order: LocalOrder,
    event: SendFailed | SendUnconfirmed | GaveUp,
    status: OrderStatus,
    at: datetime,
) -> LocalOrder:
    proven = isinstance(event, SendUnconfirmed) and event.proven
    return replace(
        order,
        status=status,
        updated_at=at,
        last_error=event.message,
        exists_on_exchange=order.exists_on_exchange or proven,
    )


def _on_withdrawn(
    order: LocalOrder, event: Withdrawn, status: OrderStatus, at: datetime
) -> LocalOrder:
    return replace(order, status=status, updated_at=at, close_reason=event.message)


def _on_not_found(
    order: LocalOrder, event: NotFoundOnExchange, status: OrderStatus, at: datetime
) -> LocalOrder:
    return replace(order, status=status, updated_at=at, last_error=event.message)


def _on_simulated(
    order: LocalOrder, _event: Simulated, status: OrderStatus, at: datetime
) -> LocalOrder:
    return replace(order, status=status, updated_at=at)


def _on_cancel_requested(
    order: LocalOrder, event: CancelRequested, status: OrderStatus, at: datetime
) -> LocalOrder:
    requested = order.cancel_requested_at or event.at
    return replace(order, status=status, updated_at=at, cancel_requested_at=requested)


def _on_observed(
    order: LocalOrder, event: Observed, status: OrderStatus, at: datetime
) -> LocalOrder:
    info = event.info
    amended = shows_amend(order, info)
    return replace(
        order,
        status=status,
        updated_at=at,
        requested_base_size=_requested_size(order, info),
        requested_price=info.limit_price if amended else order.requested_price,
        kraken_order_id=info.txid,
        cumulative_base_filled=info.volume_executed,
        avg_fill_price=info.avg_price or order.avg_fill_price,
        fee=info.fee,
        cost=info.cost,
        close_reason=info.reason or order.close_reason,
        raw_response_json=info.raw,
    )


UPDATES: Final[Mapping[type[Any], Update]] = {
    SendAttempted: _on_send_attempted,
    Acknowledged: _on_acknowledged,
    Validated: _on_response,
    Simulated: _on_simulated,
    Rejected: _on_rejected,
    SendFailed: _on_send_error,
    SendUnconfirmed: _on_send_error,
    GaveUp: _on_send_error,
    Withdrawn: _on_withdrawn,
    NotFoundOnExchange: _on_not_found,
    Observed: _on_observed,
    CancelRequested: _on_cancel_requested,
    CancelConfirmed: _on_response,
}
