"""The service's housekeeping decisions: the clock verdict, scheduled look-back, inspection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.builders import an_order, an_order_in

from kraken_bot.execution.housekeeping import (
    ClockProblem,
    judge_clock,
    judge_unmeasured_clock,
    resting,
    scheduled_look_back,
    unknown_to_kraken,
)
from kraken_bot.execution.models import OrderStatus


@pytest.mark.parametrize("seconds", [0, 5, -5])
def test_an_offset_within_the_bound_is_no_problem(seconds):
    offset = timedelta(seconds=seconds)
    assert judge_clock(offset, max_offset_seconds=5.0, strict=True) is None


def test_a_large_offset_refuses_a_live_start_and_names_the_host_clock():
    problem = judge_clock(timedelta(seconds=-12.5), max_offset_seconds=5.0, strict=True)
    assert problem is not None
    assert problem.refuse
    assert problem.message.startswith("refusing to trade live: this host's clock is +12.5 s")
    assert "max_clock_offset_seconds = 5.0" in problem.message


def test_a_large_offset_is_only_reported_when_not_starting_live():
    problem = judge_clock(timedelta(seconds=12), max_offset_seconds=5.0, strict=False)
    assert problem is not None
    assert not problem.refuse
    assert problem.message.startswith("this host's clock is -12.0 s from Kraken's")


def test_an_unmeasurable_clock_refuses_a_live_start():
    problem = judge_unmeasured_clock("timed out", strict=True)
    assert problem.refuse
    assert "cannot be measured (timed out)" in problem.message


def test_an_unmeasurable_clock_is_only_reported_otherwise():
    assert judge_unmeasured_clock("timed out", strict=False) == ClockProblem(
        message="could not measure the offset to Kraken's clock: timed out", refuse=False
    )


@pytest.mark.parametrize(
    ("every", "seconds"), [(None, 900.0), (30.0, 900.0), (60.0, 900.0), (300.0, 3000.0)]
)
def test_a_scheduled_pass_reads_ten_periods_back_and_at_least_fifteen_minutes(every, seconds):
    assert scheduled_look_back(every) == timedelta(seconds=seconds)


def test_open_orders_are_those_resting_on_the_book():
    orders = [an_order_in(status, local_id=status.value) for status in OrderStatus]
    assert [o.local_id for o in resting(orders)] == ["open", "partially_filled"]


def test_unknown_orders_are_those_kraken_does_not_know():
    unknown = an_order_in(OrderStatus.UNKNOWN)
    assert unknown_to_kraken([an_order(), unknown]) == [unknown]
