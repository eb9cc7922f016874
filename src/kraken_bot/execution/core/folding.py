"""Pure: what the ledger writes when it folds an event into an order's current version.

The ledger (`kraken_bot.execution.shell._ledger`) reads the order's version, asks
`fold`, and then does what it says: keep the order as it is (the event was refused,
or it tells nothing new), or write the new version with compare-and-set. Whether a
txid the new version links is owned by another order needs the store, so the ledger
asks that itself, and refuses with `txid_taken`.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.execution.core.models import (
...     OrderStatus, OrderType, Side, Simulated)
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
...     side=Side.BUY, order_type=OrderType.LIMIT, kraken_order_id=None, userref=None,
...     client_order_id="L1", requested_base_size=Decimal("0.1"),
...     requested_price=Decimal("60000"), status=OrderStatus.PENDING, created_at=t,
...     updated_at=t)
>>> step = fold(order, Simulated(at=t))
>>> (type(step).__name__, step.order.status.value, step.kind.value, step.linking)
('Write', 'simulated', 'simulated', False)
>>> fold(order, None)
Keep(error=None)
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, fields
from typing import Final

from returns.pipeline import is_successful

from kraken_bot.execution.core import lifecycle
from kraken_bot.execution.core.lifecycle import EventKind, TransitionError
from kraken_bot.execution.core.models import LocalOrder, OrderEvent


@dataclass(frozen=True, slots=True)
class Write:
    """Write ``order`` (the new version), recording ``kind``; ``linking``: it gives the
    order a txid it did not have (the store checks the txid's owner with the write)."""

    order: LocalOrder
    kind: EventKind
    linking: bool


@dataclass(frozen=True, slots=True)
class Keep:
    """Leave the order as it is: ``error`` says why the event was refused (None: the
    event tells nothing new, or there was none)."""

    error: TransitionError | None = None


def fold(order: LocalOrder, event: OrderEvent | None) -> Write | Keep:
    """What folding ``event`` into ``order`` (the version just read) comes to.

    None, or an observation that only re-read what the order already says (the time
    of the read and the raw answer are all that differ), is `Keep` without an error;
    an illegal transition or a broken invariant is `Keep` with the lifecycle's error.
    """
    if event is None:
        return Keep()
    result = lifecycle.apply(order, event)
    if not is_successful(result):
        return Keep(result.failure())
    updated = result.unwrap()
    if same_but_for_the_read(order, updated):
        return Keep()
    return Write(
        updated,
        lifecycle.event_kind(event),
        linking=updated.kraken_order_id != order.kraken_order_id,
    )


_READ_ONLY_FIELDS: Final = frozenset({"updated_at", "raw_response_json"})
_MEANINGFUL: Final = operator.attrgetter(
    *(f.name for f in fields(LocalOrder) if f.name not in _READ_ONLY_FIELDS)
)
"""Every field of an order but the time of the last read and the raw answer, as a tuple."""


def same_but_for_the_read(before: LocalOrder, after: LocalOrder) -> bool:
    """True when ``after`` differs from ``before`` only in the time of the read and the
    raw answer (same status, fills, fees, txid...)."""
    return bool(_MEANINGFUL(after) == _MEANINGFUL(before))


def txid_taken(order: LocalOrder, kind: EventKind, reason: str) -> TransitionError:
    """The refusal of an event whose new version would link a txid another order owns."""
    return TransitionError(local_id=order.local_id, status=order.status, event=kind, reason=reason)


__all__ = ["Keep", "Write", "fold", "same_but_for_the_read", "txid_taken"]
