"""Account REST methods: Balance, BalanceEx, OpenOrders, ClosedOrders, QueryOrders,
TradesHistory, QueryTrades.

Lists are newest first; ClosedOrders and TradesHistory page 50 at a time with ``ofs`` and report
the total ``count``; ``start`` is exclusive and ``end`` inclusive, each a unix time or a txid.
Both read only what closed (or traded) after ``start`` (`kraken_sim.timeline`), so their cost
follows the window asked for, not the account's whole history.
Orders hidden by the ``absent_from_open_orders`` fault are left out until they surface.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

from kraken_sim.call import Call
from kraken_sim.orders import Order, order_info, trade_info
from kraken_sim.wire import ApiError, fmt_decimal, invalid

__all__ = [
    "balance",
    "balance_ex",
    "closed_orders",
    "open_orders",
    "query_orders",
    "query_trades",
    "trades_history",
]

_PAGE: Final = 50
_TRADE_TYPES: Final = frozenset(
    {"all", "any position", "closed position", "closing position", "no position"}
)


def balance(call: Call) -> object:
    account = call.require_account()
    return {
        asset: fmt_decimal(amount, call.venue.asset_decimals.get(asset, 10))
        for asset, amount in account.balances.items()
    }


def balance_ex(call: Call) -> object:
    account = call.require_account()
    holds = call.engine.holds(account)
    result = {}
    for asset, amount in account.balances.items():
        places = call.venue.asset_decimals.get(asset, 10)
        result[asset] = {
            "balance": fmt_decimal(amount, places),
            "hold_trade": fmt_decimal(holds.get(asset, Decimal(0)), places),
        }
    return result


def _visible(call: Call, txids: Iterable[str]) -> Iterable[Order]:
    for txid in txids:
        order = call.engine.orders[txid]
        if order.hidden_until <= call.now:
            yield order


def _filters(call: Call) -> tuple[bool, int | None, str | None]:
    return call.params.flag("trades"), call.params.integer("userref"), call.params.text("cl_ord_id")


def _wanted(order: Order, userref: int | None, cl_ord_id: str | None) -> bool:
    if userref is not None and order.userref != userref:
        return False
    return cl_ord_id is None or order.cl_ord_id == cl_ord_id


def _info(call: Call, order: Order, with_trades: bool) -> dict[str, Any]:
    return order_info(order, call.venue.meta(order.pair), with_trades=with_trades)


def open_orders(call: Call) -> object:
    account = call.require_account()
    with_trades, userref, cl_ord_id = _filters(call)
    found = {
        o.txid: _info(call, o, with_trades)
        for o in _visible(call, reversed(account.live))
        if _wanted(o, userref, cl_ord_id)
    }
    return {"open": found}


def closed_orders(call: Call) -> object:
    account = call.require_account()
    with_trades, userref, cl_ord_id = _filters(call)
    start, end = _bound(call, "start"), _bound(call, "end")
    closetime = call.params.text("closetime") or "both"
    if closetime not in {"open", "close", "both"}:
        raise invalid("closetime")
    call.params.flag("consolidate_taker")
    ofs = max(call.params.integer("ofs") or 0, 0)

    def in_range(t: float | None) -> bool:
        return t is not None and (start is None or t > start) and (end is None or t <= end)

    def timely(o: Order) -> bool:
        if closetime == "open":
            return in_range(o.opentm)
        if closetime == "close":
            return in_range(o.closetm)
        return in_range(o.opentm) or in_range(o.closetm)

    matches = [
        o
        for o in _visible(call, account.closed.newest_first(after=start))
        if _wanted(o, userref, cl_ord_id) and timely(o)
    ]
    result: dict[str, Any] = {
        "closed": {o.txid: _info(call, o, with_trades) for o in matches[ofs : ofs + _PAGE]}
    }
    if not call.params.flag("without_count"):
        result["count"] = len(matches)
    return result


def _bound(call: Call, name: str) -> float | None:
    text = call.params.text(name)
    if text is None:
        return None
    order = call.engine.orders.get(text)
    if order is not None:
        return order.opentm
    trade = call.engine.trades.get(text)
    if trade is not None:
        return trade.time
    try:
        return float(Decimal(text))
    except ArithmeticError as exc:
        raise invalid(name) from exc


def query_orders(call: Call) -> object:
    account = call.require_account()
    txids = call.params.csv("txid")
    if not txids or len(txids) > call.quirks.query_orders_limit:
        raise invalid("txid")
    with_trades, userref, _ = _filters(call)
    call.params.flag("consolidate_taker")
    result = {}
    for txid in txids:
        order = call.engine.orders.get(txid)
        if order is None or order.account != account.key or order.hidden_until > call.now:
            if call.quirks.query_orders_unknown != "omit":
                raise ApiError(call.quirks.query_orders_unknown)
            continue
        if _wanted(order, userref, None):
            result[txid] = _info(call, order, with_trades)
    return result


def trades_history(call: Call) -> object:
    account = call.require_account()
    kind = call.params.text("type") or "all"
    if kind not in _TRADE_TYPES:
        raise invalid("type")
    call.params.flag("trades")
    call.params.flag("consolidate_taker")
    start, end = _bound(call, "start"), _bound(call, "end")
    ofs = max(call.params.integer("ofs") or 0, 0)
    line = call.engine.account_trades.get(account.key)
    newest = line.newest_first(after=start) if line is not None else iter(())
    trades = [call.engine.trades[t] for t in newest]
    matches = [
        t for t in trades if (start is None or t.time > start) and (end is None or t.time <= end)
    ]
    page = matches[ofs : ofs + _PAGE]
    return {
        "trades": {t.trade_txid: trade_info(t, call.venue.meta(t.pair)) for t in page},
        "count": len(matches),
    }


def query_trades(call: Call) -> object:
    account = call.require_account()
    txids = call.params.csv("txid")
    if not txids or len(txids) > 20:
        raise invalid("txid")
    result = {}
    for txid in txids:
        trade = call.engine.trades.get(txid)
        if trade is None or trade.account != account.key:
            raise invalid("txid")
        result[txid] = trade_info(trade, call.venue.meta(trade.pair))
    return result
