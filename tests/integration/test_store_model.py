"""The in-memory store (a pure model under a lock) and the SQLite store agree on every read,
through either of two connections to one file.

Hypothesis drives both stores through the same random writes (saves, compare-and-set
updates with current and stale versions, txid links another order owns, adoptions,
audit notes, plan results) and compares every answer and every read after each step:
the fake tests and dry runs rely on is the SQLite store, or close enough to tell.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from pyrsistent import pmap
from tests.records import T0, an_order

from kraken_bot.execution.core.models import (
    ExecutionMode,
    ExecutionResult,
    LocalOrder,
    OrderStatus,
)
from kraken_bot.execution.exceptions import StoreError, TxidTakenError
from kraken_bot.execution.shell.store import (
    ExecutionStore,
    InMemoryExecutionStore,
    SQLiteExecutionStore,
)

EXAMPLES = int(
    os.environ.get(
        "STORE_MODEL_EXAMPLES", "1000" if os.environ.get("HYPOTHESIS_PROFILE") == "chaos" else "60"
    )
)
IDS = st.sampled_from(["L-1", "L-2", "L-3", "L-4"])
TXIDS = st.none() | st.sampled_from(["OAAAAA-AAAAA-AAAAAA", "OBBBBB-BBBBB-BBBBBB"])
PLANS = st.sampled_from(["plan-1", "plan-2"])
STATUSES = st.sampled_from(list(OrderStatus))
SECONDS = st.integers(min_value=0, max_value=5)


@st.composite
def orders(draw: st.DrawFn) -> LocalOrder:
    local_id = draw(IDS)
    created = T0 + timedelta(seconds=draw(SECONDS))
    return an_order(
        local_id=local_id,
        plan_id=draw(PLANS),
        action_index=draw(st.none() | st.integers(min_value=0, max_value=2)),
        client_order_id=draw(st.none() | st.just(f"cl-{local_id}")),
        userref=draw(st.none() | st.sampled_from([7, 8])),
        kraken_order_id=draw(TXIDS),
        status=draw(STATUSES),
        at=created,
        cumulative_base_filled=Decimal(draw(st.sampled_from(["0", "0.05", "0.125"]))),
        updated_at=created + timedelta(seconds=draw(SECONDS)),
    )


def outcome(call: object) -> object:
    """A call's answer, or the type of what it raised (the stores' messages differ)."""
    try:
        return call() if callable(call) else call
    except (TxidTakenError, StoreError) as error:
        return type(error)


class BothStores(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="store-model-"))
        self.sqlite = SQLiteExecutionStore(self.directory / "execution.db")
        # a second connection to the same file, as another process holds one: each keeps
        # its own cache of decoded rows, which must never serve the other's older write
        self.other = SQLiteExecutionStore(self.directory / "execution.db")
        self.writer = self.sqlite
        self.memory = InMemoryExecutionStore()

    def teardown(self) -> None:
        self.sqlite.close()
        self.other.close()
        self.memory.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def both(self, call: str, *args: object, **kwargs: object) -> object:
        """The same write (or read) through the SQLite connection that writes now and the
        in-memory store: the same answer."""
        stores: tuple[ExecutionStore, ExecutionStore] = (self.writer, self.memory)
        answers = [outcome(lambda s=s: getattr(s, call)(*args, **kwargs)) for s in stores]
        assert answers[0] == answers[1], (call, args, kwargs, answers)
        return answers[0]

    def all_agree(self, call: str, *args: object) -> None:
        """A read through both SQLite connections and the in-memory store: one answer."""
        answers = [getattr(s, call)(*args) for s in (self.sqlite, self.other, self.memory)]
        assert answers[0] == answers[1] == answers[2], (call, args, answers)

    @rule()
    def the_other_connection_writes(self) -> None:
        self.writer = self.other if self.writer is self.sqlite else self.sqlite

    @rule(order=orders(), event=st.sampled_from(["created", "observed", None]))
    def save(self, order: LocalOrder, event: str | None) -> None:
        self.both("save_order", order, event=event, detail="d")

    @rule(batch=st.lists(orders(), max_size=3, unique_by=lambda o: o.local_id))
    def save_many(self, batch: list[LocalOrder]) -> None:
        self.both("save_orders", batch, event="created")

    @rule(batch=st.lists(orders(), min_size=1, max_size=3, unique_by=lambda o: o.local_id))
    def save_a_batch_with_a_secret(self, batch: list[LocalOrder]) -> None:
        """One order of the batch carries a credential: neither store keeps any of it."""
        leaky = replace(batch[-1], raw_request=pmap({"nonce": "1", "pair": "XXBTZUSD"}))
        assert self.both("save_orders", [*batch[:-1], leaky], event="created") is StoreError

    @rule(
        order=orders(),
        stale=st.booleans(),
        linking=st.booleans(),
    )
    def update(self, order: LocalOrder, stale: bool, linking: bool) -> None:
        found = self.sqlite.get_versioned(order.local_id)
        version = 0 if found is None else found[1]
        expected = version - 1 if stale and version > 0 else version
        if found is not None:  # an update keeps what a record was created with
            order = replace(order, created_at=found[0].created_at, plan_id=found[0].plan_id)
        self.both(
            "update_order",
            order,
            expected_version=expected,
            event="observed",
            detail=None,
            linking=linking,
        )

    @rule(order=orders())
    def adopt(self, order: LocalOrder) -> None:
        self.both("adopt_order", order, event="adopted", detail="found on Kraken")

    @rule(order=orders(), seconds=SECONDS)
    def note(self, order: LocalOrder, seconds: int) -> None:
        self.both(
            "note_event",
            order,
            "cancel_failed",
            "EOrder:Unknown order",
            at=T0 + timedelta(seconds=seconds),
        )

    @rule(plan_id=PLANS, seconds=SECONDS, success=st.booleans())
    def result(self, plan_id: str, seconds: int, success: bool) -> None:
        started = T0 + timedelta(seconds=seconds)
        result = ExecutionResult(
            plan_id=plan_id,
            started_at=started,
            completed_at=started + timedelta(seconds=1),
            success=success,
            orders=tuple(self.sqlite.orders_for_plan(plan_id)),
            errors=(),
            mode=ExecutionMode.PAPER,
        )
        self.both("save_result", result)

    @invariant()
    def every_read_agrees(self) -> None:
        for local_id in ("L-1", "L-2", "L-3", "L-4"):
            self.all_agree("get_versioned", local_id)
            self.all_agree("get_order", local_id)
            self.all_agree("events_for", local_id)
            self.all_agree("find_by_client_order_id", f"cl-{local_id}")
        for txid in ("OAAAAA-AAAAA-AAAAAA", "OBBBBB-BBBBB-BBBBBB"):
            self.all_agree("find_by_kraken_id", txid)
        for plan_id in ("plan-1", "plan-2"):
            self.all_agree("orders_for_plan", plan_id)
            self.all_agree("get_result", plan_id)
        for limit in (0, 1, 3, 50):
            self.all_agree("recent_orders", limit)
            self.all_agree("recent_results", limit)
        self.all_agree("live_orders")
        self.all_agree("live_versioned")
        self.all_agree("status_counts")
        self.all_agree("userrefs")
        self.all_agree("trails")


BothStores.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=25, deadline=None
)
test_the_in_memory_store_reads_as_sqlite_does = BothStores.TestCase
