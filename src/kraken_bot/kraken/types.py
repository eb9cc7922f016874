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
from decimal import Decimal
from enum import StrEnum
from typing import Final

from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from kraken_bot._memo import remember
from kraken_bot._reading import as_decimal, as_text, as_utc
from kraken_bot._show import is_valid_text, show


class KrakenOrderStatus(StrEnum):
    """Kraken's order status words."""

    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"
    EXPIRED = "expired"


_STATUSES = frozenset(s.value for s in KrakenOrderStatus)


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
class AmendAck:
    """AmendOrder result: the id of this amend (the order keeps its own ids)."""

    amend_id: str
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
    return _SORTED.encode(value)


_SORTED: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
"""`to_json_text`'s encoder, built once (``json.dumps`` with options builds one per call)."""


def parse_decimal(value: object) -> Decimal | None:
    """Parse a Kraken amount (string or number) into a finite Decimal, else None.

    >>> parse_decimal("0.00050000"), parse_decimal(12), parse_decimal("NaN"), parse_decimal(True)
    (Decimal('0.00050000'), Decimal('12'), None, None)
    """
    return as_decimal(value, _WIRE_NUMBERS)


_WIRE_NUMBERS: Final = (str, int, float)
"""What JSON gives for an amount (a Decimal never comes from ``json.loads``)."""


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


def parse_order_info(txid: str, obj: object) -> Result[OrderInfo, ResponseShapeError]:
    """Parse one order info object keyed by ``txid``.

    An order is read again and again unchanged (QueryOrders of a resting order, a closed
    order in the next ClosedOrders page): when its JSON text (sorted keys, JSON types
    only, so ``1``, ``1.0`` and ``true`` differ) is the text last read for its txid, the
    value parsed then is given again.
    """
    try:
        text = _STRICT.encode(obj)
    except (TypeError, ValueError, RecursionError):  # not plain JSON: parse it as it is
        return _parse_order_info(txid, obj, to_json_text(obj))
    last = _LAST_PARSED.get(txid)
    if last is not None and last[0] == text:
        return last[1]
    parsed = _parse_order_info(txid, obj, text)
    if is_successful(parsed):
        remember(_LAST_PARSED, txid, (text, parsed))
    return parsed


_STRICT: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""`to_json_text` for values of the JSON types only (anything else raises)."""
_LAST_PARSED: Final[dict[str, tuple[str, Result[OrderInfo, ResponseShapeError]]]] = {}
"""The last text read and value parsed per txid (`parse_order_info`)."""


def _parse_order_info(  # noqa: PLR0911 - one early Failure per malformed field
    txid: str, obj: object, raw: str
) -> Result[OrderInfo, ResponseShapeError]:
    what = f"order {txid}"
    if not isinstance(obj, Mapping):
        return Failure(ResponseShapeError(what, "order info is not an object"))
    descr = obj.get("descr")
    if not isinstance(descr, Mapping):
        descr = {}
    texts = [txid, obj.get("cl_ord_id"), obj.get("reason"), obj.get("status")]
    texts += [descr.get(k) for k in ("pair", "type", "ordertype")]
    if any(isinstance(t, str) and not is_valid_text(t) for t in texts):
        return Failure(ResponseShapeError(what, "text that is not valid Unicode"))
    raw_status = obj.get("status")
    if not isinstance(raw_status, str) or raw_status not in _STATUSES:
        return Failure(ResponseShapeError(what, f"unknown status {show(raw_status)}"))
    status = KrakenOrderStatus(raw_status)
    volume = parse_decimal(obj.get("vol"))
    executed = parse_decimal(obj.get("vol_exec"))
    if volume is None or executed is None:
        return Failure(ResponseShapeError(what, "vol/vol_exec missing or not decimal"))
    if volume < 0 or executed < 0:
        return Failure(ResponseShapeError(what, "negative vol/vol_exec"))
    if executed > volume:
        return Failure(ResponseShapeError(what, "vol_exec above vol"))
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
            cl_ord_id=as_text(obj.get("cl_ord_id"), empty=False),
            opened_at=parse_timestamp(obj.get("opentm")),
            closed_at=parse_timestamp(obj.get("closetm")),
            reason=as_text(obj.get("reason"), empty=False),
            raw=raw,
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


# ---------------------------------------------------------------------------
# Values and parsers for the other endpoints the client reads.


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerTime:
    """Kraken's ``Time``: server time as unix seconds and RFC 1123 text."""

    unixtime: int
    rfc1123: str
    raw: str

    @property
    def time(self) -> datetime:
        """The server time as a UTC datetime."""
        return datetime.fromtimestamp(self.unixtime, tz=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemStatus:
    """Kraken's ``SystemStatus``: ``online``, ``maintenance``, ``cancel_only`` or ``post_only``."""

    status: str
    timestamp: datetime | None
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetInfo:
    """One entry of Kraken's ``Assets``, keyed by asset id (``XXBT``)."""

    asset_id: str
    altname: str
    aclass: str
    decimals: int
    display_decimals: int
    status: str | None
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Candle:
    """One OHLC row; the last row of a series is still forming."""

    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    vwap: Decimal
    volume: Decimal
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OHLCSeries:
    """Kraken's ``OHLC`` for one pair; pass ``last`` back as ``since`` for newer rows."""

    pair: str
    candles: tuple[Candle, ...]
    last: int
    raw: str


class Balances(dict[str, Decimal]):
    """Kraken's ``Balance``: asset id (``XXBT``, ``ZUSD``, ``USDT``) to amount.

    A plain ``dict[str, Decimal]`` that also keeps Kraken's JSON as ``raw``.
    """

    __slots__ = ("raw",)

    def __init__(self, amounts: Mapping[str, Decimal], *, raw: str) -> None:
        super().__init__(amounts)
        self.raw = raw


@dataclass(frozen=True, slots=True, kw_only=True)
class QueriedOrders:
    """What QueryOrders said about a list of txids.

    Attributes:
        orders: the orders found, in the order asked.
        unknown: the txids Kraken does not know or does not show (yet), in the order asked:
            those it answered ``EOrder:Invalid order``/``EOrder:Unknown order`` for, and,
            without a ``userref`` filter, those missing from a successful answer. Not proof
            that an order never existed: a new order can be briefly invisible.
    """

    orders: tuple[OrderInfo, ...]
    unknown: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosedOrdersPage:
    """One page of ``ClosedOrders``: up to 50 orders, and ``count``, the total matching."""

    orders: tuple[OrderInfo, ...]
    count: int


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_rfc3339(value: object) -> datetime | None:
    """Parse an RFC 3339 time (``2023-03-24T17:41:56Z``); ``"0"``, empty or missing give None.

    >>> parse_rfc3339("2023-03-24T17:41:56Z"), parse_rfc3339("0")
    (datetime.datetime(2023, 3, 24, 17, 41, 56, tzinfo=datetime.timezone.utc), None)
    """
    if not isinstance(value, str) or value in {"", "0"}:
        return None
    return as_utc(value, naive_is_utc=True)


def parse_server_time(result: object) -> Result[ServerTime, ResponseShapeError]:
    """Parse ``Time``'s result."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("Time", "result is not an object"))
    unixtime = _count(result.get("unixtime"))
    if unixtime is None:
        return Failure(ResponseShapeError("Time", "unixtime missing or not an integer"))
    return Success(
        ServerTime(
            unixtime=unixtime, rfc1123=str(result.get("rfc1123", "")), raw=to_json_text(result)
        )
    )


def parse_system_status(result: object) -> Result[SystemStatus, ResponseShapeError]:
    """Parse ``SystemStatus``'s result."""
    if not isinstance(result, Mapping) or not isinstance(result.get("status"), str):
        return Failure(ResponseShapeError("SystemStatus", "status missing"))
    return Success(
        SystemStatus(
            status=str(result["status"]),
            timestamp=parse_rfc3339(result.get("timestamp")),
            raw=to_json_text(result),
        )
    )


def parse_assets(result: object) -> Result[dict[str, AssetInfo], ResponseShapeError]:
    """Parse ``Assets``' result (asset id -> entry)."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("Assets", "result is not an object"))
    assets: dict[str, AssetInfo] = {}
    for key, obj in result.items():
        what = f"Assets[{key}]"
        if not isinstance(obj, Mapping) or not isinstance(obj.get("altname"), str):
            return Failure(ResponseShapeError(what, "entry or altname missing"))
        decimals = _count(obj.get("decimals"))
        display = _count(obj.get("display_decimals"))
        if decimals is None:
            return Failure(ResponseShapeError(what, "decimals missing or not an integer"))
        assets[str(key)] = AssetInfo(
            asset_id=str(key),
            altname=str(obj["altname"]),
            aclass=str(obj.get("aclass", "currency")),
            decimals=decimals,
            display_decimals=display if display is not None else decimals,
            status=as_text(obj.get("status"), empty=False),
            raw=to_json_text(obj),
        )
    return Success(assets)


def _candle(row: object) -> Candle | None:
    if not isinstance(row, list | tuple) or len(row) < 8:
        return None
    time = parse_timestamp(row[0])
    numbers = [parse_decimal(v) for v in row[1:7]]
    count = _count(row[7])
    if time is None or count is None:
        return None
    o, h, low, c, vwap, volume = numbers
    if o is None or h is None or low is None or c is None or vwap is None or volume is None:
        return None
    return Candle(
        time=time, open=o, high=h, low=low, close=c, vwap=vwap, volume=volume, count=count
    )


def parse_ohlc(result: object) -> Result[OHLCSeries, ResponseShapeError]:
    """Parse ``OHLC``'s result: ``{"<pair id>": [rows], "last": <int>}``."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("OHLC", "result is not an object"))
    keys = [k for k in result if k != "last"]
    last = _count(result.get("last"))
    if len(keys) != 1 or last is None:
        return Failure(ResponseShapeError("OHLC", "expected one pair and 'last'"))
    rows = result[keys[0]]
    if not isinstance(rows, list):
        return Failure(ResponseShapeError("OHLC", "rows are not a list"))
    candles: list[Candle] = []
    for index, row in enumerate(rows):
        candle = _candle(row)
        if candle is None:
            return Failure(ResponseShapeError("OHLC", f"row {index} is not a valid candle"))
        candles.append(candle)
    return Success(
        OHLCSeries(pair=str(keys[0]), candles=tuple(candles), last=last, raw=to_json_text(result))
    )


def parse_balance(result: object) -> Result[Balances, ResponseShapeError]:
    """Parse ``Balance``'s result (asset id -> decimal string; numbers accepted)."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("Balance", "result is not an object"))
    amounts: dict[str, Decimal] = {}
    for asset, value in result.items():
        amount = parse_decimal(value)
        if amount is None:
            return Failure(ResponseShapeError(f"Balance[{asset}]", "amount is not a decimal"))
        amounts[str(asset)] = amount
    return Success(Balances(amounts, raw=to_json_text(result)))


def parse_add_order(result: object) -> Result[AddOrderAck, ResponseShapeError]:
    """Parse ``AddOrder``'s result; a ``validate`` reply has a description but no txid.

    >>> ack = parse_add_order({"descr": {"order": "buy 1.45 XBTUSD @ limit 27500.0"},
    ...     "txid": ["OU22CG-KLAF2-FWUDD7"]}).unwrap()
    >>> ack.txids, ack.description
    (('OU22CG-KLAF2-FWUDD7',), 'buy 1.45 XBTUSD @ limit 27500.0')
    """
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("AddOrder", "result is not an object"))
    descr = result.get("descr")
    description = descr.get("order") if isinstance(descr, Mapping) else None
    txid = result.get("txid")
    if txid is None:
        txids: tuple[str, ...] = ()
    elif isinstance(txid, str):
        txids = (txid,)
    elif isinstance(txid, list) and all(isinstance(t, str) and t for t in txid):
        txids = tuple(txid)
    else:
        return Failure(ResponseShapeError("AddOrder", "txid is not a list of strings"))
    return Success(
        AddOrderAck(
            txids=txids,
            description=description if isinstance(description, str) else "",
            raw=to_json_text(result),
        )
    )


def parse_cancel(what: str, result: object) -> Result[CancelAck, ResponseShapeError]:
    """Parse ``CancelOrder``/``CancelAll``'s result (``count`` as integer or string)."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError(what, "result is not an object"))
    count = _count(result.get("count"))
    if count is None:
        return Failure(ResponseShapeError(what, "count missing or not an integer"))
    pending = result.get("pending")
    return Success(
        CancelAck(
            count=count, pending=pending is True or pending == "true", raw=to_json_text(result)
        )
    )


def parse_amend(result: object) -> Result[AmendAck, ResponseShapeError]:
    """Parse ``AmendOrder``'s result (``{"amend_id": ...}``)."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("AmendOrder", "result is not an object"))
    amend_id = result.get("amend_id")
    if not isinstance(amend_id, str) or not amend_id or not is_valid_text(amend_id):
        return Failure(ResponseShapeError("AmendOrder", "amend_id missing or not text"))
    return Success(AmendAck(amend_id=amend_id, raw=to_json_text(result)))


def parse_dead_man_switch(result: object) -> Result[DeadManSwitchAck, ResponseShapeError]:
    """Parse ``CancelAllOrdersAfter``'s result; ``triggerTime`` ``"0"`` or absent: disarmed."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("CancelAllOrdersAfter", "result is not an object"))
    return Success(
        DeadManSwitchAck(
            current_time=parse_rfc3339(result.get("currentTime")),
            trigger_time=parse_rfc3339(result.get("triggerTime")),
            raw=to_json_text(result),
        )
    )


def parse_open_orders(result: object) -> Result[tuple[OrderInfo, ...], ResponseShapeError]:
    """Parse ``OpenOrders``' result: ``{"open": {txid: order}}``."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("OpenOrders", "result is not an object"))
    return parse_order_map("OpenOrders", result.get("open", {}))


def parse_closed_orders(result: object) -> Result[ClosedOrdersPage, ResponseShapeError]:
    """Parse one ``ClosedOrders`` page: ``{"closed": {txid: order}, "count": n}``."""
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("ClosedOrders", "result is not an object"))
    count = _count(result.get("count"))
    return parse_order_map("ClosedOrders", result.get("closed", {})).map(
        lambda orders: ClosedOrdersPage(
            orders=orders, count=count if count is not None else len(orders)
        )
    )
