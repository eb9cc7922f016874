"""Pure: which files of a plan inbox are ready to execute, and in what order.

`krakked run --plans DIR` looks at ``DIR`` every ``run.poll_seconds``. The
documented way to drop a plan is write-then-rename: write ``plan.yaml.tmp`` (or
any name starting with a dot, or ending in ``.tmp`` / ``.part``), then rename it
to ``plan.yaml``; a rename is atomic, so the file is whole when it appears.

A writer that does not rename may be seen half-way. So a file is *ready* only
when it was seen at the same size and modification time on two looks in a row,
and a file that does not parse is *retried* while it is young (it may still be
being written) and *failed* only once it has stayed unchanged for
``settle_seconds``: a partial file is never executed half-read, and never
failed for being partial.

>>> a = Seen("b.yaml", size=10, mtime_ns=2)
>>> b = Seen("a.yaml", size=10, mtime_ns=1)
>>> [f.name for f in ready(current=(a, b), previous=(a,))]
['b.yaml']
>>> [f.name for f in arrival_order((a, b))]
['a.yaml', 'b.yaml']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "PLAN_SUFFIXES",
    "Seen",
    "Unreadable",
    "arrival_order",
    "is_plan_name",
    "ready",
    "unreadable_verdict",
]

PLAN_SUFFIXES: Final = (".yaml", ".yml", ".json")
_IN_PROGRESS: Final = (".tmp", ".part", ".partial", ".swp")


@dataclass(frozen=True, slots=True)
class Seen:
    """A file as one look at the inbox saw it."""

    name: str
    size: int
    mtime_ns: int


def is_plan_name(name: str) -> bool:
    """A plan file's name: ``*.yaml``, ``*.yml`` or ``*.json``, not hidden, not in progress.

    >>> [is_plan_name(n) for n in ("p.yaml", "p.JSON", ".p.yaml", "p.yaml.tmp", "p.txt")]
    [True, True, False, False, False]
    """
    lower = name.lower()
    if name.startswith(".") or lower.endswith(_IN_PROGRESS):
        return False
    return lower.endswith(PLAN_SUFFIXES)


def arrival_order(files: Iterable[Seen]) -> list[Seen]:
    """Oldest modification first; the name breaks ties (and orders a batch dropped at once)."""
    return sorted(files, key=lambda f: (f.mtime_ns, f.name))


def ready(*, current: Iterable[Seen], previous: Iterable[Seen]) -> list[Seen]:
    """The plan files seen unchanged on this look and the one before, in arrival order."""
    before = {f.name: f for f in previous}
    return arrival_order(f for f in current if is_plan_name(f.name) and before.get(f.name) == f)


class Unreadable(StrEnum):
    """What to do with a plan file that did not parse."""

    RETRY = "retry"
    """It may still be being written: look again later."""
    FAIL = "fail"
    """It stayed as it is long enough: it is broken; move it to ``failed/``."""


def unreadable_verdict(*, unchanged_for_seconds: float, settle_seconds: float) -> Unreadable:
    """A file that does not parse fails only after ``settle_seconds`` without a change.

    >>> unreadable_verdict(unchanged_for_seconds=0.5, settle_seconds=5).value
    'retry'
    >>> unreadable_verdict(unchanged_for_seconds=6, settle_seconds=5).value
    'fail'
    """
    return Unreadable.FAIL if unchanged_for_seconds >= settle_seconds else Unreadable.RETRY
