"""Shell: a trading client that places and cancels orders over the WebSocket when it can.

`SocketOrders` has the interface of the REST client the execution adapter uses
(`kraken_bot.execution.shell.adapter.TradingClient`). ``add_order``, ``cancel_order`` and
``cancel_all`` go over the executions stream's connection (``kraken.order_transport:
websocket``) while it is subscribed; everything else, and these three whenever the socket
is down or cannot carry a request exactly (GTD or FOK, a validate-only order, a cancel by
userref), go over REST. Both paths raise the same typed errors, so the service's rules do not
change with the transport: the order was written ahead of the send; a refusal is
Kraken's error string parsed by `kraken_bot.kraken.errors`; a request sent without an
answer (a timeout, a cut connection) is `NetworkError` with ``may_have_reached`` set,
which the service resolves exactly like a lost REST answer: look the order up by its
identity before anything is sent again. The dead-man switch stays on REST (one timer,
armed from one place).

Kraken counts orders on one per-pair trading counter whatever carries them (REST,
WebSocket, FIX), so an order request over the socket goes through the REST client's rate
limiter too: its charge is the REST request's trading charge (it costs nothing on the REST
counter), taken before it is sent, and what it placed or cancelled is noted as REST notes it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace

from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.errors import RateLimitError, error_from_kraken
from kraken_bot.kraken.orders import AddOrderRequest, AmendOrderRequest
from kraken_bot.kraken.pairs import PairUniverse
from kraken_bot.kraken.ratelimit import Charge
from kraken_bot.kraken.types import (
    AddOrderAck,
    AmendAck,
    CancelAck,
    DeadManSwitchAck,
    OrderInfo,
    QueriedOrders,
    to_json_text,
)
from kraken_bot.kraken.ws import ExecutionsStream
from kraken_bot.kraken.ws_reports import MethodReply, add_order_params, v2_symbol

__all__ = ["SocketOrders"]


class SocketOrders:
    """REST client plus order entry over the socket (see the module docstring)."""

    def __init__(
        self, rest: KrakenRESTClient, stream: ExecutionsStream, *, timeout: float = 5.0
    ) -> None:
        self._rest = rest
        self._stream = stream
        self._timeout = timeout
        self._pairs: PairUniverse | None = None
        self._lock = threading.Lock()
        self.sent_over_socket = 0
        """Requests that went over the socket (the rest went over REST)."""

    @property
    def rest(self) -> KrakenRESTClient:
        """The REST client: what the socket cannot carry, and the rate limiter both share."""
        return self._rest

    # ------------------------------------------------------------------ over the socket
    def add_order(self, req: AddOrderRequest) -> AddOrderAck:
        """AddOrder over the socket when it is up and can carry ``req`` exactly, else REST."""
        params = None if req.validate or not self._stream.subscribed else self._params(req)
        if params is None:
            return self._rest.add_order(req)
        wire = req.to_params()  # what REST would send: it prices the order and records it
        reply = self._ask("add_order", params, "AddOrder", wire)
        result = reply.result if isinstance(reply.result, dict) else {}
        order_id = result.get("order_id")
        txids = (order_id,) if isinstance(order_id, str) and order_id else ()
        if txids:
            self._rest.limiter.record_reply("AddOrder", wire, txids=txids)
        return AddOrderAck(txids=txids, description="", raw=to_json_text(result))

    def cancel_order(
        self,
        *,
        txid: str | None = None,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        pair: str | None = None,
    ) -> CancelAck:
        """CancelOrder by txid or cl_ord_id over the socket when it is up, else REST.

        Anything but exactly one of txid and cl_ord_id goes to the REST client, which
        cancels by userref, or refuses both / neither with its `ValueError` before
        sending anything.
        """
        one_id = (txid is None) != (cl_ord_id is None)
        if userref is not None or not one_id or not self._stream.subscribed:
            return self._rest.cancel_order(
                txid=txid, userref=userref, cl_ord_id=cl_ord_id, pair=pair
            )
        params: dict[str, object] = (
            {"order_id": [txid]} if txid is not None else {"cl_ord_id": [cl_ord_id]}
        )
        wire = {"txid": txid} if txid is not None else {"cl_ord_id": str(cl_ord_id)}
        reply = self._ask("cancel_order", params, "CancelOrder", wire, pair_hint=pair)
        self._rest.limiter.record_reply("CancelOrder", wire)
        return CancelAck(count=1, pending=False, raw=to_json_text(reply.result))

    def cancel_all(self) -> CancelAck:
        """CancelAll over the socket when it is up, else REST."""
        if not self._stream.subscribed:
            return self._rest.cancel_all()
        reply = self._ask("cancel_all", {}, "CancelAll", {})
        self._rest.limiter.record_reply("CancelAll", {})
        count = reply.result.get("count") if isinstance(reply.result, dict) else None
        return CancelAck(
            count=count if isinstance(count, int) else 0,
            pending=False,
            raw=to_json_text(reply.result),
        )

    def _ask(
        self,
        method: str,
        params: dict[str, object],
        endpoint: str,
        wire: Mapping[str, str],
        *,
        pair_hint: str | None = None,
    ) -> MethodReply:
        """Send ``method`` over the socket once the trading counter has room for it (``wire``:
        the REST request's parameters that price it)."""
        limiter = self._rest.limiter
        charge: Charge = replace(limiter.plan(endpoint, wire, pair_hint=pair_hint), rest=0.0)
        limiter.acquire(charge)
        reply = self._stream.request(method, params, timeout=self._timeout)
        self.sent_over_socket += 1
        if not reply.success:
            error = error_from_kraken([reply.error or "EGeneral:Unknown error"], endpoint=endpoint)
            if isinstance(error, RateLimitError):
                limiter.record_rate_limited(error, charge)
            raise error
        return reply

    def _params(self, req: AddOrderRequest) -> dict[str, object] | None:
        pairs = self._universe()
        pair = pairs.resolve(req.pair).value_or(None)
        if pair is None:
            return None  # REST says what is wrong with it
        return add_order_params(
            v2_symbol(pair.wsname),
            side=req.side,
            ordertype=req.ordertype,
            volume=req.volume,
            price=req.price,
            timeinforce=req.timeinforce,
            oflags=req.oflags,
            cl_ord_id=req.cl_ord_id,
            userref=req.userref,
            deadline=req.deadline,
        )

    def _universe(self) -> PairUniverse:
        with self._lock:
            if self._pairs is None:
                self._pairs = self._rest.asset_pairs()
            return self._pairs

    # ------------------------------------------------------------------ over REST

    def amend_order(self, req: AmendOrderRequest, *, pair: str | None = None) -> AmendAck:
        """Over REST: the socket's ``amend_order`` is not used yet (one path for amends)."""
        return self._rest.amend_order(req, pair=pair)

    def cancel_all_orders_after(self, timeout: int) -> DeadManSwitchAck:
        """The dead-man switch (REST only: one timer, armed from one place)."""
        return self._rest.cancel_all_orders_after(timeout)

    def open_orders(
        self, *, userref: int | None = None, cl_ord_id: str | None = None, trades: bool = False
    ) -> tuple[OrderInfo, ...]:
        """OpenOrders (REST)."""
        return self._rest.open_orders(userref=userref, cl_ord_id=cl_ord_id, trades=trades)

    def closed_orders(
        self,
        *,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        start: int | str | None = None,
        end: int | str | None = None,
        closetime: str = "both",
    ) -> tuple[OrderInfo, ...]:
        """ClosedOrders (REST)."""
        return self._rest.closed_orders(
            userref=userref, cl_ord_id=cl_ord_id, start=start, end=end, closetime=closetime
        )

    def query_orders(
        self, txids: Sequence[str], *, userref: int | None = None, trades: bool = False
    ) -> tuple[OrderInfo, ...]:
        """QueryOrders (REST)."""
        return self._rest.query_orders(txids, userref=userref, trades=trades)

    def query_orders_checked(
        self, txids: Sequence[str], *, userref: int | None = None, trades: bool = False
    ) -> QueriedOrders:
        """QueryOrders, telling unknown txids apart (REST)."""
        return self._rest.query_orders_checked(txids, userref=userref, trades=trades)
