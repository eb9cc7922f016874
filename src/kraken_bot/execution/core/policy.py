"""Pure: after a failed send or a lookup: retry, look the order up, reject, or give up.

The contract's section 6.3, with Kraken's error classes (kraken-api.md section 7,
`kraken_bot.kraken.errors.ErrorClass`):

* **permanent** (bad order, no funds, bad key): reject, never retry.
* **retry** (rate limits, refused before anything happened): resend after an
  exponential backoff, at most ``max_retries`` times, then give up (``error``).
* **retry_once** (nonce, lockout, trading mode): as *retry*, but at most one
  retry: repeating quickly will not help.
* **ambiguous** (timeout or 5xx after sending, engine busy): the order may
  exist. Never resend blindly: look it up first, once the AddOrder
  ``deadline`` plus ``lookup_margin_seconds`` has passed (after the deadline
  Kraken will no longer place it). Found: track it. Absent: resend with the
  same identity; each resend counts against ``max_retries``.

Backoff: retry ``k`` (``k >= 1``) waits ``retry_backoff_seconds x
retry_backoff_factor ** (k - 1)``, so the defaults (2 s, factor 2) wait 2, 4
and 8 s. This is the contract's ``retry_backoff_seconds *
retry_backoff_factor^attempt`` with ``attempt`` counted from 0. A rate-limit
error naming a time (``EService:Throttled: <ts>``) waits at least until then.

Counting: ``sends_so_far`` is the number of AddOrder calls made for the order,
the failed one included; the first is not a retry, so ``sends_so_far - 1``
retries have been used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kraken_bot.config import ExecutionConfig
from kraken_bot.kraken.errors import (
    ErrorClass,
    KrakenAPIError,
    RateLimitError,
    reports_duplicate_order,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryAfter:
    """Safe to send again (the order is provably not on the exchange) after the delay."""

    delay_seconds: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LookUpFirst:
    """The order may have reached Kraken: look it up (at ``not_before``) before anything else."""

    not_before: datetime
    reason: str
    proven: bool = False
    """Kraken's answer proved the order is on its book: find it, never resend or give up."""
    reject_if_absent: str | None = None
    """A permanent refusal of a resend: if the lookup does not find the first send, the
    order is rejected with this message (never resent)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectOrder:
    """Permanent refusal: mark the order ``rejected``; never retry. ``message`` is Kraken's."""

    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GiveUpOrder:
    """Transient trouble, but no retry is left: mark the order ``error``."""

    message: str


SendDecision = RetryAfter | LookUpFirst | RejectOrder | GiveUpOrder
"""What to do after a failed AddOrder."""

AbsenceDecision = LookUpFirst | RetryAfter | GiveUpOrder
"""What to do after a lookup did not find an order whose send was in doubt (a found one
is folded in and tracked, never resent)."""


def backoff_seconds(retry_number: int, config: ExecutionConfig) -> float:
    """Seconds to wait before retry ``retry_number`` (counted from 1).

    >>> [backoff_seconds(k, ExecutionConfig()) for k in (1, 2, 3)]
    [2.0, 4.0, 8.0]
    """
    exponent = max(retry_number, 1) - 1
    return float(config.retry_backoff_seconds * config.retry_backoff_factor**exponent)


def is_retryable(error: KrakenAPIError) -> bool:
    """True when the same request may succeed later (every class but permanent).

    For AddOrder an ambiguous error still needs a lookup before any resend:
    use `decide_after_send_error`, which knows that. For reads and cancels,
    retrying is always safe.

    >>> from kraken_bot.kraken.errors import error_from_kraken
    >>> is_retryable(error_from_kraken(["EAPI:Rate limit exceeded"]))
    True
    >>> is_retryable(error_from_kraken(["EOrder:Insufficient funds"]))
    False
    """
    return error.error_class is not ErrorClass.PERMANENT


def kraken_message(error: KrakenAPIError) -> str:
    """Kraken's own words for an error: its error strings, else the exception's message.

    >>> from kraken_bot.kraken.errors import error_from_kraken
    >>> kraken_message(error_from_kraken(["EOrder:Insufficient funds"], endpoint="AddOrder"))
    'EOrder:Insufficient funds'
    """
    return "; ".join(error.errors) or error.message


def _retry_limit(error_class: ErrorClass, config: ExecutionConfig) -> int:
    return (
        min(config.max_retries, 1) if error_class is ErrorClass.RETRY_ONCE else config.max_retries
    )


def _retry_or_give_up(
    error: KrakenAPIError, sends_so_far: int, config: ExecutionConfig, now: datetime
) -> RetryAfter | GiveUpOrder:
    used, limit = sends_so_far - 1, _retry_limit(error.error_class, config)
    message = kraken_message(error)
    if used >= limit:
        return GiveUpOrder(message=f"{message}: gave up after {sends_so_far} sends")
    delay = backoff_seconds(used + 1, config)
    if isinstance(error, RateLimitError) and error.retry_at is not None:
        delay = max(delay, error.retry_at - now.timestamp())
    return RetryAfter(delay_seconds=delay, reason=f"{message}: retry {used + 1} of {limit}")


def decide_after_send_error(
    error: KrakenAPIError,
    *,
    sends_so_far: int,
    config: ExecutionConfig,
    now: datetime,
    deadline: datetime | None,
) -> SendDecision:
    """Decide what follows a failed AddOrder.

    Args:
        error: the typed error the client raised.
        sends_so_far: AddOrder calls made for this order, the failed one included.
        config: retry settings (``max_retries``, backoff, ``lookup_margin_seconds``).
        now: the current time.
        deadline: the AddOrder ``deadline`` sent, if any.

    Returns:
        ``RejectOrder`` for a permanent error on a first send; a duplicate-id answer
        proves an earlier send of the same order exists (``LookUpFirst``, proven);
        any permanent error on a resend leads to a lookup first (the earlier send
        may exist and have caused it, e.g. by holding the funds), then to
        ``RejectOrder`` only if the lookup does not find it; ``RetryAfter`` /
        ``GiveUpOrder`` for retry classes; ``LookUpFirst`` after the deadline plus
        the lookup margin for an ambiguous error.

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.kraken.errors import error_from_kraken
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> def decide(text, sends=1):
    ...     return decide_after_send_error(error_from_kraken([text]), sends_so_far=sends,
    ...         config=ExecutionConfig(), now=now, deadline=None)
    >>> decide("EOrder:Insufficient funds")
    RejectOrder(message='EOrder:Insufficient funds')
    >>> decide("EAPI:Rate limit exceeded", sends=2).delay_seconds
    4.0
    >>> decide("EAPI:Rate limit exceeded", sends=4)
    GiveUpOrder(message='EAPI:Rate limit exceeded: gave up after 4 sends')
    >>> decide("EService:Busy").not_before
    datetime.datetime(2026, 1, 1, 0, 0, 5, tzinfo=datetime.timezone.utc)
    """
    error_class = error.error_class
    if error_class is ErrorClass.PERMANENT:
        if reports_duplicate_order(error):
            # Our client order ids are unique per order, so a duplicate answer proves an
            # earlier send of this very order is on the book (a lost reply, or a crash
            # between send and write): adopt it rather than reject what exists.
            reason = f"{kraken_message(error)}: the earlier send exists; adopt it"
            return LookUpFirst(not_before=now, reason=reason, proven=True)
        if sends_so_far > 1:
            # Kraken's refusal of a resend may come from the first send (it holds the funds,
            # or its id): look for the first send before calling the order rejected.
            reason = f"{kraken_message(error)}: a resend was refused; look for the first send"
            return LookUpFirst(
                not_before=now, reason=reason, reject_if_absent=kraken_message(error)
            )
        return RejectOrder(message=kraken_message(error))
    if error_class is ErrorClass.AMBIGUOUS:
        margin = timedelta(seconds=config.lookup_margin_seconds)
        reason = f"{kraken_message(error)}: the order may exist; look it up before any resend"
        return LookUpFirst(not_before=(deadline or now) + margin, reason=reason)
    return _retry_or_give_up(error, sends_so_far, config, now)


def decide_after_absence(
    *,
    sends_so_far: int,
    config: ExecutionConfig,
    now: datetime,
    not_before: datetime | None = None,
) -> AbsenceDecision:
    """Decide what follows a lookup that did not find an order whose send was in doubt.

    Args:
        sends_so_far: AddOrder calls made for this order.
        config: retry settings.
        now: the current time.
        not_before: the earliest time absence counts (from `LookUpFirst`); a
            lookup before it that found nothing proves nothing.

    Returns:
        ``LookUpFirst`` when it was too early to tell; else a resend
        (``RetryAfter``) while retries remain (each resend counts against
        ``max_retries``), or ``GiveUpOrder``.

    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> decide_after_absence(sends_so_far=1, config=ExecutionConfig(), now=now)
    RetryAfter(delay_seconds=2.0, reason='not on the exchange after 1 send: resend 1 of 3')
    >>> decide_after_absence(sends_so_far=4, config=ExecutionConfig(), now=now)
    GiveUpOrder(message='not on the exchange after 4 sends')
    """
    if not_before is not None and now < not_before:
        return LookUpFirst(not_before=not_before, reason="too early: absence proves nothing yet")
    plural = "s" if sends_so_far != 1 else ""
    absent = f"not on the exchange after {sends_so_far} send{plural}"
    used = sends_so_far - 1
    if used >= config.max_retries:
        return GiveUpOrder(message=absent)
    delay = backoff_seconds(used + 1, config)
    return RetryAfter(
        delay_seconds=delay, reason=f"{absent}: resend {used + 1} of {config.max_retries}"
    )
