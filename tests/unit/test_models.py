"""The execution values: status groups, derived properties, immutability."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from pyrsistent import pmap
from tests.builders import an_intent, an_order

from kraken_bot.execution.models import (
    BENIGN_SKIPS,
    LIVE_STATUSES,
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRACKED_STATUSES,
    ActionSkip,
    OrderStatus,
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
    assert order.raw_request == pmap({})


@pytest.mark.parametrize("reason", sorted(SkipReason))
def test_a_skip_is_an_error_exactly_when_its_reason_is_not_benign(reason):
    skip = ActionSkip(action_index=0, pair="XBTUSD", strategy_id=None, reason=reason, message="m")
    assert skip.is_error is (reason not in BENIGN_SKIPS)


@pytest.mark.parametrize("value", [an_order(), an_intent()])
def test_records_are_immutable(value):
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.pair = "ETHUSD"
