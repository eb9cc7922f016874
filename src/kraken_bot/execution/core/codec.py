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
* tuples -> lists. Keys are the dataclass field names, in the dataclass's order.

Decoders validate every field and report every problem with its path.
Unknown keys are ignored, so a record written by a newer version that added a
field still reads. The SQLite store keeps this encoding in ``snapshot_json``
and ``raw_json``; the CLI's ``--json`` output reuses it. Each record's fields,
their encodings and their SQL columns are listed once, in the field tables of
`kraken_bot.execution.core._fields`.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.execution.core.models import LocalOrder, OrderStatus, OrderType, Side
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

from typing import TypeVar

from returns.result import Failure, Result, Success

from kraken_bot._problems import CodecProblem
from kraken_bot.execution.core._codec_base import (
    CodecError,
    JsonObject,
    JsonValue,
    decode_datetime,
    decode_decimal,
    encode_datetime,
    encode_decimal,
    from_json_text,
    to_json_text,
)
from kraken_bot.execution.core._fields import ORDER, RESULT, SKIP
from kraken_bot.execution.core.models import ActionSkip, ExecutionResult, LocalOrder

__all__ = [
    "CodecError",
    "JsonObject",
    "JsonValue",
    "decode_datetime",
    "decode_decimal",
    "encode_datetime",
    "encode_decimal",
    "from_json_text",
    "order_from_json",
    "order_to_json",
    "result_from_json",
    "result_to_json",
    "skip_from_json",
    "skip_to_json",
    "to_json_text",
]

_T = TypeVar("_T")


def _finish(what: str, value: _T | None, problems: list[CodecProblem]) -> Result[_T, CodecError]:
    if problems or value is None:  # no value comes without a problem saying why
        return Failure(CodecError(what, tuple(problems)))
    return Success(value)


# ---------------------------------------------------------------- LocalOrder


def order_to_json(order: LocalOrder) -> JsonObject:
    """A `LocalOrder` as a JSON-compatible dict (see the module docstring for the example)."""
    return ORDER.encode(order)


def order_from_json(obj: object) -> Result[LocalOrder, CodecError]:
    """Decode what `order_to_json` produced, validating every field.

    >>> print(order_from_json({"local_id": 7}).failure().problems[0])
    local_id: expected a string, got 7
    """
    problems: list[CodecProblem] = []
    return _finish("order", ORDER.read(obj, "", problems), problems)


# ---------------------------------------------------------------- ActionSkip


def skip_to_json(skip: ActionSkip) -> JsonObject:
    """An `ActionSkip` as a JSON-compatible dict.

    >>> from kraken_bot.execution.core.models import SkipReason
    >>> skip = ActionSkip(action_index=0, pair="XBTUSD", strategy_id="s",
    ...     reason=SkipReason.NO_OP, message="already at target")
    >>> skip_to_json(skip)["reason"], skip_from_json(skip_to_json(skip)).unwrap() == skip
    ('no_op', True)
    """
    return SKIP.encode(skip)


def skip_from_json(obj: object) -> Result[ActionSkip, CodecError]:
    """Decode what `skip_to_json` produced, validating every field.

    >>> print(skip_from_json([]).failure())
    cannot decode skip: 1 problem
      value: expected a JSON object, got []
    """
    problems: list[CodecProblem] = []
    return _finish("skip", SKIP.read(obj, "", problems), problems)


# ---------------------------------------------------------------- ExecutionResult


def result_to_json(result: ExecutionResult) -> JsonObject:
    """An `ExecutionResult` (its orders and skips included) as a JSON-compatible dict.

    >>> from datetime import UTC, datetime
    >>> result = ExecutionResult(plan_id="p-1", success=True, orders=(), errors=(),
    ...     started_at=datetime(2026, 1, 1, tzinfo=UTC), completed_at=None)
    >>> result_to_json(result)["started_at"]
    '2026-01-01T00:00:00.000000+00:00'
    >>> result_from_json(result_to_json(result)).unwrap() == result
    True
    """
    return RESULT.encode(result)


def result_from_json(obj: object) -> Result[ExecutionResult, CodecError]:
    """Decode what `result_to_json` produced, validating every field (orders and skips too).

    >>> print(result_from_json({"plan_id": "p", "started_at": "yesterday"}).failure().problems[0])
    started_at: expected an ISO 8601 time with an offset, got 'yesterday'
    """
    problems: list[CodecProblem] = []
    return _finish("result", RESULT.read(obj, "", problems), problems)
