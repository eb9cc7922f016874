"""The planner: from desired holdings to order intents, or to a skip with a reason for each action."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from pyrsistent import pmap
from returns.pipeline import is_successful
from tests.builders import (
    a_config,
    a_context,
    a_pair,
    a_plan,
    a_quote,
    an_action,
    an_order,
    fresh_prices,
    universe,
    universe_of,
)

from kraken_bot.execution.core.models import (
    BENIGN_SKIPS,
    OrderStatus,
    OrderType,
    Side,
    SkipReason,
    TimeInForce,
)
from kraken_bot.execution.core.planner import plan_orders, usd_rate, usd_value
from kraken_bot.region import RegionProfile
from kraken_bot.strategy.plan import ActionType

R = SkipReason


def plan_one(action=None, **context):
    """Plan a single action (default `an_action()`) and return its result."""
    (result,) = plan_orders(a_plan(action or an_action()), a_context(**context))
    return result


def skip_of(action=None, **context):
    result = plan_one(action, **context)
    assert not is_successful(result), f"expected a skip, got {result}"
    return result.failure()


def intent_of(action=None, **context):
    result = plan_one(action, **context)
    assert is_successful(result), f"expected an intent, got {result}"
    return result.unwrap()


# ---------------------------------------------------------------- intents


def test_a_buy_is_a_limit_order_at_mid_plus_slippage_rounded_down_to_the_tick():
    intent = intent_of(an_action(current_base_size="0.1", target_base_size="0.25"))
    assert (intent.side, intent.order_type) == (Side.BUY, OrderType.LIMIT)
    assert (intent.volume, intent.volume_text) == (Decimal("0.15"), "0.15000000")
    assert (intent.price, intent.price_text) == (Decimal("60300.0"), "60300.0")
    assert intent.reference_price == Decimal(60000)
    assert intent.notional_usd == Decimal("0.15") * Decimal("60300.0")
    assert (intent.pair, intent.rest_pair, intent.plan_id) == ("XBTUSD", "XXBTZUSD", "plan-1")


def test_a_sell_is_a_limit_order_at_mid_minus_slippage_rounded_up_to_the_tick():
    intent = intent_of(
        an_action(pair="ETHUSD", current_base_size="1", target_base_size="0.4"),
        prices=fresh_prices(ETHUSD="3000.003"),
    )
    assert (intent.side, intent.volume_text) == (Side.SELL, "0.60000000")
    # 3000.003 x 0.995 = 2985.002985 -> up to the 0.01 tick
    assert intent.price_text == "2985.01"


def test_the_pair_may_be_named_any_way_kraken_names_it():
    for name in ("XBTUSD", "XBT/USD", "XXBTZUSD", "btc-usd"):
        intent = intent_of(an_action(pair=name))
        assert (intent.pair, intent.rest_pair) == ("XBTUSD", "XXBTZUSD")


def test_volume_is_truncated_toward_zero_to_lot_decimals():
    intent = intent_of(an_action(target_base_size="0.123456789"))
    assert intent.volume_text == "0.12345678"


def test_market_orders_carry_no_price_and_are_valued_at_mid():
    intent = intent_of(config=a_config(default_order_type=OrderType.MARKET))
    assert (intent.order_type, intent.price, intent.price_text) == (OrderType.MARKET, None, None)
    assert intent.notional_usd == Decimal("0.1") * Decimal(60000)


def test_small_orders_go_as_market_orders_when_a_market_threshold_is_set():
    config = a_config(market_order_max_notional_usd=Decimal(6000))
    assert intent_of(config=config).order_type is OrderType.MARKET
    big = an_action(target_base_size="0.2")
    assert intent_of(big, config=config).order_type is OrderType.LIMIT


def test_a_limit_only_pair_gets_a_limit_order_even_below_the_market_threshold():
    pair = a_pair("XBTUSD", status="limit_only")
    config = a_config(market_order_max_notional_usd=Decimal(10**6))
    intent = intent_of(universe=universe_of(pair), config=config)
    assert intent.order_type is OrderType.LIMIT


def test_post_only_configuration_marks_limit_orders_post_only():
    intent = intent_of(config=a_config(post_only=True))
    assert (intent.order_type, intent.post_only) == (OrderType.LIMIT, True)


def test_time_in_force_comes_from_the_configuration():
    intent = intent_of(config=a_config(time_in_force=TimeInForce.IOC))
    assert intent.time_in_force is TimeInForce.IOC


def test_a_non_usd_quote_is_valued_through_the_quote_assets_usd_pair():
    action = an_action(pair="ETHXBT", target_base_size="1")
    intent = intent_of(action)
    # limit 0.05 x 1.005 = 0.05025 XBT, x 60000 USD/XBT
    assert intent.price_text == "0.050250"
    assert intent.notional_usd == Decimal("0.05025") * Decimal(60000)


def test_the_actions_userref_wins_over_the_strategys():
    refs = pmap({"trend": 1001})
    assert intent_of(an_action(userref=7), strategy_userrefs=refs).userref == 7
    assert intent_of(strategy_userrefs=refs).userref == 1001
    assert intent_of().userref is None


def test_a_zero_userref_means_no_userref_as_kraken_reports_it():
    assert intent_of(an_action(userref=0)).userref is None


def test_there_is_exactly_one_result_per_action_in_plan_order():
    actions = [
        an_action(action_type=ActionType.NONE),
        an_action(pair="ETHUSD", target_base_size="1"),
        an_action(pair="DOGEEUR"),
        an_action(pair="SOLUSD", current_base_size="5", target_base_size="2"),
    ]
    results = plan_orders(a_plan(*actions), a_context())
    assert len(results) == 4
    assert [is_successful(r) for r in results] == [False, True, False, True]
    indexes = [
        r.unwrap().action_index if is_successful(r) else r.failure().action_index for r in results
    ]
    assert indexes == [0, 1, 2, 3]


# ---------------------------------------------------------------- netting open orders


def test_remaining_volume_of_open_buys_counts_as_already_bought():
    working = an_order(status=OrderStatus.PARTIALLY_FILLED, cumulative_base_filled="0.04")
    # holding 0.04 (the fill), 0.06 still working: 0.1 is effectively covered; 0.1 more to buy
    intent = intent_of(
        an_action(current_base_size="0.04", target_base_size="0.2"), open_orders=(working,)
    )
    assert (intent.side, intent.volume) == (Side.BUY, Decimal("0.1"))


def test_open_sells_reduce_the_effective_holding():
    selling = an_order(side=Side.SELL, status=OrderStatus.OPEN, requested_base_size="0.3")
    # holding 1, 0.3 on sale: effective 0.7; target 0.5 needs 0.2 more sold
    intent = intent_of(
        an_action(current_base_size="1", target_base_size="0.5"), open_orders=(selling,)
    )
    assert (intent.side, intent.volume) == (Side.SELL, Decimal("0.2"))


def test_a_plan_repeated_while_its_order_works_is_covered_by_the_open_order():
    working = an_order(status=OrderStatus.OPEN)
    skip = skip_of(open_orders=(working,))
    assert skip.reason is R.COVERED_BY_OPEN_ORDERS
    assert "open buys 0.1" in skip.message
    assert not skip.is_error


def test_open_orders_of_another_strategy_are_not_netted():
    other = an_order(strategy_id="mean_reversion", status=OrderStatus.OPEN)
    assert intent_of(open_orders=(other,)).volume == Decimal("0.1")


def test_open_orders_on_another_pair_are_not_netted():
    other = an_order(pair="ETHUSD", status=OrderStatus.OPEN)
    assert intent_of(open_orders=(other,)).volume == Decimal("0.1")


def test_open_orders_are_matched_by_canonical_pair_whatever_name_the_plan_uses():
    working = an_order(status=OrderStatus.SUBMITTED)
    assert skip_of(an_action(pair="XBT/USD"), open_orders=(working,)).reason is (
        R.COVERED_BY_OPEN_ORDERS
    )


def test_a_plan_naming_one_pair_and_strategy_twice_does_not_double_the_order():
    actions = [an_action(target_base_size="0.5"), an_action(target_base_size="0.5")]
    first, second = plan_orders(a_plan(*actions), a_context())
    assert first.unwrap().volume == Decimal("0.5")
    assert second.failure().reason is R.COVERED_BY_OPEN_ORDERS


def test_a_later_action_on_the_same_pair_and_strategy_only_adds_the_difference():
    actions = [an_action(target_base_size="0.5"), an_action(target_base_size="0.7")]
    _, second = plan_orders(a_plan(*actions), a_context())
    assert (second.unwrap().side, second.unwrap().volume) == (Side.BUY, Decimal("0.2"))


def test_open_orders_are_counted_once_when_a_plan_names_their_pair_and_strategy_twice():
    working = an_order(status=OrderStatus.OPEN, requested_base_size="0.1")
    actions = [an_action(target_base_size="0.5"), an_action(target_base_size="0.5")]
    first, second = plan_orders(a_plan(*actions), a_context(open_orders=(working,)))
    assert first.unwrap().volume == Decimal("0.4")
    assert second.failure().reason is R.COVERED_BY_OPEN_ORDERS


def test_an_adopted_order_of_no_known_strategy_counts_against_every_action_on_its_pair():
    adopted = an_order(strategy_id=None, status=OrderStatus.OPEN, requested_base_size="0.1")
    skip = skip_of(an_action(strategy_id="trend"), open_orders=(adopted,))
    assert skip.reason is R.COVERED_BY_OPEN_ORDERS
    assert intent_of(
        an_action(strategy_id="mean", target_base_size="0.3"), open_orders=(adopted,)
    ).volume == Decimal("0.2")


def test_an_adopted_order_with_a_strategy_userref_belongs_to_that_strategy_only():
    adopted = an_order(strategy_id=None, userref=9, status=OrderStatus.OPEN)
    context = {"open_orders": (adopted,), "strategy_userrefs": {"trend": 9}}
    assert skip_of(an_action(strategy_id="trend"), **context).reason is (R.COVERED_BY_OPEN_ORDERS)
    assert intent_of(an_action(strategy_id="mean"), **context).volume == Decimal("0.1")


def test_terminal_orders_are_not_netted_even_if_passed_in():
    done = an_order(status=OrderStatus.FILLED, cumulative_base_filled="0.1")
    assert intent_of(open_orders=(done,)).volume == Decimal("0.1")


# ---------------------------------------------------------------- one test per skip reason


def test_no_op_when_the_action_type_is_none():
    skip = skip_of(an_action(action_type=ActionType.NONE))
    assert skip.reason is R.NO_OP
    assert not skip.is_error


def test_no_op_when_already_at_target_and_nothing_is_working():
    skip = skip_of(an_action(current_base_size="0.5", target_base_size="0.5"))
    assert skip.reason is R.NO_OP
    assert skip.message == "XBTUSD: already at target 0.5"


def test_blocked_actions_are_skipped_naming_the_risk_reasons():
    action = an_action(blocked=True, block_reasons=("max drawdown", "correlation"))
    skip = skip_of(action)
    assert skip.reason is R.BLOCKED
    assert skip.message == "XBTUSD blocked by risk checks: max drawdown; correlation; nothing sent"
    assert not skip.is_error


def test_below_one_lot_step_is_a_benign_skip():
    skip = skip_of(an_action(target_base_size="0.000000009"))
    assert skip.reason is R.BELOW_LOT_STEP
    assert not skip.is_error
    assert "below one lot step (0.00000001)" in skip.message


def test_below_ordermin_is_a_benign_skip():
    skip = skip_of(an_action(target_base_size="0.00004"))
    assert skip.reason is R.BELOW_ORDERMIN
    assert (skip.side, skip.volume) == (Side.BUY, Decimal("0.00004000"))
    assert "ordermin 0.00005" in skip.message
    assert not skip.is_error


def test_covered_by_open_orders_is_a_benign_skip():
    working = an_order(status=OrderStatus.OPEN)
    assert skip_of(open_orders=(working,)).reason is R.COVERED_BY_OPEN_ORDERS


def test_an_unknown_pair_is_a_guardrail_error():
    skip = skip_of(an_action(pair="DOGEEUR"))
    assert skip.reason is R.UNKNOWN_PAIR
    assert skip.is_error
    assert "DOGEEUR" in skip.message
    assert (skip.side, skip.volume) == (Side.BUY, Decimal("0.1"))


@pytest.mark.parametrize(
    ("status", "config"),
    [
        ("cancel_only", a_config()),
        ("reduce_only", a_config()),
        ("delisted", a_config()),
        ("limit_only", a_config(default_order_type=OrderType.MARKET)),
        ("post_only", a_config()),
    ],
)
def test_a_pair_that_would_refuse_the_order_is_not_online(status, config):
    pair = a_pair("XBTUSD", status=status)
    skip = skip_of(universe=universe_of(pair), config=config)
    assert skip.reason is R.PAIR_NOT_ONLINE
    assert status in skip.message


@pytest.mark.parametrize(
    ("status", "config"),
    [("limit_only", a_config()), ("post_only", a_config(post_only=True))],
)
def test_restricted_pairs_accept_the_orders_their_status_allows(status, config):
    pair = a_pair("XBTUSD", status=status)
    assert intent_of(universe=universe_of(pair), config=config).order_type is OrderType.LIMIT


def test_a_sell_beyond_the_holding_would_go_short():
    buying = an_order(status=OrderStatus.OPEN, requested_base_size="0.2")
    skip = skip_of(an_action(current_base_size="0.3", target_base_size="0"), open_orders=(buying,))
    assert skip.reason is R.WOULD_GO_SHORT
    assert (
        skip.message == "XBTUSD sell 0.5 would go short: holding 0.3 with 0 already on open sells"
    )
    assert (skip.side, skip.volume) == (Side.SELL, Decimal("0.50000000"))
    assert skip.is_error


def test_a_region_that_allows_shorting_lets_the_sell_through():
    region = RegionProfile(
        code="XX", supports_margin=True, supports_futures=False, supports_shorting=True
    )
    buying = an_order(status=OrderStatus.OPEN, requested_base_size="0.2")
    intent = intent_of(
        an_action(current_base_size="0.3", target_base_size="0"),
        open_orders=(buying,),
        region=region,
    )
    assert (intent.side, intent.volume) == (Side.SELL, Decimal("0.5"))


def test_a_missing_price_is_a_guardrail_error():
    prices = fresh_prices()
    del prices["XBTUSD"]
    skip = skip_of(prices=prices)
    assert skip.reason is R.MISSING_PRICE
    assert skip.is_error


def test_a_buy_whose_slippage_cap_is_below_one_tick_has_no_price():
    skip = skip_of(
        an_action(pair="SOLUSD", target_base_size="100"), prices=fresh_prices(SOLUSD="0.004")
    )
    assert (skip.reason, skip.order_type) == (R.MISSING_PRICE, OrderType.LIMIT)
    assert "tick grid" in skip.message


def test_a_price_older_than_the_limit_is_stale():
    prices = {**fresh_prices(), "XBTUSD": a_quote("XBTUSD", age_seconds=61)}
    skip = skip_of(prices=prices)
    assert skip.reason is R.STALE_PRICE
    assert skip.message == "XBTUSD price is 61s old (limit 60s): refresh prices"


def test_a_price_exactly_at_the_age_limit_is_still_fresh():
    prices = {**fresh_prices(), "XBTUSD": a_quote("XBTUSD", age_seconds=60)}
    assert intent_of(prices=prices).side is Side.BUY


def test_below_costmin_is_a_guardrail_error_and_carries_the_would_be_order():
    pair = a_pair("XBTUSD", costmin=Decimal(10_000))
    skip = skip_of(universe=universe_of(pair))
    assert skip.reason is R.BELOW_COSTMIN
    assert (skip.price, skip.order_type) == (Decimal("60300.0"), OrderType.LIMIT)
    assert "costmin 10000" in skip.message
    assert skip.is_error


def test_a_non_usd_quote_without_a_fresh_usd_price_cannot_be_valued():
    prices = {**fresh_prices(), "XBTUSD": a_quote("XBTUSD", age_seconds=600)}
    skip = skip_of(an_action(pair="ETHXBT", target_base_size="1"), prices=prices)
    assert skip.reason is R.NO_USD_PRICE
    assert "XBTUSD has no fresh price" in skip.message


def test_a_non_usd_quote_without_any_usd_pair_cannot_be_valued():
    skip = skip_of(
        an_action(pair="ETHXBT", target_base_size="1"), universe=universe_of(a_pair("ETHXBT"))
    )
    assert skip.reason is R.NO_USD_PRICE
    assert "no USD pair" in skip.message


def test_below_the_notional_floor_is_a_guardrail_error():
    skip = skip_of(an_action(target_base_size="0.0002"))
    assert skip.reason is R.BELOW_MIN_NOTIONAL
    assert skip.message == (
        "XBTUSD buy 0.0002 @ 60300 is 12.06 USD, below min_order_notional_usd 20"
    )
    assert skip.is_error


def test_a_plan_may_not_put_more_than_the_pair_cap_on_one_pair():
    config = a_config(max_pair_notional_usd=Decimal(10_000))
    actions = [
        an_action(strategy_id="a"),  # 6030 USD
        an_action(strategy_id="b"),  # 6030 more: 12060 > 10000, refused
        an_action(strategy_id="c", target_base_size="0.05"),  # 3015: 9045, fits
        an_action(strategy_id="d", pair="ETHUSD", target_base_size="3"),  # other pair
    ]
    results = plan_orders(a_plan(*actions), a_context(config=config))
    assert [is_successful(r) for r in results] == [True, False, True, True]
    skip = results[1].failure()
    assert skip.reason is R.ABOVE_MAX_PAIR_NOTIONAL
    assert "12060.00 USD" in skip.message


def test_a_plan_may_not_put_more_than_the_total_cap_on_all_pairs():
    config = a_config(max_total_notional_usd=Decimal(10_000))
    actions = [
        an_action(),  # 6030
        an_action(pair="ETHUSD", target_base_size="2"),  # 6030: 12060, refused
        an_action(pair="SOLUSD", target_base_size="10"),  # 1507.5: 7537.5, fits
    ]
    results = plan_orders(a_plan(*actions), a_context(config=config))
    assert [is_successful(r) for r in results] == [True, False, True]
    assert results[1].failure().reason is R.ABOVE_MAX_TOTAL_NOTIONAL


def test_every_skip_reason_has_a_test_here():
    tested = {
        R.NO_OP,
        R.BLOCKED,
        R.BELOW_LOT_STEP,
        R.BELOW_ORDERMIN,
        R.COVERED_BY_OPEN_ORDERS,
        R.UNKNOWN_PAIR,
        R.PAIR_NOT_ONLINE,
        R.WOULD_GO_SHORT,
        R.BELOW_COSTMIN,
        R.BELOW_MIN_NOTIONAL,
        R.ABOVE_MAX_PAIR_NOTIONAL,
        R.ABOVE_MAX_TOTAL_NOTIONAL,
        R.MISSING_PRICE,
        R.STALE_PRICE,
        R.NO_USD_PRICE,
    }
    assert tested == set(SkipReason)


# ---------------------------------------------------------------- rule order and skip contents


def test_the_first_rule_that_applies_wins_blocked_before_unknown_pair():
    assert skip_of(an_action(pair="DOGEEUR", blocked=True)).reason is R.BLOCKED


def test_skips_carry_the_userref_when_known():
    skip = skip_of(an_action(pair="DOGEEUR", userref=9))
    assert skip.userref == 9


def test_benign_and_guardrail_skips_are_told_apart():
    assert {r for r in SkipReason if r in BENIGN_SKIPS} == {
        R.NO_OP,
        R.BLOCKED,
        R.BELOW_LOT_STEP,
        R.BELOW_ORDERMIN,
        R.COVERED_BY_OPEN_ORDERS,
    }


# ---------------------------------------------------------------- USD helpers and determinism


def test_usd_rate_is_one_for_usd_quotes_and_the_quote_assets_mid_otherwise():
    ctx = a_context()
    assert usd_rate(a_pair("XBTUSD"), ctx) == 1
    assert usd_rate(a_pair("ETHXBT"), ctx) == Decimal(60000)
    assert usd_value(Decimal(2), a_pair("ETHXBT"), ctx) == Decimal(120000)


def test_usd_value_is_none_without_a_fresh_usd_price():
    ctx = a_context(prices={})
    assert usd_value(Decimal(2), a_pair("ETHXBT"), ctx) is None


def test_planning_is_deterministic():
    actions = [an_action(pair=p, target_base_size="1") for p in ("XBTUSD", "ETHUSD", "ETHXBT")]
    ctx = a_context(open_orders=(an_order(status=OrderStatus.OPEN),))
    assert plan_orders(a_plan(*actions), ctx) == plan_orders(a_plan(*actions), ctx)


def test_the_universe_fixture_holds_the_four_pairs():
    assert sorted(universe().pairs) == ["ETHUSD", "ETHXBT", "SOLUSD", "XBTUSD"]
    assert replace(a_pair("SOLUSD")).ordermin == Decimal("0.06")
