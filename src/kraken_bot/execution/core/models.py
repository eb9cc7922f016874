"""Pure: the execution layer's values: statuses, order intents, local orders, events, results.

Everything here is an immutable value (frozen dataclasses, tuples and pyrsistent
maps inside). Money and sizes are `Decimal`; timestamps are timezone-aware UTC
`datetime`s. Nothing here reads a clock or generates an id: the shell passes
``now`` and ``local_id`` in.

The three records a caller meets:

* `OrderIntent`: what the planner decided to send (pair, side, type, volume,
  price), before any id or I/O exists.
* `LocalOrder`: the contract's order record, following one order through its
  whole life (see `kraken_bot.execution.core.lifecycle` for the transition table).
* `ExecutionResult`: the per-plan summary of what was attempted and what
  happened.

`OrderEvent` is the closed union of everything that can happen to an order;
the lifecycle module folds events into new `LocalOrder` values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from kraken_bot._enums import ExecutionMode, OrderType, Side, TimeInForce, UnfilledAction
from kraken_bot.execution.core._frozendict import FrozenDict
from kraken_bot.kraken.orders import format_decimal
from kraken_bot.kraken.types import OrderInfo

__all__ = [
    "BENIGN_SKIPS",
    "LIVE_STATUSES",
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "TRACKED_STATUSES",
    "Acknowledged",
    "ActionSkip",
    "CancelConfirmed",
    "CancelRequested",
    "ExecutionMode",
    "ExecutionResult",
    "GaveUp",
    "LocalOrder",
    "NotFoundOnExchange",
    "Observed",
    "OrderEvent",
    "OrderIntent",
    "OrderStatus",
    "OrderType",
    "Rejected",
    "SendAttempted",
    "SendFailed",
    "SendUnconfirmed",
    "Side",
    "Simulated",
    "SkipReason",
    "TimeInForce",
    "UnfilledAction",
    "Validated",
    "Withdrawn",
    "client_id_for",
]


class OrderStatus(StrEnum):
    """Every status a `LocalOrder` can have.

    ``validated`` (paper mode: Kraken checked the order, nothing was placed),
    ``simulated`` (dry run: nothing was sent) and ``unknown`` (Kraken says it does
    not know an order it acknowledged: see `NotFoundOnExchange`) extend the
    contract's list.
    """

    PENDING = "pending"
    SUBMITTED = "submitted"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    ERROR = "error"
    VALIDATED = "validated"
    SIMULATED = "simulated"
    UNKNOWN = "unknown"


TERMINAL_STATUSES: Final = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.ERROR,
        OrderStatus.VALIDATED,
        OrderStatus.SIMULATED,
    }
)
"""Statuses after which the exchange will do nothing more with the order."""

OPEN_STATUSES: Final = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})
"""The contract's "open orders": resting on the book."""

LIVE_STATUSES: Final = frozenset(
    {OrderStatus.PENDING, OrderStatus.SUBMITTED, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED}
)
"""Not terminal: the order may still execute, or its fate is not known yet."""

TRACKED_STATUSES: Final = LIVE_STATUSES | {OrderStatus.UNKNOWN}
"""What reconciliation keeps asking Kraken about: the live orders, and the ones Kraken
said it does not know (``unknown``: neither working nor finished; a person must look)."""


class SkipReason(StrEnum):
    """Why the planner produced no order for an action.

    The first group is benign (nothing to do); the rest are guardrail errors,
    recorded as an order with status ``error`` and never sent.
    """

    NO_OP = "no_op"
    BLOCKED = "blocked"
    BELOW_LOT_STEP = "below_lot_step"
    BELOW_ORDERMIN = "below_ordermin"
    COVERED_BY_OPEN_ORDERS = "covered_by_open_orders"
    UNKNOWN_PAIR = "unknown_pair"
    PAIR_NOT_ONLINE = "pair_not_online"
    WOULD_GO_SHORT = "would_go_short"
    BELOW_COSTMIN = "below_costmin"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    ABOVE_MAX_PAIR_NOTIONAL = "above_max_pair_notional"
    ABOVE_MAX_TOTAL_NOTIONAL = "above_max_total_notional"
    MISSING_PRICE = "missing_price"
    STALE_PRICE = "stale_price"
    NO_USD_PRICE = "no_usd_price"


BENIGN_SKIPS: Final = frozenset(
    {
        SkipReason.NO_OP,
        SkipReason.BLOCKED,
        SkipReason.BELOW_LOT_STEP,
        SkipReason.BELOW_ORDERMIN,
        SkipReason.COVERED_BY_OPEN_ORDERS,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSkip:
    """The planner's verdict for an action that yields no order to send.

    Attributes:
        action_index: position of the action in the plan.
        pair: the pair as the plan named it (canonical altname when it resolved).
        strategy_id: the action's strategy.
        reason: machine-readable reason.
        message: a sentence a person can act on.
        side: the side the delta asked for, when there was one.
        volume: the base volume the delta asked for, when there was one.
        price: the price the order would have had, when known.
        order_type: the order type it would have had, when known.
        userref: the action's userref, when any.
    """

    action_index: int
    pair: str
    strategy_id: str | None
    reason: SkipReason
    message: str
    side: Side | None = None
    volume: Decimal | None = None
    price: Decimal | None = None
    order_type: OrderType | None = None
    userref: int | None = None

    @property
    def is_error(self) -> bool:
        """True for guardrail errors (recorded as an ``error`` order), false for benign skips."""
        return self.reason not in BENIGN_SKIPS


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIntent:
    """An order the planner decided to place; rounded and ready for Kraken.

    Attributes:
        action_index: position of the originating action in the plan.
        plan_id: originating plan.
        strategy_id: originating strategy.
        pair: canonical pair (Kraken altname, e.g. ``XBTUSD``).
        rest_pair: the pair name sent to Kraken (AssetPairs key, e.g. ``XXBTZUSD``).
        side: buy or sell.
        order_type: market or limit.
        volume: base volume, truncated to the pair's lot decimals, with exactly that
            many places (its exponent is part of the value Kraken receives).
        price: limit price on the pair's tick grid, with exactly the pair's price
            decimals; None for market orders.
        reference_price: the mid price the order was sized against.
        notional_usd: volume x price (or mid) in USD.
        userref: strategy tag; when set, the order's exchange identity is the userref.
        time_in_force: Kraken time in force.
        post_only: send ``oflags=post`` (limit orders only).

    ``volume_text`` and ``price_text`` are the exact strings Kraken receives: the one
    wire formatter (`kraken_bot.kraken.orders.format_decimal`) applied to the amounts,
    as the adapter applies it to the order's (which are these amounts, exactly).
    """

    action_index: int
    plan_id: str | None
    strategy_id: str | None
    pair: str
    rest_pair: str
    side: Side
    order_type: OrderType
    volume: Decimal
    price: Decimal | None
    reference_price: Decimal
    notional_usd: Decimal
    userref: int | None
    time_in_force: TimeInForce
    post_only: bool

    @property
    def volume_text(self) -> str:
        """``volume`` as the exact decimal string Kraken receives."""
        return format_decimal(self.volume)

    @property
    def price_text(self) -> str | None:
        """``price`` as the exact decimal string Kraken receives (None: market order)."""
        return None if self.price is None else format_decimal(self.price)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalOrder:
    """The contract's LocalOrder: one order, from intent to its final state.

    Identity on the exchange: ``client_order_id`` (Kraken ``cl_ord_id``, derived
    from ``local_id``) unless the order carries a strategy ``userref``, in which
    case the userref is sent instead (Kraken refuses both on one order).

    ``exists_on_exchange`` records that Kraken proved it holds the order (it
    refused a resend as a duplicate client order id) before its txid is known:
    such an order is never given up on, only found.

    ``claimed_by`` names the service instance that created the order and will
    send it (its send claim): while that instance is alive, nobody else may
    declare the order never sent (see `kraken_bot.execution.core.reconciliation`).

    ``raw_request`` is the AddOrder payload without nonce or any credential: a
    read-only ``dict`` (`FrozenDict`), so ``json.dumps(order.raw_request)`` works and
    the record stays immutable; any mapping given is stored as one.
    ``raw_response_json`` holds the last Kraken response as JSON text;
    `raw_response` decodes it.

    Invariants, checked at construction (a ``ValueError`` is a programmer's error):
    ``status``, ``side``, ``order_type`` and ``time_in_force`` are members of their
    enums; sizes are `Decimal` with ``0 <= cumulative_base_filled <=
    requested_base_size``; every time is timezone-aware; ``attempts >= 0``.
    """

    local_id: str
    plan_id: str | None
    strategy_id: str | None
    pair: str
    side: Side
    order_type: OrderType
    kraken_order_id: str | None
    userref: int | None
    client_order_id: str | None
    requested_base_size: Decimal
    requested_price: Decimal | None
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    cumulative_base_filled: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    fee: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    last_error: str | None = None
    raw_request: Mapping[str, str] = field(default_factory=lambda: _NO_REQUEST)
    raw_response_json: str | None = None
    rest_pair: str | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    attempts: int = 0
    send_deadline: datetime | None = None
    first_sent_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    close_reason: str | None = None
    action_index: int | None = None
    reference_price: Decimal | None = None
    exists_on_exchange: bool = False
    claimed_by: str | None = None

    def __post_init__(self) -> None:
        # Cheap checks only: the lifecycle builds a new LocalOrder for every event.
        if type(self.raw_request) is not FrozenDict:
            object.__setattr__(self, "raw_request", FrozenDict(self.raw_request))
        problem = _order_problem(self)
        if problem is not None:
            raise ValueError(f"LocalOrder {self.local_id!r}: {problem}")

    @property
    def raw_response(self) -> dict[str, Any] | None:
        """The last Kraken response, decoded (a fresh dict each call)."""
        if self.raw_response_json is None:
            return None
        decoded = json.loads(self.raw_response_json)
        return decoded if isinstance(decoded, dict) else {"value": decoded}

    @property
    def is_terminal(self) -> bool:
        """True once nothing more can happen to the order."""
        return self.status in TERMINAL_STATUSES

    @property
    def is_live(self) -> bool:
        """True while the order may still execute, or its fate is not known yet."""
        return self.status in LIVE_STATUSES

    @property
    def sent_client_id(self) -> str | None:
        """The ``cl_ord_id`` this order carries to Kraken (`client_id_for`): None when its
        userref identifies it there."""
        return client_id_for(self.userref, self.client_order_id)

    @property
    def unfilled_base_size(self) -> Decimal:
        """Volume requested and not filled, whatever the status (what a canceled order left)."""
        return self.requested_base_size - self.cumulative_base_filled

    @property
    def remaining_base_size(self) -> Decimal:
        """Volume still to fill while the order lives; zero otherwise."""
        if not self.is_live:
            return Decimal(0)
        return self.unfilled_base_size


def client_id_for(userref: int | None, client_id: str | None) -> str | None:
    """How an order is known at Kraken, in one rule: by its client id (``cl_ord_id``), unless
    the strategy tagged it with a ``userref``, which then identifies it instead (Kraken
    refuses both on one order).

    >>> client_id_for(None, "L1"), client_id_for(7, "L1")
    ('L1', None)
    """
    return None if userref is not None else client_id


_NO_REQUEST: Final[FrozenDict[str, str]] = FrozenDict()


def _order_problem(order: LocalOrder) -> str | None:
    """What breaks a `LocalOrder` invariant, or None (see the class docstring).

    The fast path is a handful of identity and comparison checks: the lifecycle
    builds a new record for every event.
    """
    if (
        type(order.status) is OrderStatus
        and type(order.side) is Side
        and type(order.order_type) is OrderType
        and type(order.time_in_force) is TimeInForce
        and type(order.requested_base_size) is Decimal
        and type(order.cumulative_base_filled) is Decimal
        and _ZERO <= order.cumulative_base_filled <= order.requested_base_size
        and order.created_at.tzinfo is not None
        and order.updated_at.tzinfo is not None
        and (order.send_deadline is None or order.send_deadline.tzinfo is not None)
        and (order.first_sent_at is None or order.first_sent_at.tzinfo is not None)
        and (order.cancel_requested_at is None or order.cancel_requested_at.tzinfo is not None)
        and order.attempts >= 0
    ):
        return None
    return _describe_problem(order)


def _describe_problem(order: LocalOrder) -> str:
    kinds = (
        (order.status, OrderStatus),
        (order.side, Side),
        (order.order_type, OrderType),
        (order.time_in_force, TimeInForce),
    )
    if any(type(value) is not kind for value, kind in kinds):
        return (
            "status, side, order_type and time_in_force must be OrderStatus, Side, OrderType"
            f" and TimeInForce members, got {order.status!r}, {order.side!r},"
            f" {order.order_type!r}, {order.time_in_force!r}"
        )
    requested, filled = order.requested_base_size, order.cumulative_base_filled
    if type(requested) is not Decimal or type(filled) is not Decimal:
        return f"sizes must be Decimal, got {requested!r} and {filled!r}"
    if not _ZERO <= filled <= requested:
        return f"needs 0 <= cumulative_base_filled ({filled}) <= requested_base_size ({requested})"
    if order.attempts < 0:
        return f"attempts must be 0 or more, got {order.attempts}"
    return (
        "created_at, updated_at, send_deadline, first_sent_at and cancel_requested_at"
        " must be timezone-aware"
    )


_ZERO: Final = Decimal(0)


# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True, kw_only=True)
class SendAttempted:
    """An AddOrder is about to be sent (attempt counts from 1)."""

    at: datetime
    attempt: int
    request: Mapping[str, str]
    deadline: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Acknowledged:
    """Kraken accepted the order and returned its txid."""

    at: datetime
    txid: str
    response_json: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Validated:
    """Paper mode: Kraken validated the order (``validate=true``); nothing was placed."""

    at: datetime
    response_json: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Simulated:
    """Dry run: the order was not sent."""

    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """Kraken refused the order for a permanent reason (its message is kept)."""

    at: datetime
    message: str
    response_json: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendFailed:
    """A send failed before reaching the exchange's book; the order may be retried."""

    at: datetime
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SendUnconfirmed:
    """A send failed in a way that may have reached the exchange (timeout, 5xx, lost reply).

    ``proven`` is set when Kraken's answer proves the order is on its book (a
    resend refused as a duplicate client order id).
    """

    at: datetime
    message: str
    proven: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class GaveUp:
    """The exchange provably does not have the order and no retry is left.

    The event carries the evidence it was decided on, so folding it onto a newer
    version of the order (another thread or process wrote in between) is refused
    when the evidence no longer holds:

    * ``never_sent``: decided because no AddOrder was ever attempted; refused once
      the order has a send attempt.
    * ``deadline``: decided because the order was absent after this AddOrder
      deadline; refused when a newer send (another deadline) was recorded since.
    """

    at: datetime
    message: str
    never_sent: bool = False
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdrawn:
    """Canceled locally before it reached Kraken: it will never be sent.

    Legal only while no AddOrder was attempted, or (``deadline`` set) when the
    last send was proven absent after that deadline. A sender whose write-ahead
    comes after a withdrawal is refused, so a withdrawn order is never sent.
    """

    at: datetime
    message: str
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotFoundOnExchange:
    """Kraken says it does not know this order's txid, past the order's visibility window.

    The order moves to ``unknown``: neither working nor finished. Reconciliation keeps
    asking; if Kraken lists it again, it is tracked again.
    """

    at: datetime
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """Kraken's order info for this order was read (OpenOrders/ClosedOrders/QueryOrders)."""

    at: datetime
    info: OrderInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequested:
    """A CancelOrder (or CancelAll) is being sent for this order."""

    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelConfirmed:
    """Kraken confirmed that it canceled this order."""

    at: datetime
    response_json: str | None = None


OrderEvent = (
    SendAttempted
    | Acknowledged
    | Validated
    | Simulated
    | Rejected
    | SendFailed
    | SendUnconfirmed
    | GaveUp
    | Withdrawn
    | NotFoundOnExchange
    | Observed
    | CancelRequested
    | CancelConfirmed
)


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionResult:
    """The contract's per-plan summary of what was attempted and what happened.

    ``orders``, ``errors`` and ``skipped`` are tuples: the contract's sequences
    (indexing, ``len``, iteration), immutable like the record; any sequence given is
    stored as a tuple. ``list(result.orders)`` gives a list to change.

    Attributes:
        plan_id: the plan.
        started_at: when execution began.
        completed_at: when it ended (None while running).
        success: true when no order ended ``rejected`` or ``error`` and there was no
            plan-level error.
        orders: final state of each order, in action order.
        errors: high-level errors a person can read.
        mode: the execution mode used.
        skipped: actions that produced no order, with reasons (benign and guardrail).
        replayed: true when the plan had been executed before and nothing new was sent.
    """

    plan_id: str
    started_at: datetime
    completed_at: datetime | None
    success: bool
    orders: tuple[LocalOrder, ...]
    errors: tuple[str, ...]
    mode: ExecutionMode = ExecutionMode.PAPER
    skipped: tuple[ActionSkip, ...] = ()
    replayed: bool = False

    def __post_init__(self) -> None:
        for name in ("orders", "errors", "skipped"):
            value = getattr(self, name)
            if type(value) is not tuple:
                object.__setattr__(self, name, tuple(value))
