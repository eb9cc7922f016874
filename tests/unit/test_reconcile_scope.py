"""The scope of a reconciliation pass: listing window, strangers, userref scans, live claims."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import NOW, TXID, an_order, an_order_in, order_info

from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.core.reconcile_scope import (
    claimers_to_check,
    client_ids_to_resolve,
    given_up_userref,
    held_claims,
    listing_since,
    may_carry_our_userref,
    needs_userref_scan,
    strangers,
)

DAY = timedelta(hours=24)
OURS = "6b6b0000-0000-4000-8000-000000000000"
OURS_TOO = "6b6b0000-0000-4000-8000-000000000001"


def test_listings_reach_back_the_look_back_when_nothing_older_is_in_doubt():
    recent = an_order(created_at=NOW - timedelta(minutes=5))
    assert listing_since([recent], now=NOW, look_back=DAY) == NOW - DAY


def test_listings_reach_back_to_the_oldest_order_in_doubt():
    sent_long_ago = an_order(local_id="A", first_sent_at=NOW - 2 * DAY, created_at=NOW - 3 * DAY)
    created_long_ago = an_order(local_id="B", created_at=NOW - 2.5 * DAY)
    since = listing_since([sent_long_ago, created_long_ago], now=NOW, look_back=DAY)
    assert since == NOW - 2.5 * DAY


def test_strangers_are_listed_orders_no_tracked_order_holds():
    held = order_info(txid=TXID)
    other = order_info(txid="OTHER-TXID")
    found, tracked_txids = strangers([held, other], [an_order_in(OrderStatus.OPEN), an_order()])
    assert found == [other]
    assert tracked_txids == frozenset({TXID})


def test_only_our_client_ids_on_unowned_strangers_are_resolved():
    listed = [
        order_info(txid="A", cl_ord_id=OURS),
        order_info(txid="B", cl_ord_id=OURS_TOO),  # owned by txid already
        order_info(txid="C", cl_ord_id="someone-elses"),
        order_info(txid="D", cl_ord_id=None),
    ]
    assert client_ids_to_resolve(listed, frozenset({"B"})) == [OURS]


def test_the_stores_userrefs_are_needed_only_for_a_stranger_with_a_userref_and_no_client_id():
    assert may_carry_our_userref([order_info(cl_ord_id=None, userref=7)])
    assert not may_carry_our_userref([order_info(cl_ord_id=OURS, userref=7)])
    assert not may_carry_our_userref([order_info(cl_ord_id=None, userref=None)])


def test_a_userref_scan_is_needed_for_an_unowned_stranger_with_a_userref_of_ours():
    strategy = order_info(txid="A", cl_ord_id=None, userref=7)
    stored = order_info(txid="B", cl_ord_id=None, userref=9)

    def scan(listed, owned=frozenset()):
        return needs_userref_scan(
            listed, owned, strategy_userrefs={7: "trend"}, our_userrefs=frozenset({9})
        )

    assert scan([strategy])
    assert scan([stored])
    assert not scan([strategy, stored], frozenset({"A", "B"}))
    assert not scan([order_info(cl_ord_id=None, userref=8)])
    assert not scan([order_info(cl_ord_id=OURS, userref=7)])
    assert not scan([order_info(cl_ord_id=None)])


def test_the_userref_scan_looks_at_given_up_userref_orders_only():
    failed = an_order_in(OrderStatus.ERROR, local_id="A", userref=7)
    refused = an_order_in(OrderStatus.REJECTED, local_id="B", userref=7)
    no_ref = an_order_in(OrderStatus.ERROR, local_id="C")
    working = an_order_in(OrderStatus.OPEN, local_id="D", userref=7)
    assert given_up_userref([failed, refused, no_ref, working]) == (failed, refused)


def test_only_other_instances_claims_on_unacknowledged_orders_are_checked():
    tracked = [
        an_order(local_id="A", claimed_by="svc-me"),
        an_order(local_id="B", claimed_by="svc-other"),
        an_order_in(OrderStatus.OPEN, local_id="C", claimed_by="svc-gone"),
        an_order(local_id="D"),
    ]
    assert claimers_to_check(tracked, owner="svc-me") == frozenset({"svc-other"})


def test_a_claim_is_held_by_this_services_sender_or_by_a_live_other_instance():
    tracked = [
        an_order(local_id="mine-held", claimed_by="svc-me"),
        an_order(local_id="mine-done", claimed_by="svc-me"),
        an_order(local_id="alive", claimed_by="svc-alive"),
        an_order(local_id="dead", claimed_by="svc-dead"),
        an_order_in(OrderStatus.OPEN, local_id="acked", claimed_by="svc-alive"),
        an_order(local_id="unclaimed"),
    ]
    held = held_claims(
        tracked,
        owner="svc-me",
        held_here=frozenset({"mine-held", "acked"}),
        alive=frozenset({"svc-alive"}),
    )
    assert held == frozenset({"mine-held", "alive"})
