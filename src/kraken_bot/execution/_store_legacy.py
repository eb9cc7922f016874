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
from datetime import timedelta

from returns.result import Result

from kraken_bot.execution._store_schema import EPOCH
from kraken_bot.execution.codec import (
    CodecError,
    encode_datetime,
    from_json_text,
    order_from_json,
    result_from_json,
    to_json_text,
)
from kraken_bot.execution.models import ExecutionResult, LocalOrder


def _legacy_real(value: object) -> object:
    return repr(float(value)) if isinstance(value, int | float) else value


def _legacy_time(value: object) -> object:
    if isinstance(value, int | float):
        try:
            return encode_datetime(EPOCH + timedelta(seconds=value))
        except (OverflowError, ValueError):
            return value
    return value


def _legacy_request(value: object) -> object:
    if not isinstance(value, str):
        return {}
    decoded = from_json_text(value, "raw_request").value_or(None)
    if not isinstance(decoded, Mapping):
        return {"raw": value}
    return {str(k): v if isinstance(v, str) else to_json_text(v) for k, v in decoded.items()}


def order_from_columns(row: Mapping[str, object]) -> Result[LocalOrder, CodecError]:
    """A row written before ``snapshot_json`` existed (only the contract's columns).

    REAL amounts come back through their shortest float repr; times to the second.
    """
    encoded: dict[str, object] = dict(row)
    for key in (
        "requested_base_size",
        "requested_price",
        "cumulative_base_filled",
        "avg_fill_price",
        "reference_price",
    ):
        encoded[key] = _legacy_real(row[key])
    for key in ("fee", "cost"):
        encoded[key] = _legacy_real(0.0 if row[key] is None else row[key])
    for key in (
        "created_at",
        "updated_at",
        "send_deadline",
        "first_sent_at",
        "cancel_requested_at",
    ):
        encoded[key] = _legacy_time(row[key])
    encoded["raw_request"] = _legacy_request(row["raw_request"])
    encoded["raw_response_json"] = row["raw_response"]
    encoded["time_in_force"] = row["time_in_force"] or "GTC"
    encoded["post_only"] = bool(row["post_only"])
    encoded["attempts"] = row["attempts"] or 0
    return order_from_json(encoded)


def result_from_columns(row: Mapping[str, object]) -> Result[ExecutionResult, CodecError]:
    """A row written before our columns existed: the summary without orders or skips."""
    summary = row["error_summary"]
    errors: object = [summary] if isinstance(summary, str) and summary else []
    if isinstance(row["errors_json"], str):
        errors = from_json_text(row["errors_json"], "errors").value_or(errors)
    return result_from_json(
        {
            "plan_id": row["plan_id"],
            "started_at": _legacy_time(row["started_at"]),
            "completed_at": _legacy_time(row["completed_at"]),
            "success": bool(row["success"]),
            "orders": [],
            "errors": errors,
            "mode": "paper",
            "skipped": [],
            "replayed": False,
        }
    )
