"""ExecutionService: the façade strategy code imports (the contract's section 8).

Every public method has the same three-block shape (style rule 2): *gather*
(clock, store, exchange into values), *decide* (one pure core call: the
planner, the lifecycle, the retry policy), *apply* (send what the core decided,
persist what it returned).

Lifecycle::

    with ExecutionService.from_config(load_config(path)) as service:
        result = service.execute_plan(plan)

``initialize()`` refuses unsafe live configurations, opens the database (a
locked, read-only or corrupt file fails here, before anything is sent),
rebuilds the in-memory state, reconciles orders left over from a previous run,
and arms the dead-man switch in live mode. ``close()`` stops the switch's
refresher, then disarms it.

Modes (contract section 7): live sends real orders (``validate`` omitted) only
with all three opt-ins; paper sends AddOrder with ``validate=true`` and orders
end ``validated``; dry_run sends nothing (market data is still read to size
the orders) and orders end ``simulated``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

from returns.pipeline import is_successful

from kraken_bot.clock import Clock, SystemClock
from kraken_bot.config import AppConfig
from kraken_bot.execution._ledger import Ledger
from kraken_bot.execution._plan_run import PlanRunner
from kraken_bot.execution._reconcile import Reconciler, ReconcileReport
from kraken_bot.execution._retry import retry_transient
from kraken_bot.execution._submit import SendStats, Submitter
from kraken_bot.execution.adapter import KrakenExecutionAdapter, TradingClient
from kraken_bot.execution.exceptions import (
    CancelFailedError,
    LiveTradingRefusedError,
    MissingCredentialsError,
    NotInitializedError,
    PlanValidationError,
    UnknownOrderError,
)
from kraken_bot.execution.ids import IdFactory, new_local_id
from kraken_bot.execution.models import (
    OPEN_STATUSES,
    CancelConfirmed,
    CancelRequested,
    ExecutionMode,
    ExecutionResult,
    GaveUp,
    LocalOrder,
)
from kraken_bot.execution.scheduler import DeadManSwitch
from kraken_bot.execution.store import ExecutionStore, SQLiteExecutionStore
from kraken_bot.kraken.errors import KrakenAPIError, OrderRejectedError
from kraken_bot.market.api import MarketData
from kraken_bot.strategy.plan import ExecutionPlan, validate_plan

if TYPE_CHECKING:
    from requests.adapters import BaseAdapter

    from kraken_bot.kraken.client import KrakenRESTClient

log = logging.getLogger("kraken_bot.execution")

_T = TypeVar("_T")
_NOT_OPEN_ERRORS = ("EOrder:Unknown order", "EOrder:Invalid order")


class ExecutionService:
    """The order-management system: execute plans, inspect, cancel, reconcile."""

    def __init__(
        self,
        *,
        config: AppConfig,
        market_data: MarketData,
        client: TradingClient | None = None,
        store: ExecutionStore | None = None,
        clock: Clock | None = None,
        new_id: IdFactory = new_local_id,
        background_scheduler: bool = True,
    ) -> None:
        """Assemble a service from its parts (see `from_config` to build them all).

        Args:
            config: the application configuration.
            market_data: pair metadata and prices (`MarketDataAPI`, or a static fake).
            client: the Kraken client (trading endpoints); not needed in dry_run.
            store: execution records; None opens SQLite at ``config.storage.path``.
            clock: time and sleep; the fake exchange's virtual clock in simulations.
            new_id: local id factory (seeded in simulations for reproducible runs).
            background_scheduler: refresh the dead-man switch from a thread; False
                refreshes only during service calls (virtual time).
        """
        self.config = config
        self._exec = config.execution
        self._market = market_data
        self._client = client
        self._store = store
        self._owns_store = store is None
        self._clock = clock or SystemClock()
        self._new_id = new_id
        self._background = background_scheduler
        self._plan_lock = threading.Lock()
        self._ledger: Ledger | None = None
        self._submitter: Submitter | None = None
        self._reconciler: Reconciler | None = None
        self._runner: PlanRunner | None = None
        self._dead_man: DeadManSwitch | None = None
        self._owned_client: KrakenRESTClient | None = None
        self._closed = False
        self.stats = SendStats()
        self.last_reconcile: ReconcileReport | None = None

    @classmethod
    def from_config(
        cls,
        config: AppConfig,
        *,
        transport: BaseAdapter | None = None,
        clock: Clock | None = None,
        store: ExecutionStore | None = None,
        new_id: IdFactory = new_local_id,
        background_scheduler: bool = True,
    ) -> ExecutionService:
        """Build the whole stack (client, market data, store, scheduler) from configuration."""
        from kraken_bot.kraken.client import KrakenRESTClient  # noqa: PLC0415 - keeps imports light
        from kraken_bot.kraken.nonce import NonceSource  # noqa: PLC0415
        from kraken_bot.market.api import MarketDataAPI  # noqa: PLC0415

        the_clock = clock or SystemClock()
        nonce_file = config.kraken.nonce_state_file or f"{config.storage.path}.nonce"
        client = KrakenRESTClient(
            base_url=config.kraken.base_url,
            api_key=config.kraken.api_key,
            api_secret=config.kraken.api_secret,
            tier=config.kraken.tier,
            connect_timeout=config.kraken.connect_timeout_seconds,
            read_timeout=config.kraken.read_timeout_seconds,
            transport=transport,
            clock=the_clock,
            nonce_source=NonceSource(clock=the_clock, state_file=Path(nonce_file)),
        )
        service = cls(
            config=config,
            market_data=MarketDataAPI(client, clock=the_clock),
            client=client,
            store=store,
            clock=the_clock,
            new_id=new_id,
            background_scheduler=background_scheduler,
        )
        service._owned_client = client
        return service

    # ------------------------------------------------------------------ lifecycle

    def initialize(self) -> None:
        """Check safety, open the store, rebuild state, reconcile leftovers, arm the switch."""
        if self._ledger is not None:
            return
        if self._closed:
            raise NotInitializedError("this ExecutionService was closed; create a new one")
        problems = self._exec.problems()
        if problems:
            raise LiveTradingRefusedError(
                "refusing to start: " + "; ".join(str(p) for p in problems)
            )
        self._check_exchange_access()
        store = self._store or SQLiteExecutionStore(self.config.storage.path)
        self._store = store
        ledger = Ledger(store, buffer=self._exec.recent_executions_buffer)
        ledger.load()
        self._ledger = ledger
        self._build_workers(ledger)
        if self._mode is ExecutionMode.DRY_RUN:
            self._settle_leftovers_offline(ledger)
        elif ledger.live_orders():
            self.last_reconcile = self._reconciler_or_fail().reconcile()
        if self._exec.dead_man_switch_enabled:
            assert self._submitter is not None
            self._dead_man = DeadManSwitch(
                self._submitter.adapter,
                timeout_seconds=self._exec.dead_man_switch_seconds,
                refresh_seconds=self._exec.dead_man_refresh_period,
                clock=self._clock,
                background=self._background,
                arm_retries=self._exec.max_retries,
                arm_backoff_seconds=self._exec.retry_backoff_seconds,
            )
            try:
                self._dead_man.start()
            except Exception:
                # Never half-started: a live service without its switch must not trade.
                self._dead_man = None
                self._ledger = None
                self._submitter = None
                self._reconciler = None
                self._runner = None
                if self._owns_store:
                    store.close()
                    self._store = None
                raise

    def _settle_leftovers_offline(self, ledger: Ledger) -> None:
        """Dry run cannot ask Kraken: orders never sent are settled; others wait for a real mode."""
        for order in ledger.live_orders():
            if order.attempts == 0:
                ledger.transition(
                    order,
                    GaveUp(
                        at=self._clock.now(),
                        message="never sent: the process stopped before sending it",
                    ),
                )
            else:
                log.warning(
                    "order %s (%s) may be on the exchange; run in paper or live mode to"
                    " reconcile it",
                    order.local_id,
                    order.status.value,
                )

    def _check_exchange_access(self) -> None:
        if self._mode is ExecutionMode.DRY_RUN:
            return
        if self._client is None:
            raise MissingCredentialsError(f"{self._mode.value} mode needs a Kraken client")
        if not self.config.kraken.has_credentials and self._owned_client is not None:
            raise MissingCredentialsError(
                f"{self._mode.value} mode needs an API key and secret: set KRAKEN_API_KEY and"
                " KRAKEN_API_SECRET (or kraken.credentials_file); dry_run needs none"
            )

    def _build_workers(self, ledger: Ledger) -> None:
        self._runner = PlanRunner(
            config=self.config,
            ledger=ledger,
            market=self._market,
            clock=self._clock,
            new_id=self._new_id,
            submitter=None,
            reconciler=None,
            tick=self.tick,
        )
        # dry_run: no adapter at all, so no code path can reach Kraken's private endpoints.
        if self._client is None or self._mode is ExecutionMode.DRY_RUN:
            return
        adapter = KrakenExecutionAdapter(self._client, self._exec)
        self._submitter = Submitter(adapter, ledger, self._clock, self._exec, self.stats)
        userrefs = frozenset(
            s.userref for s in self.config.strategies.values() if s.userref is not None
        )
        self._reconciler = Reconciler(
            adapter, ledger, self._clock, self._exec, self._new_id, strategy_userrefs=userrefs
        )
        self._runner.submitter = self._submitter
        self._runner.reconciler = self._reconciler

    def close(self) -> None:
        """Stop the dead-man switch refresher, disarm it, close what the service opened."""
        if self._closed:
            return
        self._closed = True
        if self._dead_man is not None:
            self._dead_man.stop(disarm=True)
            self._dead_man = None
        if self._owns_store and self._store is not None:
            self._store.close()
        if self._owned_client is not None:
            self._owned_client.close()
        self._ledger = None

    def __enter__(self) -> Self:
        self.initialize()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def _mode(self) -> ExecutionMode:
        return self._exec.mode

    @property
    def adapter(self) -> KrakenExecutionAdapter | None:
        """The Kraken adapter (None in dry run, where nothing may reach Kraken)."""
        return self._submitter.adapter if self._submitter is not None else None

    @property
    def store(self) -> ExecutionStore:
        """The execution records (opened by `initialize`)."""
        return self._ledger_or_fail().store

    @property
    def transition_failures(self) -> list[str]:
        """Observations the lifecycle refused (stale or contradictory), for diagnostics."""
        return list(self._ledger_or_fail().transition_failures)

    @property
    def dead_man_switch(self) -> DeadManSwitch | None:
        """The running dead-man switch, if armed."""
        return self._dead_man

    def _ledger_or_fail(self) -> Ledger:
        if self._ledger is None:
            self.initialize()
        assert self._ledger is not None
        return self._ledger

    def _runner_or_fail(self) -> PlanRunner:
        self._ledger_or_fail()
        assert self._runner is not None
        return self._runner

    def _reconciler_or_fail(self) -> Reconciler:
        if self._reconciler is None:
            raise MissingCredentialsError("this mode has no exchange access")
        return self._reconciler

    def tick(self) -> None:
        """Let the scheduler do due work (refresh the dead-man switch). Called by every method."""
        if self._dead_man is not None:
            self._dead_man.tick()

    # ------------------------------------------------------------------ execute

    def execute_plan(self, plan: ExecutionPlan) -> ExecutionResult:
        """Execute a Phase 4 plan and return what happened (contract 8.2).

        Raises:
            PlanValidationError: the plan is malformed (nothing is sent).
        """
        checked = validate_plan(plan)
        if not is_successful(checked):
            raise PlanValidationError(str(checked.failure()))
        ledger = self._ledger_or_fail()
        with self._plan_lock:
            previous = ledger.store.get_result(plan.plan_id)
            if previous is not None:
                return self._replay(previous)
            return self._runner_or_fail().run(plan)

    def _replay(self, previous: ExecutionResult) -> ExecutionResult:
        """A plan already executed: nothing is sent; its orders as they stand now."""
        ledger = self._ledger_or_fail()
        log.info("plan %s was already executed: not sending it again", previous.plan_id)
        return replace(previous, orders=tuple(ledger.refresh_many(previous.orders)), replayed=True)

    # ------------------------------------------------------------------ inspect

    def get_open_orders(self, *, include_in_flight: bool = False) -> list[LocalOrder]:
        """Orders resting on the book (open, partially filled), oldest first.

        ``include_in_flight`` adds pending and submitted orders whose state is not yet known.
        """
        live = self._ledger_or_fail().live_orders()
        if include_in_flight:
            return live
        return [o for o in live if o.status in OPEN_STATUSES]

    def get_recent_executions(self, limit: int = 50) -> list[ExecutionResult]:
        """The most recent plan results, newest first."""
        return self._ledger_or_fail().recent_results(max(0, limit))

    def get_order(self, order_id: str) -> LocalOrder:
        """An order by local id, Kraken txid, or client order id."""
        ledger = self._ledger_or_fail()
        order = (
            ledger.get(order_id) or ledger.by_kraken_id(order_id) or ledger.by_client_id(order_id)
        )
        if order is None:
            raise UnknownOrderError(f"no order with id {order_id!r}")
        return order

    # ------------------------------------------------------------------ cancel

    def cancel_order(self, order_id: str) -> LocalOrder:
        """Cancel one order by local id or Kraken txid; returns its state after the cancel."""
        self.tick()
        order = self.get_order(order_id)
        if order.is_terminal or self._submitter is None:
            return order
        ledger = self._ledger_or_fail()
        if order.kraken_order_id is None and order.attempts == 0:
            # Written but never sent (the write-ahead proves it): cancel locally.
            return ledger.transition(order, CancelConfirmed(at=self._clock.now()))
        order = ledger.transition(order, CancelRequested(at=self._clock.now()))
        if order.kraken_order_id is None and order.userref is not None:
            self.refresh_from_exchange()  # a userref order can only be canceled by txid
            order = self.get_order(order.local_id)
            if order.kraken_order_id is None:
                return order
        adapter = self._submitter.adapter
        try:
            ack = self._with_retries(lambda: adapter.cancel_order(order))
        except OrderRejectedError as error:
            if not any(e.startswith(_NOT_OPEN_ERRORS) for e in error.errors):
                raise
            ack = None  # no longer open: filled or canceled already; reconcile below
        if ack is not None and ack.count >= 1:
            order = ledger.transition(
                order, CancelConfirmed(at=self._clock.now(), response_json=ack.raw)
            )
        self._settle([order])
        return self.get_order(order.local_id)

    def cancel_all(self) -> None:
        """Cancel every open order (CancelAll), then reconcile each local order's final state."""
        self.tick()
        if self._submitter is None:
            return
        ledger = self._ledger_or_fail()
        live = ledger.live_orders()
        now = self._clock.now()
        flagged = [ledger.transition(o, CancelRequested(at=now)) for o in live]
        adapter = self._submitter.adapter
        self._with_retries(adapter.cancel_all)
        self._settle(flagged)

    def _settle(self, orders: Sequence[LocalOrder]) -> None:
        """Read the final state of canceled orders (fills may have landed before the cancel)."""
        ledger = self._ledger_or_fail()
        reconciler = self._reconciler_or_fail()
        report = ReconcileReport()
        reconciler.refresh_orders(ledger.refresh_many(orders), report)
        if any(o.kraken_order_id is None for o in ledger.refresh_many(orders)):
            report = reconciler.reconcile()
        self.last_reconcile = report

    def _with_retries(self, call: Callable[[], _T]) -> _T:
        """Retry transient errors with the configured backoff; repeating a cancel is harmless."""
        try:
            return retry_transient(call, clock=self._clock, config=self._exec, what="cancel")
        except KrakenAPIError as error:
            if error.transient:
                raise CancelFailedError(f"Kraken did not answer: {error}") from error
            raise

    # ------------------------------------------------------------------ reconcile

    def refresh_from_exchange(self, *, look_back: timedelta | None = None) -> ReconcileReport:
        """Re-sync local orders with Kraken's OpenOrders, ClosedOrders and QueryOrders.

        ``look_back``: how far back ClosedOrders is read for exchange orders of ours that
        the database does not know (None: the reconciler's default, 24 hours); orders still
        unacknowledged widen it to when they were first sent. A caller that reconciles
        often, and knows when its last complete pass was, can read only since then.
        """
        self.tick()
        self._ledger_or_fail()
        if self._reconciler is None:
            report = ReconcileReport()
        elif look_back is None:
            report = self._reconciler.reconcile()
        else:
            report = self._reconciler.reconcile(look_back=look_back)
        self.last_reconcile = report
        return report
