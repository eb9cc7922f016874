"""Maker fills at the touch: the step's trade flow, the queue ahead, and what an amend costs.

The flat world (see conftest) keeps XBT/USD at a mid of 60000, bid 59994.0 and ask 60006.0;
with a flat mid the flow is split half and half, so the buyers and sellers of a step are each
about half its market volume (0.25 BTC a minute in all). These tests compute what the engine
should have filled from `PricePath.flow` and `PricePath.queue` (an oracle of the rule in
`kraken_sim.engine`), step by step, and compare it with what QueryOrders says.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from hypothesis import given
from hypothesis import strategies as st

from kraken_sim import VirtualClock, load_scenario
from kraken_sim.market import PricePath
from kraken_sim.venue import Venue

from .conftest import START, flat_scenario

LOT = Decimal("0.00000001")
BID = "59994.0"


def advance(exchange, seconds):
    exchange.advance_to(exchange.clock.now() + timedelta(seconds=seconds))


def path_of(exchange) -> PricePath:
    path: PricePath = exchange.venue.pair("XBTUSD")
    return path


def step_index(exchange) -> int:
    path = path_of(exchange)
    return path.index_at(exchange.clock.now().timestamp())


def expected_fill(path: PricePath, first: int, last: int, vol: Decimal, ahead: Decimal) -> Decimal:
    """What a lone buy at the bid has after steps ``first``..``last``: the sellers of each
    step take the queue ahead first, then the order."""
    filled = Decimal(0)
    for index in range(first, last + 1):
        sold = path.flow(index)[0]
        taken = min(ahead, sold)
        ahead -= taken
        filled += min(vol - filled, sold - taken).quantize(LOT, rounding=ROUND_DOWN)
    return filled


def test_a_buy_that_joins_the_bid_fills_from_the_sellers_once_its_queue_is_gone(exchange, kraken):
    path = path_of(exchange)
    assert path.queue == Decimal("0.0625")  # a quarter of a minute of the pair's volume
    txid = kraken.buy("1", BID)
    start = step_index(exchange)
    advance(exchange, 10)
    assert kraken.order(txid)["vol_exec"] == "0.00000000"  # one step's sellers < the queue
    advance(exchange, 110)
    filled = expected_fill(path, start + 1, step_index(exchange), Decimal(1), path.queue)
    order = kraken.order(txid)
    assert Decimal(order["vol_exec"]) == filled > 0
    assert order["price"] == BID  # a maker fill at its own price
    assert {t["maker"] for t in kraken.ok("TradesHistory")["trades"].values()} == {True}


def test_a_buy_inside_the_spread_has_nobody_ahead(exchange, kraken):
    path = path_of(exchange)
    txid = kraken.buy("1", "59995.0")
    start = step_index(exchange)
    advance(exchange, 10)
    sold = path.flow(start + 1)[0]
    assert Decimal(kraken.order(txid)["vol_exec"]) == sold.quantize(LOT, rounding=ROUND_DOWN)


def test_a_buy_below_the_bid_gets_no_flow(exchange, kraken):
    txid = kraken.buy("1", "59993.9")
    advance(exchange, 600)
    assert kraken.order(txid)["vol_exec"] == "0.00000000"


def test_a_new_price_sends_an_order_to_the_back_and_a_smaller_size_keeps_its_place(
    make_exchange, client_for
):
    # The same world three times (same seed and start: the same flow). In each, an order
    # waits at the bid; after 40 s one is shrunk (keeps its place), one is moved away and
    # back (loses it), and in the third world an order only arrives then.
    filled = {}
    for how in ("shrink", "reprice"):
        exchange = make_exchange(flat_scenario(), clock=VirtualClock(start=START))
        kraken = client_for(exchange)
        txid = kraken.buy("1", BID)
        advance(exchange, 40)
        before = Decimal(kraken.order(txid)["vol_exec"])
        if how == "shrink":
            exchange.amend(txid, vol="0.9")
        else:
            exchange.amend(txid, price="59993.0", vol="1")
            exchange.amend(txid, price=BID, vol="1")
        advance(exchange, 60)
        filled[how] = Decimal(kraken.order(txid)["vol_exec"]) - before
    assert filled["shrink"] > filled["reprice"]
    # After the amend, the repriced order starts again behind a whole queue: it fills
    # exactly what an order placed at the moment of the amend fills.
    exchange = make_exchange(flat_scenario(), clock=VirtualClock(start=START))
    kraken = client_for(exchange)
    advance(exchange, 40)
    fresh = kraken.buy("1", BID)
    advance(exchange, 60)
    assert Decimal(kraken.order(fresh)["vol_exec"]) == filled["reprice"]


def test_two_orders_at_the_bid_share_the_flow_in_time_priority(exchange, kraken):
    path = path_of(exchange)
    first = kraken.buy("0.05", BID)
    second = kraken.buy("0.05", BID)
    start = step_index(exchange)
    advance(exchange, 120)
    total = expected_fill(path, start + 1, step_index(exchange), Decimal("0.1"), path.queue)
    one, two = (Decimal(kraken.order(t)["vol_exec"]) for t in (first, second))
    assert one + two == total
    assert one == min(total, Decimal("0.05"))  # the first fills before the second starts


def test_no_flow_without_market_volume(make_exchange, client_for):
    scenario = flat_scenario()
    scenario = dataclasses.replace(
        scenario,
        pairs=tuple(dataclasses.replace(p, liquidity_per_min=Decimal(0)) for p in scenario.pairs),
    )
    exchange = make_exchange(scenario)
    kraken = client_for(exchange)
    txid = kraken.buy("1", "59995.0")
    advance(exchange, 600)
    assert kraken.order(txid)["vol_exec"] == "0.00000000"


@given(st.integers(min_value=-200, max_value=5000))
def test_the_flow_splits_each_steps_volume_and_leans_with_the_move(index):
    scenario = load_scenario(None)
    spec = scenario.pairs[0]
    exchange_path = _path(scenario, spec)
    sold, bought = exchange_path.flow(index)
    volume = exchange_path.bar(index)[1]
    assert sold >= 0
    assert bought >= 0
    assert sold + bought == volume
    if index - 1 >= exchange_path.first_index():
        move = exchange_path.mid(index) - exchange_path.mid(index - 1)
        if move < 0:
            assert sold >= bought  # a falling market: more sellers
        elif move > 0:
            assert bought >= sold


_PATHS: dict[str, PricePath] = {}


def _path(scenario, spec) -> PricePath:
    if spec.pair not in _PATHS:
        _PATHS[spec.pair] = Venue(scenario, seed=7, origin=1_767_225_600.0).paths[spec.pair]
    return _PATHS[spec.pair]
