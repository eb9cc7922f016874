"""`krakked sim serve` in a real process, driven by the project's own client and by krakked."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kraken_bot.kraken.client import KrakenRESTClient

pytestmark = [pytest.mark.subprocess, pytest.mark.http]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_PLAN = REPO / "fixtures" / "example_plan.yaml"
CLI = [sys.executable, "-m", "kraken_bot.cli"]


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    key: str
    secret: str

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
        env.update(KRAKEN_API_URL=self.url, KRAKEN_API_KEY=self.key, KRAKEN_API_SECRET=self.secret)
        return env


def read_announcement(process: subprocess.Popen[str]) -> dict[str, str]:
    assert process.stdout is not None
    fields: dict[str, str] = {}
    for line in process.stdout:
        name, _, value = line.strip().partition(": ")
        if value and name in {"base_url", "api_key", "api_secret", "ws_url"}:
            fields[name] = value
        if line.startswith("scenario: "):
            fields["ids"] = line.split("ids: ", 1)[1].strip()
        if line.startswith("Press Ctrl-C"):
            return fields
    raise AssertionError(f"the server ended before announcing itself: {fields}")


@contextlib.contextmanager
def running(*extra: str) -> Iterator[tuple[Server, dict[str, str]]]:
    """`krakked sim serve` in a child process, with ``extra`` options; stopped with Ctrl-C."""
    process = subprocess.Popen(
        [*CLI, "sim", "serve", "--port", "0", "--faults", "none", "--tier", "unlimited", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fields = read_announcement(process)
        yield Server(process, fields["base_url"], fields["api_key"], fields["api_secret"]), fields
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def server() -> Iterator[Server]:
    with running() as (server, _):
        yield server


def krakked(server: Server, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_answers_a_signed_request_from_the_projects_own_client(server):
    assert server.url.startswith("http://127.0.0.1:")
    with KrakenRESTClient(
        base_url=server.url, api_key=server.key, api_secret=server.secret, tier="unlimited"
    ) as client:
        balances = client.balance()
        assert balances["ZUSD"] > 0
        assert list(client.open_orders()) == []


def test_run_once_against_serve_only_validates(server, tmp_path):
    (tmp_path / "config.yaml").write_text("kraken: {tier: unlimited}\n")
    completed = krakked(server, tmp_path, "run-once", "--json")
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["mode"] == "paper"
    assert {o["status"] for o in summary["result"]["orders"]} == {"validated"}
    with KrakenRESTClient(
        base_url=server.url, api_key=server.key, api_secret=server.secret, tier="unlimited"
    ) as client:
        assert list(client.open_orders()) == []
        assert list(client.closed_orders()) == []


def test_execute_live_against_serve_prints_the_banner_before_placing_orders(server, tmp_path):
    (tmp_path / "live.yaml").write_text(
        "execution: {mode: live, allow_live_trading: true, validate_only: false}\n"
        "kraken: {tier: unlimited}\n"
    )
    completed = subprocess.run(
        [*CLI, "execute", "--plan", str(EXAMPLE_PLAN), "--config", "live.yaml"],
        cwd=tmp_path,
        env=server.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout
    output = completed.stdout
    assert output.index("mode: LIVE: real orders will be placed") == 0
    assert output.index(f"exchange: {server.url}") < output.index("plan example-rebalance-001")
    recent = krakked(server, tmp_path, "orders", "--recent", "5", "--json", "--config", "live.yaml")
    orders = json.loads(recent.stdout)["orders"]
    assert len(orders) == 2
    assert all(o["kraken_order_id"] for o in orders)


def test_serve_passes_quirks_and_the_id_salt_through():
    with running("--quirk", "query_orders_unknown=omit", "--id-salt", "fixed-salt") as (
        server,
        announced,
    ):
        assert announced["ids"] == "fixed-salt"
        with KrakenRESTClient(
            base_url=server.url, api_key=server.key, api_secret=server.secret, tier="unlimited"
        ) as client:
            reply = client.private("QueryOrders", txid="OAAAAA-BBBBB-CCCCCC")
    assert reply == {}  # omitted, not the default EOrder:Invalid order


def test_serve_refuses_a_bad_quirk_with_status_2(tmp_path):
    completed = subprocess.run(
        [*CLI, "sim", "serve", "--quirk", "post_only_crossing=sometimes"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "post_only_crossing" in completed.stderr


def test_serve_stops_cleanly_on_ctrl_c(server):
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=10) == 0
    assert server.process.stdout is not None
    assert "kraken-sim stopped" in server.process.stdout.read()


def test_serve_with_a_ws_port_streams_fills_to_a_live_service(tmp_path):
    """`--ws-port` serves the WebSocket v2 endpoint beside HTTP on the same engine: a live
    service pointed at both hears its market order's fill on the executions stream."""
    from datetime import UTC, datetime  # noqa: PLC0415
    from decimal import Decimal  # noqa: PLC0415

    from kraken_bot._enums import StreamMode  # noqa: PLC0415
    from kraken_bot.config import AppConfig, KrakenConfig, StorageConfig  # noqa: PLC0415
    from kraken_bot.execution import (  # noqa: PLC0415
        ActionType,
        ExecutionPlan,
        ExecutionService,
        OrderStatus,
        RiskAdjustedAction,
    )
    from kraken_bot.region import Tier  # noqa: PLC0415
    from kraken_bot.secret import Secret  # noqa: PLC0415
    from kraken_bot.testing import live  # noqa: PLC0415

    with running("--ws-port", "0") as (server, fields):
        assert fields["ws_url"].startswith("ws://127.0.0.1:")
        config = AppConfig(
            execution=live(default_order_type="market"),
            kraken=KrakenConfig(
                base_url=server.url,
                api_key=Secret(server.key),
                api_secret=Secret(server.secret),
                tier=Tier.UNLIMITED,
                stream=StreamMode.WEBSOCKET,
                ws_url=fields["ws_url"],
                nonce_state_file=str(tmp_path / "nonce.json"),
                state_dir=str(tmp_path / "state"),
            ),
            storage=StorageConfig(path=str(tmp_path / "execution.db")),
        )
        with ExecutionService.from_config(config) as service:
            assert service.stream is not None
            assert service.stream.stream.wait_subscribed(10)
            plan = ExecutionPlan(
                plan_id="ws-1",
                created_at=datetime.now(UTC),
                actions=(
                    RiskAdjustedAction(
                        pair="XBTUSD",
                        strategy_id="s",
                        action_type=ActionType.INCREASE,
                        current_base_size=Decimal(0),
                        target_base_size=Decimal("0.01"),
                    ),
                ),
            )
            (order,) = service.execute_plan(plan).orders
            stats = service.stream.stream.stats
            # pending_new, new, trade, filled: they cross the socket while the REST answer
            # comes back, so wait for them rather than assume they are already in.
            deadline = time.monotonic() + 10
            while stats.reports < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert service.stream.consumer.wait_idle()
            assert service.get_order(order.local_id).status is OrderStatus.FILLED
            assert stats.reports >= 4
