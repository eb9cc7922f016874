"""Run every benchmark script and print one table, then one `name: value unit` line per figure.

Each ``bench/bench_*.py`` prints its own table and ends with ``name: value unit``
lines; this runner collects those lines, compares them with the previous run
(kept in ``bench-results/last.json``), and prints the combined figures. It never
fails on a time: benchmarks report, they do not gate.

Usage: ``python bench/run.py [--quick] [--only core,client,...]``
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
LINE = re.compile(r"^(?P<name>[a-z0-9_]+): (?P<value>-?[0-9.]+(?:e[-+]?[0-9]+)?) (?P<unit>\S+)$")
ORDER = ("core", "client", "store", "sim", "e2e")


def run_script(path: Path, quick: bool) -> tuple[dict[str, tuple[float, str]], str]:
    args = [sys.executable, str(path)] + (["--quick"] if quick else [])
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False, cwd=HERE.parent)
    took = time.perf_counter() - started
    figures: dict[str, tuple[float, str]] = {}
    for line in proc.stdout.splitlines():
        match = LINE.match(line.strip())
        if match:
            figures[match["name"]] = (float(match["value"]), match["unit"])
    status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    print(f"--- {path.name} ({took:.1f} s, {status})")
    body = [ln for ln in proc.stdout.splitlines() if not LINE.match(ln.strip())]
    print("\n".join(body).rstrip())
    if proc.returncode != 0:
        print(proc.stderr[-3000:].rstrip())
    return figures, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (for a smoke run)")
    parser.add_argument("--only", default="", help="comma list of scripts (core,client,...)")
    args = parser.parse_args()
    wanted = [w for w in args.only.split(",") if w] or list(ORDER)
    scripts = [HERE / f"bench_{name}.py" for name in wanted if (HERE / f"bench_{name}.py").exists()]
    figures: dict[str, tuple[float, str]] = {}
    for script in scripts:
        found, _ = run_script(script, args.quick)
        figures.update(found)
    RESULTS.mkdir(exist_ok=True)
    last_file = RESULTS / "last.json"
    previous: dict[str, list[object]] = {}
    if last_file.exists():
        previous = json.loads(last_file.read_text())
    print("\n=== figures (change against the previous run)")
    width = max((len(n) for n in figures), default=10)
    for name, (value, unit) in figures.items():
        before = previous.get(name)
        change = ""
        if before and isinstance(before[0], int | float) and before[0]:
            change = f"{(value - float(before[0])) / float(before[0]) * 100:+.1f} %"
        print(f"  {name:<{width}}  {value:>14.4g} {unit:<12} {change}")
    last_file.write_text(json.dumps({k: [v, u] for k, (v, u) in figures.items()}, indent=1))
    print()
    for name, (value, unit) in figures.items():
        shown = f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
        print(f"{name}: {shown} {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
