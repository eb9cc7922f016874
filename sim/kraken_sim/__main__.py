"""``python -m kraken_sim serve ...``: serve a fake Kraken exchange on loopback."""

from __future__ import annotations

import sys

from kraken_sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
