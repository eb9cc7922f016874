"""Pure: what one AddOrder's outcome means for its order, as events the sender applies.

`send_protocol` (the send loop, which `kraken_bot.execution.shell._submit` performs:
write ahead, send, wait, look up) asks here what came back means, on top of the
retry policy (`kraken_bot.execution.core.policy`):

* `acknowledgement`: Kraken answered AddOrder: validated (paper), acknowledged
  with its txid, or answered without one (resolved later by identity);
* `after_send_error`: AddOrder failed: the event to record and what follows
  (retry after a delay, look up first, or nothing: rejected or given up). In
  paper mode (``validate=true``) nothing is ever placed, so a lookup is never
  needed: the error is retried instead;
* `after_absent_lookup`: a lookup after an ambiguous send did not find the
  order: leave it for reconciliation, withdraw it (a cancel was requested),
  reject it, resend it, or give up.

>>> from datetime import UTC, datetime
>>> from kraken_bot.kraken.types import AddOrderAck
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> ack = AddOrderAck(txids=("OA",), description="", raw="{}")
>>> acknowledgement(ack, validating=False, now=t).txid
'OA'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core import policy
from kraken_bot.execution.core.cancels import withdrawal_after_refused_send
from kraken_bot.execution.core.models import (
    Acknowledged,
    GaveUp,
    LocalOrder,
    Rejected,
    SendFailed,
    SendUnconfirmed,
    Validated,
    Withdrawn,
)
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.types import AddOrderAck

__all__ = [
    "NO_TXID_MESSAGE",
    "ErrorOutcome",
    "StayUnresolved",
    "acknowledgement",
    "after_absent_lookup",
    "after_send_error",
]

NO_TXID_MESSAGE = "AddOrder answered without a txid"


def acknowledgement(
    ack: AddOrderAck, *, validating: bool, now: datetime
) -> Validated | Acknowledged | SendUnconfirmed:
    """The event an AddOrder answer justifies.

    Paper (``validating``): validated. Live: acknowledged with the first txid; a live
    answer without a txid leaves the order unconfirmed, to be resolved by identity.
    """
    if validating:
        return Validated(at=now, response_json=ack.raw)
    if not ack.txids:
        return SendUnconfirmed(at=now, message=NO_TXID_MESSAGE)
    return Acknowledged(at=now, txid=ack.txids[0], response_json=ack.raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorOutcome:
    """A failed AddOrder: the event to record, then what to do (None: nothing more)."""

    event: Rejected | GaveUp | SendUnconfirmed | SendFailed
    next_step: policy.RetryAfter | policy.LookUpFirst | None


def after_send_error(
    error: KrakenAPIError,
    *,
    attempt: int,
    config: ExecutionConfig,
    now: datetime,
    deadline: datetime,
    validating: bool,
) -> ErrorOutcome:
    """The event and the next step after AddOrder attempt ``attempt`` failed with ``error``.

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.kraken.errors import error_from_kraken
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> busy = error_from_kraken(["EService:Busy"], endpoint="AddOrder")
    >>> live = after_send_error(busy, attempt=1, config=ExecutionConfig(), now=t, deadline=t,
    ...     validating=False)
    >>> type(live.event).__name__, type(live.next_step).__name__
    ('SendUnconfirmed', 'LookUpFirst')
    >>> paper = after_send_error(busy, attempt=1, config=ExecutionConfig(), now=t, deadline=t,
    ...     validating=True)
    >>> type(paper.event).__name__, type(paper.next_step).__name__
    ('SendFailed', 'RetryAfter')
    """
    decision = policy.decide_after_send_error(
        error, sends_so_far=attempt, config=config, now=now, deadline=deadline
    )
    if validating and isinstance(decision, policy.LookUpFirst):
        # validate=true never places an order: a resend cannot duplicate anything.
        decision = policy.decide_after_absence(sends_so_far=attempt, config=config, now=now)
    message = str(error)
    if isinstance(decision, policy.RejectOrder):
        return ErrorOutcome(
            event=Rejected(at=now, message=decision.message or message), next_step=None
        )
    if isinstance(decision, policy.GiveUpOrder):
        return ErrorOutcome(
            event=GaveUp(at=now, message=decision.message, deadline=deadline), next_step=None
        )
    if isinstance(decision, policy.LookUpFirst):
        unconfirmed = SendUnconfirmed(at=now, message=message, proven=decision.proven)
        return ErrorOutcome(event=unconfirmed, next_step=decision)
    return ErrorOutcome(event=SendFailed(at=now, message=message), next_step=decision)


@dataclass(frozen=True, slots=True, kw_only=True)
class StayUnresolved:
    """Neither resend nor give up: the order stays submitted until reconciliation."""

    reason: str


def after_absent_lookup(
    order: LocalOrder,
    decision: policy.LookUpFirst,
    *,
    lookup_ok: bool,
    config: ExecutionConfig,
    now: datetime,
) -> StayUnresolved | policy.RetryAfter | Withdrawn | Rejected | GaveUp:
    """What follows a lookup that did not find ``order`` (still live, without a txid)
    after an ambiguous send that ``decision`` sent it to look up.

    A failed lookup proves nothing, and an order Kraken proved it holds is never
    resent nor given up: both stay for reconciliation. Otherwise the order is
    provably absent: a cancel requested meanwhile withdraws it; a refused resend
    (``reject_if_absent``) rejects it; else it is resent while retries remain, or
    given up.
    """
    if not lookup_ok:
        return StayUnresolved(reason="lookup failed")
    if decision.proven or order.exists_on_exchange:
        return StayUnresolved(reason="not listed yet although Kraken holds it")
    withdrawn = withdrawal_after_refused_send(order, absent_after=order.attempts, now=now)
    if withdrawn is not None:
        return withdrawn
    if decision.reject_if_absent is not None:
        return Rejected(at=now, message=decision.reject_if_absent)
    next_step = policy.decide_after_absence(sends_so_far=order.attempts, config=config, now=now)
    if isinstance(next_step, policy.RetryAfter):
        return next_step
    message = getattr(next_step, "message", "not on the exchange")
    return GaveUp(at=now, message=message, deadline=order.send_deadline)
