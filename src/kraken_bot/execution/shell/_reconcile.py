"""Reconciliation: bring local orders in line with what Kraken says (shell).

`Reconciler.reconcile` is `ExecutionService.refresh_from_exchange`, in the
three blocks of style rule 2:

* **gather**: the tracked orders fresh from the store (every process's),
  QueryOrders for those with a txid (and which txids Kraken does not know),
  OpenOrders and ClosedOrders since the oldest order in doubt, then the
  tracked orders once more (so an order sent meanwhile, written ahead of its
  send, is known when its exchange order is listed), the local orders owning
  the client ids seen there, which send claims are alive, and exchange time;
* **decide**: one pure call, `kraken_bot.execution.core.reconciliation.decide_reconciliation`;
* **apply**: every decision goes through the ledger (compare-and-set, folded
  again on a conflict; a decision whose evidence no longer holds is refused,
  not forced).

Paper and dry run never adopt exchange orders (their records are not the
exchange's), and never change the exchange. A refused API key (`AuthError`)
is raised, not reported: nothing can be reconciled with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from pyrsistent import pmap

from kraken_bot.clock import Clock
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.cancels import in_doubt
from kraken_bot.execution.core.models import LocalOrder
from kraken_bot.execution.core.reconcile_scope import (
    claimers_to_check,
    client_ids_to_resolve,
    given_up_userref,
    held_claims,
    listing_since,
    may_carry_our_userref,
    needs_userref_scan,
    strangers,
)
from kraken_bot.execution.core.reconciliation import (
    Adopt,
    ExchangeView,
    Fold,
    Situation,
    adopted_order,
    decide_reconciliation,
    is_local_id,
)
from kraken_bot.execution.core.reports import ReconcileReport
from kraken_bot.execution.shell._claims import ClaimRegistry
from kraken_bot.execution.shell._ledger import Ledger
from kraken_bot.execution.shell._retry import retry_transient
from kraken_bot.execution.shell.adapter import KrakenExecutionAdapter
from kraken_bot.execution.shell.ids import IdFactory
from kraken_bot.kraken.errors import AuthError, KrakenAPIError
from kraken_bot.kraken.types import OrderInfo

log = logging.getLogger("kraken_bot.execution")

_T = TypeVar("_T")
_GIVEN_UP_SCAN = 500  # recent orders searched for a given-up userref order
_LOOK_BACK = timedelta(hours=24)


@dataclass
class Reconciler:
    """One per service."""

    adapter: KrakenExecutionAdapter
    ledger: Ledger
    clock: Clock
    config: ExecutionConfig
    new_id: IdFactory
    claims: ClaimRegistry
    strategy_userrefs: dict[int, str] = field(default_factory=dict)
    rest_symbol: Callable[[str], str | None] = lambda _pair: None
    """The AssetPairs key of a pair as Kraken lists it (an adopted order's ``rest_pair``)."""
    adopt: bool = True

    def reconcile(self, *, look_back: timedelta | None = None) -> ReconcileReport:
        """One full pass (see the module docstring).

        ``look_back``: how far back ClosedOrders is read for strangers (default 24 hours);
        orders in doubt widen it to their first send.
        """
        report = ReconcileReport()
        before = self.ledger.tracked_orders()
        report.checked = len(before)
        queried, unknown = self._query(before, report)
        doubtful = [o for o in before if in_doubt(o)]
        listed, listed_ok = self._listings(doubtful, report, look_back or _LOOK_BACK)
        # Read the local orders again, after the listings, when they hold an exchange order
        # the first read does not explain: an order sent meanwhile (by another thread or
        # process) was written ahead of its send, so it is in this read, and is re-linked,
        # not adopted.
        known = {o.kraken_order_id for o in before}
        tracked = (
            self.ledger.tracked_orders()
            if any(
                info.txid not in known and not self.ledger.owns_txid(info.txid) for info in listed
            )
            else before
        )
        situation = self._situation(tracked, listed)
        view = ExchangeView(
            queried=queried, unknown_txids=unknown, listed=listed, listed_ok=listed_ok
        )
        outcome = decide_reconciliation(situation, view)
        self._apply(outcome.decisions, report)
        report.proven_absent += outcome.proven_absent
        report.still_unknown += outcome.in_doubt
        report.unknown_orders = list(outcome.unknown)
        report.quarantined = self.ledger.store.quarantined()
        for local_id in outcome.unknown:
            log.warning("order %s: Kraken does not know it (status unknown)", local_id)
        return report

    def refresh_orders(self, orders: Sequence[LocalOrder], report: ReconcileReport) -> None:
        """QueryOrders for ``orders`` that have a txid, folding each answer in."""
        fresh = [o for o in self.ledger.refresh_many(orders) if o.kraken_order_id is not None]
        queried, unknown = self._query(fresh, report)
        view = ExchangeView(queried=queried, unknown_txids=unknown, listed=(), listed_ok=False)
        situation = Situation(
            tracked=tuple(fresh),
            now=self.clock.now(),
            lookup_margin=timedelta(seconds=self.config.lookup_margin_seconds),
            unknown_after=timedelta(seconds=self.config.unknown_after_seconds),
            adopt=False,
        )
        self._apply(decide_reconciliation(situation, view).decisions, report)

    # ------------------------------------------------------------------ gather

    def _read(self, call: Callable[[], _T], what: str) -> _T:
        return retry_transient(call, clock=self.clock, config=self.config, what=what)

    def _query(
        self, orders: Sequence[LocalOrder], report: ReconcileReport
    ) -> tuple[dict[str, OrderInfo], frozenset[str]]:
        txids = [o.kraken_order_id for o in orders if o.kraken_order_id is not None]
        if not txids:
            return {}, frozenset()
        try:
            answer = self._read(lambda: self.adapter.query_orders_checked(txids), "QueryOrders")
        except AuthError:
            raise  # a refused key is not a reconciliation problem: nothing can be read
        except KrakenAPIError as error:
            report.errors.append(f"QueryOrders failed: {error}")
            return {}, frozenset()
        return {info.txid: info for info in answer.orders}, frozenset(answer.unknown)

    def _listings(
        self, doubtful: Sequence[LocalOrder], report: ReconcileReport, look_back: timedelta
    ) -> tuple[tuple[OrderInfo, ...], bool]:
        oldest = listing_since(doubtful, now=self.clock.now(), look_back=look_back)
        try:
            open_orders = self._read(self.adapter.open_orders, "OpenOrders")
            closed = self._read(lambda: self.adapter.closed_orders_since(oldest), "ClosedOrders")
        except AuthError:
            raise
        except KrakenAPIError as error:
            report.errors.append(f"listing orders failed: {error}")
            return (), False
        return (*open_orders, *closed), True

    def _short_of_fills(self, info: OrderInfo) -> LocalOrder | None:
        """The finished local order of ``info``'s txid when it holds fewer fills than
        ``info`` shows. Fills only grow, so a cached version that already holds them
        answers the usual case without reading the store."""
        cached = self.ledger.by_kraken_id(info.txid, fresh=False)
        if cached is not None and info.volume_executed <= cached.cumulative_base_filled:
            return None
        order = self.ledger.by_kraken_id(info.txid)
        if order is None or order.is_live or info.volume_executed <= order.cumulative_base_filled:
            return None
        return order

    def live_claims(self, tracked: Sequence[LocalOrder]) -> frozenset[str]:
        """Orders whose sender may still send them: held by this process's senders, or
        claimed by a service instance of another process that is still alive."""
        owner = self.ledger.owner
        alive = frozenset(
            claimer
            for claimer in claimers_to_check(tracked, owner=owner)
            if self.claims.alive(claimer)
        )
        return held_claims(tracked, owner=owner, held_here=self.ledger.claimed_here(), alive=alive)

    def _situation(self, tracked: Sequence[LocalOrder], listed: Sequence[OrderInfo]) -> Situation:
        found, tracked_txids = strangers(listed, tracked)
        owned = frozenset(i.txid for i in found if self.ledger.owns_txid(i.txid))
        by_client_id: dict[str, LocalOrder] = {}
        for client_id in client_ids_to_resolve(found, owned):
            owner = self.ledger.by_client_id(client_id)
            if owner is not None:
                by_client_id[client_id] = owner
        our_userrefs = self.ledger.store.userrefs() if may_carry_our_userref(found) else frozenset()
        scan = needs_userref_scan(
            found, owned, strategy_userrefs=self.strategy_userrefs, our_userrefs=our_userrefs
        )
        given_up = given_up_userref(self.ledger.store.recent_orders(_GIVEN_UP_SCAN)) if scan else ()
        # Finished orders of ours the listings show with fills they lack: a fill that landed
        # while a cancel was on its way, whose read-back failed (the order was closed on
        # the cancel's answer alone).
        settled = tuple(
            order
            for info in found
            if info.txid in owned and info.volume_executed > 0
            for order in (self._short_of_fills(info),)
            if order is not None
        )
        return Situation(
            tracked=tuple(tracked),
            settled=settled,
            now=self.clock.now(),
            lookup_margin=timedelta(seconds=self.config.lookup_margin_seconds),
            unknown_after=timedelta(seconds=self.config.unknown_after_seconds),
            live_claims=self.live_claims(tracked),
            by_client_id=pmap(by_client_id),
            given_up_userref=given_up,
            owned_txids=owned | tracked_txids,
            strategy_userrefs=pmap(self.strategy_userrefs),
            our_userrefs=our_userrefs,
            adopt=self.adopt,
        )

    # ------------------------------------------------------------------ apply

    def _apply(self, decisions: Sequence[Fold | Adopt], report: ReconcileReport) -> None:
        for decision in decisions:
            if isinstance(decision, Fold):
                before = self.ledger.get(decision.local_id, fresh=False)
                applied = self.ledger.apply(
                    decision.local_id, decision.event, decision.detail or None
                )
                if applied.accepted and applied.order != before:
                    report.updated += 1
                    if decision.detail == "found on the exchange":
                        report.adopted += 1
                        log.warning(
                            "order %s was on the exchange after all (%s)",
                            decision.local_id,
                            applied.order.kraken_order_id,
                        )
                continue
            self._adopt(decision, report)

    def _adopt(self, decision: Adopt, report: ReconcileReport) -> None:
        info = decision.info
        local_id = info.cl_ord_id if is_local_id(info.cl_ord_id) else None
        order = adopted_order(
            info,
            local_id=local_id or self.new_id(),
            strategy_id=decision.strategy_id,
            rest_pair=self.rest_symbol(info.pair),
            now=self.clock.now(),
        )
        if self.ledger.adopt(order, f"exchange order {info.txid} unknown locally") is None:
            return  # another process recorded it first: the next pass folds into it
        report.adopted += 1
        log.warning(
            "adopted exchange order %s (%s) that no local order owned", info.txid, info.pair
        )
