"""Pure: typed values for what Kraken returns, and their parsers.

Kraken sends money and volumes as decimal strings and times as fractional
seconds; the parsers here turn its JSON into immutable values with `Decimal`
amounts and UTC datetimes, returning `Failure(ResponseShapeError)` for a shape
they do not recognise instead of raising. Every value keeps the raw JSON it
came from (``raw``, as text) for debugging.

>>> info = parse_order_info("OU22CG-KLAF2-FWUDD7", {
...     "status": "open", "userref": 0, "cl_ord_id": None, "opentm": 1688666559.8974,
...     "descr": {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "27500.0"},
...     "vol": "1.25000000", "vol_exec": "0.37500000", "cost": "10312.5", "fee": "26.8",
...     "price": "27500.0"}).unwrap()
>>> info.status, info.volume_executed, info.userref
(<KrakenOrderStatus.OPEN: 'open'>, Decimal('0.37500000'), None)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from returns.pipeline import is_successful
from returns.result import Failure, Result, Success


class KrakenOrderStatus(StrEnum):
    """Kraken's order status words."""

    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class ResponseShapeError:
    """A Kraken response did not have the documented shape."""

    what: str
    detail: str

    def __str__(self) -> str:
        return f"unexpected Kraken response for {self.what}: {self.detail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderInfo:
    """Kraken's order info object (OpenOrders, ClosedOrders, QueryOrders), parsed.

    ``avg_price`` is Kraken's ``price`` field: the average fill price, None when
    nothing filled. ``limit_price`` is ``descr.price`` (None for market orders).
    ``userref`` is None when Kraken reports 0 or null.
    """

    txid: str
    status: KrakenOrderStatus
    pair: str
    side: str
    order_type: str
    volume: Decimal
    volume_executed: Decimal
    cost: Decimal
    fee: Decimal
    avg_price: Decimal | None
    limit_price: Decimal | None
    userref: int | None
    cl_ord_id: str | None
    opened_at: datetime | None
    closed_at: datetime | None
    reason: str | None
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOrderAck:
    """AddOrder's result: the txids (empty when ``validate`` was set) and the description."""

    txids: tuple[str, ...]
    description: str
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAck:
    """CancelOrder/CancelAll result."""

    count: int
    pending: bool
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadManSwitchAck:
    """CancelAllOrdersAfter result; ``trigger_time`` is None when disarmed."""

    current_time: datetime | None
    trigger_time: datetime | None
    raw: str


def to_json_text(value: object) -> str:
    """Serialize decoded JSON compactly and deterministically (sorted keys)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def parse_decimal(value: object) -> Decimal | None:
    """Parse a Kraken amount (string or number) into a finite Decimal, else None.

    >>> parse_decimal("0.00050000"), parse_decimal(12), parse_decimal("NaN"), parse_decimal(True)
    (Decimal('0.00050000'), Decimal('12'), None, None)
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def parse_timestamp(value: object) -> datetime | None:
    """Parse Kraken's fractional-seconds timestamps; 0 or missing gives None."""
    number = parse_decimal(value)
    if number is None or number <= 0:
        return None
    try:
        return datetime.fromtimestamp(float(number), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _userref(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value or None
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value) or None
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_order_info(txid: str, obj: object) -> Result[OrderInfo, ResponseShapeError]:
    """Parse one order info object keyed by ``txid``."""
    what = f"order {txid}"
    if not isinstance(obj, Mapping):
        return Failure(ResponseShapeError(what, "order info is not an object"))
    descr = obj.get("descr")
    if not isinstance(descr, Mapping):
        descr = {}
    try:
        status = KrakenOrderStatus(str(obj.get("status")))
    except ValueError:
        return Failure(ResponseShapeError(what, f"unknown status {obj.get('status')!r}"))
    volume = parse_decimal(obj.get("vol"))
    executed = parse_decimal(obj.get("vol_exec"))
    if volume is None or executed is None:
        return Failure(ResponseShapeError(what, "vol/vol_exec missing or not decimal"))
    if volume < 0 or executed < 0:
        return Failure(ResponseShapeError(what, "negative vol/vol_exec"))
    avg = parse_decimal(obj.get("price"))
    limit = parse_decimal(descr.get("price"))
    return Success(
        OrderInfo(
            txid=txid,
            status=status,
            pair=str(descr.get("pair", "")),
            side=str(descr.get("type", "")),
            order_type=str(descr.get("ordertype", "")),
            volume=volume,
            volume_executed=executed,
            cost=parse_decimal(obj.get("cost")) or Decimal(0),
            fee=parse_decimal(obj.get("fee")) or Decimal(0),
            avg_price=avg if avg is not None and avg > 0 and executed > 0 else None,
            limit_price=limit if limit is not None and limit > 0 else None,
            userref=_userref(obj.get("userref")),
            cl_ord_id=_text(obj.get("cl_ord_id")),
            opened_at=parse_timestamp(obj.get("opentm")),
            closed_at=parse_timestamp(obj.get("closetm")),
            reason=_text(obj.get("reason")),
            raw=to_json_text(obj),
        )
    )


def parse_order_map(what: str, obj: object) -> Result[tuple[OrderInfo, ...], ResponseShapeError]:
    """Parse a ``{txid: order info}`` mapping (OpenOrders' ``open``, QueryOrders' result)."""
    if not isinstance(obj, Mapping):
        return Failure(ResponseShapeError(what, "expected an object of orders keyed by txid"))
    parsed: list[OrderInfo] = []
    for txid, info in obj.items():
        result = parse_order_info(str(txid), info)
        if not is_successful(result):
            return Failure(result.failure())
        parsed.append(result.unwrap())
    return Success(tuple(parsed))
