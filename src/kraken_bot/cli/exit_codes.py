"""Documented exit codes of every ``krakked`` command (the README lists them too)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a non-zero exit means."""

    OK = 0
    FAILED = 1  # the command ran but its outcome is a failure (plan errors, broken invariant)
    USAGE = 2  # bad arguments, bad config file, bad plan or scenario file, missing extra
    EXCHANGE = 3  # Kraken (or the fake) unreachable, unavailable or answering nonsense
    DATABASE = 4  # the SQLite file (or nonce file) is locked, read-only, missing or not a database
    CREDENTIALS = 5  # API key/secret missing, or refused by Kraken
    LIVE_REFUSED = 6  # live mode asked for without all three opt-ins
    NOT_FOUND = 7  # no order with that id
    IN_USE = 8  # another `krakked run` runs on this account (named by pid)
    INTERNAL = 70  # a bug: please report it with the output of --debug
    INTERRUPTED = 130  # stopped with Ctrl-C
