"""Pure: how a working limit order is moved: amend checks and ``maker_first`` routing.

**Amends.** `check_amend` says whether a live order may be amended to a new price and/or
size, and gives the wire strings, before anything is sent: the order must be on Kraken (a
txid) as a live limit order; the price must be positive and on the pair's tick; the size may
only shrink (a plan's delta is the most this layer ever sends) and must stay above what has
filled.

**Routing.** ``execution.routing: contract`` (the default) prices a limit order at the mid
plus or minus ``max_slippage_bps``, which crosses the spread and pays the taker fee.
``maker_first`` rests a post-only order at the touch (best bid for a buy, best ask for a
sell) and keeps it there:

* `entry_price`: the touch, never beyond the cap (`cap_price`: the mid at the order's
  arrival plus or minus ``max_slippage_bps``, on the tick, on the passive side).
* `decide_chase` (every tick of the service, for each working maker-first order):
  - past ``urgency_seconds`` since the first send: `Cross`: cancel, and send what remains as
    an IOC limit at the cap (marketable, never beyond it);
  - the touch moved away by at least ``chase_ticks`` ticks, or ``chase_seconds`` passed
    since the last move and the touch is elsewhere: `Amend` to the touch (capped);
  - otherwise `Keep`.
  An amend is only decided when the pair's trading counter has room for it
  (`amend_affordable`): under pressure the order waits, then crosses at urgency.
* `decide_repost`: a maker-first order canceled by Kraken because it would have taken
  liquidity (``Post only order``) with volume left: post it again at the touch.

Every price decided is on the tick, on the passive side of the cap, and every size is at
most what the order still has to fill: the property tests hold them to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

from returns.result import Failure, Result, Success

from kraken_bot.execution.core.models import LIVE_STATUSES, LocalOrder, OrderType, Side
from kraken_bot.kraken.orders import format_decimal
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction

__all__ = [
    "FOLLOW_UPS",
    "POST_ONLY_REASON",
    "Amend",
    "AmendWire",
    "ChaseSettings",
    "Cross",
    "Keep",
    "Repost",
    "Touch",
    "amend_affordable",
    "cap_price",
    "check_amend",
    "decide_chase",
    "decide_repost",
    "entry_price",
    "follow_up_parent",
    "follow_up_plan",
]

_BPS: Final = Decimal(10000)
POST_ONLY_REASON: Final = "Post only order"
"""Kraken's close reason for a post-only order that would have taken liquidity."""


# ---------------------------------------------------------------- amend checks


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendWire:
    """A checked amend: the new values and their wire strings (None: unchanged)."""

    price: Decimal | None
    size: Decimal | None
    price_text: str | None
    size_text: str | None


def check_amend(  # noqa: PLR0911 - one refusal per rule, each with its reason
    order: LocalOrder,
    *,
    price: Decimal | None,
    size: Decimal | None,
    tick_size: Decimal,
    pair_decimals: int,
    lot_decimals: int,
) -> Result[AmendWire, str]:
    """Whether ``order`` may be amended to ``price`` and/or ``size`` (see the module docstring).

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.execution.core.models import OrderStatus
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
    ...     side=Side.BUY, order_type=OrderType.LIMIT, kraken_order_id="OX", userref=None,
    ...     client_order_id="L1", requested_base_size=Decimal(1),
    ...     requested_price=Decimal("60000.0"), status=OrderStatus.OPEN, created_at=t,
    ...     updated_at=t)
    >>> check_amend(order, price=Decimal("60000.55"), size=None, tick_size=Decimal("0.1"),
    ...     pair_decimals=1, lot_decimals=8).failure()
    'limit price 60000.55 is not on the tick 0.1'
    >>> check_amend(order, price=Decimal(60010), size=Decimal("0.5"), tick_size=Decimal("0.1"),
    ...     pair_decimals=1, lot_decimals=8).unwrap().price_text
    '60010.0'
    """
    if order.status not in LIVE_STATUSES or order.kraken_order_id is None:
        return Failure(f"order {order.local_id} is not working on Kraken ({order.status.value})")
    if order.order_type is not OrderType.LIMIT:
        return Failure(f"order {order.local_id} is a {order.order_type.value} order: no limit")
    if price is None and size is None:
        return Failure("an amend needs a new price or size")
    if price is not None and (not price.is_finite() or price <= 0):
        return Failure(f"limit price {price} is not a positive number")
    if price is not None and price % tick_size != 0:
        return Failure(f"limit price {price} is not on the tick {tick_size}")
    if size is not None and not size.is_finite():
        return Failure(f"size {size} is not a number")
    if size is not None and size > order.requested_base_size:
        return Failure(
            f"size {size} is above the order's {order.requested_base_size}: an amend only"
            " shrinks an order"
        )
    if size is not None and size <= order.cumulative_base_filled:
        return Failure(f"size {size} is not above what has filled ({order.cumulative_base_filled})")
    if size is not None and size != size.quantize(Decimal(1).scaleb(-lot_decimals), ROUND_FLOOR):
        return Failure(f"size {size} has more than {lot_decimals} decimals")
    return Success(
        AmendWire(
            price=price,
            size=size,
            price_text=None if price is None else _on_places(price, pair_decimals),
            size_text=None if size is None else format_decimal(size, lot_decimals),
        )
    )


def _on_places(price: Decimal, places: int) -> str:
    return format_decimal(price.quantize(Decimal(1).scaleb(-places), ROUND_FLOOR), places)


# ---------------------------------------------------------------- maker first


@dataclass(frozen=True, slots=True, kw_only=True)
class ChaseSettings:
    """``execution.routing``'s knobs for ``maker_first``."""

    max_slippage_bps: Decimal
    chase_ticks: int
    chase_seconds: float
    urgency_seconds: float
    budget_fraction: float = 0.8
    """Amend only while the pair's trading counter stays below this share of its maximum."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Touch:
    """The best bid and ask of a pair (their age is checked where they are read)."""

    bid: Decimal
    ask: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Keep:
    """Leave the order where it is."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Amend:
    """Move the order to ``price`` (AmendOrder, post-only)."""

    price: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cross:
    """Cancel the order and send ``size`` as an IOC limit at ``price`` (the cap)."""

    price: Decimal
    size: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Repost:
    """Post ``size`` again (post-only) at ``price``: Kraken canceled it as crossing."""

    price: Decimal
    size: Decimal
    reason: str


def cap_price(
    side: Side, arrival_mid: Decimal, max_slippage_bps: Decimal, tick: Decimal
) -> Decimal:
    """The worst price the order may get: the arrival mid plus (buy) or minus (sell)
    ``max_slippage_bps``, rounded to the tick towards the mid (never beyond the cap).

    >>> cap_price(Side.BUY, Decimal(60000), Decimal(50), Decimal("0.1"))
    Decimal('60300.0')
    >>> cap_price(Side.SELL, Decimal("100.07"), Decimal(10), Decimal("0.01"))
    Decimal('99.97')
    """
    offset = arrival_mid * max_slippage_bps / _BPS
    if side is Side.BUY:
        return _to_tick(arrival_mid + offset, tick, ROUND_FLOOR)
    return _to_tick(arrival_mid - offset, tick, ROUND_CEILING)


def _to_tick(value: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return ((value / tick).to_integral_value(rounding) * tick).quantize(tick)


def _within(side: Side, price: Decimal, cap: Decimal) -> Decimal:
    return min(price, cap) if side is Side.BUY else max(price, cap)


def _beyond(side: Side, price: Decimal, cap: Decimal) -> bool:
    return price > cap if side is Side.BUY else price < cap


def entry_price(side: Side, touch: Touch, cap: Decimal, tick: Decimal) -> Decimal:
    """Where a maker-first order rests: the touch on its own side, never beyond the cap.

    >>> t = Touch(bid=Decimal("59990.0"), ask=Decimal("60010.0"))
    >>> entry_price(Side.BUY, t, Decimal("60300.0"), Decimal("0.1"))
    Decimal('59990.0')
    >>> entry_price(Side.SELL, t, Decimal("60020.0"), Decimal("0.1"))
    Decimal('60020.0')
    """
    own = touch.bid if side is Side.BUY else touch.ask
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return _within(side, _to_tick(own, tick, rounding), cap)


def amend_affordable(level: float, maximum: float, cost: float, fraction: float) -> bool:
    """True when the pair's trading counter can take ``cost`` and stay below ``fraction``
    of its maximum (``maximum`` 0: no limit is modelled).

    >>> amend_affordable(40.0, 60.0, 4.0, 0.8), amend_affordable(46.0, 60.0, 4.0, 0.8)
    (True, False)
    """
    return maximum <= 0 or level + cost <= maximum * fraction


def decide_chase(
    order: LocalOrder,
    *,
    touch: Touch,
    cap: Decimal,
    tick: Decimal,
    now: datetime,
    last_move: datetime,
    settings: ChaseSettings,
    amend_room: bool,
) -> Keep | Amend | Cross:
    """What to do with a working maker-first order (see the module docstring)."""
    remaining = order.unfilled_base_size
    current = order.requested_price
    if remaining <= 0 or current is None or order.cancel_requested_at is not None:
        return Keep(reason="nothing to move")
    sent = order.first_sent_at or order.created_at
    if now >= sent + timedelta(seconds=settings.urgency_seconds):
        return _at_urgency(
            order.side, touch, cap, (current, remaining), settings=settings, amend_room=amend_room
        )
    target = entry_price(order.side, touch, cap, tick)
    if target == current:
        return Keep(reason="at the touch")
    moved_ticks = abs(target - current) / tick
    stale = now >= last_move + timedelta(seconds=settings.chase_seconds)
    if moved_ticks < settings.chase_ticks and not stale:
        return Keep(reason=f"the touch is {moved_ticks} tick(s) away: not yet")
    if not amend_room:
        return Keep(reason="the trading counter has no room for an amend")
    return Amend(price=target, reason=f"the touch moved to {target}")


def _at_urgency(
    side: Side,
    touch: Touch,
    cap: Decimal,
    order: tuple[Decimal, Decimal],
    *,
    settings: ChaseSettings,
    amend_room: bool,
) -> Keep | Amend | Cross:
    """Past ``urgency_seconds``: cross at the cap, unless the market is past it (an IOC there
    would take nothing): then wait at the cap for the market to come back."""
    current, remaining = order
    if not _beyond(side, touch.ask if side is Side.BUY else touch.bid, cap):
        waited = f"{settings.urgency_seconds:g} s"
        return Cross(
            price=cap, size=remaining, reason=f"unfilled {waited} after it was sent: cross"
        )
    if current != cap and amend_room:
        return Amend(price=cap, reason="the market is past the cap: wait at the cap")
    return Keep(reason="the market is past the cap: the order waits at it")


def decide_repost(order: LocalOrder, *, touch: Touch, cap: Decimal, tick: Decimal) -> Repost | None:
    """A maker-first order Kraken canceled as crossing, with volume left: post it again."""
    remaining = order.unfilled_base_size
    if order.close_reason != POST_ONLY_REASON or remaining <= 0 or order.is_live:
        return None
    price = entry_price(order.side, touch, cap, tick)
    return Repost(price=price, size=remaining, reason="canceled as crossing: post again")


FOLLOW_UPS: Final = ("cross", "repost", "replace")
"""The kinds of follow-up plan the router sends (`follow_up_plan`)."""

_FOLLOW_UP_ID: Final = re.compile(r"^(?P<root>.*):(?:cross|repost|replace):(?P<parent>[^:]+)$")


def follow_up_parent(plan_id: str | None) -> str | None:
    """The local id of the order a follow-up plan (``{plan}:{kind}:{local_id}``) continues,
    or None for any other plan.

    >>> follow_up_parent("p1:repost:abc"), follow_up_parent("p1:repost:abc:cross:def")
    ('abc', 'def')
    >>> follow_up_parent("p1"), follow_up_parent("p1:reprice:abc")
    (None, None)
    """
    match = _FOLLOW_UP_ID.match(plan_id or "")
    return None if match is None else match.group("parent")


def follow_up_plan(order: LocalOrder, kind: str, size: Decimal, now: datetime) -> ExecutionPlan:
    """The one-action plan ``{plan}:{kind}:{local_id}`` that sends ``size`` more of
    ``order`` (same pair, side, strategy and userref): a reprice, or one of `FOLLOW_UPS`. Its
    id is the order's, so deciding it twice sends it once."""
    buying = order.side is Side.BUY
    action = RiskAdjustedAction(
        pair=order.pair,
        strategy_id=order.strategy_id,
        action_type=ActionType.INCREASE if buying else ActionType.REDUCE,
        current_base_size=Decimal(0) if buying else size,
        target_base_size=size if buying else Decimal(0),
        userref=order.userref,
    )
    return ExecutionPlan(
        plan_id=f"{order.plan_id or 'adopted'}:{kind}:{order.local_id}",
        created_at=now,
        actions=(action,),
    )
