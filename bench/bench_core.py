"""Benchmark of the pure execution core: planning and lifecycle folding.

* ``plan_orders`` on plans of 10, 1,000 and 10,000 actions over the fixture
  pairs (named every way Kraken names them), a mix of buys, sells, no-ops,
  ``action_type: none`` and blocked actions, with live open orders on a tenth
  of the (pair, strategy) keys;
* ``lifecycle.fold`` of a typical order life: send, ack, open, two partial
  fills, filled (six events, four of them Kraken observations).

Usage: ``python bench/bench_core.py [--quick]``. Prints a table, then two
machine-readable lines (the 1,000-action plan, and events folded per second)::

    planner_actions_per_s: 123456 actions/s
    lifecycle_folds_per_s: 123456 folds/s
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

from pyrsistent import pmap

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.lifecycle import fold, new_order
from kraken_bot.execution.core.models import (
    Acknowledged,
    LocalOrder,
    Observed,
    OrderEvent,
    OrderStatus,
    OrderType,
    SendAttempted,
    Side,
)
from kraken_bot.execution.core.planner import PlanningContext, plan_orders
from kraken_bot.kraken.pairs import PairUniverse, parse_asset_pairs
from kraken_bot.kraken.prices import PriceQuote
from kraken_bot.kraken.types import parse_order_info
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
MIDS = {"XBTUSD": "60000", "ETHUSD": "3000", "SOLUSD": "150", "ETHXBT": "0.05"}
NAMES = {
    "XBTUSD": ("XBTUSD", "XBT/USD", "XXBTZUSD", "BTCUSD"),
    "ETHUSD": ("ETHUSD", "ETH/USD", "XETHZUSD"),
    "SOLUSD": ("SOLUSD", "SOL/USD"),
    "ETHXBT": ("ETHXBT", "ETH/XBT", "XETHXXBT"),
}
SIZES = {"XBTUSD": "0.5", "ETHUSD": "5", "SOLUSD": "100", "ETHXBT": "5"}


def load_universe() -> PairUniverse:
    raw = json.loads((ROOT / "fixtures" / "asset_pairs.json").read_text(encoding="utf-8"))
    return parse_asset_pairs(raw["result"]).unwrap()


def quote(pair: str, mid: str) -> PriceQuote:
    centre = Decimal(mid)
    return PriceQuote(
        pair=pair, bid=centre * Decimal("0.9999"), ask=centre * Decimal("1.0001"), last=None, at=NOW
    )


def make_action(rng: random.Random, pair: str, strategy: str) -> RiskAdjustedAction:
    scale = Decimal(SIZES[pair])
    current = scale * Decimal(rng.randrange(0, 1000)) / 1000
    kind = rng.random()
    if kind < 0.1:
        target, action_type = current, ActionType.NONE
    elif kind < 0.2:
        target, action_type = current, ActionType.INCREASE  # already at target
    elif kind < 0.6:
        more = scale * Decimal(rng.randrange(1, 500)) / 1000
        target, action_type = current + more, ActionType.INCREASE
    else:
        target, action_type = current * Decimal(rng.randrange(0, 900)) / 1000, ActionType.REDUCE
    return RiskAdjustedAction(
        pair=rng.choice(NAMES[pair]),
        strategy_id=strategy,
        action_type=action_type,
        current_base_size=current,
        target_base_size=target,
        blocked=rng.random() < 0.05,
        block_reasons=("drawdown",),
    )


def make_open_order(rng: random.Random, n: int, pair: str, strategy: str) -> LocalOrder:
    volume = Decimal(SIZES[pair]) * Decimal(rng.randrange(1, 200)) / 1000
    return LocalOrder(
        local_id=f"open-{n}",
        plan_id="earlier",
        strategy_id=strategy,
        pair=pair,
        side=rng.choice((Side.BUY, Side.SELL)),
        order_type=rng.choice((OrderType.LIMIT, OrderType.MARKET)),
        kraken_order_id=None,
        userref=None,
        client_order_id=f"open-{n}",
        requested_base_size=volume,
        requested_price=None,
        status=rng.choice((OrderStatus.SUBMITTED, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)),
        created_at=NOW,
        updated_at=NOW,
        cumulative_base_filled=volume / 4,
    )


def make_case(size: int, universe: PairUniverse) -> tuple[ExecutionPlan, PlanningContext]:
    rng = random.Random(size)
    strategies = [f"s{n}" for n in range(max(1, size // len(MIDS)))]
    keys = [(pair, strategy) for strategy in strategies for pair in MIDS][:size]
    actions = tuple(make_action(rng, pair, strategy) for pair, strategy in keys)
    opened = [k for k in keys if rng.random() < 0.1]
    orders = tuple(make_open_order(rng, n, p, s) for n, (p, s) in enumerate(opened))
    ctx = PlanningContext(
        universe=universe,
        prices={pair: quote(pair, mid) for pair, mid in MIDS.items()},
        open_orders=orders,
        config=ExecutionConfig(min_order_notional_usd=Decimal(20)),
        now=NOW,
        strategy_userrefs=pmap({s: 1000 + n for n, s in enumerate(strategies[:10])}),
    )
    return ExecutionPlan(plan_id=f"bench-{size}", created_at=NOW, actions=actions), ctx


def best_rate(work: Callable[[], object], units: int, min_seconds: float) -> float:
    """Units per second of the fastest of several timed runs."""
    best, spent = float("inf"), 0.0
    while spent < min_seconds or best == float("inf"):
        started = time.perf_counter()
        work()
        took = time.perf_counter() - started
        best, spent = min(best, took), spent + took
    return units / best


def order_life(n: int) -> tuple[LocalOrder, list[OrderEvent]]:
    order = LocalOrder(
        local_id=f"L{n}",
        plan_id="bench",
        strategy_id="s",
        pair="XBTUSD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        kraken_order_id=None,
        userref=None,
        client_order_id=f"L{n}",
        requested_base_size=Decimal("0.1"),
        requested_price=Decimal("60300.0"),
        status=OrderStatus.PENDING,
        created_at=NOW,
        updated_at=NOW,
    )
    txid = f"O{n:05d}-AAAAA-BBBBBB"

    def seen(status: str, executed: str, second: int) -> Observed:
        info = parse_order_info(
            txid,
            {
                "status": status,
                "cl_ord_id": f"L{n}",
                "opentm": NOW.timestamp() + 1,
                "descr": {
                    "pair": "XBTUSD",
                    "type": "buy",
                    "ordertype": "limit",
                    "price": "60300.0",
                },
                "vol": "0.1",
                "vol_exec": executed,
                "cost": str(Decimal(executed) * 60300),
                "fee": "0",
                "price": "60300.0",
            },
        ).unwrap()
        return Observed(at=NOW + timedelta(seconds=second), info=info)

    events: list[OrderEvent] = [
        SendAttempted(at=NOW, attempt=1, request=pmap({"pair": "XXBTZUSD"}), deadline=None),
        Acknowledged(at=NOW, txid=txid, response_json="{}"),
        seen("open", "0", 2),
        seen("open", "0.03", 3),
        seen("open", "0.07", 4),
        seen("closed", "0.1", 5),
    ]
    return order, events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter timing runs")
    args = parser.parse_args()
    min_seconds = 0.2 if args.quick else 1.0
    universe = load_universe()

    print(f"{'case':<52} {'units':>8} {'rate':>16}")
    planner_rates: dict[int, float] = {}
    for size in (10, 1_000, 10_000):
        plan, ctx = make_case(size, universe)
        results = plan_orders(plan, ctx)
        intents = sum(1 for r in results if r.map(lambda _: True).value_or(False))
        rate = best_rate(partial(plan_orders, plan, ctx), size, min_seconds)
        planner_rates[size] = rate
        label = f"plan_orders {size:,} actions ({intents} intents, {len(ctx.open_orders)} open)"
        print(f"{label:<52} {size:>8} {rate:>12,.0f} actions/s")

    lives = [order_life(n) for n in range(1_000)]
    events = sum(len(e) for _, e in lives)
    assert all(fold(o, e).unwrap().status is OrderStatus.FILLED for o, e in lives)
    fold_rate = best_rate(lambda: [fold(o, e) for o, e in lives], events, min_seconds)
    print(f"{'fold 1,000 order lives':<52} {events:>8} {fold_rate:>12,.0f} events/s")
    print(f"{'  (orders folded)':<52} {len(lives):>8} {fold_rate / 6:>12,.0f} orders/s")
    intent = plan_orders(*make_case(10, universe))[1]
    made = intent.map(lambda i: new_order(i, local_id="x", now=NOW)).value_or(None)
    assert made is None or made.status is OrderStatus.PENDING

    print()
    print(f"planner_actions_per_s: {planner_rates[1_000]:.0f} actions/s")
    print(f"lifecycle_folds_per_s: {fold_rate:.0f} folds/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
