"""Order updates from recorded changes, and the supervisor's decisions (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.builders import NOW, TXID, an_order, an_order_in

from kraken_bot.execution.core.events import OrderUpdateKind, order_updates
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.core.supervision import (
    CancelUnfilled,
    RepriceUnfilled,
    UnfilledAction,
    next_wake,
    reconcile_due,
    unfilled_decisions,
)

K = OrderUpdateKind
LATER = NOW + timedelta(minutes=10)


def kinds(before, after):
    return [u.kind for u in order_updates(before, after)]


# ---------------------------------------------------------------- order updates


def test_a_new_pending_order_tells_nothing_yet():
    assert kinds(None, an_order()) == []


def test_an_adopted_order_is_reported_with_its_fill():
    adopted = an_order_in(OrderStatus.PARTIALLY_FILLED)
    (update,) = order_updates(None, adopted)
    assert (update.kind, update.fill_delta) == (K.ADOPTED, adopted.cumulative_base_filled)


def test_a_guardrail_refusal_is_reported_as_given_up():
    assert kinds(None, an_order(status=OrderStatus.ERROR)) == [K.GIVEN_UP]


def test_a_txid_learned_is_acceptance():
    before = an_order(status=OrderStatus.PENDING, attempts=1)
    after = replace(before, status=OrderStatus.SUBMITTED, kraken_order_id=TXID)
    assert kinds(before, after) == [K.ACCEPTED]


def test_an_order_found_filled_at_once_is_accepted_then_filled_with_the_whole_fill():
    before = an_order(status=OrderStatus.SUBMITTED, attempts=1)
    after = replace(
        before,
        status=OrderStatus.FILLED,
        kraken_order_id=TXID,
        cumulative_base_filled=before.requested_base_size,
    )
    updates = order_updates(before, after)
    assert [u.kind for u in updates] == [K.ACCEPTED, K.FILLED]
    assert updates[1].fill_delta == before.requested_base_size


def test_a_partial_fill_reports_only_what_filled_since():
    before = an_order_in(OrderStatus.PARTIALLY_FILLED)
    after = replace(before, cumulative_base_filled=before.cumulative_base_filled + Decimal("0.01"))
    (update,) = order_updates(before, after)
    assert (update.kind, update.fill_delta) == (K.PARTIALLY_FILLED, Decimal("0.01"))


def test_a_fill_that_landed_before_a_cancel_is_reported_with_the_cancel():
    before = an_order_in(OrderStatus.OPEN)
    after = replace(before, status=OrderStatus.CANCELED, cumulative_base_filled=Decimal("0.03"))
    assert kinds(before, after) == [K.PARTIALLY_FILLED, K.CANCELED]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (OrderStatus.EXPIRED, K.EXPIRED),
        (OrderStatus.REJECTED, K.REJECTED),
        (OrderStatus.ERROR, K.GIVEN_UP),
        (OrderStatus.UNKNOWN, K.UNKNOWN),
        (OrderStatus.VALIDATED, K.VALIDATED),
        (OrderStatus.SIMULATED, K.SIMULATED),
    ],
)
def test_each_final_status_has_its_update(status, kind):
    before = an_order(status=OrderStatus.SUBMITTED, kraken_order_id=TXID)
    assert kinds(before, replace(before, status=status)) == [kind]


def test_internal_steps_and_re_reads_tell_nothing():
    before = an_order_in(OrderStatus.OPEN)
    assert kinds(before, replace(before, cancel_requested_at=NOW)) == []
    assert kinds(before, replace(before, updated_at=LATER)) == []


@given(st.decimals(min_value=0, max_value="0.1", places=8))
def test_fill_deltas_add_up_to_the_fill(fill):
    before = an_order_in(OrderStatus.OPEN)
    status = OrderStatus.FILLED if fill == before.requested_base_size else OrderStatus.OPEN
    after = replace(before, status=status, cumulative_base_filled=fill)
    total = sum((u.fill_delta for u in order_updates(before, after)), Decimal(0))
    assert total == fill


# ---------------------------------------------------------------- the supervisor


@pytest.mark.parametrize(
    ("last", "seconds", "level", "due"),
    [
        (None, 0, 0.0, True),
        (NOW, 30, 0.0, False),  # not yet
        (NOW, 60, 0.0, True),
        (NOW, 60, 7.4, True),  # below half of 15
        (NOW, 60, 7.5, False),  # the budget is for trading first
    ],
)
def test_a_scheduled_reconciliation_waits_for_its_time_and_for_room_in_the_budget(
    last, seconds, level, due
):
    assert (
        reconcile_due(
            last=last,
            now=NOW + timedelta(seconds=seconds),
            every=timedelta(seconds=60),
            rest_level=level,
            rest_max=15.0,
            budget_fraction=0.5,
        )
        is due
    )


def test_without_a_modelled_limit_the_budget_never_holds_reconciliation_back():
    assert reconcile_due(
        last=None,
        now=NOW,
        every=timedelta(seconds=60),
        rest_level=99.0,
        rest_max=0.0,
        budget_fraction=0.5,
    )


def working(**overrides):
    fields = {
        "status": OrderStatus.OPEN,
        "kraken_order_id": TXID,
        "attempts": 1,
        "first_sent_at": NOW,
    }
    fields.update(overrides)
    return an_order(**fields)


def test_an_order_open_past_the_timeout_is_canceled():
    decided = unfilled_decisions(
        [working()], now=LATER, timeout=timedelta(minutes=5), action=UnfilledAction.CANCEL
    )
    assert decided == (CancelUnfilled(local_id="L1", reason="still open 300 s after it was sent"),)


def test_a_repriced_order_carries_what_remains_to_fill():
    order = working(status=OrderStatus.PARTIALLY_FILLED, cumulative_base_filled="0.04")
    (decision,) = unfilled_decisions(
        [order], now=LATER, timeout=timedelta(minutes=5), action=UnfilledAction.REPRICE
    )
    assert isinstance(decision, RepriceUnfilled)
    assert decision.remaining == Decimal("0.06")


@pytest.mark.parametrize(
    "order",
    [
        working(first_sent_at=LATER - timedelta(minutes=1)),  # young
        working(cancel_requested_at=NOW),  # already being canceled
        working(status=OrderStatus.FILLED, cumulative_base_filled="0.1"),  # done
        working(kraken_order_id=None, status=OrderStatus.SUBMITTED),  # in doubt: not ours yet
        working(status=OrderStatus.PARTIALLY_FILLED, cumulative_base_filled="0.1"),  # nothing left
    ],
)
def test_orders_that_are_young_settled_in_doubt_or_already_canceling_are_left_alone(order):
    assert (
        unfilled_decisions(
            [order], now=LATER, timeout=timedelta(minutes=5), action=UnfilledAction.CANCEL
        )
        == ()
    )


def test_no_timeout_means_no_unfilled_policy():
    assert (
        unfilled_decisions([working()], now=LATER, timeout=None, action=UnfilledAction.CANCEL) == ()
    )


def test_the_next_wake_is_the_earliest_deadline():
    assert next_wake() is None
    assert next_wake(None, LATER, NOW) == NOW
