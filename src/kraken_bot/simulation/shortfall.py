"""Pure: implementation shortfall of a replay's orders, and a routing comparison's table.

An action of a plan may take several orders: the first one, then (``maker_first``) a
repost of it (plan ``{plan}:repost:{local_id}``), a replacement (``{plan}:replace:...``)
or a cross of what it left (``{plan}:cross:{local_id}``), and so on
(`kraken_bot.execution.core.routing.follow_up_parent`). Those orders form one
**chain**, measured as one order against the mid when the chain began (its first
order's ``reference_price``):

* shortfall (bps) = the average fill price's distance from that mid, worse positive, plus
  the fees paid per unit of notional filled; a chain without fills has none;
* fill ratio = base filled over the first order's requested base (notional at that mid,
  over every chain);
* time to fill = from the first send to the chain's last update, for chains that filled
  completely.

A plan's shortfall (``PlanShortfall``, for ``--plot``) is its chains' notional-weighted mean.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from kraken_bot.execution.core.models import LocalOrder, OrderStatus, Side
from kraken_bot.execution.core.routing import follow_up_parent

__all__ = [
    "Chain",
    "RoutingFigures",
    "chains",
    "plan_shortfalls",
    "routing_figures",
]

_BPS: Final = Decimal(10000)


@dataclass(frozen=True, slots=True, kw_only=True)
class Chain:
    """One action's orders, first to last."""

    orders: tuple[LocalOrder, ...]

    @property
    def first(self) -> LocalOrder:
        return self.orders[0]

    @property
    def plan_id(self) -> str:
        """The plan the chain's first order belongs to."""
        return self.first.plan_id or ""

    @property
    def arrival_mid(self) -> Decimal | None:
        return self.first.reference_price

    @property
    def requested(self) -> Decimal:
        return self.first.requested_base_size

    @property
    def filled(self) -> Decimal:
        return sum((o.cumulative_base_filled for o in self.orders), start=Decimal(0))

    @property
    def cost(self) -> Decimal:
        return sum((o.cost for o in self.orders), start=Decimal(0))

    @property
    def fees(self) -> Decimal:
        return sum((o.fee for o in self.orders), start=Decimal(0))

    def shortfall_bps(self) -> float | None:
        """Price shortfall plus fees, in bps of the filled notional (None without fills)."""
        mid, filled, cost = self.arrival_mid, self.filled, self.cost
        if mid is None or mid <= 0 or filled <= 0 or cost <= 0:
            return None
        average = cost / filled
        signed = (average - mid) if self.first.side is Side.BUY else (mid - average)
        return float(signed / mid * _BPS + self.fees / cost * _BPS)

    def seconds_to_fill(self) -> float | None:
        """First send to the last order's last update, when the chain filled completely."""
        last = self.orders[-1]
        if self.filled < self.requested or last.status is not OrderStatus.FILLED:
            return None
        start = self.first.first_sent_at or self.first.created_at
        return (last.updated_at - start).total_seconds()


def chains(orders: Iterable[LocalOrder]) -> list[Chain]:
    """The orders grouped into chains (see the module docstring), in first-order order."""
    listed = list(orders)
    by_id = {o.local_id: o for o in listed}
    children: dict[str, list[LocalOrder]] = {}
    roots: list[LocalOrder] = []
    for order in listed:
        parent = follow_up_parent(order.plan_id)
        if parent is not None and parent in by_id:
            children.setdefault(parent, []).append(order)
        else:
            roots.append(order)
    found: list[Chain] = []
    for root in roots:
        members = [root]
        frontier = [root]
        while frontier:
            nxt = children.get(frontier.pop().local_id, [])
            members.extend(nxt)
            frontier.extend(nxt)
        found.append(Chain(orders=tuple(members)))
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingFigures:
    """One routing's figures over a replay (``krakked sim --compare``)."""

    routing: str
    chains: int
    shortfall_bps_mean: float | None
    shortfall_bps_p90: float | None
    fill_ratio: float | None
    fees: Decimal
    seconds_to_fill_median: float | None
    amends: int
    rate_limit_waits: int
    rate_limit_errors: int

    def to_json(self) -> dict[str, object]:
        return {
            "routing": self.routing,
            "chains": self.chains,
            "shortfall_bps_mean": _round(self.shortfall_bps_mean),
            "shortfall_bps_p90": _round(self.shortfall_bps_p90),
            "fill_ratio": _round(self.fill_ratio, 4),
            "fees": str(self.fees),
            "seconds_to_fill_median": _round(self.seconds_to_fill_median),
            "amends": self.amends,
            "rate_limit_waits": self.rate_limit_waits,
            "rate_limit_errors": self.rate_limit_errors,
        }


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def routing_figures(
    routing: str,
    orders: Sequence[LocalOrder],
    *,
    amends: int,
    rate_limit_waits: int,
    rate_limit_errors: int,
) -> RoutingFigures:
    """The comparison row of one replay."""
    found = chains(orders)
    measured = [(c, c.shortfall_bps()) for c in found]
    weighted = [(float(c.filled * (c.arrival_mid or 0)), s) for c, s in measured if s is not None]
    total = sum(w for w, _ in weighted)
    mean = sum(w * s for w, s in weighted) / total if total > 0 else None
    values = sorted(s for _, s in weighted)
    requested = sum((c.requested * (c.arrival_mid or 0) for c in found), start=Decimal(0))
    filled = sum((c.filled * (c.arrival_mid or 0) for c in found), start=Decimal(0))
    times = sorted(t for c in found if (t := c.seconds_to_fill()) is not None)
    return RoutingFigures(
        routing=routing,
        chains=len(found),
        shortfall_bps_mean=mean,
        shortfall_bps_p90=_percentile(values, 0.9),
        fill_ratio=float(filled / requested) if requested > 0 else None,
        fees=sum((c.fees for c in found), start=Decimal(0)),
        seconds_to_fill_median=_percentile(times, 0.5),
        amends=amends,
        rate_limit_waits=rate_limit_waits,
        rate_limit_errors=rate_limit_errors,
    )


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
    return values[index]


def plan_shortfalls(orders: Sequence[LocalOrder]) -> Mapping[str, float]:
    """Each plan's notional-weighted shortfall (bps), by plan id."""
    sums: dict[str, tuple[float, float]] = {}
    for chain in chains(orders):
        bps = chain.shortfall_bps()
        if bps is None:
            continue
        weight = float(chain.filled * (chain.arrival_mid or 0))
        total, weights = sums.get(chain.plan_id, (0.0, 0.0))
        sums[chain.plan_id] = (total + weight * bps, weights + weight)
    return {plan: total / weights for plan, (total, weights) in sums.items() if weights > 0}
