"""An order Kraken proved it holds (a duplicate client id answer) is never given up on."""

from __future__ import annotations

from returns.pipeline import is_successful
from tests.builders import NOW, an_order

from kraken_bot.execution import lifecycle
from kraken_bot.execution.models import GaveUp, OrderStatus, SendAttempted, SendUnconfirmed


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
