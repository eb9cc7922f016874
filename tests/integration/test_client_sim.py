"""The real client (signing, encoding, limiting, parsing) against the fake exchange, in-process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.errors import NetworkError, OrderRejectedError, ServiceUnavailableError
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.types import KrakenOrderStatus
from kraken_bot.market.api import MarketDataAPI
from kraken_sim import Exchange, FaultPlan, SimTransport, VirtualClock, load_scenario


@pytest.fixture
def sim_clock():
    return VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))


def connect(clock, *, faults=None, tier="starter"):
    exchange = Exchange(load_scenario(None), seed=7, clock=clock, faults=faults or "none")
    key, secret = exchange.create_account({"ZUSD": Decimal(100000), "XXBT": Decimal(2)})
    client = KrakenRESTClient(
        api_key=key, api_secret=secret, tier=tier, transport=SimTransport(exchange), clock=clock
    )
    return exchange, client


def test_a_full_order_life_through_the_fake_exchange(sim_clock):
    _, client = connect(sim_clock)
    with client:
        assert client.server_time().time == sim_clock.now().replace(microsecond=0)
        market = MarketDataAPI(client, clock=sim_clock)
        assert market.get_pair_metadata("BTC/USD").rest_symbol == "XXBTZUSD"
        assert market.get_latest_price("XBTUSD").mid > 0
        assert client.balance()["ZUSD"] == Decimal(100000)

        validated = client.add_order(
            AddOrderRequest(
                pair="XXBTZUSD",
                side="buy",
                ordertype="limit",
                volume="0.001",
                price="1000.0",
                validate=True,
            )
        )
        assert validated.txids == ()
        assert client.open_orders() == ()

        ack = client.add_order(
            AddOrderRequest(
                pair="XXBTZUSD",
                side="buy",
                ordertype="limit",
                volume="0.001",
                price="1000.0",
                cl_ord_id="it-1",
            )
        )
        (txid,) = ack.txids
        (resting,) = client.open_orders(cl_ord_id="it-1")
        assert (resting.txid, resting.status, resting.pair) == (
            txid,
            KrakenOrderStatus.OPEN,
            "XBTUSD",
        )
        assert client.query_orders([txid])[0].cl_ord_id == "it-1"

        assert client.cancel_all_orders_after(60).trigger_time is not None
        assert client.cancel_all_orders_after(0).trigger_time is None
        assert client.cancel_order(cl_ord_id="it-1").count == 1
        with pytest.raises(OrderRejectedError):
            client.cancel_order(txid=txid)
        (closed,) = client.closed_orders()
        assert (closed.txid, closed.status) == (txid, KrakenOrderStatus.CANCELED)


def test_a_burst_of_200_orders_meets_no_rate_limit_and_takes_the_minimum_time(sim_clock):
    _, client = connect(sim_clock)
    order = AddOrderRequest(pair="XXBTZUSD", side="buy", ordertype="market", volume="0.0001")
    started = sim_clock.monotonic()
    for _ in range(200):
        client.add_order(order)
    elapsed = sim_clock.monotonic() - started
    assert client.limiter.stats.rate_limit_errors == 0
    assert 140 <= elapsed <= 140 * 1.01


def test_injected_faults_arrive_as_typed_errors(sim_clock):
    plan = FaultPlan.from_mapping(
        {
            "schedule": [
                {"kind": "lost_response", "endpoint": "AddOrder", "call": 1},
                {"kind": "timeout", "endpoint": "AddOrder", "call": 2},
                {"kind": "busy", "endpoint": "AddOrder", "call": 3},
            ]
        }
    )
    _, client = connect(sim_clock, faults=plan)
    order = AddOrderRequest(
        pair="XXBTZUSD", side="buy", ordertype="limit", volume="0.001", price="1000.0", userref=5
    )
    with pytest.raises(NetworkError) as lost:
        client.add_order(order)
    assert lost.value.may_have_reached
    with pytest.raises(NetworkError) as refused:
        client.add_order(order)
    assert not refused.value.may_have_reached
    with pytest.raises(ServiceUnavailableError) as busy:
        client.add_order(order)
    assert busy.value.errors == ("EService:Busy",)
    (placed,) = client.open_orders(userref=5)  # the lost answer's order exists
    assert placed.userref == 5


def test_depth_gives_the_top_of_book_the_ticker_shows_with_its_read_time(sim_clock):
    _, client = connect(sim_clock)
    with client:
        sim_clock.advance(125)
        book = client.depth("XBTUSD", count=5)
        (quote,) = client.ticker(["XBTUSD"]).values()
        assert (book.pair, len(book.bids), len(book.asks)) == ("XXBTZUSD", 5, 5)
        assert (book.top().bid, book.top().ask) == (quote.bid, quote.ask)
        assert sim_clock.now() - book.at <= timedelta(seconds=2)  # the public limiter waits
        assert [level.price for level in book.bids] == sorted(
            (level.price for level in book.bids), reverse=True
        )
        assert book.bids[0].price < book.asks[0].price
        with pytest.raises(ValueError, match="count"):
            client.depth("XBTUSD", count=0)


def test_market_data_books_are_depths_top_keyed_by_altname_and_stamped_when_read(sim_clock):
    exchange, client = connect(sim_clock)
    with client:
        market = MarketDataAPI(client, clock=sim_clock, quote_ttl_seconds=60)
        sim_clock.advance(30)
        books = market.get_books(["BTC/USD", "ETHUSD"])
        assert sorted(books) == ["ETHUSD", "XBTUSD"]
        touch = exchange.touch("XXBTZUSD")
        assert (books["XBTUSD"].bid, books["XBTUSD"].ask) == (touch.bid, touch.ask)
        assert books["XBTUSD"].pair == "XBTUSD"
        assert sim_clock.now() - books["XBTUSD"].at <= timedelta(seconds=3)
        before = [e.endpoint for e in exchange.journal].count("Depth")
        market.get_books(["XBTUSD"])  # never cached, whatever the quote TTL
        assert [e.endpoint for e in exchange.journal].count("Depth") == before + 1
        with pytest.raises(LookupError, match="unknown pair"):
            market.get_books(["NOPE"])
