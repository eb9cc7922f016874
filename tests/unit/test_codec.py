"""The JSON codec of the execution records: exact round trips and validating decoders."""

from __future__ import annotations

import ast
import json
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from returns.pipeline import is_successful
from tests import records

from kraken_bot.execution.core import codec
from kraken_bot.execution.core.codec import (
    decode_datetime,
    encode_datetime,
    from_json_text,
    order_from_json,
    order_to_json,
    result_from_json,
    result_to_json,
    skip_from_json,
    skip_to_json,
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
)

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def an_order(**overrides: Any) -> LocalOrder:
    return records.an_order(at=T0, **overrides)


def a_full_order(**overrides: Any) -> LocalOrder:
    return records.a_full_order(at=T0, **overrides)


def a_skip(**overrides: Any) -> ActionSkip:
    fields: dict[str, Any] = {
        "action_index": 1,
        "pair": "ETHUSD",
        "strategy_id": "mr_v2",
        "reason": SkipReason.BELOW_MIN_NOTIONAL,
        "message": "order worth 3.10 USD is below the 20 USD minimum",
        "side": Side.SELL,
        "volume": Decimal("0.0010"),
        "price": Decimal("3100.00"),
        "order_type": OrderType.MARKET,
        "userref": 7,
    }
    fields.update(overrides)
    return ActionSkip(**fields)


def a_result(**overrides: Any) -> ExecutionResult:
    fields: dict[str, Any] = {
        "plan_id": "plan-1",
        "started_at": T0,
        "completed_at": T0 + timedelta(seconds=2),
        "success": False,
        "orders": (a_full_order(), an_order(local_id="L-2", requested_price=None)),
        "errors": ("ETHUSD: below minimum", "ünïcödé error"),
        "mode": ExecutionMode.LIVE,
        "skipped": (a_skip(), a_skip(action_index=4, side=None, volume=None, price=None)),
        "replayed": True,
    }
    fields.update(overrides)
    return ExecutionResult(**fields)


def problems_of(decoded: Any) -> list[str]:
    assert not is_successful(decoded)
    return [str(problem) for problem in decoded.failure().problems]


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("order", [an_order(), a_full_order()], ids=["minimal", "full"])
def test_an_order_survives_encoding_and_json_text_exactly(order):
    text = to_json_text(order_to_json(order))

    decoded = from_json_text(text, "order").bind(order_from_json).unwrap()

    assert decoded == order
    assert decoded.raw_response_json == order.raw_response_json


def test_decimals_keep_their_exact_digits_and_exponent():
    order = an_order(requested_base_size=Decimal("1.10000000"), requested_price=Decimal("1E+5"))

    encoded = order_to_json(order)
    decoded = order_from_json(encoded).unwrap()

    assert encoded["requested_base_size"] == "1.10000000"
    assert encoded["requested_price"] == "1E+5"
    assert str(decoded.requested_base_size) == "1.10000000"
    assert str(decoded.requested_price) == "1E+5"


def test_times_are_fixed_width_utc_with_microseconds():
    order = an_order(created_at=datetime(2026, 1, 2, tzinfo=UTC))

    encoded = order_to_json(order)

    assert encoded["created_at"] == "2026-01-02T00:00:00.000000+00:00"
    assert encoded["updated_at"] == "2026-01-02T03:04:05.123456+00:00"


def test_a_time_with_another_offset_comes_back_as_the_same_instant_in_utc():
    plus_two = timezone(timedelta(hours=2))
    order = an_order(created_at=datetime(2026, 1, 2, 5, 0, tzinfo=plus_two))

    decoded = order_from_json(order_to_json(order)).unwrap()

    assert decoded == order
    assert decoded.created_at.tzinfo is UTC
    assert decoded.created_at.hour == 3


def test_encoding_a_naive_time_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        an_order(created_at=datetime(2026, 1, 2))  # a LocalOrder refuses it at construction
    with pytest.raises(ValueError, match="naive datetime"):
        encode_datetime(datetime(2026, 1, 2))


def test_enums_are_encoded_as_their_values_and_tuples_as_lists():
    raw = result_to_json(a_result())
    encoded: Any = raw

    assert encoded["mode"] == "live"
    assert isinstance(raw["orders"], list)
    assert encoded["orders"][0]["status"] == "partially_filled"
    assert encoded["orders"][0]["time_in_force"] == "IOC"
    assert encoded["skipped"][0]["reason"] == "below_min_notional"
    assert encoded["errors"] == ["ETHUSD: below minimum", "ünïcödé error"]


def test_the_encoding_is_plain_json_with_no_floats():
    encoded = result_to_json(a_result())

    def walk(value: object) -> None:
        assert not isinstance(value, float | Decimal | datetime)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(encoded)
    assert json.loads(json.dumps(encoded)) == encoded


def test_a_result_survives_with_its_orders_and_skips():
    result = a_result()

    decoded = result_from_json(json.loads(to_json_text(result_to_json(result)))).unwrap()

    assert decoded == result


def test_a_running_result_has_no_completion_time():
    result = a_result(completed_at=None, orders=(), skipped=(), errors=())

    assert result_to_json(result)["completed_at"] is None
    assert result_from_json(result_to_json(result)).unwrap() == result


@pytest.mark.parametrize(
    "skip", [a_skip(), a_skip(side=None, volume=None, price=None, order_type=None, userref=None)]
)
def test_a_skip_survives_encoding(skip):
    assert skip_from_json(skip_to_json(skip)).unwrap() == skip


def test_unknown_keys_from_a_newer_writer_are_ignored():
    encoded = dict(order_to_json(an_order()))
    encoded["added_in_a_later_version"] = {"anything": [1, 2]}

    assert order_from_json(encoded).unwrap() == an_order()


# ---------------------------------------------------------------- validation


def test_a_non_object_is_one_problem():
    assert problems_of(order_from_json(["L-1"])) == ["value: expected a JSON object, got ['L-1']"]


def test_a_snapshot_written_before_exists_on_exchange_reads_as_false():
    encoded = dict(order_to_json(an_order(exists_on_exchange=True)))
    assert order_from_json(encoded).unwrap().exists_on_exchange is True
    del encoded["exists_on_exchange"]
    assert order_from_json(encoded).unwrap().exists_on_exchange is False


def test_every_missing_field_is_reported():
    problems = problems_of(order_from_json({}))
    optional = {"exists_on_exchange"}  # added later: older snapshots lack it, so it defaults

    assert len(problems) == len(order_to_json(an_order())) - len(optional)
    assert "local_id: missing (expected a string)" in problems
    assert "requested_price: missing (expected a decimal string or null)" in problems


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requested_base_size", 0.125, "expected a decimal string, got 0.125"),
        ("requested_base_size", "NaN", "expected a decimal string, got 'NaN'"),
        ("requested_base_size", "Infinity", "expected a decimal string, got 'Infinity'"),
        ("requested_base_size", "lots", "expected a decimal string, got 'lots'"),
        ("requested_price", 27500, "expected a decimal string or null, got 27500"),
        ("created_at", "2026-01-02T03:04:05", "expected an ISO 8601 time with an offset"),
        ("created_at", 1767322800, "expected an ISO 8601 time with an offset, got 1767322800"),
        ("send_deadline", "soon", "expected an ISO 8601 time with an offset or null"),
        ("status", "done", "expected one of pending | submitted"),
        ("side", "BUY", "expected one of buy | sell, got 'BUY'"),
        ("userref", True, "expected an integer or null, got True"),
        ("userref", 1.0, "expected an integer or null, got 1.0"),
        ("attempts", "2", "expected an integer, got '2'"),
        ("post_only", 1, "expected true or false, got 1"),
        ("raw_request", {"volume": 1}, "expected an object of strings"),
        ("raw_request", "pair=XBTUSD", "expected an object of strings"),
        ("local_id", None, "expected a string, got None"),
    ],
)
def test_a_field_of_the_wrong_shape_is_reported_with_its_path(field, value, message):
    encoded = dict(order_to_json(a_full_order()))
    encoded[field] = value

    problems = problems_of(order_from_json(encoded))

    assert len(problems) == 1
    assert problems[0].startswith(f"{field}: {message}")


def test_problems_inside_a_result_name_the_nested_path():
    encoded: Any = result_to_json(a_result())
    orders = list(encoded["orders"])
    orders[1] = {**orders[1], "status": "gone"}
    skipped = list(encoded["skipped"])
    skipped[0] = {**skipped[0], "volume": 1}
    broken = {**encoded, "orders": orders, "skipped": skipped, "errors": ["ok", 3]}

    problems = problems_of(result_from_json(broken))

    assert [p.split(":")[0] for p in problems] == [
        "orders[1].status",
        "errors",
        "skipped[0].volume",
    ]


def test_the_error_message_lists_every_problem():
    error = order_from_json({"local_id": 1}).failure()

    text = str(error)

    assert text.startswith(f"cannot decode order: {len(error.problems)} problems\n")
    assert "  local_id: expected a string, got 1" in text


def test_invalid_json_text_is_a_codec_error_not_an_exception():
    error = from_json_text("{not json", "result").failure()

    assert error.what == "result"
    assert error.problems[0].path == "json"


def test_json_text_refuses_nan():
    with pytest.raises(ValueError, match="Out of range float"):
        to_json_text({"x": float("nan")})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05", None),
        ("", None),
        (None, None),
    ],
)
def test_decode_datetime_requires_an_offset(text, expected):
    assert decode_datetime(text) == expected


def test_encode_datetime_gives_one_text_per_instant_whatever_asked_first():
    # encode_datetime remembers its answers by datetime: equal datetimes are one instant
    instant = datetime(2026, 3, 4, 5, 6, 7, 8, tzinfo=UTC)
    in_paris = instant.astimezone(timezone(timedelta(hours=1)))
    assert encode_datetime(in_paris) == "2026-03-04T05:06:07.000008+00:00"
    assert encode_datetime(instant) == "2026-03-04T05:06:07.000008+00:00"
    with pytest.raises(ValueError, match="naive datetime"):
        encode_datetime(instant.replace(tzinfo=None))  # never equal to the remembered one


def test_encode_datetime_of_the_epoch():
    assert encode_datetime(datetime(1970, 1, 1, tzinfo=UTC)) == "1970-01-01T00:00:00.000000+00:00"


# ---------------------------------------------------------------- purity

FORBIDDEN = {"requests", "sqlite3", "time", "random", "uuid", "os", "socket", "logging", "yaml"}
FORBIDDEN |= {"typer", "returns.io", "sim", "threading", "kraken_bot.execution.shell.store"}


def test_the_codec_is_pure_and_imports_no_io():
    source = Path(codec.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)

    assert (ast.get_docstring(tree, clean=False) or "").startswith("Pure:")
    for name in imported:
        assert name not in FORBIDDEN, name
        assert name.split(".")[0] not in FORBIDDEN, name
    for call in (".now(", ".utcnow(", ".today("):
        assert call not in source


def test_the_order_encoding_has_one_key_per_field():
    assert list(order_to_json(an_order())) == [f.name for f in fields(LocalOrder)]
    assert list(skip_to_json(a_skip())) == [f.name for f in fields(ActionSkip)]
    assert list(result_to_json(a_result())) == [f.name for f in fields(ExecutionResult)]


def test_replace_keeps_round_trips_exact_for_every_status():
    for status in OrderStatus:
        order = replace(a_full_order(), status=status)
        assert order_from_json(order_to_json(order)).unwrap() == order
