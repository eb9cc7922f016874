"""The pure counter model of Kraken's rate limits (kraken-api.md, section 8)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_bot.kraken.ratelimit import (
    MARGIN,
    TIER_LIMITS,
    Charge,
    Counter,
    CounterLimits,
    LimiterState,
    cancel_penalty,
    limits_for,
    pair_key,
    rest_cost,
)
from kraken_bot.region import Tier

STARTER = limits_for(Tier.STARTER)


@pytest.mark.parametrize(
    ("tier", "rest_max", "rest_decay", "trading_max", "trading_decay"),
    [
        (Tier.STARTER, 15, 0.33, 60, 1.0),
        (Tier.INTERMEDIATE, 20, 0.5, 125, 2.34),
        (Tier.PRO, 20, 1.0, 180, 3.75),
    ],
)
def test_tier_tables_match_krakens_documentation(
    tier, rest_max, rest_decay, trading_max, trading_decay
):
    limits = TIER_LIMITS[tier]
    assert (limits.rest.maximum, limits.rest.decay_per_second) == (rest_max, rest_decay)
    assert (limits.trading.maximum, limits.trading.decay_per_second) == (trading_max, trading_decay)


def test_unlimited_tier_has_no_limits():
    assert Tier.UNLIMITED not in TIER_LIMITS


@pytest.mark.parametrize(
    ("method", "cost"),
    [
        ("Ledgers", 2),
        ("QueryLedgers", 2),
        ("TradesHistory", 2),
        ("AddOrder", 0),
        ("CancelOrder", 0),
        ("Balance", 1),
        ("OpenOrders", 1),
        ("ClosedOrders", 2),  # conservative: documented as 1, unconfirmed
        ("QueryOrders", 1),
        ("CancelAll", 1),
        ("CancelAllOrdersAfter", 1),
    ],
)
def test_rest_counter_costs(method, cost):
    assert rest_cost(method) == cost


@pytest.mark.parametrize(
    ("age", "penalty"),
    [
        (0.0, 8),
        (4.999, 8),
        (5.0, 6),
        (9.999, 6),
        (10.0, 5),
        (14.999, 5),
        (15.0, 4),
        (44.999, 4),
        (45.0, 2),
        (89.999, 2),
        (90.0, 1),
        (299.999, 1),
        (300.0, 0),
        (86400.0, 0),
        (None, 8),
    ],
)
def test_cancel_penalty_falls_with_the_orders_age(age, penalty):
    assert cancel_penalty(age) == penalty


def test_pair_keys_ignore_case_and_separators():
    assert pair_key("xbt/usd") == pair_key("XBT-USD") == pair_key("XBTUSD") == "XBTUSD"


def test_a_counter_decays_continuously_and_never_below_zero():
    limits = CounterLimits(maximum=60, decay_per_second=1.0)
    counter = Counter(10.0, at=100.0)
    assert counter.level_at(104.5, limits) == pytest.approx(5.5)
    assert counter.level_at(200.0, limits) == 0.0
    assert counter.level_at(90.0, limits) == 10.0  # a clock reading in the past decays nothing


def test_delay_is_the_time_until_the_cost_fits_below_the_maximum():
    limits = CounterLimits(maximum=60, decay_per_second=2.0)
    full = Counter(60.0, at=0.0)
    assert full.delay(1, 0.0, limits) == pytest.approx((1 + MARGIN) / 2.0)
    assert full.delay(8, 0.0, limits) == pytest.approx((8 + MARGIN) / 2.0)
    assert Counter(10.0, at=0.0).delay(8, 0.0, limits) == 0.0
    assert full.delay(0, 0.0, limits) == 0.0


def test_a_cost_above_the_maximum_waits_for_an_empty_counter():
    limits = CounterLimits(maximum=5, decay_per_second=1.0)
    assert Counter(3.0, at=0.0).delay(8, 0.0, limits) == pytest.approx(3.0)


def test_a_burst_fills_the_trading_counter_then_paces_at_the_decay_rate():
    state, now, sent = LimiterState(), 0.0, []
    add = Charge(trading=(("XBTUSD", 1.0),))
    for _ in range(100):
        now += state.delay(add, STARTER, now=now)
        sent.append(now)
        state = state.charge(add, STARTER, now=now)
    assert sent[58] == 0.0  # 59 orders at once
    assert sent[-1] == pytest.approx(40.0, abs=0.01)  # then one per second


def test_add_order_is_charged_to_its_pair_and_not_to_the_rest_counter():
    charge = LimiterState().plan("AddOrder", {"pair": "xbt/usd", "volume": "1"}, now=0.0)
    assert charge == Charge(rest=0.0, trading=(("XBTUSD", 1.0),))


def test_other_private_calls_cost_rest_units_only():
    assert LimiterState().plan("Balance", {}, now=0.0) == Charge(rest=1.0)
    assert LimiterState().plan("TradesHistory", {}, now=0.0) == Charge(rest=2.0)


def _placed(**orders):
    state = LimiterState()
    for txid, (pair, at, userref, cl_ord_id) in orders.items():
        state = state.remember_orders(
            [txid], pair=pair, userref=userref, cl_ord_id=cl_ord_id, now=at
        )
    return state


def test_cancelling_a_known_order_costs_the_penalty_for_its_age():
    state = _placed(OA=("XBTUSD", 100.0, None, None))
    assert state.plan("CancelOrder", {"txid": "OA"}, now=107.0).trading == (("XBTUSD", 6.0),)
    assert state.plan("CancelOrder", {"txid": "OA"}, now=100.5).trading == (("XBTUSD", 8.0),)
    assert state.plan("CancelOrder", {"txid": "OA"}, now=250.0).trading == (("XBTUSD", 1.0),)


def test_cancelling_by_cl_ord_id_finds_the_order_placed_with_it():
    state = _placed(OA=("ETHUSD", 100.0, None, "abc-1"))
    assert state.plan("CancelOrder", {"cl_ord_id": "abc-1"}, now=120.0).trading == (
        ("ETHUSD", 4.0),
    )


def test_cancelling_by_userref_charges_every_order_carrying_it():
    state = _placed(
        OA=("XBTUSD", 100.0, 7, None),
        OB=("XBTUSD", 103.0, 7, None),
        OC=("ETHUSD", 50.0, 7, None),
        OD=("ETHUSD", 100.0, 8, None),
    )
    charge = state.plan("CancelOrder", {"txid": "7"}, now=106.0)
    assert charge.trading == (("ETHUSD", 2.0), ("XBTUSD", 6.0 + 8.0))


def test_cancelling_an_unknown_order_assumes_the_worst_on_every_traded_pair():
    state = LimiterState().charge(
        Charge(trading=(("XBTUSD", 1.0), ("ETHUSD", 1.0))), STARTER, now=0.0
    )
    charge = state.plan("CancelOrder", {"txid": "OUNKNOWN"}, now=1.0)
    assert charge.trading == (("ETHUSD", 8.0), ("XBTUSD", 8.0))


def test_a_pair_hint_confines_an_unknown_cancel_to_that_pair():
    state = LimiterState().charge(
        Charge(trading=(("XBTUSD", 1.0), ("ETHUSD", 1.0))), STARTER, now=0.0
    )
    charge = state.plan("CancelOrder", {"txid": "OUNKNOWN"}, now=1.0, pair_hint="SOL/USD")
    assert charge.trading == (("SOLUSD", 8.0),)


def test_orders_are_forgotten_after_300_seconds_and_after_a_successful_cancel():
    state = _placed(OA=("XBTUSD", 0.0, None, None), OB=("XBTUSD", 200.0, None, None))
    later = state.remember_orders(["OC"], pair="XBTUSD", userref=None, cl_ord_id=None, now=300.0)
    assert set(later.orders) == {"OB", "OC"}
    assert set(later.forget_cancelled({"txid": "OB"}).orders) == {"OC"}
    assert later.forget_cancelled({}).orders == {}


def test_a_rest_rate_limit_error_fills_the_rest_counter():
    state = LimiterState().snap(["EAPI:Rate limit exceeded"], Charge(rest=1.0), STARTER, now=10.0)
    assert state.rest_level(STARTER, now=10.0) == 15
    assert state.delay(Charge(rest=1.0), STARTER, now=10.0) == pytest.approx((1 + MARGIN) / 0.33)


def test_an_http_429_without_errors_counts_as_the_rest_counter():
    state = LimiterState().snap([], Charge(rest=1.0), STARTER, now=0.0)
    assert state.rest_level(STARTER, now=0.0) == 15


def test_a_trading_rate_limit_error_fills_the_pairs_counter_only():
    add = Charge(trading=(("XBTUSD", 1.0),))
    state = LimiterState().snap(["EOrder:Rate limit exceeded"], add, STARTER, now=0.0)
    assert state.trading_level("XBTUSD", STARTER, now=0.0) == 60
    assert state.trading_level("ETHUSD", STARTER, now=0.0) == 0
    assert state.rest_level(STARTER, now=0.0) == 0


def test_a_domain_rate_limit_fills_every_trading_counter():
    state = LimiterState().charge(Charge(trading=(("ETHUSD", 1.0),)), STARTER, now=0.0)
    state = state.snap(
        ["EOrder:Domain rate limit exceeded"], Charge(trading=(("XBTUSD", 1.0),)), STARTER, now=0.0
    )
    assert state.trading_level("ETHUSD", STARTER, now=0.0) == 60
    assert state.trading_level("XBTUSD", STARTER, now=0.0) == 60


def test_throttling_blocks_private_calls_until_the_named_time():
    state = LimiterState().snap(
        ["EService:Throttled: 1"], Charge(rest=1.0), STARTER, now=0.0, blocked_until=5.0
    )
    assert state.delay(Charge(), STARTER, now=1.0) == pytest.approx(4.0)
    assert state.delay(Charge(rest=1.0), STARTER, now=5.0) == 0.0


def test_a_refused_public_call_fills_the_public_budget_only():
    state = LimiterState().snap(["EAPI:Rate limit exceeded"], Charge(public=True), STARTER, now=0.0)
    assert state.delay(Charge(public=True), STARTER, now=0.0) == pytest.approx(1.0)
    assert state.rest_level(STARTER, now=0.0) == 0


def test_public_calls_use_their_own_one_per_second_budget():
    public = Charge(public=True)
    state = LimiterState().charge(public, STARTER, now=0.0)
    assert state.delay(public, STARTER, now=0.0) == pytest.approx(1.0)
    assert state.delay(Charge(rest=1.0), STARTER, now=0.0) == 0.0


@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 1, 1, 8, 6, 4, 2]),  # a call's trading cost
            st.floats(min_value=0.0, max_value=3.0),  # idle time before the caller asks
            st.floats(min_value=0.0, max_value=0.5),  # network latency to Kraken
            st.floats(min_value=0.0, max_value=0.5),  # latency of the reply
        ),
        max_size=150,
    )
)
def test_a_caller_that_waits_as_told_never_exceeds_krakens_own_counter(calls):
    """Kraken charges on receipt; the model charges on the reply: the server never overflows."""
    limits = STARTER.trading
    model, now = LimiterState(), 0.0
    server_level, server_at = 0.0, 0.0
    for cost, idle, there, back in calls:
        now += idle
        charge = Charge(trading=(("XBTUSD", float(cost)),))
        now += model.delay(charge, STARTER, now=now)
        received = now + there
        server_level = max(0.0, server_level - (received - server_at) * limits.decay_per_second)
        assert server_level + cost <= limits.maximum
        server_level, server_at = server_level + cost, received
        now = received + back
        model = model.charge(charge, STARTER, now=now)
