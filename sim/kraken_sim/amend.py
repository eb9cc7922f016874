"""REST ``AmendOrder``: change a live limit order's price and/or quantity in place.

What the fake does (kraken-ws.md section 7.1; what Kraken leaves open is marked):

* The order is named by ``txid`` or ``cl_ord_id`` (exactly one); an unknown one gets the
  quirk's unknown-order error, a closed one its not-open error (as CancelOrder).
* ``limit_price`` and ``order_qty`` are absolute decimals on the pair's tick and lot. The
  relative forms (``+``/``-``/``%``), ``display_qty`` and ``trigger_price`` are refused
  (``EGeneral:Invalid arguments:<field>``): the fake has no iceberg or trigger orders.
* The trading counter is charged on receipt, even when the amend is then refused: +1, plus
  3/2/1 for an order younger than 5/10/15 s since it was placed or last amended.
* Refused: nothing to change (a value equal to the current one counts as no change),
  ``EOrder:No amendable parameters specified`` (UNCONFIRMED wording); a market order,
  ``EOrder:Invalid order``; a quantity below the pair's minimum; a price off the tick; a
  price that would take liquidity when ``post_only`` is asked or the order was placed
  post-only, ``EOrder:Post only order``; more funds than the account has free.
* Accepted: the txid and cl_ord_id stay; fills stay on the order; a new price or a larger
  quantity loses the queue place, a smaller quantity keeps it (UNCONFIRMED: Kraken says
  "where possible"); a quantity at or below the filled one cancels the rest. The answer is
  ``{"amend_id": ...}``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Final

from kraken_sim.addorder import check_deadline
from kraken_sim.call import Call
from kraken_sim.market import PairMeta
from kraken_sim.orders import Order
from kraken_sim.ratelimit import amend_cost
from kraken_sim.trading import find_live_order, trading_counter
from kraken_sim.wire import ApiError, decimal_places, invalid

__all__ = ["amend_order"]

_NOTHING_TO_AMEND: Final = "EOrder:No amendable parameters specified"
_UNSUPPORTED: Final = ("display_qty", "trigger_price")


def amend_order(call: Call) -> object:
    """The ``AmendOrder`` handler (see the module docstring)."""
    account = call.require_account()
    params = call.params
    txid, cl_ord_id = params.text("txid"), params.text("cl_ord_id")
    if (txid is None) == (cl_ord_id is None):
        raise invalid("txid")
    order = find_live_order(call, account, txid, cl_ord_id)
    age = call.now - max(order.opentm, order.amendtm)
    trading_counter(call, account, order.pair, amend_cost(age))
    for name in _UNSUPPORTED:
        if params.text(name) is not None:
            raise invalid(name)
    if order.ordertype != "limit" or order.price is None:
        raise ApiError("EOrder:Invalid order")
    meta = call.venue.pair(order.pair).meta
    price = _absolute(params.text("limit_price"), "limit_price", meta.pair_decimals)
    vol = _absolute(params.text("order_qty"), "order_qty", meta.lot_decimals)
    check_deadline(params, call.now)
    new_price = order.price if price is None else price
    new_vol = order.vol if vol is None else vol
    if new_price == order.price and new_vol == order.vol:
        raise ApiError(_NOTHING_TO_AMEND)
    _check(call, order, meta, new_price, new_vol, post_only=params.flag("post_only"))
    call.engine.amend(order, price=new_price, vol=new_vol, now=call.now)
    return {"amend_id": call.engine.new_id("T")}


def _absolute(text: str | None, field: str, places: int) -> Decimal | None:
    if text is None:
        return None
    if not text or text[0] in "+-" or text.endswith("%"):
        raise invalid(field)
    try:
        value = Decimal(text)
    except ArithmeticError as exc:
        raise invalid(field) from exc
    if not value.is_finite() or value <= 0 or decimal_places(value) > places:
        raise invalid(field)
    return value


def _check(
    call: Call, order: Order, meta: PairMeta, price: Decimal, vol: Decimal, *, post_only: bool
) -> None:
    engine = call.engine
    if price % meta.tick_size != 0:
        raise ApiError("EOrder:Tick size check failed")
    if vol < meta.ordermin and vol > order.vol_exec:
        raise ApiError("EOrder:Order minimum not met")
    passive = post_only or order.post_only
    if passive and engine.crosses_order(replace(order, price=price), call.now):
        raise ApiError("EOrder:Post only order")
    account = engine.accounts[order.account]
    asset, held = engine.hold_of(order)
    needed = engine.hold_after(order, price=price, vol=vol) - held
    if needed > 0 and needed > engine.available(account, asset):
        raise ApiError("EOrder:Insufficient funds")
