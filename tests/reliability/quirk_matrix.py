"""The readings of Kraken the OMS must be safe under: a pairwise covering array of quirks.

Every unconfirmed behaviour of Kraken is a `kraken_sim.Quirks` switch. These are the
ones that change the path the OMS takes (what an answer looks like, which error string
means what, what a QueryOrders with an unknown txid does, how an IOC remainder or a
crossing post-only order ends, what ClosedOrders costs). The campaign runs each
scenario under one row of `COVERING_ROWS`: every pair of (switch, value) settings
appears together in at least one row, so an interaction between two readings is
tried without running the full product (several thousand combinations).

`tally_key` names a setting in the figures (``quirk:post_only_crossing=reject``), so
the report can say, per reading of Kraken, how many scenarios ran under it and what
broke (nothing, it must say).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Final

from kraken_sim import Quirks

PATH_QUIRKS: Final[Mapping[str, tuple[object, ...]]] = {
    # how an error answer is shaped
    "result_on_error": (False, True),
    # a resend with the client id of an open order: a string the OMS knows, or one it does not
    "duplicate_cl_ord_id_error": ("EOrder:Duplicate order", "EGeneral:Invalid arguments:cl_ord_id"),
    # AddOrder's answer echoing the client id
    "echo_cl_ord_id": (False, True),
    # cancelling an order that is no longer open / never existed
    "cancel_not_open_error": ("EOrder:Unknown order", "EOrder:Invalid order"),
    "cancel_unknown_error": ("EOrder:Unknown order", "EOrder:Invalid order"),
    "cancel_count_as_string": (False, True),
    # a crossing post-only order: accepted then canceled, or refused at once
    "post_only_crossing": ("cancel", "reject"),
    # the status of an IOC order's unfilled remainder
    "ioc_remainder_status": ("expired", "canceled", "closed"),
    # QueryOrders with a txid Kraken does not know (or does not show yet)
    "query_orders_unknown": ("EOrder:Invalid order", "omit", "EOrder:Unknown order"),
    # what ClosedOrders costs on the REST counter
    "closed_orders_cost": (1, 2),
}


def _pairs(row: Mapping[str, object]) -> set[tuple[tuple[str, object], tuple[str, object]]]:
    items = sorted(row.items(), key=lambda kv: kv[0])
    return {(a, b) for a, b in itertools.combinations(items, 2)}


def _fill(
    seed: tuple[tuple[str, object], ...],
    names: Sequence[str],
    options: Mapping[str, Sequence[object]],
    wanted: set[tuple[tuple[str, object], tuple[str, object]]],
) -> dict[str, object]:
    """A row starting from ``seed``, each other switch set to the value covering most."""
    row: dict[str, object] = dict(seed)
    for name in names:
        if name in row:
            continue
        scores = [
            (sum(1 for pair in _pairs({**row, name: value}) if pair in wanted), -index)
            for index, value in enumerate(options[name])
        ]
        best = max(range(len(scores)), key=scores.__getitem__)
        row[name] = options[name][best]
    return row


def covering_rows(options: Mapping[str, Sequence[object]]) -> tuple[dict[str, object], ...]:
    """A pairwise covering array, built greedily and deterministically.

    Each row starts from one of the first uncovered pairs and fills the other switches
    with the values that cover the most pairs still missing; the best of those
    candidates is kept.

    >>> rows = covering_rows({"a": (1, 2), "b": ("x", "y"), "c": (True, False)})
    >>> len(rows) <= 6 and all(set(r) == {"a", "b", "c"} for r in rows)
    True
    """
    names = sorted(options)
    wanted = {
        ((a, va), (b, vb))
        for a, b in itertools.combinations(names, 2)
        for va in options[a]
        for vb in options[b]
    }
    rows: list[dict[str, object]] = []
    while wanted:
        seeds = sorted(wanted, key=repr)[:25]
        candidates = [_fill(seed, names, options, wanted) for seed in seeds]
        best = max(candidates, key=lambda row: len(_pairs(row) & wanted))
        wanted -= _pairs(best)
        rows.append(best)
    return tuple(rows)


COVERING_ROWS: Final = covering_rows(PATH_QUIRKS)
"""Every pair of path-changing quirk settings, together in at least one row."""


def quirks_of(row: Mapping[str, object]) -> Quirks:
    """The fake's `Quirks` for one row (every other switch at its default)."""
    return replace(Quirks(), **row)  # type: ignore[arg-type] # names checked by the test


def tally_key(name: str, value: object) -> str:
    """The figures' name for one setting (``quirk:closed_orders_cost=2``)."""
    return f"quirk:{name}={value}"
