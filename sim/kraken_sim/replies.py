"""Replies as the exchange hands them to a front, and how injected faults spoil them.

A :class:`Reply` is an HTTP answer plus two instructions for the front: ``sleep`` (seconds to
let pass on the exchange's clock before answering) and ``drop`` (answer nothing at all). The
exchange raises :class:`NoResponse` for a drop once its lock is released.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from kraken_sim.faults import Fault
from kraken_sim.wire import envelope_bytes

__all__ = ["JSON_HEADERS", "DropKind", "NoResponse", "Reply", "after_fault", "before_fault"]

DropKind = Literal["lost_response", "timeout"]
JSON_HEADERS: Final = {"Content-Type": "application/json; charset=utf-8"}
_STATUS_TEXT: Final = {
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout", 520: "Unknown Error",
}  # fmt: skip
_BEFORE_ERRORS: Final = {
    "service_unavailable": "EService:Unavailable",
    "busy": "EService:Busy",
    "invalid_nonce": "EAPI:Invalid nonce",
    "rate_limit": "EAPI:Rate limit exceeded",
    "internal_error": "EGeneral:Internal error",
}


class NoResponse(Exception):  # noqa: N818 - it is an outcome, not an error of the caller
    """The client gets no answer: ``kind`` is ``lost_response`` (executed) or ``timeout``."""

    def __init__(self, kind: DropKind, waited: float) -> None:
        super().__init__(f"{kind} after {waited:g} s")
        self.kind: DropKind = kind
        self.waited = waited


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """An HTTP answer (``status`` 0 when dropped) and what the front must do with it."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    sleep: float = 0.0
    drop: DropKind | None = None


def _dropped(kind: DropKind, wait: float | None) -> Reply:
    return Reply(status=0, headers={}, body=b"", sleep=wait or 0.0, drop=kind)


def _error(code: str, *, result_on_error: bool) -> Reply:
    body = envelope_bytes(None, (code,), result_on_error=result_on_error)
    return Reply(status=200, headers=JSON_HEADERS, body=body)


def before_fault(
    fault: Fault,
    connect_timeout: float | None,
    *,
    result_on_error: bool,
    now: float = 0.0,
    throttled_prefix: str = "EService: Throttled",
) -> Reply:
    """The answer to a request refused by a ``before`` fault (nothing was executed).

    A ``throttled`` fault names the unix time ``fault.seconds`` after ``now`` (rounded up).
    """
    if fault.kind == "timeout":
        return _dropped("timeout", connect_timeout)
    if fault.kind == "http_5xx":
        return html_error(fault.status)
    if fault.kind == "refused":
        return _error(fault.error, result_on_error=result_on_error)
    if fault.kind == "throttled":
        until = math.ceil(now + fault.seconds)
        return _error(f"{throttled_prefix}: {until}", result_on_error=result_on_error)
    return _error(_BEFORE_ERRORS[fault.kind], result_on_error=result_on_error)


def after_fault(
    fault: Fault, reply: Reply, read_timeout: float | None, *, result_on_error: bool
) -> Reply:
    """The answer to an executed request, spoiled by an ``after`` fault."""
    if fault.kind == "lost_response":
        return _dropped("lost_response", read_timeout)
    if fault.kind == "http_5xx":
        return html_error(fault.status)
    if fault.kind == "internal_error":
        return _error("EGeneral:Internal error", result_on_error=result_on_error)
    if fault.kind == "delay":
        if read_timeout is not None and fault.seconds > read_timeout:
            return _dropped("lost_response", read_timeout)
        return Reply(
            status=reply.status, headers=reply.headers, body=reply.body, sleep=fault.seconds
        )
    return reply


def html_error(status: int) -> Reply:
    """An edge-style error page: HTML for 5xx, Cloudflare's one-liner for 520."""
    text = _STATUS_TEXT.get(status, "Server Error")
    if status == 520:
        body = b"error code: 520"
        content_type = "text/plain; charset=UTF-8"
    else:
        title = f"{status} {text}"
        body = (
            f"<html><head><title>{title}</title></head>"
            f"<body><center><h1>{title}</h1></center></body></html>"
        ).encode()
        content_type = "text/html"
    return Reply(status=status, headers={"Content-Type": content_type}, body=body)
