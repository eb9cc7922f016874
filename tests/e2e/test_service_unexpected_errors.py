"""An exception nobody foresaw, raised after an order reached Kraken, loses nothing and
duplicates nothing while the service keeps running (a bug in answer handling, a library
raising something new): the order stays in doubt, its sender's claim is let go, and the
same service finds it again without placing it twice."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from tests.harness import action, plan

from kraken_bot.execution.core.cancels import in_doubt
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.testing import FakeKraken
from kraken_sim import SimTransport


class AnswerHandlingBug(SimTransport):
    """Kraken places the first AddOrder; then something raises a `RuntimeError`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.armed = True

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().send(request, *args, **kwargs)
        if self.armed and request.path_url.endswith("/AddOrder"):
            self.armed = False
            raise RuntimeError("something nobody foresaw")
        return response


def test_an_unforeseen_error_after_the_send_loses_and_duplicates_nothing(tmp_path):
    with FakeKraken(tmp_path) as kraken:
        service = ExecutionService.from_config(
            kraken.config,
            transport=AnswerHandlingBug(kraken.exchange),
            clock=kraken.clock,
            new_id=SeededIds(1),
            background_scheduler=False,
        )
        kraken.services.append(service)
        service.initialize()
        the_plan = plan("bug-plan", action("XBTUSD", "0", "0.02"), action("ETHUSD", "0", "1"))

        with pytest.raises(RuntimeError, match="nobody foresaw"):
            service.execute_plan(the_plan)

        placed = kraken.exchange.orders(kraken.key)
        assert len(placed) >= 1
        (doubtful,) = [
            o
            for o in service.get_open_orders(include_in_flight=True)
            if o.kraken_order_id is None and o.attempts == 1
        ]
        assert in_doubt(doubtful)  # written ahead, its answer never heard
        assert service._ledger is not None
        assert service._ledger.claimed_here() == frozenset()

        again = service.execute_plan(the_plan)  # the same plan: resumed, nothing resent
        kraken.advance(120)
        assert service.refresh_from_exchange().ok
        truth = kraken.exchange.orders(kraken.key)
        assert all(n == 1 for n in Counter(o.cl_ord_id for o in truth).values())
        assert len(truth) == 2
        for placed_order in truth:
            assert service.get_order(placed_order.txid).requested_base_size == placed_order.vol
        assert {o.pair for o in again.orders} >= {"XBTUSD"}
        assert kraken.violations(service) == []


def test_a_plan_cut_short_before_an_order_left_sends_it_when_the_plan_runs_again(tmp_path):
    # One sender: the bug strikes on the first AddOrder's answer, so the second order is
    # written ahead and never sent. Running the plan again once counted that pending order
    # as working: it covered its own action, nothing was sent, and nothing ever sent it.
    with FakeKraken(tmp_path) as kraken:
        config = replace(
            kraken.config, execution=replace(kraken.config.execution, max_concurrent_orders=1)
        )
        service = ExecutionService.from_config(
            config,
            transport=AnswerHandlingBug(kraken.exchange),
            clock=kraken.clock,
            new_id=SeededIds(1),
            background_scheduler=False,
        )
        kraken.services.append(service)
        service.initialize()
        the_plan = plan("bug-plan", action("XBTUSD", "0", "0.02"), action("ETHUSD", "0", "1"))
        with pytest.raises(RuntimeError, match="nobody foresaw"):
            service.execute_plan(the_plan)
        unsent = [o for o in service.get_open_orders(include_in_flight=True) if o.attempts == 0]
        assert [o.pair for o in unsent] == ["ETHUSD"]

        again = service.execute_plan(the_plan)
        assert again.skipped == ()
        kraken.advance(120)
        assert service.refresh_from_exchange().ok
        truth = kraken.exchange.orders(kraken.key)
        assert sorted(o.pair for o in truth) == ["XETHZUSD", "XXBTZUSD"]
        assert all(n == 1 for n in Counter(o.cl_ord_id for o in truth).values())
        given_up = service.get_order(unsent[0].local_id)
        assert given_up.status.value == "error"
        assert "never sent" in (given_up.last_error or "")
        assert kraken.violations(service) == []
