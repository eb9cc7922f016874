"""The exchange's order and trade records, and how Kraken renders them (section 4).

Statuses: ``pending`` (accepted, future ``starttm``), ``open`` (resting, maybe partly filled),
``closed`` (completely filled), ``canceled`` and ``expired`` (both may hold partial fills).

Reason strings for orders the exchange closes by itself (our choices where Kraken's are not
documented):

=====================================  =============================================
event                                  status / ``reason``
=====================================  =============================================
CancelOrder, CancelAll                 canceled / ``User requested``
CancelAllOrdersAfter deadline passed   canceled / ``Cancel all orders after timeout``
GTD ``expiretm`` reached               expired / ``Order expired``
IOC remainder                          ``Quirks.ioc_remainder_status`` / ``Immediate or cancel``
FOK not fillable                       expired / ``Fill or kill``
crossing post-only (default mode)      canceled / ``Post only order``
=====================================  =============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from kraken_sim.market import PairMeta
from kraken_sim.wire import fmt_decimal

__all__ = [
    "REASON_AMENDED_BELOW_FILLED",
    "REASON_DEADMAN",
    "REASON_EXPIRED",
    "REASON_FOK",
    "REASON_IOC",
    "REASON_POST_ONLY",
    "REASON_USER",
    "Order",
    "OrderStatus",
    "Side",
    "Trade",
    "describe",
    "order_info",
    "trade_info",
]

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
OrderStatus = Literal["pending", "open", "closed", "canceled", "expired"]
TimeInForce = Literal["GTC", "IOC", "GTD", "FOK"]

REASON_USER: Final = "User requested"
REASON_AMENDED_BELOW_FILLED: Final = "Order quantity amended below the filled quantity"
"""UNCONFIRMED wording: Kraken says only that the rest is cancelled (kraken-ws.md 7.1)."""
REASON_DEADMAN: Final = "Cancel all orders after timeout"
REASON_EXPIRED: Final = "Order expired"
REASON_IOC: Final = "Immediate or cancel"
REASON_FOK: Final = "Fill or kill"
REASON_POST_ONLY: Final = "Post only order"
LIVE: Final = frozenset({"pending", "open"})
ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """One order as the exchange knows it (every order ever accepted is kept)."""

    txid: str
    seq: int
    account: str
    pair: str
    side: Side
    ordertype: OrderType
    price: Decimal | None
    vol: Decimal
    status: OrderStatus
    timeinforce: TimeInForce
    opentm: float
    starttm: float = 0.0
    expiretm: float = 0.0
    vol_exec: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    closetm: float | None = None
    reason: str | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    oflags: tuple[str, ...] = ()
    close: tuple[str, str, str] | None = None
    trades: tuple[str, ...] = ()
    hidden_until: float = 0.0
    amendtm: float = 0.0
    """When the order was last amended (0: never); its age for the next amend counts from it."""

    @property
    def remaining(self) -> Decimal:
        """Volume still to fill."""
        return self.vol - self.vol_exec

    @property
    def avg_price(self) -> Decimal:
        """Average fill price (0 without fills)."""
        return self.cost / self.vol_exec if self.vol_exec else ZERO

    @property
    def is_live(self) -> bool:
        """Pending or open: it can still fill or be canceled."""
        return self.status in LIVE

    @property
    def post_only(self) -> bool:
        """Whether the order carries ``oflags=post``."""
        return "post" in self.oflags


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One fill."""

    trade_txid: str
    postxid: str
    trade_id: int
    ordertxid: str
    account: str
    pair: str
    side: Side
    ordertype: OrderType
    price: Decimal
    vol: Decimal
    cost: Decimal
    fee: Decimal
    time: float
    maker: bool


def describe(meta: PairMeta, side: str, ordertype: str, vol: Decimal, price: Decimal | None) -> str:
    """``descr.order``: ``buy 1.25000000 XBTUSD @ limit 37500.0`` or ``... @ market``.

    The volume has the pair's ``lot_decimals``, the price its ``pair_decimals``, the pair is
    named by altname.
    """
    volume = fmt_decimal(vol, meta.lot_decimals)
    if ordertype == "market" or price is None:
        return f"{side} {volume} {meta.altname} @ market"
    return f"{side} {volume} {meta.altname} @ {ordertype} {fmt_decimal(price, meta.pair_decimals)}"


def describe_close(meta: PairMeta, close: tuple[str, str, str] | None) -> str:
    """``descr.close`` for a conditional close (``""`` without one)."""
    if close is None:
        return ""
    ordertype, price, _ = close
    if ordertype == "market" or not price:
        return "close position @ market"
    return f"close position @ {ordertype} {fmt_decimal(Decimal(price), meta.pair_decimals)}"


def _ts(value: float) -> float | int:
    return 0 if value == 0 else round(value, 4)


def order_info(order: Order, meta: PairMeta, *, with_trades: bool) -> dict[str, Any]:
    """The order info object, with Kraken's field names and string formats."""
    price_text = "0" if order.price is None else fmt_decimal(order.price, meta.pair_decimals)
    info: dict[str, Any] = {
        "refid": None,
        "userref": None if order.cl_ord_id is not None else (order.userref or 0),
        "cl_ord_id": order.cl_ord_id,
        "status": order.status,
        "opentm": round(order.opentm, 4),
        "starttm": _ts(order.starttm),
        "expiretm": _ts(order.expiretm),
        "descr": {
            "pair": meta.altname,
            "type": order.side,
            "ordertype": order.ordertype,
            "price": price_text,
            "price2": "0",
            "leverage": "none",
            "order": describe(meta, order.side, order.ordertype, order.vol, order.price),
            "close": describe_close(meta, order.close),
        },
        "vol": fmt_decimal(order.vol, meta.lot_decimals),
        "vol_exec": fmt_decimal(order.vol_exec, meta.lot_decimals),
        "cost": fmt_decimal(order.cost, meta.cost_decimals),
        "fee": fmt_decimal(order.fee, meta.cost_decimals),
        "price": (
            fmt_decimal(order.avg_price, meta.pair_decimals) if order.vol_exec else "0.00000"
        ),
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "partial" if order.vol_exec and order.vol_exec < order.vol else "",
        "oflags": ",".join(order.oflags),
        "margin": False,
    }
    if order.closetm is not None:
        info["closetm"] = round(order.closetm, 4)
        info["reason"] = order.reason
    if with_trades and order.trades:
        info["trades"] = list(order.trades)
    return info


def trade_info(trade: Trade, meta: PairMeta) -> dict[str, Any]:
    """The trade object of TradesHistory and QueryTrades."""
    return {
        "ordertxid": trade.ordertxid,
        "postxid": trade.postxid,
        "pair": trade.pair,
        "time": round(trade.time, 4),
        "type": trade.side,
        "ordertype": trade.ordertype,
        "price": fmt_decimal(trade.price, meta.pair_decimals),
        "cost": fmt_decimal(trade.cost, meta.cost_decimals),
        "fee": fmt_decimal(trade.fee, meta.cost_decimals),
        "vol": fmt_decimal(trade.vol, meta.lot_decimals),
        "margin": fmt_decimal(ZERO, meta.cost_decimals),
        "leverage": "0",
        "misc": "",
        "trade_id": trade.trade_id,
        "maker": trade.maker,
    }
