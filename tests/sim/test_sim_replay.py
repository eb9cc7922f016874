"""Recorded prices on the fake exchange: bars replayed step by step, and flat-cost bookkeeping.

The bar model must give back each bar as recorded (open, high, low, close, volume, trades)
and never leave its range; the rolling Ticker windows and the time-indexed order lists must
answer exactly what a from-scratch computation answers, while doing work that does not
grow with the history.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_sim import Exchange, VirtualClock, load_scenario
from kraken_sim._fixtures import fixture_path
from kraken_sim.bars import RollingWindow, costed, stats_over
from kraken_sim.history import read_price_file, with_price_history
from kraken_sim.market import PricePath, ticker_entry
from kraken_sim.replay import BarReplay, OhlcBar
from kraken_sim.timeline import Timeline
from kraken_sim.wire import fmt_decimal

SAMPLE = fixture_path("prices", "XBTUSD_60.csv")
TICK = Decimal("0.1")


@st.composite
def bars(draw):
    """A bar on a 0.1 tick grid: low <= open, close <= high."""
    low = draw(st.integers(1, 10**6))
    high = low + draw(st.integers(0, 5000))
    open_, close = (draw(st.integers(low, high)) for _ in range(2))
    volume = Decimal(draw(st.integers(0, 10**12))).scaleb(-8)
    return OhlcBar(
        time=1_700_000_000.0,
        open=open_ * TICK,
        high=high * TICK,
        low=low * TICK,
        close=close * TICK,
        volume=volume,
        trades=draw(st.integers(0, 10_000)),
    )


def steps_of(bar, *, interval=3600.0, step=10.0, seed=7):
    replay = BarReplay(
        (bar,), interval=interval, step=step, seed=seed, pair_id="XXBTZUSD", quantum=TICK / 100
    )
    return [replay.step_at(bar.time + k * step) for k in range(replay.steps_per_bar)]


@given(bar=bars(), steps_per_bar=st.sampled_from([4, 6, 60, 360]))
def test_a_replayed_bar_opens_touches_its_extremes_and_closes_as_recorded(bar, steps_per_bar):
    steps = steps_of(bar, interval=10.0 * steps_per_bar)
    mids = [mid for mid, _, _ in steps]
    assert len(steps) == steps_per_bar
    assert (mids[0], mids[-1]) == (bar.open, bar.close)
    assert (max(mids), min(mids)) == (bar.high, bar.low)
    assert sum((v for _, v, _ in steps), Decimal(0)) == bar.volume
    assert sum(c for _, _, c in steps) == bar.trades
    assert all(v >= 0 for _, v, _ in steps)


@given(bar=bars(), steps_per_bar=st.integers(1, 3))
def test_a_bar_with_few_steps_keeps_the_anchors_that_fit_and_stays_in_range(bar, steps_per_bar):
    mids = [mid for mid, _, _ in steps_of(bar, interval=10.0 * steps_per_bar)]
    assert mids[0] == bar.open
    assert all(bar.low <= mid <= bar.high for mid in mids)
    assert steps_per_bar == 1 or mids[-1] == bar.close


def test_the_steps_inside_a_bar_follow_the_seed_and_nothing_else():
    [history] = read_price_file(str(SAMPLE))
    bar = history.bars[5]
    assert steps_of(bar) == steps_of(bar)
    assert steps_of(bar) != steps_of(bar, seed=8)

    def replay():
        return BarReplay(
            history.bars, interval=3600.0, step=10.0, seed=7, pair_id="X", quantum=TICK
        )

    times = [bar.time + 3590.0, bar.time, history.bars[0].time, bar.time + 1800.0]
    backwards = replay()
    answers = [backwards.step_at(t) for t in times]
    assert answers == [replay().step_at(t) for t in times], "no step depends on earlier reads"


def test_the_exchange_ohlc_at_the_files_interval_gives_the_file_back():
    [history] = read_price_file(str(SAMPLE))
    scenario = with_price_history(load_scenario(None), [history])
    clock = VirtualClock(start=scenario.start)
    exchange = Exchange(scenario, seed=3, clock=clock, faults="none")
    exchange.advance_to(scenario.start + timedelta(hours=50))
    _, _, body = exchange.handle("GET", "/0/public/OHLC?pair=XBTUSD&interval=60", {}, b"")
    rows = {row[0]: row for row in json.loads(body)["result"]["XXBTZUSD"]}
    for bar in history.bars:
        _, open_, high, low, close, _, volume, count = rows[int(bar.time)]
        assert [open_, high, low, close] == [
            f"{v:f}" for v in (bar.open, bar.high, bar.low, bar.close)
        ]
        assert (Decimal(volume), count) == (bar.volume, bar.trades)
    gap = int(history.bars[30].time) - 3600
    assert rows[gap][6] == "0.00000000", "the hour without a row in the file has no trades"


@given(
    queries=st.lists(st.tuples(st.integers(-50, 400), st.integers(0, 120)), min_size=1, max_size=40)
)
def test_a_rolling_window_answers_what_a_fold_from_scratch_answers(queries):
    path = _walk_path()
    window = RollingWindow()
    source = costed(path.bar)
    for last, width in queries:
        first = max(last - width, path.first_index())
        assert window.stats(source, first, last) == stats_over(path.bar, first, last)


@given(
    queries=st.lists(
        st.tuples(st.integers(-50, 400), st.integers(0, 120), st.integers(0, 130)),
        min_size=1,
        max_size=40,
    )
)
def test_a_range_inside_a_rolling_window_reads_what_a_fold_from_scratch_answers(queries):
    path = _walk_path()
    window = RollingWindow()
    source = costed(path.bar)
    for last, width, skip in queries:
        first = max(last - width, path.first_index())
        window.stats(source, first, last)
        inner = first + skip
        answer = window.inner(source, inner)
        if inner > last:
            assert answer is None
        else:
            assert answer == stats_over(path.bar, inner, last)
    assert window.inner(source, path.first_index() - 1) is None


def test_a_ticker_a_day_in_folds_only_the_steps_since_the_last_one(exchange, kraken):
    path = exchange.venue.pair("XBTUSD")
    exchange.clock.advance(86400 * 2)
    kraken.public("Ticker", pair="XBTUSD")
    before = path.window("today").folded + path.window("24h").folded
    exchange.clock.advance(600)
    kraken.public("Ticker", pair="XBTUSD")
    after = path.window("today").folded + path.window("24h").folded
    assert after - before == 60, "the 24-hour window moved by one plan interval (60 steps)"
    assert path.window("today").folded == 0, "today is read off the 24-hour window"


@given(
    times=st.lists(st.integers(0, 50), max_size=30),
    after=st.one_of(st.none(), st.integers(-1, 51)),
)
def test_a_timeline_skips_only_entries_at_or_before_the_start(times, after):
    line = Timeline()
    for n, t in enumerate(times):
        line.append(f"id{n}", float(t))
    wanted = [f"id{n}" for n, t in reversed(list(enumerate(times))) if after is None or t > after]
    got = list(line.newest_first(after=None if after is None else float(after)))
    assert [g for g in got if after is None or times[int(g[2:])] > after] == wanted
    assert set(wanted) <= set(got)
    assert len(line) == len(times)


def test_closed_orders_from_a_start_reads_only_what_closed_after_it(exchange, kraken):
    for _ in range(30):
        kraken.private("AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.001")
        exchange.clock.advance(60)
    closed = kraken.private("ClosedOrders")["result"]
    assert closed["count"] == 30
    middle = sorted(o["closetm"] for o in closed["closed"].values())[9]
    later = kraken.private("ClosedOrders", start=str(middle))["result"]
    assert later["count"] == 20
    assert all(o["closetm"] > middle for o in later["closed"].values())
    account = next(iter(exchange.engine.accounts.values()))
    assert len(list(account.closed.newest_first(after=middle))) == 20


@functools.cache
def _walk_path() -> PricePath:
    exchange = Exchange(load_scenario(None), seed=5, faults="none")
    return exchange.venue.pair("SOLUSD")


@pytest.mark.parametrize("offset", [0.0, 3.0])
def test_ticker_windows_fold_what_a_from_scratch_fold_gives_across_midnight(offset):
    # "today" is read off the 24-hour window; when the steps do not start on midnight
    # (``offset``), in the step holding midnight "today" starts a step before the 24
    # hours do, and has a window of its own: both, a step at a time, against stats_over
    scenario = load_scenario(None)
    scenario = dataclasses.replace(scenario, start=scenario.start + timedelta(seconds=offset))
    clock = VirtualClock(start=scenario.start)
    exchange = Exchange(scenario, seed=3, clock=clock, faults="none")
    path = exchange.venue.pair("XBTUSD")
    clock.advance(86400 * 2 - 3 * path.step - clock.now().timestamp() % 86400)
    for _ in range(7):
        index = path.index_at(clock.now().timestamp())
        entry = ticker_entry(path, index)
        now = path.time_of(index)
        today_first = path.index_at(now - now % 86400)
        day_first = path.index_at(now - 86400) + 1
        decimals = max(path.meta.pair_decimals, 5)
        for column, first in ((0, today_first), (1, day_first)):
            expected = stats_over(path.bar, first, index)
            assert entry["h"][column] == fmt_decimal(expected.high, decimals)
            assert entry["l"][column] == fmt_decimal(expected.low, decimals)
            assert entry["v"][column] == fmt_decimal(expected.volume, 8)
            assert entry["t"][column] == expected.count
        clock.advance(path.step)
    assert (path.window("today").folded > 0) is bool(offset)
