"""Edges of the wire layer: AmendOrder requests and answers, malformed Depth books,
execution-report rows and frames, and the v2 ``add_order`` parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from returns.result import Failure

from kraken_bot.kraken.orders import AmendOrderRequest
from kraken_bot.kraken.prices import BookLevel, parse_depth
from kraken_bot.kraken.types import AmendAck, ResponseShapeError, parse_amend
from kraken_bot.kraken.ws_reports import add_order_params, parse_frame, parse_report

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STAMP = 1767225600  # T0 as Kraken's epoch seconds


def shape_error(result: object) -> ResponseShapeError:
    """The `ResponseShapeError` inside a Failure (and nothing else)."""
    assert isinstance(result, Failure), result
    error = result.failure()
    assert isinstance(error, ResponseShapeError)
    return error


# ---------------------------------------------------------------- AmendOrder


def test_an_amend_takes_exactly_one_non_empty_id():
    with pytest.raises(ValueError, match=r"^AmendOrder takes exactly one of txid and cl_ord_id$"):
        AmendOrderRequest(limit_price="1.0")
    with pytest.raises(ValueError, match=r"^AmendOrder takes exactly one of txid and cl_ord_id$"):
        AmendOrderRequest(txid="OA", cl_ord_id="c-1", limit_price="1.0")
    with pytest.raises(ValueError, match=r"^AmendOrder needs a non-empty txid or cl_ord_id$"):
        AmendOrderRequest(txid="", limit_price="1.0")
    with pytest.raises(ValueError, match=r"^AmendOrder needs a non-empty txid or cl_ord_id$"):
        AmendOrderRequest(cl_ord_id="", limit_price="1.0")


def test_an_amend_changes_a_positive_plain_price_or_quantity():
    with pytest.raises(ValueError, match=r"^AmendOrder needs a new limit_price or order_qty$"):
        AmendOrderRequest(txid="OA")
    with pytest.raises(ValueError, match="limit_price must be a decimal string, got 'abc'"):
        AmendOrderRequest(txid="OA", limit_price="abc")
    with pytest.raises(ValueError, match="order_qty must be a positive plain decimal"):
        AmendOrderRequest(txid="OA", order_qty="1e3")


def test_an_amend_deadline_must_be_timezone_aware():
    with pytest.raises(ValueError, match=r"^deadline must be timezone-aware$"):
        AmendOrderRequest(txid="OA", limit_price="1.0", deadline=datetime(2026, 1, 1))


def test_an_amend_sends_only_what_it_changes_with_the_deadline_in_utc():
    plus_two = timezone(timedelta(hours=2))
    full = AmendOrderRequest(
        cl_ord_id="c-1",
        limit_price="60000.1",
        order_qty="0.5",
        post_only=True,
        deadline=datetime(2026, 1, 1, 2, 0, 5, 250000, tzinfo=plus_two),
    )
    assert list(full.to_params().items()) == [
        ("cl_ord_id", "c-1"),
        ("limit_price", "60000.1"),
        ("order_qty", "0.5"),
        ("post_only", "true"),
        ("deadline", "2026-01-01T00:00:05.250Z"),
    ]
    assert AmendOrderRequest(txid="OA", order_qty="0.5").to_params() == {
        "txid": "OA",
        "order_qty": "0.5",
    }


@pytest.mark.parametrize(
    ("result", "detail"),
    [
        (["amend_id", "A1"], "result is not an object"),
        ({}, "amend_id missing or not text"),
        ({"amend_id": ""}, "amend_id missing or not text"),
        ({"amend_id": 17}, "amend_id missing or not text"),
        ({"amend_id": "bad \ud800"}, "amend_id missing or not text"),  # a lone surrogate
    ],
)
def test_a_malformed_amend_answer_is_refused(result, detail):
    assert shape_error(parse_amend(result)) == ResponseShapeError("AmendOrder", detail)


def test_an_amend_answer_keeps_its_id_and_raw_text():
    assert parse_amend({"amend_id": "TTW6PD-RC36L-ZZSWNU"}).unwrap() == AmendAck(
        amend_id="TTW6PD-RC36L-ZZSWNU", raw='{"amend_id":"TTW6PD-RC36L-ZZSWNU"}'
    )


# ---------------------------------------------------------------- Depth

ASK = ["60010.0", "1.5", STAMP]
BID = ["59990.0", "2.0", STAMP]


def book(**sides: object) -> dict[str, object]:
    return {"XXBTZUSD": {"asks": [ASK], "bids": [BID], **sides}}


@pytest.mark.parametrize(
    ("result", "what", "detail"),
    [
        ([ASK], "Depth", "result is not one pair's book"),
        ({}, "Depth", "result is not one pair's book"),
        ({**book(), "XETHZUSD": {}}, "Depth", "result is not one pair's book"),
        ({"XXBTZUSD": [ASK]}, "Depth[XXBTZUSD]", "entry is not an object"),
        (book(bids=[]), "Depth[XXBTZUSD].bids", "no levels"),
        (book(bids="59990.0"), "Depth[XXBTZUSD].bids", "no levels"),
        (book(asks=None), "Depth[XXBTZUSD].asks", "no levels"),
        (
            book(asks=[ASK, "60020.0"]),
            "Depth[XXBTZUSD].asks",
            "a level is not [price, volume, time]",
        ),
        (
            book(asks=[["60010.0", "1.5"]]),
            "Depth[XXBTZUSD].asks",
            "a level is not [price, volume, time]",
        ),
        (book(asks=[["0", "1", 1]]), "Depth[XXBTZUSD].asks", "bad level ['0', '1', 1]"),
        (book(asks=[["1", "-1", 1]]), "Depth[XXBTZUSD].asks", "bad level ['1', '-1', 1]"),
        (book(asks=[["1", "1", "NaN"]]), "Depth[XXBTZUSD].asks", "bad level ['1', '1', 'NaN']"),
        (book(asks=[["x", "1", 1]]), "Depth[XXBTZUSD].asks", "bad level ['x', '1', 1]"),
        (book(asks=[["1", "1", "1e30"]]), "Depth[XXBTZUSD].asks", "bad level time '1e30'"),
        (book(bids=[["60010.0", "1", 1]]), "Depth[XXBTZUSD]", "the best bid is not below the ask"),
        (book(bids=[["60011.0", "1", 1]]), "Depth[XXBTZUSD]", "the best bid is not below the ask"),
    ],
)
def test_a_malformed_book_is_refused_saying_where_and_what(result, what, detail):
    assert shape_error(parse_depth(result, read_at=T0)) == ResponseShapeError(what, detail)


def test_a_book_with_both_sides_bad_reports_the_bids_first():
    refused = parse_depth(book(bids=[], asks=[]), read_at=T0)
    assert shape_error(refused) == ResponseShapeError("Depth[XXBTZUSD].bids", "no levels")


def test_a_book_keeps_every_level_in_order_with_its_time():
    levels = [["59990.0", "2.0", STAMP], ("59980.5", 0, STAMP + 1.5)]  # a tuple, a zero volume
    parsed = parse_depth(book(bids=levels), read_at=T0).unwrap()
    assert parsed.bids == (
        BookLevel(price=Decimal("59990.0"), volume=Decimal("2.0"), updated_at=T0),
        BookLevel(
            price=Decimal("59980.5"), volume=Decimal(0), updated_at=T0 + timedelta(seconds=1.5)
        ),
    )
    assert (parsed.pair, parsed.at, parsed.top().ask) == ("XXBTZUSD", T0, Decimal("60010.0"))


# ---------------------------------------------------------------- execution reports and frames

ROW: dict[str, Any] = {"order_id": "OA", "exec_type": "trade", "order_status": "partially_filled"}


@pytest.mark.parametrize("row", [["OA", "trade"], "OA", None, 7])
def test_an_execution_row_that_is_not_an_object_is_refused(row):
    assert shape_error(parse_report(row)) == ResponseShapeError(
        "WebSocket frame", "an executions row is not an object"
    )


def test_an_executions_frame_with_a_row_that_is_not_an_object_is_refused():
    refused = parse_frame('{"channel":"executions","type":"update","data":[["OA"]]}')
    assert shape_error(refused).detail == "an executions row is not an object"


@pytest.mark.parametrize("stamp", ["yesterday", "2026-13-01T00:00:00Z", 1767225600])
def test_a_report_time_that_does_not_parse_is_left_unknown(stamp):
    assert parse_report({**ROW, "timestamp": stamp}).unwrap().timestamp is None


def test_a_report_time_in_iso_form_is_read():
    parsed = parse_report({**ROW, "timestamp": "2026-01-01T00:00:00.000000Z"}).unwrap()
    assert parsed.timestamp == T0


@pytest.mark.parametrize(
    "fees",
    [
        [{"asset": "USD", "qty": "a lot"}],  # not a number
        [{"asset": "USD"}],  # no qty
        [{"asset": "USD", "qty": "0.1"}, "0.1"],  # one fee is not an object
        "0.1",  # not a list
    ],
)
def test_a_fee_that_cannot_be_summed_leaves_the_reports_fee_unknown(fees):
    assert parse_report({**ROW, "fees": fees}).unwrap().fee is None


def test_the_fees_of_a_report_are_summed():
    fees = [{"asset": "USD", "qty": "0.1"}, {"asset": "USD", "qty": 2}]
    assert parse_report({**ROW, "fees": fees}).unwrap().fee == Decimal("2.1")
    assert parse_report({**ROW, "fees": []}).unwrap().fee == Decimal(0)


@pytest.mark.parametrize("text", ["[1, 2]", '"executions"', "42", "null"])
def test_a_frame_that_is_not_an_object_is_refused(text):
    assert shape_error(parse_frame(text)) == ResponseShapeError("WebSocket frame", "not an object")


# ---------------------------------------------------------------- v2 add_order parameters


def params(**overrides: Any) -> dict[str, Any] | None:
    """`add_order_params` of a post-only limit buy, with ``overrides``."""
    fields: dict[str, Any] = {
        "side": "buy",
        "ordertype": "limit",
        "volume": "0.01000000",
        "price": "60000.1",
        "timeinforce": None,
        "oflags": (),
        "cl_ord_id": "L1",
        "userref": None,
        "deadline": None,
    }
    fields.update(overrides)
    return add_order_params("BTC/USD", **fields)


@pytest.mark.parametrize(
    "overrides",
    [
        {"timeinforce": "GTD"},
        {"timeinforce": "FOK"},
        {"oflags": ("nompp",)},
        {"oflags": ("post", "viqc")},
    ],
)
def test_what_the_socket_cannot_carry_exactly_goes_over_rest(overrides):
    assert params(**overrides) is None


def test_every_parameter_the_socket_carries_is_spelled_as_v2_wants_it():
    deadline = datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)
    market = params(
        ordertype="market",
        price=None,
        timeinforce="IOC",
        oflags=("fciq",),
        cl_ord_id=None,
        userref=4242,
        deadline=deadline,
    )
    assert market == {
        "order_type": "market",
        "side": "buy",
        "order_qty": 0.01,
        "symbol": "BTC/USD",
        "time_in_force": "ioc",
        "fee_preference": "quote",
        "order_userref": 4242,
        "deadline": "2026-01-02T03:04:05.678Z",
    }
    limit = params(timeinforce="GTC", oflags=("post", "fciq"))
    assert limit == {
        "order_type": "limit",
        "side": "buy",
        "order_qty": 0.01,
        "symbol": "BTC/USD",
        "limit_price": 60000.1,
        "time_in_force": "gtc",
        "post_only": True,
        "fee_preference": "quote",
        "cl_ord_id": "L1",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"volume": "0.10000000000000000001"},
        {"volume": "80163571.61658386"},  # 8 + 8 digits: more than a double holds
        {"price": "60000.000000000000001"},
    ],
)
def test_an_amount_a_json_number_cannot_carry_exactly_goes_over_rest(overrides):
    """The socket's order parameters are JSON numbers; an amount a double cannot hold
    exactly is not rounded on the way: the order goes over REST (exact decimal strings)."""
    assert params(**overrides) is None


def test_a_socket_deadline_is_spelled_as_rest_spells_it_in_utc():
    plus_two = timezone(timedelta(hours=2))
    spelled = params(deadline=datetime(2026, 1, 2, 5, 4, 5, 678900, tzinfo=plus_two))
    assert spelled is not None
    assert spelled["deadline"] == "2026-01-02T03:04:05.678Z"
