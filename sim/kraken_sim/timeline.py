"""Ids in the order they happened, each with its time: what ClosedOrders and TradesHistory page.

Kraken lists closed orders and trades newest first, from a ``start`` time. The exchange keeps
them in a `Timeline`, so such a request reads only the entries after ``start`` (found by
bisection) instead of every order the account ever closed. Entries arrive in time order (the
engine settles events in time order); should one ever arrive out of order, the timeline falls
back to reading every entry, which gives the same answer.

>>> line = Timeline()
>>> for txid, t in [("A", 1.0), ("B", 2.0), ("C", 2.0), ("D", 5.0)]:
...     line.append(txid, t)
>>> list(line.newest_first(after=2.0)), list(line.newest_first(after=None)), len(line)
(['D'], ['D', 'C', 'B', 'A'], 4)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

__all__ = ["Timeline"]


class Timeline:
    """Ids with their times, appended in time order (see the module docstring)."""

    __slots__ = ("_ids", "_in_order", "_times")

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._times: list[float] = []
        self._in_order = True

    def append(self, item: str, at: float) -> None:
        """Add ``item``, which happened at ``at``."""
        if self._times and at < self._times[-1]:
            self._in_order = False
        self._ids.append(item)
        self._times.append(at)

    def newest_first(self, *, after: float | None) -> Iterator[str]:
        """The ids newest first, those at or before ``after`` left out when they can be.

        Callers still check each entry's time: this only skips entries that cannot match.
        """
        stop = 0
        if after is not None and self._in_order:
            stop = bisect.bisect_right(self._times, after)
        for position in range(len(self._ids) - 1, stop - 1, -1):
            yield self._ids[position]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)
