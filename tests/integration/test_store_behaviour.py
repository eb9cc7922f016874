"""What every ExecutionStore does: the same suite runs on SQLite (a real file) and in memory."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pyrsistent import pmap
from tests.records import T0, a_full_order, an_order

from kraken_bot.execution.core.models import (
    TRACKED_STATUSES,
    ActionSkip,
    ExecutionMode,
    ExecutionResult,
    OrderStatus,
    SkipReason,
)
from kraken_bot.execution.exceptions import StoreError
from kraken_bot.execution.shell.store import (
    ExecutionStore,
    InMemoryExecutionStore,
    SQLiteExecutionStore,
    event_to_json,
)


def a_result(**overrides: Any) -> ExecutionResult:
    fields: dict[str, Any] = {
        "plan_id": "plan-1",
        "started_at": T0,
        "completed_at": T0 + timedelta(seconds=2),
        "success": False,
        "orders": (a_full_order(),),
        "errors": ("ETHUSD: below the 20 USD minimum",),
        "mode": ExecutionMode.LIVE,
        "skipped": (
            ActionSkip(
                action_index=1,
                pair="ETHUSD",
                strategy_id=None,
                reason=SkipReason.BELOW_MIN_NOTIONAL,
                message="too small",
                volume=Decimal("0.0010"),
            ),
        ),
        "replayed": False,
    }
    fields.update(overrides)
    return ExecutionResult(**fields)


def open_store(kind: str, directory: Path) -> SQLiteExecutionStore | InMemoryExecutionStore:
    if kind == "sqlite":
        return SQLiteExecutionStore(directory / "execution.db")
    return InMemoryExecutionStore()


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ExecutionStore]:
    opened = open_store(request.param, tmp_path)
    yield opened
    opened.close()


# ---------------------------------------------------------------- orders


def test_a_saved_order_comes_back_exactly(store):
    order = a_full_order()

    store.save_order(order, event="observed")

    loaded = store.get_order(order.local_id)
    assert loaded == order
    assert loaded is not None
    assert str(loaded.cumulative_base_filled) == "0.03750000"
    assert loaded.raw_response_json == order.raw_response_json


def test_an_unknown_order_is_none(store):
    assert store.get_order("nope") is None
    assert store.find_by_kraken_id("nope") is None
    assert store.find_by_client_order_id("nope") is None
    assert store.events_for("nope") == []


def test_each_save_replaces_the_snapshot_and_appends_to_the_audit_trail(store):
    pending = an_order()
    submitted = replace(
        pending, status=OrderStatus.SUBMITTED, attempts=1, updated_at=T0 + timedelta(seconds=1)
    )
    opened = replace(
        submitted,
        status=OrderStatus.OPEN,
        kraken_order_id="TX-1",
        updated_at=T0 + timedelta(seconds=2, microseconds=5),
    )

    store.save_order(pending, event="created")
    store.save_order(submitted, event="send_attempted", detail="attempt 1")
    store.save_order(opened, event="acknowledged", detail="TX-1")

    assert store.get_order("L-1") == opened
    events = store.events_for("L-1")
    assert [(e.status, e.event, e.detail) for e in events] == [
        (OrderStatus.PENDING, "created", None),
        (OrderStatus.SUBMITTED, "send_attempted", "attempt 1"),
        (OrderStatus.OPEN, "acknowledged", "TX-1"),
    ]
    assert [e.at for e in events] == [pending.updated_at, submitted.updated_at, opened.updated_at]
    assert [e.local_id for e in events] == ["L-1"] * 3
    assert events[0].id < events[1].id < events[2].id


def test_an_audit_row_encodes_to_plain_json(store):
    store.save_order(an_order(), event="created", detail="from plan-1")

    (event,) = store.events_for("L-1")

    assert event_to_json(event) == {
        "id": event.id,
        "local_id": "L-1",
        "at": "2026-03-01T12:00:00.250000+00:00",
        "status": "pending",
        "event": "created",
        "detail": "from plan-1",
    }


def test_a_save_without_an_event_label_still_leaves_an_audit_row(store):
    store.save_order(an_order())

    (event,) = store.events_for("L-1")
    assert (event.status, event.event, event.detail) == (OrderStatus.PENDING, None, None)


def test_save_orders_stores_every_order_with_its_audit_row(store):
    orders = [an_order(local_id=f"L-{i}", client_order_id=f"cl-{i}") for i in range(5)]

    store.save_orders(orders, event="planned")

    assert [store.get_order(o.local_id) for o in orders] == orders
    assert all(
        [(e.event, e.status) for e in store.events_for(o.local_id)]
        == [("planned", OrderStatus.PENDING)]
        for o in orders
    )


def test_save_orders_of_nothing_is_a_no_op(store):
    store.save_orders([])

    assert store.recent_orders() == []


def test_save_orders_applies_repeated_orders_in_sequence(store):
    first = an_order()
    later = replace(first, status=OrderStatus.SUBMITTED, updated_at=T0 + timedelta(seconds=1))

    store.save_orders([first, later])

    assert store.get_order("L-1") == later
    assert [e.status for e in store.events_for("L-1")] == [
        OrderStatus.PENDING,
        OrderStatus.SUBMITTED,
    ]


def test_orders_are_found_by_kraken_id_and_by_client_order_id(store):
    order = an_order(kraken_order_id="TX-9", client_order_id="cl-9", status=OrderStatus.OPEN)
    store.save_order(order)
    store.save_order(an_order(local_id="L-2", kraken_order_id="TX-2", client_order_id="cl-2"))

    assert store.find_by_kraken_id("TX-9") == order
    assert store.find_by_client_order_id("cl-9") == order


def test_when_two_orders_share_an_id_the_newest_is_found(store):
    store.save_order(an_order(local_id="old", kraken_order_id="TX", client_order_id="cl"))
    store.save_order(an_order(local_id="new", kraken_order_id="TX", client_order_id="cl"))
    store.save_order(an_order(local_id="old", kraken_order_id="TX", client_order_id="cl"))

    assert store.find_by_kraken_id("TX").local_id == "new"
    assert store.find_by_client_order_id("cl").local_id == "new"


def test_live_orders_are_the_tracked_ones_oldest_first(store):
    """Live orders, and ``unknown`` ones (reconciliation keeps asking about them)."""
    for index, status in enumerate(OrderStatus):
        store.save_order(
            an_order(
                local_id=f"L-{status.value}",
                status=status,
                created_at=T0 - timedelta(microseconds=index),
            )
        )

    live = store.live_orders()

    assert {o.status for o in live} == set(TRACKED_STATUSES)
    assert [o.created_at for o in live] == sorted(o.created_at for o in live)


def test_an_order_leaves_the_live_set_when_it_terminates(store):
    order = an_order(status=OrderStatus.OPEN)
    store.save_order(order)
    store.save_order(replace(order, status=OrderStatus.FILLED))

    assert store.live_orders() == []


def test_a_plans_orders_come_in_action_order_then_creation_time(store):
    late = T0 + timedelta(microseconds=1)
    store.save_order(an_order(local_id="a2-late", action_index=2, created_at=late))
    store.save_order(an_order(local_id="none", action_index=None))
    store.save_order(an_order(local_id="a2-early", action_index=2, created_at=T0))
    store.save_order(an_order(local_id="a0", action_index=0, created_at=late))
    store.save_order(an_order(local_id="other-plan", plan_id="plan-2", action_index=1))

    ids = [o.local_id for o in store.orders_for_plan("plan-1")]

    assert ids == ["a0", "a2-early", "a2-late", "none"]
    assert store.orders_for_plan("plan-3") == []


def test_recent_orders_are_newest_first_and_limited(store):
    for index in range(6):
        store.save_order(
            an_order(local_id=f"L-{index}", created_at=T0 + timedelta(milliseconds=index))
        )

    assert [o.local_id for o in store.recent_orders(3)] == ["L-5", "L-4", "L-3"]
    assert len(store.recent_orders()) == 6
    assert store.recent_orders(0) == []


def test_orders_created_in_the_same_instant_keep_their_insertion_order(store):
    for name in ("b", "a", "c"):
        store.save_order(an_order(local_id=name))

    assert [o.local_id for o in store.recent_orders()] == ["c", "a", "b"]
    assert [o.local_id for o in store.live_orders()] == ["b", "a", "c"]


def test_a_negative_limit_is_a_programming_error(store):
    with pytest.raises(ValueError, match="limit"):
        store.recent_orders(-1)
    with pytest.raises(ValueError, match="limit"):
        store.recent_results(-1)


def test_times_with_another_offset_come_back_as_the_same_instant_in_utc(store):
    plus_two = timezone(timedelta(hours=2))
    order = an_order(created_at=T0.astimezone(plus_two), updated_at=T0.astimezone(plus_two))

    store.save_order(order)

    loaded = store.get_order("L-1")
    assert loaded == order
    assert loaded is not None
    assert loaded.created_at.tzinfo is UTC


# ---------------------------------------------------------------- guards


@pytest.mark.parametrize(
    "key", ["nonce", "api_key", "API-Key", "API-Sign", "secret", "api_secret", "signature", "otp"]
)
def test_a_request_carrying_a_credential_is_refused_and_nothing_is_stored(store, key):
    order = an_order(raw_request=pmap({"pair": "XXBTZUSD", key: "x"}))

    with pytest.raises(StoreError, match="credential"):
        store.save_order(order)
    with pytest.raises(StoreError, match="credential"):
        store.save_orders([an_order(local_id="L-0"), order])
    with pytest.raises(StoreError, match="credential"):
        store.save_result(a_result(orders=(order,)))

    assert store.get_order("L-1") is None
    assert store.get_order("L-0") is None
    assert store.events_for("L-1") == []
    assert store.get_result("plan-1") is None


def test_an_order_with_a_naive_time_is_refused(store):
    with pytest.raises(ValueError, match="timezone-aware"):
        an_order(updated_at=datetime(2026, 1, 1))  # a LocalOrder refuses it at construction
    corrupted = an_order()
    object.__setattr__(corrupted, "updated_at", datetime(2026, 1, 1))  # bypassing it
    with pytest.raises(StoreError, match="naive datetime"):
        store.save_order(corrupted)

    assert store.get_order("L-1") is None


def test_an_order_with_a_non_finite_amount_is_refused(store):
    with pytest.raises(StoreError, match="finite"):
        store.save_order(an_order(avg_fill_price=Decimal("NaN")))
    with pytest.raises(StoreError, match="finite"):
        store.save_result(a_result(orders=(an_order(fee=Decimal("Infinity")),)))
    skip = a_result().skipped[0]
    with pytest.raises(StoreError, match="finite"):
        store.save_result(a_result(skipped=(replace(skip, price=Decimal("NaN")),)))

    assert store.get_order("L-1") is None
    assert store.get_result("plan-1") is None


# ---------------------------------------------------------------- results


def test_a_saved_result_comes_back_exactly_with_orders_and_skips(store):
    result = a_result()

    store.save_result(result)

    assert store.get_result("plan-1") == result
    assert store.get_result("plan-2") is None


def test_saving_a_plans_result_again_replaces_it(store):
    running = a_result(completed_at=None, success=False, orders=(), errors=())
    done = a_result(success=True, errors=())

    store.save_result(running)
    store.save_result(done)

    assert store.get_result("plan-1") == done
    assert store.recent_results() == [done]


def test_saving_a_result_does_not_touch_the_order_snapshots(store):
    newer = a_full_order(status=OrderStatus.FILLED, updated_at=T0 + timedelta(hours=1))
    store.save_order(newer)

    store.save_result(a_result())

    assert store.get_order(newer.local_id) == newer


def test_recent_results_are_newest_first_and_limited(store):
    for index in (2, 0, 3, 1):
        started = T0 + timedelta(microseconds=index)
        store.save_result(a_result(plan_id=f"plan-{index}", started_at=started))

    assert [r.plan_id for r in store.recent_results(3)] == ["plan-3", "plan-2", "plan-1"]
    assert store.recent_results(0) == []


# ---------------------------------------------------------------- lifecycle


def test_every_call_after_close_is_refused(store):
    store.close()
    store.close()

    calls = [
        lambda: store.save_order(an_order()),
        lambda: store.save_orders([an_order()]),
        lambda: store.save_result(a_result()),
        lambda: store.get_order("L-1"),
        lambda: store.find_by_kraken_id("TX"),
        lambda: store.find_by_client_order_id("cl"),
        store.live_orders,
        lambda: store.orders_for_plan("plan-1"),
        store.recent_orders,
        lambda: store.get_result("plan-1"),
        store.recent_results,
        lambda: store.events_for("L-1"),
    ]
    for call in calls:
        with pytest.raises(StoreError, match="closed"):
            call()


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_the_store_is_a_context_manager_that_closes(kind, tmp_path):
    with open_store(kind, tmp_path) as opened:
        opened.save_order(an_order())

    with pytest.raises(StoreError, match="closed"):
        opened.get_order("L-1")


def test_concurrent_writers_lose_nothing(store):
    threads_count, saves = 8, 40

    def worker(thread: int) -> None:
        order = an_order(local_id=f"T-{thread}", client_order_id=f"cl-T-{thread}")
        for attempt in range(saves):
            store.save_order(replace(order, attempts=attempt), event=f"step-{attempt}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for number in range(threads_count):
        loaded = store.get_order(f"T-{number}")
        assert loaded is not None
        assert loaded.attempts == saves - 1
        assert [e.event for e in store.events_for(f"T-{number}")] == [
            f"step-{n}" for n in range(saves)
        ]


# ---------------------------------------------------------------- parity


def test_both_stores_answer_every_query_alike(tmp_path):
    rng = random.Random(20260301)
    statuses = list(OrderStatus)
    orders = [
        an_order(
            local_id=f"L-{n:02d}",
            plan_id=rng.choice(["plan-a", "plan-b", None]),
            status=rng.choice(statuses),
            kraken_order_id=rng.choice([None, "TX-1", "TX-2", f"TX-{n}"]),
            client_order_id=rng.choice([None, "cl-1", f"cl-{n}"]),
            action_index=rng.choice([None, 0, 1, 2]),
            # whole seconds and sub-second ties, in no particular order
            created_at=T0 + timedelta(seconds=rng.randint(0, 2), microseconds=rng.randint(0, 2)),
        )
        for n in range(40)
    ]
    updates = rng.sample(orders, 15)
    results = [
        a_result(plan_id=f"plan-{n}", started_at=T0 + timedelta(seconds=rng.randint(0, 1)))
        for n in range(6)
    ]
    sqlite_store = SQLiteExecutionStore(tmp_path / "parity.db")
    memory_store = InMemoryExecutionStore()
    for one in (sqlite_store, memory_store):
        for order in orders:
            one.save_order(order, event="created")
        one.save_orders([replace(o, attempts=1) for o in updates], event="updated")
        for result in results:
            one.save_result(result)

    def answers(one: ExecutionStore) -> list[object]:
        return [
            one.live_orders(),
            one.orders_for_plan("plan-a"),
            one.orders_for_plan("plan-b"),
            one.recent_orders(7),
            one.recent_orders(),
            [one.find_by_kraken_id(t) for t in ("TX-1", "TX-2", "TX-5")],
            [one.find_by_client_order_id(c) for c in ("cl-1", "cl-3")],
            one.recent_results(4),
            [
                [(e.local_id, e.at, e.status, e.event, e.detail) for e in one.events_for(o)]
                for o in ("L-00", "L-07", "L-39")
            ],
        ]

    assert answers(sqlite_store) == answers(memory_store)
    sqlite_store.close()
