"""Orchestration helpers: bounded concurrency for sends, and the dead-man switch refresher.

The dead-man switch (Kraken's CancelAllOrdersAfter) cancels every open order if
it is not refreshed in time: protection against this process dying with orders
working. `DeadManSwitch` arms it, refreshes it well before it expires, logs
loudly when a refresh fails, and on `stop` first stops refreshing and only then
disarms, so no late refresh can re-arm it.

Time is read from the injected clock. With ``background=True`` a daemon thread
polls in real time and refreshes when the clock says it is due (production);
with ``background=False`` refreshes happen only when the service calls `tick`
(virtual time: the simulator and tests stay deterministic).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from kraken_bot.clock import Clock
from kraken_bot.execution.core.events import HealthKind
from kraken_bot.execution.shell._retry import retry_reads
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.types import DeadManSwitchAck

log = logging.getLogger("kraken_bot.execution.shell.scheduler")

_T = TypeVar("_T")
_R = TypeVar("_R")


def run_bounded(items: Sequence[_T], work: Callable[[_T], _R], limit: int) -> list[_R]:
    """Run ``work`` over ``items`` with at most ``limit`` in flight; results in input order.

    >>> run_bounded([1, 2, 3], lambda x: x * 10, limit=2)
    [10, 20, 30]
    """
    if limit <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    workers = min(limit, len(items))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send") as pool:
        return list(pool.map(work, items))


class SwitchPort(Protocol):
    """What the refresher needs: one call to (re)arm or disarm."""

    def set_dead_man_switch(self, seconds: int) -> DeadManSwitchAck:
        """Arm with ``seconds``, or disarm with 0."""
        ...


class DeadManSwitchError(KrakenAPIError):
    """The switch could not be armed when the service started."""


class DeadManSwitch:
    """Keeps Kraken's CancelAllOrdersAfter armed while the service runs (live mode only)."""

    def __init__(
        self,
        port: SwitchPort,
        *,
        timeout_seconds: int,
        refresh_seconds: float,
        clock: Clock,
        background: bool = True,
        poll_seconds: float = 0.5,
        arm_retries: int = 3,
        arm_backoff_seconds: float = 1.0,
        on_event: Callable[[HealthKind, str, dict[str, str]], None] | None = None,
    ) -> None:
        self._port = port
        self._on_event = on_event
        self._timeout = timeout_seconds
        self._refresh = timedelta(seconds=refresh_seconds)
        self._retry = timedelta(seconds=min(5.0, refresh_seconds / 4))
        self._clock = clock
        self._background = background
        self._poll = poll_seconds
        self._arm_retries = arm_retries
        self._arm_backoff = arm_backoff_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_due: datetime | None = None
        self.armed_until: datetime | None = None
        self.last_refresh: datetime | None = None
        self.refreshes = 0
        self.failures = 0
        self._failing = False

    def start(self) -> None:
        """Arm the switch now, then keep it armed.

        A transient refusal (busy, 5xx, nonce) is retried ``arm_retries`` times with a
        doubling backoff; a permanent one, or the last transient one, raises
        `DeadManSwitchError`: a live service does not start unprotected.
        """
        waits = [self._arm_backoff * 2**attempt for attempt in range(self._arm_retries)]
        try:
            retry_reads(
                self._arm, sleep=self._clock.sleep, waits=waits, what="arming the dead-man switch"
            )
        except KrakenAPIError as exc:
            raise DeadManSwitchError(f"could not arm the dead-man switch: {exc}") from exc
        if self._background:
            self._thread = threading.Thread(target=self._run, name="dead-man-switch", daemon=True)
            self._thread.start()

    def tick(self) -> None:
        """Refresh if due. Safe to call from any thread, as often as wanted."""
        if self._stop.is_set():
            return
        with self._lock:
            if self._next_due is None or self._clock.now() < self._next_due:
                return
            try:
                self._arm_locked()
            except KrakenAPIError as exc:
                self._refresh_failed(exc)

    def seconds_until_due(self) -> float | None:
        """Seconds until `tick` has work (0: now); None when nothing is scheduled (stopped)."""
        with self._lock:
            if self._stop.is_set() or self._next_due is None:
                return None
            return max(0.0, (self._next_due - self._clock.now()).total_seconds())

    def stop(self, *, disarm: bool = True) -> None:
        """Stop refreshing (joining the thread), then disarm the switch on Kraken."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if not disarm:
            return
        with self._lock:
            try:
                self._port.set_dead_man_switch(0)
                self.armed_until = None
                log.info("dead-man switch disarmed")
            except KrakenAPIError as exc:
                log.error(  # noqa: TRY400 - the cause is in the message; no traceback wanted
                    "could not disarm the dead-man switch (%s): Kraken will cancel all open"
                    " orders at %s",
                    exc,
                    self.armed_until,
                )

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            self.tick()

    def _arm(self) -> None:
        with self._lock:
            self._arm_locked()

    def _arm_locked(self) -> None:
        now = self._clock.now()
        ack = self._port.set_dead_man_switch(self._timeout)
        self.armed_until = ack.trigger_time or now + timedelta(seconds=self._timeout)
        self.last_refresh = now
        self._next_due = now + self._refresh
        self.refreshes += 1
        log.debug("dead-man switch armed until %s", self.armed_until)
        if self.refreshes == 1 or self._failing:
            self._failing = False
            self._emit(
                HealthKind.DEAD_MAN_ARMED,
                f"dead-man switch armed: Kraken cancels every open order if not refreshed by"
                f" {self.armed_until.isoformat()}",
            )

    def _emit(self, kind: HealthKind, message: str) -> None:
        if self._on_event is None:
            return
        armed = self.armed_until.isoformat() if self.armed_until is not None else ""
        try:
            self._on_event(kind, message, {"armed_until": armed, "failures": str(self.failures)})
        except Exception:
            log.exception("the dead-man switch's event handler raised")

    def _refresh_failed(self, exc: KrakenAPIError) -> None:
        self.failures += 1
        self._failing = True
        now = self._clock.now()
        self._next_due = now + self._retry
        if self.armed_until is not None and now >= self.armed_until:
            log.critical(
                "dead-man switch EXPIRED at %s after failed refreshes (%s):"
                " Kraken has canceled all open orders",
                self.armed_until,
                exc,
            )
            self._emit(
                HealthKind.DEAD_MAN_EXPIRED,
                f"dead-man switch EXPIRED at {self.armed_until.isoformat()} after failed"
                f" refreshes ({exc}): Kraken has canceled every open order of the account",
            )
        else:
            log.error(
                "dead-man switch refresh FAILED (%s); armed until %s, retrying in %ss",
                exc,
                self.armed_until,
                self._retry.total_seconds(),
            )
            self._emit(
                HealthKind.DEAD_MAN_REFRESH_FAILED,
                f"dead-man switch refresh failed ({exc}); still armed until"
                f" {self.armed_until.isoformat() if self.armed_until else 'unknown'}",
            )
