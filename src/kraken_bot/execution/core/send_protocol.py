"""Pure: sending one order, sans I/O: the send loop as a state machine the shell drives.

In the style of h11 (and of `amend_protocol`): `begin` and `advance` return the next
`SendRun` (the state) and one intent. The shell (`kraken_bot.execution.shell._submit`)
performs the intent and, for `Attempt`, `Record`, `Refresh` and `LookUp`, reports what came
of it with the time it was seen. `Log`, `Count` and `Sleep` have nothing to report: they
carry the intent that follows them; `Done` ends the loop.

The loop, for one pending order (what each answer means: `kraken_bot.execution.core.sends`):

1. `Attempt`: in the pair's gate, the shell stamps the AddOrder ``deadline``, writes the
   attempt ahead (``SendAttempted``, accepted only onto the order's current version and only
   as its next attempt) and sends. Not written: nothing was sent; a cancel requested
   meanwhile withdraws the order. Answered: acknowledged (txid), validated (paper), or
   unconfirmed (no txid).
2. An error goes to the retry policy: permanent -> ``rejected``; refused before execution
   -> wait the backoff, read the order again, attempt again; ambiguous -> the order is
   ``submitted`` without a txid, and the loop waits until the AddOrder deadline plus a
   margin has passed (after which Kraken will never execute it).
3. Then, unless the order was settled meanwhile (reconciliation found it, a cancel), it is
   looked up by identity, twice when the first lookup works and finds nothing (new orders
   can be briefly missing from OpenOrders). Found: adopted. Not found: `after_absent_lookup`
   (stay for reconciliation, withdraw, reject, resend or give up). A failed lookup proves
   nothing: the order stays ``submitted``; it is never marked ``error`` while the exchange
   might have it.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.execution.core.models import OrderStatus, OrderType, Side
>>> from kraken_bot.kraken.types import AddOrderAck
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
...     side=Side.BUY, order_type=OrderType.LIMIT, kraken_order_id=None, userref=None,
...     client_order_id="L1", requested_base_size=Decimal(1),
...     requested_price=Decimal(60000), status=OrderStatus.PENDING, created_at=t, updated_at=t)
>>> run, intent = begin(order, config=ExecutionConfig(), validating=False)
>>> intent == Attempt(order=order)
True
>>> ack = AddOrderAck(txids=("OA",), description="", raw="{}")
>>> run, intent = advance(run, Acked(order=order, ack=ack), now=t)
>>> type(intent).__name__, type(intent.event).__name__
('Record', 'Acknowledged')
>>> run, intent = advance(run, Current(order=order), now=t)
>>> intent == Done(order=order)
True
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core import policy
from kraken_bot.execution.core.cancels import in_doubt, withdrawal_after_refused_send
from kraken_bot.execution.core.models import (
    Acknowledged,
    LocalOrder,
    Observed,
    OrderEvent,
    SendUnconfirmed,
    Withdrawn,
)
from kraken_bot.execution.core.sends import (
    StayUnresolved,
    acknowledgement,
    after_absent_lookup,
    after_send_error,
)
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.types import AddOrderAck, OrderInfo

__all__ = [
    "Acked",
    "Attempt",
    "Awaiting",
    "Count",
    "Counter",
    "Current",
    "Done",
    "Intent",
    "Log",
    "LookUp",
    "LookedUp",
    "NotWritten",
    "Outcome",
    "Record",
    "Refresh",
    "SendError",
    "SendRun",
    "Sleep",
    "Step",
    "advance",
    "begin",
]

# ---------------------------------------------------------------- intents


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """In the pair's gate: stamp the deadline, write ``order``'s next attempt ahead, send
    AddOrder; report `NotWritten`, `Acked` or `SendError`."""

    order: LocalOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """Apply ``event`` to ``order`` in the ledger; report `Current` (the order after)."""

    order: LocalOrder
    event: OrderEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class Refresh:
    """Read ``order``'s current version (``order`` itself if the ledger lost it); report
    `Current`."""

    order: LocalOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class LookUp:
    """Look ``order`` up at Kraken by its identity (retrying transient errors); report
    `LookedUp`."""

    order: LocalOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class Sleep:
    """Wait ``seconds``; then ``then``."""

    seconds: float
    then: Intent


@dataclass(frozen=True, slots=True, kw_only=True)
class Log:
    """Log ``text`` at ``level``; then ``then``."""

    level: Literal["info", "warning"]
    text: str
    then: Intent


Counter = Literal["retries", "ambiguous", "adopted_after_lookup"]
"""The `SendStats` counters the protocol decides (the shell counts sends, lookups, errors)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Count:
    """Add one to the sender's ``counter``; then ``then``."""

    counter: Counter
    then: Intent


@dataclass(frozen=True, slots=True, kw_only=True)
class Done:
    """The send is over: return ``order`` (its latest state)."""

    order: LocalOrder


Intent = Attempt | Record | Refresh | LookUp | Sleep | Log | Count | Done
"""What the shell does next."""

# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True, kw_only=True)
class NotWritten:
    """The write-ahead of attempt ``attempt`` was refused (nothing was sent); ``order`` is
    the order as it stands."""

    order: LocalOrder
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Acked:
    """AddOrder answered ``ack`` for ``order`` (as written ahead)."""

    order: LocalOrder
    ack: AddOrderAck


@dataclass(frozen=True, slots=True, kw_only=True)
class SendError:
    """AddOrder attempt ``attempt`` (with ``deadline``) for ``order`` failed with ``error``."""

    order: LocalOrder
    error: KrakenAPIError
    attempt: int
    deadline: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Current:
    """The order as it now stands, after a `Record` or a `Refresh`."""

    order: LocalOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class LookedUp:
    """What a `LookUp` found (None: not found) and whether the lookup itself worked."""

    found: OrderInfo | None
    ok: bool


Outcome = NotWritten | Acked | SendError | Current | LookedUp
"""What came of an `Attempt`, `Record`, `Refresh` or `LookUp`."""

# ---------------------------------------------------------------- the state machine


class Awaiting(enum.Enum):
    """What the run waits for: the outcome its last intent reports."""

    SEND = "send"  # an Attempt's outcome
    FINAL_RECORD = "final_record"  # the last Record: then done
    RETRY_RECORD = "retry_record"  # the failed attempt's record: then wait and send again
    LOOKUP_RECORD = "lookup_record"  # the ambiguous attempt's record: then wait and look up
    BEFORE_LOOKUP = "before_lookup"  # the order after the wait: settled meanwhile?
    LOOKUP = "lookup"  # a LookUp's outcome
    AFTER_LOOKUP = "after_lookup"  # the order after a lookup that found nothing
    RESEND = "resend"  # the order after the backoff: attempt again


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRun:
    """One order's send in progress.

    Attributes:
        config: ``order_deadline_seconds``, ``max_retries``, backoff, ``lookup_margin_seconds``.
        validating: paper mode (``validate=true``): nothing is ever placed.
        awaiting: what the last intent reports.
        order: the order as last seen (for `Refresh` and `LookUp`).
        retry: the backoff of a refused attempt (while `Awaiting.RETRY_RECORD`).
        ambiguity: the lookup an ambiguous attempt asks for (from its error until the end).
        lookups: lookups made for that ambiguity (a second one only when the first worked
            and found nothing).
        lookup_ok: whether the last lookup worked (while `Awaiting.AFTER_LOOKUP`).
    """

    config: ExecutionConfig
    validating: bool
    awaiting: Awaiting
    order: LocalOrder
    retry: policy.RetryAfter | None = None
    ambiguity: policy.LookUpFirst | None = None
    lookups: int = 0
    lookup_ok: bool = False


Step = tuple[SendRun, Intent]
"""The state after an outcome, and what to do next."""


def begin(order: LocalOrder, *, config: ExecutionConfig, validating: bool) -> Step:
    """The first attempt of ``order`` (pending)."""
    run = SendRun(config=config, validating=validating, awaiting=Awaiting.SEND, order=order)
    return run, Attempt(order=order)


def advance(run: SendRun, outcome: Outcome, *, now: datetime) -> Step:
    """What follows ``outcome`` of the run's last intent (seen at ``now``)."""
    if isinstance(outcome, NotWritten):
        return _not_written(run, outcome, now)
    if isinstance(outcome, Acked):
        return _acknowledged(run, outcome, now)
    if isinstance(outcome, SendError):
        return _failed(run, outcome, now)
    if isinstance(outcome, LookedUp):
        return _looked_up(run, outcome, now)
    if run.awaiting is Awaiting.FINAL_RECORD:
        return run, Done(order=outcome.order)
    return _with_order(replace(run, order=outcome.order), now)  # Current


def _with_order(run: SendRun, now: datetime) -> Step:
    """What follows a `Record` or a `Refresh` (``run.order``: the order it gave)."""
    match run.awaiting:
        case Awaiting.RETRY_RECORD:
            assert run.retry is not None
            return _back_off(run, run.retry)
        case Awaiting.LOOKUP_RECORD:
            assert run.ambiguity is not None
            wait = (run.ambiguity.not_before - now).total_seconds()
            refresh = Refresh(order=run.order)
            waiting = replace(run, awaiting=Awaiting.BEFORE_LOOKUP)
            return waiting, Sleep(seconds=wait, then=refresh) if wait > 0 else refresh
        case Awaiting.BEFORE_LOOKUP:
            return _look_unless_settled(run)
        case Awaiting.AFTER_LOOKUP:
            return _after_absent(run, now)
        case Awaiting.RESEND:
            return replace(run, awaiting=Awaiting.SEND), Attempt(order=run.order)
        case _:  # SEND, LOOKUP: nothing reports an order then
            raise AssertionError(f"no order is reported while awaiting {run.awaiting}")


def _look_unless_settled(run: SendRun) -> Step:
    """After the wait: look the order up, unless it was settled meanwhile (reconciliation
    found it, or a cancel)."""
    if not in_doubt(run.order):
        return run, Done(order=run.order)
    return replace(run, awaiting=Awaiting.LOOKUP, lookups=1), LookUp(order=run.order)


def _record(
    run: SendRun,
    event: OrderEvent,
    awaiting: Awaiting = Awaiting.FINAL_RECORD,
    *,
    order: LocalOrder | None = None,
) -> Step:
    """Record ``event`` onto ``order`` (default: the run's), then await ``awaiting``."""
    recording = order or run.order
    return replace(run, awaiting=awaiting, order=recording), Record(order=recording, event=event)


def _not_sent_text(order: LocalOrder) -> str:
    return f"order {order.local_id}: not sent ({order.status.value})"


def _not_written(run: SendRun, outcome: NotWritten, now: datetime) -> Step:
    """Nothing was sent. A cancel requested meanwhile wins: the order is withdrawn, unless
    an attempt other than this sender's own (refused or proven absent) was recorded since."""
    order = outcome.order
    event = withdrawal_after_refused_send(order, absent_after=outcome.attempt - 1, now=now)
    run, then = (run, Done(order=order)) if event is None else _record(run, event, order=order)
    return run, Log(level="info", text=_not_sent_text(order), then=then)


def _acknowledged(run: SendRun, outcome: Acked, now: datetime) -> Step:
    order, ack = outcome.order, outcome.ack
    event = acknowledgement(ack, validating=run.validating, now=now)
    run, record = _record(run, event, order=order)
    if isinstance(event, SendUnconfirmed):
        # A live AddOrder must name its txid; without one, resolve it by identity.
        text = f"order {order.local_id}: {event.message}"
        return run, Log(level="warning", text=text, then=record)
    if isinstance(event, Acknowledged) and len(ack.txids) > 1:
        text = f"order {order.local_id}: AddOrder returned several txids {ack.txids}"
        return run, Log(level="warning", text=text, then=record)
    return run, record


def _failed(run: SendRun, outcome: SendError, now: datetime) -> Step:
    decided = after_send_error(
        outcome.error,
        attempt=outcome.attempt,
        config=run.config,
        now=now,
        deadline=outcome.deadline,
        validating=run.validating,
    )
    order, event, next_step = outcome.order, decided.event, decided.next_step
    if isinstance(next_step, policy.LookUpFirst):
        ambiguous = replace(run, ambiguity=next_step, lookups=0)
        run, record = _record(ambiguous, event, Awaiting.LOOKUP_RECORD, order=order)
        return run, Count(counter="ambiguous", then=record)
    if isinstance(next_step, policy.RetryAfter):
        return _record(replace(run, retry=next_step), event, Awaiting.RETRY_RECORD, order=order)
    return _record(run, event, order=order)


def _back_off(run: SendRun, retry: policy.RetryAfter) -> Step:
    """Wait the backoff, read the order again, then attempt again."""
    sleep = Sleep(seconds=retry.delay_seconds, then=Refresh(order=run.order))
    return replace(run, awaiting=Awaiting.RESEND), Count(counter="retries", then=sleep)


def _looked_up(run: SendRun, outcome: LookedUp, now: datetime) -> Step:
    if outcome.found is not None:
        observed = Observed(at=now, info=outcome.found)
        run, record = _record(run, observed)
        return run, Count(counter="adopted_after_lookup", then=record)
    if outcome.ok and run.lookups == 1:
        # New orders can be briefly missing from OpenOrders: look once more.
        wait = max(run.config.lookup_margin_seconds, 1.0)
        return replace(run, lookups=2), Sleep(seconds=wait, then=LookUp(order=run.order))
    after = replace(run, awaiting=Awaiting.AFTER_LOOKUP, lookup_ok=outcome.ok)
    return after, Refresh(order=run.order)


def _after_absent(run: SendRun, now: datetime) -> Step:
    """The lookup did not find the order: unless it was settled meanwhile, see
    `sends.after_absent_lookup`."""
    order = run.order
    if not in_doubt(order):
        return run, Done(order=order)
    assert run.ambiguity is not None
    next_step = after_absent_lookup(
        order, run.ambiguity, lookup_ok=run.lookup_ok, config=run.config, now=now
    )
    if isinstance(next_step, StayUnresolved):
        # Unknown, or proven to exist but not listed yet: never resend, never give up.
        text = (
            f"order {order.local_id}: {next_step.reason} after an ambiguous send; it stays"
            " submitted until reconciliation"
        )
        return run, Log(level="warning", text=text, then=Done(order=order))
    if isinstance(next_step, policy.RetryAfter):
        return _back_off(run, next_step)
    run, record = _record(run, next_step)
    if isinstance(next_step, Withdrawn):
        return run, Log(level="info", text=_not_sent_text(order), then=record)
    return run, record
