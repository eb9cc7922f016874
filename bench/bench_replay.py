"""Plans per second of ``krakked sim``, short and long, and how flat the cost per plan stays.

Usage: ``python bench/bench_replay.py [--quick]``

Both replays are what ``krakked sim`` runs (the default scenario, seed 7, the light fault
profile, a plan every 10 virtual minutes, no plot samples), in this one process, one after
the other:

1. **short**: 12 plans (the default two-hour replay), repeated 5 times; the fastest run
   counts (the least disturbed by the machine's other work);
2. **long**: 4,320 plans (``krakked sim --days 30``; ``--quick``: 432 plans, three days),
   once.

``sim_scale_ratio`` is the wall time per plan of the long replay over that of the short one
(target <= 1.2): above 1, plans cost more as the history grows. The short replay carries
the fixed costs of a run (building the stack, the final reconciliation and checks) over 12
plans only, which flatters the long one; the table also shows the long replay's cost per
plan tenth by tenth, where fixed costs play no part, so growth shows as a rising row.
Prints a table, then one ``name: value unit`` line per figure.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from kraken_bot.simulation.records import ReplayProgress
from kraken_bot.simulation.runner import SimulationSettings, run_simulation

SHORT = 12
SHORT_REPEATS = 5
LONG, LONG_QUICK = 4320, 432
TENTHS = 10


@dataclass
class Replay:
    """One replay: wall and CPU seconds, and the wall time at each plan's end."""

    plans: int
    wall: float = 0.0
    cpu: float = 0.0
    marks: list[tuple[int, float]] = field(default_factory=list)
    ok: bool = True

    @property
    def ms_per_plan(self) -> float:
        """Wall milliseconds per plan, the whole run included."""
        return self.wall / self.plans * 1000

    def tenths(self) -> list[float]:
        """Wall milliseconds per plan in each tenth of the plans (fixed costs left out)."""
        at = dict(self.marks)
        size = self.plans // TENTHS
        return [
            (at[(i + 1) * size] - at[i * size]) / size * 1000
            for i in range(TENTHS)
            if (i + 1) * size in at and i * size in at
        ]


def replay(plans: int, directory: Path) -> Replay:
    """Run ``krakked sim`` with ``plans`` plans; time it."""
    result = Replay(plans=plans)

    def progress(report: ReplayProgress) -> None:
        result.marks.append((report.plans_done, time.perf_counter()))

    db_path = directory / f"replay-{plans}.db"
    settings = SimulationSettings(db_path=db_path, plans=plans, samples=False)
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = run_simulation(settings, progress=progress)
    result.wall = time.perf_counter() - wall
    result.cpu = time.process_time() - cpu
    result.ok = not outcome.violations
    return result


@dataclass
class Report:
    """The short replays, the long one, and the figures."""

    shorts: list[Replay]
    long: Replay

    @property
    def short(self) -> Replay:
        """The fastest short replay (the least disturbed by the machine's other work)."""
        return min(self.shorts, key=lambda r: r.wall)

    @property
    def ratio(self) -> float:
        """Wall time per plan of the long replay over the short one's."""
        return self.long.ms_per_plan / self.short.ms_per_plan

    @property
    def ok(self) -> bool:
        """Every replay kept every invariant."""
        return all(r.ok for r in (*self.shorts, self.long))


def measure(*, short: int = SHORT, repeats: int = SHORT_REPEATS, long: int = LONG) -> Report:
    """Run the short replays, then the long one, in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        shorts = [replay(short, Path(tmp)) for _ in range(repeats)]
        return Report(shorts=shorts, long=replay(long, Path(tmp)))


def print_report(report: Report) -> None:
    """The table, then the closing figure lines."""
    short, long = report.short, report.long
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("replay   plans   wall s   cpu s   ms/plan   plans/s   invariants")
    for name, run in (("short", short), ("long", long)):
        print(
            f"{name:<7} {run.plans:>6} {run.wall:>8.2f} {run.cpu:>7.2f} {run.ms_per_plan:>9.2f}"
            f" {1000 / run.ms_per_plan:>9.1f}   {'hold' if run.ok else 'BROKEN'}"
        )
    print(f"short runs (ms/plan): {', '.join(f'{r.ms_per_plan:.1f}' for r in report.shorts)}")
    print("long replay, ms per plan by tenth: " + " ".join(f"{t:.1f}" for t in long.tenths()))
    print(
        f"scale: a plan of the {long.plans}-plan replay costs {report.ratio:.2f}x"
        f" one of the {short.plans}-plan replay (target <= 1.2)"
    )
    print()
    print(f"sim_plans_per_s_12: {1000 / short.ms_per_plan:.1f} plans/s")
    print(f"sim_plans_per_s_4320: {1000 / long.ms_per_plan:.1f} plans/s")
    print(f"sim_scale_ratio: {report.ratio:.3f} ratio")


def main(argv: list[str] | None = None) -> int:
    """Measure, print; exit 1 if a replay broke an invariant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"{LONG_QUICK} plans, not {LONG}")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # the light fault profile makes the service log errors
    report = measure(long=LONG_QUICK if args.quick else LONG)
    print_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
