"""The promises of the execution layer, checked against the fake exchange's truth.

`tests.e2e.test_service_faults.assert_consistent`, generalised: instead of
asserting, every check returns `Violation`s, so a campaign can count them
(figures) before failing, and a stateful test can run the cheap ones after
every step.

Always true, after any step (`step_violations`):

* **duplicate**: no client order id is on two exchange orders, no txid is
  owned by two local orders, and no exchange order was *adopted* (with the
  database intact, every order we place is written before it is sent, so an
  exchange order that reconciliation had to adopt was sent twice, or lost
  track of);
* **foreign id**: the exchange order a local order points at carries that
  local order's own client id (or userref), and exists (no phantom txid);
* **lost**: every exchange order carrying one of our client ids is known
  locally by that client id;
* **overfill**: filled <= requested, and the local fill never runs ahead of
  the exchange's ``vol_exec``;
* **illegal transition**: consecutive statuses of an order's audit trail are an
  edge of `lifecycle.TRANSITIONS` (or a self-loop);
* **memory != database**: the service's live orders in memory equal the
  database's.

True once settled (`settled_violations`: faults off, time past every hiding
window, a clean reconciliation): every exchange order carrying our client id
or userref is owned by exactly one local order through its txid, no local
order is still pending or submitted, and status, filled volume and average
price equal the exchange's (the price as Kraken renders it, to the pair's
decimals).

`kraken_bot.simulation.invariants` (what ``krakked sim`` checks) gives a second,
independent opinion on the settled state: when the checks here find nothing,
its violations are reported too. It is not enough on its own: it checks
neither audit trails nor memory against the database, its price check has a
tolerance, and it indexes local orders by txid, so two local orders claiming
one exchange order (the duplicate `duplicate_violations` reports) pass it.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from kraken_bot.execution.ids import is_local_id
from kraken_bot.execution.lifecycle import TRANSITIONS
from kraken_bot.execution.models import LocalOrder, OrderStatus
from kraken_bot.execution.store import ExecutionStore, OrderEventRecord
from kraken_bot.simulation import invariants as simulation
from kraken_bot.simulation.invariants import is_ours
from kraken_sim import Exchange, Order
from kraken_sim.orders import order_info

ALL: Final = 10**9

LEGAL_EDGES: Final = frozenset(
    {(source, target) for (source, _kind), target in TRANSITIONS.items()}
    | {(status, status) for status in OrderStatus}
)
"""Every (status, next status) pair the transition table allows, plus self-loops."""

FIRST_STATUS: Final = {"created": OrderStatus.PENDING, "guardrail": OrderStatus.ERROR}
"""The status an order's first audit row must have, by the event that created it."""

EXPECTED: Final = {
    "closed": frozenset({OrderStatus.FILLED}),
    "canceled": frozenset({OrderStatus.CANCELED}),
    "expired": frozenset({OrderStatus.EXPIRED}),
    "pending": frozenset({OrderStatus.SUBMITTED}),
}
_UNRESOLVED: Final = frozenset({OrderStatus.PENDING, OrderStatus.SUBMITTED})


class Kind(StrEnum):
    """Which promise broke; the figures file counts them in three groups."""

    DUPLICATE = "duplicate"
    ADOPTED = "adopted"
    LOST = "lost"
    FOREIGN_ID = "foreign_id"
    PHANTOM = "phantom"
    OVERFILL = "overfill"
    ILLEGAL_TRANSITION = "illegal_transition"
    MEMORY_DB = "memory_db"
    UNRESOLVED = "unresolved"
    UNOWNED = "unowned"
    STATUS = "status"
    FILLED = "filled"
    AVG_PRICE = "avg_price"


DUPLICATE_KINDS: Final = frozenset({Kind.DUPLICATE, Kind.ADOPTED})
LOST_KINDS: Final = frozenset({Kind.LOST, Kind.UNOWNED})


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken promise, in words."""

    kind: Kind
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.detail}"


def tally(violations: Iterable[Violation]) -> dict[str, int]:
    """Counts for the figures file: duplicates, lost orders, and all violations."""
    found = list(violations)
    return {
        "duplicates": sum(v.kind in DUPLICATE_KINDS for v in found),
        "lost_orders": sum(v.kind in LOST_KINDS for v in found),
        "invariant_violations": len(found),
    }


# ---------------------------------------------------------------- helpers


def rendered_avg_price(exchange: Exchange, order: Order) -> Decimal:
    """The average price as Kraken's order info renders it (the pair's price decimals)."""
    info = order_info(order, exchange.venue.meta(order.pair), with_trades=False)
    return Decimal(str(info["price"]))


def expected_statuses(order: Order) -> frozenset[OrderStatus]:
    """Local statuses that agree with an exchange order."""
    if order.status == "open":
        return frozenset({OrderStatus.PARTIALLY_FILLED if order.vol_exec > 0 else OrderStatus.OPEN})
    return EXPECTED[order.status]


def _label(order: LocalOrder) -> str:
    return (
        f"{order.local_id} ({order.side.value} {order.requested_base_size} {order.pair},"
        f" {order.status.value}, txid {order.kraken_order_id})"
    )


# ---------------------------------------------------------------- always true


def duplicate_violations(
    local: Sequence[LocalOrder],
    truth: Sequence[Order],
    first_events: Mapping[str, str | None],
    *,
    allow_adopted: bool = False,
) -> list[Violation]:
    """Two exchange orders for one client id, two local orders for one txid, adoptions
    (unless ``allow_adopted``: the database was deliberately lost, adoption rebuilds it)."""
    found: list[Violation] = []
    per_client_id = Counter(o.cl_ord_id for o in truth if o.cl_ord_id is not None)
    found += [
        Violation(Kind.DUPLICATE, f"client id {cid} is on {n} exchange orders")
        for cid, n in per_client_id.items()
        if n > 1
    ]
    per_txid = Counter(o.kraken_order_id for o in local if o.kraken_order_id is not None)
    found += [
        Violation(Kind.DUPLICATE, f"txid {txid} is owned by {n} local orders")
        for txid, n in per_txid.items()
        if n > 1
    ]
    found += [
        Violation(Kind.ADOPTED, f"order {_label(o)} had to be adopted from the exchange")
        for o in local
        if first_events.get(o.local_id) == "adopted" and not allow_adopted
    ]
    return found


def identity_violations(local: Sequence[LocalOrder], truth: Sequence[Order]) -> list[Violation]:
    """Each local txid names an exchange order that carries this order's own identity."""
    by_txid = {o.txid: o for o in truth}
    found: list[Violation] = []
    for order in local:
        if order.kraken_order_id is None:
            continue
        placed = by_txid.get(order.kraken_order_id)
        if placed is None:
            found.append(Violation(Kind.PHANTOM, f"{_label(order)}: no such exchange order"))
            continue
        if placed.cl_ord_id != order.client_order_id or (
            order.client_order_id is None and placed.userref != order.userref
        ):
            found.append(
                Violation(
                    Kind.FOREIGN_ID,
                    f"{_label(order)} points at {placed.txid} carrying cl_ord_id"
                    f" {placed.cl_ord_id} / userref {placed.userref}",
                )
            )
        elif order.cumulative_base_filled > placed.vol_exec:
            found.append(
                Violation(
                    Kind.OVERFILL,
                    f"{_label(order)} filled {order.cumulative_base_filled}, ahead of the"
                    f" exchange's {placed.vol_exec}",
                )
            )
    return found


def lost_client_ids(local: Sequence[LocalOrder], truth: Sequence[Order]) -> list[Violation]:
    """Exchange orders with one of our client ids that no local order knows."""
    known = {o.client_order_id for o in local if o.client_order_id is not None}
    known |= {o.local_id for o in local}
    return [
        Violation(Kind.LOST, f"exchange order {o.txid} ({o.cl_ord_id}) is unknown locally")
        for o in truth
        if o.cl_ord_id is not None and is_local_id(o.cl_ord_id) and o.cl_ord_id not in known
    ]


def overfill_violations(local: Sequence[LocalOrder]) -> list[Violation]:
    """filled <= requested, and no negative fill."""
    return [
        Violation(
            Kind.OVERFILL,
            f"{_label(o)} filled {o.cumulative_base_filled} of {o.requested_base_size}",
        )
        for o in local
        if not Decimal(0) <= o.cumulative_base_filled <= o.requested_base_size
    ]


def transition_violations(local_id: str, trail: Sequence[OrderEventRecord]) -> list[Violation]:
    """Consecutive statuses of one audit trail must be edges of the transition table."""
    if not trail:
        return [Violation(Kind.ILLEGAL_TRANSITION, f"order {local_id} has no audit trail")]
    found: list[Violation] = []
    first = trail[0]
    wanted = FIRST_STATUS.get(first.event or "")
    if wanted is not None and first.status is not wanted:
        found.append(
            Violation(
                Kind.ILLEGAL_TRANSITION,
                f"order {local_id} was {first.event} in status {first.status.value}",
            )
        )
    for before, after in itertools.pairwise(trail):
        if (before.status, after.status) not in LEGAL_EDGES:
            found.append(
                Violation(
                    Kind.ILLEGAL_TRANSITION,
                    f"order {local_id}: {before.status.value} -> {after.status.value}"
                    f" on {after.event} ({after.detail})",
                )
            )
    return found


def memory_violations(
    memory: Sequence[LocalOrder], database: Sequence[LocalOrder]
) -> list[Violation]:
    """The service's live orders in memory equal the database's."""
    mem = {o.local_id: o for o in memory}
    disk = {o.local_id: o for o in database}
    found = [
        Violation(Kind.MEMORY_DB, f"order {i} is live in {where} only")
        for i, where in [
            *((i, "memory") for i in mem.keys() - disk.keys()),
            *((i, "the database") for i in disk.keys() - mem.keys()),
        ]
    ]
    found += [
        Violation(Kind.MEMORY_DB, f"order {i}: memory {mem[i]!r} != database {disk[i]!r}")
        for i in sorted(mem.keys() & disk.keys())
        if mem[i] != disk[i]
    ]
    return found


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

    ``allow_adopted``: the database was deliberately lost, so adoptions are expected;
    ``awaiting_adoption``: and no reconciliation has succeeded since, so orders of ours
    on the exchange are not known locally yet (they must be once one succeeds).
    """
    local = store.recent_orders(ALL)
    truth = exchange.orders(api_key)
    trails = {o.local_id: store.events_for(o.local_id) for o in local}
    first = {i: (t[0].event if t else None) for i, t in trails.items()}
    found = duplicate_violations(local, truth, first, allow_adopted=allow_adopted)
    found += identity_violations(local, truth)
    if not awaiting_adoption:
        found += lost_client_ids(local, truth)
    found += overfill_violations(local)
    for local_id, trail in trails.items():
        found += transition_violations(local_id, trail)
    if memory_live is not None:
        found += memory_violations(memory_live, store.live_orders())
    return found


# ---------------------------------------------------------------- once settled


def settled_violations(
    store: ExecutionStore, exchange: Exchange, api_key: str, *, userrefs: Collection[int] = ()
) -> list[Violation]:
    """What must hold after a clean reconciliation with faults off (module docstring)."""
    local = store.recent_orders(ALL)
    truth = exchange.orders(api_key)
    refs = {*userrefs, *(o.userref for o in local if o.userref is not None)}
    owners: dict[str, list[LocalOrder]] = defaultdict(list)
    for order in local:
        if order.kraken_order_id is not None:
            owners[order.kraken_order_id].append(order)
    found = [
        Violation(Kind.UNRESOLVED, f"{_label(o)} is still {o.status.value}")
        for o in local
        if o.status in _UNRESOLVED
    ]
    for placed in truth:
        if not is_ours(placed, refs):
            continue
        mine = owners.get(placed.txid, [])
        if not mine:
            found.append(
                Violation(
                    Kind.UNOWNED,
                    f"exchange order {placed.txid} ({placed.side} {placed.vol} {placed.pair},"
                    f" cl_ord_id {placed.cl_ord_id}, userref {placed.userref}, {placed.status})"
                    " is owned by no local order",
                )
            )
            continue
        found += _compare(exchange, mine[0], placed)
    if not found:
        found = _second_opinion(local, truth, refs)
    return found


_THEIR_KINDS: Final = {
    simulation.ViolationKind.LOST: Kind.LOST,
    simulation.ViolationKind.DUPLICATE: Kind.DUPLICATE,
    simulation.ViolationKind.OVERFILL: Kind.OVERFILL,
    simulation.ViolationKind.UNRESOLVED: Kind.UNRESOLVED,
    simulation.ViolationKind.UNACKNOWLEDGED: Kind.UNOWNED,
    simulation.ViolationKind.STATUS: Kind.STATUS,
    simulation.ViolationKind.FILLED_VOLUME: Kind.FILLED,
    simulation.ViolationKind.AVG_PRICE: Kind.AVG_PRICE,
    simulation.ViolationKind.PHANTOM: Kind.PHANTOM,
}


def _second_opinion(
    local: Sequence[LocalOrder], truth: Sequence[Order], refs: Collection[int]
) -> list[Violation]:
    theirs = simulation.check_invariants(local, truth, userrefs=refs, reconciled=True)
    return [
        Violation(_THEIR_KINDS.get(v.kind, Kind.STATUS), f"simulation.invariants: {v}")
        for v in theirs
    ]


def _compare(exchange: Exchange, local: LocalOrder, placed: Order) -> list[Violation]:
    found: list[Violation] = []
    wanted = expected_statuses(placed)
    if local.status not in wanted:
        found.append(
            Violation(
                Kind.STATUS,
                f"{_label(local)}: exchange says {placed.status} with {placed.vol_exec} filled",
            )
        )
    if local.cumulative_base_filled != placed.vol_exec or local.requested_base_size != placed.vol:
        found.append(
            Violation(
                Kind.FILLED,
                f"{_label(local)}: local {local.cumulative_base_filled} of"
                f" {local.requested_base_size}, exchange {placed.vol_exec} of {placed.vol}",
            )
        )
    if placed.vol_exec > 0:
        price = rendered_avg_price(exchange, placed)
        if local.avg_fill_price != price:
            found.append(
                Violation(
                    Kind.AVG_PRICE,
                    f"{_label(local)}: local average {local.avg_fill_price}, exchange {price}",
                )
            )
    return found
