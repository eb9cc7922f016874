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
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from kraken_bot.clock import Clock
from kraken_bot.execution.core.dead_man import (
    SwitchNotice,
    SwitchState,
    arm_waits,
    armed,
    refresh_due,
    refresh_failed,
    retry_delay,
    seconds_until_refresh,
)
from kraken_bot.execution.core.events import HealthKind
from kraken_bot.execution.shell._retry import retry_reads
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.types import DeadManSwitchAck

log = logging.getLogger("kraken_bot.execution.shell.scheduler")

_T = TypeVar("_T")
_R = TypeVar("_R")


def run_bounded(items: Sequence[_T], work: Callable[[_T], _R], limit: int) -> list[_R]:
    """Run ``work`` over ``items`` with at most ``limit`` in flight; results in input order.

    When one ``work`` raises, the items not started yet are not run, and the error is
    raised once the ones running have finished: no ``work`` runs after this returns.

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
    """Keeps Kraken's CancelAllOrdersAfter armed while the service runs (live mode only).

    The schedule and what each answer means are `kraken_bot.execution.core.dead_man`'s;
    this class makes the calls, under its lock, from its thread or the service's ticks.
    """

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
        self._retry = retry_delay(self._refresh)
        self._clock = clock
        self._background = background
        self._poll = poll_seconds
        self._waits = arm_waits(arm_retries, arm_backoff_seconds)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = SwitchState()

    @property
    def armed_until(self) -> datetime | None:
        """When Kraken cancels every open order unless refreshed (None: not armed)."""
        return self._state.armed_until

    @property
    def last_refresh(self) -> datetime | None:
        """When the switch was last armed successfully."""
        return self._state.last_refresh

    @property
    def refreshes(self) -> int:
        """Successful arms so far."""
        return self._state.refreshes

    @property
    def failures(self) -> int:
        """Failed refreshes so far."""
        return self._state.failures

    def start(self) -> None:
        """Arm the switch now, then keep it armed.

        A transient refusal (busy, 5xx, nonce) is retried ``arm_retries`` times with a
        doubling backoff; a permanent one, or the last transient one, raises
        `DeadManSwitchError`: a live service does not start unprotected.
        """
        try:
            retry_reads(
                self._arm,
                sleep=self._clock.sleep,
                waits=self._waits,
                what="arming the dead-man switch",
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
            # Looked at again under the lock: a stop() that won the lock meanwhile has
            # disarmed the switch, and arming it now would leave a countdown nobody refreshes.
            if self._stop.is_set() or not refresh_due(self._state, now=self._clock.now()):
                return
            try:
                self._arm_locked()
            except KrakenAPIError as exc:
                self._refresh_failed(exc)

    def seconds_until_due(self) -> float | None:
        """Seconds until `tick` has work (0: now); None when nothing is scheduled (stopped)."""
        with self._lock:
            if self._stop.is_set():
                return None
            return seconds_until_refresh(self._state, now=self._clock.now())

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
                self._state = replace(self._state, armed_until=None, next_due=None)
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
        self._state, notice = armed(
            self._state,
            now=now,
            trigger_time=ack.trigger_time,
            timeout_seconds=self._timeout,
            refresh=self._refresh,
        )
        log.debug("dead-man switch armed until %s", self.armed_until)
        self._emit(notice)

    def _refresh_failed(self, exc: KrakenAPIError) -> None:
        self._state, notice = refresh_failed(
            self._state, now=self._clock.now(), retry=self._retry, error=str(exc)
        )
        if notice.kind is HealthKind.DEAD_MAN_EXPIRED:
            log.critical(
                "dead-man switch EXPIRED at %s after failed refreshes (%s):"
                " Kraken has canceled all open orders",
                self.armed_until,
                exc,
            )
        else:
            log.error(
                "dead-man switch refresh FAILED (%s); armed until %s, retrying in %ss",
                exc,
                self.armed_until,
                self._retry.total_seconds(),
            )
        self._emit(notice)

    def _emit(self, notice: SwitchNotice | None) -> None:
        if self._on_event is None or notice is None:
            return
        try:
            self._on_event(notice.kind, notice.message, dict(notice.details))
        except Exception:
            log.exception("the dead-man switch's event handler raised")
