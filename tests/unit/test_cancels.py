"""Canceling's decisions: withdraw or ask Kraken, what to follow up, when sends settle."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.builders import NOW, an_order, an_order_in

from kraken_bot.execution.core.cancels import (
    UNKNOWN_CLOSED_MESSAGE,
    WITHDRAWN_MESSAGE,
    NotRepriced,
    awaits_cancel,
    cancel_confirmation,
    cancelable_at_exchange,
    cancels_due,
    closed_unknown,
    in_doubt,
    in_flight,
    in_flight_settle_at,
    offline_settlement,
    reprice_remaining,
    withdrawal,
    withdrawal_after_refused_send,
)
from kraken_bot.execution.core.models import CancelConfirmed, OrderStatus
from kraken_bot.execution.core.reconciliation import NEVER_SENT_MESSAGE
from kraken_bot.kraken.types import CancelAck

DEADLINE = NOW + timedelta(seconds=15)
MARGIN = timedelta(seconds=5)


def sent(**overrides):
    """An order whose AddOrder went out with no answer yet (submitted, no txid)."""
    fields = {"status": OrderStatus.SUBMITTED, "attempts": 1, "send_deadline": DEADLINE}
    fields.update(overrides)
    return an_order(**fields)


# ---------------------------------------------------------------- in doubt, in flight


def test_a_live_order_without_a_txid_is_in_doubt():
    assert in_doubt(an_order())
    assert in_doubt(sent())


def test_an_order_with_a_txid_or_finished_is_not_in_doubt():
    assert not in_doubt(an_order_in(OrderStatus.OPEN))
    assert not in_doubt(an_order_in(OrderStatus.REJECTED))


def test_only_an_order_sent_at_least_once_is_in_flight():
    assert in_flight(sent())
    assert not in_flight(an_order())
    assert not in_flight(an_order_in(OrderStatus.OPEN, attempts=1))


# ---------------------------------------------------------------- withdrawal


def test_an_order_never_sent_is_withdrawn_in_every_mode():
    for changes_exchange in (True, False):
        event = withdrawal(an_order(), changes_exchange=changes_exchange, now=NOW)
        assert event is not None
        assert event.message == WITHDRAWN_MESSAGE
        assert event.deadline is None
        assert event.at == NOW


def test_an_order_sent_live_without_an_answer_is_not_withdrawn():
    assert withdrawal(sent(), changes_exchange=True, now=NOW) is None


def test_paper_and_dry_run_withdraw_a_sent_order_naming_its_deadline():
    event = withdrawal(sent(), changes_exchange=False, now=NOW)
    assert event is not None
    assert event.deadline == DEADLINE


@pytest.mark.parametrize("changes_exchange", [True, False])
def test_an_order_with_a_txid_is_never_withdrawn(changes_exchange):
    order = an_order_in(OrderStatus.OPEN, attempts=1)
    assert withdrawal(order, changes_exchange=changes_exchange, now=NOW) is None


def test_a_refused_send_withdraws_an_order_whose_cancel_was_requested():
    order = sent(cancel_requested_at=NOW)
    event = withdrawal_after_refused_send(order, absent_after=1, now=NOW)
    assert event is not None
    assert event.message == WITHDRAWN_MESSAGE
    assert event.deadline == DEADLINE


def test_a_refused_send_leaves_an_order_another_sender_tried_since():
    order = sent(cancel_requested_at=NOW, attempts=2)
    assert withdrawal_after_refused_send(order, absent_after=1, now=NOW) is None


def test_a_refused_send_without_a_cancel_request_leaves_the_order():
    assert withdrawal_after_refused_send(sent(), absent_after=1, now=NOW) is None


def test_a_refused_send_leaves_an_order_with_a_txid_or_finished():
    on_book = an_order_in(OrderStatus.OPEN, cancel_requested_at=NOW)
    finished = an_order_in(OrderStatus.CANCELED, kraken_order_id=None, cancel_requested_at=NOW)
    assert withdrawal_after_refused_send(on_book, absent_after=0, now=NOW) is None
    assert withdrawal_after_refused_send(finished, absent_after=0, now=NOW) is None


# ---------------------------------------------------------------- Kraken's answers


def test_a_cancel_answer_counting_the_order_confirms_it():
    ack = CancelAck(count=1, pending=False, raw='{"count":1}')
    assert cancel_confirmation(ack, now=NOW) == CancelConfirmed(at=NOW, response_json=ack.raw)


@pytest.mark.parametrize(("count", "pending"), [(0, False), (1, True), (0, True)])
def test_a_pending_or_empty_cancel_answer_confirms_nothing(count, pending):
    assert cancel_confirmation(CancelAck(count=count, pending=pending, raw="{}"), now=NOW) is None


def test_an_order_kraken_does_not_know_is_closed_with_a_message_saying_so():
    event = closed_unknown(NOW)
    assert event.message == UNKNOWN_CLOSED_MESSAGE
    assert not event.never_sent


# ---------------------------------------------------------------- sends in flight


def test_sends_in_flight_settle_at_the_latest_deadline_plus_the_margin():
    later = DEADLINE + timedelta(seconds=30)
    orders = [sent(local_id="A"), sent(local_id="B", send_deadline=later), an_order(local_id="C")]
    assert in_flight_settle_at(orders, MARGIN) == later + MARGIN


def test_nothing_in_flight_settles_at_no_time():
    assert in_flight_settle_at([an_order(), an_order_in(OrderStatus.OPEN)], MARGIN) is None
    assert in_flight_settle_at([sent(send_deadline=None)], MARGIN) is None


# ---------------------------------------------------------------- follow-up cancels


def test_a_cancel_awaits_sending_once_the_txid_is_known():
    assert awaits_cancel(an_order_in(OrderStatus.SUBMITTED, cancel_requested_at=NOW))
    assert not awaits_cancel(sent(cancel_requested_at=NOW))
    assert not awaits_cancel(an_order_in(OrderStatus.OPEN))


def test_cancels_due_are_requested_cancels_of_orders_resting_on_the_book():
    resting = an_order_in(OrderStatus.OPEN, local_id="A", cancel_requested_at=NOW)
    partly = an_order_in(OrderStatus.PARTIALLY_FILLED, local_id="B", cancel_requested_at=NOW)
    unacked = an_order_in(OrderStatus.SUBMITTED, local_id="C", cancel_requested_at=NOW)
    not_asked = an_order_in(OrderStatus.OPEN, local_id="D")
    due = cancels_due([resting, partly, unacked, not_asked])
    assert [o.local_id for o in due] == ["A", "B"]


# ---------------------------------------------------------------- dry run leftovers


def test_dry_run_gives_up_leftovers_never_sent_and_leaves_the_rest_waiting():
    never = an_order(local_id="A")
    maybe = sent(local_id="B")
    unknown = an_order_in(OrderStatus.UNKNOWN, local_id="C")
    settlement = offline_settlement([never, maybe, unknown], now=NOW)
    assert [local_id for local_id, _ in settlement.give_up] == ["A"]
    event = settlement.give_up[0][1]
    assert event.never_sent
    assert event.message == NEVER_SENT_MESSAGE
    assert event.at == NOW
    assert settlement.waiting == (maybe, unknown)


# ---------------------------------------------------------------- reprice


def test_a_reprice_sends_what_the_cancel_left_unfilled():
    final = an_order_in(OrderStatus.CANCELED, cumulative_base_filled=Decimal("0.03"))
    assert reprice_remaining(final) == Decimal("0.07")


def test_no_reprice_while_the_cancel_is_unconfirmed_and_a_person_is_told():
    outcome = reprice_remaining(an_order_in(OrderStatus.OPEN))
    assert isinstance(outcome, NotRepriced)
    assert outcome.warn
    assert "not confirmed" in outcome.reason


@pytest.mark.parametrize(
    "final",
    [
        an_order_in(OrderStatus.FILLED),
        an_order_in(OrderStatus.CANCELED, cumulative_base_filled=Decimal("0.1")),
    ],
)
def test_no_reprice_quietly_when_nothing_remains(final):
    outcome = reprice_remaining(final)
    assert isinstance(outcome, NotRepriced)
    assert not outcome.warn


def test_an_order_is_cancelable_at_the_exchange_by_txid_or_client_order_id():
    assert cancelable_at_exchange(an_order_in(OrderStatus.OPEN, client_order_id=None))
    assert cancelable_at_exchange(sent())
    assert not cancelable_at_exchange(sent(client_order_id=None, userref=7))
