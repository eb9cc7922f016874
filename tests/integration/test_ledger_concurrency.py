"""The ledger owns order state: compare-and-set across connections, one txid per order."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pyrsistent import pmap
from tests.builders import NOW, TXID, an_order, order_info

from kraken_bot.execution.core.models import (
    Acknowledged,
    CancelRequested,
    GaveUp,
    Observed,
    OrderStatus,
    SendAttempted,
)
from kraken_bot.execution.exceptions import TxidTakenError
from kraken_bot.execution.shell._ledger import Ledger
from kraken_bot.execution.shell.store import SQLiteExecutionStore


def two_ledgers(tmp_path: Path) -> tuple[Ledger, Ledger]:
    """Two processes' ledgers on one database (two connections)."""
    first = Ledger(SQLiteExecutionStore(tmp_path / "db.sqlite"), buffer=10, owner="a")
    second = Ledger(SQLiteExecutionStore(tmp_path / "db.sqlite"), buffer=10, owner="b")
    return first, second


def test_a_write_onto_a_stale_version_is_folded_again_onto_the_newer_one(tmp_path):
    first, second = two_ledgers(tmp_path)
    order = an_order()
    first.record_many([order], "created")
    second.load()
    second.get(order.local_id, fresh=False)  # the second process caches version 1
    sent = SendAttempted(at=NOW, attempt=1, request=pmap({}), deadline=NOW)
    assert first.apply(order.local_id, sent).accepted
    # The second process, still holding version 1, decides "never sent": the store says
    # its version is stale, the event is folded again onto the newer one and refused.
    refused = second.apply(order.local_id, GaveUp(at=NOW, message="never", never_sent=True))
    assert not refused.accepted
    assert second.conflicts == 1
    assert "send attempt(s) are recorded" in str(refused.error)
    stored = first.get(order.local_id)
    assert stored is not None
    assert stored.status is OrderStatus.PENDING


def test_changes_from_two_processes_are_both_kept(tmp_path):
    first, second = two_ledgers(tmp_path)
    order = an_order()
    first.record_many([order], "created")
    second.get(order.local_id, fresh=False)
    first.apply(order.local_id, SendAttempted(at=NOW, attempt=1, request=pmap({}), deadline=NOW))
    second.apply(order.local_id, CancelRequested(at=NOW))
    final = first.get(order.local_id)
    assert final is not None
    assert final.attempts == 1
    assert final.cancel_requested_at == NOW


def test_many_threads_never_lose_a_change(tmp_path):
    ledger = Ledger(SQLiteExecutionStore(tmp_path / "db.sqlite"), buffer=10)
    orders = [an_order(local_id=f"L{i}") for i in range(40)]
    ledger.record_many(orders, "created")

    def send(order_id: str) -> None:
        ledger.apply(order_id, SendAttempted(at=NOW, attempt=1, request=pmap({}), deadline=NOW))
        ledger.apply(order_id, CancelRequested(at=NOW))

    threads = [threading.Thread(target=send, args=(o.local_id,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for order in orders:
        stored = ledger.get(order.local_id)
        assert stored is not None
        assert (stored.attempts, stored.cancel_requested_at) == (1, NOW)


def test_one_txid_is_never_linked_to_two_local_orders(tmp_path):
    first, second = two_ledgers(tmp_path)
    twin_a = an_order(local_id="A", userref=7, client_order_id=None)
    twin_b = an_order(local_id="B", userref=7, client_order_id=None)
    first.record_many([twin_a, twin_b], "created")
    ack = Acknowledged(at=NOW, txid=TXID, response_json="{}")
    assert first.apply("A", ack).accepted
    seen = Observed(at=NOW, info=order_info(txid=TXID, userref=7, cl_ord_id=None))
    refused = second.apply("B", seen)  # the other process would link the same txid
    assert not refused.accepted
    assert f"txid {TXID} is owned by order A" in str(refused.error)


def test_the_database_refuses_a_second_owner_of_a_txid_across_connections(tmp_path):
    """The check runs inside the write transaction, so two processes cannot both link it."""
    first = SQLiteExecutionStore(tmp_path / "db.sqlite")
    second = SQLiteExecutionStore(tmp_path / "db.sqlite")
    first.save_order(an_order(local_id="A", kraken_order_id=TXID, status=OrderStatus.OPEN))
    second.save_order(an_order(local_id="B"))
    (order, version) = second.get_versioned("B") or (None, 0)
    assert order is not None
    linked = an_order(local_id="B", kraken_order_id=TXID, status=OrderStatus.SUBMITTED)
    with pytest.raises(TxidTakenError, match="owned by order A"):
        second.update_order(linked, expected_version=version)
    assert second.get_order("B") == order  # nothing written
    assert not second.adopt_order(an_order(local_id="C", kraken_order_id=TXID))
