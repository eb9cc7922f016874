"""Executing one plan: gather, decide, write ahead, send, reconcile, summarise (shell).

`PlanRunner.run` is the body of `ExecutionService.execute_plan` in the three
blocks of style rule 2:

* **gather**: pair metadata and prices for the plan's pairs (one Ticker call,
  retried on transient errors), this layer's live orders, the clock;
* **decide**: one pure call, `kraken_bot.execution.planner.plan_orders`;
* **apply**: every order is written (pending, or a guardrail error) before
  anything is sent; orders go out with at most ``max_concurrent_orders`` in
  flight (orders Kraken could not tell apart, same pair and userref, one at a
  time); a short reconciliation pass follows in live mode; the result is stored.

A plan cut short by a crash (orders stored, no result) is resumed: actions
whose order may have reached the exchange are done, actions whose order
provably never left are planned again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from returns.pipeline import is_successful
from returns.result import Result

from kraken_bot._enums import Routing
from kraken_bot.clock import Clock
from kraken_bot.config import AppConfig, ExecutionConfig
from kraken_bot.execution import lifecycle
from kraken_bot.execution._ledger import Ledger
from kraken_bot.execution._reconcile import Reconciler
from kraken_bot.execution._retry import retry_transient
from kraken_bot.execution._submit import Submitter
from kraken_bot.execution.ids import IdFactory
from kraken_bot.execution.models import (
    ActionSkip,
    ExecutionResult,
    GaveUp,
    LocalOrder,
    OrderIntent,
    OrderStatus,
    Simulated,
)
from kraken_bot.execution.planner import PlanningContext, plan_orders
from kraken_bot.execution.reports import ReconcileReport
from kraken_bot.execution.scheduler import run_bounded
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.pairs import PairUniverse
from kraken_bot.kraken.prices import PriceQuote
from kraken_bot.market.api import MarketData, UnknownPairError
from kraken_bot.strategy.plan import ExecutionPlan

log = logging.getLogger("kraken_bot.execution")

_T = TypeVar("_T")
_FAILED = frozenset({OrderStatus.REJECTED, OrderStatus.ERROR})


def never_sent(order: LocalOrder, live_claims: frozenset[str] = frozenset()) -> bool:
    """The write-ahead proves no AddOrder left for this order, and nobody will send it now
    (no live sender holds its claim)."""
    return (
        order.attempts == 0
        and order.status in {OrderStatus.ERROR, OrderStatus.PENDING}
        and order.local_id not in live_claims
    )


@dataclass
class PlanRunner:
    """Everything one plan execution needs; built by the service once it is initialized."""

    config: AppConfig
    ledger: Ledger
    market: MarketData
    clock: Clock
    new_id: IdFactory
    submitter: Submitter | None
    reconciler: Reconciler | None
    tick: Callable[[], None]
    live_claims: Callable[[Sequence[LocalOrder]], frozenset[str]] = lambda _orders: frozenset()

    @property
    def execution(self) -> ExecutionConfig:
        """The execution section of the configuration."""
        return self.config.execution

    def _retrying(self, call: Callable[[], _T], what: str) -> _T:
        return retry_transient(call, clock=self.clock, config=self.execution, what=what)

    def run(
        self, plan: ExecutionPlan, *, execution: ExecutionConfig | None = None
    ) -> ExecutionResult:
        """Plan, write ahead, send, reconcile briefly, and store the result.

        ``execution``: settings for this plan's pricing instead of the service's (the
        maker-first router's cross at the cap, or its repost).
        """
        ledger = self.ledger
        started = self.clock.now()
        self.tick()
        # A run cut short (no result stored): resume it. Actions whose order may have reached
        # the exchange are done; actions whose order provably never left are planned again.
        stored = ledger.store.orders_for_plan(plan.plan_id)
        claimed = self.live_claims(stored)
        earlier = [o for o in stored if not never_sent(o, claimed)]
        done = {o.action_index for o in earlier if o.action_index is not None}
        try:
            universe, prices = self._gather_market(plan)
        except (KrakenAPIError, UnknownPairError) as error:
            return self._finish(plan, started, earlier, (), [f"market data unavailable: {error}"])
        context = PlanningContext(
            universe=universe,
            prices=prices,
            open_orders=tuple(ledger.live_orders()),
            config=execution or self.execution,
            region=self.config.region,
            now=self.clock.now(),
            strategy_userrefs={
                k: v.userref for k, v in self.config.strategies.items() if v.userref is not None
            },
        )
        decisions = plan_orders(plan, context)
        created, guarded, skipped = self._record_decisions(plan, decisions, done)
        try:
            self._send(created)
        finally:
            ledger.release_claims(o.local_id for o in created)
        live = self.submitter is not None and not self.submitter.adapter.validating
        if live and self.execution.reconcile_after_execute and self.reconciler is not None:
            report = ReconcileReport()
            self.reconciler.refresh_orders(ledger.refresh_many(created), report)
        self.tick()
        return self._finish(plan, started, (*earlier, *guarded, *created), tuple(skipped), [])

    def refused(self, plan: ExecutionPlan, reason: str) -> ExecutionResult:
        """A plan not run at all (nothing written, nothing sent); its result is not stored,
        so the same plan can be executed once the reason is gone."""
        now = self.clock.now()
        return ExecutionResult(
            plan_id=plan.plan_id,
            started_at=now,
            completed_at=now,
            success=False,
            orders=(),
            errors=(reason,),
            mode=self.execution.mode,
        )

    def _gather_market(self, plan: ExecutionPlan) -> tuple[PairUniverse, dict[str, PriceQuote]]:
        universe = self._retrying(self.market.universe, "reading pair metadata")
        wanted: set[str] = set()
        for action in plan.actions:
            pair = universe.resolve(action.pair).value_or(None)
            if pair is None:
                continue
            wanted.add(pair.altname)
            if not pair.quote_is_usd:
                usd = universe.usd_pair_for(pair.quote)
                if usd is not None:
                    wanted.add(usd.altname)
        if not wanted:
            return universe, {}
        # maker_first rests at the touch: the top of the book (Depth), not Ticker's summary.
        read = (
            self.market.get_books
            if self.execution.routing is Routing.MAKER_FIRST
            else self.market.get_latest_prices
        )
        quotes = self._retrying(lambda: read(sorted(wanted)), "reading prices")
        return universe, dict(quotes)

    def _record_decisions(
        self,
        plan: ExecutionPlan,
        decisions: Sequence[Result[OrderIntent, ActionSkip]],
        done: set[int],
    ) -> tuple[list[LocalOrder], list[LocalOrder], list[ActionSkip]]:
        """Write-ahead: every order is stored (pending or guardrail error) before any send.

        Returns the pending orders to send, the guardrail orders (status error,
        never sent), and the benign skips.
        """
        ledger = self.ledger
        now = self.clock.now()
        created: list[LocalOrder] = []
        guarded: list[LocalOrder] = []
        skipped: list[ActionSkip] = []
        for index, decision in enumerate(decisions):
            if index in done:
                continue
            if is_successful(decision):
                created.append(
                    lifecycle.new_order(
                        decision.unwrap(), local_id=self.new_id(), now=now, claimed_by=ledger.owner
                    )
                )
                continue
            skip = decision.failure()
            if skip.is_error:
                order = lifecycle.guardrail_order(
                    skip, plan_id=plan.plan_id, local_id=self.new_id(), now=now
                )
                guarded.append(ledger.record(order, "guardrail", skip.message))
            else:
                log.info("plan %s action %d: %s", plan.plan_id, index, skip.message)
                skipped.append(skip)
        # One transaction for the plan's pending orders, committed before the first send;
        # this process's senders hold their claims until they are done with them.
        return ledger.record_many(created, "created", claim=True), guarded, skipped

    def _send(self, orders: list[LocalOrder]) -> None:
        """Send with at most ``max_concurrent_orders`` in flight; userref twins one at a time."""
        if not orders:
            return
        groups: dict[tuple[str, int] | str, list[LocalOrder]] = {}
        for order in orders:
            key: tuple[str, int] | str = (
                (order.pair, order.userref) if order.userref is not None else order.local_id
            )
            groups.setdefault(key, []).append(order)
        twins = self._userref_orders() if any(o.userref is not None for o in orders) else {}
        run_bounded(
            list(groups.values()),
            lambda group: self._send_group(group, twins),
            self.execution.max_concurrent_orders,
        )

    def _userref_orders(self) -> dict[tuple[str, int], list[str]]:
        """Tracked orders carrying a userref, by (pair, userref): candidates for twins."""
        found: dict[tuple[str, int], list[str]] = {}
        for order in self.ledger.tracked_orders():
            if order.userref is not None:
                found.setdefault((order.pair, order.userref), []).append(order.local_id)
        return found

    def _send_group(self, group: list[LocalOrder], twins: dict[tuple[str, int], list[str]]) -> None:
        for order in group:
            self.tick()
            if self.submitter is None:  # dry run: the service gives no submitter (`access`)
                self.ledger.transition(order, Simulated(at=self.clock.now()))
                continue
            blocker = self._identical_in_flight(order, twins)
            if blocker is not None:
                self.ledger.transition(
                    order,
                    GaveUp(
                        at=self.clock.now(),
                        message=f"not sent: identical order {blocker.local_id} (same pair,"
                        " userref, side, volume and price) is still unresolved; run reconcile",
                        never_sent=True,
                    ),
                )
                continue
            current = self.ledger.get(order.local_id, fresh=False) or order
            self.submitter.submit(current)
            self.ledger.release_claims([order.local_id])

    def _identical_in_flight(
        self, order: LocalOrder, twins: dict[tuple[str, int], list[str]]
    ) -> LocalOrder | None:
        """An unacknowledged userref order that Kraken could not tell apart from ``order``."""
        if order.userref is None:
            return None
        for local_id in twins.get((order.pair, order.userref), ()):
            other = self.ledger.get(local_id, fresh=False)
            if (
                other is not None
                and other.is_live
                and other.local_id != order.local_id
                and other.kraken_order_id is None
                and other.attempts > 0
                and (other.pair, other.userref, other.side, other.order_type)
                == (order.pair, order.userref, order.side, order.order_type)
                and other.requested_base_size == order.requested_base_size
                and other.requested_price == order.requested_price
            ):
                return other
        return None

    def _finish(
        self,
        plan: ExecutionPlan,
        started: datetime,
        orders: Sequence[LocalOrder],
        skipped: tuple[ActionSkip, ...],
        plan_errors: list[str],
    ) -> ExecutionResult:
        ledger = self.ledger
        final = sorted(
            ledger.refresh_many(orders),
            key=lambda o: (o.action_index if o.action_index is not None else -1, o.created_at),
        )
        errors = [*plan_errors]
        errors += [
            f"{o.pair} {o.side.value} {o.requested_base_size}: {o.status.value}: {o.last_error}"
            for o in final
            if o.status in _FAILED
        ]
        result = ExecutionResult(
            plan_id=plan.plan_id,
            started_at=started,
            completed_at=self.clock.now(),
            success=not errors,
            orders=tuple(final),
            errors=tuple(errors),
            mode=self.execution.mode,
            skipped=skipped,
        )
        ledger.add_result(result)
        return result
