"""What a REST handler receives: one :class:`Call` per request, and the handler type.

Handlers are plain functions ``Call -> result``; they raise :class:`~kraken_sim.wire.ApiError`
for Kraken errors and the exchange renders the envelope in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kraken_sim.account import Account
from kraken_sim.engine import Engine
from kraken_sim.quirks import Quirks
from kraken_sim.venue import Venue
from kraken_sim.wire import Params

__all__ = ["Call", "Handler"]


@dataclass(slots=True, kw_only=True)
class Call:
    """One request, as the handlers see it."""

    engine: Engine
    venue: Venue
    quirks: Quirks
    params: Params
    now: float
    system_status: str
    account: Account | None = None
    hide_new_order_for: float = 0.0
    created: list[str] = field(default_factory=list)

    @property
    def moment(self) -> datetime:
        """``now`` as a datetime."""
        return datetime.fromtimestamp(self.now, UTC)

    def require_account(self) -> Account:
        """The authenticated account (private handlers only)."""
        assert self.account is not None
        return self.account


Handler = Callable[[Call], object]
