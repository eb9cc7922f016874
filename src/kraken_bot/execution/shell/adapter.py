"""KrakenExecutionAdapter: the only code that calls Kraken's trading endpoints.

It translates between this layer's values and the client's: a `LocalOrder`
becomes an `AddOrderRequest` (contract section 5.2), Kraken's acknowledgements
and order info come back as typed values, and Kraken's errors arrive as the
client's typed exceptions (`kraken_bot.kraken.errors`), which the adapter lets
through unchanged for the service's retry policy.

Safety: ``validate`` is sent unless the configuration has all three live
opt-ins (mode live, allow_live_trading, validate_only false). The adapter
checks this itself on every AddOrder, independently of its caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core import lifecycle
from kraken_bot.execution.core.models import LocalOrder, OrderType, TimeInForce
from kraken_bot.execution.exceptions import LiveTradingRefusedError
from kraken_bot.kraken.orders import AddOrderRequest, AmendOrderRequest, format_decimal
from kraken_bot.kraken.types import (
    AddOrderAck,
    AmendAck,
    CancelAck,
    DeadManSwitchAck,
    OrderInfo,
    QueriedOrders,
)

log = logging.getLogger("kraken_bot.execution.shell.adapter")

# How far before an order's first send to look back in ClosedOrders (clock skew).
_LOOKBACK = timedelta(minutes=2)


class TradingClient(Protocol):
    """The slice of `KrakenRESTClient` the adapter uses."""

    def add_order(self, req: AddOrderRequest) -> AddOrderAck: ...
    def amend_order(self, req: AmendOrderRequest, *, pair: str | None = None) -> AmendAck: ...
    def cancel_order(
        self,
        *,
        txid: str | None = None,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        pair: str | None = None,
    ) -> CancelAck: ...
    def cancel_all(self) -> CancelAck: ...
    def cancel_all_orders_after(self, timeout: int) -> DeadManSwitchAck: ...
    def open_orders(
        self, *, userref: int | None = None, cl_ord_id: str | None = None, trades: bool = False
    ) -> tuple[OrderInfo, ...]: ...
    def closed_orders(
        self,
        *,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        start: int | str | None = None,
        end: int | str | None = None,
        closetime: str = "both",
    ) -> tuple[OrderInfo, ...]: ...
    def query_orders(
        self, txids: Sequence[str], *, userref: int | None = None, trades: bool = False
    ) -> tuple[OrderInfo, ...]: ...
    def query_orders_checked(
        self, txids: Sequence[str], *, userref: int | None = None, trades: bool = False
    ) -> QueriedOrders: ...


class LiveOrderRefusedError(LiveTradingRefusedError):
    """A request without ``validate`` was about to go out without the three live opt-ins.

    Raised by `KrakenExecutionAdapter.add_order`, independently of its caller's checks.
    """


class KrakenExecutionAdapter:
    """Maps LocalOrders to Kraken calls and back (see the module docstring)."""

    def __init__(self, client: TradingClient, config: ExecutionConfig) -> None:
        self._client = client
        self._config = config

    @property
    def client(self) -> TradingClient:
        """The REST client this adapter calls (for call observers and rate-limit figures)."""
        return self._client

    @property
    def validating(self) -> bool:
        """True unless every live opt-in is set: AddOrder then carries ``validate=true``."""
        return not self._config.sends_live_orders

    def build_request(self, order: LocalOrder, *, deadline: datetime | None) -> AddOrderRequest:
        """The AddOrder request for ``order`` (contract 5.2); sizes are already rounded.

        ``pair`` is the pair's AssetPairs key; ``userref`` or ``cl_ord_id`` (never
        both) carries the order's identity; GTD orders expire after
        ``gtd_expire_seconds``; ``deadline`` bounds the ambiguity of a lost reply.
        A market order carries only what it needs: no price, time in force, expiry
        or post-only flag.
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
            validate=self.validating,
            # A market order never rests: it takes no time in force (and no expiry), whose
            # acceptance on market orders Kraken does not confirm.
            timeinforce=order.time_in_force.value if is_limit else None,
            expiretm=f"+{self._config.gtd_expire_seconds}" if gtd else None,
            oflags=("post",) if order.post_only and is_limit else (),
            deadline=deadline,
        )

    def add_order(self, request: AddOrderRequest) -> AddOrderAck:
        """Send AddOrder. Raises the client's typed errors."""
        if not request.validate and not self._config.sends_live_orders:
            raise LiveOrderRefusedError(
                "refusing to send an order without validate: live trading is not enabled"
            )
        return self._client.add_order(request)

    def cancel_order(self, order: LocalOrder) -> CancelAck:
        """Cancel one order by its Kraken txid, or by its client order id before a txid is known.

        The order's pair goes to the client's rate limiter (it is not sent): a cancel of an
        order this client did not place (placed before a restart, by another process, or
        adopted) is then charged to that pair alone, not the worst penalty on every pair.
        """
        pair = order.rest_pair or order.pair
        if order.kraken_order_id is not None:
            return self._client.cancel_order(txid=order.kraken_order_id, pair=pair)
        if order.client_order_id is not None:
            return self._client.cancel_order(cl_ord_id=order.client_order_id, pair=pair)
        raise ValueError(
            f"order {order.local_id} has neither a Kraken txid nor a client order id to cancel by"
        )

    def amend_order(
        self,
        order: LocalOrder,
        *,
        price_text: str | None,
        size_text: str | None,
        post_only: bool,
        deadline: datetime,
    ) -> AmendAck:
        """AmendOrder for an order Kraken knows (by txid): new wire price and/or size."""
        if order.kraken_order_id is None:
            raise ValueError(f"order {order.local_id} has no Kraken txid: it cannot be amended")
        request = AmendOrderRequest(
            txid=order.kraken_order_id,
            limit_price=price_text,
            order_qty=size_text,
            post_only=post_only,
            deadline=deadline,
        )
        return self._client.amend_order(request, pair=order.rest_pair or order.pair)

    def cancel_all(self) -> CancelAck:
        """Cancel every open order on the account."""
        return self._client.cancel_all()

    def set_dead_man_switch(self, seconds: int) -> DeadManSwitchAck:
        """(Re)arm CancelAllOrdersAfter with ``seconds``; 0 disarms."""
        return self._client.cancel_all_orders_after(seconds)

    def query_orders(self, txids: Sequence[str]) -> tuple[OrderInfo, ...]:
        """Order info for known txids (the client chunks long lists)."""
        if not txids:
            return ()
        return self._client.query_orders(list(txids))

    def query_orders_checked(self, txids: Sequence[str]) -> QueriedOrders:
        """Order info for txids, plus the txids Kraken does not know or does not show yet."""
        if not txids:
            return QueriedOrders(orders=(), unknown=())
        return self._client.query_orders_checked(list(txids))

    def open_orders(self) -> tuple[OrderInfo, ...]:
        """Every open order on the account."""
        return self._client.open_orders()

    def closed_orders_since(self, since: datetime) -> tuple[OrderInfo, ...]:
        """Orders closed since ``since`` (all pages)."""
        return self._client.closed_orders(start=int((since - _LOOKBACK).timestamp()))

    def find_order(self, order: LocalOrder, *, taken: Callable[[str], bool]) -> OrderInfo | None:
        """Look an unacknowledged order up by its identity: open orders first, then closed ones.

        ``taken(txid)`` is true for txids owned by other local orders, so one
        exchange order is never adopted twice.
        """
        since = order.first_sent_at or order.created_at
        client_id = order.sent_client_id
        if client_id is not None:
            candidates = self._client.open_orders(cl_ord_id=client_id)
            found = _first_match(order, candidates, taken)
            if found is None:
                closed = self._client.closed_orders(
                    cl_ord_id=client_id,
                    start=int((since - _LOOKBACK).timestamp()),
                )
                found = _first_match(order, closed, taken)
            return found
        candidates = self._client.open_orders(userref=order.userref)
        found = _first_match(order, candidates, taken)
        if found is None:
            closed = self._client.closed_orders(
                userref=order.userref, start=int((since - _LOOKBACK).timestamp())
            )
            found = _first_match(order, closed, taken)
        return found


def _first_match(
    order: LocalOrder, infos: Sequence[OrderInfo], taken: Callable[[str], bool]
) -> OrderInfo | None:
    for info in infos:
        if not taken(info.txid) and lifecycle.matches_identity(order, info):
            return info
    return None
