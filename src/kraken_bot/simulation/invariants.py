"""Invariants between this layer's records and the exchange's truth: the one checker.

The fake exchange knows what really happened (`kraken_sim.Order`: every order an
account ever placed); the database says what the execution layer believes. Every
check below compares the two and returns `Violation` values instead of asserting,
so a replay can report them and a campaign can count them before failing.

True after any step (`step_violations`; ``check_invariants(..., reconciled=False)``):

* **duplicate**: no client order id of ours is on two exchange orders, and no
  txid is owned by two local orders;
* **adopted** (needs the audit trails): no local order had to be adopted from
  the exchange. Every order is written before it is sent, so with the database
  intact an adopted order was sent twice, or lost track of;
* **phantom** and **foreign_id**: a local txid names an order the exchange has,
  and that order carries the local order's own client id (or, without one, its
  userref);
* **lost**: every exchange order with one of our client ids is known locally by
  that client id;
* **overfill**: ``0 <= filled <= requested``, and a local fill never runs ahead
  of the exchange's ``vol_exec``;
* **illegal_transition** (needs the audit trails): a trail starts in the status
  its creating event implies, and consecutive statuses are an edge of
  `lifecycle.TRANSITIONS` (or a self-loop);
* **memory_db** (`step_violations` given the service's live orders): the live
  orders in memory equal the database's.

True once settled (`settled_violations`; `check_invariants` by default): faults
off, time past every hiding window, and a clean reconciliation:

* **unresolved**: no local order is still ``pending`` or ``submitted``;
* **lost** and **unacknowledged**: every exchange order of ours (our client id,
  or one of our userrefs: `is_ours`) is owned by a local order through its txid;
  unacknowledged when a local order knows its client id but not its txid;
* **status**: the local status is one `expected_statuses` allows;
* **filled_volume**: local filled and requested volumes equal the exchange's
  ``vol_exec`` and ``vol``;
* **avg_price**: the local average fill price equals the exchange's as Kraken
  renders it, at the pair's price decimals (`rendered_avg_price`), exactly.

A violation found by two checks (a lost order is lost after a step and once
settled) is reported once. `check_store` runs everything a store and an exchange
can tell, audit trails included; ``krakked sim`` does the same after its last
reconciliation, and `tally` groups violations for a campaign's figures.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from kraken_bot.execution.core.codec import JsonObject
from kraken_bot.execution.core.lifecycle import TRANSITIONS
from kraken_bot.execution.core.models import LocalOrder, OrderStatus
from kraken_bot.execution.shell.ids import is_local_id
from kraken_bot.execution.shell.store import ExecutionStore, OrderEventRecord
from kraken_sim import Exchange, Order
from kraken_sim.market import PairMeta
from kraken_sim.orders import order_info

__all__ = [
    "ALL_ORDERS",
    "PairLookup",
    "Trails",
    "Violation",
    "ViolationKind",
    "check_invariants",
    "check_store",
    "duplicate_violations",
    "expected_statuses",
    "identity_violations",
    "is_ours",
    "lost_client_ids",
    "memory_violations",
    "overfill_violations",
    "rendered_avg_price",
    "settled_violations",
    "step_violations",
    "tally",
    "trails_of",
    "transition_violations",
]

ALL_ORDERS: Final = 1_000_000_000
"""A ``recent_orders`` limit no store reaches: every order."""

PairLookup = Callable[[str], PairMeta]
"""The exchange's metadata of a pair id (``exchange.venue.meta``)."""

Trails = Mapping[str, Sequence[OrderEventRecord]]
"""Audit trails by local id (`trails_of`)."""

_LEGAL_EDGES: Final = frozenset(
    {(source, target) for (source, _kind), target in TRANSITIONS.items()}
    | {(status, status) for status in OrderStatus}
)
_FIRST_STATUS: Final = {"created": OrderStatus.PENDING, "guardrail": OrderStatus.ERROR}
_UNRESOLVED: Final = frozenset({OrderStatus.PENDING, OrderStatus.SUBMITTED})
_BY_EXCHANGE_STATUS: Final = {
    "canceled": frozenset({OrderStatus.CANCELED}),
    "expired": frozenset({OrderStatus.EXPIRED}),
    # Kraken's "pending" (not on the book yet) is the lifecycle's SUBMITTED.
    "pending": frozenset({OrderStatus.SUBMITTED}),
}


class ViolationKind(StrEnum):
    """Which promise broke (see the module docstring)."""

    LOST = "lost"
    DUPLICATE = "duplicate"
    ADOPTED = "adopted"
    PHANTOM = "phantom"
    FOREIGN_ID = "foreign_id"
    OVERFILL = "overfill"
    ILLEGAL_TRANSITION = "illegal_transition"
    MEMORY_DB = "memory_db"
    UNRESOLVED = "unresolved"
    UNACKNOWLEDGED = "unacknowledged"
    STATUS = "status"
    FILLED_VOLUME = "filled_volume"
    AVG_PRICE = "avg_price"


_DUPLICATE_KINDS: Final = frozenset({ViolationKind.DUPLICATE, ViolationKind.ADOPTED})
_LOST_KINDS: Final = frozenset({ViolationKind.LOST, ViolationKind.UNACKNOWLEDGED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One broken invariant.

    Attributes:
        kind: which invariant.
        local_id: the local order concerned, when there is one.
        txids: the exchange orders concerned.
        detail: a sentence a person can read.
    """

    kind: ViolationKind
    local_id: str | None
    txids: tuple[str, ...]
    detail: str

    def to_json(self) -> JsonObject:
        """A JSON-compatible dict."""
        return {
            "kind": self.kind.value,
            "local_id": self.local_id,
            "txids": list(self.txids),
            "detail": self.detail,
        }

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.detail}"


def tally(violations: Iterable[Violation]) -> dict[str, int]:
    """Counts for a campaign's figures: duplicates, lost orders, and all violations.

    Adoptions count as duplicates, unacknowledged orders as lost.
    """
    found = list(violations)
    return {
        "duplicates": sum(v.kind in _DUPLICATE_KINDS for v in found),
        "lost_orders": sum(v.kind in _LOST_KINDS for v in found),
        "invariant_violations": len(found),
    }


# ---------------------------------------------------------------- the exchange's view


def expected_statuses(exchange_order: Order) -> frozenset[OrderStatus]:
    """The local statuses that agree with an exchange order's status and fills."""
    if exchange_order.status == "closed":
        return frozenset({OrderStatus.FILLED})
    if exchange_order.status == "open":
        filled = exchange_order.vol_exec > 0
        return frozenset({OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.OPEN})
    return _BY_EXCHANGE_STATUS[exchange_order.status]


def is_ours(order: Order, userrefs: Collection[int]) -> bool:
    """An exchange order this layer placed: our client order id, or one of our userrefs."""
    if order.cl_ord_id is not None:
        return is_local_id(order.cl_ord_id)
    return order.userref is not None and order.userref in userrefs


def rendered_avg_price(order: Order, meta: PairMeta) -> Decimal:
    """The average fill price as Kraken's order info renders it (the pair's price decimals)."""
    return Decimal(str(order_info(order, meta, with_trades=False)["price"]))


# ---------------------------------------------------------------- true after any step


def duplicate_violations(
    local: Sequence[LocalOrder],
    truth: Sequence[Order],
    first_events: Mapping[str, str | None] | None = None,
    *,
    allow_adopted: bool = False,
) -> list[Violation]:
    """Two exchange orders for one client id, two local orders for one txid, and (given
    each order's first audit event) adoptions, unless ``allow_adopted`` (the database was
    deliberately lost: adoption rebuilds it)."""
    found = _client_id_twins(local, truth) + _shared_txids(local)
    if first_events is not None and not allow_adopted:
        found += [
            _about(ViolationKind.ADOPTED, o, "had to be adopted from the exchange")
            for o in local
            if first_events.get(o.local_id) == "adopted"
        ]
    return found


def _client_id_twins(local: Sequence[LocalOrder], truth: Sequence[Order]) -> list[Violation]:
    by_client_id = _by_client_id(local)
    twins: dict[str, list[str]] = defaultdict(list)
    for placed in truth:
        if placed.cl_ord_id is not None:
            twins[placed.cl_ord_id].append(placed.txid)
    found: list[Violation] = []
    for cid, txids in twins.items():
        if len(txids) > 1:
            owner = by_client_id.get(cid)
            found.append(
                Violation(
                    kind=ViolationKind.DUPLICATE,
                    local_id=None if owner is None else owner.local_id,
                    txids=tuple(txids),
                    detail=f"client id {cid} is on {len(txids)} exchange orders:"
                    f" {', '.join(txids)}",
                )
            )
    return found


def _shared_txids(local: Sequence[LocalOrder]) -> list[Violation]:
    owners: dict[str, list[str]] = defaultdict(list)
    for order in local:
        if order.kraken_order_id is not None:
            owners[order.kraken_order_id].append(order.local_id)
    return [
        Violation(
            kind=ViolationKind.DUPLICATE,
            local_id=ids[0],
            txids=(txid,),
            detail=f"exchange order {txid} is owned by {len(ids)} local orders: {', '.join(ids)}",
        )
        for txid, ids in owners.items()
        if len(ids) > 1
    ]


def identity_violations(local: Sequence[LocalOrder], truth: Sequence[Order]) -> list[Violation]:
    """Each local txid names an exchange order that carries this order's own identity,
    and has filled at least as much as the local order says."""
    by_txid = {o.txid: o for o in truth}
    found: list[Violation] = []
    for order in local:
        if order.kraken_order_id is None:
            continue
        placed = by_txid.get(order.kraken_order_id)
        if placed is None:
            found.append(_about(ViolationKind.PHANTOM, order, "no such exchange order"))
        elif placed.cl_ord_id != order.client_order_id or (
            order.client_order_id is None and placed.userref != order.userref
        ):
            found.append(
                _about(
                    ViolationKind.FOREIGN_ID,
                    order,
                    f"the exchange order carries cl_ord_id {placed.cl_ord_id}"
                    f" / userref {placed.userref}",
                )
            )
        elif order.cumulative_base_filled > placed.vol_exec:
            found.append(
                _about(
                    ViolationKind.OVERFILL,
                    order,
                    f"filled {order.cumulative_base_filled}, ahead of the exchange's"
                    f" {placed.vol_exec}",
                )
            )
    return found


def lost_client_ids(local: Sequence[LocalOrder], truth: Sequence[Order]) -> list[Violation]:
    """Exchange orders with one of our client ids that no local order knows."""
    known = _by_client_id(local)
    return [
        _lost(o)
        for o in truth
        if o.cl_ord_id is not None and is_local_id(o.cl_ord_id) and o.cl_ord_id not in known
    ]


def overfill_violations(local: Sequence[LocalOrder]) -> list[Violation]:
    """``0 <= filled <= requested`` for every local order."""
    return [
        _about(
            ViolationKind.OVERFILL,
            o,
            f"filled {o.cumulative_base_filled} of {o.requested_base_size} requested",
        )
        for o in local
        if not Decimal(0) <= o.cumulative_base_filled <= o.requested_base_size
    ]


def transition_violations(local_id: str, trail: Sequence[OrderEventRecord]) -> list[Violation]:
    """An audit trail starts where its creating event says, and moves along the table."""
    if not trail:
        return [_plain(ViolationKind.ILLEGAL_TRANSITION, local_id, "has no audit trail")]
    found: list[Violation] = []
    first = trail[0]
    wanted = _FIRST_STATUS.get(first.event or "")
    if wanted is not None and first.status is not wanted:
        found.append(
            _plain(
                ViolationKind.ILLEGAL_TRANSITION,
                local_id,
                f"was {first.event} in status {first.status.value}",
            )
        )
    found += [
        _plain(
            ViolationKind.ILLEGAL_TRANSITION,
            local_id,
            f"{before.status.value} -> {after.status.value} on {after.event} ({after.detail})",
        )
        for before, after in itertools.pairwise(trail)
        if (before.status, after.status) not in _LEGAL_EDGES
    ]
    return found


def memory_violations(
    memory: Sequence[LocalOrder], database: Sequence[LocalOrder]
) -> list[Violation]:
    """The service's live orders in memory equal the database's."""
    mem = {o.local_id: o for o in memory}
    disk = {o.local_id: o for o in database}
    only = [
        *((i, "memory") for i in sorted(mem.keys() - disk.keys())),
        *((i, "the database") for i in sorted(disk.keys() - mem.keys())),
    ]
    found = [_plain(ViolationKind.MEMORY_DB, i, f"is live in {where} only") for i, where in only]
    found += [
        _plain(ViolationKind.MEMORY_DB, i, f"memory {mem[i]!r} != database {disk[i]!r}")
        for i in sorted(mem.keys() & disk.keys())
        if mem[i] != disk[i]
    ]
    return found


def _step_checks(
    local: Sequence[LocalOrder],
    truth: Sequence[Order],
    trails: Trails | None,
    *,
    allow_adopted: bool = False,
    awaiting_adoption: bool = False,
) -> list[Violation]:
    first = None if trails is None else {i: (t[0].event if t else None) for i, t in trails.items()}
    found = duplicate_violations(local, truth, first, allow_adopted=allow_adopted)
    found += identity_violations(local, truth)
    if not awaiting_adoption:
        found += lost_client_ids(local, truth)
    found += overfill_violations(local)
    for local_id, trail in (trails or {}).items():
        found += transition_violations(local_id, trail)
    return found


# ---------------------------------------------------------------- true once settled


def _settled_checks(
    local: Sequence[LocalOrder],
    truth: Sequence[Order],
    pairs: PairLookup,
    userrefs: Collection[int],
) -> list[Violation]:
    refs = {*userrefs, *(o.userref for o in local if o.userref is not None)}
    by_txid: dict[str, LocalOrder] = {}
    for order in local:
        if order.kraken_order_id is not None:
            by_txid.setdefault(order.kraken_order_id, order)
    by_client_id = _by_client_id(local)
    found = [
        _about(ViolationKind.UNRESOLVED, o, f"still {o.status.value} once settled")
        for o in local
        if o.status in _UNRESOLVED
    ]
    for placed in truth:
        if not is_ours(placed, refs):
            continue
        owner = by_txid.get(placed.txid)
        if owner is not None:
            found += _compare(owner, placed, pairs)
            continue
        knower = by_client_id.get(placed.cl_ord_id) if placed.cl_ord_id is not None else None
        if knower is None:
            found.append(_lost(placed))
        else:
            found.append(
                _about(
                    ViolationKind.UNACKNOWLEDGED,
                    knower,
                    f"the exchange has it as {placed.txid} ({placed.status})",
                    placed,
                )
            )
    return found


def _compare(local: LocalOrder, placed: Order, pairs: PairLookup) -> list[Violation]:
    """One local order against the exchange order it owns through its txid."""
    found: list[Violation] = []
    wanted = expected_statuses(placed)
    if local.status not in wanted:
        found.append(
            _about(
                ViolationKind.STATUS,
                local,
                f"exchange says {placed.status} with {placed.vol_exec} filled"
                f" (expected {' or '.join(sorted(wanted))})",
                placed,
            )
        )
    if local.cumulative_base_filled != placed.vol_exec or local.requested_base_size != placed.vol:
        found.append(
            _about(
                ViolationKind.FILLED_VOLUME,
                local,
                f"local {local.cumulative_base_filled} of {local.requested_base_size},"
                f" exchange {placed.vol_exec} of {placed.vol}",
                placed,
            )
        )
    if placed.vol_exec > 0:
        price = rendered_avg_price(placed, pairs(placed.pair))
        if local.avg_fill_price != price:
            found.append(
                _about(
                    ViolationKind.AVG_PRICE,
                    local,
                    f"local average price {local.avg_fill_price}, exchange {price}",
                    placed,
                )
            )
    return found


# ---------------------------------------------------------------- entry points


def check_invariants(
    local_orders: Sequence[LocalOrder],
    exchange_orders: Sequence[Order],
    *,
    pairs: PairLookup,
    userrefs: Collection[int] = (),
    reconciled: bool = True,
    trails: Trails | None = None,
) -> list[Violation]:
    """Every broken invariant between local orders and the account's exchange orders.

    Args:
        local_orders: every local order (the database's view).
        exchange_orders: every order of the account on the exchange (`Exchange.orders`).
        pairs: the exchange's pair metadata (``exchange.venue.meta``), for prices.
        userrefs: strategy userrefs that mark an exchange order as ours; the local
            orders' own userrefs count too.
        reconciled: settled and just reconciled, so every order of ours must be owned,
            and statuses, fills and prices must match; False checks what holds after
            any step.
        trails: the orders' audit trails (`trails_of`), to check adoptions and
            transitions too.
    """
    found = _step_checks(local_orders, exchange_orders, trails)
    if reconciled:
        found += _settled_checks(local_orders, exchange_orders, pairs, userrefs)
    return _once(found)


def trails_of(
    store: ExecutionStore, orders: Iterable[LocalOrder]
) -> dict[str, list[OrderEventRecord]]:
    """The audit trail of each order, by local id (one read of every trail)."""
    every = store.trails()
    return {o.local_id: every.get(o.local_id, []) for o in orders}


def check_store(
    store: ExecutionStore,
    exchange: Exchange,
    api_key: str,
    *,
    userrefs: Collection[int] = (),
    reconciled: bool = True,
) -> list[Violation]:
    """`check_invariants` over every order of ``store``, with its audit trails, and the
    account ``api_key``."""
    local = store.recent_orders(ALL_ORDERS)
    return check_invariants(
        local,
        exchange.orders(api_key),
        pairs=exchange.venue.meta,
        userrefs=userrefs,
        reconciled=reconciled,
        trails=trails_of(store, local),
    )


def step_violations(
    store: ExecutionStore,
    exchange: Exchange,
    api_key: str,
    *,
    memory_live: Sequence[LocalOrder] | None = None,
    allow_adopted: bool = False,
    awaiting_adoption: bool = False,
) -> list[Violation]:
    """Everything that must hold after any step (see the module docstring).

    ``memory_live``: the service's live orders, compared with the database's;
    ``allow_adopted``: the database was deliberately lost, so adoptions are expected;
    ``awaiting_adoption``: and no reconciliation has succeeded since, so orders of ours
    on the exchange are not known locally yet (they must be once one succeeds).
    """
    local = store.recent_orders(ALL_ORDERS)
    found = _step_checks(
        local,
        exchange.orders(api_key),
        trails_of(store, local),
        allow_adopted=allow_adopted,
        awaiting_adoption=awaiting_adoption,
    )
    if memory_live is not None:
        found += memory_violations(memory_live, store.live_orders())
    return _once(found)


def settled_violations(
    store: ExecutionStore, exchange: Exchange, api_key: str, *, userrefs: Collection[int] = ()
) -> list[Violation]:
    """What must hold once settled, after a clean reconciliation (module docstring)."""
    local = store.recent_orders(ALL_ORDERS)
    return _once(_settled_checks(local, exchange.orders(api_key), exchange.venue.meta, userrefs))


# ---------------------------------------------------------------- helpers


def _by_client_id(local: Sequence[LocalOrder]) -> dict[str, LocalOrder]:
    """Local orders by the client ids they are known by (their own, and their local id)."""
    known = {o.local_id: o for o in local}
    known.update({o.client_order_id: o for o in local if o.client_order_id is not None})
    return known


def _once(found: Iterable[Violation]) -> list[Violation]:
    return list(dict.fromkeys(found))


def _lost(placed: Order) -> Violation:
    return Violation(
        kind=ViolationKind.LOST,
        local_id=None,
        txids=(placed.txid,),
        detail=f"exchange order {placed.txid} ({placed.side} {placed.vol} {placed.pair},"
        f" cl_ord_id {placed.cl_ord_id}, userref {placed.userref}, {placed.status})"
        " is unknown locally",
    )


def _about(
    kind: ViolationKind, local: LocalOrder, detail: str, placed: Order | None = None
) -> Violation:
    txid = placed.txid if placed is not None else local.kraken_order_id
    return Violation(
        kind=kind,
        local_id=local.local_id,
        txids=() if txid is None else (txid,),
        detail=f"order {local.local_id} ({local.side.value} {local.requested_base_size}"
        f" {local.pair}, {local.status.value}, txid {local.kraken_order_id}): {detail}",
    )


def _plain(kind: ViolationKind, local_id: str, detail: str) -> Violation:
    return Violation(kind=kind, local_id=local_id, txids=(), detail=f"order {local_id} {detail}")
