"""Shell: works ``maker_first`` orders while the service runs (decisions: `routing`).

Every ``poll`` seconds (from the service's `tick`), for the maker-first orders it watches:

* a working order: read the touch (Depth's best bid and ask, one call a pair), decide
  (`decide_chase`) and act: amend it to the new touch (post-only), or, once urgent, cancel
  it and send what remains as an IOC limit at the cap. An amend Kraken refuses as crossing
  is tried again at the next look; one it refuses for any other reason falls back to cancel
  and replace (what remains, posted anew at the touch);
* an order Kraken canceled as crossing (``Post only order``) with volume left: post it again
  at the touch (`decide_repost`).

The cap is always the one of the chain's first order (the mid when it arrived): a repost,
replacement or cross is held to it, however the market moved since. New orders come from
each plan's result (`watch`) and from the ledger's working orders, so a restarted service
picks its orders up again. A cross, repost or replacement is a plan of its own
(``{plan}:cross:{local_id}``, ``{plan}:repost:{local_id}``, ``{plan}:replace:{local_id}``),
so it is sent once even if two ticks, or two processes, decide it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol

from kraken_bot.clock import Clock
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.maker_first import (
    Chase,
    Forget,
    Settle,
    chase_settings,
    crossing,
    held_to_cap,
    is_maker_first,
    left_to_send,
    look_due,
    next_look,
    poll_seconds,
    replace_after_refusal,
    room_to_amend,
    triage,
)
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder
from kraken_bot.execution.core.routing import (
    Amend,
    ChaseSettings,
    Cross,
    Touch,
    decide_chase,
    follow_up_parent,
    follow_up_plan,
)
from kraken_bot.execution.exceptions import AmendRefusedError, ExecutionError
from kraken_bot.kraken.errors import OrderRejectedError
from kraken_bot.kraken.pairs import PairMetadata
from kraken_bot.kraken.prices import PriceQuote
from kraken_bot.strategy.plan import ExecutionPlan

log = logging.getLogger("kraken_bot.execution.core.routing")

_MAX_CHAIN: Final = 50
"""Follow-ups followed back to their first order at most (a chain is a handful long)."""


class RouteOps(Protocol):
    """What the router asks of the service."""

    def plan_running(self) -> bool: ...
    def working_orders(self) -> Sequence[LocalOrder]: ...
    def order(self, local_id: str) -> LocalOrder | None: ...
    def quotes(self, pairs: Sequence[str]) -> dict[str, PriceQuote]: ...
    def pair(self, name: str) -> PairMetadata | None: ...
    def trading_room(self, pair: str) -> tuple[float, float]: ...
    def amend(self, local_id: str, price: Decimal) -> LocalOrder: ...
    def cancel(self, local_id: str) -> LocalOrder: ...
    def run_plan(self, plan: ExecutionPlan, execution: ExecutionConfig) -> ExecutionResult: ...


@dataclass
class RouteStats:
    """What the router did (a replay's comparison reads it)."""

    amends: int = 0
    amend_refusals: int = 0
    crosses: int = 0
    reposts: int = 0
    replacements: int = 0
    checks: int = 0


@dataclass
class MakerFirstRouter:
    """See the module docstring."""

    ops: RouteOps
    clock: Clock
    config: ExecutionConfig
    stats: RouteStats = field(default_factory=RouteStats)
    _watched: dict[str, None] = field(default_factory=dict)
    _last_move: dict[str, datetime] = field(default_factory=dict)
    _next_due: float | None = None
    _busy: threading.Lock = field(default_factory=threading.Lock)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    """Held while `_watched` and `_next_due` change: `watch` comes from the plan's thread
    while a look runs on the supervisor's."""

    @property
    def poll(self) -> float:
        """Seconds between looks at the book."""
        return poll_seconds(self.config.chase_seconds)

    @property
    def settings(self) -> ChaseSettings:
        return chase_settings(self.config)

    def watch(self, orders: Iterable[LocalOrder]) -> None:
        """Start working these orders (the maker-first ones among them)."""
        with self._guard:
            for order in orders:
                if is_maker_first(order):
                    self._watched[order.local_id] = None
            if self._watched and self._next_due is None:
                self._next_due = next_look(
                    watching=True, now=self.clock.monotonic(), poll=self.poll
                )

    def seconds_until_due(self) -> float | None:
        """Seconds until the next look (None: nothing to work)."""
        if self._next_due is None:
            return None
        return max(0.0, self._next_due - self.clock.monotonic())

    def tick(self) -> None:
        """Look at the book and act, when due.

        Not re-entrant: a cross or repost runs a plan, whose own ticks come back here (and
        another thread may tick meanwhile); those return at once. Nothing is done while a
        plan runs: the tick may come from inside it, and a cross needs the plan lock.
        """
        if not look_due(self._next_due, now=self.clock.monotonic()):
            return
        if self.ops.plan_running():
            return  # a plan holds the service (perhaps on this very thread): next tick
        if not self._busy.acquire(blocking=False):
            return
        try:
            self._look()
        finally:
            self._busy.release()

    def _look(self) -> None:
        self.watch(self.ops.working_orders())
        with self._guard:
            watched = list(self._watched)
        orders = [o for o in (self.ops.order(i) for i in watched) if o is not None]
        with self._guard:
            if not orders:  # none of these works any more (orders watched meanwhile stay)
                for local_id in watched:
                    self._watched.pop(local_id, None)
            self._next_due = next_look(
                watching=bool(self._watched), now=self.clock.monotonic(), poll=self.poll
            )
        if not orders:
            return
        self.stats.checks += 1
        try:
            quotes = self.ops.quotes(sorted({o.pair for o in orders}))
        except ExecutionError as error:
            log.warning("maker-first: no prices this time (%s)", error)
            return
        for order in orders:
            quote = quotes.get(order.pair)
            if quote is None:
                continue
            try:
                self._work(order, Touch(bid=quote.bid, ask=quote.ask))
            except ExecutionError as error:
                log.warning("maker-first: order %s: %s", order.local_id, error)

    def _work(self, order: LocalOrder, touch: Touch) -> None:
        meta = self.ops.pair(order.pair)
        step = triage(
            order,
            touch=touch,
            tick=meta.tick_size if meta is not None else None,
            arrival=self._arrival_mid(order),
            max_slippage_bps=self.config.max_slippage_bps,
        )
        if isinstance(step, Forget | Settle):
            self._forget(order.local_id)
        if isinstance(step, Settle) and step.repost is not None:
            self._follow_up(order, "repost", step.repost.size, self.config, cap=step.cap)
            self.stats.reposts += 1
        if isinstance(step, Chase) and meta is not None:
            self._chase(order, touch, meta, step.cap)

    def _chase(self, order: LocalOrder, touch: Touch, meta: PairMetadata, cap: Decimal) -> None:
        now = self.clock.now()
        level, maximum = self.ops.trading_room(meta.rest_symbol)
        settings = self.settings
        decision = decide_chase(
            order,
            touch=touch,
            cap=cap,
            tick=meta.tick_size,
            now=now,
            last_move=self._last_move.get(order.local_id, order.first_sent_at or order.created_at),
            settings=settings,
            amend_room=room_to_amend(level, maximum, settings),
        )
        if isinstance(decision, Amend):
            self._amend(order, decision.price, now, cap)
        elif isinstance(decision, Cross):
            self._cross(order, decision)

    def _arrival_mid(self, order: LocalOrder) -> Decimal | None:
        """The mid when the order's chain began: a repost, replacement or cross continues its
        parent's order, and is held to the same cap (`routing.follow_up_parent`)."""
        first = order
        for _ in range(_MAX_CHAIN):
            parent_id = follow_up_parent(first.plan_id)
            parent = self.ops.order(parent_id) if parent_id is not None else None
            if parent is None:
                break
            first = parent
        return first.reference_price

    def _amend(self, order: LocalOrder, price: Decimal, now: datetime, cap: Decimal) -> None:
        try:
            self.ops.amend(order.local_id, price)
        except (AmendRefusedError, OrderRejectedError) as error:
            self.stats.amend_refusals += 1
            if not replace_after_refusal(error):
                log.info("maker-first: order %s: amend refused: %s", order.local_id, error)
                return
            log.warning(
                "maker-first: order %s: Kraken refused the amend (%s): cancel and replace",
                order.local_id,
                error,
            )
            if self._cancel_then(order, "replace", self.config, cap):
                self.stats.replacements += 1
            return
        self.stats.amends += 1
        self._last_move[order.local_id] = now

    def _cross(self, order: LocalOrder, decision: Cross) -> None:
        if self._cancel_then(order, "cross", crossing(self.config), decision.price):
            self.stats.crosses += 1

    def _cancel_then(
        self, order: LocalOrder, kind: str, execution: ExecutionConfig, cap: Decimal
    ) -> bool:
        """Cancel ``order``, then send what it left as a ``kind`` follow-up held to ``cap``;
        False when nothing was left to send (it filled, or still works)."""
        final = self.ops.cancel(order.local_id)
        self._forget(order.local_id)
        remaining = left_to_send(final)
        if remaining is None:
            return False
        self._follow_up(final, kind, remaining, execution, cap=cap)
        return True

    def _follow_up(
        self,
        order: LocalOrder,
        kind: str,
        size: Decimal,
        execution: ExecutionConfig,
        *,
        cap: Decimal,
    ) -> None:
        quote = self.ops.quotes([order.pair]).get(order.pair)
        held = None
        if quote is not None:
            held = held_to_cap(
                execution,
                side=order.side,
                mid=quote.mid,
                cap=cap,
                max_slippage_bps=self.config.max_slippage_bps,
            )
        if held is None:
            log.info("maker-first: order %s: the market is past the cap", order.local_id)
            return
        plan = follow_up_plan(order, kind, size, self.clock.now())
        result = self.ops.run_plan(plan, held)
        self.watch(result.orders)

    def _forget(self, local_id: str) -> None:
        with self._guard:
            self._watched.pop(local_id, None)
        self._last_move.pop(local_id, None)


__all__ = ["MakerFirstRouter", "RouteOps", "RouteStats"]
