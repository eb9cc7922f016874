"""The README's code examples run as written, against the fake exchange over loopback HTTP."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kraken_bot.cli import app
from kraken_sim import Exchange, WallClock, load_scenario, serve

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8765"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.fixture
def exchange(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake = Exchange(load_scenario(None), seed=2, clock=WallClock(), faults="none")
    _, key, secret = fake.credentials()[0]
    with serve(fake) as server:
        monkeypatch.setenv("KRAKEN_API_URL", server.base_url)
        monkeypatch.setenv("KRAKEN_API_KEY", key)
        monkeypatch.setenv("KRAKEN_API_SECRET", secret)
        yield fake, server.base_url, key, secret


def test_the_readme_has_the_four_examples():
    blocks = python_blocks()
    assert len(blocks) == 4
    assert "ExecutionService.from_config" in blocks[0]
    assert "krakenex" in blocks[1]
    assert "from kraken.spot import" in blocks[2]
    assert "ccxt" in blocks[3]


def test_the_library_example_imports_only_from_the_public_package():
    tree = ast.parse(python_blocks()[0])
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kraken_bot")
    }
    assert imported == {"kraken_bot.execution"}
    assert not any(isinstance(node, ast.Import) for node in ast.walk(tree))


def test_the_readme_says_where_the_types_differ_from_the_contract():
    text = README.read_text(encoding="utf-8")
    table = text[text.index("### Where the types differ from the contract") :]
    table = table[: table.index("\n## ")]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0] == "| contract | ours | why |"
    for needle in ("`Decimal`", "raw_request", "tuple[LocalOrder, ...]", "StrEnum", "simulated"):
        assert any(needle in row for row in rows[2:]), needle


@pytest.mark.http
def test_the_library_example_executes_a_plan_in_paper_mode(exchange, capsys):
    fake, _, key, _ = exchange
    exec(compile(python_blocks()[0], str(README), "exec"), {"__name__": "readme"})
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["True ()", "XBTUSD buy 0.15000000 validated"]
    assert fake.orders(key) == []  # paper mode: validated, never placed
    assert Path("portfolio.paper.db").is_file()  # one default database per mode


def run_client_example(index, exchange):
    _, url, key, secret = exchange
    example = python_blocks()[index]
    assert README_URL in example
    example = example.replace("<api_key>", key).replace("<api_secret>", secret)
    exec(compile(example.replace(README_URL, url), str(README), "exec"), {"__name__": "readme"})


@pytest.mark.http
def test_the_krakenex_example_talks_to_the_fake_exchange(exchange, capsys):
    run_client_example(1, exchange)
    assert "'ZUSD': '100000.0000'" in capsys.readouterr().out


@pytest.mark.http
def test_the_python_kraken_sdk_example_talks_to_the_fake_exchange(exchange, capsys):
    run_client_example(2, exchange)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "{'descr': {'order': 'buy 0.01000000 XBTUSD @ limit 50000.0'}}",
        "{'balance': '100000.0000', 'hold_trade': '0.0000'}",
    ]


@pytest.mark.http
def test_the_ccxt_example_talks_to_the_fake_exchange(exchange, capsys):
    run_client_example(3, exchange)
    assert capsys.readouterr().out.splitlines() == ["100000.0"]


def test_the_readme_sample_output_is_what_krakked_sim_prints(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["sim"])
    text = README.read_text(encoding="utf-8")
    start = text.index("```text\nkrakked sim:") + len("```text\n")
    sample = text[start : text.index("```", start)].splitlines()
    printed = result.stdout.splitlines()
    # Everything but the wall time on the first line and the database path on the last.
    assert sample[0].rsplit(" in ", 1)[0] == printed[0].rsplit(" in ", 1)[0]
    assert sample[1:-1] == printed[1:-1], "regenerate the README sample with `krakked sim`"
