"""Reconciliation: bring local orders in line with what Kraken says.

`reconcile` is `ExecutionService.refresh_from_exchange`:

* Orders with a txid are read with QueryOrders (status, filled volume, average
  price, fee, cancel reason: dead-man switch cancellations included).
* Orders without a txid (pending or submitted after an ambiguous send, or a
  crash between the write-ahead and Kraken's answer) are looked up by identity
  in OpenOrders and ClosedOrders. Found: adopted. Absent and never sent
  (attempts == 0, so the write-ahead proves no request left): ``error``.
  Absent after the AddOrder deadline plus the lookup margin: ``error`` (Kraken
  drops an order it did not accept before its deadline). Absent inside that
  window: left alone, still ``submitted``.
* Exchange orders carrying this layer's client ids (or a configured strategy
  userref) that no local order owns are adopted as new local orders, so
  nothing on the exchange is ever unknown locally.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from kraken_bot.clock import Clock
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution import lifecycle
from kraken_bot.execution._ledger import Ledger
from kraken_bot.execution._retry import retry_transient
from kraken_bot.execution.adapter import KrakenExecutionAdapter
from kraken_bot.execution.ids import IdFactory, is_local_id
from kraken_bot.execution.models import (
    GaveUp,
    LocalOrder,
    Observed,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.types import KrakenOrderStatus, OrderInfo
from kraken_bot.market.pairs import PairUniverse

log = logging.getLogger("kraken_bot.execution")

_T = TypeVar("_T")
_GIVEN_UP = frozenset({OrderStatus.ERROR, OrderStatus.REJECTED})
_GIVEN_UP_SCAN = 500  # recent orders searched for a given-up userref order


@dataclass
class ReconcileReport:
    """What one reconciliation pass did."""

    checked: int = 0
    updated: int = 0
    adopted: int = 0
    proven_absent: int = 0
    still_unknown: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every exchange call of the pass succeeded."""
        return not self.errors


@dataclass
class Reconciler:
    """One per service."""

    adapter: KrakenExecutionAdapter
    ledger: Ledger
    clock: Clock
    config: ExecutionConfig
    new_id: IdFactory
    strategy_userrefs: frozenset[int] = frozenset()
    universe: PairUniverse | None = None

    def reconcile(self, *, look_back: timedelta = timedelta(hours=24)) -> ReconcileReport:
        """One full pass (see the module docstring)."""
        report = ReconcileReport()
        live = self.ledger.live_orders()
        report.checked = len(live)
        self._refresh_known(live, report)
        unacknowledged = [o for o in self.ledger.live_orders() if o.kraken_order_id is None]
        oldest = min(
            [o.first_sent_at or o.created_at for o in unacknowledged],
            default=self.clock.now() - look_back,
        )
        try:
            open_orders = self._read(self.adapter.open_orders, "OpenOrders")
            closed = self._read(lambda: self.adapter.closed_orders_since(oldest), "ClosedOrders")
        except KrakenAPIError as error:
            report.errors.append(f"listing orders failed: {error}")
            return report
        seen = (*open_orders, *closed)
        self._resolve_unacknowledged(unacknowledged, seen, report)
        self._adopt_strangers(seen, report)
        return report

    def refresh_orders(self, orders: Sequence[LocalOrder], report: ReconcileReport) -> None:
        """QueryOrders for ``orders`` that have a txid, folding each answer in."""
        self._refresh_known(orders, report)

    def _read(self, call: Callable[[], _T], what: str) -> _T:
        return retry_transient(call, clock=self.clock, config=self.config, what=what)

    def _refresh_known(self, orders: Iterable[LocalOrder], report: ReconcileReport) -> None:
        with_txid = {o.kraken_order_id: o for o in orders if o.kraken_order_id is not None}
        if not with_txid:
            return
        try:
            infos = self._read(lambda: self.adapter.query_orders(list(with_txid)), "QueryOrders")
        except KrakenAPIError as error:
            report.errors.append(f"QueryOrders failed: {error}")
            return
        now = self.clock.now()
        for info in infos:
            order = with_txid.get(info.txid)
            if order is None:
                continue
            current = self.ledger.get(order.local_id) or order
            updated = self.ledger.transition(current, Observed(at=now, info=info), "reconciled")
            if updated != current:
                report.updated += 1

    def _resolve_unacknowledged(
        self, orders: Sequence[LocalOrder], seen: Sequence[OrderInfo], report: ReconcileReport
    ) -> None:
        now = self.clock.now()
        margin = timedelta(seconds=self.config.lookup_margin_seconds)
        taken: set[str] = set()
        candidates = _index_by_identity(seen)
        for order in orders:
            if order.attempts == 0 and not order.exists_on_exchange:
                # The write-ahead proves no AddOrder left: it can match nothing on the exchange.
                self.ledger.transition(
                    order,
                    GaveUp(
                        at=now,
                        message="never sent: the process stopped before sending it;"
                        " a new plan will ask again if the position still needs it",
                    ),
                )
                report.proven_absent += 1
                continue
            match = self._match(order, candidates, taken)
            if match is not None:
                self.ledger.transition(order, Observed(at=now, info=match), "found by identity")
                taken.add(match.txid)
                report.updated += 1
            elif order.exists_on_exchange:
                report.still_unknown += 1  # Kraken proved it holds it: wait until it is listed
            elif order.send_deadline is not None and now >= order.send_deadline + margin:
                self.ledger.transition(
                    order,
                    GaveUp(
                        at=now,
                        message="not on the exchange after its AddOrder deadline"
                        f" ({order.send_deadline.isoformat()}): it was never placed",
                    ),
                )
                report.proven_absent += 1
            else:
                report.still_unknown += 1

    def _match(
        self,
        order: LocalOrder,
        candidates: dict[str | tuple[str, int] | None, list[OrderInfo]],
        taken: set[str],
    ) -> OrderInfo | None:
        """The exchange order with ``order``'s identity that no other local order owns."""
        key = order.client_order_id if order.userref is None else (order.pair, order.userref)
        for info in candidates.get(key, ()):
            if info.txid in taken or self.ledger.owns_txid(info.txid):
                continue
            if lifecycle.matches_identity(order, info):
                return info
        return None

    def _is_ours(self, info: OrderInfo) -> bool:
        if info.cl_ord_id is not None:
            return is_local_id(info.cl_ord_id)
        return info.userref is not None and info.userref in self.strategy_userrefs

    def _adopt_strangers(self, seen: Sequence[OrderInfo], report: ReconcileReport) -> None:
        for info in seen:
            if not self._is_ours(info) or self.ledger.owns_txid(info.txid):
                continue
            given_up = self._given_up_owner(info)
            if given_up is not None:
                # Late discovery (a documented lifecycle edge): an order we marked error or
                # rejected without a txid is on the exchange after all. Track it, never lose it.
                self.ledger.transition(
                    given_up, Observed(at=self.clock.now(), info=info), "found after giving up"
                )
                report.adopted += 1
                log.warning(
                    "order %s was on the exchange after all (%s)", given_up.local_id, info.txid
                )
                continue
            if info.cl_ord_id is not None and self.ledger.by_client_id(info.cl_ord_id) is not None:
                continue
            order = self._order_from_exchange(info)
            self.ledger.record(order, "adopted", f"exchange order {info.txid} unknown locally")
            report.adopted += 1
            log.warning(
                "adopted exchange order %s (%s) that no local order owned", info.txid, info.pair
            )

    def _given_up_owner(self, info: OrderInfo) -> LocalOrder | None:
        """A terminal local order without txid (error, rejected) that ``info`` belongs to."""
        if info.cl_ord_id is not None:
            owner = self.ledger.by_client_id(info.cl_ord_id)
            candidates = [owner] if owner is not None else []
        else:
            candidates = [
                o for o in self.ledger.store.recent_orders(_GIVEN_UP_SCAN) if o.userref is not None
            ]
        for order in candidates:
            if (
                order.kraken_order_id is None
                and order.status in _GIVEN_UP
                and order.attempts > 0
                and lifecycle.matches_identity(order, info)
            ):
                return order
        return None

    def _order_from_exchange(self, info: OrderInfo) -> LocalOrder:
        """A local record for an exchange order we placed but lost track of."""
        now = self.clock.now()
        status = _status_of(info)
        rest_pair = None
        if self.universe is not None:
            pair = self.universe.resolve(info.pair).value_or(None)
            rest_pair = pair.rest_symbol if pair is not None else None
        local_id = (
            info.cl_ord_id
            if info.cl_ord_id is not None and is_local_id(info.cl_ord_id)
            else self.new_id()
        )
        opened = info.opened_at or now
        return LocalOrder(
            local_id=local_id,
            plan_id=None,
            strategy_id=None,
            pair=info.pair,
            side=Side(info.side) if info.side in {"buy", "sell"} else Side.BUY,
            order_type=OrderType.MARKET if info.order_type == "market" else OrderType.LIMIT,
            kraken_order_id=info.txid,
            userref=info.userref,
            client_order_id=info.cl_ord_id,
            requested_base_size=info.volume,
            requested_price=info.limit_price,
            status=status,
            created_at=opened,
            updated_at=now,
            cumulative_base_filled=info.volume_executed,
            avg_fill_price=info.avg_price,
            fee=info.fee,
            cost=info.cost,
            last_error=None,
            raw_response_json=info.raw,
            rest_pair=rest_pair,
            time_in_force=TimeInForce.GTC,
            attempts=1,
            first_sent_at=opened,
            close_reason=info.reason,
        )


def _index_by_identity(
    infos: Sequence[OrderInfo],
) -> dict[str | tuple[str, int] | None, list[OrderInfo]]:
    """Exchange orders by client order id, and by (pair altname, userref) for userref orders.

    One pass, so resolving many unacknowledged orders after a crash stays linear.
    """
    index: dict[str | tuple[str, int] | None, list[OrderInfo]] = {}
    for info in infos:
        if info.cl_ord_id is not None:
            index.setdefault(info.cl_ord_id, []).append(info)
        if info.userref is not None:
            index.setdefault((info.pair, info.userref), []).append(info)
    return index


def _status_of(info: OrderInfo) -> OrderStatus:
    if info.status is KrakenOrderStatus.PENDING:
        return OrderStatus.SUBMITTED
    if info.status is KrakenOrderStatus.OPEN:
        return OrderStatus.PARTIALLY_FILLED if info.volume_executed > 0 else OrderStatus.OPEN
    if info.status is KrakenOrderStatus.CLOSED:
        full = info.volume_executed >= info.volume
        return OrderStatus.FILLED if full else OrderStatus.CANCELED
    if info.status is KrakenOrderStatus.EXPIRED:
        return OrderStatus.EXPIRED
    return OrderStatus.CANCELED
