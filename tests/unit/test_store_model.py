"""The store as a value (`core._store.model`): each rule of the SQLite store, one by one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.records import T0, an_order

from kraken_bot.execution.core._store import model
from kraken_bot.execution.core._store.records import order_snapshot, result_snapshot
from kraken_bot.execution.core.models import ExecutionMode, ExecutionResult, LocalOrder, OrderStatus
from kraken_bot.execution.exceptions import StoreError, TxidTakenError

TXID = "OAAAAA-AAAAA-AAAAAA"


def saved(*orders: LocalOrder) -> model.StoreState:
    return model.put_orders(model.StoreState(), [order_snapshot(o) for o in orders], "created")


def test_a_save_keeps_the_first_row_and_bumps_the_version():
    state = saved(an_order(local_id="L-1"), an_order(local_id="L-2"))
    again = model.put_order(state, order_snapshot(an_order(local_id="L-1")), "observed", None)

    assert model.versioned(again, "L-1") == (an_order(local_id="L-1"), 2)
    assert again.orders["L-1"].row == 1
    assert again.last_row == 2
    assert [r.event for r in again.events["L-1"]] == ["created", "observed"]
    assert [r.id for r in model.trails(again)["L-1"]] == [1, 3]


def test_a_snapshot_that_does_not_decode_is_not_stored():
    with pytest.raises(StoreError, match="cannot be stored"):
        model.put_order(model.StoreState(), {"local_id": "L-1"}, None, None)


def test_an_update_is_compare_and_set_and_never_inserts():
    state = saved(an_order(local_id="L-1"))
    order = an_order(local_id="L-1", kraken_order_id=TXID)
    snapshot = order_snapshot(order)

    def update(state: model.StoreState, version: int) -> tuple[model.StoreState, int | None]:
        return model.update_order(
            state, order, snapshot, expected_version=version, event="x", detail=None, linking=True
        )

    assert update(state, 2) == (state, None)
    state, version = update(state, 1)
    assert version == 2
    assert model.newest(state, lambda o: o.kraken_order_id == TXID) == order
    other = an_order(local_id="L-9")
    assert model.update_order(
        state,
        other,
        order_snapshot(other),
        expected_version=0,
        event=None,
        detail=None,
        linking=False,
    ) == (state, None)


def test_a_txid_another_order_has_is_not_linked_nor_adopted():
    state = saved(an_order(local_id="L-1", kraken_order_id=TXID), an_order(local_id="L-2"))
    taker = an_order(local_id="L-2", kraken_order_id=TXID)

    with pytest.raises(TxidTakenError, match="owned by order L-1"):
        model.update_order(
            state,
            taker,
            order_snapshot(taker),
            expected_version=1,
            event=None,
            detail=None,
            linking=True,
        )
    stray = an_order(local_id="L-3", kraken_order_id=TXID)
    assert model.adopt_order(state, stray, order_snapshot(stray), event="a", detail=None) == (
        state,
        False,
    )


def test_a_txid_linked_before_is_left_as_it_is():
    twin = an_order(local_id="L-2", kraken_order_id=TXID)
    state = saved(an_order(local_id="L-1", kraken_order_id=TXID), twin)

    _, version = model.update_order(
        state, twin, order_snapshot(twin), expected_version=1, event=None, detail=None, linking=True
    )

    assert version == 2


def test_adopting_inserts_only_a_new_record():
    state = saved(an_order(local_id="L-1"))
    found = an_order(local_id="L-2", kraken_order_id=TXID)

    assert (
        model.adopt_order(state, an_order(), order_snapshot(an_order()), event=None, detail=None)[1]
        is False
    )
    adopted, inserted = model.adopt_order(
        state, found, order_snapshot(found), event="adopted", detail="on Kraken"
    )
    assert inserted
    assert model.version_of(adopted, "L-2") == 1


def test_a_note_carries_the_stored_status_and_needs_a_stored_order():
    state = saved(an_order(local_id="L-1"))
    later = T0 + timedelta(seconds=9)

    noted = model.note_event(state, an_order(local_id="L-1"), "amend", "d", at=later)
    assert noted.events["L-1"][-1].at == later
    assert model.note_event(state, an_order(local_id="L-7"), "amend", None, at=later) is state


def result(plan_id: str, seconds: int) -> ExecutionResult:
    started = T0 + timedelta(seconds=seconds)
    return ExecutionResult(
        plan_id=plan_id,
        started_at=started,
        completed_at=started,
        success=True,
        orders=(),
        errors=(),
        mode=ExecutionMode.PAPER,
    )


def test_one_result_per_plan_newest_first():
    state = model.save_result(model.StoreState(), result("p-1", 5))
    state = model.save_result(state, result("p-2", 1))
    state = model.save_result(state, result("p-1", 0))

    assert [r.plan_id for r in model.recent_results(state, 5)] == ["p-2", "p-1"]
    assert model.recent_results(state, 0) == []
    assert state.results["p-1"][0] == 1


def test_reads_order_like_sqlite():
    a = an_order(local_id="A", plan_id="p", action_index=None, userref=7)
    b = an_order(local_id="B", plan_id="p", action_index=1, at=T0 + timedelta(seconds=1))
    state = saved(a, b)

    assert model.orders_for_plan(state, "p") == [b, a]
    assert [o.local_id for o in model.recent_orders(state, 1)] == ["B"]
    assert [o.local_id for o, _ in model.live_versioned(state)] == ["A", "B"]
    assert model.status_counts(state) == {"pending": 2}
    assert model.userrefs(state) == frozenset({7})
    assert model.versioned(state, "C") is None
    assert model.version_of(state, "C") == 0
    assert model.newest(state, lambda o: False) is None


def test_an_update_without_a_txid_checks_no_owner():
    state = saved(an_order(local_id="L-1"))
    order = an_order(local_id="L-1", status=OrderStatus.CANCELED)

    _, version = model.update_order(
        state,
        order,
        order_snapshot(order),
        expected_version=1,
        event=None,
        detail=None,
        linking=True,
    )

    assert version == 2


def test_a_result_is_kept_as_its_round_trip():
    stored = model.decode_result(result_snapshot(result("p-1", 0)))

    assert stored == result("p-1", 0)
    with pytest.raises(StoreError, match="cannot be stored"):
        model.decode_result({"plan_id": "p-1"})
