"""Pure: the execution store as a value: what `InMemoryExecutionStore` keeps, and its rules.

A `StoreState` holds every record as the codec's round trip of what was saved, so a
record comes back normalised exactly as SQLite returns it. Each order keeps the row
number it was first stored under (an upsert keeps it, as SQLite keeps a ``rowid``),
which breaks ties in the orderings the way ``rowid`` does, and the version its last
write gave it.

Every write is a function from a state to the next state (and its answer); the
in-memory store keeps the current state under its lock, and nothing here knows of
locks. The rules are the SQLite store's:

* a write replaces the order's snapshot and appends one audit row;
* `update_order` is compare-and-set on the version, and refuses to link a Kraken
  txid another order owns (`TxidTakenError`);
* `adopt_order` never overwrites a record;
* one result per plan (a later save replaces it, keeping its row).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from pyrsistent import PMap, PVector, pmap, pvector
from returns.pipeline import is_successful
from returns.result import Result

from kraken_bot.execution.core._store.records import OrderEventRecord
from kraken_bot.execution.core.codec import (
    CodecError,
    JsonObject,
    order_from_json,
    result_from_json,
)
from kraken_bot.execution.core.models import (
    TRACKED_STATUSES,
    ExecutionResult,
    LocalOrder,
    OrderStatus,
)
from kraken_bot.execution.exceptions import StoreError, TxidTakenError

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order record: its row number, its latest snapshot, and its version."""

    row: int
    order: LocalOrder
    version: int


@dataclass(frozen=True, slots=True)
class StoreState:
    """Every record of an in-memory store (see the module docstring)."""

    orders: PMap[str, StoredOrder] = field(default_factory=pmap)
    results: PMap[str, tuple[int, ExecutionResult]] = field(default_factory=pmap)
    events: PMap[str, PVector[OrderEventRecord]] = field(default_factory=pmap)
    last_row: int = 0
    last_event: int = 0


def _round_trip(decoded: Result[_T, CodecError]) -> _T:
    if is_successful(decoded):
        return decoded.unwrap()
    raise StoreError(f"record cannot be stored: {decoded.failure()}")


# ------------------------------------------------------------------ writing


def _audit(
    state: StoreState,
    *,
    local_id: str,
    at: datetime,
    status: OrderStatus,
    event: str | None,
    detail: str | None,
) -> StoreState:
    number = state.last_event + 1
    record = OrderEventRecord(
        id=number, local_id=local_id, at=at, status=status, event=event, detail=detail
    )
    trail = state.events.get(local_id, pvector())
    return replace(
        state, events=state.events.set(local_id, trail.append(record)), last_event=number
    )


def put_order(
    state: StoreState, snapshot: JsonObject, event: str | None, detail: str | None
) -> StoreState:
    """Store an order's snapshot (the codec's encoding) and append one audit row.

    Raises:
        StoreError: the snapshot does not decode (nothing is stored).
    """
    stored = _round_trip(order_from_json(snapshot))
    known = state.orders.get(stored.local_id)
    if known is None:
        row, version, last_row = state.last_row + 1, 1, state.last_row + 1
    else:
        row, version, last_row = known.row, known.version + 1, state.last_row
    record = StoredOrder(row=row, order=stored, version=version)
    state = replace(state, orders=state.orders.set(stored.local_id, record), last_row=last_row)
    return _audit(
        state,
        local_id=stored.local_id,
        at=stored.updated_at,
        status=stored.status,
        event=event,
        detail=detail,
    )


def put_orders(state: StoreState, snapshots: Iterable[JsonObject], event: str | None) -> StoreState:
    """`put_order` for each snapshot, in order: all stored, or (raising) none."""
    for snapshot in snapshots:
        state = put_order(state, snapshot, event, None)
    return state


def update_order(
    state: StoreState,
    order: LocalOrder,
    snapshot: JsonObject,
    *,
    expected_version: int,
    event: str | None,
    detail: str | None,
    linking: bool,
) -> tuple[StoreState, int | None]:
    """Write ``order`` (as ``snapshot``) only if its version is still ``expected_version``.

    Returns the next state and the new version, or the same state and None when
    another write came first or the order is not stored (it is never inserted here).
    With ``linking``, checked first: a Kraken txid the stored order does not have yet
    and another order has raises `TxidTakenError`, and nothing is written.
    """
    if linking:
        _refuse_a_taken_txid(state, order)
    known = state.orders.get(order.local_id)
    if known is None or known.version != expected_version:
        return state, None
    state = put_order(state, snapshot, event, detail)
    return state, version_of(state, order.local_id)


def _refuse_a_taken_txid(state: StoreState, order: LocalOrder) -> None:
    txid = order.kraken_order_id
    if txid is None:
        return
    known = state.orders.get(order.local_id)
    if known is not None and known.order.kraken_order_id == txid:
        return  # linked before: left as it is
    for other in state.orders.values():
        if other.order.kraken_order_id == txid and other.order.local_id != order.local_id:
            raise TxidTakenError(f"txid {txid} is owned by order {other.order.local_id}")


def adopt_order(
    state: StoreState,
    order: LocalOrder,
    snapshot: JsonObject,
    *,
    event: str | None,
    detail: str | None,
) -> tuple[StoreState, bool]:
    """Insert a record for an exchange order no local order owns; True when inserted.

    Nothing is written (False) when a record exists for ``order``'s local id, or
    another order has its txid.
    """
    if order.local_id in state.orders:
        return state, False
    try:
        _refuse_a_taken_txid(state, order)
    except TxidTakenError:
        return state, False
    return put_order(state, snapshot, event, detail), True


def note_event(
    state: StoreState,
    order: LocalOrder,
    event: str,
    detail: str | None,
    *,
    at: datetime,
) -> StoreState:
    """Append an audit row without changing the order, with the status the stored order
    has now; nothing for an order that is not stored (as SQLite's ``INSERT ... SELECT``)."""
    known = state.orders.get(order.local_id)
    if known is None:
        return state
    status = known.order.status
    return _audit(state, local_id=order.local_id, at=at, status=status, event=event, detail=detail)


def decode_result(snapshot: JsonObject) -> ExecutionResult:
    """A result as stored: the codec's round trip of ``snapshot``.

    Raises:
        StoreError: it does not decode.
    """
    return _round_trip(result_from_json(snapshot))


def save_result(state: StoreState, result: ExecutionResult) -> StoreState:
    """Store a decoded plan result, replacing an earlier one for the same plan (its row
    is kept)."""
    known = state.results.get(result.plan_id)
    if known is None:
        row, last_row = state.last_row + 1, state.last_row + 1
    else:
        row, last_row = known[0], state.last_row
    return replace(
        state, results=state.results.set(result.plan_id, (row, result)), last_row=last_row
    )


# ------------------------------------------------------------------ reading


def version_of(state: StoreState, local_id: str) -> int:
    """The order's version (0: not stored)."""
    known = state.orders.get(local_id)
    return 0 if known is None else known.version


def versioned(state: StoreState, local_id: str) -> tuple[LocalOrder, int] | None:
    """An order and its version."""
    known = state.orders.get(local_id)
    return None if known is None else (known.order, known.version)


def newest(state: StoreState, matches: Callable[[LocalOrder], bool]) -> LocalOrder | None:
    """The most recently inserted order that ``matches`` (None: none does)."""
    found = [known for known in state.orders.values() if matches(known.order)]
    return max(found, key=lambda known: known.row).order if found else None


def live_versioned(state: StoreState) -> list[tuple[LocalOrder, int]]:
    """Orders whose status is in `TRACKED_STATUSES`, with versions, oldest first."""
    live = [k for k in state.orders.values() if k.order.status in TRACKED_STATUSES]
    live.sort(key=lambda k: (k.order.created_at, k.row))
    return [(k.order, k.version) for k in live]


def orders_for_plan(state: StoreState, plan_id: str) -> list[LocalOrder]:
    """A plan's orders in action order (orders without one last), then creation time."""

    def key(known: StoredOrder) -> tuple[bool, int, datetime, int]:
        index = known.order.action_index
        return (index is None, index or 0, known.order.created_at, known.row)

    found = [k for k in state.orders.values() if k.order.plan_id == plan_id]
    return [k.order for k in sorted(found, key=key)]


def status_counts(state: StoreState) -> dict[str, int]:
    """How many orders are in each status."""
    counts: dict[str, int] = {}
    for known in state.orders.values():
        status = known.order.status.value
        counts[status] = counts.get(status, 0) + 1
    return counts


def userrefs(state: StoreState) -> frozenset[int]:
    """Every userref on a stored order."""
    return frozenset(k.order.userref for k in state.orders.values() if k.order.userref)


def _newest_first(items: Sequence[_T], limit: int) -> list[_T]:
    return list(reversed(items[-limit:])) if limit else []


def recent_orders(state: StoreState, limit: int) -> list[LocalOrder]:
    """The ``limit`` (>= 0, see `check_limit`) most recently created orders, newest first."""
    known = sorted(state.orders.values(), key=lambda k: (k.order.created_at, k.row))
    return _newest_first([k.order for k in known], limit)


def recent_results(state: StoreState, limit: int) -> list[ExecutionResult]:
    """The ``limit`` (>= 0) most recently started results, newest first."""
    rows = sorted(state.results.values(), key=lambda item: (item[1].started_at, item[0]))
    return _newest_first([result for _, result in rows], limit)


def trails(state: StoreState) -> dict[str, list[OrderEventRecord]]:
    """Every order's audit trail (oldest first), by local id."""
    return {local_id: list(trail) for local_id, trail in state.events.items()}


__all__ = [
    "StoreState",
    "StoredOrder",
    "adopt_order",
    "decode_result",
    "live_versioned",
    "newest",
    "note_event",
    "orders_for_plan",
    "put_order",
    "put_orders",
    "recent_orders",
    "recent_results",
    "save_result",
    "status_counts",
    "trails",
    "update_order",
    "userrefs",
    "version_of",
    "versioned",
]
