"""A real process killed with SIGKILL between send and database write, restarted, reconciled.

The fake exchange serves over loopback HTTP on the wall clock. A child Python
process runs the real service against it through a transport that kills the
process the instant Kraken's AddOrder answer arrives: the order exists on the
exchange, the database never heard the answer. A fresh service on the same
database must then know the order, exactly once, without sending it again.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest
from tests.crash_child import run_child, write_live_config
from tests.harness import action, plan

from kraken_bot.config_file import load_config
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_sim import Exchange, WallClock, load_scenario, serve

pytestmark = [pytest.mark.subprocess, pytest.mark.http]

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from requests.adapters import HTTPAdapter
    from kraken_bot.config_file import load_config
    from kraken_bot.execution.shell.oms import ExecutionService
    from tests.harness import action, plan

    class DieWhenAddOrderAnswers(HTTPAdapter):
        def send(self, request, **kwargs):
            response = super().send(request, **kwargs)
            if request.path_url.endswith("/AddOrder") and os.environ.get("KILL") == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return response

    config = load_config(Path(sys.argv[1]))
    service = ExecutionService.from_config(config, transport=DieWhenAddOrderAnswers())
    service.initialize()
    service.execute_plan(plan("crash-plan", action("XBTUSD", "0", "0.02"), action("ETHUSD", "0", "1")))
    print("finished without being killed")
    """
)


@pytest.fixture
def served():
    exchange = Exchange(load_scenario(None), seed=3, clock=WallClock(), faults="none", tier=None)
    key, secret = exchange.create_account(
        {"ZUSD": Decimal(10**6), "XXBT": Decimal(5), "XETH": Decimal(50)}
    )
    with serve(exchange) as server:
        yield exchange, key, secret, server.base_url


def test_sigkill_between_send_and_write_leaves_exactly_one_exchange_order(tmp_path, served):
    exchange, key, secret, url = served
    config_file = write_live_config(
        tmp_path, url, execution="max_concurrent_orders: 1", db="crash.db"
    )
    child = run_child(tmp_path, CHILD, config_file, key=key, secret=secret, kill="after")
    assert child.returncode == -9, child.stderr[-2000:]
    assert "finished" not in child.stdout
    (placed,) = exchange.orders(key)  # the first AddOrder reached the exchange

    config = load_config(config_file, env={"KRAKEN_API_KEY": key, "KRAKEN_API_SECRET": secret})
    with ExecutionService.from_config(config) as restarted:  # initialize() reconciles
        local = restarted.get_order(placed.txid)
        assert local.client_order_id == placed.cl_ord_id
        assert local.status is not OrderStatus.PENDING
        assert restarted.last_reconcile is not None
        # the interrupted plan, asked again, resumes: only its second action is sent now
        result = restarted.execute_plan(
            plan("crash-plan", action("XBTUSD", "0", "0.02"), action("ETHUSD", "0", "1"))
        )
        assert [o.pair for o in result.orders] == ["XBTUSD", "ETHUSD"]
        assert result.orders[0].local_id == local.local_id
    truth = exchange.orders(key)
    assert sorted(o.pair for o in truth) == ["XETHZUSD", "XXBTZUSD"]
    assert len({o.cl_ord_id for o in truth}) == 2  # no order was sent twice
