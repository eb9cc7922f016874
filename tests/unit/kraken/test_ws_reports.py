"""The WebSocket v2 parser and the fold of execution reports into an order's trail (pure),
and the stream decision over a local order: properties over any order of arrival."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kraken_bot.execution.core.models import LocalOrder, Observed, OrderStatus, OrderType, Side
from kraken_bot.execution.core.streaming import AskRest, FoldStreamed, decide_streamed
from kraken_bot.kraken.types import KrakenOrderStatus
from kraken_bot.kraken.ws_reports import (
    ExecReport,
    ExecutionsFrame,
    Heartbeat,
    MethodReply,
    OrderTrail,
    StatusFrame,
    fold_report,
    parse_frame,
    sequence_follows,
    trail_info,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def frame(*rows: dict[str, object], kind: str = "update", sequence: int = 2) -> str:
    return json.dumps(
        {"channel": "executions", "type": kind, "data": list(rows), "sequence": sequence}
    )


def test_frames_of_each_kind_parse():
    assert parse_frame('{"channel":"heartbeat"}').unwrap() == Heartbeat()
    status = parse_frame('{"channel":"status","type":"update","data":[{"system":"online"}]}')
    assert status.unwrap() == StatusFrame(system="online")
    pong = parse_frame('{"method":"pong","req_id":4,"time_in":"x","time_out":"y"}').unwrap()
    assert pong == MethodReply(method="pong", req_id=4, success=True, error=None, result=None)
    refused = parse_frame('{"method":"subscribe","success":false,"error":"EAPI:Invalid token"}')
    reply = refused.unwrap()
    assert isinstance(reply, MethodReply)
    assert reply.error == "EAPI:Invalid token"
    assert parse_frame('{"channel":"book","data":[]}').unwrap() is None


def test_numbers_are_read_as_decimals_from_the_json_text():
    text = frame(
        {
            "order_id": "OA",
            "exec_type": "trade",
            "order_status": "partially_filled",
            "exec_id": "TA",
            "last_qty": 0.1,
            "cum_qty": 0.30000000000000004,
            "fees": [{"asset": "USD", "qty": 0.00012345678901}],
        }
    )
    parsed = parse_frame(text).unwrap()
    assert isinstance(parsed, ExecutionsFrame)
    (report,) = parsed.reports
    assert report.last_qty == Decimal("0.1")
    assert report.cum_qty == Decimal("0.30000000000000004")
    assert report.fee == Decimal("0.00012345678901")


def test_malformed_frames_are_failures_that_say_what_is_wrong():
    assert "not JSON" in str(parse_frame("CloudFlare WebSocket proxy restarting").failure())
    assert "not a list" in str(parse_frame('{"channel":"executions","data":{}}').failure())
    missing = parse_frame(frame({"exec_type": "new"})).failure()
    assert "order_id" in str(missing)


def test_a_gap_is_any_update_that_does_not_follow_by_one():
    def update(n: int) -> ExecutionsFrame:
        return ExecutionsFrame(snapshot=False, sequence=n, reports=())

    assert sequence_follows(1, update(2))
    assert not sequence_follows(1, update(3))
    assert not sequence_follows(5, update(5))  # a repeat is not the next one either
    assert sequence_follows(None, ExecutionsFrame(snapshot=True, sequence=1, reports=()))


# ---------------------------------------------------------------- the fold, any arrival order

FILLS = [
    (Decimal("0.2"), Decimal("0.08")),
    (Decimal("0.3"), Decimal("0.12")),
    (Decimal("0.5"), Decimal("0.2")),
]


def life() -> list[ExecReport]:
    reports = [
        ExecReport(
            order_id="OA",
            exec_type="pending_new",
            order_status="pending_new",
            timestamp=T0,
            cl_ord_id="L1",
            symbol="BTC/USD",
            side="buy",
            order_type="limit",
            order_qty=Decimal(1),
            limit_price=Decimal(100),
            cum_qty=Decimal(0),
            cum_cost=Decimal(0),
        ),
        ExecReport(order_id="OA", exec_type="new", order_status="new", timestamp=T0),
    ]
    cum = Decimal(0)
    for i, (qty, fee) in enumerate(FILLS):
        cum += qty
        reports.append(
            ExecReport(
                order_id="OA",
                exec_type="trade",
                order_status="partially_filled",
                timestamp=T0,
                exec_id=f"T{i}",
                last_qty=qty,
                fee=fee,
                cum_qty=cum,
                cum_cost=cum * 100,
                avg_price=Decimal(100),
            )
        )
    reports.append(
        ExecReport(
            order_id="OA",
            exec_type="filled",
            order_status="filled",
            timestamp=T0,
            cum_qty=cum,
            cum_cost=cum * 100,
            avg_price=Decimal(100),
        )
    )
    return reports


@given(st.permutations(life()), st.lists(st.integers(0, 5), max_size=6))
def test_any_arrival_order_with_repeats_ends_in_the_same_complete_trail(order, repeats):
    reports = list(order) + [life()[i] for i in repeats]
    trail = None
    for report in reports:
        trail = fold_report(trail, report)
    assert trail is not None
    assert trail.status_word == "filled"  # terminal is never taken back
    assert trail.cum_qty == Decimal(1)
    assert trail.fee == sum(fee for _, fee in FILLS)  # each fill's fee once
    assert trail.complete
    info = trail_info(trail, volume=Decimal(1), pair="XBTUSD")
    assert info is not None
    assert info.status is KrakenOrderStatus.CLOSED
    assert info.volume_executed == Decimal(1)
    assert info.cl_ord_id == "L1"


@given(st.sets(st.integers(0, 2), min_size=1, max_size=2))
def test_a_missing_fill_leaves_the_trail_incomplete(missing):
    trail = None
    for report in life():
        if report.exec_id is not None and int(report.exec_id[1:]) in missing:
            continue
        trail = fold_report(trail, report)
    assert trail is not None
    assert not trail.complete
    assert trail.fee < sum(fee for _, fee in FILLS)


def test_an_unknown_status_word_gives_no_info():
    trail = fold_report(
        None, ExecReport(order_id="OA", exec_type="status", order_status="triggered", timestamp=T0)
    )
    assert trail_info(trail, volume=Decimal(1), pair="XBTUSD") is None


# ---------------------------------------------------------------- the decision


def local(status: OrderStatus = OrderStatus.OPEN, filled: str = "0") -> LocalOrder:
    return LocalOrder(
        local_id="L1",
        plan_id=None,
        strategy_id=None,
        pair="XBTUSD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        kraken_order_id="OA",
        userref=None,
        client_order_id="L1",
        requested_base_size=Decimal(1),
        requested_price=Decimal(100),
        status=status,
        created_at=T0,
        updated_at=T0,
        cumulative_base_filled=Decimal(filled),
    )


def trail_after(count: int):
    trail = None
    for report in life()[:count]:
        trail = fold_report(trail, report)
    assert trail is not None
    return trail


@given(st.integers(2, len(life())))  # pending_new alone tells a sent order nothing
def test_a_complete_trail_folds_only_when_it_moves_the_order_forward(count):
    trail = trail_after(count)
    ahead = decide_streamed(local(OrderStatus.SUBMITTED), trail, now=T0)
    assert isinstance(ahead, FoldStreamed)
    assert isinstance(ahead.event, Observed)
    done = decide_streamed(local(OrderStatus.FILLED, "1"), trail, now=T0)
    assert done is None  # a finished order hears nothing more


def test_a_trail_never_folds_into_another_txid_or_backwards():
    trail = trail_after(3)  # one fill of 0.2
    assert decide_streamed(local(OrderStatus.PARTIALLY_FILLED, "0.5"), trail, now=T0) is None
    assert decide_streamed(replace(local(), kraken_order_id="OB"), trail, now=T0) is None


def test_an_incomplete_trail_that_moves_the_order_asks_rest():
    trail = None
    for report in life():
        if report.exec_id == "T0":
            continue
        trail = fold_report(trail, report)
    assert trail is not None
    decision = decide_streamed(local(), trail, now=T0)
    assert isinstance(decision, AskRest)
    assert "fills" in decision.reason


def test_a_streamed_number_that_is_the_double_of_the_exact_amount_is_that_amount():
    """The socket's amounts are JSON numbers: an order of 80163571.61658386 is heard as
    80163571.61658385. That is the same amount, not an amend down (the fold would shrink
    the order) and not a partial fill of a filled order."""
    exact, heard = Decimal("80163571.61658386"), Decimal("80163571.61658385")
    assert float(exact) == float(heard)
    order = replace(local(OrderStatus.OPEN), requested_base_size=exact, requested_price=None)
    trail = OrderTrail(
        order_id="OA",
        status_word="filled",
        order_qty=heard,
        cum_qty=heard,
        fills_qty=heard,
        cum_cost=Decimal(1),
    )
    decided = decide_streamed(order, trail, now=T0)
    assert isinstance(decided, FoldStreamed)
    assert isinstance(decided.event, Observed)
    info = decided.event.info
    assert (info.volume, info.volume_executed) == (exact, exact)
    assert info.status is KrakenOrderStatus.CLOSED
    other = trail_info(replace(trail, order_qty=Decimal("80163571.6")), volume=exact, pair="X")
    assert other is not None
    assert other.volume == Decimal("80163571.6")  # a real change is still heard
