"""Pure: the exceptions of the execution layer, and the whole tree under one root.

Errors the core can foresee travel as `returns.result.Result` values; these
exceptions are for the edges, where a caller cannot carry on. Every one of them
is importable from `kraken_bot.execution`, and ``except ExecutionError`` catches
them all::

    ExecutionError                     root of everything Krakked raises on purpose
    +-- ConfigValidationError          a configuration was refused; ``problems`` lists every
    |   |  (also ValueError)           problem with its key path. ``ExecutionConfig(...)``
    |   |                              (and ``dataclasses.replace`` of one) raises it
    |   +-- ConfigFileError            `load_config`: the file is missing, unreadable, not
    |   |                              YAML, or invalid; a bad credentials file
    |   +-- LiveTradingRefusedError    live mode without all three opt-ins, wherever it is
    |       |                          asked for: ``ExecutionConfig(mode="live")``,
    |       |                          `load_config`, ``ExecutionService.initialize()``
    |       +-- LiveOrderRefusedError  the adapter was handed an order without ``validate``
    |       |                          under a configuration that does not send live orders
    |       +-- AccountInUseError      another process owns live trading on the API key
    |       |                          (``initialize()``; names its pid)
    |       +-- ClockOffsetError       the offset to Kraken's clock is unknown or above
    |                                  ``max_clock_offset_seconds`` (``initialize()``)
    +-- PlanValidationError            a malformed plan: ``ExecutionPlan(...)`` and
    |      (also ValueError)           ``RiskAdjustedAction(...)`` raise it at construction
    |                                  (``execute_plan`` checks again); nothing was sent
    +-- CredentialsError               the API key or secret, before Kraken was asked
    |   +-- MissingCredentialsError    paper or live mode without a key and secret
    |   |                              (``initialize()``)
    |   +-- SigningKeyError            the secret is not base64 (building the client:
    |          (also ValueError)       ``ExecutionService.from_config``)
    +-- StoreError                     the execution records cannot be read or written
    |   |                              (not a database, read-only, locked, missing
    |   |                              directory, newer schema, a secret in raw_request)
    |   +-- TxidTakenError             a write would give one Kraken txid to two local
    |                                  orders (the ledger refuses it; nothing is written)
    +-- UnknownOrderError              no order with that local id, txid or client order id
    |      (also LookupError)          (``get_order``, ``cancel_order``)
    +-- UnknownPairError               a pair name Kraken does not list (`MarketDataAPI`)
    |      (also LookupError)
    +-- CancelFailedError              Kraken could not be asked to cancel, after retries
    |                                  (``cancel_order``, ``cancel_all``); the order is
    |                                  flagged for reconciling
    +-- NotInitializedError            the service was used after ``close()``
    +-- RunRefusedError                `krakked run` cannot start: another one runs on
    |                                  the API key (names its pid), or the plan inbox
    |                                  is not a usable directory
    +-- KrakenAPIError                 a Kraken call failed (`kraken_bot.kraken.errors`
    |   |                              classifies Kraken's error strings); any method
    |   |                              that talks to Kraken may raise it
    |   +-- AuthError                  bad key, signature or permission; lockout
    |   +-- NonceError                 Kraken refused the nonce
    |   +-- RateLimitError             a Kraken rate limit was hit
    |   +-- OrderRejectedError         Kraken refused the order itself
    |   +-- ServiceUnavailableError    Kraken unavailable, busy, or failing internally
    |   |   +-- NetworkError           the HTTP exchange failed (refused, reset, timeout)
    |   |   +-- UnexpectedResponseError the reply had an unknown shape
    |   +-- DeadManSwitchError         the dead-man switch could not be armed when a live
    |                                  service started (``initialize()``)
    +-- NonceStateError                the key's nonce file cannot be read or written, or
           (also RuntimeError)         names another unit (``from_config``, any private call)

>>> issubclass(LiveTradingRefusedError, ConfigValidationError)
True
>>> issubclass(KrakenAPIError, ExecutionError), issubclass(PlanValidationError, ValueError)
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kraken_bot._errors import CredentialsError, ExecutionError
from kraken_bot.kraken.errors import (
    AuthError,
    KrakenAPIError,
    NetworkError,
    NonceError,
    OrderRejectedError,
    RateLimitError,
    ServiceUnavailableError,
    UnexpectedResponseError,
)

if TYPE_CHECKING:
    from kraken_bot.config import ConfigProblem
    from kraken_bot.strategy.plan import PlanProblem

__all__ = [
    "AccountInUseError",
    "AuthError",
    "CancelFailedError",
    "ClockOffsetError",
    "ConfigValidationError",
    "CredentialsError",
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
    "RunRefusedError",
    "ServiceUnavailableError",
    "StoreError",
    "TxidTakenError",
    "UnexpectedResponseError",
    "UnknownOrderError",
]


class ConfigValidationError(ExecutionError, ValueError):
    """A configuration was refused; the message names every problem.

    Raised by ``ExecutionConfig(...)`` (and ``dataclasses.replace`` of one) when a
    value is out of range, of the wrong type or unsafe in combination; `load_config`
    raises its subclass `ConfigFileError` for the same problems found in a file.

    Attributes:
        problems: every problem, each with its key path (``execution.max_retries``).
        source: what was read (a file path, ``ExecutionConfig``), when known.
    """

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[ConfigProblem] = (),
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        self.source = source


class LiveTradingRefusedError(ConfigValidationError):
    """Live mode was asked for without all three opt-ins; nothing was started or sent.

    The same error whether the refusal comes from code (``ExecutionConfig(mode="live")``),
    from a file (`load_config`) or from ``ExecutionService.initialize()``.
    """


class AccountInUseError(LiveTradingRefusedError):
    """Another process holds the account's live-trading lease; nothing was started or sent.

    Raised by ``ExecutionService.initialize()`` of a live (non-observer) service.

    Attributes:
        holder: who holds it (``pid N since T``).
    """

    def __init__(self, message: str, *, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class ClockOffsetError(LiveTradingRefusedError):
    """Live trading refused: the offset to Kraken's clock could not be measured (Kraken's
    ``Time`` did not answer) or is above ``execution.max_clock_offset_seconds``.

    Raised by ``ExecutionService.initialize()`` of a live (non-observer) service.
    """


class MissingCredentialsError(CredentialsError):
    """Paper and live modes need an API key and secret (KRAKEN_API_KEY / KRAKEN_API_SECRET).

    Raised by ``ExecutionService.initialize()`` (and the CLI) before anything is sent.
    """


class PlanValidationError(ExecutionError, ValueError):
    """The plan is malformed; the message lists every problem. Nothing was sent.

    Raised by ``ExecutionPlan(...)`` and ``RiskAdjustedAction(...)`` at construction,
    and by ``ExecutionService.execute_plan`` for a plan that fails the same checks.

    Attributes:
        problems: every problem, each with its path (``actions[2].target_base_size``).
        plan_id: the plan's id, when it has a usable one.
    """

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[PlanProblem] = (),
        plan_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.problems: tuple[PlanProblem, ...] = tuple(problems)
        self.plan_id = plan_id


class StoreError(ExecutionError):
    """The execution store cannot do what was asked; the message names the database.

    Raised by ``ExecutionService.initialize()`` (opening the database) and by any
    method that records a change.

    Attributes:
        path: the database file, when the store has one.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class TxidTakenError(StoreError):
    """A write would link a Kraken txid that another local order owns (one exchange order,
    one local order); nothing was written. The ledger turns it into a refused event."""


class UnknownOrderError(ExecutionError, LookupError):
    """No local order has that local id, Kraken txid or client order id.

    Raised by ``ExecutionService.get_order`` and ``cancel_order``.
    """


class CancelFailedError(ExecutionError):
    """Kraken could not be asked to cancel (after retries); the order is flagged for reconciling.

    Raised by ``ExecutionService.cancel_order`` and ``cancel_all``.
    """


class NotInitializedError(ExecutionError):
    """The service was used after `close()`; create a new one."""


class RunRefusedError(ExecutionError):
    """`krakked run` cannot start: another one runs on this account, or the inbox is unusable."""
