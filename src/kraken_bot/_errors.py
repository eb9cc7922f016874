"""Pure: the root of Krakked's exception tree, low enough for every layer to derive from.

`ExecutionError` is re-exported (and the whole tree drawn) by
`kraken_bot.execution.exceptions`; it lives here so that the Kraken client and
the market-data layer, which the execution package imports, can derive from it
without an import cycle.
"""

from __future__ import annotations

__all__ = ["CredentialsError", "ExecutionError"]


class ExecutionError(Exception):
    """Base of every exception Krakked raises on purpose.

    ``except ExecutionError`` around a call into the library catches everything it
    foresees: refused configurations and plans, Kraken's own errors, database and
    credential problems. Anything else is a bug.
    """


class CredentialsError(ExecutionError):
    """The API key or secret is missing or unusable (before Kraken was asked)."""
