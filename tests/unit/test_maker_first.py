"""How the maker-first router works each order between its reads and sends (pure)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.builders import NOW, TXID, an_order

from kraken_bot._enums import Routing
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.maker_first import (
    Chase,
    Forget,
    Settle,
    Unacknowledged,
    chase_settings,
    crossing,
    held_to_cap,
    is_maker_first,
    left_to_send,
    replace_after_refusal,
    room_to_amend,
    triage,
)
from kraken_bot.execution.core.models import OrderStatus, OrderType, Side, TimeInForce
from kraken_bot.execution.core.routing import POST_ONLY_REASON, Repost, Touch, cap_price
from kraken_bot.execution.exceptions import AmendRefusedError
from kraken_bot.kraken.errors import error_from_kraken

TICK = Decimal("0.1")
ARRIVAL = Decimal(60300)
BPS = Decimal(50)
TOUCH = Touch(bid=Decimal("60299.9"), ask=Decimal("60300.1"))
CAP = cap_price(Side.BUY, ARRIVAL, BPS, TICK)


def maker(**overrides):
    fields = {
        "post_only": True,
        "reference_price": ARRIVAL,
        "time_in_force": TimeInForce.GTC,
        "status": OrderStatus.OPEN,
        "kraken_order_id": TXID,
        "first_sent_at": NOW,
    }
    fields.update(overrides)
    return an_order(**fields)


def look(order, *, tick=TICK, arrival=ARRIVAL):
    return triage(order, touch=TOUCH, tick=tick, arrival=arrival, max_slippage_bps=BPS)


@pytest.mark.parametrize(
    ("overrides", "worked"),
    [
        ({}, True),
        ({"order_type": OrderType.MARKET}, False),
        ({"post_only": False}, False),
        ({"reference_price": None}, False),  # no arrival mid to cap it from
        ({"time_in_force": TimeInForce.IOC}, False),  # gone at once: nothing to chase
    ],
)
def test_the_router_works_resting_post_only_limit_orders_priced_from_a_mid(overrides, worked):
    assert is_maker_first(maker(**overrides)) is worked


def test_an_order_whose_pair_or_arrival_is_unknown_is_forgotten():
    assert look(maker(), tick=None) == Forget()
    assert look(maker(), arrival=None) == Forget()


def test_a_live_order_not_yet_acknowledged_is_left_to_its_sender():
    assert look(maker(kraken_order_id=None, status=OrderStatus.SUBMITTED)) == Unacknowledged()


def test_a_working_order_is_chased_under_the_cap_of_its_chain():
    assert look(maker()) == Chase(cap=CAP)


def test_an_order_canceled_as_crossing_is_settled_by_posting_what_remains_again():
    crossed = maker(
        status=OrderStatus.CANCELED, close_reason=POST_ONLY_REASON, cumulative_base_filled="0.03"
    )
    step = look(crossed)
    assert isinstance(step, Settle)
    assert step.cap == CAP
    assert isinstance(step.repost, Repost)
    assert step.repost.size == Decimal("0.07")


def test_an_order_that_closed_otherwise_is_settled_without_a_repost():
    assert look(maker(status=OrderStatus.FILLED, cumulative_base_filled="0.1")) == Settle(
        repost=None, cap=CAP
    )


def test_the_chase_takes_execution_s_knobs():
    config = ExecutionConfig(chase_ticks=3, chase_seconds=12.0, urgency_seconds=90.0)
    settings = chase_settings(config)
    assert (settings.max_slippage_bps, settings.chase_ticks) == (config.max_slippage_bps, 3)
    assert (settings.chase_seconds, settings.urgency_seconds) == (12.0, 90.0)


@pytest.mark.parametrize(
    ("level", "maximum", "room"),
    [(44.0, 60.0, True), (44.1, 60.0, False), (1e9, 0.0, True)],  # 0: no limit modelled
)
def test_an_amend_of_unknown_age_needs_room_for_four_under_eighty_percent(level, maximum, room):
    assert room_to_amend(level, maximum, chase_settings(ExecutionConfig())) is room


@pytest.mark.parametrize(
    ("error", "replaces"),
    [
        (AmendRefusedError("the order closed meanwhile"), False),  # look again next time
        (error_from_kraken(["EOrder:Post only order"]), False),  # the touch moved again
        (error_from_kraken(["EOrder:Invalid order"]), True),  # cannot be amended: replace
    ],
)
def test_only_an_amend_kraken_will_not_make_is_replaced(error, replaces):
    assert replace_after_refusal(error) is replaces


@pytest.mark.parametrize(
    ("final", "left"),
    [
        (maker(status=OrderStatus.CANCELED, cumulative_base_filled="0.04"), Decimal("0.06")),
        (maker(status=OrderStatus.FILLED, cumulative_base_filled="0.1"), None),  # filled first
        (maker(status=OrderStatus.OPEN), None),  # the cancel did not take: it still works
    ],
)
def test_a_follow_up_sends_what_the_canceled_order_left(final, left):
    assert left_to_send(final) == left


def test_a_cross_is_an_ioc_limit_at_the_contract_s_pricing_that_may_take():
    config = ExecutionConfig(routing=Routing.MAKER_FIRST, post_only=True)
    crossed = crossing(config)
    assert (crossed.routing, crossed.time_in_force, crossed.post_only) == (
        Routing.CONTRACT,
        TimeInForce.IOC,
        False,
    )
    assert replace(crossed, routing=config.routing, time_in_force=config.time_in_force) == (
        replace(config, post_only=False)
    )


@pytest.mark.parametrize(
    ("side", "mid", "cap", "bps"),
    [
        (Side.BUY, "100", "100.3", Decimal("30.00")),
        (Side.SELL, "100", "99.7", Decimal("30.00")),
        (Side.BUY, "100", "100", Decimal("0.00")),  # at the cap: no slippage left
        (Side.BUY, "100", "101", BPS),  # never above the configured slippage
        (Side.BUY, "3", "3.0001", Decimal("0.33")),  # 0.333...: rounded down
        (Side.BUY, "100", "99.9", None),  # the market is past the cap
        (Side.SELL, "100", "100.1", None),
    ],
)
def test_a_follow_up_is_held_to_the_cap_from_today_s_mid(side, mid, cap, bps):
    held = held_to_cap(
        ExecutionConfig(max_slippage_bps=BPS),
        side=side,
        mid=Decimal(mid),
        cap=Decimal(cap),
        max_slippage_bps=BPS,
    )
    assert (held.max_slippage_bps if held is not None else None) == bps


@given(
    side=st.sampled_from([Side.BUY, Side.SELL]),
    mid=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4),
    cap=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4),
)
def test_the_slippage_held_to_the_cap_never_prices_beyond_it(side, mid, cap):
    held = held_to_cap(
        ExecutionConfig(max_slippage_bps=BPS), side=side, mid=mid, cap=cap, max_slippage_bps=BPS
    )
    past = cap < mid if side is Side.BUY else cap > mid
    assert (held is None) is past
    if held is not None:
        assert Decimal(0) <= held.max_slippage_bps <= BPS
        shift = mid * held.max_slippage_bps / Decimal(10000)
        assert (mid + shift <= cap) if side is Side.BUY else (mid - shift >= cap)
