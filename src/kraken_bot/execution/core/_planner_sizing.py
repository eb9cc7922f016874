"""Pure: the planner's rules 1-4, from an action to a side and a Kraken-sized volume.

Each step takes what the one before produced and returns it refined, or a
``Failure(ActionSkip)`` saying why no order goes out: `gate` (no-op,
blocked), `resolve_pair` (unknown pair, pair not online), `net_open_orders`
(netting, below one lot step), `check_size` (below ordermin, would go short).
The rules themselves are written out in `kraken_bot.execution.core.planner`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from kraken_bot.execution.core._planner_env import Env, Running, Working
from kraken_bot.execution.core.models import ActionSkip, OrderType, Side, SkipReason
from kraken_bot.execution.core.router import pair_takes_orders, truncate_volume
from kraken_bot.kraken.pairs import PairMetadata
from kraken_bot.strategy.plan import ActionType, RiskAdjustedAction


def num(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _side_of(delta: Decimal) -> Side | None:
    if delta == 0:
        return None
    return Side.BUY if delta > 0 else Side.SELL


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """An action being planned: ``name`` is canonical once the pair resolves;
    ``side``/``volume`` are the raw delta until netting replaces them."""

    index: int
    plan_id: str | None
    action: RiskAdjustedAction
    name: str
    userref: int | None
    side: Side | None
    volume: Decimal | None

    def with_delta(self, side: Side | None, volume: Decimal | None) -> Draft:
        return replace(self, side=side, volume=volume)

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


def new_draft(index: int, action: RiskAdjustedAction, plan_id: str, env: Env) -> Draft:
    delta = action.target_base_size - action.current_base_size
    by_strategy = env.userrefs.get(action.strategy_id or "")
    return Draft(
        index=index,
        plan_id=plan_id,
        action=action,
        name=env.names[action.pair],
        # Kraken reports userref 0 as "no userref": treat it the same way here.
        userref=action.userref or by_strategy or None,
        side=_side_of(delta),
        volume=abs(delta) if delta else None,
    )


def gate(draft: Draft) -> Result[Draft, ActionSkip]:
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
class Target:
    draft: Draft
    pair: PairMetadata


def resolve_pair(draft: Draft, env: Env) -> Result[Target, ActionSkip]:
    found = env.pairs[draft.action.pair]
    if not is_successful(found):
        return draft.skip(
            SkipReason.UNKNOWN_PAIR,
            f"unknown pair {draft.name!r}: not in Kraken's AssetPairs; check the plan's pair name",
        )
    pair = found.unwrap()
    if not pair_takes_orders(pair, env.config):
        return draft.skip(
            SkipReason.PAIR_NOT_ONLINE,
            f"{pair.altname} is {pair.status} on Kraken and would refuse this order;"
            " try again when it is online",
        )
    return Success(Target(draft=draft, pair=pair))


@dataclass(frozen=True, slots=True, kw_only=True)
class Sized:
    target: Target
    draft: Draft
    side: Side
    volume: Decimal
    working: Working

    @property
    def label(self) -> str:
        return f"{self.draft.name} {self.side} {num(self.volume)}"


def net_open_orders(target: Target, env: Env, running: Running) -> Result[Sized, ActionSkip]:
    draft, action = target.draft, target.draft.action
    working = running.working((draft.name, action.strategy_id), env)
    delta = action.target_base_size - (action.current_base_size + working.buy - working.sell)
    side = _side_of(delta)
    if side is None:
        return _covered(draft.with_delta(None, None), working)
    volume = truncate_volume(abs(delta), target.pair.lot_decimals)
    sized = draft.with_delta(side, volume)
    if volume == 0:
        step = num(target.pair.lot_step)
        return sized.skip(
            SkipReason.BELOW_LOT_STEP,
            f"{draft.name} {side} {num(abs(delta))} is below one lot step ({step})"
            " after netting open orders; nothing to send",
        )
    return Success(Sized(target=target, draft=sized, side=side, volume=volume, working=working))


def _covered(draft: Draft, working: Working) -> Result[Sized, ActionSkip]:
    target = num(draft.action.target_base_size)
    if working.count == 0:
        return draft.skip(SkipReason.NO_OP, f"{draft.name}: already at target {target}")
    return draft.skip(
        SkipReason.COVERED_BY_OPEN_ORDERS,
        f"{draft.name}: orders already working (open, or earlier in this plan) cover the"
        f" target {target}"
        f" (holding {num(draft.action.current_base_size)}, open buys {num(working.buy)},"
        f" open sells {num(working.sell)}); nothing new sent",
    )


def check_size(sized: Sized, env: Env) -> Result[Sized, ActionSkip]:
    pair, draft = sized.target.pair, sized.draft
    if sized.volume < pair.ordermin:
        return draft.skip(
            SkipReason.BELOW_ORDERMIN,
            f"{sized.label} is below Kraken's ordermin {num(pair.ordermin)}; nothing sent",
        )
    held, on_sale = draft.action.current_base_size, sized.working.sell
    may_short = env.region.supports_shorting
    if sized.side is Side.SELL and not may_short and sized.volume > held - on_sale:
        return draft.skip(
            SkipReason.WOULD_GO_SHORT,
            f"{sized.label} would go short: holding {num(held)}"
            f" with {num(on_sale)} already on open sells",
        )
    return Success(sized)
