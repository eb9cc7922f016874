"""Write the synthetic OHLCVT sample ``fixtures/prices/XBTUSD_60.csv`` (how it was made).

Kraken's downloadable OHLCVT files have no header and seven columns: the bar's opening unix
time, open, high, low, close, volume, trade count. This sample has the same shape: 48 hourly
XBT/USD bars from 2024-03-01 00:00 UTC, drawn from a seeded walk (prices on the pair's 0.1
tick grid, volumes with 8 decimals), and one hour left out as Kraken leaves out bars without
trades. It is synthetic: no real market data is shipped. Run it again to get the same file::

    python scripts/make_price_sample.py > fixtures/prices/XBTUSD_60.csv
"""

from __future__ import annotations

import math
import random
import sys
from decimal import Decimal

START = 1_709_251_200  # 2024-03-01T00:00:00Z
HOURS = 49
MISSING = 30  # an hour without trades: no row
TICK = Decimal("0.1")


def on_tick(value: float) -> Decimal:
    """``value`` on the pair's price grid."""
    return ((Decimal(value) / TICK).to_integral_value() * TICK).quantize(TICK)


def main() -> int:
    """Print the sample to standard output."""
    rng = random.Random("krakked-price-sample")
    price = 62_000.0
    for hour in range(HOURS):
        inside = [price]
        for _ in range(12):
            inside.append(inside[-1] * math.exp(rng.gauss(0.0, 0.0015)))
        price = inside[-1]
        if hour == MISSING:
            continue
        open_, close = on_tick(inside[0]), on_tick(inside[-1])
        high, low = on_tick(max(inside)), on_tick(min(inside))
        volume = Decimal(rng.uniform(20.0, 90.0)).quantize(Decimal("1e-8"))
        trades = rng.randint(800, 4000)
        row = (START + hour * 3600, open_, high, low, close, volume, trades)
        sys.stdout.write(",".join(str(cell) for cell in row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
