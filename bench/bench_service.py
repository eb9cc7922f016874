"""Benchmark: the always-on service (order events, supervision while idle, fill to event).

Three measurements, each through the real code:

1. **Events delivered per second**: order updates published on the service's event bus
   (`kraken_bot.execution.shell._bus.EventBus`) and handed to two subscribers at once, one
   callback (served by its own thread) and one iterator; timed until both saw the last.
2. **Supervision CPU while idle**: a live `ExecutionService` with its background threads
   (the dead-man switch refreshed every 20 s, reconciliation every 60 s, the supervisor's
   1 s tick), one order resting, talking over loopback HTTP to the fake exchange served in
   this process on the wall clock. The process's CPU time (every thread, the fake's
   included) over a window, minus the same window with no service open, per minute.
3. **Fill to event with REST polling**: on virtual time, a resting buy is filled on the fake
   exchange at a random instant; the service, supervised every second as its background
   thread does, publishes the ``filled`` event when its scheduled reconciliation (default:
   every 60 s) sees the fill. The delay is event time minus the trade's time on the exchange.

Usage: ``python bench/bench_service.py [--quick]``. Prints a table, then one
``name: value unit`` line per figure.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from kraken_bot.config import AppConfig, ExecutionConfig
from kraken_bot.execution.core.events import OrderUpdate, OrderUpdateKind, ServiceEvent
from kraken_bot.execution.core.models import ExecutionMode, LocalOrder, OrderStatus, OrderType, Side
from kraken_bot.execution.shell._bus import EventBus
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction
from kraken_bot.testing import account_config
from kraken_sim import Exchange, SimTransport, VirtualClock, WallClock, load_scenario, serve

START = datetime(2026, 1, 1, tzinfo=UTC)
SIM_URL = "http://kraken-sim.invalid"
BALANCES: Mapping[str, Decimal] = {"ZUSD": Decimal(10_000_000), "XXBT": Decimal(100)}
LIVE: Mapping[str, Any] = {
    "mode": ExecutionMode.LIVE,
    "allow_live_trading": True,
    "validate_only": False,
    "max_slippage_bps": 0,
}


def config_for(exchange: Exchange, directory: Path, base_url: str) -> AppConfig:
    """Live mode, every default of supervision, on a fresh account of ``exchange``."""
    return account_config(
        exchange,
        directory,
        execution=ExecutionConfig(**LIVE),
        balances=BALANCES,
        base_url=base_url,
    )


def buy(plan_id: str, target: str = "0.01") -> ExecutionPlan:
    return ExecutionPlan(
        plan_id=plan_id,
        created_at=START,
        actions=(
            RiskAdjustedAction(
                pair="XBTUSD",
                strategy_id="bench",
                action_type=ActionType.INCREASE,
                current_base_size=Decimal(0),
                target_base_size=Decimal(target),
            ),
        ),
    )


# ---------------------------------------------------------------------- 1. events


def an_order() -> LocalOrder:
    return LocalOrder(
        local_id="00000000-0000-4000-8000-000000000001",
        plan_id="bench",
        strategy_id="bench",
        pair="XBTUSD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        kraken_order_id="OBENCH-00000-000001",
        userref=None,
        client_order_id=None,
        requested_base_size=Decimal("0.01"),
        requested_price=Decimal(60000),
        status=OrderStatus.OPEN,
        created_at=START,
        updated_at=START,
    )


def events_per_second(count: int) -> float:
    """Events handed to a callback and an iterator per second (both must see all)."""
    bus = EventBus()
    order = an_order()
    events = [
        OrderUpdate(
            kind=OrderUpdateKind.PARTIALLY_FILLED, order=order, at=START, fill_delta=Decimal(0)
        )
        for _ in range(count)
    ]
    seen = threading.Event()
    received = [0]

    def callback(_event: ServiceEvent) -> None:
        received[0] += 1
        if received[0] == count:
            seen.set()

    subscription = bus.subscribe(callback, name="bench-callback")
    stream = bus.stream()
    started = time.perf_counter()
    bus.publish(events)
    for iterated, _ in enumerate(stream, start=1):
        if iterated == count:
            break
    seen.wait(60)
    elapsed = time.perf_counter() - started
    subscription.close()
    stream.close()
    assert received[0] == count, received
    return count / elapsed


# ---------------------------------------------------------------------- 2. idle CPU


def idle_cpu(window: float) -> tuple[float, float, int]:
    """CPU ms per minute of an idle supervised service, the baseline's, and its REST calls."""
    exchange = Exchange(load_scenario(None), seed=3, clock=WallClock(), faults="none")
    with tempfile.TemporaryDirectory() as temp, serve(exchange) as server:
        directory = Path(temp)
        baseline_start = time.process_time()
        time.sleep(window)
        baseline = time.process_time() - baseline_start
        config = config_for(exchange, directory, server.base_url)
        service = ExecutionService.from_config(config, new_id=SeededIds(1))
        try:
            service.initialize()
            service.execute_plan(buy("idle"))
            calls_before = len(exchange.journal)
            started = time.process_time()
            time.sleep(window)
            used = time.process_time() - started
            calls = len(exchange.journal) - calls_before
        finally:
            service.close()
    per_minute = 60.0 / window * 1000.0
    return (used - baseline) * per_minute, baseline * per_minute, round(calls * 60 / window)


# ---------------------------------------------------------------------- 3. fill to event


def fill_to_event(trials: int, seed: int = 11) -> list[float]:
    """Seconds from a fill on the exchange to the service's filled event (virtual time)."""
    clock = VirtualClock(start=START)
    exchange = Exchange(load_scenario(None), seed=seed, clock=clock, faults="none")
    rng = random.Random(seed)
    delays: list[float] = []
    with tempfile.TemporaryDirectory() as temp:
        config = config_for(exchange, Path(temp), SIM_URL)
        config = replace(config, execution=replace(config.execution, dead_man_switch_seconds=0))
        service = ExecutionService.from_config(
            config,
            transport=SimTransport(exchange),
            clock=clock,
            new_id=SeededIds(2),
            background_scheduler=False,
        )
        stream = service.events()
        try:
            service.initialize()
            for trial in range(trials):
                mid = exchange.touch("XBTUSD").mid
                exchange.set_price("XBTUSD", mid)
                result = service.execute_plan(buy(f"fill-{trial}"))
                (order,) = result.orders
                assert order.status is OrderStatus.OPEN, order
                for _ in range(rng.randrange(60)):  # the fill comes at a random moment
                    clock.sleep(1)
                    service.supervise()
                exchange.set_price("XBTUSD", mid * Decimal("0.98"))  # the ask falls through
                key = config.kraken.api_key.reveal()  # type: ignore[union-attr]
                filled_at = None
                for _ in range(600):
                    clock.sleep(1)
                    service.supervise()
                    while (event := stream.get(timeout=0)) is not None:
                        if (
                            isinstance(event, OrderUpdate)
                            and event.kind is OrderUpdateKind.FILLED
                            and event.order.local_id == order.local_id
                        ):
                            filled_at = event.at
                    if filled_at is not None:
                        break
                assert filled_at is not None, "the fill never reached the event stream"
                trades = [t for t in exchange.trades(key) if t.ordertxid == order.kraken_order_id]
                traded_at = datetime.fromtimestamp(max(t.time for t in trades), UTC)
                delays.append((filled_at - traded_at).total_seconds())
                exchange.set_price("XBTUSD", None)
                clock.sleep(rng.randrange(1, 30))
        finally:
            stream.close()
            service.close()
    return delays


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter windows (a smoke run)")
    args = parser.parse_args(argv)
    count = 20_000 if args.quick else 100_000
    window = 6.0 if args.quick else 30.0
    trials = 10 if args.quick else 40
    rate = events_per_second(count)
    cpu, baseline, calls = idle_cpu(window)
    delays = fill_to_event(trials)
    print("Always-on service")
    print(f"  events: {count:,} order updates to a callback and an iterator: {rate:,.0f} /s")
    print(
        f"  idle supervision ({window:.0f} s window, defaults: dead-man 60/20 s, reconcile 60 s):"
        f" {cpu:.1f} ms CPU per minute above an idle process ({baseline:.1f} ms), {calls} REST"
        " calls per minute"
    )
    print(
        f"  fill to event, REST polling at the default schedule, {trials} fills at random"
        f" moments: p50 {statistics.median(delays):.1f} s, p90 {percentile(delays, 0.9):.1f} s,"
        f" max {max(delays):.1f} s (virtual time)"
    )
    print()
    print(f"events_per_s: {rate:.0f} events/s")
    print(f"idle_supervision_cpu_ms_per_min: {cpu:.1f} ms/min")
    print(f"idle_rest_calls_per_min: {calls} calls/min")
    print(f"poll_fill_to_event_s_p50: {statistics.median(delays):.1f} s")
    print(f"poll_fill_to_event_s_p90: {percentile(delays, 0.9):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
