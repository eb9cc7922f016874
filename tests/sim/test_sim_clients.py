"""python-kraken-sdk and ccxt, unchanged, against the fake exchange over loopback HTTP.

Each client drives an order through its whole life the way its users would: validate, place with
a userref and with a cl_ord_id, list open orders, query, cancel by txid and by cl_ord_id, read
closed orders, CancelAll, the dead-man switch on and off, and it must see a wrong secret and a
replayed nonce as the errors Kraken gives. A step that fails is a fidelity bug in the fake (the
clients are pinned in pyproject's ``test`` extra). Outcomes are checked on the exchange's own
records. Only loopback is reachable: any other host goes to a dead proxy.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from kraken.exceptions import (
    KrakenInvalidNonceError,
    KrakenInvalidOrderError,
    KrakenInvalidSignatureError,
    KrakenUnknownOrderError,
)
from kraken.spot import Market, SpotWSClient, Trade, User

from kraken_sim import Exchange, WallClock, load_scenario, serve
from kraken_sim.ws import serve_ws

pytestmark = pytest.mark.http

BALANCES = {"ZUSD": Decimal(100_000), "XXBT": Decimal(2)}
WRONG_SECRET = base64.b64encode(b"not the secret" * 4).decode()
LIMIT = {"ordertype": "limit", "side": "buy", "pair": "XBTUSD", "volume": "0.01", "price": "50000"}


@dataclass
class Served:
    exchange: Exchange
    url: str
    key: str
    secret: str

    def statuses(self) -> dict[str, str]:
        return {o.txid: o.status for o in self.exchange.orders(self.key)}

    def private_calls(self) -> list[str]:
        return [e.endpoint for e in self.exchange.journal if e.api_key == self.key]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """A fake exchange served on loopback, one funded account, and no route anywhere else."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: nothing answers
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    exchange = Exchange(
        load_scenario(None), seed=3, clock=WallClock(), faults="none", tier="unlimited"
    )
    key, secret = exchange.create_account(dict(BALANCES))
    with serve(exchange) as server:
        yield Served(exchange, server.base_url, key, secret)


# ---------------------------------------------------------------- python-kraken-sdk


def test_python_kraken_sdk_reads_markets_and_balances(served):
    market = Market(url=served.url)
    assert "XXBTZUSD" in market.get_asset_pairs()
    assert list(market.get_ticker(pair="XBTUSD")) == ["XXBTZUSD"]
    balances = User(key=served.key, secret=served.secret, url=served.url).get_balances()
    assert balances["ZUSD"]["balance"] == "100000.0000"


def test_python_kraken_sdk_drives_an_order_through_its_whole_life(served):
    trade = Trade(key=served.key, secret=served.secret, url=served.url)
    user = User(key=served.key, secret=served.secret, url=served.url)

    # The SDK sends reduce_only=False, validate=False, stptype and starttm on every order.
    validated = trade.create_order(**LIMIT, validate=True)
    assert validated == {"descr": {"order": "buy 0.01000000 XBTUSD @ limit 50000.0"}}
    assert served.statuses() == {}
    (tagged,) = trade.create_order(**LIMIT, userref=12)["txid"]
    (named,) = trade.create_order(**LIMIT, cl_ord_id="sdk-order-1")["txid"]

    assert set(user.get_open_orders()["open"]) == {tagged, named}
    info = user.get_orders_info(txid=[tagged, named])
    assert (info[tagged]["userref"], info[named]["cl_ord_id"]) == (12, "sdk-order-1")

    assert trade.cancel_order(txid=tagged)["count"] == 1
    assert trade.cancel_order(cl_ord_id="sdk-order-1")["count"] == 1
    with pytest.raises(KrakenUnknownOrderError):
        trade.cancel_order(txid=tagged)  # no longer open
    with pytest.raises(KrakenInvalidOrderError):
        user.get_orders_info(txid=[tagged, "OAAAAA-BBBBB-CCCCCC"])  # one unknown txid
    closed = user.get_closed_orders()
    assert closed["count"] == 2
    assert {t: o["status"] for t, o in closed["closed"].items()} == {
        tagged: "canceled",
        named: "canceled",
    }

    (third,) = trade.create_order(**LIMIT)["txid"]
    (fourth,) = trade.create_order(**{**LIMIT, "price": "49000"})["txid"]
    assert trade.cancel_all_orders() == {"count": 2}
    armed = trade.cancel_all_orders_after_x(timeout=60)
    assert armed["triggerTime"] != "0"
    assert trade.cancel_all_orders_after_x(timeout=0)["triggerTime"] == "0"

    (market_order,) = trade.create_order(
        ordertype="market", side="buy", pair="XBTUSD", volume="0.001"
    )["txid"]
    assert served.statuses() == {
        tagged: "canceled",
        named: "canceled",
        third: "canceled",
        fourth: "canceled",
        market_order: "closed",
    }


def test_python_kraken_sdk_sees_a_wrong_secret_as_an_invalid_signature(served):
    wrong = User(key=served.key, secret=WRONG_SECRET, url=served.url)
    with pytest.raises(KrakenInvalidSignatureError):
        wrong.get_balances()


def test_python_kraken_sdk_sees_a_replayed_nonce_as_an_invalid_nonce(served):
    user = User(key=served.key, secret=served.secret, url=served.url)
    nonce = user.get_nonce()
    user.get_nonce = lambda: nonce  # type: ignore[method-assign]  # replay one nonce
    assert "ZUSD" in user.get_balances()
    with pytest.raises(KrakenInvalidNonceError):
        user.get_balances()
    assert served.private_calls() == ["BalanceEx", "BalanceEx"]


def test_python_kraken_sdk_websocket_client_hears_executions_and_places_an_order(served):
    """The SDK's own WebSocket v2 client against the fake's socket: token from REST,
    the executions subscription (ack, snapshot, updates with sequence numbers), and
    add_order over the socket; the order's life is then reported on the channel."""
    with serve_ws(served.exchange) as socket:
        messages = asyncio.run(_sdk_session(served, socket.url.removesuffix("/v2")))
    acks = [m for m in messages if m.get("method") == "subscribe"]
    assert acks
    assert acks[0]["success"] is True
    assert acks[0]["result"]["channel"] == "executions"
    executions = [m for m in messages if m.get("channel") == "executions"]
    assert executions[0]["type"] == "snapshot"
    sequences = [m["sequence"] for m in executions]
    assert sequences == list(range(1, len(sequences) + 1))
    (placed,) = [m for m in messages if m.get("method") == "add_order"]
    assert placed["success"] is True
    assert placed["result"]["cl_ord_id"] == "sdk-ws-1"
    txid = placed["result"]["order_id"]
    reports = [r for m in executions for r in m["data"] if r["order_id"] == txid]
    assert [r["exec_type"] for r in reports] == ["pending_new", "new", "trade", "filled"]
    assert reports[0]["symbol"] == "BTC/USD"
    assert served.statuses() == {txid: "closed"}
    assert "GetWebSocketsToken" in served.private_calls()


async def _sdk_session(served: Served, auth_ws_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def on_message(message: object) -> None:
        if isinstance(message, dict):
            messages.append(message)

    client = SpotWSClient(
        key=served.key,
        secret=served.secret,
        callback=on_message,
        no_public=True,
        rest_url=served.url,
        auth_ws_url=auth_ws_url,
    )
    await client.start()
    try:
        await client.subscribe(params={"channel": "executions", "snap_orders": True})
        await _until(lambda: any(m.get("channel") == "executions" for m in messages))
        await client.send_message(
            {
                "method": "add_order",
                "params": {
                    "order_type": "market",
                    "side": "buy",
                    "order_qty": 0.001,
                    "symbol": "BTC/USD",
                    "cl_ord_id": "sdk-ws-1",
                },
            }
        )
        await _until(
            lambda: any(
                r.get("exec_type") == "filled"
                for m in messages
                if m.get("channel") == "executions"
                for r in m["data"]
            )
        )
    finally:
        await client.close()
    return messages


async def _until(condition: Callable[[], bool], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the WebSocket did not deliver in time")
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------- ccxt


def ccxt_kraken(served: Served, *, secret: str | None = None) -> ccxt.kraken:
    """ccxt's Kraken pointed at the fake: ``urls['api']`` names the base URL per API."""
    return ccxt.kraken(
        {
            "apiKey": served.key,
            "secret": served.secret if secret is None else secret,
            "urls": {"api": {"public": served.url, "private": served.url}},
            "enableRateLimit": False,  # ccxt's own pacing; the fake enforces Kraken's counters
        }
    )


def test_ccxt_loads_markets_from_the_fake_and_reads_balances(served):
    exchange = ccxt_kraken(served)
    markets = exchange.load_markets()
    assert {"BTC/USD", "ETH/USD", "SOL/USD", "ETH/BTC"} <= set(markets)
    assert markets["BTC/USD"]["id"] == "XXBTZUSD"
    assert exchange.fetch_balance()["total"]["USD"] == 100_000
    assert [e.endpoint for e in served.exchange.journal][:2] == ["Assets", "AssetPairs"]


def test_ccxt_drives_an_order_through_its_whole_life(served):
    exchange = ccxt_kraken(served)

    validated = exchange.create_order("BTC/USD", "limit", "buy", 0.01, 50000, {"validate": True})
    assert validated["id"] is None
    assert served.statuses() == {}
    tagged = exchange.create_order("BTC/USD", "limit", "buy", 0.01, 50000, {"userref": 12})["id"]
    named = exchange.create_order(
        "BTC/USD", "limit", "buy", 0.01, 50000, {"clientOrderId": "ccxt-order-1"}
    )["id"]

    listed = {o["id"]: o["clientOrderId"] for o in exchange.fetch_open_orders()}
    assert listed == {tagged: "12", named: "ccxt-order-1"}
    fetched = exchange.fetch_order(tagged)
    assert (fetched["status"], fetched["amount"], fetched["price"]) == ("open", 0.01, 50000.0)

    exchange.cancel_order(tagged)
    exchange.cancel_order(None, None, {"clientOrderId": "ccxt-order-1"})
    with pytest.raises(ccxt.OrderNotFound):
        exchange.cancel_order(tagged)  # no longer open
    with pytest.raises(ccxt.InvalidOrder):
        exchange.fetch_order("OAAAAA-BBBBB-CCCCCC")
    closed = {o["id"]: o["status"] for o in exchange.fetch_closed_orders()}
    assert closed == {tagged: "canceled", named: "canceled"}

    third = exchange.create_order("BTC/USD", "limit", "buy", 0.01, 50000)["id"]
    (cancelled,) = exchange.cancel_all_orders()
    assert cancelled["info"]["result"] == {"count": 1}
    armed = exchange.cancel_all_orders_after(60_000)  # ccxt takes milliseconds
    assert armed["result"]["triggerTime"] != "0"
    assert exchange.cancel_all_orders_after(0)["result"]["triggerTime"] == "0"

    market_order = exchange.create_order("BTC/USD", "market", "buy", 0.001)["id"]
    assert served.statuses() == {
        tagged: "canceled",
        named: "canceled",
        third: "canceled",
        market_order: "closed",
    }


def test_ccxt_sees_a_wrong_secret_as_an_invalid_signature(served):
    wrong = ccxt_kraken(served, secret=WRONG_SECRET)
    with pytest.raises(ccxt.ExchangeError, match="EAPI:Invalid signature"):
        wrong.fetch_balance()


def test_ccxt_sees_a_replayed_nonce_as_an_invalid_nonce(served):
    first, second = ccxt_kraken(served), ccxt_kraken(served)
    for client in (first, second):
        client.nonce = lambda: 1_700_000_000_000  # two instances, one nonce
    assert first.fetch_balance()["total"]["USD"] == 100_000
    with pytest.raises(ccxt.InvalidNonce):
        second.fetch_balance()
