"""Pure: price quotes from Kraken's Ticker and Depth, with the time they were read.

A `PriceQuote` carries best bid and ask and the moment it was read, so callers
can refuse stale prices. ``mid`` is the contract's "current mid".

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> quotes = parse_ticker({"XXBTZUSD": {"a": ["60010.0", "1", "1.000"],
...     "b": ["59990.0", "2", "2.000"], "c": ["60000.0", "0.1"]}}, read_at=t).unwrap()
>>> quotes["XXBTZUSD"].mid
Decimal('60000.0')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from kraken_bot.kraken.types import ResponseShapeError, parse_decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceQuote:
    """Best bid/ask (and last trade) for one pair, as read at ``at`` (UTC)."""

    pair: str
    bid: Decimal
    ask: Decimal
    last: Decimal | None
    at: datetime

    @property
    def mid(self) -> Decimal:
        """Midpoint of best bid and ask."""
        return (self.bid + self.ask) / 2

    def age_seconds(self, now: datetime) -> float:
        """Seconds since the quote was read (negative if ``now`` is earlier)."""
        return (now - self.at).total_seconds()


def _first(value: object) -> Decimal | None:
    if isinstance(value, list | tuple) and value:
        return parse_decimal(value[0])
    return None


def parse_ticker(
    result: object, *, read_at: datetime
) -> Result[dict[str, PriceQuote], ResponseShapeError]:
    """Parse Ticker's ``result`` (keyed by pair id) into quotes keyed the same way.

    Kraken sends the values as strings; some arrive as numbers: both are accepted.
    """
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("Ticker", "result is not an object"))
    quotes: dict[str, PriceQuote] = {}
    for key, obj in result.items():
        if not isinstance(obj, Mapping):
            return Failure(ResponseShapeError(f"Ticker[{key}]", "entry is not an object"))
        bid, ask = _first(obj.get("b")), _first(obj.get("a"))
        if bid is None or ask is None or bid <= 0 or ask <= 0 or bid > ask:
            return Failure(ResponseShapeError(f"Ticker[{key}]", "bid/ask missing or crossed"))
        quotes[str(key)] = PriceQuote(
            pair=str(key), bid=bid, ask=ask, last=_first(obj.get("c")), at=read_at
        )
    return Success(quotes)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookLevel:
    """One price level of Depth: price, volume, and when Kraken last changed it."""

    price: Decimal
    volume: Decimal
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBook:
    """Depth for one pair, best levels first, as read at ``at`` (UTC)."""

    pair: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    at: datetime

    def top(self) -> PriceQuote:
        """The best bid and ask as a quote read at ``at`` (its age is the book's age)."""
        return PriceQuote(
            pair=self.pair, bid=self.bids[0].price, ask=self.asks[0].price, last=None, at=self.at
        )


def _levels(what: str, rows: object) -> Result[tuple[BookLevel, ...], ResponseShapeError]:
    if not isinstance(rows, list | tuple) or not rows:
        return Failure(ResponseShapeError(what, "no levels"))
    levels: list[BookLevel] = []
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) < 3:
            return Failure(ResponseShapeError(what, "a level is not [price, volume, time]"))
        price, volume, stamp = parse_decimal(row[0]), parse_decimal(row[1]), parse_decimal(row[2])
        if price is None or volume is None or stamp is None or price <= 0 or volume < 0:
            return Failure(ResponseShapeError(what, f"bad level {row!r}"))
        try:
            updated = datetime.fromtimestamp(float(stamp), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return Failure(ResponseShapeError(what, f"bad level time {row[2]!r}"))
        levels.append(BookLevel(price=price, volume=volume, updated_at=updated))
    return Success(tuple(levels))


def parse_depth(result: object, *, read_at: datetime) -> Result[OrderBook, ResponseShapeError]:
    """Parse Depth's ``result`` (one pair: ``{pair: {"asks": [...], "bids": [...]}}``).

    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> book = parse_depth({"XXBTZUSD": {"asks": [["60010.0", "1.5", 1767225600]],
    ...     "bids": [["59990.0", "2.0", 1767225600]]}}, read_at=t).unwrap()
    >>> book.top().mid, book.bids[0].updated_at == t
    (Decimal('60000.0'), True)
    """
    if not isinstance(result, Mapping) or len(result) != 1:
        return Failure(ResponseShapeError("Depth", "result is not one pair's book"))
    ((key, sides),) = result.items()
    if not isinstance(sides, Mapping):
        return Failure(ResponseShapeError(f"Depth[{key}]", "entry is not an object"))
    bids = _levels(f"Depth[{key}].bids", sides.get("bids"))
    asks = _levels(f"Depth[{key}].asks", sides.get("asks"))
    if not is_successful(bids):
        return Failure(bids.failure())
    if not is_successful(asks):
        return Failure(asks.failure())
    book = OrderBook(pair=str(key), bids=bids.unwrap(), asks=asks.unwrap(), at=read_at)
    if book.bids[0].price >= book.asks[0].price:
        return Failure(ResponseShapeError(f"Depth[{key}]", "the best bid is not below the ask"))
    return Success(book)
