"""What follows a failed AmendOrder, when an amend is settled, and the amend protocol."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.builders import NOW, a_config, a_pair, an_order_in

from kraken_bot._enums import ExecutionMode
from kraken_bot.execution.core.amend_protocol import (
    Answered,
    Done,
    Failed,
    LookingUp,
    Note,
    Raise,
    ReadBack,
    ReadOrder,
    Send,
    Sleep,
    advance,
    amend_access,
    amend_wire,
    begin,
)
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


# ---------------------------------------------------------------- refusals


def test_an_observer_never_amends():
    refused = amend_access(observer=True, changes_exchange=True, mode=ExecutionMode.LIVE)
    assert refused.failure() == "this service only reads, cancels and reconciles (observer)"


@pytest.mark.parametrize("mode", [ExecutionMode.PAPER, ExecutionMode.DRY_RUN])
def test_only_live_mode_has_orders_to_amend(mode):
    refused = amend_access(observer=False, changes_exchange=False, mode=mode)
    assert refused.failure() == f"amending needs live mode ({mode.value}: no order rests on Kraken)"


def test_a_live_service_may_amend():
    assert (
        amend_access(observer=False, changes_exchange=True, mode=ExecutionMode.LIVE).unwrap()
        is None
    )


def test_an_order_of_a_pair_not_listed_is_not_amended():
    order = an_order_in(OrderStatus.OPEN, local_id="L7", pair="FOOUSD")
    refused = amend_wire(order, pair=None, price=Decimal(61000), size=None)
    assert refused.failure() == "order L7: pair FOOUSD is not listed"


def test_an_amend_the_pair_refuses_names_the_order_and_the_reason():
    order = an_order_in(OrderStatus.OPEN, local_id="L7")
    refused = amend_wire(order, pair=a_pair(), price=Decimal("61000.05"), size=None)
    assert refused.failure() == "order L7: limit price 61000.05 is not on the tick 0.1"


def test_a_valid_amend_gives_its_wire_strings():
    order = an_order_in(OrderStatus.OPEN)
    checked = amend_wire(order, pair=a_pair(), price=Decimal(61000), size=Decimal("0.05"))
    assert (checked.unwrap().price_text, checked.unwrap().size_text) == ("61000.0", "0.05000000")


# ---------------------------------------------------------------- the protocol

AMEND = wire(price=Decimal(61000))
WORKING = an_order_in(OrderStatus.OPEN)
SHOWN = an_order_in(OrderStatus.OPEN, requested_price=Decimal(61000))
LATER = NOW + timedelta(seconds=30)
REFUSED = error_from_kraken(["EOrder:Invalid order"], endpoint="AmendOrder")
POST_ONLY = error_from_kraken(["EOrder:Post only order"], endpoint="AmendOrder")


def started(**config):
    return begin(WORKING, AMEND, post_only=True, config=a_config(**config), now=NOW)


def test_the_first_attempt_is_written_ahead_then_sent_with_its_deadline():
    run, intent = started(order_deadline_seconds=15)
    send = Send(order=WORKING, wire=AMEND, post_only=True, deadline=DEADLINE)
    assert intent == Note(
        order=WORKING,
        event="amend_requested",
        detail="price 61000, size - (attempt 1)",
        at=NOW,
        then=send,
    )
    assert (run.attempt, run.deadline) == (1, DEADLINE)


def test_an_answered_amend_is_noted_then_the_order_read_back_and_returned():
    run, intent = advance(started()[0], Answered(amend_id="A1"), now=LATER)
    assert intent == Note(
        order=WORKING, event="amended", detail="A1", at=LATER, then=ReadBack(order=WORKING)
    )
    assert advance(run, ReadOrder(order=SHOWN), now=LATER)[1] == Done(order=SHOWN)


def test_a_refusal_that_may_be_moot_reads_the_order_back_first():
    run, intent = advance(started()[0], Failed(error=REFUSED), now=LATER)
    assert intent == ReadBack(order=WORKING)
    assert run.refused is REFUSED


def test_a_moot_refusal_ends_the_amend_when_the_order_shows_it_or_no_longer_works():
    run = advance(started()[0], Failed(error=REFUSED), now=LATER)[0]
    for order in (SHOWN, an_order_in(OrderStatus.CANCELED)):
        assert advance(run, ReadOrder(order=order), now=LATER)[1] == Done(order=order)


def test_a_refusal_stands_when_the_order_still_works_without_the_amend():
    run = advance(started()[0], Failed(error=REFUSED), now=LATER)[0]
    intent = advance(run, ReadOrder(order=WORKING), now=LATER)[1]
    assert intent == Note(
        order=WORKING,
        event="amend_rejected",
        detail=str(REFUSED),
        at=LATER,
        then=Raise(error=REFUSED),
    )


def test_a_refusal_of_the_amend_itself_is_noted_and_raised_without_a_read_back():
    intent = advance(started()[0], Failed(error=POST_ONLY), now=LATER)[1]
    assert intent == Note(
        order=WORKING,
        event="amend_rejected",
        detail=str(POST_ONLY),
        at=LATER,
        then=Raise(error=POST_ONLY),
    )


def test_an_error_with_no_retry_left_is_raised_as_it_is():
    run = started(max_retries=0)[0]
    assert advance(run, Failed(error=LOST), now=LATER)[1] == Raise(error=LOST)


def test_a_lost_answer_is_looked_up_once_the_deadline_and_margin_have_passed():
    run = started(order_deadline_seconds=15, lookup_margin_seconds=5.0)[0]
    intent = advance(run, Failed(error=LOST), now=NOW + timedelta(seconds=1))[1]
    read = ReadBack(order=WORKING)
    assert intent == LookingUp(order=WORKING, error=LOST, then=Sleep(seconds=19.0, then=read))


def test_a_lost_answer_seen_after_the_margin_is_looked_up_at_once():
    run = started(order_deadline_seconds=15, lookup_margin_seconds=5.0)[0]
    intent = advance(run, Failed(error=LOST), now=NOW + timedelta(seconds=20))[1]
    assert intent == LookingUp(order=WORKING, error=LOST, then=ReadBack(order=WORKING))


def test_a_looked_up_amend_that_landed_is_not_sent_again():
    run = advance(started()[0], Failed(error=LOST), now=LATER)[0]
    assert advance(run, ReadOrder(order=SHOWN), now=LATER)[1] == Done(order=SHOWN)


def test_a_looked_up_amend_that_did_not_land_is_sent_again_from_the_order_read_back():
    run = advance(started(order_deadline_seconds=15)[0], Failed(error=LOST), now=LATER)[0]
    read = an_order_in(OrderStatus.PARTIALLY_FILLED)
    run, intent = advance(run, ReadOrder(order=read), now=LATER)
    deadline = LATER + timedelta(seconds=15)
    assert intent == Note(
        order=read,
        event="amend_requested",
        detail="price 61000, size - (attempt 2)",
        at=LATER,
        then=Send(order=read, wire=AMEND, post_only=True, deadline=deadline),
    )
    assert (run.attempt, run.deadline, run.order) == (2, deadline, read)


def drive(outcomes, **config):
    """Run the protocol against scripted outcomes: the trail of what the shell would do."""
    run, intent = started(**config)
    trail, script = [], iter(outcomes)
    while not isinstance(intent, Done | Raise):
        if isinstance(intent, Note | LookingUp | Sleep):
            trail.append(intent.event if isinstance(intent, Note) else type(intent).__name__)
            intent = intent.then
            continue
        trail.append(type(intent).__name__)
        run, intent = advance(run, next(script), now=LATER)
    return [*trail, intent]


def test_a_lost_answer_then_a_resend_keeps_the_audit_rows_in_order():
    outcomes = [Failed(error=LOST), ReadOrder(order=WORKING), Answered(amend_id="A2")]
    trail = drive([*outcomes, ReadOrder(order=SHOWN)], max_retries=1)
    assert trail == [
        "amend_requested",
        "Send",
        "LookingUp",
        "ReadBack",
        "amend_requested",
        "Send",
        "amended",
        "ReadBack",
        Done(order=SHOWN),
    ]


def test_lost_answers_are_sent_again_at_most_max_retries_times():
    lost_twice = [Failed(error=LOST), ReadOrder(order=WORKING)] * 2
    trail = drive([*lost_twice, Failed(error=LOST)], max_retries=2)
    assert trail.count("Send") == 3
    assert trail[-1] == Raise(error=LOST)
