"""run-once, execute, orders, executions, cancel, reconcile against the fake exchange over HTTP.

The exchange runs in this process (`kraken_sim.serve` on loopback), so a test can look at its
truth (`exchange.orders(key)`, the journal) after the command talked to it through the real
client over a socket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kraken_bot.cli import app
from kraken_bot.cli.exit_codes import ExitCode
from kraken_sim import Exchange, WallClock, load_scenario, serve

pytestmark = pytest.mark.http

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_PLAN = REPO / "fixtures" / "example_plan.yaml"
# Flat prices and no liquidity for resting orders: an order at the mid rests until canceled.
SCENARIO = """\
name: cli-flat
tier: unlimited
faults: none
pairs:
  XXBTZUSD: {points: [[0, "60000"]], spread_bps: 2, liquidity_per_min: "0", depth: "1.5"}
  XETHZUSD: {points: [[0, "3000"]], spread_bps: 2, liquidity_per_min: "0", depth: "30"}
  SOLUSD: {points: [[0, "150"]], spread_bps: 3, liquidity_per_min: "0", depth: "600"}
accounts:
  - name: main
    balances: {ZUSD: "100000", XXBT: "1", XETH: "10", SOL: "200"}
"""
LIVE = """\
execution:
  mode: live
  allow_live_trading: true
  validate_only: false
  max_slippage_bps: 0
kraken: {tier: unlimited}
storage: {path: execution.db}
"""


@dataclass
class Served:
    exchange: Exchange
    key: str
    url: str
    home: Path

    def orders(self):
        return self.exchange.orders(self.key)

    def add_orders(self):
        return [e for e in self.exchange.journal if e.endpoint == "AddOrder"]


@pytest.fixture
def served(tmp_path, monkeypatch):
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    exchange = Exchange(load_scenario(scenario), seed=5, clock=WallClock())
    _, key, secret = exchange.credentials()[0]
    (tmp_path / "config.yaml").write_text(
        "kraken: {tier: unlimited}\nstorage: {path: execution.db}\n"
    )
    (tmp_path / "live.yaml").write_text(LIVE)
    monkeypatch.chdir(tmp_path)
    with serve(exchange) as server:
        monkeypatch.setenv("KRAKEN_API_URL", server.base_url)
        monkeypatch.setenv("KRAKEN_API_KEY", key)
        monkeypatch.setenv("KRAKEN_API_SECRET", secret)
        yield Served(exchange=exchange, key=key, url=server.base_url, home=tmp_path)


def krakked(*args: str):
    return CliRunner().invoke(app, list(args))


def as_json(result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    decoded: dict[str, Any] = json.loads(result.stdout)
    return decoded


def execute_live(served: Served) -> dict[str, Any]:
    result = krakked("execute", "--plan", str(EXAMPLE_PLAN), "--config", "live.yaml", "--json")
    return as_json(result)


@pytest.mark.parametrize("config", ["config.yaml", "live.yaml"])
def test_run_once_validates_every_order_and_places_none_whatever_the_config(served, config):
    summary = as_json(krakked("run-once", "--config", config, "--json"))
    assert summary["mode"] == "paper"
    assert summary["base_url"] == served.url
    orders = summary["result"]["orders"]
    assert [o["status"] for o in orders] == ["validated", "validated"]
    assert all(o["kraken_order_id"] is None for o in orders)
    assert served.orders() == []  # nothing was ever placed on the exchange
    assert len(served.add_orders()) == 2
    assert all(e.took_effect and not e.txids for e in served.add_orders())


def test_run_once_prints_a_table_for_people(served):
    result = krakked("run-once")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mode: paper")
    assert "plan example-rebalance-001 succeeded in paper mode" in result.stdout
    assert "skipped SOLUSD (blocked)" in result.stdout
    assert (served.home / "execution.db").is_file()


def test_text_from_a_plan_is_escaped_before_it_reaches_the_terminal(served):
    hostile = "rebalance\u202e1000-\x1b[2J[red]x[/red]"
    plan = {
        "plan_id": hostile,
        "actions": [
            {
                "pair": "XBTUSD",
                "strategy_id": "trend",
                "action_type": "increase",
                "current_base_size": "0",
                "target_base_size": "0.01",
            },
            {
                "pair": "NO\u202eSUCH",
                "strategy_id": "odd",
                "action_type": "open",
                "current_base_size": "0",
                "target_base_size": "1",
            },
        ],
    }
    (served.home / "hostile.json").write_text(json.dumps(plan))
    result = krakked("run-once", "--plan", "hostile.json")
    assert "\u202e" not in result.output
    assert "\x1b" not in result.output
    assert "plan rebalance\\u202e1000-\\x1b[2J[red]x[/red] failed" in result.stdout
    assert "NO\\u202eSUCH" in result.stdout
    listed = krakked("executions")
    assert listed.exit_code == 0, listed.output
    assert "\u202e" not in listed.output
    assert "\\u202e" in listed.stdout


def test_execute_in_live_mode_prints_the_banner_first_and_places_the_orders(served):
    result = krakked("execute", "--plan", str(EXAMPLE_PLAN), "--config", "live.yaml")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "mode: LIVE: real orders will be placed"
    assert lines[1] == f"exchange: {served.url}"
    assert "plan example-rebalance-001 succeeded in live mode" in result.stdout
    placed = served.orders()
    assert sorted((o.pair, o.side, o.vol) for o in placed) == [
        ("XETHZUSD", "sell", Decimal("0.1")),
        ("XXBTZUSD", "buy", Decimal("0.01")),
    ]


def test_execute_json_keeps_stdout_one_document_and_the_banner_on_stderr(served):
    result = krakked("execute", "--plan", str(EXAMPLE_PLAN), "--config", "live.yaml", "--json")
    summary = as_json(result)
    assert result.stderr.startswith("mode: LIVE")
    assert summary["mode"] == "live"
    assert {o["kraken_order_id"] for o in summary["result"]["orders"]} == {
        o.txid for o in served.orders()
    }


def test_executing_the_same_plan_twice_places_nothing_more(served):
    execute_live(served)
    again = execute_live(served)
    assert again["result"]["replayed"] is True
    assert len(served.orders()) == 2


def test_orders_and_executions_read_the_database_without_the_exchange(served, monkeypatch):
    execute_live(served)
    monkeypatch.setenv("KRAKEN_API_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("KRAKEN_API_KEY")
    recent = as_json(krakked("orders", "--recent", "5", "--json"))
    assert len(recent["orders"]) == 2
    assert recent["db_path"] == "execution.db"
    executions = as_json(krakked("executions", "--json"))
    assert [e["plan_id"] for e in executions["executions"]] == ["example-rebalance-001"]
    table = krakked("executions")
    assert "example-rebalance-001" in table.stdout
    assert krakked("orders").exit_code == 0


def test_open_orders_are_listed_then_canceled_one_by_one(served):
    placed = execute_live(served)
    assert as_json(krakked("reconcile", "--config", "live.yaml", "--json"))["ok"] is True
    open_now = as_json(krakked("orders", "--json"))["orders"]
    assert {o["local_id"] for o in open_now} == {o["local_id"] for o in placed["result"]["orders"]}
    target = open_now[0]["local_id"]
    canceled = as_json(krakked("cancel", target, "--config", "live.yaml", "--json"))
    assert [o["status"] for o in canceled["orders"]] == ["canceled"]
    statuses = {o.txid: o.status for o in served.orders()}
    assert statuses[canceled["orders"][0]["kraken_order_id"]] == "canceled"
    assert len(as_json(krakked("orders", "--json"))["orders"]) == 1


def test_cancel_all_cancels_every_open_order(served):
    execute_live(served)
    result = as_json(krakked("cancel", "--all", "--config", "live.yaml", "--json"))
    assert {o["status"] for o in result["orders"]} == {"canceled"}
    assert {o.status for o in served.orders()} == {"canceled"}
    assert as_json(krakked("orders", "--all", "--json"))["orders"] == []


def test_reconcile_reports_what_it_did(served):
    execute_live(served)
    report = as_json(krakked("reconcile", "--config", "live.yaml", "--json"))
    assert report["ok"] is True
    assert report["errors"] == []
    assert {"checked", "updated", "adopted", "proven_absent", "still_unknown"} <= set(report)
    table = krakked("reconcile", "--config", "live.yaml")
    assert table.stdout.startswith("reconciled ok:")


def test_an_unknown_order_id_is_one_line_and_its_own_exit_code(served):
    result = krakked("cancel", "no-such-order", "--config", "live.yaml")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert result.stderr == "error: unknown order: no order with id 'no-such-order'\n"


def test_cancel_needs_an_id_or_all_but_not_both(served):
    assert krakked("cancel").exit_code == ExitCode.USAGE
    assert krakked("cancel", "x", "--all").exit_code == ExitCode.USAGE


def test_execute_in_dry_run_needs_no_keys_and_sends_no_order(served, monkeypatch):
    monkeypatch.delenv("KRAKEN_API_KEY")
    monkeypatch.delenv("KRAKEN_API_SECRET")
    (served.home / "dry.yaml").write_text(
        "execution: {mode: dry_run}\nkraken: {tier: unlimited}\nstorage: {path: dry.db}\n"
    )
    result = krakked("execute", "--plan", str(EXAMPLE_PLAN), "--config", "dry.yaml", "--json")
    summary = as_json(result)
    assert result.stderr.startswith("mode: dry_run: nothing is sent to Kraken")
    assert {o["status"] for o in summary["result"]["orders"]} == {"simulated"}
    assert served.add_orders() == []
