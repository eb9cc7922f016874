"""Pure: the planner's rules 5-6, from a sized order to a priced, budget-checked intent.

`find_quote` (missing or stale price, no USD price), `price_order` (order
type and limit price), `check_cost` (below costmin, below the USD minimum),
`check_budget` (the plan's per-pair and total USD caps), then `to_intent`
builds the `OrderIntent` with Kraken's text formatting. The rules themselves
are written out in `kraken_bot.execution.core.planner`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Final

from returns.result import Result, Success

from kraken_bot._enums import Routing
from kraken_bot.execution.core._planner_env import Env, Running
from kraken_bot.execution.core._planner_sizing import Sized, num
from kraken_bot.execution.core.models import (
    ActionSkip,
    OrderIntent,
    OrderType,
    SkipReason,
    TimeInForce,
)
from kraken_bot.execution.core.router import (
    has_limit_price,
    limit_price,
    order_type_for,
)
from kraken_bot.execution.core.routing import Touch, entry_price
from kraken_bot.kraken.orders import format_decimal
from kraken_bot.kraken.pairs import PairMetadata

_CENT: Final = Decimal("0.01")
_WIDE: Final = Context(prec=60)


def _usd(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN, context=_WIDE):f} USD"


@dataclass(frozen=True, slots=True, kw_only=True)
class Quoted:
    sized: Sized
    mid: Decimal
    usd_rate: Decimal
    touch: Touch


def find_quote(sized: Sized, env: Env) -> Result[Quoted, ActionSkip]:
    draft, pair = sized.draft, sized.target.pair
    quote = env.quotes.get(pair.altname)
    if quote is None or quote.mid <= 0:
        return draft.skip(
            SkipReason.MISSING_PRICE,
            f"no price for {pair.altname}: fetch a Ticker quote before planning",
        )
    age, limit = quote.age_seconds, env.config.max_price_age_seconds
    if age > limit:
        return draft.skip(
            SkipReason.STALE_PRICE,
            f"{pair.altname} price is {age:.0f}s old (limit {limit:g}s): refresh prices",
        )
    rate = env.usd_rates.get(pair.quote)
    if rate is None:
        return draft.skip(SkipReason.NO_USD_PRICE, _no_usd_message(pair, env))
    touch = Touch(bid=quote.bid, ask=quote.ask)
    return Success(Quoted(sized=sized, mid=quote.mid, usd_rate=rate, touch=touch))


def _no_usd_message(pair: PairMetadata, env: Env) -> str:
    usd_pair = env.universe.usd_pair_for(pair.quote)
    where = f"{usd_pair.altname} has no fresh price" if usd_pair else "it has no USD pair"
    return f"{pair.altname}: cannot value {pair.quote} in USD ({where}); USD limits uncheckable"


@dataclass(frozen=True, slots=True, kw_only=True)
class Priced:
    quoted: Quoted
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
        return f"{self.quoted.sized.label} @ {num(at)}"


def price_order(quoted: Quoted, env: Env) -> Result[Priced, ActionSkip]:
    sized, config = quoted.sized, env.config
    pair, mid, bps = sized.target.pair, quoted.mid, config.max_slippage_bps
    order_type = order_type_for(pair, config, sized.volume * mid * quoted.usd_rate)
    if order_type is OrderType.LIMIT and not has_limit_price(sized.side, mid, bps, pair):
        return sized.draft.skip(
            SkipReason.MISSING_PRICE,
            f"{sized.label}: no price on the {num(pair.tick_size)} tick grid within"
            f" {num(bps)} bps of mid {num(mid)}",
            order_type=order_type,
        )
    price = limit_price(sized.side, mid, bps, pair) if order_type is OrderType.LIMIT else None
    if price is not None and config.routing is Routing.MAKER_FIRST:
        # At the touch, never beyond the contract's price (which is the cap).
        price = entry_price(sized.side, quoted.touch, price, pair.tick_size)
    cost = sized.volume * (mid if price is None else price)
    return Success(
        Priced(
            quoted=quoted,
            order_type=order_type,
            price=price,
            cost=cost,
            notional_usd=cost * quoted.usd_rate,
        )
    )


def check_cost(priced: Priced, env: Env) -> Result[Priced, ActionSkip]:
    pair, config = priced.quoted.sized.target.pair, env.config
    if pair.costmin is not None and priced.cost < pair.costmin:
        return priced.skip(
            SkipReason.BELOW_COSTMIN,
            f"{priced.label} costs {num(priced.cost)} {pair.quote},"
            f" below Kraken's costmin {num(pair.costmin)}",
        )
    floor = config.min_order_notional_usd
    if priced.notional_usd < floor:
        return priced.skip(
            SkipReason.BELOW_MIN_NOTIONAL,
            f"{priced.label} is {_usd(priced.notional_usd)},"
            f" below min_order_notional_usd {num(floor)}",
        )
    return Success(priced)


def check_budget(priced: Priced, env: Env, running: Running) -> Result[Priced, ActionSkip]:
    config, pair = env.config, priced.quoted.sized.draft.name
    pair_cap, total_cap = config.max_pair_notional_usd, config.max_total_notional_usd
    if pair_cap is not None:
        pair_total = running.pair_total(pair) + priced.notional_usd
        if pair_total > pair_cap:
            return priced.skip(
                SkipReason.ABOVE_MAX_PAIR_NOTIONAL,
                f"{priced.label} would bring this plan's {pair} orders to {_usd(pair_total)},"
                f" above max_pair_notional_usd {num(pair_cap)}",
            )
    total = running.total + priced.notional_usd
    if total_cap is not None and total > total_cap:
        return priced.skip(
            SkipReason.ABOVE_MAX_TOTAL_NOTIONAL,
            f"{priced.label} would bring this plan's orders to {_usd(total)},"
            f" above max_total_notional_usd {num(total_cap)}",
        )
    return Success(priced)


def to_intent(priced: Priced, env: Env) -> OrderIntent:
    quoted, config = priced.quoted, env.config
    sized = quoted.sized
    pair, draft = sized.target.pair, sized.draft
    limit = priced.order_type is OrderType.LIMIT
    maker_first = limit and config.routing is Routing.MAKER_FIRST
    time_in_force = config.time_in_force
    if maker_first and time_in_force is TimeInForce.IOC:
        time_in_force = TimeInForce.GTC  # it rests at the touch, or it is not maker-first
    # The amounts carry the pair's places exactly (their exponent too): formatted for the
    # wire, by the intent or by the adapter from the order, they give these very strings.
    volume_text = format_decimal(sized.volume, pair.lot_decimals)
    price_text = None if priced.price is None else format_decimal(priced.price, pair.pair_decimals)
    return OrderIntent(
        action_index=draft.index,
        plan_id=draft.plan_id,
        strategy_id=draft.action.strategy_id,
        pair=pair.altname,
        rest_pair=pair.rest_symbol,
        side=sized.side,
        order_type=priced.order_type,
        volume=Decimal(volume_text),
        price=None if price_text is None else Decimal(price_text),
        reference_price=quoted.mid,
        notional_usd=priced.notional_usd,
        userref=draft.userref,
        time_in_force=time_in_force,
        post_only=limit and (config.post_only or maker_first),
    )
