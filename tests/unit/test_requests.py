"""What goes on the wire for an order, and how it is found again (`core.requests`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.builders import NOW, TXID, an_order, order_info

from kraken_bot.execution.core.models import TimeInForce
from kraken_bot.execution.core.requests import (
    CancelTarget,
    Identity,
    add_order_request,
    amend_order_request,
    cancel_target,
    first_match,
    identity_of,
    look_back_start,
)


def test_a_gtd_limit_order_carries_its_expiry_and_post_flag():
    request = add_order_request(
        an_order(post_only=True, time_in_force=TimeInForce.GTD),
        deadline=NOW,
        validate=False,
        gtd_expire_seconds=90,
    )

    assert (request.expiretm, request.oflags, request.validate, request.deadline) == (
        "+90",
        ("post",),
        False,
        NOW,
    )


def test_an_amend_needs_the_order_txid():
    with pytest.raises(ValueError, match="no Kraken txid"):
        amend_order_request(
            an_order(), price_text="1", size_text=None, post_only=False, deadline=NOW
        )
    request = amend_order_request(
        an_order(kraken_order_id=TXID),
        price_text="1.5",
        size_text="2",
        post_only=True,
        deadline=NOW,
    )
    assert (request.txid, request.limit_price, request.order_qty) == (TXID, "1.5", "2")


def test_a_cancel_names_the_txid_else_the_client_id():
    assert cancel_target(an_order(kraken_order_id=TXID)) == CancelTarget(txid=TXID, cl_ord_id=None)
    assert cancel_target(an_order()) == CancelTarget(txid=None, cl_ord_id="L1")
    with pytest.raises(ValueError, match="neither a Kraken txid nor a client order id"):
        cancel_target(an_order(client_order_id=None, userref=5))


def test_an_order_is_looked_up_by_the_identity_it_was_sent_with():
    assert identity_of(an_order()) == Identity(cl_ord_id="L1", userref=None)
    assert identity_of(an_order(client_order_id=None, userref=5)) == Identity(
        cl_ord_id=None, userref=5
    )


def test_closed_orders_are_searched_from_two_minutes_before():
    assert look_back_start(NOW) == int((NOW - timedelta(minutes=2)).timestamp())


def test_the_first_match_skips_taken_and_other_orders():
    other = order_info(txid="OTHER1-AAAAA-AAAAAA", cl_ord_id="L2")
    taken = order_info(txid="TAKEN1-AAAAA-AAAAAA")
    mine = order_info()

    assert first_match(an_order(), [other, taken, mine], lambda t: t == taken.txid) == mine
    assert first_match(an_order(), [other], lambda t: False) is None
