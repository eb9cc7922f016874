"""What follows a failed AmendOrder, and when an amend is settled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.builders import NOW, a_config, an_order_in

from kraken_bot.execution.core.amends import (
    AmendFailed,
    AmendRejected,
    LookUpAmend,
    ReadBackRefusal,
    amend_settled,
    carries_amend,
    decide_after_amend_error,
)
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.core.routing import AmendWire
from kraken_bot.kraken.errors import NetworkError, error_from_kraken

DEADLINE = NOW + timedelta(seconds=15)
LOST = NetworkError("timed out", may_have_reached=True)


def decide(error, *, attempt=1, **config):
    return decide_after_amend_error(
        error, attempt=attempt, config=a_config(**config), deadline=DEADLINE
    )


def wire(price=None, size=None):
    return AmendWire(
        price=price,
        size=size,
        price_text=None if price is None else str(price),
        size_text=None if size is None else str(size),
    )


@pytest.mark.parametrize(
    "text",
    [
        "EOrder:No amendable parameters specified",
        "EOrder:Unknown order",
        "EOrder:Invalid order",
    ],
)
def test_a_refusal_that_may_be_moot_reads_the_order_back(text):
    assert decide(error_from_kraken([text], endpoint="AmendOrder")) == ReadBackRefusal()


def test_a_refusal_of_the_amend_itself_is_noted_and_raised():
    error = error_from_kraken(["EOrder:Post only order"], endpoint="AmendOrder")
    assert decide(error) == AmendRejected()


def test_a_lost_answer_is_looked_up_after_the_deadline_plus_the_margin():
    decision = decide(LOST, lookup_margin_seconds=7.0)
    assert decision == LookUpAmend(not_before=DEADLINE + timedelta(seconds=7))


def test_a_lost_answer_with_no_retry_left_is_raised():
    assert decide(LOST, attempt=4, max_retries=3) == AmendFailed()
    assert isinstance(decide(LOST, attempt=3, max_retries=3), LookUpAmend)


def test_a_permanent_error_that_is_not_a_refusal_is_raised():
    error = error_from_kraken(["EAPI:Invalid key"], endpoint="AmendOrder")
    assert decide(error) == AmendFailed()


def test_an_order_carries_the_amend_when_it_shows_every_new_value():
    order = an_order_in(OrderStatus.OPEN, requested_price=Decimal(61000))
    assert carries_amend(order, wire(price=Decimal(61000)))
    assert carries_amend(order, wire())
    assert not carries_amend(order, wire(price=Decimal(62000)))
    assert carries_amend(order, wire(price=Decimal(61000), size=Decimal("0.1")))
    assert not carries_amend(order, wire(size=Decimal("0.05")))


def test_an_amend_is_settled_once_shown_or_once_the_order_no_longer_works():
    amend = wire(price=Decimal(62000))
    assert not amend_settled(an_order_in(OrderStatus.OPEN), amend)
    assert amend_settled(an_order_in(OrderStatus.FILLED), amend)
    shown = an_order_in(OrderStatus.PARTIALLY_FILLED, requested_price=Decimal(62000))
    assert amend_settled(shown, amend)
