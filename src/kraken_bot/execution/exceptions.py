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
    +-- AmendRefusedError              an amend that cannot be sent: the order is not live on
    |      (also ValueError)           Kraken as a limit order, or the new price or size is
    |                                  not valid for it (``amend_order``); nothing was sent
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
    |      (also RuntimeError)         names another unit (``from_config``, any private call)
    +-- CliError                       the command line's own findings (a bad plan file, a
                                       missing extra), with the exit code it ends with
                                       (`kraken_bot.cli.errors`)

>>> issubclass(LiveTradingRefusedError, ConfigValidationError)
True
>>> issubclass(KrakenAPIError, ExecutionError), issubclass(PlanValidationError, ValueError)
(True, True)
"""

from __future__ import annotations

from kraken_bot._errors import (
    AccountInUseError,
    AmendRefusedError,
    CancelFailedError,
    ClockOffsetError,
    ConfigValidationError,
    CredentialsError,
    ExecutionError,
    LiveTradingRefusedError,
    MissingCredentialsError,
    NotInitializedError,
    PlanValidationError,
    RunRefusedError,
    StoreError,
    TxidTakenError,
    UnknownOrderError,
)
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

__all__ = [
    "AccountInUseError",
    "AmendRefusedError",
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
