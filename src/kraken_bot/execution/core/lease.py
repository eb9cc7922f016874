"""Pure: what an account lease file says about its holder, written and read in one place.

The process that owns live trading on an API key (`shell._claims.AccountLease`) writes
who it is into the lease file it holds locked (`lease_record`); a second process that
finds the lock taken reads it back to name the holder in its refusal (`lease_holder`).
The file may be empty, cut short or written by something else: that still names a
holder, one that did not say who it is.

>>> from datetime import UTC, datetime
>>> lease_holder(lease_record(pid=42, since=datetime(2026, 1, 1, tzinfo=UTC)))
'pid 42 since 2026-01-01T00:00:00+00:00'
>>> lease_holder(b"")
'a process that did not say who it is'
"""

from __future__ import annotations

import json
from datetime import datetime

__all__ = ["lease_holder", "lease_record"]

_UNKNOWN = "a process that did not say who it is"


def lease_record(*, pid: int, since: datetime) -> bytes:
    """The bytes the holder writes into the lease file: its pid and when it took the lease."""
    return json.dumps({"pid": pid, "since": since.isoformat()}).encode()


def lease_holder(raw: bytes) -> str:
    """The holder named by a lease file's bytes (``pid N since T``), or an anonymous one."""
    try:
        data = json.loads(raw)
        return f"pid {int(data['pid'])} since {data['since']}"
    except (ValueError, TypeError, KeyError):
        return _UNKNOWN
