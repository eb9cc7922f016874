"""Test data builders: valid values by default, any field overridable by keyword.

Every builder returns a value that makes sense on its own (an order that
matches the order info `order_info()` builds, a context with fresh prices for
every fixture pair), so a test states only what it is about:

    order = an_order(status=OrderStatus.OPEN)
    order = apply(order, observed(vol_exec="0.04")).unwrap()

Times are fixed (`NOW`): nothing here reads a clock.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pyrsistent import pmap

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.lifecycle import EventKind
from kraken_bot.execution.core.models import (
    Acknowledged,
    CancelConfirmed,
    CancelRequested,
    GaveUp,
    LocalOrder,
    NotFoundOnExchange,
    Observed,
    OrderEvent,
    OrderIntent,
    OrderStatus,
    OrderType,
    Rejected,
    SendAttempted,
    SendFailed,
    SendUnconfirmed,
    Side,
    Simulated,
    TimeInForce,
    Validated,
    Withdrawn,
)
from kraken_bot.execution.core.planner import PlanningContext
from kraken_bot.kraken.pairs import PairMetadata, PairUniverse, parse_asset_pairs
from kraken_bot.kraken.prices import PriceQuote
from kraken_bot.kraken.types import KrakenOrderStatus, OrderInfo, to_json_text
from kraken_bot.region import US_CA
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
"""The fixed "now" of every builder."""

TXID = "OQCLML-BW3P3-BUCMWZ"
"""The txid `order_info()` reports and `an_order(kraken_order_id=TXID)` knows."""

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

MIDS: dict[str, Decimal] = {
    "XBTUSD": Decimal(60000),
    "ETHUSD": Decimal(3000),
    "SOLUSD": Decimal(150),
    "ETHXBT": Decimal("0.05"),
}
"""Default mid prices of the fixture pairs (by altname)."""


def _dec(value: Decimal | str | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


# ---------------------------------------------------------------- market


@cache
def universe() -> PairUniverse:
    """The pairs of ``fixtures/asset_pairs.json`` (XBTUSD, ETHUSD, SOLUSD, ETHXBT)."""
    raw = json.loads((FIXTURES / "asset_pairs.json").read_text(encoding="utf-8"))
    return parse_asset_pairs(raw["result"]).unwrap()


def a_pair(name: str = "XBTUSD", **overrides: Any) -> PairMetadata:
    """A fixture pair by any of its names, with fields overridden."""
    return replace(universe().resolve(name).unwrap(), **overrides)


def universe_of(*pairs: PairMetadata) -> PairUniverse:
    """A universe holding exactly these pairs."""
    return PairUniverse.of(pairs)


def a_quote(
    pair: str = "XBTUSD",
    mid: Decimal | str | int | None = None,
    *,
    spread: Decimal | str = "0",
    age_seconds: float = 0,
    at: datetime | None = None,
) -> PriceQuote:
    """A quote around ``mid`` (default from `MIDS`), read ``age_seconds`` before `NOW`."""
    centre = _dec(mid) if mid is not None else MIDS[pair]
    half = _dec(spread) / 2
    when = at if at is not None else NOW - timedelta(seconds=age_seconds)
    return PriceQuote(pair=pair, bid=centre - half, ask=centre + half, last=centre, at=when)


def fresh_prices(**mids: Decimal | str | int) -> dict[str, PriceQuote]:
    """Fresh quotes for every fixture pair; keyword arguments override mids by altname."""
    merged = {**MIDS, **{k: _dec(v) for k, v in mids.items()}}
    return {name: a_quote(name, mid) for name, mid in merged.items()}


# ---------------------------------------------------------------- configuration and plans


def a_config(**overrides: Any) -> ExecutionConfig:
    """The default execution configuration, with fields overridden."""
    return ExecutionConfig(**overrides)


def an_action(**overrides: Any) -> RiskAdjustedAction:
    """Buy 0.1 XBTUSD for strategy ``trend`` (0 held, target 0.1), unless overridden.

    Sizes may be given as strings.
    """
    fields: dict[str, Any] = {
        "pair": "XBTUSD",
        "strategy_id": "trend",
        "action_type": ActionType.INCREASE,
        "current_base_size": Decimal(0),
        "target_base_size": Decimal("0.1"),
    }
    fields.update(overrides)
    for key in ("current_base_size", "target_base_size"):
        fields[key] = _dec(fields[key])
    return RiskAdjustedAction(**fields)


def a_plan(*actions: RiskAdjustedAction, plan_id: str = "plan-1") -> ExecutionPlan:
    """A plan of these actions (one default action when none is given)."""
    return ExecutionPlan(plan_id=plan_id, created_at=NOW, actions=actions or (an_action(),))


def a_context(**overrides: Any) -> PlanningContext:
    """Fixture universe, fresh prices for every pair, no open orders, default config, US_CA."""
    fields: dict[str, Any] = {
        "universe": universe(),
        "prices": fresh_prices(),
        "open_orders": (),
        "config": ExecutionConfig(),
        "region": US_CA,
        "now": NOW,
        "strategy_userrefs": pmap({}),
    }
    fields.update(overrides)
    return PlanningContext(**fields)


# ---------------------------------------------------------------- intents and orders


def an_intent(**overrides: Any) -> OrderIntent:
    """A limit buy of 0.1 XBTUSD at 60300.0 (mid 60000, 50 bps), unless overridden."""
    fields: dict[str, Any] = {
        "action_index": 0,
        "plan_id": "plan-1",
        "strategy_id": "trend",
        "pair": "XBTUSD",
        "rest_pair": "XXBTZUSD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "volume": Decimal("0.10000000"),
        "price": Decimal("60300.0"),
        "reference_price": Decimal(60000),
        "notional_usd": Decimal("6030.0"),
        "userref": None,
        "time_in_force": TimeInForce.GTC,
        "post_only": False,
    }
    fields.update(overrides)
    return OrderIntent(**fields)


def an_order(**overrides: Any) -> LocalOrder:
    """A pending limit buy of 0.1 XBTUSD at 60300.0, identified by cl_ord_id ``L1``.

    ``client_order_id`` follows ``local_id`` unless given; sizes may be strings.
    """
    local_id = overrides.get("local_id", "L1")
    fields: dict[str, Any] = {
        "local_id": local_id,
        "plan_id": "plan-1",
        "strategy_id": "trend",
        "pair": "XBTUSD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "kraken_order_id": None,
        "userref": None,
        "client_order_id": local_id,
        "requested_base_size": Decimal("0.1"),
        "requested_price": Decimal("60300.0"),
        "status": OrderStatus.PENDING,
        "created_at": NOW,
        "updated_at": NOW,
        "rest_pair": "XXBTZUSD",
    }
    fields.update(overrides)
    for key in ("requested_base_size", "cumulative_base_filled"):
        if key in fields:
            fields[key] = _dec(fields[key])
    return LocalOrder(**fields)


def order_info(**overrides: Any) -> OrderInfo:
    """Kraken's info for `an_order()`: open, 0.1 XBTUSD limit buy at 60300.0, nothing filled.

    ``vol``/``vol_exec`` may be given as strings; ``cost`` defaults to
    ``vol_exec x avg_price``. ``raw`` is regenerated from the fields.
    """
    fields: dict[str, Any] = {
        "txid": TXID,
        "status": KrakenOrderStatus.OPEN,
        "pair": "XBTUSD",
        "side": "buy",
        "order_type": "limit",
        "volume": Decimal("0.1"),
        "volume_executed": Decimal(0),
        "fee": Decimal(0),
        "avg_price": None,
        "limit_price": Decimal("60300.0"),
        "userref": None,
        "cl_ord_id": "L1",
        "opened_at": NOW + timedelta(seconds=1),
        "closed_at": None,
        "reason": None,
    }
    fields.update(overrides)
    for key in ("volume", "volume_executed"):
        fields[key] = _dec(fields[key])
    executed = fields["volume_executed"]
    if fields["avg_price"] is None and executed > 0:
        fields["avg_price"] = fields["limit_price"] or Decimal(60000)
    fields.setdefault("cost", executed * (fields["avg_price"] or 0))
    fields["raw"] = to_json_text({k: str(v) for k, v in fields.items() if k != "raw"})
    return OrderInfo(**fields)


# ---------------------------------------------------------------- events


def observed(*, at: datetime = NOW, **info_overrides: Any) -> Observed:
    """An `Observed` event carrying ``order_info(**info_overrides)``."""
    return Observed(at=at, info=order_info(**info_overrides))


def observation_for(kind: EventKind, order: LocalOrder, *, at: datetime = NOW) -> Observed:
    """An observation of ``kind`` that matches ``order`` and keeps its fill legal.

    Partial fills take the order's fill plus a quarter of what remains.
    """
    volume, filled = order.requested_base_size, order.cumulative_base_filled
    shapes: dict[EventKind, tuple[KrakenOrderStatus, Decimal]] = {
        EventKind.OBSERVED_PENDING: (KrakenOrderStatus.PENDING, filled),
        EventKind.OBSERVED_OPEN: (KrakenOrderStatus.OPEN, Decimal(0)),
        EventKind.OBSERVED_PARTIAL: (KrakenOrderStatus.OPEN, filled + (volume - filled) / 4),
        EventKind.OBSERVED_FILLED: (KrakenOrderStatus.CLOSED, volume),
        EventKind.OBSERVED_CANCELED: (KrakenOrderStatus.CANCELED, filled),
        EventKind.OBSERVED_EXPIRED: (KrakenOrderStatus.EXPIRED, filled),
    }
    status, executed = shapes[kind]
    return Observed(
        at=at,
        info=order_info(
            txid=order.kraken_order_id or TXID,
            status=status,
            pair=order.pair,
            side=order.side.value,
            order_type=order.order_type.value,
            volume=volume,
            volume_executed=executed,
            limit_price=order.requested_price,
            userref=order.userref,
            cl_ord_id=order.client_order_id,
        ),
    )


def an_event(kind: EventKind, order: LocalOrder | None = None, *, at: datetime = NOW) -> OrderEvent:
    """An event of ``kind``, consistent with ``order`` (default `an_order()`)."""
    target = order if order is not None else an_order()
    simple: dict[EventKind, OrderEvent] = {
        EventKind.SEND_ATTEMPTED: SendAttempted(
            at=at, attempt=target.attempts + 1, request=pmap({"pair": "XXBTZUSD"}), deadline=None
        ),
        EventKind.ACKNOWLEDGED: Acknowledged(
            at=at, txid=target.kraken_order_id or TXID, response_json='{"txid":["' + TXID + '"]}'
        ),
        EventKind.VALIDATED: Validated(at=at, response_json='{"descr":{}}'),
        EventKind.SIMULATED: Simulated(at=at),
        EventKind.REJECTED: Rejected(at=at, message="EOrder:Insufficient funds"),
        EventKind.SEND_FAILED: SendFailed(at=at, message="EAPI:Rate limit exceeded"),
        EventKind.SEND_UNCONFIRMED: SendUnconfirmed(at=at, message="read timeout"),
        EventKind.GAVE_UP: GaveUp(
            at=at, message="not on the exchange after 4 sends", deadline=target.send_deadline
        ),
        EventKind.WITHDRAWN: Withdrawn(
            at=at, message="canceled before it was sent", deadline=target.send_deadline
        ),
        EventKind.NOT_FOUND: NotFoundOnExchange(at=at, message="Kraken does not know it"),
        EventKind.CANCEL_REQUESTED: CancelRequested(at=at),
        EventKind.CANCEL_CONFIRMED: CancelConfirmed(at=at, response_json='{"count":1}'),
    }
    if kind in simple:
        return simple[kind]
    return observation_for(kind, target, at=at)


DOCUMENTED_TERMINAL_EDGES: frozenset[tuple[OrderStatus, EventKind]] = frozenset(
    {
        # re-reading a final status (fees, cost or a late fill may be corrected upward)
        (OrderStatus.FILLED, EventKind.OBSERVED_FILLED),
        (OrderStatus.CANCELED, EventKind.OBSERVED_CANCELED),
        (OrderStatus.EXPIRED, EventKind.OBSERVED_EXPIRED),
        # a completion hidden by CancelAll's aggregate count
        (OrderStatus.CANCELED, EventKind.OBSERVED_FILLED),
        # a duplicate cancel acknowledgement
        (OrderStatus.CANCELED, EventKind.CANCEL_CONFIRMED),
        # late discovery: the exchange has an order we took as rejected or gave up on
        *((OrderStatus.REJECTED, kind) for kind in EventKind if kind.name.startswith("OBSERVED")),
        *((OrderStatus.ERROR, kind) for kind in EventKind if kind.name.startswith("OBSERVED")),
    }
)
"""The only edges out of terminal statuses the lifecycle documents (kept apart from its table)."""


def an_order_in(status: OrderStatus, **overrides: Any) -> LocalOrder:
    """`an_order()` in ``status``, with a fill and txid that status implies."""
    fills = {
        OrderStatus.PARTIALLY_FILLED: Decimal("0.04"),
        OrderStatus.FILLED: Decimal("0.1"),
        OrderStatus.CANCELED: Decimal("0.02"),
        OrderStatus.EXPIRED: Decimal("0.02"),
    }
    on_exchange = status in {
        OrderStatus.SUBMITTED,
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.UNKNOWN,
    }
    fields: dict[str, Any] = {
        "status": status,
        "cumulative_base_filled": fills.get(status, Decimal(0)),
        "kraken_order_id": TXID if on_exchange else None,
    }
    fields.update(overrides)
    return an_order(**fields)


def asset_pairs_sample() -> dict[str, dict[str, object]]:
    """A trimmed AssetPairs result (XBT/USD, ETH/USD, and SOL/USD without ``status``,
    as ~13 % of live pairs come), fresh on every call so tests may change it."""
    return {
        "XXBTZUSD": {
            "altname": "XBTUSD",
            "wsname": "XBT/USD",
            "base": "XXBT",
            "quote": "ZUSD",
            "pair_decimals": 1,
            "lot_decimals": 8,
            "cost_decimals": 5,
            "ordermin": "0.00005",
            "costmin": "0.5",
            "tick_size": "0.1",
            "status": "online",
        },
        "XETHZUSD": {
            "altname": "ETHUSD",
            "wsname": "ETH/USD",
            "base": "XETH",
            "quote": "ZUSD",
            "pair_decimals": 2,
            "lot_decimals": 8,
            "cost_decimals": 5,
            "ordermin": "0.002",
            "costmin": "0.5",
            "tick_size": "0.01",
            "status": "online",
        },
        "SOLUSD": {
            "altname": "SOLUSD",
            "wsname": "SOL/USD",
            "base": "SOL",
            "quote": "ZUSD",
            "pair_decimals": 2,
            "lot_decimals": 8,
            "cost_decimals": 5,
            "ordermin": "0.06",
            "costmin": "0.5",
            "tick_size": "0.01",
        },
    }
