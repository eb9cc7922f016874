"""Pure: the order lifecycle: one transition table, and folding events into orders.

Rules
-----

1. **One table.** Every status change of a `LocalOrder` is an entry of
   `TRANSITIONS`, keyed by (current status, `EventKind`). A pair that is not in
   the table is an illegal transition: `apply` returns ``Failure(TransitionError)``.
   It never overwrites silently and never raises.
2. **The exchange is the truth.** Kraken's order info (an `Observed` event)
   moves an order to the status Kraken reports, from every state where the
   order may exist on the exchange, including ``rejected`` and ``error``: an
   order we gave up on that Kraken does have is tracked, never lost.
3. **Fills only grow.** ``cumulative_base_filled`` never decreases (a lower
   ``vol_exec`` is a stale read and is refused) and never exceeds
   ``requested_base_size``.
4. **One local order, one exchange order.** Once a txid is known, an event
   naming another txid is refused; an observation must match the order's
   identity (`matches_identity`). Two exchange orders for one local order is
   the bug this layer exists to prevent, so it is reported, never absorbed.
5. **Terminal states absorb.** ``filled``, ``canceled``, ``expired``,
   ``rejected``, ``error``, ``validated`` and ``simulated`` have no outgoing
   edges except those documented in the table (re-observing the same final
   status, a completion that a CancelAll count hid, late discovery).
6. **Values in, values out.** `apply` returns a new order; nothing is
   mutated; time comes from the events (``updated_at`` only moves forward).
7. **Events carry their evidence.** Several writers (threads, processes) fold
   events into one order; the ledger writes a fold only onto the version it
   read, and on a conflict folds the event again onto the newer version. So an
   event decided on an older version is refused when its evidence no longer
   holds: a send attempt must be the next one and is refused once a cancel
   was requested; "never sent" is refused once a send is recorded; "absent
   after the deadline" is refused once a newer send (deadline) is recorded.
   A refused write-ahead means the AddOrder is not sent.

Theory of operation
-------------------

The shell creates an order with `new_order` (status ``pending``; or
`guardrail_order`, status ``error``, for an action the planner refused). Before
each AddOrder it records `SendAttempted` (so a crash mid-send leaves evidence
that the order may exist), then folds in what the send produced:
`Acknowledged` (Kraken returned a txid: ``submitted``), `Validated` (paper
mode), `Simulated` (dry run), `Rejected` (permanent), `SendFailed` (refused
before reaching the book: retry), `SendUnconfirmed` (timeout, 5xx: the order
may exist, so it counts as ``submitted`` until a lookup says otherwise), and
`GaveUp` (proven absent with no retries left). `kraken_bot.execution.core.policy`
decides which of these comes next.

Reconciliation reads OpenOrders / ClosedOrders / QueryOrders and folds each
matching order info in as `Observed`. `event_kind` classifies it:

=========================  ==============================  ====================
Kraken ``status``          condition                       status reached
=========================  ==============================  ====================
``pending``                                                ``submitted``
``open``                   ``vol_exec == 0``               ``open``
``open``                   ``vol_exec > 0``                ``partially_filled``
``closed``                 ``vol_exec == vol``             ``filled``
``closed``                 ``vol_exec < vol``              ``canceled``
``canceled``                                               ``canceled``
``expired``                                                ``expired``
=========================  ==============================  ====================

Kraken's documentation does not say whether ``closed`` can carry
``vol_exec < vol`` (kraken-api.md, open question 16). If it does, the order
ended without completing, which this layer calls ``canceled`` (with its
partial fill kept), so nothing downstream mistakes it for a full fill.

Cancelling is `CancelRequested` (no status change: the order keeps working
until Kraken says otherwise) followed by `CancelConfirmed` or an observation.

An illegal transition usually means a stale read (an ``open`` report arriving
after a ``partially_filled`` one): the shell keeps the order it has, logs the
`TransitionError`, and lets the next reconciliation bring the truth.

This module holds the table and `apply`. What `apply` checks (identity, the
fill and txid invariants) and changes (the fields each event sets) lives in
`kraken_bot.execution.core._lifecycle_apply`; `new_order` and `guardrail_order` in
`kraken_bot.execution.core._lifecycle_orders`. All are importable from here.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.execution.core.models import (Acknowledged, CancelConfirmed,
...     OrderIntent, OrderType, Side, TimeInForce)
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> intent = OrderIntent(action_index=0, plan_id="p1", strategy_id="s", pair="XBTUSD",
...     rest_pair="XXBTZUSD", side=Side.BUY, order_type=OrderType.LIMIT,
...     volume=Decimal("0.10000000"), price=Decimal("60000.0"), reference_price=Decimal(60000),
...     notional_usd=Decimal(6000), userref=None, time_in_force=TimeInForce.GTC,
...     post_only=False)
>>> order = new_order(intent, local_id="L1", now=t)
>>> order = apply(order, Acknowledged(at=t, txid="OABC12", response_json="{}")).unwrap()
>>> order.status.value, order.kraken_order_id
('submitted', 'OABC12')
>>> print(apply(order, Acknowledged(at=t, txid="OXYZ34", response_json="{}")).failure().reason)
txid OXYZ34 differs from known OABC12 (two exchange orders for one local order)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pyrsistent import pmap
from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from kraken_bot.execution.core._lifecycle_apply import (
    IDENTITY_CLOCK_SKEW,
    UPDATES,
    broken_invariant,
    matches_identity,
    shows_amend,
)
from kraken_bot.execution.core._lifecycle_orders import guardrail_order, new_order
from kraken_bot.execution.core.models import (
    TERMINAL_STATUSES,
    Acknowledged,
    CancelConfirmed,
    CancelRequested,
    GaveUp,
    LocalOrder,
    NotFoundOnExchange,
    Observed,
    OrderEvent,
    OrderStatus,
    Rejected,
    SendAttempted,
    SendFailed,
    SendUnconfirmed,
    Simulated,
    Validated,
    Withdrawn,
)
from kraken_bot.kraken.types import KrakenOrderStatus, OrderInfo

__all__ = [
    "IDENTITY_CLOCK_SKEW",
    "OBSERVED_KINDS",
    "TRANSITIONS",
    "EventKind",
    "TransitionError",
    "apply",
    "event_kind",
    "fold",
    "guardrail_order",
    "matches_identity",
    "mermaid",
    "new_order",
    "observed_kind",
    "shows_amend",
]


class EventKind(StrEnum):
    """What happened to an order: the column of the transition table."""

    SEND_ATTEMPTED = "send_attempted"
    ACKNOWLEDGED = "acknowledged"
    VALIDATED = "validated"
    SIMULATED = "simulated"
    REJECTED = "rejected"
    SEND_FAILED = "send_failed"
    SEND_UNCONFIRMED = "send_unconfirmed"
    GAVE_UP = "gave_up"
    WITHDRAWN = "withdrawn"
    NOT_FOUND = "not_found"
    OBSERVED_PENDING = "observed_pending"
    OBSERVED_OPEN = "observed_open"
    OBSERVED_PARTIAL = "observed_partial"
    OBSERVED_FILLED = "observed_filled"
    OBSERVED_CANCELED = "observed_canceled"
    OBSERVED_EXPIRED = "observed_expired"
    CANCEL_REQUESTED = "cancel_requested"
    CANCEL_CONFIRMED = "cancel_confirmed"


OBSERVED_KINDS: Final = frozenset(
    {
        EventKind.OBSERVED_PENDING,
        EventKind.OBSERVED_OPEN,
        EventKind.OBSERVED_PARTIAL,
        EventKind.OBSERVED_FILLED,
        EventKind.OBSERVED_CANCELED,
        EventKind.OBSERVED_EXPIRED,
    }
)
"""The kinds an `Observed` event can have."""

_S = OrderStatus
_E = EventKind

TRANSITIONS: Final[Mapping[tuple[OrderStatus, EventKind], OrderStatus]] = pmap(
    {
        # ---- pending: created locally; may or may not have been sent.
        (_S.PENDING, _E.SEND_ATTEMPTED): _S.PENDING,
        # A send refused before it reached the book: the policy will retry.
        (_S.PENDING, _E.SEND_FAILED): _S.PENDING,
        (_S.PENDING, _E.ACKNOWLEDGED): _S.SUBMITTED,
        # Timeout / 5xx after sending: the order may exist, so treat it as submitted
        # until a lookup after the deadline proves otherwise.
        (_S.PENDING, _E.SEND_UNCONFIRMED): _S.SUBMITTED,
        (_S.PENDING, _E.VALIDATED): _S.VALIDATED,
        (_S.PENDING, _E.SIMULATED): _S.SIMULATED,
        (_S.PENDING, _E.REJECTED): _S.REJECTED,
        (_S.PENDING, _E.GAVE_UP): _S.ERROR,
        # Found by a lookup after a crash between the send and writing its outcome.
        (_S.PENDING, _E.OBSERVED_PENDING): _S.SUBMITTED,
        (_S.PENDING, _E.OBSERVED_OPEN): _S.OPEN,
        (_S.PENDING, _E.OBSERVED_PARTIAL): _S.PARTIALLY_FILLED,
        (_S.PENDING, _E.OBSERVED_FILLED): _S.FILLED,
        (_S.PENDING, _E.OBSERVED_CANCELED): _S.CANCELED,
        (_S.PENDING, _E.OBSERVED_EXPIRED): _S.EXPIRED,
        # A cancel of an order whose send is in doubt: cancel by cl_ord_id/userref.
        (_S.PENDING, _E.CANCEL_REQUESTED): _S.PENDING,
        (_S.PENDING, _E.CANCEL_CONFIRMED): _S.CANCELED,
        # Canceled before any AddOrder (a queued order): it is never sent, because a
        # sender's write-ahead (SendAttempted) is refused in a terminal state.
        (_S.PENDING, _E.WITHDRAWN): _S.CANCELED,
        # ---- submitted: Kraken has (or may have) the order; not seen on the book yet.
        # A resend after a lookup proved the first send absent.
        (_S.SUBMITTED, _E.SEND_ATTEMPTED): _S.SUBMITTED,
        # The ack of a resend, or a txid learned after an unconfirmed send.
        (_S.SUBMITTED, _E.ACKNOWLEDGED): _S.SUBMITTED,
        (_S.SUBMITTED, _E.SEND_FAILED): _S.SUBMITTED,
        (_S.SUBMITTED, _E.SEND_UNCONFIRMED): _S.SUBMITTED,
        (_S.SUBMITTED, _E.REJECTED): _S.REJECTED,
        (_S.SUBMITTED, _E.GAVE_UP): _S.ERROR,
        # Kraken's own "pending" (not yet on the book, e.g. a future starttm).
        (_S.SUBMITTED, _E.OBSERVED_PENDING): _S.SUBMITTED,
        (_S.SUBMITTED, _E.OBSERVED_OPEN): _S.OPEN,
        (_S.SUBMITTED, _E.OBSERVED_PARTIAL): _S.PARTIALLY_FILLED,
        # IOC and market orders often complete before the first reconciliation.
        (_S.SUBMITTED, _E.OBSERVED_FILLED): _S.FILLED,
        (_S.SUBMITTED, _E.OBSERVED_CANCELED): _S.CANCELED,
        (_S.SUBMITTED, _E.OBSERVED_EXPIRED): _S.EXPIRED,
        (_S.SUBMITTED, _E.CANCEL_REQUESTED): _S.SUBMITTED,
        (_S.SUBMITTED, _E.CANCEL_CONFIRMED): _S.CANCELED,
        # A cancel was requested while the send was in doubt, and the lookup after the
        # deadline proved the order absent: it is not resent, and ends canceled.
        (_S.SUBMITTED, _E.WITHDRAWN): _S.CANCELED,
        # Kraken does not know the txid it gave us, past the visibility window.
        (_S.SUBMITTED, _E.NOT_FOUND): _S.UNKNOWN,
        # ---- open: resting on the book, nothing filled yet.
        (_S.OPEN, _E.OBSERVED_OPEN): _S.OPEN,
        (_S.OPEN, _E.OBSERVED_PARTIAL): _S.PARTIALLY_FILLED,
        (_S.OPEN, _E.OBSERVED_FILLED): _S.FILLED,
        (_S.OPEN, _E.OBSERVED_CANCELED): _S.CANCELED,
        (_S.OPEN, _E.OBSERVED_EXPIRED): _S.EXPIRED,
        # A late duplicate ack (the reconciliation saw the order before the ack was written).
        (_S.OPEN, _E.ACKNOWLEDGED): _S.OPEN,
        # The order keeps working, and may still fill, until the cancel takes effect.
        (_S.OPEN, _E.CANCEL_REQUESTED): _S.OPEN,
        (_S.OPEN, _E.CANCEL_CONFIRMED): _S.CANCELED,
        # The exchange forgot it (another account, a restarted fake): not silence, a state.
        (_S.OPEN, _E.NOT_FOUND): _S.UNKNOWN,
        # ---- partially_filled: on the book with some volume executed.
        # (OBSERVED_OPEN is absent on purpose: vol_exec 0 after a fill is a stale read.)
        (_S.PARTIALLY_FILLED, _E.OBSERVED_PARTIAL): _S.PARTIALLY_FILLED,
        (_S.PARTIALLY_FILLED, _E.OBSERVED_FILLED): _S.FILLED,
        (_S.PARTIALLY_FILLED, _E.OBSERVED_CANCELED): _S.CANCELED,
        (_S.PARTIALLY_FILLED, _E.OBSERVED_EXPIRED): _S.EXPIRED,
        # A late duplicate ack.
        (_S.PARTIALLY_FILLED, _E.ACKNOWLEDGED): _S.PARTIALLY_FILLED,
        # Fills may still land between the cancel request and its effect.
        (_S.PARTIALLY_FILLED, _E.CANCEL_REQUESTED): _S.PARTIALLY_FILLED,
        (_S.PARTIALLY_FILLED, _E.CANCEL_CONFIRMED): _S.CANCELED,
        (_S.PARTIALLY_FILLED, _E.NOT_FOUND): _S.UNKNOWN,
        # ---- filled (terminal). Re-reading a closed order; fees/cost may be corrected.
        (_S.FILLED, _E.OBSERVED_FILLED): _S.FILLED,
        # ---- canceled (terminal).
        # A fill that landed before the cancel took effect, reported later: same status,
        # higher vol_exec.
        (_S.CANCELED, _E.OBSERVED_CANCELED): _S.CANCELED,
        # CancelAll only returns a count, so the shell marks every open order canceled;
        # one of them may have completed just before. Kraken's report wins.
        (_S.CANCELED, _E.OBSERVED_FILLED): _S.FILLED,
        # A duplicate cancel acknowledgement (CancelOrder retried, or CancelAll after it).
        (_S.CANCELED, _E.CANCEL_CONFIRMED): _S.CANCELED,
        # ---- expired (terminal). Re-reading an expired order.
        (_S.EXPIRED, _E.OBSERVED_EXPIRED): _S.EXPIRED,
        # ---- rejected (terminal locally). Late discovery: a send we took as rejected
        # (e.g. a duplicate-id answer) did place an order. The exchange is the truth.
        (_S.REJECTED, _E.OBSERVED_PENDING): _S.SUBMITTED,
        (_S.REJECTED, _E.OBSERVED_OPEN): _S.OPEN,
        (_S.REJECTED, _E.OBSERVED_PARTIAL): _S.PARTIALLY_FILLED,
        (_S.REJECTED, _E.OBSERVED_FILLED): _S.FILLED,
        (_S.REJECTED, _E.OBSERVED_CANCELED): _S.CANCELED,
        (_S.REJECTED, _E.OBSERVED_EXPIRED): _S.EXPIRED,
        # ---- error (terminal locally). Late discovery: an order we gave up on (proven
        # absent after the deadline, yet it shows up) is tracked, never lost.
        (_S.ERROR, _E.OBSERVED_PENDING): _S.SUBMITTED,
        (_S.ERROR, _E.OBSERVED_OPEN): _S.OPEN,
        (_S.ERROR, _E.OBSERVED_PARTIAL): _S.PARTIALLY_FILLED,
        (_S.ERROR, _E.OBSERVED_FILLED): _S.FILLED,
        (_S.ERROR, _E.OBSERVED_CANCELED): _S.CANCELED,
        (_S.ERROR, _E.OBSERVED_EXPIRED): _S.EXPIRED,
        # ---- unknown (not working, not finished): Kraken said it does not know the txid.
        # Asked again at every reconciliation; if Kraken lists it again, it is tracked.
        (_S.UNKNOWN, _E.NOT_FOUND): _S.UNKNOWN,
        (_S.UNKNOWN, _E.OBSERVED_PENDING): _S.SUBMITTED,
        (_S.UNKNOWN, _E.OBSERVED_OPEN): _S.OPEN,
        (_S.UNKNOWN, _E.OBSERVED_PARTIAL): _S.PARTIALLY_FILLED,
        (_S.UNKNOWN, _E.OBSERVED_FILLED): _S.FILLED,
        (_S.UNKNOWN, _E.OBSERVED_CANCELED): _S.CANCELED,
        (_S.UNKNOWN, _E.OBSERVED_EXPIRED): _S.EXPIRED,
        # A person closes it (cancel of an order Kraken does not know): error, with why.
        (_S.UNKNOWN, _E.GAVE_UP): _S.ERROR,
        (_S.UNKNOWN, _E.CANCEL_REQUESTED): _S.UNKNOWN,
        # ---- validated, simulated (terminal): nothing was placed; no edges.
    }
)
"""The lifecycle: (status, event kind) -> next status. Anything absent is illegal."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitionError:
    """An event that cannot be applied to an order (illegal transition or broken invariant)."""

    local_id: str
    status: OrderStatus
    event: EventKind
    reason: str

    def __str__(self) -> str:
        return f"order {self.local_id}: {self.event} refused in status {self.status}: {self.reason}"


# ---------------------------------------------------------------- classifying events

_KINDS: Final[Mapping[type[Any], EventKind]] = {
    SendAttempted: EventKind.SEND_ATTEMPTED,
    Acknowledged: EventKind.ACKNOWLEDGED,
    Validated: EventKind.VALIDATED,
    Simulated: EventKind.SIMULATED,
    Rejected: EventKind.REJECTED,
    SendFailed: EventKind.SEND_FAILED,
    SendUnconfirmed: EventKind.SEND_UNCONFIRMED,
    GaveUp: EventKind.GAVE_UP,
    Withdrawn: EventKind.WITHDRAWN,
    NotFoundOnExchange: EventKind.NOT_FOUND,
    CancelRequested: EventKind.CANCEL_REQUESTED,
    CancelConfirmed: EventKind.CANCEL_CONFIRMED,
}


def observed_kind(info: OrderInfo) -> EventKind:
    """Classify Kraken's order info (see the table in the module docstring).

    >>> from kraken_bot.kraken.types import parse_order_info
    >>> info = parse_order_info("OX", {"status": "closed", "vol": "1", "vol_exec": "0.4"}).unwrap()
    >>> observed_kind(info).value
    'observed_canceled'
    """
    executed = info.volume_executed
    if info.status is KrakenOrderStatus.PENDING:
        return EventKind.OBSERVED_PENDING
    if info.status is KrakenOrderStatus.OPEN:
        return EventKind.OBSERVED_PARTIAL if executed > 0 else EventKind.OBSERVED_OPEN
    if info.status is KrakenOrderStatus.CLOSED:
        return EventKind.OBSERVED_FILLED if executed >= info.volume else EventKind.OBSERVED_CANCELED
    if info.status is KrakenOrderStatus.CANCELED:
        return EventKind.OBSERVED_CANCELED
    return EventKind.OBSERVED_EXPIRED


def event_kind(event: OrderEvent) -> EventKind:
    """The table column of an event; an `Observed` one is classified by its order info.

    >>> from datetime import UTC, datetime
    >>> event_kind(CancelRequested(at=datetime(2026, 1, 1, tzinfo=UTC))).value
    'cancel_requested'
    """
    if isinstance(event, Observed):
        return observed_kind(event.info)
    return _KINDS[type(event)]


# ---------------------------------------------------------------- the fold


def apply(order: LocalOrder, event: OrderEvent) -> Result[LocalOrder, TransitionError]:
    """Fold one event into an order: the new order, or why the event cannot apply.

    Args:
        order: the order as last persisted.
        event: what happened.

    Returns:
        ``Success`` with the new order (the only new state: persist it), or
        ``Failure(TransitionError)`` for an illegal transition or a broken
        invariant (stale fill, foreign txid, identity mismatch).

    >>> from datetime import UTC, datetime
    >>> from decimal import Decimal
    >>> from kraken_bot.execution.core.models import OrderType, Side
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
    ...     side=Side.BUY, order_type=OrderType.MARKET, kraken_order_id=None, userref=None,
    ...     client_order_id="L1", requested_base_size=Decimal(1), requested_price=None,
    ...     status=OrderStatus.PENDING, created_at=t, updated_at=t)
    >>> apply(order, Simulated(at=t)).unwrap().status.value
    'simulated'
    >>> from kraken_bot.kraken.types import parse_order_info
    >>> def info(vol_exec):
    ...     return parse_order_info("OX", {"status": "open", "vol": "1", "vol_exec": vol_exec,
    ...                                    "cl_ord_id": "L1"}).unwrap()
    >>> order = apply(order, Observed(at=t, info=info("0.5"))).unwrap()
    >>> order.status.value, order.cumulative_base_filled
    ('partially_filled', Decimal('0.5'))
    >>> print(apply(order, Observed(at=t, info=info("0"))).failure().reason)
    no transition from partially_filled on observed_open
    """
    kind = event_kind(event)
    target = TRANSITIONS.get((order.status, kind))
    if target is None:
        return Failure(_error(order, kind, f"no transition from {order.status} on {kind}"))
    problem = broken_invariant(order, event)
    if problem is not None:
        return Failure(_error(order, kind, problem))
    return Success(UPDATES[type(event)](order, event, target, max(order.updated_at, event.at)))


def _error(order: LocalOrder, kind: EventKind, reason: str) -> TransitionError:
    return TransitionError(local_id=order.local_id, status=order.status, event=kind, reason=reason)


def fold(order: LocalOrder, events: Iterable[OrderEvent]) -> Result[LocalOrder, TransitionError]:
    """Apply events in order; stop at the first that cannot apply.

    >>> from datetime import UTC, datetime
    >>> from decimal import Decimal
    >>> from kraken_bot.execution.core.models import OrderType, Side
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
    ...     side=Side.BUY, order_type=OrderType.MARKET, kraken_order_id=None, userref=None,
    ...     client_order_id="L1", requested_base_size=Decimal(1), requested_price=None,
    ...     status=OrderStatus.PENDING, created_at=t, updated_at=t)
    >>> fold(order, [Acknowledged(at=t, txid="OX", response_json="{}"),
    ...     CancelConfirmed(at=t)]).unwrap().status.value
    'canceled'
    """
    current = order
    for event in events:
        result = apply(current, event)
        if not is_successful(result):
            return result
        current = result.unwrap()
    return Success(current)


# ---------------------------------------------------------------- rendering


def _edge_labels() -> dict[tuple[OrderStatus, OrderStatus], list[str]]:
    labels: dict[tuple[OrderStatus, OrderStatus], list[str]] = {}
    for status in OrderStatus:
        for kind in EventKind:
            target = TRANSITIONS.get((status, kind))
            if target is not None:
                labels.setdefault((status, target), []).append(kind.value)
    return labels


def mermaid() -> str:
    """The transition table as a Mermaid state diagram (generated, so it cannot drift).

    >>> print(mermaid().splitlines()[2])
        pending --> pending: send_attempted, send_failed, cancel_requested
    """
    lines = ["stateDiagram-v2", f"    [*] --> {OrderStatus.PENDING}"]
    for (source, target), kinds in _edge_labels().items():
        lines.append(f"    {source} --> {target}: {', '.join(kinds)}")
    lines += [f"    {status} --> [*]" for status in OrderStatus if status in TERMINAL_STATUSES]
    return "\n".join(lines)
