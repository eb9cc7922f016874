"""Documented exit codes of every ``krakked`` command."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a non-zero exit means (also listed in the README)."""

    OK = 0
    FAILED = 1  # the command ran but its outcome is a failure (plan errors, broken invariant)
    USAGE = 2  # bad arguments, bad config file, bad plan file
    EXCHANGE = 3  # Kraken (or the fake) unreachable or refusing us
    DATABASE = 4  # the SQLite file is locked, read-only, or not a database
    CREDENTIALS = 5  # API key/secret missing or rejected
    LIVE_REFUSED = 6  # live mode asked for without all three opt-ins
