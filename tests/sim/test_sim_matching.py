"""Matching on the virtual clock: taker fills at the touch, maker fills over time, TIF, balances.

The flat scenario keeps XBT/USD at a mid of 60000 (bid 59994.0, ask 60006.0, 1.5 BTC per taker
level 6.0 apart) until a test moves it with ``set_price``; resting orders can fill
0.25 BTC per minute, i.e. 0.04166666 BTC per 10-second step.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from kraken_sim import Quirks

ORDER_FIELDS = {
    "refid", "userref", "cl_ord_id", "status", "opentm", "starttm", "expiretm", "descr", "vol",
    "vol_exec", "cost", "fee", "price", "stopprice", "limitprice", "misc", "oflags", "margin",
}  # fmt: skip
DESCR_FIELDS = {"pair", "type", "ordertype", "price", "price2", "leverage", "order", "close"}


def advance(exchange, seconds):
    exchange.advance_to(exchange.clock.now() + timedelta(seconds=seconds))


def test_a_market_buy_fills_at_once_at_the_ask_and_pays_the_taker_fee(exchange, kraken):
    txid = kraken.buy("0.1")
    order = kraken.order(txid)
    assert (order["status"], order["vol_exec"], order["price"]) == (
        "closed",
        "0.10000000",
        "60006.0",
    )
    assert (order["cost"], order["fee"]) == ("6000.60000", "24.00240")
    assert order["closetm"] == order["opentm"]
    assert kraken.ok("Balance") == {
        "ZUSD": "93975.3976",
        "XXBT": "2.1000000000",
        "XETH": "10.0000000000",
        "SOL": "100.0000000000",
    }


def test_a_large_market_sell_walks_down_the_levels(kraken):
    order = kraken.order(kraken.sell("2"))
    assert (order["status"], order["vol_exec"]) == ("closed", "2.00000000")
    assert order["price"] == "59992.5"  # 1.5 at 59994.0, 0.5 at 59988.0
    assert len(order["trades"]) == 2


def test_a_marketable_limit_takes_at_the_touch_not_at_its_limit(kraken):
    order = kraken.order(kraken.buy("0.5", "60100"))
    assert (order["status"], order["price"], order["descr"]["price"]) == (
        "closed",
        "60006.0",
        "60100.0",
    )


def test_the_remainder_of_a_marketable_limit_rests_and_fills_as_maker(exchange, kraken):
    txid = kraken.buy("1.6", "60006")
    order = kraken.order(txid)
    assert (order["status"], order["vol_exec"]) == ("open", "1.50000000")
    advance(exchange, 30)
    order = kraken.order(txid)
    assert (order["status"], order["vol_exec"]) == ("closed", "1.60000000")
    fees = {trade["maker"] for trade in kraken.ok("TradesHistory")["trades"].values()}
    assert fees == {True, False}


def test_a_resting_limit_waits_until_the_mid_reaches_it(exchange, kraken):
    txid = kraken.buy("0.1", "59990")
    advance(exchange, 300)
    assert kraken.order(txid)["vol_exec"] == "0.00000000"
    exchange.set_price("XBTUSD", "59980")
    advance(exchange, 10)
    order = kraken.order(txid)
    assert (order["status"], order["vol_exec"], order["price"]) == ("open", "0.04166666", "59990.0")


def test_a_large_resting_order_fills_partially_over_several_minutes(exchange, kraken):
    txid = kraken.buy("1", "59990")
    exchange.set_price("XBTUSD", "59900")
    seen = []
    for _ in range(5):
        advance(exchange, 60)
        seen.append(Decimal(kraken.order(txid)["vol_exec"]))
    assert seen == sorted(seen)
    assert seen[0] < Decimal("0.3")
    assert seen[-1] == 1
    order = kraken.order(txid)
    assert order["status"] == "closed"
    assert order["misc"] == ""
    assert Decimal(order["fee"]) == pytest.approx(
        Decimal(59990) * Decimal("0.0025"), abs=Decimal("0.001")
    )


def test_resting_sells_fill_when_the_mid_rises_to_them(exchange, kraken):
    txid = kraken.sell("0.04", "60010")
    exchange.set_price("XBTUSD", "60020")
    advance(exchange, 10)
    order = kraken.order(txid)
    assert (order["status"], order["price"], order["cost"]) == ("closed", "60010.0", "2400.40000")


def test_orders_share_the_liquidity_in_price_time_priority(exchange, client_for):
    first, second = client_for(exchange), client_for(exchange)
    early = first.buy("0.04", "59990")
    better = second.buy("0.04", "59995")
    exchange.set_price("XBTUSD", "59980")
    advance(exchange, 10)
    assert second.order(better)["vol_exec"] == "0.04000000"
    assert first.order(early)["vol_exec"] == "0.00166666"


def test_an_ioc_remainder_expires(kraken):
    order = kraken.order(kraken.buy("1.6", "60006", timeinforce="IOC"))
    assert (order["status"], order["vol_exec"], order["reason"]) == (
        "expired",
        "1.50000000",
        "Immediate or cancel",
    )
    assert order["misc"] == "partial"
    assert kraken.ok("OpenOrders") == {"open": {}}


def test_an_unfilled_ioc_expires_without_fills(kraken):
    order = kraken.order(kraken.buy("0.1", "59000", timeinforce="IOC"))
    assert (order["status"], order["vol_exec"]) == ("expired", "0.00000000")


def test_the_ioc_remainder_status_is_configurable(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(quirks=Quirks(ioc_remainder_status="closed"))))
    order = client.order(client.buy("1.6", "60006", timeinforce="IOC"))
    assert (order["status"], order["vol_exec"], order["vol"]) == (
        "closed",
        "1.50000000",
        "1.60000000",
    )


def test_fok_fills_completely_or_expires(exchange, client_for):
    client = client_for(exchange)
    assert client.order(client.buy("1.6", "60006", timeinforce="FOK"))["status"] == "expired"
    assert client.order(client.buy("1.4", "60006", timeinforce="FOK"))["status"] == "closed"


def test_a_gtd_order_expires_at_its_expiry_time(exchange, kraken):
    txid = kraken.buy("0.01", "50000", timeinforce="GTD", expiretm="+60")
    order = kraken.order(txid)
    assert order["expiretm"] == pytest.approx(order["opentm"] + 60)
    advance(exchange, 59)
    assert kraken.order(txid)["status"] == "open"
    advance(exchange, 2)
    order = kraken.order(txid)
    assert (order["status"], order["reason"], order["closetm"]) == (
        "expired",
        "Order expired",
        order["expiretm"],
    )


def test_an_absolute_expiry_works_too(exchange, kraken):
    txid = kraken.buy("0.01", "50000", timeinforce="GTD", expiretm=str(1767225600 + 120))
    advance(exchange, 121)
    assert kraken.order(txid)["status"] == "expired"


def test_a_partly_filled_order_expires_with_its_fills(exchange, kraken):
    txid = kraken.buy("1", "59990", timeinforce="GTD", expiretm="+25")
    exchange.set_price("XBTUSD", "59900")
    advance(exchange, 30)
    order = kraken.order(txid)
    assert (order["status"], order["vol_exec"]) == ("expired", "0.08333332")


def test_open_orders_hold_funds_until_they_close(kraken):
    txid = kraken.buy("1", "50000")
    assert kraken.ok("BalanceEx")["ZUSD"] == {"balance": "100000.0000", "hold_trade": "50200.0000"}
    kraken.ok("CancelOrder", txid=txid)
    assert kraken.ok("BalanceEx")["ZUSD"] == {"balance": "100000.0000", "hold_trade": "0.0000"}


def test_sell_orders_hold_the_base_asset(kraken):
    kraken.sell("0.5", "70000")
    assert kraken.ok("BalanceEx")["XXBT"] == {
        "balance": "2.0000000000",
        "hold_trade": "0.5000000000",
    }


def test_maker_fills_move_balances_with_the_maker_fee(exchange, kraken):
    kraken.sell("0.04", "60010")
    exchange.set_price("XBTUSD", "60050")
    advance(exchange, 10)
    balances = kraken.ok("Balance")
    # 0.04 * 60010 = 2400.4, maker fee 0.25 % = 6.001 -> +2394.399, rounded down to 4 places.
    assert (balances["XXBT"], balances["ZUSD"]) == ("1.9600000000", "102394.3990")


def test_order_info_has_every_documented_field(kraken):
    info = kraken.order(kraken.buy("0.01", "50000", userref="17"))
    assert set(info) == ORDER_FIELDS
    assert set(info["descr"]) == DESCR_FIELDS
    assert info["descr"]["pair"] == "XBTUSD"
    assert info["descr"]["leverage"] == "none"
    assert (info["userref"], info["cl_ord_id"], info["refid"]) == (17, None, None)
    assert (info["vol"], info["vol_exec"], info["cost"], info["fee"], info["price"]) == (
        "0.01000000", "0.00000000", "0.00000", "0.00000", "0.00000",
    )  # fmt: skip
    assert isinstance(info["opentm"], float)
    assert info["starttm"] == 0
    assert info["expiretm"] == 0
    assert info["oflags"] == "fciq"


def test_a_cl_ord_id_order_has_a_null_userref(kraken):
    info = kraken.order(kraken.buy("0.01", "50000", cl_ord_id="abc"))
    assert (info["userref"], info["cl_ord_id"]) == (None, "abc")


def test_timestamps_are_fractional_seconds_of_virtual_time(exchange, kraken):
    exchange.clock.advance(1.23456)
    info = kraken.order(kraken.buy("0.01", "50000"))
    assert info["opentm"] == 1767225601.2346


def test_cancel_order_answers_count_and_pending(kraken):
    txid = kraken.buy("0.01", "50000")
    assert kraken.ok("CancelOrder", txid=txid) == {"count": 1, "pending": False}
    info = kraken.order(txid)
    assert (info["status"], info["reason"]) == ("canceled", "User requested")
    assert info["closetm"] >= info["opentm"]


def test_cancelling_a_partly_filled_order_keeps_its_fills(exchange, kraken):
    txid = kraken.buy("1", "59990")
    exchange.set_price("XBTUSD", "59900")
    advance(exchange, 10)
    kraken.ok("CancelOrder", txid=txid)
    info = kraken.order(txid)
    assert (info["status"], info["vol_exec"]) == ("canceled", "0.04166666")


def test_cancelling_a_closed_or_unknown_order_answers_unknown_order(kraken):
    txid = kraken.buy("0.01")
    assert kraken.errors("CancelOrder", txid=txid) == ["EOrder:Unknown order"]
    assert kraken.errors("CancelOrder", txid="OAAAAA-BBBBB-CCCCCC") == ["EOrder:Unknown order"]


@pytest.mark.parametrize("closed", ["EOrder:Unknown order", "EOrder:Invalid order"])
@pytest.mark.parametrize("unknown", ["EOrder:Unknown order", "EOrder:Invalid order"])
def test_the_not_open_and_unknown_cancel_errors_are_configurable(
    make_exchange, flat, client_for, closed, unknown
):
    quirks = Quirks(cancel_not_open_error=closed, cancel_unknown_error=unknown)
    client = client_for(make_exchange(flat(quirks=quirks)))
    txid = client.buy("0.01")
    named = client.buy("0.01", "50000", cl_ord_id="named")
    client.ok("CancelOrder", txid=named)
    assert client.errors("CancelOrder", txid=txid) == [closed]
    assert client.errors("CancelOrder", cl_ord_id="named") == [closed]
    assert client.errors("CancelOrder", txid="OAAAAA-BBBBB-CCCCCC") == [unknown]
    assert client.errors("CancelOrder", cl_ord_id="never-used") == [unknown]


def test_other_accounts_orders_cannot_be_cancelled(exchange, kraken, client_for):
    txid = kraken.buy("0.01", "50000")
    assert client_for(exchange).errors("CancelOrder", txid=txid) == ["EOrder:Unknown order"]


def test_an_integer_txid_cancels_every_open_order_with_that_userref(kraken):
    group = [kraken.buy("0.01", "50000", userref="42") for _ in range(3)]
    other = kraken.buy("0.01", "50000", userref="7")
    assert kraken.ok("CancelOrder", txid="42") == {"count": 3, "pending": False}
    assert [kraken.order(t)["status"] for t in group] == ["canceled"] * 3
    assert kraken.order(other)["status"] == "open"


def test_cancel_by_cl_ord_id(kraken):
    txid = kraken.buy("0.01", "50000", cl_ord_id="to-cancel")
    assert kraken.ok("CancelOrder", cl_ord_id="to-cancel")["count"] == 1
    assert kraken.order(txid)["status"] == "canceled"
    assert kraken.errors("CancelOrder", cl_ord_id="to-cancel") == ["EOrder:Unknown order"]


def test_cancel_needs_exactly_one_of_txid_and_cl_ord_id(kraken):
    assert kraken.errors("CancelOrder") == ["EGeneral:Invalid arguments:txid"]
    assert kraken.errors("CancelOrder", txid="X", cl_ord_id="y") == [
        "EGeneral:Invalid arguments:txid"
    ]


def test_cancel_all_cancels_open_and_pending_orders(kraken):
    kraken.buy("0.01", "50000")
    kraken.buy("0.01", "50000", starttm="+600")
    assert kraken.ok("CancelAll") == {"count": 2}
    assert kraken.ok("OpenOrders") == {"open": {}}


def test_the_cancel_count_can_be_a_string(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(quirks=Quirks(cancel_count_as_string=True))))
    assert client.ok("CancelOrder", txid=client.buy("0.01", "50000"))["count"] == "1"


def test_the_exchanges_own_records_show_the_truth(exchange, kraken):
    txid = kraken.buy("0.01", "50000", userref="5")
    (order,) = exchange.orders(kraken.key)
    assert (order.txid, order.userref, order.status, order.vol) == (
        txid,
        5,
        "open",
        Decimal("0.01"),
    )
    assert order.avg_price == 0
