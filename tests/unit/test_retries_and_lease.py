"""When a read or cancel is retried, and what a lease file says of its holder (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.builders import NOW

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.lease import lease_holder, lease_record
from kraken_bot.execution.core.retries import read_waits, wait_before_retry
from kraken_bot.kraken.errors import AuthError, error_from_kraken

BUSY = error_from_kraken(["EService:Busy"])
WAITS = (1.0, 2.0, 4.0)


def test_reads_wait_on_the_configured_backoff_as_many_times_as_configured():
    config = ExecutionConfig(max_retries=4, retry_backoff_seconds=0.5, retry_backoff_factor=3.0)
    assert read_waits(config) == (0.5, 1.5, 4.5, 13.5)
    assert read_waits(ExecutionConfig(max_retries=0)) == ()


@pytest.mark.parametrize(("retry", "wait"), [(0, 1.0), (1, 2.0), (2, 4.0), (3, None)])
def test_a_transient_error_is_retried_after_the_next_wait_until_they_are_spent(retry, wait):
    assert wait_before_retry(BUSY, retry=retry, waits=WAITS) == wait


def test_a_permanent_error_is_never_retried():
    funds = error_from_kraken(["EOrder:Insufficient funds"])
    assert not funds.transient
    assert wait_before_retry(funds, retry=0, waits=WAITS) is None


def test_an_error_the_caller_never_retries_is_given_up_at_once():
    nonce = error_from_kraken(["EAPI:Invalid nonce"])
    assert nonce.transient
    assert wait_before_retry(nonce, retry=0, waits=WAITS) == 1.0
    assert wait_before_retry(nonce, retry=0, waits=WAITS, never_retry=(type(nonce),)) is None
    assert wait_before_retry(nonce, retry=0, waits=WAITS, never_retry=(AuthError,)) == 1.0


@given(pid=st.integers(min_value=1, max_value=2**22), seconds=st.integers(0, 10**8))
def test_a_lease_record_names_its_holder(pid, seconds):
    since = NOW + timedelta(seconds=seconds)
    assert (
        lease_holder(lease_record(pid=pid, since=since)) == f"pid {pid} since {since.isoformat()}"
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"",  # written by nothing yet
        b'{"pid": 42',  # cut short
        b"\xff\xfe",  # not text
        b"[42]",  # not a record
        b'{"pid": "me", "since": "now"}',  # not a pid
        b'{"since": "2026-01-01"}',  # no pid
    ],
)
def test_a_lease_file_that_does_not_say_who_holds_it_names_an_anonymous_holder(raw):
    assert lease_holder(raw) == "a process that did not say who it is"
