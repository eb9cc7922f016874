"""Pure: the scope of a reconciliation pass: what the shell must read before deciding.

`kraken_bot.execution.shell._reconcile.Reconciler` gathers the facts that
`reconciliation.decide_reconciliation` decides on; which facts a pass needs is
decided here, from what it has already read:

* `listing_since`: how far back ClosedOrders is read (the look-back, widened to
  the oldest order in doubt);
* `strangers`: listed exchange orders no tracked order holds;
* `client_ids_to_resolve`: our client ids among them, to look up locally;
* `may_carry_our_userref` / `needs_userref_scan`: whether the store's userrefs,
  and recent given-up userref orders (`given_up_userref`), are needed;
* `claimers_to_check` / `held_claims`: which send claims are still held, so an
  order whose sender may still send it is never declared never sent.

>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> listing_since([], now=t, look_back=timedelta(hours=24))
datetime.datetime(2025, 12, 31, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from kraken_bot.execution.core.models import LocalOrder, OrderStatus
from kraken_bot.execution.core.reconciliation import is_local_id
from kraken_bot.kraken.types import OrderInfo

__all__ = [
    "claimers_to_check",
    "client_ids_to_resolve",
    "given_up_userref",
    "held_claims",
    "listing_since",
    "may_carry_our_userref",
    "needs_userref_scan",
    "strangers",
]

_GIVEN_UP = frozenset({OrderStatus.ERROR, OrderStatus.REJECTED})


def listing_since(
    doubtful: Iterable[LocalOrder], *, now: datetime, look_back: timedelta
) -> datetime:
    """Back to the oldest order in doubt (its first send, else its creation), and never
    less than ``look_back``: strangers (ours, unknown locally) closed within it are found
    even while orders are in doubt."""
    return min([now - look_back, *(o.first_sent_at or o.created_at for o in doubtful)])


def strangers(
    listed: Iterable[OrderInfo], tracked: Iterable[LocalOrder]
) -> tuple[list[OrderInfo], frozenset[str]]:
    """The listed orders whose txid no tracked order holds, and the tracked orders' txids."""
    tracked_txids = frozenset(o.kraken_order_id for o in tracked if o.kraken_order_id is not None)
    return [i for i in listed if i.txid not in tracked_txids], tracked_txids


def client_ids_to_resolve(found: Iterable[OrderInfo], owned: frozenset[str]) -> list[str]:
    """Client ids of ours (ids this layer makes) on strangers no local order owns by txid:
    the local orders holding them are looked up."""
    return [
        i.cl_ord_id
        for i in found
        if i.txid not in owned and i.cl_ord_id is not None and is_local_id(i.cl_ord_id)
    ]


def may_carry_our_userref(found: Iterable[OrderInfo]) -> bool:
    """Some stranger has no client id but a userref: the store's userrefs are needed."""
    return any(i.cl_ord_id is None and i.userref for i in found)


def needs_userref_scan(
    found: Iterable[OrderInfo],
    owned: frozenset[str],
    *,
    strategy_userrefs: Mapping[int, str],
    our_userrefs: frozenset[int],
) -> bool:
    """Some unowned stranger without a client id carries a userref of ours (a strategy's,
    or one on a stored order): recent given-up orders must be searched for its owner."""
    return any(
        i.cl_ord_id is None
        and i.userref is not None
        and (i.userref in strategy_userrefs or i.userref in our_userrefs)
        for i in found
        if i.txid not in owned
    )


def given_up_userref(recent: Iterable[LocalOrder]) -> tuple[LocalOrder, ...]:
    """The given-up (``error``, ``rejected``) orders carrying a userref among ``recent``."""
    return tuple(o for o in recent if o.userref is not None and o.status in _GIVEN_UP)


def claimers_to_check(tracked: Iterable[LocalOrder], *, owner: str) -> frozenset[str]:
    """The other service instances holding send claims on orders without a txid: whether
    each is still alive must be read."""
    return frozenset(
        o.claimed_by
        for o in tracked
        if o.claimed_by is not None and o.kraken_order_id is None and o.claimed_by != owner
    )


def held_claims(
    tracked: Sequence[LocalOrder],
    *,
    owner: str,
    held_here: frozenset[str],
    alive: frozenset[str],
) -> frozenset[str]:
    """Local ids of orders without a txid whose sender may still send them: claimed by
    this service and still held by one of its senders (``held_here``), or claimed by
    another service instance that is ``alive``."""
    claimed: set[str] = set()
    for order in tracked:
        claimer = order.claimed_by
        if claimer is None or order.kraken_order_id is not None:
            continue
        if (order.local_id in held_here) if claimer == owner else (claimer in alive):
            claimed.add(order.local_id)
    return frozenset(claimed)
