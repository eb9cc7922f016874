"""The field tables: one row per dataclass field, each of the field's type."""

from __future__ import annotations

import dataclasses
from typing import Any, get_type_hints

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests import records

from kraken_bot.execution.core import _fields
from kraken_bot.execution.core._fields import (
    OPT_TEXT,
    ORDER,
    RESULT,
    SKIP,
    TEXT,
    TEXTS,
    Record,
    field,
    record,
)
from kraken_bot.execution.core._store.tables import ORDER_COLUMNS, RESULT_COLUMNS
from kraken_bot.execution.core.models import ActionSkip, ExecutionResult, LocalOrder

TABLES: list[tuple[Record[Any], type[Any]]] = [
    (ORDER, LocalOrder),
    (SKIP, ActionSkip),
    (RESULT, ExecutionResult),
]


@pytest.mark.parametrize(("table", "cls"), TABLES, ids=lambda x: getattr(x, "what", ""))
def test_each_table_lists_every_field_of_its_record_once(table, cls):
    listed = [f.name for f in table.fields]

    assert sorted(listed) == sorted(f.name for f in dataclasses.fields(cls))
    assert len(set(listed)) == len(listed)


@pytest.mark.parametrize(("table", "cls"), TABLES, ids=lambda x: getattr(x, "what", ""))
def test_each_field_kind_is_of_the_fields_declared_type(table, cls):
    hints = get_type_hints(cls)

    assert {f.name: f.kind.hint for f in table.fields} == hints


def test_a_table_missing_a_field_or_naming_another_is_refused():
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Pair:
        left: str
        right: str | None

    record(Pair, "pair", (field("left", TEXT), field("right", OPT_TEXT)))  # complete: fine
    with pytest.raises(TypeError, match=r"missing \['right'\], unknown \[\]"):
        record(Pair, "pair", (field("left", TEXT),))
    with pytest.raises(TypeError, match=r"missing \[\], unknown \['middle'\]"):
        record(Pair, "pair", (*(field(n, TEXT) for n in ("left", "right")), field("middle", TEXT)))
    with pytest.raises(TypeError, match="3 rows for 2 fields"):
        record(Pair, "pair", (field("left", TEXT), field("right", OPT_TEXT), field("left", TEXT)))


def test_a_kind_without_a_sql_form_has_no_column():
    with pytest.raises(TypeError, match="no SQL form"):
        field("orders", _fields._records(SKIP), "TEXT")


def test_the_columns_of_the_fields_and_the_stores_own_keep_the_files_order():
    # The store's columns sit between the fields' early and late columns; see
    # tests/integration/test_store_sqlite.py for the whole file format.
    order_names = [name for name, _ in ORDER_COLUMNS]
    result_names = [name for name, _ in RESULT_COLUMNS]

    assert order_names[:3] == ["local_id", "plan_id", "strategy_id"]
    assert order_names[-5:] == [
        "reference_price",
        "snapshot_json",
        "version",
        "quarantine",
        "claimed_by",
    ]
    assert result_names[4:7] == ["error_summary", "raw_json", "errors_json"]
    assert [c.name for f in RESULT.fields if f.kind is TEXTS for c in f.columns] == [
        "error_summary",
        "errors_json",
    ]
    assert not any(f.columns for f in ORDER.fields if f.name == "exists_on_exchange")


_DELETE = "(delete the key)"
_ODD_VALUES = st.sampled_from(
    [
        _DELETE, None, "", "x", 0, 7, -1, 1.5, True, False, "NaN", "1E+3", "0.10", {}, [], ["a"],
        {"a": "b"}, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00", "open", "buy", "GTC",
    ]
)  # fmt: skip


@given(
    changes=st.lists(
        st.tuples(st.sampled_from([f.name for f in ORDER.fields]), _ODD_VALUES), max_size=4
    ),
    full=st.booleans(),
)
def test_reading_a_whole_record_at_once_agrees_with_reading_it_field_by_field(changes, full):
    # Record.read takes a record whose every field is right in one pass; anything else
    # goes field by field. The table without its one-pass rules must read the same
    # record, or refuse with the same problems, whatever was changed.
    order = records.a_full_order() if full else records.an_order()
    obj: dict[str, Any] = ORDER.encode(order)
    for name, value in changes:
        if value == _DELETE:
            obj.pop(name, None)
        else:
            obj[name] = value
    field_by_field = dataclasses.replace(ORDER, _rules=None)
    problems: list[Any] = []
    expected: list[Any] = []
    assert ORDER.read(obj, "", problems) == field_by_field.read(obj, "", expected)
    assert problems == expected
    if not changes:
        assert ORDER._read_whole(obj) == order  # the usual case takes the one pass
