"""Properties of the maker-first decisions and the amend checks (execution/core/routing.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from returns.pipeline import is_successful
from tests.builders import NOW, an_order_in

from kraken_bot.execution.core.models import OrderStatus, OrderType, Side
from kraken_bot.execution.core.routing import (
    POST_ONLY_REASON,
    Amend,
    ChaseSettings,
    Cross,
    Keep,
    Touch,
    amend_affordable,
    cap_price,
    check_amend,
    decide_chase,
    decide_repost,
    entry_price,
)
from kraken_bot.kraken.ratelimit import amend_cost

TICKS = st.sampled_from([Decimal("0.1"), Decimal("0.01"), Decimal("0.00001"), Decimal(1)])
SIDES = st.sampled_from([Side.BUY, Side.SELL])


@st.composite
def situations(draw):
    """A working order, the book now, and the settings, all on one tick grid."""
    tick = draw(TICKS)
    mid_ticks = draw(st.integers(min_value=1000, max_value=10**7))
    mid = mid_ticks * tick
    spread = draw(st.integers(min_value=1, max_value=50)) * tick
    move = draw(st.integers(min_value=-2000, max_value=2000)) * tick
    bid = max(tick, mid + move - spread)
    touch = Touch(bid=bid, ask=bid + spread)
    side = draw(SIDES)
    bps = Decimal(draw(st.integers(min_value=0, max_value=500)))
    cap = cap_price(side, mid, bps, tick)
    price = entry_price(side, Touch(bid=mid - spread, ask=mid + spread), cap, tick)
    size = Decimal(draw(st.integers(min_value=1, max_value=10**6))) / 1000
    filled = size * Decimal(draw(st.integers(min_value=0, max_value=99))) / 100
    order = an_order_in(
        OrderStatus.OPEN,
        side=side,
        requested_price=price,
        requested_base_size=size,
        cumulative_base_filled=filled.quantize(Decimal("0.000001")),
        reference_price=mid,
        first_sent_at=NOW,
    )
    settings = ChaseSettings(
        max_slippage_bps=bps,
        chase_ticks=draw(st.integers(min_value=1, max_value=50)),
        chase_seconds=draw(st.floats(min_value=1, max_value=600)),
        urgency_seconds=draw(st.floats(min_value=5, max_value=3600)),
    )
    elapsed = timedelta(seconds=draw(st.floats(min_value=0, max_value=4000)))
    return order, touch, cap, tick, settings, elapsed


def beyond(side: Side, price: Decimal, cap: Decimal) -> bool:
    return price > cap if side is Side.BUY else price < cap


@given(situations(), st.booleans())
def test_no_decision_goes_beyond_the_cap_off_the_tick_or_above_what_remains(situation, room):
    order, touch, cap, tick, settings, elapsed = situation
    decision = decide_chase(
        order,
        touch=touch,
        cap=cap,
        tick=tick,
        now=NOW + elapsed,
        last_move=NOW,
        settings=settings,
        amend_room=room,
    )
    remaining = order.requested_base_size - order.cumulative_base_filled
    if isinstance(decision, Amend | Cross):
        assert not beyond(order.side, decision.price, cap)
        assert decision.price % tick == 0
        assert decision.price > 0
    if isinstance(decision, Cross):
        assert decision.size == remaining  # never more than the order still has to fill
        assert elapsed >= timedelta(seconds=settings.urgency_seconds)
        # only while the cap still reaches the other side: an IOC past it would take nothing
        assert not beyond(order.side, touch.ask if order.side is Side.BUY else touch.bid, cap)
    if elapsed >= timedelta(seconds=settings.urgency_seconds) and remaining > 0:
        assert not isinstance(decision, Keep) or decision.reason != "at the touch"
    if isinstance(decision, Amend):
        assert room  # amends stay within the trading budget
        assert decision.price != order.requested_price
    if elapsed < timedelta(seconds=settings.urgency_seconds) and not room:
        assert isinstance(decision, Keep)


@given(situations())
def test_a_repost_is_at_the_touch_within_the_cap_for_what_remains(situation):
    order, touch, cap, tick, _, _ = situation
    canceled = an_order_in(
        OrderStatus.CANCELED,
        side=order.side,
        requested_price=order.requested_price,
        requested_base_size=order.requested_base_size,
        cumulative_base_filled=Decimal(0),
        reference_price=order.reference_price,
        close_reason=POST_ONLY_REASON,
    )
    repost = decide_repost(canceled, touch=touch, cap=cap, tick=tick)
    assert repost is not None
    assert not beyond(order.side, repost.price, cap)
    assert repost.price % tick == 0
    assert repost.size == canceled.requested_base_size
    assert decide_repost(order, touch=touch, cap=cap, tick=tick) is None  # still working


@given(
    level=st.floats(min_value=0, max_value=200),
    maximum=st.sampled_from([0.0, 60.0, 125.0, 180.0]),
    age=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
)
def test_an_affordable_amend_never_takes_the_counter_past_the_budget(level, maximum, age):
    cost = float(amend_cost(age))
    if amend_affordable(level, maximum, cost, 0.8) and maximum > 0:
        assert level + cost <= maximum * 0.8
    assert amend_cost(age) in (1, 2, 3, 4)


@given(
    side=SIDES,
    tick=TICKS,
    mid_ticks=st.integers(min_value=10, max_value=10**7),
    bps=st.integers(min_value=0, max_value=5000),
)
def test_the_cap_is_on_the_tick_and_no_further_than_the_slippage_allows(side, tick, mid_ticks, bps):
    mid = mid_ticks * tick
    cap = cap_price(side, mid, Decimal(bps), tick)
    assert cap % tick == 0
    allowed = mid * Decimal(bps) / 10000
    assert abs(cap - mid) <= allowed
    assert abs(cap - mid) > allowed - tick


def test_an_amend_is_checked_against_the_order_and_the_pair_before_it_is_sent():
    order = an_order_in(OrderStatus.OPEN)
    rules: dict[str, Any] = {"tick_size": Decimal("0.1"), "pair_decimals": 1, "lot_decimals": 8}
    assert is_successful(check_amend(order, price=Decimal("60100.0"), size=None, **rules))
    refusals = {
        "not working": an_order_in(OrderStatus.FILLED),
        "no limit": an_order_in(
            OrderStatus.OPEN, order_type=OrderType.MARKET, requested_price=None
        ),
        "no txid": an_order_in(OrderStatus.SUBMITTED, kraken_order_id=None),
    }
    for what, other in refusals.items():
        checked = check_amend(other, price=Decimal("60100.0"), size=None, **rules)
        assert not is_successful(checked), what
    size_rules = [
        (Decimal("0.012345678"), "decimals"),
        (order.requested_base_size + 1, "only shrinks"),
        (Decimal("NaN"), "not a number"),
        (Decimal("sNaN"), "not a number"),
        (Decimal("Infinity"), "not a number"),
    ]
    for size, reason in size_rules:
        assert reason in check_amend(order, price=None, size=size, **rules).failure()


def test_at_urgency_an_order_whose_market_ran_past_the_cap_waits_at_the_cap():
    order = an_order_in(
        OrderStatus.OPEN,
        side=Side.BUY,
        requested_price=Decimal("59990.0"),
        requested_base_size=Decimal("0.5"),
        cumulative_base_filled=Decimal(0),
        reference_price=Decimal("60000.0"),
        first_sent_at=NOW,
    )
    settings = ChaseSettings(
        max_slippage_bps=Decimal(50), chase_ticks=2, chase_seconds=20, urgency_seconds=120
    )
    cap = cap_price(Side.BUY, Decimal("60000.0"), Decimal(50), Decimal("0.1"))
    assert cap == Decimal("60300.0")
    late = NOW + timedelta(seconds=121)

    def decide(ask: str, room: bool = True, price: Decimal | None = order.requested_price):
        working = an_order_in(
            OrderStatus.OPEN,
            side=Side.BUY,
            requested_price=price,
            requested_base_size=order.requested_base_size,
            cumulative_base_filled=Decimal(0),
            reference_price=order.reference_price,
            first_sent_at=NOW,
        )
        touch = Touch(bid=Decimal(ask) - Decimal("2.0"), ask=Decimal(ask))
        return decide_chase(
            working, touch=touch, cap=cap, tick=Decimal("0.1"), now=late, last_move=NOW,
            settings=settings, amend_room=room,
        )  # fmt: skip

    assert isinstance(decide("60300.0"), Cross)  # the cap still reaches the ask: cross
    assert decide("60300.1") == Amend(
        price=cap, reason="the market is past the cap: wait at the cap"
    )
    assert isinstance(decide("60300.1", room=False), Keep)  # no room: it waits where it is
    assert isinstance(decide("60400.0", price=cap), Keep)  # already at the cap: it waits


@pytest.mark.parametrize(
    "changes",
    [
        {"cumulative_base_filled": Decimal("0.5")},  # filled: nothing remains
        {"cancel_requested_at": NOW},  # a cancel is on its way
        {"requested_price": None, "order_type": OrderType.MARKET},  # no price to move
    ],
)
def test_an_order_with_nothing_to_move_is_kept_whatever_the_market(changes):
    order = an_order_in(
        OrderStatus.OPEN,
        side=Side.BUY,
        requested_price=Decimal("59990.0"),
        requested_base_size=Decimal("0.5"),
        reference_price=Decimal("60000.0"),
        first_sent_at=NOW,
    )
    settings = ChaseSettings(
        max_slippage_bps=Decimal(50), chase_ticks=2, chase_seconds=20, urgency_seconds=120
    )
    decision = decide_chase(
        replace(order, **changes),
        touch=Touch(bid=Decimal("60100.0"), ask=Decimal("60100.1")),
        cap=Decimal("60300.0"),
        tick=Decimal("0.1"),
        now=NOW + timedelta(seconds=600),  # long past urgency
        last_move=NOW,
        settings=settings,
        amend_room=True,
    )
    assert decision == Keep(reason="nothing to move")
