"""One composition root: clients and market readers are built in
`kraken_bot.execution.shell.compose`, with one nonce rule, services only by
`ExecutionService.from_config` over those parts, and every entry point goes through it."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from kraken_bot.config import AppConfig
from kraken_bot.execution.shell import compose
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.kraken.nonce import IN_MEMORY, nonce_file
from kraken_bot.testing import FakeKraken
from kraken_sim import SimTransport

SRC = Path(__file__).resolve().parents[2] / "src" / "kraken_bot"
BUILDERS = {"ExecutionService", "KrakenRESTClient", "MarketDataAPI"}
"""Constructors only the composition root calls (besides the modules defining them)."""
ALLOWED = {
    "execution/shell/compose.py": {"KrakenRESTClient", "MarketDataAPI"},
    # the replay shares one market reader between its strategy and the service (one Ticker
    # serves both): it builds that reader itself and hands it to `ExecutionService.from_config`
    "simulation/runner.py": {"MarketDataAPI"},
}


def _constructed(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in BUILDERS:
                found.add(func.id)
            elif isinstance(func, ast.Attribute) and func.attr == "from_config":
                value = func.value
                if isinstance(value, ast.Name) and value.id == "KrakenRESTClient":
                    found.add("KrakenRESTClient")
    return found


def test_only_the_composition_root_builds_services_and_clients():
    offenders: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        name = path.relative_to(SRC).as_posix()
        built = _constructed(ast.parse(path.read_text(encoding="utf-8")))
        built -= ALLOWED.get(name, set())
        if name == "execution/shell/oms.py":
            built.discard("ExecutionService")  # `cls(...)` is not spelled so, but be explicit
        if built:
            offenders[name] = built
    assert offenders == {}


def test_the_nonce_rule_is_one_for_every_way_of_building(tmp_path):
    with FakeKraken(tmp_path) as fake:
        config = fake.config
        service = fake.service()  # ExecutionService.from_config, initialized
        built = compose.build_client(config, clock=fake.clock)
        try:
            adapter = service.adapter
            assert adapter is not None
            from_service = adapter.client._nonces.state_file  # type: ignore[attr-defined]
            assert from_service == built._nonces.state_file == nonce_file(config.kraken)
            assert from_service is not None
        finally:
            service.close()
            built.close()
        in_memory = replace(config, kraken=replace(config.kraken, nonce_state_file=IN_MEMORY))
        assert nonce_file(in_memory.kraken) is None
        with compose.build_client(in_memory, clock=fake.clock) as alone:
            assert alone._nonces.state_file is None


def test_a_service_closes_the_client_built_for_it_and_not_one_it_was_given(tmp_path):
    with FakeKraken(tmp_path) as fake:
        transport = SimTransport(fake.exchange)
        mine = compose.build_client(fake.config, clock=fake.clock, transport=transport)
        given = ExecutionService.from_config(fake.config, client=mine, clock=fake.clock)
        given.initialize()
        given.close()
        assert mine._nonces._fd is not None, "the caller's client is left open"
        assert mine.balance()
        mine.close()
        owned = ExecutionService.from_config(fake.config, transport=transport, clock=fake.clock)
        owned.initialize()
        client = owned.adapter.client if owned.adapter is not None else None
        owned.close()
        assert client is not None
        assert client._nonces._fd is None  # type: ignore[attr-defined]


def test_a_misspelt_wiring_keyword_is_refused_not_ignored():
    with pytest.raises(TypeError, match="clok; expected any of client, market_data"):
        ExecutionService.from_config(AppConfig(), clok=None)  # type: ignore[call-arg]
