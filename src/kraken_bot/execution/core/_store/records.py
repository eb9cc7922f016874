"""Pure: what both execution stores accept and give back: the audit row, and checks on entry.

Every record passes the same checks before either store keeps it, so the
SQLite store and the in-memory fake refuse exactly the same things:

* an order whose ``raw_request`` carries a credential field (`is_secret_key`);
* an amount that is not a finite number;
* anything the codec cannot encode.

A failed check raises `StoreError` and nothing is written. `order_snapshot`
and `result_snapshot` return the codec's encoding of the record, which is what
the stores then persist.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from kraken_bot.execution.core.codec import (
    JsonObject,
    encode_datetime,
    order_to_json,
    result_to_json,
)
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder, OrderStatus
from kraken_bot.execution.exceptions import StoreError


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEventRecord:
    """One row of an order's audit trail: the state it was saved in, and why.

    Attributes:
        id: increasing across the whole store (insertion order).
        local_id: the order.
        at: the order's ``updated_at`` in that snapshot.
        status: the order's status in that snapshot.
        event: what the service did or saw (``"send_attempted"``, ``"observed"``...).
        detail: free text (an error message, a Kraken txid...).
    """

    id: int
    local_id: str
    at: datetime
    status: OrderStatus
    event: str | None
    detail: str | None


def event_to_json(record: OrderEventRecord) -> JsonObject:
    """An audit row as a JSON-compatible dict (for ``--json`` output)."""
    return {
        "id": record.id,
        "local_id": record.local_id,
        "at": encode_datetime(record.at),
        "status": record.status.value,
        "event": record.event,
        "detail": record.detail,
    }


# ---------------------------------------------------------------- checks shared by both stores

_SECRET_KEYS: Final = frozenset({"nonce", "api_key", "apikey", "api_sign", "apisign", "otp"})
_SECRET_PARTS: Final = ("secret", "signature", "api_key", "api_sign", "nonce")


@functools.lru_cache(maxsize=1024)
def is_secret_key(key: str) -> bool:
    """True for request keys that carry credentials (``nonce``, ``API-Key``, ``API-Sign``...).

    >>> [is_secret_key(k) for k in ("API-Sign", "api_secret", "pair", "cl_ord_id")]
    [True, True, False, False]
    """
    normalised = key.strip().lower().replace("-", "_").replace(" ", "_")
    return normalised in _SECRET_KEYS or any(part in normalised for part in _SECRET_PARTS)


def _check_request(order: LocalOrder) -> None:
    secrets = sorted(key for key in order.raw_request if is_secret_key(key))
    if secrets:
        raise StoreError(
            f"order {order.local_id}: raw_request carries credential field(s) "
            f"{', '.join(secrets)}; refusing to persist them (strip them before saving)"
        )


def check_limit(limit: int) -> None:
    """Refuse a negative ``limit`` for the ``recent_*`` reads."""
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")


def order_snapshot(order: LocalOrder) -> JsonObject:
    """Validate an order for storage and return its codec encoding."""
    _check_request(order)
    amounts = (
        order.requested_base_size,
        order.requested_price,
        order.cumulative_base_filled,
        order.avg_fill_price,
        order.fee,
        order.cost,
        order.reference_price,
    )
    if any(amount is not None and not amount.is_finite() for amount in amounts):
        raise StoreError(f"order {order.local_id}: amounts must be finite numbers")
    try:
        return order_to_json(order)
    except ValueError as error:
        raise StoreError(f"order {order.local_id} cannot be stored: {error}") from error


def result_snapshot(result: ExecutionResult) -> JsonObject:
    """Validate a result (its orders and skips included) and return its codec encoding."""
    for order in result.orders:
        order_snapshot(order)
    for skip in result.skipped:
        if any(v is not None and not v.is_finite() for v in (skip.volume, skip.price)):
            raise StoreError(f"result {result.plan_id}: skip amounts must be finite numbers")
    try:
        return result_to_json(result)
    except ValueError as error:
        raise StoreError(f"result {result.plan_id} cannot be stored: {error}") from error
