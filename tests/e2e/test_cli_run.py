"""`krakked run` for weeks, in a real process, against `krakked sim serve` over HTTP.

The process watches a plan inbox: plans dropped whole (renamed into place) or written
slowly, the same plan dropped twice, a file that is not a plan. Beside it an operator
runs `krakked status` (the health check) and, by mistake, a second `krakked run` on the
same key. Its log lines are JSON, its alerts reach a webhook, its metrics are scraped.
SIGTERM stops it cleanly, leaving or canceling resting orders as ``run.on_stop`` says.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.e2e.test_cli_concurrency import QUIET_MARKET
from tests.e2e.test_cli_serve import CLI, Server, krakked, running

from kraken_bot.kraken.client import KrakenRESTClient

pytestmark = [pytest.mark.subprocess, pytest.mark.http]

LIVE = (
    "execution: {mode: live, allow_live_trading: true, validate_only: false,"
    " max_slippage_bps: 0, dead_man_switch_seconds: 60}\n"
    "kraken: {tier: unlimited}\n"
    "storage: {path: run.db}\n"
)


def plan_text(plan_id: str, target: str = "0.01") -> str:
    return (
        f"plan_id: {plan_id}\ncreated_at: '2026-01-01T00:00:00Z'\nactions:\n"
        f"  - {{pair: XBTUSD, strategy_id: s1, action_type: increase,"
        f" current_base_size: '0', target_base_size: '{target}'}}\n"
    )


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[Server]:
    scenario = tmp_path / "quiet.yaml"
    scenario.write_text(QUIET_MARKET)
    with running("--scenario", str(scenario)) as (server, _):
        yield server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Webhook:
    """A local HTTP endpoint that records the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        bodies: list[dict[str, object]] = []
        self.bodies = bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start_run(server: Server, cwd: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "--log-format", "json", *options, "run", "--plans", "plans", "-c", "run.yaml"],
        cwd=cwd,
        env=server.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(what: str, check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def drop(inbox: Path, name: str, text: str) -> None:
    """The documented way: write under a temporary name, then rename."""
    temporary = inbox / f".{name}.tmp"
    temporary.write_text(text)
    temporary.replace(inbox / name)


def resting_on_exchange(server: Server) -> int:
    with KrakenRESTClient(
        base_url=server.url, api_key=server.key, api_secret=server.secret, tier="unlimited"
    ) as client:
        return len(client.open_orders())


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_run_executes_dropped_plans_once_reports_health_and_stops_on_sigterm(
    quiet_server, tmp_path
):
    hook = Webhook()
    metrics_port = free_port()
    (tmp_path / "run.yaml").write_text(
        LIVE + "run: {poll_seconds: 0.1, heartbeat_seconds: 0.5, on_stop: leave,"
        f" metrics_port: {metrics_port}}}\n"
        + f"alerts: {{webhook_url: '{hook.url}', events: [accepted, stopped]}}\n"
    )
    inbox = tmp_path / "plans"
    process = start_run(quiet_server, tmp_path)
    try:
        heartbeat = tmp_path / "run.db.run.json"
        wait_for("the first heartbeat", heartbeat.exists)

        # A plan written slowly, without the rename: never executed half-read.
        slow = inbox / "slow.yaml"
        text = plan_text("p1")
        slow.write_text(text[: len(text) // 2])
        time.sleep(0.6)
        assert slow.exists(), "a half-written plan was taken"
        slow.write_text(text)
        wait_for("the plan to be done", (inbox / "done" / "slow.yaml").exists)
        result = json.loads((inbox / "done" / "slow.yaml.result.json").read_text())
        assert result["success"] is True
        assert [o["status"] for o in result["orders"]] == ["open"]

        # The same plan dropped again: its result is replayed, nothing is sent twice.
        drop(inbox, "again.yaml", text)
        wait_for("the replay", (inbox / "done" / "again.yaml.result.json").exists)
        again = json.loads((inbox / "done" / "again.yaml.result.json").read_text())
        assert again["replayed"] is True
        assert resting_on_exchange(quiet_server) == 1

        # A file that is not a plan goes to failed/ with the reason beside it.
        drop(inbox, "broken.yaml", "plan_id: [\n")
        wait_for(
            "the broken plan to fail",
            (inbox / "failed" / "broken.yaml.error.txt").exists,
            seconds=30,
        )
        assert "not valid YAML" in (inbox / "failed" / "broken.yaml.error.txt").read_text()

        # The health check, beside the running process.
        checked = krakked(quiet_server, tmp_path, "status", "-c", "run.yaml", "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        report = json.loads(checked.stdout)
        assert report["healthy"] is True
        assert report["heartbeat"]["pid"] == process.pid
        assert report["heartbeat"]["plans"] == {"done": 2, "failed": 1}
        assert report["heartbeat"]["dead_man"]["armed_until"] is not None
        assert [o["status"] for o in report["open_orders"]] == ["open"]
        assert any("broken.yaml" in e["error"] for e in report["heartbeat"]["last_errors"])

        # A second `krakked run` on the same key is refused, naming the first.
        second = krakked(quiet_server, tmp_path, "run", "--plans", "other", "-c", "run.yaml")
        assert second.returncode == 8, second.stderr
        assert f"pid {process.pid}" in second.stderr

        # Metrics, scraped while it runs.
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as answer:
            scraped = answer.read().decode()
        assert 'krakked_order_events_total{kind="accepted"} 1.0' in scraped
        assert 'krakked_orders{status="open"} 1.0' in scraped
        assert "krakked_kraken_call_seconds_count" in scraped
    finally:
        code, _out, err = stop(process)
        hook.close()
    assert code == 0, err
    # Every log line is one JSON object with a UTC time, a level and a logger.
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines, err
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    assert any("SIGTERM received" in line["message"] for line in lines)
    assert any(line["message"].startswith("plan p1 (slow.yaml): done") for line in lines)
    assert quiet_server.secret not in err
    assert quiet_server.key not in err
    # on_stop: leave. The order still rests; status now says the process stopped.
    assert resting_on_exchange(quiet_server) == 1
    after = krakked(quiet_server, tmp_path, "status", "-c", "run.yaml", "--json")
    assert after.returncode == 1
    assert "stopped at" in json.loads(after.stdout)["reasons"][0]
    kinds = [body["kind"] for body in hook.bodies]
    assert kinds.count("accepted") == 1
    assert kinds[-1] == "stopped"
    assert quiet_server.secret not in json.dumps(hook.bodies)


def test_sigterm_with_on_stop_cancel_cancels_resting_orders(quiet_server, tmp_path):
    (tmp_path / "run.yaml").write_text(
        LIVE + "run: {poll_seconds: 0.1, heartbeat_seconds: 0.5, on_stop: cancel}\n"
    )
    inbox = tmp_path / "plans"
    process = start_run(quiet_server, tmp_path)
    try:
        wait_for("the inbox", inbox.exists)
        drop(inbox, "p.yaml", plan_text("p-cancel"))
        wait_for("the plan to be done", (inbox / "done" / "p.yaml").exists)
        assert resting_on_exchange(quiet_server) == 1
    finally:
        code, _, err = stop(process)
    assert code == 0, err
    assert "canceling every open order" in err
    assert resting_on_exchange(quiet_server) == 0
    listed = krakked(quiet_server, tmp_path, "orders", "--recent", "10", "--json", "-c", "run.yaml")
    assert [o["status"] for o in json.loads(listed.stdout)["orders"]] == ["canceled"]


def test_status_without_a_run_process_is_unhealthy(quiet_server, tmp_path):
    (tmp_path / "run.yaml").write_text(LIVE)
    checked = krakked(quiet_server, tmp_path, "status", "-c", "run.yaml")
    assert checked.returncode == 1
    assert "no run process" in checked.stdout


def test_run_refuses_a_plan_inbox_it_cannot_use(quiet_server, tmp_path):
    (tmp_path / "run.yaml").write_text(LIVE)
    (tmp_path / "plans").write_text("a file, not a directory")
    refused = krakked(quiet_server, tmp_path, "run", "--plans", "plans", "-c", "run.yaml")
    assert refused.returncode != 0
    assert "plans" in refused.stderr
    assert resting_on_exchange(quiet_server) == 0


REPO = Path(__file__).resolve().parents[2]


def deployed_commands() -> list[list[str]]:
    """The krakked command lines the Dockerfile and the systemd unit run."""
    docker = (REPO / "Dockerfile").read_text()
    commands = [
        json.loads(m) for m in re.findall(r"^(?:CMD|\s+CMD) (\[.*\])$", docker, re.MULTILINE)
    ]
    unit = (REPO / "deploy" / "krakked.service").read_text()
    (start,) = re.findall(r"^ExecStart=(.*)$", unit, re.MULTILINE)
    commands.append(start.split())
    return commands


def test_the_dockerfile_and_the_systemd_unit_run_commands_that_exist(tmp_path):
    commands = deployed_commands()
    assert len(commands) == 3  # the health check, the container's command, the unit's
    for command in commands:
        assert Path(command[0]).name == "krakked"
        args = [str(tmp_path / "log") if a.startswith("/var/log") else a for a in command[1:]]
        # Every option parses: ask the same command line for its help.
        shown = subprocess.run(
            [*CLI, *args, "--help"], capture_output=True, text=True, timeout=60, check=False
        )
        assert shown.returncode == 0, (command, shown.stderr)
    docker = (REPO / "Dockerfile").read_text()
    assert "USER krakked" in docker
    assert 'VOLUME ["/data"]' in docker
