"""The store's pure parts: what both stores refuse, rows decoded back, and the table rules.

The stores themselves are tested end to end on real files (tests/integration); these are
the decisions they apply, each one reached directly.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from tests.records import T0, a_full_order, an_order

from kraken_bot.execution.core._store.records import check_limit, order_snapshot, result_snapshot
from kraken_bot.execution.core._store.rows import (
    cas_row,
    decode_event,
    decode_order,
    decode_result,
    decode_versioned,
    event_row,
    order_row,
    result_row,
    row_id,
)
from kraken_bot.execution.core._store.tables import (
    EVENT_COLUMNS,
    ORDER_COLUMNS,
    RESULT_COLUMNS,
    SCHEMA_VERSION,
    TABLES,
    missing_column_statements,
    schema_gaps,
    schema_refusal,
)
from kraken_bot.execution.core.codec import encode_datetime, to_json_text
from kraken_bot.execution.core.models import (
    ActionSkip,
    ExecutionMode,
    ExecutionResult,
    SkipReason,
)
from kraken_bot.execution.exceptions import StoreError

NAIVE = datetime(2026, 3, 1, 12, 0)  # the codec refuses it: the case under test


def a_result(**overrides: object) -> ExecutionResult:
    fields: dict[str, object] = {
        "plan_id": "plan-1",
        "started_at": T0,
        "completed_at": T0,
        "success": True,
        "orders": (a_full_order(),),
        "errors": (),
        "mode": ExecutionMode.LIVE,
        "skipped": (),
        "replayed": False,
    }
    fields.update(overrides)
    return ExecutionResult(**fields)  # type: ignore[arg-type]


def a_skip(**overrides: object) -> ActionSkip:
    fields: dict[str, object] = {
        "action_index": 0,
        "pair": "ETHUSD",
        "strategy_id": None,
        "reason": SkipReason.BELOW_MIN_NOTIONAL,
        "message": "too small",
    }
    fields.update(overrides)
    return ActionSkip(**fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------- records: refused on entry


def test_an_order_carrying_a_credential_in_its_request_is_refused_by_name():
    order = an_order(raw_request={"pair": "XBTUSD", "API-Sign": "x", "nonce": "1"})
    with pytest.raises(StoreError, match=r"credential field\(s\) API-Sign, nonce"):
        order_snapshot(order)


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_an_order_with_an_amount_that_is_not_finite_is_refused(amount):
    with pytest.raises(StoreError, match="amounts must be finite numbers"):
        order_snapshot(an_order(fee=amount))


def test_an_order_the_codec_cannot_encode_is_refused_naming_it():
    """`LocalOrder` refuses a naive time when made; code can still slip one in afterwards."""
    order = an_order()
    object.__setattr__(order, "created_at", NAIVE)
    with pytest.raises(StoreError, match=r"order L-1 cannot be stored: naive datetime"):
        order_snapshot(order)


def test_a_result_is_refused_for_its_orders_its_skips_or_what_the_codec_refuses():
    with pytest.raises(StoreError, match="amounts must be finite"):
        result_snapshot(a_result(orders=(an_order(cost=Decimal("NaN")),)))
    with pytest.raises(StoreError, match="skip amounts must be finite numbers"):
        result_snapshot(a_result(skipped=(a_skip(volume=Decimal("-Infinity")),)))
    with pytest.raises(StoreError, match="result plan-1 cannot be stored"):
        result_snapshot(a_result(started_at=NAIVE))
    assert result_snapshot(a_result(skipped=(a_skip(price=Decimal(3)),)))["plan_id"] == "plan-1"


def test_a_negative_limit_is_refused():
    check_limit(0)
    with pytest.raises(ValueError, match="limit must be >= 0, got -1"):
        check_limit(-1)


# ---------------------------------------------------------------- rows: read back


def selected(order, *, version=0, snapshot_json=None):
    """A row as ``SELECT`` with `ORDER_COLUMNS` gives it (what decoding reads: the exact
    JSON, the version, the local id)."""
    text = to_json_text(order_snapshot(order)) if snapshot_json is None else snapshot_json
    values = {"local_id": order.local_id, "snapshot_json": text, "version": version}
    return tuple(values.get(name) for name, _ in ORDER_COLUMNS)


def test_an_order_row_decodes_to_the_order_and_its_version():
    order = a_full_order()
    assert decode_order(selected(order, version=4), "x.db") == order
    assert decode_versioned(selected(order, version=4), "x.db") == (order, 4)
    assert decode_versioned(selected(order, version=None), "x.db") == (order, 0)
    assert row_id(selected(order)) == order.local_id


def test_an_order_row_of_the_wrong_width_or_without_exact_json_is_refused():
    row = selected(an_order())
    with pytest.raises(ValueError, match=f"has {len(row) - 1} columns, not {len(row)}"):
        decode_versioned(row[:-1], "x.db")
    old = selected(an_order(), snapshot_json=5)
    with pytest.raises(StoreError, match=r"(?s)x\.db: order L-1 cannot be read back: .*not text"):
        decode_order(old, "x.db")


def test_the_written_rows_hold_the_exact_json_and_the_audit_time():
    order = a_full_order()
    row = order_row(order, order_snapshot(order))
    assert to_json_text(order_snapshot(order)) in row
    assert cas_row(row, 7) == (*row[1:], row[0], 7)
    assert event_row(order, "sent", None)[:4] == (
        order.local_id,
        int(order.updated_at.timestamp()),
        encode_datetime(order.updated_at),
        order.status.value,
    )


def test_a_result_row_decodes_and_a_damaged_one_is_refused_naming_it():
    result = a_result()
    row = result_row(result, result_snapshot(result))
    assert decode_result(row, "x.db") == result
    at = [name for name, _ in RESULT_COLUMNS].index("raw_json")
    damaged = (*row[:at], json.dumps({"plan_id": 1}), *row[at + 1 :])
    with pytest.raises(StoreError, match=r"x\.db: result plan-1 cannot be read back"):
        decode_result(damaged, "x.db")


def test_an_event_row_decodes_and_a_malformed_one_is_refused():
    row = (3, "L1", T0.isoformat(), "open", "sent", None)
    record = decode_event(row, "x.db")
    assert (record.id, record.local_id, record.at, record.status.value) == (3, "L1", T0, "open")
    for bad in (
        ("3", "L1", T0.isoformat(), "open", None, None),
        (3, None, T0.isoformat(), "open", None, None),
        (3, "L1", None, "open", None, None),
        (3, "L1", T0.isoformat(), "gone", None, None),
        (3, "L1", T0.isoformat(), "open", 5, None),
        (3, "L1", T0.isoformat(), "open", None, 5),
    ):
        with pytest.raises(StoreError, match="is malformed"):
            decode_event(bad, "x.db")


# ---------------------------------------------------------------- tables: what a file lacks


def _as_a_file_has_it(columns):
    return {
        name: (int("NOT NULL" in decl), None, int("PRIMARY KEY" in decl)) for name, decl in columns
    }


def current_tables():
    return {table: _as_a_file_has_it(columns) for table, columns in TABLES}


def test_the_tables_as_written_have_no_gap_and_need_no_column():
    assert schema_gaps(current_tables()) == []
    for table, columns in TABLES:
        assert missing_column_statements(table, columns, current_tables()[table]) == []
    assert EVENT_COLUMNS[0][0] == "id"


def test_each_kind_of_gap_is_named():
    infos = current_tables()
    orders = dict(infos["execution_orders"])
    del orders["snapshot_json"]
    orders["local_id"] = (1, None, 0)  # no longer the key
    orders["mystery"] = (1, None, 0)  # required, and this version cannot fill it
    infos["execution_orders"] = orders
    del infos["execution_results"]
    assert schema_gaps(infos) == [
        "execution_orders lacks column(s) snapshot_json",
        "execution_orders.local_id is not the primary key",
        "execution_orders has required column(s) this version cannot fill: mystery",
        "table execution_results is missing",
    ]


def test_a_refusal_is_worded_for_a_newer_file_a_read_only_open_and_a_writable_one():
    gaps = ["table t is missing"]
    newer = schema_refusal(gaps, SCHEMA_VERSION + 1, path="x.db", read_only=True)
    assert newer is not None
    assert "newer than this version of krakked understands" in str(newer)
    read_only = schema_refusal(gaps, SCHEMA_VERSION, path="x.db", read_only=True)
    assert "open it once for writing" in str(read_only)
    writable = schema_refusal(gaps, None, path="x.db", read_only=False)
    assert str(writable) == "x.db has execution tables this version cannot use: table t is missing"
    assert schema_refusal([], None, path="x.db", read_only=False) is None
    assert replace(a_full_order()).local_id  # the records helpers are real orders
