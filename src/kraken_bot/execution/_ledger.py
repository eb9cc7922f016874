"""The service's order ledger: the store plus the in-memory indexes the contract asks for.

Every state change goes through `Ledger.transition`: the pure lifecycle folds
the event, the store writes the returned order (one transaction, with an audit
row), and only then do the in-memory indexes change. The shell persists
exactly what the core returned and nothing else.

In memory (rebuilt from the database on start): the live (non-terminal)
orders, Kraken txid -> local id, client order id -> local id, and a ring
buffer of recent execution results.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence

from returns.pipeline import is_successful

from kraken_bot.execution import lifecycle
from kraken_bot.execution.models import ExecutionResult, LocalOrder, OrderEvent
from kraken_bot.execution.store import ExecutionStore

log = logging.getLogger("kraken_bot.execution")

_SETTLED_KEPT = 20_000


class Ledger:
    """Thread-safe: the service's workers record transitions concurrently."""

    def __init__(self, store: ExecutionStore, *, buffer: int) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._live: dict[str, LocalOrder] = {}
        self._by_txid: dict[str, str] = {}
        self._by_client_id: dict[str, str] = {}
        # Orders that became terminal in this process, newest last: spares re-reading them.
        self._settled: OrderedDict[str, LocalOrder] = OrderedDict()
        # (pair, userref) -> live orders with that identity: keeps the twin check O(1) per send.
        self._live_by_userref: dict[tuple[str, int], dict[str, LocalOrder]] = {}
        self._recent: deque[ExecutionResult] = deque(maxlen=buffer)
        self.transition_failures: list[str] = []

    def load(self) -> None:
        """Rebuild the in-memory state from the store."""
        with self._lock:
            self._live.clear()
            self._by_txid.clear()
            self._by_client_id.clear()
            self._live_by_userref.clear()
            self._settled.clear()
            for order in self.store.live_orders():
                self._index(order)
            self._recent.clear()
            self._recent.extend(reversed(self.store.recent_results(self._recent.maxlen or 50)))

    def _index(self, order: LocalOrder) -> None:
        previous = self._live.get(order.local_id)
        if previous is not None and previous.userref is not None:
            twins = self._live_by_userref.get((previous.pair, previous.userref), {})
            twins.pop(order.local_id, None)
            if not twins:
                self._live_by_userref.pop((previous.pair, previous.userref), None)
        if order.userref is not None and not order.is_terminal:
            twins = self._live_by_userref.setdefault((order.pair, order.userref), {})
            twins[order.local_id] = order
        if order.kraken_order_id is not None:
            self._by_txid[order.kraken_order_id] = order.local_id
        if order.client_order_id is not None:
            self._by_client_id[order.client_order_id] = order.local_id
        if order.is_terminal:
            self._live.pop(order.local_id, None)
            self._settled[order.local_id] = order
            self._settled.move_to_end(order.local_id)
            if len(self._settled) > _SETTLED_KEPT:
                self._settled.popitem(last=False)
        else:
            self._live[order.local_id] = order

    def record(self, order: LocalOrder, event: str, detail: str | None = None) -> LocalOrder:
        """Persist ``order`` as is (new orders, guardrail errors), then index it."""
        with self._lock:
            self.store.save_order(order, event=event, detail=detail)
            self._index(order)
        return order

    def record_many(self, orders: Sequence[LocalOrder], event: str) -> list[LocalOrder]:
        """Persist ``orders`` as they are, all in one transaction, then index them."""
        if orders:
            with self._lock:
                self.store.save_orders(orders, event=event)
                for order in orders:
                    self._index(order)
        return list(orders)

    def transition(
        self, order: LocalOrder, event: OrderEvent, detail: str | None = None
    ) -> LocalOrder:
        """Fold ``event`` into ``order``, persist the result, and return it.

        An illegal transition or a broken invariant (a stale observation, a
        second exchange id) leaves the order as it was, is logged, and is
        counted in `transition_failures`.
        """
        result = lifecycle.apply(order, event)
        if not is_successful(result):
            error = result.failure()
            log.warning("order %s: %s", order.local_id, error)
            with self._lock:
                self.transition_failures.append(str(error))
            return order
        updated = result.unwrap()
        kind = lifecycle.event_kind(event).value
        return self.record(updated, kind, detail)

    def live_orders(self) -> list[LocalOrder]:
        """Non-terminal orders, oldest first."""
        with self._lock:
            return sorted(self._live.values(), key=lambda o: (o.created_at, o.local_id))

    def live_with_userref(self, pair: str, userref: int) -> list[LocalOrder]:
        """Non-terminal orders carrying ``userref`` on ``pair``, oldest first."""
        with self._lock:
            twins = list(self._live_by_userref.get((pair, userref), {}).values())
        return sorted(twins, key=lambda o: (o.created_at, o.local_id))

    def get(self, local_id: str) -> LocalOrder | None:
        """An order by local id (memory first, then the store)."""
        with self._lock:
            known = self._live.get(local_id) or self._settled.get(local_id)
        return known if known is not None else self.store.get_order(local_id)

    def by_kraken_id(self, txid: str) -> LocalOrder | None:
        """An order by Kraken txid."""
        with self._lock:
            local_id = self._by_txid.get(txid)
        if local_id is not None:
            return self.get(local_id)
        return self.store.find_by_kraken_id(txid)

    def by_client_id(self, client_order_id: str) -> LocalOrder | None:
        """An order by the client order id it was sent with."""
        with self._lock:
            local_id = self._by_client_id.get(client_order_id)
        if local_id is not None:
            return self.get(local_id)
        return self.store.find_by_client_order_id(client_order_id)

    def known_txids(self) -> frozenset[str]:
        """Every Kraken txid owned by a local order."""
        with self._lock:
            return frozenset(self._by_txid)

    def owns_txid(self, txid: str) -> bool:
        """True when a local order already owns ``txid``."""
        with self._lock:
            known = txid in self._by_txid
        return known or self.store.find_by_kraken_id(txid) is not None

    def add_result(self, result: ExecutionResult) -> None:
        """Persist a plan result and keep it in the ring buffer."""
        with self._lock:
            self.store.save_result(result)
            self._recent.append(result)

    def recent_results(self, limit: int) -> list[ExecutionResult]:
        """Newest first; the ring buffer, topped up from the store when asked for more."""
        with self._lock:
            buffered = list(reversed(self._recent))
        if limit <= len(buffered):
            return buffered[:limit]
        return self.store.recent_results(limit)

    def refresh_many(self, orders: Iterable[LocalOrder]) -> list[LocalOrder]:
        """The current version of each order (after concurrent updates)."""
        fresh: list[LocalOrder] = []
        for order in orders:
            current = self.get(order.local_id)
            fresh.append(current if current is not None else order)
        return fresh
