"""Kraken's wire format, from the exchange's side: parsing requests, rendering responses.

Requests arrive as form-encoded bodies (with or without ``; charset=...``), JSON bodies or
query strings. All of them become one :class:`Params` value whose getters apply Kraken's rules
(booleans ``true``/``false``/``True``/``False``/``1``/``0``, decimal strings, integers) and raise
:class:`ApiError` carrying Kraken's error string (``EGeneral:Invalid arguments:<field>``).
:class:`ApiError` never leaves the simulator: the exchange turns it into the envelope in one place.

Responses are the ``{"error": [...], "result": ...}`` envelope as compact JSON; money goes out
as strings in the pair's decimals.

>>> fmt_decimal(Decimal("1.25"), 8)
'1.25000000'
>>> parse_bool("True", field="validate")
True
>>> envelope_bytes({"unixtime": 1}, ())
b'{"error":[],"result":{"unixtime":1}}'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import parse_qsl

__all__ = [
    "ApiError",
    "Params",
    "decimal_places",
    "envelope_bytes",
    "fmt_decimal",
    "parse_body",
    "parse_bool",
    "parse_query",
    "rfc1123",
    "rfc3339",
]

_DECIMAL_RE: Final = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)$")
_INT_RE: Final = re.compile(r"^[+-]?\d+$")
_COMPACT: Final = json.JSONEncoder(separators=(",", ":"))
_TRUE: Final = frozenset({"true", "True", "TRUE", "1"})
_FALSE: Final = frozenset({"false", "False", "FALSE", "0"})
_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
INVALID_ARGUMENTS: Final = "EGeneral:Invalid arguments"


class ApiError(Exception):
    """A Kraken application error: answered with HTTP 200 and ``{"error": [code]}``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def invalid(field: str) -> ApiError:
    """``EGeneral:Invalid arguments:<field>``."""
    return ApiError(f"{INVALID_ARGUMENTS}:{field}")


def parse_bool(raw: object, *, field: str) -> bool:
    """Kraken's boolean spellings: JSON booleans, ``true``/``false``, ``True``/``False``, 1/0.

    >>> parse_bool("0", field="trades")
    False
    """
    if isinstance(raw, bool):
        return raw
    text = str(raw)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid(field)


def parse_decimal(raw: object, *, field: str) -> Decimal:
    """A non-negative plain decimal (``"1.25"``, ``"37500"``); exponents and signs are refused.

    >>> parse_decimal("0.50", field="volume")
    Decimal('0.50')
    """
    if isinstance(raw, bool):
        raise invalid(field)
    text = str(raw).strip()
    if isinstance(raw, float):
        text = repr(raw)
    if not _DECIMAL_RE.match(text):
        raise invalid(field)
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already excludes these
        raise invalid(field) from exc


def decimal_places(value: Decimal) -> int:
    """Significant decimal places of ``value`` (``1.2500`` has 2).

    >>> decimal_places(Decimal("1.2500")), decimal_places(Decimal("37500"))
    (2, 0)
    """
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def parse_int(raw: object, *, field: str) -> int:
    """An integer from a JSON number or a decimal string."""
    if isinstance(raw, bool):
        raise invalid(field)
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    if not _INT_RE.match(text):
        raise invalid(field)
    return int(text)


def fmt_decimal(value: Decimal, places: int, rounding: str = ROUND_HALF_EVEN) -> str:
    """``value`` as a fixed-point string with exactly ``places`` decimals.

    >>> fmt_decimal(Decimal("37500"), 1), fmt_decimal(Decimal("0.123456789"), 8)
    ('37500.0', '0.12345679')
    """
    quantum = _QUANTA[places] if 0 <= places < len(_QUANTA) else Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=rounding):f}"


_QUANTA: Final = tuple(Decimal(1).scaleb(-places) for places in range(19))
"""1, 0.1, ... 1E-18: `fmt_decimal`'s quanta, made once."""


def truncate(value: Decimal, places: int) -> Decimal:
    """``value`` cut (not rounded) to ``places`` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def rfc3339(moment: datetime) -> str:
    """``2023-03-24T17:41:56Z`` (whole seconds, UTC), as Kraken writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc1123(moment: datetime) -> str:
    """Kraken's ``Time.rfc1123`` text, e.g. ``Thu, 06 Jul 23 18:50:48 +0000`` (two-digit year).

    >>> rfc1123(datetime(2023, 7, 6, 18, 50, 48, tzinfo=UTC))
    'Thu, 06 Jul 23 18:50:48 +0000'
    """
    utc = moment.astimezone(UTC)
    return (
        f"{_DAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year % 100:02d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} +0000"
    )


def envelope_bytes(
    result: object, errors: tuple[str, ...], *, result_on_error: bool = False
) -> bytes:
    """The compact JSON envelope; on error ``result`` is ``{}`` or absent (``result_on_error``)."""
    if errors:
        doc: dict[str, object] = {"error": list(errors)}
        if result_on_error:
            doc["result"] = {}
    else:
        doc = {"error": [], "result": result}
    return _COMPACT.encode(doc).encode()


class Params:
    """The parameters of one request, with getters that speak Kraken's rules."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def raw(self, name: str) -> Any:
        """The value as received (string, JSON value or nested mapping), or None."""
        return self._values.get(name)

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A string parameter; empty strings count as absent."""
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise invalid(name)
            return None
        if isinstance(value, Mapping | list | bool):
            raise invalid(name)
        return str(value)

    def flag(self, name: str) -> bool:
        """A boolean parameter; absent means false."""
        value = self._values.get(name)
        return False if value is None or value == "" else parse_bool(value, field=name)

    def integer(self, name: str) -> int | None:
        """An integer parameter, or None when absent."""
        value = self._values.get(name)
        return None if value is None or value == "" else parse_int(value, field=name)

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        """A non-negative decimal parameter, or None when absent."""
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise invalid(name)
            return None
        return parse_decimal(value, field=name)

    def csv(self, name: str) -> list[str]:
        """A comma-separated list parameter (a JSON list is accepted too)."""
        value = self._values.get(name)
        if value is None or value == "":
            return []
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]


def _fields(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)``; a query with nothing escaped (no ``%``,
    no ``+``, the usual signed body) is split directly, to the same pairs."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True)
    fields: list[tuple[str, str]] = []
    for field in query.split("&"):
        if field:
            name, _, value = field.partition("=")
            fields.append((name, value))
    return fields


def parse_query(query: str) -> dict[str, Any]:
    """Decode a query string or form body, folding ``close[price]`` keys into ``close``."""
    values: dict[str, Any] = {}
    for key, value in _fields(query):
        if key.endswith("]") and "[" in key:
            outer, _, inner = key[:-1].partition("[")
            nested = values.setdefault(outer, {})
            if isinstance(nested, dict):
                nested.setdefault(inner, value)
            continue
        values.setdefault(key, value)
    return values


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Decode a POST body (JSON when the content type says so, else form-encoded).

    >>> parse_body(b"nonce=1&close%5Bordertype%5D=limit", "application/x-www-form-urlencoded")
    {'nonce': '1', 'close': {'ordertype': 'limit'}}
    """
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(INVALID_ARGUMENTS) from exc
    if "json" in content_type.lower():
        try:
            doc = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise ApiError(INVALID_ARGUMENTS) from exc
        if not isinstance(doc, dict):
            raise ApiError(INVALID_ARGUMENTS)
        return doc
    return parse_query(text)
