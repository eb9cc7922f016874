"""A small rebalancing strategy, bundled so ``krakked sim`` has plans to execute.

It stands in for Phase 4: each cycle it reads the account's holdings from
Kraken's ``Balance`` through the real client (the portfolio truth, contract
6.2: current holdings come from the exchange, not from the order records) and
the mids from ``Ticker``, values the account in USD, and asks for target
holdings that put each pair's base asset at a target weight of that equity.

The target weights drift each cycle by a seeded random tilt around equal
weights (cash keeps an equal share too), so every cycle trades something: a
replay exercises buys and sells, small market orders and limit orders, on every
pair. The randomness is the strategy's own ``random.Random(seed)``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Final, Protocol, TypeVar

from kraken_bot.clock import Clock
from kraken_bot.execution.shell._retry import retry_reads
from kraken_bot.kraken.pairs import PairMetadata
from kraken_bot.market.api import MarketData
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction

__all__ = ["BalanceSource", "Holdings", "RebalancingStrategy", "action_type_for"]

STRATEGY_ID: Final = "sim_rebalance"
_USD: Final = ("ZUSD", "USD")
_READ_WAITS: Final = (1.0, 2.0, 4.0, 8.0, 16.0)
_T = TypeVar("_T")


class BalanceSource(Protocol):
    """Where holdings come from (`KrakenRESTClient.balance`)."""

    def balance(self) -> dict[str, Decimal]:
        """Asset id to amount."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Holdings:
    """What the account holds at planning time, valued at the mids.

    Attributes:
        cash_usd: USD balance.
        base: base-asset amount by pair altname.
        mids: mid price by pair altname.
    """

    cash_usd: Decimal
    base: dict[str, Decimal]
    mids: dict[str, Decimal]

    @property
    def equity_usd(self) -> Decimal:
        """Cash plus every base holding at its mid."""
        return self.cash_usd + sum(
            (self.base[p] * self.mids[p] for p in self.base), start=Decimal(0)
        )


def action_type_for(current: Decimal, target: Decimal) -> ActionType:
    """The informational action type of a move from ``current`` to ``target``.

    >>> [action_type_for(Decimal(a), Decimal(b)).value for a, b in [(0, 1), (1, 2), (2, 1),
    ...     (1, 0), (1, 1)]]
    ['open', 'increase', 'reduce', 'close', 'none']
    """
    if target == current:
        return ActionType.NONE
    if current == 0:
        return ActionType.OPEN
    if target == 0:
        return ActionType.CLOSE
    return ActionType.INCREASE if target > current else ActionType.REDUCE


def read_with_retries(clock: Clock, call: Callable[[], _T]) -> _T:
    """A read, retried on transient Kraken errors 1, 2, 4, 8, 16 s apart (on ``clock``)."""
    return retry_reads(call, sleep=clock.sleep, waits=_READ_WAITS, what="strategy read")


class RebalancingStrategy:
    """Target weights over USD-quoted pairs, read against the exchange's balances.

    Args:
        pairs: the pairs to hold (USD-quoted), as `PairMetadata`.
        balances: the real client (its ``balance()``).
        market: market data (mids).
        clock: waits between attempts when a read meets a transient error.
        seed: seeds the weight tilt.
        tilt: the largest relative change of a weight from one cycle to the next.
        strategy_id: tags every action.
    """

    def __init__(
        self,
        *,
        pairs: Sequence[PairMetadata],
        balances: BalanceSource,
        market: MarketData,
        clock: Clock,
        seed: int,
        tilt: Decimal = Decimal("0.3"),
        strategy_id: str = STRATEGY_ID,
    ) -> None:
        if not pairs:
            raise ValueError("the strategy needs at least one USD-quoted pair")
        self.pairs = tuple(pairs)
        self._balances = balances
        self._market = market
        self._clock = clock
        self._random = random.Random(seed)
        self._tilt = tilt
        self.strategy_id = strategy_id
        self.history: list[Holdings] = []

    def holdings(self) -> Holdings:
        """Read balances and mids now."""
        balances = read_with_retries(self._clock, self._balances.balance)
        names = [p.altname for p in self.pairs]
        quotes = read_with_retries(self._clock, lambda: self._market.get_latest_prices(names))
        return Holdings(
            cash_usd=sum((balances.get(a, Decimal(0)) for a in _USD), start=Decimal(0)),
            base={p.altname: balances.get(p.base, Decimal(0)) for p in self.pairs},
            mids={p.altname: quotes[p.altname].mid for p in self.pairs},
        )

    def weights(self) -> dict[str, Decimal]:
        """This cycle's target weight per pair (cash keeps the rest)."""
        share = Decimal(1) / (len(self.pairs) + 1)
        weights: dict[str, Decimal] = {}
        for pair in self.pairs:
            swing = Decimal(str(round(self._random.uniform(-1.0, 1.0), 4)))
            weights[pair.altname] = share * (1 + swing * self._tilt)
        return weights

    def next_plan(self, plan_id: str, now: datetime) -> ExecutionPlan:
        """A plan that moves every pair to this cycle's target weight."""
        held = self.holdings()
        self.history.append(held)
        equity = held.equity_usd
        actions = []
        for pair, weight in zip(self.pairs, self.weights().values(), strict=True):
            mid = held.mids[pair.altname]
            target = (equity * weight / mid).quantize(pair.lot_step, rounding=ROUND_DOWN)
            current = held.base[pair.altname]
            actions.append(
                RiskAdjustedAction(
                    pair=pair.altname,
                    strategy_id=self.strategy_id,
                    action_type=action_type_for(current, target),
                    current_base_size=current,
                    target_base_size=target,
                )
            )
        return ExecutionPlan(plan_id=plan_id, created_at=now, actions=tuple(actions))
