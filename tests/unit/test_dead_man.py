"""The dead-man switch's schedule and what each refresh answer means (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.builders import NOW

from kraken_bot.execution.core.dead_man import (
    SwitchState,
    arm_waits,
    armed,
    refresh_due,
    refresh_failed,
    retry_delay,
    seconds_until_refresh,
)
from kraken_bot.execution.core.events import HealthKind

REFRESH = timedelta(seconds=20)
RETRY = timedelta(seconds=5)
SECOND = timedelta(seconds=1)


def arm(state=SwitchState(), *, at=NOW, trigger=None):  # noqa: B008 - a frozen value
    return armed(state, now=at, trigger_time=trigger, timeout_seconds=60, refresh=REFRESH)


def test_the_first_arming_is_announced_with_kraken_s_deadline():
    state, notice = arm(trigger=NOW + timedelta(seconds=59))
    assert state == SwitchState(
        armed_until=NOW + timedelta(seconds=59),
        last_refresh=NOW,
        next_due=NOW + REFRESH,
        refreshes=1,
    )
    assert notice is not None
    assert notice.kind is HealthKind.DEAD_MAN_ARMED
    assert notice.message == (
        "dead-man switch armed: Kraken cancels every open order if not refreshed by"
        " 2026-01-15T12:00:59+00:00"
    )
    assert dict(notice.details) == {"armed_until": "2026-01-15T12:00:59+00:00", "failures": "0"}


def test_without_a_trigger_time_the_switch_fires_a_timeout_from_now():
    state, _ = arm()
    assert state.armed_until == NOW + timedelta(seconds=60)


def test_a_routine_refresh_is_not_announced():
    state, _ = arm()
    later = NOW + REFRESH
    state, notice = arm(state, at=later)
    assert notice is None
    assert (state.refreshes, state.next_due) == (2, later + REFRESH)


def test_a_failed_refresh_is_retried_soon_and_reported_while_the_switch_still_holds():
    state, _ = arm()
    failed_at = NOW + REFRESH
    state, notice = refresh_failed(state, now=failed_at, retry=RETRY, error="EService:Busy")
    assert (state.failures, state.failing, state.next_due) == (1, True, failed_at + RETRY)
    assert notice.kind is HealthKind.DEAD_MAN_REFRESH_FAILED
    assert notice.message == (
        "dead-man switch refresh failed (EService:Busy); still armed until"
        " 2026-01-15T12:01:00+00:00"
    )
    assert notice.details["failures"] == "1"


def test_the_first_success_after_failures_is_announced_again():
    state, _ = arm()
    state, _ = refresh_failed(state, now=NOW + REFRESH, retry=RETRY, error="busy")
    state, notice = arm(state, at=NOW + REFRESH + RETRY)
    assert notice is not None
    assert notice.kind is HealthKind.DEAD_MAN_ARMED
    assert (state.failing, state.failures, state.refreshes) == (False, 1, 2)


def test_a_refresh_failing_past_the_deadline_reports_that_kraken_canceled_everything():
    state, _ = arm()
    expired_at = NOW + timedelta(seconds=60)
    _, notice = refresh_failed(state, now=expired_at, retry=RETRY, error="timeout")
    assert notice.kind is HealthKind.DEAD_MAN_EXPIRED
    assert notice.message == (
        "dead-man switch EXPIRED at 2026-01-15T12:01:00+00:00 after failed refreshes"
        " (timeout): Kraken has canceled every open order of the account"
    )


def test_a_failure_before_any_arming_says_the_deadline_is_unknown():
    _, notice = refresh_failed(SwitchState(), now=NOW, retry=RETRY, error="busy")
    assert notice.kind is HealthKind.DEAD_MAN_REFRESH_FAILED
    assert notice.message.endswith("still armed until unknown")
    assert notice.details["armed_until"] == ""


@pytest.mark.parametrize(
    ("next_due", "now", "due", "wait"),
    [
        (None, NOW, False, None),  # never armed: nothing to refresh
        (NOW + SECOND, NOW, False, 1.0),
        (NOW, NOW, True, 0.0),
        (NOW, NOW + SECOND, True, 0.0),  # late: due now, never a negative wait
    ],
)
def test_a_refresh_is_due_from_its_time_on(next_due, now, due, wait):
    state = SwitchState(next_due=next_due)
    assert refresh_due(state, now=now) is due
    assert seconds_until_refresh(state, now=now) == wait


@given(st.integers(min_value=1, max_value=10**6))
def test_a_failed_refresh_is_retried_within_a_quarter_period_and_five_seconds(ms):
    refresh = timedelta(milliseconds=ms)
    delay = retry_delay(refresh)
    assert delay == min(timedelta(seconds=5), refresh / 4)
    assert timedelta(0) < delay < refresh


def test_arming_at_start_backs_off_doubling_and_not_at_all_without_retries():
    assert arm_waits(4, 0.5) == [0.5, 1.0, 2.0, 4.0]
    assert arm_waits(0, 1.0) == []
