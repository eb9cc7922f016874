"""Trading REST methods: AddOrder(Batch), CancelOrder(Batch), CancelAll, CancelAllOrdersAfter.

AddOrder charges the pair's trading counter on receipt (+1, even if the order is then
rejected), parses the request (:mod:`kraken_sim.addorder`), applies the market mode and the
account's checks (duplicate open ``cl_ord_id``, open orders per pair, post-only crossing when
``Quirks.post_only_crossing`` is ``reject``, funds), and places the order. By default a crossing
post-only order is placed and the engine cancels it at once (reason ``Post only order``).
CancelOrder takes one txid, an integer userref (every open order carrying it) or a
``cl_ord_id`` and charges the age penalty of each cancelled order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from kraken_sim.account import Account
from kraken_sim.addorder import OrderRequest, parse_add_order
from kraken_sim.call import Call
from kraken_sim.market import PairMeta, PricePath
from kraken_sim.orders import REASON_USER, Order, describe, describe_close
from kraken_sim.ratelimit import DecayingCounter, cancel_penalty
from kraken_sim.wire import ApiError, Params, invalid, rfc3339

__all__ = [
    "add_order",
    "add_order_batch",
    "cancel_all",
    "cancel_all_orders_after",
    "cancel_order",
    "cancel_order_batch",
    "find_live_order",
    "trading_counter",
]

_USERREF_RE: Final = re.compile(r"^-?\d+$")


def add_order(call: Call) -> object:
    account = call.require_account()
    path = call.venue.pair(call.params.text("pair", required=True) or "")
    trading_counter(call, account, path.meta.pair_id, 1)
    _market_open(call, path.meta)
    request = _parse(call, call.params, path)
    _account_checks(call, account, request)
    result = _execute(call, account, request)
    if "txid" in result:
        result["txid"] = [result["txid"]]
    if call.quirks.echo_cl_ord_id and request.cl_ord_id is not None and not request.validate:
        result["cl_ord_id"] = request.cl_ord_id
    return result


def add_order_batch(call: Call) -> object:
    """2-15 orders on one pair (JSON body); a malformed order rejects the whole batch, an order
    the account cannot place (funds, duplicate cl_ord_id, ...) fails its own row only."""
    account = call.require_account()
    pair_name = call.params.text("pair", required=True) or ""
    path = call.venue.pair(pair_name)
    rows = call.params.raw("orders")
    if not isinstance(rows, list) or not 2 <= len(rows) <= 15:
        raise invalid("orders")
    if not all(isinstance(row, Mapping) for row in rows):
        raise invalid("orders")
    trading_counter(call, account, path.meta.pair_id, len(rows) / 2)
    _market_open(call, path.meta)
    shared = {k: call.params.raw(k) for k in ("deadline", "validate") if k in call.params}
    requests = [_parse(call, Params({**row, **shared, "pair": pair_name}), path) for row in rows]
    results: list[dict[str, Any]] = []
    for request in requests:
        try:
            _account_checks(call, account, request)
            results.append(_execute(call, account, request))
        except ApiError as exc:
            results.append({"error": exc.code})
    return {"orders": results}


def _market_open(call: Call, meta: PairMeta) -> None:
    if call.system_status == "cancel_only" or meta.status == "cancel_only":
        raise ApiError("EService:Market in cancel_only mode")


def _parse(call: Call, params: Params, path: PricePath) -> OrderRequest:
    meta = path.meta
    touch = path.touch(path.index_at(call.now))
    request = parse_add_order(params, meta, touch, now=call.now, quirks=call.quirks)
    post_only_market = call.system_status == "post_only" or meta.status == "post_only"
    if post_only_market and "post" not in request.oflags:
        raise ApiError("EService:Market in post_only mode")
    if meta.status == "limit_only" and request.ordertype != "limit":
        raise invalid("ordertype")
    return request


def _account_checks(call: Call, account: Account, request: OrderRequest) -> None:
    engine, quirks = call.engine, call.quirks
    live = [engine.orders[txid] for txid in account.live]
    if request.cl_ord_id is not None and any(o.cl_ord_id == request.cl_ord_id for o in live):
        raise ApiError(quirks.duplicate_cl_ord_id_error)
    limits = engine.limits
    per_pair = limits.open_orders_per_pair if limits is not None and quirks.open_orders_limit else 0
    if per_pair and sum(1 for o in live if o.pair == request.meta.pair_id) >= per_pair:
        raise ApiError("EOrder:Orders limit exceeded")
    crossing = "post" in request.oflags and engine.crosses(request, call.now)
    if crossing and quirks.post_only_crossing == "reject":
        raise ApiError("EOrder:Post only order")
    if not request.validate or quirks.validate_checks_funds:
        engine.check_funds(account, request, call.now)


def _execute(call: Call, account: Account, request: OrderRequest) -> dict[str, Any]:
    """Place the order (or only describe it when validating): ``{"descr", "txid"}``."""
    meta = request.meta
    descr = {"order": describe(meta, request.side, request.ordertype, request.vol, request.price)}
    if request.close is not None:
        descr["close"] = describe_close(meta, request.close)
    if request.validate:
        return {"descr": descr}
    order = call.engine.place(account, request, call.now, hidden_for=call.hide_new_order_for)
    call.created.append(order.txid)
    return {"descr": descr, "txid": order.txid}


def _counter(call: Call, account: Account, pair_id: str) -> DecayingCounter | None:
    limits = call.engine.limits
    if limits is None:
        return None
    counter = account.trading.get(pair_id)
    if counter is None:
        counter = account.trading[pair_id] = DecayingCounter(
            maximum=limits.trading_max, decay_per_s=limits.trading_decay
        )
    return counter


def trading_counter(call: Call, account: Account, pair_id: str, cost: float) -> None:
    """Charge the pair's trading counter, or refuse with ``EOrder:Rate limit exceeded``."""
    counter = _counter(call, account, pair_id)
    if counter is not None and cost > 0 and not counter.try_add(cost, now=call.now):
        raise ApiError("EOrder:Rate limit exceeded")


def cancel_order(call: Call) -> object:
    account = call.require_account()
    engine, quirks = call.engine, call.quirks
    txid = call.params.text("txid")
    cl_ord_id = call.params.text("cl_ord_id")
    if (txid is None) == (cl_ord_id is None):
        raise invalid("txid")
    if txid is not None and _USERREF_RE.match(txid):
        userref = int(txid)
        group = [engine.orders[t] for t in account.live if engine.orders[t].userref == userref]
        for order in group:
            _charge_cancel(call, account, order, force=True)
            engine.cancel(order, call.now, REASON_USER)
        count: int = len(group)
    else:
        order = find_live_order(call, account, txid, cl_ord_id)
        _charge_cancel(call, account, order, force=False)
        engine.cancel(order, call.now, REASON_USER)
        count = 1
    return {"count": str(count) if quirks.cancel_count_as_string else count, "pending": False}


def find_live_order(call: Call, account: Account, txid: str | None, cl_ord_id: str | None) -> Order:
    """The account's live order by txid or cl_ord_id, or the quirk's unknown / not-open error."""
    engine, quirks = call.engine, call.quirks
    if cl_ord_id is not None:
        mine = [engine.orders[t] for t in account.live if engine.orders[t].cl_ord_id == cl_ord_id]
        if mine:
            return mine[0]
        seen = cl_ord_id in account.closed_cl_ord_ids
        raise ApiError(quirks.cancel_not_open_error if seen else quirks.cancel_unknown_error)
    order = engine.orders.get(txid or "")
    if order is None or order.account != account.key:
        raise ApiError(quirks.cancel_unknown_error)
    if not order.is_live:
        raise ApiError(quirks.cancel_not_open_error)
    return order


def _charge_cancel(call: Call, account: Account, order: Order, *, force: bool) -> None:
    penalty = cancel_penalty(call.now - order.opentm)
    if not force:
        trading_counter(call, account, order.pair, penalty)
        return
    counter = _counter(call, account, order.pair)
    if counter is not None and penalty:
        counter.force_add(penalty, now=call.now)


def cancel_order_batch(call: Call) -> object:
    """Up to 50 txids (``orders``) and/or ``cl_ord_ids``; ids that are not open are skipped.

    Accepted even if the age penalties push the trading counter over its threshold.
    """
    account = call.require_account()
    engine = call.engine
    raw = call.params.raw("orders")
    items = raw if isinstance(raw, list) else call.params.csv("orders")
    txids = [_batch_id(item) for item in items]
    cl_ord_ids = call.params.csv("cl_ord_ids")
    if (not txids and not cl_ord_ids) or len(txids) + len(cl_ord_ids) > 50:
        raise invalid("orders")
    wanted = set(txids)
    wanted_cl = set(cl_ord_ids)
    targets = [
        engine.orders[t]
        for t in list(account.live)
        if t in wanted or engine.orders[t].cl_ord_id in wanted_cl
    ]
    for order in targets:
        _charge_cancel(call, account, order, force=True)
        engine.cancel(order, call.now, REASON_USER)
    return {"count": len(targets)}


def _batch_id(item: object) -> str:
    """A plain txid, or the ``txid`` of an ``{"txid": ...}`` object."""
    if isinstance(item, Mapping):
        return str(item.get("txid", ""))
    if isinstance(item, str):
        return item
    raise invalid("orders")


def cancel_all(call: Call) -> object:
    account = call.require_account()
    return {"count": call.engine.cancel_all(account, call.now, REASON_USER)}


def cancel_all_orders_after(call: Call) -> object:
    account = call.require_account()
    timeout = call.params.integer("timeout")
    if timeout is None or not 0 <= timeout < 86400:
        raise invalid("timeout")
    moment = call.moment
    if timeout == 0:
        account.deadman_at = None
        return {"currentTime": rfc3339(moment), "triggerTime": "0"}
    account.deadman_at = call.now + timeout
    return {
        "currentTime": rfc3339(moment),
        "triggerTime": rfc3339(moment + timedelta(seconds=timeout)),
    }
