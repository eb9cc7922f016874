"""Two real processes on one API key and one database, against `krakked sim serve` over HTTP.

A bot (`krakked execute`, live) places ten orders whose AddOrder answers come back slowly,
while another terminal runs `krakked reconcile` in a loop and a cron job runs `krakked
run-once`, all on the same key (and the same database for reconcile). Nothing may be
stored as never sent while it rests, no order may fail because of the other commands, and
a second live `execute` is refused while the first runs.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from tests.e2e.test_cli_serve import CLI, Server, read_announcement

from kraken_bot.kraken.client import KrakenRESTClient

pytestmark = [pytest.mark.subprocess, pytest.mark.http]

SLOW_ADD_ORDER = """
name: slow-add-order
rules:
  - {kind: delay, endpoints: [AddOrder], probability: 1.0, seconds: 0.1}
"""
LIVE = (
    "execution: {mode: live, allow_live_trading: true, validate_only: false,"
    " max_slippage_bps: 0, max_concurrent_orders: 3, dead_man_switch_seconds: 60}\n"
    "kraken: {tier: unlimited}\n"
    "storage: {path: shared.db}\n"
)


def ten_buys(plan_id: str) -> str:
    return many_buys(plan_id, 10)


QUIET_MARKET = """
name: quiet
start: "2026-01-01T00:00:00Z"
step: 10s
history: 1h
tier: unlimited
faults: none
pairs:
  XXBTZUSD:
    mid: "60000"
    walk: {volatility_bps: 0, drift_bps: 0}
    spread_bps: 2
    liquidity_per_min: "0"
    depth: "1.5"
    level_bps: 1
accounts:
  - name: main
    balances: {ZUSD: "100000", XXBT: "1"}
"""
"""A market that never moves and never trades: resting orders stay resting, so a second
plan asking for the same holdings must place nothing."""


@pytest.fixture
def slow_server(tmp_path):
    faults = tmp_path / "slow.yaml"
    faults.write_text(SLOW_ADD_ORDER)
    scenario = tmp_path / "quiet.yaml"
    scenario.write_text(QUIET_MARKET)
    process = subprocess.Popen(
        [*CLI, "sim", "serve", "--port", "0", "--faults", str(faults), "--scenario", str(scenario)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fields = read_announcement(process)
        yield Server(process, fields["base_url"], fields["api_key"], fields["api_secret"])
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def start(server: Server, cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args],
        cwd=cwd,
        env=server.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def test_execute_beside_reconcile_and_a_cron_run_once_on_one_key_and_database(
    slow_server, tmp_path
):
    (tmp_path / "live.yaml").write_text(LIVE)
    (tmp_path / "cron.yaml").write_text("kraken: {tier: unlimited}\n")
    (tmp_path / "plan.yaml").write_text(ten_buys("ten"))
    (tmp_path / "again.yaml").write_text(ten_buys("ten-again"))
    bot = start(
        slow_server, tmp_path, "execute", "--plan", "plan.yaml", "-c", "live.yaml", "--json"
    )
    (tmp_path / "cron-plan.yaml").write_text(many_buys("cron", 2))
    cron = start(
        slow_server, tmp_path, "run-once", "-c", "cron.yaml", "--plan", "cron-plan.yaml", "--json"
    )
    reconciles: list[tuple[int, str, str]] = []
    while bot.poll() is None:
        reconcile = start(slow_server, tmp_path, "reconcile", "-c", "live.yaml", "--json")
        reconciles.append(finish(reconcile))
        time.sleep(0.05)
    code, out, err = finish(bot)
    assert code == 0, err
    result = json.loads(out)["result"]
    assert [o["status"] for o in result["orders"]] == ["open"] * 10
    cron_code, _, cron_err = finish(cron)
    assert cron_code == 0, cron_err
    assert reconciles, "reconcile ran beside the bot"
    for reconcile_code, _, reconcile_err in reconciles:
        assert reconcile_code == 0, reconcile_err
        assert "Invalid nonce" not in reconcile_err
    with KrakenRESTClient(
        base_url=slow_server.url,
        api_key=slow_server.key,
        api_secret=slow_server.secret,
        tier="unlimited",
    ) as client:
        resting = client.open_orders()
    assert len(resting) == 10
    listed = subprocess.run(
        [*CLI, "orders", "--recent", "50", "--json", "-c", "live.yaml"],
        cwd=tmp_path,
        env=slow_server.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    local = json.loads(listed.stdout)["orders"]
    owners = {o["kraken_order_id"]: o["status"] for o in local if o["kraken_order_id"]}
    assert {info.txid for info in resting} <= set(owners)
    assert set(owners.values()) == {"open"}
    # The next plan asks for the same holdings: the resting orders cover it.
    again = subprocess.run(
        [*CLI, "execute", "--plan", "again.yaml", "-c", "live.yaml", "--json"],
        cwd=tmp_path,
        env=slow_server.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["result"]["orders"] == []


def many_buys(plan_id: str, count: int) -> str:
    actions = "\n".join(
        f"  - {{pair: XBTUSD, strategy_id: s{i}, action_type: increase,"
        f" current_base_size: '0', target_base_size: '0.01'}}"
        for i in range(count)
    )
    return f"plan_id: {plan_id}\ncreated_at: '2026-01-01T00:00:00Z'\nactions:\n{actions}\n"


@pytest.fixture
def private_state(_private_state_dir: Path) -> Path:
    """The state directory the autouse fixture gave this test (the children inherit it)."""
    return _private_state_dir


def wait_for_lease(state_dir: Path, pid: int) -> None:
    """Until the process ``pid`` holds the account's live-trading lease."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for lease in state_dir.glob("account-*.lock"):
            if f'"pid": {pid}' in lease.read_text():
                return
        time.sleep(0.05)
    raise AssertionError("the first execute never took the lease")


def test_a_second_live_execute_on_the_key_is_refused_while_the_first_runs(
    slow_server, tmp_path, private_state
):
    (tmp_path / "live.yaml").write_text(
        LIVE.replace("max_concurrent_orders: 3", "max_concurrent_orders: 1")
    )
    (tmp_path / "plan.yaml").write_text(many_buys("first", 30))  # 30 slow sends: >= 3 s
    (tmp_path / "second.yaml").write_text(many_buys("second", 1))
    bot = start(slow_server, tmp_path, "execute", "--plan", "plan.yaml", "-c", "live.yaml")
    wait_for_lease(private_state, bot.pid)
    second = subprocess.run(
        [*CLI, "execute", "--plan", "second.yaml", "-c", "live.yaml", "--db", "other.db"],
        cwd=tmp_path,
        env=slow_server.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert bot.poll() is None, "the first execute was still running"
    code, _, err = finish(bot)
    assert code == 0, err
    assert second.returncode == 6, second.stderr
    assert "another krakked process owns live trading" in second.stderr
    assert f"pid {bot.pid}" in second.stderr


def open_on_exchange(server: Server) -> list[str]:
    with KrakenRESTClient(
        base_url=server.url, api_key=server.key, api_secret=server.secret, tier="unlimited"
    ) as client:
        return [info.txid for info in client.open_orders()]


def run(server: Server, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=server.env(), capture_output=True, text=True, check=False
    )


def test_a_paper_cancel_all_in_another_terminal_leaves_a_live_bots_orders_alone(
    slow_server, tmp_path
):
    (tmp_path / "live.yaml").write_text(LIVE)
    (tmp_path / "paper.yaml").write_text("kraken: {tier: unlimited}\n")  # paper, its own db
    (tmp_path / "plan.yaml").write_text(many_buys("live", 2))
    assert (
        run(slow_server, tmp_path, "execute", "--plan", "plan.yaml", "-c", "live.yaml").returncode
        == 0
    )
    assert len(open_on_exchange(slow_server)) == 2
    canceled = run(slow_server, tmp_path, "cancel", "--all", "-c", "paper.yaml")
    assert canceled.returncode == 0, canceled.stderr
    assert len(open_on_exchange(slow_server)) == 2


def test_cancel_all_reaches_the_exchange_through_a_database_row_that_does_not_parse(
    slow_server, tmp_path
):
    (tmp_path / "live.yaml").write_text(LIVE)
    plan = many_buys("bad-row", 2) + (
        "  - {pair: DOGEEUR, strategy_id: x, action_type: increase,"
        " current_base_size: '0', target_base_size: '100'}\n"
    )
    (tmp_path / "plan.yaml").write_text(plan)
    executed = run(
        slow_server, tmp_path, "execute", "--plan", "plan.yaml", "-c", "live.yaml", "--json"
    )
    orders = json.loads(executed.stdout)["result"]["orders"]
    with sqlite3.connect(tmp_path / "shared.db") as conn:
        conn.execute("UPDATE execution_orders SET snapshot_json = '{\"trunc' ")  # every row
    canceled = run(slow_server, tmp_path, "cancel", "--all", "-c", "live.yaml")
    assert canceled.returncode == 0, canceled.stderr
    assert open_on_exchange(slow_server) == []
    guarded = [o["local_id"] for o in orders if o["status"] == "error"]
    assert guarded, "the DOGEEUR action was refused by a guardrail"
    assert f"order {guarded[0]} could not be read" in canceled.stderr


def test_reconcile_names_orders_a_restarted_exchange_forgot_and_exits_non_zero(
    slow_server, tmp_path
):
    (tmp_path / "live.yaml").write_text(
        LIVE.replace(
            "dead_man_switch_seconds: 60",
            "dead_man_switch_seconds: 0, unknown_after_seconds: 1, order_deadline_seconds: 2",
        )
    )
    (tmp_path / "plan.yaml").write_text(many_buys("forgotten", 1))
    executed = run(
        slow_server, tmp_path, "execute", "--plan", "plan.yaml", "-c", "live.yaml", "--json"
    )
    (order,) = json.loads(executed.stdout)["result"]["orders"]
    slow_server.process.terminate()
    slow_server.process.wait(timeout=10)
    restarted = subprocess.Popen(
        [
            *CLI,
            "sim",
            "serve",
            "--port",
            "0",
            "--faults",
            "none",
            "--tier",
            "unlimited",
            "--seed",
            "99",  # other generated accounts: the key below is added, not found
            "--api-key",
            slow_server.key,
            "--api-secret",
            slow_server.secret,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fields = read_announcement(restarted)
        fresh = Server(restarted, fields["base_url"], slow_server.key, slow_server.secret)
        time.sleep(3.5)  # past the last send's deadline plus unknown_after_seconds
        report = run(fresh, tmp_path, "reconcile", "-c", "live.yaml", "--json")
        assert report.returncode == 1, report.stderr
        payload = json.loads(report.stdout)
        assert payload["unknown"] == [order["local_id"]]
        assert [o["status"] for o in payload["unknown_orders"]] == ["unknown"]
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
        for stream in (restarted.stdout, restarted.stderr):
            if stream is not None:
                stream.close()
