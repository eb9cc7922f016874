"""What a replay is asked to do and what it produced: plain records, and the fault journal.

`SimulationSettings` goes into `kraken_bot.simulation.runner.run_simulation`;
`SimulationOutcome` comes out and `kraken_bot.simulation.summary.summarize`
turns it into figures. `journal_faults` reads the exchange's journal: which of
our requests met an injected fault and, for AddOrder, which order it carried.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

from kraken_bot._enums import Routing
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder
from kraken_bot.execution.core.reports import SendStats
from kraken_bot.execution.shell._route import RouteStats
from kraken_bot.kraken.limiter import LimiterStats
from kraken_bot.kraken.pairs import PairMetadata
from kraken_bot.simulation.invariants import Violation
from kraken_sim import JournalEntry, Order, Trade
from kraken_sim.history import PriceHistory

__all__ = [
    "DEFAULT_PLANS",
    "FaultEvent",
    "PlanShortfall",
    "PriceSample",
    "ReplayProgress",
    "SimulationOutcome",
    "SimulationSettings",
    "journal_faults",
]


DEFAULT_PLANS: Final = 12
"""Plans of a replay without price files and without a count: two hours at 10 minutes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationSettings:
    """What to run.

    Attributes:
        db_path: the SQLite file written (replaced) when the run ends; the run keeps it in memory.
        scenario: a scenario file; None runs the bundled default scenario.
        seed: seeds the exchange, the local ids and the strategy.
        faults: ``none``/``light``/``heavy`` or a fault file; None keeps the scenario's.
        plans: how many plan cycles to run; None: as many as cover the price files (one
            every ``plan_interval_seconds`` from their first row to their end), or
            `DEFAULT_PLANS` without price files.
        plan_interval_seconds: virtual time from one plan to the next.
        prices: price files to replay, ``FILE`` or ``PAIR=FILE`` (Kraken's OHLCVT CSV,
            or ``timestamp,pair,price`` rows; see `kraken_sim.history`).
        samples: keep mids and holdings along the way (`SimulationOutcome.samples`, what
            ``--plot`` draws); a replay that plots nothing skips them.
        max_slippage_bps: limit price offset from the mid; 0 (the default here) prices
            limit orders at the mid, so they rest on the book and fill as makers over
            time (partial fills, reconciliation and cancels all get exercised).
        market_order_max_notional_usd: orders up to this notional go as market orders.
        cancel_leftovers: before each plan and at the end, cancel what is still open
            (partial fills stand), as a rebalancing bot does.
        userref: tag the strategy's orders with this Kraken userref, so their exchange
            identity is the userref instead of a client order id.
        routing: ``execution.routing`` (``contract`` or ``maker_first``); None keeps the
            replay's usual limit orders at the mid. `routing_settings` gives the
            settings a routing comparison runs with.
    """

    db_path: Path
    scenario: Path | None = None
    seed: int = 7
    faults: str | None = None
    plans: int | None = DEFAULT_PLANS
    plan_interval_seconds: float = 600.0
    prices: tuple[str, ...] = ()
    samples: bool = True
    max_slippage_bps: Decimal = Decimal(0)
    market_order_max_notional_usd: Decimal | None = Decimal(2000)
    cancel_leftovers: bool = True
    userref: int | None = None
    routing: Routing | None = None


def routing_settings(settings: SimulationSettings, routing: Routing) -> SimulationSettings:
    """``settings`` as a routing comparison runs them: the contract's limit orders (at
    ``max_slippage_bps`` 50, the library default, unless one was given) and no market
    orders, so the two routings work the same orders two ways."""
    bps = settings.max_slippage_bps if settings.max_slippage_bps > 0 else Decimal(50)
    return replace(
        settings, routing=routing, max_slippage_bps=bps, market_order_max_notional_usd=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultEvent:
    """A fault the exchange injected into one of our requests.

    Attributes:
        endpoint: the Kraken method.
        kind: the fault kind (``lost_response``, ``http_5xx``, ...).
        phase: ``before`` (nothing executed) or ``after`` (executed, answer spoiled).
        took_effect: the request executed without error on the exchange.
        at: virtual time of the request.
        client_order_id: for AddOrder, the client order id sent (when it had one).
        txids: for AddOrder, the orders the request created on the exchange.
    """

    endpoint: str
    kind: str
    phase: str | None
    took_effect: bool
    at: datetime
    client_order_id: str | None = None
    txids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceSample:
    """Mids and base holdings at one moment of the run (for plots)."""

    at: datetime
    mids: dict[str, Decimal]
    holdings: dict[str, Decimal]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayProgress:
    """How far a replay is: reported before the first plan and after each one.

    Attributes:
        plans_done: plan cycles finished (executed, waited out, reconciled).
        plans: plan cycles in the replay.
        at: the virtual time.
    """

    plans_done: int
    plans: int
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanShortfall:
    """The implementation shortfall of one plan, for ``--plot``'s per-plan panel.

    A hook: the replay fills none yet. A routing comparison fills
    `SimulationOutcome.plan_shortfalls` with one series per routing it compares (the series'
    name labels the line), and the plot draws them under the price panels.

    Attributes:
        plan_id: the plan.
        at: when the plan was executed (virtual time).
        bps: the shortfall in basis points of the plan's notional; worse is positive.
    """

    plan_id: str
    at: datetime
    bps: float


@dataclass(kw_only=True)
class SimulationOutcome:
    """Everything a run produced; `kraken_bot.simulation.summary` turns it into figures.

    ``journal`` is the exchange's record of every request, in arrival order.
    """

    settings: SimulationSettings
    scenario_name: str
    fault_profile: str
    tier: str
    pairs: tuple[PairMetadata, ...]
    results: list[ExecutionResult]
    orders: list[LocalOrder]
    exchange_orders: list[Order]
    trades: list[Trade]
    fault_counts: dict[str, int]
    fault_events: list[FaultEvent]
    send_stats: SendStats
    limiter: LimiterStats
    violations: list[Violation]
    samples: list[PriceSample]
    started_at: datetime
    ended_at: datetime
    wall_seconds: float = 0.0
    reconcile_errors: list[str] = field(default_factory=list)
    prices: tuple[PriceHistory, ...] = ()
    plan_shortfalls: dict[str, list[PlanShortfall]] = field(default_factory=dict)
    journal: Sequence[JournalEntry] = ()
    routing: RouteStats | None = None
    """What the maker-first router did (None: the run did not use it)."""


def journal_faults(
    journal: Iterable[JournalEntry], api_key: str, add_orders: list[str | None]
) -> list[FaultEvent]:
    """Faults injected into our requests; AddOrders matched to the client order id sent.

    The journal and the transport both see every AddOrder in arrival order (one
    request at a time), so the n-th AddOrder journal entry is the n-th one sent.
    """
    events: list[FaultEvent] = []
    add_index = 0
    for entry in journal:
        if entry.api_key not in {api_key, None}:
            continue
        client_order_id = None
        if entry.endpoint == "AddOrder" and entry.api_key == api_key:
            if add_index < len(add_orders):
                client_order_id = add_orders[add_index]
            add_index += 1
        if entry.fault is None:
            continue
        events.append(
            FaultEvent(
                endpoint=entry.endpoint,
                kind=entry.fault,
                phase=entry.fault_phase,
                took_effect=entry.took_effect,
                at=entry.time,
                client_order_id=client_order_id,
                txids=entry.txids,
            )
        )
    return events
