"""Executing one plan: gather, decide, write ahead, send, reconcile, summarise (shell).

`PlanRunner.run` is the body of `ExecutionService.execute_plan` in the three
blocks of style rule 2:

* **gather**: pair metadata and prices for the plan's pairs (one Ticker call,
  retried on transient errors), this layer's live orders, the clock;
* **decide**: one pure call, `kraken_bot.execution.core.planner.plan_orders`;
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from returns.result import Result

from kraken_bot._enums import Routing
from kraken_bot.clock import Clock
from kraken_bot.config import AppConfig, ExecutionConfig
from kraken_bot.execution.core.models import (
    ActionSkip,
    ExecutionResult,
    LocalOrder,
    OrderIntent,
    Simulated,
)
from kraken_bot.execution.core.plan_runs import (
    TwinKey,
    identical_in_flight,
    ids_needed,
    plan_records,
    plan_result,
    price_pairs,
    refused_result,
    resume_point,
    send_groups,
    twin_blocked,
    unsent_to_give_up,
    userref_twins,
)
from kraken_bot.execution.core.planner import PlanningContext, plan_orders
from kraken_bot.execution.core.reports import ReconcileReport
from kraken_bot.execution.shell._ledger import Ledger
from kraken_bot.execution.shell._reconcile import Reconciler
from kraken_bot.execution.shell._retry import retry_transient
from kraken_bot.execution.shell._submit import Submitter
from kraken_bot.execution.shell.ids import IdFactory
from kraken_bot.execution.shell.scheduler import run_bounded
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.pairs import PairUniverse
from kraken_bot.kraken.prices import PriceQuote
from kraken_bot.market.api import MarketData, UnknownPairError
from kraken_bot.strategy.plan import ExecutionPlan

log = logging.getLogger("kraken_bot.execution")

_T = TypeVar("_T")


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
    live_claims: Callable[[Sequence[LocalOrder]], frozenset[str]]

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
        # Orders still pending that no sender will ever send (their run stopped, in this
        # process or one that died) are given up first: pending, they would count as
        # working and cover the targets they were made for (as reconciliation would, later).
        working = ledger.live_orders()
        self._give_up_unsent(working, self.live_claims(working))
        # A run cut short (no result stored): resume it. Actions whose order may have reached
        # the exchange are done; actions whose order provably never left are planned again.
        stored = ledger.store.orders_for_plan(plan.plan_id)
        earlier, done = resume_point(stored, self.live_claims(stored))
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
        except BaseException:
            self._cut_short(created)
            raise
        finally:
            ledger.release_claims(o.local_id for o in created)
        live = self.submitter is not None and not self.submitter.adapter.validating
        if live and self.execution.reconcile_after_execute and self.reconciler is not None:
            report = ReconcileReport()
            self.reconciler.refresh_orders(ledger.refresh_many(created), report)
        self.tick()
        return self._finish(plan, started, (*earlier, *guarded, *created), tuple(skipped), [])

    def _give_up_unsent(self, orders: Sequence[LocalOrder], live_claims: frozenset[str]) -> None:
        """Give up ``orders`` still pending that never left (`unsent_to_give_up`); the ledger
        refuses the event for one whose send was recorded meanwhile."""
        for local_id, event in unsent_to_give_up(orders, live_claims, now=self.clock.now()):
            self.ledger.apply(local_id, event)

    def _cut_short(self, created: Sequence[LocalOrder]) -> None:
        """The sends stopped on an error: no sender of this run is left (`run_bounded`
        waits for those running and cancels the rest), so the orders none of them sent
        are given up now, before any plan counts them as working. What this raises is
        logged: the error that stopped the sends is the one the caller sees."""
        try:
            self._give_up_unsent(self.ledger.refresh_many(created, fresh=True), frozenset())
        except Exception:
            log.exception("giving up the orders a cut-short plan never sent")

    def refused(self, plan: ExecutionPlan, reason: str) -> ExecutionResult:
        """A plan not run at all (nothing written, nothing sent); its result is not stored,
        so the same plan can be executed once the reason is gone."""
        return refused_result(
            plan.plan_id, now=self.clock.now(), reason=reason, mode=self.execution.mode
        )

    def _gather_market(self, plan: ExecutionPlan) -> tuple[PairUniverse, dict[str, PriceQuote]]:
        universe = self._retrying(self.market.universe, "reading pair metadata")
        wanted = price_pairs(plan, universe)
        if not wanted:
            return universe, {}
        # maker_first rests at the touch: the top of the book (Depth), not Ticker's summary.
        read = (
            self.market.get_books
            if self.execution.routing is Routing.MAKER_FIRST
            else self.market.get_latest_prices
        )
        quotes = self._retrying(lambda: read(wanted), "reading prices")
        return universe, dict(quotes)

    def _record_decisions(
        self,
        plan: ExecutionPlan,
        decisions: Sequence[Result[OrderIntent, ActionSkip]],
        done: frozenset[int],
    ) -> tuple[list[LocalOrder], list[LocalOrder], list[ActionSkip]]:
        """Write-ahead: every order is stored (pending or guardrail error) before any send.

        Returns the pending orders to send, the guardrail orders (status error,
        never sent), and the benign skips.
        """
        ledger = self.ledger
        ids = [self.new_id() for _ in range(ids_needed(decisions, done))]
        records = plan_records(
            plan.plan_id, decisions, done=done, ids=ids, now=self.clock.now(), owner=ledger.owner
        )
        guarded = [ledger.record(order, "guardrail", why) for order, why in records.guarded]
        for index, skip in records.skipped:
            log.info("plan %s action %d: %s", plan.plan_id, index, skip.message)
        # One transaction for the plan's pending orders, committed before the first send;
        # this process's senders hold their claims until they are done with them.
        created = ledger.record_many(records.pending, "created", claim=True)
        return created, guarded, [skip for _, skip in records.skipped]

    def _send(self, orders: list[LocalOrder]) -> None:
        """Send with at most ``max_concurrent_orders`` in flight; userref twins one at a time."""
        if not orders:
            return
        twins = (
            userref_twins(self.ledger.tracked_orders())
            if any(o.userref is not None for o in orders)
            else {}
        )
        run_bounded(
            send_groups(orders),
            lambda group: self._send_group(group, twins),
            self.execution.max_concurrent_orders,
        )

    def _send_group(self, group: list[LocalOrder], twins: dict[TwinKey, list[str]]) -> None:
        for order in group:
            self.tick()
            if self.submitter is None:  # dry run: the service gives no submitter (`access`)
                self.ledger.transition(order, Simulated(at=self.clock.now()))
                continue
            blocker = identical_in_flight(order, self._twins_of(order, twins))
            if blocker is not None:
                self.ledger.transition(order, twin_blocked(blocker, now=self.clock.now()))
                continue
            current = self.ledger.get(order.local_id, fresh=False) or order
            self.submitter.submit(current)
            self.ledger.release_claims([order.local_id])

    def _twins_of(self, order: LocalOrder, twins: dict[TwinKey, list[str]]) -> Iterator[LocalOrder]:
        """The tracked orders sharing ``order``'s pair and userref, read one by one (the
        check stops at the first twin in flight)."""
        if order.userref is None:
            return
        for local_id in twins.get((order.pair, order.userref), ()):
            other = self.ledger.get(local_id, fresh=False)
            if other is not None:
                yield other

    def _finish(
        self,
        plan: ExecutionPlan,
        started: datetime,
        orders: Sequence[LocalOrder],
        skipped: tuple[ActionSkip, ...],
        plan_errors: list[str],
    ) -> ExecutionResult:
        ledger = self.ledger
        result = plan_result(
            plan.plan_id,
            started=started,
            completed=self.clock.now(),
            orders=ledger.refresh_many(orders),
            skipped=skipped,
            plan_errors=plan_errors,
            mode=self.execution.mode,
        )
        ledger.add_result(result)
        return result
