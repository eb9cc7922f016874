"""A frame of the executions stream folded into the trails of its txids, and when a
service streams at all (pure)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from tests.builders import NOW

from kraken_bot._enums import ExecutionMode, StreamMode
from kraken_bot.execution.core.streaming import fold_frame, stream_wanted
from kraken_bot.kraken.ws_reports import ExecReport, ExecutionsFrame, OrderTrail, fold_report


def report(txid: str, status: str = "new", cum: str | None = None) -> ExecReport:
    return ExecReport(
        order_id=txid,
        exec_type=status,
        order_status=status,
        timestamp=NOW,
        cum_qty=None if cum is None else Decimal(cum),
    )


def update(*reports: ExecReport, snapshot: bool = False) -> ExecutionsFrame:
    return ExecutionsFrame(snapshot=snapshot, sequence=7, reports=reports)


def test_reports_of_one_txid_fold_in_order_onto_the_trail_already_known():
    known = {"OA": fold_report(None, report("OA"))}
    touched, now = fold_frame(
        known, update(report("OA", "partially_filled", "0.4"), report("OA", "filled", "1"))
    )
    trail = touched["OA"]
    assert (trail.status_word, trail.cum_qty) == ("filled", Decimal(1))
    assert now == (trail,)
    assert known["OA"].status_word == "new"  # the trails given are not changed


def test_touched_trails_come_in_the_order_last_touched_and_are_considered_in_first_touched():
    touched, now = fold_frame({}, update(report("OA"), report("OB"), report("OA", "canceled")))
    assert list(touched) == ["OB", "OA"]
    assert [t.order_id for t in now] == ["OA", "OB"]
    assert now[0].status_word == "canceled"


def test_a_snapshot_is_remembered_but_nothing_of_it_is_considered():
    touched, now = fold_frame({}, update(report("OA"), report("OB"), snapshot=True))
    assert list(touched) == ["OA", "OB"]
    assert now == ()


txids = st.sampled_from(["OA", "OB", "OC"])


@given(st.lists(txids, max_size=8), st.booleans())
def test_folding_a_frame_is_folding_its_reports_one_by_one(ids, snapshot):
    reports = tuple(report(txid, "partially_filled", str(i)) for i, txid in enumerate(ids))
    expected: dict[str, OrderTrail] = {}
    for r in reports:
        expected[r.order_id] = fold_report(expected.get(r.order_id), r)
    touched, now = fold_frame({}, update(*reports, snapshot=snapshot))
    assert touched == expected
    assert len(now) == (0 if snapshot else len(set(ids)))


def test_auto_without_a_websocket_url_polls_quietly():
    wanted = stream_wanted(StreamMode.AUTO, mode=ExecutionMode.LIVE, url=None, observer=False)
    assert wanted == (False, None)
