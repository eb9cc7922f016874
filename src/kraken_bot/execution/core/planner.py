"""Pure: from an ExecutionPlan to order intents, or to skips a person can act on.

`plan_orders` is the contract's section 6.1. A plan states desired holdings;
for every action it returns exactly one `Result`: ``Success(OrderIntent)``,
an order rounded and ready for Kraken, or ``Failure(ActionSkip)`` saying why
no order goes out. Benign skips (no-op, blocked, covered by open orders, below
one lot step, below ``ordermin``) mean "nothing to do"; the others are
guardrail errors the shell records as an ``error`` order and never sends.

Rules, checked per action in this order (the first that applies wins):

1. ``action_type`` none: no-op. Blocked by risk checks: blocked.
2. The pair must resolve (any of Kraken's names) and its status must accept
   the order: ``online``; ``limit_only`` when we send limit orders;
   ``post_only`` when ``post_only`` is configured. Else unknown pair / pair
   not online.
3. **Netting.** This layer's own live orders on the same pair and strategy
   count as if filled: ``effective = current + open buys - open sells``
   (remaining volumes), ``delta = target - effective``. A zero delta is a
   no-op, or "covered by open orders" when orders are working. So a plan
   repeated while its orders work never doubles them. Intents accepted
   earlier in the same plan count the same way, so a plan naming one (pair,
   strategy) twice does not double its order either. A live order of no known
   strategy (adopted after the database lost it) belongs to the strategy whose
   configured userref it carries; otherwise it counts against every action on
   its pair, so nothing is bought twice because its owner is unknown.
4. Side from the sign of the delta; volume ``|delta|`` truncated to
   ``lot_decimals``. Zero: below one lot step; under ``ordermin``: below
   ordermin. A sell may not exceed what is held minus what open sells already
   offer (no shorting under US_CA): would go short.
5. The pair's price must exist and be younger than ``max_price_age_seconds``.
   For a non-USD quote, the quote asset's USD pair must have a fresh price too
   (no USD price). Then the router picks the order type and the limit price.
6. ``volume x price`` (limit price, or mid for market orders) must reach
   ``costmin``; its USD value must reach ``min_order_notional_usd``; the
   running USD totals of this plan's accepted intents, per pair and overall,
   must stay within ``max_pair_notional_usd`` and ``max_total_notional_usd``.
   Refused actions add nothing to the running totals.

The USD conversion (step 5) comes before the cost checks (step 6) because the
router needs the USD notional to choose between market and limit.

The steps live in private modules: rules 1-4 in `_planner_sizing`, rules 5-6
in `_planner_pricing`, and what they read or accumulate per plan in
`_planner_env`. `_plan_action` below chains them in the order above.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.config import ExecutionConfig
>>> from kraken_bot.region import US_CA
>>> from kraken_bot.kraken.pairs import PAIR_EXAMPLE, PairUniverse
>>> from kraken_bot.kraken.prices import PriceQuote
>>> from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction
>>> now = datetime(2026, 1, 1, tzinfo=UTC)
>>> ctx = PlanningContext(universe=PairUniverse.of([PAIR_EXAMPLE]),
...     prices={"XBTUSD": PriceQuote(pair="XBTUSD", bid=Decimal(59990), ask=Decimal(60010),
...                                  last=None, at=now)},
...     open_orders=(), config=ExecutionConfig(), region=US_CA, now=now)
>>> plan = ExecutionPlan(plan_id="p1", created_at=now, actions=(
...     RiskAdjustedAction(pair="XBT/USD", strategy_id="trend", action_type=ActionType.INCREASE,
...         current_base_size=Decimal("0.1"), target_base_size=Decimal("0.25")),
...     RiskAdjustedAction(pair="XBTUSD", strategy_id="mr", action_type=ActionType.CLOSE,
...         current_base_size=Decimal("0.1"), target_base_size=Decimal("0.3"),
...         blocked=True, block_reasons=("drawdown",))))
>>> intent, skip = plan_orders(plan, ctx)
>>> i = intent.unwrap()
>>> i.side.value, i.volume_text, i.price_text, i.notional_usd
('buy', '0.15000000', '60300.0', Decimal('9045.000000000'))
>>> print(skip.failure().message)
XBTUSD blocked by risk checks: drawdown; nothing sent
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from pyrsistent import pmap
from returns.pipeline import is_successful
from returns.result import Result

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core._planner_env import ZERO, Env, Quote, Running, index_working
from kraken_bot.execution.core._planner_pricing import (
    check_budget,
    check_cost,
    find_quote,
    price_order,
    to_intent,
)
from kraken_bot.execution.core._planner_sizing import (
    Draft,
    check_size,
    gate,
    net_open_orders,
    new_draft,
    resolve_pair,
)
from kraken_bot.execution.core.models import ActionSkip, LocalOrder, OrderIntent
from kraken_bot.kraken.pairs import PairMetadata, PairUniverse
from kraken_bot.kraken.prices import PriceQuote
from kraken_bot.region import US_CA, RegionProfile
from kraken_bot.strategy.plan import ExecutionPlan

__all__ = ["PlanningContext", "plan_orders", "usd_rate", "usd_value"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanningContext:
    """Everything the planner reads besides the plan: all values, no I/O.

    Attributes:
        universe: pair metadata (AssetPairs).
        prices: latest quotes, keyed by canonical altname (``XBTUSD``).
        open_orders: this layer's own orders that are not terminal.
        config: the execution configuration.
        region: what the account may do (shorting).
        now: the planning time (timezone-aware UTC), for price freshness.
        strategy_userrefs: strategy id -> Kraken ``userref``, from the configuration.
    """

    universe: PairUniverse
    prices: Mapping[str, PriceQuote]
    open_orders: Sequence[LocalOrder] = ()
    config: ExecutionConfig
    region: RegionProfile = US_CA
    now: datetime
    strategy_userrefs: Mapping[str, int] = pmap({})


# ---------------------------------------------------------------- USD values


def _fresh_mid(ctx: PlanningContext, altname: str) -> Decimal | None:
    quote = ctx.prices.get(altname)
    if quote is None or quote.age_seconds(ctx.now) > ctx.config.max_price_age_seconds:
        return None
    return quote.mid


def usd_rate(pair: PairMetadata, ctx: PlanningContext) -> Decimal | None:
    """USD per unit of the pair's quote asset: 1 for USD quotes, else a fresh USD mid.

    Returns None when the quote asset has no USD pair or its price is missing or stale.

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.config import ExecutionConfig
    >>> from kraken_bot.kraken.pairs import PAIR_EXAMPLE, PairUniverse
    >>> ctx = PlanningContext(universe=PairUniverse.of([PAIR_EXAMPLE]), prices={},
    ...     config=ExecutionConfig(), now=datetime(2026, 1, 1, tzinfo=UTC))
    >>> usd_rate(PAIR_EXAMPLE, ctx)
    Decimal('1')
    """
    if pair.quote_is_usd:
        return Decimal(1)
    usd_pair = ctx.universe.usd_pair_for(pair.quote)
    return None if usd_pair is None else _fresh_mid(ctx, usd_pair.altname)


def usd_value(amount_in_quote: Decimal, pair: PairMetadata, ctx: PlanningContext) -> Decimal | None:
    """An amount in the pair's quote currency, in USD (None when no fresh USD price exists).

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.config import ExecutionConfig
    >>> from kraken_bot.kraken.pairs import PAIR_EXAMPLE, PairUniverse
    >>> ctx = PlanningContext(universe=PairUniverse.of([PAIR_EXAMPLE]), prices={},
    ...     config=ExecutionConfig(), now=datetime(2026, 1, 1, tzinfo=UTC))
    >>> usd_value(Decimal("12.5"), PAIR_EXAMPLE, ctx)
    Decimal('12.5')
    """
    rate = usd_rate(pair, ctx)
    return None if rate is None else amount_in_quote * rate


# ---------------------------------------------------------------- planning


def _environment(plan: ExecutionPlan, ctx: PlanningContext) -> Env:
    """The context plus what is computed once per plan (O(actions + open orders))."""
    spelled = {a.pair for a in plan.actions} | {o.pair for o in ctx.open_orders}
    pairs = {name: ctx.universe.resolve(name) for name in spelled}
    names = {name: found.map(lambda p: p.altname).value_or(name) for name, found in pairs.items()}
    keys = Counter((names[a.pair], a.strategy_id) for a in plan.actions)
    resolved = [found.unwrap() for found in pairs.values() if is_successful(found)]
    return Env(
        config=ctx.config,
        region=ctx.region,
        universe=ctx.universe,
        pairs=pairs,
        names=names,
        repeated=frozenset(key for key, seen in keys.items() if seen > 1),
        working=index_working(
            ctx.open_orders,
            names.__getitem__,
            {userref: strategy for strategy, userref in ctx.strategy_userrefs.items()},
        ),
        usd_rates={p.quote: usd_rate(p, ctx) for p in resolved},
        quotes={
            name: Quote(quote.mid, quote.age_seconds(ctx.now), quote.bid, quote.ask)
            for name, quote in ctx.prices.items()
        },
        userrefs=dict(ctx.strategy_userrefs),
    )


def _plan_action(draft: Draft, env: Env, running: Running) -> Result[OrderIntent, ActionSkip]:
    return (
        gate(draft)
        .bind(lambda d: resolve_pair(d, env))
        .bind(lambda t: net_open_orders(t, env, running))
        .bind(lambda s: check_size(s, env))
        .bind(lambda s: find_quote(s, env))
        .bind(lambda q: price_order(q, env))
        .bind(lambda p: check_cost(p, env))
        .bind(lambda p: check_budget(p, env, running))
        .map(lambda p: to_intent(p, env))
    )


def plan_orders(
    plan: ExecutionPlan, ctx: PlanningContext
) -> tuple[Result[OrderIntent, ActionSkip], ...]:
    """Decide, for every action of ``plan``, the order to send or why there is none.

    Args:
        plan: the Phase 4 plan (desired holdings).
        ctx: pair metadata, prices, open orders, configuration, region and time.

    Returns:
        Exactly one result per action, in the plan's order:
        ``Success(OrderIntent)`` or ``Failure(ActionSkip)``.

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.config import ExecutionConfig
    >>> from kraken_bot.kraken.pairs import PAIR_EXAMPLE, PairUniverse
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> ctx = PlanningContext(universe=PairUniverse.of([PAIR_EXAMPLE]), prices={},
    ...     config=ExecutionConfig(), now=now)
    >>> plan_orders(ExecutionPlan(plan_id="empty", created_at=now, actions=()), ctx)
    ()
    """
    env = _environment(plan, ctx)
    running = Running(pmap({}), ZERO, pmap({}))
    results: list[Result[OrderIntent, ActionSkip]] = []
    for index, action in enumerate(plan.actions):
        result = _plan_action(new_draft(index, action, plan.plan_id, env), env, running)
        running = result.map(partial(running.add, env=env)).value_or(running)
        results.append(result)
    return tuple(results)
