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
from datetime import datetime

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import LocalOrder
from kraken_bot.execution.core.ports import TradingClient
from kraken_bot.execution.core.requests import (
    add_order_request,
    amend_order_request,
    cancel_target,
    first_match,
    identity_of,
    look_back_start,
)
from kraken_bot.execution.exceptions import LiveTradingRefusedError
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.types import (
    AddOrderAck,
    AmendAck,
    CancelAck,
    DeadManSwitchAck,
    OrderInfo,
    QueriedOrders,
)

log = logging.getLogger("kraken_bot.execution.shell.adapter")


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
        """The AddOrder request for ``order`` (`requests.add_order_request`), validating
        unless every live opt-in is set."""
        return add_order_request(
            order,
            deadline=deadline,
            validate=self.validating,
            gtd_expire_seconds=self._config.gtd_expire_seconds,
        )

    def add_order(self, request: AddOrderRequest) -> AddOrderAck:
        """Send AddOrder. Raises the client's typed errors."""
        if not request.validate and not self._config.sends_live_orders:
            raise LiveOrderRefusedError(
                "refusing to send an order without validate: live trading is not enabled"
            )
        return self._client.add_order(request)

    def cancel_order(self, order: LocalOrder) -> CancelAck:
        """Cancel one order by its Kraken txid, or by its client order id before a txid is
        known (`requests.cancel_target`).

        The order's pair goes to the client's rate limiter (it is not sent): a cancel of an
        order this client did not place (placed before a restart, by another process, or
        adopted) is then charged to that pair alone, not the worst penalty on every pair.
        """
        target = cancel_target(order)
        pair = order.rest_pair or order.pair
        if target.txid is not None:
            return self._client.cancel_order(txid=target.txid, pair=pair)
        return self._client.cancel_order(cl_ord_id=target.cl_ord_id, pair=pair)

    def amend_order(
        self,
        order: LocalOrder,
        *,
        price_text: str | None,
        size_text: str | None,
        post_only: bool,
        deadline: datetime,
    ) -> AmendAck:
        """AmendOrder for an order Kraken knows (`requests.amend_order_request`)."""
        request = amend_order_request(
            order,
            price_text=price_text,
            size_text=size_text,
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
        """Orders closed since ``since`` (all pages; `requests.look_back_start`)."""
        return self._client.closed_orders(start=look_back_start(since))

    def find_order(self, order: LocalOrder, *, taken: Callable[[str], bool]) -> OrderInfo | None:
        """Look an unacknowledged order up by its identity: open orders first, then those
        closed since its first send (`requests.identity_of`, `requests.first_match`).

        ``taken(txid)`` is true for txids owned by other local orders, so one
        exchange order is never adopted twice.
        """
        who = identity_of(order)
        found = first_match(
            order, self._client.open_orders(userref=who.userref, cl_ord_id=who.cl_ord_id), taken
        )
        if found is not None:
            return found
        closed = self._client.closed_orders(
            userref=who.userref,
            cl_ord_id=who.cl_ord_id,
            start=look_back_start(order.first_sent_at or order.created_at),
        )
        return first_match(order, closed, taken)


__all__ = ["KrakenExecutionAdapter", "LiveOrderRefusedError", "TradingClient"]
