"""AmendOrder end to end: the real client (signing, encoding, limiter) against the fake."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.errors import OrderRejectedError, is_not_open
from kraken_bot.kraken.orders import AddOrderRequest, AmendOrderRequest
from kraken_bot.kraken.types import KrakenOrderStatus
from kraken_sim import Exchange, SimTransport, VirtualClock, load_scenario


@pytest.fixture
def clock():
    return VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def stack(clock):
    exchange = Exchange(load_scenario(None), seed=7, clock=clock, faults="none")
    key, secret = exchange.create_account({"ZUSD": Decimal(100000), "XXBT": Decimal(2)})
    client = KrakenRESTClient(
        api_key=key,
        api_secret=secret,
        tier="starter",
        transport=SimTransport(exchange),
        clock=clock,
    )
    with client:
        yield exchange, client


def rest(client, cl_ord_id, *, price="50000.0", volume="0.01", post=False):
    ack = client.add_order(
        AddOrderRequest(
            pair="XXBTZUSD",
            side="buy",
            ordertype="limit",
            volume=volume,
            price=price,
            cl_ord_id=cl_ord_id,
            oflags=("post",) if post else (),
        )
    )
    (txid,) = ack.txids
    return txid


def test_an_amend_changes_price_and_quantity_in_place(stack, clock):
    _, client = stack
    txid = rest(client, "a-1")
    clock.advance(20)
    ack = client.amend_order(AmendOrderRequest(cl_ord_id="a-1", limit_price="50100.0"))
    assert ack.amend_id.startswith("T")
    clock.advance(20)
    client.amend_order(AmendOrderRequest(txid=txid, order_qty="0.005"))
    (info,) = client.query_orders([txid])
    assert (info.txid, info.cl_ord_id, info.status) == (txid, "a-1", KrakenOrderStatus.OPEN)
    assert (info.limit_price, info.volume) == (Decimal("50100.0"), Decimal("0.005"))


def test_an_amend_that_changes_nothing_is_refused(stack, clock):
    _, client = stack
    rest(client, "a-2")
    clock.advance(20)
    with pytest.raises(OrderRejectedError, match="No amendable parameters"):
        client.amend_order(AmendOrderRequest(cl_ord_id="a-2", limit_price="50000.0"))


def test_a_post_only_amend_that_would_take_liquidity_is_refused_and_the_order_stays(stack, clock):
    _, client = stack
    txid = rest(client, "a-3", post=True)
    clock.advance(20)
    with pytest.raises(OrderRejectedError, match="Post only order"):
        client.amend_order(AmendOrderRequest(txid=txid, limit_price="70000.0", post_only=True))
    (info,) = client.query_orders([txid])
    assert (info.status, info.limit_price) == (KrakenOrderStatus.OPEN, Decimal("50000.0"))


def test_an_amend_to_a_marketable_price_takes_the_book_at_once(stack, clock):
    _, client = stack
    txid = rest(client, "a-4")
    clock.advance(20)
    client.amend_order(AmendOrderRequest(txid=txid, limit_price="70000.0"))
    (info,) = client.query_orders([txid])
    assert info.status is KrakenOrderStatus.CLOSED
    assert info.volume_executed == Decimal("0.01")
    assert info.avg_price is not None
    assert info.avg_price < Decimal(70000)  # filled at the ask, not at the limit


def test_an_amend_below_the_filled_quantity_cancels_the_rest(stack, clock):
    exchange, client = stack
    txid = rest(client, "a-5", price="60000.0", volume="1.0")
    exchange.set_price("XXBTZUSD", Decimal(59990))
    clock.advance(60)  # some of it fills as the market trades through the bid
    exchange.set_price("XXBTZUSD", Decimal(61000))
    (partly,) = client.query_orders([txid])
    assert Decimal(0) < partly.volume_executed < Decimal("1.0")
    client.amend_order(AmendOrderRequest(txid=txid, order_qty="0.0001"))
    (info,) = client.query_orders([txid])
    assert info.status is KrakenOrderStatus.CANCELED
    assert info.volume_executed == partly.volume_executed


def test_unknown_and_closed_orders_are_refused_as_not_open(stack, clock):
    _, client = stack
    txid = rest(client, "a-6")
    client.cancel_order(txid=txid)
    for request in (
        AmendOrderRequest(txid=txid, limit_price="50100.0"),
        AmendOrderRequest(txid="OXXXXX-XXXXX-XXXXXX", limit_price="50100.0"),
    ):
        with pytest.raises(OrderRejectedError) as caught:
            client.amend_order(request)
        assert is_not_open(caught.value)


def test_a_burst_of_amends_waits_for_the_trading_counter_instead_of_being_refused(stack, clock):
    """Each amend of a young order costs 1 + 3 on the pair's counter (60 on the starter
    tier): the client's limiter models it and waits, so Kraken never says "rate limit"."""
    exchange, client = stack
    txid = rest(client, "a-7")
    started = clock.monotonic()
    for step in range(40):
        client.amend_order(AmendOrderRequest(txid=txid, limit_price=f"{50000 + step + 1}.0"))
    assert client.limiter.stats.rate_limit_errors == 0
    assert not [e for e in exchange.journal if "EOrder:Rate limit exceeded" in e.errors]
    assert clock.monotonic() - started > 40  # 160 units at 1 per second, less the first 60


def test_request_validation_happens_before_anything_is_sent():
    with pytest.raises(ValueError, match="exactly one"):
        AmendOrderRequest(limit_price="1.0")
    with pytest.raises(ValueError, match="exactly one"):
        AmendOrderRequest(txid="O", cl_ord_id="c", limit_price="1.0")
    with pytest.raises(ValueError, match="limit_price or order_qty"):
        AmendOrderRequest(txid="O")
    with pytest.raises(ValueError, match="limit_price"):
        AmendOrderRequest(txid="O", limit_price="NaN")


def test_a_new_price_or_a_larger_quantity_loses_the_queue_place_a_smaller_one_keeps_it(
    stack, clock
):
    exchange, client = stack
    exchange.set_price("XXBTZUSD", Decimal(61000))
    first = rest(client, "q-1", price="59000.0", volume="0.5")
    second = rest(client, "q-2", price="59000.0", volume="0.5")
    client.amend_order(AmendOrderRequest(txid=first, order_qty="0.4"))  # keeps its place
    exchange.set_price("XXBTZUSD", Decimal(58990))
    clock.advance(10)  # one step: a little volume trades through the bid
    filled = {i.txid: i.volume_executed for i in client.query_orders([first, second])}
    assert filled[first] > 0
    assert filled[second] == 0
    exchange.set_price("XXBTZUSD", Decimal(61000))
    client.amend_order(AmendOrderRequest(txid=first, order_qty="0.45"))  # larger: to the back
    exchange.set_price("XXBTZUSD", Decimal(58990))
    clock.advance(10)
    again = {i.txid: i.volume_executed for i in client.query_orders([first, second])}
    assert again[first] == filled[first]
    assert again[second] > 0
