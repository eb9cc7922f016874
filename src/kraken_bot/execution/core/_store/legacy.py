"""Pure: rows of the older formats rebuilt as records, and the rows written back for them.

Two older formats exist, both from before the exact JSON columns (see
`kraken_bot.execution.shell._store.migration`, which finds such rows and writes back what
this module makes of them). The statements that find and rewrite them are here too:
they are text made from the column lists.

How an old row's columns read:

* REAL amounts come back through their shortest float repr
  (``0.1`` -> ``Decimal("0.1")``), not the binary float's full expansion;
* INTEGER times are UTC epoch seconds, so they come back to the second;
* ``raw_request`` as JSON text becomes an object of strings (anything else is kept
  under ``raw``);
* an empty column of ours means the field's default; a field without a column takes
  its default (a result comes back without its orders and skips, in ``paper`` mode).

A row that cannot be rebuilt gives a `StoreError` naming the file, the table, the row
and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Final, TypeVar

from returns.pipeline import is_successful
from returns.result import Result

from kraken_bot.execution.core._codec_base import EPOCH
from kraken_bot.execution.core._fields import (
    DECIMAL,
    FLAG,
    MOMENT,
    OPT_DECIMAL,
    OPT_MOMENT,
    ORDER,
    TEXT_MAP,
    Field,
)
from kraken_bot.execution.core._store.records import order_snapshot, result_snapshot
from kraken_bot.execution.core._store.rows import WRITTEN_COLUMNS, SqlValue, order_row, result_row
from kraken_bot.execution.core._store.tables import ORDER_COLUMNS, RESULT_COLUMNS
from kraken_bot.execution.core.codec import (
    CodecError,
    encode_datetime,
    from_json_text,
    order_from_json,
    result_from_json,
    to_json_text,
)
from kraken_bot.execution.core.models import ExecutionResult, LocalOrder, TimeInForce
from kraken_bot.execution.exceptions import StoreError

_T = TypeVar("_T")

BATCH: Final = 500
"""Old rows read per query (the table is updated between queries, never under one)."""

_OLD_ORDER: Final = "typeof(snapshot_json) != 'text' AND quarantine IS NULL"
_OLD_RESULT: Final = "mode IS NULL OR typeof(raw_json) != 'text'"
# SQL assembled once, at import, from the column lists (no user input).
OLD_ORDERS: Final = (
    f"SELECT rowid, {', '.join(name for name, _ in ORDER_COLUMNS)}"  # noqa: S608
    f" FROM execution_orders WHERE rowid > ? AND ({_OLD_ORDER}) ORDER BY rowid LIMIT {BATCH}"
)
OLD_RESULTS: Final = (
    f"SELECT rowid, {', '.join(name for name, _ in RESULT_COLUMNS)}"  # noqa: S608
    f" FROM execution_results WHERE rowid > ? AND ({_OLD_RESULT}) ORDER BY rowid LIMIT {BATCH}"
)
REWRITE_ORDER: Final = (
    "UPDATE execution_orders SET "  # noqa: S608
    + ", ".join(f"{name} = ?" for name, _ in WRITTEN_COLUMNS[1:])
    + " WHERE local_id = ?"
)
COUNT_OLD: Final = (
    f"SELECT (SELECT COUNT(*) FROM execution_orders WHERE {_OLD_ORDER})"  # noqa: S608
    f" + (SELECT COUNT(*) FROM execution_results WHERE {_OLD_RESULT})"
)


def rewritten_order(values: Mapping[str, object], path: str) -> tuple[SqlValue, ...]:
    """The parameters of `REWRITE_ORDER` for an old order row (its columns by name)."""
    order = _rebuilt(order_from_columns(values), "execution_orders", values, path)
    try:
        row = order_row(order, order_snapshot(order))
    except StoreError as error:  # a credential field in raw_request, say
        raise _unmigratable(path, "execution_orders", values, error.message) from error
    return (*row[1:], row[0])


def rewritten_result(values: Mapping[str, object], path: str) -> tuple[SqlValue, ...]:
    """The parameters of `UPSERT_RESULT` for an old result row (its columns by name)."""
    result = _rebuilt(result_from_columns(values), "execution_results", values, path)
    # No orders and no skips, and the codec has just read it: nothing left to refuse.
    return result_row(result, result_snapshot(result))


def _naming(table: str, values: Mapping[str, object]) -> str:
    key = next(iter(values))  # the primary key comes first
    return f"{table} row {key}={values[key]!r}"


def _rebuilt(
    decoded: Result[_T, CodecError], table: str, values: Mapping[str, object], path: str
) -> _T:
    if is_successful(decoded):
        return decoded.unwrap()
    error = decoded.failure()
    # a problem of the whole record (an invariant) has the record's name as its path
    why = "; ".join(
        p.message if p.path == error.what else f"field {p.path}: {p.message}"
        for p in error.problems
    )
    raise _unmigratable(path, table, values, why)


def _unmigratable(path: str, table: str, values: Mapping[str, object], why: str) -> StoreError:
    return StoreError(
        f"{path}: {_naming(table, values)} cannot be migrated to this version's format"
        f" ({why}); nothing was changed: fix or delete that row, then open the file again",
        path=path,
    )


# ---------------------------------------------------------------- old columns as JSON


def _real(value: object) -> object:
    """A REAL column's amount as the decimal string of its shortest float repr."""
    return repr(float(value)) if isinstance(value, int | float) else value


def _time(value: object) -> object:
    """An INTEGER column's epoch seconds as an ISO 8601 time (whole seconds)."""
    if isinstance(value, int | float):
        try:
            return encode_datetime(EPOCH + timedelta(seconds=value))
        except (OverflowError, ValueError):
            return value
    return value


def _request(value: object) -> object:
    if not isinstance(value, str):
        return {}
    decoded = from_json_text(value, "raw_request").value_or(None)
    if not isinstance(decoded, Mapping):
        return {"raw": value}
    return {str(k): v if isinstance(v, str) else to_json_text(v) for k, v in decoded.items()}


def _amount_or_zero(value: object) -> object:
    return _real(0.0 if value is None else value)


def _or(default: object) -> Callable[[object], object]:
    def value_or_default(value: object) -> object:
        return value or default

    return value_or_default


def _as_is(value: object) -> object:
    return value


_BY_KIND: Final = (
    (DECIMAL, _real),
    (OPT_DECIMAL, _real),
    (MOMENT, _time),
    (OPT_MOMENT, _time),
    (TEXT_MAP, _request),
    (FLAG, bool),
)
# The columns of ours an old row may hold empty (the format is frozen: no field added
# since can be missing from a row, as every row written since has its exact JSON).
_EMPTY_AS_DEFAULT: Final[Mapping[str, Callable[[object], object]]] = {
    "fee": _amount_or_zero,
    "cost": _amount_or_zero,
    "time_in_force": _or(TimeInForce.GTC.value),
    "attempts": _or(0),
}


def _from_column(field: Field[Any]) -> Callable[[object], object]:
    by_name = _EMPTY_AS_DEFAULT.get(field.name)
    if by_name is not None:
        return by_name
    return next((read for kind, read in _BY_KIND if field.kind is kind), _as_is)


_ORDER_COLUMN_READERS: Final = tuple(
    (field.name, column.name, _from_column(field))
    for field in ORDER.fields
    for column in field.columns  # one column per field of an order
)


def order_from_columns(row: Mapping[str, object]) -> Result[LocalOrder, CodecError]:
    """An order row written before ``snapshot_json`` existed, rebuilt from its columns."""
    return order_from_json({name: read(row[col]) for name, col, read in _ORDER_COLUMN_READERS})


def result_from_columns(row: Mapping[str, object]) -> Result[ExecutionResult, CodecError]:
    """A result row written before our columns existed: the summary without orders or skips."""
    summary = row["error_summary"]
    errors: object = [summary] if isinstance(summary, str) and summary else []
    if isinstance(row["errors_json"], str):
        errors = from_json_text(row["errors_json"], "errors").value_or(errors)
    return result_from_json(
        {
            "plan_id": row["plan_id"],
            "started_at": _time(row["started_at"]),
            "completed_at": _time(row["completed_at"]),
            "success": bool(row["success"]),
            "orders": [],
            "errors": errors,
            "mode": "paper",
            "skipped": [],
            "replayed": False,
        }
    )
