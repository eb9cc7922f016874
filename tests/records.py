"""Builders of stored records (LocalOrder) shared by the codec and store tests.

`an_order` is a pending limit buy with only the required fields set;
`a_full_order` sets every optional field to a non-default value, so a round
trip that drops or mangles any field shows up.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pyrsistent import pmap

from kraken_bot.execution.core.models import LocalOrder, OrderStatus, OrderType, Side, TimeInForce

T0 = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


def an_order(*, at: datetime = T0, **overrides: Any) -> LocalOrder:
    """A pending limit buy of 0.125 XBTUSD created at ``at``."""
    fields: dict[str, Any] = {
        "local_id": "L-1",
        "plan_id": "plan-1",
        "strategy_id": "trend_v1",
        "pair": "XBTUSD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "kraken_order_id": None,
        "userref": None,
        "client_order_id": "cl-L-1",
        "requested_base_size": Decimal("0.12500000"),
        "requested_price": Decimal("27500.0"),
        "status": OrderStatus.PENDING,
        "created_at": at,
        "updated_at": at,
    }
    fields.update(overrides)
    return LocalOrder(**fields)


def a_full_order(*, at: datetime = T0, **overrides: Any) -> LocalOrder:
    """Every field set to a non-default value (times relative to ``at``)."""
    order = an_order(
        at=at,
        kraken_order_id="OU22CG-KLAF2-FWUDD7",
        userref=1001,
        status=OrderStatus.PARTIALLY_FILLED,
        updated_at=at + timedelta(seconds=3, microseconds=7),
        cumulative_base_filled=Decimal("0.03750000"),
        avg_fill_price=Decimal("27499.9"),
        fee=Decimal("0.0268"),
        cost=Decimal("1031.25"),
        last_error="EService:Busy",
        raw_request=pmap({"pair": "XXBTZUSD", "volume": "0.12500000", "price": "27500.0"}),
        raw_response_json='{"txid": ["OU22CG-KLAF2-FWUDD7"], "descr": {"order": "buy"}}',
        rest_pair="XXBTZUSD",
        time_in_force=TimeInForce.IOC,
        post_only=True,
        attempts=2,
        send_deadline=at + timedelta(seconds=30),
        first_sent_at=at + timedelta(milliseconds=1),
        cancel_requested_at=at + timedelta(minutes=5),
        close_reason="User requested",
        action_index=3,
        reference_price=Decimal("27480.15"),
        exists_on_exchange=True,
    )
    return replace(order, **overrides)
