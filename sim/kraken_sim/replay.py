"""Replaying OHLCVT bars: the steps inside each bar, drawn so the bar comes out as recorded.

A bar of ``interval`` seconds covers ``n`` steps of the price path (``n = interval / step``,
rounded up). Inside it the mid:

* opens at the bar's open (step 0) and ends at its close (step ``n - 1``);
* touches the high and the low at two seeded steps in between, the nearer one to the open
  first (a bar that opens near its high usually makes its high first);
* between those four anchors, follows a straight line plus a seeded Brownian bridge (zero at
  each anchor), clipped to ``[low, high]``: no step leaves the bar's range.

So the exchange's own OHLC at the file's interval gives back the file's open, high, low and
close (when they sit on the pair's tick grid, as Kraken's do). The bar's volume and trade count
are spread over its steps by seeded weights and add up exactly to the file's. With fewer than
four steps per bar the anchors that fit are kept (open; open and close; open, one extreme,
close). Before the first bar the mid is the first open; in a gap between bars (Kraken leaves
out bars without trades) and after the last one, it stays at the last close, with no volume.

Every bar draws from its own ``random.Random`` seeded by (seed, pair, bar time), so a step's
values do not depend on which steps were read before it.

>>> from decimal import Decimal as D
>>> bar = OhlcBar(time=0.0, open=D("100"), high=D("104"), low=D("99"), close=D("103"),
...               volume=D("12.5"), trades=7)
>>> replay = BarReplay((bar,), interval=60.0, step=10.0, seed=1, pair_id="X", quantum=D("0.01"))
>>> steps = [replay.step_at(t) for t in range(0, 60, 10)]
>>> steps[0][0], steps[-1][0], max(s[0] for s in steps), min(s[0] for s in steps)
(Decimal('100'), Decimal('103'), Decimal('104'), Decimal('99'))
>>> sum(s[1] for s in steps), sum(s[2] for s in steps)
(Decimal('12.50000000'), 7)
>>> replay.step_at(-10.0), replay.step_at(600.0)
((Decimal('100'), Decimal('0'), 0), (Decimal('103'), Decimal('0'), 0))
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Final

__all__ = ["BarReplay", "OhlcBar", "StepRow"]

StepRow = tuple[Decimal, Decimal, int]
"""(mid, market volume, trade count) of one step."""

_VOLUME_QUANTUM: Final = Decimal("1e-8")
_ZERO: Final = Decimal(0)
_NOISE: Final = 0.15  # bridge deviation, as a share of the bar's range over the whole bar


@dataclass(frozen=True, slots=True, kw_only=True)
class OhlcBar:
    """One OHLCVT row: the bar that opens at ``time`` (unix seconds)."""

    time: float
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int


class BarReplay:
    """One pair's steps from its bars (see the module docstring).

    Args:
        bars: the bars, oldest first, at least one.
        interval: the bar width in seconds.
        step: the price path's step in seconds.
        seed: the exchange's seed.
        pair_id: the pair (part of each bar's seed).
        quantum: the mids' precision (the price path's).
    """

    __slots__ = (
        "_cached", "_quantum", "_seed", "_times", "bars", "interval", "step", "steps_per_bar",
    )  # fmt: skip

    def __init__(
        self,
        bars: Sequence[OhlcBar],
        *,
        interval: float,
        step: float,
        seed: int,
        pair_id: str,
        quantum: Decimal,
    ) -> None:
        if not bars:
            raise ValueError("a bar replay needs at least one bar")
        self.bars = tuple(bars)
        self.interval = interval
        self.step = step
        self.steps_per_bar = max(1, math.ceil(interval / step - 1e-9))
        self._times = [bar.time for bar in self.bars]
        self._seed = f"kraken-sim:bar:{seed}:{pair_id}"
        self._quantum = quantum
        self._cached: tuple[int, list[StepRow]] | None = None

    def step_at(self, t: float) -> StepRow:
        """The (mid, volume, trade count) of the step that starts at unix time ``t``."""
        position = bisect.bisect_right(self._times, t) - 1
        if position < 0:
            return self.bars[0].open, _ZERO, 0
        bar = self.bars[position]
        offset = t - bar.time
        if offset >= self.interval:
            return bar.close, _ZERO, 0
        k = min(int(offset / self.step + 1e-9), self.steps_per_bar - 1)
        return self._steps(position)[k]

    def _steps(self, position: int) -> list[StepRow]:
        if self._cached is not None and self._cached[0] == position:
            return self._cached[1]
        bar = self.bars[position]
        rng = random.Random(f"{self._seed}:{bar.time!r}")
        mids = self._mids(bar, rng)
        volumes = _spread_volume(bar.volume, len(mids), rng)
        counts = _spread_count(bar.trades, len(mids), rng)
        steps = list(zip(mids, volumes, counts, strict=True))
        self._cached = (position, steps)
        return steps

    def _mids(self, bar: OhlcBar, rng: random.Random) -> list[Decimal]:
        n = self.steps_per_bar
        anchors = _anchors(bar, n, rng)
        mids: list[Decimal] = []
        scale = float(bar.high - bar.low) * _NOISE / math.sqrt(n)
        for (a, price_a), (b, price_b) in itertools.pairwise(anchors):
            mids.append(price_a)
            walk = [0.0]
            for _ in range(a + 1, b + 1):
                walk.append(walk[-1] + rng.gauss(0.0, 1.0) * scale)
            for k in range(a + 1, b):
                share = (k - a) / (b - a)
                line = float(price_a) + (float(price_b) - float(price_a)) * share
                bridge = walk[k - a] - share * walk[-1]
                mid = Decimal(line + bridge).quantize(self._quantum, ROUND_HALF_EVEN)
                mids.append(min(max(mid, bar.low), bar.high))
        mids.append(anchors[-1][1])
        return mids


def _anchors(bar: OhlcBar, n: int, rng: random.Random) -> list[tuple[int, Decimal]]:
    """(step, price) the bar's path goes through: open, the extremes that fit, close."""
    if n == 1:
        return [(0, bar.open)]
    to_high, to_low = bar.high - bar.open, bar.open - bar.low
    high_first = to_high < to_low or (to_high == to_low and rng.random() < 0.5)
    extremes = [bar.high, bar.low] if high_first else [bar.low, bar.high]
    if n == 2:
        return [(0, bar.open), (1, bar.close)]
    if n == 3:
        return [(0, bar.open), (1, extremes[0]), (2, bar.close)]
    first, second = sorted(rng.sample(range(1, n - 1), 2))
    return [(0, bar.open), (first, extremes[0]), (second, extremes[1]), (n - 1, bar.close)]


def _spread_volume(volume: Decimal, n: int, rng: random.Random) -> list[Decimal]:
    weights = [rng.uniform(0.2, 1.8) for _ in range(n)]
    total = sum(weights)
    parts = [
        (volume * Decimal(w / total)).quantize(_VOLUME_QUANTUM, ROUND_DOWN) for w in weights[:-1]
    ]
    parts.append(volume - sum(parts, _ZERO))
    return parts


def _spread_count(trades: int, n: int, rng: random.Random) -> list[int]:
    base, extra = divmod(trades, n)
    counts = [base] * n
    for k in rng.sample(range(n), extra):
        counts[k] += 1
    return counts
