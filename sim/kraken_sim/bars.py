"""Aggregates over a range of a price path's steps: Ticker's windows and OHLC buckets.

A step's *bar* is (trade price on the tick grid, market volume, trade count). `stats_over`
folds the bars of a range once; `RollingWindow` keeps the aggregates of a range that moves
forward (Ticker's "today" and "last 24 hours"), so a request costs what the window moved
since the last one, not the window's length: running totals for volume, notional and count
(`StepSums`, which the two windows of a path share, so a step is added once), and monotonic
deques for high and low. A range that moves backwards, or jumps past the old one, is
folded again from scratch, so any sequence of requests gets the same answer as `stats_over`.

Totals use an exact context (more digits than any path reaches), so the difference of two
totals leaves no rounding behind: the rolling answer is the from-scratch answer, to the digit.

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
    "Bar", "BarSource", "BarStats", "CostedBar", "CostedSource", "RollingWindow", "StepSums",
    "costed", "stats_over",
]  # fmt: skip

Bar = tuple[Decimal, Decimal, int]
"""(trade price, volume, trade count) of one step."""
BarSource = Callable[[int], Bar]
"""The bar of a step index."""
CostedBar = tuple[Decimal, Decimal, int, Decimal]
"""A bar and its notional (price x volume, exact)."""
CostedSource = Callable[[int], CostedBar]
"""The costed bar of a step index (see `costed`)."""

_Totals = tuple[Decimal, Decimal, int, Decimal]
"""(volume, notional, trade count) through a step, and the step's price."""

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
    """``bar`` with each step's notional (price x volume, exact). `StepSums` reads each step
    once, so nothing is kept here."""
    multiply = _EXACT.multiply

    def source(index: int) -> CostedBar:
        price, size, trades = bar(index)
        return price, size, trades, multiply(price, size)

    return source


class StepSums:
    """Running totals (volume, notional, trade count) from a base step on, and each step's
    price.

    Windows that end at the same step share one: each step's bar is read once, and the sums
    of any range inside what is kept are a difference of two totals (exact, see the module
    docstring). ``forget_before`` drops what no window needs any more; a range that starts
    before what is kept, or after a gap, starts the totals again from its first step.
    """

    __slots__ = ("_base", "_before", "_kept", "folded")

    def __init__(self) -> None:
        self.folded = 0
        self._base = 0
        self._before: _Totals = (_ZERO, _ZERO, 0, _ZERO)
        self._kept: deque[_Totals] = deque()

    def between(self, bar: CostedSource, first: int, last: int) -> tuple[Decimal, Decimal, int]:
        """(volume, notional, trade count) of steps ``first`` to ``last`` (first <= last)."""
        end = self._base + len(self._kept) - 1
        if first < self._base or first > end + 1:
            self._base, self._before, end = first, (_ZERO, _ZERO, 0, _ZERO), first - 1
            self._kept.clear()
        if last > end:
            self._extend(bar, end + 1, last)
        upto = self._kept[last - self._base]
        before = self._before if first == self._base else self._kept[first - 1 - self._base]
        subtract = _EXACT.subtract
        return subtract(upto[0], before[0]), subtract(upto[1], before[1]), upto[2] - before[2]

    def prices(self, first: int, last: int) -> list[Decimal]:
        """The trade prices of steps ``first`` to ``last``, once `between` has covered them."""
        kept, base = self._kept, self._base
        return [kept[index - base][3] for index in range(first, last + 1)]

    def forget_before(self, first: int) -> None:
        """Keep only what ranges starting at ``first`` or later need."""
        kept = self._kept
        while self._base < first and kept:
            self._before = kept.popleft()
            self._base += 1

    def _extend(self, bar: CostedSource, first: int, last: int) -> None:
        add = _EXACT.add
        keep = self._kept.append
        volume, notional, count, _ = self._kept[-1] if self._kept else self._before
        for index in range(first, last + 1):
            price, size, trades, cost = bar(index)
            volume = add(volume, size)
            notional = add(notional, cost)
            count += trades
            keep((volume, notional, count, price))
        self.folded += last - first + 1


class RollingWindow:
    """The aggregates of a range of steps that mostly moves forward (see the module docstring).

    Sums and prices come from a `StepSums` (shared by the windows of one path, or its own);
    high and low from monotonic deques of the prices in the window. ``folded`` counts the
    steps pushed into the deques so far: the work done, which a request moving the window by
    ``n`` steps grows by ``n``.
    """

    __slots__ = ("_first", "_highs", "_last", "_lows", "_sums", "folded")

    def __init__(self, sums: StepSums | None = None) -> None:
        self.folded = 0
        self._sums = sums if sums is not None else StepSums()
        self._first = 0
        self._last = -1
        self._highs: deque[tuple[int, Decimal]] = deque()
        self._lows: deque[tuple[int, Decimal]] = deque()

    def stats(self, bar: CostedSource, first: int, last: int) -> BarStats:
        """The aggregates of steps ``first`` to ``last``, as `stats_over` computes them."""
        first = min(first, last)
        sums = self._sums.between(bar, first, last)
        if first < self._first or last < self._last or first > self._last:
            self._first, self._last = first, first - 1
            self._highs.clear()
            self._lows.clear()
        if last > self._last:
            self._push(self._last + 1, last)
        self._first, self._last = first, last
        highs, lows = self._highs, self._lows
        while highs[0][0] < first:
            highs.popleft()
        while lows[0][0] < first:
            lows.popleft()
        ends = self._sums.prices(first, first) + self._sums.prices(last, last)
        return _finish(ends[0], (highs[0][1], lows[0][1]), ends[1], sums)

    def inner(self, bar: CostedSource, first: int) -> BarStats | None:
        """The aggregates of steps ``first`` to the window's last step, for a ``first``
        inside the window as the last `stats` left it (None when it is not), read off the
        window without moving it.

        The high deque holds, in step order, the maximum of every suffix of the window:
        an entry is the highest price from just after the entry before it to the end. So
        the maximum from ``first`` on is the first entry at or after ``first`` (and the
        low likewise), and Ticker's "today", which ends where "last 24 hours" ends and
        starts inside it, costs no deque of its own.
        """
        last = self._last
        if not self._first <= first <= last:
            return None
        high = next(price for index, price in self._highs if index >= first)
        low = next(price for index, price in self._lows if index >= first)
        sums = self._sums.between(bar, first, last)
        ends = self._sums.prices(first, first) + self._sums.prices(last, last)
        return _finish(ends[0], (high, low), ends[1], sums)

    def _push(self, first: int, last: int) -> None:
        """Steps ``first`` to ``last`` into the deques (one tight loop: Ticker calls it per
        request)."""
        highs, lows = self._highs, self._lows
        for index, price in enumerate(self._sums.prices(first, last), first):
            while highs and highs[-1][1] <= price:
                highs.pop()
            highs.append((index, price))
            while lows and lows[-1][1] >= price:
                lows.pop()
            lows.append((index, price))
        self.folded += last - first + 1
