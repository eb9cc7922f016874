"""The in-memory execution store: the fake that behaves like the SQLite one (shell).

Its records and rules are a value, `kraken_bot.execution.core._store.model.StoreState`,
and pure functions over it; this class holds the current state under a lock, and
refuses every call once closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from kraken_bot._closing import Closing
from kraken_bot.execution.core._store import model
from kraken_bot.execution.core._store.records import (
    OrderEventRecord,
    check_limit,
    order_snapshot,
    result_snapshot,
)
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder
from kraken_bot.execution.exceptions import StoreError

_T = TypeVar("_T")


class InMemoryExecutionStore(Closing):
    """`ExecutionStore` over a `StoreState`, behaving like `SQLiteExecutionStore` (a fake).

    Each record is stored as the codec's round trip of what was saved, so it
    comes back exactly as the SQLite store would return it; ordering, the
    secret check, validation and closing behave the same. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._state = model.StoreState()

    def close(self) -> None:
        """Mark the store closed; later calls raise `StoreError`."""
        with self._lock:
            self._closed = True

    def _read(self) -> model.StoreState:
        """The current state (a value: safe to read without the lock)."""
        with self._lock:
            self._check_open()
            return self._state

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("in-memory execution store is closed")

    def _write(self, change: Callable[[model.StoreState], tuple[model.StoreState, _T]]) -> _T:
        """Apply ``change`` to the current state under the lock; keep its next state."""
        with self._lock:
            self._check_open()
            self._state, answer = change(self._state)
            return answer

    def save_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> None:
        """Store the order's snapshot and append one audit row."""
        snapshot = order_snapshot(order)
        self._write(lambda state: (model.put_order(state, snapshot, event, detail), None))

    def save_orders(self, orders: Sequence[LocalOrder], *, event: str | None = None) -> None:
        """`save_order` for many orders: all stored, or none when one is invalid."""
        snapshots = [order_snapshot(order) for order in orders]
        self._write(lambda state: (model.put_orders(state, snapshots, event), None))

    def update_order(
        self,
        order: LocalOrder,
        *,
        expected_version: int,
        event: str | None = None,
        detail: str | None = None,
        linking: bool = True,
    ) -> int | None:
        """`ExecutionStore.update_order` (compare-and-set on the version)."""
        snapshot = order_snapshot(order)
        return self._write(
            lambda state: model.update_order(
                state,
                order,
                snapshot,
                expected_version=expected_version,
                event=event,
                detail=detail,
                linking=linking,
            )
        )

    def adopt_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> bool:
        """Insert a record unless one exists (this fake never quarantines)."""
        snapshot = order_snapshot(order)
        return self._write(
            lambda state: model.adopt_order(state, order, snapshot, event=event, detail=detail)
        )

    def note_event(
        self, order: LocalOrder, event: str, detail: str | None, *, at: datetime
    ) -> None:
        """`ExecutionStore.note_event`."""
        self._write(lambda state: (model.note_event(state, order, event, detail, at=at), None))

    def save_result(self, result: ExecutionResult) -> None:
        """Store a plan's result (replacing an earlier one for the same plan)."""
        stored = model.decode_result(result_snapshot(result))
        self._write(lambda state: (model.save_result(state, stored), None))

    def quarantined(self) -> dict[str, str]:
        """Rows that could not be read back (never any: records are kept decoded)."""
        return {}

    def userrefs(self) -> frozenset[int]:
        """Every userref on a stored order."""
        return model.userrefs(self._read())

    def get_versioned(self, local_id: str) -> tuple[LocalOrder, int] | None:
        """An order and its version."""
        return model.versioned(self._read(), local_id)

    def live_versioned(self) -> list[tuple[LocalOrder, int]]:
        """`live_orders` with each record's version."""
        return model.live_versioned(self._read())

    def get_order(self, local_id: str) -> LocalOrder | None:
        """The latest snapshot of an order."""
        found = model.versioned(self._read(), local_id)
        return None if found is None else found[0]

    def find_by_kraken_id(self, txid: str) -> LocalOrder | None:
        """The order with this Kraken txid (the newest, if several)."""
        return model.newest(self._read(), lambda order: order.kraken_order_id == txid)

    def find_by_client_order_id(self, cl_ord_id: str) -> LocalOrder | None:
        """The order with this client order id (the newest, if several)."""
        return model.newest(self._read(), lambda order: order.client_order_id == cl_ord_id)

    def live_orders(self) -> list[LocalOrder]:
        """Orders whose status is in `TRACKED_STATUSES` (live, and ``unknown``), oldest first."""
        return [order for order, _ in model.live_versioned(self._read())]

    def orders_for_plan(self, plan_id: str) -> list[LocalOrder]:
        """A plan's orders in action order (orders without one last), then creation time."""
        return model.orders_for_plan(self._read(), plan_id)

    def status_counts(self) -> dict[str, int]:
        """How many orders are in each status (``krakked status``)."""
        return model.status_counts(self._read())

    def recent_orders(self, limit: int = 50) -> list[LocalOrder]:
        """The ``limit`` most recently created orders, newest first."""
        check_limit(limit)
        return model.recent_orders(self._read(), limit)

    def get_result(self, plan_id: str) -> ExecutionResult | None:
        """A plan's result as it was last saved."""
        found = self._read().results.get(plan_id)
        return None if found is None else found[1]

    def recent_results(self, limit: int = 50) -> list[ExecutionResult]:
        """The ``limit`` most recently started results, newest first."""
        check_limit(limit)
        return model.recent_results(self._read(), limit)

    def events_for(self, local_id: str) -> list[OrderEventRecord]:
        """An order's audit trail, oldest first."""
        return list(self._read().events.get(local_id, ()))

    def trails(self) -> dict[str, list[OrderEventRecord]]:
        """Every order's audit trail (oldest first), by local id, read at once."""
        return model.trails(self._read())
