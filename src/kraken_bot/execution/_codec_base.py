"""Pure: the codec's groundwork: JSON types, exact scalar strings, a reader that collects problems.

`kraken_bot.execution.codec` (the records) and `kraken_bot.execution._fields` (their
field tables) are built on this module; the codec re-exports its public names.
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
    if len(_DATETIME_TEXTS) >= _DATETIME_TEXTS_KEPT:
        _DATETIME_TEXTS.clear()
    _DATETIME_TEXTS[value] = text
    return text


_DATETIME_TEXTS: Final[dict[datetime, str]] = {}
"""Recent `encode_datetime` answers. An order's times are written again at each of its
updates (its creation, first send...), so most are asked for before. Equal datetimes are
the same instant (a naive one is never equal to an aware one, and raises before it is
kept), so the text is the same whatever the time zone of the one asked about."""
_DATETIME_TEXTS_KEPT: Final = 4096


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


# ---------------------------------------------------------------- reading


class Reader:
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

    def lacks(self, key: str) -> bool:
        """True when the object has no ``key`` (or is no object at all)."""
        return key not in self._obj

    def boolean(self, key: str) -> bool:
        value = self._read(key, "true or false", lambda v: v if isinstance(v, bool) else None)
        return bool(value)

    def decimal(self, key: str) -> Decimal:
        value = self._read(key, "a decimal string", decode_decimal)
        return Decimal(0) if value is None else value

    def opt_decimal(self, key: str) -> Decimal | None:
        return self._read_optional(key, "a decimal string", decode_decimal)

    def moment(self, key: str) -> datetime:
        value = self._read(key, "an ISO 8601 time with an offset", decode_datetime)
        return EPOCH if value is None else value

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
