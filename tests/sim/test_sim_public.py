"""Public endpoints and routing: envelope, keys, field names and types as Kraken sends them."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

PAIR_IDS = ["XXBTZUSD", "XETHZUSD", "SOLUSD", "XETHXXBT"]
DECIMAL_TEXT = re.compile(r"^\d+\.\d+$")


def test_time_gives_unix_seconds_and_kraken_rfc1123(kraken):
    reply = kraken.public("Time")
    assert reply == {
        "error": [],
        "result": {"unixtime": 1767225600, "rfc1123": "Thu, 01 Jan 26 00:00:00 +0000"},
    }


def test_responses_are_json_with_http_200(kraken):
    status, headers, body = kraken.public_raw("Time")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body.startswith(b'{"error":[],"result":')


@pytest.mark.parametrize("status", ["online", "maintenance", "cancel_only", "post_only"])
def test_system_status_reports_the_mode(exchange, kraken, status):
    exchange.set_system_status(status)
    assert kraken.public("SystemStatus")["result"] == {
        "status": status,
        "timestamp": "2026-01-01T00:00:00Z",
    }


def test_assets_are_keyed_by_asset_id(kraken):
    result = kraken.public("Assets")["result"]
    assert list(result) == ["XXBT", "XETH", "SOL", "ZUSD"]
    assert result["XXBT"]["altname"] == "XBT"
    assert result["ZUSD"]["decimals"] == 4


def test_assets_filter_by_id_or_altname_and_reject_unknown_ones(kraken):
    assert list(kraken.public("Assets", asset="XBT,ZUSD")["result"]) == ["XXBT", "ZUSD"]
    assert kraken.public("Assets", asset="DOGE") == {"error": ["EQuery:Unknown asset"]}


def test_asset_pairs_are_keyed_by_pair_id_with_the_snapshot_values(kraken):
    result = kraken.public("AssetPairs")["result"]
    assert list(result) == PAIR_IDS
    xbt = result["XXBTZUSD"]
    assert (xbt["altname"], xbt["wsname"], xbt["base"], xbt["quote"]) == (
        "XBTUSD",
        "XBT/USD",
        "XXBT",
        "ZUSD",
    )
    assert (xbt["pair_decimals"], xbt["lot_decimals"], xbt["cost_decimals"]) == (1, 8, 5)
    assert (xbt["ordermin"], xbt["costmin"], xbt["tick_size"]) == ("0.00005", "0.5", "0.1")


def test_asset_pairs_accept_altnames_and_answer_under_the_pair_id(kraken):
    assert list(kraken.public("AssetPairs", pair="XBTUSD,ETHXBT")["result"]) == [
        "XXBTZUSD",
        "XETHXXBT",
    ]


def test_asset_pairs_info_fees_gives_only_the_fee_fields(kraken):
    result = kraken.public("AssetPairs", pair="XBTUSD", info="fees")["result"]["XXBTZUSD"]
    assert set(result) == {"fees", "fees_maker", "fee_volume_currency"}


def test_asset_pairs_reject_unknown_pairs_and_info_values(kraken):
    assert kraken.public("AssetPairs", pair="DOGEUSD") == {"error": ["EQuery:Unknown asset pair"]}
    assert kraken.public("AssetPairs", info="everything") == {
        "error": ["EGeneral:Invalid arguments:info"]
    }


def test_ticker_answers_under_the_pair_id_with_kraken_field_types(kraken):
    result = kraken.public("Ticker", pair="XBTUSD")["result"]
    assert list(result) == ["XXBTZUSD"]
    ticker = result["XXBTZUSD"]
    assert set(ticker) == {"a", "b", "c", "v", "p", "t", "l", "h", "o"}
    ask, whole, lot = ticker["a"]
    assert DECIMAL_TEXT.match(ask)
    assert whole.isdigit()
    assert DECIMAL_TEXT.match(lot)
    assert all(isinstance(count, int) for count in ticker["t"])
    for name in "cvplh":
        assert all(isinstance(v, str) and DECIMAL_TEXT.match(v) for v in ticker[name])
    assert Decimal(ticker["b"][0]) < Decimal(ticker["a"][0])


def test_ticker_touch_is_two_bps_around_the_mid_on_the_tick_grid(kraken):
    ticker = kraken.public("Ticker", pair="XXBTZUSD")["result"]["XXBTZUSD"]
    assert ticker["b"][0] == "59994.00000"
    assert ticker["a"][0] == "60006.00000"


def test_ticker_without_pairs_lists_every_pair(kraken):
    assert list(kraken.public("Ticker")["result"]) == PAIR_IDS


def test_the_cross_pair_is_consistent_with_the_usd_pairs(kraken):
    ticker = kraken.public("Ticker", pair="ETHXBT")["result"]["XETHXXBT"]
    mid = (Decimal(ticker["a"][0]) + Decimal(ticker["b"][0])) / 2
    assert mid == Decimal("0.05")


def test_ohlc_rows_have_kraken_shape_and_last(kraken):
    result = kraken.public("OHLC", pair="XBTUSD", interval=5)["result"]
    assert set(result) == {"XXBTZUSD", "last"}
    rows = result["XXBTZUSD"]
    assert 0 < len(rows) <= 720
    time_, *prices, volume, count = rows[-1]
    assert isinstance(time_, int)
    assert time_ % 300 == 0
    assert all(isinstance(p, str) for p in prices)
    assert len(prices) == 5
    assert isinstance(volume, str)
    assert isinstance(count, int)
    assert result["last"] == rows[-2][0]


def test_ohlc_since_returns_only_later_rows(kraken):
    first = kraken.public("OHLC", pair="XBTUSD", interval=15)["result"]
    later = kraken.public("OHLC", pair="XBTUSD", interval=15, since=first["last"])["result"]
    assert [row[0] for row in later["XXBTZUSD"]] == [first["XXBTZUSD"][-1][0]]


def test_ohlc_caps_at_720_rows(exchange, kraken):
    exchange.clock.advance(7 * 3600)
    assert len(kraken.public("OHLC", pair="XBTUSD", interval=1)["result"]["XXBTZUSD"]) == 720


def test_ohlc_needs_a_known_pair_and_a_kraken_interval(kraken):
    assert kraken.public("OHLC") == {"error": ["EGeneral:Invalid arguments:pair"]}
    assert kraken.public("OHLC", pair="XBTUSD", interval=7) == {
        "error": ["EGeneral:Invalid arguments:interval"]
    }


def test_depth_lists_asks_up_and_bids_down(kraken):
    book = kraken.public("Depth", pair="XBTUSD", count=3)["result"]["XXBTZUSD"]
    asks = [Decimal(row[0]) for row in book["asks"]]
    bids = [Decimal(row[0]) for row in book["bids"]]
    assert asks == sorted(asks)
    assert bids == sorted(bids, reverse=True)
    assert len(asks) == 3
    assert bids[0] < asks[0]


def test_unknown_methods_answer_with_kraken_error(kraken):
    assert kraken.public("Nonsense") == {"error": ["EGeneral:Unknown method"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/0/private/Balance"),
        ("DELETE", "/0/public/Time"),
        ("GET", "/index.html"),
        ("POST", "/0/private/Nonsense"),
        ("GET", "/1/public/Time"),
    ],
)
def test_wrong_methods_and_paths_answer_unknown_method(exchange, method, path):
    status, _, body = exchange.handle(method, path, {}, b"")
    assert (status, json.loads(body)) == (200, {"error": ["EGeneral:Unknown method"]})


def test_public_methods_also_answer_post_with_form_parameters(exchange):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _, _, body = exchange.handle("POST", "/0/public/Ticker", headers, b"pair=SOLUSD")
    assert list(json.loads(body)["result"]) == ["SOLUSD"]


def test_public_time_follows_the_virtual_clock(exchange, kraken):
    exchange.clock.advance(3600)
    assert kraken.public("Time")["result"]["unixtime"] == 1767225600 + 3600
