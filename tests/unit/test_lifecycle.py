"""The order lifecycle: the transition table, its shape, and the invariants `apply` keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import get_args

import pytest
from pyrsistent import pmap
from returns.pipeline import is_successful
from tests.builders import (
    DOCUMENTED_TERMINAL_EDGES,
    NOW,
    TXID,
    an_event,
    an_intent,
    an_order,
    an_order_in,
    observed,
    order_info,
)

from kraken_bot.execution.core.lifecycle import (
    OBSERVED_KINDS,
    TRANSITIONS,
    EventKind,
    TransitionError,
    apply,
    event_kind,
    fold,
    guardrail_order,
    matches_identity,
    mermaid,
    new_order,
    observed_kind,
)
from kraken_bot.execution.core.models import (
    LIVE_STATUSES,
    TERMINAL_STATUSES,
    Acknowledged,
    ActionSkip,
    CancelConfirmed,
    CancelRequested,
    OrderEvent,
    OrderStatus,
    OrderType,
    Rejected,
    SendAttempted,
    Side,
    SkipReason,
)
from kraken_bot.kraken.types import KrakenOrderStatus

S, E = OrderStatus, EventKind
LATER = NOW + timedelta(seconds=30)

LEGAL = sorted(TRANSITIONS.items())
ILLEGAL = sorted((s, k) for s in OrderStatus for k in EventKind if (s, k) not in TRANSITIONS)

OBSERVED_STATUS = {
    E.OBSERVED_PENDING: S.SUBMITTED,
    E.OBSERVED_OPEN: S.OPEN,
    E.OBSERVED_PARTIAL: S.PARTIALLY_FILLED,
    E.OBSERVED_FILLED: S.FILLED,
    E.OBSERVED_CANCELED: S.CANCELED,
    E.OBSERVED_EXPIRED: S.EXPIRED,
}


# ---------------------------------------------------------------- the table, row by row


def _order_for_edge(status: OrderStatus, kind: EventKind):
    """An order in ``status`` for which ``kind``'s evidence holds.

    Giving up on, or withdrawing, a submitted order needs a send in doubt (no txid)
    whose deadline is the one the event was decided on.
    """
    if status is S.SUBMITTED and kind in {E.GAVE_UP, E.WITHDRAWN}:
        return an_order_in(status, kraken_order_id=None, attempts=1, send_deadline=NOW)
    return an_order_in(status)


@pytest.mark.parametrize(("status", "kind", "expected"), [(s, k, t) for (s, k), t in LEGAL])
def test_every_edge_of_the_table_moves_the_order_to_its_target(status, kind, expected):
    order = _order_for_edge(status, kind)
    order = apply(order, an_event(kind, order, at=LATER)).unwrap()
    assert order.status is expected
    assert order.updated_at == LATER


@pytest.mark.parametrize(("status", "kind"), ILLEGAL)
def test_every_pair_missing_from_the_table_is_refused(status, kind):
    order = an_order_in(status)
    result = apply(order, an_event(kind, order))
    assert not is_successful(result)
    error = result.failure()
    assert (error.status, error.event) == (status, kind)
    assert error.reason.startswith("no transition")


# ---------------------------------------------------------------- the table's shape


def test_every_status_has_a_row_or_is_documented_as_final_without_edges():
    with_rows = {status for status, _ in TRANSITIONS}
    assert set(OrderStatus) - with_rows == {S.VALIDATED, S.SIMULATED}


def test_every_non_terminal_status_is_reachable_from_pending():
    reached, frontier = {S.PENDING}, [S.PENDING]
    while frontier:
        source = frontier.pop()
        for (status, _), target in TRANSITIONS.items():
            if status is source and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert set(LIVE_STATUSES) <= reached
    assert reached == set(OrderStatus)


def test_terminal_statuses_have_no_edges_except_the_documented_late_ones():
    terminal_edges = {key for key in TRANSITIONS if key[0] in TERMINAL_STATUSES}
    assert terminal_edges == DOCUMENTED_TERMINAL_EDGES


def test_validated_and_simulated_have_no_outgoing_edges():
    assert not [key for key in TRANSITIONS if key[0] in {S.VALIDATED, S.SIMULATED}]


@pytest.mark.parametrize("kind", sorted(OBSERVED_KINDS))
@pytest.mark.parametrize("status", [S.PENDING, S.SUBMITTED, S.REJECTED, S.ERROR])
def test_an_observation_moves_an_unconfirmed_or_given_up_order_to_the_status_kraken_reports(
    status, kind
):
    assert TRANSITIONS[(status, kind)] is OBSERVED_STATUS[kind]


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (S.FILLED, E.OBSERVED_FILLED, S.FILLED),
        (S.CANCELED, E.OBSERVED_CANCELED, S.CANCELED),
        (S.CANCELED, E.OBSERVED_FILLED, S.FILLED),
        (S.CANCELED, E.CANCEL_CONFIRMED, S.CANCELED),
        (S.EXPIRED, E.OBSERVED_EXPIRED, S.EXPIRED),
    ],
)
def test_the_late_edges_out_of_filled_canceled_and_expired_lead_where_documented(
    status, kind, expected
):
    assert TRANSITIONS[(status, kind)] is expected


def test_the_mermaid_diagram_has_one_line_per_edge_group_and_marks_terminal_states():
    text = mermaid()
    assert text.startswith("stateDiagram-v2\n    [*] --> pending")
    pairs = {(s, t) for (s, _), t in TRANSITIONS.items()}
    assert sum(" --> " in line and "[*]" not in line for line in text.splitlines()) == len(pairs)
    for status in TERMINAL_STATUSES:
        assert f"    {status} --> [*]" in text
    assert "canceled --> filled: observed_filled" in text


# ---------------------------------------------------------------- classifying events


@pytest.mark.parametrize(
    ("status", "volume", "executed", "expected"),
    [
        (KrakenOrderStatus.PENDING, "1", "0", E.OBSERVED_PENDING),
        (KrakenOrderStatus.OPEN, "1", "0", E.OBSERVED_OPEN),
        (KrakenOrderStatus.OPEN, "1", "0.00000001", E.OBSERVED_PARTIAL),
        (KrakenOrderStatus.CLOSED, "1", "1", E.OBSERVED_FILLED),
        (KrakenOrderStatus.CLOSED, "1.00000000", "1", E.OBSERVED_FILLED),
        (KrakenOrderStatus.CLOSED, "1", "0.4", E.OBSERVED_CANCELED),
        (KrakenOrderStatus.CANCELED, "1", "0", E.OBSERVED_CANCELED),
        (KrakenOrderStatus.CANCELED, "1", "0.4", E.OBSERVED_CANCELED),
        (KrakenOrderStatus.EXPIRED, "1", "0.4", E.OBSERVED_EXPIRED),
    ],
)
def test_kraken_order_info_is_classified_by_status_and_executed_volume(
    status, volume, executed, expected
):
    info = order_info(status=status, volume=volume, volume_executed=executed)
    assert observed_kind(info) is expected


def test_every_member_of_the_event_union_has_a_kind():
    order = an_order()
    kinds = {type(an_event(kind, order)): event_kind(an_event(kind, order)) for kind in E}
    assert set(get_args(OrderEvent)) == set(kinds)


# ---------------------------------------------------------------- invariants


def test_filled_volume_never_decreases_a_lower_vol_exec_is_refused_as_stale():
    order = an_order_in(S.PARTIALLY_FILLED, cumulative_base_filled="0.05")
    result = apply(order, observed(volume_executed="0.03"))
    assert not is_successful(result)
    assert "stale" in result.failure().reason


def test_filled_volume_never_exceeds_the_requested_volume():
    order = an_order_in(S.OPEN)
    result = apply(
        order, observed(status=KrakenOrderStatus.CLOSED, volume="0.2", volume_executed="0.2")
    )
    assert not is_successful(result)
    assert "exceeds the requested" in result.failure().reason


def test_an_observation_with_another_txid_than_the_known_one_is_refused():
    order = an_order_in(S.OPEN)
    result = apply(order, observed(txid="OTHER1-AAAAA-BBBBBB"))
    assert not is_successful(result)
    assert "two exchange orders" in result.failure().reason


def test_a_second_acknowledgement_with_another_txid_is_refused():
    order = apply(an_order(), Acknowledged(at=NOW, txid=TXID, response_json="{}")).unwrap()
    result = apply(order, Acknowledged(at=NOW, txid="OTHER1-AAAAA-BBBBBB", response_json="{}"))
    assert not is_successful(result)
    assert "two exchange orders" in result.failure().reason


def test_a_late_duplicate_ack_with_the_same_txid_keeps_the_open_order_open():
    order = an_order_in(S.OPEN)
    order = apply(order, Acknowledged(at=LATER, txid=TXID, response_json="{}")).unwrap()
    assert order.status is S.OPEN


def test_an_observation_of_someone_elses_order_is_refused():
    order = an_order(status=S.SUBMITTED)
    result = apply(order, observed(cl_ord_id="L2"))
    assert not is_successful(result)
    assert "identity" in result.failure().reason


def test_a_refused_event_leaves_the_order_as_it_was():
    order = an_order_in(S.PARTIALLY_FILLED)
    before = order
    result = apply(order, observed(volume_executed="0"))
    assert not is_successful(result)
    assert order == before


def test_transition_errors_read_as_a_sentence():
    error = TransitionError(local_id="L1", status=S.FILLED, event=E.OBSERVED_OPEN, reason="why")
    assert str(error) == "order L1: observed_open refused in status filled: why"


# ---------------------------------------------------------------- what apply updates


def test_an_observation_adopts_the_txid_and_copies_fills_fees_and_cost():
    order = an_order(status=S.SUBMITTED)
    info_event = observed(volume_executed="0.04", avg_price=Decimal(60100), fee=Decimal("6.1"))
    order = apply(order, info_event).unwrap()
    assert order.status is S.PARTIALLY_FILLED
    assert order.kraken_order_id == TXID
    assert order.cumulative_base_filled == Decimal("0.04")
    assert order.avg_fill_price == Decimal(60100)
    assert order.fee == Decimal("6.1")
    assert order.cost == Decimal("0.04") * Decimal(60100)
    assert order.raw_response_json == info_event.info.raw


def test_a_close_reason_from_kraken_is_kept():
    order = an_order_in(S.OPEN)
    order = apply(
        order, observed(status=KrakenOrderStatus.CANCELED, reason="User requested")
    ).unwrap()
    assert (order.status, order.close_reason) == (S.CANCELED, "User requested")


def test_a_send_attempt_records_attempts_request_deadline_and_first_send_time():
    order = an_order()
    first = SendAttempted(at=NOW, attempt=1, request=pmap({"pair": "XXBTZUSD"}), deadline=LATER)
    second = SendAttempted(at=LATER, attempt=2, request=pmap({"pair": "XBTUSD"}), deadline=None)
    order = apply(order, first).unwrap()
    order = apply(order, second).unwrap()
    assert order.attempts == 2
    assert order.raw_request == pmap({"pair": "XBTUSD"})
    assert order.send_deadline is None
    assert order.first_sent_at == NOW


def test_a_rejection_keeps_krakens_message_as_last_error():
    order = apply(an_order(), Rejected(at=NOW, message="EOrder:Insufficient funds")).unwrap()
    assert (order.status, order.last_error) == (S.REJECTED, "EOrder:Insufficient funds")


@pytest.mark.parametrize("kind", [E.SEND_FAILED, E.SEND_UNCONFIRMED, E.GAVE_UP])
def test_send_trouble_is_recorded_as_last_error(kind):
    event = an_event(kind)
    order = apply(an_order(), event).unwrap()
    assert order.last_error == event.message  # type: ignore[union-attr]


def test_the_first_cancel_request_time_is_kept():
    order = an_order_in(S.OPEN)
    order = apply(order, CancelRequested(at=NOW)).unwrap()
    order = apply(order, CancelRequested(at=LATER)).unwrap()
    assert order.cancel_requested_at == NOW


def test_updated_at_never_moves_backwards():
    order = an_order(updated_at=LATER)
    order = apply(order, CancelRequested(at=NOW)).unwrap()
    assert order.updated_at == LATER


# ---------------------------------------------------------------- exchange reality


def test_a_fill_after_a_cancel_request_moves_the_order_to_filled():
    order = an_order_in(S.OPEN)
    order = apply(order, CancelRequested(at=NOW)).unwrap()
    order = apply(order, observed(status=KrakenOrderStatus.CLOSED, volume_executed="0.1")).unwrap()
    assert order.status is S.FILLED


def test_a_completion_hidden_by_a_cancel_all_count_moves_a_canceled_order_to_filled():
    order = an_order_in(S.OPEN)
    order = apply(order, CancelConfirmed(at=NOW)).unwrap()
    order = apply(order, observed(status=KrakenOrderStatus.CLOSED, volume_executed="0.1")).unwrap()
    assert (order.status, order.cumulative_base_filled) == (S.FILLED, Decimal("0.1"))


def test_a_fill_reported_after_the_cancel_raises_the_canceled_orders_fill():
    order = an_order_in(S.CANCELED, cumulative_base_filled="0")
    order = apply(
        order, observed(status=KrakenOrderStatus.CANCELED, volume_executed="0.03")
    ).unwrap()
    assert (order.status, order.cumulative_base_filled) == (S.CANCELED, Decimal("0.03"))


def test_a_duplicate_cancel_acknowledgement_keeps_the_order_canceled():
    order = an_order_in(S.CANCELED)
    order = apply(order, CancelConfirmed(at=NOW)).unwrap()
    assert order.status is S.CANCELED


def test_an_order_given_up_on_that_kraken_does_have_is_tracked_again():
    order = an_order_in(S.ERROR)
    order = apply(order, observed(volume_executed="0.05")).unwrap()
    assert (order.status, order.kraken_order_id) == (S.PARTIALLY_FILLED, TXID)


def test_a_stale_open_report_after_a_partial_fill_is_refused():
    order = an_order_in(S.PARTIALLY_FILLED)
    assert not is_successful(apply(order, observed(volume_executed="0")))


def test_an_ambiguous_send_then_a_lookup_finds_the_order_open():
    order = an_order()
    order = fold(
        order,
        [
            an_event(E.SEND_ATTEMPTED),
            an_event(E.SEND_UNCONFIRMED),
            observed(volume_executed="0"),
        ],
    ).unwrap()
    assert (order.status, order.kraken_order_id) == (S.OPEN, TXID)


def test_fold_stops_at_the_first_event_that_cannot_apply():
    order = an_order()
    result = fold(order, [an_event(E.SIMULATED), an_event(E.ACKNOWLEDGED)])
    assert result.failure().status is S.SIMULATED


def test_fold_of_no_events_is_the_order_itself():
    order = an_order()
    assert fold(order, []).unwrap() == order


# ---------------------------------------------------------------- identity


def test_a_known_txid_identifies_the_order_whatever_else_differs():
    order = an_order(kraken_order_id=TXID, client_order_id=None)
    assert matches_identity(order, order_info(cl_ord_id=None, volume="9"))


def test_an_order_sent_with_a_cl_ord_id_matches_on_it_alone():
    order = an_order()
    assert matches_identity(order, order_info(cl_ord_id="L1"))
    assert not matches_identity(order, order_info(cl_ord_id=None))


def userref_order(**overrides):
    fields = {"client_order_id": None, "userref": 7, "first_sent_at": NOW}
    fields.update(overrides)
    return an_order(**fields)


def test_a_userref_order_matches_kraken_info_with_the_same_tag_and_terms():
    assert matches_identity(userref_order(), order_info(cl_ord_id=None, userref=7))


@pytest.mark.parametrize(
    "difference",
    [
        {"userref": 8},
        {"pair": "ETHUSD"},
        {"side": "sell"},
        {"order_type": "market"},
        {"volume": Decimal("0.2")},
        {"limit_price": Decimal("60300.1")},
        {"opened_at": NOW - timedelta(seconds=11)},
        {"opened_at": None},
    ],
)
def test_a_userref_order_does_not_match_info_that_differs_in_any_term(difference):
    info = order_info(**{"cl_ord_id": None, "userref": 7, **difference})
    assert not matches_identity(userref_order(), info)


def test_a_userref_order_tolerates_small_clock_skew_on_the_open_time():
    info = order_info(cl_ord_id=None, userref=7, opened_at=NOW - timedelta(seconds=9))
    assert matches_identity(userref_order(), info)


def test_a_userref_order_never_sent_is_bounded_by_its_creation_time():
    order = userref_order(first_sent_at=None, created_at=NOW)
    info = order_info(cl_ord_id=None, userref=7, opened_at=NOW - timedelta(minutes=5))
    assert not matches_identity(order, info)


def test_an_order_with_neither_identity_matches_nothing_but_its_txid():
    order = an_order(client_order_id=None, userref=None)
    assert not matches_identity(order, order_info(cl_ord_id=None))


# ---------------------------------------------------------------- constructors


def test_a_new_order_is_pending_and_identified_by_its_local_id():
    order = new_order(an_intent(), local_id="L42", now=NOW)
    assert order.status is S.PENDING
    assert (order.client_order_id, order.userref) == ("L42", None)
    assert (order.requested_base_size, order.requested_price) == (
        Decimal("0.1"),
        Decimal("60300.0"),
    )
    assert (order.created_at, order.updated_at, order.rest_pair) == (NOW, NOW, "XXBTZUSD")


def test_a_new_order_with_a_strategy_userref_sends_no_client_order_id():
    order = new_order(an_intent(userref=1001), local_id="L42", now=NOW)
    assert (order.client_order_id, order.userref) == (None, 1001)


def test_a_guardrail_order_is_an_error_with_the_skip_message_and_is_never_sent():
    skip = ActionSkip(
        action_index=2,
        pair="XBTUSD",
        strategy_id="trend",
        reason=SkipReason.BELOW_MIN_NOTIONAL,
        message="XBTUSD buy 0.0001 @ 60300 is 6.03 USD, below min_order_notional_usd 20",
        side=Side.SELL,
        volume=Decimal("0.0001"),
        price=Decimal(60300),
        order_type=OrderType.MARKET,
        userref=5,
    )
    order = guardrail_order(skip, plan_id="plan-1", local_id="L7", now=NOW)
    assert order.status is S.ERROR
    assert order.last_error == skip.message
    assert (order.side, order.order_type, order.requested_base_size) == (
        Side.SELL,
        OrderType.MARKET,
        Decimal("0.0001"),
    )
    assert (order.client_order_id, order.kraken_order_id, order.attempts) == (None, None, 0)
    assert order.is_terminal


def test_a_guardrail_order_cannot_adopt_an_exchange_order():
    skip = ActionSkip(
        action_index=0, pair="XBTUSD", strategy_id=None, reason=SkipReason.STALE_PRICE, message="m"
    )
    order = guardrail_order(skip, plan_id=None, local_id="L7", now=NOW)
    assert not is_successful(apply(order, observed(cl_ord_id=None)))


def test_apply_rebinds_never_mutates():
    order = an_order()
    after = apply(order, an_event(E.SEND_ATTEMPTED)).unwrap()
    assert order.attempts == 0
    assert after.attempts == 1
    assert replace(after, attempts=0, raw_request=order.raw_request, first_sent_at=None) == order


def test_kraken_reporting_an_amended_price_and_smaller_volume_updates_the_order():
    """An amend (by this process, another, or one that died before writing it) shows in
    the next report of the same txid: the exchange's price and smaller size are taken."""
    order = an_order_in(S.PARTIALLY_FILLED)
    report = observed(
        volume="0.06", volume_executed="0.04", limit_price=Decimal("60100.0"), avg_price=None
    )
    updated = apply(order, report).unwrap()
    assert (updated.requested_price, updated.requested_base_size) == (
        Decimal("60100.0"),
        Decimal("0.06"),
    )
    assert updated.cumulative_base_filled == Decimal("0.04")


def test_a_report_of_another_size_on_a_market_order_or_another_txid_changes_nothing():
    market = an_order_in(S.OPEN, order_type=OrderType.MARKET, requested_price=None)
    same = apply(market, observed(volume="0.05", order_type="market", limit_price=None))
    assert same.unwrap().requested_base_size == market.requested_base_size
    unsent = an_order_in(S.SUBMITTED, kraken_order_id=None)
    found = apply(unsent, observed(limit_price=Decimal("60100.0"))).unwrap()
    assert found.requested_price == unsent.requested_price  # first sight: not an amend
