"""Aggregates over a range of a price path's steps: Ticker's windows and OHLC buckets.

A step's *bar* is (trade price on the tick grid, market volume, trade count). `stats_over`
folds the bars of a range once; `RollingWindow` keeps the aggregates of a range that moves
forward (Ticker's "today" and "last 24 hours"), so a request costs what the window moved
since the last one, not the window's length: running sums for volume, notional and count, and
monotonic deques for high and low. A range that moves backwards, or jumps past the old one, is
folded again from scratch, so any sequence of requests gets the same answer as `stats_over`.

Sums use an exact context (more digits than any path reaches), so adding and later removing a
bar leaves no rounding behind: the rolling answer is the from-scratch answer, to the digit.

>>> bars = {0: (Decimal("10"), Decimal("1"), 2), 1: (Decimal("12"), Decimal("3"), 1),
...         2: (Decimal("11"), Decimal("1"), 4)}
>>> window = RollingWindow()
>>> window.stats(costed(bars.__getitem__), 0, 1) == stats_over(bars.__getitem__, 0, 1)
True
>>> s = window.stats(costed(bars.__getitem__), 1, 2)
>>> s.open, s.high, s.low, s.close, s.vwap, s.volume, s.count
(Decimal('12'), Decimal('12'), Decimal('11'), Decimal('11'), Decimal('11.75'), Decimal('4'), 5)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Final

__all__ = [
    "Bar", "BarSource", "BarStats", "CostedBar", "CostedSource", "RollingWindow", "costed",
    "stats_over",
]  # fmt: skip

Bar = tuple[Decimal, Decimal, int]
"""(trade price, volume, trade count) of one step."""
BarSource = Callable[[int], Bar]
"""The bar of a step index."""
CostedBar = tuple[Decimal, Decimal, int, Decimal]
"""A bar and its notional (price x volume, exact)."""
CostedSource = Callable[[int], CostedBar]
"""The costed bar of a step index (see `costed`)."""

_EXACT: Final = Context(prec=80)
_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class BarStats:
    """Open, high, low, close, volume-weighted average price, volume and trade count."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    vwap: Decimal
    volume: Decimal
    count: int


def _finish(
    open_: Decimal,
    extremes: tuple[Decimal, Decimal],
    close: Decimal,
    sums: tuple[Decimal, Decimal, int],
) -> BarStats:
    volume, notional, count = sums
    vwap = notional / volume if volume else close
    high, low = extremes
    return BarStats(
        open=open_, high=high, low=low, close=close, vwap=vwap, volume=volume, count=count
    )


def stats_over(bar: BarSource, first: int, last: int) -> BarStats:
    """The aggregates of steps ``first`` to ``last`` (both included; ``first`` clamped to last)."""
    first = min(first, last)
    bars = [bar(i) for i in range(first, last + 1)]
    prices = [price for price, _, _ in bars]
    volume = notional = _ZERO
    for price, size, _ in bars:
        volume = _EXACT.add(volume, size)
        notional = _EXACT.add(notional, _EXACT.multiply(price, size))
    sums = (volume, notional, sum(c for _, _, c in bars))
    return _finish(prices[0], (max(prices), min(prices)), prices[-1], sums)


def costed(bar: BarSource) -> CostedSource:
    """``bar`` with each step's notional, each step computed once (Ticker's two windows
    read the same new steps)."""
    seen: dict[int, CostedBar] = {}
    multiply = _EXACT.multiply

    def source(index: int) -> CostedBar:
        found = seen.get(index)
        if found is None:
            price, size, trades = bar(index)
            found = seen[index] = (price, size, trades, multiply(price, size))
        return found

    return source


class RollingWindow:
    """The aggregates of a range of steps that mostly moves forward (see the module docstring).

    It keeps the bars it covers (at most a day of steps for Ticker's windows), so a bar that
    leaves the window is taken out without being computed again. ``folded`` counts the bars
    read so far: the work done, which a request moving the window by ``n`` steps grows by
    ``n``.
    """

    __slots__ = (
        "_bars", "_count", "_first", "_highs", "_last", "_lows", "_notional", "_volume", "folded",
    )  # fmt: skip

    def __init__(self) -> None:
        self.folded = 0
        self._first = 0
        self._last = -1
        self._volume = _ZERO
        self._notional = _ZERO
        self._count = 0
        self._bars: deque[tuple[Decimal, Decimal, int, Decimal]] = deque()
        self._highs: deque[tuple[int, Decimal]] = deque()
        self._lows: deque[tuple[int, Decimal]] = deque()

    def stats(self, bar: CostedSource, first: int, last: int) -> BarStats:
        """The aggregates of steps ``first`` to ``last``, as `stats_over` computes them."""
        first = min(first, last)
        if first < self._first or last < self._last or first > self._last:
            self._reset(first)
        if last > self._last:
            self._push(bar, self._last + 1, last)
        for _ in range(self._first, first):
            self._drop()
        self._first, self._last = first, last
        while self._highs[0][0] < first:
            self._highs.popleft()
        while self._lows[0][0] < first:
            self._lows.popleft()
        sums = (self._volume, self._notional, self._count)
        extremes = (self._highs[0][1], self._lows[0][1])
        return _finish(self._bars[0][0], extremes, self._bars[-1][0], sums)

    def _reset(self, first: int) -> None:
        self._first, self._last = first, first - 1
        self._volume = self._notional = _ZERO
        self._count = 0
        self._bars.clear()
        self._highs.clear()
        self._lows.clear()

    def _push(self, bar: CostedSource, first: int, last: int) -> None:
        """Fold steps ``first`` to ``last`` in (one tight loop: Ticker calls it per request)."""
        add = _EXACT.add
        keep, highs, lows = self._bars.append, self._highs, self._lows
        volume, notional, count = self._volume, self._notional, self._count
        for index in range(first, last + 1):
            step = bar(index)
            price, size, trades, cost = step
            keep(step)
            volume = add(volume, size)
            notional = add(notional, cost)
            count += trades
            while highs and highs[-1][1] <= price:
                highs.pop()
            highs.append((index, price))
            while lows and lows[-1][1] >= price:
                lows.pop()
            lows.append((index, price))
        self._volume, self._notional, self._count = volume, notional, count
        self.folded += last - first + 1

    def _drop(self) -> None:
        _, size, count, notional = self._bars.popleft()
        self._volume = _EXACT.subtract(self._volume, size)
        self._notional = _EXACT.subtract(self._notional, notional)
        self._count -= count
