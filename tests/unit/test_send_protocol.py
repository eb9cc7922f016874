"""The send loop of one order, as a pure state machine: every path, intent by intent.

Each test scripts what the world answers (the write-ahead, AddOrder, the ledger, the
lookups) and checks what the protocol asks the shell to do, in order. The shell that
performs these intents against the fake exchange is tested in tests/integration.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.builders import NOW, a_config, an_order, order_info

from kraken_bot.execution.core import send_protocol as sp
from kraken_bot.execution.core.models import (
    Acknowledged,
    GaveUp,
    LocalOrder,
    Observed,
    OrderStatus,
    Rejected,
    SendFailed,
    SendUnconfirmed,
    Validated,
    Withdrawn,
)
from kraken_bot.kraken.errors import error_from_kraken
from kraken_bot.kraken.types import AddOrderAck

DEADLINE = NOW + timedelta(seconds=15)
PENDING = an_order(status=OrderStatus.PENDING, kraken_order_id=None)
SENT = replace(PENDING, status=OrderStatus.SUBMITTED, attempts=1, send_deadline=DEADLINE)


def ack(*txids: str) -> AddOrderAck:
    return AddOrderAck(txids=txids, description="buy", raw="{}")


def error(text: str) -> sp.SendError:
    return sp.SendError(
        order=SENT, error=error_from_kraken([text], endpoint="AddOrder"), attempt=1,
        deadline=DEADLINE,
    )  # fmt: skip


def run(answers: dict[type, list[sp.Outcome]], *, validating: bool = False, **config: object):
    """Drive the protocol; each intent that reports is answered from ``answers`` (by the
    intent's type, in order). Returns the intents seen and the order it ended with."""
    seen: list[sp.Intent] = []
    state, intent = sp.begin(PENDING, config=a_config(**config), validating=validating)
    now = NOW
    for _ in range(100):
        seen.append(intent)
        if isinstance(intent, sp.Done):
            return seen, intent.order
        if isinstance(intent, sp.Sleep | sp.Log | sp.Count):
            if isinstance(intent, sp.Sleep):
                now += timedelta(seconds=intent.seconds)
            intent = intent.then
            continue
        if isinstance(intent, sp.Record):
            outcome: sp.Outcome = sp.Current(order=_folded(intent.order, intent.event))
        else:
            outcome = answers[type(intent)].pop(0)
        state, intent = sp.advance(state, outcome, now=now)
    raise AssertionError("the protocol did not end")


def _folded(order: LocalOrder, event: object) -> LocalOrder:
    """A stand-in for the ledger's fold: enough status to tell the paths apart."""
    statuses = {
        Acknowledged: OrderStatus.OPEN,
        Validated: OrderStatus.VALIDATED,
        Rejected: OrderStatus.REJECTED,
        GaveUp: OrderStatus.ERROR,
        Withdrawn: OrderStatus.CANCELED,
        Observed: OrderStatus.OPEN,
    }
    status = statuses.get(type(event), order.status)
    return replace(order, status=status)


def kinds(seen: list[sp.Intent]) -> list[str]:
    return [type(intent).__name__ for intent in seen]


def test_an_answered_send_is_recorded_and_done():
    seen, final = run({sp.Attempt: [sp.Acked(order=SENT, ack=ack("OA"))]})
    assert kinds(seen) == ["Attempt", "Record", "Done"]
    assert isinstance(seen[1], sp.Record)
    assert seen[1].event == Acknowledged(at=NOW, txid="OA", response_json="{}")
    assert final.status is OrderStatus.OPEN


def test_paper_answers_validate():
    seen, final = run({sp.Attempt: [sp.Acked(order=SENT, ack=ack())]}, validating=True)
    assert kinds(seen) == ["Attempt", "Record", "Done"]
    assert final.status is OrderStatus.VALIDATED


def test_several_txids_and_a_missing_one_are_logged_as_warnings():
    seen, _ = run({sp.Attempt: [sp.Acked(order=SENT, ack=ack("OA", "OB"))]})
    assert kinds(seen) == ["Attempt", "Log", "Record", "Done"]
    assert isinstance(seen[1], sp.Log)
    assert seen[1].level == "warning"
    assert "several txids ('OA', 'OB')" in seen[1].text
    seen, _ = run({sp.Attempt: [sp.Acked(order=SENT, ack=ack())]})
    assert kinds(seen) == ["Attempt", "Log", "Record", "Done"]
    assert isinstance(seen[2], sp.Record)
    assert isinstance(seen[2].event, SendUnconfirmed)


def test_a_refused_write_ahead_sends_nothing_and_a_requested_cancel_withdraws():
    canceled = replace(PENDING, cancel_requested_at=NOW)
    seen, final = run({sp.Attempt: [sp.NotWritten(order=canceled, attempt=1)]})
    assert kinds(seen) == ["Attempt", "Log", "Record", "Done"]
    assert isinstance(seen[1], sp.Log)
    assert seen[1].text == f"order {PENDING.local_id}: not sent (pending)"
    assert isinstance(seen[2], sp.Record)
    assert isinstance(seen[2].event, Withdrawn)
    assert final.status is OrderStatus.CANCELED
    taken = replace(PENDING, status=OrderStatus.OPEN, attempts=1)  # another sender's
    seen, final = run({sp.Attempt: [sp.NotWritten(order=taken, attempt=1)]})
    assert kinds(seen) == ["Attempt", "Log", "Done"]
    assert final == taken


def test_a_permanent_error_is_recorded_once():
    seen, final = run({sp.Attempt: [error("EOrder:Insufficient funds")]})
    assert kinds(seen) == ["Attempt", "Record", "Done"]
    assert final.status is OrderStatus.REJECTED


def test_a_refused_send_backs_off_reads_the_order_again_and_sends_again():
    seen, final = run(
        {
            sp.Attempt: [error("EAPI:Rate limit exceeded"), sp.Acked(order=SENT, ack=ack("OA"))],
            sp.Refresh: [sp.Current(order=SENT)],
        }
    )
    assert kinds(seen) == [
        "Attempt", "Record", "Count", "Sleep", "Refresh", "Attempt", "Record", "Done",
    ]  # fmt: skip
    assert isinstance(seen[1], sp.Record)
    assert isinstance(seen[1].event, SendFailed)
    assert isinstance(seen[2], sp.Count)
    assert seen[2].counter == "retries"
    assert isinstance(seen[5], sp.Attempt)
    assert seen[5].order == SENT
    assert final.status is OrderStatus.OPEN


def test_an_ambiguous_send_waits_for_the_deadline_then_adopts_what_the_lookup_finds():
    seen, final = run(
        {
            sp.Attempt: [error("EService:Busy")],
            sp.Refresh: [sp.Current(order=SENT)],
            sp.LookUp: [sp.LookedUp(found=order_info(txid="OA"), ok=True)],
        },
        lookup_margin_seconds=5,
    )
    assert kinds(seen) == [
        "Attempt", "Count", "Record", "Sleep", "Refresh", "LookUp", "Count", "Record", "Done",
    ]  # fmt: skip
    assert isinstance(seen[1], sp.Count)
    assert seen[1].counter == "ambiguous"
    assert isinstance(seen[3], sp.Sleep)
    assert seen[3].seconds > 15
    assert isinstance(seen[6], sp.Count)
    assert seen[6].counter == "adopted_after_lookup"
    assert isinstance(seen[7], sp.Record)
    assert isinstance(seen[7].event, Observed)
    assert final.status is OrderStatus.OPEN


def test_no_wait_when_the_deadline_has_passed_and_none_for_an_order_settled_meanwhile():
    late = error("EService:Busy")
    late = replace(late, deadline=NOW - timedelta(minutes=5))
    settled = replace(SENT, status=OrderStatus.OPEN, kraken_order_id="OA")
    seen, final = run(
        {sp.Attempt: [late], sp.Refresh: [sp.Current(order=settled)]}, lookup_margin_seconds=0
    )
    assert kinds(seen) == ["Attempt", "Count", "Record", "Refresh", "Done"]
    assert final == settled


def test_an_empty_lookup_is_repeated_once_then_the_order_is_sent_again():
    seen, final = run(
        {
            sp.Attempt: [error("EService:Busy"), sp.Acked(order=SENT, ack=ack("OA"))],
            sp.Refresh: [sp.Current(order=SENT), sp.Current(order=SENT), sp.Current(order=SENT)],
            sp.LookUp: [sp.LookedUp(found=None, ok=True), sp.LookedUp(found=None, ok=True)],
        },
        lookup_margin_seconds=0,
    )
    assert kinds(seen)[5:] == [
        "LookUp", "Sleep", "LookUp", "Refresh", "Count", "Sleep", "Refresh", "Attempt",
        "Record", "Done",
    ]  # fmt: skip
    assert isinstance(seen[6], sp.Sleep)
    assert seen[6].seconds == 1.0
    assert final.status is OrderStatus.OPEN


def test_a_failed_lookup_is_not_repeated_and_leaves_the_order_for_reconciliation():
    seen, final = run(
        {
            sp.Attempt: [error("EService:Busy")],
            sp.Refresh: [sp.Current(order=SENT), sp.Current(order=SENT)],
            sp.LookUp: [sp.LookedUp(found=None, ok=False)],
        }
    )
    assert kinds(seen)[5:] == ["LookUp", "Refresh", "Log", "Done"]
    assert isinstance(seen[7], sp.Log)
    assert seen[7].text == (
        f"order {SENT.local_id}: lookup failed after an ambiguous send; it stays submitted"
        " until reconciliation"
    )
    assert final == SENT


def test_after_an_empty_lookup_an_order_settled_meanwhile_is_left_as_it_is():
    settled = replace(SENT, status=OrderStatus.OPEN, kraken_order_id="OA")
    seen, final = run(
        {
            sp.Attempt: [error("EService:Busy")],
            sp.Refresh: [sp.Current(order=SENT), sp.Current(order=settled)],
            sp.LookUp: [sp.LookedUp(found=None, ok=True), sp.LookedUp(found=None, ok=True)],
        }
    )
    assert kinds(seen)[-2:] == ["Refresh", "Done"]
    assert final == settled


def test_an_absent_order_whose_cancel_was_requested_is_withdrawn_and_logged():
    canceling = replace(SENT, cancel_requested_at=NOW)
    seen, final = run(
        {
            sp.Attempt: [error("EService:Busy")],
            sp.Refresh: [sp.Current(order=SENT), sp.Current(order=canceling)],
            sp.LookUp: [sp.LookedUp(found=None, ok=True), sp.LookedUp(found=None, ok=True)],
        }
    )
    assert kinds(seen)[-3:] == ["Log", "Record", "Done"]
    assert isinstance(seen[-2], sp.Record)
    assert isinstance(seen[-2].event, Withdrawn)
    assert final.status is OrderStatus.CANCELED


def test_an_absent_order_without_retries_left_is_given_up():
    last = replace(SENT, attempts=4)
    seen, final = run(
        {
            sp.Attempt: [replace(error("EService:Busy"), order=last, attempt=4)],
            sp.Refresh: [sp.Current(order=last), sp.Current(order=last)],
            sp.LookUp: [sp.LookedUp(found=None, ok=True), sp.LookedUp(found=None, ok=True)],
        },
        max_retries=3,
    )
    assert kinds(seen)[-2:] == ["Record", "Done"]
    assert isinstance(seen[-2], sp.Record)
    assert isinstance(seen[-2].event, GaveUp)
    assert final.status is OrderStatus.ERROR


def test_an_order_reported_while_none_is_awaited_is_a_bug_not_a_step():
    state, _ = sp.begin(PENDING, config=a_config(), validating=False)
    with pytest.raises(AssertionError, match="awaiting"):
        sp.advance(state, sp.Current(order=PENDING), now=NOW)
