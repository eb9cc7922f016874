"""Properties of the pure core, stated in words, checked with hypothesis.

Settings come from the profile ``tests/conftest.py`` loads (``ci`` by default:
derandomized, no example database).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from itertools import count

from hypothesis import given
from hypothesis import strategies as st
from returns.pipeline import is_successful
from tests.builders import (
    DOCUMENTED_TERMINAL_EDGES,
    MIDS,
    NOW,
    TXID,
    a_context,
    a_pair,
    a_plan,
    a_quote,
    an_action,
    an_event,
    an_order,
    an_order_in,
    order_info,
    universe,
    universe_of,
)

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.codec import order_from_json, order_to_json
from kraken_bot.execution.core.lifecycle import (
    OBSERVED_KINDS,
    TRANSITIONS,
    EventKind,
    apply,
    event_kind,
    fold,
    new_order,
)
from kraken_bot.execution.core.models import (
    LIVE_STATUSES,
    TERMINAL_STATUSES,
    LocalOrder,
    Observed,
    OrderEvent,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    SkipReason,
)
from kraken_bot.execution.core.planner import PlanningContext, plan_orders
from kraken_bot.execution.core.router import has_limit_price, limit_price, price_cap
from kraken_bot.kraken.orders import format_decimal
from kraken_bot.kraken.pairs import PairMetadata, PairUniverse
from kraken_bot.kraken.types import KrakenOrderStatus
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction

PAIRS = sorted(MIDS)
STRATEGIES = ("alpha", "beta")
ONE = Decimal(1)

# ---------------------------------------------------------------- strategies

# base sizes up to 3 with nine places (one more than any lot_decimals, so truncation shows),
# plus the round values strategies actually ask for
sizes = st.one_of(
    st.integers(min_value=0, max_value=3 * 10**9).map(lambda n: Decimal(n).scaleb(-9)),
    st.sampled_from([Decimal(0), Decimal("0.1"), Decimal("0.5"), Decimal(1), Decimal(2)]),
)
factors = st.decimals(
    min_value=Decimal("0.5"), max_value=Decimal(2), places=3, allow_nan=False, allow_infinity=False
)


@st.composite
def actions(draw: st.DrawFn, pair: str, strategy: str) -> RiskAdjustedAction:
    return an_action(
        pair=pair,
        strategy_id=strategy,
        action_type=draw(st.sampled_from([ActionType.INCREASE, ActionType.REDUCE])),
        current_base_size=draw(sizes),
        target_base_size=draw(sizes),
    )


@st.composite
def plans(draw: st.DrawFn) -> ExecutionPlan:
    """Plans naming each (pair, strategy) at most once."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(PAIRS), st.sampled_from(STRATEGIES)),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    return a_plan(*[draw(actions(pair, strategy)) for pair, strategy in keys])


@st.composite
def open_orders(draw: st.DrawFn) -> tuple[LocalOrder, ...]:
    ids = count()
    orders = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        requested = draw(sizes.filter(lambda s: s > 0))
        filled = draw(st.sampled_from([Decimal(0), requested / 4, requested / 2]))
        orders.append(
            an_order(
                local_id=f"O{next(ids)}",
                pair=draw(st.sampled_from(PAIRS)),
                strategy_id=draw(st.sampled_from(STRATEGIES)),
                side=draw(st.sampled_from(Side)),
                requested_base_size=requested,
                cumulative_base_filled=filled,
                status=draw(st.sampled_from(sorted(LIVE_STATUSES))),
            )
        )
    return tuple(orders)


configs = st.builds(
    ExecutionConfig,
    max_slippage_bps=st.sampled_from([Decimal(0), Decimal(10), Decimal(50), Decimal(500)]),
    min_order_notional_usd=st.sampled_from([Decimal(0), Decimal(20), Decimal(500)]),
    default_order_type=st.sampled_from(OrderType),
    market_order_max_notional_usd=st.sampled_from([None, Decimal(1000)]),
    # caps near one order's size, and near the sum of a whole plan's
    max_pair_notional_usd=st.sampled_from([None, Decimal(20_000), Decimal(200_000)]),
    max_total_notional_usd=st.sampled_from([None, Decimal(40_000), Decimal(400_000)]),
)


@st.composite
def pair_universes(draw: st.DrawFn) -> PairUniverse:
    """The fixture pairs, some with a costmin above the notional floor (x200: 100 USD)."""
    pairs = [a_pair(name) for name in PAIRS]
    return universe_of(
        *[
            replace(p, costmin=p.costmin * 200) if p.costmin and draw(st.booleans()) else p
            for p in pairs
        ]
    )


@st.composite
def contexts(draw: st.DrawFn, orders: Sequence[LocalOrder] | None = None) -> PlanningContext:
    prices = {name: a_quote(name, MIDS[name] * draw(factors)) for name in PAIRS}
    return a_context(
        universe=draw(pair_universes()),
        prices=prices,
        open_orders=draw(open_orders()) if orders is None else tuple(orders),
        config=draw(configs),
    )


# ---------------------------------------------------------------- helpers


def pair_of(name: str, ctx: PlanningContext | None = None) -> PairMetadata:
    pairs = universe() if ctx is None else ctx.universe
    return pairs.resolve(name).unwrap()


def working(ctx: PlanningContext, action: RiskAdjustedAction, side: Side) -> Decimal:
    """Remaining volume of live orders on the action's pair and strategy, on one side."""
    pair = pair_of(action.pair).altname
    return sum(
        (
            o.remaining_base_size
            for o in ctx.open_orders
            if o.pair == pair and o.strategy_id == action.strategy_id and o.side is side
        ),
        Decimal(0),
    )


def netted_delta(ctx: PlanningContext, action: RiskAdjustedAction) -> Decimal:
    effective = (
        action.current_base_size + working(ctx, action, Side.BUY) - working(ctx, action, Side.SELL)
    )
    return action.target_base_size - effective


def decided(
    plan: ExecutionPlan, ctx: PlanningContext
) -> list[tuple[RiskAdjustedAction, OrderIntent]]:
    results = plan_orders(plan, ctx)
    return [(a, r.unwrap()) for a, r in zip(plan.actions, results, strict=True) if is_successful(r)]


def signed(intent: OrderIntent) -> Decimal:
    return intent.volume if intent.side is Side.BUY else -intent.volume


# ---------------------------------------------------------------- planner properties


@given(plans(), contexts())
def test_volume_never_exceeds_the_netted_delta_and_misses_it_by_less_than_one_lot_step(plan, ctx):
    for action, intent in decided(plan, ctx):
        delta = abs(netted_delta(ctx, action))
        assert intent.volume <= delta
        assert delta - intent.volume < pair_of(intent.pair).lot_step


@given(plans(), contexts())
def test_an_intent_buys_iff_target_exceeds_current_plus_open_buys_minus_open_sells(plan, ctx):
    for action, intent in decided(plan, ctx):
        assert (intent.side is Side.BUY) == (netted_delta(ctx, action) > 0)


@given(plans(), contexts())
def test_no_intent_is_below_ordermin_costmin_or_the_notional_floor(plan, ctx):
    for _, intent in decided(plan, ctx):
        pair = pair_of(intent.pair, ctx)
        priced_at = intent.price if intent.price is not None else intent.reference_price
        assert intent.volume >= pair.ordermin
        assert pair.costmin is None or intent.volume * priced_at >= pair.costmin
        assert intent.notional_usd >= ctx.config.min_order_notional_usd


@given(plans(), contexts())
def test_a_plans_intents_stay_within_the_pair_and_total_notional_caps(plan, ctx):
    intents = [i for _, i in decided(plan, ctx)]
    per_pair: dict[str, Decimal] = {}
    for intent in intents:
        per_pair[intent.pair] = per_pair.get(intent.pair, Decimal(0)) + intent.notional_usd
    pair_cap, total_cap = ctx.config.max_pair_notional_usd, ctx.config.max_total_notional_usd
    assert pair_cap is None or all(total <= pair_cap for total in per_pair.values())
    assert total_cap is None or sum(per_pair.values(), Decimal(0)) <= total_cap


@given(plans(), contexts())
def test_no_intent_sells_more_than_is_held_minus_what_open_sells_already_offer(plan, ctx):
    for action, intent in decided(plan, ctx):
        if intent.side is Side.SELL:
            assert intent.volume <= action.current_base_size - working(ctx, action, Side.SELL)


@given(plans(), contexts())
def test_planner_limit_prices_sit_on_the_tick_grid_within_the_slippage_cap(plan, ctx):
    bps = ctx.config.max_slippage_bps
    for _, intent in decided(plan, ctx):
        if intent.price is None:
            assert intent.order_type is OrderType.MARKET
            continue
        pair = pair_of(intent.pair)
        cap = price_cap(intent.side, intent.reference_price, bps)
        assert intent.price % pair.tick_size == 0
        assert intent.price <= cap if intent.side is Side.BUY else intent.price >= cap
        assert Decimal(intent.price_text or "") == intent.price


@given(plans(), contexts())
def test_the_wire_strings_have_the_pairs_places_and_survive_the_order_and_its_record(plan, ctx):
    """The one formatter gives the intent's strings back from the order's amounts, after
    the codec's round trip too (what a resumed plan sends): what the adapter sends is
    what the planner decided, digit for digit."""
    for _, intent in decided(plan, ctx):
        pair = pair_of(intent.pair)
        assert len(intent.volume_text.partition(".")[2]) == pair.lot_decimals
        assert Decimal(intent.volume_text) == intent.volume
        if intent.price_text is not None:
            assert len(intent.price_text.partition(".")[2]) == pair.pair_decimals
        order = new_order(intent, local_id="L1", now=NOW)
        stored = order_from_json(json.loads(json.dumps(order_to_json(order)))).unwrap()
        for kept in (order, stored):
            assert format_decimal(kept.requested_base_size) == intent.volume_text
            price = kept.requested_price
            assert (None if price is None else format_decimal(price)) == intent.price_text


def capped(plan: ExecutionPlan, ctx: PlanningContext) -> set[int]:
    """Indexes of the actions a plan-level notional cap held back."""
    caps = {SkipReason.ABOVE_MAX_PAIR_NOTIONAL, SkipReason.ABOVE_MAX_TOTAL_NOTIONAL}
    return {
        n
        for n, r in enumerate(plan_orders(plan, ctx))
        if not is_successful(r) and r.failure().reason in caps
    }


@given(plans(), contexts(orders=()))
def test_once_the_decided_intents_have_filled_deciding_again_produces_no_new_intents(plan, ctx):
    """The caps are per plan: an action a cap held back may go next time, and nothing else."""
    intents = {i.action_index: i for _, i in decided(plan, ctx)}
    filled = replace(
        plan,
        actions=tuple(
            replace(a, current_base_size=a.current_base_size + signed(intents[n]))
            if n in intents
            else a
            for n, a in enumerate(plan.actions)
        ),
    )
    again = {i.action_index for _, i in decided(filled, ctx)}
    assert again <= capped(plan, ctx)


@given(plans(), contexts())
def test_while_the_decided_intents_are_working_deciding_again_produces_no_new_intents(plan, ctx):
    """Working orders net out; only an action a per-plan cap held back may go next time."""
    intents = [i for _, i in decided(plan, ctx)]
    working_now = tuple(new_order(i, local_id=f"N{n}", now=NOW) for n, i in enumerate(intents))
    again = replace(ctx, open_orders=(*ctx.open_orders, *working_now))
    assert {i.action_index for _, i in decided(plan, again)} <= capped(plan, ctx)


@given(plans(), contexts())
def test_without_notional_caps_a_plan_repeated_while_its_orders_work_sends_nothing_new(plan, ctx):
    uncapped = replace(
        ctx,
        config=replace(ctx.config, max_pair_notional_usd=None, max_total_notional_usd=None),
    )
    intents = [i for _, i in decided(plan, uncapped)]
    working_now = tuple(new_order(i, local_id=f"N{n}", now=NOW) for n, i in enumerate(intents))
    assert decided(plan, replace(uncapped, open_orders=(*ctx.open_orders, *working_now))) == []


@given(plans(), contexts())
def test_planning_is_deterministic(plan, ctx):
    rebuilt_plan = replace(plan, actions=tuple(replace(a) for a in plan.actions))
    rebuilt_ctx = replace(ctx, prices=dict(ctx.prices), open_orders=tuple(ctx.open_orders))
    assert plan_orders(plan, ctx) == plan_orders(rebuilt_plan, rebuilt_ctx)


# ---------------------------------------------------------------- router property


@st.composite
def grids(draw: st.DrawFn) -> PairMetadata:
    decimals = draw(st.integers(min_value=0, max_value=8))
    tick = draw(st.integers(min_value=1, max_value=50)) * ONE.scaleb(-decimals)
    return a_pair("XBTUSD", pair_decimals=decimals, tick_size=tick)


mids = st.decimals(
    min_value=Decimal("0.00000001"),
    max_value=Decimal(1_000_000),
    places=8,
    allow_nan=False,
    allow_infinity=False,
)


@given(st.sampled_from(Side), mids, st.integers(min_value=0, max_value=5000), grids())
def test_the_limit_price_is_the_nearest_tick_multiple_that_keeps_the_slippage_cap(
    side, mid, bps, pair
):
    if not has_limit_price(side, mid, Decimal(bps), pair):
        assert side is Side.BUY
        assert price_cap(side, mid, Decimal(bps)) < pair.tick_size
        return
    price = limit_price(side, mid, Decimal(bps), pair)
    cap = price_cap(side, mid, Decimal(bps))
    assert price > 0
    assert price % pair.tick_size == 0
    assert -int(price.as_tuple().exponent) <= pair.pair_decimals
    if side is Side.BUY:
        assert cap - pair.tick_size < price <= cap
    else:
        assert price >= cap
        assert price - cap < pair.tick_size or price == pair.tick_size


# ---------------------------------------------------------------- lifecycle properties

# an_order() requests 0.1: 0.2 is more than was asked for
fills = st.sampled_from(
    [Decimal(0), Decimal("0.025"), Decimal("0.05"), Decimal("0.1"), Decimal("0.2")]
)
kraken_statuses = st.sampled_from(KrakenOrderStatus)


@st.composite
def observations(draw: st.DrawFn) -> Observed:
    """Order info for `an_order()`: sometimes stale, overfilled, or someone else's."""
    return Observed(
        at=NOW,
        info=order_info(
            status=draw(kraken_statuses),
            volume_executed=draw(fills),
            txid=draw(st.sampled_from([TXID, TXID, TXID, "OOTHER-AAAAA-BBBBBB"])),
            cl_ord_id=draw(st.sampled_from(["L1", "L1", "L1", "L2"])),
        ),
    )


other_kinds = st.sampled_from(sorted(set(EventKind) - OBSERVED_KINDS))


@st.composite
def event_sequences(draw: st.DrawFn) -> list[OrderEvent]:
    events: list[OrderEvent] = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        if draw(st.booleans()):
            events.append(draw(observations()))
        else:
            events.append(an_event(draw(other_kinds)))
    return events


@st.composite
def next_events(draw: st.DrawFn, order: LocalOrder) -> OrderEvent:
    """Half the time an event consistent with ``order`` (any kind), else raw order info."""
    if draw(st.booleans()):
        return an_event(draw(st.sampled_from(EventKind)), order)
    return draw(observations())


def checked_apply(order: LocalOrder, event: OrderEvent) -> LocalOrder:
    """Apply ``event``, assert the lifecycle invariants, return the order to continue with."""
    result = apply(order, event)
    if not is_successful(result):
        return order  # a refused event leaves the order as it was
    new = result.unwrap()
    kind = event_kind(event)
    assert new.status is TRANSITIONS[(order.status, kind)]
    assert order.cumulative_base_filled <= new.cumulative_base_filled
    assert Decimal(0) <= new.cumulative_base_filled <= new.requested_base_size
    if order.status in TERMINAL_STATUSES:
        assert (order.status, kind) in DOCUMENTED_TERMINAL_EDGES
    return new


@given(st.sampled_from(OrderStatus), st.data())
def test_folding_observations_keeps_fills_monotone_within_the_request_and_terminals_absorb(
    start, data
):
    order = an_order_in(start)
    for _ in range(data.draw(st.integers(min_value=1, max_value=12))):
        for kind in EventKind:  # every kind of event, from every state the walk visits
            checked_apply(order, an_event(kind, order))
        order = checked_apply(order, data.draw(next_events(order)))


start_statuses = st.sampled_from([OrderStatus.PENDING, OrderStatus.SUBMITTED])


@given(start_statuses, event_sequences())
def test_folding_is_deterministic_and_fold_agrees_with_applying_one_by_one(start, events):
    order = an_order(status=start)
    folded = fold(order, events)
    assert folded == fold(order, list(events))
    step = order
    for event in events:
        result = apply(step, event)
        if not is_successful(result):
            assert folded == result
            return
        step = result.unwrap()
    assert folded.unwrap() == step
