"""What the ledger writes for an event (`core.folding`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.builders import NOW, an_order, an_order_in, observed

from kraken_bot.execution.core.folding import Keep, Write, fold, txid_taken
from kraken_bot.execution.core.lifecycle import EventKind
from kraken_bot.execution.core.models import OrderStatus, Simulated


def test_an_illegal_event_is_kept_out_with_the_lifecycle_s_reason():
    filled = an_order_in(OrderStatus.FILLED)

    step = fold(filled, Simulated(at=NOW))

    assert isinstance(step, Keep)
    assert step.error is not None
    assert step.error.local_id == filled.local_id


def test_a_read_that_tells_nothing_new_is_not_written():
    first = fold(an_order_in(OrderStatus.SUBMITTED, kraken_order_id=None), observed(at=NOW))
    assert isinstance(first, Write)
    assert first.linking

    again = fold(first.order, observed(at=NOW + timedelta(seconds=5)))

    assert again == Keep()


def test_a_taken_txid_refusal_names_the_order_and_the_event():
    order = replace(an_order(), status=OrderStatus.SUBMITTED)

    error = txid_taken(order, EventKind.SEND_ATTEMPTED, "owned by L9")

    assert (error.local_id, error.status, error.event, error.reason) == (
        "L1",
        OrderStatus.SUBMITTED,
        EventKind.SEND_ATTEMPTED,
        "owned by L9",
    )
