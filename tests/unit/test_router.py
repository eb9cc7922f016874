"""The router: volume truncation, tick-grid limit prices, order type, exact decimal strings."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from tests.builders import a_config, a_pair

from kraken_bot.execution.core.models import OrderType, Side
from kraken_bot.execution.core.router import (
    choose_order_type,
    has_limit_price,
    limit_price,
    price_cap,
    truncate_volume,
)
from kraken_bot.kraken.orders import format_decimal

D = Decimal


@pytest.mark.parametrize(
    ("volume", "lot_decimals", "expected"),
    [
        ("0.123456789", 8, "0.12345678"),
        ("0.999999999", 8, "0.99999999"),
        ("1.5", 0, "1"),
        ("0.000000009", 8, "0E-8"),
        ("2", 8, "2.00000000"),
        ("123456789012.123456789", 8, "123456789012.12345678"),
    ],
)
def test_volume_is_truncated_toward_zero_never_rounded_up(volume, lot_decimals, expected):
    assert truncate_volume(D(volume), lot_decimals) == D(expected)
    assert truncate_volume(D(volume), lot_decimals) <= D(volume)


@pytest.mark.parametrize(
    ("side", "mid", "bps", "pair", "expected"),
    [
        # exactly on the grid already
        (Side.BUY, "60000", "50", "XBTUSD", "60300.0"),
        (Side.SELL, "60000", "50", "XBTUSD", "59700.0"),
        # between ticks: buys round down, sells round up (never beyond the cap)
        (Side.BUY, "60000.05", "50", "XBTUSD", "60300.0"),
        (Side.SELL, "60000.05", "50", "XBTUSD", "59700.1"),
        (Side.BUY, "3000.003", "50", "ETHUSD", "3015.00"),
        (Side.SELL, "3000.003", "50", "ETHUSD", "2985.01"),
        # zero slippage: the mid itself, snapped inward
        (Side.BUY, "150.005", "0", "SOLUSD", "150.00"),
        (Side.SELL, "150.005", "0", "SOLUSD", "150.01"),
        # a cross pair with six price decimals
        (Side.BUY, "0.0512345", "50", "ETHXBT", "0.051490"),
        (Side.SELL, "0.0512345", "50", "ETHXBT", "0.050979"),
    ],
)
def test_limit_prices_sit_on_the_tick_grid_inside_the_slippage_cap(side, mid, bps, pair, expected):
    meta = a_pair(pair)
    price = limit_price(side, D(mid), D(bps), meta)
    assert price == D(expected)
    assert price % meta.tick_size == 0
    cap = price_cap(side, D(mid), D(bps))
    assert price <= cap if side is Side.BUY else price >= cap


def test_a_coarse_tick_rounds_buys_down_and_sells_up_to_its_multiples():
    pair = a_pair("XBTUSD", tick_size=D("0.5"))
    assert limit_price(Side.BUY, D("100.4"), D(0), pair) == D("100.0")
    assert limit_price(Side.SELL, D("100.1"), D(0), pair) == D("100.5")


def test_limit_prices_have_at_most_pair_decimals_places():
    price = limit_price(Side.BUY, D("60000.123456"), D("33"), a_pair("XBTUSD"))
    assert -price.as_tuple().exponent <= 1  # type: ignore[operator]


def test_the_price_does_not_depend_on_the_callers_decimal_context():
    pair = a_pair("ETHXBT")
    expected = limit_price(Side.BUY, D("0.0512345"), D(50), pair)
    with localcontext() as ctx:
        ctx.prec = 4
        assert limit_price(Side.BUY, D("0.0512345"), D(50), pair) == expected


def test_a_buy_whose_cap_is_below_one_tick_has_no_limit_price():
    pair = a_pair("SOLUSD")
    assert not has_limit_price(Side.BUY, D("0.004"), D(50), pair)
    with pytest.raises(ValueError, match="slippage cap"):
        limit_price(Side.BUY, D("0.004"), D(50), pair)


def test_a_sell_always_has_a_positive_limit_price_at_least_one_tick():
    pair = a_pair("SOLUSD")
    assert has_limit_price(Side.SELL, D("0.004"), D(50), pair)
    assert limit_price(Side.SELL, D("0.004"), D(50), pair) == D("0.01")


def test_no_price_exists_without_a_positive_mid():
    assert not has_limit_price(Side.SELL, D(0), D(50), a_pair("SOLUSD"))


@pytest.mark.parametrize(
    ("config", "notional", "expected"),
    [
        (a_config(), "1", OrderType.LIMIT),
        (a_config(default_order_type=OrderType.MARKET), "1000000", OrderType.MARKET),
        (a_config(market_order_max_notional_usd=D(100)), "100", OrderType.MARKET),
        (a_config(market_order_max_notional_usd=D(100)), "100.01", OrderType.LIMIT),
        (a_config(market_order_max_notional_usd=D(100), post_only=True), "1", OrderType.LIMIT),
    ],
)
def test_order_type_is_limit_unless_market_is_configured_or_the_order_is_small(
    config, notional, expected
):
    assert choose_order_type(config, D(notional)) is expected


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("1E-8", 8, "0.00000001"),
        ("0.5", 8, "0.50000000"),
        ("60300", 1, "60300.0"),
        ("1E+5", 1, "100000.0"),
        ("0E-8", 8, "0.00000000"),
        ("12", 0, "12"),
    ],
)
def test_decimals_are_written_in_fixed_point_with_exactly_the_pairs_places(value, places, expected):
    text = format_decimal(D(value), places)
    assert text == expected
    assert "E" not in text
    assert D(text) == D(value)


def test_formatting_refuses_to_round_a_value_with_too_many_places():
    with pytest.raises(ValueError, match="more than 1 decimal places"):
        format_decimal(D("60300.05"), 1)
