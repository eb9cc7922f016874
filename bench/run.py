"""Run every benchmark script and print one table, then one `name: value unit` line per figure.

Each ``bench/bench_*.py`` prints its own table and ends with ``name: value unit``
lines; this runner collects those lines, compares them with the previous run of
the same mode (full or ``--quick``; kept in ``bench-results/last.json`` and
``bench-results/last-quick.json``, a partial ``--only`` run updating just its own
figures), appends the run to ``bench-results/history.jsonl``, and prints the
combined figures with their targets. It never fails on a time: benchmarks report,
they do not gate. It exits non-zero only when a script itself fails (crashes,
times out, or prints no figures), so a broken script cannot go unnoticed.

Usage: ``python bench/run.py [--quick] [--only core,client,...] [--no-save]``
"""

from __future__ import annotations

import argparse
import json
import operator
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
LINE = re.compile(r"^(?P<name>[a-z0-9_]+): (?P<value>-?[0-9.]+(?:e[-+]?[0-9]+)?) (?P<unit>\S+)$")
ORDER = ("core", "client", "store", "sim", "replay", "e2e", "service", "stream")

# Targets of the release (issue 9, and the sim's own); a miss is reported, never fatal.
TARGETS: Mapping[str, tuple[str, float]] = {
    "planner_actions_per_s": (">=", 50_000),
    "lifecycle_folds_per_s": (">=", 50_000),
    "client_overhead_us": ("<=", 200),
    "client_rate_limit_efficiency": ("<=", 1.05),
    "store_snapshots_per_s": (">=", 5_000),
    "sim_requests_per_s_inprocess": (">=", 5_000),
    "sim_requests_per_s_http": (">=", 1_000),
    "shell_overhead_ms_per_order": ("<=", 1.0),
    "e2e_orders_per_s_inprocess": (">=", 500),
    "e2e_orders_per_s_http": (">=", 200),
    "rate_limit_efficiency": ("<=", 1.05),
    "rate_limit_errors": ("<=", 0),
    "rate_limit_run_refusals": ("<=", 0),
    "scale_per_order_ratio_10k_vs_10": ("<=", 1.5),
    "scale_per_order_ratio_10k_vs_1k": ("<=", 1.5),
    "scale_userref_per_order_ratio_10k_vs_1k": ("<=", 1.5),
    "sim_scale_ratio": ("<=", 1.2),
    "ws_fill_to_event_ms_p50": ("<=", 20.0),
    "rest_calls_per_order_ratio": (">=", 3.0),
}
_COMPARE: Mapping[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le}

Figures = dict[str, tuple[float, str]]


def run_script(path: Path, *, quick: bool, timeout: float) -> tuple[Figures, str]:
    """Run one script; print its table (without the figure lines); return figures and status."""
    args = [sys.executable, str(path), *(["--quick"] if quick else [])]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            args, capture_output=True, text=True, check=False, cwd=HERE.parent, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        print(f"--- {path.name}: timed out after {timeout:.0f} s")
        return {}, "timeout"
    took = time.perf_counter() - started
    figures: Figures = {}
    for line in proc.stdout.splitlines():
        match = LINE.match(line.strip())
        if match:
            figures[match["name"]] = (float(match["value"]), match["unit"])
    status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    if status == "ok" and not figures:
        status = "no figures"
    print(f"--- {path.name} ({took:.1f} s, {status})")
    body = [ln for ln in proc.stdout.splitlines() if not LINE.match(ln.strip())]
    print("\n".join(body).rstrip())
    if status != "ok":
        print(proc.stderr[-3000:].rstrip())
    return figures, status


def verdict(name: str, value: float) -> tuple[str, str]:
    """(target text, "ok"/"MISS"/"") for a figure."""
    target = TARGETS.get(name)
    if target is None:
        return "", ""
    op, bound = target
    return f"{op} {bound:g}", "ok" if _COMPARE[op](value, bound) else "MISS"


def show(value: float) -> str:
    """A figure's value as its closing line prints it (4 significant digits, no exponent)."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def print_table(figures: Figures, previous: Mapping[str, object]) -> None:
    """Every figure with its target, verdict and change against the previous run."""
    width = max((len(n) for n in figures), default=10)
    print(f"  {'figure':<{width}}  {'value':>10} {'unit':<11} {'target':>10} {'':4}  change")
    for name, (value, unit) in figures.items():
        before = previous.get(name)
        change = ""
        if isinstance(before, list) and before and isinstance(before[0], int | float) and before[0]:
            change = f"{(value - float(before[0])) / float(before[0]) * 100:+.1f} %"
        target, status = verdict(name, value)
        print(f"  {name:<{width}}  {show(value):>10} {unit:<11} {target:>10} {status:4}  {change}")


def save(figures: Figures, previous: Mapping[str, object], *, quick: bool) -> None:
    """Merge into the last-run file of this mode; append to the history."""
    RESULTS.mkdir(exist_ok=True)
    merged = {**previous, **{k: [v, u] for k, (v, u) in figures.items()}}
    (RESULTS / ("last-quick.json" if quick else "last.json")).write_text(
        json.dumps(merged, indent=1)
    )
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "figures": {k: [v, u] for k, (v, u) in figures.items()},
    }
    with (RESULTS / "history.jsonl").open("a", encoding="utf-8") as history:
        history.write(json.dumps(record) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the scripts, print the tables and the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (for a smoke run)")
    parser.add_argument("--only", default="", help=f"comma list of scripts ({','.join(ORDER)})")
    parser.add_argument("--no-save", action="store_true", help="do not record this run")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per script")
    args = parser.parse_args(argv)
    wanted = [w.strip() for w in args.only.split(",") if w.strip()] or list(ORDER)
    unknown = [w for w in wanted if not (HERE / f"bench_{w}.py").exists()]
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)} (known: {', '.join(ORDER)})")
    figures: Figures = {}
    failed: list[str] = []
    for name in wanted:
        found, status = run_script(
            HERE / f"bench_{name}.py", quick=args.quick, timeout=args.timeout
        )
        figures.update(found)
        if status != "ok":
            failed.append(f"bench_{name}.py ({status})")
    last_file = RESULTS / ("last-quick.json" if args.quick else "last.json")
    previous: dict[str, object] = json.loads(last_file.read_text()) if last_file.exists() else {}
    mode = "quick" if args.quick else "full"
    print(f"\n=== figures ({mode} run; change against the previous {mode} run)")
    print_table(figures, previous)
    misses = [n for n, (v, _) in figures.items() if verdict(n, v)[1] == "MISS"]
    if misses:
        print(f"  targets missed (reported, not fatal): {', '.join(misses)}")
    if failed:
        print(f"  scripts that failed: {', '.join(failed)}")
    if not args.no_save:
        save(figures, previous, quick=args.quick)
    print()
    for name, (value, unit) in figures.items():
        print(f"{name}: {show(value)} {unit}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
