"""End-to-end benchmark: plans through `ExecutionService.execute_plan` against the fake exchange.

Usage: ``python bench/bench_e2e.py [--quick]``

Every run builds the stack the way production does (`ExecutionService.from_config`: the
real client signs, encodes and parses; the real store writes a SQLite file, WAL mode, in a
temporary directory), in live mode with every opt-in set, against `kraken_sim.Exchange` with
faults off, and executes one small warm-up plan first (AssetPairs is then cached, as in a
running service). Each action of a plan has its own (pair, strategy) key, so each produces
exactly one order; the account is funded far beyond what 10,000 orders need and every order
(about 30 USD) clears ``ordermin``, ``costmin`` and ``min_order_notional_usd``.

1. **Throughput, in-process**: tier ``unlimited`` on both sides, `SimTransport`, the exchange
   and the service on one `VirtualClock` (it never moves here: no rate-limit waits, no fault
   sleeps), so the wall time is all CPU. Orders per second of a 1,000-order plan, best of 3,
   with the default 10 concurrent senders (and, for comparison, with 1).
2. **Throughput, HTTP**: the same over loopback (`kraken_sim.serve` in a thread). The exchange
   runs on a `WallClock` and the service on the system clock: a served exchange follows real
   time, and the client's AddOrder ``deadline``, nonces and quote times are then on the
   exchange's timeline (a virtual exchange clock would stand still while the client's runs).
3. **Shell overhead**: per order, the wall time inside `execute_plan` minus the time spent
   inside `Exchange.handle` (a measuring subclass accumulates it), on the in-process run.
   The engine's time is ``time.thread_time`` (CPU time of the calling thread): the service
   sends from up to ``max_concurrent_orders`` threads, and a wall-clock stopwatch around
   ``handle`` would also count other threads' shell work whenever the GIL switches
   mid-request. The store's share is measured the same way (a measuring store is injected).
4. **Rate-limit efficiency**: tier ``starter`` on both sides, 120 orders on one pair, on one
   virtual clock, from a cold start. Virtual seconds taken by `execute_plan` divided by the
   minimum the limits allow (the formula is printed: see `minimum_seconds`), and the journal
   entries of the exchange whose errors contain "Rate limit". The senders' threads
   interleave differently from run to run, so the run is repeated (5 times; the figure is
   the worst run, as the limits must be used well in every interleaving; every run is
   listed with what the exchange refused) and once more with a single sender, which is
   deterministic. ``rate_limit_run_refusals`` counts every refusal of those runs, whatever
   the error: faults are off, so each one is an AddOrder (and its budget) wasted.
5. **Scale**: wall milliseconds per order for plans of 10, 1,000 and 10,000 orders
   (``--quick``: 10, 100, 1,000), each on a fresh stack, with ``cl_ord_id`` identities (the
   default) and with a strategy ``userref`` on every order; the per-order cost of the largest
   plan over the 10-order plan and over the middle one. A flat ratio means no quadratic
   scan of open orders or of the database; the 10-order plan carries the fixed costs of a
   plan (Ticker, QueryOrders, the result row), so its ratio is the kinder one.

Prints a table, then one ``name: value unit`` line per figure.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from kraken_bot.clock import Clock, SystemClock
from kraken_bot.config import AppConfig, ExecutionConfig, KrakenConfig, StorageConfig
from kraken_bot.execution.core.models import ExecutionMode, ExecutionResult, LocalOrder
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.execution.shell.store import SQLiteExecutionStore
from kraken_bot.region import Tier
from kraken_bot.secret import Secret
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction
from kraken_sim import Exchange, SimTransport, VirtualClock, WallClock, load_scenario, serve

TierName = Literal["starter", "intermediate", "pro", "unlimited"]

SIM_URL = "http://kraken-sim.invalid"
START = datetime(2026, 1, 1, tzinfo=UTC)
# Far more than 10,000 orders of about 30 USD need (the exchange reserves open buys).
BALANCES: Mapping[str, Decimal] = {
    "ZUSD": Decimal(100_000_000),
    "XXBT": Decimal(10_000),
    "XETH": Decimal(100_000),
    "SOL": Decimal(1_000_000),
}
# About 30 USD each: above ordermin, costmin (0.5 USD) and min_order_notional_usd (20 USD).
SIZES: Mapping[str, str] = {"XBTUSD": "0.0005", "ETHUSD": "0.01", "SOLUSD": "0.2"}
PAIRS = tuple(SIZES)
# Live mode with every opt-in; the dead-man switch stays at its default (armed, 600 s),
# refreshed by the service's own calls (no background thread: the clock may be virtual).
LIVE: Mapping[str, Any] = {
    "mode": ExecutionMode.LIVE,
    "allow_live_trading": True,
    "validate_only": False,
}

# Kraken's starter tier (/work/shared/kraken-api.md section 8).
TRADING_THRESHOLD, TRADING_DECAY = 60.0, 1.0  # per pair; AddOrder +1
REST_MAX, REST_DECAY = 15.0, 0.33  # per key; AddOrder/CancelOrder 0, Ledgers etc. 2, others 1
REST_COST: Mapping[str, int] = {
    "AddOrder": 0,
    "CancelOrder": 0,
    "Ledgers": 2,
    "QueryLedgers": 2,
    "TradesHistory": 2,
}
# Public calls: Kraken's limit is undocumented; the client assumes 1 per second.
PUBLIC_MAX, PUBLIC_DECAY = 1.0, 1.0


# ---------------------------------------------------------------------- measuring wrappers


class TimedExchange(Exchange):
    """The exchange, with a stopwatch (CPU time of the calling thread) around `handle`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine_seconds = 0.0
        self.requests = 0
        self._tally = threading.Lock()

    def handle(self, *args: Any, **kwargs: Any) -> tuple[int, Mapping[str, str], bytes]:
        """`Exchange.handle`, timed."""
        started = time.thread_time()
        try:
            return super().handle(*args, **kwargs)
        finally:
            spent = time.thread_time() - started
            with self._tally:
                self.engine_seconds += spent
                self.requests += 1


class TimedStore(SQLiteExecutionStore):
    """The SQLite store, with a stopwatch (thread CPU time) around the calls the service makes."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.store_seconds = 0.0
        self._tally = threading.Lock()

    @contextmanager
    def _timed(self) -> Iterator[None]:
        started = time.thread_time()
        try:
            yield
        finally:
            spent = time.thread_time() - started
            with self._tally:
                self.store_seconds += spent

    def save_order(
        self, order: LocalOrder, *, event: str | None = None, detail: str | None = None
    ) -> None:
        """Timed."""
        with self._timed():
            super().save_order(order, event=event, detail=detail)

    def save_orders(self, orders: Sequence[LocalOrder], *, event: str | None = None) -> None:
        """Timed."""
        with self._timed():
            super().save_orders(orders, event=event)

    def save_result(self, result: ExecutionResult) -> None:
        """Timed."""
        with self._timed():
            super().save_result(result)

    def get_order(self, local_id: str) -> LocalOrder | None:
        """Timed."""
        with self._timed():
            return super().get_order(local_id)

    def find_by_kraken_id(self, txid: str) -> LocalOrder | None:
        """Timed."""
        with self._timed():
            return super().find_by_kraken_id(txid)

    def find_by_client_order_id(self, cl_ord_id: str) -> LocalOrder | None:
        """Timed."""
        with self._timed():
            return super().find_by_client_order_id(cl_ord_id)

    def live_orders(self) -> list[LocalOrder]:
        """Timed."""
        with self._timed():
            return super().live_orders()

    def orders_for_plan(self, plan_id: str) -> list[LocalOrder]:
        """Timed."""
        with self._timed():
            return super().orders_for_plan(plan_id)

    def get_result(self, plan_id: str) -> ExecutionResult | None:
        """Timed."""
        with self._timed():
            return super().get_result(plan_id)


# ---------------------------------------------------------------------- the stack


@dataclass
class Stack:
    """One exchange, one funded account, one initialized service on a fresh database."""

    exchange: TimedExchange
    store: TimedStore
    service: ExecutionService
    clock: Clock

    def created_at(self) -> datetime:
        """A plan time on the service's clock."""
        return self.clock.now()


@contextmanager
def stack(
    tmp: Path,
    *,
    tier: TierName = "unlimited",
    http: bool = False,
    execution: Mapping[str, Any] | None = None,
) -> Iterator[Stack]:
    """A fake exchange and an initialized live-mode service on it, in-process or over HTTP."""
    exchange_clock = WallClock() if http else VirtualClock(start=START)
    exchange = TimedExchange(
        load_scenario(None), seed=7, clock=exchange_clock, faults="none", tier=tier
    )
    key, secret = exchange.create_account(dict(BALANCES))
    with tempfile.TemporaryDirectory(dir=tmp) as workdir:
        kraken = KrakenConfig(
            base_url=SIM_URL,
            api_key=Secret(key),
            api_secret=Secret(secret),
            tier=Tier(tier),
            nonce_state_file=str(Path(workdir) / "nonce.json"),
            state_dir=str(Path(workdir) / "state"),
        )
        config = AppConfig(
            execution=ExecutionConfig(**{**LIVE, **(execution or {})}),
            kraken=kraken,
            storage=StorageConfig(path=str(Path(workdir) / "execution.db")),
        )
        with TimedStore(config.storage.path) as store:
            if http:
                with serve(exchange) as server:
                    config = replace(config, kraken=replace(kraken, base_url=server.base_url))
                    clock = SystemClock()
                    with _service(config, store, clock, None) as service:
                        yield Stack(exchange, store, service, clock)
            else:
                assert isinstance(exchange_clock, VirtualClock)
                with _service(config, store, exchange_clock, SimTransport(exchange)) as service:
                    yield Stack(exchange, store, service, exchange_clock)


@contextmanager
def _service(
    config: AppConfig, store: TimedStore, clock: Clock, transport: SimTransport | None
) -> Iterator[ExecutionService]:
    service = ExecutionService.from_config(
        config,
        transport=transport,
        clock=clock,
        store=store,
        new_id=SeededIds(1),
        background_scheduler=False,
    )
    with service:
        yield service


def make_plan(
    size: int,
    *,
    created_at: datetime,
    pairs: tuple[str, ...] = PAIRS,
    userrefs: bool = False,
    name: str = "bench",
) -> ExecutionPlan:
    """``size`` buys over ``pairs``, each on its own (pair, strategy): one order per action.

    ``userrefs``: every action carries its own strategy ``userref``, so the orders go with a
    userref identity instead of a ``cl_ord_id``.
    """
    actions = tuple(
        RiskAdjustedAction(
            pair=pairs[n % len(pairs)],
            strategy_id=f"{name}{n:05d}",
            action_type=ActionType.INCREASE,
            current_base_size=Decimal(0),
            target_base_size=Decimal(SIZES[pairs[n % len(pairs)]]),
            userref=1_000 + n if userrefs else None,
        )
        for n in range(size)
    )
    return ExecutionPlan(plan_id=f"{name}-{size}", created_at=created_at, actions=actions)


# ---------------------------------------------------------------------- timing


@dataclass(frozen=True, slots=True)
class Run:
    """One timed `execute_plan`."""

    orders: int
    wall_seconds: float
    cpu_seconds: float
    engine_seconds: float
    store_seconds: float
    virtual_seconds: float
    requests: int

    def per_order_ms(self, seconds: float | None = None) -> float:
        """Milliseconds per order (of the wall time, or of ``seconds``)."""
        return (self.wall_seconds if seconds is None else seconds) / self.orders * 1000

    @property
    def orders_per_s(self) -> float:
        """Orders per wall second."""
        return self.orders / self.wall_seconds

    @property
    def shell_ms_per_order(self) -> float:
        """Wall time outside the exchange engine, per order."""
        return self.per_order_ms(self.wall_seconds - self.engine_seconds)


def timed_execute(env: Stack, plan: ExecutionPlan) -> Run:
    """Execute ``plan`` once, timed; exits if it did not place one order per action."""
    engine, store = env.exchange.engine_seconds, env.store.store_seconds
    requests, virtual = env.exchange.requests, env.clock.monotonic()
    gc.collect()
    cpu, started = time.process_time(), time.perf_counter()
    result = env.service.execute_plan(plan)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    placed = sum(1 for o in result.orders if o.kraken_order_id is not None)
    if not result.success or placed != len(plan.actions):
        raise SystemExit(
            f"plan {plan.plan_id}: {placed} of {len(plan.actions)} orders placed;"
            f" errors {list(result.errors)[:3]}; skipped {[s.message for s in result.skipped][:3]}"
        )
    return Run(
        orders=placed,
        wall_seconds=wall,
        cpu_seconds=cpu,
        engine_seconds=env.exchange.engine_seconds - engine,
        store_seconds=env.store.store_seconds - store,
        virtual_seconds=env.clock.monotonic() - virtual,
        requests=env.exchange.requests - requests,
    )


def measure(
    tmp: Path,
    size: int,
    *,
    repeats: int = 1,
    http: bool = False,
    userrefs: bool = False,
    execution: Mapping[str, Any] | None = None,
) -> Run:
    """The fastest of ``repeats`` runs of a ``size``-order plan, each on a fresh, warm stack."""
    runs = []
    for _ in range(repeats):
        with stack(tmp, http=http, execution=execution) as env:
            warm_up = make_plan(len(PAIRS), created_at=env.created_at(), name="warm")
            timed_execute(env, warm_up)
            plan = make_plan(size, created_at=env.created_at(), userrefs=userrefs)
            runs.append(timed_execute(env, plan))
    return min(runs, key=lambda run: run.wall_seconds)


# ---------------------------------------------------------------------- rate limits


@dataclass(frozen=True, slots=True)
class RateLimitRun:
    """One starter-tier run and the minimum its limits allow."""

    orders: int
    senders: int
    virtual_seconds: float
    first_add: float
    last_add: float
    minimum_seconds: float
    trading_minimum_seconds: float
    formula: str
    rate_limit_errors: int
    refusals: Mapping[str, int]
    client_waits: int
    other_calls: Mapping[str, int]

    @property
    def efficiency(self) -> float:
        """Virtual time taken / the minimum the limits allow."""
        return self.virtual_seconds / self.minimum_seconds


def minimum_seconds(adds: int, other_calls: Mapping[str, int]) -> tuple[float, float, str]:
    """The least time the starter limits allow ``adds`` AddOrders on one pair, plus the rest.

    Trading counter (per pair): the first ``threshold`` AddOrders go at once, each further one
    waits for one unit of decay. REST counter: each other private call costs its units; the
    first ``max`` go at once, the rest at the decay rate. Public calls (the client's assumed
    budget of 1 per second): the first goes at once. The service runs its phases one after
    the other (market data, then the sends, then the reconciliation), so the waits add up.
    Returns (the whole minimum, the AddOrders' part, the formula with its numbers).
    """
    rest = sum(
        REST_COST.get(name, 1) * count
        for name, count in other_calls.items()
        if not name.startswith("public:")
    )
    public = sum(count for name, count in other_calls.items() if name.startswith("public:"))
    trading = max(0.0, adds - TRADING_THRESHOLD) / TRADING_DECAY
    rest_wait = max(0.0, rest - REST_MAX) / REST_DECAY
    public_wait = max(0.0, public - PUBLIC_MAX) / PUBLIC_DECAY
    total = trading + rest_wait + public_wait
    formula = (
        f"max(0, {adds} AddOrder - {TRADING_THRESHOLD:g}) / {TRADING_DECAY:g}/s"
        f" + max(0, {rest} REST units - {REST_MAX:g}) / {REST_DECAY:g}/s"
        f" + max(0, {public} public - {PUBLIC_MAX:g}) / {PUBLIC_DECAY:g}/s"
        f" = {trading:g} + {rest_wait:g} + {public_wait:g} = {total:g} s"
    )
    return total, trading, formula


def bench_rate_limit(tmp: Path, size: int, *, senders: int) -> RateLimitRun:
    """``size`` orders on one pair, tier starter on both sides, from a cold start.

    The window opens when the service starts (its clock measurement included), so every
    call it makes is counted against the minimum.
    """
    with stack(tmp, tier="starter", execution={"max_concurrent_orders": senders}) as env:
        start = START
        timed_execute(env, make_plan(size, created_at=env.clock.now(), pairs=("XBTUSD",)))
        elapsed = (env.clock.now() - start).total_seconds()
        entries = list(env.exchange.journal)
        adapter = env.service.adapter
        limiter = getattr(adapter.client, "limiter", None) if adapter is not None else None
        waits = limiter.stats.waits if limiter is not None else -1
    other_calls: dict[str, int] = {}
    refusals: dict[str, int] = {}
    for entry in entries:
        for error in entry.errors:
            refusals[error] = refusals.get(error, 0) + 1
        if entry.endpoint != "AddOrder":
            name = entry.endpoint if entry.api_key is not None else f"public:{entry.endpoint}"
            other_calls[name] = other_calls.get(name, 0) + 1
    adds = [(e.time - start).total_seconds() for e in entries if e.endpoint == "AddOrder"]
    total, trading, formula = minimum_seconds(size, other_calls)
    return RateLimitRun(
        orders=size,
        senders=senders,
        virtual_seconds=elapsed,
        first_add=min(adds),
        last_add=max(adds),
        minimum_seconds=total,
        trading_minimum_seconds=trading,
        formula=formula,
        rate_limit_errors=sum(n for error, n in refusals.items() if "Rate limit" in error),
        refusals=refusals,
        client_waits=waits,
        other_calls=other_calls,
    )


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Repeated runs with the default senders (threads interleave differently), and 1 sender."""

    runs: tuple[RateLimitRun, ...]
    serial: RateLimitRun

    @property
    def worst(self) -> RateLimitRun:
        """The slowest run: the limits must be used well in every interleaving."""
        return max(self.runs, key=lambda run: run.efficiency)

    @property
    def rate_limit_errors(self) -> int:
        """Rate-limit refusals over every run."""
        return sum(run.rate_limit_errors for run in (*self.runs, self.serial))

    @property
    def refusals(self) -> int:
        """Refusals of any kind over every run (faults are off: each one is wasted budget)."""
        return sum(sum(run.refusals.values()) for run in (*self.runs, self.serial))


def bench_rate_limits(tmp: Path, size: int, repeats: int) -> RateLimits:
    """`bench_rate_limit` ``repeats`` times with the default senders, then once with 1."""
    senders = ExecutionConfig().max_concurrent_orders
    runs = tuple(bench_rate_limit(tmp, size, senders=senders) for _ in range(repeats))
    return RateLimits(runs=runs, serial=bench_rate_limit(tmp, size, senders=1))


# ---------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each measurement is."""

    throughput: int
    repeats: int
    http: int
    rate_limit: int
    rate_limit_repeats: int
    scale: tuple[int, int, int]
    scale_repeats: tuple[int, int, int]


FULL = Sizes(1_000, 3, 1_000, 120, 5, (10, 1_000, 10_000), (15, 3, 1))
QUICK = Sizes(200, 2, 100, 120, 3, (10, 100, 1_000), (5, 2, 1))
TINY = Sizes(30, 1, 20, 70, 1, (5, 10, 40), (1, 1, 1))
"""For the smoke test: every code path in a few seconds."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything measured."""

    sizes: Sizes
    inprocess: Run
    serial: Run
    http: Run
    limits: RateLimits
    scale: Mapping[int, Run]
    scale_userref: Mapping[int, Run]

    def figures(self) -> list[tuple[str, float, str, str]]:
        """(name, value, unit, format) of each closing line."""
        small, middle, large = self.sizes.scale
        return [
            ("shell_overhead_ms_per_order", self.inprocess.shell_ms_per_order, "ms", ".3f"),
            ("e2e_orders_per_s_inprocess", self.inprocess.orders_per_s, "orders/s", ".0f"),
            ("e2e_orders_per_s_http", self.http.orders_per_s, "orders/s", ".0f"),
            ("rate_limit_efficiency", self.limits.worst.efficiency, "ratio", ".4f"),
            ("rate_limit_errors", self.limits.rate_limit_errors, "count", "d"),
            ("rate_limit_run_refusals", self.limits.refusals, "count", "d"),
            ("scale_per_order_ratio_10k_vs_10", _ratio(self.scale, large, small), "ratio", ".3f"),
            ("scale_per_order_ratio_10k_vs_1k", _ratio(self.scale, large, middle), "ratio", ".3f"),
            (
                "scale_userref_per_order_ratio_10k_vs_1k",
                _ratio(self.scale_userref, large, middle),
                "ratio",
                ".3f",
            ),
        ]


def _ratio(runs: Mapping[int, Run], big: int, small: int) -> float:
    return runs[big].per_order_ms() / runs[small].per_order_ms()


def run_all(sizes: Sizes) -> Report:
    """Every measurement, in temporary directories."""
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp_name:
        tmp = Path(tmp_name)
        serial = {"max_concurrent_orders": 1}
        scale = tuple(zip(sizes.scale, sizes.scale_repeats, strict=True))
        return Report(
            sizes=sizes,
            inprocess=measure(tmp, sizes.throughput, repeats=sizes.repeats),
            serial=measure(tmp, sizes.throughput, repeats=sizes.repeats, execution=serial),
            http=measure(tmp, sizes.http, http=True),
            limits=bench_rate_limits(tmp, sizes.rate_limit, sizes.rate_limit_repeats),
            scale={n: measure(tmp, n, repeats=r) for n, r in scale},
            scale_userref={n: measure(tmp, n, repeats=r, userrefs=True) for n, r in scale},
        )


def print_throughput(report: Report) -> None:
    """One row per timed plan."""
    senders = ExecutionConfig().max_concurrent_orders
    rows = [
        (f"in-process, {report.inprocess.orders:,} orders, {senders} senders", report.inprocess),
        (f"in-process, {report.serial.orders:,} orders, 1 sender", report.serial),
        (f"HTTP loopback, {report.http.orders:,} orders, {senders} senders", report.http),
        *((f"scale, cl_ord_id, {n:,} orders", run) for n, run in report.scale.items()),
        *((f"scale, userref, {n:,} orders", run) for n, run in report.scale_userref.items()),
    ]
    print(
        f"{'plan (wall time; ms per order)':<40} {'orders/s':>9} {'total':>7} {'engine':>7}"
        f" {'shell':>7} {'store':>7} {'cpu':>7} {'requests':>9}"
    )
    print("-" * 100)
    for label, run in rows:
        print(
            f"{label:<40} {run.orders_per_s:>9,.0f} {run.per_order_ms():>7.3f}"
            f" {run.per_order_ms(run.engine_seconds):>7.3f} {run.shell_ms_per_order:>7.3f}"
            f" {run.per_order_ms(run.store_seconds):>7.3f}"
            f" {run.per_order_ms(run.cpu_seconds):>7.3f} {run.requests:>9,}"
        )
    print(
        "  engine = inside Exchange.handle (thread CPU time); shell = total - engine; store ="
        " the SQLite calls\n  (part of shell); cpu = the process's CPU time, all threads (a"
        " loaded machine inflates total, not cpu).\n  Over HTTP, engine is the server thread's"
        " share and shell includes both sides' HTTP."
    )


def print_rate_limits(limits: RateLimits) -> None:
    """The worst run in detail, then every run's efficiency."""
    run = limits.worst
    print(f"Rate limits: tier starter on both sides, {run.orders} orders on one pair, cold start")
    print(f"  minimum allowed        {run.formula}")
    print(f"  other calls            {dict(sorted(run.other_calls.items()))}")
    for each in (*limits.runs, limits.serial):
        marker = " <- worst" if each is run else ""
        refused = dict(sorted(each.refusals.items())) or "none"
        print(
            f"  {each.senders:>2} sender(s): {each.virtual_seconds:8.3f} s virtual,"
            f" efficiency {each.efficiency:.4f}, AddOrders +{each.first_add:.3f}..+"
            f"{each.last_add:.3f} s, limiter waits {each.client_waits:>3}, refused: {refused}"
            f"{marker}"
        )
    print(f"  efficiency (the worst of the {len(limits.runs)} runs with the default senders):")
    print(
        f"    {run.efficiency:.4f} (target <= 1.05); against the AddOrders' part alone"
        f" {run.virtual_seconds / run.trading_minimum_seconds:.4f}"
    )
    print(f"  rate-limit errors over all runs: {limits.rate_limit_errors} (target 0)")
    print(f"  refusals of any kind over all runs: {limits.refusals} (target 0)")


def print_report(report: Report) -> None:
    """The tables, then the closing figure lines."""
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print_throughput(report)
    print()
    print_rate_limits(report.limits)
    small, _, large = report.sizes.scale
    print()
    print(
        f"Scale: the {large:,}-order plan costs"
        f" {_ratio(report.scale, large, small):.2f}x per order what the {small}-order plan does"
        f" (target <= 1.5); userref identities: {_ratio(report.scale_userref, large, small):.2f}x"
    )
    print()
    for name, value, unit, spec in report.figures():
        print(f"{name}: {value:{spec}} {unit}")


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller plans (a smoke run)")
    args = parser.parse_args(argv)
    print_report(run_all(QUICK if args.quick else FULL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
