"""Fakes for market data tests: a virtual clock and a Kraken source that counts its calls."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tests.builders import asset_pairs_sample

from kraken_bot.kraken.pairs import PairUniverse, parse_asset_pairs
from kraken_bot.kraken.prices import PriceQuote

ASSET_PAIRS = asset_pairs_sample()


# This file has no doctests. Collecting it as a doctest module would import it as a
# second top-level "conftest" next to the other test directories' conftest files
# (no __init__.py here), which fails when several test directories are passed at once.
collect_ignore = ["conftest.py"]


class MarketClock:
    """Virtual time for market data tests."""

    def __init__(self) -> None:
        self._wall = datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._mono += seconds
            self._wall += timedelta(seconds=seconds)


class FakeKrakenMarket:
    """Answers AssetPairs and Ticker like Kraken (keyed by pair id) and counts the calls."""

    def __init__(self, clock: MarketClock) -> None:
        self.clock = clock
        self.pairs = dict(ASSET_PAIRS)
        self.books = {
            "XXBTZUSD": ("59990.0", "60010.0"),
            "XETHZUSD": ("2999.5", "3000.5"),
            "SOLUSD": ("99.9", "100.1"),
        }
        self.asset_pair_calls = 0
        self.ticker_calls: list[list[str]] = []

    def asset_pairs(self, pairs: Sequence[str] | None = None) -> PairUniverse:
        self.asset_pair_calls += 1
        return parse_asset_pairs(self.pairs).unwrap()

    def ticker(self, pairs: Sequence[str]) -> dict[str, PriceQuote]:
        self.ticker_calls.append(list(pairs))
        quotes = {}
        for key in pairs:
            if key in self.books:
                bid, ask = self.books[key]
                quotes[key] = PriceQuote(
                    pair=key, bid=Decimal(bid), ask=Decimal(ask), last=None, at=self.clock.now()
                )
        self.clock.advance(0.25)  # the reply takes a while
        return quotes


@pytest.fixture
def market_clock() -> MarketClock:
    return MarketClock()


@pytest.fixture
def fake_market(market_clock: MarketClock) -> FakeKrakenMarket:
    return FakeKrakenMarket(market_clock)
