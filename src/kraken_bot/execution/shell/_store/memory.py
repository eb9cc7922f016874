"""The in-memory execution store: the fake that behaves like the SQLite one.

Records are kept in dicts as the codec's round trip of what was saved, so
they come back normalised exactly as SQLite returns them. Each record keeps
the row number it was first stored under (an upsert keeps it, as SQLite keeps
a ``rowid``), which breaks ties in the orderings the way ``rowid`` does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from returns.pipeline import is_successful
from returns.result import Result

from kraken_bot._closing import Closing
from kraken_bot.execution.core._store.records import (
    OrderEventRecord,
    check_limit,
    order_snapshot,
    result_snapshot,
)
from kraken_bot.execution.core.codec import (
    CodecError,
    JsonObject,
    order_from_json,
    result_from_json,
)
from kraken_bot.execution.core.models import TRACKED_STATUSES, ExecutionResult, LocalOrder
from kraken_bot.execution.exceptions import StoreError, TxidTakenError

_T = TypeVar("_T")


def _round_trip(decoded: Result[_T, CodecError]) -> _T:
    if is_successful(decoded):
        return decoded.unwrap()
    raise StoreError(f"record cannot be stored: {decoded.failure()}")


class InMemoryExecutionStore(Closing):
    """`ExecutionStore` over dicts, behaving like `SQLiteExecutionStore` (a fake).

    Each record is stored as the codec's round trip of what was saved, so it
    comes back exactly as the SQLite store would return it; ordering, the
    secret check, validation and closing behave the same. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._orders: dict[str, tuple[int, LocalOrder]] = {}
        self._versions: dict[str, int] = {}
        self._results: dict[str, tuple[int, ExecutionResult]] = {}
        self._events: dict[str, list[OrderEventRecord]] = {}
        self._next_row = 0
        self._next_event = 0

    def close(self) -> None:
        """Mark the store closed; later calls raise `StoreError`."""
        with self._lock:
            self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("in-memory execution store is closed")

    def _row_id(self, existing: tuple[int, object] | None) -> int:
        if existing is not None:
            return existing[0]
        self._next_row += 1
        return self._next_row

    def _put(self, snapshot: JsonObject, event: str | None, detail: str | None) -> None:
        stored = _round_trip(order_from_json(snapshot))
        self._orders[stored.local_id] = (self._row_id(self._orders.get(stored.local_id)), stored)
        self._versions[stored.local_id] = self._versions.get(stored.local_id, 0) + 1
        self._next_event += 1
        record = OrderEventRecord(
            id=self._next_event,
            local_id=stored.local_id,
            at=stored.updated_at,
            status=stored.status,
            event=event,
            detail=detail,
        )
        self._events.setdefault(stored.local_id, []).append(record)

    def save_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> None:
        """Store the order's snapshot and append one audit row."""
        snapshot = order_snapshot(order)
        with self._lock:
            self._check_open()
            self._put(snapshot, event, detail)

    def save_orders(self, orders: Sequence[LocalOrder], *, event: str | None = None) -> None:
        """`save_order` for many orders: all stored, or none when one is invalid."""
        snapshots = [order_snapshot(order) for order in orders]
        with self._lock:
            self._check_open()
            for snapshot in snapshots:
                self._put(snapshot, event, None)

    def update_order(
        self,
        order: LocalOrder,
        *,
        expected_version: int,
        event: str | None = None,
        detail: str | None = None,
        linking: bool = True,
    ) -> int | None:
        """`ExecutionStore.update_order`, under the store's lock."""
        snapshot = order_snapshot(order)
        with self._lock:
            self._check_open()
            if self._versions.get(order.local_id, 0) != expected_version:
                return None
            txid = order.kraken_order_id
            if linking and txid is not None:
                owner = self._newest(lambda o: o.kraken_order_id == txid)
                if owner is not None and owner.local_id != order.local_id:
                    raise TxidTakenError(f"txid {txid} is owned by order {owner.local_id}")
            self._put(snapshot, event, detail)
            return self._versions[order.local_id]

    def adopt_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> bool:
        """Insert a record unless one exists (this fake never quarantines)."""
        snapshot = order_snapshot(order)
        with self._lock:
            self._check_open()
            if order.local_id in self._orders:
                return False
            self._put(snapshot, event, detail)
            return True

    def userrefs(self) -> frozenset[int]:
        """Every userref on a stored order."""
        return frozenset(o.userref for _, o in self._all_orders() if o.userref)

    def quarantined(self) -> dict[str, str]:
        """Rows that could not be read back (never any: records are kept decoded)."""
        return {}

    def get_versioned(self, local_id: str) -> tuple[LocalOrder, int] | None:
        """An order and its version."""
        with self._lock:
            self._check_open()
            found = self._orders.get(local_id)
            return None if found is None else (found[1], self._versions[local_id])

    def live_versioned(self) -> list[tuple[LocalOrder, int]]:
        """`live_orders` with each record's version."""
        orders = self.live_orders()
        with self._lock:
            return [(o, self._versions[o.local_id]) for o in orders]

    def save_result(self, result: ExecutionResult) -> None:
        """Store a plan's result (replacing an earlier one for the same plan)."""
        stored = _round_trip(result_from_json(result_snapshot(result)))
        with self._lock:
            self._check_open()
            row = self._row_id(self._results.get(stored.plan_id))
            self._results[stored.plan_id] = (row, stored)

    def _all_orders(self) -> list[tuple[int, LocalOrder]]:
        with self._lock:
            self._check_open()
            return list(self._orders.values())

    def get_order(self, local_id: str) -> LocalOrder | None:
        """The latest snapshot of an order."""
        with self._lock:
            self._check_open()
            found = self._orders.get(local_id)
        return None if found is None else found[1]

    def _newest(self, matches: Callable[[LocalOrder], bool]) -> LocalOrder | None:
        found = [(row, order) for row, order in self._all_orders() if matches(order)]
        return max(found, key=lambda item: item[0])[1] if found else None

    def find_by_kraken_id(self, txid: str) -> LocalOrder | None:
        """The order with this Kraken txid (the newest, if several)."""
        return self._newest(lambda order: order.kraken_order_id == txid)

    def find_by_client_order_id(self, cl_ord_id: str) -> LocalOrder | None:
        """The order with this client order id (the newest, if several)."""
        return self._newest(lambda order: order.client_order_id == cl_ord_id)

    def live_orders(self) -> list[LocalOrder]:
        """Orders whose status is in `TRACKED_STATUSES` (live, and ``unknown``), oldest first."""
        rows = [(row, o) for row, o in self._all_orders() if o.status in TRACKED_STATUSES]
        return [o for row, o in sorted(rows, key=lambda item: (item[1].created_at, item[0]))]

    def orders_for_plan(self, plan_id: str) -> list[LocalOrder]:
        """A plan's orders in action order (orders without one last), then creation time."""
        rows = [(row, o) for row, o in self._all_orders() if o.plan_id == plan_id]

        def key(item: tuple[int, LocalOrder]) -> tuple[bool, int, datetime, int]:
            row, order = item
            index = order.action_index
            return (index is None, index or 0, order.created_at, row)

        return [order for _, order in sorted(rows, key=key)]

    def status_counts(self) -> dict[str, int]:
        """How many orders are in each status (``krakked status``)."""
        counts: dict[str, int] = {}
        for _, order in self._all_orders():
            counts[order.status.value] = counts.get(order.status.value, 0) + 1
        return counts

    def recent_orders(self, limit: int = 50) -> list[LocalOrder]:
        """The ``limit`` most recently created orders, newest first."""
        check_limit(limit)
        rows = sorted(self._all_orders(), key=lambda item: (item[1].created_at, item[0]))
        return [order for _, order in reversed(rows[-limit:])] if limit else []

    def get_result(self, plan_id: str) -> ExecutionResult | None:
        """A plan's result as it was last saved."""
        with self._lock:
            self._check_open()
            found = self._results.get(plan_id)
        return None if found is None else found[1]

    def recent_results(self, limit: int = 50) -> list[ExecutionResult]:
        """The ``limit`` most recently started results, newest first."""
        check_limit(limit)
        with self._lock:
            self._check_open()
            rows = list(self._results.values())
        rows.sort(key=lambda item: (item[1].started_at, item[0]))
        return [result for _, result in reversed(rows[-limit:])] if limit else []

    def note_event(
        self, order: LocalOrder, event: str, detail: str | None, *, at: datetime
    ) -> None:
        """`ExecutionStore.note_event`."""
        with self._lock:
            current = self._orders.get(order.local_id)
            self._next_event += 1
            record = OrderEventRecord(
                id=self._next_event,
                local_id=order.local_id,
                at=at,
                status=order.status if current is None else current[1].status,
                event=event,
                detail=detail,
            )
            self._events.setdefault(order.local_id, []).append(record)

    def events_for(self, local_id: str) -> list[OrderEventRecord]:
        """An order's audit trail, oldest first."""
        with self._lock:
            self._check_open()
            return list(self._events.get(local_id, ()))

    def trails(self) -> dict[str, list[OrderEventRecord]]:
        """Every order's audit trail (oldest first), by local id, read at once."""
        with self._lock:
            self._check_open()
            return {local_id: list(events) for local_id, events in self._events.items()}
