"""The execution values: status groups, derived properties, immutability."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import pytest
from pyrsistent import pmap
from tests.builders import NOW, an_intent, an_order

from kraken_bot.execution.core._frozendict import FrozenDict
from kraken_bot.execution.core.models import (
    BENIGN_SKIPS,
    LIVE_STATUSES,
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRACKED_STATUSES,
    ActionSkip,
    ExecutionResult,
    OrderStatus,
    OrderType,
    SkipReason,
)


def test_every_status_is_live_terminal_or_unknown_and_only_one_of_them():
    """``unknown`` (Kraken does not know the txid) is neither working nor finished."""
    assert set(OrderStatus) == LIVE_STATUSES | TERMINAL_STATUSES | {OrderStatus.UNKNOWN}
    assert not LIVE_STATUSES & TERMINAL_STATUSES
    assert OrderStatus.UNKNOWN not in LIVE_STATUSES | TERMINAL_STATUSES
    assert LIVE_STATUSES | {OrderStatus.UNKNOWN} == TRACKED_STATUSES


def test_open_orders_are_live():
    assert OPEN_STATUSES <= LIVE_STATUSES


@pytest.mark.parametrize("status", sorted(LIVE_STATUSES))
def test_a_live_order_has_its_unfilled_volume_remaining(status):
    order = an_order(status=status, requested_base_size="0.1", cumulative_base_filled="0.04")
    assert order.remaining_base_size == Decimal("0.06")
    assert not order.is_terminal


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_a_terminal_order_has_nothing_remaining(status):
    order = an_order(status=status, requested_base_size="0.1", cumulative_base_filled="0.04")
    assert order.remaining_base_size == 0
    assert order.is_terminal


def test_the_raw_response_is_decoded_fresh_each_time():
    order = an_order(raw_response_json='{"txid": ["OX"]}')
    first = order.raw_response
    assert first == {"txid": ["OX"]}
    assert first is not order.raw_response


def test_a_raw_response_that_is_not_an_object_is_wrapped():
    assert an_order(raw_response_json="[1, 2]").raw_response == {"value": [1, 2]}
    assert an_order().raw_response is None


def test_a_new_order_starts_with_no_fill_no_fee_and_an_empty_request():
    order = an_order()
    assert (order.cumulative_base_filled, order.fee, order.cost) == (Decimal(0),) * 3
    assert order.raw_request == {}


@pytest.mark.parametrize("reason", sorted(SkipReason))
def test_a_skip_is_an_error_exactly_when_its_reason_is_not_benign(reason):
    skip = ActionSkip(action_index=0, pair="XBTUSD", strategy_id=None, reason=reason, message="m")
    assert skip.is_error is (reason not in BENIGN_SKIPS)


@pytest.mark.parametrize("value", [an_order(), an_intent()])
def test_records_are_immutable(value):
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.pair = "ETHUSD"


# ---------------------------------------------------------------- invariants at construction


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"cumulative_base_filled": "0.2"}, "cumulative_base_filled"),
        ({"cumulative_base_filled": "-0.01"}, "cumulative_base_filled"),
        ({"requested_base_size": "-1"}, "cumulative_base_filled"),
        ({"status": "open"}, "OrderStatus"),
        ({"side": "buy"}, "Side"),
        ({"order_type": OrderType.LIMIT.value}, "OrderType"),
        ({"time_in_force": "GTC"}, "TimeInForce"),
        ({"created_at": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"updated_at": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"first_sent_at": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"attempts": -1}, "attempts"),
    ],
)
def test_an_order_that_breaks_an_invariant_cannot_be_built(overrides, reason):
    with pytest.raises(ValueError, match=reason):
        an_order(**overrides)


def test_a_change_that_breaks_an_invariant_is_refused_too():
    order = an_order(status=OrderStatus.PARTIALLY_FILLED, cumulative_base_filled="0.05")
    with pytest.raises(ValueError, match="Decimal"):
        dataclasses.replace(order, requested_base_size=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cumulative_base_filled"):
        dataclasses.replace(order, cumulative_base_filled=Decimal("0.11"))
    filled = dataclasses.replace(order, cumulative_base_filled=Decimal("0.1"))
    assert filled.cumulative_base_filled == filled.requested_base_size


# ---------------------------------------------------------------- raw_request: a read-only dict


def test_the_raw_request_serialises_with_json_dumps_and_is_a_dict():
    order = an_order(raw_request={"pair": "XXBTZUSD", "volume": "0.1"})
    assert json.loads(json.dumps(order.raw_request)) == {"pair": "XXBTZUSD", "volume": "0.1"}
    assert isinstance(order.raw_request, dict)
    assert order.raw_request == {"pair": "XXBTZUSD", "volume": "0.1"}


@pytest.mark.parametrize("given", [pmap({"pair": "XXBTZUSD"}), {"pair": "XXBTZUSD"}])
def test_any_mapping_given_is_stored_as_a_read_only_dict(given):
    order = an_order(raw_request=given)
    assert type(order.raw_request) is FrozenDict
    with pytest.raises(TypeError, match="read-only"):
        order.raw_request["pair"] = "XETHZUSD"
    with pytest.raises(TypeError, match="read-only"):
        order.raw_request.update(volume="9")
    if isinstance(given, dict):
        given["pair"] = "changed later"  # the caller's dict was copied
    assert order.raw_request == {"pair": "XXBTZUSD"}


def test_an_order_with_a_raw_request_stays_hashable_and_picklable():
    order = an_order(raw_request={"pair": "XXBTZUSD"})
    assert hash(order) == hash(an_order(raw_request=pmap({"pair": "XXBTZUSD"})))
    assert pickle.loads(pickle.dumps(order)) == order
    assert copy.deepcopy(order) == order
    assert type(copy.deepcopy(order).raw_request) is FrozenDict


def test_a_frozen_dict_refuses_every_mutator():
    frozen = FrozenDict({"a": "1"})
    mutators = [
        lambda: frozen.__setitem__("a", "2"),
        lambda: frozen.__delitem__("a"),
        frozen.clear,
        lambda: frozen.pop("a"),
        frozen.popitem,
        lambda: frozen.setdefault("b", "2"),
        lambda: frozen.update({"b": "2"}),
        lambda: frozen.__ior__({"b": "2"}),
    ]
    for mutate in mutators:
        with pytest.raises(TypeError):
            mutate()
    assert frozen == {"a": "1"}
    assert FrozenDict.fromkeys(["x"], "1") == {"x": "1"}
    assert repr(frozen) == "FrozenDict({'a': '1'})"


# ---------------------------------------------------------------- results: immutable sequences


def test_a_results_orders_and_errors_are_tuples_whatever_sequence_was_given():
    result = ExecutionResult(
        plan_id="p",
        started_at=NOW,
        completed_at=None,
        success=True,
        orders=[an_order()],  # type: ignore[arg-type] # a list is accepted and kept as a tuple
        errors=["one"],  # type: ignore[arg-type] # idem
    )
    assert result.orders == (an_order(),)
    assert result.errors == ("one",)
    assert isinstance(result.orders, Sequence)
    assert list(result.orders) == [an_order()]
