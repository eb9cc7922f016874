"""The retry policy: what follows a failed send or a lookup, for every error class."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.builders import NOW, a_config

from kraken_bot.execution.core.policy import (
    GiveUpOrder,
    LookUpFirst,
    RejectOrder,
    RetryAfter,
    backoff_seconds,
    decide_after_absence,
    decide_after_send_error,
    is_retryable,
    kraken_message,
)
from kraken_bot.kraken.errors import (
    ErrorClass,
    KrakenAPIError,
    NetworkError,
    RateLimitError,
    error_from_http_status,
    error_from_kraken,
)

DEADLINE = NOW + timedelta(seconds=15)


def decide(error, *, sends=1, config=None, deadline=DEADLINE):
    return decide_after_send_error(
        error,
        sends_so_far=sends,
        config=config or a_config(),
        now=NOW,
        deadline=deadline,
    )


def kraken(text):
    return error_from_kraken([text], endpoint="AddOrder")


# ---------------------------------------------------------------- backoff


def test_retry_k_waits_base_times_factor_to_the_k_minus_one():
    assert [backoff_seconds(k, a_config()) for k in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    config = a_config(retry_backoff_seconds=0.5, retry_backoff_factor=3.0)
    assert [backoff_seconds(k, config) for k in (1, 2, 3)] == [0.5, 1.5, 4.5]


def test_a_retry_number_below_one_waits_like_the_first_retry():
    assert backoff_seconds(0, a_config()) == 2.0


# ---------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (kraken("EAPI:Rate limit exceeded"), True),
        (kraken("EAPI:Invalid nonce"), True),
        (kraken("EService:Busy"), True),
        (NetworkError("timeout", may_have_reached=True), True),
        (kraken("EOrder:Insufficient funds"), False),
        (kraken("EAPI:Invalid key"), False),
        (kraken("EGeneral:Invalid arguments:volume"), False),
    ],
)
def test_every_error_class_but_permanent_is_retryable(error, retryable):
    assert is_retryable(error) is retryable


def test_krakens_own_strings_are_the_message():
    assert kraken_message(kraken("EOrder:Insufficient funds")) == "EOrder:Insufficient funds"
    assert kraken_message(error_from_http_status(502)) == "HTTP 502 from Kraken"


# ---------------------------------------------------------------- permanent


@pytest.mark.parametrize(
    "text",
    ["EOrder:Insufficient funds", "EGeneral:Invalid arguments:volume", "EAPI:Invalid key"],
)
def test_a_permanent_error_rejects_the_order_with_krakens_message_and_never_retries(text):
    assert decide(kraken(text), sends=1) == RejectOrder(message=text)


@pytest.mark.parametrize(
    "text",
    ["EOrder:Insufficient funds", "EGeneral:Invalid arguments:volume", "EAPI:Invalid key"],
)
def test_a_permanent_refusal_of_a_resend_looks_for_the_first_send_before_rejecting(text):
    """The first send may exist and cause the refusal (it holds the funds, or the id):
    look it up first; reject with Kraken's message only if it is absent, never resend."""
    for sends in (2, 4):
        decision = decide(kraken(text), sends=sends)
        assert isinstance(decision, LookUpFirst)
        assert decision.not_before == NOW
        assert decision.reject_if_absent == text
        assert decision.proven is False


def test_a_duplicate_id_answer_to_a_resend_proves_the_first_send_exists():
    decision = decide(kraken("EOrder:Duplicate order"), sends=2)
    assert isinstance(decision, LookUpFirst)
    assert decision.not_before == NOW
    assert "earlier send exists" in decision.reason


def test_any_error_text_mentioning_duplicate_counts_on_a_resend():
    error = KrakenAPIError("EOrder:Duplicate cl_ord_id", errors=["EOrder:Duplicate cl_ord_id"])
    assert isinstance(decide(error, sends=2), LookUpFirst)


def test_a_duplicate_answer_even_to_a_first_send_means_look_it_up_never_reject():
    # A first send can meet a duplicate after a crash between the send and its write.
    decision = decide(kraken("EOrder:Duplicate order"), sends=1)
    assert isinstance(decision, LookUpFirst)


# ---------------------------------------------------------------- retry


def test_a_transient_error_retries_with_backoff_while_retries_remain():
    error = kraken("EAPI:Rate limit exceeded")
    delays = [decide(error, sends=s) for s in (1, 2, 3)]
    assert delays == [
        RetryAfter(delay_seconds=2.0, reason="EAPI:Rate limit exceeded: retry 1 of 3"),
        RetryAfter(delay_seconds=4.0, reason="EAPI:Rate limit exceeded: retry 2 of 3"),
        RetryAfter(delay_seconds=8.0, reason="EAPI:Rate limit exceeded: retry 3 of 3"),
    ]


def test_a_transient_error_gives_up_once_max_retries_are_used():
    decision = decide(kraken("EAPI:Rate limit exceeded"), sends=4)
    assert decision == GiveUpOrder(message="EAPI:Rate limit exceeded: gave up after 4 sends")


def test_no_retries_configured_gives_up_at_the_first_transient_error():
    decision = decide(kraken("EAPI:Rate limit exceeded"), config=a_config(max_retries=0))
    assert isinstance(decision, GiveUpOrder)


def test_a_throttle_naming_a_time_waits_at_least_until_then():
    error = RateLimitError(
        "throttled", retry_at=NOW.timestamp() + 30, errors=["EService:Throttled"]
    )
    decision = decide(error)
    assert decision == RetryAfter(delay_seconds=30.0, reason="EService:Throttled: retry 1 of 3")


def test_a_throttle_time_already_past_keeps_the_backoff():
    error = RateLimitError("throttled", retry_at=NOW.timestamp() - 30)
    assert decide(error) == RetryAfter(delay_seconds=2.0, reason="throttled: retry 1 of 3")


def test_a_refused_connection_never_reached_kraken_and_is_retried_plainly():
    decision = decide(NetworkError("connection refused", may_have_reached=False))
    assert isinstance(decision, RetryAfter)


# ---------------------------------------------------------------- retry once


@pytest.mark.parametrize("text", ["EAPI:Invalid nonce", "EGeneral:Temporary lockout"])
def test_a_retry_once_error_is_retried_exactly_once(text):
    assert kraken(text).error_class is ErrorClass.RETRY_ONCE
    assert isinstance(decide(kraken(text), sends=1), RetryAfter)
    assert isinstance(decide(kraken(text), sends=2), GiveUpOrder)


def test_retry_once_respects_a_configuration_without_retries():
    decision = decide(kraken("EAPI:Invalid nonce"), config=a_config(max_retries=0))
    assert isinstance(decision, GiveUpOrder)


# ---------------------------------------------------------------- ambiguous


@pytest.mark.parametrize(
    "error",
    [
        kraken("EService:Busy"),
        kraken("EGeneral:Internal error"),
        error_from_http_status(502),
        NetworkError("read timeout", may_have_reached=True),
    ],
)
def test_an_ambiguous_error_looks_the_order_up_after_deadline_plus_margin(error):
    decision = decide(error, sends=4)
    assert isinstance(decision, LookUpFirst)
    assert decision.not_before == DEADLINE + timedelta(seconds=5)
    assert "look it up before any resend" in decision.reason


def test_without_a_deadline_the_lookup_waits_the_margin_from_now():
    decision = decide(kraken("EService:Busy"), deadline=None)
    assert isinstance(decision, LookUpFirst)
    assert decision.not_before == NOW + timedelta(seconds=5)


# ---------------------------------------------------------------- after a lookup


def test_an_absent_order_is_resent_while_retries_remain_each_resend_counting():
    decisions = [
        decide_after_absence(sends_so_far=s, config=a_config(), now=NOW) for s in (1, 2, 3)
    ]
    assert [type(d) for d in decisions] == [RetryAfter, RetryAfter, RetryAfter]
    assert decisions[2] == RetryAfter(
        delay_seconds=8.0, reason="not on the exchange after 3 sends: resend 3 of 3"
    )


def test_an_absent_order_with_no_retries_left_is_given_up():
    decision = decide_after_absence(sends_so_far=4, config=a_config(), now=NOW)
    assert decision == GiveUpOrder(message="not on the exchange after 4 sends")


def test_absence_seen_before_the_lookup_time_proves_nothing():
    later = NOW + timedelta(seconds=20)
    decision = decide_after_absence(sends_so_far=1, config=a_config(), now=NOW, not_before=later)
    assert decision == LookUpFirst(not_before=later, reason="too early: absence proves nothing yet")


def test_absence_seen_at_the_lookup_time_counts():
    decision = decide_after_absence(sends_so_far=1, config=a_config(), now=NOW, not_before=NOW)
    assert isinstance(decision, RetryAfter)
