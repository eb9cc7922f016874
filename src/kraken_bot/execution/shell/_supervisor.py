"""The always-on service's own work: scheduled reconciliation, unfilled orders, health (shell).

`Supervisor.tick` gathers (the time, the live orders this process knows, the
REST counter), asks the pure `kraken_bot.execution.core.supervision` what is due, and
does it through the service's own operations (`SupervisedOps`): reconcile, cancel,
reprice. What goes wrong becomes a `HealthEvent` (a reconciliation that failed,
orders Kraken does not know, the REST counter near its limit), never an
exception: the supervisor keeps going. The dead-man switch keeps its own
schedule (`kraken_bot.execution.shell.scheduler.DeadManSwitch`); the service ticks it
alongside.

A tick is skipped, not queued, while another is running (a background thread
and a caller's own call may meet).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from kraken_bot.clock import Clock
from kraken_bot.execution.core.events import HealthEvent, ServiceEvent
from kraken_bot.execution.core.models import LocalOrder
from kraken_bot.execution.core.reports import ReconcileReport
from kraken_bot.execution.core.supervision import (
    CancelUnfilled,
    RepriceUnfilled,
    UnfilledAction,
    next_reconcile,
    not_yet_handled,
    pressure_warning,
    reconcile_due,
    reconcile_failure,
    reconcile_health,
    reconcile_period,
    unfilled_decisions,
)
from kraken_bot.execution.exceptions import ExecutionError

log = logging.getLogger("kraken_bot.execution.supervisor")


class SupervisedOps(Protocol):
    """What the supervisor needs of the service."""

    def reconcile(self) -> ReconcileReport:
        """One full reconciliation pass."""
        ...

    def cached_live_orders(self) -> Sequence[LocalOrder]:
        """Live orders as this process knows them (no store read)."""
        ...

    def cancel(self, local_id: str) -> None:
        """Cancel one order."""
        ...

    def reprice(self, order: LocalOrder, remaining: Decimal) -> None:
        """Cancel an order and send what remains of it again at a fresh price."""
        ...

    def rest_counter(self) -> tuple[float, float]:
        """The REST counter's level and maximum (maximum 0: not modelled)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionSettings:
    """The supervisor's schedule (from ``execution`` in the configuration)."""

    reconcile_every: timedelta | None
    unfilled_timeout: timedelta | None
    unfilled_action: UnfilledAction
    budget_fraction: float = 0.5
    backstop_every: timedelta | None = None
    """While the executions stream is up, reconcile this often instead (the backstop)."""


class Supervisor:
    """Runs the due work of an always-on service (see the module docstring)."""

    def __init__(
        self,
        ops: SupervisedOps,
        *,
        clock: Clock,
        settings: SupervisionSettings,
        publish: Callable[[Sequence[ServiceEvent]], None],
        started_at: datetime | None = None,
        streaming: Callable[[], bool] | None = None,
    ) -> None:
        self._ops = ops
        self._streaming = streaming or (lambda: False)
        self._clock = clock
        self._settings = settings
        self._publish = publish
        self._running = threading.Lock()
        self.last_reconcile_at: datetime | None = started_at
        """When the last scheduled pass ran (the start's own pass counts as one)."""
        self.last_reconcile: ReconcileReport | None = None
        self._last_pressure: datetime | None = None
        self._handled: set[str] = set()  # live unfilled orders already acted on

    def tick(self) -> None:
        """Do what is due now (skipped while another tick runs)."""
        if not self._running.acquire(blocking=False):
            return
        try:
            now = self._clock.now()
            self._reconcile_if_due(now)
            self._unfilled(now)
            self._pressure(now)
        finally:
            self._running.release()

    def _every(self) -> timedelta | None:
        settings = self._settings
        return reconcile_period(
            settings.reconcile_every, settings.backstop_every, streaming=self._streaming()
        )

    def next_reconcile_at(self) -> datetime | None:
        """When the next scheduled reconciliation is due (None: not scheduled)."""
        return next_reconcile(self._every(), last=self.last_reconcile_at, now=self._clock.now())

    def note_reconciled(self, at: datetime) -> None:
        """A reconciliation ran outside the schedule (the stream's resync): restart it."""
        self.last_reconcile_at = at

    def _reconcile_if_due(self, now: datetime) -> None:
        every = self._every()
        if every is None:
            return
        level, maximum = self._ops.rest_counter()
        if not reconcile_due(
            last=self.last_reconcile_at,
            now=now,
            every=every,
            rest_level=level,
            rest_max=maximum,
            budget_fraction=self._settings.budget_fraction,
        ):
            return
        self.last_reconcile_at = now
        try:
            report = self._ops.reconcile()
        except ExecutionError as error:
            self._tell(reconcile_failure(str(error), at=self._clock.now()))
            return
        self.last_reconcile = report
        self._tell(*reconcile_health(report, at=self._clock.now()))

    def _unfilled(self, now: datetime) -> None:
        live = self._ops.cached_live_orders()  # read once: decisions and orders agree
        decisions = unfilled_decisions(
            live,
            now=now,
            timeout=self._settings.unfilled_timeout,
            action=self._settings.unfilled_action,
        )
        by_id = {o.local_id: o for o in live}
        self._handled &= by_id.keys()  # a finished order is never decided again: forget it
        for decision in not_yet_handled(decisions, self._handled):
            self._handled.add(decision.local_id)
            log.info(
                "order %s: %s: %s", decision.local_id, type(decision).__name__, decision.reason
            )
            try:
                if isinstance(decision, CancelUnfilled):
                    self._ops.cancel(decision.local_id)
                elif isinstance(decision, RepriceUnfilled):
                    self._ops.reprice(by_id[decision.local_id], decision.remaining)
            except ExecutionError as error:
                self._handled.discard(decision.local_id)  # tried again at the next tick
                log.warning("order %s: unfilled policy failed: %s", decision.local_id, error)

    def _pressure(self, now: datetime) -> None:
        level, maximum = self._ops.rest_counter()
        event = pressure_warning(
            level, maximum, last_warned=self._last_pressure, now=now, at=self._clock.now()
        )
        if event is not None:
            self._last_pressure = now
            self._tell(event)

    def _tell(self, *events: HealthEvent) -> None:
        for event in events:
            log.warning("%s", event.message)
            self._publish([event])
