"""Pure: the ports: what the execution core needs from the outside world, as protocols.

The shell provides them: `TradingClient` is `kraken_bot.kraken.client.KrakenRESTClient`
(or `kraken_bot.kraken.ws_orders.SocketOrders`, orders over the WebSocket), as used by
`kraken_bot.execution.shell.adapter.KrakenExecutionAdapter`; `ExecutionStore` is
`SQLiteExecutionStore` or `InMemoryExecutionStore` (`kraken_bot.execution.store`, where
the storage rules are written down). Nothing here does anything: these are the shapes
the two sides agree on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kraken_bot.execution.core._store.records import OrderEventRecord
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder
from kraken_bot.kraken.orders import AddOrderRequest, AmendOrderRequest
from kraken_bot.kraken.types import (
    AddOrderAck,
    AmendAck,
    CancelAck,
    DeadManSwitchAck,
    OrderInfo,
    QueriedOrders,
)


class TradingClient(Protocol):
    """The slice of `KrakenRESTClient` the adapter uses."""

    def add_order(self, req: AddOrderRequest) -> AddOrderAck: ...
    def amend_order(self, req: AmendOrderRequest, *, pair: str | None = None) -> AmendAck: ...
    def cancel_order(
        self,
        *,
        txid: str | None = None,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        pair: str | None = None,
    ) -> CancelAck: ...
    def cancel_all(self) -> CancelAck: ...
    def cancel_all_orders_after(self, timeout: int) -> DeadManSwitchAck: ...
    def open_orders(
        self, *, userref: int | None = None, cl_ord_id: str | None = None, trades: bool = False
    ) -> tuple[OrderInfo, ...]: ...
    def closed_orders(
        self,
        *,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        start: int | str | None = None,
        end: int | str | None = None,
        closetime: str = "both",
    ) -> tuple[OrderInfo, ...]: ...
    def query_orders(
        self, txids: Sequence[str], *, userref: int | None = None, trades: bool = False
    ) -> tuple[OrderInfo, ...]: ...
    def query_orders_checked(
        self, txids: Sequence[str], *, userref: int | None = None, trades: bool = False
    ) -> QueriedOrders: ...


class ExecutionStore(Protocol):
    """Where the execution layer keeps its orders, results and audit trail."""

    def save_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> None:
        """Upsert the order's snapshot and append one audit row, in one transaction."""
        ...

    def save_orders(self, orders: Sequence[LocalOrder], *, event: str | None = None) -> None:
        """`save_order` for many orders, all in one transaction."""
        ...

    def update_order(
        self,
        order: LocalOrder,
        *,
        expected_version: int,
        event: str | None = None,
        detail: str | None = None,
        linking: bool = True,
    ) -> int | None:
        """Compare-and-set: write ``order`` only if its row is still at ``expected_version``.

        Returns the new version, or None when another writer changed the row first, or
        there is no row (nothing is written then). ``linking``: the write may give the
        order a txid it did not have, so the txid's ownership is checked with the write,
        atomically, before the version (`TxidTakenError` when another order owns it).
        """
        ...

    def adopt_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> bool:
        """Insert a new record (over a quarantined row only); False when one exists."""
        ...

    def get_versioned(self, local_id: str) -> tuple[LocalOrder, int] | None:
        """An order's latest snapshot and its version."""
        ...

    def live_versioned(self) -> list[tuple[LocalOrder, int]]:
        """`live_orders`, each with its version."""
        ...

    def quarantined(self) -> dict[str, str]:
        """Order rows that could not be read back (left out of every read): local id -> why."""
        ...

    def userrefs(self) -> frozenset[int]:
        """Every userref on a stored order."""
        ...

    def save_result(self, result: ExecutionResult) -> None:
        """Upsert a plan's result (keyed by plan id)."""
        ...

    def get_order(self, local_id: str) -> LocalOrder | None:
        """The latest snapshot of an order."""
        ...

    def find_by_kraken_id(self, txid: str) -> LocalOrder | None:
        """The order with this Kraken txid (the newest, if several)."""
        ...

    def find_by_client_order_id(self, cl_ord_id: str) -> LocalOrder | None:
        """The order with this client order id (the newest, if several)."""
        ...

    def live_orders(self) -> list[LocalOrder]:
        """Orders whose status is in `TRACKED_STATUSES` (live, and ``unknown``), oldest first."""
        ...

    def orders_for_plan(self, plan_id: str) -> list[LocalOrder]:
        """A plan's orders in action order (orders without one last), then creation time."""
        ...

    def recent_orders(self, limit: int = 50) -> list[LocalOrder]:
        """The ``limit`` most recently created orders, newest first."""
        ...

    def get_result(self, plan_id: str) -> ExecutionResult | None:
        """A plan's result as it was last saved."""
        ...

    def recent_results(self, limit: int = 50) -> list[ExecutionResult]:
        """The ``limit`` most recently started results, newest first."""
        ...

    def events_for(self, local_id: str) -> list[OrderEventRecord]:
        """An order's audit trail, oldest first."""
        ...

    def trails(self) -> dict[str, list[OrderEventRecord]]:
        """Every order's audit trail (oldest first), by local id, read at once."""
        ...

    def note_event(
        self, order: LocalOrder, event: str, detail: str | None, *, at: datetime
    ) -> None:
        """Append one audit row for ``order`` as it stands (its snapshot is not rewritten):
        what is about to be attempted (an amend, before it is sent)."""
        ...

    def status_counts(self) -> dict[str, int]:
        """How many orders are in each status (``krakked status``)."""
        ...

    def close(self) -> None:
        """Release the store; later calls raise `StoreError`. Closing twice is fine."""
        ...


__all__ = ["ExecutionStore", "TradingClient"]
