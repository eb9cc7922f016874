"""Print the order lifecycle's transition table as a Mermaid state diagram.

The diagram is generated from `kraken_bot.execution.core.lifecycle.TRANSITIONS`, so
the docs cannot drift from the code::

    python scripts/render_lifecycle.py > docs/lifecycle.mmd
"""

from __future__ import annotations

import sys

from kraken_bot.execution.core.lifecycle import mermaid


def main() -> int:
    """Write the diagram to standard output."""
    sys.stdout.write(mermaid() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
