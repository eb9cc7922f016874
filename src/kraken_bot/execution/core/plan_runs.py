"""Pure: the decisions of running one plan, around the planner: resume, prices, send order, result.

`kraken_bot.execution.shell._plan_run.PlanRunner` (the shell) gathers, and asks here:

* `resume_point`: a run cut short (orders stored, no result): which of its
  orders stand (they may have reached the exchange), which actions are done;
  `unsent_to_give_up`: orders still pending that no sender will send (this plan's or
  any other's), given up first so that the planner does not count them as working;
* `price_pairs`: which pairs to read prices for (each action's pair, and the
  USD pair of a non-USD quote, to value it);
* `send_groups`: the orders Kraken could not tell apart (same pair and
  userref) go in one group, sent one at a time; the groups run side by side;
* `identical_in_flight` / `twin_blocked`: an unacknowledged userref order that
  Kraken could not tell apart from the one about to go blocks it;
* `plan_result` / `refused_result`: the plan's summary;
* `admission`: whether a plan runs, replays its stored result, is refused for now
  (the exchange's orders are unknown), or conflicts (executed before in another mode);
* `ids_needed` / `plan_records`: what the planner's decisions write ahead (pending
  orders to send, guardrail orders never sent, skips to log), with the local ids
  the shell drew for them.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> refused_result("p1", now=t, reason="no", mode=ExecutionMode.PAPER).errors
('no',)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from returns.pipeline import is_successful
from returns.result import Result

from kraken_bot.execution.core._lifecycle_orders import guardrail_order, new_order
from kraken_bot.execution.core.models import (
    ActionSkip,
    ExecutionMode,
    ExecutionResult,
    GaveUp,
    LocalOrder,
    OrderIntent,
    OrderStatus,
)
from kraken_bot.execution.core.reconciliation import NEVER_SENT_MESSAGE, provably_unsent
from kraken_bot.kraken.pairs import PairUniverse
from kraken_bot.strategy.plan import ExecutionPlan

__all__ = [
    "Conflict",
    "PlanRecords",
    "Refuse",
    "Replay",
    "Run",
    "TwinKey",
    "admission",
    "identical_in_flight",
    "ids_needed",
    "never_sent",
    "plan_records",
    "plan_result",
    "price_pairs",
    "refused_result",
    "replay_conflict",
    "resume_point",
    "send_groups",
    "twin_blocked",
    "unsent_to_give_up",
    "userref_twins",
]

TwinKey = tuple[str, int]
"""(pair, userref): what Kraken tells userref orders apart by, besides their fingerprint."""

_FAILED = frozenset({OrderStatus.REJECTED, OrderStatus.ERROR})


def never_sent(order: LocalOrder, live_claims: frozenset[str] = frozenset()) -> bool:
    """A stored order of a resumed plan that no AddOrder left for, nor will (`provably_unsent`),
    still pending or given up: its actions are planned again. (One withdrawn before its
    send is done with: it is not.)"""
    return provably_unsent(order, live_claims) and order.status in {
        OrderStatus.ERROR,
        OrderStatus.PENDING,
    }


def unsent_to_give_up(
    orders: Sequence[LocalOrder], live_claims: frozenset[str], *, now: datetime
) -> list[tuple[str, GaveUp]]:
    """(local id, event) for the ``orders`` still pending that never left and never will
    (`never_sent`: no attempt, no live claim): each is given up as never sent before a
    plan is planned (and when a plan's sends stop on an error).

    Left pending, such an order counts as working: the planner sees it cover its own
    action's target and sends nothing, while nothing will ever send it (its sender
    stopped: the run was cut short, in this process or one that died). The ledger
    refuses the event if a send was recorded meanwhile; the order then stands.
    """
    return [
        (order.local_id, GaveUp(at=now, message=NEVER_SENT_MESSAGE, never_sent=True))
        for order in orders
        if order.status is OrderStatus.PENDING and never_sent(order, live_claims)
    ]


def resume_point(
    stored: Sequence[LocalOrder], live_claims: frozenset[str]
) -> tuple[list[LocalOrder], frozenset[int]]:
    """Where a plan cut short resumes: its stored orders that stand (everything but those
    provably never sent), and the action indices they cover (not planned again)."""
    earlier = [o for o in stored if not never_sent(o, live_claims)]
    done = frozenset(o.action_index for o in earlier if o.action_index is not None)
    return earlier, done


def price_pairs(plan: ExecutionPlan, universe: PairUniverse) -> list[str]:
    """The pairs (altnames, sorted) whose prices the plan needs: each listed action's pair,
    and for a pair not quoted in USD, its quote asset's USD pair when one is listed."""
    wanted: set[str] = set()
    for action in plan.actions:
        pair = universe.resolve(action.pair).value_or(None)
        if pair is None:
            continue
        wanted.add(pair.altname)
        if not pair.quote_is_usd:
            usd = universe.usd_pair_for(pair.quote)
            if usd is not None:
                wanted.add(usd.altname)
    return sorted(wanted)


def send_groups(orders: Iterable[LocalOrder]) -> list[list[LocalOrder]]:
    """Orders grouped for sending, in first-seen order: orders with a userref by (pair,
    userref), each in a group sent one at a time; every other order alone."""
    groups: dict[TwinKey | str, list[LocalOrder]] = {}
    for order in orders:
        key: TwinKey | str = (
            (order.pair, order.userref) if order.userref is not None else order.local_id
        )
        groups.setdefault(key, []).append(order)
    return list(groups.values())


def userref_twins(tracked: Iterable[LocalOrder]) -> dict[TwinKey, list[str]]:
    """Local ids of the tracked orders carrying a userref, by (pair, userref)."""
    found: dict[TwinKey, list[str]] = {}
    for order in tracked:
        if order.userref is not None:
            found.setdefault((order.pair, order.userref), []).append(order.local_id)
    return found


def _indistinguishable(order: LocalOrder, other: LocalOrder) -> bool:
    return (
        (other.pair, other.userref, other.side, other.order_type)
        == (order.pair, order.userref, order.side, order.order_type)
        and other.requested_base_size == order.requested_base_size
        and other.requested_price == order.requested_price
    )


def identical_in_flight(order: LocalOrder, candidates: Iterable[LocalOrder]) -> LocalOrder | None:
    """The first of ``candidates`` that is another live userref order, sent without an
    answer yet, that Kraken could not tell apart from ``order`` (same pair, userref,
    side, type, volume and price). None for an order without a userref."""
    if order.userref is None:
        return None
    for other in candidates:
        if (
            other.is_live
            and other.local_id != order.local_id
            and other.kraken_order_id is None
            and other.attempts > 0
            and _indistinguishable(order, other)
        ):
            return other
    return None


def twin_blocked(blocker: LocalOrder, *, now: datetime) -> GaveUp:
    """The event closing an order not sent because ``blocker`` is its unresolved twin."""
    return GaveUp(
        at=now,
        message=f"not sent: identical order {blocker.local_id} (same pair,"
        " userref, side, volume and price) is still unresolved; run reconcile",
        never_sent=True,
    )


def plan_result(
    plan_id: str,
    *,
    started: datetime,
    completed: datetime,
    orders: Iterable[LocalOrder],
    skipped: tuple[ActionSkip, ...],
    plan_errors: Sequence[str],
    mode: ExecutionMode,
) -> ExecutionResult:
    """The plan's summary: orders in action order (then by creation), a readable error
    for each order that ended ``rejected`` or ``error``, success when there is none."""
    final = sorted(
        orders,
        key=lambda o: (o.action_index if o.action_index is not None else -1, o.created_at),
    )
    errors = [*plan_errors]
    errors += [
        f"{o.pair} {o.side.value} {o.requested_base_size}: {o.status.value}: {o.last_error}"
        for o in final
        if o.status in _FAILED
    ]
    return ExecutionResult(
        plan_id=plan_id,
        started_at=started,
        completed_at=completed,
        success=not errors,
        orders=tuple(final),
        errors=tuple(errors),
        mode=mode,
        skipped=skipped,
    )


def refused_result(
    plan_id: str, *, now: datetime, reason: str, mode: ExecutionMode
) -> ExecutionResult:
    """The summary of a plan not run at all (nothing written, nothing sent)."""
    return ExecutionResult(
        plan_id=plan_id,
        started_at=now,
        completed_at=now,
        success=False,
        orders=(),
        errors=(reason,),
        mode=mode,
    )


@dataclass(frozen=True, slots=True)
class Run:
    """Plan, write ahead and send the plan."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The plan ran before: send nothing, answer with its stored result as it stands now."""

    previous: ExecutionResult


@dataclass(frozen=True, slots=True)
class Refuse:
    """Not now (nothing written, nothing stored: the same plan may run later)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """The plan id ran before in another mode: refuse it as invalid."""

    message: str


UNKNOWN_EXCHANGE_STATE = (
    "the exchange's orders could not be read since this service started"
    " (reconciliation failed): nothing was sent, so nothing can be bought"
    " twice; the next plan tries again"
)


def admission(
    previous: ExecutionResult | None, *, state_known: bool, mode: ExecutionMode, database: str
) -> Run | Replay | Refuse | Conflict:
    """What `ExecutionService.execute_plan` does with a plan whose stored result is
    ``previous`` (None: never run here).

    Args:
        state_known: the exchange's orders were read since the service started (a live
            service adopts and nets what the database lost before planning anything).
        mode: this service's mode (a result belongs to the mode that made it).
        database: the database file, for the conflict's message.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> paper = refused_result("p1", now=t, reason="", mode=ExecutionMode.PAPER)
    >>> admission(None, state_known=False, mode=ExecutionMode.LIVE, database="x.db")
    ... # doctest: +ELLIPSIS
    Refuse(reason="the exchange's orders could not be read ...")
    >>> admission(paper, state_known=True, mode=ExecutionMode.PAPER, database="x.db") == Replay(
    ...     paper)
    True
    """
    if previous is None:
        return Run() if state_known else Refuse(UNKNOWN_EXCHANGE_STATE)
    conflict = replay_conflict(previous, mode=mode, database=database)
    return Replay(previous) if conflict is None else Conflict(conflict)


def replay_conflict(previous: ExecutionResult, *, mode: ExecutionMode, database: str) -> str | None:
    """Why a plan executed before cannot be replayed in ``mode`` (None: it can).

    A result belongs to the mode that made it: a paper result is no answer to a live plan.
    """
    if previous.mode is mode:
        return None
    return (
        f"plan {previous.plan_id!r} was executed in {previous.mode.value} mode in"
        f" {database}; a {mode.value} result cannot reuse"
        " it: use the database of that mode, or a new plan id"
    )


Decision = Result[OrderIntent, ActionSkip]
"""What the planner made of one action: an order to send, or why not."""


def _writes_an_order(decision: Decision) -> bool:
    return is_successful(decision) or decision.failure().is_error


def ids_needed(decisions: Sequence[Decision], done: frozenset[int]) -> int:
    """How many local ids `plan_records` needs: one per order it writes (an intent, or a
    guardrail refusal), for the actions not ``done`` already."""
    return sum(1 for index, d in enumerate(decisions) if index not in done and _writes_an_order(d))


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRecords:
    """What a plan writes ahead, in the order of its actions.

    Attributes:
        pending: new ``pending`` orders, to store in one transaction and then send.
        guarded: guardrail orders (status ``error``, never sent) with their message.
        skipped: benign skips (nothing written) with the index of their action.
    """

    pending: tuple[LocalOrder, ...]
    guarded: tuple[tuple[LocalOrder, str], ...]
    skipped: tuple[tuple[int, ActionSkip], ...]


def plan_records(
    plan_id: str,
    decisions: Sequence[Decision],
    *,
    done: frozenset[int],
    ids: Sequence[str],
    now: datetime,
    owner: str | None,
) -> PlanRecords:
    """The records of the planner's ``decisions`` for the actions not ``done`` (a resumed
    run's), each order under the next of ``ids`` (`ids_needed` of them, drawn by the
    shell in action order); pending orders are claimed by ``owner``, their sender.

    >>> from datetime import UTC
    >>> from returns.result import Failure
    >>> from kraken_bot.execution.core.models import SkipReason
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> blocked = ActionSkip(action_index=1, pair="XBTUSD", strategy_id="s",
    ...     reason=SkipReason.PAIR_NOT_ONLINE, message="XBTUSD is halted")
    >>> decisions = [Failure(blocked), Failure(blocked)]
    >>> ids_needed(decisions, done=frozenset({0}))
    1
    >>> records = plan_records("p", decisions, done=frozenset({0}), ids=["L7"], now=t,
    ...     owner="svc")
    >>> [(o.local_id, o.status.value, why) for o, why in records.guarded]
    [('L7', 'error', 'XBTUSD is halted')]
    """
    fresh = iter(ids)
    pending: list[LocalOrder] = []
    guarded: list[tuple[LocalOrder, str]] = []
    skipped: list[tuple[int, ActionSkip]] = []
    for index, decision in enumerate(decisions):
        if index in done:
            continue
        if is_successful(decision):
            intent = decision.unwrap()
            pending.append(new_order(intent, local_id=next(fresh), now=now, claimed_by=owner))
            continue
        skip = decision.failure()
        if skip.is_error:
            order = guardrail_order(skip, plan_id=plan_id, local_id=next(fresh), now=now)
            guarded.append((order, skip.message))
        else:
            skipped.append((index, skip))
    return PlanRecords(pending=tuple(pending), guarded=tuple(guarded), skipped=tuple(skipped))
