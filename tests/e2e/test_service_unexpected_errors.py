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
from kraken_bot.execution.shell._plan_run import PlanRunner
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


def buggy_service(kraken: FakeKraken, *, senders: int | None = None) -> ExecutionService:
    """A live service on ``kraken`` whose transport raises on the first AddOrder's answer
    (``senders``: at most that many orders in flight)."""
    config = kraken.config
    if senders is not None:
        config = replace(config, execution=replace(config.execution, max_concurrent_orders=senders))
    service = ExecutionService.from_config(
        config,
        transport=AnswerHandlingBug(kraken.exchange),
        clock=kraken.clock,
        new_id=SeededIds(1),
        background_scheduler=False,
    )
    kraken.services.append(service)
    service.initialize()
    return service


def test_an_unforeseen_error_after_the_send_loses_and_duplicates_nothing(tmp_path):
    with FakeKraken(tmp_path) as kraken:
        service = buggy_service(kraken)
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


def test_an_order_a_cut_short_plan_never_sent_is_given_up_and_the_next_plan_sends_it(tmp_path):
    # One sender: the bug strikes on the first AddOrder's answer, so the second order is
    # written ahead and never sent. Left pending, it counted as working: the next plan
    # (or the same one run again) skipped its action as covered, and nothing ever sent it.
    with FakeKraken(tmp_path) as kraken:
        service = buggy_service(kraken, senders=1)
        actions = (action("XBTUSD", "0", "0.02"), action("ETHUSD", "0", "1"))
        with pytest.raises(RuntimeError, match="nobody foresaw"):
            service.execute_plan(plan("bug-plan", *actions))
        stored = service.store.orders_for_plan("bug-plan")
        (unsent,) = [o for o in stored if o.pair == "ETHUSD"]
        assert unsent.status.value == "error"  # given up at once, not left pending
        assert "never sent" in (unsent.last_error or "")
        (in_doubt_order,) = [o for o in stored if o.pair == "XBTUSD"]
        assert in_doubt(in_doubt_order)  # it may have reached Kraken: it stands

        following = service.execute_plan(plan("next-plan", *actions))
        assert [s.pair for s in following.skipped] == ["XBTUSD"]  # covered by the one in doubt
        assert [o.pair for o in following.orders] == ["ETHUSD"]
        kraken.advance(120)
        assert service.refresh_from_exchange().ok
        truth = kraken.exchange.orders(kraken.key)
        assert sorted(o.pair for o in truth) == ["XETHZUSD", "XXBTZUSD"]
        assert all(n == 1 for n in Counter(o.cl_ord_id for o in truth).values())
        assert kraken.violations(service) == []


@pytest.mark.parametrize("next_plan", ["bug-plan", "next-plan"])
def test_a_plan_cut_short_before_giving_up_its_unsent_order_sends_it_when_run_again(
    tmp_path, monkeypatch, next_plan
):
    # As above, but the run stops before it can give the unsent order up (the process
    # killed at that instant, its claims dead): the next plan, or the same one run again,
    # gives it up and plans its action again instead of counting it as working.
    monkeypatch.setattr(PlanRunner, "_cut_short", lambda _self, _created: None)
    with FakeKraken(tmp_path) as kraken:
        service = buggy_service(kraken, senders=1)
        actions = (action("XBTUSD", "0", "0.02"), action("ETHUSD", "0", "1"))
        with pytest.raises(RuntimeError, match="nobody foresaw"):
            service.execute_plan(plan("bug-plan", *actions))
        (unsent,) = [o for o in service.store.orders_for_plan("bug-plan") if o.attempts == 0]
        assert unsent.status.value == "pending"

        again = service.execute_plan(plan(next_plan, *actions))
        assert "ETHUSD" not in [s.pair for s in again.skipped]
        kraken.advance(120)
        assert service.refresh_from_exchange().ok
        truth = kraken.exchange.orders(kraken.key)
        assert sorted(o.pair for o in truth) == ["XETHZUSD", "XXBTZUSD"]
        assert all(n == 1 for n in Counter(o.cl_ord_id for o in truth).values())
        assert "never sent" in (service.get_order(unsent.local_id).last_error or "")
        assert kraken.violations(service) == []
