"""The ledger's memory over weeks: live orders stay in view, finished ones are bounded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.builders import NOW, an_order_in

from kraken_bot.execution.core.models import CancelRequested, LocalOrder, OrderStatus
from kraken_bot.execution.shell import _ledger
from kraken_bot.execution.shell._ledger import Ledger
from kraken_bot.execution.shell.store import SQLiteExecutionStore

KEPT = 5


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    monkeypatch.setattr(_ledger, "_CACHED", KEPT)
    return Ledger(SQLiteExecutionStore(tmp_path / "db.sqlite"), buffer=10)


def finished(n: int) -> list[LocalOrder]:
    return [
        an_order_in(OrderStatus.FILLED, local_id=f"F{i}", kraken_order_id=f"OF{i}")
        for i in range(n)
    ]


def test_a_live_order_stays_in_view_however_many_orders_finish_after_it(ledger: Ledger):
    live = an_order_in(OrderStatus.OPEN, local_id="LIVE", kraken_order_id="OLIVE")
    ledger.record_many([live], "created")
    ledger.record_many(finished(4 * KEPT), "created")
    # The unfilled policy and the router read this: an open order must not drop out of
    # it because other orders were touched since (it once did, after 20,000 of them).
    assert [o.local_id for o in ledger.cached_live()] == ["LIVE"]
    assert ledger.by_kraken_id("OLIVE", fresh=False) == live


def test_finished_orders_and_their_indexes_are_bounded_and_still_found(ledger: Ledger):
    orders = finished(4 * KEPT)
    ledger.record_many(orders, "created")
    assert len(ledger._cache) == KEPT
    assert len(ledger._by_txid) == KEPT
    assert len(ledger._by_client_id) == KEPT
    # A forgotten order is read from the store: nothing is lost, only memory is freed.
    first = orders[0]
    assert ledger.owns_txid("OF0")
    assert ledger.by_kraken_id("OF0") == first
    assert ledger.by_client_id(first.local_id) == first
    assert ledger.get(first.local_id, fresh=False) == first


def test_an_order_that_finishes_leaves_the_live_view(ledger: Ledger):
    live = an_order_in(OrderStatus.OPEN, local_id="LIVE", kraken_order_id="OLIVE")
    ledger.record_many([live], "created")
    done = an_order_in(OrderStatus.FILLED, local_id="LIVE", kraken_order_id="OLIVE")
    ledger._remember(done, 2)
    assert ledger.cached_live() == []
    ledger._remember(live, 1)  # an older read never replaces the newer version
    assert ledger.cached_live() == []
    assert ledger.get("LIVE", fresh=False) == done


def test_refused_events_are_kept_for_diagnostics_up_to_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(_ledger, "_FAILURES_KEPT", 3)
    ledger = Ledger(SQLiteExecutionStore(tmp_path / "db.sqlite"), buffer=10)
    done = an_order_in(OrderStatus.FILLED, local_id="DONE", kraken_order_id="ODONE")
    ledger.record_many([done], "created")
    for i in range(10):  # news about a finished order: refused every time
        refused = ledger.apply("DONE", CancelRequested(at=NOW + timedelta(seconds=i)))
        assert not refused.accepted
    assert len(ledger.transition_failures) == 3
    assert all("no transition from filled" in f for f in ledger.transition_failures)
