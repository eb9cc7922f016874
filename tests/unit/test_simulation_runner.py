"""Replays: the real service against the in-process fake exchange, summarised."""

from __future__ import annotations

import sqlite3

import pytest
from tests.harness import thin_world_file

from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.simulation.runner import SimulationSettings, _Run, run_simulation
from kraken_bot.simulation.summary import summarize

REQUIRED_KEYS = {
    "plans",
    "orders_by_status",
    "duplicates",
    "lost",
    "invariant_violations",
    "db_path",
    "fill_ratio",
    "slippage_bps",
    "fees",
    "retries",
    "rate_limit_waits",
    "faults",
    "fault_outcomes",
}


def comparable(summary_json):
    return {k: v for k, v in summary_json.items() if k not in {"db_path", "wall_seconds"}}


def test_a_short_replay_writes_the_database_and_keeps_every_invariant(tmp_path):
    db = tmp_path / "sim.db"
    outcome = run_simulation(SimulationSettings(db_path=db, plans=2, faults="none"))
    summary = summarize(outcome)
    assert summary.ok, summary.invariant_violations
    assert summary.plans == 2
    assert summary.orders == len(outcome.orders) > 0
    assert outcome.fault_events == []
    assert summary.faults == {}
    with sqlite3.connect(db) as conn:
        (rows,) = conn.execute("SELECT COUNT(*) FROM execution_orders").fetchone()
        (results,) = conn.execute("SELECT COUNT(*) FROM execution_results").fetchone()
    assert rows == summary.orders
    assert results == 2
    assert set(summary.to_json()) >= REQUIRED_KEYS
    assert len(outcome.samples) > 100


def test_no_order_is_left_in_flight_or_open_at_the_end(tmp_path):
    outcome = run_simulation(SimulationSettings(db_path=tmp_path / "sim.db", plans=3))
    assert {o.status for o in outcome.orders} <= {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.ERROR,
    }


def test_the_same_seed_gives_the_same_summary(tmp_path):
    first = summarize(run_simulation(SimulationSettings(db_path=tmp_path / "a.db", plans=4)))
    second = summarize(run_simulation(SimulationSettings(db_path=tmp_path / "b.db", plans=4)))
    third = summarize(
        run_simulation(SimulationSettings(db_path=tmp_path / "c.db", plans=4, seed=8))
    )
    assert comparable(first.to_json()) == comparable(second.to_json())
    assert comparable(first.to_json()) != comparable(third.to_json())


@pytest.mark.parametrize("samples", [False, True])
def test_passing_over_idle_steps_changes_nothing(tmp_path, monkeypatch, samples):
    """The runner moves time past steps where the service has nothing due in one go; a
    tick at every step (as the runner once did) must give the very same run."""
    settings = {"plans": 6, "faults": "heavy", "samples": samples}
    jumping = run_simulation(SimulationSettings(db_path=tmp_path / "a.db", **settings))
    monkeypatch.setattr(_Run, "_steps_until_due", lambda _self, _step: 1)
    stepping = run_simulation(SimulationSettings(db_path=tmp_path / "b.db", **settings))
    assert comparable(summarize(jumping).to_json()) == comparable(summarize(stepping).to_json())
    assert jumping.samples == stepping.samples
    assert [o.updated_at for o in jumping.orders] == [o.updated_at for o in stepping.orders]
    # Every request (dead-man refreshes included) at the same virtual moment.
    assert [(e.time, e.endpoint) for e in jumping.journal] == [
        (e.time, e.endpoint) for e in stepping.journal
    ]
    assert any(e.endpoint == "CancelAllOrdersAfter" for e in jumping.journal)


def test_the_database_is_replaced_at_the_start_of_each_run(tmp_path):
    db = tmp_path / "sim.db"
    db.write_text("not a database")
    (tmp_path / "sim.db-wal").write_text("stale")
    outcome = run_simulation(SimulationSettings(db_path=db, plans=1, faults="none"))
    assert summarize(outcome).ok


def test_every_addorder_fault_is_traced_to_the_order_it_carried(tmp_path):
    outcome = run_simulation(SimulationSettings(db_path=tmp_path / "sim.db", plans=12, seed=7))
    summary = summarize(outcome)
    add_order_faults = [f for f in summary.fault_outcomes if f.endpoint == "AddOrder"]
    assert add_order_faults, "the light profile injects AddOrder faults into the default run"
    assert all(f.local_id is not None and f.final_status for f in add_order_faults)
    assert sum(summary.faults.values()) == len(summary.fault_outcomes)
    assert summary.ok, summary.invariant_violations


@pytest.mark.parametrize("seed", [1, 2])
def test_heavy_faults_break_no_invariant(tmp_path, seed):
    outcome = run_simulation(
        SimulationSettings(db_path=tmp_path / "sim.db", plans=6, seed=seed, faults="heavy")
    )
    summary = summarize(outcome)
    assert summary.faults
    assert summary.duplicates == summary.lost == 0
    assert summary.ok, summary.invariant_violations


def test_userref_tagged_orders_are_matched_by_userref_and_break_no_invariant(tmp_path):
    outcome = run_simulation(
        SimulationSettings(db_path=tmp_path / "sim.db", plans=4, faults="heavy", userref=4242)
    )
    assert {o.userref for o in outcome.orders} == {4242}
    assert {o.userref for o in outcome.exchange_orders} == {4242}
    assert all(o.cl_ord_id is None for o in outcome.exchange_orders)
    assert outcome.violations == []


def test_orders_left_open_are_compared_on_a_still_market(tmp_path):
    settings = SimulationSettings(
        db_path=tmp_path / "sim.db",
        scenario=thin_world_file(tmp_path),
        plans=4,
        faults="heavy",
        seed=10,
        cancel_leftovers=False,
    )
    outcome = run_simulation(settings)
    assert any(
        o.status is OrderStatus.OPEN or o.status is OrderStatus.PARTIALLY_FILLED
        for o in outcome.orders
    )
    assert outcome.violations == []


def test_reconciliation_lists_one_page_of_closed_orders_per_plan_even_a_day_in(tmp_path):
    """Each pass lists what closed since the previous one, not a day of ClosedOrders pages."""
    plans, interval = 54, 1800
    settings = SimulationSettings(
        db_path=tmp_path / "sim.db", plans=plans, plan_interval_seconds=interval, faults="none"
    )
    outcome = run_simulation(settings)
    assert outcome.violations == []
    assert len(outcome.orders) > 3 * 50, "over 24 hours, more than three pages of orders closed"
    # Each reconciliation pass lists OpenOrders, then ClosedOrders page by page.
    pages: list[int] = []
    for entry in outcome.journal:
        if entry.endpoint == "OpenOrders":
            pages.append(0)
        elif entry.endpoint == "ClosedOrders" and pages:
            pages[-1] += 1
    assert len(pages) >= plans
    # every pass between plans reads one page; the final pass reads the last 24 hours
    assert pages[:-1] == [1] * (len(pages) - 1)
    assert pages[-1] > 1
