"""Pure: how the maker-first router works each order it watches, between its reads and sends.

`kraken_bot.execution.core.routing` decides where a working order goes (`decide_chase`) and
whether a crossed one is posted again (`decide_repost`). The router in the shell
(`kraken_bot.execution.shell._route.MakerFirstRouter`) reads the book, the ledger and the
rate counter, and sends; everything else it decides is here:

* which orders it works (`is_maker_first`) and how often it looks (`poll_seconds`,
  `next_look`, `look_due`);
* what a look does with one order (`triage`): forget it (its pair or its chain's arrival
  mid is unknown), settle it (no longer live: post again what Kraken canceled as crossing,
  `Settle`), leave it to its sender (not acknowledged yet), or chase it (`Chase`), with
  the amend only when the pair's trading counter has room (`room_to_amend`);
* what an amend Kraken refused means (`replace_after_refusal`): the touch moved again
  (look next time), or the order cannot be amended (cancel it and post the rest anew);
* what a follow-up sends: what a canceled order left (`left_to_send`), crossing as an IOC
  limit at the contract's pricing (`crossing`), at a slippage from today's mid that lands
  on the chain's cap and never beyond it (`held_to_cap`).

>>> poll_seconds(30.0), poll_seconds(1.0), poll_seconds(600.0)
(10.0, 1.0, 10.0)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from kraken_bot._enums import Routing
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import LocalOrder, OrderType, Side, TimeInForce
from kraken_bot.execution.core.routing import (
    ChaseSettings,
    Repost,
    Touch,
    amend_affordable,
    cap_price,
    decide_repost,
)
from kraken_bot.kraken.errors import OrderRejectedError, reports_post_only
from kraken_bot.kraken.ratelimit import amend_cost

__all__ = [
    "Chase",
    "Forget",
    "Settle",
    "Unacknowledged",
    "chase_settings",
    "crossing",
    "held_to_cap",
    "is_maker_first",
    "left_to_send",
    "look_due",
    "next_look",
    "poll_seconds",
    "replace_after_refusal",
    "room_to_amend",
    "triage",
]

_BPS: Final = Decimal(10000)
_CENT: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class Forget:
    """Stop working the order: its pair, or the mid its chain arrived at, is unknown."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settle:
    """The order is no longer live: stop working it, after posting ``repost`` (held to
    ``cap``) when Kraken canceled it as crossing with volume left."""

    repost: Repost | None
    cap: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Unacknowledged:
    """Live but without a txid yet: its sender finishes it first (look again next time)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Chase:
    """Live on Kraken: decide its move (`routing.decide_chase`) under ``cap``."""

    cap: Decimal


def is_maker_first(order: LocalOrder) -> bool:
    """True for an order the router works: a post-only limit order, not IOC, priced from a
    mid it arrived at."""
    return (
        order.order_type is OrderType.LIMIT
        and order.post_only
        and order.reference_price is not None
        and order.time_in_force is not TimeInForce.IOC
    )


def poll_seconds(chase_seconds: float) -> float:
    """Seconds between looks at the book: half the chase period, within 1 to 10 s."""
    return max(1.0, min(10.0, chase_seconds / 2))


def chase_settings(config: ExecutionConfig) -> ChaseSettings:
    """``execution``'s maker-first knobs, as the chase decision takes them."""
    return ChaseSettings(
        max_slippage_bps=config.max_slippage_bps,
        chase_ticks=config.chase_ticks,
        chase_seconds=config.chase_seconds,
        urgency_seconds=config.urgency_seconds,
    )


def next_look(*, watching: bool, now: float, poll: float) -> float | None:
    """When (monotonic seconds) to look again: a ``poll`` from ``now`` while orders are
    watched, never (None) when none is.

    >>> next_look(watching=True, now=100.0, poll=5.0), next_look(watching=False, now=1, poll=5)
    (105.0, None)
    """
    return now + poll if watching else None


def look_due(next_due: float | None, *, now: float) -> bool:
    """True when a look is due at ``now`` (monotonic seconds); never without a schedule.

    >>> look_due(105.0, now=104.9), look_due(105.0, now=105.0), look_due(None, now=1e9)
    (False, True, False)
    """
    return next_due is not None and now >= next_due


def triage(
    order: LocalOrder,
    *,
    touch: Touch,
    tick: Decimal | None,
    arrival: Decimal | None,
    max_slippage_bps: Decimal,
) -> Forget | Settle | Unacknowledged | Chase:
    """What a look does with ``order`` at ``touch`` (see the module docstring).

    Args:
        tick: the pair's tick size (None: the pair is unknown).
        arrival: the mid when the order's chain began (its first order's reference price;
            None: unknown). The cap is always that one's: a follow-up is held to it.
        max_slippage_bps: the configured slippage the cap allows from ``arrival``.
    """
    if tick is None or arrival is None:
        return Forget()
    cap = cap_price(order.side, arrival, max_slippage_bps, tick)
    if not order.is_live:
        return Settle(repost=decide_repost(order, touch=touch, cap=cap, tick=tick), cap=cap)
    if order.kraken_order_id is None:
        return Unacknowledged()
    return Chase(cap=cap)


def room_to_amend(level: float, maximum: float, settings: ChaseSettings) -> bool:
    """True when the pair's trading counter (``level`` of ``maximum``) can take an amend of
    unknown age (the dearest) and stay below the settings' share of its maximum.

    >>> from kraken_bot.config import ExecutionConfig
    >>> settings = chase_settings(ExecutionConfig())
    >>> room_to_amend(40.0, 60.0, settings), room_to_amend(45.0, 60.0, settings)
    (True, False)
    """
    return amend_affordable(level, maximum, float(amend_cost(None)), settings.budget_fraction)


def replace_after_refusal(error: Exception) -> bool:
    """After an amend was refused: True when the order is to be canceled and what is left
    posted anew (Kraken will not amend it); False when the router just looks again next
    time (refused before sending, as the order closed meanwhile; or refused by Kraken as
    crossing, as the touch moved again before the amend arrived).

    >>> from kraken_bot.kraken.errors import error_from_kraken
    >>> replace_after_refusal(error_from_kraken(["EOrder:Post only order"]))
    False
    >>> replace_after_refusal(error_from_kraken(["EOrder:Invalid order"]))
    True
    """
    return isinstance(error, OrderRejectedError) and not reports_post_only(error)


def left_to_send(final: LocalOrder) -> Decimal | None:
    """What a follow-up sends after ``final`` was canceled: what it left unfilled; None
    when nothing is left or it still works (the cancel did not take)."""
    remaining = final.unfilled_base_size
    if final.is_live or remaining <= 0:
        return None
    return remaining


def crossing(config: ExecutionConfig) -> ExecutionConfig:
    """How a cross is sent: the contract's pricing, as an IOC limit that may take
    liquidity (`held_to_cap` then keeps it at the cap)."""
    return replace(config, routing=Routing.CONTRACT, time_in_force=TimeInForce.IOC, post_only=False)


def held_to_cap(
    execution: ExecutionConfig,
    *,
    side: Side,
    mid: Decimal,
    cap: Decimal,
    max_slippage_bps: Decimal,
) -> ExecutionConfig | None:
    """``execution`` at the slippage that lands on ``cap`` from today's ``mid`` (rounded
    down to a hundredth of a basis point, never above ``max_slippage_bps``); None when
    the market is already past the cap.

    >>> from kraken_bot.config import ExecutionConfig
    >>> held = held_to_cap(ExecutionConfig(max_slippage_bps=Decimal(50)), side=Side.BUY,
    ...     mid=Decimal(100), cap=Decimal("100.3"), max_slippage_bps=Decimal(50))
    >>> held.max_slippage_bps
    Decimal('30.00')
    """
    room = (cap - mid) / mid if side is Side.BUY else (mid - cap) / mid
    if room < 0:
        return None
    bps = (room * _BPS).quantize(_CENT, rounding=ROUND_FLOOR)
    return replace(execution, max_slippage_bps=min(bps, max_slippage_bps))
