"""A process killed mid-write leaves every order's snapshot and audit trail consistent.

A child process saves order state changes as fast as it can (single saves and
batches, as the service does); the test kills it with SIGKILL at an arbitrary
instant, reopens the file and checks that each snapshot is exactly the state of
its last audit row: no half-written transaction survives.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kraken_bot.execution.shell.store import SQLiteExecutionStore

CHILD = textwrap.dedent(
    """
    import sys
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from kraken_bot.execution.core.models import LocalOrder, OrderStatus, OrderType, Side
    from kraken_bot.execution.shell.store import SQLiteExecutionStore

    T0 = datetime(2026, 3, 1, tzinfo=UTC)
    base = LocalOrder(
        local_id="single", plan_id="p", strategy_id=None, pair="XBTUSD", side=Side.BUY,
        order_type=OrderType.MARKET, kraken_order_id=None, userref=None,
        client_order_id=None, requested_base_size=Decimal("1"), requested_price=None,
        status=OrderStatus.PENDING, created_at=T0, updated_at=T0,
    )
    batch = [replace(base, local_id=f"batch-{n}") for n in range(5)]
    store = SQLiteExecutionStore(sys.argv[1])
    step = 0
    while True:
        at = T0 + timedelta(microseconds=step)
        store.save_order(replace(base, attempts=step, updated_at=at), event=f"step-{step}")
        store.save_orders(
            [replace(o, attempts=step, updated_at=at) for o in batch], event=f"step-{step}"
        )
        if step == 50:
            print("running", flush=True)
        step += 1
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_process_killed_while_writing_leaves_whole_transactions_only(tmp_path: Path):
    path = tmp_path / "portfolio.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "running"
        time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    with SQLiteExecutionStore(path) as store:
        single = store.get_order("single")
        batch = [store.get_order(f"batch-{n}") for n in range(5)]
        assert single is not None
        assert all(order is not None for order in batch)
        assert single.attempts >= 50
        for order in (single, *batch):
            assert order is not None
            events = store.events_for(order.local_id)
            assert len(events) == order.attempts + 1
            assert events[-1].event == f"step-{order.attempts}"
            assert events[-1].at == order.updated_at
        # a batch is one transaction: all five orders at the same step
        assert len({order.attempts for order in batch if order is not None}) == 1
