"""Market data: pair metadata (AssetPairs) and latest prices (Ticker)."""
