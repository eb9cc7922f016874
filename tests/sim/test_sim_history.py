"""Price history files: Kraken's OHLCVT CSV and timestamp,pair,price rows, read or refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kraken_sim import load_scenario
from kraken_sim._fixtures import fixture_path
from kraken_sim.history import (
    PriceFileError,
    parse_price_spec,
    read_price_file,
    with_price_history,
)

SAMPLE = fixture_path("prices", "XBTUSD_60.csv")
GOOD_ROW = "1709251200,62000.0,62100.0,61900.0,62050.0,12.5,40"


def write(tmp_path, name, *lines):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_bundled_sample_is_hourly_xbtusd_in_kraken_format():
    [history] = read_price_file(str(SAMPLE))
    assert (history.pair, history.interval, len(history.bars)) == ("XBTUSD", 3600.0, 48)
    first = history.bars[0]
    assert first.time == 1709251200
    assert (first.open, first.high, first.low, first.close) == (
        Decimal("62000.0"),
        Decimal("62286.3"),
        Decimal("62000.0"),
        Decimal("62172.3"),
    )
    assert (first.volume, first.trades) == (Decimal("51.33475278"), 2497)
    assert all(
        b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in history.bars
    )
    gaps = [b.time - a.time for a, b in zip(history.bars, history.bars[1:], strict=False)]
    assert set(gaps) == {3600, 7200}, "one hour has no trades, so no row, as in Kraken's files"
    assert history.end_time == history.bars[-1].time + 3600


def test_the_pair_comes_from_an_explicit_prefix_and_the_interval_from_the_gaps(tmp_path):
    path = write(tmp_path, "bars.csv", GOOD_ROW, "1709251500,62050.0,62060.0,62000.0,62010.0,1,2")
    assert parse_price_spec(f"XBTUSD={path}") == ("XBTUSD", str(path))
    [history] = read_price_file(f"xbtusd={path}")
    assert (history.pair, history.interval) == ("XBTUSD", 300.0)


def test_a_kraken_file_name_gives_pair_and_interval_even_for_one_bar(tmp_path):
    [history] = read_price_file(str(write(tmp_path, "ethusd_15.csv", GOOD_ROW)))
    assert (history.pair, history.interval, len(history.bars)) == ("ETHUSD", 900.0, 1)


def test_price_points_are_read_per_pair_with_an_optional_header_and_iso_times(tmp_path):
    path = write(
        tmp_path,
        "points.csv",
        "timestamp,pair,price",
        "1709251200,XBTUSD,62000",
        "2024-03-01T00:30:00Z,XBTUSD,62500.5",
        "1709251200,ETHUSD,3400",
        "",
        "1709254800,ETHUSD,3450",
    )
    histories = {h.pair: h for h in read_price_file(str(path))}
    assert histories["XBTUSD"].points == (
        (1709251200.0, Decimal(62000)),
        (1709253000.0, Decimal("62500.5")),
    )
    assert histories["ETHUSD"].end_time == 1709254800.0
    assert histories["ETHUSD"].interval is None
    [only] = read_price_file(f"ETHUSD={path}")
    assert only.pair == "ETHUSD"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [GOOD_ROW, "1709254800,62000.0,62100.0,61900.0,62050.0,12.5"],
            ":2: 6 columns; expected 7",
        ),
        ([GOOD_ROW, "1709254800,62000.0,abc,61900.0,62050.0,12.5,40"], ":2: high 'abc' is not"),
        (["1709251200,62000.0,61800.0,61900.0,61850.0,1,1"], ":1: high 61800.0 is below low"),
        (["1709251200,62000.0,62100.0,61900.0,62150.0,1,1"], ":1: close 62150.0 is outside"),
        (["1709251200,62000.0,62100.0,61900.0,62050.0,-1,1"], ":1: volume '-1' is not a non-neg"),
        (["1709251200,62000.0,62100.0,61900.0,62050.0,1,2.5"], ":1: trades '2.5' is not a whole"),
        (["1709251200,0,62100.0,0,62050.0,1,2"], ":1: open '0' must be positive"),
        (["yesterday,62000.0,62100.0,61900.0,62050.0,1,2"], ":1: timestamp 'yesterday' is neither"),
        (["1709251200000,62000.0,62100.0,61900.0,62050.0,1,2"], ":1: timestamp '1709251200000'"),
        ([GOOD_ROW, "", GOOD_ROW], ":3: timestamp 1709251200 is not after the previous row's"),
        ([GOOD_ROW, "1709251260,62000.0,62100.0,61900.0,62050.0,1,2"], ":2: bars overlap"),
        (["1709251200,62000.0,62100.0,61900.0,62050.0"], ":1: 5 columns; expected 7 columns"),
    ],
)
def test_a_malformed_ohlcvt_file_is_refused_with_its_name_and_line(tmp_path, lines, message):
    path = write(tmp_path, "XBTUSD_60.csv", *lines)
    with pytest.raises(PriceFileError) as caught:
        read_price_file(str(path))
    assert str(caught.value).startswith(f"{path}:")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["1709251200,XBTUSD,62000", "1709251200,XBTUSD,62001"], ":2: timestamp 1709251200 is not"),
        (["1709251200,XBTUSD,62000", "1709251300,XBTUSD"], ":2: 2 columns; expected 3"),
        (["1709251200,XBT USD,62000"], ":1: pair 'XBT USD' is not a pair name"),
        (["2024-03-01T00:00:00,XBTUSD,62000"], ":1: timestamp '2024-03-01T00:00:00' needs a time"),
        (["1709251200,XBTUSD,-5"], ":1: price '-5' is not a non-negative number"),
    ],
)
def test_a_malformed_points_file_is_refused_with_its_name_and_line(tmp_path, lines, message):
    path = write(tmp_path, "points.csv", *lines)
    with pytest.raises(PriceFileError, match=r"points\.csv") as caught:
        read_price_file(str(path))
    assert message in str(caught.value)


def test_files_that_say_nothing_usable_are_refused(tmp_path):
    with pytest.raises(PriceFileError, match="cannot read the price file"):
        read_price_file(str(tmp_path / "missing.csv"))
    with pytest.raises(PriceFileError, match="no rows"):
        read_price_file(str(write(tmp_path, "XBTUSD_60.csv", "", "  ")))
    with pytest.raises(PriceFileError, match="cannot tell the pair from the file name"):
        read_price_file(str(write(tmp_path, "bars.csv", GOOD_ROW)))
    with pytest.raises(PriceFileError, match="one bar and no interval"):
        read_price_file("XBTUSD=" + str(write(tmp_path, "one.csv", GOOD_ROW)))
    with pytest.raises(PriceFileError, match="no rows for SOLUSD"):
        read_price_file("SOLUSD=" + str(write(tmp_path, "p.csv", "1709251200,XBTUSD,62000")))


def test_replaying_a_file_starts_the_scenario_at_its_first_row_and_keeps_its_pair_only():
    default = load_scenario(None)
    scenario = with_price_history(default, read_price_file(str(SAMPLE)))
    assert scenario.start == datetime(2024, 3, 1, tzinfo=UTC)
    [pair] = scenario.pairs
    original = next(p for p in default.pairs if p.pair == "XXBTZUSD")
    assert (pair.pair, pair.bar_interval, len(pair.bars)) == ("XXBTZUSD", 3600.0, 48)
    assert (pair.spread_bps, pair.liquidity_per_min) == (
        original.spread_bps,
        original.liquidity_per_min,
    )
    assert scenario.accounts == default.accounts
    assert with_price_history(default, []) is default


def test_a_derived_pair_stays_when_both_its_legs_follow_files(tmp_path):
    path = write(tmp_path, "p.csv", "1709251200,XBTUSD,62000", "1709251200,ETHUSD,3400")
    scenario = with_price_history(load_scenario(None), read_price_file(str(path)))
    assert [p.pair for p in scenario.pairs] == ["XXBTZUSD", "XETHZUSD", "XETHXXBT"]
    assert scenario.pairs[0].points == ((0.0, Decimal(62000)),)


def test_unknown_and_repeated_pairs_are_refused(tmp_path):
    scenario = load_scenario(None)
    unknown = read_price_file(str(write(tmp_path, "p.csv", "1709251200,DOGEUSD,0.1")))
    with pytest.raises(PriceFileError, match="pair DOGEUSD is not in the AssetPairs snapshot"):
        with_price_history(scenario, unknown)
    twice = read_price_file(str(SAMPLE)) + read_price_file(f"XXBTZUSD={SAMPLE}")
    with pytest.raises(PriceFileError, match="already comes from"):
        with_price_history(scenario, twice)
