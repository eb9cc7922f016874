"""Pure: Kraken's error vocabulary, parsed in exactly one place.

Kraken answers application errors with HTTP 200 and a list of strings shaped
``<severity><category>:<message>[:<extra>]``. `error_from_kraken` turns such a
list (or a bad HTTP status, or a transport failure) into one typed exception.
Each exception says how a caller may react through `ErrorClass`:

``retry`` (R)
    Refused before anything happened: back off, send again with a new nonce.
``retry_once`` (C)
    Refused, but repeating quickly will not help (nonce, lockout, trading
    mode): retry at most once, after a wait.
``permanent`` (P)
    The request itself is wrong (bad order, no funds, bad key): never retry.
``ambiguous`` (A)
    The request may have taken effect (timeout after sending, 5xx, engine busy).
    For AddOrder, look the order up before any resend.

The tree (the contract's names, plus the issue's additions), under Krakked's root
`ExecutionError` (see `kraken_bot.execution.exceptions` for the whole tree)::

    KrakenAPIError                  base; keeps the raw strings; unknown strings land here (P)
    +-- AuthError                   bad key/signature/permission, lockout, locked account
    +-- NonceError                  EAPI:Invalid nonce (C)
    +-- RateLimitError              REST/trading/domain limits, throttling (R)
    +-- OrderRejectedError          EOrder:*, EGeneral:Invalid arguments, EQuery:* (P)
    +-- ServiceUnavailableError     EService:*, internal errors, HTTP 5xx/52x (A or R)
        +-- NetworkError            connection failures, timeouts (A if it may have reached Kraken)
        +-- UnexpectedResponseError reply not JSON / not an envelope / unknown shape (A)

>>> err = error_from_kraken(["EOrder:Insufficient funds"], endpoint="AddOrder")
>>> type(err).__name__, err.error_class.value, err.transient
('OrderRejectedError', 'permanent', False)
>>> err = error_from_kraken(["EService:Busy"], endpoint="AddOrder")
>>> type(err).__name__, err.may_have_executed
('ServiceUnavailableError', True)

Two readings of Kraken are matched here so that no other module compares error strings:

* **Throttling**: Kraken's rate-limit guide writes ``EService: Throttled: <unix ts>`` (a space
  after the first colon); its Rust SDK matches ``EService:Throttled``. Both spellings, with any
  whitespace around the colons, are a `RateLimitError` whose ``retry_at`` is that time.
* **"No longer open"**: cancelling (or querying) an order Kraken does not hold open answers
  ``EOrder:Unknown order`` or ``EOrder:Invalid order`` (which one is unconfirmed; both are seen,
  sometimes with a ``:<extra>`` suffix). `is_not_open` says yes to both.

>>> err = error_from_kraken(["EService: Throttled: 1700000000"])
>>> type(err).__name__, err.retry_at
('RateLimitError', 1700000000.0)
>>> is_not_open(error_from_kraken(["EOrder:Invalid order"])), is_not_open("EOrder:Unknown order")
(True, True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar, Final

from returns.result import Failure, Result, Success

from kraken_bot._errors import ExecutionError
from kraken_bot.kraken.types import parse_decimal


class ErrorClass(StrEnum):
    """How a caller may react to an error (see the module docstring)."""

    RETRY = "retry"
    RETRY_ONCE = "retry_once"
    PERMANENT = "permanent"
    AMBIGUOUS = "ambiguous"


class KrakenAPIError(ExecutionError):
    """A Kraken call failed. Base of every error the client raises.

    An `ExecutionError` (the root of Krakked's exceptions), so one ``except`` clause
    catches the layer's own refusals and Kraken's.

    Attributes:
        errors: Kraken's raw error strings (empty for HTTP/transport failures).
        endpoint: the Kraken method called (``AddOrder``), when known.
        http_status: the HTTP status, when one was received.
        error_class: how to react (retry, retry once, permanent, ambiguous).
    """

    default_class: ClassVar[ErrorClass] = ErrorClass.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[str] = (),
        endpoint: str | None = None,
        http_status: int | None = None,
        error_class: ErrorClass | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors: tuple[str, ...] = tuple(errors)
        self.endpoint = endpoint
        self.http_status = http_status
        self.error_class = error_class or self.default_class

    @property
    def transient(self) -> bool:
        """True when the same request may succeed later."""
        return self.error_class is not ErrorClass.PERMANENT

    @property
    def may_have_executed(self) -> bool:
        """True when the request may have taken effect on the exchange."""
        return self.error_class is ErrorClass.AMBIGUOUS

    def __str__(self) -> str:
        where = f"{self.endpoint}: " if self.endpoint else ""
        return f"{where}{self.message}"


class AuthError(KrakenAPIError):
    """Bad API key, signature or permission; temporary lockout; locked account."""


class NonceError(KrakenAPIError):
    """Kraken refused the nonce (it was not above the last one it accepted)."""

    default_class = ErrorClass.RETRY_ONCE


class RateLimitError(KrakenAPIError):
    """A Kraken rate limit was hit. ``retry_at`` is a unix time when Kraken named one."""

    default_class = ErrorClass.RETRY

    def __init__(
        self,
        message: str,
        *,
        retry_at: float | None = None,
        errors: Sequence[str] = (),
        endpoint: str | None = None,
        http_status: int | None = None,
        error_class: ErrorClass | None = None,
    ) -> None:
        super().__init__(
            message,
            errors=errors,
            endpoint=endpoint,
            http_status=http_status,
            error_class=error_class,
        )
        self.retry_at = retry_at


class OrderRejectedError(KrakenAPIError):
    """Kraken refused the order itself (funds, minimums, tick size, arguments, pair)."""


class ServiceUnavailableError(KrakenAPIError):
    """Kraken or the network path to it is unavailable, busy, or failed internally."""

    default_class = ErrorClass.AMBIGUOUS


class NetworkError(ServiceUnavailableError):
    """The HTTP exchange itself failed (connection refused/reset, timeout).

    ``may_have_reached`` says whether the request could have reached Kraken
    (a read timeout after sending: yes; a refused connection: no).
    """

    def __init__(
        self, message: str, *, may_have_reached: bool, endpoint: str | None = None
    ) -> None:
        super().__init__(
            message,
            endpoint=endpoint,
            error_class=ErrorClass.AMBIGUOUS if may_have_reached else ErrorClass.RETRY,
        )
        self.may_have_reached = may_have_reached


_Rule = tuple[type[KrakenAPIError], ErrorClass]

_EXACT: Final[dict[str, _Rule]] = {
    "EAPI:Rate limit exceeded": (RateLimitError, ErrorClass.RETRY),
    "EOrder:Rate limit exceeded": (RateLimitError, ErrorClass.RETRY),
    "EOrder:Domain rate limit exceeded": (RateLimitError, ErrorClass.RETRY),
    "EGeneral:Too many requests": (RateLimitError, ErrorClass.RETRY),
    "EAPI:Invalid nonce": (NonceError, ErrorClass.RETRY_ONCE),
    "EService:Deadline elapsed": (ServiceUnavailableError, ErrorClass.RETRY),
    "EService:Unavailable": (ServiceUnavailableError, ErrorClass.AMBIGUOUS),
    "EService:Busy": (ServiceUnavailableError, ErrorClass.AMBIGUOUS),
    "EDatabase:Internal error": (ServiceUnavailableError, ErrorClass.AMBIGUOUS),
    "EService:Market in cancel_only mode": (ServiceUnavailableError, ErrorClass.RETRY_ONCE),
    "EService:Market in post_only mode": (ServiceUnavailableError, ErrorClass.RETRY_ONCE),
    "EService:Market in limit_only mode": (ServiceUnavailableError, ErrorClass.RETRY_ONCE),
    "EGeneral:Temporary lockout": (AuthError, ErrorClass.RETRY_ONCE),
    "EGeneral:Permission denied": (AuthError, ErrorClass.PERMANENT),
    "EAPI:Invalid key": (AuthError, ErrorClass.PERMANENT),
    "EAPI:Invalid signature": (AuthError, ErrorClass.PERMANENT),
    "ETrade:Locked": (AuthError, ErrorClass.PERMANENT),
    "ETrade:User Locked": (AuthError, ErrorClass.PERMANENT),
    "EOrder:Orders limit exceeded": (OrderRejectedError, ErrorClass.RETRY_ONCE),
    "EGeneral:Unknown method": (KrakenAPIError, ErrorClass.PERMANENT),
    "EAPI:Bad request": (KrakenAPIError, ErrorClass.PERMANENT),
    "EAPI:Feature disabled": (KrakenAPIError, ErrorClass.PERMANENT),
}

# ``EService: Throttled: 1700000000`` (documented), ``EService:Throttled:1700000000`` (seen).
_THROTTLED_RE: Final = re.compile(r"^EService:\s*Throttled\b\s*(?::\s*(?P<until>\S*))?")
_THROTTLED_RULE: Final[_Rule] = (RateLimitError, ErrorClass.RETRY)

# ``EOrder:Unknown order`` / ``EOrder:Invalid order``, alone or with a ``:<extra>`` suffix.
_NOT_OPEN_RE: Final = re.compile(r"^EOrder:\s*(?:Unknown|Invalid) order(?![A-Za-z0-9_])")

# Checked in order after the exact table: many strings carry a ":<extra>" suffix.
_PREFIXES: Final[tuple[tuple[str, _Rule], ...]] = (
    ("EGeneral:Internal error", (ServiceUnavailableError, ErrorClass.AMBIGUOUS)),
    ("EService:", (ServiceUnavailableError, ErrorClass.AMBIGUOUS)),
    ("EGeneral:Invalid arguments", (OrderRejectedError, ErrorClass.PERMANENT)),
    ("EOrder:", (OrderRejectedError, ErrorClass.PERMANENT)),
    ("EQuery:", (OrderRejectedError, ErrorClass.PERMANENT)),
    ("EFunding:", (OrderRejectedError, ErrorClass.PERMANENT)),
    ("ETrade:", (OrderRejectedError, ErrorClass.PERMANENT)),
)


def classify_error_string(error: str) -> _Rule:
    """Map one Kraken error string to its exception type and error class.

    >>> classify_error_string("EGeneral:Invalid arguments:volume")[1].value
    'permanent'
    >>> classify_error_string("ESomething:New")[0].__name__
    'KrakenAPIError'
    >>> classify_error_string("EService: Throttled: 1700000000")[0].__name__
    'RateLimitError'
    """
    rule = _EXACT.get(error)
    if rule is not None:
        return rule
    if _THROTTLED_RE.match(error):
        return _THROTTLED_RULE
    for prefix, prefixed_rule in _PREFIXES:
        if error.startswith(prefix):
            return prefixed_rule
    return (KrakenAPIError, ErrorClass.PERMANENT)


def throttled_until(error: str) -> float | None:
    """The unix time a throttle error names; None for any other error (or no readable time).

    Both spellings, whitespace optional: ``EService: Throttled: <ts>`` (Kraken's guide) and
    ``EService:Throttled:<ts>``.

    >>> throttled_until("EService: Throttled: 1700000000")
    1700000000.0
    >>> throttled_until("EService:Throttled:17.5")
    17.5
    >>> throttled_until("EService:Throttled"), throttled_until("EService:Busy")
    (None, None)
    """
    match = _THROTTLED_RE.match(error)
    if match is None or not match.group("until"):
        return None
    value = parse_decimal(match.group("until"))
    return float(value) if value is not None else None


class RateLimitScope(StrEnum):
    """Which of Kraken's counters a rate-limit error names."""

    REST = "rest"  # EAPI:Rate limit exceeded, EGeneral:Too many requests
    TRADING = "trading"  # EOrder:Rate limit exceeded (the pair's trading counter)
    DOMAIN = "domain"  # EOrder:Domain rate limit exceeded (every pair)


_SCOPE_PREFIXES: Final[tuple[tuple[str, RateLimitScope], ...]] = (
    ("EAPI:Rate limit", RateLimitScope.REST),
    ("EGeneral:Too many requests", RateLimitScope.REST),
    ("EOrder:Rate limit", RateLimitScope.TRADING),
    ("EOrder:Domain rate limit", RateLimitScope.DOMAIN),
)


def rate_limit_scopes(errors: Sequence[str]) -> frozenset[RateLimitScope]:
    """The counters Kraken's error strings say are full (throttling names none of them).

    >>> sorted(rate_limit_scopes(["EOrder:Rate limit exceeded", "EAPI:Rate limit exceeded"]))
    [<RateLimitScope.REST: 'rest'>, <RateLimitScope.TRADING: 'trading'>]
    >>> rate_limit_scopes(["EService: Throttled: 1700000000"])
    frozenset()
    """
    return frozenset(
        scope for text in errors for prefix, scope in _SCOPE_PREFIXES if text.startswith(prefix)
    )


def is_not_open(error: KrakenAPIError | str) -> bool:
    """True when ``error`` says the order is not open (any more) or unknown to Kraken.

    ``EOrder:Unknown order`` and ``EOrder:Invalid order``, with or without a ``:<extra>``
    suffix; for an exception, any of its error strings. The one place that reading lives.

    >>> is_not_open("EOrder:Unknown order: OU22CG-KLAF2-FWUDD7")
    True
    >>> is_not_open("EOrder:Invalid order")
    True
    >>> is_not_open("EOrder:Insufficient funds"), is_not_open("EOrder:Invalid orderflags")
    (False, False)
    """
    errors = (error,) if isinstance(error, str) else error.errors
    return any(_NOT_OPEN_RE.match(text) for text in errors)


def error_strings(errors: object) -> tuple[str, ...]:
    """The ``E...`` entries of a Kraken ``error`` list (``W...`` warnings are dropped)."""
    if not isinstance(errors, list | tuple):
        return ()
    return tuple(e for e in errors if isinstance(e, str) and e.startswith("E"))


def error_from_kraken(errors: Sequence[str], *, endpoint: str | None = None) -> KrakenAPIError:
    """Build the typed exception for a non-empty list of Kraken ``E...`` strings.

    The first error decides the type; every string is kept on the exception.
    """
    first = errors[0] if errors else "EGeneral:Unknown error"
    cls, error_class = classify_error_string(first)
    message = "; ".join(errors) if errors else first
    if cls is RateLimitError:
        retry_at = throttled_until(first)
        return RateLimitError(
            message, retry_at=retry_at, errors=errors, endpoint=endpoint, error_class=error_class
        )
    return cls(message, errors=errors, endpoint=endpoint, error_class=error_class)


def error_from_http_status(status: int, *, endpoint: str | None = None) -> KrakenAPIError:
    """Typed exception for a non-200 HTTP status (edge or network trouble).

    >>> type(error_from_http_status(502, endpoint="AddOrder")).__name__
    'ServiceUnavailableError'
    """
    message = f"HTTP {status} from Kraken"
    if status == 429:
        return RateLimitError(message, endpoint=endpoint, http_status=status)
    if status >= 500:
        return ServiceUnavailableError(message, endpoint=endpoint, http_status=status)
    return KrakenAPIError(message, endpoint=endpoint, http_status=status)


class UnexpectedResponseError(ServiceUnavailableError):
    """Kraken's reply was not JSON, not an envelope, or its result had an unknown shape.

    Ambiguous: the request reached Kraken and may have taken effect.
    """


def unwrap_envelope(
    payload: object, *, endpoint: str | None = None, http_status: int = 200
) -> Result[Any, KrakenAPIError]:
    """The ``result`` of a decoded Kraken reply, or the typed error it carries.

    ``E...`` entries fail (``W...`` warnings are tolerated); a non-200 status
    without Kraken errors fails by status; a 200 reply that is not an envelope
    (``payload`` None: not JSON) is an `UnexpectedResponseError`.

    >>> unwrap_envelope({"error": ["WGeneral:Note"], "result": {"count": 1}})
    <Success: {'count': 1}>
    >>> print(unwrap_envelope({"error": ["EAPI:Invalid nonce"]}, endpoint="Balance").failure())
    Balance: EAPI:Invalid nonce
    """
    envelope = payload if isinstance(payload, Mapping) else {}
    errors = error_strings(envelope.get("error"))
    if errors:
        error = error_from_kraken(errors, endpoint=endpoint)
        error.http_status = http_status
        return Failure(error)
    if http_status != 200:
        return Failure(error_from_http_status(http_status, endpoint=endpoint))
    if "result" not in envelope:
        what = "has neither errors nor a result" if "error" in envelope else "is not an envelope"
        return Failure(
            UnexpectedResponseError(
                f"HTTP 200 but the reply {what}", endpoint=endpoint, http_status=http_status
            )
        )
    return Success(envelope["result"])


def reports_nothing_to_amend(error: KrakenAPIError) -> bool:
    """True when Kraken refused an AmendOrder because it would change nothing (the order
    already has those values): ``EOrder:No amendable parameters specified`` (UNCONFIRMED
    wording, kraken-ws.md section 2.3).

    >>> reports_nothing_to_amend(error_from_kraken(["EOrder:No amendable parameters specified"]))
    True
    """
    return any("no amendable parameters" in text.lower() for text in error.errors)


def reports_post_only(error: KrakenAPIError) -> bool:
    """True when Kraken refused an order or an amend because its price would take liquidity
    and it must rest (``post_only``): ``EOrder:Post only order`` (kraken-ws.md 4.2).

    >>> reports_post_only(error_from_kraken(["EOrder:Post only order"]))
    True
    >>> reports_post_only(error_from_kraken(["EOrder:Invalid order"]))
    False
    """
    return any("post only" in text.lower() for text in error.errors)


def reports_duplicate_order(error: KrakenAPIError) -> bool:
    """True when Kraken's answer says the order's client id is already in use.

    Kraken documents no string for this (kraken-api.md section 11, item 1);
    third-party clients assume ``EOrder:Duplicate order``. It is a hint, never the
    only safeguard: after a second send, any permanent refusal leads to a lookup.

    >>> reports_duplicate_order(error_from_kraken(["EOrder:Duplicate order"]))
    True
    """
    return any("duplicate" in text.lower() for text in (*error.errors, error.message))
