"""Pure: the codec's groundwork: JSON types, exact scalar strings, a reader that collects problems.

`kraken_bot.execution.core.codec` (the records) and `kraken_bot.execution.core._fields` (their
field tables) are built on this module; the codec re-exports its public names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, TypeAlias, TypeVar

from pyrsistent import pmap
from pyrsistent.typing import PMap
from returns.result import Failure, Result, Success

from kraken_bot import _reading
from kraken_bot._memo import remember
from kraken_bot._problems import CodecProblem, listing
from kraken_bot._reading import (
    Rule,
    as_decimal,
    as_int,
    as_text,
    as_utc,
    at,
    choice,
    flag,
    nullable,
)
from kraken_bot.execution.core.models import (
    ExecutionMode,
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
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""Stands in for a time that could not be read; SQL time columns count seconds from it."""


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
    text = _DATETIME_TEXTS.get(value)
    if text is not None:
        return text
    if value.tzinfo is UTC:  # the usual case, without a conversion
        text = value.isoformat(timespec="microseconds")
    elif value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: execution records hold UTC times")
    else:
        text = value.astimezone(UTC).isoformat(timespec="microseconds")
    remember(_DATETIME_TEXTS, value, text)
    return text


_DATETIME_TEXTS: Final[dict[datetime, str]] = {}
"""Recent `encode_datetime` answers. An order's times are written again at each of its
updates (its creation, first send...), so most are asked for before. Equal datetimes are
the same instant (a naive one is never equal to an aware one, and raises before it is
kept), so the text is the same whatever the time zone of the one asked about."""


def decode_datetime(value: object) -> datetime | None:
    """An ISO 8601 string with an offset (or ``Z``) as an aware UTC datetime; None otherwise.

    >>> decode_datetime("2026-01-02T03:04:05.000006Z")
    datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)
    >>> decode_datetime("2026-01-02T03:04:05") is None
    True
    """
    return as_utc(value, naive_is_utc=False) if isinstance(value, str) else None


def decode_decimal(value: object) -> Decimal | None:
    """A finite Decimal from its string form; None for anything else (numbers included).

    >>> decode_decimal("0.10"), decode_decimal(0.1), decode_decimal("NaN")
    (Decimal('0.10'), None, None)
    """
    return as_decimal(value, (str,))


# ---------------------------------------------------------------- reading


def _as_list(value: object) -> list[object] | None:
    return value if isinstance(value, list) else None


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


TEXT_RULE: Final = Rule("a string", as_text)
INTEGER_RULE: Final = Rule("an integer", as_int)
DECIMAL_RULE: Final = Rule("a decimal string", decode_decimal)
MOMENT_RULE: Final = Rule("an ISO 8601 time with an offset", decode_datetime)
TEXT_MAP_RULE: Final = Rule("an object of strings", _as_text_map)
TEXTS_RULE: Final = Rule("a list of strings", _as_texts)
_LIST: Final = Rule("a list", _as_list)
_CHOICES: Final[Mapping[type[StrEnum], Rule[StrEnum]]] = {
    kind: choice(kind)
    for kind in (Side, OrderType, OrderStatus, TimeInForce, ExecutionMode, SkipReason)
}
"""The rules `Reader`'s methods apply: the field tables' kinds name them too, for their
reading of a record whose every field is there and right (`_fields.Record.read`)."""


def or_null(rule: Rule[_T]) -> Rule[_T | None]:
    """``rule``, or null."""
    return nullable(rule, f"{rule.expected} or null")


OPT_TEXT_RULE: Final = or_null(TEXT_RULE)
OPT_INTEGER_RULE: Final = or_null(INTEGER_RULE)
OPT_DECIMAL_RULE: Final = or_null(DECIMAL_RULE)
OPT_MOMENT_RULE: Final = or_null(MOMENT_RULE)


def choice_rule(kind: type[_E]) -> Rule[_E]:
    """One of ``kind``'s values."""
    known = _CHOICES.get(kind)
    return known if known is not None else choice(kind)  # type: ignore[return-value] # keyed by kind


class Reader(_reading.Reader):
    """Reads typed fields out of one JSON object, collecting problems instead of raising.

    A field with a problem yields a stand-in value of the right type; the caller
    discards the record when any problem was found.
    """

    def __init__(self, obj: object, path: str, problems: list[CodecProblem]) -> None:
        super().__init__(obj, path, problems, kind="a JSON object", root="value")

    def _optional(self, key: str, rule: Rule[_T | None]) -> _T | None:
        return self.require(key, rule, None)

    def text(self, key: str) -> str:
        return self.require(key, TEXT_RULE, "")

    def opt_text(self, key: str) -> str | None:
        return self._optional(key, OPT_TEXT_RULE)

    def integer(self, key: str) -> int:
        return self.require(key, INTEGER_RULE, 0)

    def opt_integer(self, key: str) -> int | None:
        return self._optional(key, OPT_INTEGER_RULE)

    def boolean(self, key: str) -> bool:
        return self.require(key, flag, stand_in=False)

    def decimal(self, key: str) -> Decimal:
        return self.require(key, DECIMAL_RULE, Decimal(0))

    def opt_decimal(self, key: str) -> Decimal | None:
        return self._optional(key, OPT_DECIMAL_RULE)

    def moment(self, key: str) -> datetime:
        return self.require(key, MOMENT_RULE, EPOCH)

    def opt_moment(self, key: str) -> datetime | None:
        return self._optional(key, OPT_MOMENT_RULE)

    def enum(self, key: str, kind: type[_E]) -> _E:
        return self.require(key, choice_rule(kind), next(iter(kind)))

    def opt_enum(self, key: str, kind: type[_E]) -> _E | None:
        return self._optional(key, or_null(choice_rule(kind)))

    def text_map(self, key: str) -> PMap[str, str]:
        return self.require(key, TEXT_MAP_RULE, pmap({}))

    def texts(self, key: str) -> tuple[str, ...]:
        return self.require(key, TEXTS_RULE, ())

    def items(
        self, key: str, read: Callable[[object, str, list[CodecProblem]], _T]
    ) -> tuple[_T, ...]:
        raw = self.require(key, _LIST, [])
        prefix = at(self.path, key)
        return tuple(read(item, at(prefix, i), self.problems) for i, item in enumerate(raw))


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
