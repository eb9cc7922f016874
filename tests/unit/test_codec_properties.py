"""Properties of the codec: anything the models can hold round-trips exactly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from pyrsistent import pmap

from kraken_bot.execution.core.codec import (
    encode_datetime,
    from_json_text,
    order_from_json,
    order_to_json,
    result_from_json,
    result_to_json,
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

decimals = st.decimals(allow_nan=False, allow_infinity=False)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.one_of(st.just(UTC), offsets),
)
texts = st.text(max_size=20)


def maybe(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | values


json_texts = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
).map(to_json_text)

sizes = st.decimals(min_value=0, allow_nan=False, allow_infinity=False)


def _sized(order: LocalOrder, requested: Decimal, filled: Decimal) -> LocalOrder:
    """``order`` with a fill within what it requested (a LocalOrder invariant)."""
    big, small = max(requested, filled), min(requested, filled)
    return replace(order, requested_base_size=big, cumulative_base_filled=small)


unsized_orders = st.builds(
    LocalOrder,
    local_id=texts,
    plan_id=maybe(texts),
    strategy_id=maybe(texts),
    pair=texts,
    side=st.sampled_from(Side),
    order_type=st.sampled_from(OrderType),
    kraken_order_id=maybe(texts),
    userref=maybe(st.integers(min_value=-(2**31), max_value=2**31 - 1)),
    client_order_id=maybe(texts),
    requested_base_size=st.just(Decimal(0)),
    requested_price=maybe(decimals),
    status=st.sampled_from(OrderStatus),
    created_at=moments,
    updated_at=moments,
    cumulative_base_filled=st.just(Decimal(0)),
    avg_fill_price=maybe(decimals),
    fee=decimals,
    cost=decimals,
    last_error=maybe(texts),
    raw_request=st.dictionaries(texts, texts, max_size=4).map(pmap),
    raw_response_json=maybe(json_texts),
    rest_pair=maybe(texts),
    time_in_force=st.sampled_from(TimeInForce),
    post_only=st.booleans(),
    attempts=st.integers(min_value=0, max_value=100),
    send_deadline=maybe(moments),
    first_sent_at=maybe(moments),
    cancel_requested_at=maybe(moments),
    close_reason=maybe(texts),
    action_index=maybe(st.integers(min_value=0, max_value=10_000)),
    reference_price=maybe(decimals),
)
orders = st.builds(_sized, unsized_orders, sizes, sizes)

skips = st.builds(
    ActionSkip,
    action_index=st.integers(min_value=0, max_value=1000),
    pair=texts,
    strategy_id=maybe(texts),
    reason=st.sampled_from(SkipReason),
    message=texts,
    side=maybe(st.sampled_from(Side)),
    volume=maybe(decimals),
    price=maybe(decimals),
    order_type=maybe(st.sampled_from(OrderType)),
    userref=maybe(st.integers(min_value=0, max_value=2**31 - 1)),
)

results = st.builds(
    ExecutionResult,
    plan_id=texts,
    started_at=moments,
    completed_at=maybe(moments),
    success=st.booleans(),
    orders=st.lists(orders, max_size=3).map(tuple),
    errors=st.lists(texts, max_size=3).map(tuple),
    mode=st.sampled_from(ExecutionMode),
    skipped=st.lists(skips, max_size=3).map(tuple),
    replayed=st.booleans(),
)


@given(orders)
def test_every_order_round_trips_exactly_through_json_text(order):
    text = to_json_text(order_to_json(order))

    decoded = from_json_text(text, "order").bind(order_from_json).unwrap()

    assert decoded == order
    assert [str(getattr(decoded, f)) for f in ("requested_base_size", "fee", "cost")] == [
        str(getattr(order, f)) for f in ("requested_base_size", "fee", "cost")
    ]
    assert decoded.created_at.tzinfo is UTC


@given(results)
def test_every_result_round_trips_exactly_through_json_text(result):
    text = to_json_text(result_to_json(result))

    assert from_json_text(text, "result").bind(result_from_json).unwrap() == result


@given(st.lists(moments, min_size=2, max_size=2))
def test_encoded_times_sort_like_the_instants_they_name(pair):
    first, second = pair

    assert (encode_datetime(first) < encode_datetime(second)) == (first < second)
