"""Pure: the amend use case, sans I/O: whether an amend may be sent, then its send loop.

**Refusals.** `amend_access` says whether this service may amend at all (an observer never
does; only live mode has orders resting on Kraken); `amend_wire` whether this order may be
amended to the new price and/or size (its pair must be listed, then `routing.check_amend`).
Each failure is the message of the `AmendRefusedError` the service raises (nothing was sent).

**The send loop** is a state machine in the style of h11: `begin` and `advance` return the
next `AmendRun` (the state) and one intent; the shell
(`kraken_bot.execution.shell._amend`) performs the intent and, for `Send` and `ReadBack`,
reports what came of it (`Answered`, `Failed`, `ReadOrder`) with the time it was seen. The
other intents have nothing to report: `Note` (an audit row), `LookingUp` (a warning for the
log) and `Sleep` carry the intent that follows them; `Done` and `Raise` end the loop.

Each attempt is written to the audit trail (``amend_requested``) before AmendOrder is sent,
with the deadline Kraken gets. What follows a failure is `amends.decide_after_amend_error`:

* answered: ``amended`` is noted and the order is read back (Kraken's view of it);
* a refusal that may be moot: the order is read back, and the refusal stands (noted as
  ``amend_rejected``, then raised) only if the order still works without the new values;
* a refusal of the amend itself: noted as ``amend_rejected``, then raised;
* a lost answer: once the deadline plus the margin has passed the order is read back; if it
  shows the amend (or no longer works) that is the end, else the amend is sent again;
* anything else: raised.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.config import ExecutionConfig
>>> from kraken_bot.execution.core.models import OrderStatus, OrderType, Side
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
...     side=Side.BUY, order_type=OrderType.LIMIT, kraken_order_id="OX", userref=None,
...     client_order_id="L1", requested_base_size=Decimal(1),
...     requested_price=Decimal(60000), status=OrderStatus.OPEN, created_at=t, updated_at=t)
>>> wire = AmendWire(price=Decimal(60010), size=None, price_text="60010.0", size_text=None)
>>> run, intent = begin(order, wire, post_only=False, config=ExecutionConfig(), now=t)
>>> intent.event, intent.detail, intent.then.deadline == run.deadline
('amend_requested', 'price 60010.0, size - (attempt 1)', True)
>>> run, intent = advance(run, Answered(amend_id="A1"), now=t)
>>> intent.event, intent.detail, type(intent.then).__name__
('amended', 'A1', 'ReadBack')
>>> run, intent = advance(run, ReadOrder(order=order), now=t)
>>> intent == Done(order=order)
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from returns.result import Failure, Result, Success

from kraken_bot._enums import ExecutionMode
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.amends import (
    AmendFailed,
    AmendRejected,
    ReadBackRefusal,
    amend_settled,
    decide_after_amend_error,
)
from kraken_bot.execution.core.models import LocalOrder
from kraken_bot.execution.core.routing import AmendWire, check_amend
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.pairs import PairMetadata

__all__ = [
    "AmendRun",
    "Answered",
    "Done",
    "Failed",
    "Intent",
    "LookingUp",
    "Note",
    "Outcome",
    "Raise",
    "ReadBack",
    "ReadOrder",
    "Send",
    "Sleep",
    "Step",
    "advance",
    "amend_access",
    "amend_wire",
    "begin",
]

# ---------------------------------------------------------------- refusals


def amend_access(
    *, observer: bool, changes_exchange: bool, mode: ExecutionMode
) -> Result[None, str]:
    """Whether this service may amend at all (before anything about the order is read).

    Args:
        observer: the service only reads, cancels and reconciles.
        changes_exchange: the service reaches Kraken and changes it (live mode, with a sender).
        mode: the execution mode (for the message).

    >>> amend_access(observer=False, changes_exchange=False, mode=ExecutionMode.PAPER).failure()
    'amending needs live mode (paper: no order rests on Kraken)'
    """
    if observer:
        return Failure("this service only reads, cancels and reconciles (observer)")
    if not changes_exchange:
        return Failure(f"amending needs live mode ({mode.value}: no order rests on Kraken)")
    return Success(None)


def amend_wire(
    order: LocalOrder, *, pair: PairMetadata | None, price: Decimal | None, size: Decimal | None
) -> Result[AmendWire, str]:
    """The checked amend of ``order`` to ``price`` and/or ``size`` (see `routing.check_amend`).

    Args:
        order: the order to amend, as the service has it.
        pair: the order's pair as listed by Kraken (None: not listed).
        price, size: the new limit price and base size (None: unchanged).
    """
    if pair is None:
        return Failure(f"order {order.local_id}: pair {order.pair} is not listed")
    return check_amend(
        order,
        price=price,
        size=size,
        tick_size=pair.tick_size,
        pair_decimals=pair.pair_decimals,
        lot_decimals=pair.lot_decimals,
    ).alt(lambda reason: f"order {order.local_id}: {reason}")


# ---------------------------------------------------------------- intents


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """Write the audit row ``event`` (``detail``, at ``at``) for ``order``; then ``then``."""

    order: LocalOrder
    event: str
    detail: str
    at: datetime
    then: Intent


@dataclass(frozen=True, slots=True, kw_only=True)
class LookingUp:
    """Log that the answer to the amend of ``order`` was lost (``error``); then ``then``."""

    order: LocalOrder
    error: KrakenAPIError
    then: Sleep | ReadBack


@dataclass(frozen=True, slots=True, kw_only=True)
class Sleep:
    """Wait ``seconds`` (after the deadline Kraken will not apply the amend); then ``then``."""

    seconds: float
    then: ReadBack


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """Send AmendOrder for ``order``; report `Answered` or `Failed`."""

    order: LocalOrder
    wire: AmendWire
    post_only: bool
    deadline: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadBack:
    """Read ``order`` back from Kraken; report `ReadOrder`."""

    order: LocalOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class Done:
    """The amend is over: return ``order`` (as Kraken now reports it)."""

    order: LocalOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class Raise:
    """The amend failed: raise ``error``."""

    error: KrakenAPIError


Intent = Note | LookingUp | Sleep | Send | ReadBack | Done | Raise
"""What the shell does next."""

# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered:
    """AmendOrder succeeded: the id Kraken gave this amend."""

    amend_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """AmendOrder failed with ``error``."""

    error: KrakenAPIError


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOrder:
    """The order as read back from Kraken."""

    order: LocalOrder


Outcome = Answered | Failed | ReadOrder
"""What came of a `Send` or a `ReadBack`."""

# ---------------------------------------------------------------- the state machine


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendRun:
    """One amend in progress.

    Attributes:
        order: the order, as last read.
        wire: the amend's new values.
        post_only: the amend must not take liquidity.
        config: ``max_retries``, ``order_deadline_seconds``, ``lookup_margin_seconds``.
        attempt: AmendOrder calls made, the one being made included (0 before the first).
        deadline: the ``deadline`` of the latest AmendOrder.
        answered: Kraken answered the latest AmendOrder (amended it, or refused in a way
            that may be moot), so the next read back is the last one.
        refused: that refusal; it stands unless the order read back settles the amend.
    """

    order: LocalOrder
    wire: AmendWire
    post_only: bool
    config: ExecutionConfig
    attempt: int
    deadline: datetime
    answered: bool = False
    refused: KrakenAPIError | None = None


Step = tuple[AmendRun, Intent]
"""The state after an outcome, and what to do next."""


def begin(
    order: LocalOrder,
    wire: AmendWire,
    *,
    post_only: bool,
    config: ExecutionConfig,
    now: datetime,
) -> Step:
    """The first attempt: note ``amend_requested``, then send (``now``: the clock's time)."""
    run = AmendRun(
        order=order, wire=wire, post_only=post_only, config=config, attempt=0, deadline=now
    )
    return _next_attempt(run, now)


def advance(run: AmendRun, outcome: Outcome, *, now: datetime) -> Step:
    """What follows ``outcome`` of the latest `Send` or `ReadBack` (seen at ``now``)."""
    if isinstance(outcome, Answered):
        answered = replace(run, answered=True)
        read = ReadBack(order=run.order)
        return answered, _note(answered, "amended", outcome.amend_id, now, read)
    if isinstance(outcome, Failed):
        return _after_error(run, outcome.error, now)
    return _after_read_back(replace(run, order=outcome.order), now)


def _next_attempt(run: AmendRun, now: datetime) -> Step:
    """Note ``amend_requested`` (written ahead), then send with a deadline from ``now``."""
    wire = run.wire
    deadline = now + timedelta(seconds=run.config.order_deadline_seconds)
    sending = replace(run, attempt=run.attempt + 1, deadline=deadline)
    send = Send(order=run.order, wire=wire, post_only=run.post_only, deadline=deadline)
    wanted = f"price {wire.price_text or '-'}, size {wire.size_text or '-'}"
    detail = f"{wanted} (attempt {sending.attempt})"
    return sending, _note(sending, "amend_requested", detail, now, send)


def _note(run: AmendRun, event: str, detail: str, now: datetime, then: Intent) -> Note:
    return Note(order=run.order, event=event, detail=detail, at=now, then=then)


def _after_error(run: AmendRun, error: KrakenAPIError, now: datetime) -> Step:
    decision = decide_after_amend_error(
        error, attempt=run.attempt, config=run.config, deadline=run.deadline
    )
    if isinstance(decision, ReadBackRefusal):
        # already so, or closed meanwhile: read it back before the refusal stands
        return replace(run, answered=True, refused=error), ReadBack(order=run.order)
    if isinstance(decision, AmendRejected):
        return run, _note(run, "amend_rejected", str(error), now, Raise(error=error))
    if isinstance(decision, AmendFailed):
        return run, Raise(error=error)
    wait = (decision.not_before - now).total_seconds()  # LookUpAmend
    read = ReadBack(order=run.order)
    then = Sleep(seconds=wait, then=read) if wait > 0 else read
    return run, LookingUp(order=run.order, error=error, then=then)


def _after_read_back(run: AmendRun, now: datetime) -> Step:
    settled = amend_settled(run.order, run.wire)
    if not run.answered:
        # a lost answer (LookUpAmend leaves a retry): done if settled, else send again
        if settled:
            return run, Done(order=run.order)
        return _next_attempt(run, now)
    if run.refused is not None and not settled:
        # neither already so nor closed: Kraken refused to amend a working order
        refused = run.refused
        return run, _note(run, "amend_rejected", str(refused), now, Raise(error=refused))
    return run, Done(order=run.order)
