"""Parsers for what the client reads: tolerant of Kraken's variants, strict about shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from returns.pipeline import is_successful

from kraken_bot.kraken.errors import (
    AuthError,
    RateLimitError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    unwrap_envelope,
)
from kraken_bot.kraken.types import (
    Balances,
    _parse_order_info,
    parse_add_order,
    parse_assets,
    parse_balance,
    parse_cancel,
    parse_closed_orders,
    parse_dead_man_switch,
    parse_ohlc,
    parse_open_orders,
    parse_order_info,
    parse_rfc3339,
    parse_server_time,
    parse_system_status,
    to_json_text,
)


def test_add_order_txid_as_a_scalar_is_accepted():
    assert parse_add_order({"descr": {"order": "x"}, "txid": "OA"}).unwrap().txids == ("OA",)


def test_add_order_without_descr_still_parses():
    ack = parse_add_order({"txid": ["OA", "OB"]}).unwrap()
    assert (ack.txids, ack.description) == (("OA", "OB"), "")


@pytest.mark.parametrize("result", [None, [], {"txid": [1]}, {"txid": [""]}, {"txid": {"a": 1}}])
def test_add_order_bad_shapes_fail(result):
    assert not is_successful(parse_add_order(result))


@pytest.mark.parametrize(
    ("result", "count", "pending"),
    [
        ({"count": 1, "pending": False}, 1, False),
        ({"count": 1, "pending": True}, 1, True),
        ({"count": "3"}, 3, False),
        ({"count": 0}, 0, False),
    ],
)
def test_cancel_counts(result, count, pending):
    ack = parse_cancel("CancelOrder", result).unwrap()
    assert (ack.count, ack.pending) == (count, pending)


@pytest.mark.parametrize("result", [{}, {"count": True}, {"count": "two"}, "1"])
def test_cancel_bad_counts_fail(result):
    assert not is_successful(parse_cancel("CancelOrder", result))


def test_dead_man_switch_disarmed_without_trigger_time():
    ack = parse_dead_man_switch({"currentTime": "2023-03-24T17:41:56Z"}).unwrap()
    assert ack.current_time == datetime(2023, 3, 24, 17, 41, 56, tzinfo=UTC)
    assert ack.trigger_time is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-03-24T17:41:56Z", datetime(2023, 3, 24, 17, 41, 56, tzinfo=UTC)),
        ("2023-03-24T19:41:56+02:00", datetime(2023, 3, 24, 17, 41, 56, tzinfo=UTC)),
        ("2023-03-24T17:41:56", datetime(2023, 3, 24, 17, 41, 56, tzinfo=UTC)),
        ("0", None),
        ("", None),
        ("yesterday", None),
        (0, None),
        (None, None),
    ],
)
def test_rfc3339(text, expected):
    assert parse_rfc3339(text) == expected


def test_balance_is_a_dict_that_keeps_raw():
    balances = parse_balance({"ZUSD": "10.5", "XXBT": 1}).unwrap()
    assert isinstance(balances, Balances)
    assert isinstance(balances, dict)
    assert balances == {"ZUSD": Decimal("10.5"), "XXBT": Decimal(1)}
    assert json.loads(balances.raw) == {"ZUSD": "10.5", "XXBT": 1}


@pytest.mark.parametrize("result", [[], {"ZUSD": None}, {"ZUSD": "1,5"}])
def test_balance_bad_shapes_fail(result):
    assert not is_successful(parse_balance(result))


def test_open_orders_with_nothing_open():
    assert parse_open_orders({"open": {}}).unwrap() == ()
    assert parse_open_orders({}).unwrap() == ()


def test_closed_page_without_count_counts_its_orders():
    order = {"status": "closed", "vol": "1", "vol_exec": "1", "descr": {"pair": "XBTUSD"}}
    page = parse_closed_orders({"closed": {"OA": order}}).unwrap()
    assert (len(page.orders), page.count) == (1, 1)


@pytest.mark.parametrize(
    "result",
    [
        {"last": 1},
        {"XXBTZUSD": [], "XETHZUSD": [], "last": 1},
        {"XXBTZUSD": [], "last": "x"},
        {"XXBTZUSD": "rows", "last": 1},
        {"XXBTZUSD": [[0, "1", "1", "1", "1", "1", "1", 1]], "last": 1},
    ],
)
def test_ohlc_bad_shapes_fail(result):
    assert not is_successful(parse_ohlc(result))


def test_assets_need_decimals_and_altname():
    assert not is_successful(parse_assets({"XXBT": {"altname": "XBT"}}))
    assert not is_successful(parse_assets({"XXBT": {"decimals": 10}}))
    assert not is_successful(parse_assets([]))


def test_time_and_status_shapes():
    assert (
        parse_server_time({"unixtime": "1688669448", "rfc1123": ""}).unwrap().unixtime == 1688669448
    )
    assert not is_successful(parse_server_time({"unixtime": 1.5}))
    assert not is_successful(parse_system_status({"timestamp": "x"}))
    assert parse_system_status({"status": "online"}).unwrap().timestamp is None


@pytest.mark.parametrize(
    ("payload", "status", "kind"),
    [
        ({"error": ["EAPI:Invalid key"], "result": {}}, 200, AuthError),
        ({"error": ["EAPI:Rate limit exceeded"]}, 429, RateLimitError),
        ({"error": [], "result": {}}, 502, ServiceUnavailableError),
        ({"error": []}, 200, UnexpectedResponseError),
        ("text", 200, UnexpectedResponseError),
        ({"other": 1}, 200, UnexpectedResponseError),
    ],
)
def test_unwrap_envelope_failures(payload, status, kind):
    error = unwrap_envelope(payload, endpoint="X", http_status=status).failure()
    assert type(error) is kind
    assert error.http_status == status


def test_unwrap_envelope_accepts_a_result_without_an_error_key():
    assert unwrap_envelope({"result": {"a": 1}}).unwrap() == {"a": 1}


_VALUES = st.sampled_from([1, 1.0, True, 0, False, "1", "0.5", None, "open", "closed", 7])


@given(
    reads=st.lists(
        st.tuples(
            st.sampled_from(["OA", "OB"]),
            st.sampled_from(["open", "closed", "canceled"]),
            _VALUES,
            _VALUES,
            _VALUES,
        ),
        min_size=1,
        max_size=12,
    )
)
def test_an_order_read_again_parses_as_it_did_and_a_changed_one_anew(reads):
    # parse_order_info gives the last value again for the same text: 1, 1.0 and true
    # (equal in Python) must not pass for one another
    for txid, status, userref, executed, price in reads:
        obj = {
            "status": status,
            "vol": "2",
            "vol_exec": executed,
            "price": price,
            "userref": userref,
            "descr": {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": price},
        }
        assert parse_order_info(txid, obj) == _parse_order_info(txid, obj, to_json_text(obj))


def test_an_order_info_that_is_not_plain_json_is_parsed_as_it_is():
    obj = {"status": "open", "vol": Decimal(2), "vol_exec": "0", "descr": {}}
    assert parse_order_info("OC", obj) == _parse_order_info("OC", obj, to_json_text(obj))
