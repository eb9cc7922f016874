"""Exceptions of the execution layer.

Errors the core can foresee travel as `returns.result.Result` values; these
exceptions are for the shell's edges, where a caller cannot carry on::

    ExecutionError          base of every execution-layer exception
    +-- StoreError          the execution records cannot be read or written
    |   |                   (not a database, read-only, locked, missing directory,
    |   |                   newer schema, a secret in raw_request)
    |   +-- TxidTakenError  a write would give one Kraken txid to two local orders
    +-- LiveTradingRefusedError   live mode without all three opt-ins, or with a
    |   |                         clock too far from Kraken's (or not measurable)
    |   +-- AccountInUseError     another process owns live trading on the API key
    |   +-- ClockOffsetError      the offset to Kraken's clock is unknown or too large
    +-- MissingCredentialsError   paper/live mode without an API key and secret
    +-- PlanValidationError       a malformed plan (every problem listed)
    +-- UnknownOrderError         no such order (also a LookupError)
    +-- CancelFailedError         Kraken could not be asked to cancel
    +-- NotInitializedError       used after close()

Kraken's own errors (`kraken_bot.kraken.errors`: KrakenAPIError, RateLimitError,
AuthError, ServiceUnavailableError, OrderRejectedError, ...) are re-exported
here for callers who import everything from the execution package.
"""

from __future__ import annotations

from kraken_bot.kraken.errors import (
    AuthError,
    KrakenAPIError,
    NetworkError,
    NonceError,
    OrderRejectedError,
    RateLimitError,
    ServiceUnavailableError,
)

__all__ = [
    "AccountInUseError",
    "AuthError",
    "CancelFailedError",
    "ClockOffsetError",
    "ExecutionError",
    "KrakenAPIError",
    "LiveTradingRefusedError",
    "MissingCredentialsError",
    "NetworkError",
    "NonceError",
    "NotInitializedError",
    "OrderRejectedError",
    "PlanValidationError",
    "RateLimitError",
    "ServiceUnavailableError",
    "StoreError",
    "TxidTakenError",
    "UnknownOrderError",
]


class ExecutionError(Exception):
    """Base of every exception the execution layer raises."""


class StoreError(ExecutionError):
    """The execution store cannot do what was asked; the message names the database.

    Attributes:
        path: the database file, when the store has one.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class TxidTakenError(StoreError):
    """A write would link a Kraken txid that another local order owns (one exchange order,
    one local order); nothing was written."""


class LiveTradingRefusedError(ExecutionError):
    """Live mode was asked for without all three opt-ins; nothing was started or sent."""


class AccountInUseError(LiveTradingRefusedError):
    """Another process holds the account's live-trading lease; nothing was started or sent.

    Attributes:
        holder: who holds it (``pid N since T``).
    """

    def __init__(self, message: str, *, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class ClockOffsetError(LiveTradingRefusedError):
    """Live trading refused: the offset to Kraken's clock could not be measured (Kraken's
    ``Time`` did not answer) or is above ``execution.max_clock_offset_seconds``."""


class MissingCredentialsError(ExecutionError):
    """Paper and live modes need an API key and secret (KRAKEN_API_KEY / KRAKEN_API_SECRET)."""


class PlanValidationError(ExecutionError):
    """The plan is malformed; the message lists every problem. Nothing was sent."""


class UnknownOrderError(ExecutionError, LookupError):
    """No local order has that local id, Kraken txid or client order id."""


class CancelFailedError(ExecutionError):
    """Kraken could not be asked to cancel (after retries); the order is flagged for reconciling."""


class NotInitializedError(ExecutionError):
    """The service was used after `close()`."""
