"""Market data for the execution layer: pair metadata and latest prices (shell).

`MarketDataAPI` reads Kraken through the REST client: pair metadata from
AssetPairs (cached, refreshed after a TTL measured on the injected clock),
prices from Ticker (one call for any number of pairs) and the top of the book from
Depth (one call a pair; ``maker_first`` routing rests at it). Quotes are keyed by the
pair's canonical altname (``XBTUSD``) and stamped with the time they were read,
so callers can refuse stale prices.

`MarketData` is the port the execution layer depends on; `StaticMarketData`
is its in-memory fake for dry runs and tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from returns.pipeline import is_successful

from kraken_bot._errors import ExecutionError
from kraken_bot.clock import Clock
from kraken_bot.kraken.errors import UnexpectedResponseError
from kraken_bot.kraken.pairs import PairMetadata, PairUniverse
from kraken_bot.kraken.prices import OrderBook, PriceQuote


class UnknownPairError(ExecutionError, LookupError):
    """No pair of that name is listed in Kraken's AssetPairs (`MarketDataAPI` lookups)."""

    def __init__(self, pair: str, detail: str) -> None:
        super().__init__(f"unknown pair {pair!r}: {detail}")
        self.pair = pair


class MarketData(Protocol):
    """What the execution layer reads about markets."""

    def universe(self) -> PairUniverse:
        """Every tradable pair and its rules."""
        ...

    def get_latest_prices(self, pairs: Iterable[str]) -> dict[str, PriceQuote]:
        """Latest quotes keyed by canonical altname."""
        ...

    def get_books(self, pairs: Iterable[str]) -> dict[str, PriceQuote]:
        """The top of each pair's order book (best bid and ask, stamped with the time they
        were read), keyed by canonical altname: what ``maker_first`` rests at."""
        ...


class MarketSource(Protocol):
    """The two Kraken calls `MarketDataAPI` needs (`KrakenRESTClient` provides them)."""

    def asset_pairs(self, pairs: Sequence[str] | None = None) -> PairUniverse:
        """Kraken's AssetPairs."""
        ...

    def ticker(self, pairs: Sequence[str]) -> dict[str, PriceQuote]:
        """Kraken's Ticker, keyed by pair id."""
        ...

    def depth(self, pair: str, count: int = 10) -> OrderBook:
        """Kraken's Depth for one pair."""
        ...


def _resolve(universe: PairUniverse, pair: str) -> PairMetadata:
    resolved = universe.resolve(pair)
    if not is_successful(resolved):
        raise UnknownPairError(
            pair,
            f"not among the {len(universe.pairs)} pairs of Kraken's AssetPairs"
            " (Kraken names look like XBTUSD, XXBTZUSD or XBT/USD)",
        )
    return resolved.unwrap()


class MarketDataAPI:
    """Pair metadata and latest prices from Kraken.

    Args:
        client: the REST client (or anything with ``asset_pairs`` and ``ticker``).
        clock: time source for the cache TTL and for quote times.
        metadata_ttl_seconds: how long AssetPairs is trusted before it is read again.
        quote_ttl_seconds: how long a quote is served again without a Ticker call (0: every
            call reads Ticker). Quotes keep the time they were read, so age checks see
            their real age.
    """

    def __init__(
        self,
        client: MarketSource,
        *,
        clock: Clock,
        metadata_ttl_seconds: float = 3600.0,
        quote_ttl_seconds: float = 0.0,
    ) -> None:
        if metadata_ttl_seconds <= 0:
            raise ValueError("metadata_ttl_seconds must be positive")
        if quote_ttl_seconds < 0:
            raise ValueError("quote_ttl_seconds must not be negative")
        self._quote_ttl = quote_ttl_seconds
        self._quotes: dict[str, tuple[PriceQuote, float]] = {}
        self._client = client
        self._clock = clock
        self._ttl = metadata_ttl_seconds
        self._lock = threading.Lock()
        self._universe: PairUniverse | None = None
        self._fetched_at = 0.0

    def universe(self) -> PairUniverse:
        """Every pair from AssetPairs, read again once the TTL has passed."""
        with self._lock:
            now = self._clock.monotonic()
            if self._universe is None or now - self._fetched_at >= self._ttl:
                self._universe = self._client.asset_pairs()
                self._fetched_at = now
            return self._universe

    def refresh(self) -> PairUniverse:
        """Read AssetPairs now, whatever the TTL says."""
        with self._lock:
            self._universe = self._client.asset_pairs()
            self._fetched_at = self._clock.monotonic()
            return self._universe

    def get_pair_metadata(self, pair: str) -> PairMetadata:
        """A pair's rules by any of Kraken's names (``XBTUSD``, ``XXBTZUSD``, ``XBT/USD``).

        Raises:
            UnknownPairError: no such pair on Kraken.
        """
        return _resolve(self.universe(), pair)

    def get_latest_price(self, pair: str) -> PriceQuote:
        """The latest quote for one pair (mid = ``quote.mid``), stamped with the read time."""
        return next(iter(self.get_latest_prices([pair]).values()))

    def get_latest_prices(self, pairs: Iterable[str]) -> dict[str, PriceQuote]:
        """Latest quotes for many pairs in one Ticker call, keyed by canonical altname.

        Raises:
            UnknownPairError: a name is not a Kraken pair.
            UnexpectedResponseError: Kraken's reply lacks a requested pair.
        """
        universe = self.universe()
        wanted = {meta.altname: meta for meta in (_resolve(universe, p) for p in pairs)}
        if not wanted:
            return {}
        cached = self._cached(wanted)
        if cached is not None:
            return cached
        raw = self._client.ticker([meta.rest_symbol for meta in wanted.values()])
        read_at = self._clock.now()
        quotes: dict[str, PriceQuote] = {}
        for key, quote in raw.items():
            resolved = universe.resolve(key)
            if is_successful(resolved) and resolved.unwrap().altname in wanted:
                altname = resolved.unwrap().altname
                quotes[altname] = replace(quote, pair=altname, at=read_at)
        missing = sorted(set(wanted) - set(quotes))
        if missing:
            raise UnexpectedResponseError(
                f"Ticker reply has no quote for {', '.join(missing)}", endpoint="Ticker"
            )
        if self._quote_ttl:
            read = self._clock.monotonic()
            with self._lock:
                self._quotes.update({name: (quote, read) for name, quote in quotes.items()})
        return quotes

    def get_books(self, pairs: Iterable[str]) -> dict[str, PriceQuote]:
        """The top of each pair's book from Depth (one call a pair, one level a side), keyed
        by canonical altname and stamped with the time it was read (never cached: a resting
        order moves with it).

        Raises:
            UnknownPairError: a name is not a Kraken pair.
            UnexpectedResponseError: a side of a book is empty.
        """
        universe = self.universe()
        wanted = {meta.altname: meta for meta in (_resolve(universe, p) for p in pairs)}
        books: dict[str, PriceQuote] = {}
        for altname, meta in sorted(wanted.items()):
            book = self._client.depth(meta.rest_symbol, count=1)
            if not book.bids or not book.asks:
                raise UnexpectedResponseError(
                    f"Depth reply for {altname} has an empty side", endpoint="Depth"
                )
            books[altname] = replace(book.top(), pair=altname, at=self._clock.now())
        return books

    def _cached(self, wanted: Mapping[str, PairMetadata]) -> dict[str, PriceQuote] | None:
        """Every wanted quote, when each was read within the quote TTL; else None."""
        if not self._quote_ttl:
            return None
        now = self._clock.monotonic()
        with self._lock:
            found = {name: self._quotes.get(name) for name in wanted}
        if any(v is None or now - v[1] > self._quote_ttl for v in found.values()):
            return None
        return {name: v[0] for name, v in found.items() if v is not None}


class StaticMarketData:
    """A fixed universe and fixed quotes: the `MarketData` fake for dry runs and tests.

    >>> from kraken_bot.kraken.pairs import PAIR_EXAMPLE
    >>> from datetime import UTC, datetime
    >>> from decimal import Decimal
    >>> quote = PriceQuote(pair="XBTUSD", bid=Decimal(99), ask=Decimal(101), last=None,
    ...     at=datetime(2026, 1, 1, tzinfo=UTC))
    >>> data = StaticMarketData(PairUniverse.of([PAIR_EXAMPLE]), {"XBT/USD": quote})
    >>> data.get_latest_price("XXBTZUSD").mid
    Decimal('100')
    """

    def __init__(self, universe: PairUniverse, quotes: Mapping[str, PriceQuote]) -> None:
        self._universe = universe
        self._quotes = {
            _resolve(universe, name).altname: replace(quote, pair=_resolve(universe, name).altname)
            for name, quote in quotes.items()
        }

    def universe(self) -> PairUniverse:
        """The fixed universe."""
        return self._universe

    def get_pair_metadata(self, pair: str) -> PairMetadata:
        """A pair's rules by any of its names."""
        return _resolve(self._universe, pair)

    def get_latest_price(self, pair: str) -> PriceQuote:
        """The fixed quote of one pair."""
        return next(iter(self.get_latest_prices([pair]).values()))

    def get_books(self, pairs: Iterable[str]) -> dict[str, PriceQuote]:
        """The fixed quotes again: their bid and ask are the top of the book."""
        return self.get_latest_prices(pairs)

    def get_latest_prices(self, pairs: Iterable[str]) -> dict[str, PriceQuote]:
        """The fixed quotes, keyed by canonical altname.

        Raises:
            UnknownPairError: a name is not in the universe or has no quote.
        """
        result: dict[str, PriceQuote] = {}
        for pair in pairs:
            altname = _resolve(self._universe, pair).altname
            if altname not in self._quotes:
                raise UnknownPairError(pair, "the static market data holds no quote for it")
            result[altname] = self._quotes[altname]
        return result
