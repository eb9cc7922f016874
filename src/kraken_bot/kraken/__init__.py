"""Kraken connection layer: REST client, signing, nonces, rate limits, typed errors.

Importing this package is cheap and pulls in no I/O: pure modules such as
`kraken_bot.kraken.types` live here too. The shell classes (`KrakenRESTClient`,
`RateLimiter`, `NonceSource`) are exported lazily, on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kraken_bot._lazy import lazy_exports

if TYPE_CHECKING:
    from kraken_bot.kraken.client import KrakenRESTClient
    from kraken_bot.kraken.errors import (
        AuthError,
        ErrorClass,
        KrakenAPIError,
        NetworkError,
        NonceError,
        OrderRejectedError,
        RateLimitError,
        ServiceUnavailableError,
        UnexpectedResponseError,
    )
    from kraken_bot.kraken.limiter import LimiterStats, RateLimiter
    from kraken_bot.kraken.nonce import NonceSource
    from kraken_bot.kraken.orders import AddOrderRequest, AmendOrderRequest
    from kraken_bot.region import Tier

_EXPORTS: dict[str, str] = {
    "KrakenRESTClient": "kraken_bot.kraken.client",
    "RateLimiter": "kraken_bot.kraken.limiter",
    "LimiterStats": "kraken_bot.kraken.limiter",
    "NonceSource": "kraken_bot.kraken.nonce",
    "AddOrderRequest": "kraken_bot.kraken.orders",
    "AmendOrderRequest": "kraken_bot.kraken.orders",
    "Tier": "kraken_bot.region",
    "AuthError": "kraken_bot.kraken.errors",
    "ErrorClass": "kraken_bot.kraken.errors",
    "KrakenAPIError": "kraken_bot.kraken.errors",
    "NetworkError": "kraken_bot.kraken.errors",
    "NonceError": "kraken_bot.kraken.errors",
    "OrderRejectedError": "kraken_bot.kraken.errors",
    "RateLimitError": "kraken_bot.kraken.errors",
    "ServiceUnavailableError": "kraken_bot.kraken.errors",
    "UnexpectedResponseError": "kraken_bot.kraken.errors",
}

__all__ = [
    "AddOrderRequest",
    "AmendOrderRequest",
    "AuthError",
    "ErrorClass",
    "KrakenAPIError",
    "KrakenRESTClient",
    "LimiterStats",
    "NetworkError",
    "NonceError",
    "NonceSource",
    "OrderRejectedError",
    "RateLimitError",
    "RateLimiter",
    "ServiceUnavailableError",
    "Tier",
    "UnexpectedResponseError",
]

if not TYPE_CHECKING:  # the checker sees the names imported above, and no others
    __getattr__ = lazy_exports(globals(), _EXPORTS)
