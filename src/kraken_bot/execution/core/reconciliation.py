"""Pure: reconciliation's decisions, from local orders and what Kraken said, to events.

Rules
-----

1. **The exchange is the truth about existence.** An exchange order carrying
   one of our client order ids belongs to the local order with that id,
   whatever its local status (``error``, ``rejected``, ``unknown`` included):
   it is re-linked, never adopted twice and never ignored. A userref order of a
   configured strategy re-links to a given-up local order with the same
   fingerprint (pair, side, type, volume, price, opened after our send).
2. **Never sent is a proof, not a guess.** An order is declared never sent
   only when no AddOrder was attempted for it *and* no sender can still send
   it: its send claim is not held by a live service instance.
3. **Absent is a proof too.** An order whose send is in doubt is declared
   absent only after its AddOrder deadline plus the lookup margin (Kraken
   drops what it did not place by its deadline), when the listings were read,
   when Kraken never proved it holds it, and when no live sender still owns it.
4. **Unknown is a state, not silence.** An order with a txid that Kraken says
   it does not know, past its visibility window, becomes ``unknown`` (named
   in the report); one still inside the window is left alone.
5. **Decisions carry their evidence.** Every event says what it was decided on
   (`kraken_bot.execution.core.lifecycle` rule 7), so the ledger refuses it if
   another writer changed the order in between; nothing here needs a lock.

Theory of operation
-------------------

The shell gathers (`ExchangeView`: QueryOrders answers, the txids Kraken did
not know, OpenOrders and ClosedOrders listings; `Situation`: the tracked local
orders, local orders that own the listed client ids, which send claims are
alive, the exchange time), calls `decide_reconciliation` once, and applies the
returned `Fold` and `Adopt` decisions through the ledger. `Outcome` counts
what was decided, for the report.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> view = ExchangeView(queried={}, unknown_txids=frozenset(), listed=(), listed_ok=True)
>>> situation = Situation(tracked=(), now=t, lookup_margin=timedelta(seconds=5),
...     unknown_after=timedelta(seconds=60))
>>> decide_reconciliation(situation, view).decisions
()
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from pyrsistent import pmap

from kraken_bot.execution.core._lifecycle_apply import matches_identity
from kraken_bot.execution.core.lifecycle import TRANSITIONS, observed_kind
from kraken_bot.execution.core.models import (
    LIVE_STATUSES,
    GaveUp,
    LocalOrder,
    NotFoundOnExchange,
    Observed,
    OrderEvent,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from kraken_bot.kraken.types import OrderInfo

__all__ = [
    "LOCAL_ID_MARK",
    "Adopt",
    "Decision",
    "ExchangeView",
    "Fold",
    "Outcome",
    "Situation",
    "adopted_order",
    "claim_is_live",
    "decide_reconciliation",
    "is_local_id",
    "observed_status",
    "provably_unsent",
    "send_is_settled",
]

LOCAL_ID_MARK: Final = "6b6b"
"""The first four hex digits of every local id ("kk"): how this layer's orders are told
from orders another tool placed on the account (`kraken_bot.execution.shell.ids` makes them)."""
_LOCAL_ID: Final = re.compile(
    rf"^{LOCAL_ID_MARK}[0-9a-f]{{4}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-[89ab][0-9a-f]{{3}}-[0-9a-f]{{12}}$"
)
_GIVEN_UP: Final = frozenset({OrderStatus.ERROR, OrderStatus.REJECTED})
NEVER_SENT_MESSAGE: Final = (
    "never sent: its sender stopped before sending it;"
    " a new plan will ask again if the position still needs it"
)


def is_local_id(text: str | None) -> bool:
    """True for ids this layer makes: version-4 UUIDs starting ``6b6b`` ("kk").

    >>> is_local_id("6b6b0000-0000-4000-8000-000000000000"), is_local_id("6d1b345e-2821")
    (True, False)
    """
    return text is not None and _LOCAL_ID.match(text) is not None


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeView:
    """What one pass read from Kraken.

    Attributes:
        queried: QueryOrders answers by txid.
        unknown_txids: txids Kraken said it does not know.
        listed: OpenOrders and ClosedOrders (since the oldest order in doubt).
        listed_ok: both listings were read; without them absence proves nothing.
    """

    queried: Mapping[str, OrderInfo]
    unknown_txids: frozenset[str]
    listed: tuple[OrderInfo, ...]
    listed_ok: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Situation:
    """The local side of a pass, gathered fresh from the ledger.

    Attributes:
        tracked: local orders reconciliation follows (live, and ``unknown``).
        settled: finished local orders the listings show with more fills than they hold
            (a fill that landed while a cancel was on its way): folded from the listing.
        now: exchange time (Kraken's clock as measured), for windows and deadlines.
        lookup_margin: how long past an AddOrder deadline absence starts to count.
        unknown_after: how long after its last send Kraken may not yet list a txid.
        live_claims: local ids of orders whose sender may still send them (the claim's
            owner is alive and still holds the order).
        by_client_id: local orders (any status) owning client ids seen in the listings.
        given_up_userref: recent given-up local orders carrying a strategy userref.
        owned_txids: txids some local order already owns.
        strategy_userrefs: configured strategy userrefs -> strategy id.
        our_userrefs: every userref this layer uses (configured, or on a stored order):
            an exchange order carrying one, and no client id, is ours.
        adopt: adopt strangers that carry our ids (false in paper and dry run).
    """

    tracked: tuple[LocalOrder, ...]
    now: datetime
    lookup_margin: timedelta
    settled: tuple[LocalOrder, ...] = ()
    unknown_after: timedelta
    live_claims: frozenset[str] = frozenset()
    by_client_id: Mapping[str, LocalOrder] = field(default_factory=lambda: pmap({}))
    given_up_userref: tuple[LocalOrder, ...] = ()
    owned_txids: frozenset[str] = frozenset()
    strategy_userrefs: Mapping[int, str] = field(default_factory=lambda: pmap({}))
    our_userrefs: frozenset[int] = frozenset()
    adopt: bool = True


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True, kw_only=True)
class Fold:
    """Fold ``event`` into the local order ``local_id`` (through the ledger)."""

    local_id: str
    event: OrderEvent
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Adopt:
    """Record an exchange order of ours that no local order owns."""

    info: OrderInfo
    strategy_id: str | None


Decision = Fold | Adopt


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The decisions of one pass, and what they amount to.

    Attributes:
        decisions: to apply, in order.
        proven_absent: orders declared never sent or absent.
        in_doubt: orders whose fate must wait (inside a window, a live sender, no listings).
        unknown: local ids Kraken does not know (past their window), newly or still.
    """

    decisions: tuple[Decision, ...]
    proven_absent: int = 0
    in_doubt: int = 0
    unknown: tuple[str, ...] = ()


# ---------------------------------------------------------------- predicates


def claim_is_live(order: LocalOrder, live_claims: frozenset[str]) -> bool:
    """True when the order's sender may still send it (the shell found its claim alive)."""
    return order.local_id in live_claims


def provably_unsent(order: LocalOrder, live_claims: frozenset[str] = frozenset()) -> bool:
    """Rule 2, the one test of "never sent": no AddOrder left for this order and none will.

    No send attempt is recorded (the write-ahead comes before every send), Kraken never
    proved it holds the order, and no live sender holds its claim. Callers add what their
    situation needs (a resumed plan also asks that the order be pending or given up).
    """
    return (
        order.attempts == 0
        and not order.exists_on_exchange
        and not claim_is_live(order, live_claims)
    )


def send_is_settled(order: LocalOrder, now: datetime, margin: timedelta) -> bool:
    """True once an AddOrder in doubt can no longer be placed (deadline plus margin passed)."""
    deadline = order.send_deadline
    return deadline is not None and now >= deadline + margin


def observed_status(info: OrderInfo) -> OrderStatus:
    """The local status Kraken's order info implies: the lifecycle's table, for a new record
    (a ``pending`` order folding the observation), so adoption and folding cannot disagree.

    >>> from kraken_bot.kraken.types import parse_order_info
    >>> info = parse_order_info("OX", {"status": "closed", "vol": "1", "vol_exec": "1"})
    >>> observed_status(info.unwrap()).value
    'filled'
    """
    return TRANSITIONS[(OrderStatus.PENDING, observed_kind(info))]


# ---------------------------------------------------------------- deciding


@dataclass(slots=True)
class _Pass:
    """What the pass has decided so far (private, mutable only inside one decision)."""

    decisions: list[Decision] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    absent: int = 0
    doubt: int = 0
    unknown: list[str] = field(default_factory=list)

    def fold(self, order: LocalOrder, event: OrderEvent, detail: str) -> None:
        self.decisions.append(Fold(local_id=order.local_id, event=event, detail=detail))


def _index_listed(infos: Sequence[OrderInfo]) -> dict[str | tuple[str, int], list[OrderInfo]]:
    index: dict[str | tuple[str, int], list[OrderInfo]] = {}
    for info in infos:
        if info.cl_ord_id is not None:
            index.setdefault(info.cl_ord_id, []).append(info)
        if info.userref is not None:
            index.setdefault((info.pair, info.userref), []).append(info)
    return index


def _with_txid(order: LocalOrder, situation: Situation, view: ExchangeView, run: _Pass) -> None:
    txid = order.kraken_order_id
    assert txid is not None
    info = view.queried.get(txid)
    if info is not None:
        run.taken.add(txid)
        run.fold(order, Observed(at=situation.now, info=info), "reconciled")
        return
    if txid not in view.unknown_txids:
        return  # not asked (or the query failed): nothing learned
    # The window runs from the last send (its deadline bounds it), not the first one.
    last_sent = order.send_deadline or order.first_sent_at or order.created_at
    if situation.now < last_sent + situation.unknown_after:
        run.doubt += 1  # new orders can be briefly missing: inside the visibility window
        return
    run.unknown.append(order.local_id)
    if order.status is not OrderStatus.UNKNOWN:
        message = (
            f"Kraken does not know txid {txid} (asked {situation.now.isoformat()}):"
            " not working, not finished; check the account, then cancel it locally"
        )
        run.fold(order, NotFoundOnExchange(at=situation.now, message=message), "not found")


def _late_fills(situation: Situation, view: ExchangeView, run: _Pass) -> None:
    """A finished order the listings show with fills it does not hold takes them in
    (canceled or expired with more filled, or filled after all): a fill is never lost."""
    listed = {info.txid: info for info in view.listed}
    for order in situation.settled:
        txid = order.kraken_order_id
        info = listed.get(txid) if txid is not None else None
        if info is None or info.volume_executed <= order.cumulative_base_filled:
            continue
        run.taken.add(info.txid)
        run.fold(order, Observed(at=situation.now, info=info), "late fill")


def _match_listed(
    order: LocalOrder,
    index: Mapping[str | tuple[str, int], list[OrderInfo]],
    situation: Situation,
    run: _Pass,
) -> OrderInfo | None:
    key = order.client_order_id if order.userref is None else (order.pair, order.userref)
    if key is None:
        return None
    for info in index.get(key, ()):
        if info.txid in run.taken or info.txid in situation.owned_txids:
            continue
        if matches_identity(order, info):
            return info
    return None


def _without_txid(
    order: LocalOrder,
    index: Mapping[str | tuple[str, int], list[OrderInfo]],
    situation: Situation,
    view: ExchangeView,
    run: _Pass,
) -> None:
    match = _match_listed(order, index, situation, run) if view.listed_ok else None
    if match is not None:
        run.taken.add(match.txid)
        run.fold(order, Observed(at=situation.now, info=match), "found by identity")
        return
    if claim_is_live(order, situation.live_claims):
        run.doubt += 1  # its sender is alive and decides (rule 2, rule 3)
        return
    if provably_unsent(order):
        run.absent += 1
        run.fold(order, GaveUp(at=situation.now, message=NEVER_SENT_MESSAGE, never_sent=True), "")
        return
    settled = send_is_settled(order, situation.now, situation.lookup_margin)
    if not view.listed_ok or order.exists_on_exchange or not settled:
        run.doubt += 1
        return
    assert order.send_deadline is not None
    message = (
        f"not on the exchange after its AddOrder deadline ({order.send_deadline.isoformat()}):"
        " it was never placed"
    )
    run.absent += 1
    run.fold(order, GaveUp(at=situation.now, message=message, deadline=order.send_deadline), "")


def _is_ours(info: OrderInfo, situation: Situation) -> bool:
    if info.cl_ord_id is not None:
        return is_local_id(info.cl_ord_id)
    userref = info.userref
    return userref is not None and (
        userref in situation.strategy_userrefs or userref in situation.our_userrefs
    )


def _given_up_owner(info: OrderInfo, situation: Situation, run: _Pass) -> LocalOrder | None:
    if info.cl_ord_id is not None:
        return situation.by_client_id.get(info.cl_ord_id)
    for order in situation.given_up_userref:
        if (
            order.local_id not in {d.local_id for d in run.decisions if isinstance(d, Fold)}
            and order.kraken_order_id is None
            and order.status in _GIVEN_UP
            and order.attempts > 0
            and matches_identity(order, info)
        ):
            return order
    return None


def _strangers(situation: Situation, view: ExchangeView, run: _Pass) -> None:
    for info in view.listed:
        if info.txid in run.taken or info.txid in situation.owned_txids:
            continue
        if not _is_ours(info, situation):
            continue
        owner = _given_up_owner(info, situation, run)
        run.taken.add(info.txid)
        if owner is not None:
            run.fold(owner, Observed(at=situation.now, info=info), "found on the exchange")
        elif situation.adopt:
            strategy = situation.strategy_userrefs.get(info.userref) if info.userref else None
            run.decisions.append(Adopt(info=info, strategy_id=strategy))


def decide_reconciliation(situation: Situation, view: ExchangeView) -> Outcome:
    """Decide what one reconciliation pass changes (see the module docstring).

    Tracked orders with a txid fold in their QueryOrders answer (or become
    ``unknown``); orders in doubt are found by identity in the listings, left
    alone, or declared absent; exchange orders of ours that no local order
    owns are re-linked or adopted.
    """
    run = _Pass()
    index = _index_listed(view.listed)
    for order in situation.tracked:
        if order.kraken_order_id is not None:
            _with_txid(order, situation, view, run)
        elif order.status in LIVE_STATUSES:
            _without_txid(order, index, situation, view, run)
    if view.listed_ok:
        _late_fills(situation, view, run)
        _strangers(situation, view, run)
    return Outcome(
        decisions=tuple(run.decisions),
        proven_absent=run.absent,
        in_doubt=run.doubt,
        unknown=tuple(run.unknown),
    )


def adopted_order(
    info: OrderInfo,
    *,
    local_id: str,
    strategy_id: str | None,
    rest_pair: str | None,
    now: datetime,
) -> LocalOrder:
    """A local record for an exchange order of ours that no local order owned.

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.kraken.types import parse_order_info
    >>> info = parse_order_info("OX", {"status": "open", "vol": "1", "vol_exec": "0",
    ...     "descr": {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "100"},
    ...     "userref": 7}).unwrap()
    >>> order = adopted_order(info, local_id="L9", strategy_id="s", rest_pair=None,
    ...     now=datetime(2026, 1, 1, tzinfo=UTC))
    >>> order.status.value, order.strategy_id, order.userref
    ('open', 's', 7)
    """
    opened = info.opened_at or now
    return LocalOrder(
        local_id=local_id,
        plan_id=None,
        strategy_id=strategy_id,
        pair=info.pair,
        side=Side(info.side) if info.side in {"buy", "sell"} else Side.BUY,
        order_type=OrderType.MARKET if info.order_type == "market" else OrderType.LIMIT,
        kraken_order_id=info.txid,
        userref=info.userref,
        client_order_id=info.cl_ord_id,
        requested_base_size=info.volume,
        requested_price=info.limit_price,
        status=observed_status(info),
        created_at=opened,
        updated_at=max(now, opened),
        cumulative_base_filled=info.volume_executed,
        avg_fill_price=info.avg_price,
        fee=info.fee,
        cost=info.cost,
        raw_response_json=info.raw,
        rest_pair=rest_pair,
        time_in_force=TimeInForce.GTC,
        attempts=1,
        first_sent_at=opened,
        close_reason=info.reason,
    )
