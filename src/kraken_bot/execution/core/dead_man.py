"""Pure: the dead-man switch's schedule, and what each answer to a refresh means.

Kraken's CancelAllOrdersAfter cancels every open order of the account unless it is
refreshed in time. The shell (`kraken_bot.execution.shell.scheduler.DeadManSwitch`)
makes the call, holds the lock and runs the thread; this module keeps its record
(`SwitchState`) and decides, from values only:

* **when** to refresh: a refresh period after the last success, and, after a failure,
  sooner (`retry_delay`: a quarter of the period, at most 5 s), until it succeeds
  (`refresh_due`, `seconds_until_refresh`);
* **how hard** to try at start: a transient refusal is retried with a doubling backoff
  (`arm_waits`), since a live service does not trade unprotected;
* **what the operator hears** (`SwitchNotice`): the first arming, and the first success
  after failures (`armed`); each failed refresh, and, once Kraken's deadline has passed
  unrefreshed, that every open order of the account was canceled (`refresh_failed`).

>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> state, notice = armed(SwitchState(), now=t, trigger_time=None, timeout_seconds=60,
...     refresh=timedelta(seconds=20))
>>> notice.kind.value, refresh_due(state, now=t + timedelta(seconds=19))
('dead_man_armed', False)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from pyrsistent import pmap
from pyrsistent.typing import PMap

from kraken_bot.execution.core.events import HealthKind

__all__ = [
    "SwitchNotice",
    "SwitchState",
    "arm_waits",
    "armed",
    "refresh_due",
    "refresh_failed",
    "retry_delay",
    "seconds_until_refresh",
]

_MAX_RETRY: Final = timedelta(seconds=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchState:
    """The switch as this process last armed it.

    Attributes:
        armed_until: when Kraken cancels everything unless refreshed (None: not armed).
        last_refresh: when it was last armed successfully.
        next_due: when to refresh next (None: never armed, nothing scheduled).
        refreshes: successful arms so far (the start's included).
        failures: failed refreshes so far.
        failing: the last refresh failed (the next success is announced).
    """

    armed_until: datetime | None = None
    last_refresh: datetime | None = None
    next_due: datetime | None = None
    refreshes: int = 0
    failures: int = 0
    failing: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchNotice:
    """What to tell the operator: a health event's kind, message and details."""

    kind: HealthKind
    message: str
    details: PMap[str, str]


def retry_delay(refresh: timedelta) -> timedelta:
    """How soon a failed refresh is tried again: a quarter of the refresh period, at most
    5 s (several tries fit before a timeout of three periods runs out).

    >>> retry_delay(timedelta(seconds=20)).total_seconds(), retry_delay(timedelta(hours=1))
    (5.0, datetime.timedelta(seconds=5))
    >>> retry_delay(timedelta(seconds=8)).total_seconds()
    2.0
    """
    return min(_MAX_RETRY, refresh / 4)


def arm_waits(retries: int, backoff_seconds: float) -> list[float]:
    """The waits between attempts to arm the switch at start: ``retries`` of them,
    doubling from ``backoff_seconds``.

    >>> arm_waits(3, 1.0)
    [1.0, 2.0, 4.0]
    """
    return [backoff_seconds * 2**attempt for attempt in range(retries)]


def refresh_due(state: SwitchState, *, now: datetime) -> bool:
    """True when the switch must be refreshed now (never before it was first armed)."""
    return state.next_due is not None and now >= state.next_due


def seconds_until_refresh(state: SwitchState, *, now: datetime) -> float | None:
    """Seconds until the next refresh (0: now); None when none is scheduled.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> seconds_until_refresh(SwitchState(next_due=t), now=t + timedelta(seconds=3))
    0.0
    >>> print(seconds_until_refresh(SwitchState(), now=t))
    None
    """
    if state.next_due is None:
        return None
    return max(0.0, (state.next_due - now).total_seconds())


def armed(
    state: SwitchState,
    *,
    now: datetime,
    trigger_time: datetime | None,
    timeout_seconds: int,
    refresh: timedelta,
) -> tuple[SwitchState, SwitchNotice | None]:
    """Kraken accepted an arm at ``now``: the switch fires at its ``trigger_time`` (when it
    said; else ``timeout_seconds`` from now) and is refreshed ``refresh`` later.

    Announced the first time, and when it succeeds again after failures.
    """
    until = trigger_time or now + timedelta(seconds=timeout_seconds)
    new = replace(
        state,
        armed_until=until,
        last_refresh=now,
        next_due=now + refresh,
        refreshes=state.refreshes + 1,
        failing=False,
    )
    if new.refreshes > 1 and not state.failing:
        return new, None
    message = (
        "dead-man switch armed: Kraken cancels every open order if not refreshed by"
        f" {until.isoformat()}"
    )
    return new, _notice(new, HealthKind.DEAD_MAN_ARMED, message)


def refresh_failed(
    state: SwitchState, *, now: datetime, retry: timedelta, error: str
) -> tuple[SwitchState, SwitchNotice]:
    """A refresh failed at ``now`` (``error``: why): try again ``retry`` later.

    Past the deadline the switch was armed with, Kraken has already canceled every open
    order of the account (`HealthKind.DEAD_MAN_EXPIRED`); before it, the switch still
    holds (`HealthKind.DEAD_MAN_REFRESH_FAILED`).
    """
    new = replace(state, failures=state.failures + 1, failing=True, next_due=now + retry)
    until = state.armed_until
    if until is not None and now >= until:
        message = (
            f"dead-man switch EXPIRED at {until.isoformat()} after failed refreshes ({error}):"
            " Kraken has canceled every open order of the account"
        )
        return new, _notice(new, HealthKind.DEAD_MAN_EXPIRED, message)
    message = (
        f"dead-man switch refresh failed ({error}); still armed until"
        f" {until.isoformat() if until else 'unknown'}"
    )
    return new, _notice(new, HealthKind.DEAD_MAN_REFRESH_FAILED, message)


def _notice(state: SwitchState, kind: HealthKind, message: str) -> SwitchNotice:
    until = state.armed_until.isoformat() if state.armed_until is not None else ""
    details = pmap({"armed_until": until, "failures": str(state.failures)})
    return SwitchNotice(kind=kind, message=message, details=details)
