"""Pure: the field tables of the execution records, where each field is spelled once.

`ORDER` (`LocalOrder`), `SKIP` (`ActionSkip`) and `RESULT` (`ExecutionResult`) list
their record's fields. A `Field` names a dataclass field, its `Kind` (how the value is
written to JSON, read back with every problem at its path, and stored in SQL), and the
SQL column(s) holding it. From these tables come:

* the JSON encoders and validating decoders of `kraken_bot.execution.core.codec`;
* the columns of ``execution_orders`` and ``execution_results``, hence their DDL and
  migration (`kraken_bot.execution.core._store.tables`, `_store.schema`);
* the parameters of a row (`kraken_bot.execution.core._store.rows`), and the rewriting of an
  order row written before the exact JSON existed (`kraken_bot.execution.shell._store.migration`).

Rules of the tables:

* A table lists its fields in its SQL table's column order, which database files
  already on disk fix. The store's own columns (the exact JSON, and for orders the
  version and the quarantine mark) are not fields: `_store.tables` puts them after
  the columns of the fields listed first and before those marked
  ``after_snapshot=True``. SQLite appends added columns, so a new column goes at
  the end of its table, marked ``after_snapshot=True``.
* The JSON keys follow the dataclass's field order, not the table's; a decoder reads
  (and reports problems) in that order too.
* Building a `Record` checks that its table names every field of the dataclass and
  nothing else; a unit test checks each kind against the field's annotation.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from functools import partial
from operator import attrgetter
from typing import Any, ClassVar, Final, Generic, Protocol, TypeAlias, TypeVar

from kraken_bot._memo import remember
from kraken_bot._problems import CodecProblem
from kraken_bot._reading import Rule, flag
from kraken_bot.execution.core._codec_base import (
    DECIMAL_RULE,
    EPOCH,
    INTEGER_RULE,
    MOMENT_RULE,
    OPT_DECIMAL_RULE,
    OPT_INTEGER_RULE,
    OPT_MOMENT_RULE,
    OPT_TEXT_RULE,
    TEXT_MAP_RULE,
    TEXT_RULE,
    TEXTS_RULE,
    JsonObject,
    JsonValue,
    Reader,
    choice_rule,
    encode_datetime,
    encode_decimal,
    or_null,
    to_json_text,
)
from kraken_bot.execution.core.models import (
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

SqlValue: TypeAlias = str | int | float | bytes | None
"""The only Python types the store binds as SQL parameters."""

_T = TypeVar("_T")
_V = TypeVar("_V")
_E = TypeVar("_E", bound=StrEnum)


class _Dataclass(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]


_R = TypeVar("_R", bound=_Dataclass)


def _as_is(value: _V) -> _V:
    return value


class _Sql(Enum):
    JSON_TEXT = "the JSON text of the field's JSON form"


JSON_TEXT: Final = _Sql.JSON_TEXT
"""A column holding the field's JSON form as JSON text (keys as the JSON has them)."""


_ABSENT: Final = object()
"""A key missing from a JSON object (`Record._read_whole`)."""


# ---------------------------------------------------------------- descriptors


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind(Generic[_T]):
    """How a value of one Python type is written to JSON, read back, and stored in SQL.

    Attributes:
        hint: the annotation a dataclass field of this kind carries (a test compares them).
        encode: the value as JSON (the identity when the value is its own JSON).
        read: reads the value at a key of a JSON object, recording any problem.
        to_sql: the value as a SQL parameter, or `JSON_TEXT`; None for kinds no column holds.
        rule: the rule ``read`` applies to the value at its key, for `Record.read`'s
            reading of a record whose every field is present and right; None when ``read``
            does more (nested records).
        json_is_scalar: ``encode`` gives a string, a number or null (not a list or an
            object a caller could change), so `Record.encode` may give it again.
    """

    hint: object
    encode: Callable[[_T], JsonValue]
    read: Callable[[Reader, str], _T]
    to_sql: Callable[[_T], SqlValue] | _Sql | None = None
    rule: Rule[_T] | None = None
    json_is_scalar: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Column(Generic[_T]):
    """One SQL column holding (a form of) a field's value.

    ``after_snapshot``: the column comes after the store's own columns (it was added
    after them); see the module docstring.
    """

    name: str
    decl: str
    to_sql: Callable[[_T], SqlValue] | _Sql
    after_snapshot: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Field(Generic[_T]):
    """One field of a record: its name, its kind, how it is read, the columns holding it."""

    name: str
    kind: Kind[_T]
    read: Callable[[Reader, str], _T]
    columns: tuple[Column[_T], ...] = ()


class _Required(Enum):
    KEY = "required"


def field(
    name: str,
    kind: Kind[_T],
    sql: str | None = None,
    *,
    column: str | None = None,
    after_snapshot: bool = False,
    if_absent: _T | _Required = _Required.KEY,
    columns: tuple[Column[_T], ...] = (),
) -> Field[_T]:
    """A table row: field ``name`` of ``kind``.

    Args:
        name: the dataclass field, and its JSON key.
        kind: how the value is encoded, read and stored.
        sql: the declaration of the one column holding the value, in the kind's SQL
            form (``columns`` for anything else; neither when no column holds it).
        column: the column's name when it differs from the field's.
        after_snapshot: the column follows the store's own columns.
        if_absent: the value when the key is missing (snapshots written before the
            field existed); without it, a missing key is a problem.
        columns: the columns holding forms of the value, when ``sql`` does not say it.
    """
    if sql is not None:
        if kind.to_sql is None:
            raise TypeError(f"field {name!r}: its kind has no SQL form")
        columns = (
            Column(
                name=column or name,
                decl=sql,
                to_sql=kind.to_sql,
                after_snapshot=after_snapshot,
            ),
        )
    read = kind.read
    if not isinstance(if_absent, _Required):
        read = _absent_as(if_absent, kind.read)
    return Field(name=name, kind=kind, read=read, columns=columns)


def _absent_as(value: _T, read: Callable[[Reader, str], _T]) -> Callable[[Reader, str], _T]:
    def read_or_default(reader: Reader, key: str) -> _T:
        return value if reader.lacks(key) else read(reader, key)

    return read_or_default


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True, kw_only=True)
class Record(Generic[_R]):
    """A record's field table and what is derived from it (build one with `record`).

    Attributes:
        cls: the dataclass.
        what: the record's name in a decoding problem (``order``).
        fields: the table, in column order.
        early_columns: ``(name, declaration)`` of the columns before the store's own.
        late_columns: those after them (``after_snapshot``).
    """

    what: str
    fields: tuple[Field[Any], ...]
    early_columns: tuple[tuple[str, str], ...]
    late_columns: tuple[tuple[str, str], ...]
    cls: type[_R]
    _json_values: Callable[[_R], tuple[Any, ...]]
    _json_names: tuple[str, ...]
    _readers: tuple[tuple[str, Callable[[Reader, str], Any]], ...]
    _column_values: Callable[[_R], tuple[Any, ...]]
    _rules: tuple[tuple[str, Rule[Any]], ...] | None
    _encode_at: tuple[tuple[int, Callable[[Any], JsonValue], bool], ...]
    _sql_at: tuple[tuple[int, Callable[[Any], SqlValue] | str], ...]
    _last_json: dict[object, tuple[tuple[Any, ...], list[Any]]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    _last_sql: dict[object, tuple[tuple[Any, ...], list[Any]]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    def encode(self, value: _R) -> JsonObject:
        """The record as a JSON object, keys in the dataclass's field order."""
        # Every value first, then the ones that are not their own JSON replaced in place
        # (half the fields of an order need no call). A record written again (an order's
        # next version) shares most values with the last one of its key: a value that is
        # the very same object as then has the same JSON, which is taken again when it is
        # a scalar (a list or an object is made anew: the caller may change it).
        values = self._json_values(value)
        out = list(values)
        last = self._last_json.get(values[0])
        if last is None:
            for at, encode, _ in self._encode_at:
                out[at] = encode(values[at])
        else:
            old_values, old_out = last
            for at, encode, scalar in self._encode_at:
                item = values[at]
                out[at] = old_out[at] if scalar and item is old_values[at] else encode(item)
        remember(self._last_json, values[0], (values, out))
        return dict(zip(self._json_names, out, strict=True))

    def read(self, obj: object, path: str, problems: list[CodecProblem]) -> _R | None:
        """The record in ``obj``, or None with the reasons added to ``problems``.

        A record may have problems and still come back (built from stand-in values):
        the caller discards it when ``problems`` grew.
        """
        whole = self._read_whole(obj)
        if whole is not None:
            return whole
        before = len(problems)
        try:
            reader = Reader(obj, path, problems)
            return self.cls(**{name: read(reader, name) for name, read in self._readers})
        except ValueError as error:  # an invariant of the record (LocalOrder: overfilled...)
            if len(problems) == before:  # not merely a stand-in for a field already reported
                problems.append(CodecProblem(path or self.what, str(error)))
            return None

    def _read_whole(self, obj: object) -> _R | None:
        """The record when every field is present and its rule accepts it (the usual case:
        what `encode` wrote), in one pass over the table without a `Reader`; None
        otherwise, and `read` goes field by field to name each problem (or to fill in a
        field missing from an older snapshot). The same rules, so the same record."""
        rules = self._rules
        if rules is None or not isinstance(obj, dict):
            return None
        values: dict[str, Any] = {}
        for name, rule in rules:
            raw = obj.get(name, _ABSENT)
            if raw is None and rule.nullable:
                values[name] = None
                continue
            if raw is _ABSENT or raw is None:
                return None
            parsed = rule.parse(raw)
            if parsed is None:
                return None
            values[name] = parsed
        try:
            return self.cls(**values)
        except ValueError:
            return None  # an invariant of the record: `read` says which

    def sql_values(self, value: _R, encoded: JsonObject) -> list[SqlValue]:
        """The parameters of the record's columns, the early ones then the late ones;
        ``encoded`` is the record's JSON (`encode`), for the columns holding JSON text."""
        # As in `encode`, a value that is the very object it was in the last row of the
        # record's key has the same parameter (every parameter is a scalar).
        values = self._column_values(value)
        row: list[SqlValue] = list(values)
        last = self._last_sql.get(values[0])
        for at, to_sql in self._sql_at:
            item = values[at]
            if last is not None and item is last[0][at]:
                row[at] = last[1][at]
            elif isinstance(to_sql, str):
                row[at] = to_json_text(encoded[to_sql])
            else:
                row[at] = to_sql(item)
        remember(self._last_sql, values[0], (values, row))
        return list(row)


def record(cls: type[_R], what: str, fields: tuple[Field[Any], ...]) -> Record[_R]:
    """The `Record` of dataclass ``cls`` from its table (see the module docstring)."""
    declared = [f.name for f in dataclasses.fields(cls)]
    listed = [f.name for f in fields]
    if sorted(listed) != sorted(declared):
        missing, unknown = sorted(set(declared) - set(listed)), sorted(set(listed) - set(declared))
        raise TypeError(
            f"the field table of {cls.__name__} does not match its fields: missing {missing},"
            f" unknown {unknown}, {len(listed)} rows for {len(declared)} fields"
        )
    by_name = {f.name: f for f in fields}
    in_json = [by_name[name] for name in declared]
    placed = [
        (f.name, c)
        for late in (False, True)
        for f in fields
        for c in f.columns
        if c.after_snapshot is late
    ]
    return Record(
        what=what,
        fields=fields,
        early_columns=tuple((c.name, c.decl) for _, c in placed if not c.after_snapshot),
        late_columns=tuple((c.name, c.decl) for _, c in placed if c.after_snapshot),
        cls=cls,
        _json_values=_getter(declared),
        _json_names=tuple(declared),
        _encode_at=tuple(
            (at, f.kind.encode, f.kind.json_is_scalar)
            for at, f in enumerate(in_json)
            if f.kind.encode is not _as_is
        ),
        _readers=tuple((f.name, f.read) for f in in_json),
        _column_values=_getter([name for name, _ in placed]),
        _sql_at=tuple(
            (at, name if c.to_sql is JSON_TEXT else c.to_sql)
            for at, (name, c) in enumerate(placed)
            if c.to_sql is not _as_is
            and not (isinstance(c.to_sql, _Sql) and c.to_sql is not JSON_TEXT)
        ),
        _rules=(
            tuple((f.name, f.kind.rule) for f in in_json if f.kind.rule is not None)
            if all(f.kind.rule is not None for f in in_json)
            else None
        ),
    )


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The named attributes of a value, as a tuple (one C call for two or more)."""
    if len(names) > 1:
        return attrgetter(*names)
    return lambda value: tuple(getattr(value, name) for name in names)


# ---------------------------------------------------------------- kinds


def _optional(encode: Callable[[_V], _T]) -> Callable[[_V | None], _T | None]:
    def encode_optional(value: _V | None) -> _T | None:
        return None if value is None else encode(value)

    return encode_optional


_enum_value: Final[Callable[[StrEnum], str]] = attrgetter("value")


def epoch_seconds(moment: datetime) -> int:
    """A time as whole seconds since the epoch (floored): how SQL time columns hold it."""
    return (moment - EPOCH) // _SECOND


_SECOND: Final = timedelta(seconds=1)


def _sorted_map(value: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(value.items()))


def _enum(kind: type[_E]) -> Kind[_E]:
    read: Callable[[Reader, str], _E] = partial(Reader.enum, kind=kind)
    return Kind(
        hint=kind, encode=_enum_value, read=read, to_sql=_enum_value, rule=choice_rule(kind)
    )


def _opt_enum(kind: type[_E]) -> Kind[_E | None]:
    read: Callable[[Reader, str], _E | None] = partial(Reader.opt_enum, kind=kind)
    return Kind(
        hint=kind | None,
        encode=_optional(_enum_value),
        read=read,
        rule=or_null(choice_rule(kind)),
    )


def _records(table: Record[_R]) -> Kind[tuple[_R, ...]]:
    def encode(values: tuple[_R, ...]) -> JsonValue:
        return [table.encode(value) for value in values]

    def read(reader: Reader, key: str) -> tuple[_R, ...]:
        return tuple(value for value in reader.items(key, table.read) if value is not None)

    return Kind(
        hint=types.GenericAlias(tuple, (table.cls, ...)),
        encode=encode,
        read=read,
        json_is_scalar=False,
    )


def _errors_summary(errors: tuple[str, ...]) -> str | None:
    return "; ".join(errors) or None


TEXT: Final[Kind[str]] = Kind(
    hint=str, encode=_as_is, read=Reader.text, to_sql=_as_is, rule=TEXT_RULE
)
OPT_TEXT: Final[Kind[str | None]] = Kind(
    hint=str | None, encode=_as_is, read=Reader.opt_text, to_sql=_as_is, rule=OPT_TEXT_RULE
)
INTEGER: Final[Kind[int]] = Kind(
    hint=int, encode=_as_is, read=Reader.integer, to_sql=_as_is, rule=INTEGER_RULE
)
OPT_INTEGER: Final[Kind[int | None]] = Kind(
    hint=int | None,
    encode=_as_is,
    read=Reader.opt_integer,
    to_sql=_as_is,
    rule=OPT_INTEGER_RULE,
)
FLAG: Final[Kind[bool]] = Kind(hint=bool, encode=_as_is, read=Reader.boolean, to_sql=int, rule=flag)
DECIMAL: Final[Kind[Decimal]] = Kind(
    hint=Decimal, encode=encode_decimal, read=Reader.decimal, to_sql=float, rule=DECIMAL_RULE
)
OPT_DECIMAL: Final[Kind[Decimal | None]] = Kind(
    hint=Decimal | None,
    encode=_optional(encode_decimal),
    read=Reader.opt_decimal,
    to_sql=_optional(float),
    rule=OPT_DECIMAL_RULE,
)
MOMENT: Final[Kind[datetime]] = Kind(
    hint=datetime,
    encode=encode_datetime,
    read=Reader.moment,
    to_sql=epoch_seconds,
    rule=MOMENT_RULE,
)
OPT_MOMENT: Final[Kind[datetime | None]] = Kind(
    hint=datetime | None,
    encode=_optional(encode_datetime),
    read=Reader.opt_moment,
    to_sql=_optional(epoch_seconds),
    rule=OPT_MOMENT_RULE,
)
TEXT_MAP: Final[Kind[Mapping[str, str]]] = Kind(
    hint=Mapping[str, str],
    encode=_sorted_map,
    read=Reader.text_map,
    to_sql=JSON_TEXT,
    rule=TEXT_MAP_RULE,
    json_is_scalar=False,
)
TEXTS: Final[Kind[tuple[str, ...]]] = Kind(
    hint=tuple[str, ...],
    encode=list,
    read=Reader.texts,
    to_sql=JSON_TEXT,
    rule=TEXTS_RULE,
    json_is_scalar=False,
)


# ---------------------------------------------------------------- the tables

ORDER: Final = record(
    LocalOrder,
    "order",
    (
        # the contract's columns (section 9.1)
        field("local_id", TEXT, "TEXT PRIMARY KEY"),
        field("plan_id", OPT_TEXT, "TEXT"),
        field("strategy_id", OPT_TEXT, "TEXT"),
        field("pair", TEXT, "TEXT NOT NULL"),
        field("side", _enum(Side), "TEXT NOT NULL"),
        field("order_type", _enum(OrderType), "TEXT NOT NULL"),
        field("kraken_order_id", OPT_TEXT, "TEXT"),
        field("userref", OPT_INTEGER, "INTEGER"),
        field("requested_base_size", DECIMAL, "REAL NOT NULL"),
        field("requested_price", OPT_DECIMAL, "REAL"),
        field("status", _enum(OrderStatus), "TEXT NOT NULL"),
        field("cumulative_base_filled", DECIMAL, "REAL NOT NULL DEFAULT 0.0"),
        field("avg_fill_price", OPT_DECIMAL, "REAL"),
        field("created_at", MOMENT, "INTEGER NOT NULL"),
        field("updated_at", MOMENT, "INTEGER NOT NULL"),
        field("last_error", OPT_TEXT, "TEXT"),
        field("raw_request", TEXT_MAP, "TEXT"),
        field("raw_response_json", OPT_TEXT, "TEXT", column="raw_response"),
        # ours
        field("client_order_id", OPT_TEXT, "TEXT"),
        field("fee", DECIMAL, "REAL"),
        field("cost", DECIMAL, "REAL"),
        field("rest_pair", OPT_TEXT, "TEXT"),
        field("time_in_force", _enum(TimeInForce), "TEXT"),
        field("post_only", FLAG, "INTEGER"),
        field("attempts", INTEGER, "INTEGER"),
        field("send_deadline", OPT_MOMENT, "INTEGER"),
        field("first_sent_at", OPT_MOMENT, "INTEGER"),
        field("cancel_requested_at", OPT_MOMENT, "INTEGER"),
        field("close_reason", OPT_TEXT, "TEXT"),
        field("action_index", OPT_INTEGER, "INTEGER"),
        field("reference_price", OPT_DECIMAL, "REAL"),
        # the send claim's owner, for SQL readers too
        field("claimed_by", OPT_TEXT, "TEXT", after_snapshot=True),
        # no column; absent from snapshots written before the field existed
        field("exists_on_exchange", FLAG, if_absent=False),
    ),
)
"""`LocalOrder`'s table: ``execution_orders``."""

SKIP: Final = record(
    ActionSkip,
    "skip",
    (
        field("action_index", INTEGER),
        field("pair", TEXT),
        field("strategy_id", OPT_TEXT),
        field("reason", _enum(SkipReason)),
        field("message", TEXT),
        field("side", _opt_enum(Side)),
        field("volume", OPT_DECIMAL),
        field("price", OPT_DECIMAL),
        field("order_type", _opt_enum(OrderType)),
        field("userref", OPT_INTEGER),
    ),
)
"""`ActionSkip`'s table (JSON only: skips live inside a result's exact JSON)."""

RESULT: Final = record(
    ExecutionResult,
    "result",
    (
        # the contract's columns (section 9.2)
        field("plan_id", TEXT, "TEXT PRIMARY KEY"),
        field("started_at", MOMENT, "INTEGER NOT NULL"),
        field("completed_at", OPT_MOMENT, "INTEGER"),
        field("success", FLAG, "INTEGER NOT NULL"),
        field(
            "errors",
            TEXTS,
            columns=(
                Column(name="error_summary", decl="TEXT", to_sql=_errors_summary),
                # ours, from here on
                Column(name="errors_json", decl="TEXT", to_sql=JSON_TEXT, after_snapshot=True),
            ),
        ),
        field("mode", _enum(ExecutionMode), "TEXT", after_snapshot=True),
        field("replayed", FLAG, "INTEGER", after_snapshot=True),
        # in the exact JSON only
        field("orders", _records(ORDER)),
        field("skipped", _records(SKIP)),
    ),
)
"""`ExecutionResult`'s table: ``execution_results``."""
