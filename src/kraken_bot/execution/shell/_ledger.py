"""The ledger: the one owner of order state (shell).

Nobody else holds an authoritative copy of an order. A change is always:

1. read the order's current version (this process's cache, or the store);
2. fold the event into it with the pure lifecycle (`lifecycle.apply`);
3. write the result only if the stored version is still the one read
   (compare-and-set: the in-process lock for threads, the ``version`` column
   in SQLite across processes);
4. on a conflict (another process wrote first), read the newer version and
   fold the event again.

Events carry their evidence (lifecycle rule 7), so folding one onto a newer
version is refused when it no longer holds: a send attempt that is not the
next one, a "never sent" after a send was recorded, a withdrawal after a send.
`Ledger.apply` says whether the event was accepted; a sender whose
write-ahead (``SendAttempted``) is refused does not send.

The ledger also keeps what the contract calls the OMS state: the in-memory
indexes (Kraken txid -> local id, client order id -> local id), a ring buffer
of recent execution results, and the send claims of this process (the orders
its senders still hold).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kraken_bot.execution.core.folding import Keep, fold, txid_taken
from kraken_bot.execution.core.lifecycle import TransitionError
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder, OrderEvent
from kraken_bot.execution.exceptions import StoreError, TxidTakenError
from kraken_bot.execution.shell.store import ExecutionStore

log = logging.getLogger("kraken_bot.execution")

_CACHED = 20_000
_FAILURES_KEPT = 1_000
_CONFLICT_RETRIES = 50


@dataclass(frozen=True, slots=True)
class Applied:
    """What `Ledger.apply` did: the order as it now stands, and whether the event took."""

    order: LocalOrder
    accepted: bool
    error: TransitionError | None = None


class Ledger:
    """Thread-safe: the service's workers and callers record transitions concurrently.

    Args:
        store: where orders live (SQLite across processes, or in memory).
        buffer: how many recent execution results to keep in memory.
        owner: this service instance's id (the owner of the send claims it makes).
        on_change: told of every change this ledger writes, as (before, after), with
            ``before`` None for a new record; called under the ledger's lock, so the
            changes of one order arrive in the order they were written. It must not
            block (the service's event bus only queues); what it raises is logged.
    """

    def __init__(
        self,
        store: ExecutionStore,
        *,
        buffer: int,
        owner: str = "",
        on_change: Callable[[LocalOrder | None, LocalOrder], None] | None = None,
    ) -> None:
        self.store = store
        self.owner = owner
        self._on_change = on_change
        self._lock = threading.RLock()
        # local id -> (order, version). Live orders are kept while they are live (the
        # unfilled policy and the router read them from here); finished ones in an LRU
        # of `_CACHED`, most recently used last. The indexes cover exactly the orders
        # held, so memory stays bounded over weeks; a lookup that misses reads the store.
        self._live: dict[str, tuple[LocalOrder, int]] = {}
        self._cache: OrderedDict[str, tuple[LocalOrder, int]] = OrderedDict()
        self._by_txid: dict[str, str] = {}
        self._by_client_id: dict[str, str] = {}
        self._sending: set[str] = set()
        self._recent: deque[ExecutionResult] = deque(maxlen=buffer)
        self.transition_failures: deque[str] = deque(maxlen=_FAILURES_KEPT)
        """The most recent refused events (a service open for weeks keeps no more)."""
        self.conflicts = 0
        """How many writes found the order changed by another writer (and folded again)."""

    def load(self) -> None:
        """Rebuild the in-memory state from the store."""
        with self._lock:
            self._cache.clear()
            self._live.clear()
            self._by_txid.clear()
            self._by_client_id.clear()
            for order, version in self.store.live_versioned():
                self._remember(order, version)
            self._recent.clear()
            self._recent.extend(reversed(self.store.recent_results(self._recent.maxlen or 50)))

    # ------------------------------------------------------------------ cache

    def _remember(self, order: LocalOrder, version: int) -> None:
        local_id = order.local_id
        known = self._live.get(local_id) or self._cache.get(local_id)
        if known is not None and known[1] > version:
            return  # never replace a newer version with an older read
        if order.is_live:
            self._cache.pop(local_id, None)
            self._live[local_id] = (order, version)
        else:
            self._live.pop(local_id, None)
            self._cache[local_id] = (order, version)
            self._cache.move_to_end(local_id)
        if order.kraken_order_id is not None:
            self._by_txid[order.kraken_order_id] = local_id
        if order.client_order_id is not None:
            self._by_client_id[order.client_order_id] = local_id
        while len(self._cache) > _CACHED:
            _, (evicted, _version) = self._cache.popitem(last=False)
            self._unindex(evicted)

    def _unindex(self, order: LocalOrder) -> None:
        for index, key in (
            (self._by_txid, order.kraken_order_id),
            (self._by_client_id, order.client_order_id),
        ):
            if key is not None and index.get(key) == order.local_id:
                del index[key]

    def _current(self, local_id: str, *, fresh: bool) -> tuple[LocalOrder, int] | None:
        with self._lock:
            known = None if fresh else (self._live.get(local_id) or self._cache.get(local_id))
            if known is not None:
                return known
            found = self.store.get_versioned(local_id)
            if found is not None:
                self._remember(*found)
            return found

    # ------------------------------------------------------------------ writing

    def apply(self, local_id: str, event: OrderEvent, detail: str | None = None) -> Applied:
        """Fold ``event`` into the current version of the order and write it (see above).

        Returns the order as it now stands and whether the event was accepted. An
        illegal transition or a broken invariant (a stale observation, a second
        exchange id, evidence that no longer holds) leaves the order as it is, is
        logged, and is kept in `transition_failures`.
        """
        return self.apply_decided(local_id, lambda _order: event, detail)

    def apply_decided(
        self,
        local_id: str,
        decide: Callable[[LocalOrder], OrderEvent | None],
        detail: str | None = None,
    ) -> Applied:
        """Like `apply`, with the event decided from the order's current version.

        ``decide`` (pure) runs again on each fresh version after a write conflict; when
        it returns None (nothing to fold any more) the order is left as it is, and no
        failure is counted: the stream uses this, its news may already be old.
        """
        with self._lock:
            fresh = False
            for _ in range(_CONFLICT_RETRIES):
                current = self._current(local_id, fresh=fresh)
                if current is None:
                    raise StoreError(f"order {local_id} is not in the execution records")
                order, version = current
                step = fold(order, decide(order))
                if isinstance(step, Keep):
                    if step.error is not None:
                        return self._refused(order, step.error)
                    return Applied(order, accepted=True)  # nothing new: nothing to write
                taken = self._txid_taken(step.order) if step.linking else None
                if taken is not None:
                    return self._refused(order, txid_taken(order, step.kind, taken))
                try:
                    written = self.store.update_order(
                        step.order,
                        expected_version=version,
                        event=step.kind.value,
                        detail=detail,
                        linking=step.linking,
                    )
                except TxidTakenError as error:  # another process linked it a moment ago
                    return self._refused(order, txid_taken(order, step.kind, error.message))
                if written is not None:
                    self._remember(step.order, written)
                    self._changed(order, step.order)
                    return Applied(step.order, accepted=True)
                self.conflicts += 1
                fresh = True  # another writer got there first: read its version, fold again
        raise StoreError(f"order {local_id}: gave up after {_CONFLICT_RETRIES} write conflicts")

    def _txid_taken(self, after: LocalOrder) -> str | None:
        """Whether the txid ``after`` newly links is owned by another order (why, or None).

        One exchange order, one local order: a txid another order owns is never linked.

        (Two identical userref orders cannot be told apart by Kraken; the first to link an
        exchange order keeps it, the other stays in doubt and is resolved on its own.)
        """
        txid = after.kraken_order_id
        if txid is None:
            return None
        owner = self.store.find_by_kraken_id(txid)
        if owner is None or owner.local_id == after.local_id:
            return None
        return f"txid {txid} is owned by order {owner.local_id}"

    def _refused(self, order: LocalOrder, error: TransitionError) -> Applied:
        log.info("order %s: %s", order.local_id, error)
        self.transition_failures.append(str(error))
        return Applied(order, accepted=False, error=error)

    def transition(
        self, order: LocalOrder, event: OrderEvent, detail: str | None = None
    ) -> LocalOrder:
        """`apply` to ``order``'s local id; returns the order as it now stands."""
        return self.apply(order.local_id, event, detail).order

    def record(self, order: LocalOrder, event: str, detail: str | None = None) -> LocalOrder:
        """Store a new order as it is (guardrail errors)."""
        with self._lock:
            self.store.save_order(order, event=event, detail=detail)
            found = self.store.get_versioned(order.local_id)
            if found is not None:
                self._remember(*found)
            self._changed(None, order)
        return order

    def record_many(
        self, orders: Sequence[LocalOrder], event: str, *, claim: bool = False
    ) -> list[LocalOrder]:
        """Store new orders, all in one transaction; ``claim`` them for this process's senders."""
        if orders:
            with self._lock:
                self.store.save_orders(orders, event=event)
                for order in orders:
                    self._remember(order, 1)
                    if claim:
                        self._sending.add(order.local_id)
                    self._changed(None, order)
        return list(orders)

    def adopt(self, order: LocalOrder, detail: str) -> LocalOrder | None:
        """Record an exchange order no local order owns; None when a record already exists."""
        with self._lock:
            if not self.store.adopt_order(order, event="adopted", detail=detail):
                return None
            found = self.store.get_versioned(order.local_id)
            if found is not None:
                self._remember(*found)
            self._changed(None, order)
        return order

    def _changed(self, before: LocalOrder | None, after: LocalOrder) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(before, after)
        except Exception:
            log.exception("order %s: the change listener raised", after.local_id)

    # ------------------------------------------------------------------ send claims

    def release_claims(self, local_ids: Iterable[str]) -> None:
        """This process's senders are done with these orders."""
        with self._lock:
            self._sending.difference_update(local_ids)

    def claimed_here(self) -> frozenset[str]:
        """Orders this process's senders still hold."""
        with self._lock:
            return frozenset(self._sending)

    # ------------------------------------------------------------------ reading

    def tracked_orders(self) -> list[LocalOrder]:
        """Live and ``unknown`` orders, fresh from the store (every process's), oldest first."""
        with self._lock:
            found = self.store.live_versioned()
            for order, version in found:
                self._remember(order, version)
        return [order for order, _ in found]

    def live_orders(self) -> list[LocalOrder]:
        """Non-terminal orders, fresh from the store, oldest first."""
        return [order for order in self.tracked_orders() if order.is_live]

    def get(self, local_id: str, *, fresh: bool = True) -> LocalOrder | None:
        """An order by local id (from the store by default; ``fresh=False`` allows the cache)."""
        found = self._current(local_id, fresh=fresh)
        return None if found is None else found[0]

    def by_kraken_id(self, txid: str, *, fresh: bool = True) -> LocalOrder | None:
        """An order by Kraken txid (``fresh=False`` allows the cache)."""
        with self._lock:
            local_id = self._by_txid.get(txid)
        if local_id is not None:
            return self.get(local_id, fresh=fresh)
        return self.store.find_by_kraken_id(txid)

    def by_client_id(self, client_order_id: str) -> LocalOrder | None:
        """An order by the client order id it was sent with."""
        with self._lock:
            local_id = self._by_client_id.get(client_order_id)
        if local_id is not None:
            return self.get(local_id)
        return self.store.find_by_client_order_id(client_order_id)

    def owns_txid(self, txid: str) -> bool:
        """True when a local order already owns ``txid``."""
        with self._lock:
            known = txid in self._by_txid
        return known or self.store.find_by_kraken_id(txid) is not None

    def refresh_many(
        self, orders: Iterable[LocalOrder], *, fresh: bool = False
    ) -> list[LocalOrder]:
        """The current version of each order: as this process last wrote or read it (its
        writes are compare-and-set, so a stale copy is never written back), or, with
        ``fresh``, read from the store (other processes' changes included)."""
        current: list[LocalOrder] = []
        for order in orders:
            found = self.get(order.local_id, fresh=fresh)
            current.append(found if found is not None else order)
        return current

    def cached_live(self) -> list[LocalOrder]:
        """Live orders as this process last saw them (no store read), oldest first."""
        with self._lock:
            live = [order for order, _ in self._live.values()]
        return sorted(live, key=lambda o: (o.created_at, o.local_id))

    # ------------------------------------------------------------------ results

    def add_result(self, result: ExecutionResult) -> None:
        """Persist a plan result and keep it in the ring buffer."""
        with self._lock:
            self.store.save_result(result)
            self._recent.append(result)

    def recent_results(self, limit: int) -> list[ExecutionResult]:
        """Newest first, as recorded: the ring buffer, topped up from the store."""
        with self._lock:
            buffered = list(reversed(self._recent))
        if limit <= len(buffered):
            return buffered[:limit]
        return self.store.recent_results(limit)
