"""One API key's mutable state on the exchange."""

from __future__ import annotations

from decimal import Decimal

from kraken_sim.auth import NonceBook
from kraken_sim.ratelimit import DecayingCounter
from kraken_sim.timeline import Timeline

__all__ = ["Account"]


class Account:
    """One API key's state: credentials, balances, nonce book, counters, dead-man timer.

    ``live`` holds the open and pending orders' txids in placement order; ``closed`` every
    closed txid with its close time, and ``closed_cl_ord_ids`` their client order ids.
    """

    __slots__ = (
        "auth_failures", "balances", "closed", "closed_cl_ord_ids", "deadman_at", "key", "live",
        "locked_until", "name", "nonces", "rest", "secret", "secret_b64", "trading", "ws_allowed",
        "ws_tokens",
    )  # fmt: skip

    def __init__(
        self, *, name: str, key: str, secret_b64: str, secret: bytes, nonce_window: int
    ) -> None:
        self.name = name
        self.key = key
        self.secret_b64 = secret_b64
        self.secret = secret
        self.balances: dict[str, Decimal] = {}
        self.nonces = NonceBook(window=nonce_window)
        self.rest: DecayingCounter | None = None
        self.trading: dict[str, DecayingCounter] = {}
        self.deadman_at: float | None = None
        self.live: dict[str, None] = {}
        self.closed = Timeline()
        self.closed_cl_ord_ids: set[str] = set()
        self.auth_failures = 0
        self.locked_until = 0.0
        self.ws_tokens: dict[str, float] = {}  # WebSocket token -> when it expires unused
        self.ws_allowed = True  # the key's "WebSocket interface" permission
