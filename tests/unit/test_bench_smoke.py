"""The benchmark scripts keep working: the end-to-end bench at tiny sizes, and the runner.

Benchmarks never fail the suite on a wall-clock time. What is checked here is behaviour:
every measurement runs, every figure line is printed in the runner's format, and on
virtual time the rate limiter makes the exchange refuse nothing.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
REQUIRED = (
    "shell_overhead_ms_per_order",
    "e2e_orders_per_s_inprocess",
    "e2e_orders_per_s_http",
    "rate_limit_efficiency",
    "rate_limit_errors",
    "scale_per_order_ratio_10k_vs_10",
)


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_smoke_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.mark.http
def test_the_end_to_end_benchmark_prints_every_figure_at_tiny_sizes(capsys):
    bench, runner = load("bench_e2e"), load("run")

    report = bench.run_all(bench.TINY)
    bench.print_report(report)

    lines = capsys.readouterr().out.splitlines()
    figures = {m["name"]: float(m["value"]) for m in map(runner.LINE.match, lines) if m}
    assert set(REQUIRED) <= set(figures)
    assert figures["rate_limit_errors"] == 0
    assert report.limits.rate_limit_errors == 0
    # One sender on virtual time paces AddOrders exactly at the trading counter's decay.
    assert report.limits.serial.efficiency <= 1.05
    assert not report.limits.serial.refusals


@pytest.mark.http
def test_the_stream_benchmark_counts_fewer_rest_calls_with_the_socket():
    """Behaviour, not speed: at tiny sizes (virtual time) the socket saves REST calls, and the
    orders still fill either way."""
    sys.path.insert(0, str(BENCH))  # bench_stream imports its sibling bench_service
    try:
        bench = load("bench_stream")
    finally:
        sys.path.remove(str(BENCH))
    with_socket, filled_ws = bench.rest_calls_per_order(websocket=True, plans=2, every=600)
    polling, filled_poll = bench.rest_calls_per_order(websocket=False, plans=2, every=600)
    assert filled_ws == filled_poll > 0
    assert with_socket < polling


def test_the_runner_collects_figures_merges_results_and_flags_a_broken_script(
    tmp_path, monkeypatch, capsys
):
    runner = load("run")
    scripts, results = tmp_path / "bench", tmp_path / "results"
    scripts.mkdir()
    (scripts / "bench_good.py").write_text(
        "print('a table line')\nprint('e2e_orders_per_s_http: 250 orders/s')\n"
    )
    (scripts / "bench_broken.py").write_text("raise SystemExit('boom')\n")
    monkeypatch.setattr(runner, "HERE", scripts)
    monkeypatch.setattr(runner, "RESULTS", results)
    results.mkdir()
    (results / "last-quick.json").write_text(json.dumps({"other_figure": [1.0, "x"]}))

    assert runner.main(["--quick", "--only", "good"]) == 0
    out = capsys.readouterr().out
    assert "a table line" in out
    assert out.rstrip().endswith("e2e_orders_per_s_http: 250 orders/s")
    saved = json.loads((results / "last-quick.json").read_text())
    assert saved == {"other_figure": [1.0, "x"], "e2e_orders_per_s_http": [250.0, "orders/s"]}

    assert runner.main(["--quick", "--only", "good,broken", "--no-save"]) == 1
    assert "bench_broken.py (exit 1)" in capsys.readouterr().out


def test_the_replay_benchmark_prints_its_three_figures_at_tiny_sizes(capsys):
    bench, runner = load("bench_replay"), load("run")

    report = bench.measure(short=2, repeats=1, long=10)
    bench.print_report(report)

    lines = capsys.readouterr().out.splitlines()
    figures = {m["name"]: float(m["value"]) for m in map(runner.LINE.match, lines) if m}
    assert set(figures) == {"sim_plans_per_s_12", "sim_plans_per_s_4320", "sim_scale_ratio"}
    assert report.ok
    assert figures["sim_scale_ratio"] > 0
    assert len(report.long.tenths()) == 10
    assert "sim_scale_ratio" in runner.TARGETS
