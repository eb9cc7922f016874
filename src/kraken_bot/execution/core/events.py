"""Pure: what strategy code is told: order updates and service health, as values.

Every state change the ledger records is compared, before against after, by
`order_updates`: the kinds a strategy cares about come out (accepted, partially
filled with the fill delta, filled, canceled, expired, rejected, given up,
adopted, unknown to the exchange, validated, simulated). A change that only
re-reads the order, or moves it between internal states (a send attempt, a
cancel requested), tells nothing and yields nothing.

Service health (`HealthEvent`) covers what an operator must hear about: the
dead-man switch armed, a refresh failed, the switch expired; a reconciliation
that failed; rate-limit pressure; orders Kraken does not know.

Each delivered event carries a sequence number, increasing over the life of the
service, so a consumer that sees one twice (delivery is at least once) can skip
it. Events of one order are delivered in the order they happened.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.execution.core.models import LocalOrder, OrderStatus, OrderType, Side
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> before = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
...     side=Side.BUY, order_type=OrderType.LIMIT, kraken_order_id="OX", userref=None,
...     client_order_id="L1", requested_base_size=Decimal(1), requested_price=Decimal(1),
...     status=OrderStatus.OPEN, created_at=t, updated_at=t)
>>> from dataclasses import replace
>>> after = replace(before, status=OrderStatus.PARTIALLY_FILLED,
...     cumulative_base_filled=Decimal("0.25"))
>>> [(u.kind.value, u.fill_delta) for u in order_updates(before, after)]
[('partially_filled', Decimal('0.25'))]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

from pyrsistent import pmap
from pyrsistent.typing import PMap

from kraken_bot.execution.core.models import LocalOrder, OrderStatus

__all__ = [
    "HealthEvent",
    "HealthKind",
    "OrderUpdate",
    "OrderUpdateKind",
    "ServiceEvent",
    "order_updates",
]


class OrderUpdateKind(StrEnum):
    """What happened to an order, as a strategy sees it."""

    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    GIVEN_UP = "given_up"
    ADOPTED = "adopted"
    UNKNOWN = "unknown"
    VALIDATED = "validated"
    SIMULATED = "simulated"


class HealthKind(StrEnum):
    """What an operator must hear about the service itself."""

    DEAD_MAN_ARMED = "dead_man_armed"
    DEAD_MAN_REFRESH_FAILED = "dead_man_refresh_failed"
    DEAD_MAN_EXPIRED = "dead_man_expired"
    RECONCILE_FAILED = "reconcile_failed"
    RATE_LIMIT_PRESSURE = "rate_limit_pressure"
    UNKNOWN_ORDERS = "unknown_orders"
    STREAM_DOWN = "stream_down"
    STREAM_UNAVAILABLE = "stream_unavailable"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdate:
    """An order changed in a way a strategy cares about.

    Attributes:
        kind: what happened.
        order: the order as it now is.
        fill_delta: base volume filled by this change (zero unless a fill).
        at: when the service recorded it (exchange time).
        seq: the delivery sequence number (0 until the service numbers it).
    """

    kind: OrderUpdateKind
    order: LocalOrder
    fill_delta: Decimal
    at: datetime
    seq: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthEvent:
    """Something about the service an operator must know.

    Attributes:
        kind: what happened.
        message: a sentence a person can act on.
        at: when (exchange time).
        details: small structured facts (``armed_until``, ``local_ids``...), as text.
        seq: the delivery sequence number.
    """

    kind: HealthKind
    message: str
    at: datetime
    details: PMap[str, str] = field(default_factory=lambda: pmap({}))
    seq: int = 0


ServiceEvent = OrderUpdate | HealthEvent

_FINAL: Final[dict[OrderStatus, OrderUpdateKind]] = {
    OrderStatus.CANCELED: OrderUpdateKind.CANCELED,
    OrderStatus.EXPIRED: OrderUpdateKind.EXPIRED,
    OrderStatus.REJECTED: OrderUpdateKind.REJECTED,
    OrderStatus.ERROR: OrderUpdateKind.GIVEN_UP,
    OrderStatus.UNKNOWN: OrderUpdateKind.UNKNOWN,
    OrderStatus.VALIDATED: OrderUpdateKind.VALIDATED,
    OrderStatus.SIMULATED: OrderUpdateKind.SIMULATED,
}


def _update(kind: OrderUpdateKind, after: LocalOrder, delta: Decimal) -> OrderUpdate:
    return OrderUpdate(kind=kind, order=after, fill_delta=delta, at=after.updated_at)


def order_updates(before: LocalOrder | None, after: LocalOrder) -> tuple[OrderUpdate, ...]:
    """The updates a recorded change amounts to (``before`` None: a new record).

    A new record is reported only when it is an adoption (it carries a txid) or a
    guardrail refusal (``error``, never sent); a new pending order tells nothing yet.
    """
    if before is None:
        if after.kraken_order_id is not None:
            return (_update(OrderUpdateKind.ADOPTED, after, after.cumulative_base_filled),)
        if after.status is OrderStatus.ERROR:
            return (_update(OrderUpdateKind.GIVEN_UP, after, Decimal(0)),)
        return ()
    found: list[OrderUpdate] = []
    if before.kraken_order_id is None and after.kraken_order_id is not None:
        found.append(_update(OrderUpdateKind.ACCEPTED, after, Decimal(0)))
    delta = after.cumulative_base_filled - before.cumulative_base_filled
    if after.status is OrderStatus.FILLED and before.status is not OrderStatus.FILLED:
        found.append(_update(OrderUpdateKind.FILLED, after, delta))
    elif delta > 0:
        found.append(_update(OrderUpdateKind.PARTIALLY_FILLED, after, delta))
    if after.status is not before.status and after.status in _FINAL:
        found.append(_update(_FINAL[after.status], after, Decimal(0)))
    return tuple(found)
