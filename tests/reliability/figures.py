"""Counters of the reliability campaign, appended as JSON lines for `tests.reliability.report`.

Each test that can builds a `Figures`, adds what it did (scenarios run, faults
injected by kind, crashes survived, bad inputs tried, and what went wrong:
duplicates, lost orders, invariant violations) and `flush`es one line at the
end, passed or failed. Writing is a no-op unless ``KRAKKED_CHAOS=1`` or
``KRAKKED_FIGURES`` names the file (default ``.chaos/figures.jsonl``), so the
default test suite leaves no file behind.

Every line carries a ``run`` id (the pytest controller's process id and start
time: xdist workers share their parent's), so the report can aggregate the
latest campaign only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

ENV_FILE: Final = "KRAKKED_FIGURES"
ENV_CHAOS: Final = "KRAKKED_CHAOS"
DEFAULT_FILE: Final = Path(".chaos/figures.jsonl")

COUNTERS: Final = (
    "scenarios",
    "steps",
    "crashes_survived",
    "duplicates",
    "lost_orders",
    "invariant_violations",
    "bad_inputs",
)
"""The counters every line holds (faults by kind are kept apart)."""

_WRITE_LOCK = threading.Lock()


def enabled() -> bool:
    """True when figures are written (chaos campaign, or an explicit file)."""
    return os.environ.get(ENV_CHAOS) == "1" or bool(os.environ.get(ENV_FILE))


def figures_path() -> Path:
    """Where figures go: ``$KRAKKED_FIGURES`` or ``.chaos/figures.jsonl``."""
    return Path(os.environ.get(ENV_FILE) or DEFAULT_FILE)


def _start_time(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return "0"
    return stat.rsplit(")", 1)[-1].split()[19]


def run_id() -> str:
    """The id of this pytest run, shared by its xdist workers."""
    pid = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
    return f"{pid}-{_start_time(pid)}"


class Figures:
    """What one test did, written as one JSON line by `flush`."""

    def __init__(self, test: str) -> None:
        self.test = test
        self.counts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.notes: list[str] = []
        self._started = time.monotonic()
        self._lock = threading.Lock()

    def add(self, name: str, amount: int = 1) -> None:
        """Count ``amount`` more of ``name`` (one of `COUNTERS`, or any extra name)."""
        with self._lock:
            self.counts[name] += amount

    def add_faults(self, counts: Mapping[str, int]) -> None:
        """Add faults injected by kind (an exchange's ``fault_counts()``)."""
        with self._lock:
            self.faults.update({kind: n for kind, n in counts.items() if n})

    def note(self, text: str) -> None:
        """Keep a short note (the first violations seen, for the report)."""
        with self._lock:
            if len(self.notes) < 20:
                self.notes.append(text[:500])

    def record(self) -> dict[str, object]:
        """The JSON-compatible line."""
        with self._lock:
            return {
                "run": run_id(),
                "test": self.test,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": round(time.monotonic() - self._started, 3),
                **{name: self.counts.get(name, 0) for name in COUNTERS},
                "extra": {k: v for k, v in self.counts.items() if k not in COUNTERS},
                "faults": dict(sorted(self.faults.items())),
                "notes": list(self.notes),
            }

    def flush(self) -> None:
        """Append the line to the figures file (no-op unless figures are `enabled`)."""
        if not enabled():
            return
        path = figures_path()
        line = json.dumps(self.record(), sort_keys=True) + "\n"
        with _WRITE_LOCK:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(line)
