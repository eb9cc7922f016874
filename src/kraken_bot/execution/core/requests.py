"""Pure: what goes on the wire for a local order, and how it is found again.

`kraken_bot.execution.shell.adapter.KrakenExecutionAdapter` (the shell) sends what
is decided here:

* `add_order_request`: the AddOrder of an order (contract 5.2);
* `amend_order_request`: an AmendOrder of an order Kraken knows;
* `cancel_target`: what a CancelOrder names the order by;
* `identity_of`, `look_back_start` and `first_match`: where an order whose
  answer was lost is looked for (its client order id or userref, open orders
  and then orders closed since its first send) and which exchange order is it.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.execution.core.models import OrderStatus, OrderType, Side
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
...     side=Side.BUY, order_type=OrderType.MARKET, kraken_order_id=None, userref=7,
...     client_order_id=None, requested_base_size=Decimal("0.5"), requested_price=None,
...     status=OrderStatus.PENDING, created_at=t, updated_at=t)
>>> request = add_order_request(order, deadline=None, validate=True, gtd_expire_seconds=60)
>>> (request.ordertype, request.volume, request.price, request.timeinforce, request.userref)
('market', '0.5', None, None, 7)
>>> identity_of(order)
Identity(cl_ord_id=None, userref=7)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from kraken_bot.execution.core import lifecycle
from kraken_bot.execution.core.models import LocalOrder, OrderType, TimeInForce
from kraken_bot.kraken.orders import AddOrderRequest, AmendOrderRequest, format_decimal
from kraken_bot.kraken.types import OrderInfo

LOOK_BACK: Final = timedelta(minutes=2)
"""How far before an order's first send ClosedOrders is searched (the clocks' skew)."""


def add_order_request(
    order: LocalOrder, *, deadline: datetime | None, validate: bool, gtd_expire_seconds: int
) -> AddOrderRequest:
    """The AddOrder request for ``order``; its sizes are already rounded.

    ``pair`` is the pair's AssetPairs key; ``userref`` or ``cl_ord_id`` (never
    both) carries the order's identity; a GTD order expires after
    ``gtd_expire_seconds``; ``deadline`` bounds the ambiguity of a lost reply.
    A market order carries only what it needs: no price, time in force, expiry
    or post-only flag (it never rests, and Kraken does not confirm that it
    accepts a time in force on one).
    """
    is_limit = order.order_type is OrderType.LIMIT
    gtd = is_limit and order.time_in_force is TimeInForce.GTD
    return AddOrderRequest(
        pair=order.rest_pair or order.pair,
        side=order.side.value,
        ordertype=order.order_type.value,
        volume=format_decimal(order.requested_base_size),
        price=format_decimal(order.requested_price)
        if is_limit and order.requested_price is not None
        else None,
        userref=order.userref,
        cl_ord_id=order.sent_client_id,
        validate=validate,
        timeinforce=order.time_in_force.value if is_limit else None,
        expiretm=f"+{gtd_expire_seconds}" if gtd else None,
        oflags=("post",) if order.post_only and is_limit else (),
        deadline=deadline,
    )


def amend_order_request(
    order: LocalOrder,
    *,
    price_text: str | None,
    size_text: str | None,
    post_only: bool,
    deadline: datetime,
) -> AmendOrderRequest:
    """The AmendOrder of ``order`` (by its txid): new wire price and/or size.

    Raises:
        ValueError: the order has no Kraken txid (it cannot be amended).
    """
    if order.kraken_order_id is None:
        raise ValueError(f"order {order.local_id} has no Kraken txid: it cannot be amended")
    return AmendOrderRequest(
        txid=order.kraken_order_id,
        limit_price=price_text,
        order_qty=size_text,
        post_only=post_only,
        deadline=deadline,
    )


@dataclass(frozen=True, slots=True)
class CancelTarget:
    """What a CancelOrder names: the txid, or the client order id before one is known."""

    txid: str | None
    cl_ord_id: str | None


def cancel_target(order: LocalOrder) -> CancelTarget:
    """The order's txid if Kraken gave one, else its client order id.

    Raises:
        ValueError: it has neither.
    """
    if order.kraken_order_id is not None:
        return CancelTarget(txid=order.kraken_order_id, cl_ord_id=None)
    if order.client_order_id is not None:
        return CancelTarget(txid=None, cl_ord_id=order.client_order_id)
    raise ValueError(
        f"order {order.local_id} has neither a Kraken txid nor a client order id to cancel by"
    )


@dataclass(frozen=True, slots=True)
class Identity:
    """What an order is looked up by: the client order id it was sent with, else its
    userref (the one that is not None)."""

    cl_ord_id: str | None
    userref: int | None


def identity_of(order: LocalOrder) -> Identity:
    """The identity ``order`` was sent with (see `Identity`)."""
    client_id = order.sent_client_id
    if client_id is not None:
        return Identity(cl_ord_id=client_id, userref=None)
    return Identity(cl_ord_id=None, userref=order.userref)


def look_back_start(since: datetime) -> int:
    """The ClosedOrders ``start`` (unix seconds) for orders closed since ``since``."""
    return int((since - LOOK_BACK).timestamp())


def first_match(
    order: LocalOrder, infos: Sequence[OrderInfo], taken: Callable[[str], bool]
) -> OrderInfo | None:
    """The first exchange order that is ``order`` by identity and that no other local
    order owns (``taken(txid)``): one exchange order is never adopted twice."""
    for info in infos:
        if not taken(info.txid) and lifecycle.matches_identity(order, info):
            return info
    return None


__all__ = [
    "LOOK_BACK",
    "CancelTarget",
    "Identity",
    "add_order_request",
    "amend_order_request",
    "cancel_target",
    "first_match",
    "identity_of",
    "look_back_start",
]
