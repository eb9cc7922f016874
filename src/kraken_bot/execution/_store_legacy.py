"""Reading execution rows written before the exact JSON columns existed.

An order row without ``snapshot_json``, or a result row without ``mode`` or
``raw_json``, holds only the contract's columns (section 9). These functions
rebuild the record from them as well as they allow, through the codec, so the
result is validated like any other record:

* REAL amounts come back through their shortest float repr
  (``0.1`` -> ``Decimal("0.1")``), not the binary float's full expansion;
* INTEGER times are UTC epoch seconds, so they come back to the second;
* fields with no value take their defaults (a result comes back without its
  orders and skips, in ``paper`` mode).
"""

from __future__ import annotations

from collections.abc import Mapping

from returns.result import Result

from kraken_bot.execution._fields import ORDER, legacy_time
from kraken_bot.execution.codec import CodecError, from_json_text, order_from_json, result_from_json
from kraken_bot.execution.models import ExecutionResult, LocalOrder


def order_from_columns(row: Mapping[str, object]) -> Result[LocalOrder, CodecError]:
    """A row written before ``snapshot_json`` existed (only the contract's columns).

    Each field comes from its column as its field table says: REAL amounts through
    their shortest float repr, times to the second, an empty column of ours as the
    field's default; a field without a column takes its default.
    """
    return order_from_json(
        {
            field.name: column.from_sql(row[column.name])
            for field in ORDER.fields
            for column in field.columns  # one column per field of an order
        }
    )


def result_from_columns(row: Mapping[str, object]) -> Result[ExecutionResult, CodecError]:
    """A row written before our columns existed: the summary without orders or skips."""
    summary = row["error_summary"]
    errors: object = [summary] if isinstance(summary, str) and summary else []
    if isinstance(row["errors_json"], str):
        errors = from_json_text(row["errors_json"], "errors").value_or(errors)
    return result_from_json(
        {
            "plan_id": row["plan_id"],
            "started_at": legacy_time(row["started_at"]),
            "completed_at": legacy_time(row["completed_at"]),
            "success": bool(row["success"]),
            "orders": [],
            "errors": errors,
            "mode": "paper",
            "skipped": [],
            "replayed": False,
        }
    )
