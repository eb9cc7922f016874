"""Pair metadata and the simulated market: price paths, the touch, taker levels, Ticker, OHLC.

Theory of operation. Time is cut into steps of ``scenario.step`` seconds from the exchange's
origin (the clock's time when the exchange was built). Each pair has one mid per step: from a
seeded log-normal walk, from explicit points (linear between them, flat after the last), from
recorded OHLCVT bars (`kraken_sim.replay`: inside each bar, seeded steps between its open, high,
low and close), or as the ratio of two other pairs. Steps before the origin (``history``) are
generated backwards from the starting mid, so OHLC and Ticker have data at once. Each step also
carries a market volume and trade count, for Ticker and OHLC: the bars' own, or synthetic ones
drawn from the path's seeded stream.

The walk is extended lazily, step by step, from a ``random.Random`` per pair, so the path does
not depend on when or how often it is read.

The touch is the mid minus/plus half the spread, rounded outwards onto the tick grid (at least
one tick apart). A taker walks price levels ``level_bps`` apart, ``depth`` base units each,
starting at the touch.

The trade flow (`PricePath.flow`) is each step's market volume split between sellers, who hit
the bid, and buyers, who lift the ask: half each when the mid does not move, more sellers when
it falls and more buyers when it rises (``0.5 -/+ 0.4 * tanh(move / volatility)``, the move in
bps of the previous mid). It is a function of the path alone, so two runs of a scenario see the
same flow whatever their orders do. The matching engine feeds it to resting orders at the touch
behind their queue (`PricePath.queue`).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any, Final

from kraken_sim.bars import RollingWindow, StepSums, costed, stats_over
from kraken_sim.replay import BarReplay
from kraken_sim.scenario import PairSpec
from kraken_sim.wire import fmt_decimal

__all__ = ["PairMeta", "PricePath", "Touch", "ohlc_rows", "pair_meta", "ticker_entry"]

_BPS: Final = Decimal(10000)
_VOLUME_QUANTUM: Final = Decimal("1e-8")
OHLC_INTERVALS: Final = frozenset({1, 5, 15, 30, 60, 240, 1440, 10080, 21600})


@dataclass(frozen=True, slots=True, kw_only=True)
class PairMeta:
    """The trading rules of one pair, parsed from its AssetPairs object."""

    pair_id: str
    altname: str
    wsname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    ordermin: Decimal
    costmin: Decimal
    tick_size: Decimal
    status: str
    maker_fee: Decimal
    taker_fee: Decimal
    raw: Mapping[str, Any]


def pair_meta(
    pair_id: str,
    raw: Mapping[str, Any],
    spec: PairSpec,
    default_fees: tuple[Decimal | None, Decimal | None],
) -> PairMeta:
    """Parse an AssetPairs object (after the scenario's ``meta`` overrides)."""
    merged = {**raw, **dict(spec.meta)}
    pair_decimals = int(merged["pair_decimals"])
    tick = Decimal(str(merged.get("tick_size", Decimal(1).scaleb(-pair_decimals))))
    maker = spec.maker_fee if spec.maker_fee is not None else default_fees[0]
    taker = spec.taker_fee if spec.taker_fee is not None else default_fees[1]
    if taker is None:
        taker = Decimal(str(merged["fees"][0][1])) if merged.get("fees") else Decimal("0.40")
    if maker is None:
        maker = Decimal(str(merged["fees_maker"][0][1])) if merged.get("fees_maker") else taker
    return PairMeta(
        pair_id=pair_id,
        altname=str(merged["altname"]),
        wsname=str(merged.get("wsname", merged["altname"])),
        base=str(merged["base"]),
        quote=str(merged["quote"]),
        pair_decimals=pair_decimals,
        lot_decimals=int(merged["lot_decimals"]),
        cost_decimals=int(merged.get("cost_decimals", pair_decimals)),
        ordermin=Decimal(str(merged.get("ordermin", "0"))),
        costmin=Decimal(str(merged.get("costmin", "0"))),
        tick_size=tick,
        status=str(merged.get("status", "online")),
        maker_fee=maker,
        taker_fee=taker,
        raw=merged,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Touch:
    """Best bid and ask and the mid they came from."""

    bid: Decimal
    ask: Decimal
    mid: Decimal


class PricePath:
    """One pair's lazily generated path of (mid, volume, trade count) per step."""

    __slots__ = (
        "_counts", "_derive", "_history", "_history_seed", "_last_touch", "_mid_quantum",
        "_mids", "_ohlc", "_past", "_point_times", "_replay", "_rng", "_spec", "_step_volume",
        "_volumes", "_walk_mid", "_windows", "meta", "origin", "pinned", "queue", "step",
        "step_sums",
    )  # fmt: skip

    def __init__(
        self,
        *,
        meta: PairMeta,
        spec: PairSpec,
        origin: float,
        step: float,
        history_steps: int,
        seed: int,
        derive: Callable[[int], Decimal] | None = None,
    ) -> None:
        self.meta = meta
        self.origin = origin
        self.step = step
        self.pinned: Decimal | None = None
        self._last_touch: tuple[int, PairMeta, Touch] | None = None
        self._spec = spec
        self._derive = derive
        self._history = history_steps
        self._rng = random.Random(f"kraken-sim:path:{seed}:{meta.pair_id}")
        self._history_seed = f"kraken-sim:history:{seed}:{meta.pair_id}"
        self._mids: list[Decimal] = []
        self._volumes: list[Decimal] = []
        self._counts: list[int] = []
        self._past: list[tuple[Decimal, Decimal, int]] | None = None
        self._walk_mid = float(spec.mid) if spec.mid is not None else 0.0
        self._point_times = [t for t, _ in spec.points]
        self._mid_quantum = Decimal(1).scaleb(-(meta.pair_decimals + 2))
        self._step_volume = float(spec.liquidity_per_min) * step / 60.0
        self.queue: Decimal = spec.queue if spec.queue is not None else spec.liquidity_per_min / 4
        """Base units ahead of an order that joins the touch (see `flow`)."""
        self._replay: BarReplay | None = None
        if spec.bars and derive is None:
            self._replay = BarReplay(
                spec.bars,
                interval=spec.bar_interval,
                step=step,
                seed=seed,
                pair_id=meta.pair_id,
                quantum=self._mid_quantum,
            )
        self._windows: dict[str, RollingWindow] = {}
        self.step_sums = StepSums()  # the totals Ticker's windows share (same last step)
        self._ohlc: dict[tuple[int, int], list[Any]] = {}

    # ------------------------------------------------------------------ path
    def index_at(self, t: float) -> int:
        """The step index of time ``t`` (0 = the origin step; negative = history)."""
        return max(-self._history, math.floor((t - self.origin) / self.step + 1e-9))

    def time_of(self, index: int) -> float:
        """The start time of step ``index``."""
        return self.origin + index * self.step

    def first_index(self) -> int:
        """The oldest step there is data for."""
        return -self._history

    def _row(self, index: int) -> tuple[Decimal, Decimal, int]:
        if index >= 0:
            if index >= len(self._mids):
                self._extend(index)
            return self._mids[index], self._volumes[index], self._counts[index]
        if self._past is None:
            self._past = self._generate_history()
        return self._past[-index - 1]

    def mid(self, index: int) -> Decimal:
        """The mid of step ``index`` (ignores a pinned price)."""
        return self._row(index)[0]

    def bar(self, index: int) -> tuple[Decimal, Decimal, int]:
        """(trade price on the tick grid, market volume, trade count) of step ``index``."""
        mid, volume, count = self._row(index)
        return self._on_tick(mid), volume, count

    def current_mid(self, index: int) -> Decimal:
        """The mid in force: the pinned price if one is set, else the path's."""
        return self.pinned if self.pinned is not None else self.mid(index)

    def touch(self, index: int) -> Touch:
        """The best bid and ask at step ``index``."""
        mid = self.current_mid(index)
        last = self._last_touch
        # a step's touch is asked for again (matching, then a Ticker or an order at the
        # same step): the last answer serves while step, mid and tick are the same
        if last is not None and last[0] == index and last[1] is self.meta and last[2].mid == mid:
            return last[2]
        half = mid * self._spec.spread_bps / _BPS / 2
        tick = self.meta.tick_size
        bid = ((mid - half) / tick).to_integral_value(ROUND_FLOOR) * tick
        ask = ((mid + half) / tick).to_integral_value(ROUND_CEILING) * tick
        bid = max(bid, tick)
        ask = max(ask, bid + tick)
        touch = Touch(bid=bid, ask=ask, mid=mid)
        self._last_touch = (index, self.meta, touch)
        return touch

    def flow(self, index: int) -> tuple[Decimal, Decimal]:
        """(sold, bought) at step ``index``: the step's market volume split between sellers
        hitting the bid and buyers lifting the ask (see the module docstring)."""
        volume = self.bar(index)[1]
        if index - 1 < self.first_index() or self.pinned is not None:
            move = 0.0
        else:
            before = float(self.mid(index - 1))
            move = (float(self.mid(index)) - before) / before * 1e4 if before > 0 else 0.0
        scale = self._spec.walk.volatility_bps or 1.0
        share = 0.5 - 0.4 * math.tanh(move / scale)
        sold = (volume * Decimal("%.6f" % share)).quantize(_VOLUME_QUANTUM, ROUND_HALF_EVEN)  # noqa: UP031
        return sold, volume - sold

    def levels(self, index: int, side: str) -> Iterator[tuple[Decimal, Decimal]]:
        """The (price, size) levels a taker on ``side`` meets, best first, without end."""
        touch = self.touch(index)
        start = touch.ask if side == "buy" else touch.bid
        gap = max(self.meta.tick_size, self._on_tick(start * self._spec.level_bps / _BPS))
        sign = 1 if side == "buy" else -1
        level = 0
        while True:
            price = start + sign * gap * level
            if price <= 0:
                return
            yield price, self._spec.depth
            level += 1

    def window(self, name: str) -> RollingWindow:
        """The rolling window ``name`` of this path (Ticker keeps ``today`` and ``24h``)."""
        window = self._windows.get(name)
        if window is None:
            window = self._windows[name] = RollingWindow(self.step_sums)
        return window

    def ohlc_row(self, width: int, bucket: int, index: int) -> list[Any] | None:
        """The OHLC row of the ``width``-second bucket starting at ``bucket``, seen at ``index``.

        None when no step of the bucket has happened. A row whose steps are all at or before
        ``index`` never changes again, and is kept.
        """
        key = (width, bucket)
        cached = self._ohlc.get(key)
        if cached is not None:
            return cached
        first = max(self.index_at(bucket), self.first_index())
        end = self.index_at(bucket + width - 1e-6)
        last = min(end, index)
        if self.time_of(first) < bucket:
            first += 1
        if first > last:
            return None
        s = stats_over(self.bar, first, last)
        decimals = self.meta.pair_decimals
        row = [
            bucket,
            *(fmt_decimal(v, decimals) for v in (s.open, s.high, s.low, s.close, s.vwap)),
            fmt_decimal(s.volume, 8),
            s.count,
        ]
        if end <= index:
            self._ohlc[key] = row
        return row

    @property
    def liquidity_per_min(self) -> Decimal:
        """Base units a resting side can fill per minute."""
        return self._spec.liquidity_per_min

    def _on_tick(self, price: Decimal) -> Decimal:
        tick = self.meta.tick_size
        return (price / tick).to_integral_value(ROUND_HALF_EVEN) * tick

    def _quantize_mid(self, value: float) -> Decimal:
        return Decimal(value).quantize(self._mid_quantum, ROUND_HALF_EVEN)

    def _draw_volume(self, rng: random.Random) -> tuple[Decimal, int]:
        volume = Decimal(self._step_volume * rng.uniform(0.2, 1.8)).quantize(
            _VOLUME_QUANTUM, ROUND_HALF_EVEN
        )
        return volume, rng.randint(1, 25)

    def _generate_history(self) -> list[tuple[Decimal, Decimal, int]]:
        """Steps -1, -2, ... (newest first), from their own seeded stream, generated once."""
        rng = random.Random(self._history_seed)
        past: list[tuple[Decimal, Decimal, int]] = []
        value = float(self._spec.mid) if self._spec.mid is not None else 0.0
        for offset in range(1, self._history + 1):
            if self._replay is not None:
                past.append(self._replay.step_at(self.time_of(-offset)))
                continue
            if self._derive is not None:
                mid = self._derive(-offset).quantize(self._mid_quantum, ROUND_HALF_EVEN)
            elif self._spec.points:
                mid = self._explicit(-offset)
            else:
                value = self._walk_back(value, rng)
                mid = self._quantize_mid(value)
            volume, count = self._draw_volume(rng)
            past.append((mid, volume, count))
        return past

    def _walk_back(self, value: float, rng: random.Random) -> float:
        walk = self._spec.walk
        return value / math.exp((walk.drift_bps + walk.volatility_bps * rng.gauss(0.0, 1.0)) / 1e4)

    def _explicit(self, index: int) -> Decimal:
        t = index * self.step
        points = self._spec.points
        if t <= points[0][0]:
            return points[0][1]
        after = bisect.bisect_left(self._point_times, t)
        if after >= len(points):
            return points[-1][1]
        (t0, m0), (t1, m1) = points[after - 1], points[after]
        share = Decimal(repr((t - t0) / (t1 - t0))) if t1 > t0 else Decimal(1)
        return (m0 + (m1 - m0) * share).quantize(self._mid_quantum, ROUND_HALF_EVEN)

    def _extend(self, index: int) -> None:
        if self._replay is None and self._derive is None and not self._spec.points:
            self._extend_walk(index)
            return
        while len(self._mids) <= index:
            n = len(self._mids)
            if self._replay is not None:
                mid, volume, count = self._replay.step_at(self.time_of(n))
                self._mids.append(mid)
                self._volumes.append(volume)
                self._counts.append(count)
                continue
            if self._derive is not None:
                self._mids.append(self._derive(n).quantize(self._mid_quantum, ROUND_HALF_EVEN))
            elif self._spec.points:
                self._mids.append(self._explicit(n))
            else:
                if n > 0:
                    walk = self._spec.walk
                    shock = walk.drift_bps + walk.volatility_bps * self._rng.gauss(0.0, 1.0)
                    self._walk_mid *= math.exp(shock / 1e4)
                self._mids.append(self._quantize_mid(self._walk_mid))
            volume, count = self._draw_volume(self._rng)
            self._volumes.append(volume)
            self._counts.append(count)

    def _extend_walk(self, index: int) -> None:
        """The walk's steps up to ``index``: `_extend`'s draws, in the same order, in one loop.

        Per step: the shock (``gauss``, from the second step on), then the volume
        (``uniform``) and the trade count (``randint(1, 25)``), as `_draw_volume` draws them.
        """
        mids, volumes, counts = self._mids, self._volumes, self._counts
        rng = self._rng
        # uniform(0.2, 1.8) and randint(1, 25) spelled as `random` defines them (CPython's
        # 3.11 to 3.13: ``a + (b - a) * random()`` and ``a + _randbelow(b - a + 1)``), the
        # same numbers without their argument checks; `test_sim_market` pins the draws.
        gauss, draw, exp = rng.gauss, rng.random, math.exp
        below: Callable[[int], int] = getattr(rng, "_randbelow")  # noqa: B009 (not in typeshed)
        spread = 1.8 - 0.2
        drift, volatility = self._spec.walk.drift_bps, self._spec.walk.volatility_bps
        step_volume, walk_mid = self._step_volume, self._walk_mid
        # "%.*f" rounds the float's exact value half-even, as Decimal(x).quantize does, in
        # a third of the time: the same digits and the same exponent.
        exponent = self._mid_quantum.as_tuple().exponent
        assert isinstance(exponent, int)
        places = -exponent
        for n in range(len(mids), index + 1):
            if n > 0:
                walk_mid *= exp((drift + volatility * gauss(0.0, 1.0)) / 1e4)
            mids.append(Decimal("%.*f" % (places, walk_mid)))  # noqa: UP031
            volumes.append(Decimal("%.8f" % (step_volume * (0.2 + spread * draw()))))
            counts.append(1 + below(25))
        self._walk_mid = walk_mid


def ticker_entry(path: PricePath, index: int) -> dict[str, Any]:
    """The Ticker object of one pair at step ``index``.

    Its two windows (today since midnight UTC, and the last 24 hours) are kept by the path's
    rolling windows, so a Ticker costs the steps since the previous one, not a day of steps.
    """
    meta = path.meta
    now = path.time_of(index)
    decimals = max(meta.pair_decimals, 5)
    touch = path.touch(index)
    last_price, last_volume, _ = path.bar(index)
    day_start = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    today_first = max(path.index_at(day_start.timestamp()), path.first_index())
    day_first = max(path.index_at(now - 86400) + 1, path.first_index())
    bar = costed(path.bar)
    # the longer window first: the totals it needs cover the other's, and "today" (which
    # ends at the same step) is read off it unless it starts before it (just before
    # midnight, when both start in the same step)
    last_day = path.window("24h")
    day = last_day.stats(bar, day_first, index)
    today = last_day.inner(bar, today_first) or path.window("today").stats(bar, today_first, index)
    path.step_sums.forget_before(min(day_first, today_first))
    depth = path.levels(index, "buy")
    whole = max(1, int(next(depth)[1]))

    def px(value: Decimal) -> str:
        return fmt_decimal(value, decimals)

    return {
        "a": [px(touch.ask), str(whole), fmt_decimal(Decimal(whole), 3)],
        "b": [px(touch.bid), str(whole), fmt_decimal(Decimal(whole), 3)],
        "c": [px(last_price), fmt_decimal(last_volume, 8)],
        "v": [fmt_decimal(today.volume, 8), fmt_decimal(day.volume, 8)],
        "p": [px(today.vwap), px(day.vwap)],
        "t": [today.count, day.count],
        "l": [px(today.low), px(day.low)],
        "h": [px(today.high), px(day.high)],
        "o": px(today.open),
    }


def ohlc_rows(
    path: PricePath, index: int, interval_min: int, since: int | None
) -> tuple[list[list[Any]], int]:
    """OHLC rows (at most 720, the last one still forming) and the ``last`` id.

    Rows whose steps are all in the past are kept by the path, so a request folds only the
    forming row's steps again.
    """
    width = interval_min * 60
    now_bucket = int(path.time_of(index) // width) * width
    oldest = max(int(path.time_of(path.first_index()) // width) * width, now_bucket - 719 * width)
    if since is not None:
        oldest = max(oldest, (since // width + 1) * width)
    rows: list[list[Any]] = []
    bucket = oldest
    while bucket <= now_bucket:
        row = path.ohlc_row(width, bucket, index)
        if row is not None:
            rows.append(row)
        bucket += width
    last_id = rows[-2][0] if len(rows) >= 2 else (rows[-1][0] if rows else now_bucket)
    return rows, int(last_id)
