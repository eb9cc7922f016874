"""Invariants between this layer's records and the exchange's truth.

After a run against the fake exchange, the exchange knows what really happened
(`kraken_sim.Order`: every order the account ever placed); the SQLite database
says what the execution layer believes. The two must agree:

* **lost**: every exchange order carrying one of our client order ids (or one
  of our userrefs) is known locally, by txid or by client order id;
* **duplicate**: no local order owns two exchange orders;
* **overfill**: no local order has filled more than it asked for (always checked);
* after reconciliation (``reconciled=True``):

  * **unresolved**: no local order is still ``pending``/``submitted``;
  * **unacknowledged**: an order the exchange has is known locally by its txid;
  * **status**: the local status matches the exchange status
    (closed: filled; canceled: canceled; expired: expired; open: open, or
    partially_filled once something filled); an order the exchange has is
    never ``error`` or ``rejected`` locally;
  * **filled_volume**: the local filled volume equals the exchange's ``vol_exec``;
  * **avg_price**: the local average fill price equals the exchange's (Kraken
    rounds it to the pair's price decimals, hence a relative tolerance);
  * **phantom**: a local txid names an order the exchange has.

`check_invariants` takes plain records, so a stateful test can call it after
every step (``reconciled=False`` between reconciliations); `check_store`
reads them from a store and an exchange.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from kraken_bot.execution.codec import JsonObject, encode_decimal
from kraken_bot.execution.ids import is_local_id
from kraken_bot.execution.models import LocalOrder, OrderStatus
from kraken_bot.execution.store import ExecutionStore
from kraken_sim import Exchange, Order

__all__ = [
    "DEFAULT_PRICE_TOLERANCE",
    "Violation",
    "ViolationKind",
    "check_invariants",
    "check_store",
    "expected_statuses",
    "is_ours",
]

DEFAULT_PRICE_TOLERANCE: Final = Decimal("0.0001")
"""Relative difference allowed between local and exchange average prices (1 bp)."""

_UNRESOLVED: Final = frozenset({OrderStatus.PENDING, OrderStatus.SUBMITTED})
_ALL_ORDERS: Final = 1_000_000_000


class ViolationKind(StrEnum):
    """What broke (see the module docstring)."""

    LOST = "lost"
    DUPLICATE = "duplicate"
    OVERFILL = "overfill"
    UNRESOLVED = "unresolved"
    UNACKNOWLEDGED = "unacknowledged"
    STATUS = "status"
    FILLED_VOLUME = "filled_volume"
    AVG_PRICE = "avg_price"
    PHANTOM = "phantom"


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


def expected_statuses(exchange_order: Order) -> frozenset[OrderStatus]:
    """The local statuses that agree with an exchange order's status and fills."""
    filled = exchange_order.vol_exec > 0
    if exchange_order.status == "closed":
        return frozenset({OrderStatus.FILLED})
    if exchange_order.status == "canceled":
        return frozenset({OrderStatus.CANCELED})
    if exchange_order.status == "expired":
        return frozenset({OrderStatus.EXPIRED})
    return frozenset({OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.OPEN})


def is_ours(order: Order, userrefs: Collection[int]) -> bool:
    """An exchange order this layer placed: our client order id, or one of our userrefs."""
    if order.cl_ord_id is not None:
        return is_local_id(order.cl_ord_id)
    return order.userref is not None and order.userref in userrefs


def _owner(
    order: Order, by_txid: dict[str, LocalOrder], by_client_id: dict[str, LocalOrder]
) -> LocalOrder | None:
    owner = by_txid.get(order.txid)
    if owner is None and order.cl_ord_id is not None:
        owner = by_client_id.get(order.cl_ord_id)
    return owner


def check_invariants(
    local_orders: Sequence[LocalOrder],
    exchange_orders: Sequence[Order],
    *,
    userrefs: Collection[int] = (),
    reconciled: bool = True,
    price_tolerance: Decimal = DEFAULT_PRICE_TOLERANCE,
) -> list[Violation]:
    """Every broken invariant between local orders and the account's exchange orders.

    Args:
        local_orders: every local order (the database's view).
        exchange_orders: every order of the account on the exchange (`Exchange.orders`).
        userrefs: strategy userrefs that mark an exchange order as ours; the local
            orders' own userrefs count too.
        reconciled: the local side has just been reconciled, so status, fills and
            prices must match; False checks only lost, duplicate and overfill.
        price_tolerance: relative tolerance on average fill prices.
    """
    refs = {*userrefs, *(o.userref for o in local_orders if o.userref is not None)}
    by_txid = {o.kraken_order_id: o for o in local_orders if o.kraken_order_id is not None}
    by_client_id = {o.client_order_id: o for o in local_orders if o.client_order_id is not None}
    found: list[Violation] = []
    owned: dict[str, list[Order]] = defaultdict(list)
    for order in exchange_orders:
        if not is_ours(order, refs):
            continue
        owner = _owner(order, by_txid, by_client_id)
        if owner is None:
            found.append(
                Violation(
                    kind=ViolationKind.LOST,
                    local_id=None,
                    txids=(order.txid,),
                    detail=f"exchange order {order.txid} ({order.side} {order.vol} {order.pair},"
                    f" cl_ord_id {order.cl_ord_id}, userref {order.userref}) is unknown locally",
                )
            )
            continue
        owned[owner.local_id].append(order)
    for local_id, twins in owned.items():
        if len(twins) > 1:
            txids = tuple(t.txid for t in twins)
            found.append(
                Violation(
                    kind=ViolationKind.DUPLICATE,
                    local_id=local_id,
                    txids=txids,
                    detail=f"local order {local_id} has {len(twins)} exchange orders:"
                    f" {', '.join(txids)}",
                )
            )
    found.extend(_shared_txids(local_orders))
    all_txids = {o.txid for o in exchange_orders}
    for local in local_orders:
        found.extend(_check_local(local, all_txids, reconciled=reconciled))
        if reconciled and len(owned.get(local.local_id, [])) == 1:
            found.extend(_compare(local, owned[local.local_id][0], price_tolerance))
    return found


def _shared_txids(local_orders: Sequence[LocalOrder]) -> list[Violation]:
    """One exchange order owned by two local orders: a phantom fill on one of them."""
    owners: dict[str, list[str]] = defaultdict(list)
    for local in local_orders:
        if local.kraken_order_id is not None:
            owners[local.kraken_order_id].append(local.local_id)
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


def _check_local(
    local: LocalOrder, all_txids: Collection[str], *, reconciled: bool
) -> list[Violation]:
    found: list[Violation] = []
    if local.cumulative_base_filled > local.requested_base_size:
        found.append(
            _violation(
                ViolationKind.OVERFILL,
                local,
                f"filled {local.cumulative_base_filled} of {local.requested_base_size} requested",
            )
        )
    if not reconciled:
        return found
    if local.status in _UNRESOLVED:
        found.append(
            _violation(
                ViolationKind.UNRESOLVED,
                local,
                f"still {local.status.value} after reconciliation",
            )
        )
    if local.kraken_order_id is not None and local.kraken_order_id not in all_txids:
        found.append(
            _violation(
                ViolationKind.PHANTOM,
                local,
                f"local txid {local.kraken_order_id} is not an order of the exchange",
            )
        )
    return found


def _compare(local: LocalOrder, twin: Order, tolerance: Decimal) -> list[Violation]:
    found: list[Violation] = []
    if local.kraken_order_id != twin.txid:
        found.append(
            _violation(
                ViolationKind.UNACKNOWLEDGED,
                local,
                f"the exchange has it as {twin.txid}, the local record says"
                f" {local.kraken_order_id}",
                twin,
            )
        )
    wanted = expected_statuses(twin)
    if local.status not in wanted:
        found.append(
            _violation(
                ViolationKind.STATUS,
                local,
                f"local status {local.status.value}, exchange {twin.status} with"
                f" {twin.vol_exec} filled (expected {' or '.join(sorted(wanted))})",
                twin,
            )
        )
    if local.cumulative_base_filled != twin.vol_exec:
        found.append(
            _violation(
                ViolationKind.FILLED_VOLUME,
                local,
                f"local filled {local.cumulative_base_filled}, exchange {twin.vol_exec}",
                twin,
            )
        )
    if twin.vol_exec > 0 and not _close(local.avg_fill_price, twin.avg_price, tolerance):
        found.append(
            _violation(
                ViolationKind.AVG_PRICE,
                local,
                f"local average price {local.avg_fill_price}, exchange"
                f" {encode_decimal(twin.avg_price)}",
                twin,
            )
        )
    return found


def _close(local: Decimal | None, truth: Decimal, tolerance: Decimal) -> bool:
    if local is None:
        return False
    return abs(local - truth) <= abs(truth) * tolerance


def _violation(
    kind: ViolationKind, local: LocalOrder, detail: str, twin: Order | None = None
) -> Violation:
    txids = (twin.txid,) if twin is not None else ()
    if not txids and local.kraken_order_id is not None:
        txids = (local.kraken_order_id,)
    return Violation(
        kind=kind,
        local_id=local.local_id,
        txids=txids,
        detail=f"order {local.local_id} ({local.side.value} {local.requested_base_size}"
        f" {local.pair}): {detail}",
    )


def check_store(
    store: ExecutionStore,
    exchange: Exchange,
    api_key: str,
    *,
    userrefs: Collection[int] = (),
    reconciled: bool = True,
) -> list[Violation]:
    """`check_invariants` over every order of ``store`` and the account ``api_key``."""
    return check_invariants(
        store.recent_orders(_ALL_ORDERS),
        exchange.orders(api_key),
        userrefs=userrefs,
        reconciled=reconciled,
    )
