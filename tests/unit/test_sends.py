"""What an AddOrder's outcome means for its order: the events the sender applies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.builders import NOW, a_config, an_order

from kraken_bot.execution.core import policy
from kraken_bot.execution.core.models import (
    Acknowledged,
    GaveUp,
    OrderStatus,
    Rejected,
    SendFailed,
    SendUnconfirmed,
    Validated,
    Withdrawn,
)
from kraken_bot.execution.core.sends import (
    NO_TXID_MESSAGE,
    StayUnresolved,
    acknowledgement,
    after_absent_lookup,
    after_send_error,
)
from kraken_bot.kraken.errors import error_from_kraken
from kraken_bot.kraken.types import AddOrderAck

DEADLINE = NOW + timedelta(seconds=15)


def ack(*txids):
    return AddOrderAck(txids=txids, description="buy 0.1 XBTUSD", raw='{"txid":[]}')


def kraken(text):
    return error_from_kraken([text], endpoint="AddOrder")


def failed(text, *, attempt=1, validating=False, **config):
    return after_send_error(
        kraken(text),
        attempt=attempt,
        config=a_config(**config),
        now=NOW,
        deadline=DEADLINE,
        validating=validating,
    )


# ---------------------------------------------------------------- answers


def test_paper_answers_validate_the_order():
    assert acknowledgement(ack(), validating=True, now=NOW) == Validated(
        at=NOW, response_json=ack().raw
    )


def test_a_live_answer_acknowledges_the_first_txid():
    event = acknowledgement(ack("OA", "OB"), validating=False, now=NOW)
    assert event == Acknowledged(at=NOW, txid="OA", response_json=ack().raw)


def test_a_live_answer_without_a_txid_leaves_the_order_unconfirmed():
    assert acknowledgement(ack(), validating=False, now=NOW) == SendUnconfirmed(
        at=NOW, message=NO_TXID_MESSAGE
    )


# ---------------------------------------------------------------- errors


def test_a_permanent_error_rejects_with_krakens_words():
    outcome = failed("EOrder:Insufficient funds")
    assert outcome.event == Rejected(at=NOW, message="EOrder:Insufficient funds")
    assert outcome.next_step is None


def test_a_retryable_error_without_retries_left_gives_up_naming_the_deadline():
    outcome = failed("EAPI:Rate limit exceeded", attempt=4, max_retries=3)
    assert isinstance(outcome.event, GaveUp)
    assert outcome.event.deadline == DEADLINE
    assert outcome.next_step is None


def test_a_retryable_error_is_recorded_and_retried():
    outcome = failed("EAPI:Rate limit exceeded")
    assert isinstance(outcome.event, SendFailed)
    assert isinstance(outcome.next_step, policy.RetryAfter)


def test_an_ambiguous_live_error_is_unconfirmed_and_looked_up():
    outcome = failed("EService:Busy")
    assert isinstance(outcome.event, SendUnconfirmed)
    assert not outcome.event.proven
    assert isinstance(outcome.next_step, policy.LookUpFirst)


def test_a_duplicate_answer_proves_the_order_exists():
    outcome = failed("EOrder:Duplicate order")
    assert isinstance(outcome.event, SendUnconfirmed)
    assert isinstance(outcome.next_step, policy.LookUpFirst)
    assert outcome.event.proven == outcome.next_step.proven


def test_paper_retries_an_ambiguous_error_instead_of_looking_up():
    outcome = failed("EService:Busy", validating=True)
    assert isinstance(outcome.event, SendFailed)
    assert isinstance(outcome.next_step, policy.RetryAfter)


def test_paper_gives_up_an_ambiguous_error_without_retries_left():
    outcome = failed("EService:Busy", attempt=4, validating=True, max_retries=3)
    assert isinstance(outcome.event, GaveUp)
    assert outcome.next_step is None


# ---------------------------------------------------------------- absent after a lookup


def in_doubt_order(**overrides):
    fields = {"status": OrderStatus.SUBMITTED, "attempts": 1, "send_deadline": DEADLINE}
    fields.update(overrides)
    return an_order(**fields)


def look_up(**overrides):
    fields: dict[str, Any] = {"not_before": DEADLINE, "reason": "busy"}
    fields.update(overrides)
    return policy.LookUpFirst(**fields)


def absent(order=None, decision=None, *, lookup_ok=True, **config):
    return after_absent_lookup(
        order or in_doubt_order(),
        decision or look_up(),
        lookup_ok=lookup_ok,
        config=a_config(**config),
        now=NOW,
    )


def test_a_failed_lookup_proves_nothing():
    assert absent(lookup_ok=False) == StayUnresolved(reason="lookup failed")


def test_an_order_kraken_proved_it_holds_is_never_resent_nor_given_up():
    assert isinstance(absent(decision=look_up(proven=True)), StayUnresolved)
    assert isinstance(absent(order=in_doubt_order(exists_on_exchange=True)), StayUnresolved)


def test_an_absent_order_whose_cancel_was_requested_is_withdrawn():
    outcome = absent(order=in_doubt_order(cancel_requested_at=NOW))
    assert isinstance(outcome, Withdrawn)
    assert outcome.deadline == DEADLINE


def test_an_absent_order_whose_resend_was_refused_is_rejected():
    outcome = absent(decision=look_up(reject_if_absent="EOrder:Insufficient funds"))
    assert outcome == Rejected(at=NOW, message="EOrder:Insufficient funds")


def test_an_absent_order_is_resent_while_retries_remain():
    assert isinstance(absent(), policy.RetryAfter)


@pytest.mark.parametrize("attempts", [4, 5])
def test_an_absent_order_without_retries_left_is_given_up(attempts):
    outcome = absent(order=in_doubt_order(attempts=attempts), max_retries=3)
    assert isinstance(outcome, GaveUp)
    assert outcome.message.startswith(f"not on the exchange after {attempts} sends")
    assert outcome.deadline == DEADLINE
