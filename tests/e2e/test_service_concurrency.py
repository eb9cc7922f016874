"""One account, many callers: the nine ways concurrency lost money, as regression tests.

Each test drives the fake exchange through the real client and a real SQLite file. Threads
stand for a strategy engine calling one service from several places; a second service on
the same database and key stands for a second process (its own SQLite connection, its own
ledger, its own file locks: the same code paths a second process takes, on one timeline).
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.harness import (
    RecordingTransport,
    SimStack,
    action,
    live_config,
    plan,
    sim_stack,
)

from kraken_bot.config import AppConfig, ExecutionConfig, StorageConfig
from kraken_bot.execution.core.models import ExecutionMode, OrderStatus
from kraken_bot.execution.exceptions import (
    AccountInUseError,
    ClockOffsetError,
    NotInitializedError,
    PlanValidationError,
)
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_sim import Exchange, FaultPlan, VirtualClock, load_scenario

ZERO_SLIPPAGE = {"max_slippage_bps": Decimal(0)}


@dataclass
class SkewedClock:
    """The host's clock, ``offset`` seconds away from the exchange's (virtual) one."""

    base: VirtualClock
    offset: float

    def now(self) -> datetime:
        return self.base.now() + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return self.base.monotonic()

    def sleep(self, seconds: float) -> None:
        self.base.sleep(seconds)


class SlowAnswers(RecordingTransport):
    """Answers to chosen methods come back after a real pause (the exchange acted at once),
    so other threads run while a send is in flight."""

    def __init__(self, exchange: Exchange, pause: float, methods: tuple[str, ...]) -> None:
        super().__init__(exchange)
        self.pause = pause
        self.methods = methods
        self.sent = threading.Event()

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().send(request, *args, **kwargs)
        method = str(request.path_url).split("?")[0].rsplit("/", 1)[-1]
        if method == "AddOrder":
            self.sent.set()
        if method in self.methods:
            time.sleep(self.pause)
        return response


def slow_service(stack: SimStack, pause: float = 0.02, **execution: Any) -> ExecutionService:
    """A live service whose AddOrder answers are slow (its transport is kept on the stack)."""
    transport = SlowAnswers(stack.exchange, pause, ("AddOrder",))
    stack.transport_for_next = lambda: transport  # type: ignore[method-assign]
    try:
        return stack.service(**execution)
    finally:
        del stack.transport_for_next


def our_exchange_orders(stack: SimStack) -> list[Any]:
    return [o for o in stack.exchange_orders() if o.cl_ord_id is not None or o.userref]


def assert_every_exchange_order_is_owned_once(stack: SimStack, service: ExecutionService) -> None:
    """Nothing lost: every exchange order of ours has exactly one local order with its txid."""
    local = service.store.recent_orders(10_000)
    owners: dict[str, list[str]] = {}
    for order in local:
        if order.kraken_order_id is not None:
            owners.setdefault(order.kraken_order_id, []).append(order.local_id)
    for order in our_exchange_orders(stack):
        assert owners.get(order.txid, []) != [], f"exchange order {order.txid} has no local order"
        assert len(owners[order.txid]) == 1, f"exchange order {order.txid} owned twice"


def run_in_thread(target: Any) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    return thread, errors


# ---------------------------------------------------------------- 1. reconcile during a send


def ten_strategies(plan_id: str) -> Any:
    return plan(plan_id, *(action("XBTUSD", "0", "0.01", strategy=f"s{i}") for i in range(10)))


@pytest.mark.parametrize("round_", range(3))
def test_reconciling_in_a_thread_during_a_plan_never_stores_a_resting_order_as_never_sent(
    tmp_path, round_
):
    stack = sim_stack(tmp_path / str(round_), execution=live_config(**ZERO_SLIPPAGE))
    service = slow_service(stack, pause=0.01, max_concurrent_orders=3)
    done = threading.Event()

    def reconcile_until_done() -> None:
        while not done.is_set():
            service.refresh_from_exchange()

    reconciler, reconcile_errors = run_in_thread(reconcile_until_done)
    try:
        result = service.execute_plan(ten_strategies("p"))
    finally:
        done.set()
        reconciler.join(30)
    assert reconcile_errors == []
    assert [o.status for o in result.orders] == [OrderStatus.OPEN] * 10
    assert len(our_exchange_orders(stack)) == 10
    assert_every_exchange_order_is_owned_once(stack, service)
    for order in result.orders:
        events = [e.event for e in service.store.events_for(order.local_id)]
        assert "gave_up" not in events
    again = service.execute_plan(ten_strategies("p-again"))
    assert again.orders == ()  # covered by the orders working: nothing bought twice
    assert len(our_exchange_orders(stack)) == 10
    stack.close()


def test_a_second_process_reconciling_during_a_plan_never_stores_a_resting_order_as_never_sent(
    tmp_path,
):
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    bot = slow_service(stack, pause=0.01, max_concurrent_orders=3)
    other = stack.service(keep_previous=True, observer=True)  # `krakked reconcile` beside it
    done = threading.Event()

    def reconcile_until_done() -> None:
        while not done.is_set():
            other.refresh_from_exchange()

    reconciler, reconcile_errors = run_in_thread(reconcile_until_done)
    try:
        result = bot.execute_plan(ten_strategies("p"))
    finally:
        done.set()
        reconciler.join(30)
    assert reconcile_errors == []
    assert [o.status for o in result.orders] == [OrderStatus.OPEN] * 10
    assert_every_exchange_order_is_owned_once(stack, bot)
    assert all(o.status is OrderStatus.OPEN for o in other.get_open_orders())
    assert bot.execute_plan(ten_strategies("p-again")).orders == ()
    assert len(our_exchange_orders(stack)) == 10
    stack.close()


def test_a_pending_order_of_a_dead_process_is_given_up_and_its_action_planned_again(tmp_path):
    """The claim dies with its process: only then is "never sent" decided."""
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    dead = stack.service()
    ledger = dead._ledger
    assert ledger is not None
    from tests.builders import an_intent  # noqa: PLC0415

    from kraken_bot.execution.core.lifecycle import new_order  # noqa: PLC0415

    queued = new_order(
        an_intent(),
        local_id="6b6b0000-0000-4000-8000-000000000001",
        now=stack.clock.now(),
        claimed_by=dead.owner_id,
    )
    ledger.record_many([queued], "created", claim=True)
    observer = stack.service(keep_previous=True, observer=True)
    observer.refresh_from_exchange()
    assert observer.get_order(queued.local_id).status is OrderStatus.PENDING  # owner alive
    dead.abandon()  # the process is killed
    report = observer.refresh_from_exchange()
    assert report.proven_absent == 1
    assert observer.get_order(queued.local_id).status is OrderStatus.ERROR
    stack.close()


# ---------------------------------------------------------------- 2. a cancel during a plan


def test_canceling_a_queued_order_during_a_plan_means_it_is_never_sent(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    service = slow_service(stack, pause=0.05, max_concurrent_orders=1)
    transport = stack.transport
    assert isinstance(transport, SlowAnswers)
    the_plan = plan(
        "q",
        *(
            action(pair, "0", size)
            for pair, size in (("XBTUSD", "0.01"), ("ETHUSD", "0.2"), ("SOLUSD", "3"))
        ),
    )
    results: list[Any] = []
    runner, errors = run_in_thread(lambda: results.append(service.execute_plan(the_plan)))
    assert transport.sent.wait(10)
    queued = [o for o in service.get_open_orders(include_in_flight=True) if o.attempts == 0]
    assert queued, "the last orders of the plan are still queued"
    last = queued[-1]
    canceled = service.cancel_order(last.local_id)
    runner.join(30)
    assert errors == []
    assert canceled.status is OrderStatus.CANCELED
    assert service.get_order(last.local_id).status is OrderStatus.CANCELED
    assert "send_attempted" not in [e.event for e in service.store.events_for(last.local_id)]
    assert last.local_id not in {o.cl_ord_id for o in stack.exchange_orders()}
    assert len(stack.exchange_orders()) == len(the_plan.actions) - 1
    stack.close()


def test_cancel_all_during_a_plan_stops_its_queued_sends_and_nothing_is_placed_after(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    service = slow_service(stack, pause=0.05, max_concurrent_orders=1)
    transport = stack.transport
    assert isinstance(transport, SlowAnswers)
    eight = plan("eight", *(action("XBTUSD", "0", "0.01", strategy=f"s{i}") for i in range(8)))
    runner, errors = run_in_thread(lambda: service.execute_plan(eight))
    assert transport.sent.wait(10)
    service.cancel_all()
    runner.join(30)
    assert errors == []
    journal = stack.private_calls()
    cancel_at = min(i for i, e in enumerate(journal) if e.endpoint == "CancelAll")
    placed_after = [e for e in journal[cancel_at:] if e.endpoint == "AddOrder" and not e.errors]
    assert placed_after == []
    assert [o for o in stack.exchange_orders() if o.status == "open"] == []
    assert all(o.is_terminal for o in service.store.orders_for_plan("eight"))
    assert len(stack.exchange_orders()) < 8  # the queue was stopped
    stack.close()


# ---------------------------------------------------------------- 3. a second command, same key


def test_a_second_client_on_the_key_with_a_clock_ten_seconds_ahead_fails_no_order(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    bot = stack.service()
    ahead = SkewedClock(stack.clock, 10.0)
    cron = KrakenRESTClient.from_config(
        stack.config.kraken, transport=RecordingTransport(stack.exchange), clock=ahead
    )
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            cron.balance()
            cron.open_orders()

    other, errors = run_in_thread(hammer)
    try:
        result = bot.execute_plan(ten_strategies("busy"))
    finally:
        done.set()
        other.join(30)
        cron.close()
    assert errors == []
    assert [o.status for o in result.orders] == [OrderStatus.OPEN] * 10
    nonce_errors = [e for e in stack.exchange.journal if any("nonce" in x for x in e.errors)]
    assert nonce_errors == []
    stack.close()


# ---------------------------------------------------------------- 4. clock skew


@pytest.mark.parametrize("offset", [-30.0, -12.0, 12.0, 30.0])
def test_a_host_clock_off_by_seconds_neither_duplicates_nor_has_orders_refused(tmp_path, offset):
    from pyrsistent import pmap  # noqa: PLC0415

    from kraken_bot.config import StrategyConfig  # noqa: PLC0415

    stack = sim_stack(
        tmp_path,
        execution=live_config(**ZERO_SLIPPAGE),
        strategies=pmap({"trend": StrategyConfig(userref=77)}),
    )
    stack.host_offset = offset
    service = stack.service()
    assert stack.transport is not None
    stack.transport.lose["AddOrder"] = 1  # the answer is lost: a lookup must find the order
    result = service.execute_plan(plan("skew", action("XBTUSD", "0", "0.01", strategy="trend")))
    (order,) = result.orders
    assert order.status in {OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED}
    assert len(stack.exchange_orders()) == 1
    assert order.kraken_order_id == stack.exchange_orders()[0].txid
    refused = [e for e in stack.exchange.journal if any("Deadline" in x for x in e.errors)]
    assert refused == []
    assert abs(service.clock.offset.total_seconds() + offset) <= 1.0
    stack.close()


@pytest.mark.parametrize(("before", "after"), [(30.0, 0.0), (-30.0, 30.0), (0.0, -45.0)])
def test_a_host_clock_that_steps_between_measurements_neither_duplicates_nor_has_orders_refused(
    tmp_path, before, after
):
    """An NTP step or a resumed VM moves the wall clock after the offset was measured and
    before the service measures again: the lost answer's lookup must still find the order.
    (Found by the chaos campaign: a lookup window shifted by the step missed the order.)"""
    from pyrsistent import pmap  # noqa: PLC0415

    from kraken_bot.config import StrategyConfig  # noqa: PLC0415

    stack = sim_stack(
        tmp_path,
        execution=live_config(**ZERO_SLIPPAGE),
        strategies=pmap({"trend": StrategyConfig(userref=77)}),
    )
    stack.host_offset = before
    stack.clock_may_step = True
    service = stack.service()
    stack.host_offset = after  # the step: no tick, no new measurement yet
    assert stack.transport is not None
    stack.transport.lose["AddOrder"] = 1
    result = service.execute_plan(plan("step", action("XBTUSD", "0", "0.01", strategy="trend")))
    (order,) = result.orders
    assert len(stack.exchange_orders()) == 1
    assert order.kraken_order_id == stack.exchange_orders()[0].txid
    refused = [e for e in stack.exchange.journal if any("Deadline" in x for x in e.errors)]
    assert refused == []
    # the step was noticed and the offset measured again by the run's own tick
    assert not service.clock.stepped
    assert abs(service.clock.offset.total_seconds() + after) <= 1.0
    stack.close()


def test_live_trading_is_refused_when_the_clock_is_further_off_than_allowed(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(max_clock_offset_seconds=5.0))
    stack.host_offset = 12.0
    with pytest.raises(ClockOffsetError, match=r"\+1[12]\.\d s from Kraken's"):
        stack.service()
    assert stack.private_calls("AddOrder") == []
    stack.close()


def test_live_trading_is_refused_when_krakens_time_cannot_be_read(tmp_path):
    stack = sim_stack(
        tmp_path,
        faults=FaultPlan.from_mapping(
            {"rules": [{"kind": "service_unavailable", "endpoints": ["Time"], "probability": 1}]}
        ),
    )
    service = ExecutionService.from_config(
        stack.config,
        transport=RecordingTransport(stack.exchange),
        clock=stack.clock,
        background_scheduler=False,
    )
    with pytest.raises(ClockOffsetError, match="cannot be measured"):
        service.initialize()
    assert stack.private_calls() == []
    observer = ExecutionService.from_config(
        stack.config,
        transport=RecordingTransport(stack.exchange),
        clock=stack.clock,
        background_scheduler=False,
        observer=True,
    )
    observer.initialize()  # reading and canceling stay possible
    observer.close()


# ---------------------------------------------------------------- 5. adopted orders are netted


def lose_database(stack: SimStack) -> None:
    for service in stack.services:
        service.abandon()
    for suffix in ("", "-wal", "-shm"):
        stack.db_path.with_name(stack.db_path.name + suffix).unlink(missing_ok=True)


@pytest.mark.parametrize("userref", [None, 77])
def test_an_adopted_order_counts_against_its_pair_so_nothing_is_bought_twice(tmp_path, userref):
    from pyrsistent import pmap  # noqa: PLC0415

    from kraken_bot.config import StrategyConfig  # noqa: PLC0415

    strategies = pmap({"trend": StrategyConfig(userref=userref)}) if userref else None
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE), strategies=strategies)
    stack.service().execute_plan(plan("buy", action("XBTUSD", "0", "0.2")))
    lose_database(stack)
    fresh = stack.service()
    (adopted,) = fresh.get_open_orders()
    assert adopted.strategy_id == ("trend" if userref else None)
    again = fresh.execute_plan(plan("buy-again", action("XBTUSD", "0", "0.2")))
    assert again.orders == ()
    assert [s.reason.value for s in again.skipped] == ["covered_by_open_orders"]
    assert len(stack.exchange_orders()) == 1
    stack.close()


# ---------------------------------------------------------------- 6. paper never changes Kraken


def paper_beside(stack: SimStack, tmp_path: Path) -> ExecutionService:
    config = replace(
        stack.config,
        execution=ExecutionConfig(mode=ExecutionMode.PAPER),
        storage=StorageConfig(path=str(tmp_path / "paper.db")),
    )
    service = ExecutionService.from_config(
        config,
        transport=RecordingTransport(stack.exchange),
        clock=stack.clock,
        background_scheduler=False,
    )
    service.initialize()
    return service


def test_a_paper_cancel_all_beside_a_live_bot_leaves_the_exchange_alone(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    bot = stack.service()
    bot.execute_plan(plan("live", action("XBTUSD", "0", "0.2")))
    paper = paper_beside(stack, tmp_path)
    paper.execute_plan(plan("paper", action("ETHUSD", "0", "1")))
    paper.cancel_all()
    paper.refresh_from_exchange()
    assert [o.status for o in stack.exchange_orders()] == ["open"]
    calls = {e.endpoint for e in stack.private_calls()}
    assert not calls & {"CancelAll", "CancelOrder", "CancelAllOrdersAfter"}
    assert paper.get_open_orders() == []  # nothing of the live bot's was adopted into paper
    paper.close()
    stack.close()


# ---------------------------------------------------------------- 7. the kill switch, bad rows


def corrupt(db: Path, local_id: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE execution_orders SET snapshot_json = '{\"local_id\": 5' WHERE local_id = ?",
            (local_id,),
        )


def test_cancel_all_reaches_the_exchange_through_rows_that_do_not_parse(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    bot = stack.service()
    result = bot.execute_plan(
        plan(
            "three",
            action("XBTUSD", "0", "0.2"),
            action("ETHUSD", "0", "2"),
            action("DOGEEUR", "0", "100"),  # a guardrail error: never on the exchange
        )
    )
    resting, guarded = result.orders[0].local_id, result.orders[2].local_id
    bot.abandon()
    corrupt(stack.db_path, resting)
    corrupt(stack.db_path, guarded)
    killer = stack.service(observer=True)  # `krakked cancel --all`: starts, reconciles
    # The resting order's row was rebuilt from the exchange's copy (it carries our id);
    # the other stays set aside, named, and stops nothing.
    assert list(killer.quarantined_orders) == [guarded]
    assert killer.get_order(resting).status is OrderStatus.OPEN
    killer.cancel_all()
    assert {o.status for o in stack.exchange_orders()} == {"canceled"}
    assert killer.get_order(resting).status is OrderStatus.CANCELED
    report = killer.refresh_from_exchange()
    assert list(report.quarantined) == [guarded]
    assert not report.healthy
    stack.close()


# ---------------------------------------------------------------- 8. unknown to the exchange


def test_orders_the_exchange_forgot_become_unknown_by_name_and_block_nothing(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    first = stack.service()
    (order,) = first.execute_plan(plan("a", action("XBTUSD", "0", "0.2"))).orders
    first.abandon()
    # The exchange restarts and forgets every order (same account, same key).
    restarted = Exchange(
        load_scenario(None), seed=8, clock=stack.clock, faults="none", tier="unlimited"
    )
    restarted.add_account(stack.key, stack.secret, {"ZUSD": Decimal(1_000_000)})
    stack.exchange = restarted
    service = stack.service()
    report = service.refresh_from_exchange()
    assert report.unknown_orders == []  # inside the visibility window: not yet
    stack.clock.sleep(120)
    report = service.refresh_from_exchange()
    assert report.unknown_orders == [order.local_id]
    assert not report.healthy
    assert service.get_order(order.local_id).status is OrderStatus.UNKNOWN
    assert [o.local_id for o in service.get_unknown_orders()] == [order.local_id]
    again = service.execute_plan(plan("b", action("XBTUSD", "0", "0.2")))
    assert [o.status for o in again.orders] == [OrderStatus.OPEN]  # not blocked
    closed = service.cancel_order(order.local_id)
    assert closed.status is OrderStatus.ERROR
    assert "does not know" in (closed.last_error or "")
    assert service.refresh_from_exchange().healthy
    stack.close()


# ---------------------------------------------------------------- 9. modes, and one owner


def test_a_paper_result_never_stands_in_for_a_live_execution_of_the_same_plan(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    paper = paper_beside(stack, tmp_path)
    the_plan = plan("same-id", action("XBTUSD", "0", "0.2"))
    assert [o.status for o in paper.execute_plan(the_plan).orders] == [OrderStatus.VALIDATED]
    paper.close()
    live = stack.service()
    assert [o.status for o in live.execute_plan(the_plan).orders] == [OrderStatus.OPEN]
    live.close()
    shared = replace(paper.config, storage=StorageConfig(path=str(stack.db_path)))
    again = ExecutionService.from_config(
        shared,
        transport=RecordingTransport(stack.exchange),
        clock=stack.clock,
        background_scheduler=False,
    )
    with pytest.raises(PlanValidationError, match="executed in live mode"):
        again.execute_plan(the_plan)
    again.close()
    stack.close()


def test_the_default_database_is_one_per_mode():
    live = AppConfig(execution=live_config())
    assert live.database_path == "portfolio.db"
    assert AppConfig().database_path == "portfolio.paper.db"
    dry = AppConfig(execution=ExecutionConfig(mode=ExecutionMode.DRY_RUN))
    assert dry.database_path == "portfolio.dry_run.db"


def test_a_second_live_service_on_the_key_is_refused_and_the_first_keeps_its_switch(tmp_path):
    stack = sim_stack(tmp_path, execution=live_config(dead_man_switch_seconds=60))
    bot = stack.service()
    armed = stack.exchange.engine.accounts[stack.key].deadman_at
    assert armed is not None
    with pytest.raises(AccountInUseError, match=r"pid \d+ since"):
        stack.service(keep_previous=True)
    observer = stack.service(keep_previous=True, observer=True)  # cancel/reconcile may run
    observer.refresh_from_exchange()
    observer.close()
    assert stack.exchange.engine.accounts[stack.key].deadman_at == armed  # never disarmed
    bot.close()
    assert stack.exchange.engine.accounts[stack.key].deadman_at is None  # its owner did
    stack.close()


def test_the_account_lease_passes_to_the_next_process_when_the_owner_dies(tmp_path):
    stack = sim_stack(tmp_path)
    first = stack.service()
    assert first.lease.held
    first.abandon()  # killed: the OS drops its lock
    second = stack.service(keep_previous=True)
    assert second.lease.held
    stack.close()


def test_after_losing_the_database_no_plan_runs_until_the_exchange_could_be_read(tmp_path):
    """Adoption comes first: a plan planned without knowing the exchange's orders could buy
    again what a lost order already bought."""
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    stack.service().execute_plan(plan("first", action("XBTUSD", "0", "0.2")))
    touch = stack.exchange.touch("XBTUSD")
    stack.exchange.set_price("XBTUSD", (touch.bid + touch.ask) / 2 * Decimal("1.02"))  # no fill
    lose_database(stack)
    failing = FaultPlan.from_mapping(
        {"rules": [{"kind": "service_unavailable", "endpoints": ["OpenOrders"], "probability": 1}]}
    )
    stack.exchange.set_faults(failing)
    blind = stack.service()
    result = blind.execute_plan(plan("second", action("XBTUSD", "0", "0.2")))
    assert result.orders == ()
    assert not result.success
    assert "nothing was sent" in result.errors[0]
    assert len(stack.exchange_orders()) == 1
    stack.exchange.set_faults("none")
    again = blind.execute_plan(plan("second", action("XBTUSD", "0", "0.2")))
    assert again.orders == ()  # the lost order was adopted first, and covers the target
    assert [s.reason.value for s in again.skipped] == ["covered_by_open_orders"]
    assert len(stack.exchange_orders()) == 1
    stack.close()


def test_an_order_in_doubt_never_narrows_the_search_for_lost_orders_of_ours(tmp_path):
    """Strangers (ours, unknown locally) are searched over the whole look-back, even while
    an order is in doubt: a pass that lists closed orders only since that order's send
    would miss an older lost order, and a plan could buy it again."""
    from tests.builders import an_order  # noqa: PLC0415

    from kraken_bot.execution.shell.store import SQLiteExecutionStore  # noqa: PLC0415

    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    first = stack.service()
    (lost,) = first.execute_plan(plan("old", action("XBTUSD", "0", "0.2"))).orders
    first.cancel_all()
    stack.clock.sleep(600)
    lose_database(stack)
    now = stack.clock.now()
    doubt = "6b6b0000-0000-4000-8000-00000000d0b7"
    with SQLiteExecutionStore(stack.db_path) as store:  # a send in doubt, just now
        store.save_order(
            an_order(
                local_id=doubt,
                client_order_id=doubt,
                status=OrderStatus.SUBMITTED,
                attempts=1,
                first_sent_at=now,
                send_deadline=now + timedelta(seconds=30),
                created_at=now,
                updated_at=now,
            )
        )
    fresh = stack.service()  # its start reconciles once
    assert fresh.get_order(lost.local_id).status is OrderStatus.CANCELED  # adopted
    assert fresh.get_order(doubt).status is OrderStatus.SUBMITTED  # still in doubt
    stack.close()


# ---------------------------------------------------------------- closing while callers run


@pytest.fixture
def eager_thread_switches() -> Any:
    """Threads switch every microsecond (not every 5 ms): a window of a few bytecodes
    between a check and its use is hit within a handful of rounds."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize("round_", range(3))
def test_closing_while_other_threads_call_the_service_loses_and_duplicates_nothing(
    tmp_path, round_, eager_thread_switches
):
    """A strategy engine shuts down from two threads while others still work: one sends a
    plan, one ticks. The close waits for the plan being sent (it ends with its result);
    ticks after the close are harmless; a restart finds every order and sends nothing
    twice."""
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    service = slow_service(stack, pause=0.05)
    transport = stack.transport
    assert isinstance(transport, SlowAnswers)
    sender, send_errors = run_in_thread(lambda: service.execute_plan(ten_strategies("closing")))
    stop = threading.Event()

    def keep_calling() -> None:
        while not stop.is_set():
            service.tick()
            service.seconds_until_due()  # and on after the close: both stay harmless

    caller, call_errors = run_in_thread(keep_calling)
    assert transport.sent.wait(10)
    closers = [run_in_thread(service.close) for _ in range(2)]  # two threads shut it down
    for thread, errors in closers:
        thread.join(30)
        assert errors == []
    stop.set()
    for thread in (sender, caller):
        thread.join(30)
        assert not thread.is_alive()
    assert call_errors == []
    assert send_errors == []
    fresh = stack.service()  # the next process reconciles what the closed one left
    fresh.refresh_from_exchange()
    assert_every_exchange_order_is_owned_once(stack, fresh)
    again = fresh.execute_plan(ten_strategies("closing"))  # the same plan, once more
    assert again.replayed  # its result was stored before the close went on
    placed = {o.txid for o in our_exchange_orders(stack)}
    assert len(placed) <= 10
    assert all(o.status is not OrderStatus.PENDING for o in again.orders)
    stack.close()


def test_a_plan_waiting_for_its_turn_when_the_service_closes_is_refused_as_closed(tmp_path):
    """A plan that waited for another to finish finds the service closed meanwhile: it is
    refused as such (nothing written, nothing sent), not failed by a store closed under it."""
    stack = sim_stack(tmp_path, execution=live_config(**ZERO_SLIPPAGE))
    service = stack.service()
    lock = service._plan_lock
    lock.acquire()
    waiter, errors = run_in_thread(lambda: service.execute_plan(ten_strategies("late")))
    time.sleep(0.05)  # the plan now waits for its turn
    service.abandon()  # the service goes away meanwhile (close() would wait for the turn)
    lock.release()
    waiter.join(10)
    assert [type(e) for e in errors] == [NotInitializedError]
    assert our_exchange_orders(stack) == []
    stack.close()
