"""Benchmark: the executions stream (Kraken WebSocket v2) against REST polling, one run.

Two measurements, each through the real code (the real REST client, the real WebSocket
client, the real service and SQLite file, the fake exchange's HTTP and WebSocket fronts):

1. **Fill to event over the socket** (wall clock, loopback): a live service streams from
   the fake served in this process (the bundled scenario with a 0.1 s matching step, so a
   trial does not wait for the next 10 s tick); a resting buy is filled at a random moment
   (its pair's price is pinned below it); the delay is from the fill in the fake's engine
   (an engine watcher stamps it) to the ``filled`` event reaching a subscriber of the
   service. The
   REST-polling figure for the same scenario comes from ``bench_service.fill_to_event``
   (virtual time, the default 60 s reconciliation schedule).
2. **REST calls per order, with and without the socket** (virtual time, the same seed and
   scenario for both): plans of one resting buy every ``--every`` seconds, each filled at a
   random moment, the service supervised every second as its background thread does; every
   REST call the account makes (AddOrder, reconciliation, token) divided by the orders.

Usage: ``python bench/bench_stream.py [--quick]``. Prints a table, then one
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
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from bench_service import BALANCES, LIVE, START, buy, fill_to_event, percentile

from kraken_bot._enums import StreamMode
from kraken_bot.config import AppConfig, ExecutionConfig
from kraken_bot.execution.core.events import OrderUpdate, OrderUpdateKind, ServiceEvent
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.testing import FAKE_URL, account_config
from kraken_sim import Exchange, SimTransport, VirtualClock, WallClock, load_scenario, serve
from kraken_sim.orders import Order, Trade
from kraken_sim.ws import WsServer


def stream_config(
    exchange: Exchange, directory: Path, base_url: str, ws_url: str | None
) -> AppConfig:
    config = account_config(
        exchange,
        directory,
        execution=ExecutionConfig(**{**LIVE, "dead_man_switch_seconds": 0}),
        balances=BALANCES,
        base_url=base_url,
    )
    stream = StreamMode.POLL if ws_url is None else StreamMode.WEBSOCKET
    return replace(config, kraken=replace(config.kraken, stream=stream, ws_url=ws_url))


# ---------------------------------------------------------------------- 1. fill to event


def ws_fill_to_event(trials: int, seed: int = 11) -> list[float]:
    """Milliseconds from a fill in the fake's engine to the service's filled event."""
    # The bundled scenario with a 0.1 s matching step instead of 10 s, so each trial's
    # fill comes soon after the price moves (the step does not enter the measured delay).
    scenario = replace(load_scenario(None), step=0.1)
    exchange = Exchange(scenario, seed=seed, clock=WallClock(), faults="none")
    filled_at: dict[str, float] = {}

    def stamp(change: str, order: Order, _trade: Trade | None) -> None:
        if change == "filled":
            filled_at[order.txid] = time.time()

    heard: dict[str, float] = {}
    arrived = threading.Condition()

    def on_event(event: ServiceEvent) -> None:
        if isinstance(event, OrderUpdate) and event.kind is OrderUpdateKind.FILLED:
            with arrived:
                heard[event.order.local_id] = time.time()
                arrived.notify_all()

    rng = random.Random(seed)
    delays: list[float] = []
    socket = WsServer(exchange)
    socket.start()
    with exchange.engine_settled() as engine:
        engine.watchers.insert(0, stamp)  # before the socket's watcher hears of the fill
    try:
        with tempfile.TemporaryDirectory() as temp, serve(exchange, settle_every=0.01) as server:
            config = stream_config(exchange, Path(temp), server.base_url, socket.url)
            with ExecutionService.from_config(config, new_id=SeededIds(5)) as service:
                subscription = service.subscribe(on_event)
                assert service.stream is not None
                assert service.stream.stream.wait_subscribed(10)
                service.stream.consumer.wait_idle()
                for trial in range(trials):
                    mid = exchange.touch("XBTUSD").mid
                    exchange.set_price("XBTUSD", mid)
                    (order,) = service.execute_plan(buy(f"ws-{trial}")).orders
                    # A buy at the mid is the best bid: the step's sellers may fill it before
                    # the price moves (even before execute_plan returns). Any fill is timed
                    # the same way, from the engine's stamp to the service's event.
                    assert order.status in {OrderStatus.OPEN, OrderStatus.FILLED}, order
                    time.sleep(rng.uniform(0.0, 0.2))  # the fill comes at a random moment
                    exchange.set_price("XBTUSD", mid * Decimal("0.98"))
                    local_id = order.local_id
                    with arrived:
                        assert arrived.wait_for(lambda i=local_id: i in heard, 30), trial
                    txid = service.get_order(order.local_id).kraken_order_id
                    assert txid is not None
                    delays.append((heard[order.local_id] - filled_at[txid]) * 1000.0)
                    exchange.set_price("XBTUSD", None)
                subscription.close()
    finally:
        socket.close()
    return delays


# ---------------------------------------------------------------------- 2. REST calls


def rest_calls_per_order(
    *, websocket: bool, plans: int, every: int, seed: int = 17
) -> tuple[float, int]:
    """REST calls per order placed over ``plans`` plans (at most one order each), and the
    orders filled."""
    clock = VirtualClock(start=START)
    exchange = Exchange(load_scenario(None), seed=seed, clock=clock, faults="none")
    socket = WsServer(exchange) if websocket else None
    if socket is not None:
        socket.start()
    rng = random.Random(seed)
    filled = 0
    try:
        with tempfile.TemporaryDirectory() as temp:
            config = stream_config(
                exchange, Path(temp), FAKE_URL, socket.url if socket is not None else None
            )
            key = config.kraken.api_key
            assert key is not None
            service = ExecutionService.from_config(
                config,
                transport=SimTransport(exchange),
                clock=clock,
                new_id=SeededIds(7),
                background_scheduler=False,
            )
            try:
                service.initialize()
                if service.stream is not None:
                    assert service.stream.stream.wait_subscribed(10)
                    service.stream.consumer.wait_idle()
                start_calls = _calls(exchange, key.reveal())
                orders = []
                for index in range(plans):
                    mid = exchange.touch("XBTUSD").mid
                    exchange.set_price("XBTUSD", mid)
                    # (a plan places nothing while an earlier order still covers it)
                    result = service.execute_plan(buy(f"plan-{index}"))
                    orders += [order.local_id for order in result.orders]
                    fill_at = rng.randrange(every // 2)
                    for second in range(every):
                        if second == fill_at:
                            exchange.set_price("XBTUSD", mid * Decimal("0.98"))
                        if second == fill_at + 1:
                            exchange.set_price("XBTUSD", None)
                        clock.sleep(1)
                        exchange.settle()
                        service.supervise()
                    if service.stream is not None:
                        service.stream.consumer.wait_idle()
                calls = _calls(exchange, key.reveal()) - start_calls
                filled = sum(service.get_order(o).status is OrderStatus.FILLED for o in orders)
            finally:
                service.close()
    finally:
        if socket is not None:
            socket.close()
    return calls / max(1, len(orders)), filled


def _calls(exchange: Exchange, key: str) -> int:
    return sum(1 for entry in exchange.journal if entry.api_key == key)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer trials (a smoke run)")
    parser.add_argument("--every", type=int, default=600, help="seconds between plans")
    args = parser.parse_args(argv)
    trials = 10 if args.quick else 40
    plans = 4 if args.quick else 24
    ws = ws_fill_to_event(trials)
    poll = [seconds * 1000.0 for seconds in fill_to_event(5 if args.quick else 40)]
    with_ws, ws_filled = rest_calls_per_order(websocket=True, plans=plans, every=args.every)
    without, poll_filled = rest_calls_per_order(websocket=False, plans=plans, every=args.every)
    ratio = without / with_ws if with_ws else float("inf")
    print("Executions stream (WebSocket v2) against REST polling")
    print(
        f"  fill to event over the socket (loopback, {trials} fills): p50"
        f" {statistics.median(ws):.1f} ms, p99 {percentile(ws, 0.99):.1f} ms,"
        f" max {max(ws):.1f} ms"
    )
    print(
        f"  fill to event by polling (default 60 s schedule, virtual time): p50"
        f" {statistics.median(poll) / 1000:.1f} s"
    )
    print(
        f"  REST calls per order, one order every {args.every} s, {plans} plans:"
        f" {with_ws:.2f} with the socket ({ws_filled} filled), {without:.2f} polling"
        f" ({poll_filled} filled): {ratio:.1f}x fewer"
    )
    print()
    print(f"ws_fill_to_event_ms_p50: {statistics.median(ws):.2f} ms")
    print(f"ws_fill_to_event_ms_p99: {percentile(ws, 0.99):.2f} ms")
    print(f"poll_fill_to_event_ms_p50: {statistics.median(poll):.0f} ms")
    print(f"rest_calls_per_order_ws: {with_ws:.2f} calls")
    print(f"rest_calls_per_order_poll: {without:.2f} calls")
    print(f"rest_calls_per_order_ratio: {ratio:.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
