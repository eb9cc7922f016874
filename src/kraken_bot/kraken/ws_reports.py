"""Pure: Kraken WebSocket v2 frames, parsed, and execution reports folded into order info.

The ``executions`` channel reports each order change as a sparse delta (a full
``pending_new``, a bare ``new``, one ``trade`` per fill with cumulative fields, a
separate ``filled``, ``canceled`` with a reason). `fold_report` merges the deltas of
one order into an `OrderTrail`; `trail_info` turns a trail into the same `OrderInfo`
the REST path reads from QueryOrders, so one lifecycle folds both transports.

A trail is *complete* when every fill behind its cumulative quantity was seen (the
fees are then exact); an incomplete one (a dropped message, a snapshot row) is not
folded: the shell asks REST instead. Numbers are decoded as `Decimal` from the JSON
text (never through binary floats). Unknown ``order_status`` words give no info
(Kraken may add some; the REST backstop covers them).

Symbols: v2 names assets as ``BTC/USD`` where AssetPairs' ``wsname`` says
``XBT/USD``; `v2_symbol` maps them (the documented exceptions: XBT -> BTC, XDG -> DOGE).

>>> frame = parse_frame('{"channel":"executions","type":"update","sequence":3,"data":'
...     '[{"exec_type":"trade","order_status":"partially_filled","order_id":"OA",'
...     '"exec_id":"TA","last_qty":0.5,"last_price":100,"cost":50,'
...     '"fees":[{"asset":"USD","qty":0.2}],"cum_qty":0.5,"cum_cost":50,"avg_price":100,'
...     '"timestamp":"2026-01-01T00:00:00.000000Z"}]}').unwrap()
>>> trail = fold_report(None, frame.reports[0])
>>> trail.cum_qty, trail.fee, trail.complete
(Decimal('0.5'), Decimal('0.2'), True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from returns.result import Failure, Result, Success

from kraken_bot._reading import as_decimal, as_text
from kraken_bot.kraken.orders import format_deadline
from kraken_bot.kraken.types import KrakenOrderStatus, OrderInfo, ResponseShapeError, to_json_text

__all__ = [
    "ExecReport",
    "ExecutionsFrame",
    "Frame",
    "Heartbeat",
    "MethodReply",
    "OrderTrail",
    "StatusFrame",
    "fold_report",
    "parse_frame",
    "sequence_follows",
    "trail_info",
    "v2_symbol",
]

_V2_ASSETS: Final = {"XBT": "BTC", "XDG": "DOGE"}
_STATUS: Final = {
    "pending_new": KrakenOrderStatus.PENDING,
    "new": KrakenOrderStatus.OPEN,
    "partially_filled": KrakenOrderStatus.OPEN,
    "filled": KrakenOrderStatus.CLOSED,
    "canceled": KrakenOrderStatus.CANCELED,
    "expired": KrakenOrderStatus.EXPIRED,
}
TERMINAL_WORDS: Final = frozenset({"filled", "canceled", "expired"})
ZERO: Final = Decimal(0)


def v2_symbol(wsname: str) -> str:
    """The v2 symbol of an AssetPairs ``wsname``.

    >>> v2_symbol("XBT/USD"), v2_symbol("XDG/EUR"), v2_symbol("ETH/USD")
    ('BTC/USD', 'DOGE/EUR', 'ETH/USD')
    """
    return "/".join(_V2_ASSETS.get(part, part) for part in wsname.split("/"))


# ---------------------------------------------------------------- frames


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecReport:
    """One row of an ``executions`` frame (absent fields are None)."""

    order_id: str
    exec_type: str
    order_status: str
    timestamp: datetime | None
    cl_ord_id: str | None = None
    userref: int | None = None
    symbol: str | None = None
    side: str | None = None
    order_type: str | None = None
    order_qty: Decimal | None = None
    limit_price: Decimal | None = None
    cum_qty: Decimal | None = None
    cum_cost: Decimal | None = None
    avg_price: Decimal | None = None
    exec_id: str | None = None
    last_qty: Decimal | None = None
    fee: Decimal | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionsFrame:
    """An ``executions`` message: a snapshot or an update, with its sequence number."""

    snapshot: bool
    sequence: int | None
    reports: tuple[ExecReport, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """``{"channel": "heartbeat"}``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusFrame:
    """The ``status`` channel: the engine's state (``online``, ``maintenance``...)."""

    system: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodReply:
    """A response to a request (``pong`` included); ``error`` is one string."""

    method: str
    req_id: int | None
    success: bool
    error: str | None
    result: Any


Frame = ExecutionsFrame | Heartbeat | StatusFrame | MethodReply | None
"""A parsed frame; None for one this layer does not use (another channel)."""


def _shape(message: str) -> Failure[ResponseShapeError]:
    return Failure(ResponseShapeError("WebSocket frame", message))


def _decimal(value: object) -> Decimal | None:
    return as_decimal(value, _FRAME_NUMBERS)


_FRAME_NUMBERS: Final = (str, int, Decimal)
"""What a frame parsed with ``parse_float=Decimal`` holds for an amount."""


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _fee(row: dict[str, Any]) -> Decimal | None:
    fees = row.get("fees")
    if not isinstance(fees, list):
        return None
    total = ZERO
    for item in fees:
        qty = _decimal(item.get("qty")) if isinstance(item, dict) else None
        if qty is None:
            return None
        total += qty
    return total


def _text(row: dict[str, Any], name: str) -> str | None:
    return as_text(row.get(name), empty=False)


def parse_report(row: object) -> Result[ExecReport, ResponseShapeError]:
    """One execution report row."""
    if not isinstance(row, dict):
        return _shape("an executions row is not an object")
    order_id, exec_type = _text(row, "order_id"), _text(row, "exec_type")
    if order_id is None or exec_type is None:
        return _shape(f"an executions row lacks order_id or exec_type: {to_json_text(row)}")
    userref = row.get("order_userref")
    numbers = {
        name: _decimal(row.get(name))
        for name in ("order_qty", "limit_price", "cum_qty", "cum_cost", "avg_price", "last_qty")
    }
    return Success(
        ExecReport(
            order_id=order_id,
            exec_type=exec_type,
            order_status=_text(row, "order_status") or "",
            timestamp=_time(row.get("timestamp")),
            cl_ord_id=_text(row, "cl_ord_id"),
            userref=userref if isinstance(userref, int) and userref != 0 else None,
            symbol=_text(row, "symbol"),
            side=_text(row, "side"),
            order_type=_text(row, "order_type"),
            exec_id=_text(row, "exec_id"),
            fee=_fee(row),
            reason=_text(row, "reason"),
            **numbers,
        )
    )


def parse_frame(text: str | bytes) -> Result[Frame, ResponseShapeError]:
    """Parse one text frame (numbers as `Decimal`); a non-JSON frame is a failure."""
    try:
        doc = json.loads(text, parse_float=Decimal)
    except ValueError:
        return _shape(f"not JSON: {str(text)[:80]!r}")
    if not isinstance(doc, dict):
        return _shape("not an object")
    if "method" in doc:
        req_id = doc.get("req_id")
        return Success(
            MethodReply(
                method=str(doc["method"]),
                req_id=req_id if isinstance(req_id, int) else None,
                success=doc.get("success", doc["method"] == "pong") is True,
                error=doc.get("error") if isinstance(doc.get("error"), str) else None,
                result=doc.get("result"),
            )
        )
    channel = doc.get("channel")
    if channel == "heartbeat":
        return Success(Heartbeat())
    if channel == "status":
        data = doc.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        return Success(StatusFrame(system=str(first.get("system", ""))))
    return _executions(doc) if channel == "executions" else Success(None)


def _executions(doc: dict[str, Any]) -> Result[Frame, ResponseShapeError]:
    data = doc.get("data")
    if not isinstance(data, list):
        return _shape("executions data is not a list")
    reports: list[ExecReport] = []
    for row in data:
        parsed = parse_report(row)
        if isinstance(parsed, Failure):
            return Failure(parsed.failure())
        reports.append(parsed.unwrap())
    sequence = doc.get("sequence")
    return Success(
        ExecutionsFrame(
            snapshot=doc.get("type") == "snapshot",
            sequence=sequence if isinstance(sequence, int) else None,
            reports=tuple(reports),
        )
    )


def sequence_follows(last: int | None, frame: ExecutionsFrame) -> bool:
    """Whether ``frame`` continues the stream without a gap (a snapshot starts it over).

    >>> update = ExecutionsFrame(snapshot=False, sequence=5, reports=())
    >>> sequence_follows(4, update), sequence_follows(3, update), sequence_follows(None, update)
    (True, False, False)
    """
    if frame.snapshot:
        return True
    return last is not None and frame.sequence == last + 1


# ---------------------------------------------------------------- one order's trail


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTrail:
    """What the stream told of one order so far.

    ``fills_qty``/``fee`` sum the fills seen (each ``exec_id`` once); the trail is
    complete while they account for the whole cumulative quantity.
    """

    order_id: str
    status_word: str
    cl_ord_id: str | None = None
    userref: int | None = None
    symbol: str | None = None
    side: str | None = None
    order_type: str | None = None
    order_qty: Decimal | None = None
    limit_price: Decimal | None = None
    cum_qty: Decimal = ZERO
    cum_cost: Decimal = ZERO
    avg_price: Decimal | None = None
    fills_qty: Decimal = ZERO
    fee: Decimal = ZERO
    exec_ids: frozenset[str] = frozenset()
    reason: str | None = None
    opened_at: datetime | None = None
    changed_at: datetime | None = None

    @property
    def complete(self) -> bool:
        """Every fill behind ``cum_qty`` was seen (the fee is exact)."""
        return self.fills_qty == self.cum_qty

    @property
    def terminal(self) -> bool:
        """Filled, canceled or expired."""
        return self.status_word in TERMINAL_WORDS


def _keep(new: Any, old: Any) -> Any:
    return old if new is None else new


def fold_report(trail: OrderTrail | None, report: ExecReport) -> OrderTrail:
    """Merge one report into an order's trail (a report for a new order starts one).

    Cumulative fields only grow; a late report never takes a terminal status back.
    """
    base = trail or OrderTrail(order_id=report.order_id, status_word="", opened_at=report.timestamp)
    status = report.order_status or base.status_word
    if base.terminal and status not in TERMINAL_WORDS:
        status = base.status_word
    cum_qty = base.cum_qty if report.cum_qty is None else max(base.cum_qty, report.cum_qty)
    grew = report.cum_qty is not None and report.cum_qty >= base.cum_qty
    merged = replace(
        base,
        status_word=status,
        cl_ord_id=_keep(report.cl_ord_id, base.cl_ord_id),
        userref=_keep(report.userref, base.userref),
        symbol=_keep(report.symbol, base.symbol),
        side=_keep(report.side, base.side),
        order_type=_keep(report.order_type, base.order_type),
        order_qty=_keep(report.order_qty, base.order_qty),
        limit_price=_keep(report.limit_price, base.limit_price),
        cum_qty=cum_qty,
        cum_cost=_keep(report.cum_cost, base.cum_cost) if grew else base.cum_cost,
        avg_price=_keep(report.avg_price, base.avg_price) if grew else base.avg_price,
        reason=_keep(report.reason, base.reason),
        changed_at=_keep(report.timestamp, base.changed_at),
    )
    if (
        report.exec_type == "trade"
        and report.exec_id is not None
        and report.exec_id not in base.exec_ids
        and report.last_qty is not None
        and report.fee is not None
    ):
        merged = replace(
            merged,
            exec_ids=base.exec_ids | {report.exec_id},
            fills_qty=base.fills_qty + report.last_qty,
            fee=base.fee + report.fee,
        )
    return merged


def _as_known(heard: Decimal, known: Decimal | None) -> Decimal:
    """What the stream said, or the exact value we know when the stream's number is that
    value's double (the socket's amounts are JSON numbers: ``80163571.61658386`` is heard
    as ``80163571.61658385``, which is not a change)."""
    return known if known is not None and float(heard) == float(known) else heard


def trail_info(
    trail: OrderTrail, *, volume: Decimal, pair: str, limit_price: Decimal | None = None
) -> OrderInfo | None:
    """The order info a trail amounts to, as QueryOrders would give it.

    ``volume`` and ``pair`` come from the local order when the stream did not carry
    them (sparse deltas). The local order's exact ``volume`` and ``limit_price`` stand for
    the stream's numbers that are their doubles (and ``volume`` for a filled quantity that
    is its double). None for an unknown status word.

    >>> trail = OrderTrail(order_id="OX", status_word="filled",
    ...     order_qty=Decimal("80163571.61658385"), cum_qty=Decimal("80163571.61658385"))
    >>> info = trail_info(trail, volume=Decimal("80163571.61658386"), pair="SOLUSD")
    >>> info.volume, info.volume_executed
    (Decimal('80163571.61658386'), Decimal('80163571.61658386'))
    """
    status = _STATUS.get(trail.status_word)
    if status is None:
        return None
    filled = trail.cum_qty > 0
    heard_volume = volume if trail.order_qty is None else _as_known(trail.order_qty, volume)
    heard_limit = (
        limit_price if trail.limit_price is None else _as_known(trail.limit_price, limit_price)
    )
    closed_at = trail.changed_at if trail.terminal else None
    return OrderInfo(
        txid=trail.order_id,
        status=status,
        pair=pair,
        side=trail.side or "",
        order_type=trail.order_type or "",
        volume=heard_volume,
        volume_executed=_as_known(trail.cum_qty, volume),
        cost=trail.cum_cost,
        fee=trail.fee,
        avg_price=trail.avg_price if filled and trail.avg_price else None,
        limit_price=heard_limit,
        userref=trail.userref,
        cl_ord_id=trail.cl_ord_id,
        opened_at=trail.opened_at,
        closed_at=closed_at,
        reason=trail.reason,
        raw=to_json_text(
            {
                "source": "websocket",
                "order_id": trail.order_id,
                "order_status": trail.status_word,
                "cum_qty": str(trail.cum_qty),
                "cum_cost": str(trail.cum_cost),
                "fee": str(trail.fee),
            }
        ),
    )


# ---------------------------------------------------------------- order requests

_SOCKET_TIME_IN_FORCE: Final = {None: None, "GTC": "gtc", "IOC": "ioc"}


def _exact_number(text: str) -> float | None:
    """A decimal string as the JSON number v2 wants; None when a float would change it
    (``80163571.61658386`` has more digits than a double carries)."""
    value = float(text)
    return value if Decimal(repr(value)) == Decimal(text) else None


def add_order_params(
    request_pair_symbol: str,
    *,
    side: str,
    ordertype: str,
    volume: str,
    price: str | None,
    timeinforce: str | None,
    oflags: tuple[str, ...],
    cl_ord_id: str | None,
    userref: int | None,
    deadline: datetime | None,
) -> dict[str, Any] | None:
    """The v2 ``add_order`` params for one AddOrder, or None when the socket cannot carry
    it exactly (GTD or FOK time in force, a flag other than ``post``/``fciq``, a volume or
    price with more digits than a JSON number carries): such an order goes over REST, whose
    decimal strings are exact.

    >>> add_order_params("BTC/USD", side="buy", ordertype="limit", volume="0.01000000",
    ...     price="60000.1", timeinforce=None, oflags=("post",), cl_ord_id="L1", userref=None,
    ...     deadline=None)
    {'order_type': 'limit', 'side': 'buy', 'order_qty': 0.01, 'symbol': 'BTC/USD', \
'limit_price': 60000.1, 'post_only': True, 'cl_ord_id': 'L1'}
    """
    if timeinforce not in _SOCKET_TIME_IN_FORCE or set(oflags) - {"post", "fciq"}:
        return None
    quantity = _exact_number(volume)
    limit = None if price is None else _exact_number(price)
    if quantity is None or (price is not None and limit is None):
        return None
    params: dict[str, Any] = {
        "order_type": ordertype,
        "side": side,
        "order_qty": quantity,
        "symbol": request_pair_symbol,
    }
    if limit is not None:
        params["limit_price"] = limit
    if timeinforce is not None:
        params["time_in_force"] = _SOCKET_TIME_IN_FORCE[timeinforce]
    if "post" in oflags:
        params["post_only"] = True
    if "fciq" in oflags:
        params["fee_preference"] = "quote"
    if cl_ord_id is not None:
        params["cl_ord_id"] = cl_ord_id
    if userref is not None:
        params["order_userref"] = userref
    if deadline is not None:
        params["deadline"] = format_deadline(deadline)  # as REST spells it: UTC, with a Z
    return params
