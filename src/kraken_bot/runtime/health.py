"""Pure: is the long-running process alive and the account protected? (`krakked status`).

`krakked run` writes a heartbeat file beside its database (``<db>.run.json``)
every ``run.heartbeat_seconds``: who runs (pid, since), the last plan, the
dead-man switch, the last reconciliation, the last errors. `verdict` reads one
heartbeat (or none) at a given time and says whether the process is running and
whether the account is protected. It is a health check: healthy means running,
with a fresh heartbeat, and (when the switch is on) a switch that has not lapsed.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
>>> beat = {"pid": 7, "updated_at": "2026-01-01T00:00:58+00:00", "heartbeat_seconds": 5,
...     "dead_man": {"enabled": True, "armed_until": "2026-01-01T00:01:40+00:00"}}
>>> verdict(beat, now=now, pid_alive=True).healthy
True
>>> verdict(beat, now=now, pid_alive=False).reasons
('the run process (pid 7) is not running',)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from kraken_bot.execution.core.codec import decode_datetime

__all__ = ["STALE_AFTER_BEATS", "Verdict", "heartbeat_path_for", "verdict"]

STALE_AFTER_BEATS: Final = 3
"""A heartbeat older than this many periods means the process is not running."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `krakked status` concludes."""

    running: bool
    protected: bool
    reasons: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        """Running and protected: exit code 0."""
        return self.running and self.protected


def heartbeat_path_for(database_path: str) -> str:
    """The heartbeat file of the process using ``database_path``.

    >>> heartbeat_path_for("portfolio.db")
    'portfolio.db.run.json'
    """
    return f"{database_path}.run.json"


def verdict(heartbeat: Mapping[str, object] | None, *, now: datetime, pid_alive: bool) -> Verdict:
    """Running, protected, and why not (see the module docstring)."""
    if heartbeat is None:
        return Verdict(False, False, ("no run process has written a heartbeat here",))
    pid = heartbeat.get("pid")
    if heartbeat.get("stopped") is True:
        at = heartbeat.get("stopped_at") or "an unknown time"
        return Verdict(False, False, (f"the run process (pid {pid}) stopped at {at}",))
    if not pid_alive:
        return Verdict(False, False, (f"the run process (pid {pid}) is not running",))
    reasons: list[str] = []
    running = True
    updated = decode_datetime(heartbeat.get("updated_at"))
    period = heartbeat.get("heartbeat_seconds")
    beat = float(period) if isinstance(period, int | float) else 5.0
    if updated is None:
        running = False
        reasons.append("the heartbeat has no readable time")
    elif (now - updated).total_seconds() > STALE_AFTER_BEATS * beat:
        running = False
        age = (now - updated).total_seconds()
        reasons.append(f"the heartbeat is {age:.0f} s old (the process is stuck or gone)")
    protected = True
    dead_man = heartbeat.get("dead_man")
    if isinstance(dead_man, Mapping) and dead_man.get("enabled") is True:
        armed_until = decode_datetime(dead_man.get("armed_until"))
        if armed_until is None:
            protected = False
            reasons.append("the dead-man switch is not armed")
        elif armed_until <= now:
            protected = False
            reasons.append(
                f"the dead-man switch lapsed at {armed_until.isoformat()}: Kraken has"
                " canceled every open order of the account"
            )
    return Verdict(running, protected, tuple(reasons))
