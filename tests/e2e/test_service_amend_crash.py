"""A real process killed with SIGKILL in the middle of an amend, restarted, reconciled.

As in test_service_crash: the fake exchange serves over loopback HTTP (wall clock, no market
volume, so nothing fills on its own), and a child process runs the real service. It places a
resting limit order, then amends it through a transport that kills the process either just
before the AmendOrder request leaves (the amend is in the audit trail, Kraken never heard it)
or the instant Kraken's answer arrives (Kraken amended the order, the database never heard).
A fresh service on the same database must then show the order as Kraken has it, once, and
send nothing again.
"""

from __future__ import annotations

import dataclasses
import textwrap
from decimal import Decimal

import pytest
from tests.crash_child import run_child, write_live_config

from kraken_bot.config_file import load_config
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.execution.shell.store import SQLiteExecutionStore
from kraken_sim import Exchange, WallClock, load_scenario, serve

pytestmark = [pytest.mark.subprocess, pytest.mark.http]

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from decimal import Decimal
    from pathlib import Path
    from requests.adapters import HTTPAdapter
    from kraken_bot.config_file import load_config
    from kraken_bot.execution.shell.oms import ExecutionService
    from tests.harness import action, plan

    WHEN = os.environ["KILL"]

    class DieAtTheAmend(HTTPAdapter):
        def send(self, request, **kwargs):
            amend = request.path_url.endswith("/AmendOrder")
            if amend and WHEN == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            response = super().send(request, **kwargs)
            if amend and WHEN == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return response

    config = load_config(Path(sys.argv[1]))
    service = ExecutionService.from_config(config, transport=DieAtTheAmend())
    service.initialize()
    (order,) = service.execute_plan(plan("amend-plan", action("XBTUSD", "0", "0.02"))).orders
    print("placed", order.local_id, order.requested_price, flush=True)
    service.amend_order(order.local_id, price=Decimal("59000.0"))
    print("finished without being killed")
    """
)


@pytest.fixture
def served():
    scenario = load_scenario(None)
    still = tuple(dataclasses.replace(p, liquidity_per_min=Decimal(0)) for p in scenario.pairs)
    exchange = Exchange(
        dataclasses.replace(scenario, pairs=still),
        seed=3,
        clock=WallClock(),
        faults="none",
        tier=None,
    )
    key, secret = exchange.create_account({"ZUSD": Decimal(10**6), "XXBT": Decimal(5)})
    with serve(exchange) as server:
        yield exchange, key, secret, server.base_url


@pytest.mark.parametrize("when", ["before", "after"])
def test_sigkill_in_an_amend_leaves_one_order_as_kraken_has_it(tmp_path, served, when):
    exchange, key, secret, url = served
    config_file = write_live_config(tmp_path, url, execution="max_slippage_bps: 0", db="amend.db")
    child = run_child(tmp_path, CHILD, config_file, key=key, secret=secret, kill=when)
    assert child.returncode == -9, child.stderr[-2000:]
    assert "placed" in child.stdout
    assert "finished" not in child.stdout
    (on_kraken,) = exchange.orders(key)
    assert on_kraken.status == "open"
    amended = on_kraken.price == Decimal("59000.0")
    assert amended is (when == "after")  # before: Kraken never heard of the amend

    config = load_config(config_file, env={"KRAKEN_API_KEY": key, "KRAKEN_API_SECRET": secret})
    with ExecutionService.from_config(config) as restarted:  # initialize() reconciles
        local = restarted.get_order(on_kraken.txid)
        assert local.requested_price == on_kraken.price  # the database follows Kraken
        assert local.requested_base_size == on_kraken.vol
        assert local.kraken_order_id == on_kraken.txid
    store = SQLiteExecutionStore(tmp_path / "amend.db", read_only=True)
    events = [e.event for e in store.events_for(local.local_id)]
    store.close()
    assert "amend_requested" in events  # written before the send, so it survived
    assert len(exchange.orders(key)) == 1  # nothing was sent again
    journal = [e.endpoint for e in exchange.journal if e.api_key == key]
    assert journal.count("AddOrder") == 1
    assert journal.count("AmendOrder") == (1 if when == "after" else 0)
