"""Pure: price quotes from Kraken's Ticker, with the time they were read.

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
from datetime import datetime
from decimal import Decimal

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
