"""Pure: one problem found while reading a value, and how a list of them reads.

Configuration files, plans, stored records and wire replies are all read the
same way: every problem is collected with the dotted path where it was found
(``execution.max_retries``, ``actions[2].target_base_size``, ``orders[2].status``)
and reported at once (`kraken_bot._reading` holds the rules, the path joining
and the reader that collect them). `ConfigProblem`, `PlanProblem` and
`CodecProblem` are this one type under the names their callers know.

>>> problem = Problem("actions[0].pair", "expected text, got 7")
>>> print(listing("plan p1", [problem]))
plan p1: 1 problem
  actions[0].pair: expected text, got 7
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CodecProblem", "ConfigProblem", "PlanProblem", "Problem", "listing"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem at a dotted path.

    ``refuses_live`` marks the live opt-in problem of a configuration: a source
    with one is refused with `LiveTradingRefusedError`, whatever else is wrong.
    """

    path: str
    message: str
    refuses_live: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


ConfigProblem = Problem
"""A problem in a configuration (at a key path such as ``execution.max_retries``)."""
PlanProblem = Problem
"""A problem inside a plan (``actions[2].target_base_size``)."""
CodecProblem = Problem
"""A problem inside a decoded record (``orders[2].status``)."""


def listing(name: str, problems: Sequence[Problem]) -> str:
    """``NAME: N problem(s)`` and one indented line per problem."""
    count = len(problems)
    lines = [f"{name}: {count} problem{'s' if count != 1 else ''}"]
    lines += [f"  {p}" for p in problems]
    return "\n".join(lines)
