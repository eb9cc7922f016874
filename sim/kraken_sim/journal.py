"""The journal: what really happened to each request, to compare with what a client believes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["JournalEntry"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEntry:
    """What really happened to one request.

    ``executed`` says the engine ran the request (auth and handler); ``errors`` are the Kraken
    errors it produced (even if the client never saw them); ``txids`` the orders it created;
    ``status`` the HTTP status sent (0 = no answer at all).
    """

    seq: int
    time: datetime
    method: str
    endpoint: str
    api_key: str | None
    fault: str | None
    fault_phase: str | None
    executed: bool
    errors: tuple[str, ...]
    txids: tuple[str, ...]
    status: int
    delivered: bool

    @property
    def took_effect(self) -> bool:
        """Executed without error: its effect is on the exchange, whatever the client saw."""
        return self.executed and not any(e.startswith("E") for e in self.errors)
