"""Request encoding and response parsing for every endpoint, against Kraken's documented shapes."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from tests.builders import asset_pairs_sample

from kraken_bot.kraken.errors import AuthError, UnexpectedResponseError
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.signing import api_sign
from kraken_bot.kraken.types import KrakenOrderStatus

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
API_KEY = "test-api-key-0123456789"


def order_info(
    txid="OU22CG-KLAF2-FWUDD7", *, status="open", opentm=1688666559.8974, closetm=None, **extra
):
    info = {
        "refid": None,
        "userref": 0,
        "cl_ord_id": None,
        "status": status,
        "opentm": opentm,
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": "XBTUSD",
            "type": "buy",
            "ordertype": "limit",
            "price": "27500.0",
            "price2": "0",
            "leverage": "none",
            "order": "buy 1.25000000 XBTUSD @ limit 27500.0",
            "close": "",
        },
        "vol": "1.25000000",
        "vol_exec": "0.00000000",
        "cost": "0.00000",
        "fee": "0.00000",
        "price": "0.00000",
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
    }
    if closetm is not None:
        info["closetm"] = closetm
        info["reason"] = "User requested"
    info.update(extra)
    return info


# ---------------------------------------------------------------- transport basics


def test_private_calls_are_signed_form_posts_with_the_documented_headers(client, kraken):
    kraken.reply({"ZUSD": "1"})
    client.private("Balance")
    request = kraken.requests[-1]
    assert request.method == "POST"
    assert request.url == "https://api.kraken.test/0/private/Balance"
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request.headers["API-Key"] == API_KEY
    assert request.headers["User-Agent"] == "krakked/0.5"
    nonce = kraken.form()["nonce"]
    assert request.body == f"nonce={nonce}".encode()
    assert request.headers["API-Sign"] == api_sign(
        "/0/private/Balance", nonce, request.body, SECRET
    )


def test_every_attempt_gets_a_new_nonce_and_signature(client, kraken):
    client.private("Balance")
    client.private("Balance")
    first, second = kraken.requests
    assert int(kraken.form(1)["nonce"]) > int(kraken.form(0)["nonce"])
    assert first.headers["API-Sign"] != second.headers["API-Sign"]


def test_public_calls_are_gets_with_a_query_string_and_no_credentials(client, kraken):
    kraken.reply({})
    client.public("Ticker", pair=["XBTUSD", "ETHUSD"])
    request = kraken.requests[-1]
    assert request.method == "GET"
    assert kraken.path() == "/0/public/Ticker"
    assert kraken.query() == {"pair": "XBTUSD,ETHUSD"}
    assert "API-Key" not in request.headers
    assert "API-Sign" not in request.headers
    assert request.body is None


def test_every_call_carries_the_connect_and_read_timeouts(make_client, kraken):
    client = make_client(connect_timeout=2.5, read_timeout=9.0)
    client.public("Time")
    client.private("Balance")
    assert kraken.timeouts == [(2.5, 9.0), (2.5, 9.0)]


def test_the_low_level_calls_return_the_decoded_result(client, kraken):
    kraken.reply({"anything": [1, 2, {"x": "y"}]})
    assert client.private("SomeNewEndpoint", flag=True, n=3) == {"anything": [1, 2, {"x": "y"}]}
    form = kraken.form()
    assert form["flag"] == "true"
    assert form["n"] == "3"


def test_a_private_call_without_credentials_fails_before_anything_is_sent(make_client, kraken):
    client = make_client(api_key=None, api_secret=None)
    with pytest.raises(AuthError, match="no API key and secret") as info:
        client.balance()
    assert info.value.endpoint == "Balance"
    assert kraken.requests == []


def test_method_names_must_be_plain_words(client, kraken):
    with pytest.raises(ValueError, match="method"):
        client.public("../private/Balance")
    assert kraken.requests == []


def test_a_base_url_with_a_path_prefix_is_signed_with_the_full_path(make_client, kraken):
    client = make_client(base_url="https://api.kraken.test/proxy/")
    client.private("Balance")
    request = kraken.requests[-1]
    assert request.url == "https://api.kraken.test/proxy/0/private/Balance"
    nonce = kraken.form()["nonce"]
    assert request.headers["API-Sign"] == api_sign(
        "/proxy/0/private/Balance", nonce, request.body, SECRET
    )


# ---------------------------------------------------------------- public endpoints


def test_time(client, kraken):
    kraken.reply({"unixtime": 1688669448, "rfc1123": "Thu, 06 Jul 23 18:50:48 +0000"})
    server = client.server_time()
    assert kraken.path() == "/0/public/Time"
    assert server.unixtime == 1688669448
    assert server.time == datetime(2023, 7, 6, 18, 50, 48, tzinfo=UTC)
    assert json.loads(server.raw)["rfc1123"] == "Thu, 06 Jul 23 18:50:48 +0000"


def test_system_status(client, kraken):
    kraken.reply({"status": "cancel_only", "timestamp": "2023-07-06T18:52:00Z"})
    status = client.system_status()
    assert kraken.path() == "/0/public/SystemStatus"
    assert status.status == "cancel_only"
    assert status.timestamp == datetime(2023, 7, 6, 18, 52, tzinfo=UTC)


def test_assets(client, kraken):
    kraken.reply(
        {
            "XXBT": {
                "aclass": "currency",
                "altname": "XBT",
                "decimals": 10,
                "display_decimals": 5,
                "status": "enabled",
            },
            "ZUSD": {"aclass": "currency", "altname": "USD", "decimals": 4, "display_decimals": 2},
        }
    )
    assets = client.assets(["XBT", "USD"])
    assert kraken.query() == {"asset": "XBT,USD"}
    assert assets["XXBT"].altname == "XBT"
    assert assets["XXBT"].decimals == 10
    assert assets["ZUSD"].status is None


ASSET_PAIRS = asset_pairs_sample()


def test_asset_pairs_all_and_named(client, kraken):
    kraken.reply(ASSET_PAIRS)
    universe = client.asset_pairs()
    assert kraken.query() == {}
    assert universe.resolve("XBT/USD").unwrap().ordermin == Decimal("0.00005")
    kraken.reply({"XETHZUSD": ASSET_PAIRS["XETHZUSD"]})
    universe = client.asset_pairs(["ETHUSD"])
    assert kraken.query() == {"pair": "ETHUSD"}
    assert list(universe.pairs) == ["ETHUSD"]


def test_ticker_is_keyed_by_pair_id_and_stamped_with_the_read_time(client, kraken, clock):
    kraken.reply(
        {
            "XXBTZUSD": {
                "a": ["30300.10000", "1", "1.000"],
                "b": ["30300.00000", "1", "1.000"],
                "c": ["30303.20000", "0.00067643"],
                "v": ["4083.67001100", "4412.73601799"],
                "p": ["30706.77771", "30689.13205"],
                "t": [34619, 38907],
                "l": ["29868.30000", "29868.30000"],
                "h": ["31631.00000", "31631.00000"],
                "o": "30502.80000",
            }
        }
    )
    quotes = client.ticker(["XBTUSD"])
    assert kraken.query() == {"pair": "XBTUSD"}
    quote = quotes["XXBTZUSD"]
    assert (quote.bid, quote.ask, quote.last) == (
        Decimal("30300.00000"),
        Decimal("30300.10000"),
        Decimal("30303.20000"),
    )
    assert quote.mid == Decimal("30300.05")
    assert quote.at == clock.now()


def test_ohlc(client, kraken):
    kraken.reply(
        {
            "XXBTZUSD": [
                [
                    1688671200,
                    "30306.1",
                    "30306.2",
                    "30305.7",
                    "30305.7",
                    "30306.1",
                    "3.39243896",
                    23,
                ],
                [
                    1688671260,
                    "30304.5",
                    "30304.5",
                    "30300.0",
                    "30300.0",
                    "30300.7",
                    "4.42996871",
                    18,
                ],
            ],
            "last": 1688672160,
        }
    )
    series = client.ohlc("XBTUSD", interval=1, since=1688671100)
    assert kraken.query() == {"pair": "XBTUSD", "interval": "1", "since": "1688671100"}
    assert series.pair == "XXBTZUSD"
    assert series.last == 1688672160
    assert len(series.candles) == 2
    first = series.candles[0]
    assert first.time == datetime.fromtimestamp(1688671200, tz=UTC)
    assert (first.open, first.close, first.volume, first.count) == (
        Decimal("30306.1"),
        Decimal("30305.7"),
        Decimal("3.39243896"),
        23,
    )


def test_ohlc_refuses_an_interval_kraken_does_not_offer(client, kraken):
    with pytest.raises(ValueError, match="interval"):
        client.ohlc("XBTUSD", interval=7)
    assert kraken.requests == []


# ---------------------------------------------------------------- private endpoints


def test_balance(client, kraken):
    kraken.reply({"ZUSD": "171288.6158", "XXBT": "1011.1908877900", "SOL.S": 2})
    balances = client.balance()
    assert kraken.path() == "/0/private/Balance"
    assert balances == {
        "ZUSD": Decimal("171288.6158"),
        "XXBT": Decimal("1011.1908877900"),
        "SOL.S": Decimal(2),
    }
    assert json.loads(balances.raw)["ZUSD"] == "171288.6158"


def test_add_order_sends_every_field_the_execution_layer_uses(client, kraken):
    kraken.reply(
        {"descr": {"order": "buy 1.45 XBTUSD @ limit 27500.0"}, "txid": ["OU22CG-KLAF2-FWUDD7"]}
    )
    ack = client.add_order(
        AddOrderRequest(
            pair="XXBTZUSD",
            side="buy",
            ordertype="limit",
            volume="1.45000000",
            price="27500.0",
            userref=2000,
            timeinforce="GTD",
            expiretm="+3600",
            oflags=("post", "fciq"),
            deadline=datetime(2026, 1, 1, 0, 0, 15, tzinfo=UTC),
        )
    )
    assert kraken.path() == "/0/private/AddOrder"
    form = kraken.form()
    nonce = form.pop("nonce")
    assert form == {
        "pair": "XXBTZUSD",
        "type": "buy",
        "ordertype": "limit",
        "volume": "1.45000000",
        "price": "27500.0",
        "userref": "2000",
        "timeinforce": "GTD",
        "expiretm": "+3600",
        "oflags": "post,fciq",
        "deadline": "2026-01-01T00:00:15.000Z",
    }
    assert b"expiretm=%2B3600" in kraken.requests[-1].body
    assert kraken.requests[-1].headers["API-Sign"] == api_sign(
        "/0/private/AddOrder", nonce, kraken.requests[-1].body, SECRET
    )
    assert ack.txids == ("OU22CG-KLAF2-FWUDD7",)
    assert ack.description == "buy 1.45 XBTUSD @ limit 27500.0"


def test_add_order_with_cl_ord_id_and_validate(client, kraken):
    kraken.reply({"descr": {"order": "buy 0.00200000 XBTUSD @ market"}})
    ack = client.add_order(
        AddOrderRequest(
            pair="XBTUSD",
            side="buy",
            ordertype="market",
            volume="0.002",
            cl_ord_id="6d1b345e-2821-40e2-ad83-4ecb18a06876",
            validate=True,
        )
    )
    form = kraken.form()
    assert form["validate"] == "true"
    assert form["cl_ord_id"] == "6d1b345e-2821-40e2-ad83-4ecb18a06876"
    assert "userref" not in form
    assert "price" not in form
    assert ack.txids == ()


def test_add_order_without_validate_omits_the_field(client, kraken):
    kraken.reply({"descr": {"order": "sell"}, "txid": ["OA"]})
    client.add_order(AddOrderRequest(pair="XBTUSD", side="sell", ordertype="market", volume="0.5"))
    assert "validate" not in kraken.form()
    assert b"validate" not in kraken.requests[-1].body


@pytest.mark.parametrize(
    ("kwargs", "form"),
    [
        ({"txid": "OU22CG-KLAF2-FWUDD7"}, {"txid": "OU22CG-KLAF2-FWUDD7"}),
        ({"userref": 2000}, {"txid": "2000"}),
        ({"cl_ord_id": "arb-20240509-00010"}, {"cl_ord_id": "arb-20240509-00010"}),
    ],
)
def test_cancel_order_by_txid_userref_or_cl_ord_id(client, kraken, kwargs, form):
    kraken.reply({"count": 1, "pending": False})
    ack = client.cancel_order(**kwargs)
    assert kraken.path() == "/0/private/CancelOrder"
    sent = kraken.form()
    sent.pop("nonce")
    assert sent == form
    assert (ack.count, ack.pending) == (1, False)


def test_cancel_order_accepts_a_string_count_and_a_missing_pending(client, kraken):
    kraken.reply({"count": "2"})
    ack = client.cancel_order(userref=7)
    assert (ack.count, ack.pending) == (2, False)


@pytest.mark.parametrize(
    "kwargs", [{}, {"txid": "OA", "cl_ord_id": "x"}, {"txid": "OA", "userref": 1}]
)
def test_cancel_order_takes_exactly_one_identifier(client, kraken, kwargs):
    with pytest.raises(ValueError, match="exactly one"):
        client.cancel_order(**kwargs)
    assert kraken.requests == []


def test_cancel_all(client, kraken):
    kraken.reply({"count": 4})
    assert client.cancel_all().count == 4
    assert kraken.path() == "/0/private/CancelAll"


def test_cancel_all_orders_after_arms_and_disarms(client, kraken):
    kraken.reply({"currentTime": "2023-03-24T17:41:56Z", "triggerTime": "2023-03-24T17:42:56Z"})
    ack = client.cancel_all_orders_after(60)
    assert kraken.path() == "/0/private/CancelAllOrdersAfter"
    assert kraken.form()["timeout"] == "60"
    assert ack.current_time == datetime(2023, 3, 24, 17, 41, 56, tzinfo=UTC)
    assert ack.trigger_time == datetime(2023, 3, 24, 17, 42, 56, tzinfo=UTC)
    kraken.reply({"currentTime": "2023-03-24T17:43:00Z", "triggerTime": "0"})
    disarmed = client.cancel_all_orders_after(0)
    assert kraken.form()["timeout"] == "0"
    assert disarmed.trigger_time is None


@pytest.mark.parametrize("timeout", [-1, 86400, 100000])
def test_cancel_all_orders_after_refuses_timeouts_kraken_refuses(client, kraken, timeout):
    with pytest.raises(ValueError, match="timeout"):
        client.cancel_all_orders_after(timeout)
    assert kraken.requests == []


def test_open_orders_with_filters(client, kraken):
    kraken.reply(
        {"open": {"OQCLML-BW3P3-BUCMWZ": order_info("OQCLML-BW3P3-BUCMWZ", vol_exec="0.5")}}
    )
    orders = client.open_orders(userref=2000, trades=True)
    form = kraken.form()
    assert (form["userref"], form["trades"]) == ("2000", "true")
    assert "cl_ord_id" not in form
    (order,) = orders
    assert order.txid == "OQCLML-BW3P3-BUCMWZ"
    assert order.status is KrakenOrderStatus.OPEN
    assert order.volume_executed == Decimal("0.5")


def test_open_orders_by_cl_ord_id_without_trades(client, kraken):
    kraken.reply({"open": {}})
    assert client.open_orders(cl_ord_id="abc") == ()
    form = kraken.form()
    assert form["cl_ord_id"] == "abc"
    assert "trades" not in form


def test_query_orders(client, kraken):
    kraken.reply(
        {
            "OA": order_info("OA", status="closed", vol_exec="1.25000000"),
            "OB": order_info("OB", status="canceled", closetm=1688667000.1),
        }
    )
    orders = client.query_orders(["OB", "OA"], trades=True)
    form = kraken.form()
    assert (form["txid"], form["trades"]) == ("OB,OA", "true")
    assert [o.txid for o in orders] == ["OB", "OA"]
    assert orders[0].reason == "User requested"


def test_query_orders_sends_at_most_50_txids_per_call(client, kraken):
    txids = [f"O{i:05d}-AAAAA-BBBBBB" for i in range(120)]
    kraken.handler = lambda request: (
        200,
        json.dumps(
            {
                "error": [],
                "result": {
                    t: order_info(t)
                    for t in dict(parse_qsl(request.body.decode()))["txid"].split(",")
                },
            }
        ).encode(),
    )
    orders = client.query_orders([*txids, txids[0]])
    chunks = [kraken.form(i)["txid"].split(",") for i in range(len(kraken.requests))]
    assert [len(c) for c in chunks] == [50, 50, 20]
    assert [t for c in chunks for t in c] == txids
    assert [o.txid for o in orders] == txids


def test_query_orders_with_no_txids_sends_nothing(client, kraken):
    assert client.query_orders([]) == ()
    assert kraken.requests == []


class ClosedOrdersServer:
    """Kraken's ClosedOrders paging: newest first, 50 per page, ``ofs``; can insert closures."""

    def __init__(self, total, *, new_closures_after_first_page=0):
        base = 1_700_000_000.0
        self.orders = [(f"O{i:05d}-AAAAA-BBBBBB", base + i) for i in range(total)]
        self.late = new_closures_after_first_page
        self.calls = 0

    def __call__(self, request):
        form = dict(parse_qsl(request.body.decode()))
        self.calls += 1
        newest_first = sorted(self.orders, key=lambda o: -o[1])
        if "end" in form:
            newest_first = [o for o in newest_first if o[1] <= float(form["end"])]
        ofs = int(form.get("ofs", "0"))
        page = newest_first[ofs : ofs + 50]
        if self.calls == 1:
            for i in range(self.late):  # closures that happen while we page
                self.orders.append((f"N{i:05d}-AAAAA-BBBBBB", 1_800_000_000.0 + i))
        result = {
            "closed": {
                t: order_info(t, status="closed", opentm=at - 10, closetm=at) for t, at in page
            },
            "count": len(newest_first),
        }
        return 200, json.dumps({"error": [], "result": result}).encode()


def test_closed_orders_pages_through_all_results(client, kraken):
    server = ClosedOrdersServer(120)
    kraken.handler = server
    orders = client.closed_orders(userref=2000)
    assert [kraken.form(i)["ofs"] for i in range(3)] == ["0", "50", "100"]
    assert len(orders) == 120
    assert len({o.txid for o in orders}) == 120
    assert orders[0].closed_at > orders[-1].closed_at  # newest first
    form = kraken.form(0)
    assert (form["userref"], form["closetime"]) == ("2000", "both")


def test_closed_orders_pins_end_so_new_closures_do_not_shift_pages(client, kraken):
    server = ClosedOrdersServer(120, new_closures_after_first_page=7)
    kraken.handler = server
    orders = client.closed_orders()
    assert "end" not in kraken.form(0)
    newest = 1_700_000_000.0 + 119
    assert kraken.form(1)["end"] == kraken.form(2)["end"] == str(math.ceil(newest))
    assert sorted(o.txid for o in orders) == sorted(t for t, at in server.orders if at <= newest)


def test_closed_orders_keeps_an_end_the_caller_gave(client, kraken):
    kraken.handler = ClosedOrdersServer(60)
    client.closed_orders(
        start=1_699_999_000, end=datetime.fromtimestamp(1_700_000_010.5, tz=UTC), closetime="close"
    )
    for i in range(len(kraken.requests)):
        form = kraken.form(i)
        assert (form["start"], form["end"], form["closetime"]) == (
            "1699999000",
            "1700000011",
            "close",
        )


def test_closed_orders_stops_on_an_empty_page(client, kraken):
    kraken.reply({"closed": {"OA": order_info("OA", status="closed", closetm=1.5)}, "count": 500})
    kraken.reply({"closed": {}, "count": 500})
    assert [o.txid for o in client.closed_orders()] == ["OA"]
    assert len(kraken.requests) == 2


def test_closed_orders_returns_a_duplicate_only_once(client, kraken):
    kraken.reply(
        {
            "closed": {
                f"O{i}": order_info(f"O{i}", status="closed", closetm=100.0 - i) for i in range(50)
            },
            "count": 51,
        }
    )
    kraken.reply({"closed": {"O49": order_info("O49", status="closed", closetm=51.0)}, "count": 51})
    assert len(client.closed_orders()) == 50


# ---------------------------------------------------------------- shapes Kraken should not send


@pytest.mark.parametrize(
    ("call", "result"),
    [
        (lambda c: c.balance(), {"ZUSD": "lots"}),
        (lambda c: c.server_time(), {"rfc1123": "x"}),
        (lambda c: c.cancel_all(), {"pending": True}),
        (
            lambda c: c.open_orders(),
            {"open": {"OA": {"status": "weird", "vol": "1", "vol_exec": "0"}}},
        ),
        (lambda c: c.closed_orders(), ["not", "an", "object"]),
        (lambda c: c.ohlc("XBTUSD"), {"XXBTZUSD": [[1, "x"]], "last": 1}),
        (
            lambda c: c.add_order(
                AddOrderRequest(pair="XBTUSD", side="buy", ordertype="market", volume="1")
            ),
            {"txid": 5},
        ),
    ],
)
def test_an_unexpected_result_shape_is_an_ambiguous_error_not_a_crash(client, kraken, call, result):
    kraken.reply(result)
    with pytest.raises(UnexpectedResponseError) as info:
        call(client)
    assert info.value.may_have_executed


def test_urls_are_built_from_the_base_url(make_client, kraken):
    client = make_client(base_url="http://127.0.0.1:8080")
    client.public("Time")
    assert urlsplit(kraken.requests[-1].url).netloc == "127.0.0.1:8080"
