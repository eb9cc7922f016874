"""Pure: the one rule of the bounded memos that remember recent answers by key.

A memo keeps at most `KEPT` entries; a full one is emptied and starts again (the answers
are recomputed, never wrong): simpler and cheaper than least-recently-used order for
memos whose entries are asked for again soon or not at all.

>>> memo: dict[str, int] = {}
>>> remember(memo, "a", 1, kept=2); remember(memo, "b", 2, kept=2); remember(memo, "c", 3, kept=2)
>>> memo
{'c': 3}
"""

from __future__ import annotations

from typing import Final, TypeVar

__all__ = ["KEPT", "remember"]

_K = TypeVar("_K")
_V = TypeVar("_V")

KEPT: Final = 4096
"""Entries a memo keeps before it starts again."""


def remember(memo: dict[_K, _V], key: _K, value: _V, *, kept: int = KEPT) -> None:
    """Keep ``value`` for ``key`` in ``memo``, emptying it first when it is full."""
    if len(memo) >= kept:
        memo.clear()
    memo[key] = value
