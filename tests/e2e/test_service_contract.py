"""The contract's section 10, end to end: the real client against the fake exchange, real SQLite.

Each test names the contract item it checks. Assertions are on outcomes: what
the exchange received and holds, what the service returned, what the database
file contains.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from dataclasses import replace
from decimal import Decimal

import pytest
from tests.harness import action, live_config, plan, sim_stack

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import ExecutionMode, OrderStatus, Side
from kraken_bot.kraken.errors import AuthError, OrderRejectedError
from kraken_bot.secret import Secret
from kraken_sim import FaultPlan, ScheduledFault


@pytest.fixture
def stack(tmp_path):
    built = sim_stack(tmp_path)
    yield built
    built.close()


@pytest.fixture
def resting(tmp_path):
    """Limit prices at mid (no slippage allowance): orders rest on the book instead of taking."""
    built = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(0)))
    yield built
    built.close()


# ---------------------------------------------------------------- 10.1 adapter mapping


def test_addorder_carries_rounded_volume_and_tick_price_pair_type_ordertype(stack):
    service = stack.service()
    result = service.execute_plan(plan("map", action("XBTUSD", "0", "0.123456789123")))
    (order,) = result.orders
    (body,) = stack.sent("AddOrder")
    assert body["pair"] == "XXBTZUSD"  # PairMetadata.rest_symbol
    assert body["type"] == "buy"
    assert body["ordertype"] == "limit"
    assert body["volume"] == "0.12345678"  # truncated to lot_decimals (8)
    price = Decimal(body["price"])
    assert price == price.quantize(Decimal("0.1"))  # on XBT/USD's tick and pair_decimals
    assert order.reference_price is not None
    assert price <= order.reference_price * Decimal("1.005")  # never beyond the 50 bps cap
    assert "validate" not in body  # live mode with all three opt-ins
    assert body["cl_ord_id"] == order.client_order_id == order.local_id
    assert "userref" not in body
    assert "deadline" in body


def test_a_strategy_userref_is_sent_instead_of_a_client_order_id(stack):
    service = stack.service()
    service.execute_plan(plan("tagged", action("ETHUSD", "0", "1", userref=4242)))
    (body,) = stack.sent("AddOrder")
    assert body["userref"] == "4242"
    assert "cl_ord_id" not in body
    (on_exchange,) = stack.exchange_orders()
    assert on_exchange.userref == 4242


def test_kraken_error_payloads_become_the_right_exception_classes(stack):
    service = stack.service()
    adapter = service.adapter
    assert adapter is not None
    placed = service.execute_plan(plan("one", action("XBTUSD", "0", "0.01")))
    request = adapter.build_request(placed.orders[0], deadline=None)
    with pytest.raises(OrderRejectedError, match="EOrder:Insufficient funds"):
        adapter.add_order(type(request)(**{**_fields(request), "volume": "500000"}))
    with pytest.raises(OrderRejectedError, match="EQuery:Unknown asset pair"):
        adapter.add_order(type(request)(**{**_fields(request), "pair": "NOPEUSD"}))


def _fields(request):
    return {name: getattr(request, name) for name in request.__dataclass_fields__}


def test_a_wrong_api_secret_rejects_a_paper_order_and_raises_auth_error_on_reads(tmp_path):
    stack = sim_stack(tmp_path, execution=ExecutionConfig(mode=ExecutionMode.PAPER))
    stack.config = replace(
        stack.config,
        kraken=replace(stack.config.kraken, api_secret=Secret("c2VjcmV0c2VjcmV0c2VjcmV0")),
    )
    service = stack.service()
    result = service.execute_plan(plan("auth", action("XBTUSD", "0", "0.01")))
    assert result.success is False
    (order,) = result.orders
    assert order.status is OrderStatus.REJECTED
    assert order.last_error == "EAPI:Invalid signature"
    assert stack.exchange_orders() == []
    with pytest.raises(AuthError):
        service.adapter.open_orders()  # type: ignore[union-attr]
    stack.close()


def test_a_wrong_api_secret_stops_a_live_service_at_start_before_any_order(tmp_path):
    stack = sim_stack(tmp_path)
    stack.config = replace(
        stack.config,
        kraken=replace(stack.config.kraken, api_secret=Secret("c2VjcmV0c2VjcmV0c2VjcmV0")),
    )
    with pytest.raises(AuthError, match="Invalid signature"):
        stack.service()
    assert stack.private_calls("AddOrder") == []
    assert stack.exchange_orders() == []
    stack.close()


# ---------------------------------------------------------------- 10.2 plan execution


def test_one_increase_creates_one_order_calls_addorder_once_persists_and_succeeds(stack):
    service = stack.service()
    result = service.execute_plan(plan("p1", action("XBTUSD", "0.1", "0.35")))
    assert result.success is True
    assert result.errors == ()
    (order,) = result.orders
    assert (order.pair, order.side, order.requested_base_size) == (
        "XBTUSD",
        Side.BUY,
        Decimal("0.25"),
    )
    assert order.plan_id == "p1"
    assert order.strategy_id == "trend"
    assert len(stack.private_calls("AddOrder")) == 1
    with sqlite3.connect(stack.db_path) as db:
        rows = db.execute(
            "SELECT local_id, pair, side, requested_base_size, status, kraken_order_id"
            " FROM execution_orders"
        ).fetchall()
        results = db.execute(
            "SELECT plan_id, success, errors_json FROM execution_results"
        ).fetchall()
        version = db.execute("SELECT version FROM schema_version").fetchone()
    assert rows == [
        (order.local_id, "XBTUSD", "buy", 0.25, order.status.value, order.kraken_order_id)
    ]
    assert results == [("p1", 1, "[]")]
    assert version == (4,)


def test_a_multi_pair_plan_sizes_each_order_from_its_own_delta(stack):
    service = stack.service()
    result = service.execute_plan(
        plan(
            "multi",
            action("XBTUSD", "0.5", "0.75"),
            action("ETH/USD", "10", "4", action_type="reduce"),  # type: ignore[arg-type]
            action("SOLUSD", "0", "12.5"),
            action("XBTUSD", "1", "1", strategy="other"),  # no change: no order
        )
    )
    assert result.success, result.errors
    sized = [(o.pair, o.side, o.requested_base_size) for o in result.orders]
    assert sized == [
        ("XBTUSD", Side.BUY, Decimal("0.25")),
        ("ETHUSD", Side.SELL, Decimal(6)),
        ("SOLUSD", Side.BUY, Decimal("12.5")),
    ]
    assert [s.reason.value for s in result.skipped] == ["no_op"]
    on_exchange = sorted((o.pair, o.side, o.vol) for o in stack.exchange_orders())
    assert on_exchange == [
        ("SOLUSD", "buy", Decimal("12.5")),
        ("XETHZUSD", "sell", Decimal(6)),
        ("XXBTZUSD", "buy", Decimal("0.25")),
    ]


def test_guardrail_violations_are_recorded_as_errors_and_never_sent(stack):
    service = stack.service()
    result = service.execute_plan(
        plan(
            "guard",
            action("XBTUSD", "0", "0.0002"),  # 12 USD < min_order_notional_usd 20
            action("DOGEEUR", "0", "100"),  # unknown pair
            action("SOLUSD", "0", "1", blocked=True),  # benign: blocked
        )
    )
    assert result.success is False
    assert [o.status for o in result.orders] == [OrderStatus.ERROR, OrderStatus.ERROR]
    assert "min_order_notional_usd" in (result.orders[0].last_error or "") or "20" in (
        result.orders[0].last_error or ""
    )
    assert "DOGEEUR" in (result.orders[1].last_error or "")
    assert stack.private_calls("AddOrder") == []
    assert [s.reason.value for s in result.skipped] == ["blocked"]


# ---------------------------------------------------------------- 10.3 retries and errors


def test_a_transient_error_then_success_retries_after_the_configured_backoff(tmp_path):
    faults = FaultPlan(
        schedule=(ScheduledFault(endpoint="AddOrder", calls=(1,), kind="rate_limit"),)
    )
    stack = sim_stack(tmp_path, faults=faults, execution=live_config(retry_backoff_seconds=3.0))
    service = stack.service()
    result = service.execute_plan(plan("retry", action("XBTUSD", "0", "0.01")))
    assert result.success, result.errors
    sends = stack.private_calls("AddOrder")
    assert len(sends) == 2
    assert (sends[0].fault, sends[0].executed) == ("rate_limit", False)
    assert (sends[1].time - sends[0].time).total_seconds() == pytest.approx(3.0, abs=0.01)
    assert result.orders[0].attempts == 2
    assert len(stack.exchange_orders()) == 1
    stack.close()


def test_backoff_grows_by_the_factor_and_gives_up_after_max_retries(tmp_path):
    faults = FaultPlan(
        schedule=(
            ScheduledFault(endpoint="AddOrder", calls=tuple(range(1, 10)), kind="rate_limit"),
        )
    )
    config = live_config(retry_backoff_seconds=1.0, retry_backoff_factor=3.0, max_retries=3)
    stack = sim_stack(tmp_path, faults=faults, execution=config)
    service = stack.service()
    result = service.execute_plan(plan("giveup", action("XBTUSD", "0", "0.01")))
    sends = stack.private_calls("AddOrder")
    gaps = [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(sends)]
    assert gaps == pytest.approx([1.0, 3.0, 9.0], abs=0.01)
    (order,) = result.orders
    assert order.status is OrderStatus.ERROR
    assert "Rate limit" in (order.last_error or "")
    assert stack.exchange_orders() == []
    stack.close()


def test_a_permanent_error_marks_the_order_rejected_without_any_retry(tmp_path):
    stack = sim_stack(tmp_path, balances={"ZUSD": Decimal(100)})
    service = stack.service()
    result = service.execute_plan(
        plan("broke", action("XBTUSD", "0", "0.01"), action("SOLUSD", "200", "190"))
    )
    first, second = result.orders
    assert first.status is OrderStatus.REJECTED
    assert first.last_error == "EOrder:Insufficient funds"
    assert first.attempts == 1
    assert second.status is OrderStatus.REJECTED  # no SOL either; each order stands alone
    assert len(stack.private_calls("AddOrder")) == 2
    assert result.success is False
    assert any("Insufficient funds" in e for e in result.errors)
    stack.close()


# ---------------------------------------------------------------- 10.4 modes


def test_dry_run_makes_no_private_call_and_orders_are_simulated(tmp_path):
    stack = sim_stack(
        tmp_path,
        execution=live_config(
            mode=ExecutionMode.DRY_RUN, allow_live_trading=False, validate_only=True
        ),
    )
    service = stack.service()
    result = service.execute_plan(
        plan("dry", action("XBTUSD", "0", "0.1"), action("SOLUSD", "0", "2"))
    )
    assert result.success is True
    assert result.mode is ExecutionMode.DRY_RUN
    assert [o.status for o in result.orders] == [OrderStatus.SIMULATED] * 2
    assert all(o.kraken_order_id is None for o in result.orders)
    assert stack.private_calls() == []  # no private endpoint was touched at all
    assert stack.exchange_orders() == []
    assert service.refresh_from_exchange().checked == 0
    stack.close()


def test_paper_mode_sends_validate_true_and_orders_end_validated(tmp_path):
    stack = sim_stack(
        tmp_path,
        execution=live_config(
            mode=ExecutionMode.PAPER, allow_live_trading=False, validate_only=True
        ),
    )
    service = stack.service()
    result = service.execute_plan(plan("paper", action("XBTUSD", "0", "0.1")))
    assert result.success is True
    (body,) = stack.sent("AddOrder")
    assert body["validate"] == "true"
    (order,) = result.orders
    assert order.status is OrderStatus.VALIDATED
    assert order.kraken_order_id is None
    assert order.cumulative_base_filled == 0
    assert stack.exchange_orders() == []
    stack.close()


# ---------------------------------------------------------------- 10.5 cancel and refresh


def test_cancel_order_by_local_id_or_txid_marks_it_canceled(resting):
    stack = resting
    service = stack.service()
    result = service.execute_plan(
        plan("c", action("XBTUSD", "0", "0.01"), action("ETHUSD", "0", "0.1"))
    )
    first, second = result.orders
    assert first.status is OrderStatus.OPEN
    canceled = service.cancel_order(first.local_id)
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.close_reason == "User requested"
    assert second.kraken_order_id is not None
    assert service.cancel_order(second.kraken_order_id).status is OrderStatus.CANCELED
    truth = {o.txid: o.status for o in stack.exchange_orders()}
    assert truth[first.kraken_order_id] == "canceled"


def test_cancel_all_marks_every_open_order_canceled(resting):
    stack = resting
    service = stack.service()
    service.execute_plan(
        plan(
            "many",
            action("XBTUSD", "0", "3"),  # large: rests partly unfilled
            action("ETHUSD", "0", "60"),
            action("SOLUSD", "0", "1500"),
        )
    )
    assert len(service.get_open_orders()) == 3
    service.cancel_all()
    assert service.get_open_orders(include_in_flight=True) == []
    statuses = {o.local_id: o.status for o in service.get_recent_executions(1)[0].orders}
    for local_id in statuses:
        assert service.get_order(local_id).status is OrderStatus.CANCELED
    assert [o.status for o in stack.exchange_orders()] == ["canceled"] * 3


def test_refresh_from_exchange_follows_fills_over_time(resting):
    stack = resting
    service = stack.service()
    result = service.execute_plan(plan("fills", action("XBTUSD", "0", "2")))
    (order,) = result.orders
    assert order.status is OrderStatus.OPEN
    first_fill = order.cumulative_base_filled
    stack.exchange.set_price("XXBTZUSD", Decimal(59000))  # the market comes down to our bid
    stack.exchange.advance_to(stack.clock.now().replace(minute=5))
    report = service.refresh_from_exchange()
    assert report.ok
    refreshed = service.get_order(order.local_id)
    (truth,) = stack.exchange_orders()
    assert refreshed.cumulative_base_filled == truth.vol_exec > first_fill
    assert refreshed.avg_fill_price == truth.avg_price
    assert refreshed.fee == truth.fee
    expected = OrderStatus.FILLED if truth.status == "closed" else OrderStatus.PARTIALLY_FILLED
    assert refreshed.status is expected
    assert json.loads(refreshed.raw_response_json or "{}")["status"] == truth.status
