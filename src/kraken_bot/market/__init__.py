"""Market data: pair metadata (AssetPairs) and latest prices (Ticker).

The pure values and parsers (`pairs`, `prices`) import eagerly; the shell
(`MarketDataAPI` and friends in `kraken_bot.market.api`) loads on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kraken_bot._lazy import lazy_exports
from kraken_bot.kraken.pairs import PairMetadata, PairUniverse, parse_asset_pairs
from kraken_bot.kraken.prices import PriceQuote, parse_ticker

if TYPE_CHECKING:
    from kraken_bot.market.api import (
        MarketData,
        MarketDataAPI,
        StaticMarketData,
        UnknownPairError,
    )

_EXPORTS = dict.fromkeys(
    ("MarketData", "MarketDataAPI", "StaticMarketData", "UnknownPairError"), "kraken_bot.market.api"
)

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

if not TYPE_CHECKING:  # the checker sees the names imported above, and no others
    __getattr__ = lazy_exports(globals(), _EXPORTS)
