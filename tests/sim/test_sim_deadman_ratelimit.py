"""CancelAllOrdersAfter on the virtual clock, and both rate-limit counters per tier."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kraken_sim import Quirks

LIMIT = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000", "volume": "0.01"}


def advance(exchange, seconds):
    exchange.advance_to(exchange.clock.now() + timedelta(seconds=seconds))


# ---------------------------------------------------------------------- dead-man switch
def test_arming_answers_current_and_trigger_time(kraken):
    assert kraken.ok("CancelAllOrdersAfter", timeout=60) == {
        "currentTime": "2026-01-01T00:00:00Z",
        "triggerTime": "2026-01-01T00:01:00Z",
    }


def test_the_switch_cancels_every_open_order_when_the_timeout_passes(exchange, kraken):
    orders = [kraken.buy("0.01", "50000"), kraken.buy("0.01", "50000", starttm="+600")]
    kraken.ok("CancelAllOrdersAfter", timeout=60)
    advance(exchange, 59)
    assert len(kraken.ok("OpenOrders")["open"]) == 2
    advance(exchange, 2)
    assert kraken.ok("OpenOrders") == {"open": {}}
    for txid in orders:
        info = kraken.order(txid)
        assert (info["status"], info["reason"]) == ("canceled", "Cancel all orders after timeout")
        assert info["closetm"] == 1767225660.0


def test_refreshing_the_switch_pushes_the_deadline_back(exchange, kraken):
    txid = kraken.buy("0.01", "50000")
    for _ in range(5):
        kraken.ok("CancelAllOrdersAfter", timeout=60)
        advance(exchange, 30)
    assert kraken.order(txid)["status"] == "open"


def test_timeout_zero_disarms_the_switch(exchange, kraken):
    txid = kraken.buy("0.01", "50000")
    kraken.ok("CancelAllOrdersAfter", timeout=60)
    assert kraken.ok("CancelAllOrdersAfter", timeout=0) == {
        "currentTime": "2026-01-01T00:00:00Z",
        "triggerTime": "0",
    }
    advance(exchange, 600)
    assert kraken.order(txid)["status"] == "open"


def test_the_switch_stays_off_after_it_fired(exchange, kraken):
    kraken.ok("CancelAllOrdersAfter", timeout=10)
    advance(exchange, 11)
    txid = kraken.buy("0.01", "50000")
    advance(exchange, 600)
    assert kraken.order(txid)["status"] == "open"


def test_the_switch_of_one_account_leaves_others_alone(exchange, kraken, client_for):
    other = client_for(exchange)
    mine, theirs = kraken.buy("0.01", "50000"), other.buy("0.01", "50000")
    kraken.ok("CancelAllOrdersAfter", timeout=5)
    advance(exchange, 6)
    assert (kraken.order(mine)["status"], other.order(theirs)["status"]) == ("canceled", "open")


@pytest.mark.parametrize("timeout", ["86400", "-1", "abc", ""])
def test_invalid_timeouts_are_rejected(kraken, timeout):
    assert kraken.errors("CancelAllOrdersAfter", timeout=timeout) == [
        "EGeneral:Invalid arguments:timeout"
    ]


def test_an_armed_switch_fires_when_maintenance_ends(exchange, kraken):
    txid = kraken.buy("0.01", "50000")
    kraken.ok("CancelAllOrdersAfter", timeout=60)
    exchange.set_system_status("maintenance")
    advance(exchange, 120)
    assert exchange.orders(kraken.key)[0].status == "open"
    exchange.set_system_status("online")
    exchange.settle()
    assert kraken.order(txid)["status"] == "canceled"


# ---------------------------------------------------------------------- REST counter
@pytest.mark.parametrize(("tier", "maximum"), [("starter", 15), ("intermediate", 20), ("pro", 20)])
def test_the_rest_counter_refuses_calls_over_the_tier_maximum(
    make_exchange, flat, client_for, tier, maximum
):
    client = client_for(make_exchange(flat(tier=tier)))
    for _ in range(maximum):
        client.ok("Balance")
    assert client.errors("Balance") == ["EAPI:Rate limit exceeded"]


@pytest.mark.parametrize(
    ("tier", "decay"), [("starter", 0.33), ("intermediate", 0.5), ("pro", 1.0)]
)
def test_the_rest_counter_decays_per_tier(make_exchange, flat, client_for, tier, decay):
    client = client_for(make_exchange(flat(tier=tier)))
    exchange = client.exchange
    while client.private("Balance")["error"] == []:
        pass
    exchange.clock.advance(0.9 / decay)
    assert client.errors("Balance") == ["EAPI:Rate limit exceeded"]
    exchange.clock.advance(0.2 / decay)
    client.ok("Balance")


def test_calls_at_the_decay_rate_never_hit_the_limit(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(tier="starter")))
    answers = []
    for _ in range(100):
        answers.append(client.ok("OpenOrders"))
        client.exchange.clock.advance(3.1)
    assert answers == [{"open": {}}] * 100


def test_trades_history_costs_two(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(tier="starter")))
    for _ in range(7):
        client.ok("TradesHistory")
    client.ok("Balance")
    assert client.errors("TradesHistory") == ["EAPI:Rate limit exceeded"]


def test_closed_orders_costs_one_by_default(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(tier="starter")))
    answers = [client.ok("ClosedOrders") for _ in range(15)]
    assert answers == [{"closed": {}, "count": 0}] * 15
    assert client.errors("ClosedOrders") == ["EAPI:Rate limit exceeded"]


def test_closed_orders_can_cost_two(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(tier="starter", quirks=Quirks(closed_orders_cost=2))))
    for _ in range(6):
        client.ok("ClosedOrders")
    client.ok("Balance")
    client.ok("Balance")  # 14 of 15 used
    assert client.errors("ClosedOrders") == ["EAPI:Rate limit exceeded"]
    assert "ZUSD" in client.ok("Balance")  # the unit left fits a call of cost 1, not of 2


def test_add_and_cancel_do_not_count_on_the_rest_counter(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(tier="starter")))
    validated = [client.ok("AddOrder", validate="true", **LIMIT) for _ in range(30)]
    balances = [client.ok("Balance") for _ in range(15)]  # the whole REST budget is still free
    assert all("txid" not in v for v in validated)
    assert len(balances) == 15


def test_unlimited_has_no_rest_limit(kraken):
    answers = [kraken.ok("Balance") for _ in range(100)]
    assert len(answers) == 100


# ---------------------------------------------------------------------- trading counter
@pytest.mark.parametrize(
    ("tier", "threshold"), [("starter", 60), ("intermediate", 125), ("pro", 180)]
)
def test_the_trading_counter_refuses_orders_over_the_threshold(
    make_exchange, flat, client_for, tier, threshold
):
    client = client_for(make_exchange(flat(tier=tier)))
    for _ in range(threshold):
        client.ok("AddOrder", validate="true", **LIMIT)
    assert client.errors("AddOrder", validate="true", **LIMIT) == ["EOrder:Rate limit exceeded"]
    client.ok("AddOrder", validate="true", **{**LIMIT, "pair": "ETHUSD", "price": "2000"})


def test_rejected_orders_still_count_on_the_trading_counter(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(tier="starter")))
    for _ in range(60):
        assert client.errors("AddOrder", **{**LIMIT, "volume": "0.00001"}) == [
            "EOrder:Order minimum not met"
        ]
    assert client.errors("AddOrder", **LIMIT) == ["EOrder:Rate limit exceeded"]


def test_cancelling_a_young_order_costs_eight_and_an_old_one_nothing(
    make_exchange, flat, client_for
):
    client = client_for(make_exchange(flat(tier="starter")))
    exchange = client.exchange
    old = [client.buy("0.001", "50000") for _ in range(10)]
    exchange.clock.advance(301)  # the counter decays to 0 and the orders age past 300 s
    young = [client.buy("0.001", "50000") for _ in range(7)]  # counter 7
    for txid in young[:6]:
        client.ok("CancelOrder", txid=txid)  # +8 each: 55
    assert client.errors("CancelOrder", txid=young[6]) == ["EOrder:Rate limit exceeded"]
    for txid in old:
        client.ok("CancelOrder", txid=txid)


def test_the_trading_counter_decays(make_exchange, flat, client_for):
    client = client_for(make_exchange(flat(tier="starter")))
    for _ in range(60):
        client.ok("AddOrder", validate="true", **LIMIT)
    assert client.errors("AddOrder", validate="true", **LIMIT) == ["EOrder:Rate limit exceeded"]
    client.exchange.clock.advance(2.0)  # the counter decays by 1 per second on starter
    assert "descr" in client.ok("AddOrder", validate="true", **LIMIT)


def test_unlimited_has_no_trading_limit(kraken):
    answers = [kraken.ok("AddOrder", validate="true", **LIMIT) for _ in range(300)]
    assert all("descr" in a for a in answers)
