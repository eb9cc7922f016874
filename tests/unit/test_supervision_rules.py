"""The supervisor's rules the shell used to apply inline: the reconciliation period while
streaming, when the next pass is due, what a pass tells the operator, rate-limit pressure,
and acting once on each unfilled order (pure)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.builders import NOW

from kraken_bot.execution.core.events import HealthKind
from kraken_bot.execution.core.reports import ReconcileReport
from kraken_bot.execution.core.supervision import (
    PRESSURE_EVERY,
    CancelUnfilled,
    RepriceUnfilled,
    next_reconcile,
    not_yet_handled,
    pressure_warning,
    reconcile_failure,
    reconcile_health,
    reconcile_period,
)

MINUTE = timedelta(seconds=60)
TEN_MINUTES = timedelta(minutes=10)
seconds = st.integers(min_value=1, max_value=100_000).map(lambda s: timedelta(seconds=s))


@pytest.mark.parametrize(
    ("every", "backstop", "streaming", "period"),
    [
        (MINUTE, TEN_MINUTES, True, TEN_MINUTES),  # the stream is the fast path
        (MINUTE, TEN_MINUTES, False, MINUTE),  # polling: as configured
        (TEN_MINUTES, MINUTE, True, TEN_MINUTES),  # a backstop never shortens the period
        (MINUTE, None, True, MINUTE),  # no backstop configured
        (None, TEN_MINUTES, True, None),  # not scheduled stays not scheduled
    ],
)
def test_while_streaming_reconciliation_runs_on_the_longer_of_its_period_and_the_backstop(
    every, backstop, streaming, period
):
    assert reconcile_period(every, backstop, streaming=streaming) == period


@given(every=seconds, backstop=seconds, streaming=st.booleans())
def test_the_reconciliation_period_is_never_shorter_than_configured(every, backstop, streaming):
    period = reconcile_period(every, backstop, streaming=streaming)
    assert period is not None
    assert period >= every


def test_the_next_pass_is_a_period_after_the_last_now_without_one_and_never_unscheduled():
    assert next_reconcile(MINUTE, last=NOW, now=NOW + TEN_MINUTES) == NOW + MINUTE
    assert next_reconcile(MINUTE, last=None, now=NOW) == NOW
    assert next_reconcile(None, last=NOW, now=NOW) is None


def test_a_pass_that_could_not_run_is_a_reconcile_failure_naming_why():
    event = reconcile_failure("Kraken timed out", at=NOW)
    assert event.kind is HealthKind.RECONCILE_FAILED
    assert event.message == "scheduled reconciliation failed: Kraken timed out"
    assert event.at == NOW


def test_a_clean_pass_tells_nothing():
    assert reconcile_health(ReconcileReport(checked=3), at=NOW) == ()


def test_failed_calls_are_one_event_and_unknown_orders_another_naming_them():
    report = ReconcileReport(errors=["OpenOrders: timeout", "QueryOrders: 503"])
    report.unknown_orders.extend(["L1", "L2"])
    failed, unknown = reconcile_health(report, at=NOW)
    assert failed == reconcile_failure("OpenOrders: timeout; QueryOrders: 503", at=NOW)
    assert unknown.kind is HealthKind.UNKNOWN_ORDERS
    assert unknown.message == (
        "Kraken does not know 2 order(s): L1, L2; check the account, then cancel them"
    )
    assert dict(unknown.details) == {"local_ids": "L1,L2"}
    assert unknown.at == NOW


@pytest.mark.parametrize(
    ("level", "maximum", "warned"),
    [
        (11.9, 15.0, False),  # below 80 %
        (12.0, 15.0, True),
        (99.0, 0.0, False),  # no limit modelled
    ],
)
def test_pressure_is_reported_from_eighty_percent_of_a_modelled_counter(level, maximum, warned):
    event = pressure_warning(level, maximum, last_warned=None, now=NOW)
    assert (event is not None) is warned


def test_a_pressure_warning_says_the_level_and_the_maximum_dated_when_told():
    later = NOW + timedelta(seconds=3)
    event = pressure_warning(12.345, 15.0, last_warned=None, now=NOW, at=later)
    assert event is not None
    assert event.kind is HealthKind.RATE_LIMIT_PRESSURE
    assert event.message == "Kraken's REST counter is at 12.3 of 15: calls are waiting"
    assert dict(event.details) == {"level": "12.35", "maximum": "15"}
    assert event.at == later


@pytest.mark.parametrize(("since", "warned"), [(59, False), (60, True)])
def test_pressure_is_reported_at_most_once_a_minute(since, warned):
    now = NOW + timedelta(seconds=since)
    assert (pressure_warning(14.0, 15.0, last_warned=NOW, now=now) is not None) is warned
    assert timedelta(seconds=60) == PRESSURE_EVERY


def test_an_unfilled_order_already_acted_on_is_not_acted_on_again():
    cancel = CancelUnfilled(local_id="L1", reason="old")
    reprice = RepriceUnfilled(local_id="L2", remaining=Decimal(1), reason="old")
    assert not_yet_handled([cancel, reprice], {"L1"}) == (reprice,)
    assert not_yet_handled([cancel, reprice], set()) == (cancel, reprice)
