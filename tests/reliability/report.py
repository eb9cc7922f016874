"""Aggregate the reliability campaign's figures: ``python -m tests.reliability.report``.

Reads the JSON lines the campaign's tests append (``$KRAKKED_FIGURES``, default
``.chaos/figures.jsonl``), keeps the latest run (``--all``: every run in the
file), prints one row per test and closing ``name: value unit`` lines, and
exits 1 when a duplicate, a lost order or an invariant violation was recorded
(or when there is nothing to report).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from tests.reliability.figures import COUNTERS, figures_path

FAILURES: Final = ("duplicates", "lost_orders", "invariant_violations")
EXTRAS: Final = (
    "steps",
    "simulated_crashes",
    "exchange_orders",
    "concurrent_steps",
    "second_process_runs",
    "clock_offsets_tried",
    "database_losses",
)
"""Also reported: state machine steps (each followed by the invariant check), in-process
deaths while sending (state machine), orders the campaign placed on the fake exchange,
steps with callers in several threads, runs of a second process on the key and database,
distinct host clock offsets tried, and databases lost (then rebuilt by adoption)."""
COLUMNS: Final = (
    ("scenarios", "scenarios"),
    ("crashes", "crashes_survived"),
    ("bad inputs", "bad_inputs"),
    ("faults", "faults"),
    ("dup", "duplicates"),
    ("lost", "lost_orders"),
    ("violations", "invariant_violations"),
    ("seconds", "seconds"),
)


@dataclass
class Totals:
    """The campaign's figures, summed over its tests."""

    counts: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    quirks: Counter[str] = field(default_factory=Counter)
    """Per reading of Kraken (``quirk:name=value``): scenarios, and ``...|violations``."""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add(self, line: dict[str, Any]) -> None:
        for name in COUNTERS:
            self.counts[name] += int(line.get(name, 0))
        extra = dict(line.get("extra", {}))
        for name in EXTRAS:
            if name != "steps":
                self.counts[name] += int(extra.get(name, 0))
        self.quirks.update({k: int(v) for k, v in extra.items() if k.startswith("quirk:")})
        self.faults.update({k: int(v) for k, v in dict(line.get("faults", {})).items()})
        self.seconds += float(line.get("seconds", 0.0))
        self.notes += [f"{line.get('test')}: {note}" for note in line.get("notes", [])]

    @property
    def failed(self) -> bool:
        return any(self.counts[name] > 0 for name in FAILURES)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every well-formed line of the figures file (a torn last line is skipped)."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


def latest_run(lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines of the run that wrote the last line."""
    if not lines:
        return []
    run = lines[-1].get("run")
    return [line for line in lines if line.get("run") == run]


def short_name(test: str) -> str:
    module, _, name = test.partition("::")
    return f"{Path(module).stem.removeprefix('test_reliability_')}::{name}"


def table(lines: Iterable[dict[str, Any]]) -> list[str]:
    rows = [["test", *(title for title, _ in COLUMNS)]]
    for line in lines:
        values = []
        for _, key in COLUMNS:
            if key == "faults":
                values.append(str(sum(dict(line.get("faults", {})).values())))
            elif key == "seconds":
                values.append(f"{float(line.get('seconds', 0.0)):.1f}")
            else:
                values.append(str(line.get(key, 0)))
        rows.append([short_name(str(line.get("test", "?"))), *values])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
        if number == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def quirk_table(totals: Totals) -> list[str]:
    """One row per reading of Kraken: scenarios run under it, violations seen under it."""
    settings = sorted(k for k in totals.quirks if "|" not in k)
    if not settings:
        return []
    width = max(len(s) for s in settings)
    out = [f"{'reading of Kraken'.ljust(width)}  scenarios  violations"]
    for setting in settings:
        broken = totals.quirks.get(f"{setting}|violations", 0)
        out.append(f"{setting.ljust(width)}  {totals.quirks[setting]:9d}  {broken:10d}")
    return out


def closing_lines(totals: Totals) -> list[str]:
    counts = totals.counts
    lines = [
        f"chaos_scenarios: {counts['scenarios']} count",
        f"chaos_faults_injected: {sum(totals.faults.values())} count",
    ]
    lines += [
        f"chaos_faults_injected_{kind}: {amount} count"
        for kind, amount in sorted(totals.faults.items())
    ]
    lines += [
        f"chaos_crashes_survived: {counts['crashes_survived']} count",
        f"chaos_duplicates: {counts['duplicates']} count",
        f"chaos_lost_orders: {counts['lost_orders']} count",
        f"chaos_invariant_violations: {counts['invariant_violations']} count",
        f"chaos_bad_inputs: {counts['bad_inputs']} count",
    ]
    lines += [f"chaos_{name}: {counts[name]} count" for name in EXTRAS]
    settings = [k for k in totals.quirks if "|" not in k]
    broken = [k for k in settings if totals.quirks.get(f"{k}|violations", 0)]
    lines.append(f"chaos_quirk_settings_tried: {len(settings)} count")
    lines.append(f"chaos_quirk_settings_with_violations: {len(broken)} count")
    lines.append(f"chaos_seconds: {totals.seconds:.1f} s")
    return lines


def report(lines: Sequence[dict[str, Any]], out: TextIO) -> int:
    """Print the table and the closing lines; the exit status (1: something broke)."""
    totals = Totals()
    for line in lines:
        totals.add(line)
    out.writelines(row + "\n" for row in table(lines))
    out.write("\n")
    quirks = quirk_table(totals)
    if quirks:
        out.writelines(row + "\n" for row in quirks)
        out.write("\n")
    out.writelines(f"note: {note}\n" for note in totals.notes[:20])
    out.writelines(closing + "\n" for closing in closing_lines(totals))
    return 1 if totals.failed else 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--file", type=Path, default=None, help="figures file (JSON lines)")
    parser.add_argument("--all", action="store_true", help="every run in the file")
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    path = args.file or figures_path()
    if not path.is_file():
        stream.write(f"no figures at {path}: run the campaign with KRAKKED_CHAOS=1\n")
        return 1
    lines = read_lines(path)
    chosen = lines if args.all else latest_run(lines)
    if not chosen:
        stream.write(f"{path} holds no figures\n")
        return 1
    return report(chosen, stream)


if __name__ == "__main__":
    sys.exit(main())
