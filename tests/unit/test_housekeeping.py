"""The service's housekeeping decisions: the clock verdict, scheduled look-back, inspection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.builders import TXID, an_order, an_order_in

from kraken_bot._enums import ExecutionMode, StreamMode
from kraken_bot.execution.core.housekeeping import (
    ClockProblem,
    completes_reconciliation,
    judge_clock,
    judge_unmeasured_clock,
    newly_linked_txid,
    offset_worth_telling,
    resting,
    scheduled_look_back,
    stream_choice,
    unknown_to_kraken,
)
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.core.streaming import stream_wanted


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
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    just_now = now - timedelta(seconds=5)
    assert scheduled_look_back(every, now=now, last_complete=just_now) == timedelta(seconds=seconds)


@pytest.mark.parametrize("every", [None, 60.0, 300.0])
def test_a_scheduled_pass_reads_back_to_the_last_complete_one_or_the_whole_day(every):
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    period = timedelta(seconds=every or 60.0)
    assert scheduled_look_back(every, now=now, last_complete=None) is None
    long_ago = now - timedelta(hours=3)
    look_back = scheduled_look_back(every, now=now, last_complete=long_ago)
    assert look_back == now - long_ago + period
    assert completes_reconciliation(True, started=now, look_back=look_back, last_complete=long_ago)
    assert not completes_reconciliation(
        True, started=now, look_back=timedelta(minutes=15), last_complete=long_ago
    )


def test_open_orders_are_those_resting_on_the_book():
    orders = [an_order_in(status, local_id=status.value) for status in OrderStatus]
    assert [o.local_id for o in resting(orders)] == ["open", "partially_filled"]


def test_unknown_orders_are_those_kraken_does_not_know():
    unknown = an_order_in(OrderStatus.UNKNOWN)
    assert unknown_to_kraken([an_order(), unknown]) == [unknown]


LIVE = ExecutionMode.LIVE


def test_a_live_service_streams_when_its_client_can_fetch_a_token():
    choice = stream_choice(
        StreamMode.AUTO, mode=LIVE, url="wss://x", observer=False, can_fetch_token=True
    )
    assert choice == (True, None)


def test_a_client_without_websocket_tokens_polls_with_a_warning():
    wanted, warning = stream_choice(
        StreamMode.WEBSOCKET, mode=LIVE, url="wss://x", observer=False, can_fetch_token=False
    )
    assert not wanted
    assert warning == "this client cannot fetch a WebSocket token: polling"


def test_a_service_that_does_not_want_the_stream_gives_the_streams_own_warning():
    choice = stream_choice(
        StreamMode.WEBSOCKET, mode=LIVE, url=None, observer=False, can_fetch_token=False
    )
    assert choice == stream_wanted(StreamMode.WEBSOCKET, mode=LIVE, url=None, observer=False)
    assert choice[1] is not None
    quiet = stream_choice(
        StreamMode.POLL, mode=LIVE, url="wss://x", observer=False, can_fetch_token=False
    )
    assert quiet == (False, None)


def test_an_order_change_links_a_txid_it_did_not_carry_before():
    acked = an_order_in(OrderStatus.OPEN)
    assert newly_linked_txid(None, acked) == TXID
    assert newly_linked_txid(an_order(), acked) == TXID
    assert newly_linked_txid(acked, an_order_in(OrderStatus.FILLED)) is None
    assert newly_linked_txid(None, an_order()) is None


@pytest.mark.parametrize(
    ("previous", "offset", "news"),
    [
        (0.0, 0.3, False),  # a small offset, as before
        (0.0, 0.999, False),
        (0.0, 1.0, True),  # moved a second
        (1.5, 0.4, True),  # moved back a second or more
        (-1.9, -1.8, False),
        (3.0, 3.001, True),  # the host is two seconds or more off: always told
        (-2.5, -2.0, True),
    ],
)
def test_a_clock_measurement_is_told_when_it_moved_a_second_or_the_host_is_two_off(
    previous, offset, news
):
    seconds = timedelta(seconds=1)
    assert offset_worth_telling(previous * seconds, offset * seconds) is news
