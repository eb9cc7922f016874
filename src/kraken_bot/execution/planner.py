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
   strategy) twice does not double its order either.
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

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.config import ExecutionConfig
>>> from kraken_bot.kraken.region import US_CA
>>> from kraken_bot.market.pairs import PAIR_EXAMPLE, PairUniverse
>>> from kraken_bot.market.prices import PriceQuote
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import partial
from typing import Any, Final

from pyrsistent import pmap
from pyrsistent.typing import PMap
from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.models import (
    LIVE_STATUSES,
    ActionSkip,
    LocalOrder,
    OrderIntent,
    OrderType,
    Side,
    SkipReason,
)
from kraken_bot.execution.router import (
    choose_order_type,
    format_decimal,
    has_limit_price,
    limit_price,
    truncate_volume,
)
from kraken_bot.kraken.region import US_CA, RegionProfile
from kraken_bot.market.pairs import PairMetadata, PairUniverse, UnknownPair
from kraken_bot.market.prices import PriceQuote
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction

_ZERO: Final = Decimal(0)
_CENT: Final = Decimal("0.01")
_WIDE: Final = Context(prec=60)
_LIMIT_STATUSES: Final = frozenset({"limit_only", "post_only"})


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
    >>> from kraken_bot.market.pairs import PAIR_EXAMPLE, PairUniverse
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
    >>> from kraken_bot.market.pairs import PAIR_EXAMPLE, PairUniverse
    >>> ctx = PlanningContext(universe=PairUniverse.of([PAIR_EXAMPLE]), prices={},
    ...     config=ExecutionConfig(), now=datetime(2026, 1, 1, tzinfo=UTC))
    >>> usd_value(Decimal("12.5"), PAIR_EXAMPLE, ctx)
    Decimal('12.5')
    """
    rate = usd_rate(pair, ctx)
    return None if rate is None else amount_in_quote * rate


# ---------------------------------------------------------------- per-plan indexes


@dataclass(frozen=True, slots=True)
class _Working:
    """Remaining volume of live orders on one (pair, strategy)."""

    buy: Decimal = _ZERO
    sell: Decimal = _ZERO
    count: int = 0

    def add(self, side: Side, volume: Decimal) -> _Working:
        if side is Side.BUY:
            return _Working(self.buy + volume, self.sell, self.count + 1)
        return _Working(self.buy, self.sell + volume, self.count + 1)

    def merge(self, other: _Working) -> _Working:
        return _Working(self.buy + other.buy, self.sell + other.sell, self.count + other.count)


_NOTHING_WORKING: Final = _Working()
_Key = tuple[str, str | None]


def _index_working(
    orders: Iterable[LocalOrder], canonical: Callable[[str], str]
) -> Mapping[_Key, _Working]:
    index: dict[_Key, _Working] = {}
    for order in orders:
        if order.status in LIVE_STATUSES:
            key = (canonical(order.pair), order.strategy_id)
            remaining = order.requested_base_size - order.cumulative_base_filled
            index[key] = index.get(key, _NOTHING_WORKING).add(order.side, remaining)
    return index


@dataclass(frozen=True, slots=True)
class _Quote:
    mid: Decimal
    age_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class _Env:
    """The context plus what is computed once per plan (O(actions + open orders))."""

    ctx: PlanningContext
    pairs: Mapping[str, Result[PairMetadata, UnknownPair]]
    working: Mapping[_Key, _Working]
    usd_rates: Mapping[str, Decimal | None]
    quotes: Mapping[str, _Quote]
    userrefs: Mapping[str, int]
    names: Mapping[str, str]
    repeated: frozenset[_Key]

    @staticmethod
    def build(plan: ExecutionPlan, ctx: PlanningContext) -> _Env:
        spelled = {a.pair for a in plan.actions} | {o.pair for o in ctx.open_orders}
        pairs = {name: ctx.universe.resolve(name) for name in spelled}
        names = {
            name: found.map(lambda p: p.altname).value_or(name) for name, found in pairs.items()
        }
        keys = Counter((names[a.pair], a.strategy_id) for a in plan.actions)
        resolved = [found.unwrap() for found in pairs.values() if is_successful(found)]
        return _Env(
            ctx=ctx,
            pairs=pairs,
            names=names,
            repeated=frozenset(key for key, seen in keys.items() if seen > 1),
            working=_index_working(ctx.open_orders, names.__getitem__),
            usd_rates={p.quote: usd_rate(p, ctx) for p in resolved},
            quotes={
                name: _Quote(quote.mid, quote.age_seconds(ctx.now))
                for name, quote in ctx.prices.items()
            },
            userrefs=dict(ctx.strategy_userrefs),
        )


@dataclass(frozen=True, slots=True)
class _Running:
    """The intents accepted so far in this plan: their USD notional, and their volume.

    A later action on the same pair and strategy nets them out like open
    orders, so a plan that names one (pair, strategy) twice never doubles an order.
    """

    per_pair: PMap[str, Decimal]
    total: Decimal
    planned: PMap[_Key, _Working]

    def add(self, intent: OrderIntent, env: _Env) -> _Running:
        key = (intent.pair, intent.strategy_id)
        planned, per_pair = self.planned, self.per_pair
        if key in env.repeated:  # only a plan naming this (pair, strategy) twice needs it
            earlier = planned.get(key, _NOTHING_WORKING)
            planned = planned.set(key, earlier.add(intent.side, intent.volume))
        if env.ctx.config.max_pair_notional_usd is not None:  # only the pair cap reads it
            per_pair = per_pair.set(intent.pair, self.pair_total(intent.pair) + intent.notional_usd)
        return _Running(per_pair, self.total + intent.notional_usd, planned)

    def pair_total(self, pair: str) -> Decimal:
        return self.per_pair.get(pair, _ZERO)

    def working(self, key: _Key, env: _Env) -> _Working:
        opened = env.working.get(key, _NOTHING_WORKING)
        if key not in env.repeated:
            return opened
        return opened.merge(self.planned[key]) if key in self.planned else opened


# ---------------------------------------------------------------- stages


def _num(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _usd(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN, context=_WIDE):f} USD"


def _side_of(delta: Decimal) -> Side | None:
    if delta == 0:
        return None
    return Side.BUY if delta > 0 else Side.SELL


@dataclass(frozen=True, slots=True, kw_only=True)
class _Draft:
    """An action being planned: ``name`` is canonical once the pair resolves;
    ``side``/``volume`` are the raw delta until netting replaces them."""

    index: int
    plan_id: str | None
    action: RiskAdjustedAction
    name: str
    userref: int | None
    side: Side | None
    volume: Decimal | None

    def with_delta(self, side: Side | None, volume: Decimal | None) -> _Draft:
        return _Draft(
            index=self.index,
            plan_id=self.plan_id,
            action=self.action,
            name=self.name,
            userref=self.userref,
            side=side,
            volume=volume,
        )

    def skip(
        self,
        reason: SkipReason,
        message: str,
        *,
        price: Decimal | None = None,
        order_type: OrderType | None = None,
    ) -> Result[Any, ActionSkip]:
        return Failure(
            ActionSkip(
                action_index=self.index,
                pair=self.name,
                strategy_id=self.action.strategy_id,
                reason=reason,
                message=message,
                side=self.side,
                volume=self.volume,
                price=price,
                order_type=order_type,
                userref=self.userref,
            )
        )


def _draft(index: int, action: RiskAdjustedAction, plan_id: str, env: _Env) -> _Draft:
    delta = action.target_base_size - action.current_base_size
    by_strategy = env.userrefs.get(action.strategy_id or "")
    return _Draft(
        index=index,
        plan_id=plan_id,
        action=action,
        name=env.names[action.pair],
        # Kraken reports userref 0 as "no userref": treat it the same way here.
        userref=action.userref or by_strategy or None,
        side=_side_of(delta),
        volume=abs(delta) if delta else None,
    )


def _gate(draft: _Draft) -> Result[_Draft, ActionSkip]:
    name = draft.name
    if draft.action.action_type is ActionType.NONE:
        return draft.skip(SkipReason.NO_OP, f"{name}: action_type none, nothing to do")
    if draft.action.blocked:
        reasons = "; ".join(draft.action.block_reasons) or "no reason given"
        return draft.skip(
            SkipReason.BLOCKED, f"{name} blocked by risk checks: {reasons}; nothing sent"
        )
    return Success(draft)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Target:
    draft: _Draft
    pair: PairMetadata


def _status_allows(pair: PairMetadata, config: ExecutionConfig) -> bool:
    if pair.status == "limit_only":
        return config.default_order_type is OrderType.LIMIT
    if pair.status == "post_only":
        return config.post_only
    return pair.is_online


def _resolve(draft: _Draft, env: _Env) -> Result[_Target, ActionSkip]:
    found = env.pairs[draft.action.pair]
    if not is_successful(found):
        return draft.skip(
            SkipReason.UNKNOWN_PAIR,
            f"unknown pair {draft.name!r}: not in Kraken's AssetPairs; check the plan's pair name",
        )
    pair = found.unwrap()
    if not _status_allows(pair, env.ctx.config):
        return draft.skip(
            SkipReason.PAIR_NOT_ONLINE,
            f"{pair.altname} is {pair.status} on Kraken and would refuse this order;"
            " try again when it is online",
        )
    return Success(_Target(draft=draft, pair=pair))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Sized:
    target: _Target
    draft: _Draft
    side: Side
    volume: Decimal
    working: _Working

    @property
    def label(self) -> str:
        return f"{self.draft.name} {self.side} {_num(self.volume)}"


def _net(target: _Target, env: _Env, running: _Running) -> Result[_Sized, ActionSkip]:
    draft, action = target.draft, target.draft.action
    working = running.working((draft.name, action.strategy_id), env)
    delta = action.target_base_size - (action.current_base_size + working.buy - working.sell)
    side = _side_of(delta)
    if side is None:
        return _covered(draft.with_delta(None, None), working)
    volume = truncate_volume(abs(delta), target.pair.lot_decimals)
    sized = draft.with_delta(side, volume)
    if volume == 0:
        step = _num(target.pair.lot_step)
        return sized.skip(
            SkipReason.BELOW_LOT_STEP,
            f"{draft.name} {side} {_num(abs(delta))} is below one lot step ({step})"
            " after netting open orders; nothing to send",
        )
    return Success(_Sized(target=target, draft=sized, side=side, volume=volume, working=working))


def _covered(draft: _Draft, working: _Working) -> Result[_Sized, ActionSkip]:
    target = _num(draft.action.target_base_size)
    if working.count == 0:
        return draft.skip(SkipReason.NO_OP, f"{draft.name}: already at target {target}")
    return draft.skip(
        SkipReason.COVERED_BY_OPEN_ORDERS,
        f"{draft.name}: orders already working (open, or earlier in this plan) cover the"
        f" target {target}"
        f" (holding {_num(draft.action.current_base_size)}, open buys {_num(working.buy)},"
        f" open sells {_num(working.sell)}); nothing new sent",
    )


def _check_size(sized: _Sized, env: _Env) -> Result[_Sized, ActionSkip]:
    pair, draft = sized.target.pair, sized.draft
    if sized.volume < pair.ordermin:
        return draft.skip(
            SkipReason.BELOW_ORDERMIN,
            f"{sized.label} is below Kraken's ordermin {_num(pair.ordermin)}; nothing sent",
        )
    held, on_sale = draft.action.current_base_size, sized.working.sell
    may_short = env.ctx.region.supports_shorting
    if sized.side is Side.SELL and not may_short and sized.volume > held - on_sale:
        return draft.skip(
            SkipReason.WOULD_GO_SHORT,
            f"{sized.label} would go short: holding {_num(held)}"
            f" with {_num(on_sale)} already on open sells",
        )
    return Success(sized)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Quoted:
    sized: _Sized
    mid: Decimal
    usd_rate: Decimal


def _quote(sized: _Sized, env: _Env) -> Result[_Quoted, ActionSkip]:
    ctx, draft, pair = env.ctx, sized.draft, sized.target.pair
    quote = env.quotes.get(pair.altname)
    if quote is None or quote.mid <= 0:
        return draft.skip(
            SkipReason.MISSING_PRICE,
            f"no price for {pair.altname}: fetch a Ticker quote before planning",
        )
    age, limit = quote.age_seconds, ctx.config.max_price_age_seconds
    if age > limit:
        return draft.skip(
            SkipReason.STALE_PRICE,
            f"{pair.altname} price is {age:.0f}s old (limit {limit:g}s): refresh prices",
        )
    rate = env.usd_rates.get(pair.quote)
    if rate is None:
        return draft.skip(SkipReason.NO_USD_PRICE, _no_usd_message(pair, ctx))
    return Success(_Quoted(sized=sized, mid=quote.mid, usd_rate=rate))


def _no_usd_message(pair: PairMetadata, ctx: PlanningContext) -> str:
    usd_pair = ctx.universe.usd_pair_for(pair.quote)
    where = f"{usd_pair.altname} has no fresh price" if usd_pair else "it has no USD pair"
    return f"{pair.altname}: cannot value {pair.quote} in USD ({where}); USD limits uncheckable"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Priced:
    quoted: _Quoted
    order_type: OrderType
    price: Decimal | None
    cost: Decimal
    notional_usd: Decimal

    def skip(self, reason: SkipReason, message: str) -> Result[Any, ActionSkip]:
        draft = self.quoted.sized.draft
        return draft.skip(reason, message, price=self.price, order_type=self.order_type)

    @property
    def label(self) -> str:
        at = self.price if self.price is not None else self.quoted.mid
        return f"{self.quoted.sized.label} @ {_num(at)}"


def _order_type(pair: PairMetadata, config: ExecutionConfig, notional_usd: Decimal) -> OrderType:
    if pair.status in _LIMIT_STATUSES:
        return OrderType.LIMIT
    return choose_order_type(config, notional_usd)


def _price(quoted: _Quoted, env: _Env) -> Result[_Priced, ActionSkip]:
    sized, config = quoted.sized, env.ctx.config
    pair, mid, bps = sized.target.pair, quoted.mid, config.max_slippage_bps
    order_type = _order_type(pair, config, sized.volume * mid * quoted.usd_rate)
    if order_type is OrderType.LIMIT and not has_limit_price(sized.side, mid, bps, pair):
        return sized.draft.skip(
            SkipReason.MISSING_PRICE,
            f"{sized.label}: no price on the {_num(pair.tick_size)} tick grid within"
            f" {_num(bps)} bps of mid {_num(mid)}",
            order_type=order_type,
        )
    price = limit_price(sized.side, mid, bps, pair) if order_type is OrderType.LIMIT else None
    cost = sized.volume * (mid if price is None else price)
    return Success(
        _Priced(
            quoted=quoted,
            order_type=order_type,
            price=price,
            cost=cost,
            notional_usd=cost * quoted.usd_rate,
        )
    )


def _check_cost(priced: _Priced, env: _Env) -> Result[_Priced, ActionSkip]:
    pair, config = priced.quoted.sized.target.pair, env.ctx.config
    if pair.costmin is not None and priced.cost < pair.costmin:
        return priced.skip(
            SkipReason.BELOW_COSTMIN,
            f"{priced.label} costs {_num(priced.cost)} {pair.quote},"
            f" below Kraken's costmin {_num(pair.costmin)}",
        )
    floor = config.min_order_notional_usd
    if priced.notional_usd < floor:
        return priced.skip(
            SkipReason.BELOW_MIN_NOTIONAL,
            f"{priced.label} is {_usd(priced.notional_usd)},"
            f" below min_order_notional_usd {_num(floor)}",
        )
    return Success(priced)


def _check_budget(priced: _Priced, env: _Env, running: _Running) -> Result[_Priced, ActionSkip]:
    config, pair = env.ctx.config, priced.quoted.sized.draft.name
    pair_cap, total_cap = config.max_pair_notional_usd, config.max_total_notional_usd
    if pair_cap is not None:
        pair_total = running.pair_total(pair) + priced.notional_usd
        if pair_total > pair_cap:
            return priced.skip(
                SkipReason.ABOVE_MAX_PAIR_NOTIONAL,
                f"{priced.label} would bring this plan's {pair} orders to {_usd(pair_total)},"
                f" above max_pair_notional_usd {_num(pair_cap)}",
            )
    total = running.total + priced.notional_usd
    if total_cap is not None and total > total_cap:
        return priced.skip(
            SkipReason.ABOVE_MAX_TOTAL_NOTIONAL,
            f"{priced.label} would bring this plan's orders to {_usd(total)},"
            f" above max_total_notional_usd {_num(total_cap)}",
        )
    return Success(priced)


def _intent(priced: _Priced, env: _Env) -> OrderIntent:
    quoted, config = priced.quoted, env.ctx.config
    sized = quoted.sized
    pair, draft = sized.target.pair, sized.draft
    limit = priced.order_type is OrderType.LIMIT
    price_text = None if priced.price is None else format_decimal(priced.price, pair.pair_decimals)
    return OrderIntent(
        action_index=draft.index,
        plan_id=draft.plan_id,
        strategy_id=draft.action.strategy_id,
        pair=pair.altname,
        rest_pair=pair.rest_symbol,
        side=sized.side,
        order_type=priced.order_type,
        volume=sized.volume,
        price=priced.price,
        reference_price=quoted.mid,
        notional_usd=priced.notional_usd,
        userref=draft.userref,
        time_in_force=config.time_in_force,
        post_only=limit and config.post_only,
        volume_text=format_decimal(sized.volume, pair.lot_decimals),
        price_text=price_text,
    )


def _plan_action(draft: _Draft, env: _Env, running: _Running) -> Result[OrderIntent, ActionSkip]:
    return (
        _gate(draft)
        .bind(lambda d: _resolve(d, env))
        .bind(lambda t: _net(t, env, running))
        .bind(lambda s: _check_size(s, env))
        .bind(lambda s: _quote(s, env))
        .bind(lambda q: _price(q, env))
        .bind(lambda p: _check_cost(p, env))
        .bind(lambda p: _check_budget(p, env, running))
        .map(lambda p: _intent(p, env))
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
    >>> from kraken_bot.market.pairs import PAIR_EXAMPLE, PairUniverse
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> ctx = PlanningContext(universe=PairUniverse.of([PAIR_EXAMPLE]), prices={},
    ...     config=ExecutionConfig(), now=now)
    >>> plan_orders(ExecutionPlan(plan_id="empty", created_at=now, actions=()), ctx)
    ()
    """
    env = _Env.build(plan, ctx)
    running = _Running(pmap({}), _ZERO, pmap({}))
    results: list[Result[OrderIntent, ActionSkip]] = []
    for index, action in enumerate(plan.actions):
        result = _plan_action(_draft(index, action, plan.plan_id, env), env, running)
        running = result.map(partial(running.add, env=env)).value_or(running)
        results.append(result)
    return tuple(results)
