"""Safety: nothing reaches the live book by accident, and no secret leaks anywhere.

* For every combination of ``mode`` / ``allow_live_trading`` / ``validate_only``
  (hypothesis), ``ExecutionConfig`` refuses the unsafe ones; set behind its back
  (so the later guards are tried too), every AddOrder carries ``validate=true``
  and the exchange holds no order, unless all three live settings are set.
* ``krakked run-once`` in its own process, with a config that has all three
  live settings, places nothing.
* A run with a recognisable API key and secret (the base64 text and the bytes
  it decodes to) leaves neither in any log line (every ``kraken_bot`` logger at
  DEBUG), exception text, database row (the SQLite file and its WAL, scanned as
  bytes), stored request, nonce file, nor the ``--debug`` output of ``krakked``.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from returns.pipeline import is_successful
from tests.harness import action, live_config, plan, sim_stack

from kraken_bot.config import ExecutionConfig, parse_app_config
from kraken_bot.execution.core.models import ExecutionMode, OrderStatus
from kraken_bot.execution.exceptions import (
    AuthError,
    CancelFailedError,
    ConfigValidationError,
    KrakenAPIError,
    LiveTradingRefusedError,
)
from kraken_bot.execution.shell.adapter import KrakenExecutionAdapter, LiveOrderRefusedError
from kraken_bot.execution.shell.scheduler import DeadManSwitchError
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.secret import Secret
from kraken_sim import Exchange, SimTransport, WallClock, load_scenario, serve

REPO: Final = Path(__file__).resolve().parents[2]
CLI: Final = (sys.executable, "-m", "kraken_bot.cli")

# ---------------------------------------------------------------- the three live settings

modes = st.sampled_from(tuple(ExecutionMode))


def smuggled(mode: ExecutionMode, allow_live: bool, validate_only: bool) -> ExecutionConfig:
    """These three settings, even a combination the constructor refuses.

    The constructor is the first guard: it must refuse every unsafe combination.
    The values are then set behind its back, so the guards after it
    (``initialize()``, the adapter) are tried on the unsafe ones too.
    """
    settings_: dict[str, Any] = {
        "mode": mode,
        "allow_live_trading": allow_live,
        "validate_only": validate_only,
    }
    live = mode is ExecutionMode.LIVE and allow_live and not validate_only
    unsafe = mode is ExecutionMode.LIVE and not live
    if unsafe or (mode is not ExecutionMode.LIVE and not validate_only):
        kind = LiveTradingRefusedError if unsafe else ConfigValidationError
        with pytest.raises(kind):
            replace(live_config(), **settings_)
    config = live_config()
    for name, value in settings_.items():
        object.__setattr__(config, name, value)
    return config


def test_no_add_order_without_validate_unless_all_three_live_settings_are_set(tmp_path, figures):
    runs = iter(range(10**6))

    @given(mode=modes, allow_live=st.booleans(), validate_only=st.booleans())
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    def checked(mode: ExecutionMode, allow_live: bool, validate_only: bool) -> None:
        figures.add("safety_cases")
        execution = smuggled(mode, allow_live, validate_only)
        home = tmp_path / f"run-{next(runs)}"
        home.mkdir()
        stack = sim_stack(home, execution=execution)
        live = mode is ExecutionMode.LIVE and allow_live and not validate_only
        service = stack.service(initialize=False)
        if not live and (mode is ExecutionMode.LIVE or not validate_only):
            # initialize() checks the settings again and refuses to start, with the
            # constructor's own error (naming the setting) for the same combination
            kind = LiveTradingRefusedError if mode is ExecutionMode.LIVE else ConfigValidationError
            with pytest.raises(kind, match=r"execution\.(mode|validate_only)"):
                service.initialize()
            assert stack.private_calls() == []
            return
        service.initialize()
        result = service.execute_plan(
            plan("safety", action("XBTUSD", "0", "0.01"), action("ETHUSD", "1", "0.5"))
        )
        bodies = stack.sent("AddOrder")
        if live:
            assert all("validate" not in body for body in bodies)
            assert len(stack.exchange_orders()) == len(bodies) == 2
        else:
            assert all(body.get("validate") == "true" for body in bodies)
            assert stack.exchange_orders() == []
            assert all(
                o.status in {OrderStatus.VALIDATED, OrderStatus.SIMULATED} for o in result.orders
            )
        if mode is ExecutionMode.DRY_RUN:
            assert stack.private_calls() == []
        stack.close()

    checked()


def test_the_adapter_itself_refuses_an_unvalidated_order_without_the_live_settings(figures):
    exchange = Exchange(load_scenario(None), seed=1, faults="none")
    key, secret = exchange.create_account({"ZUSD": Decimal(10**6)})

    @given(mode=modes, allow_live=st.booleans(), validate_only=st.booleans())
    @settings(max_examples=30, deadline=None)
    def refused(mode: ExecutionMode, allow_live: bool, validate_only: bool) -> None:
        figures.add("safety_cases")
        config = smuggled(mode, allow_live, validate_only)
        client = KrakenRESTClient(
            base_url="http://kraken-sim.invalid",
            api_key=key,
            api_secret=secret,
            tier="unlimited",
            transport=SimTransport(exchange),
        )
        adapter = KrakenExecutionAdapter(client, config)
        request = AddOrderRequest(
            pair="XXBTZUSD", side="buy", ordertype="limit", volume="0.01", price="50000"
        )
        if config.sends_live_orders:
            assert not adapter.validating
            return
        assert adapter.validating
        with pytest.raises(LiveOrderRefusedError):
            adapter.add_order(request)  # validate=False, straight to the adapter
        client.close()

    refused()
    assert exchange.orders(key) == []
    assert [e for e in exchange.journal if e.endpoint == "AddOrder"] == []


def test_a_config_file_sends_live_orders_only_with_all_three_settings(figures):
    @given(
        mode=st.sampled_from(("live", "paper", "dry_run", None)),
        allow_live=st.sampled_from((True, False, None, "yes", 1)),
        validate_only=st.sampled_from((True, False, None, "no", 0)),
    )
    @settings(max_examples=100, deadline=None)
    def parsed(mode: Any, allow_live: Any, validate_only: Any) -> None:
        figures.add("safety_cases")
        section = {
            key: value
            for key, value in (
                ("mode", mode),
                ("allow_live_trading", allow_live),
                ("validate_only", validate_only),
            )
            if value is not None
        }
        result = parse_app_config({"execution": section}, env={})
        if not is_successful(result):
            return
        execution = result.unwrap().execution
        all_three = mode == "live" and allow_live is True and validate_only is False
        assert execution.sends_live_orders is all_three

    parsed()


# ---------------------------------------------------------------- run-once


@pytest.mark.subprocess
@pytest.mark.http
def test_krakked_run_once_places_nothing_even_with_a_live_config(tmp_path, figures):
    exchange = Exchange(load_scenario(None), seed=2, clock=WallClock(), faults="none")
    key, secret = exchange.create_account(
        {"ZUSD": Decimal(10**6), "XXBT": Decimal(5), "XETH": Decimal(50)}
    )
    config = tmp_path / "live.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "execution": {
                    "mode": "live",
                    "allow_live_trading": True,
                    "validate_only": False,
                    "dead_man_switch_seconds": 0,
                },
                "kraken": {"tier": "unlimited"},
                "storage": {"path": str(tmp_path / "run-once.db")},
            }
        )
    )
    the_plan = tmp_path / "plan.yaml"
    the_plan.write_text(
        yaml.safe_dump(
            {
                "plan_id": "run-once-safety",
                "actions": [
                    {
                        "pair": pair,
                        "strategy_id": f"s{i}",
                        "action_type": "increase",
                        "current_base_size": "0",
                        "target_base_size": size,
                    }
                    for i, (pair, size) in enumerate(
                        [("XBTUSD", "0.01"), ("ETHUSD", "0.3"), ("XBTUSD", "0.02")]
                    )
                ],
            }
        )
    )
    with serve(exchange) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
        env.update(KRAKEN_API_URL=server.base_url, KRAKEN_API_KEY=key, KRAKEN_API_SECRET=secret)
        for extra in ([], ["--plan", str(the_plan)]):
            figures.add("safety_cases")
            done = subprocess.run(
                [*CLI, "run-once", "--config", str(config), "--json", *extra],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode in {0, 1}, done.stderr
            assert '"mode": "paper"' in done.stdout
    assert exchange.orders(key) == []
    assert [e for e in exchange.journal if e.endpoint == "AddOrder"], "orders were validated"


# ---------------------------------------------------------------- secrets

API_KEY: Final = "RecognisableKrakkedApiKey7Zq0wXv4Tn9Lm2Pb6Hs8Dc1Fg3Jk5Qr0U"
SECRET_BYTES: Final = b"recognisable-krakked-secret:" + bytes(range(36))
SECRET_B64: Final = base64.b64encode(SECRET_BYTES).decode()
NEEDLES: Final = (API_KEY.encode(), SECRET_B64.encode(), SECRET_BYTES, SECRET_BYTES[:20])


def leaks(blob: bytes | str) -> list[bytes]:
    """The secrets found in ``blob`` (text is searched as UTF-8)."""
    data = blob.encode("utf-8", "surrogateescape") if isinstance(blob, str) else blob
    return [needle for needle in NEEDLES if needle in data]


@contextlib.contextmanager
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    loggers = [
        name
        for name in logging.root.manager.loggerDict
        if name == "kraken_bot" or name.startswith("kraken_bot.")
    ]
    with caplog.at_level(logging.DEBUG, logger="kraken_bot"):
        for name in loggers:
            logging.getLogger(name).setLevel(logging.DEBUG)
        try:
            yield
        finally:
            for name in loggers:
                logging.getLogger(name).setLevel(logging.NOTSET)


def files_under(path: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def test_a_recognisable_secret_appears_in_no_log_error_row_or_request(tmp_path, caplog, figures):
    stack = sim_stack(
        tmp_path,
        faults="heavy",
        seed=4,
        execution=live_config(max_concurrent_orders=3, dead_man_switch_seconds=60),
    )
    stack.exchange.add_account(API_KEY, SECRET_B64, {"ZUSD": Decimal(10**6), "XXBT": Decimal(5)})
    config = replace(
        stack.config,
        kraken=replace(
            stack.config.kraken,
            api_key=Secret(API_KEY),
            api_secret=Secret(SECRET_B64),
        ),
    )
    stack = replace(stack, config=config, key=API_KEY, secret=SECRET_B64)
    texts: list[str] = [repr(config), str(config)]
    snapshots: dict[str, bytes] = {}
    with debug_logs(caplog):
        service = stack.service()
        for n in range(6):
            try:
                service.execute_plan(
                    plan(
                        f"secret-{n}",
                        action("XBTUSD", "0", "0.01"),
                        action("ETHUSD", "0", "0.2", strategy="other"),
                        action("DOGEEUR", "0", "1", strategy="odd"),
                    )
                )
                service.refresh_from_exchange()
                service.cancel_all()
            except (CancelFailedError, KrakenAPIError) as error:
                texts += [str(error), repr(error)]
            stack.clock.advance(30)
        snapshots |= files_under(tmp_path)  # the WAL is still there while the service runs
        texts += [repr(service), repr(service.adapter), repr(stack.transport)]
        wrong = replace(config, kraken=replace(config.kraken, api_key=config.kraken.api_secret))
        stack_wrong = replace(stack, config=wrong)
        with pytest.raises((AuthError, DeadManSwitchError)) as refused:
            stack_wrong.service().execute_plan(plan("wrong-key", action("XBTUSD", "0", "0.01")))
        texts += [str(refused.value), repr(refused.value)]
        service.close()
        stack.close()
    figures.add("safety_cases")
    records = [r.getMessage() for r in caplog.records]
    records += [caplog.text]
    assert any(r.levelno == logging.DEBUG for r in caplog.records), "DEBUG logs were captured"
    assert [t for t in records if leaks(t)] == []
    assert [t for t in texts if leaks(t)] == []
    snapshots |= files_under(tmp_path)
    assert any(name.endswith("-wal") for name in snapshots), sorted(snapshots)
    assert {name: leaks(blob) for name, blob in snapshots.items() if leaks(blob)} == {}
    requests_sent = [body for _, body in (stack.transport.requests if stack.transport else [])]
    assert requests_sent
    assert [body for body in requests_sent if leaks(repr(body))] == []


@pytest.mark.subprocess
@pytest.mark.http
def test_krakked_debug_output_never_shows_the_secret(tmp_path, figures):
    exchange = Exchange(load_scenario(None), seed=2, clock=WallClock(), faults="light")
    exchange.add_account(API_KEY, SECRET_B64, {"ZUSD": Decimal(10**6), "XXBT": Decimal(5)})
    config = tmp_path / "live.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "execution": {
                    "mode": "live",
                    "allow_live_trading": True,
                    "validate_only": False,
                    "dead_man_switch_seconds": 0,
                },
                "kraken": {"tier": "unlimited"},
                "storage": {"path": str(tmp_path / "debug.db")},
            }
        )
    )
    outputs: list[str] = []
    with serve(exchange) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
        env.update(KRAKEN_API_URL=server.base_url, KRAKEN_API_KEY=API_KEY)
        for secret, command in (
            (SECRET_B64, ["execute", "--plan", str(REPO / "fixtures" / "example_plan.yaml")]),
            (SECRET_B64, ["reconcile"]),
            (SECRET_B64, ["orders"]),
            (base64.b64encode(b"not-the-secret" * 4).decode(), ["reconcile"]),  # refused key
        ):
            figures.add("safety_cases")
            done = subprocess.run(
                [*CLI, "--debug", *command, "--config", str(config)],
                env={**env, "KRAKEN_API_SECRET": secret},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            outputs += [done.stdout, done.stderr]
    assert any("DEBUG" in o or "debug" in o.lower() for o in outputs)
    assert [o[:300] for o in outputs if leaks(o)] == []
    assert {n: leaks(b) for n, b in files_under(tmp_path).items() if leaks(b)} == {}
