"""Contract: the fake exchange answers with the shapes Kraken documents (and, opt-in, serves).

A *shape* is a JSON value with its leaves replaced by their JSON types. For
each endpoint, every key of Kraken's documented example (fixtures/kraken_examples)
must appear in the fake's answer with the same type, recursively; the fake may
add keys. The recorded examples always run; with KRAKKED_LIVE_CONTRACT=1 (the
``sim_contract`` nox session) the same check runs the fake's public answers
against the real api.kraken.com, the way h11 tests itself against the stdlib.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kraken_bot.kraken.client import KrakenRESTClient
from kraken_sim import Exchange, SimTransport, VirtualClock, load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES: dict[str, Any] = json.loads(
    (ROOT / "fixtures" / "kraken_examples" / "rest_results.json").read_text()
)
LIVE = os.environ.get("KRAKKED_LIVE_CONTRACT") == "1"


def shape(value: object) -> object:
    """The JSON type skeleton of ``value`` (lists by their first element)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def missing(expected: object, actual: object, path: str = "$") -> list[str]:
    """Where ``actual`` lacks a key of ``expected`` or has another type there."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        gaps: list[str] = []
        for key, sub in expected.items():
            if key not in actual:
                gaps.append(f"{path}.{key}: missing")
            else:
                gaps += missing(sub, actual[key], f"{path}.{key}")
        return gaps
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {actual!r}"]
        if expected and actual:
            return missing(expected[0], actual[0], f"{path}[0]")
        return []
    if expected == "null" or actual == "null":
        return []  # Kraken sends null or a value for optional fields (refid, reason)
    return [] if expected == actual else [f"{path}: expected {expected}, got {actual}"]


@pytest.fixture(scope="module")
def fake() -> KrakenRESTClient:
    clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    exchange = Exchange(load_scenario(None), seed=1, clock=clock, faults="none", tier="unlimited")
    key, secret = exchange.create_account({"ZUSD": Decimal(10**6), "XXBT": Decimal(10)})
    return KrakenRESTClient(
        base_url="http://kraken-sim.invalid",
        api_key=key,
        api_secret=secret,
        tier="unlimited",
        transport=SimTransport(exchange),
        clock=clock,
    )


PUBLIC: dict[str, Callable[[KrakenRESTClient], object]] = {
    "Time": lambda c: c.public("Time"),
    "SystemStatus": lambda c: c.public("SystemStatus"),
    "Assets": lambda c: {"XXBT": c.public("Assets", asset="XBT")["XXBT"]},
    "Ticker": lambda c: {"XXBTZUSD": c.public("Ticker", pair="XBTUSD")["XXBTZUSD"]},
    "OHLC": lambda c: c.public("OHLC", pair="XBTUSD", interval=1),
}


@pytest.mark.parametrize("endpoint", sorted(PUBLIC))
def test_the_fake_public_answers_have_kraken_documented_shapes(fake, endpoint):
    assert missing(shape(EXAMPLES[endpoint]), shape(PUBLIC[endpoint](fake))) == []


def test_the_fake_private_answers_have_kraken_documented_shapes(fake):
    order = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000.0"}
    checks = {
        "AddOrder_validate": fake.private("AddOrder", **order, volume="0.01", validate="true"),
        "AddOrder": fake.private("AddOrder", **order, volume="0.01"),
        "Balance": fake.private("Balance"),
        "CancelAllOrdersAfter": fake.private("CancelAllOrdersAfter", timeout=60),
    }
    open_orders = fake.private("OpenOrders")["open"]
    checks["OrderInfo"] = next(iter(open_orders.values()))
    txid = next(iter(open_orders))
    checks["CancelOrder"] = fake.private("CancelOrder", txid=txid)
    checks["ClosedOrders"] = fake.private("ClosedOrders")
    fake.private("AddOrder", **order, volume="0.01")
    checks["CancelAll"] = fake.private("CancelAll")
    problems = {name: missing(shape(EXAMPLES[name]), shape(got)) for name, got in checks.items()}
    assert problems == {name: [] for name in checks}
    assert "txid" not in checks["AddOrder_validate"]


def test_the_shape_comparison_itself_catches_a_missing_key_and_a_wrong_type():
    assert missing(shape({"a": "1", "b": [1]}), shape({"a": 1})) == [
        "$.a: expected str, got number",
        "$.b: missing",
    ]


@pytest.mark.live
@pytest.mark.skipif(not LIVE, reason="set KRAKKED_LIVE_CONTRACT=1 (nox -s sim_contract)")
@pytest.mark.parametrize("endpoint", sorted(PUBLIC))
def test_the_fake_matches_the_real_kraken_public_api(fake, endpoint):
    real = KrakenRESTClient(tier="unlimited")
    assert missing(shape(PUBLIC[endpoint](real)), shape(PUBLIC[endpoint](fake))) == []
