"""Evidence events carry must still hold when they are folded.

An order Kraken proved it holds (a duplicate client id answer) is never given up on or
withdrawn; a send attempt must be the next one and never follows a cancel request; an
order is reported unknown only by its txid.
"""

from __future__ import annotations

from returns.pipeline import is_successful
from tests.builders import NOW, an_order

from kraken_bot.execution.core import lifecycle
from kraken_bot.execution.core.models import (
    CancelRequested,
    GaveUp,
    NotFoundOnExchange,
    OrderStatus,
    SendAttempted,
    SendUnconfirmed,
    Withdrawn,
)


def test_a_proven_unconfirmed_send_marks_the_order_as_existing_and_refuses_giving_up():
    order = an_order()
    order = lifecycle.apply(
        order, SendAttempted(at=NOW, attempt=1, request=order.raw_request, deadline=NOW)
    ).unwrap()
    order = lifecycle.apply(
        order, SendUnconfirmed(at=NOW, message="EOrder:Duplicate order", proven=True)
    ).unwrap()
    assert order.status is OrderStatus.SUBMITTED
    assert order.exists_on_exchange is True
    refused = lifecycle.apply(order, GaveUp(at=NOW, message="not on the exchange"))
    assert not is_successful(refused)
    assert "never given up" in str(refused.failure())


def test_an_unproven_unconfirmed_send_can_still_be_given_up_after_its_deadline():
    order = lifecycle.apply(an_order(), SendUnconfirmed(at=NOW, message="ReadTimeout")).unwrap()
    assert order.exists_on_exchange is False
    assert lifecycle.apply(order, GaveUp(at=NOW, message="absent")).unwrap().status is (
        OrderStatus.ERROR
    )


# ---------------------------------------------------------------- evidence that must still hold


def _sent(order, attempt=1, deadline=NOW):
    return lifecycle.apply(
        order, SendAttempted(at=NOW, attempt=attempt, request=order.raw_request, deadline=deadline)
    ).unwrap()


def test_a_send_attempt_must_be_the_next_one_so_two_senders_never_send_the_same_order():
    order = _sent(an_order())
    again = lifecycle.apply(
        order, SendAttempted(at=NOW, attempt=1, request=order.raw_request, deadline=NOW)
    )
    assert not is_successful(again)
    assert "another sender got there first" in again.failure().reason


def test_no_send_is_recorded_once_a_cancel_was_requested():
    order = lifecycle.apply(an_order(), CancelRequested(at=NOW)).unwrap()
    refused = lifecycle.apply(
        order, SendAttempted(at=NOW, attempt=1, request=order.raw_request, deadline=NOW)
    )
    assert "cancel was requested" in refused.failure().reason


def test_a_withdrawn_order_refuses_every_later_send():
    order = lifecycle.apply(an_order(), Withdrawn(at=NOW, message="canceled")).unwrap()
    assert order.status is OrderStatus.CANCELED
    assert order.close_reason == "canceled"
    refused = lifecycle.apply(
        order, SendAttempted(at=NOW, attempt=1, request=order.raw_request, deadline=NOW)
    )
    assert not is_successful(refused)


def test_an_order_kraken_proved_it_holds_is_never_withdrawn():
    order = lifecycle.apply(
        _sent(an_order()), SendUnconfirmed(at=NOW, message="dup", proven=True)
    ).unwrap()
    refused = lifecycle.apply(order, Withdrawn(at=NOW, message="x", deadline=NOW))
    assert "never withdrawn" in refused.failure().reason


def test_an_unknown_order_can_be_closed_by_a_person_whatever_its_deadline():
    order = an_order(status=OrderStatus.UNKNOWN, kraken_order_id="OX", attempts=1)
    closed = lifecycle.apply(order, GaveUp(at=NOW, message="closed by a cancel")).unwrap()
    assert closed.status is OrderStatus.ERROR


def test_only_an_order_with_a_txid_can_be_reported_unknown_by_txid():
    refused = lifecycle.apply(
        an_order(status=OrderStatus.SUBMITTED, attempts=1),
        NotFoundOnExchange(at=NOW, message="unknown"),
    )
    assert "without a txid" in refused.failure().reason
    found = an_order(status=OrderStatus.OPEN, kraken_order_id="OX", attempts=1)
    moved = lifecycle.apply(found, NotFoundOnExchange(at=NOW, message="unknown")).unwrap()
    assert (moved.status, moved.last_error) == (OrderStatus.UNKNOWN, "unknown")
    assert moved.remaining_base_size == 0  # not working: nets out nothing
