"""Scenario files: the bundled default, the documented format, and clear errors."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kraken_sim import Exchange, ScenarioError, VirtualClock, load_scenario


def write(tmp_path, text):
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_default_scenario_matches_the_documented_setup():
    scenario = load_scenario(None)
    assert scenario.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert [p.pair for p in scenario.pairs] == ["XXBTZUSD", "XETHZUSD", "SOLUSD", "XETHXXBT"]
    assert (scenario.tier, scenario.faults.name, scenario.step) == ("starter", "light", 10.0)
    assert (scenario.maker_fee, scenario.taker_fee) == (Decimal("0.25"), Decimal("0.40"))
    assert dict(scenario.accounts[0].balances)["ZUSD"] == Decimal(100000)


def test_the_default_scenario_defaults_the_exchange():
    exchange = Exchange()
    assert (exchange.tier, exchange.fault_plan.name) == ("starter", "light")
    ((name, key, secret),) = exchange.credentials()
    assert name == "main"
    assert len(key) == 56
    assert len(secret) == 88
    assert exchange.balances(key)["ZUSD"] == Decimal(100000)


def test_the_default_walk_stays_modest_over_two_hours():
    clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    exchange = Exchange(seed=1, clock=clock, faults="none")
    start = exchange.touch("XBTUSD").mid
    clock.advance(7200)
    moved = abs(exchange.touch("XBTUSD").mid / start - 1)
    assert 0 < moved < Decimal("0.05")


def test_a_small_scenario_with_explicit_points_and_overrides(tmp_path, client_for):
    path = write(
        tmp_path,
        """
        name: tiny
        start: 2030-06-01T12:00:00Z
        step: 1m
        history: 10m
        tier: pro
        faults: none
        pairs:
          SOLUSD:
            points: [[0, "100"], [10m, "110"]]
            spread_bps: 10
            fees: {maker: "0", taker: "0.1"}
            meta: {ordermin: "1"}
        accounts:
          - name: fixed
            key: my-key
            secret: AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=
            balances: {USD: "500"}
        quirks: {excess_decimals: truncate, echo_cl_ord_id: true}
        """,
    )
    scenario = load_scenario(path)
    clock = VirtualClock(start=scenario.start)
    exchange = Exchange(scenario, clock=clock)
    assert exchange.credentials() == [
        ("fixed", "my-key", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
    ]
    assert exchange.balances("my-key") == {"ZUSD": Decimal(500)}
    assert exchange.touch("SOLUSD").mid == 100
    clock.advance(300)
    assert exchange.touch("SOLUSD").mid == 105
    clock.advance(3600)
    assert exchange.touch("SOLUSD").mid == 110
    client = client_for(exchange)
    assert client.public("AssetPairs")["result"]["SOLUSD"]["ordermin"] == "1"
    assert client.errors(
        "AddOrder", pair="SOLUSD", type="buy", ordertype="market", volume="0.5"
    ) == ["EOrder:Order minimum not met"]
    order = client.order(client.buy("1", pair="SOLUSD"))
    assert order["fee"] == "0.11006"  # 0.1 % of the ask: 110 + 5 bps, rounded up to the tick


def test_a_fault_file_next_to_the_scenario_is_found(tmp_path):
    (tmp_path / "faults.yaml").write_text(
        "rules: [{kind: busy, endpoints: [Balance], probability: 1}]\n"
    )
    path = write(tmp_path, "faults: faults.yaml\npairs: {XBTUSD: {mid: '50000'}}\n")
    assert load_scenario(path).faults.rules[0].kind == "busy"


def test_inline_fault_plans_are_accepted(tmp_path):
    path = write(
        tmp_path, "faults: {schedule: [{kind: busy, call: 1}]}\npairs: {XBTUSD: {mid: '50000'}}\n"
    )
    assert load_scenario(path).faults.schedule[0].kind == "busy"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pairs: {}", "pairs"),
        ("pairs: {XBTUSD: {}}", "give mid"),
        ("pairs: {XBTUSD: {mid: abc}}", "decimal"),
        ("pairs: {XBTUSD: {mid: '1', colour: red}}", "unknown keys"),
        ("tier: gold\npairs: {XBTUSD: {mid: '1'}}", "tier"),
        ("start: yesterday\npairs: {XBTUSD: {mid: '1'}}", "start"),
        ("start: '2026-01-01T00:00:00'\npairs: {XBTUSD: {mid: '1'}}", "timezone"),
        ("step: soon\npairs: {XBTUSD: {mid: '1'}}", "duration"),
        ("quirks: {nonsense: 1}\npairs: {XBTUSD: {mid: '1'}}", "unknown quirk"),
        ("quirks: {excess_decimals: round}\npairs: {XBTUSD: {mid: '1'}}", "excess_decimals"),
        ("pairs: {XBTUSD: {derive: XBTUSD}}", "derive"),
        ("[1, 2]", "mapping"),
        ("pairs: {XBTUSD: {mid: '1'}", "YAML"),
    ],
)
def test_bad_scenarios_are_refused_with_a_useful_message(tmp_path, text, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(write(tmp_path, text))


def test_a_pair_missing_from_the_snapshot_is_refused(tmp_path):
    scenario = load_scenario(write(tmp_path, "pairs: {DOGEUSD: {mid: '0.1'}}"))
    with pytest.raises(ScenarioError, match="DOGEUSD"):
        Exchange(scenario)
