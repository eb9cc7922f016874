"""Market data: pair metadata (AssetPairs) and latest prices (Ticker).

The pure values and parsers (`pairs`, `prices`) import eagerly; the shell
(`MarketDataAPI` and friends in `kraken_bot.market.api`) loads on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kraken_bot.kraken.pairs import PairMetadata, PairUniverse, parse_asset_pairs
from kraken_bot.kraken.prices import PriceQuote, parse_ticker

if TYPE_CHECKING:
    from kraken_bot.market.api import (
        MarketData,
        MarketDataAPI,
        StaticMarketData,
        UnknownPairError,
    )

_LAZY = frozenset({"MarketData", "MarketDataAPI", "StaticMarketData", "UnknownPairError"})

__all__ = [
    "MarketData",
    "MarketDataAPI",
    "PairMetadata",
    "PairUniverse",
    "PriceQuote",
    "StaticMarketData",
    "UnknownPairError",
    "parse_asset_pairs",
    "parse_ticker",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("kraken_bot.market.api"), name)
