"""Benchmark of the SQLite execution store.

Measures, on a real file in WAL mode:

* single-transaction snapshot writes: one `save_order` (snapshot upsert plus
  audit row, one transaction) per order state change, as the service writes
  them: pending, submitted, open, partially filled, filled;
* batch writes: `save_orders` of 1,000 orders per transaction;
* the read cost of `live_orders()` with 10 and with 10,000 terminal orders in
  the table (it must stay flat: the status column is indexed).

Usage: ``python bench/bench_store.py [--quick] [--dir DIR]``. The last two
lines are machine-readable::

    store_snapshots_per_s: 12345 snapshots/s
    store_batch_snapshots_per_s: 123456 snapshots/s
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pyrsistent import pmap

from kraken_bot.execution.core.models import LocalOrder, OrderStatus, OrderType, Side
from kraken_bot.execution.shell.store import SQLiteExecutionStore, Synchronous

T0 = datetime(2026, 3, 1, tzinfo=UTC)
LIFECYCLE = (
    OrderStatus.PENDING,
    OrderStatus.SUBMITTED,
    OrderStatus.OPEN,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.FILLED,
)


def an_order(number: int, status: OrderStatus = OrderStatus.PENDING) -> LocalOrder:
    return LocalOrder(
        local_id=f"bench-{number:08d}",
        plan_id=f"plan-{number // 10}",
        strategy_id="trend_v1",
        pair="XBTUSD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        kraken_order_id=None,
        userref=None,
        client_order_id=f"cl-{number:08d}",
        requested_base_size=Decimal("0.12500000"),
        requested_price=Decimal("27500.0"),
        status=status,
        created_at=T0 + timedelta(microseconds=number),
        updated_at=T0 + timedelta(microseconds=number),
        raw_request=pmap(
            {"pair": "XXBTZUSD", "type": "buy", "ordertype": "limit", "volume": "0.12500000"}
        ),
        rest_pair="XXBTZUSD",
        action_index=number % 10,
        reference_price=Decimal("27480.15"),
    )


def lifecycle_steps(number: int) -> list[LocalOrder]:
    """The snapshots one order goes through, each a state change the service persists."""
    order = an_order(number)
    steps = []
    for step, status in enumerate(LIFECYCLE):
        filled = {
            OrderStatus.PARTIALLY_FILLED: Decimal("0.05"),
            OrderStatus.FILLED: Decimal("0.125"),
        }.get(status, Decimal(0))
        order = replace(
            order,
            status=status,
            updated_at=order.created_at + timedelta(milliseconds=step),
            attempts=min(step, 1),
            kraken_order_id=None if step < 2 else f"TX-{number:08d}",
            cumulative_base_filled=filled,
            avg_fill_price=Decimal("27499.9") if filled else None,
            raw_response_json='{"txid":["TX"]}' if step >= 2 else None,
        )
        steps.append(order)
    return steps


def bench_single(path: Path, orders: int, synchronous: Synchronous) -> float:
    """Snapshots per second, one transaction per state change."""
    snapshots = [step for number in range(orders) for step in lifecycle_steps(number)]
    with SQLiteExecutionStore(path, synchronous=synchronous) as store:
        start = time.perf_counter()
        for order in snapshots:
            store.save_order(order, event=order.status.value)
        elapsed = time.perf_counter() - start
    return len(snapshots) / elapsed


def bench_batch(path: Path, batches: int, size: int = 1000) -> float:
    """Snapshots per second with `save_orders` of ``size`` orders per transaction."""
    groups = [[an_order(batch * size + n) for n in range(size)] for batch in range(batches)]
    with SQLiteExecutionStore(path) as store:
        start = time.perf_counter()
        for group in groups:
            store.save_orders(group, event="planned")
        elapsed = time.perf_counter() - start
    return batches * size / elapsed


def bench_live_orders(path: Path, terminal: int, live: int = 20, repeats: int = 200) -> float:
    """Median seconds per `live_orders()` call with ``terminal`` finished orders in the table."""
    with SQLiteExecutionStore(path) as store:
        for start in range(0, terminal, 1000):
            chunk = range(start, min(start + 1000, terminal))
            store.save_orders([an_order(n, OrderStatus.FILLED) for n in chunk])
        store.save_orders([an_order(terminal + n, OrderStatus.OPEN) for n in range(live)])
        assert len(store.live_orders()) == live
        timings = []
        for _ in range(repeats):
            start_time = time.perf_counter()
            store.live_orders()
            timings.append(time.perf_counter() - start_time)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (CI smoke run)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the database files")
    args = parser.parse_args()
    orders = 1000 if args.quick else 10_000
    batches = 5 if args.quick else 50

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        single = bench_single(root / "single.db", orders, "NORMAL")
        single_full = bench_single(root / "single-full.db", orders // 5, "FULL")
        batch = bench_batch(root / "batch.db", batches)
        live_small = bench_live_orders(root / "live-10.db", 10)
        live_large = bench_live_orders(root / "live-10k.db", 10_000)

    rows = [
        ("save_order, 1 tx per state change (synchronous=NORMAL)", f"{single:,.0f} snapshots/s"),
        ("save_order, 1 tx per state change (synchronous=FULL)", f"{single_full:,.0f} snapshots/s"),
        ("save_orders, 1,000 per tx", f"{batch:,.0f} snapshots/s"),
        ("live_orders(), 20 live + 10 terminal", f"{live_small * 1e6:,.0f} us/call"),
        ("live_orders(), 20 live + 10,000 terminal", f"{live_large * 1e6:,.0f} us/call"),
        ("live_orders() cost ratio 10,000 / 10 terminal", f"{live_large / live_small:.2f}x"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  result")
    print(f"{'-' * width}  {'-' * 20}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"store_snapshots_per_s: {single:.0f} snapshots/s")
    print(f"store_batch_snapshots_per_s: {batch:.0f} snapshots/s")


if __name__ == "__main__":
    main()
