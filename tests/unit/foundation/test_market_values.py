"""Pair metadata, the pair-name resolver, ticker quotes, and Kraken order info parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from returns.pipeline import is_successful

from kraken_bot.kraken.pairs import parse_asset_pairs, parse_pair
from kraken_bot.kraken.prices import parse_ticker
from kraken_bot.kraken.types import KrakenOrderStatus, parse_order_info, parse_order_map

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def universe():
    raw = json.loads((ROOT / "fixtures" / "asset_pairs.json").read_text())
    return parse_asset_pairs(raw["result"]).unwrap()


def test_the_bundled_snapshot_has_the_documented_values(universe):
    xbt = universe.pairs["XBTUSD"]
    assert (xbt.rest_symbol, xbt.wsname, xbt.base, xbt.quote) == (
        "XXBTZUSD",
        "XBT/USD",
        "XXBT",
        "ZUSD",
    )
    assert (xbt.pair_decimals, xbt.lot_decimals, xbt.cost_decimals) == (1, 8, 5)
    assert (xbt.ordermin, xbt.costmin, xbt.tick_size) == (
        Decimal("0.00005"),
        Decimal("0.5"),
        Decimal("0.1"),
    )
    eth_xbt = universe.pairs["ETHXBT"]
    assert eth_xbt.tick_size == Decimal("0.000001")
    assert not eth_xbt.quote_is_usd
    assert universe.usd_pair_for(eth_xbt.quote) == xbt


@pytest.mark.parametrize(
    "name", ["XBTUSD", "XXBTZUSD", "XBT/USD", "xbtusd", "BTCUSD", "BTC/USD", "btc-usd"]
)
def test_every_kraken_name_for_xbt_usd_resolves_to_one_pair(universe, name):
    assert universe.resolve(name).unwrap().altname == "XBTUSD"


@pytest.mark.parametrize("name", ["", "XBTEUR", "DOGEUSD", "USD", "ETH"])
def test_unknown_names_do_not_resolve(universe, name):
    assert not is_successful(universe.resolve(name))


def test_missing_status_tick_and_costmin_get_kraken_defaults():
    pair = parse_pair(
        "RENDERUSD",
        {
            "altname": "RENDERUSD",
            "base": "RENDER",
            "quote": "ZUSD",
            "pair_decimals": 3,
            "lot_decimals": 8,
            "cost_decimals": 5,
            "ordermin": "1",
        },
    ).unwrap()
    assert pair.status == "online"
    assert pair.tick_size == Decimal("0.001")
    assert pair.costmin is None
    assert pair.wsname == "RENDERUSD"


@pytest.mark.parametrize(
    "entry",
    [
        "not an object",
        {"altname": "X", "base": "A", "quote": "B", "lot_decimals": 8, "cost_decimals": 5},
        {"altname": "X", "base": "A", "quote": "B", "pair_decimals": "1", "lot_decimals": 8},
        {
            "altname": "X",
            "base": "A",
            "quote": "B",
            "pair_decimals": 1,
            "lot_decimals": 8,
            "ordermin": "lots",
        },
        {"base": "A", "quote": "B", "pair_decimals": 1, "lot_decimals": 8},
    ],
)
def test_malformed_asset_pair_entries_are_failures_not_exceptions(entry):
    assert not is_successful(parse_pair("BAD", entry))
    assert not is_successful(parse_asset_pairs({"BAD": entry}))


def test_ticker_mid_and_staleness():
    quotes = parse_ticker(
        {"XXBTZUSD": {"a": ["100.2", "1", "1"], "b": [99.8, "1", "1"], "c": ["100", "0.1"]}},
        read_at=T0,
    ).unwrap()
    quote = quotes["XXBTZUSD"]
    assert quote.mid == Decimal("100.0")
    assert quote.last == Decimal(100)
    assert quote.age_seconds(T0 + timedelta(seconds=90)) == 90


@pytest.mark.parametrize(
    "entry",
    [
        {"a": ["1"], "b": ["2"]},  # crossed
        {"a": ["1"]},
        {"a": [], "b": ["1"]},
        {"a": ["NaN"], "b": ["1"]},
        "x",
    ],
)
def test_bad_ticker_entries_are_failures(entry):
    assert not is_successful(parse_ticker({"P": entry}, read_at=T0))


def kraken_order(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "refid": None,
        "userref": 0,
        "cl_ord_id": "6d1b345e-2821-40e2-ad83-4ecb18a06876",
        "status": "closed",
        "opentm": 1688666559.8974,
        "closetm": 1688666560.1,
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": "XBTUSD",
            "type": "buy",
            "ordertype": "limit",
            "price": "30010.0",
            "price2": "0",
            "leverage": "none",
            "order": "buy 1.25000000 XBTUSD @ limit 30010.0",
            "close": "",
        },
        "vol": "1.25000000",
        "vol_exec": "1.25000000",
        "cost": "37500.00000",
        "fee": "97.50000",
        "price": "30000.0",
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
        "reason": None,
    }
    base.update(overrides)
    return base


def test_order_info_fields_are_parsed_as_decimals_and_utc_times():
    info = parse_order_info("OQCLML-BW3P3-BUCMWZ", kraken_order()).unwrap()
    assert info.status is KrakenOrderStatus.CLOSED
    assert info.volume == info.volume_executed == Decimal("1.25")
    assert info.avg_price == Decimal(30000)
    assert info.limit_price == Decimal(30010)
    assert info.fee == Decimal("97.5")
    assert info.userref is None
    assert info.cl_ord_id == "6d1b345e-2821-40e2-ad83-4ecb18a06876"
    assert info.opened_at is not None
    assert info.opened_at.tzinfo is UTC
    assert json.loads(info.raw)["oflags"] == "fciq"


def test_unfilled_orders_have_no_average_price_and_userref_survives():
    info = parse_order_info(
        "O1", kraken_order(status="open", vol_exec="0", price="0.00000", userref=42)
    ).unwrap()
    assert info.avg_price is None
    assert info.userref == 42


@pytest.mark.parametrize(
    "overrides",
    [{"status": "weird"}, {"vol": None}, {"vol_exec": "x"}, {"vol": "-1"}],
)
def test_malformed_order_info_is_a_failure(overrides):
    assert not is_successful(parse_order_info("O1", kraken_order(**overrides)))


def test_order_maps_parse_all_or_fail_on_the_first_bad_entry():
    good = parse_order_map("OpenOrders", {"O1": kraken_order(), "O2": kraken_order()})
    assert [o.txid for o in good.unwrap()] == ["O1", "O2"]
    assert not is_successful(parse_order_map("OpenOrders", {"O1": kraken_order(status="?")}))
    assert not is_successful(parse_order_map("OpenOrders", ["O1"]))
