"""Run a scenario: the fake exchange in-process on virtual time, the real service against it.

`run_simulation` is what ``krakked sim`` does:

1. build the fake exchange from the scenario (seed, fault profile, tier) on a
   `kraken_sim.VirtualClock`, and take the scenario's first account;
2. build the real stack against it through the in-process transport: the
   `KrakenRESTClient` (signing, nonces, rate limiter), `MarketDataAPI`, a fresh
   SQLite file and an `ExecutionService` in **live** mode with every opt-in set
   (it is the fake exchange), ``max_concurrent_orders=1``, `SeededIds(seed)`
   and no background thread;
3. for each cycle, ask the bundled `RebalancingStrategy` for a plan (it reads
   ``Balance`` and ``Ticker`` through the same client), execute it, then let
   virtual time pass in the scenario's steps (``exchange.settle()`` and
   ``service.tick()`` each step) and reconcile (``refresh_from_exchange``);
   Before each plan, and after the last, it cancels what is still open (partial
   fills stand), as a rebalancing bot does;
4. after the last cycle, wait past the AddOrder deadline plus the lookup
   margin, freeze the exchange's matching (system status ``maintenance``, so
   no fill lands while the last reconciliation reads), reconcile once more,
   and check the invariants against the exchange's own records.

Everything is deterministic for a given scenario and seed: virtual time, seeded
ids, seeded exchange, one order in flight at a time. Concurrency is exercised
by the test suite, not by replays.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

import requests
from pyrsistent import pmap

from kraken_bot.config import (
    AppConfig,
    ExecutionConfig,
    KrakenConfig,
    StorageConfig,
    StrategyConfig,
)
from kraken_bot.execution.exceptions import CancelFailedError, KrakenAPIError
from kraken_bot.execution.ids import SeededIds
from kraken_bot.execution.models import ExecutionMode, ExecutionResult
from kraken_bot.execution.oms import ExecutionService
from kraken_bot.execution.store import SQLiteExecutionStore
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.nonce import NonceSource
from kraken_bot.kraken.region import Tier
from kraken_bot.market.api import MarketDataAPI
from kraken_bot.market.pairs import PairMetadata
from kraken_bot.secret import Secret
from kraken_bot.simulation.invariants import check_invariants
from kraken_bot.simulation.records import (
    FaultEvent,
    PriceSample,
    SimulationOutcome,
    SimulationSettings,
    journal_faults,
)
from kraken_bot.simulation.strategy import STRATEGY_ID, RebalancingStrategy, read_with_retries
from kraken_sim import Exchange, SimTransport, VirtualClock
from kraken_sim import load_scenario as load_sim_scenario
from kraken_sim.scenario import Scenario

__all__ = [
    "SIM_BASE_URL",
    "FaultEvent",
    "PriceSample",
    "SimulationOutcome",
    "SimulationSettings",
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
Progress = Callable[[int, int], None]
_FINAL_PASSES: Final = 5


class _RecordingTransport(SimTransport):
    """The in-process transport, remembering the client order id of every AddOrder sent."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(exchange)
        self.add_orders: list[str | None] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if (request.path_url or "").endswith("/AddOrder"):
            body = request.body or b""
            text = body.decode() if isinstance(body, bytes) else str(body)
            self.add_orders.append(dict(parse_qsl(text)).get("cl_ord_id"))
        return super().send(request, *args, **kwargs)


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
        ),
        kraken=KrakenConfig(
            base_url=SIM_BASE_URL,
            api_key=Secret(api_key),
            api_secret=Secret(api_secret),
            tier=Tier(tier),
            state_dir=str(state_dir) if state_dir is not None else None,
        ),
        storage=StorageConfig(path=str(db_path)),
    )


def _fresh_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


def _load(settings: SimulationSettings) -> Scenario:
    return load_sim_scenario(settings.scenario)


class _Run:
    """One run's moving parts (built by `run_simulation`)."""

    def __init__(
        self, settings: SimulationSettings, progress: Progress | None, state: Path
    ) -> None:
        self.settings = settings
        self.progress = progress
        self.scenario = _load(settings)
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
            ),
        )
        self.client = KrakenRESTClient(
            base_url=SIM_BASE_URL,
            api_key=self.config.kraken.api_key,
            api_secret=self.config.kraken.api_secret,
            tier=self.config.kraken.tier,
            transport=self.transport,
            clock=self.clock,
            nonce_source=NonceSource(clock=self.clock),
        )
        self.market = MarketDataAPI(self.client, clock=self.clock)
        _fresh_database(settings.db_path)
        self.store = SQLiteExecutionStore(str(settings.db_path))
        self.service = ExecutionService(
            config=self.config,
            market_data=self.market,
            client=self.client,
            store=self.store,
            clock=self.clock,
            new_id=SeededIds(settings.seed),
            background_scheduler=False,
        )
        self.samples: list[PriceSample] = []
        self.reconcile_errors: list[str] = []
        self.done = 0
        self.total = 0

    def usd_pairs(self) -> tuple[PairMetadata, ...]:
        universe = read_with_retries(self.clock, self.market.universe)
        found: list[PairMetadata] = []
        for spec in self.scenario.pairs:
            pair = universe.resolve(spec.pair).value_or(None)
            if pair is not None and pair.quote_is_usd and spec.derive is None:
                found.append(pair)
        return tuple(found)

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)

    def sample(self, pairs: tuple[PairMetadata, ...]) -> None:
        balances = self.exchange.balances(self.key)
        self.samples.append(
            PriceSample(
                at=self.clock.now(),
                mids={p.altname: self.exchange.touch(p.rest_symbol).mid for p in pairs},
                holdings={p.altname: balances.get(p.base, Decimal(0)) for p in pairs},
            )
        )

    def wait_until(self, moment: datetime, pairs: tuple[PairMetadata, ...]) -> None:
        """Let virtual time pass in the scenario's steps, settling the exchange each step."""
        step = timedelta(seconds=self.scenario.step)
        while self.clock.now() < moment:
            self.exchange.advance_to(min(self.clock.now() + step, moment))
            self.service.tick()
            self.sample(pairs)

    def reconcile(self, *, attempts: int = 1) -> None:
        """Reconcile; with ``attempts`` > 1, pass again while a pass meets exchange errors."""
        for _ in range(attempts):
            report = self.service.refresh_from_exchange()
            self.reconcile_errors.extend(report.errors)
            if report.ok:
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
        progress: called as ``progress(done, total)`` after each plan and each step.

    Raises:
        kraken_sim.ScenarioError, OSError: the scenario or fault file cannot be loaded.
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
        steps = max(1, int(settings.plan_interval_seconds // run.scenario.step))
        run.total = settings.plans * (steps + 1) + 1
        run.sample(pairs)
        for cycle in range(settings.plans):
            run.cancel_leftovers()
            plan = strategy.next_plan(f"sim-{settings.seed}-{cycle + 1:03d}", run.clock.now())
            results.append(run.service.execute_plan(plan))
            run.tick()
            run.wait_until(started + interval * (cycle + 1), pairs)
            run.done = (cycle + 1) * (steps + 1)
            run.reconcile()
        run.cancel_leftovers()
        margin = run.config.execution.order_deadline_seconds
        margin += int(run.config.execution.lookup_margin_seconds) + 1
        run.wait_until(run.clock.now() + timedelta(seconds=margin), pairs)
        # Freeze matching for the last pass: an answer that arrives late (an injected delay)
        # must not make a still-open order look behind the exchange.
        run.exchange.set_system_status("maintenance")
        run.reconcile(attempts=_FINAL_PASSES)
        run.tick()
        orders = run.store.recent_orders(1_000_000_000)
        exchange_orders = run.exchange.orders(run.key)
        violations = check_invariants(orders, exchange_orders)
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
            fault_events=journal_faults(run.exchange.journal, run.key, run.transport.add_orders),
            send_stats=run.service.stats,
            limiter=run.client.limiter.stats,
            violations=violations,
            samples=run.samples,
            started_at=started,
            ended_at=run.clock.now(),
            reconcile_errors=run.reconcile_errors,
        )
    finally:
        run.service.close()
        run.store.close()
        run.client.close()
    outcome.wall_seconds = time.perf_counter() - wall_start
    return outcome
