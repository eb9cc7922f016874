"""Pure: exact JSON encoding of the execution records, and validating decoders.

`LocalOrder`, `ActionSkip` and `ExecutionResult` become plain JSON-compatible
dicts and come back equal (``decode(encode(x)) == Success(x)``):

* ``Decimal`` -> its exact string (``"0.12500000"`` keeps its trailing zeros);
  decoding accepts only strings, never JSON numbers, so nothing passes through
  a float;
* ``datetime`` -> ISO 8601 in UTC with microseconds
  (``"2026-01-02T03:04:05.000000+00:00"``); fixed width, so the strings sort
  in time order; decoding requires an offset and returns UTC;
* enums -> their values; ``raw_request`` (a read-only dict) -> a JSON object of strings;
  ``raw_response_json`` stays JSON *text* (a string), so it round-trips
  byte for byte;
* tuples -> lists. Keys are the dataclass field names.

Decoders validate every field and report every problem with its path.
Unknown keys are ignored, so a record written by a newer version that added a
field still reads. The SQLite store keeps this encoding in ``snapshot_json``
and ``raw_json``; the CLI's ``--json`` output reuses it.

>>> order = LocalOrder(local_id="o-1", plan_id="p-1", strategy_id=None, pair="XBTUSD",
...     side=Side.BUY, order_type=OrderType.LIMIT, kraken_order_id=None, userref=None,
...     client_order_id="c-1", requested_base_size=Decimal("0.12500000"),
...     requested_price=Decimal("27500.0"), status=OrderStatus.PENDING,
...     created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
...     updated_at=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC))
>>> encoded = order_to_json(order)
>>> encoded["requested_base_size"], encoded["updated_at"]
('0.12500000', '2026-01-02T03:04:05.000600+00:00')
>>> order_from_json(encoded).unwrap() == order
True
>>> overfilled = encoded | {"cumulative_base_filled": "1"}
>>> print(order_from_json(overfilled).failure().problems[0])
order: LocalOrder 'o-1': needs 0 <= cumulative_base_filled (1) <= requested_base_size (0.12500000)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final, TypeAlias, TypeVar

from pyrsistent import pmap
from pyrsistent.typing import PMap
from returns.result import Failure, Result, Success

from kraken_bot._problems import CodecProblem, listing
from kraken_bot._show import show
from kraken_bot.execution.models import (
    ActionSkip,
    ExecutionMode,
    ExecutionResult,
    LocalOrder,
    OrderStatus,
    OrderType,
    Side,
    SkipReason,
    TimeInForce,
)

JsonValue: TypeAlias = (
    str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
)
"""What `json.dumps` accepts and `json.loads` returns (read-only view)."""

JsonObject: TypeAlias = dict[str, JsonValue]

_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CodecError:
    """Every problem found while decoding one record."""

    what: str
    problems: tuple[CodecProblem, ...]

    def __str__(self) -> str:
        return listing(f"cannot decode {self.what}", self.problems)


# ---------------------------------------------------------------- scalars


def encode_decimal(value: Decimal) -> str:
    """A Decimal as its exact string.

    >>> encode_decimal(Decimal("0.10")), encode_decimal(Decimal("1E+3"))
    ('0.10', '1E+3')
    """
    return str(value)


def encode_datetime(value: datetime) -> str:
    """An aware datetime as fixed-width ISO 8601 UTC with microseconds.

    A naive datetime is a programming error (its meaning would depend on the
    machine's time zone) and raises ``ValueError``.

    >>> from datetime import timedelta, timezone
    >>> encode_datetime(datetime(2026, 1, 2, 5, 0, tzinfo=timezone(timedelta(hours=2))))
    '2026-01-02T03:00:00.000000+00:00'
    """
    if value.tzinfo is UTC:  # the usual case, without a conversion
        return value.isoformat(timespec="microseconds")
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: execution records hold UTC times")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def decode_datetime(value: object) -> datetime | None:
    """An ISO 8601 string with an offset (or ``Z``) as an aware UTC datetime; None otherwise.

    >>> decode_datetime("2026-01-02T03:04:05.000006Z")
    datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)
    >>> decode_datetime("2026-01-02T03:04:05") is None
    True
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.utcoffset() is None:
        return None
    return parsed.astimezone(UTC)


def decode_decimal(value: object) -> Decimal | None:
    """A finite Decimal from its string form; None for anything else (numbers included).

    >>> decode_decimal("0.10"), decode_decimal(0.1), decode_decimal("NaN")
    (Decimal('0.10'), None, None)
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def _optional(value: _T | None, encode: Callable[[_T], JsonValue]) -> JsonValue:
    return None if value is None else encode(value)


# ---------------------------------------------------------------- reading


class _Reader:
    """Reads typed fields out of one JSON object, collecting problems instead of raising.

    A field with a problem yields a stand-in value of the right type; the caller
    discards the record when any problem was found.
    """

    def __init__(self, obj: object, path: str, problems: list[CodecProblem]) -> None:
        self._path = path
        self._problems = problems
        self._obj: Mapping[object, object] = obj if isinstance(obj, Mapping) else {}
        self._is_object = isinstance(obj, Mapping)
        if not self._is_object:
            self._problem("", f"expected a JSON object, got {show(obj)}")

    def _problem(self, key: str, message: str) -> None:
        path = f"{self._path}.{key}" if self._path and key else self._path or key
        self._problems.append(CodecProblem(path or "value", message))

    def _value(self, key: str, expected: str) -> tuple[bool, object]:
        if key not in self._obj:
            if self._is_object:
                self._problem(key, f"missing (expected {expected})")
            return False, None
        return True, self._obj[key]

    def _read(self, key: str, expected: str, parse: Callable[[object], _T | None]) -> _T | None:
        present, raw = self._value(key, expected)
        if not present:
            return None
        parsed = parse(raw)
        if parsed is None:
            self._problem(key, f"expected {expected}, got {show(raw)}")
        return parsed

    def _read_optional(
        self, key: str, expected: str, parse: Callable[[object], _T | None]
    ) -> _T | None:
        present, raw = self._value(key, f"{expected} or null")
        if not present or raw is None:
            return None
        parsed = parse(raw)
        if parsed is None:
            self._problem(key, f"expected {expected} or null, got {show(raw)}")
        return parsed

    def text(self, key: str) -> str:
        value = self._read(key, "a string", lambda v: v if isinstance(v, str) else None)
        return "" if value is None else value

    def opt_text(self, key: str) -> str | None:
        return self._read_optional(key, "a string", lambda v: v if isinstance(v, str) else None)

    def integer(self, key: str) -> int:
        value = self._read(key, "an integer", _as_int)
        return 0 if value is None else value

    def opt_integer(self, key: str) -> int | None:
        return self._read_optional(key, "an integer", _as_int)

    def boolean(self, key: str, *, default: bool | None = None) -> bool:
        if default is not None and key not in self._obj:
            return default
        value = self._read(key, "true or false", lambda v: v if isinstance(v, bool) else None)
        return bool(value)

    def decimal(self, key: str) -> Decimal:
        value = self._read(key, "a decimal string", decode_decimal)
        return Decimal(0) if value is None else value

    def opt_decimal(self, key: str) -> Decimal | None:
        return self._read_optional(key, "a decimal string", decode_decimal)

    def moment(self, key: str) -> datetime:
        value = self._read(key, "an ISO 8601 time with an offset", decode_datetime)
        return _EPOCH if value is None else value

    def opt_moment(self, key: str) -> datetime | None:
        return self._read_optional(key, "an ISO 8601 time with an offset", decode_datetime)

    def enum(self, key: str, kind: type[_E]) -> _E:
        value = self._read(key, _choices(kind), lambda v: _as_enum(v, kind))
        return next(iter(kind)) if value is None else value

    def opt_enum(self, key: str, kind: type[_E]) -> _E | None:
        return self._read_optional(key, _choices(kind), lambda v: _as_enum(v, kind))

    def text_map(self, key: str) -> PMap[str, str]:
        value = self._read(key, "an object of strings", _as_text_map)
        return pmap({}) if value is None else value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._read(key, "a list of strings", _as_texts)
        return () if value is None else value

    def items(
        self, key: str, read: Callable[[object, str, list[CodecProblem]], _T]
    ) -> tuple[_T, ...]:
        raw = self._read(key, "a list", lambda v: v if isinstance(v, list) else None)
        if raw is None:
            return ()
        prefix = f"{self._path}.{key}" if self._path else key
        return tuple(read(item, f"{prefix}[{i}]", self._problems) for i, item in enumerate(raw))


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_enum(value: object, kind: type[_E]) -> _E | None:
    if not isinstance(value, str):
        return None
    try:
        return kind(value)
    except ValueError:
        return None


def _describe_choices(kind: type[StrEnum]) -> str:
    return "one of " + " | ".join(member.value for member in kind)


_CHOICES: Final[Mapping[type[StrEnum], str]] = {
    kind: _describe_choices(kind)
    for kind in (Side, OrderType, OrderStatus, TimeInForce, ExecutionMode, SkipReason)
}


def _choices(kind: type[StrEnum]) -> str:
    return _CHOICES.get(kind) or _describe_choices(kind)


def _as_text_map(value: object) -> PMap[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return pmap(dict(value))


def _as_texts(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return tuple(value)


def _finish(what: str, value: _T, problems: list[CodecProblem]) -> Result[_T, CodecError]:
    if problems:
        return Failure(CodecError(what, tuple(problems)))
    return Success(value)


# ---------------------------------------------------------------- LocalOrder


def order_to_json(order: LocalOrder) -> JsonObject:
    """A `LocalOrder` as a JSON-compatible dict (see the module docstring for the example)."""
    return {
        "local_id": order.local_id,
        "plan_id": order.plan_id,
        "strategy_id": order.strategy_id,
        "pair": order.pair,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "kraken_order_id": order.kraken_order_id,
        "userref": order.userref,
        "client_order_id": order.client_order_id,
        "requested_base_size": encode_decimal(order.requested_base_size),
        "requested_price": _optional(order.requested_price, encode_decimal),
        "status": order.status.value,
        "created_at": encode_datetime(order.created_at),
        "updated_at": encode_datetime(order.updated_at),
        "cumulative_base_filled": encode_decimal(order.cumulative_base_filled),
        "avg_fill_price": _optional(order.avg_fill_price, encode_decimal),
        "fee": encode_decimal(order.fee),
        "cost": encode_decimal(order.cost),
        "last_error": order.last_error,
        "raw_request": dict(sorted(order.raw_request.items())),
        "raw_response_json": order.raw_response_json,
        "rest_pair": order.rest_pair,
        "time_in_force": order.time_in_force.value,
        "post_only": order.post_only,
        "attempts": order.attempts,
        "send_deadline": _optional(order.send_deadline, encode_datetime),
        "first_sent_at": _optional(order.first_sent_at, encode_datetime),
        "cancel_requested_at": _optional(order.cancel_requested_at, encode_datetime),
        "close_reason": order.close_reason,
        "action_index": order.action_index,
        "reference_price": _optional(order.reference_price, encode_decimal),
        "exists_on_exchange": order.exists_on_exchange,
        "claimed_by": order.claimed_by,
    }


def _read_order(obj: object, path: str, problems: list[CodecProblem]) -> LocalOrder:
    """The order, or a placeholder with the reason in ``problems`` (so decoding fails)."""
    before = len(problems)
    try:
        return _build_order(obj, path, problems)
    except ValueError as error:  # a LocalOrder invariant (filled above requested, ...)
        if len(problems) == before:  # not merely a stand-in for a field already reported
            problems.append(CodecProblem(path or "order", str(error)))
        return _PLACEHOLDER


def _build_order(obj: object, path: str, problems: list[CodecProblem]) -> LocalOrder:
    r = _Reader(obj, path, problems)
    return LocalOrder(
        local_id=r.text("local_id"),
        plan_id=r.opt_text("plan_id"),
        strategy_id=r.opt_text("strategy_id"),
        pair=r.text("pair"),
        side=r.enum("side", Side),
        order_type=r.enum("order_type", OrderType),
        kraken_order_id=r.opt_text("kraken_order_id"),
        userref=r.opt_integer("userref"),
        client_order_id=r.opt_text("client_order_id"),
        requested_base_size=r.decimal("requested_base_size"),
        requested_price=r.opt_decimal("requested_price"),
        status=r.enum("status", OrderStatus),
        created_at=r.moment("created_at"),
        updated_at=r.moment("updated_at"),
        cumulative_base_filled=r.decimal("cumulative_base_filled"),
        avg_fill_price=r.opt_decimal("avg_fill_price"),
        fee=r.decimal("fee"),
        cost=r.decimal("cost"),
        last_error=r.opt_text("last_error"),
        raw_request=r.text_map("raw_request"),
        raw_response_json=r.opt_text("raw_response_json"),
        rest_pair=r.opt_text("rest_pair"),
        time_in_force=r.enum("time_in_force", TimeInForce),
        post_only=r.boolean("post_only"),
        attempts=r.integer("attempts"),
        send_deadline=r.opt_moment("send_deadline"),
        first_sent_at=r.opt_moment("first_sent_at"),
        cancel_requested_at=r.opt_moment("cancel_requested_at"),
        close_reason=r.opt_text("close_reason"),
        action_index=r.opt_integer("action_index"),
        reference_price=r.opt_decimal("reference_price"),
        # absent from snapshots written before the field existed
        exists_on_exchange=r.boolean("exists_on_exchange", default=False),
        claimed_by=r.opt_text("claimed_by"),
    )


_PLACEHOLDER = LocalOrder(
    local_id="-",
    plan_id=None,
    strategy_id=None,
    pair="-",
    side=Side.BUY,
    order_type=OrderType.MARKET,
    kraken_order_id=None,
    userref=None,
    client_order_id=None,
    requested_base_size=Decimal(0),
    requested_price=None,
    status=OrderStatus.ERROR,
    created_at=_EPOCH,
    updated_at=_EPOCH,
)
"""Stands in for an order that could not be decoded; never returned in a `Success`."""


def order_from_json(obj: object) -> Result[LocalOrder, CodecError]:
    """Decode what `order_to_json` produced, validating every field.

    >>> print(order_from_json({"local_id": 7}).failure().problems[0])
    local_id: expected a string, got 7
    """
    problems: list[CodecProblem] = []
    order = _read_order(obj, "", problems)
    return _finish("order", order, problems)


# ---------------------------------------------------------------- ActionSkip


def skip_to_json(skip: ActionSkip) -> JsonObject:
    """An `ActionSkip` as a JSON-compatible dict.

    >>> skip = ActionSkip(action_index=0, pair="XBTUSD", strategy_id="s",
    ...     reason=SkipReason.NO_OP, message="already at target")
    >>> skip_to_json(skip)["reason"], skip_from_json(skip_to_json(skip)).unwrap() == skip
    ('no_op', True)
    """
    return {
        "action_index": skip.action_index,
        "pair": skip.pair,
        "strategy_id": skip.strategy_id,
        "reason": skip.reason.value,
        "message": skip.message,
        "side": _optional(skip.side, lambda s: s.value),
        "volume": _optional(skip.volume, encode_decimal),
        "price": _optional(skip.price, encode_decimal),
        "order_type": _optional(skip.order_type, lambda t: t.value),
        "userref": skip.userref,
    }


def _read_skip(obj: object, path: str, problems: list[CodecProblem]) -> ActionSkip:
    r = _Reader(obj, path, problems)
    return ActionSkip(
        action_index=r.integer("action_index"),
        pair=r.text("pair"),
        strategy_id=r.opt_text("strategy_id"),
        reason=r.enum("reason", SkipReason),
        message=r.text("message"),
        side=r.opt_enum("side", Side),
        volume=r.opt_decimal("volume"),
        price=r.opt_decimal("price"),
        order_type=r.opt_enum("order_type", OrderType),
        userref=r.opt_integer("userref"),
    )


def skip_from_json(obj: object) -> Result[ActionSkip, CodecError]:
    """Decode what `skip_to_json` produced, validating every field.

    >>> print(skip_from_json([]).failure())
    cannot decode skip: 1 problem
      value: expected a JSON object, got []
    """
    problems: list[CodecProblem] = []
    skip = _read_skip(obj, "", problems)
    return _finish("skip", skip, problems)


# ---------------------------------------------------------------- ExecutionResult


def result_to_json(result: ExecutionResult) -> JsonObject:
    """An `ExecutionResult` (its orders and skips included) as a JSON-compatible dict.

    >>> result = ExecutionResult(plan_id="p-1", success=True, orders=(), errors=(),
    ...     started_at=datetime(2026, 1, 1, tzinfo=UTC), completed_at=None)
    >>> result_to_json(result)["started_at"]
    '2026-01-01T00:00:00.000000+00:00'
    >>> result_from_json(result_to_json(result)).unwrap() == result
    True
    """
    return {
        "plan_id": result.plan_id,
        "started_at": encode_datetime(result.started_at),
        "completed_at": _optional(result.completed_at, encode_datetime),
        "success": result.success,
        "orders": [order_to_json(order) for order in result.orders],
        "errors": list(result.errors),
        "mode": result.mode.value,
        "skipped": [skip_to_json(skip) for skip in result.skipped],
        "replayed": result.replayed,
    }


def result_from_json(obj: object) -> Result[ExecutionResult, CodecError]:
    """Decode what `result_to_json` produced, validating every field (orders and skips too).

    >>> print(result_from_json({"plan_id": "p", "started_at": "yesterday"}).failure().problems[0])
    started_at: expected an ISO 8601 time with an offset, got 'yesterday'
    """
    problems: list[CodecProblem] = []
    r = _Reader(obj, "", problems)
    result = ExecutionResult(
        plan_id=r.text("plan_id"),
        started_at=r.moment("started_at"),
        completed_at=r.opt_moment("completed_at"),
        success=r.boolean("success"),
        orders=r.items("orders", _read_order),
        errors=r.texts("errors"),
        mode=r.enum("mode", ExecutionMode),
        skipped=r.items("skipped", _read_skip),
        replayed=r.boolean("replayed"),
    )
    return _finish("result", result, problems)


# ---------------------------------------------------------------- JSON text


def to_json_text(value: JsonValue) -> str:
    """Compact JSON text (UTF-8 kept as is; NaN and infinities refused).

    >>> to_json_text({"a": ["1.0", None, True]})
    '{"a":["1.0",null,true]}'
    """
    return _COMPACT.encode(value)


_COMPACT: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
"""`to_json_text`'s encoder, built once (``json.dumps`` with options builds one per call)."""


def from_json_text(text: str, what: str) -> Result[object, CodecError]:
    """Parse JSON text; ``what`` names the record in the error.

    >>> print(from_json_text("{", "order").failure())
    cannot decode order: 1 problem
      json: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
    """
    try:
        decoded: object = json.loads(text)
    except (ValueError, RecursionError) as error:
        return Failure(CodecError(what, (CodecProblem("json", str(error)),)))
    return Success(decoded)
