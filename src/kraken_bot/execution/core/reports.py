"""Pure: what the service reports about its own work: a reconciliation pass
(`ReconcileReport`) and its sends (`SendStats`).

Plain counters, filled in by the shell as it works (`kraken_bot.execution.shell._reconcile`,
`kraken_bot.execution.shell._submit`) and returned to callers, the CLI and the replay's summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kraken_bot.execution.exceptions import KrakenAPIError

__all__ = ["ReconcileReport", "SendStats"]


@dataclass
class ReconcileReport:
    """What one reconciliation pass did.

    Attributes:
        checked: tracked orders looked at.
        updated: orders whose state changed.
        adopted: exchange orders of ours recorded (or re-linked to given-up orders).
        proven_absent: orders declared never sent, or absent after their deadline.
        still_unknown: orders whose fate must wait (a window, a live sender, a failed read).
        unknown_orders: local ids of orders Kraken says it does not know (``unknown``).
        quarantined: order rows the database could not read back (local id -> why).
        errors: exchange calls that failed.
    """

    checked: int = 0
    updated: int = 0
    adopted: int = 0
    proven_absent: int = 0
    still_unknown: int = 0
    unknown_orders: list[str] = field(default_factory=list)
    quarantined: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every exchange call of the pass succeeded."""
        return not self.errors

    @property
    def healthy(self) -> bool:
        """True when the pass succeeded and nothing needs a person: no order Kraken does
        not know, no unreadable row."""
        return self.ok and not self.unknown_orders and not self.quarantined


@dataclass
class SendStats:
    """Counters for reports and benchmarks (mutated by the shell only)."""

    sends: int = 0
    retries: int = 0
    lookups: int = 0
    adopted_after_lookup: int = 0
    ambiguous: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)

    def count_error(self, error: KrakenAPIError) -> None:
        """Tally an error by its type name."""
        name = type(error).__name__
        self.errors_by_kind[name] = self.errors_by_kind.get(name, 0) + 1
