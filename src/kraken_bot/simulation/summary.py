"""The figures of a replay: what ``krakked sim`` prints and ``--json`` emits.

Definitions (every figure comes from the SQLite records, the service's and the
client's counters, and the exchange's journal):

* **fill ratio**: filled over requested volume, per pair; overall, the same
  ratio weighted by notional at the planning mid (volumes of different assets
  do not add up).
* **slippage**: for each order with fills, the average fill price against the
  mid at planning time (`LocalOrder.reference_price`), in basis points, signed
  so that worse is positive (paying more on a buy, receiving less on a sell);
  weighted by filled notional.
* **fees**: the sum of the orders' fees (quote currency, USD here).
* **retries**: AddOrder resends after transient errors (`ExecutionService.stats`);
  **lookups**: identity lookups after an ambiguous send.
* **rate-limit waits**: how often and how long (virtual seconds) the client's
  limiter held a call back.
* **faults**: what the exchange injected, by kind; for AddOrder faults, the
  final status of the order the request carried.
* **duplicates** and **lost**: local orders owning more than one exchange
  order, and exchange orders of ours unknown locally (both must be 0).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from kraken_bot.execution.core.codec import JsonObject, JsonValue
from kraken_bot.execution.core.models import LocalOrder, OrderStatus, Side
from kraken_bot.simulation.invariants import Violation, ViolationKind
from kraken_bot.simulation.records import FaultEvent, PlanShortfall, SimulationOutcome
from kraken_bot.simulation.shortfall import RoutingFigures, plan_shortfalls, routing_figures
from kraken_sim.history import PriceHistory

__all__ = [
    "FaultOutcome",
    "PairFigures",
    "PriceFigures",
    "SimulationSummary",
    "earned_rate_limits",
    "figures_of",
    "shortfall_series",
    "summarize",
]

_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class PairFigures:
    """Requested and filled base volume of one pair."""

    pair: str
    orders: int
    requested: Decimal
    filled: Decimal

    @property
    def fill_ratio(self) -> float | None:
        """Filled over requested (None when nothing was requested)."""
        return _ratio(self.filled, self.requested)


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultOutcome:
    """One injected fault and how it ended."""

    endpoint: str
    kind: str
    phase: str | None
    took_effect: bool
    local_id: str | None
    final_status: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceFigures:
    """A replayed price file: its pair, its rows and the time they cover."""

    pair: str
    file: str
    rows: int
    interval_seconds: float | None
    first: datetime
    end: datetime

    def to_json(self) -> JsonObject:
        """A JSON-compatible dict (times in ISO 8601)."""
        return {
            "pair": self.pair,
            "file": self.file,
            "rows": self.rows,
            "interval_seconds": self.interval_seconds,
            "from": self.first.isoformat(),
            "to": self.end.isoformat(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationSummary:
    """The figures of one replay (see the module docstring for their definitions)."""

    scenario: str
    seed: int
    fault_profile: str
    tier: str
    plans: int
    plans_failed: int
    virtual_seconds: float
    orders_by_status: dict[str, int]
    pairs: tuple[PairFigures, ...]
    fill_ratio: float | None
    slippage_bps: float | None
    fees: Decimal
    sends: int
    retries: int
    lookups: int
    rate_limit_waits: int
    rate_limit_wait_seconds: float
    faults: dict[str, int]
    fault_outcomes: tuple[FaultOutcome, ...]
    duplicates: int
    lost: int
    invariant_violations: tuple[Violation, ...]
    reconcile_errors: tuple[str, ...]
    db_path: Path
    wall_seconds: float
    plan_interval_seconds: float = 600.0
    prices: tuple[PriceFigures, ...] = ()

    @property
    def ran_past_prices(self) -> bool:
        """The replay went on after the price files ended (prices held at the last close)."""
        if not self.prices:
            return False
        first = min(p.first for p in self.prices)
        end = max(p.end for p in self.prices)
        return (end - first).total_seconds() < self.virtual_seconds - self.plan_interval_seconds

    @property
    def orders(self) -> int:
        """How many local orders the run created."""
        return sum(self.orders_by_status.values())

    @property
    def ok(self) -> bool:
        """No invariant broke."""
        return not self.invariant_violations

    def add_order_fault_endings(self) -> dict[str, dict[str, int]]:
        """For each AddOrder fault kind, how many affected orders ended in each status."""
        endings: dict[str, Counter[str]] = {}
        for fault in self.fault_outcomes:
            if fault.endpoint != "AddOrder":
                continue
            endings.setdefault(fault.kind, Counter())[fault.final_status or "unmatched"] += 1
        return {kind: dict(sorted(c.items())) for kind, c in sorted(endings.items())}

    def to_json(self) -> JsonObject:
        """Every figure as a JSON-compatible dict (Decimals as exact strings)."""
        fault_outcomes: list[JsonValue] = [
            {
                "endpoint": f.endpoint,
                "kind": f.kind,
                "phase": f.phase,
                "took_effect": f.took_effect,
                "local_id": f.local_id,
                "final_status": f.final_status,
            }
            for f in self.fault_outcomes
        ]
        return {
            "ok": self.ok,
            "scenario": self.scenario,
            "seed": self.seed,
            "fault_profile": self.fault_profile,
            "tier": self.tier,
            "plans": self.plans,
            "plans_failed": self.plans_failed,
            "virtual_seconds": self.virtual_seconds,
            "orders": self.orders,
            "orders_by_status": dict(self.orders_by_status),
            "pairs": {
                p.pair: {
                    "orders": p.orders,
                    "requested": str(p.requested),
                    "filled": str(p.filled),
                    "fill_ratio": p.fill_ratio,
                }
                for p in self.pairs
            },
            "fill_ratio": self.fill_ratio,
            "slippage_bps": self.slippage_bps,
            "fees": str(self.fees),
            "sends": self.sends,
            "retries": self.retries,
            "lookups": self.lookups,
            "rate_limit_waits": self.rate_limit_waits,
            "rate_limit_wait_seconds": self.rate_limit_wait_seconds,
            "faults": dict(self.faults),
            "add_order_fault_endings": dict(self.add_order_fault_endings()),
            "fault_outcomes": fault_outcomes,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "invariant_violations": [v.to_json() for v in self.invariant_violations],
            "reconcile_errors": list(self.reconcile_errors),
            "db_path": str(self.db_path),
            "wall_seconds": self.wall_seconds,
            "plan_interval_seconds": self.plan_interval_seconds,
            "prices": [p.to_json() for p in self.prices],
        }


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    if whole == 0:
        return None
    return round(float(part / whole), 6)


def _statuses(orders: Iterable[LocalOrder]) -> dict[str, int]:
    counts = Counter(o.status.value for o in orders)
    order = {s.value: i for i, s in enumerate(OrderStatus)}
    return dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))))


def _pair_figures(orders: Sequence[LocalOrder]) -> tuple[PairFigures, ...]:
    names = sorted({o.pair for o in orders})
    return tuple(
        PairFigures(
            pair=name,
            orders=sum(1 for o in orders if o.pair == name),
            requested=sum(
                (o.requested_base_size for o in orders if o.pair == name), start=Decimal(0)
            ),
            filled=sum(
                (o.cumulative_base_filled for o in orders if o.pair == name), start=Decimal(0)
            ),
        )
        for name in names
    )


def _reference(order: LocalOrder) -> Decimal | None:
    return order.reference_price if order.reference_price is not None else order.requested_price


def fill_ratio(orders: Iterable[LocalOrder]) -> float | None:
    """Filled over requested notional, both at the planning mid (None without orders)."""
    requested = Decimal(0)
    filled = Decimal(0)
    for order in orders:
        mid = _reference(order)
        if mid is None:
            continue
        requested += order.requested_base_size * mid
        filled += order.cumulative_base_filled * mid
    return _ratio(filled, requested)


def slippage_bps(orders: Iterable[LocalOrder]) -> float | None:
    """Notional-weighted slippage of fills against the planning mid; worse is positive."""
    weighted = Decimal(0)
    weights = Decimal(0)
    for order in orders:
        mid = order.reference_price
        avg = order.avg_fill_price
        if mid is None or avg is None or mid <= 0 or order.cumulative_base_filled <= 0:
            continue
        signed = (avg - mid) if order.side is Side.BUY else (mid - avg)
        weight = order.cumulative_base_filled * mid
        weighted += weight * signed / mid * _BPS
        weights += weight
    if weights == 0:
        return None
    return round(float(weighted / weights), 4)


def _fault_outcomes(
    events: Sequence[FaultEvent], orders: Mapping[str, LocalOrder], by_txid: dict[str, LocalOrder]
) -> tuple[FaultOutcome, ...]:
    outcomes = []
    for event in events:
        order = orders.get(event.client_order_id) if event.client_order_id else None
        if order is None:
            order = next((by_txid[t] for t in event.txids if t in by_txid), None)
        outcomes.append(
            FaultOutcome(
                endpoint=event.endpoint,
                kind=event.kind,
                phase=event.phase,
                took_effect=event.took_effect,
                local_id=order.local_id if order is not None else None,
                final_status=order.status.value if order is not None else None,
            )
        )
    return tuple(outcomes)


def summarize(outcome: SimulationOutcome) -> SimulationSummary:
    """The figures of a run."""
    orders = outcome.orders
    by_client_id = {o.client_order_id: o for o in orders if o.client_order_id is not None}
    by_txid = {o.kraken_order_id: o for o in orders if o.kraken_order_id is not None}
    violations = tuple(outcome.violations)
    return SimulationSummary(
        scenario=outcome.scenario_name,
        seed=outcome.settings.seed,
        fault_profile=outcome.fault_profile,
        tier=outcome.tier,
        plans=len(outcome.results),
        plans_failed=sum(1 for r in outcome.results if not r.success),
        virtual_seconds=(outcome.ended_at - outcome.started_at).total_seconds(),
        orders_by_status=_statuses(orders),
        pairs=_pair_figures(orders),
        fill_ratio=fill_ratio(orders),
        slippage_bps=slippage_bps(orders),
        fees=sum((o.fee for o in orders), start=Decimal(0)),
        sends=outcome.send_stats.sends,
        retries=outcome.send_stats.retries,
        lookups=outcome.send_stats.lookups,
        rate_limit_waits=outcome.limiter.waits,
        rate_limit_wait_seconds=round(outcome.limiter.wait_seconds, 3),
        faults=dict(outcome.fault_counts),
        fault_outcomes=_fault_outcomes(outcome.fault_events, by_client_id, by_txid),
        duplicates=sum(1 for v in violations if v.kind is ViolationKind.DUPLICATE),
        lost=sum(1 for v in violations if v.kind is ViolationKind.LOST),
        invariant_violations=violations,
        reconcile_errors=tuple(outcome.reconcile_errors),
        db_path=outcome.settings.db_path,
        wall_seconds=round(outcome.wall_seconds, 3),
        plan_interval_seconds=outcome.settings.plan_interval_seconds,
        prices=tuple(_price_figures(h) for h in outcome.prices),
    )


def _price_figures(history: PriceHistory) -> PriceFigures:
    return PriceFigures(
        pair=history.pair,
        file=Path(history.source).name,
        rows=len(history.bars) or len(history.points),
        interval_seconds=history.interval,
        first=datetime.fromtimestamp(history.first_time, UTC),
        end=datetime.fromtimestamp(history.end_time, UTC),
    )


def figures_of(routing: str, outcome: SimulationOutcome) -> RoutingFigures:
    """The comparison row of one replay's outcome."""
    return routing_figures(
        routing,
        outcome.orders,
        amends=outcome.routing.amends if outcome.routing is not None else 0,
        rate_limit_waits=outcome.limiter.waits,
        rate_limit_errors=earned_rate_limits(outcome),
    )


def earned_rate_limits(outcome: SimulationOutcome) -> int:
    """Requests the exchange refused for a rate limit of its own accord (not an injected
    fault): what the client's limiter failed to prevent."""
    return sum(
        1
        for entry in outcome.journal
        if entry.fault is None and any("Rate limit" in error for error in entry.errors)
    )


def shortfall_series(outcome: SimulationOutcome) -> list[PlanShortfall]:
    """Each plan's shortfall in the order the plans ran (for ``--plot``)."""
    by_plan = plan_shortfalls(outcome.orders)
    return [
        PlanShortfall(plan_id=r.plan_id, at=r.started_at, bps=by_plan[r.plan_id])
        for r in outcome.results
        if r.plan_id in by_plan
    ]
