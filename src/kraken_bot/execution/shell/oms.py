"""ExecutionService: the façade strategy code imports (the contract's section 8).

Every public method has the same three-block shape (style rule 2): *gather*
(clock, store, exchange into values), *decide* (one pure core call: the
planner, the lifecycle, the reconciliation decisions, the retry policy),
*apply* (send what the core decided, persist what it returned through the
ledger, which owns order state).

Lifecycle::

    with ExecutionService.from_config(load_config(path)) as service:
        result = service.execute_plan(plan)

``initialize()`` refuses unsafe live configurations, opens the database (a
locked, read-only or corrupt file fails here, before anything is sent),
measures the offset to Kraken's clock (live mode is refused when it is unknown
or too large), takes the account's live-trading lease (live mode: one process
per API key places orders and keeps the dead-man switch), rebuilds the
in-memory state, reconciles orders left over from a previous run, and arms the
dead-man switch in live mode. ``close()`` stops the switch's refresher, then
disarms it (only the process that armed it ever does).

One account, many callers: a service is safe to call from several threads
(cancels, ``cancel_all`` and reconciliation during ``execute_plan``), beside
other processes on the same API key and database (``krakked cancel``,
``reconcile``, ``run-once``): see the README's "Concurrency" section.

Modes (contract section 7): live sends real orders (``validate`` omitted) only
with all three opt-ins; paper sends AddOrder with ``validate=true`` and orders
end ``validated``; dry_run sends nothing (market data is still read to size
the orders) and orders end ``simulated``. Paper and dry run never change the
exchange: their cancels act on local records only.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Self, TypeVar, Unpack

from returns.pipeline import is_successful

from kraken_bot._closing import Closing
from kraken_bot._enums import OrderTransport
from kraken_bot.clock import Clock
from kraken_bot.config import AppConfig, ConfigError, ExecutionConfig
from kraken_bot.execution.core.access import StartCheck, access_problem, exchange_access
from kraken_bot.execution.core.amend_protocol import amend_access, amend_wire
from kraken_bot.execution.core.cancels import (
    NotRepriced,
    awaits_cancel,
    cancel_confirmation,
    cancelable_at_exchange,
    cancels_due,
    closed_unknown,
    in_doubt,
    in_flight_settle_at,
    offline_settlement,
    reprice_remaining,
    withdrawal,
)
from kraken_bot.execution.core.events import HealthEvent, HealthKind, ServiceEvent, order_updates
from kraken_bot.execution.core.housekeeping import (
    completes_reconciliation,
    judge_clock,
    judge_unmeasured_clock,
    newly_linked_txid,
    resting,
    scheduled_look_back,
    stream_choice,
    unknown_to_kraken,
)
from kraken_bot.execution.core.models import (
    CancelRequested,
    ExecutionMode,
    ExecutionResult,
    LocalOrder,
    OrderStatus,
)
from kraken_bot.execution.core.plan_runs import Conflict, Refuse, Replay, admission
from kraken_bot.execution.core.ports import TradingClient
from kraken_bot.execution.core.reports import ReconcileReport, SendStats
from kraken_bot.execution.core.routing import follow_up_plan
from kraken_bot.execution.exceptions import (
    AmendRefusedError,
    CancelFailedError,
    ClockOffsetError,
    ExecutionError,
    LiveTradingRefusedError,
    MissingCredentialsError,
    NotInitializedError,
    PlanValidationError,
    UnknownOrderError,
)
from kraken_bot.execution.shell._amend import AmendSender
from kraken_bot.execution.shell._bus import Callback, EventBus, EventStream, Subscription
from kraken_bot.execution.shell._claims import AccountLease, ClaimRegistry
from kraken_bot.execution.shell._exchange_time import ExchangeClock, exchange_clock
from kraken_bot.execution.shell._ledger import Ledger
from kraken_bot.execution.shell._plan_run import PlanRunner
from kraken_bot.execution.shell._reconcile import Reconciler
from kraken_bot.execution.shell._retry import retry_transient
from kraken_bot.execution.shell._route import MakerFirstRouter, RouteStats
from kraken_bot.execution.shell._stream import ServiceStream, open_stream
from kraken_bot.execution.shell._submit import Submitter
from kraken_bot.execution.shell._supervisor import SupervisionSettings, Supervisor
from kraken_bot.execution.shell.adapter import KrakenExecutionAdapter
from kraken_bot.execution.shell.compose import Wiring, build_parts
from kraken_bot.execution.shell.ids import IdFactory, new_local_id
from kraken_bot.execution.shell.scheduler import DeadManSwitch
from kraken_bot.execution.shell.store import ExecutionStore, SQLiteExecutionStore
from kraken_bot.kraken.errors import (
    KrakenAPIError,
    OrderRejectedError,
    is_not_open,
)
from kraken_bot.kraken.nonce import key_fingerprint, state_dir_for
from kraken_bot.kraken.pairs import PairMetadata
from kraken_bot.kraken.prices import PriceQuote
from kraken_bot.market.api import MarketData
from kraken_bot.strategy.plan import ExecutionPlan, validate_plan

log = logging.getLogger("kraken_bot.execution")

_T = TypeVar("_T")
_CLOSE_WAIT_SECONDS = 30.0
"""How long `ExecutionService.close` waits for a plan in progress on another thread."""


class ExecutionService(Closing):
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
        observer: bool = False,
        server_time: Callable[[], int] | None = None,
        owns_client: bool = False,
    ) -> None:
        """Assemble a service from its parts (`from_config` builds them all from
        configuration).

        Args:
            config: the application configuration.
            market_data: pair metadata and prices (`MarketDataAPI`, or a static fake).
            client: the Kraken client (trading endpoints); not needed in dry_run.
            store: execution records; None opens SQLite at ``config.database_path``.
            clock: time and sleep (an `ExchangeClock` is kept as is, any other clock is
                wrapped in one); the fake exchange's virtual clock in simulations.
            new_id: local id factory (seeded in simulations for reproducible runs).
            background_scheduler: refresh the dead-man switch from a thread; False
                refreshes only during service calls (virtual time).
            observer: read, cancel and reconcile only (a one-shot command beside a
                running bot): never takes the account's live-trading lease, never arms
                or disarms the dead-man switch, never places a live order.
            server_time: reads Kraken's ``Time`` (unix seconds) to measure the clock
                offset; None uses the client's ``server_time`` when it has one.
            owns_client: ``close()`` closes ``client`` too (one built for this service).
        """
        self.config = config
        self._exec = config.execution
        self._market = market_data
        self._client = client
        self._store = store
        self._owns_store = store is None
        self._clock = exchange_clock(clock)
        self._server_time = server_time or _server_time_of(client)
        self._new_id = new_id
        self._background = background_scheduler
        self._observer = observer
        self._access = exchange_access(config.execution, observer=observer)
        self._plan_lock = threading.Lock()
        self._closing = threading.RLock()  # close() and abandon() run once, whoever calls
        self._ledger: Ledger | None = None
        self._submitter: Submitter | None = None
        self._reconciler: Reconciler | None = None
        self._runner: PlanRunner | None = None
        self._router: MakerFirstRouter | None = None
        self._dead_man: DeadManSwitch | None = None
        # a client built for this service (`from_config`) is closed with it
        self._close_client: Callable[[], None] | None = (
            getattr(client, "close", None) if owns_client else None
        )
        self._closed = False
        self._synced = False
        self._complete_at: datetime | None = None
        """When the last complete reconciliation of this process began (see
        `housekeeping.scheduled_look_back`)."""
        self._next_clock_sync: float | None = None
        state_dir = state_dir_for(config.kraken)
        self.owner_id = f"svc-{uuid.uuid4().hex}"
        """This service instance's id: the owner of the send claims it makes."""
        self._claims = ClaimRegistry(state_dir)
        key = config.kraken.api_key.reveal() if config.kraken.api_key is not None else ""
        self.lease = AccountLease(state_dir / f"account-{key_fingerprint(key)}.lock")
        """The account's live-trading lease (held by a live, non-observer service)."""
        self.stats = SendStats()
        self.last_reconcile: ReconcileReport | None = None
        self._bus = EventBus()
        self._supervisor: Supervisor | None = None
        self._supervising = threading.Event()
        self._supervise_thread: threading.Thread | None = None
        self._stream: ServiceStream | None = None

    @classmethod
    def from_config(
        cls,
        config: AppConfig,
        *,
        store: ExecutionStore | None = None,
        new_id: IdFactory = new_local_id,
        background_scheduler: bool = True,
        observer: bool = False,
        **wiring: Unpack[Wiring],
    ) -> ExecutionService:
        """The service of ``config``, with every part it needs (built by the composition
        root, `kraken_bot.execution.shell.compose.build_parts`).

        Args:
            config: the application configuration.
            store, new_id, background_scheduler, observer: as for the constructor.
            wiring: ``client``, ``market_data``, ``transport``, ``http``, ``clock``: how
                the service reaches Kraken and tells time (`compose.Wiring`); none needed.
        """
        parts = build_parts(config, **wiring)
        return cls(
            config=config,
            market_data=parts.market_data,
            client=parts.client,
            store=store,
            clock=parts.clock,
            new_id=new_id,
            background_scheduler=background_scheduler,
            observer=observer,
            owns_client=parts.owns_client,
        )

    # ------------------------------------------------------------------ lifecycle

    def initialize(self) -> None:
        """Check safety, open the store, measure the clock, take the lease, rebuild state,
        reconcile leftovers, arm the switch. Nothing is sent before every check passed."""
        if self._ledger is not None:
            return
        self._still_open()
        problems = self._exec.problems()
        if problems:  # a constructed config has none; a guard for hand-made ones
            raise ConfigError("ExecutionConfig", problems).exception()
        self._check_exchange_access()
        store = self._store or SQLiteExecutionStore(self.config.database_path)
        self._store = store
        try:
            self._start(store)
        except BaseException:
            self._release_resources()
            raise

    def _start(self, store: ExecutionStore) -> None:
        self._measure_clock(initial=True)
        if self._access.places_live_orders:
            self.lease.acquire(now=self._clock.now())
        self._claims.register(self.owner_id)
        ledger = Ledger(
            store,
            buffer=self._exec.recent_executions_buffer,
            owner=self.owner_id,
            on_change=self._order_changed,
        )
        ledger.load()
        self._ledger = ledger
        self._stream = self._open_stream(ledger)
        self._build_workers(ledger)
        check = self._access.start_check
        if check is StartCheck.SETTLE_OFFLINE:
            self._settle_leftovers_offline(ledger)
        elif check is StartCheck.RECONCILE_ALL or ledger.tracked_orders():
            started = self._clock.now()
            self.last_reconcile = self._reconciler_or_fail().reconcile()
            self._synced = self.last_reconcile.ok
            if self.last_reconcile.ok:
                self._complete_at = started
        if self._access.arms_dead_man:
            assert self._submitter is not None
            dead_man = DeadManSwitch(
                self._submitter.adapter,
                timeout_seconds=self._exec.dead_man_switch_seconds,
                refresh_seconds=self._exec.dead_man_refresh_period,
                clock=self._clock,
                background=self._background,
                arm_retries=self._exec.max_retries,
                arm_backoff_seconds=self._exec.retry_backoff_seconds,
                on_event=self._health,
            )
            dead_man.start()  # a live service without its switch must not trade
            self._dead_man = dead_man
        if self._access.routes_maker_first:
            self._router = MakerFirstRouter(_RouteOps(self), self._clock, self._exec)
            self._router.watch(ledger.tracked_orders())
        self._start_supervision()
        if self._stream is not None:
            self._stream.start()

    # ------------------------------------------------------------------ always on

    def _start_supervision(self) -> None:
        """Scheduled reconciliation and the unfilled-order policy (paper and live).

        Observers (one-shot commands beside a running bot) do not supervise: the
        bot does. With a background scheduler a thread runs `supervise` every
        second; otherwise (virtual time) the caller does.
        """
        if self._reconciler is None or not self._access.supervises:
            return
        every = self._exec.reconcile_every_seconds
        timeout = self._exec.unfilled_timeout_seconds
        self._supervisor = Supervisor(
            _ServiceOps(self),
            clock=self._clock,
            settings=SupervisionSettings(
                reconcile_every=timedelta(seconds=every) if every is not None else None,
                unfilled_timeout=timedelta(seconds=timeout) if timeout is not None else None,
                unfilled_action=self._exec.unfilled_action,
                backstop_every=timedelta(seconds=self.config.kraken.stream_backstop_seconds),
            ),
            publish=self._bus.publish,
            started_at=self._clock.now(),
            streaming=lambda: self._stream is not None and self._stream.up,
        )
        if self._background:
            self._supervising.clear()
            thread = threading.Thread(target=self._supervise_loop, name="supervisor", daemon=True)
            self._supervise_thread = thread
            thread.start()

    def _open_stream(self, ledger: Ledger) -> ServiceStream | None:
        """Kraken's executions stream (``kraken.stream``), REST as the backstop; built
        before the workers (orders may go over its socket), started after supervision.
        Only a live, trading service streams; see `stream_wanted`."""
        kraken = self.config.kraken
        url = kraken.websocket_url
        get_token = getattr(self._client, "websockets_token", None)
        wanted, warning = stream_choice(
            kraken.stream,
            mode=self._mode,
            url=url,
            observer=self._observer,
            can_fetch_token=get_token is not None,
        )
        if not wanted or url is None or get_token is None:
            if warning is not None:
                log.warning("%s", warning)
                self._health(HealthKind.STREAM_UNAVAILABLE, warning, {})
            return None
        opened = open_stream(
            url,
            get_token=get_token,
            ledger=ledger,
            clock=self._clock,
            reconcile=self._stream_resync,
            refresh=self._stream_refresh,
            on_down=lambda reason: self._health(
                HealthKind.STREAM_DOWN,
                f"the executions stream is down ({reason}); polling until it is back",
                {},
            ),
        )
        if isinstance(opened, str):
            log.warning("%s", opened)
            self._health(HealthKind.STREAM_UNAVAILABLE, opened, {})
            return None
        return opened

    def _stream_refresh(self, orders: Sequence[LocalOrder]) -> None:
        reconciler = self._reconciler
        if reconciler is not None and not self._closed:
            reconciler.refresh_orders(orders, ReconcileReport())

    def _stream_resync(self, reason: str) -> None:
        """After each (re)connection's snapshot or a gap: one full REST reconciliation."""
        if self._closed:
            return
        report = self.refresh_from_exchange()
        supervisor = self._supervisor
        if supervisor is not None:
            supervisor.note_reconciled(self._clock.now())
        if not report.ok:
            log.warning("reconciliation after the stream's %s failed: %s", reason, report.errors)

    @property
    def stream(self) -> ServiceStream | None:
        """The executions stream (None when polling)."""
        return self._stream

    def _supervise_loop(self) -> None:
        while not self._supervising.wait(1.0):
            try:
                self.supervise()
            except Exception:  # the loop outlives any one failure; the tick reports it
                log.exception("supervision tick failed")

    def _stop_supervision(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        self._supervising.set()
        thread = self._supervise_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=60)
        self._supervise_thread = None
        self._supervisor = None

    def supervise(self) -> None:
        """Do the always-on work that is due: the dead-man switch and the clock (`tick`),
        a scheduled reconciliation, the unfilled-order policy.

        A background thread calls it every second; with ``background_scheduler=False``
        (virtual time) the caller does, as `krakked run` and the simulator do.
        """
        self.tick()
        supervisor = self._supervisor
        if supervisor is not None and not self._closed:
            supervisor.tick()

    @property
    def supervisor(self) -> Supervisor | None:
        """The always-on supervisor (None in dry run, for observers, or when closed)."""
        return self._supervisor

    def subscribe(self, callback: Callback, *, name: str = "event-subscriber") -> Subscription:
        """Call ``callback`` with every event from now on: `OrderUpdate` for each order
        state change this service records, `HealthEvent` for the service itself.

        The callback runs in a thread of its own: a slow one delays only itself, one
        that raises is logged and keeps receiving. Delivery is at least once, in
        order, each event numbered (``seq``) so a repeat can be skipped. ``close()``
        the subscription to stop.
        """
        return self._bus.subscribe(callback, name=name)

    def events(self) -> EventStream:
        """An iterator over every event from now on (see `subscribe`); it ends when the
        service closes, or when the stream is closed. ``get(timeout)`` reads one."""
        return self._bus.stream()

    def _order_changed(self, before: LocalOrder | None, after: LocalOrder) -> None:
        stream = self._stream
        txid = newly_linked_txid(before, after)
        if stream is not None and txid is not None:
            stream.linked(txid)
        updates = order_updates(before, after)
        if updates:
            self._bus.publish(updates)

    def _health(self, kind: HealthKind, message: str, details: dict[str, str]) -> None:
        from pyrsistent import pmap  # noqa: PLC0415 - only health events need it

        event: ServiceEvent = HealthEvent(
            kind=kind, message=message, at=self._clock.now(), details=pmap(details)
        )
        self._bus.publish([event])

    def reprice(self, order: LocalOrder) -> ExecutionResult | None:
        """Cancel ``order`` and send what remains of it again at a fresh price.

        The new order is the plan ``{plan_id}:reprice:{local_id}`` (one action for
        the remaining volume, same strategy and userref), so a repeat is refused by
        the plan's id like any plan. Nothing is sent when the cancel is not
        confirmed, or nothing remains.
        """
        final = self.cancel_order(order.local_id)
        remaining = reprice_remaining(final)
        if isinstance(remaining, NotRepriced):
            if remaining.warn:
                log.warning("order %s: not repriced: %s", final.local_id, remaining.reason)
            return None
        plan = follow_up_plan(final, "reprice", remaining, self._clock.now())
        return self.execute_plan(plan)

    def _measure_clock(self, *, initial: bool) -> None:
        """Measure the offset to Kraken's clock (not in dry run, which never asks Kraken).

        Live trading is refused when the offset cannot be measured at start or is larger
        than ``max_clock_offset_seconds``; paper mode only warns.
        """
        if not self._access.reaches_exchange or self._server_time is None:
            return
        read = self._server_time
        strict = initial and self._access.places_live_orders
        try:
            reading = self._clock.measure(
                lambda: retry_transient(read, clock=self._clock, config=self._exec, what="Time")
            )
        except KrakenAPIError as error:
            unmeasured = judge_unmeasured_clock(str(error), strict=strict)
            if unmeasured.refuse:
                raise ClockOffsetError(unmeasured.message) from error
            log.warning("%s", unmeasured.message)
            return
        finally:
            self._next_clock_sync = self._clock.monotonic() + self._exec.clock_sync_seconds
        problem = judge_clock(
            reading.offset, max_offset_seconds=self._exec.max_clock_offset_seconds, strict=strict
        )
        if problem is not None:
            if problem.refuse:
                raise ClockOffsetError(problem.message)
            log.error("%s", problem.message)

    def _settle_leftovers_offline(self, ledger: Ledger) -> None:
        """Dry run cannot ask Kraken: orders never sent are settled; others wait for a real mode."""
        settlement = offline_settlement(ledger.tracked_orders(), now=self._clock.now())
        for local_id, event in settlement.give_up:
            ledger.apply(local_id, event)
        for order in settlement.waiting:
            log.warning(
                "order %s (%s) may be on the exchange; run in paper or live mode to reconcile it",
                order.local_id,
                order.status.value,
            )

    def _check_exchange_access(self) -> None:
        problem = access_problem(
            self._access,
            has_client=self._client is not None,
            has_credentials=self.config.kraken.has_credentials,
            owns_client=self._close_client is not None,
        )
        if problem is not None:
            raise MissingCredentialsError(problem)

    def _build_workers(self, ledger: Ledger) -> None:
        """The sender, the reconciler and the plan runner, each built whole (nothing is
        wired into them afterwards). Dry run gets no adapter at all, so no code path can
        reach Kraken's private endpoints."""
        submitter: Submitter | None = None
        reconciler: Reconciler | None = None
        if self._client is not None and self._access.reaches_exchange:
            adapter = KrakenExecutionAdapter(self._trading_client(), self._exec)
            submitter = Submitter(adapter, ledger, self._clock, self._exec, self.stats)
            userrefs = {
                s.userref: name
                for name, s in self.config.strategies.items()
                if s.userref is not None
            }
            reconciler = Reconciler(
                adapter,
                ledger,
                self._clock,
                self._exec,
                self._new_id,
                self._claims,
                strategy_userrefs=userrefs,
                rest_symbol=self._rest_symbol,
                adopt=self._access.changes_exchange,
            )
        self._submitter, self._reconciler = submitter, reconciler
        self._runner = PlanRunner(
            config=self.config,
            ledger=ledger,
            market=self._market,
            clock=self._clock,
            new_id=self._new_id,
            submitter=submitter,
            reconciler=reconciler,
            tick=self.tick,
            live_claims=reconciler.live_claims if reconciler is not None else _no_claims,
        )

    def _trading_client(self) -> TradingClient:
        """The client orders go through: the REST client, or its WebSocket twin when
        ``order_transport: websocket`` and the executions stream is up."""
        assert self._client is not None
        stream = self._stream
        if stream is None or self.config.kraken.order_transport is not OrderTransport.WEBSOCKET:
            return self._client
        from kraken_bot.kraken.client import KrakenRESTClient  # noqa: PLC0415
        from kraken_bot.kraken.ws_orders import SocketOrders  # noqa: PLC0415

        if not isinstance(self._client, KrakenRESTClient):
            return self._client
        return SocketOrders(
            self._client, stream.stream, timeout=self.config.kraken.ws_request_timeout_seconds
        )

    def _pair(self, name: str) -> PairMetadata | None:
        """The listed pair ``name`` names (None: not listed)."""
        return self._market.universe().resolve(name).value_or(None)

    def _rest_symbol(self, pair: str) -> str | None:
        """The AssetPairs key of ``pair`` (an adopted order's pair as Kraken lists it), or
        None when the pair metadata cannot be read now (the order keeps its listed name)."""
        try:
            listed = self._pair(pair)
        except (KrakenAPIError, ExecutionError) as error:
            log.warning("pair %s: metadata unavailable (%s)", pair, error)
            return None
        return listed.rest_symbol if listed is not None else None

    def close(self) -> None:
        """Let a plan in progress finish (up to 30 s), stop the dead-man switch refresher,
        disarm it, close what the service opened."""
        with self._closing:
            if self._closed:
                return
            self._stop_supervision()  # first: its thread may be running a router's plan
            # A plan being sent on another thread ends with its result stored, not with
            # the store closed under it (a plan held longer fails: its orders were written
            # ahead, and the next start reconciles them).
            waited = self._plan_lock.acquire(timeout=_CLOSE_WAIT_SECONDS)
            try:
                self._closed = True
                dead_man, self._dead_man = self._dead_man, None
                if dead_man is not None:
                    dead_man.stop(disarm=True)
                if self._ledger is not None:
                    self._health(HealthKind.STOPPED, "the execution service stopped", {})
                self._release_resources()
                self._bus.close()
            finally:
                if waited:
                    self._plan_lock.release()

    def abandon(self) -> None:
        """Drop the service as a killed process would: no exchange call, no disarming.

        Releases what the operating system would release on a crash (the lease,
        the send-claim lock, the database connection, the nonce file): for
        supervisors replacing a stuck instance, and for tests of crashes.
        """
        with self._closing:
            if self._closed:
                return
            self._stop_supervision()
            self._closed = True
            dead_man, self._dead_man = self._dead_man, None
            if dead_man is not None:
                dead_man.stop(disarm=False)
            self._release_resources()
            self._bus.close()

    def _release_resources(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        self._claims.release(self.owner_id)
        self.lease.release()
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None
        if self._close_client is not None:
            self._close_client()
        self._ledger = None
        self._submitter = None
        self._reconciler = None
        self._runner = None

    def __enter__(self) -> Self:
        self.initialize()
        return self

    @property
    def _mode(self) -> ExecutionMode:
        return self._exec.mode

    @property
    def clock(self) -> ExchangeClock:
        """Exchange time as this service measures it (local clock plus the offset)."""
        return self._clock

    @property
    def adapter(self) -> KrakenExecutionAdapter | None:
        """The Kraken adapter (None in dry run, where nothing may reach Kraken)."""
        return self._submitter.adapter if self._submitter is not None else None

    @property
    def closed(self) -> bool:
        """True once `close` (or `abandon`) was called: the service does nothing more."""
        return self._closed

    @property
    def store(self) -> ExecutionStore:
        """The execution records (opened by `initialize`)."""
        return self._ledger_or_fail().store

    @property
    def transition_failures(self) -> list[str]:
        """The most recent events the lifecycle refused (stale, contradictory, or
        superseded), oldest first, for diagnostics: at most the last 1,000."""
        return list(self._ledger_or_fail().transition_failures)

    @property
    def quarantined_orders(self) -> dict[str, str]:
        """Order rows the database could not read back (left out of everything): id -> why."""
        return self._ledger_or_fail().store.quarantined()

    @property
    def dead_man_switch(self) -> DeadManSwitch | None:
        """The running dead-man switch, if armed."""
        return self._dead_man

    def _ledger_or_fail(self) -> Ledger:
        if self._ledger is None:
            self.initialize()
        assert self._ledger is not None
        return self._ledger

    def _still_open(self) -> None:
        """Raise once the service is closed (a caller may have waited for the plan lock)."""
        if self._closed:
            raise NotInitializedError("this ExecutionService was closed; create a new one")

    def _runner_or_fail(self) -> PlanRunner:
        self._ledger_or_fail()
        assert self._runner is not None
        return self._runner

    def _reconciler_or_fail(self) -> Reconciler:
        if self._reconciler is None:
            raise MissingCredentialsError("this mode has no exchange access")
        return self._reconciler

    def tick(self) -> None:
        """Do due background work: refresh the dead-man switch, measure the clock again."""
        if self._closed:
            return  # another thread closed the service: nothing is due any more
        # each part read once: close() on another thread may drop it meanwhile
        dead_man, router = self._dead_man, self._router
        if dead_man is not None:
            dead_man.tick()
        if router is not None:
            router.tick()
        due = self._next_clock_sync
        if due is not None and (self._clock.monotonic() >= due or self._clock.stepped):
            self._measure_clock(initial=False)

    def seconds_until_due(self) -> float | None:
        """Seconds until `tick` has work to do (0: now); None when it never will.

        A caller that drives time itself (the simulation) may let this long pass without
        calling `tick`: nothing would have happened in between.
        """
        if self._clock.stepped:
            return 0.0
        dead_man, router, clock_sync = self._dead_man, self._router, self._next_clock_sync
        waits = [
            dead_man.seconds_until_due() if dead_man is not None else None,
            max(0.0, clock_sync - self._clock.monotonic()) if clock_sync is not None else None,
            router.seconds_until_due() if router is not None else None,
        ]
        return min((wait for wait in waits if wait is not None), default=None)

    # ------------------------------------------------------------------ execute

    def execute_plan(self, plan: ExecutionPlan) -> ExecutionResult:
        """Execute a Phase 4 plan and return what happened (contract 8.2).

        Raises:
            PlanValidationError: the plan is malformed, or was already executed in
                another mode in this database (nothing is sent).
            LiveTradingRefusedError: an observer service was asked to trade live.
        """
        checked = validate_plan(plan)
        if not is_successful(checked):
            failure = checked.failure()
            raise PlanValidationError(
                str(failure), problems=failure.problems, plan_id=failure.plan_id
            )
        if not self._access.runs_plans:
            raise LiveTradingRefusedError(
                "this service only reads, cancels and reconciles (observer): it places no"
                " live orders"
            )
        ledger = self._ledger_or_fail()
        with self._plan_lock:
            self._still_open()
            previous = ledger.store.get_result(plan.plan_id)
            admitted = admission(
                previous,
                state_known=previous is not None or self._exchange_state_known(),
                mode=self._mode,
                database=self.config.database_path,
            )
            if isinstance(admitted, Conflict):
                raise PlanValidationError(admitted.message)
            if isinstance(admitted, Replay):
                return self._replay(admitted.previous)
            if isinstance(admitted, Refuse):
                return self._runner_or_fail().refused(plan, admitted.reason)
            result = self._runner_or_fail().run(plan)
        if self._router is not None:
            self._router.watch(result.orders)
        return result

    def _execute_with(self, plan: ExecutionPlan, execution: ExecutionConfig) -> ExecutionResult:
        """Run a follow-up plan of the router's with its own execution settings (a cross at
        the cap, a repost); a plan id seen before gives its stored result."""
        checked = validate_plan(plan)
        if not is_successful(checked):
            raise PlanValidationError(str(checked.failure()), plan_id=plan.plan_id)
        ledger = self._ledger_or_fail()
        with self._plan_lock:
            self._still_open()
            previous = ledger.store.get_result(plan.plan_id)
            if previous is not None:
                return self._replay(previous)
            return self._runner_or_fail().run(plan, execution=execution)

    @property
    def routing_stats(self) -> RouteStats | None:
        """What the maker-first router did (None: it does not run)."""
        return None if self._router is None else self._router.stats

    def _exchange_state_known(self) -> bool:
        """Live: a full reconciliation succeeded since start (orders the database lost are
        adopted and netted before anything is planned). Tried again when it has not."""
        if not self._access.changes_exchange or self._synced:
            return True
        self.refresh_from_exchange()
        return self._synced

    def _replay(self, previous: ExecutionResult) -> ExecutionResult:
        """A plan already executed: nothing is sent; its orders as they stand now."""
        log.info("plan %s was already executed: not sending it again", previous.plan_id)
        return replace(self._present(previous), replayed=True)

    def _present(self, result: ExecutionResult) -> ExecutionResult:
        orders = self._ledger_or_fail().refresh_many(result.orders, fresh=True)
        return replace(result, orders=tuple(orders))

    # ------------------------------------------------------------------ inspect

    def get_open_orders(self, *, include_in_flight: bool = False) -> list[LocalOrder]:
        """Orders resting on the book (open, partially filled), oldest first.

        ``include_in_flight`` adds pending and submitted orders whose state is not yet known.
        """
        live = self._ledger_or_fail().live_orders()
        return live if include_in_flight else resting(live)

    def get_unknown_orders(self) -> list[LocalOrder]:
        """Orders Kraken says it does not know (status ``unknown``): a person should look."""
        return unknown_to_kraken(self._ledger_or_fail().tracked_orders())

    def get_recent_executions(self, limit: int = 50) -> list[ExecutionResult]:
        """The most recent plan results, newest first, each with its orders as they are now.

        The result as recorded when the plan finished stays available for audit:
        `get_execution_as_recorded`.
        """
        results = self._ledger_or_fail().recent_results(max(0, limit))
        return [self._present(result) for result in results]

    def get_execution_as_recorded(self, plan_id: str) -> ExecutionResult | None:
        """A plan's result exactly as stored when it finished (orders as they were then)."""
        return self._ledger_or_fail().store.get_result(plan_id)

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
        """Cancel one order by local id, Kraken txid or client order id; returns its state.

        An order not sent yet is withdrawn (it will never be sent, whatever queue it
        waits in). In paper and dry run only local records change.
        """
        self.tick()
        order = self.get_order(order_id)
        ledger = self._ledger_or_fail()
        if order.status is OrderStatus.UNKNOWN:
            return self._close_unknown(order)
        if not order.is_live:
            return order
        withdrawn = self._withdraw(order)
        if withdrawn is not None or self._submitter is None or not self._access.changes_exchange:
            return withdrawn or self.get_order(order.local_id)
        order = ledger.apply(order.local_id, CancelRequested(at=self._clock.now())).order
        if not cancelable_at_exchange(order):
            self.refresh_from_exchange()  # a userref order can only be canceled by txid
            order = self.get_order(order.local_id)
            if order.kraken_order_id is None:
                return order  # its sender, or reconciliation, finishes it (cancel requested)
        self._send_cancel(order)
        self._settle([order])
        return self.get_order(order.local_id)

    # ------------------------------------------------------------------ amend

    def amend_order(
        self,
        order_id: str,
        *,
        price: Decimal | None = None,
        base_size: Decimal | None = None,
        post_only: bool = False,
    ) -> LocalOrder:
        """Move a working limit order to a new limit price and/or a smaller size, in place
        (Kraken's AmendOrder: the txid and client order id stay; fills stay on the order).

        The amend is written to the order's audit trail before it is sent. An answer that
        is lost is never repeated blindly: once the amend's deadline (plus
        ``lookup_margin_seconds``) has passed, the order is read back; only if it does not
        show the new values is the amend sent again (at most ``max_retries`` times).
        Returns the order as Kraken now reports it (it may have filled or closed meanwhile).

        Raises:
            AmendRefusedError: not live mode, the order is not a working limit order on
                Kraken, or the new price or size is not valid for it (nothing was sent).
            OrderRejectedError: Kraken refused the amend (``post_only`` and the price would
                take liquidity, funds); the order is as it was.
        """
        self.tick()
        order = self.get_order(order_id)
        submitter = self._submitter
        checked = amend_access(
            observer=self._observer,
            changes_exchange=submitter is not None and self._access.changes_exchange,
            mode=self._mode,
        ).bind(  # the pair list is read only by a service that may amend
            lambda _: amend_wire(
                order,
                pair=self._pair(order.pair),
                price=price,
                size=base_size,
            )
        )
        if not is_successful(checked):
            raise AmendRefusedError(checked.failure())
        assert submitter is not None  # amend_access: only a service that sends amends
        sender = AmendSender(
            adapter=submitter.adapter,
            store=self._ledger_or_fail().store,
            clock=self._clock,
            config=self._exec,
            read_back=self._read_back,
        )
        return sender.send(order, checked.unwrap(), post_only=post_only)

    def _read_back(self, order: LocalOrder) -> LocalOrder:
        self._settle([order])
        return self.get_order(order.local_id)

    def _withdraw(self, order: LocalOrder) -> LocalOrder | None:
        """Withdraw an order that was never sent (or, in paper and dry run, any live one).

        Returns the withdrawn order, or None when it may be on the exchange.
        """
        event = withdrawal(
            order, changes_exchange=self._access.changes_exchange, now=self._clock.now()
        )
        if event is None:
            return None
        applied = self._ledger_or_fail().apply(order.local_id, event)
        return applied.order if applied.accepted else None

    def _send_cancel(self, order: LocalOrder) -> None:
        assert self._submitter is not None
        adapter = self._submitter.adapter
        try:
            ack = self._with_retries(lambda: adapter.cancel_order(order))
        except OrderRejectedError as error:
            if not is_not_open(error):
                raise
            return  # no longer open: filled or canceled already; settled below
        confirmed = cancel_confirmation(ack, now=self._clock.now())
        if confirmed is not None:
            self._ledger_or_fail().apply(order.local_id, confirmed)
        # pending: Kraken has not finished canceling; the order stays open until observed.

    def _close_unknown(self, order: LocalOrder) -> LocalOrder:
        """An order Kraken does not know: ask once more (live), then close it locally."""
        if self._submitter is not None and self._access.changes_exchange:
            try:
                self._send_cancel(order)
            except KrakenAPIError as error:
                log.warning("order %s: cancel of an unknown order: %s", order.local_id, error)
            self._settle([order])
            order = self.get_order(order.local_id)
            if order.status is not OrderStatus.UNKNOWN:
                return order
        return self._ledger_or_fail().apply(order.local_id, closed_unknown(self._clock.now())).order

    def cancel_all(self) -> None:
        """Cancel every open order, and every order not sent yet (in any process).

        Order of work: withdraw the orders not sent yet (their senders' write-ahead is
        refused from then on: a canceled order is never sent), flag the rest, call
        CancelAll, then wait for sends already in flight to pass their AddOrder
        deadline, and cancel any of them that landed. In paper and dry run only
        local records change.
        """
        self.tick()
        ledger = self._ledger_or_fail()
        now = self._clock.now()
        for order in ledger.live_orders():
            if self._withdraw(order) is None:
                ledger.apply(order.local_id, CancelRequested(at=now))
        if self._submitter is None or not self._access.changes_exchange:
            return
        adapter = self._submitter.adapter
        self._with_retries(adapter.cancel_all)
        self._cancel_in_flight()
        self._settle(ledger.live_orders())

    def _cancel_in_flight(self) -> None:
        """Wait until sends in flight can no longer be placed, then cancel what landed."""
        ledger = self._ledger_or_fail()
        margin = timedelta(seconds=self._exec.lookup_margin_seconds)
        settled_at = in_flight_settle_at(ledger.live_orders(), margin)
        if settled_at is None:
            return
        wait = (settled_at - self._clock.now()).total_seconds()
        if wait > 0:
            log.info("cancel all: waiting %.1f s for sends in flight to settle", wait)
            self._clock.sleep(wait)
        self.refresh_from_exchange()
        for order in ledger.live_orders():
            if awaits_cancel(order):
                self._send_cancel(order)

    def _settle(self, orders: Sequence[LocalOrder]) -> None:
        """Read the final state of canceled orders (fills may have landed before the cancel)."""
        ledger = self._ledger_or_fail()
        reconciler = self._reconciler_or_fail()
        report = ReconcileReport()
        reconciler.refresh_orders(orders, report)
        if any(in_doubt(o) for o in ledger.refresh_many(orders)):
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

        Cancels that were requested for orders now found on the book are sent
        (live mode). The report names orders Kraken does not know and rows the
        database could not read.

        ``look_back``: how far back ClosedOrders is read for exchange orders of ours that
        the database does not know (None: 24 hours); orders still unacknowledged widen it
        to when they were first sent. A caller that reconciles often, and knows when its
        last complete pass was, can read only since then.
        """
        self.tick()
        ledger = self._ledger_or_fail()
        if self._reconciler is None:
            self._settle_leftovers_offline(ledger)
            report = ReconcileReport(quarantined=ledger.store.quarantined())
        else:
            started = self._clock.now()
            report = self._reconciler.reconcile(look_back=look_back)
            # only a complete pass lets a live start trade
            if completes_reconciliation(
                report.ok, started=started, look_back=look_back, last_complete=self._complete_at
            ):
                self._complete_at = started
                self._synced = True
            if self._access.changes_exchange and self._submitter is not None:
                report.errors.extend(self._follow_up_cancels(ledger))
        self.last_reconcile = report
        return report

    def _follow_up_cancels(self, ledger: Ledger) -> list[str]:
        """A cancel requested before the order's txid was known: send it now that it is.

        (This process's own requests: another process follows up its own.) A cancel
        that fails is reported in the reconciliation's errors and tried again on the
        next pass; it never turns the reconciliation into an exception.
        """
        errors: list[str] = []
        for order in cancels_due(ledger.cached_live()):
            try:
                self._send_cancel(order)
            except (KrakenAPIError, CancelFailedError) as error:
                log.warning("order %s: requested cancel failed: %s", order.local_id, error)
                errors.append(f"CancelOrder for {order.local_id}: {error}")
        return errors


class _ServiceOps:
    """What the supervisor may do, through the service's own public operations."""

    def __init__(self, service: ExecutionService) -> None:
        self._service = service

    def reconcile(self) -> ReconcileReport:
        service = self._service
        look_back = scheduled_look_back(
            service.config.execution.reconcile_every_seconds,
            now=service._clock.now(),  # noqa: SLF001 - the service's own clock
            last_complete=service._complete_at,  # noqa: SLF001
        )
        return service.refresh_from_exchange(look_back=look_back)

    def cached_live_orders(self) -> Sequence[LocalOrder]:
        ledger = self._service._ledger  # noqa: SLF001 - the service's own helper
        return ledger.cached_live() if ledger is not None else ()

    def cancel(self, local_id: str) -> None:
        self._service.cancel_order(local_id)

    def reprice(self, order: LocalOrder, remaining: Decimal) -> None:  # noqa: ARG002
        self._service.reprice(order)

    def rest_counter(self) -> tuple[float, float]:
        limiter = getattr(self._service._client, "limiter", None)  # noqa: SLF001
        if limiter is None or not limiter.enabled:
            return 0.0, 0.0
        return float(limiter.rest_level()), float(limiter.rest_maximum)


class _RouteOps:
    """What the maker-first router may do, through the service."""

    def __init__(self, service: ExecutionService) -> None:
        self._service = service

    def plan_running(self) -> bool:
        return self._service._plan_lock.locked()  # noqa: SLF001

    def working_orders(self) -> Sequence[LocalOrder]:
        ledger = self._service._ledger  # noqa: SLF001 - the service's own helper
        return ledger.cached_live() if ledger is not None else ()

    def order(self, local_id: str) -> LocalOrder | None:
        ledger = self._service._ledger  # noqa: SLF001
        return ledger.get(local_id) if ledger is not None else None

    def quotes(self, pairs: Sequence[str]) -> dict[str, PriceQuote]:
        return self._service._market.get_books(pairs)  # noqa: SLF001

    def pair(self, name: str) -> PairMetadata | None:
        return self._service._pair(name)  # noqa: SLF001

    def trading_room(self, pair: str) -> tuple[float, float]:
        limiter = getattr(self._service._client, "limiter", None)  # noqa: SLF001
        if limiter is None or not limiter.enabled:
            return 0.0, 0.0
        return float(limiter.trading_level(pair)), float(limiter.trading_maximum)

    def amend(self, local_id: str, price: Decimal) -> LocalOrder:
        return self._service.amend_order(local_id, price=price, post_only=True)

    def cancel(self, local_id: str) -> LocalOrder:
        return self._service.cancel_order(local_id)

    def run_plan(self, plan: ExecutionPlan, execution: ExecutionConfig) -> ExecutionResult:
        return self._service._execute_with(plan, execution)  # noqa: SLF001


def _no_claims(_orders: Sequence[LocalOrder]) -> frozenset[str]:
    """No exchange access: no sender of this service may still send anything."""
    return frozenset()


def _server_time_of(client: object) -> Callable[[], int] | None:
    """The client's ``server_time`` as unix seconds, when it has one."""
    server_time = getattr(client, "server_time", None)
    if server_time is None:
        return None
    return lambda: int(server_time().unixtime)
