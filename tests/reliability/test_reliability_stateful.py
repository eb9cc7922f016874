"""Stateful property test: the service against the fake exchange, with every fault it has.

A hypothesis `RuleBasedStateMachine` drives the in-process stack of
`tests.harness` (fake exchange, real client, `ExecutionService`, SQLite file,
one virtual clock). Rules execute random plans (pairs XBTUSD, ETHUSD, SOLUSD,
ETHXBT and an unknown one; strategies with and without a ``userref``; blocked
and no-op actions) and replay old ones (a `Bundle` of plan ids), cancel one
order or all, let virtual time pass (the exchange fills, expires GTD orders),
move prices, switch the fault plan (every fault kind the fake has, as rules or
a schedule), make the client lose AddOrder answers on top of that (the one
combination the fake cannot make alone: see `tests.reliability.stack`), restart
the service from its database (cleanly, or by abandoning the old one), run a
plan in a process that dies on its k-th AddOrder and resume that plan later,
and reconcile. After every step the always-true invariants of
`kraken_bot.simulation.invariants` hold; at the end, with faults off, time moved
past every hiding window and a clean reconciliation, the settled ones do.

Hiding windows stay within the lookup margin the service is configured with
(beyond it, see `test_reliability_regressions`). Rules never depend on what the
service did for what they draw, so hypothesis can replay a run even though
concurrent sends make the interleaving of faults nondeterministic.

The default suite runs a short, derandomized campaign (the ``ci`` profile);
the ``chaos`` profile with ``KRAKKED_CHAOS=1`` runs a much longer one.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Final, get_args

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from pyrsistent import pmap
from tests.harness import live_config
from tests.reliability.figures import Figures
from tests.reliability.quirk_matrix import COVERING_ROWS, quirks_of, tally_key
from tests.reliability.stack import Crash, LossyStack, lossy_stack

from kraken_bot._enums import OrderTransport, Routing, StreamMode
from kraken_bot.config import ExecutionConfig, StorageConfig, StrategyConfig
from kraken_bot.execution.core.models import ExecutionMode, OrderType, TimeInForce
from kraken_bot.execution.exceptions import CancelFailedError, KrakenAPIError
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.simulation.invariants import (
    ALL_ORDERS,
    Violation,
    settled_violations,
    step_violations,
    tally,
)
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction
from kraken_sim import FaultPlan, FaultRule, ScheduledFault
from kraken_sim.faults import FaultKind
from kraken_sim.ws import WsFaults, WsServer

KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)
PAIRS: Final = ("XBTUSD", "ETHUSD", "SOLUSD", "ETHXBT")
UNIT: Final = {
    "XBTUSD": Decimal("0.004"),
    "ETHUSD": Decimal("0.08"),
    "SOLUSD": Decimal("1.5"),
    "ETHXBT": Decimal("0.08"),
    "DOGEEUR": Decimal(100),
}
STRATEGY_USERREF: Final = 4242
PLAN_USERREFS: Final = (7, STRATEGY_USERREF)
LOOKUP_MARGIN: Final = 5.0
HIDING_WINDOWS: Final = (1.0, 3.0, LOOKUP_MARGIN)
"""Seconds an order may stay hidden from listings (``absent_from_open_orders``): within the
lookup margin the service relies on (beyond it, see test_reliability_regressions)."""
DELAYS: Final = (1.0, 4.0, 20.0)
"""Seconds of ``delay`` faults; 20 is past the client's read timeout: a lost answer."""
SETTLE_SECONDS: Final = 600

ENDPOINT_GROUPS: Final = (
    ("AddOrder",),
    ("*",),
    ("private",),
    ("public",),
    ("OpenOrders", "ClosedOrders", "QueryOrders"),
    ("CancelOrder", "CancelAll"),
    ("AmendOrder", "CancelOrder"),
)
SCHEDULED_ENDPOINTS: Final = (
    "AddOrder",
    "AmendOrder",
    "OpenOrders",
    "ClosedOrders",
    "QueryOrders",
    "CancelOrder",
    "CancelAll",
    "Ticker",
    "*",
)
PHASES: Final = ("before", "after", "either")
CLOCK_OFFSETS: Final = (0.0, 0.0, -30.0, -12.5, -3.0, 2.0, 12.0, 30.0)
"""Seconds the host's clock is from the exchange's (the service measures and corrects)."""
SOCKETS: Final = ("off", "off", "stream", "orders", "faulty")
"""The WebSocket in a scenario: none (REST polling), the executions stream, the stream with
orders over the socket too, or both on a socket that loses, drops and cuts."""
SOCKET_FAULTS: Final = WsFaults(drop=0.1, silent_drop=0.05, disconnect=0.03, lost_reply=0.1)
CALLER_KINDS: Final = ("cancel_one", "cancel_all", "reconcile")
SECOND_PROCESS_KINDS: Final = ("reconcile", "cancel_one", "cancel_all", "run_once")


# ---------------------------------------------------------------- strategies


def _seconds_for(kind: FaultKind) -> st.SearchStrategy[float]:
    return st.sampled_from(HIDING_WINDOWS if kind == "absent_from_open_orders" else DELAYS)


fault_rules = st.sampled_from(KINDS).flatmap(
    lambda kind: st.builds(
        FaultRule,
        kind=st.just(kind),
        endpoints=st.sampled_from(ENDPOINT_GROUPS),
        probability=st.sampled_from((0.05, 0.15, 0.3, 0.6)),
        phase=st.sampled_from(PHASES),
        seconds=_seconds_for(kind),
    )
)
scheduled_faults = st.sampled_from(KINDS).flatmap(
    lambda kind: st.builds(
        ScheduledFault,
        kind=st.just(kind),
        endpoint=st.sampled_from(SCHEDULED_ENDPOINTS),
        calls=st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True).map(tuple),
        phase=st.sampled_from(PHASES),
        seconds=_seconds_for(kind),
    )
)
fault_plans: st.SearchStrategy[str | FaultPlan] = st.one_of(
    st.sampled_from(("none", "light", "heavy")),
    st.builds(
        FaultPlan,
        rules=st.lists(fault_rules, max_size=3).map(tuple),
        schedule=st.lists(scheduled_faults, max_size=3).map(tuple),
    ),
)


@st.composite
def actions(draw: st.DrawFn) -> RiskAdjustedAction:
    """One action: mostly a real delta; sometimes blocked, a no-op, tagged, or an unknown pair."""
    pair = draw(st.sampled_from((*PAIRS, *PAIRS, "DOGEEUR")))
    unit = UNIT[pair]
    current = draw(st.integers(0, 25)) * unit
    target = draw(st.integers(0, 25)) * unit
    flavour = draw(st.sampled_from(("plain",) * 6 + ("blocked", "none")))
    strategy = draw(st.sampled_from(("trend", "mean", "tagged")))
    userref = draw(st.sampled_from((None, None, None, *PLAN_USERREFS)))
    action_type = ActionType.NONE if flavour == "none" else ActionType.INCREASE
    return RiskAdjustedAction(
        pair=pair,
        strategy_id=strategy,
        action_type=action_type,
        current_base_size=current,
        target_base_size=target,
        blocked=flavour == "blocked",
        block_reasons=("risk",) if flavour == "blocked" else (),
        userref=userref,
    )


execution_settings = st.fixed_dictionaries(
    {
        "max_slippage_bps": st.sampled_from((Decimal(0), Decimal(5), Decimal(50))),
        "default_order_type": st.sampled_from((OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET)),
        "time_in_force": st.sampled_from((TimeInForce.GTC, TimeInForce.GTD, TimeInForce.IOC)),
        "gtd_expire_seconds": st.sampled_from((120, 900)),
        "max_retries": st.integers(1, 4),
        "max_concurrent_orders": st.sampled_from((1, 1, 2, 4)),
        "order_deadline_seconds": st.sampled_from((5, 15, 30)),
        "lookup_margin_seconds": st.just(LOOKUP_MARGIN),
        "reconcile_after_execute": st.booleans(),
        "post_only": st.sampled_from((False, False, True)),
        "routing": st.sampled_from((Routing.CONTRACT, Routing.CONTRACT, Routing.MAKER_FIRST)),
        "chase_ticks": st.sampled_from((1, 2, 50)),
        "chase_seconds": st.sampled_from((5.0, 20.0)),
        "urgency_seconds": st.sampled_from((30.0, 120.0)),
    }
)


# ---------------------------------------------------------------- the machine


class ServiceMachine(RuleBasedStateMachine):
    """One scenario: a funded account, a service, and a sequence of rules."""

    figures: ClassVar[Figures | None] = None

    plans = Bundle("plans")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="krakked-machine-"))
        self.stack: LossyStack | None = None
        self.socket: WsServer | None = None
        self.amends_seen = 0
        self.service_: ExecutionService | None = None
        self.known_plans: dict[str, ExecutionPlan] = {}
        self.crash_plans: dict[str, ExecutionPlan] = {}
        self.lost_plans: set[str] = set()
        self.refused_plans: set[str] = set()
        self.database_lost = False
        self.awaiting_adoption = False
        self.adoption_cleared = "never"
        self.concurrent_plans: set[str] = set()
        self.offsets: set[float] = set()
        self.quirks: dict[str, object] = {}
        self.plan_numbers = itertools.count(1)
        self.steps = 0

    # ------------------------------------------------------------ plumbing

    @property
    def service(self) -> ExecutionService:
        assert self.service_ is not None
        return self.service_

    @property
    def sim(self) -> LossyStack:
        assert self.stack is not None
        return self.stack

    def _count(self, name: str, amount: int = 1) -> None:
        if self.figures is not None:
            self.figures.add(name, amount)

    def _fail_on(self, violations: list[Violation], when: str) -> None:
        if not violations:
            return
        if self.figures is not None:
            for name, amount in tally(violations).items():
                self.figures.add(name, amount)
            for setting, value in self.quirks.items():
                self.figures.add(f"{tally_key(setting, value)}|violations", len(violations))
            for violation in violations[:5]:
                self.figures.note(f"{when}: {violation}")
        listing = "\n  ".join(str(v) for v in violations[:20])
        failures = self.service.transition_failures[-10:]
        raise AssertionError(
            f"{len(violations)} violation(s) {when}:\n  {listing}\nrefused transitions: {failures}"
            f"\nquirks: {self.quirks}\ntrails of the orders involved:\n{self._trails(violations)}"
            f"\n{self._exchange_side(violations)}"
        )

    def _exchange_side(self, violations: list[Violation]) -> str:
        """The exchange orders a violation names, with when they opened and surfaced in the
        listings, beside the pass that last cleared the adoption debt: the times a lost or
        unknown order is judged by (the flakes hypothesis cannot replay need them)."""
        named = {txid for v in violations for txid in v.txids}
        lines = [
            f"  {o.txid} opened {o.opentm:.3f} listed from {o.hidden_until:.3f} {o.status}"
            for o in self.sim.exchange_orders()
            if o.txid in named
        ]
        return (
            f"exchange now {self._exchange_now():.3f}; adoption debt last cleared by a pass"
            f" that began at {self.adoption_cleared}\n" + "\n".join(lines)
        )

    def _trails(self, violations: list[Violation]) -> str:
        """The audit trails of the orders a violation names, and of their look-alikes (same
        pair and userref): what a person needs to see how it happened."""
        store = self.service.store
        orders = store.recent_orders(ALL_ORDERS)
        named = [o for o in orders if any(o.local_id in str(v) for v in violations)]
        alike = {(o.pair, o.userref) for o in named}
        involved = [o for o in orders if o in named or (o.pair, o.userref) in alike]
        lines = []
        for order in involved[:12]:
            lines.append(
                f"  {order.local_id} {order.side.value} {order.requested_base_size} {order.pair}"
                f" userref={order.userref} cl={order.client_order_id} txid={order.kraken_order_id}"
                f" {order.status.value} claimed_by={order.claimed_by}"
            )
            lines += [
                f"    {e.at.isoformat()} {e.event} -> {e.status.value} {e.detail or ''}"
                for e in store.events_for(order.local_id)
            ]
        return "\n".join(lines)

    # ------------------------------------------------------------ setup

    @initialize(
        seed=st.integers(0, 2**16),
        execution=execution_settings,
        offset=st.sampled_from(CLOCK_OFFSETS),
        quirk_row=st.integers(0, len(COVERING_ROWS) - 1),
        socket=st.sampled_from(SOCKETS),
    )
    def start(
        self, seed: int, execution: dict[str, Any], offset: float, quirk_row: int, socket: str
    ) -> None:
        if execution["default_order_type"] is OrderType.MARKET:
            execution = {**execution, "post_only": False}  # post-only needs limit orders
        self.quirks = COVERING_ROWS[quirk_row]
        self.stack = lossy_stack(
            self.tmp,
            seed=seed,
            faults="none",
            execution=live_config(**execution),
            strategies=pmap({"tagged": StrategyConfig(userref=STRATEGY_USERREF)}),
            quirks=quirks_of(self.quirks),
        )
        self.stack.host_offset = offset
        self.stack.clock_may_step = True  # step_host_clock may move it later
        self.offsets.add(offset)
        if socket != "off":
            self._open_socket(socket)
        self.service_ = self.stack.service()

    def _open_socket(self, kind: str) -> None:
        """Serve the fake's WebSocket and point every service of the scenario at it."""
        stack = self.sim
        self.socket = WsServer(
            stack.exchange, faults=SOCKET_FAULTS if kind == "faulty" else None, seed=7
        )
        self.socket.start()
        transport = OrderTransport.REST if kind == "stream" else OrderTransport.WEBSOCKET
        stack.config = replace(
            stack.config,
            kraken=replace(
                stack.config.kraken,
                stream=StreamMode.WEBSOCKET,
                ws_url=self.socket.url,
                order_transport=transport,
                ws_request_timeout_seconds=0.3,
            ),
        )
        self._count(f"socket_{kind}")

    # ------------------------------------------------------------ rules

    @rule(target=plans, batch=st.lists(actions(), min_size=1, max_size=4))
    def execute_plan(self, batch: list[RiskAdjustedAction]) -> str:
        return self._execute(batch)

    @rule(target=plans, first=actions())
    def execute_one_action(self, first: RiskAdjustedAction) -> str:
        return self._execute([first])

    @rule(target=plans, batch=st.lists(actions(), min_size=5, max_size=12))
    def execute_big_plan(self, batch: list[RiskAdjustedAction]) -> str:
        return self._execute(batch)

    def _execute(self, batch: list[RiskAdjustedAction]) -> str:
        plan_id = f"plan-{next(self.plan_numbers)}"
        plan = ExecutionPlan(plan_id=plan_id, created_at=self.sim.clock.now(), actions=tuple(batch))
        self.known_plans[plan_id] = plan
        result = self.service.execute_plan(plan)
        assert result.plan_id == plan_id
        assert not result.replayed
        if self.service.get_execution_as_recorded(plan_id) is None:
            # Refused before anything was sent (the exchange's orders could not be read
            # since the start): not recorded, so running it again is a first run.
            assert not any(o.kraken_order_id for o in result.orders)
            self.refused_plans.add(plan_id)
        self._count("plans")
        return plan_id

    @rule(batch=st.lists(actions(), min_size=1, max_size=6), at=st.integers(1, 4))
    def crash_while_sending(self, batch: list[RiskAdjustedAction], at: int) -> None:
        """A process dies on its ``at``-th AddOrder of a plan; the next one starts from the DB."""
        plan_id = f"plan-{next(self.plan_numbers)}"
        plan = ExecutionPlan(plan_id=plan_id, created_at=self.sim.clock.now(), actions=tuple(batch))
        doomed = self.sim.doomed_service(at)
        self.crash_plans[plan_id] = plan
        try:
            doomed.execute_plan(plan)
        except Crash:
            self._count("simulated_crashes")
        before = self._exchange_now()
        self.service_ = self.sim.service()
        self._note_start(before)

    @precondition(lambda self: bool(self.crash_plans))
    @rule(data=st.data())
    def resume_plan(self, data: st.DataObject) -> None:
        """A plan whose process died asked again: what may have left is not sent again.

        (Drawn from every plan a dying process ran, whether or not it died before the
        end, so what hypothesis draws never depends on the run: a finished one replays.)
        """
        plan_id = data.draw(st.sampled_from(sorted(self.crash_plans)))
        before = {o.local_id for o in self.service.store.orders_for_plan(plan_id)}
        result = self.service.execute_plan(self.crash_plans[plan_id])
        if result.replayed:
            assert {o.local_id for o in result.orders} <= before
        self._count("resumed")

    @rule(plan_id=plans)
    def replay_plan(self, plan_id: str) -> None:
        """A plan executed again (same plan id) places nothing new."""
        before = len(self.sim.private_calls("AddOrder"))
        result = self.service.execute_plan(self.known_plans[plan_id])
        if plan_id in self.lost_plans:
            return  # its database was lost: it runs again, netted against what was adopted
        if plan_id in self.refused_plans:
            if self.service.get_execution_as_recorded(plan_id) is not None:
                self.refused_plans.discard(plan_id)  # this first run went through
            return
        assert result.replayed
        assert len(self.sim.private_calls("AddOrder")) == before
        self._count("replays")

    @precondition(lambda self: bool(self.known_plans or self.crash_plans))
    @rule(pick=st.integers(0, 10**6))
    def cancel_order(self, pick: int) -> None:
        """Cancel one local order (any status: a terminal one is returned as it is)."""
        local = self.service.store.recent_orders(ALL_ORDERS)
        if not local:
            return
        order = local[pick % len(local)]
        try:
            self.service.cancel_order(order.local_id)
        except (CancelFailedError, KrakenAPIError) as error:
            self._count(f"cancel_error:{type(error).__name__}")

    @precondition(lambda self: bool(self.known_plans or self.crash_plans))
    @rule()
    def cancel_all(self) -> None:
        try:
            self.service.cancel_all()
        except (CancelFailedError, KrakenAPIError) as error:
            self._count(f"cancel_all_error:{type(error).__name__}")

    @rule(seconds=st.sampled_from((1, 5, 30, 120, 600, 1800)))
    def let_time_pass(self, seconds: int) -> None:
        self.sim.exchange.advance_to(self.sim.clock.now() + timedelta(seconds=seconds))

    @rule(steps=st.integers(1, 20), drift_bps=st.integers(-30, 30))
    def work_the_book(self, steps: int, drift_bps: int) -> None:
        """Time passes in 10 s steps, the service ticking at each (a maker-first router
        amends, reposts and crosses) while the market drifts."""
        pair = PAIRS[steps % len(PAIRS)]
        exchange = self.sim.exchange
        for _ in range(steps):
            touch = exchange.touch(pair)
            mid = (touch.bid + touch.ask) / 2
            exchange.set_price(pair, mid * (1 + Decimal(drift_bps) / 10_000))
            exchange.advance_to(self.sim.clock.now() + timedelta(seconds=10))
            try:
                self.service.tick()
            except KrakenAPIError as error:
                self._count(f"tick_error:{type(error).__name__}")
        self._count("book_steps", steps)
        stats = self.service.routing_stats
        if stats is not None:
            self._count("routing_amends", stats.amends - self.amends_seen)
            self.amends_seen = stats.amends

    @rule(pair=st.sampled_from(PAIRS), bps=st.integers(-400, 400), unpin=st.booleans())
    def move_price(self, pair: str, bps: int, unpin: bool) -> None:
        exchange = self.sim.exchange
        if unpin:
            exchange.set_price(pair, None)
            return
        touch = exchange.touch(pair)
        mid = (touch.bid + touch.ask) / 2
        exchange.set_price(pair, mid * (1 + Decimal(bps) / 10_000))

    @rule(faults=fault_plans)
    def switch_faults(self, faults: str | FaultPlan) -> None:
        self.sim.exchange.set_faults(faults)

    @rule(probability=st.sampled_from((0.0, 0.0, 0.1, 0.3, 0.7)))
    def lose_add_order_answers(self, probability: float) -> None:
        """The client loses AddOrder answers (on top of any fault the exchange injects)."""
        self.sim.loss.probability["AddOrder"] = probability

    @rule(clean=st.booleans())
    def restart(self, clean: bool) -> None:
        """A new process on the same database; ``clean=False`` abandons the old one (a crash)."""
        if clean:
            self.service.close()
        before = self._exchange_now()
        self.service_ = self.sim.service()
        self._note_start(before)
        self._count("restarts")

    def _note_start(self, before: float) -> None:
        """A live start reconciles fully: once one succeeds, every order of ours is known."""
        started = self.service.last_reconcile
        if started is not None and started.ok and not self._hidden_orders(before):
            self._clear_adoption_debt(before)

    def _clear_adoption_debt(self, began: float) -> None:
        self.awaiting_adoption = False
        self.adoption_cleared = f"{began:.3f} (step {self.steps})"

    def _exchange_now(self) -> float:
        return self.sim.clock.now().timestamp()

    def _hidden_orders(self, since: float) -> bool:
        """Some order of ours was still hidden from the exchange's listings (its listing
        lag) at ``since``, when the pass that just succeeded began: the pass may have read
        OpenOrders before it surfaced (retries and delays move the clock on during a pass),
        so it cannot have adopted it and adoption is still owed. Judged by the time at the
        pass's end instead, a window that closed mid-pass cleared the debt too early."""
        return any(o.hidden_until > since for o in self.sim.exchange_orders())

    @rule()
    def reconcile(self) -> None:
        before = self._exchange_now()
        if self.service.refresh_from_exchange().ok and not self._hidden_orders(before):
            self._clear_adoption_debt(before)

    # ------------------------------------------------------------ many callers at once

    @rule(
        batch=st.lists(actions(), min_size=2, max_size=8),
        callers=st.lists(st.sampled_from(CALLER_KINDS), min_size=1, max_size=3),
        picks=st.lists(st.integers(0, 10**6), min_size=3, max_size=3),
    )
    def concurrent_callers(
        self, batch: list[RiskAdjustedAction], callers: list[str], picks: list[int]
    ) -> None:
        """A strategy engine's threads: one executes a plan while others cancel one order,
        cancel all, or reconcile, on the same service."""
        plan_id = f"plan-{next(self.plan_numbers)}"
        plan = ExecutionPlan(plan_id=plan_id, created_at=self.sim.clock.now(), actions=tuple(batch))
        self.known_plans[plan_id] = plan
        self.concurrent_plans.add(plan_id)
        service = self.service
        calls: list[Callable[[], object]] = [lambda: service.execute_plan(plan)]
        calls += [
            self._caller(kind, service, pick) for kind, pick in zip(callers, picks, strict=False)
        ]
        self._run_together(calls)
        self._count("concurrent_steps")
        self._count("plans")

    @rule(
        batch=st.lists(actions(), min_size=1, max_size=6),
        kind=st.sampled_from(SECOND_PROCESS_KINDS),
        pick=st.integers(0, 10**6),
    )
    def second_process(self, batch: list[RiskAdjustedAction], kind: str, pick: int) -> None:
        """While the bot executes a plan, a second process on the same key and database runs
        `krakked reconcile`, `cancel ID`, `cancel --all` (observers), or a paper `run-once`
        (its own database, the same key and nonce file)."""
        plan_id = f"plan-{next(self.plan_numbers)}"
        plan = ExecutionPlan(plan_id=plan_id, created_at=self.sim.clock.now(), actions=tuple(batch))
        self.known_plans[plan_id] = plan
        self.concurrent_plans.add(plan_id)
        bot = self.service
        other = self._second_process(kind)
        try:
            self._run_together([lambda: bot.execute_plan(plan), self._caller(kind, other, pick)])
        finally:
            other.close()
        self._count("second_process_runs")
        self._count("plans")

    def _second_process(self, kind: str) -> ExecutionService:
        if kind != "run_once":
            return self.sim.service(keep_previous=True, observer=True)
        paper = replace(
            self.sim.config,
            execution=ExecutionConfig(mode=ExecutionMode.PAPER),
            storage=StorageConfig(path=str(self.tmp / f"paper-{self.steps}.db")),
        )
        other = ExecutionService.from_config(
            paper,
            transport=self.sim.transport_for_next(),
            clock=self.sim.host_clock(),
            background_scheduler=False,
        )
        other.initialize()
        return other

    def _caller(self, kind: str, service: ExecutionService, pick: int) -> Callable[[], object]:
        def cancel_one() -> object:
            local = service.store.recent_orders(50)
            return service.cancel_order(local[pick % len(local)].local_id) if local else None

        def run_once() -> object:
            unit = UNIT["XBTUSD"]
            paper_plan = ExecutionPlan(
                plan_id=f"paper-{pick}-{self.steps}",
                created_at=self.sim.clock.now(),
                actions=(
                    RiskAdjustedAction(
                        pair="XBTUSD",
                        strategy_id="cron",
                        action_type=ActionType.INCREASE,
                        current_base_size=unit,
                        target_base_size=2 * unit,
                        blocked=False,
                        block_reasons=(),
                        userref=None,
                    ),
                ),
            )
            return service.execute_plan(paper_plan)

        chosen: dict[str, Callable[[], object]] = {
            "cancel_one": cancel_one,
            "cancel_all": service.cancel_all,
            "reconcile": service.refresh_from_exchange,
            "run_once": run_once,
        }
        return chosen[kind]

    def _run_together(self, calls: list[Callable[[], object]]) -> None:
        """Run ``calls`` in threads at once; exchange trouble is expected, anything else fails."""
        errors: list[BaseException] = []

        def guarded(call: Callable[[], object]) -> None:
            try:
                call()
            except (CancelFailedError, KrakenAPIError) as error:
                self._count(f"concurrent_error:{type(error).__name__}")
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=guarded, args=(call,)) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not [t for t in threads if t.is_alive()], "a caller hung"
        if errors:
            raise errors[0]

    # ------------------------------------------------------------ the host and its disk

    @rule(offset=st.sampled_from(CLOCK_OFFSETS))
    def step_host_clock(self, offset: float) -> None:
        """The host's clock jumps (an NTP step, a VM resumed) between two measurements of
        the offset: whatever the service does next happens right after the step."""
        self.sim.host_offset = offset
        self.offsets.add(offset)

    @rule()
    def lose_database(self) -> None:
        """The database is lost (a disk, a bad restore): a new process starts empty and
        adopts what the exchange holds of ours; nothing may be bought twice meanwhile."""
        for service in self.sim.services:
            service.abandon()
        for suffix in ("", "-wal", "-shm"):
            path = self.sim.db_path.with_name(self.sim.db_path.name + suffix)
            path.unlink(missing_ok=True)
        self.lost_plans.update(self.known_plans)
        self.lost_plans.update(self.crash_plans)
        self.database_lost = True
        before = self._exchange_now()
        self.service_ = self.sim.service()
        started = self.service.last_reconcile  # the full pass of a live start
        self.awaiting_adoption = True
        if started is not None and started.ok and not self._hidden_orders(before):
            self._clear_adoption_debt(before)
        self._count("database_losses")

    # ------------------------------------------------------------ invariants

    @invariant()
    def promises_hold(self) -> None:
        if self.stack is None or self.service_ is None:
            return
        self.steps += 1
        self._count("steps")
        self._fail_on(self._step_violations(), f"after step {self.steps}")

    def _step_violations(self) -> list[Violation]:
        """`step_violations`, memory included. The stream folds in its own thread: the
        check reads memory, then the database, with the stream held still in between
        (what it queued meanwhile waits)."""
        stream = self.service.stream
        with stream.consumer.held() if stream is not None else contextlib.nullcontext():
            memory = [
                *self.service.get_open_orders(include_in_flight=True),
                *self.service.get_unknown_orders(),
            ]
            return step_violations(
                self.service.store,
                self.sim.exchange,
                self.sim.key,
                memory_live=memory,
                allow_adopted=self.database_lost,
                awaiting_adoption=self.awaiting_adoption,
            )

    # ------------------------------------------------------------ the end

    def _settle(self) -> None:
        """Faults off, time past every hiding window and deadline, reconcile until clean."""
        stack = self.sim
        stack.exchange.set_faults("none")
        stack.loss.probability.clear()
        stack.exchange.advance_to(stack.clock.now() + timedelta(seconds=SETTLE_SECONDS))
        report = None
        for _ in range(10):
            report = self.service.refresh_from_exchange()
            if report.ok and report.still_unknown == 0:
                self.awaiting_adoption = False
                return
            stack.exchange.advance_to(stack.clock.now() + timedelta(seconds=60))
        raise AssertionError(f"reconciliation never came clean: {report}")

    def teardown(self) -> None:
        try:
            if self.stack is None or self.service_ is None:
                return
            if self.figures is not None:
                self.figures.add("scenarios")
                self.figures.add("clock_offsets_tried", len(self.offsets))
                for setting, value in self.quirks.items():
                    self.figures.add(tally_key(setting, value))
                self.figures.add_faults(self.sim.exchange.fault_counts())
                self.figures.add_faults({"client_lost_response": self.sim.loss.lost})
                if self.socket is not None:
                    self.figures.add_faults(
                        {f"ws_{k}": n for k, n in self.socket.faults_injected.items()}
                    )
                self.figures.add("exchange_orders", len(self.sim.exchange_orders()))
            self._settle()  # leaves awaiting_adoption False
            self._fail_on(self._step_violations(), "after settling")
            self._fail_on(
                settled_violations(
                    self.service.store,
                    self.sim.exchange,
                    self.sim.key,
                    userrefs={STRATEGY_USERREF},
                ),
                "after settling",
            )
        finally:
            if self.stack is not None:
                self.stack.close()
            if self.socket is not None:
                self.socket.close()
            shutil.rmtree(self.tmp, ignore_errors=True)


def run_campaign(figures: Figures, *, max_examples: int, steps: int) -> None:
    """Run the machine under the loaded profile with this campaign's size."""
    ServiceMachine.figures = figures
    try:
        run_state_machine_as_test(
            ServiceMachine,
            settings=settings(
                max_examples=max_examples,
                stateful_step_count=steps,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        ServiceMachine.figures = None


def test_service_keeps_its_promises_under_random_faults_restarts_and_cancels(figures):
    run_campaign(figures, max_examples=60, steps=40)
    assert figures.counts["steps"] > 0  # the machine really ran (its invariants assert inside)


@pytest.mark.slow
def test_chaos_campaign_of_the_service_state_machine(figures):
    run_campaign(figures, max_examples=600, steps=60)
    assert figures.counts["steps"] > 0  # the machine really ran (its invariants assert inside)
