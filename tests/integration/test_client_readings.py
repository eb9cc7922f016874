"""The client stays correct under each plausible reading of Kraken the fake can switch on.

Issue 14: QueryOrders may fail a whole call for one unknown txid, ClosedOrders may cost 2 on the
REST counter, the throttle error may be spelled with or without a space, and a market order may
be refused when it carries a time in force. The real client runs against the fake exchange
in-process, under each reading, and the outcome is checked on the exchange's own journal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tests.harness import action, live_config, plan, sim_stack

from kraken_bot.execution.core.models import OrderStatus, OrderType, TimeInForce
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.errors import OrderRejectedError, RateLimitError
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.types import KrakenOrderStatus, QueriedOrders
from kraken_sim import (
    Exchange,
    FaultPlan,
    Quirks,
    ScheduledFault,
    SimTransport,
    VirtualClock,
    load_scenario,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
UNKNOWN = ("OAAAAA-BBBBB-CCCCCC", "OZZZZZ-YYYYY-XXXXXX")


def connect(*, quirks=None, tier="unlimited", faults=None):
    clock = VirtualClock(start=START)
    exchange = Exchange(
        load_scenario(None), seed=7, clock=clock, faults=faults or "none", tier=tier, quirks=quirks
    )
    key, secret = exchange.create_account({"ZUSD": Decimal(10_000_000), "XXBT": Decimal(2)})
    client = KrakenRESTClient(
        api_key=key, api_secret=secret, tier=tier, transport=SimTransport(exchange), clock=clock
    )
    return exchange, client, key


def place_resting(client, count):
    """``count`` buy orders far below the market (they rest); their txids, oldest first."""
    txids = []
    for number in range(count):
        ack = client.add_order(
            AddOrderRequest(
                pair="XXBTZUSD",
                side="buy",
                ordertype="limit",
                volume="0.001",
                price="1000.0",
                cl_ord_id=f"rest-{number}",
            )
        )
        txids.extend(ack.txids)
    return txids


def query_calls(exchange, key):
    return [e for e in exchange.journal if e.api_key == key and e.endpoint == "QueryOrders"]


# ---------------------------------------------------------------- QueryOrders and unknown txids


@pytest.mark.parametrize(
    "reading",
    ["EOrder:Invalid order", "EOrder:Unknown order", "omit"],
)
def test_one_unknown_txid_loses_no_other_order_of_its_chunk(reading):
    exchange, client, key = connect(quirks=Quirks(query_orders_unknown=reading))
    with client:
        known = place_resting(client, 60)
        asked = [*known[:30], UNKNOWN[0], *known[30:], UNKNOWN[1]]
        result = client.query_orders_checked(asked)
    assert isinstance(result, QueriedOrders)
    assert [o.txid for o in result.orders] == known
    assert {o.status for o in result.orders} == {KrakenOrderStatus.OPEN}
    assert result.unknown == UNKNOWN
    calls = query_calls(exchange, key)
    if reading == "omit":
        assert len(calls) == 2  # 62 txids: two chunks, no splitting needed
    else:
        # Each failed chunk is halved until its unknown txid stands alone: a few calls per
        # unknown txid (log2 of the chunk), far fewer than one call per txid.
        assert 2 < len(calls) <= 2 + 2 * 2 * 6
        assert sum(1 for call in calls if call.errors) >= 2


def test_query_orders_keeps_its_signature_and_answers_the_found_orders_in_the_order_asked():
    _, client, _ = connect()
    with client:
        known = place_resting(client, 3)
        infos = client.query_orders([known[2], UNKNOWN[0], known[0], known[2]])
    assert [o.txid for o in infos] == [known[2], known[0]]


def test_all_unknown_txids_come_back_as_unknown_and_no_orders():
    _, client, _ = connect()
    with client:
        result = client.query_orders_checked(list(UNKNOWN))
    assert result == QueriedOrders(orders=(), unknown=UNKNOWN)


def test_a_txid_hidden_for_a_while_is_unknown_then_found():
    hide = FaultPlan(
        schedule=(ScheduledFault(kind="absent_from_open_orders", endpoint="AddOrder", calls=(2,)),)
    )
    exchange, client, _ = connect(faults=hide)
    with client:
        first, hidden = place_resting(client, 2)
        early = client.query_orders_checked([first, hidden])
        assert ([o.txid for o in early.orders], early.unknown) == ([first], (hidden,))
        exchange.advance_to(START + timedelta(seconds=10))
        late = client.query_orders_checked([first, hidden])
    assert ([o.txid for o in late.orders], late.unknown) == ([first, hidden], ())


def test_a_userref_filter_does_not_make_the_filtered_orders_unknown():
    _, client, _ = connect(quirks=Quirks(query_orders_unknown="omit"))
    with client:
        tagged = client.add_order(
            AddOrderRequest(
                pair="XBTUSD",
                side="buy",
                ordertype="limit",
                volume="0.001",
                price="1000.0",
                userref=5,
            )
        ).txids[0]
        other = place_resting(client, 1)[0]
        result = client.query_orders_checked([tagged, other], userref=5)
    assert ([o.txid for o in result.orders], result.unknown) == ([tagged], ())


def test_other_errors_of_a_query_still_propagate():
    exchange, client, _ = connect(quirks=Quirks(query_orders_limit=20))
    with client:
        known = place_resting(client, 21)
        exchange.set_faults(
            FaultPlan(schedule=(ScheduledFault(kind="busy", endpoint="QueryOrders", calls=(1,)),))
        )
        with pytest.raises(Exception, match="EService:Busy"):
            client.query_orders_checked(known[:3])
        with pytest.raises(OrderRejectedError, match="Invalid arguments:txid"):
            client.query_orders_checked(known)  # 21 > the exchange's limit of 20


def test_reconciliation_keeps_working_when_a_stale_txid_fails_queryorders(tmp_path):
    """The shell's refresh reads every known txid through QueryOrders: a txid the exchange no
    longer knows (a restarted `krakked sim serve`, an order from another account) must not
    hide the fills of the others."""
    stack = sim_stack(tmp_path, execution=live_config(max_slippage_bps=Decimal(0)))
    try:
        service = stack.service()
        result = service.execute_plan(plan("two", action("XBTUSD", "0", "0.01")))
        (order,) = result.orders
        assert order.kraken_order_id is not None
        infos = service.adapter.query_orders_checked([order.kraken_order_id, UNKNOWN[0]])  # type: ignore[union-attr]
        assert ([i.txid for i in infos.orders], infos.unknown) == (
            [order.kraken_order_id],
            (UNKNOWN[0],),
        )
        report = service.refresh_from_exchange()
        assert not report.errors
    finally:
        stack.close()


# ---------------------------------------------------------------- ClosedOrders at +2


def test_closed_orders_charged_two_never_meets_an_exchange_that_charges_two():
    exchange, client, key = connect(quirks=Quirks(closed_orders_cost=2), tier="starter")
    with client:
        pages = [client.closed_orders() for _ in range(25)]
    assert pages == [()] * 25
    assert client.limiter.stats.rate_limit_errors == 0
    assert client.limiter.stats.waits > 0
    assert not any(e.errors for e in exchange.journal if e.api_key == key)


# ---------------------------------------------------------------- throttling


@pytest.mark.parametrize("prefix", ["EService: Throttled", "EService:Throttled"])
def test_a_throttle_from_the_exchange_blocks_the_client_until_the_named_time(prefix):
    throttle = FaultPlan(
        schedule=(ScheduledFault(kind="throttled", endpoint="Balance", calls=(1,), seconds=20),)
    )
    exchange, client, key = connect(
        quirks=Quirks(throttled_prefix=prefix), faults=throttle, tier="starter"
    )
    with client:
        with pytest.raises(RateLimitError) as info:
            client.balance()
        assert info.value.retry_at == START.timestamp() + 20
        assert client.balance()["ZUSD"] == Decimal(10_000_000)
    (_, second) = [e for e in exchange.journal if e.api_key == key]
    assert second.time >= START + timedelta(seconds=20)


# ---------------------------------------------------------------- market orders


@pytest.mark.parametrize("time_in_force", ["GTC", "IOC", "GTD"])
def test_market_orders_carry_no_time_in_force_and_pass_a_strict_exchange(tmp_path, time_in_force):
    stack = sim_stack(
        tmp_path,
        execution=live_config(
            default_order_type=OrderType.MARKET, time_in_force=TimeInForce(time_in_force)
        ),
        quirks=Quirks(market_timeinforce=False),
    )
    try:
        service = stack.service()
        result = service.execute_plan(plan("mkt", action("XBTUSD", "0", "0.01")))
        (order,) = result.orders
        (body,) = stack.sent("AddOrder")
    finally:
        stack.close()
    assert order.status is OrderStatus.FILLED, order.last_error
    assert body["ordertype"] == "market"
    assert not {"timeinforce", "expiretm", "price", "oflags"} & set(body)


# ---------------------------------------------------------------- crossing post-only orders


@pytest.mark.parametrize(
    ("reading", "status"),
    [("cancel", OrderStatus.CANCELED), ("reject", OrderStatus.REJECTED)],
)
def test_a_crossing_post_only_order_ends_unfilled_under_either_reading(tmp_path, reading, status):
    """A post-only buy priced 50 bps above the mid crosses the ask: Kraken either accepts it and
    cancels it at once (reason ``Post only order``) or refuses it; nothing fills either way."""
    stack = sim_stack(
        tmp_path,
        execution=live_config(post_only=True),
        quirks=Quirks(post_only_crossing=reading),
    )
    try:
        service = stack.service()
        service.execute_plan(plan("post", action("XBTUSD", "0", "0.01")))
        service.refresh_from_exchange()
        (order,) = service.get_recent_executions(limit=1)[0].orders
        order = service.get_order(order.local_id)
        (body,) = stack.sent("AddOrder")
        on_exchange = stack.exchange_orders()
    finally:
        stack.close()
    assert body["oflags"] == "post"
    assert order.status is status
    assert order.cumulative_base_filled == 0
    if reading == "cancel":
        assert [(o.status, o.reason) for o in on_exchange] == [("canceled", "Post only order")]
        assert order.kraken_order_id == on_exchange[0].txid
    else:
        assert on_exchange == []
        assert order.last_error == "EOrder:Post only order"
