"""OpenOrders, ClosedOrders (filters, paging), QueryOrders, TradesHistory, Balance(Ex)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kraken_sim import Quirks


def test_open_orders_list_open_and_pending_orders_newest_first(kraken):
    first = kraken.buy("0.01", "50000")
    second = kraken.buy("0.01", "50000", starttm="+60")
    result = kraken.ok("OpenOrders")
    assert list(result) == ["open"]
    assert list(result["open"]) == [second, first]
    assert [o["status"] for o in result["open"].values()] == ["pending", "open"]


def test_open_orders_filter_by_userref_and_cl_ord_id(kraken):
    tagged = kraken.buy("0.01", "50000", userref="9")
    named = kraken.buy("0.01", "50000", cl_ord_id="named")
    kraken.buy("0.01", "50000")
    assert list(kraken.ok("OpenOrders", userref="9")["open"]) == [tagged]
    assert list(kraken.ok("OpenOrders", cl_ord_id="named")["open"]) == [named]
    assert kraken.ok("OpenOrders", cl_ord_id="nobody") == {"open": {}}


def test_trades_appear_only_when_asked_for(exchange, kraken):
    txid = kraken.buy("1.6", "60006")
    assert "trades" not in kraken.ok("OpenOrders")["open"][txid]
    (trade,) = kraken.ok("OpenOrders", trades="true")["open"][txid]["trades"]
    assert trade.startswith("T")


def test_other_accounts_orders_are_invisible(exchange, kraken, client_for):
    kraken.buy("0.01", "50000")
    other = client_for(exchange)
    assert other.ok("OpenOrders") == {"open": {}}
    assert other.ok("ClosedOrders") == {"closed": {}, "count": 0}


def test_closed_orders_page_fifty_at_a_time_newest_first_with_the_total_count(kraken):
    txids = [kraken.buy("0.0001") for _ in range(120)]
    pages = [kraken.ok("ClosedOrders", ofs=ofs) for ofs in (0, 50, 100, 150)]
    assert [p["count"] for p in pages] == [120] * 4
    assert [len(p["closed"]) for p in pages] == [50, 50, 20, 0]
    listed = [txid for page in pages for txid in page["closed"]]
    assert listed == list(reversed(txids))


def test_closed_orders_include_canceled_and_expired_orders(exchange, kraken):
    canceled = kraken.buy("0.01", "50000")
    kraken.ok("CancelOrder", txid=canceled)
    expired = kraken.buy("0.01", "50000", timeinforce="IOC")
    closed = kraken.buy("0.01")
    statuses = {t: o["status"] for t, o in kraken.ok("ClosedOrders")["closed"].items()}
    assert statuses == {closed: "closed", expired: "expired", canceled: "canceled"}


def test_closed_orders_filter_by_time_with_start_exclusive_and_end_inclusive(exchange, kraken):
    stamps = []
    txids = []
    for _ in range(3):
        txids.append(kraken.buy("0.0001"))
        stamps.append(exchange.clock.now().timestamp())
        exchange.clock.advance(60)
    result = kraken.ok("ClosedOrders", start=str(stamps[0]), end=str(stamps[1]))
    assert (list(result["closed"]), result["count"]) == ([txids[1]], 1)
    by_txid = kraken.ok("ClosedOrders", start=txids[0])
    assert list(by_txid["closed"]) == [txids[2], txids[1]]


def test_closed_orders_closetime_chooses_the_time_compared(exchange, kraken):
    txid = kraken.buy("0.01", "50000")
    opened = exchange.clock.now().timestamp()
    exchange.clock.advance(100)
    kraken.ok("CancelOrder", txid=txid)
    window = {"start": str(opened + 50), "end": str(opened + 200)}
    assert kraken.ok("ClosedOrders", closetime="open", **window)["count"] == 0
    assert kraken.ok("ClosedOrders", closetime="close", **window)["count"] == 1
    assert kraken.ok("ClosedOrders", **window)["count"] == 1
    assert kraken.errors("ClosedOrders", closetime="later") == [
        "EGeneral:Invalid arguments:closetime"
    ]


def test_closed_orders_filter_by_cl_ord_id_and_can_skip_the_count(kraken):
    kraken.buy("0.0001", cl_ord_id="look-for-me")
    kraken.buy("0.0001")
    result = kraken.ok("ClosedOrders", cl_ord_id="look-for-me", without_count="true")
    assert set(result) == {"closed"}
    assert len(result["closed"]) == 1


def test_query_orders_answers_each_txid_asked_for(kraken):
    open_one = kraken.buy("0.01", "50000")
    closed_one = kraken.buy("0.01")
    result = kraken.ok("QueryOrders", txid=f"{closed_one},{open_one}")
    assert list(result) == [closed_one, open_one]
    assert [o["status"] for o in result.values()] == ["closed", "open"]


def test_query_orders_limits_the_number_of_txids(make_exchange, flat, client_for, kraken):
    assert kraken.errors("QueryOrders", txid=",".join(f"O{i}" for i in range(51))) == [
        "EGeneral:Invalid arguments:txid"
    ]
    client = client_for(make_exchange(flat(quirks=Quirks(query_orders_limit=20))))
    assert client.errors("QueryOrders", txid=",".join(f"O{i}" for i in range(21))) == [
        "EGeneral:Invalid arguments:txid"
    ]
    assert kraken.errors("QueryOrders") == ["EGeneral:Invalid arguments:txid"]


def test_query_orders_fails_the_whole_call_for_one_unknown_txid_by_default(kraken):
    txid = kraken.buy("0.01", "50000")
    assert kraken.errors("QueryOrders", txid=f"{txid},OAAAAA-BBBBB-CCCCCC") == [
        "EOrder:Invalid order"
    ]
    assert list(kraken.ok("QueryOrders", txid=txid)) == [txid]


def test_query_orders_treats_another_accounts_txid_as_unknown(exchange, client_for, kraken):
    theirs = client_for(exchange).buy("0.01", "50000")
    assert kraken.errors("QueryOrders", txid=theirs) == ["EOrder:Invalid order"]


def test_query_orders_can_omit_unknown_txids_or_answer_another_error(
    make_exchange, flat, client_for
):
    lenient = client_for(make_exchange(flat(quirks=Quirks(query_orders_unknown="omit"))))
    txid = lenient.buy("0.01", "50000")
    assert list(lenient.ok("QueryOrders", txid=f"{txid},OAAAAA-BBBBB-CCCCCC")) == [txid]
    other = client_for(
        make_exchange(flat(quirks=Quirks(query_orders_unknown="EOrder:Unknown order")))
    )
    assert other.errors("QueryOrders", txid="OAAAAA-BBBBB-CCCCCC") == ["EOrder:Unknown order"]


def test_query_orders_filters_by_userref(kraken):
    tagged = kraken.buy("0.01", "50000", userref="3")
    other = kraken.buy("0.01", "50000", userref="4")
    assert list(kraken.ok("QueryOrders", txid=f"{tagged},{other}", userref="3")) == [tagged]


def test_trades_history_lists_fills_with_kraken_fields(kraken):
    order = kraken.buy("0.1")
    result = kraken.ok("TradesHistory")
    assert result["count"] == 1
    ((trade_id, trade),) = result["trades"].items()
    assert trade_id.startswith("T")
    assert trade == {
        "ordertxid": order,
        "postxid": trade["postxid"],
        "pair": "XXBTZUSD",
        "time": 1767225600.0,
        "type": "buy",
        "ordertype": "market",
        "price": "60006.0",
        "cost": "6000.60000",
        "fee": "24.00240",
        "vol": "0.10000000",
        "margin": "0.00000",
        "leverage": "0",
        "misc": "",
        "trade_id": 1,
        "maker": False,
    }
    assert kraken.ok("QueryTrades", txid=trade_id) == {trade_id: trade}


def test_trades_history_pages_like_closed_orders(kraken):
    for _ in range(60):
        kraken.buy("0.0001")
    assert [len(kraken.ok("TradesHistory", ofs=ofs)["trades"]) for ofs in (0, 50)] == [50, 10]


def test_balance_uses_asset_ids_and_asset_decimals(exchange, client_for):
    client = client_for(exchange, {"USD": "1234.5", "XBT": "0.1"})
    assert client.ok("Balance") == {"ZUSD": "1234.5000", "XXBT": "0.1000000000"}


@pytest.mark.parametrize(
    "method", ["OpenOrders", "ClosedOrders", "TradesHistory", "Balance", "BalanceEx"]
)
def test_private_reads_accept_a_json_body(kraken, method):
    status, _, body = kraken.private_raw(method, as_json=True)
    assert status == 200
    assert body.startswith(b'{"error":[],"result":')


def test_the_visibility_fault_hides_a_new_order_for_a_while(exchange, kraken):
    exchange.set_faults(
        {
            "schedule": [
                {"kind": "absent_from_open_orders", "endpoint": "AddOrder", "call": 1, "seconds": 5}
            ]
        }
    )
    txid = kraken.buy("0.01", "50000")
    assert kraken.ok("OpenOrders") == {"open": {}}
    assert kraken.errors("QueryOrders", txid=txid) == ["EOrder:Invalid order"]
    exchange.advance_to(exchange.clock.now() + timedelta(seconds=5))
    assert list(kraken.ok("OpenOrders")["open"]) == [txid]
