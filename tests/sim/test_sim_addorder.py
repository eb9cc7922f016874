"""AddOrder: response shape, validate, and every rejection with Kraken's error string."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from kraken_sim import Quirks

TXID = re.compile(r"^O[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}$")
LIMIT = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "37500", "volume": "1.25"}


def test_add_order_answers_descr_and_a_one_element_txid_list(kraken):
    result = kraken.ok("AddOrder", **LIMIT)
    assert result["descr"] == {"order": "buy 1.25000000 XBTUSD @ limit 37500.0"}
    assert len(result["txid"]) == 1
    assert TXID.match(result["txid"][0])


def test_market_orders_are_described_at_market(kraken):
    result = kraken.ok("AddOrder", pair="XXBTZUSD", type="buy", ordertype="market", volume="0.002")
    assert result["descr"] == {"order": "buy 0.00200000 XBTUSD @ market"}


@pytest.mark.parametrize("flag", ["true", "True", "1", "TRUE"])
def test_validate_true_checks_but_places_nothing(exchange, kraken, flag):
    result = kraken.ok("AddOrder", validate=flag, **LIMIT)
    assert result == {"descr": {"order": "buy 1.25000000 XBTUSD @ limit 37500.0"}}
    assert exchange.orders(kraken.key) == []
    assert kraken.ok("OpenOrders") == {"open": {}}


@pytest.mark.parametrize("flag", ["false", "False", "0"])
def test_validate_false_places_the_order(exchange, kraken, flag):
    result = kraken.ok("AddOrder", validate=flag, **LIMIT)
    assert "txid" in result
    assert len(exchange.orders(kraken.key)) == 1


def test_validate_still_rejects_bad_orders(kraken):
    assert kraken.errors("AddOrder", validate="true", **{**LIMIT, "volume": "0.00001"}) == [
        "EOrder:Order minimum not met"
    ]


def test_the_old_presence_rule_for_validate_can_be_switched_on(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(quirks=Quirks(validate_presence_means_true=True))))
    assert "txid" not in client.ok("AddOrder", validate="false", **LIMIT)


def test_a_json_body_places_an_order_with_json_booleans(kraken):
    status, _, body = kraken.private_raw("AddOrder", as_json=True, validate=True, **LIMIT)
    assert status == 200
    assert (
        body == b'{"error":[],"result":{"descr":{"order":"buy 1.25000000 XBTUSD @ limit 37500.0"}}}'
    )


def test_pair_id_altname_and_both_sides_work(kraken):
    txids = [
        kraken.buy("0.01", "50000", pair="XXBTZUSD"),
        kraken.sell("0.1", "4000", pair="ETHUSD"),
        kraken.buy("1", "0.040000", pair="XETHXXBT"),
    ]
    pairs = [kraken.order(t)["descr"]["pair"] for t in txids]
    assert pairs == ["XBTUSD", "ETHUSD", "ETHXBT"]


REJECTIONS = [
    ({"pair": None}, "EGeneral:Invalid arguments:pair"),
    ({"type": None}, "EGeneral:Invalid arguments:type"),
    ({"type": "hold"}, "EGeneral:Invalid arguments:type"),
    ({"ordertype": "stop-loss"}, "EGeneral:Invalid arguments:ordertype"),
    ({"volume": None}, "EGeneral:Invalid arguments:volume"),
    ({"volume": "abc"}, "EGeneral:Invalid arguments:volume"),
    ({"volume": "-1"}, "EGeneral:Invalid arguments:volume"),
    ({"volume": "1e-3"}, "EGeneral:Invalid arguments:volume"),
    ({"volume": "0.123456789"}, "EGeneral:Invalid arguments:volume"),
    ({"price": None}, "EGeneral:Invalid arguments:price"),
    ({"price": "37500.05"}, "EGeneral:Invalid arguments:price"),
    ({"pair": "DOGEUSD"}, "EQuery:Unknown asset pair"),
    ({"pair": "XBT/USD"}, "EQuery:Unknown asset pair"),
    ({"volume": "0.00004"}, "EOrder:Order minimum not met"),
    ({"volume": "0.00005", "price": "9000"}, "EOrder:Cost minimum not met"),
    ({"oflags": "zap"}, "EGeneral:Invalid arguments:oflags"),
    ({"oflags": "fcib,fciq"}, "EGeneral:Invalid arguments:oflags"),
    ({"oflags": "viqc"}, "EGeneral:Invalid arguments:viqc"),
    (
        {"timeinforce": "FOK", "ordertype": "market", "price": None},
        "EGeneral:Invalid arguments:timeinforce",
    ),
    ({"timeinforce": "DAY"}, "EGeneral:Invalid arguments:timeinforce"),
    ({"timeinforce": "GTD"}, "EGeneral:Invalid arguments:expiretm"),
    ({"expiretm": "+2"}, "EGeneral:Invalid arguments:expiretm"),
    ({"expiretm": "+9999999"}, "EGeneral:Invalid arguments:expiretm"),
    ({"expiretm": "1700000000"}, "EGeneral:Invalid arguments:expiretm"),
    ({"userref": "abc"}, "EGeneral:Invalid arguments:userref"),
    ({"userref": str(2**31)}, "EGeneral:Invalid arguments:userref"),
    ({"cl_ord_id": "this-one-is-too-long-for-kraken"}, "EGeneral:Invalid arguments:cl_ord_id"),
    ({"cl_ord_id": "abc", "userref": "5"}, "EGeneral:Invalid arguments"),
    ({"leverage": "2"}, "EGeneral:Invalid arguments:leverage"),
    ({"reduce_only": "maybe"}, "EGeneral:Invalid arguments:reduce_only"),
    ({"reduce_only": "true"}, "EOrder:Reduce only:No position exists"),
    ({"deadline": "2025-12-31T23:59:59Z"}, "EService:Deadline elapsed"),
    ({"deadline": "2026-01-01T00:05:00Z"}, "EGeneral:Invalid arguments:deadline"),
    ({"deadline": "tomorrow"}, "EGeneral:Invalid arguments:deadline"),
]


@pytest.mark.parametrize(("change", "error"), REJECTIONS)
def test_bad_orders_are_rejected_with_kraken_errors(exchange, kraken, change, error):
    params = {k: v for k, v in {**LIMIT, **change}.items() if v is not None}
    assert kraken.errors("AddOrder", **params) == [error]
    assert exchange.orders(kraken.key) == []


def test_the_tick_size_is_checked_where_it_is_coarser_than_the_decimals(
    make_exchange, flat, client_for
):
    scenario = flat()
    pairs = tuple(
        dataclasses.replace(p, meta=(("tick_size", "0.5"),)) if p.pair == "XXBTZUSD" else p
        for p in scenario.pairs
    )
    client = client_for(make_exchange(dataclasses.replace(scenario, pairs=pairs)))
    assert client.errors("AddOrder", **{**LIMIT, "price": "37500.3"}) == [
        "EOrder:Tick size check failed"
    ]
    client.buy("0.01", "37500.5")


def test_excess_decimals_can_be_truncated_instead(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(quirks=Quirks(excess_decimals="truncate"))))
    result = client.ok("AddOrder", **{**LIMIT, "volume": "1.123456789", "price": "37500.09"})
    assert result["descr"]["order"] == "buy 1.12345678 XBTUSD @ limit 37500.0"


def test_insufficient_funds_counts_holds_of_open_orders(kraken):
    # 100000 USD: 1.6 BTC at 60000 with the 0.4 % fee held is 96384 USD.
    kraken.buy("1.6", "59000")
    assert kraken.errors("AddOrder", **{**LIMIT, "price": "59000", "volume": "0.1"}) == [
        "EOrder:Insufficient funds"
    ]
    kraken.buy("0.01", "59000")


def test_selling_more_than_the_balance_is_insufficient_funds(kraken):
    assert kraken.errors(
        "AddOrder", pair="XBTUSD", type="sell", ordertype="market", volume="2.5"
    ) == ["EOrder:Insufficient funds"]


def test_a_market_buy_needs_its_cost_plus_fee(exchange, client_for):
    client = client_for(exchange, {"ZUSD": Decimal(600)})
    assert client.errors(
        "AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.01"
    ) == ["EOrder:Insufficient funds"]
    client.buy("0.0099")


def test_validate_does_not_check_funds_by_default(kraken):
    assert "descr" in kraken.ok("AddOrder", validate="true", **{**LIMIT, "volume": "100"})


def test_a_crossing_post_only_order_is_accepted_then_canceled_by_default(exchange, kraken):
    txid = kraken.buy("0.01", "60010", oflags="post")
    order = kraken.order(txid)
    assert (order["status"], order["reason"], order["vol_exec"]) == (
        "canceled",
        "Post only order",
        "0.00000000",
    )
    assert kraken.ok("OpenOrders") == {"open": {}}
    assert exchange.trades(kraken.key) == []
    resting = kraken.buy("0.01", "60005.9", oflags="post")
    assert kraken.order(resting)["status"] == "open"


def test_a_crossing_post_only_order_can_be_rejected_up_front(make_exchange, flat, client_for):
    fake = make_exchange(flat(quirks=Quirks(post_only_crossing="reject")))
    client = client_for(fake)
    assert client.errors("AddOrder", **{**LIMIT, "price": "60006", "oflags": "post"}) == [
        "EOrder:Post only order"
    ]
    assert fake.orders(client.key) == []
    client.buy("0.01", "60005.9", oflags="post")


@pytest.mark.parametrize("spelling", ["false", "False", "0", "FALSE"])
def test_reduce_only_false_is_accepted_in_every_boolean_spelling(exchange, kraken, spelling):
    txid = kraken.buy("0.01", "50000", reduce_only=spelling)
    assert [o.txid for o in exchange.orders(kraken.key)] == [txid]


def test_reduce_only_false_is_accepted_in_a_json_body(kraken):
    status, _, body = kraken.private_raw("AddOrder", as_json=True, reduce_only=False, **LIMIT)
    assert (status, json.loads(body)["error"]) == (200, [])


@pytest.mark.parametrize("spelling", ["true", "True", "1"])
def test_reduce_only_true_finds_no_position_on_a_spot_account(exchange, kraken, spelling):
    assert kraken.errors("AddOrder", reduce_only=spelling, **LIMIT) == [
        "EOrder:Reduce only:No position exists"
    ]
    assert exchange.orders(kraken.key) == []


def test_reduce_only_true_can_be_ignored_or_answered_another_way(make_exchange, flat, client_for):
    lenient = client_for(make_exchange(flat(quirks=Quirks(reduce_only_true="ignore"))))
    assert lenient.order(lenient.buy("0.01", "50000", reduce_only="true"))["status"] == "open"
    other = client_for(
        make_exchange(flat(quirks=Quirks(reduce_only_true="EOrder:Reduce only:Non-PC")))
    )
    assert other.errors("AddOrder", reduce_only="true", **LIMIT) == ["EOrder:Reduce only:Non-PC"]


def test_fok_is_a_valid_time_in_force_for_limit_orders(exchange, kraken):
    txid = kraken.buy("0.01", "50000", timeinforce="FOK")
    order = kraken.order(txid)
    assert (order["status"], order["reason"]) == ("expired", "Fill or kill")


def test_fok_can_be_refused_altogether_or_allowed_on_market_orders(make_exchange, flat, client_for):
    strict = client_for(make_exchange(flat(quirks=Quirks(allow_fok=False))))
    assert strict.errors("AddOrder", timeinforce="FOK", **LIMIT) == [
        "EGeneral:Invalid arguments:timeinforce"
    ]
    lenient = client_for(make_exchange(flat(quirks=Quirks(fok_on_market=True))))
    assert lenient.order(lenient.buy("0.01", timeinforce="FOK"))["status"] == "closed"


MARKET = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.01"}


def test_market_orders_accept_a_time_in_force_by_default(kraken):
    assert kraken.order(kraken.buy("0.01", timeinforce="IOC"))["status"] == "closed"
    assert kraken.order(kraken.buy("0.01", timeinforce="GTD", expiretm="+60"))["status"] == "closed"


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"timeinforce": "GTC"}, "EGeneral:Invalid arguments:timeinforce"),
        ({"timeinforce": "IOC"}, "EGeneral:Invalid arguments:timeinforce"),
        ({"expiretm": "+60"}, "EGeneral:Invalid arguments:expiretm"),
    ],
)
def test_a_strict_exchange_refuses_time_in_force_on_market_orders(
    make_exchange, flat, client_for, extra, error
):
    client = client_for(make_exchange(flat(quirks=Quirks(market_timeinforce=False))))
    assert client.errors("AddOrder", **MARKET, **extra) == [error]
    assert client.order(client.ok("AddOrder", **MARKET)["txid"][0])["status"] == "closed"
    assert "txid" in client.ok("AddOrder", timeinforce="IOC", **LIMIT)


def test_post_only_is_for_limit_orders_only(kraken):
    assert kraken.errors(
        "AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.01", oflags="post"
    ) == ["EGeneral:Invalid arguments:oflags"]


def test_cl_ord_id_formats_kraken_accepts(kraken):
    for cl_ord_id in (
        "6d1b345e-2821-40e2-ad83-4ecb18a06876",
        "6d1b345e282140e2ad834ecb18a06876",
        "arb-20240509-00010",
    ):
        txid = kraken.buy("0.01", "50000", cl_ord_id=cl_ord_id)
        assert kraken.order(txid)["cl_ord_id"] == cl_ord_id


def test_a_cl_ord_id_is_unique_among_open_orders_only(kraken):
    first = kraken.buy("0.01", "50000", cl_ord_id="strategy-1")
    assert kraken.errors("AddOrder", **{**LIMIT, "cl_ord_id": "strategy-1"}) == [
        "EOrder:Duplicate order"
    ]
    kraken.ok("CancelOrder", txid=first)
    second = kraken.buy("0.01", "50000", cl_ord_id="strategy-1")
    assert second != first


def test_a_cl_ord_id_of_a_filled_order_can_be_reused(kraken):
    first = kraken.buy("0.01", cl_ord_id="reuse-me")  # a market order: filled at once
    second = kraken.buy("0.01", cl_ord_id="reuse-me")
    assert kraken.order(first)["status"] == "closed"
    assert second != first


def test_the_duplicate_and_exclusivity_errors_are_configurable(make_exchange, flat, client_for):
    quirks = Quirks(
        duplicate_cl_ord_id_error="EOrder:Invalid order",
        userref_with_cl_ord_id_error="EGeneral:Invalid arguments:cl_ord_id",
    )
    client = client_for(make_exchange(flat(quirks=quirks)))
    client.buy("0.01", "50000", cl_ord_id="dup")
    assert client.errors("AddOrder", **{**LIMIT, "cl_ord_id": "dup"}) == ["EOrder:Invalid order"]
    assert client.errors("AddOrder", **{**LIMIT, "cl_ord_id": "x", "userref": "1"}) == [
        "EGeneral:Invalid arguments:cl_ord_id"
    ]


def test_cl_ord_id_can_be_echoed_when_configured(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(quirks=Quirks(echo_cl_ord_id=True))))
    assert client.ok("AddOrder", cl_ord_id="echo", **LIMIT)["cl_ord_id"] == "echo"


def test_userref_is_a_signed_int32(kraken):
    txid = kraken.buy("0.01", "50000", userref=str(-(2**31)))
    assert kraken.order(txid)["userref"] == -(2**31)


def test_a_future_deadline_within_a_minute_is_fine(kraken):
    txid = kraken.buy("0.01", "50000", deadline="2026-01-01T00:00:30Z")
    assert kraken.order(txid)["status"] == "open"


def test_conditional_close_is_parsed_from_flattened_form_keys(kraken):
    params = {**LIMIT, "close[ordertype]": "limit", "close[price]": "39000"}
    result = kraken.ok("AddOrder", validate="true", **params)
    assert result["descr"] == {
        "order": "buy 1.25000000 XBTUSD @ limit 37500.0",
        "close": "close position @ limit 39000.0",
    }


def test_a_filled_order_with_a_conditional_close_places_the_close(exchange, kraken):
    kraken.ok(
        "AddOrder",
        pair="XBTUSD",
        type="buy",
        ordertype="market",
        volume="0.1",
        **{"close[ordertype]": "limit", "close[price]": "61000"},
    )
    opened = kraken.ok("OpenOrders")["open"]
    (close,) = opened.values()
    assert close["descr"]["order"] == "sell 0.10000000 XBTUSD @ limit 61000.0"


@pytest.mark.parametrize(
    ("status", "params", "error"),
    [
        ("maintenance", LIMIT, "EService:Unavailable"),
        ("cancel_only", LIMIT, "EService:Market in cancel_only mode"),
        ("post_only", LIMIT, "EService:Market in post_only mode"),
    ],
)
def test_system_modes_restrict_trading(exchange, kraken, status, params, error):
    exchange.set_system_status(status)
    assert kraken.errors("AddOrder", **params) == [error]


def test_post_only_mode_accepts_post_only_limits(exchange, kraken):
    exchange.set_system_status("post_only")
    txid = kraken.buy("0.01", "50000", oflags="post")
    assert "post" in kraken.order(txid)["oflags"]


def test_maintenance_refuses_cancels_but_not_reads(exchange, kraken):
    txid = kraken.buy("0.01", "50000")
    exchange.set_system_status("maintenance")
    assert kraken.errors("CancelOrder", txid=txid) == ["EService:Unavailable"]
    assert txid in kraken.ok("OpenOrders")["open"]


def test_the_open_order_limit_per_pair_is_enforced(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(tier="starter")))
    for i in range(60):
        client.buy("0.001", str(40000 + i))
        client.exchange.clock.advance(1.1)  # keep under the trading counter
    assert client.errors("AddOrder", **{**LIMIT, "volume": "0.001"}) == [
        "EOrder:Orders limit exceeded"
    ]
    client.buy("0.01", "2000", pair="ETHUSD")


def test_pending_orders_start_later(exchange, kraken):
    txid = kraken.buy("0.01", "50000", starttm="+60")
    assert kraken.order(txid)["status"] == "pending"
    exchange.advance_to(exchange.clock.now() + timedelta(seconds=61))
    assert kraken.order(txid)["status"] == "open"


def batch(kraken, orders, **extra):
    status, _, body = kraken.private_raw(
        "AddOrderBatch", as_json=True, pair="XBTUSD", orders=orders, **extra
    )
    assert status == 200
    return json.loads(body)


def test_a_batch_places_every_order_with_scalar_txids(exchange, kraken):
    orders = [
        {
            "type": "buy",
            "ordertype": "limit",
            "price": "50000",
            "volume": "0.01",
            "cl_ord_id": "b-1",
        },
        {"type": "sell", "ordertype": "limit", "price": "70000", "volume": "0.02"},
    ]
    result = batch(kraken, orders)["result"]["orders"]
    assert [row["descr"]["order"] for row in result] == [
        "buy 0.01000000 XBTUSD @ limit 50000.0",
        "sell 0.02000000 XBTUSD @ limit 70000.0",
    ]
    assert [row["txid"] for row in result] == [o.txid for o in exchange.orders(kraken.key)]
    assert exchange.orders(kraken.key)[0].cl_ord_id == "b-1"


def test_a_malformed_order_rejects_the_whole_batch(exchange, kraken):
    orders = [
        {"type": "buy", "ordertype": "limit", "price": "50000", "volume": "0.01"},
        {"type": "buy", "ordertype": "limit", "price": "50000", "volume": "0.00001"},
    ]
    assert batch(kraken, orders) == {"error": ["EOrder:Order minimum not met"]}
    assert exchange.orders(kraken.key) == []


def test_an_unaffordable_order_fails_only_its_row(exchange, kraken):
    orders = [
        {"type": "buy", "ordertype": "limit", "price": "50000", "volume": "1.5"},
        {"type": "buy", "ordertype": "limit", "price": "50000", "volume": "1.5"},
    ]
    rows = batch(kraken, orders)["result"]["orders"]
    assert "txid" in rows[0]
    assert rows[1] == {"error": "EOrder:Insufficient funds"}


def test_a_batch_needs_two_to_fifteen_orders_and_can_validate(exchange, kraken):
    one = [{"type": "buy", "ordertype": "limit", "price": "50000", "volume": "0.01"}]
    assert batch(kraken, one) == {"error": ["EGeneral:Invalid arguments:orders"]}
    assert batch(kraken, one * 16) == {"error": ["EGeneral:Invalid arguments:orders"]}
    rows = batch(kraken, one * 2, validate=True)["result"]["orders"]
    assert rows == [{"descr": {"order": "buy 0.01000000 XBTUSD @ limit 50000.0"}}] * 2
    assert exchange.orders(kraken.key) == []


def test_cancel_order_batch_cancels_txids_and_cl_ord_ids(kraken):
    first = kraken.buy("0.01", "50000")
    second = kraken.buy("0.01", "50000", cl_ord_id="c-2")
    third = kraken.buy("0.01", "50000")
    _, _, body = kraken.private_raw(
        "CancelOrderBatch",
        as_json=True,
        orders=[first, {"txid": "OAAAAA-BBBBB-CCCCCC"}],
        cl_ord_ids=["c-2"],
    )
    assert json.loads(body) == {"error": [], "result": {"count": 2}}
    assert [kraken.order(t)["status"] for t in (first, second, third)] == [
        "canceled",
        "canceled",
        "open",
    ]
