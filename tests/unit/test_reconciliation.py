"""Reconciliation's decisions: pure functions of (local orders, Kraken's answers, time)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyrsistent import pmap
from returns.pipeline import is_successful
from tests.builders import NOW, TXID, an_order, an_order_in, order_info

from kraken_bot.execution.core.lifecycle import apply
from kraken_bot.execution.core.models import (
    GaveUp,
    NotFoundOnExchange,
    Observed,
    OrderStatus,
    SendAttempted,
    Withdrawn,
)
from kraken_bot.execution.core.reconciliation import (
    NEVER_SENT_MESSAGE,
    Adopt,
    ExchangeView,
    Fold,
    Situation,
    adopted_order,
    decide_reconciliation,
    is_local_id,
    observed_status,
    provably_unsent,
)
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.kraken.types import KrakenOrderStatus

LOCAL = "6b6b0000-0000-4000-8000-000000000001"
OTHER = "6b6b0000-0000-4000-8000-000000000002"
MARGIN = timedelta(seconds=5)
WINDOW = timedelta(seconds=60)
LATER = NOW + timedelta(minutes=5)


def situation(*tracked, now=LATER, **fields) -> Situation:
    return Situation(
        tracked=tuple(tracked), now=now, lookup_margin=MARGIN, unknown_after=WINDOW, **fields
    )


def view(*listed, queried=None, unknown=(), listed_ok=True) -> ExchangeView:
    return ExchangeView(
        queried=queried or {},
        unknown_txids=frozenset(unknown),
        listed=tuple(listed),
        listed_ok=listed_ok,
    )


def in_doubt(**overrides):
    """A send whose answer was lost: submitted, no txid, one attempt, deadline at NOW."""
    fields = {
        "local_id": LOCAL,
        "client_order_id": LOCAL,
        "status": OrderStatus.SUBMITTED,
        "attempts": 1,
        "send_deadline": NOW,
        "first_sent_at": NOW - timedelta(seconds=15),
    }
    fields.update(overrides)
    return an_order(**fields)


def only_fold(outcome) -> Fold:
    """The one decision of an outcome, which must be a fold."""
    (decision,) = outcome.decisions
    assert isinstance(decision, Fold)
    return decision


def folds(outcome) -> list[tuple[str, type]]:
    return [(d.local_id, type(d.event)) for d in outcome.decisions if isinstance(d, Fold)]


# ---------------------------------------------------------------- orders with a txid


def test_a_queried_order_folds_in_krakens_answer():
    order = an_order_in(OrderStatus.OPEN)
    info = order_info(status=KrakenOrderStatus.OPEN, volume_executed="0.05", cl_ord_id="L1")
    outcome = decide_reconciliation(situation(order), view(queried={TXID: info}))
    decision = only_fold(outcome)
    assert isinstance(decision.event, Observed)
    assert decision.event.info is info


def test_an_order_kraken_was_not_asked_about_is_left_alone():
    outcome = decide_reconciliation(situation(an_order_in(OrderStatus.OPEN)), view())
    assert outcome.decisions == ()
    assert outcome.unknown == ()


def test_an_unknown_txid_inside_the_visibility_window_is_only_in_doubt():
    order = an_order_in(OrderStatus.SUBMITTED, first_sent_at=LATER - timedelta(seconds=10))
    outcome = decide_reconciliation(situation(order), view(unknown=[TXID]))
    assert outcome.decisions == ()
    assert outcome.in_doubt == 1


def test_an_unknown_txid_past_the_window_makes_the_order_unknown_by_name():
    order = an_order_in(OrderStatus.OPEN, first_sent_at=NOW)
    outcome = decide_reconciliation(situation(order), view(unknown=[TXID]))
    assert outcome.unknown == ("L1",)
    decision = only_fold(outcome)
    assert isinstance(decision.event, NotFoundOnExchange)
    assert TXID in decision.event.message
    moved = apply(order, decision.event).unwrap()
    assert moved.status is OrderStatus.UNKNOWN


def test_an_order_already_unknown_is_named_again_without_a_new_event():
    order = an_order_in(OrderStatus.UNKNOWN, first_sent_at=NOW)
    outcome = decide_reconciliation(situation(order), view(unknown=[TXID]))
    assert outcome.unknown == ("L1",)
    assert outcome.decisions == ()


# ---------------------------------------------------------------- orders without a txid


def test_an_order_in_doubt_is_found_by_its_client_id_in_the_listings():
    info = order_info(txid="OFOUND", cl_ord_id=LOCAL)
    outcome = decide_reconciliation(situation(in_doubt()), view(info))
    assert folds(outcome) == [(LOCAL, Observed)]


def test_a_listed_order_owned_by_another_local_order_is_not_taken():
    info = order_info(txid="OTAKEN", cl_ord_id=LOCAL)
    outcome = decide_reconciliation(
        situation(in_doubt(), owned_txids=frozenset({"OTAKEN"})), view(info)
    )
    assert not any(isinstance(d, Fold) and isinstance(d.event, Observed) for d in outcome.decisions)


def test_an_order_whose_sender_is_alive_is_never_declared_absent():
    order = in_doubt()
    outcome = decide_reconciliation(situation(order, live_claims=frozenset({LOCAL})), view())
    assert outcome.decisions == ()
    assert outcome.in_doubt == 1


def test_an_order_never_sent_by_a_dead_sender_is_given_up_as_never_sent():
    order = an_order(local_id=LOCAL, client_order_id=LOCAL, claimed_by="svc-dead")
    outcome = decide_reconciliation(situation(order), view())
    decision = only_fold(outcome)
    assert isinstance(decision.event, GaveUp)
    assert decision.event.never_sent
    assert decision.event.message == NEVER_SENT_MESSAGE
    assert outcome.proven_absent == 1


def test_a_never_sent_decision_is_refused_once_a_send_was_recorded_meanwhile():
    """Decided on an old version; another writer recorded the send first."""
    order = an_order(local_id=LOCAL, client_order_id=LOCAL)
    outcome = decide_reconciliation(situation(order), view())
    decision = only_fold(outcome)
    sent = apply(order, SendAttempted(at=NOW, attempt=1, request=pmap({}), deadline=LATER)).unwrap()
    refused = apply(sent, decision.event)
    assert not is_successful(refused)
    assert "never sent" in refused.failure().reason


def test_an_order_in_doubt_past_its_deadline_and_absent_is_given_up_with_that_deadline():
    outcome = decide_reconciliation(situation(in_doubt()), view())
    decision = only_fold(outcome)
    assert isinstance(decision.event, GaveUp)
    assert decision.event.deadline == NOW
    assert not decision.event.never_sent


def test_an_absence_decision_is_refused_once_a_newer_send_was_recorded():
    order = in_doubt()
    decision = only_fold(decide_reconciliation(situation(order), view()))
    resent = apply(
        order, SendAttempted(at=LATER, attempt=2, request=pmap({}), deadline=LATER)
    ).unwrap()
    refused = apply(resent, decision.event)
    assert not is_successful(refused)
    assert "newer send" in refused.failure().reason


@pytest.mark.parametrize(
    ("order", "listed_ok"),
    [
        (in_doubt(), False),  # the listings failed: absence proves nothing
        (in_doubt(exists_on_exchange=True), True),  # Kraken proved it holds it
        (in_doubt(send_deadline=LATER), True),  # inside the deadline plus margin
        (in_doubt(send_deadline=None), True),  # no deadline: no end to the doubt
    ],
)
def test_an_order_in_doubt_is_left_alone_while_its_absence_is_not_proven(order, listed_ok):
    outcome = decide_reconciliation(situation(order), view(listed_ok=listed_ok))
    assert outcome.decisions == ()
    assert outcome.in_doubt == 1


def test_a_terminal_order_without_a_txid_is_not_reconsidered():
    order = an_order_in(OrderStatus.ERROR, attempts=1)
    assert decide_reconciliation(situation(order), view()).decisions == ()


def test_a_userref_order_matches_only_on_its_fingerprint():
    order = in_doubt(userref=7, client_order_id=None)
    matching = order_info(txid="OFOUND", cl_ord_id=None, userref=7)
    outcome = decide_reconciliation(situation(order), view(matching))
    assert folds(outcome) == [(LOCAL, Observed)]
    other = order_info(txid="OOTHER", cl_ord_id=None, userref=7, volume="0.2")
    outcome = decide_reconciliation(situation(order), view(other))
    assert [type(only_fold(outcome).event)] == [GaveUp]


def test_an_order_with_neither_identity_cannot_be_found_but_can_be_proven_absent():
    order = in_doubt(client_order_id=None)
    outcome = decide_reconciliation(situation(order), view(order_info(txid="OX")))
    assert [type(only_fold(outcome).event)] == [GaveUp]


# ---------------------------------------------------------------- strangers


def test_an_exchange_order_carrying_our_id_relinks_to_its_order_whatever_its_status():
    given_up = an_order_in(OrderStatus.ERROR, local_id=LOCAL, client_order_id=LOCAL, attempts=0)
    info = order_info(txid="OLATE", cl_ord_id=LOCAL)
    outcome = decide_reconciliation(situation(by_client_id=pmap({LOCAL: given_up})), view(info))
    assert folds(outcome) == [(LOCAL, Observed)]
    assert apply(given_up, only_fold(outcome).event).unwrap().status is OrderStatus.OPEN


def test_an_exchange_order_of_ours_that_no_local_order_owns_is_adopted():
    info = order_info(txid="ONEW", cl_ord_id=OTHER)
    outcome = decide_reconciliation(situation(), view(info))
    assert outcome.decisions == (Adopt(info=info, strategy_id=None),)


def test_a_strategy_userref_order_is_adopted_for_that_strategy():
    info = order_info(txid="ONEW", cl_ord_id=None, userref=9)
    outcome = decide_reconciliation(situation(strategy_userrefs=pmap({9: "trend"})), view(info))
    assert outcome.decisions == (Adopt(info=info, strategy_id="trend"),)


def test_a_given_up_userref_order_is_relinked_by_its_fingerprint_once():
    given_up = an_order_in(
        OrderStatus.ERROR, local_id=LOCAL, userref=9, client_order_id=None, attempts=1
    )
    twin = an_order_in(
        OrderStatus.ERROR, local_id=OTHER, userref=9, client_order_id=None, attempts=1
    )
    first = order_info(txid="OA", cl_ord_id=None, userref=9)
    second = order_info(txid="OB", cl_ord_id=None, userref=9)
    outcome = decide_reconciliation(
        situation(given_up_userref=(given_up, twin), strategy_userrefs=pmap({9: "trend"})),
        view(first, second),
    )
    assert folds(outcome) == [(LOCAL, Observed), (OTHER, Observed)]


def test_a_given_up_userref_order_never_sent_is_not_relinked():
    never = an_order_in(OrderStatus.ERROR, local_id=LOCAL, userref=9, client_order_id=None)
    info = order_info(txid="OA", cl_ord_id=None, userref=9)
    outcome = decide_reconciliation(
        situation(given_up_userref=(never,), strategy_userrefs=pmap({9: "trend"})), view(info)
    )
    assert outcome.decisions == (Adopt(info=info, strategy_id="trend"),)


def test_orders_that_are_not_ours_are_ignored_and_paper_adopts_nothing():
    foreign = order_info(txid="OF", cl_ord_id="someone-else", userref=None)
    manual = order_info(txid="OM", cl_ord_id=None, userref=None)
    ours = order_info(txid="OO", cl_ord_id=OTHER)
    assert decide_reconciliation(situation(), view(foreign, manual)).decisions == ()
    assert decide_reconciliation(situation(adopt=False), view(ours)).decisions == ()


def test_without_listings_no_stranger_is_considered():
    ours = order_info(txid="OO", cl_ord_id=OTHER)
    assert decide_reconciliation(situation(), view(ours, listed_ok=False)).decisions == ()


# ---------------------------------------------------------------- records and helpers


def test_an_adopted_record_takes_krakens_status_fill_and_identity():
    info = order_info(txid="OA", cl_ord_id=OTHER, volume_executed="0.04", userref=3)
    order = adopted_order(info, local_id=OTHER, strategy_id="s", rest_pair="XXBTZUSD", now=LATER)
    assert (order.status, order.cumulative_base_filled) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.04"),
    )
    assert (order.kraken_order_id, order.client_order_id, order.userref) == ("OA", OTHER, 3)
    assert order.created_at == info.opened_at
    assert order.updated_at == LATER


@pytest.mark.parametrize(
    ("status", "executed", "expected"),
    [
        (KrakenOrderStatus.PENDING, "0", OrderStatus.SUBMITTED),
        (KrakenOrderStatus.OPEN, "0", OrderStatus.OPEN),
        (KrakenOrderStatus.OPEN, "0.05", OrderStatus.PARTIALLY_FILLED),
        (KrakenOrderStatus.CLOSED, "0.1", OrderStatus.FILLED),
        (KrakenOrderStatus.CLOSED, "0.05", OrderStatus.CANCELED),
        (KrakenOrderStatus.CANCELED, "0", OrderStatus.CANCELED),
        (KrakenOrderStatus.EXPIRED, "0", OrderStatus.EXPIRED),
    ],
)
def test_krakens_status_maps_to_ours_as_the_lifecycle_table_does(status, executed, expected):
    assert observed_status(order_info(status=status, volume_executed=executed)) is expected


@given(st.integers(0, 2**32))
def test_every_id_the_layer_makes_is_recognised_as_ours(seed):
    assert is_local_id(SeededIds(seed)())


@given(st.text(max_size=40).filter(lambda t: not t.startswith("6b6b")))
def test_ids_that_do_not_start_with_our_mark_are_not_ours(text):
    assert not is_local_id(text)


def test_an_id_with_our_mark_but_not_a_version_4_uuid_is_not_ours():
    assert not is_local_id("6b6b0000-0000-1000-8000-000000000000")
    assert not is_local_id(None)


def test_withdrawing_is_refused_once_the_order_may_be_on_the_exchange():
    order = in_doubt()
    assert is_successful(apply(order, Withdrawn(at=LATER, message="x", deadline=NOW)))
    stale = Withdrawn(at=LATER, message="x", deadline=NOW - timedelta(seconds=1))
    assert "newer send" in apply(order, stale).failure().reason
    acked = in_doubt(kraken_order_id="OX")
    assert "txid" in apply(acked, Withdrawn(at=LATER, message="x", deadline=NOW)).failure().reason


def test_the_visibility_window_runs_from_the_last_send_not_the_first():
    order = an_order_in(
        OrderStatus.SUBMITTED,
        first_sent_at=NOW - timedelta(minutes=10),
        send_deadline=LATER - timedelta(seconds=5),
        attempts=2,
    )
    outcome = decide_reconciliation(situation(order), view(unknown=[TXID]))
    assert outcome.decisions == ()
    assert outcome.in_doubt == 1


def test_a_userref_this_layer_used_before_makes_an_exchange_order_ours():
    """A plan-level userref (not a configured strategy's) is ours once a stored order used
    it: after the database is lost and rebuilt, such an order is adopted, not ignored."""
    info = order_info(txid="OU", cl_ord_id=None, userref=7)
    assert decide_reconciliation(situation(), view(info)).decisions == ()
    outcome = decide_reconciliation(situation(our_userrefs=frozenset({7})), view(info))
    assert outcome.decisions == (Adopt(info=info, strategy_id=None),)


# ---------------------------------------------------------------- late fills


def test_a_finished_order_the_listing_shows_with_more_fills_takes_them_in():
    """Canceled on the cancel's answer alone (the read-back failed), while a fill landed
    just before the cancel: the listing's fill is folded in, never lost."""
    canceled = an_order_in(OrderStatus.CANCELED, cumulative_base_filled=Decimal(0))
    late = order_info(
        status=KrakenOrderStatus.CANCELED, volume_executed="0.04", avg_price=Decimal(60000)
    )
    outcome = decide_reconciliation(situation(settled=(canceled,)), view(late))
    decision = only_fold(outcome)
    assert decision.local_id == canceled.local_id
    assert isinstance(decision.event, Observed)
    assert decision.event.info is late
    folded = apply(canceled, decision.event)
    assert is_successful(folded)
    assert folded.unwrap().cumulative_base_filled == Decimal("0.04")
    assert folded.unwrap().status is OrderStatus.CANCELED


def test_a_finished_order_is_left_alone_when_the_listing_has_nothing_new_or_is_missing():
    filled_some = an_order_in(OrderStatus.CANCELED, cumulative_base_filled=Decimal("0.04"))
    same = order_info(
        status=KrakenOrderStatus.CANCELED, volume_executed="0.04", avg_price=Decimal(60000)
    )
    assert decide_reconciliation(situation(settled=(filled_some,)), view(same)).decisions == ()
    assert decide_reconciliation(situation(settled=(filled_some,)), view()).decisions == ()
    unlisted = view(same, listed_ok=False)  # no listing this pass: nothing is decided
    assert decide_reconciliation(situation(settled=(filled_some,)), unlisted).decisions == ()


# ---------------------------------------------------------------- the one test of "never sent"


def test_never_sent_needs_no_attempt_no_proof_of_existence_and_no_live_sender():
    unsent = an_order(attempts=0)
    assert provably_unsent(unsent)
    assert not provably_unsent(an_order(attempts=1))
    assert not provably_unsent(unsent, frozenset({unsent.local_id}))  # its sender is alive
    assert provably_unsent(unsent, frozenset({"someone else"}))


def test_an_order_kraken_proved_it_holds_is_never_declared_unsent():
    """Kraken refused a resend as a duplicate client id: on the book, whatever attempts say
    (the lifecycle records it only after a send, so this guards against a bad record)."""
    proven = an_order(attempts=0, exists_on_exchange=True)
    assert not provably_unsent(proven)
