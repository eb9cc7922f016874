"""Pure: where an order's life begins: `new_order` (``pending``) or `guardrail_order` (``error``).

Both are importable from `kraken_bot.execution.core.lifecycle`, whose transition
table takes over from there.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kraken_bot.execution.core.models import (
    ActionSkip,
    LocalOrder,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    client_id_for,
)


def new_order(
    intent: OrderIntent, *, local_id: str, now: datetime, claimed_by: str | None = None
) -> LocalOrder:
    """A ``pending`` order for an intent. Its exchange identity is the ``cl_ord_id``
    (``local_id``), or the strategy ``userref`` when the intent carries one: Kraken
    refuses both on one order. ``claimed_by`` is the service instance that will send it.

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.execution.core.models import TimeInForce
    >>> intent = OrderIntent(action_index=0, plan_id="p1", strategy_id="s", pair="XBTUSD",
    ...     rest_pair="XXBTZUSD", side=Side.BUY, order_type=OrderType.MARKET,
    ...     volume=Decimal("0.10000000"), price=None, reference_price=Decimal(60000),
    ...     notional_usd=Decimal(6000), userref=7, time_in_force=TimeInForce.GTC,
    ...     post_only=False)
    >>> o = new_order(intent, local_id="L1", now=datetime(2026, 1, 1, tzinfo=UTC))
    >>> o.status.value, o.userref, o.client_order_id
    ('pending', 7, None)
    """
    return LocalOrder(
        local_id=local_id,
        plan_id=intent.plan_id,
        strategy_id=intent.strategy_id,
        pair=intent.pair,
        side=intent.side,
        order_type=intent.order_type,
        kraken_order_id=None,
        userref=intent.userref,
        client_order_id=client_id_for(intent.userref, local_id),
        requested_base_size=intent.volume,
        requested_price=intent.price,
        status=OrderStatus.PENDING,
        created_at=now,
        updated_at=now,
        rest_pair=intent.rest_pair,
        time_in_force=intent.time_in_force,
        post_only=intent.post_only,
        action_index=intent.action_index,
        reference_price=intent.reference_price,
        claimed_by=claimed_by,
    )


def guardrail_order(
    skip: ActionSkip, *, plan_id: str | None, local_id: str, now: datetime
) -> LocalOrder:
    """An ``error`` order recording a guardrail refusal; it is never sent.

    The contract (5.2): "mark it as status=error, do not send to Kraken, add a
    clear last_error message". Side, type and volume are the skip's when known,
    else buy / limit / 0.

    >>> from datetime import UTC, datetime
    >>> from kraken_bot.execution.core.models import SkipReason
    >>> skip = ActionSkip(action_index=3, pair="DOGEEUR", strategy_id="s",
    ...     reason=SkipReason.UNKNOWN_PAIR, message="unknown pair 'DOGEEUR'")
    >>> o = guardrail_order(skip, plan_id="p1", local_id="L9", now=datetime(2026, 1, 1, tzinfo=UTC))
    >>> o.status.value, o.last_error, o.client_order_id
    ('error', "unknown pair 'DOGEEUR'", None)
    """
    return LocalOrder(
        local_id=local_id,
        plan_id=plan_id,
        strategy_id=skip.strategy_id,
        pair=skip.pair,
        side=skip.side or Side.BUY,
        order_type=skip.order_type or OrderType.LIMIT,
        kraken_order_id=None,
        userref=skip.userref,
        client_order_id=None,
        requested_base_size=skip.volume or Decimal(0),
        requested_price=skip.price,
        status=OrderStatus.ERROR,
        created_at=now,
        updated_at=now,
        last_error=skip.message,
        action_index=skip.action_index,
    )
