"""AddOrderRequest: the exact wire parameters, and the combinations it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kraken_bot.kraken.orders import AddOrderRequest, format_deadline


def an_order(**overrides):
    fields: dict[str, Any] = {
        "pair": "XXBTZUSD",
        "side": "buy",
        "ordertype": "limit",
        "volume": "0.00100000",
        "price": "50000.0",
    }
    fields.update(overrides)
    return AddOrderRequest(**fields)


def test_a_minimal_market_order_sends_only_the_required_fields():
    req = AddOrderRequest(pair="XBTUSD", side="sell", ordertype="market", volume="0.5")
    assert req.to_params() == {
        "pair": "XBTUSD",
        "type": "sell",
        "ordertype": "market",
        "volume": "0.5",
    }


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        ({"price": "50000.0"}, "price"),
        ({"timeinforce": "IOC"}, "timeinforce"),
        ({"timeinforce": "GTD", "expiretm": "+60"}, "timeinforce"),
        ({"expiretm": "+60"}, "expiretm"),
        ({"oflags": ("post",)}, "post flag"),
    ],
)
def test_a_market_order_refuses_what_only_a_limit_order_needs(extra, name):
    with pytest.raises(ValueError, match=f"a market order takes no {name}"):
        AddOrderRequest(pair="XBTUSD", side="buy", ordertype="market", volume="1", **extra)


def test_a_market_order_may_still_carry_fee_flags_identity_and_a_deadline():
    deadline = datetime(2026, 1, 1, tzinfo=UTC)
    params = AddOrderRequest(
        pair="XBTUSD",
        side="buy",
        ordertype="market",
        volume="1",
        oflags=("fcib",),
        cl_ord_id="m-1",
        deadline=deadline,
        validate=True,
    ).to_params()
    assert set(params) == {
        "pair", "type", "ordertype", "volume", "oflags", "cl_ord_id", "deadline", "validate"
    }  # fmt: skip


def test_volume_and_price_go_out_exactly_as_given():
    params = an_order(volume="0.12345678", price="27500.10").to_params()
    assert (params["volume"], params["price"]) == ("0.12345678", "27500.10")


def test_validate_is_sent_as_true_only_when_set():
    assert an_order(validate=True).to_params()["validate"] == "true"
    assert "validate" not in an_order(validate=False).to_params()


def test_userref_and_cl_ord_id_each_alone_are_fine():
    assert an_order(userref=2000).to_params()["userref"] == "2000"
    assert an_order(cl_ord_id="6d1b345e-2821-40e2-ad83-4ecb18a06876").to_params()["cl_ord_id"] == (
        "6d1b345e-2821-40e2-ad83-4ecb18a06876"
    )


def test_userref_together_with_cl_ord_id_is_refused():
    with pytest.raises(ValueError, match="not both"):
        an_order(userref=1, cl_ord_id="abc")


def test_flags_time_in_force_and_expiry():
    params = an_order(oflags=("post", "fciq"), timeinforce="GTD", expiretm="+60").to_params()
    assert (params["oflags"], params["timeinforce"], params["expiretm"]) == (
        "post,fciq",
        "GTD",
        "+60",
    )


def test_deadline_is_rfc3339_utc():
    plus_two = timezone(timedelta(hours=2))
    req = an_order(deadline=datetime(2026, 5, 1, 14, 0, 5, 123456, tzinfo=plus_two))
    assert req.to_params()["deadline"] == "2026-05-01T12:00:05.123Z"


def test_with_deadline_sets_a_deadline_seconds_ahead():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert an_order().with_deadline(now, 15).deadline == now + timedelta(seconds=15)
    with pytest.raises(ValueError, match="2 to 60"):
        an_order().with_deadline(now, 90)


def test_a_naive_deadline_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        an_order(deadline=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        format_deadline(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"side": "short"}, "side"),
        ({"volume": "1e-3"}, "volume"),
        ({"volume": "abc"}, "volume"),
        ({"volume": "0"}, "volume"),
        ({"volume": "-1"}, "volume"),
        ({"volume": " 1"}, "volume"),
        ({"volume": "NaN"}, "volume"),
        ({"price": "1E+5"}, "price"),
        ({"userref": 2**31}, "int32"),
        ({"cl_ord_id": ""}, "cl_ord_id"),
        ({"timeinforce": "GTD"}, "expiretm"),
        ({"oflags": ("post,fciq",)}, "oflags"),
        ({"pair": ""}, "required"),
    ],
)
def test_invalid_requests_are_refused_before_sending(overrides, message):
    with pytest.raises(ValueError, match=message):
        an_order(**overrides)


def test_requests_are_immutable_values():
    req = an_order()
    with pytest.raises(AttributeError):
        req.volume = "2"
    assert req == an_order()
