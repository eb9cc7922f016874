"""Pure: what the planner computes once per plan, and what it accumulates across actions.

`Env` is the planning context indexed once per plan (O(actions + open
orders)): resolved pairs, canonical names, the remaining volume of live orders
per (pair, strategy), USD rates and quote ages. `Running` is what the intents
accepted so far add up to: the USD totals the budget caps read, and the
volumes a later action on the same (pair, strategy) nets out.
`kraken_bot.execution.core.planner` builds both; the steps read them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from pyrsistent.typing import PMap
from returns.result import Result

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import LIVE_STATUSES, LocalOrder, OrderIntent, Side
from kraken_bot.kraken.pairs import PairMetadata, PairUniverse, UnknownPair
from kraken_bot.region import RegionProfile

ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Working:
    """Remaining volume of live orders on one (pair, strategy)."""

    buy: Decimal = ZERO
    sell: Decimal = ZERO
    count: int = 0

    def add(self, side: Side, volume: Decimal) -> Working:
        if side is Side.BUY:
            return Working(self.buy + volume, self.sell, self.count + 1)
        return Working(self.buy, self.sell + volume, self.count + 1)

    def merge(self, other: Working) -> Working:
        return Working(self.buy + other.buy, self.sell + other.sell, self.count + other.count)


NOTHING_WORKING: Final = Working()
Key = tuple[str, str | None]


def index_working(
    orders: Iterable[LocalOrder],
    canonical: Callable[[str], str],
    strategy_of_userref: Mapping[int, str] | None = None,
) -> Mapping[Key, Working]:
    """Remaining volume of live orders by (pair, strategy).

    An order without a strategy (adopted from the exchange after the database lost
    it) is attributed by its userref when a configured strategy carries it; otherwise
    it stays under (pair, None), which `Running.working` counts against every action
    on the pair: nothing is bought twice because its owner is unknown.
    """
    owners = strategy_of_userref or {}
    index: dict[Key, Working] = {}
    for order in orders:
        if order.status in LIVE_STATUSES:
            strategy = order.strategy_id
            if strategy is None and order.userref is not None:
                strategy = owners.get(order.userref)
            key = (canonical(order.pair), strategy)
            remaining = order.unfilled_base_size
            index[key] = index.get(key, NOTHING_WORKING).add(order.side, remaining)
    return index


@dataclass(frozen=True, slots=True)
class Quote:
    mid: Decimal
    age_seconds: float
    bid: Decimal
    ask: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Env:
    """The context the steps read, plus what is computed once per plan."""

    config: ExecutionConfig
    region: RegionProfile
    universe: PairUniverse
    pairs: Mapping[str, Result[PairMetadata, UnknownPair]]
    working: Mapping[Key, Working]
    usd_rates: Mapping[str, Decimal | None]
    quotes: Mapping[str, Quote]
    userrefs: Mapping[str, int]
    names: Mapping[str, str]
    repeated: frozenset[Key]


@dataclass(frozen=True, slots=True)
class Running:
    """The intents accepted so far in this plan: their USD notional, and their volume.

    A later action on the same pair and strategy nets them out like open
    orders, so a plan that names one (pair, strategy) twice never doubles an order.
    """

    per_pair: PMap[str, Decimal]
    total: Decimal
    planned: PMap[Key, Working]

    def add(self, intent: OrderIntent, env: Env) -> Running:
        key = (intent.pair, intent.strategy_id)
        planned, per_pair = self.planned, self.per_pair
        if key in env.repeated:  # only a plan naming this (pair, strategy) twice needs it
            earlier = planned.get(key, NOTHING_WORKING)
            planned = planned.set(key, earlier.add(intent.side, intent.volume))
        if env.config.max_pair_notional_usd is not None:  # only the pair cap reads it
            per_pair = per_pair.set(intent.pair, self.pair_total(intent.pair) + intent.notional_usd)
        return Running(per_pair, self.total + intent.notional_usd, planned)

    def pair_total(self, pair: str) -> Decimal:
        return self.per_pair.get(pair, ZERO)

    def working(self, key: Key, env: Env) -> Working:
        opened = env.working.get(key, NOTHING_WORKING)
        pair, strategy = key
        if strategy is not None and (pair, None) in env.working:
            opened = opened.merge(env.working[(pair, None)])  # orders of no known strategy
        if key not in env.repeated:
            return opened
        return opened.merge(self.planned[key]) if key in self.planned else opened
