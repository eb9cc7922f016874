"""Edges of pure core modules: every scalar field kind reads back what it writes, a streamed
status word this layer does not know, and the replay's shortfall figures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.builders import NOW, an_order

from kraken_bot.execution.core._codec_base import Reader
from kraken_bot.execution.core._fields import (
    DECIMAL,
    FLAG,
    INTEGER,
    JSON_TEXT,
    MOMENT,
    OPT_DECIMAL,
    OPT_INTEGER,
    OPT_MOMENT,
    OPT_TEXT,
    TEXT,
    TEXT_MAP,
    TEXTS,
    Kind,
)
from kraken_bot.execution.core.models import LocalOrder, OrderStatus, Side
from kraken_bot.execution.core.streaming import AskRest, decide_streamed
from kraken_bot.kraken.ws_reports import OrderTrail, trail_info
from kraken_bot.simulation.shortfall import (
    Chain,
    RoutingFigures,
    chains,
    plan_shortfalls,
    routing_figures,
)

# ---------------------------------------------------------------- field kinds

KINDS: list[tuple[str, Kind[Any], object, object]] = [
    # (name, kind, a value, its SQL parameter)
    ("TEXT", TEXT, "XBTUSD", "XBTUSD"),
    ("OPT_TEXT", OPT_TEXT, None, None),
    ("INTEGER", INTEGER, 4242, 4242),
    ("OPT_INTEGER", OPT_INTEGER, -7, -7),
    ("FLAG", FLAG, True, 1),
    ("DECIMAL", DECIMAL, Decimal("0.10000000"), 0.1),
    ("OPT_DECIMAL", OPT_DECIMAL, None, None),
    ("MOMENT", MOMENT, NOW, int(NOW.timestamp())),
    ("OPT_MOMENT", OPT_MOMENT, NOW + timedelta(seconds=1.5), int(NOW.timestamp()) + 1),
    ("TEXT_MAP", TEXT_MAP, {"b": "2", "a": "1"}, JSON_TEXT),
    ("TEXTS", TEXTS, ("x", "y"), JSON_TEXT),
]


@pytest.mark.parametrize(("name", "kind", "value", "sql"), KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_reads_back_what_it_writes_and_stores_its_sql_form(name, kind, value, sql):
    problems: list[Any] = []
    encoded = kind.encode(value)

    assert kind.read(Reader({"v": encoded}, name, problems), "v") == value
    assert problems == []
    if sql is JSON_TEXT:
        assert kind.to_sql is JSON_TEXT
    else:
        assert callable(kind.to_sql)
        assert kind.to_sql(value) == sql


@pytest.mark.parametrize("kind", [TEXT, OPT_TEXT, INTEGER, OPT_INTEGER, FLAG])
def test_a_value_that_is_its_own_json_is_written_as_is(kind):
    value: object = object()  # any value at all: the kind does not look at it
    assert kind.encode(value) is value


# ---------------------------------------------------------------- the executions stream


def test_a_streamed_status_word_this_layer_does_not_know_sends_the_order_to_rest():
    order = an_order(status=OrderStatus.OPEN, kraken_order_id="OA")
    trail = OrderTrail(order_id="OA", status_word="pending_cancel", cum_qty=Decimal(0))

    assert trail_info(trail, volume=order.requested_base_size, pair=order.pair) is None
    assert decide_streamed(order, trail, now=NOW) == AskRest(
        local_id="L1", reason="order status 'pending_cancel'"
    )


def test_an_unknown_word_for_another_txid_or_a_finished_order_is_ignored():
    trail = OrderTrail(order_id="OA", status_word="pending_cancel")

    assert (
        decide_streamed(an_order(status=OrderStatus.OPEN, kraken_order_id="OB"), trail, now=NOW)
        is None
    )
    finished = an_order(status=OrderStatus.CANCELED, kraken_order_id="OA")
    assert decide_streamed(finished, trail, now=NOW) is None


# ---------------------------------------------------------------- the replay's shortfall


def order(local_id: str, plan_id: str | None, **fields: Any) -> LocalOrder:
    """A limit order of 0.1 XBTUSD, arrival mid 60000, sent at NOW (buy unless said)."""
    values: dict[str, Any] = {
        "local_id": local_id,
        "plan_id": plan_id,
        "status": OrderStatus.CANCELED,
        "kraken_order_id": f"O-{local_id}",
        "reference_price": Decimal(60000),
        "first_sent_at": NOW,
    }
    values.update(fields)
    return an_order(**values)


def filled(local_id: str, plan_id: str | None, base: str, price: str, **fields: Any) -> LocalOrder:
    """``order`` having filled ``base`` at ``price`` (cost = base x price)."""
    size = Decimal(base)
    return order(
        local_id,
        plan_id,
        cumulative_base_filled=size,
        cost=size * Decimal(price),
        avg_fill_price=Decimal(price),
        **fields,
    )


# A buy the maker-first routing reposted, then crossed: one chain of three orders that
# filled 0.1 in all at 60480 on average (80 bps above the mid) and paid 5 bps in fees.
FIRST = filled("A", "p1", "0.02", "60000", fee=Decimal(0))
REPOST = filled("B", "p1:repost:A", "0.03", "60200", fee=Decimal(0))
CROSS = filled(
    "C",
    "p1:repost:A:cross:B",
    "0.05",
    "60840",
    fee=Decimal("3.024"),
    status=OrderStatus.FILLED,
    updated_at=NOW + timedelta(seconds=42),
)
# A sell of plan p2 that filled half at 59700 (50 bps below the mid) without fees.
SELL = filled("D", "p2", "0.05", "59700", side=Side.SELL, status=OrderStatus.PARTIALLY_FILLED)
# An order of plan p3 that never filled, and one of no plan (bought 50 bps above the mid).
IDLE = order("E", "p3", status=OrderStatus.EXPIRED)
LONE = filled("F", None, "0.1", "60300", status=OrderStatus.FILLED, first_sent_at=None)


def test_follow_ups_join_the_chain_of_the_order_they_continue():
    found = chains([IDLE, CROSS, FIRST, SELL, REPOST, LONE])

    assert [[o.local_id for o in c.orders] for c in found] == [["E"], ["A", "B", "C"], ["D"], ["F"]]
    assert [c.plan_id for c in found] == ["p3", "p1", "p2", ""]


def test_a_follow_up_whose_parent_is_not_in_the_replay_starts_its_own_chain():
    (chain,) = chains([REPOST])
    assert chain.orders == (REPOST,)
    assert chain.plan_id == "p1:repost:A"


def test_a_chains_shortfall_is_its_price_distance_from_the_mid_plus_its_fees():
    chain = Chain(orders=(FIRST, REPOST, CROSS))

    assert (chain.requested, chain.filled, chain.cost) == (
        Decimal("0.1"),
        Decimal("0.10"),
        Decimal("6048.00"),
    )
    assert chain.fees == Decimal("3.024")
    assert chain.shortfall_bps() == pytest.approx(85.0)
    assert chain.seconds_to_fill() == 42.0
    assert Chain(orders=(SELL,)).shortfall_bps() == pytest.approx(50.0)  # sold below the mid


@pytest.mark.parametrize(
    "orders",
    [
        (IDLE,),  # nothing filled
        (order("G", "p4", reference_price=None, cumulative_base_filled=Decimal("0.1")),),
        (filled("H", "p4", "0.1", "60000", reference_price=Decimal(0)),),
        (order("I", "p4", cumulative_base_filled=Decimal("0.1")),),  # filled, no cost known
    ],
)
def test_a_chain_without_a_mid_fills_or_cost_has_no_shortfall(orders):
    assert Chain(orders=orders).shortfall_bps() is None


def test_only_a_chain_that_filled_completely_has_a_time_to_fill():
    assert Chain(orders=(SELL,)).seconds_to_fill() is None  # half filled
    done_but_open = filled("J", "p5", "0.1", "60000", status=OrderStatus.PARTIALLY_FILLED)
    assert Chain(orders=(done_but_open,)).seconds_to_fill() is None  # not marked filled
    # Never sent (a stored order from before first_sent_at): timed from its creation.
    assert Chain(orders=(LONE,)).seconds_to_fill() == 0.0


def test_plan_shortfalls_weigh_each_chain_by_its_filled_notional_and_skip_unfilled_plans():
    other = filled(
        "K", "p2", "0.15", "60000", side=Side.SELL, requested_base_size=Decimal("0.15")
    )  # no shortfall, 3x the weight
    by_plan = plan_shortfalls([FIRST, REPOST, CROSS, SELL, other, IDLE, LONE])

    assert set(by_plan) == {"p1", "p2", ""}  # p3 never filled
    assert by_plan["p1"] == pytest.approx(85.0)
    assert by_plan["p2"] == pytest.approx(50.0 * 0.05 / 0.2)
    assert by_plan[""] == pytest.approx(50.0)
    assert plan_shortfalls([IDLE]) == {}
    assert plan_shortfalls([]) == {}


def test_routing_figures_of_a_replay():
    figures = routing_figures(
        "maker_first",
        [FIRST, REPOST, CROSS, SELL, IDLE, LONE],
        amends=3,
        rate_limit_waits=2,
        rate_limit_errors=1,
    )

    assert figures.chains == 4
    # Filled notional at the mid: 6000 (p1), 3000 (p2), 6000 (no plan).
    assert figures.shortfall_bps_mean == pytest.approx((6000 * 85 + 3000 * 50 + 6000 * 50) / 15000)
    assert figures.shortfall_bps_p90 == pytest.approx(85.0)
    assert figures.fill_ratio == pytest.approx(0.25 / 0.4)
    assert figures.fees == Decimal("3.024")
    assert figures.seconds_to_fill_median == 0.0  # of 0 s (no plan) and 42 s (p1)
    assert figures.to_json() == {
        "routing": "maker_first",
        "chains": 4,
        "shortfall_bps_mean": 64.0,
        "shortfall_bps_p90": 85.0,
        "fill_ratio": 0.625,
        "fees": "3.024",
        "seconds_to_fill_median": 0.0,
        "amends": 3,
        "rate_limit_waits": 2,
        "rate_limit_errors": 1,
    }


def test_routing_figures_without_orders_or_fills_have_no_figures():
    assert routing_figures(
        "contract", [], amends=0, rate_limit_waits=0, rate_limit_errors=0
    ) == RoutingFigures(
        routing="contract",
        chains=0,
        shortfall_bps_mean=None,
        shortfall_bps_p90=None,
        fill_ratio=None,
        fees=Decimal(0),
        seconds_to_fill_median=None,
        amends=0,
        rate_limit_waits=0,
        rate_limit_errors=0,
    )
    unfilled = routing_figures(
        "contract", [IDLE], amends=0, rate_limit_waits=0, rate_limit_errors=0
    )
    assert (unfilled.chains, unfilled.fill_ratio, unfilled.shortfall_bps_mean) == (1, 0.0, None)
    assert unfilled.to_json()["shortfall_bps_p90"] is None
