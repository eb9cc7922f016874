"""Run a scenario: the fake exchange in-process on virtual time, the real service against it.

`run_simulation` is what ``krakked sim`` does:

1. build the fake exchange from the scenario (seed, fault profile, tier) on a
   `kraken_sim.VirtualClock`, and take the scenario's first account; with price
   files (``settings.prices``), the scenario replays them first
   (`kraken_sim.history.with_price_history`: their pairs follow the files, the
   clock starts at their first row);
2. build the real stack against it through the in-process transport: the
   `KrakenRESTClient` (signing, nonces, rate limiter), `MarketDataAPI`, a fresh
   SQLite file and an `ExecutionService` in **live** mode with every opt-in set
   (it is the fake exchange), ``max_concurrent_orders=1``, `SeededIds(seed)`
   and no background thread;
3. for each cycle, ask the bundled `RebalancingStrategy` for a plan (it reads
   ``Balance`` and ``Ticker`` through the same client), execute it, then let
   virtual time pass in the scenario's steps (``service.tick()`` each step; the
   exchange settles on each request it serves) and reconcile
   (``refresh_from_exchange``, listing closed orders since the previous complete
   pass only);
   Before each plan, and after the last, it cancels what is still open (partial
   fills stand), as a rebalancing bot does;
4. after the last cycle, wait past the AddOrder deadline plus the lookup
   margin, freeze the exchange's matching (system status ``maintenance``, so
   no fill lands while the last reconciliation reads), reconcile once more,
   and check the invariants against the exchange's own records.

Everything is deterministic for a given scenario and seed: virtual time, seeded
ids, seeded exchange, one order in flight at a time. Concurrency is exercised
by the test suite, not by replays.

Each plan costs the same however long the replay: the exchange's Ticker windows
are rolling, its order and trade lists are read from the window asked for, the
reconciliation lists only what closed since its previous pass, and the samples
kept for plots are thinned out to at most `_MAX_SAMPLES` (``bench/bench_replay.py``
measures it: ``sim_scale_ratio``).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from pyrsistent import pmap

from kraken_bot._enums import Routing
from kraken_bot.config import (
    AppConfig,
    ExecutionConfig,
    KrakenConfig,
    StorageConfig,
    StrategyConfig,
)
from kraken_bot.execution.core.models import ExecutionMode, ExecutionResult
from kraken_bot.execution.exceptions import CancelFailedError, KrakenAPIError, NetworkError
from kraken_bot.execution.shell.compose import build_client
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.execution.shell.store import SQLiteExecutionStore
from kraken_bot.kraken.nonce import IN_MEMORY as NONCES_IN_MEMORY
from kraken_bot.kraken.pairs import PairMetadata
from kraken_bot.kraken.transport import HttpRequest, HttpResponse
from kraken_bot.market.api import MarketDataAPI
from kraken_bot.region import Tier
from kraken_bot.secret import Secret
from kraken_bot.simulation.invariants import check_invariants, trails_of
from kraken_bot.simulation.records import (
    DEFAULT_PLANS,
    FaultEvent,
    PriceSample,
    ReplayProgress,
    SimulationOutcome,
    SimulationSettings,
    journal_faults,
)
from kraken_bot.simulation.strategy import STRATEGY_ID, RebalancingStrategy, read_with_retries
from kraken_sim import Exchange, NoResponse, ScenarioError, VirtualClock
from kraken_sim import load_scenario as load_sim_scenario
from kraken_sim.history import PriceHistory, read_price_file, with_price_history
from kraken_sim.scenario import Scenario

__all__ = [
    "SIM_BASE_URL",
    "FaultEvent",
    "PriceSample",
    "ReplayProgress",
    "SimulationOutcome",
    "SimulationSettings",
    "plans_covering",
    "run_simulation",
    "simulation_config",
]  # the records are re-exported: a caller needs only this module

SIM_BASE_URL: Final = "http://kraken-sim.invalid"
"""A host that cannot resolve: only the in-process transport can answer it."""

DEFAULT_BALANCES: Final[Mapping[str, Decimal]] = {
    "ZUSD": Decimal(100_000),
    "XXBT": Decimal(1),
    "XETH": Decimal(10),
}
Progress = Callable[[ReplayProgress], None]
_FINAL_PASSES: Final = 5
_MAX_SAMPLES: Final = 5000


class _RecordingTransport:
    """The client's transport straight into the exchange (no sockets, no `requests`),
    remembering the client order id of every AddOrder sent.

    The client's own work (encoding, signing, parsing) runs as over HTTP; the exchange
    serves the exact bytes. A lost answer arrives as the exchange's `NoResponse`, which
    becomes the `NetworkError` a real timeout would give (the read timeout has already
    passed on the exchange's clock).
    """

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.add_orders: list[str | None] = []

    def send(
        self, request: HttpRequest, *, timeout: tuple[float, float], endpoint: str
    ) -> HttpResponse:
        """Serve ``request`` from the exchange (see the class docstring)."""
        parts = urlsplit(request.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if endpoint == "AddOrder":
            self.add_orders.append(dict(parse_qsl(body.decode())).get("cl_ord_id"))
        connect, read = timeout
        try:
            status, _, data = self.exchange.handle(
                request.method,
                target,
                request.headers,
                body,
                read_timeout=read,
                connect_timeout=connect,
            )
        except NoResponse as lost:
            reached = lost.kind != "timeout"
            raise NetworkError(
                f"no answer ({lost.kind}): the request {'may have' if reached else 'never'}"
                " reached Kraken",
                may_have_reached=reached,
                endpoint=endpoint,
            ) from lost
        return HttpResponse(status=status, body=data)

    def close(self) -> None:
        """Nothing to release."""


def simulation_config(
    db_path: Path, api_key: str, api_secret: str, tier: str, state_dir: Path | None = None
) -> AppConfig:
    """Live mode against the fake exchange with every opt-in set, one order in flight.

    ``state_dir`` keeps the replay's per-key state (account lease, send claims) apart
    from the machine's real one (the replay's key is the fake's).
    """
    return AppConfig(
        execution=ExecutionConfig(
            mode=ExecutionMode.LIVE,
            allow_live_trading=True,
            validate_only=False,
            max_concurrent_orders=1,
            # The switch is armed and refreshed as in production, at a pace that keeps long
            # replays quick (a third of the timeout; the library default is faster).
            dead_man_switch_seconds=600,
            dead_man_refresh_seconds=200,
            # The service and the fake share one virtual clock: it never drifts, so the
            # offset is measured at start and then hourly (production: every 15 minutes).
            clock_sync_seconds=3600,
        ),
        kraken=KrakenConfig(
            base_url=SIM_BASE_URL,
            api_key=Secret(api_key),
            api_secret=Secret(api_secret),
            # the fake's key is this run's alone: its nonces need no file shared with others
            nonce_state_file=NONCES_IN_MEMORY,
            tier=Tier(tier),
            state_dir=str(state_dir) if state_dir is not None else None,
        ),
        storage=StorageConfig(path=str(db_path)),
    )


_IN_MEMORY: Final = ":memory:"


def _fresh_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


def _load(settings: SimulationSettings) -> tuple[Scenario, tuple[PriceHistory, ...]]:
    scenario = load_sim_scenario(settings.scenario)
    histories = tuple(h for spec in settings.prices for h in read_price_file(spec))
    return with_price_history(scenario, histories), histories


def plans_covering(histories: Sequence[PriceHistory], interval_seconds: float) -> int:
    """How many plans, ``interval_seconds`` apart, replay the files from start to end (>= 1)."""
    if not histories:
        return DEFAULT_PLANS
    span = max(h.end_time for h in histories) - min(h.first_time for h in histories)
    return max(1, math.floor(span / interval_seconds + 1e-9))


class _Run:
    """One run's moving parts (built by `run_simulation`)."""

    def __init__(
        self, settings: SimulationSettings, progress: Progress | None, state: Path
    ) -> None:
        self.settings = settings
        self.progress = progress
        self.scenario, self.histories = _load(settings)
        self.plans: int = (
            settings.plans
            if settings.plans is not None
            else plans_covering(self.histories, settings.plan_interval_seconds)
        )
        self.clock = VirtualClock(start=self.scenario.start)
        self.exchange = Exchange(
            self.scenario, seed=settings.seed, clock=self.clock, faults=settings.faults
        )
        accounts = self.exchange.credentials()
        if accounts:
            _, self.key, secret = accounts[0]
        else:
            self.key, secret = self.exchange.create_account(dict(DEFAULT_BALANCES), name="sim")
        self.transport = _RecordingTransport(self.exchange)
        config = simulation_config(settings.db_path, self.key, secret, self.exchange.tier, state)
        if settings.userref is not None:
            strategies = pmap({STRATEGY_ID: StrategyConfig(userref=settings.userref)})
            config = replace(config, strategies=strategies)
        self.config = replace(
            config,
            execution=replace(
                config.execution,
                max_slippage_bps=settings.max_slippage_bps,
                market_order_max_notional_usd=settings.market_order_max_notional_usd,
                routing=settings.routing or Routing.CONTRACT,
            ),
        )
        self.client = build_client(self.config, clock=self.clock, http=self.transport)
        # The strategy and the planner read Ticker at the same instant: one call serves both.
        self.market = MarketDataAPI(self.client, clock=self.clock, quote_ttl_seconds=1.0)
        _fresh_database(settings.db_path)
        # The replay's records live in memory (the same SQL, the same store) and are
        # written to settings.db_path once, at the end (`write_database`): a month of
        # replay commits about 60,000 transactions, and in a file each one would cost
        # a dozen pages of WAL and checkpoint writes, gigabytes in all, for a database
        # that is replaced at the next run anyway.
        self.store = SQLiteExecutionStore(_IN_MEMORY)
        self.service = ExecutionService.from_config(
            self.config,
            client=self.client,
            market_data=self.market,
            clock=self.clock,
            store=self.store,
            new_id=SeededIds(settings.seed),
            background_scheduler=False,
        )
        self.samples: list[PriceSample] = []
        self.listed_since = self.clock.now()
        self.margin = timedelta(seconds=settings.plan_interval_seconds)
        self.reconcile_errors: list[str] = []
        self.steps_per_plan = max(1, math.ceil(settings.plan_interval_seconds / self.scenario.step))
        self.sample_every = max(1, math.ceil(self.plans * self.steps_per_plan / _MAX_SAMPLES))
        self.steps = 0

    def usd_pairs(self) -> tuple[PairMetadata, ...]:
        """The pairs the bundled strategy trades: the scenario's own USD-quoted ones.

        Raises:
            kraken_sim.ScenarioError: there is none (the strategy would have nothing to do).
        """
        universe = read_with_retries(self.clock, self.market.universe)
        found: list[PairMetadata] = []
        for spec in self.scenario.pairs:
            pair = universe.resolve(spec.pair).value_or(None)
            if pair is not None and pair.quote_is_usd and spec.derive is None:
                found.append(pair)
        if not found:
            names = ", ".join(spec.pair for spec in self.scenario.pairs)
            given = " (from the price files)" if self.histories else ""
            raise ScenarioError(
                f"no USD-quoted pair to trade among {names}{given}: the bundled strategy"
                " rebalances USD-quoted pairs"
            )
        return tuple(found)

    def report(self, plans_done: int) -> None:
        if self.progress is not None:
            self.progress(
                ReplayProgress(plans_done=plans_done, plans=self.plans, at=self.clock.now())
            )

    def sample(self, pairs: tuple[PairMetadata, ...]) -> None:
        if not self.settings.samples:
            return
        self.exchange.settle()
        balances = self.exchange.balances(self.key)
        self.samples.append(
            PriceSample(
                at=self.clock.now(),
                mids={p.altname: self.exchange.touch(p.rest_symbol).mid for p in pairs},
                holdings={p.altname: balances.get(p.base, Decimal(0)) for p in pairs},
            )
        )

    def wait_until(self, moment: datetime, pairs: tuple[PairMetadata, ...]) -> None:
        """Let virtual time pass in the scenario's steps, the service ticking at each step.

        The exchange settles (fills, expiries, its dead-man switch) on every request it
        serves, and the runner settles it before reading it directly, so it is settled once
        at the end rather than at every step: the same events in the same order, for less.
        Prices and holdings are sampled every ``sample_every`` steps, so a long replay keeps
        at most about `_MAX_SAMPLES` samples (a plot has no use for more).
        """
        step = self.scenario.step
        now = self.clock.now()
        while now < moment:
            # Steps where the service has nothing due are passed over in one move: a tick
            # there would do nothing, so the run is the same, step by step or not.
            left = math.ceil((moment - now).total_seconds() / step - 1e-9)
            to_sample = (
                self.sample_every - self.steps % self.sample_every
                if self.settings.samples
                else sys.maxsize
            )
            jump = min(left, to_sample, self._steps_until_due(step))
            self.clock.advance_to(min(now + timedelta(seconds=step * jump), moment))
            self.service.tick()
            now = self.clock.now()
            self.steps += jump
            if self.steps % self.sample_every == 0:
                self.sample(pairs)
        self.exchange.settle()

    def _steps_until_due(self, step: float) -> int:
        """Steps of ``step`` seconds until the service's next due work (at least 1)."""
        due = self.service.seconds_until_due()
        if due is None:
            return sys.maxsize
        return max(1, math.ceil(due / step - 1e-9))

    def reconcile(self, *, attempts: int = 1, full: bool = False) -> None:
        """Reconcile; with ``attempts`` > 1, pass again while a pass meets exchange errors.

        Between plans a pass lists closed orders only since the last complete pass (less a
        plan interval of margin): every order of the run goes through this database, so
        nothing older can be unknown, and re-reading a day of ClosedOrders pages after every
        plan would make each plan cost more than the one before. ``full`` uses the
        service's default look-back (24 hours), as a bot's own passes do.
        """
        for _ in range(attempts):
            started = self.clock.now()
            look_back = None if full else started - self.listed_since + self.margin
            report = self.service.refresh_from_exchange(look_back=look_back)
            self.reconcile_errors.extend(report.errors)
            if report.ok:
                self.listed_since = started
                return

    def cancel_leftovers(self) -> None:
        """Cancel every open order (what a rebalancing bot does before planning again)."""
        if not self.settings.cancel_leftovers:
            return
        if not self.service.get_open_orders(include_in_flight=True):
            return
        try:
            self.service.cancel_all()
        except (CancelFailedError, KrakenAPIError) as error:
            self.reconcile_errors.append(f"cancel_all failed: {error}")


def run_simulation(
    settings: SimulationSettings, *, progress: Progress | None = None
) -> SimulationOutcome:
    """Run the scenario (see the module docstring) and return what happened.

    Args:
        settings: what to run.
        progress: called with a `ReplayProgress` before the first plan and after each one.

    Raises:
        kraken_sim.ScenarioError, OSError: the scenario, fault or price file cannot be loaded
            (`kraken_sim.history.PriceFileError`, a ScenarioError, names the file and line).
        kraken_bot.execution.exceptions.StoreError: the database cannot be written.
    """
    with tempfile.TemporaryDirectory(prefix="krakked-sim-") as state:
        return _run_simulation(settings, progress, Path(state))


def _run_simulation(
    settings: SimulationSettings, progress: Progress | None, state: Path
) -> SimulationOutcome:
    wall_start = time.perf_counter()
    run = _Run(settings, progress, state)
    started = run.clock.now()
    results: list[ExecutionResult] = []
    try:
        run.service.initialize()
        pairs = run.usd_pairs()
        strategy = RebalancingStrategy(
            pairs=pairs,
            balances=run.client,
            market=run.market,
            clock=run.clock,
            seed=settings.seed,
        )
        interval = timedelta(seconds=settings.plan_interval_seconds)
        run.sample(pairs)
        run.report(0)
        for cycle in range(run.plans):
            run.cancel_leftovers()
            plan = strategy.next_plan(f"sim-{settings.seed}-{cycle + 1:03d}", run.clock.now())
            results.append(run.service.execute_plan(plan))
            run.wait_until(started + interval * (cycle + 1), pairs)
            run.reconcile()
            run.report(cycle + 1)
        run.cancel_leftovers()
        margin = run.config.execution.order_deadline_seconds
        margin += int(run.config.execution.lookup_margin_seconds) + 1
        run.wait_until(run.clock.now() + timedelta(seconds=margin), pairs)
        # Freeze matching for the last pass: an answer that arrives late (an injected delay)
        # must not make a still-open order look behind the exchange.
        run.exchange.set_system_status("maintenance")
        run.reconcile(attempts=_FINAL_PASSES, full=True)
        orders = run.store.recent_orders(1_000_000_000)
        exchange_orders = run.exchange.orders(run.key)
        violations = check_invariants(
            orders,
            exchange_orders,
            pairs=run.exchange.venue.meta,
            trails=trails_of(run.store, orders),
        )
        journal = run.exchange.journal
        run.exchange.set_system_status("online")
        outcome = SimulationOutcome(
            settings=settings,
            scenario_name=run.scenario.name,
            fault_profile=run.exchange.fault_plan.name,
            tier=run.exchange.tier,
            pairs=pairs,
            results=results,
            orders=orders,
            exchange_orders=exchange_orders,
            trades=run.exchange.trades(run.key),
            fault_counts=dict(sorted(run.exchange.fault_counts().items())),
            fault_events=journal_faults(journal, run.key, run.transport.add_orders),
            send_stats=run.service.stats,
            limiter=run.client.limiter.stats,
            violations=violations,
            samples=run.samples,
            started_at=started,
            ended_at=run.clock.now(),
            reconcile_errors=run.reconcile_errors,
            prices=run.histories,
            journal=journal,
            routing=run.service.routing_stats,
        )
    finally:
        run.service.close()
        try:
            run.store.backup_to(settings.db_path)
        finally:
            run.store.close()
            run.client.close()
    outcome.wall_seconds = time.perf_counter() - wall_start
    return outcome
