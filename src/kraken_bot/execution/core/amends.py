"""Pure: what follows a failed AmendOrder, and when an amend is settled.

An amend is never repeated blindly (the same rule as a send, `policy`): when
Kraken's answer is lost, the order is read back once the amend's deadline plus
``lookup_margin_seconds`` has passed (after the deadline Kraken will not apply
it), and the amend is sent again only if the order does not show it.

`decide_after_amend_error` maps the error to one of:

* `ReadBackRefusal`: Kraken says there is nothing to amend, or the order is not
  open: maybe it already shows the new values, or it closed meanwhile; read it
  back, and the refusal stands only if the order still works without them;
* `AmendRejected`: Kraken refused the amend itself (post-only would take, funds):
  note it and raise;
* `LookUpAmend`: transient, with retries left: read back at ``not_before``;
* `AmendFailed`: transient without retries left, or any other error: raise.

>>> from datetime import UTC, datetime
>>> from kraken_bot.config import ExecutionConfig
>>> from kraken_bot.kraken.errors import error_from_kraken
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> decide_after_amend_error(error_from_kraken(["EService:Busy"]), attempt=1,
...     config=ExecutionConfig(), deadline=t)
LookUpAmend(not_before=datetime.datetime(2026, 1, 1, 0, 0, 5, tzinfo=datetime.timezone.utc))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import LocalOrder
from kraken_bot.execution.core.routing import AmendWire
from kraken_bot.kraken.errors import (
    KrakenAPIError,
    OrderRejectedError,
    is_not_open,
    reports_nothing_to_amend,
)

__all__ = [
    "AmendDecision",
    "AmendFailed",
    "AmendRejected",
    "LookUpAmend",
    "ReadBackRefusal",
    "amend_settled",
    "carries_amend",
    "decide_after_amend_error",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadBackRefusal:
    """Kraken refused, but the refusal may be moot: read the order back, then decide."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendRejected:
    """Kraken refused the amend: note the refusal on the order and raise it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LookUpAmend:
    """The answer was lost: read the order back at ``not_before``, amend again if needed."""

    not_before: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendFailed:
    """Nothing more to try: raise the error."""


AmendDecision = ReadBackRefusal | AmendRejected | LookUpAmend | AmendFailed
"""What follows a failed AmendOrder."""


def decide_after_amend_error(
    error: KrakenAPIError, *, attempt: int, config: ExecutionConfig, deadline: datetime
) -> AmendDecision:
    """Decide what follows a failed AmendOrder.

    Args:
        error: the typed error the client raised.
        attempt: AmendOrder calls made for this amend, the failed one included.
        config: ``max_retries`` (resends after the first) and ``lookup_margin_seconds``.
        deadline: the amend's ``deadline`` sent to Kraken.
    """
    if isinstance(error, OrderRejectedError):
        if reports_nothing_to_amend(error) or is_not_open(error):
            return ReadBackRefusal()
        return AmendRejected()
    if not error.transient or attempt > config.max_retries:
        return AmendFailed()
    return LookUpAmend(not_before=deadline + timedelta(seconds=config.lookup_margin_seconds))


def carries_amend(order: LocalOrder, wire: AmendWire) -> bool:
    """Whether ``order`` (as read back) carries the amend's new price and size."""
    price_ok = wire.price is None or order.requested_price == wire.price
    size_ok = wire.size is None or order.requested_base_size == wire.size
    return price_ok and size_ok


def amend_settled(order: LocalOrder, wire: AmendWire) -> bool:
    """Nothing more to amend: the order (as read back) shows the amend, or no longer works.

    After a lost answer this ends the amend; after a refusal that may be moot, the
    refusal stands only when the amend is not settled.
    """
    return carries_amend(order, wire) or not order.is_live
