"""Errors people can act on: one line, a documented exit code, no traceback (unless --debug)."""

from __future__ import annotations

import json
from importlib import metadata

import pytest
from typer.testing import CliRunner

from kraken_bot.cli import app
from kraken_bot.cli.errors import classify
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.config_file import ConfigFileError
from kraken_bot.execution import LiveOrderRefusedError, SigningKeyError
from kraken_bot.execution.exceptions import (
    AuthError,
    ConfigValidationError,
    LiveTradingRefusedError,
    NetworkError,
    StoreError,
)
from kraken_sim import Exchange, WallClock, load_scenario, serve

UNREACHABLE = "http://127.0.0.1:9"
SECRET = "c2VjcmV0LWZvci10ZXN0cw=="  # base64 of "secret-for-tests"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("KRAKEN_API_URL", "KRAKEN_API_KEY", "KRAKEN_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def with_keys(monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", "key")
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)


def krakked(*args: str):
    return CliRunner().invoke(app, list(args))


def one_error_line(result, code: ExitCode, starts: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stderr.startswith(f"error: {starts}"), result.stderr
    assert "Traceback" not in result.output


def test_missing_api_keys(home):
    result = krakked("run-once")
    one_error_line(result, ExitCode.CREDENTIALS, "missing API keys: paper mode needs an API key")
    assert len(result.stderr.splitlines()) == 1


def test_an_unreachable_exchange(home, with_keys, monkeypatch):
    monkeypatch.setenv("KRAKEN_API_URL", UNREACHABLE)
    result = krakked("run-once")
    one_error_line(result, ExitCode.EXCHANGE, "cannot reach the exchange:")
    assert "KRAKEN_API_URL" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert krakked("reconcile").exit_code == ExitCode.EXCHANGE
    assert krakked("cancel", "--all").exit_code == ExitCode.EXCHANGE


@pytest.mark.http
def test_a_key_the_exchange_refuses(home, monkeypatch):
    exchange = Exchange(load_scenario(None), seed=1, clock=WallClock(), faults="none")
    with serve(exchange) as server:
        monkeypatch.setenv("KRAKEN_API_URL", server.base_url)
        monkeypatch.setenv("KRAKEN_API_KEY", exchange.credentials()[0][1])
        monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
        result = krakked("run-once")
    one_error_line(result, ExitCode.CREDENTIALS, "Kraken refused the API key:")
    assert "EAPI:Invalid signature" in result.stderr
    assert exchange.orders(exchange.credentials()[0][1]) == []


def test_a_bad_config_lists_every_problem(home):
    (home / "bad.yaml").write_text("execution: {mode: sometimes, max_retries: three}\n")
    result = krakked("run-once", "--config", "bad.yaml")
    one_error_line(result, ExitCode.USAGE, "bad config: bad.yaml: 2 problems")
    assert "execution.max_retries" in result.stderr
    assert "execution.mode" in result.stderr
    assert krakked("orders", "--config", "missing.yaml").exit_code == ExitCode.USAGE
    assert krakked("config", "check", "bad.yaml").exit_code == ExitCode.USAGE


def test_live_mode_without_every_opt_in_is_refused_by_the_config(home):
    (home / "live.yaml").write_text("execution: {mode: live}\n")
    result = krakked("execute", "--plan", "plan.yaml", "--config", "live.yaml")
    one_error_line(result, ExitCode.LIVE_REFUSED, "live trading refused: live.yaml")
    assert "allow_live_trading" in result.stderr
    checked = krakked("config", "check", "live.yaml")
    one_error_line(checked, ExitCode.LIVE_REFUSED, "live trading refused: live.yaml")


def test_validate_only_false_outside_live_mode_is_refused_by_config_check(home):
    (home / "paper.yaml").write_text("execution: {mode: paper, validate_only: false}\n")
    result = krakked("config", "check", "paper.yaml")
    one_error_line(result, ExitCode.USAGE, "bad config: paper.yaml: 1 problem")
    assert "execution.validate_only: false is accepted only in live mode" in result.stderr


def test_a_secret_that_is_not_base64_is_a_credentials_error(home, monkeypatch):
    monkeypatch.setenv("KRAKEN_API_URL", UNREACHABLE)
    monkeypatch.setenv("KRAKEN_API_KEY", "key")
    monkeypatch.setenv("KRAKEN_API_SECRET", "not base64!")
    result = krakked("run-once")
    one_error_line(result, ExitCode.CREDENTIALS, "bad API secret: the API secret is not valid")
    assert "not base64!" not in result.output
    assert len(result.stderr.splitlines()) == 1


def test_version_prints_the_installed_version(home):
    result = krakked("--version")
    assert result.exit_code == 0
    assert result.stdout == f"krakked {metadata.version('krakked')}\n"
    assert krakked("--version", "sim").stdout == result.stdout  # eager: nothing else runs


def test_a_bad_plan_lists_every_problem(home, with_keys):
    (home / "plan.yaml").write_text(
        "plan_id: p\nactions:\n  - {pair: '', action_type: sideways, current_base_size: 1,"
        " target_base_size: -2}\n"
    )
    result = krakked("execute", "--plan", "plan.yaml")
    one_error_line(result, ExitCode.USAGE, "bad plan file plan.yaml: plan p: 3 problems")
    for path in ("actions[0].action_type", "actions[0].pair", "actions[0].target_base_size"):
        assert path in result.stderr
    assert krakked("run-once", "--plan", "nope.yaml").exit_code == ExitCode.USAGE
    (home / "broken.yaml").write_text("plan_id: [unclosed\n")
    assert krakked("run-once", "--plan", "broken.yaml").exit_code == ExitCode.USAGE


def test_a_corrupt_database_is_reported_before_the_exchange_is_contacted(
    home, with_keys, monkeypatch
):
    monkeypatch.setenv("KRAKEN_API_URL", UNREACHABLE)
    (home / "corrupt.db").write_bytes(b"this is not a database" * 100)
    for args in (["orders"], ["executions"], ["run-once"], ["reconcile"]):
        result = krakked(*args, "--db", "corrupt.db")
        one_error_line(result, ExitCode.DATABASE, "database: ")
        assert "not a SQLite database" in result.stderr


def test_inspecting_a_database_that_does_not_exist(home):
    result = krakked("orders", "--db", "never-written.db")
    one_error_line(result, ExitCode.DATABASE, "database: ")
    assert not (home / "never-written.db").exists()


def test_json_mode_reports_the_error_as_json_too(home):
    result = krakked("orders", "--db", "never-written.db", "--json")
    assert result.exit_code == ExitCode.DATABASE
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert payload["exit_code"] == ExitCode.DATABASE
    assert payload["kind"] == "DATABASE"


def test_debug_shows_the_traceback(home):
    result = krakked("--debug", "orders", "--db", "never-written.db")
    assert result.exit_code == ExitCode.DATABASE
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: database:")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (LiveTradingRefusedError("refusing to start"), ExitCode.LIVE_REFUSED),
        (LiveOrderRefusedError("no validate"), ExitCode.LIVE_REFUSED),
        (ConfigValidationError("ExecutionConfig: 1 problem"), ExitCode.USAGE),
        (ConfigFileError("c.yaml: not found"), ExitCode.USAGE),
        (SigningKeyError("the API secret is not valid base64"), ExitCode.CREDENTIALS),
        (AuthError("EAPI:Invalid key"), ExitCode.CREDENTIALS),
        (NetworkError("refused", may_have_reached=False), ExitCode.EXCHANGE),
        (StoreError("locked", path="x.db"), ExitCode.DATABASE),
        (KeyError("surprise"), ExitCode.INTERNAL),
    ],
)
def test_each_error_has_its_documented_exit_code(error, code):
    assert classify(error)[0] == code


def test_a_bug_points_to_debug_instead_of_a_traceback():
    code, message = classify(ZeroDivisionError("division by zero"))
    assert code == ExitCode.INTERNAL
    assert message.endswith("run with --debug for the traceback")
