"""Shell: `krakked run`, the long-running process for one account.

One `PlanInbox` and one open `ExecutionService`:

* every ``run.poll_seconds`` the inbox is looked at; each plan file that is
  ready (`kraken_bot.runtime.inbox`) is executed once, in arrival order, and
  moved to ``done/`` (with ``<name>.result.json`` beside it) or ``failed/``
  (with ``<name>.error.txt``). A plan id executed before is not sent again
  (the service replays its result), so a file dropped twice, or one left in the
  inbox by a crash between the execution and the move, places nothing twice;
* the service supervises itself in background threads (dead-man switch,
  scheduled reconciliation, unfilled orders) and publishes events, which feed
  the heartbeat's last errors, the webhook alerts and the metrics;
* a heartbeat thread writes ``<db>.run.json`` every ``run.heartbeat_seconds``
  (atomically: write, then rename) for `krakked status`;
* SIGTERM or SIGINT: no new plan is taken; the plan being executed finishes
  (its sends end at their AddOrder deadline); resting orders are left or
  canceled as ``run.on_stop`` says; the service closes (disarming only the
  switch it armed); the heartbeat says ``stopped``; exit 0.

One `krakked run` per account: a second one is refused at start, naming the
pid of the first (a lock file in the key's state directory).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Final

from kraken_bot.clock import Clock, SystemClock
from kraken_bot.config import AppConfig, OnStop
from kraken_bot.execution.core.codec import result_to_json
from kraken_bot.execution.core.events import HealthEvent, OrderUpdateKind, ServiceEvent
from kraken_bot.execution.core.models import ExecutionResult
from kraken_bot.execution.exceptions import AccountInUseError, ExecutionError, RunRefusedError
from kraken_bot.execution.shell._claims import AccountLease
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.kraken.nonce import key_fingerprint, state_dir_for
from kraken_bot.runtime.health import heartbeat_path_for
from kraken_bot.runtime.inbox import Seen, Unreadable, is_plan_name, ready, unreadable_verdict
from kraken_bot.strategy.plan import ExecutionPlan

__all__ = ["Daemon", "PlanInbox", "RunLock", "RunRefusedError", "write_json_atomically"]

log = logging.getLogger("kraken_bot.runtime")

SETTLE_SECONDS: Final = 5.0
"""A plan file that does not parse is failed once unchanged this long (before: retried)."""
_LAST_ERRORS: Final = 10
_BAD_KINDS: Final = frozenset(
    {OrderUpdateKind.REJECTED, OrderUpdateKind.GIVEN_UP, OrderUpdateKind.UNKNOWN}
)


def write_json_atomically(path: Path, data: object) -> None:
    """Write ``data`` as JSON to ``path`` so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


class RunLock:
    """One `krakked run` per API key (whatever the mode or database)."""

    def __init__(self, config: AppConfig) -> None:
        key = config.kraken.api_key.reveal() if config.kraken.api_key is not None else ""
        path = state_dir_for(config.kraken) / f"run-{key_fingerprint(key)}.lock"
        self._lease = AccountLease(path)

    def acquire(self, now: datetime) -> None:
        """Take the lock, or raise `RunRefusedError` naming the running process."""
        try:
            self._lease.acquire(now=now)
        except AccountInUseError as error:
            raise RunRefusedError(
                f"another `krakked run` is running on this account ({error.holder}): one"
                " process per API key; stop it first (SIGTERM), or use `krakked status`"
            ) from None

    def release(self) -> None:
        """Give the lock up."""
        self._lease.release()


# ---------------------------------------------------------------------- the inbox


@dataclass
class _Young:
    """A plan file that did not parse, and since when it is unchanged."""

    seen: Seen
    since: float


class PlanInbox:
    """A directory of plan files, with ``done/`` and ``failed/`` beside them."""

    def __init__(
        self, directory: Path, *, settle_seconds: float = SETTLE_SECONDS, clock: Clock
    ) -> None:
        self.directory = directory
        self.done = directory / "done"
        self.failed = directory / "failed"
        self._settle = settle_seconds
        self._clock = clock
        self._previous: tuple[Seen, ...] = ()
        self._young: dict[str, _Young] = {}

    def prepare(self) -> None:
        """Create the directories (refused when the inbox is not a usable directory)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.done.mkdir(exist_ok=True)
            self.failed.mkdir(exist_ok=True)
        except OSError as error:
            raise RunRefusedError(
                f"plan inbox {self.directory}: cannot use it ({error.strerror})"
            ) from None

    def look(self) -> list[Seen]:
        """The plan files ready now (seen unchanged twice), in arrival order."""
        current: list[Seen] = []
        try:
            entries = list(os.scandir(self.directory))
        except OSError as error:
            log.error(  # noqa: TRY400 - the reason is enough, no traceback
                "plan inbox %s: cannot list it (%s)", self.directory, error.strerror
            )
            return []
        for entry in entries:
            if not is_plan_name(entry.name):
                continue
            try:
                if not entry.is_file():
                    continue
                stat = entry.stat()
            except OSError:
                continue  # renamed or removed meanwhile
            current.append(Seen(entry.name, stat.st_size, stat.st_mtime_ns))
        found = ready(current=current, previous=self._previous)
        self._previous = tuple(current)
        names = {f.name for f in current}
        for name in list(self._young):
            if name not in names:
                del self._young[name]
        return found

    def unreadable(self, seen: Seen) -> Unreadable:
        """A ready file did not parse: retry while it may still be written, else fail it."""
        now = self._clock.monotonic()
        young = self._young.get(seen.name)
        if young is None or young.seen != seen:
            young = _Young(seen, now)
            self._young[seen.name] = young
        verdict = unreadable_verdict(
            unchanged_for_seconds=now - young.since, settle_seconds=self._settle
        )
        if verdict is Unreadable.FAIL:
            del self._young[seen.name]
        return verdict

    def move_done(self, name: str, result: ExecutionResult) -> Path:
        """Move a plan to ``done/`` with its result beside it."""
        target = self._move(name, self.done)
        write_json_atomically(
            target.with_name(target.name + ".result.json"), result_to_json(result)
        )
        return target

    def move_failed(self, name: str, why: str) -> Path:
        """Move a plan to ``failed/`` with ``<name>.error.txt`` saying why."""
        target = self._move(name, self.failed)
        text = f"{why.rstrip()}\n"
        target.with_name(target.name + ".error.txt").write_text(text, encoding="utf-8")
        return target

    def _move(self, name: str, folder: Path) -> Path:
        target = folder / name
        if target.exists():  # the same name dropped again: keep both
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            target = folder / f"{Path(name).stem}.{stamp}{Path(name).suffix}"
        (self.directory / name).replace(target)
        self._young.pop(name, None)
        return target


# ---------------------------------------------------------------------- the process


@dataclass
class _Status:
    """What the heartbeat reports, updated by the loop and the event subscriber."""

    since: datetime
    last_plan: dict[str, object] | None = None
    plans: dict[str, int] = field(default_factory=lambda: {"done": 0, "failed": 0})
    last_errors: deque[dict[str, str]] = field(default_factory=lambda: deque(maxlen=_LAST_ERRORS))
    events: int = 0


class Daemon:
    """The run loop (see the module docstring)."""

    def __init__(
        self,
        service: ExecutionService,
        *,
        config: AppConfig,
        plans_dir: Path,
        read_plan: Callable[[Path], ExecutionPlan],
        clock: Clock | None = None,
    ) -> None:
        self.service = service
        self.config = config
        self._read_plan = read_plan
        self._clock = clock or SystemClock()
        self.inbox = PlanInbox(plans_dir, clock=self._clock)
        self.heartbeat_path = Path(heartbeat_path_for(config.database_path))
        self.stopping = threading.Event()
        self._status = _Status(since=datetime.now(UTC))
        self._status_lock = threading.Lock()
        self._heartbeat_thread: threading.Thread | None = None
        self._waiting: dict[str, Seen] = {}

    # ------------------------------------------------------------------ signals

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        """Stop taking plans; the loop finishes the plan in progress, then shuts down."""
        if self.stopping.is_set():
            log.warning("already stopping (finishing the plan in progress)")
            return
        name = signal.Signals(signum).name if signum is not None else "a request"
        log.warning("%s received: stopping after the plan in progress", name)
        self.stopping.set()

    @contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only (tests run the loop in a thread)
            return
        previous = {s: signal.signal(s, self.request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # ------------------------------------------------------------------ events

    def on_event(self, event: ServiceEvent) -> None:
        """Feed the heartbeat: counts, and the last errors an operator should see."""
        with self._status_lock:
            self._status.events += 1
            if isinstance(event, HealthEvent):
                if event.kind.value not in {"dead_man_armed", "stopped"}:
                    self._error(event.at, f"{event.kind.value}: {event.message}")
            elif event.kind in _BAD_KINDS:
                order = event.order
                self._error(
                    event.at,
                    f"order {order.local_id} {event.kind.value}: {order.last_error or ''}".strip(),
                )

    def _error(self, at: datetime, text: str) -> None:
        self._status.last_errors.append({"at": at.isoformat(), "error": text})

    # ------------------------------------------------------------------ the loop

    def run(self) -> int:
        """Run until stopped; returns the exit code (0 after a clean stop)."""
        self.inbox.prepare()
        subscription = self.service.subscribe(self.on_event, name="run-status")
        self._start_heartbeat()
        log.info(
            "krakked run: watching %s (mode %s, database %s)",
            self.inbox.directory,
            self.config.execution.mode.value,
            self.config.database_path,
        )
        try:
            with self._signals():
                while not self.stopping.is_set():
                    self._take_plans()
                    self.stopping.wait(self.config.run.poll_seconds)
            self._shut_down()
        finally:
            subscription.close()
            self._stop_heartbeat()
        return 0

    def _take_plans(self) -> None:
        for seen in self.inbox.look():
            if self.stopping.is_set():
                return
            self._take(seen)

    def _take(self, seen: Seen) -> None:
        path = self.inbox.directory / seen.name
        try:
            plan = self._read_plan(path)
        except FileNotFoundError:
            return  # taken away meanwhile
        except Exception as error:
            if self.inbox.unreadable(seen) is Unreadable.RETRY:
                if self._waiting.get(seen.name) != seen:  # once per version of the file
                    self._waiting[seen.name] = seen
                    log.info("plan file %s does not parse yet; looking again later", seen.name)
                return
            self._failed(seen.name, None, f"the plan file cannot be used: {error}")
            return
        try:
            result = self.service.execute_plan(plan)
        except ExecutionError as error:
            self._failed(seen.name, plan.plan_id, f"the plan was refused: {error}")
            return
        except Exception as error:
            log.exception("plan %s: unexpected failure", plan.plan_id)
            self._failed(seen.name, plan.plan_id, f"unexpected failure: {error!r}")
            return
        self._finished(seen.name, plan, result)

    def _finished(self, name: str, plan: ExecutionPlan, result: ExecutionResult) -> None:
        outcome = "replayed" if result.replayed else "done"
        if result.success:
            target = self.inbox.move_done(name, result)
            log.info("plan %s (%s): %s, moved to %s", plan.plan_id, name, outcome, target)
            self._note_plan(name, plan.plan_id, outcome, None)
            return
        errors = "; ".join(result.errors) or "some orders failed"
        placed = [o for o in result.orders if o.kraken_order_id is not None]
        why = (
            f"plan {plan.plan_id} executed with errors: {errors}\n"
            f"{len(placed)} order(s) reached the exchange"
            f"{': ' + ', '.join(o.local_id for o in placed) if placed else ''}.\n"
            "Dropping a plan with the same plan_id again sends nothing (its result is"
            " replayed); use a new plan_id to try again."
        )
        target = self.inbox.move_failed(name, why)
        write_json_atomically(
            target.with_name(target.name + ".result.json"), result_to_json(result)
        )
        with self._status_lock:
            self._status.plans["failed"] += 1
            self._status.last_plan = self._plan_note(name, plan.plan_id, "failed", errors)
            self._error(datetime.now(UTC), f"plan {plan.plan_id}: {errors}")
        log.warning("plan %s (%s) had errors, moved to %s", plan.plan_id, name, target)

    def _failed(self, name: str, plan_id: str | None, why: str) -> None:
        self._waiting.pop(name, None)
        try:
            target = self.inbox.move_failed(name, why)
        except OSError as error:
            log.error(  # noqa: TRY400 - the reason is enough, no traceback
                "plan file %s: cannot move it to failed/ (%s)", name, error
            )
            return
        log.warning("plan file %s failed (%s), moved to %s", name, why, target)
        with self._status_lock:
            self._status.plans["failed"] += 1
            self._status.last_plan = self._plan_note(name, plan_id, "failed", why)
            self._error(datetime.now(UTC), f"plan file {name}: {why}")

    def _note_plan(self, name: str, plan_id: str, outcome: str, error: str | None) -> None:
        with self._status_lock:
            self._status.plans["done"] += 1
            self._status.last_plan = self._plan_note(name, plan_id, outcome, error)

    @staticmethod
    def _plan_note(
        name: str, plan_id: str | None, outcome: str, error: str | None
    ) -> dict[str, object]:
        return {
            "file": name,
            "plan_id": plan_id,
            "outcome": outcome,
            "error": error,
            "at": datetime.now(UTC).isoformat(),
        }

    def _shut_down(self) -> None:
        if self.config.run.on_stop is OnStop.CANCEL:
            log.warning("run.on_stop is cancel: canceling every open order")
            try:
                self.service.cancel_all()
            except ExecutionError as error:
                log.error("cancel on stop failed: %s; orders may still rest", error)  # noqa: TRY400
        else:
            resting = len(self.service.get_open_orders())
            if resting:
                log.warning("run.on_stop is leave: %d order(s) stay resting", resting)

    # ------------------------------------------------------------------ heartbeat

    def _start_heartbeat(self) -> None:
        self._beat_stop = threading.Event()
        self.write_heartbeat()
        thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._heartbeat_thread = thread
        thread.start()

    def _beat(self) -> None:
        while not self._beat_stop.wait(self.config.run.heartbeat_seconds):
            try:
                self.write_heartbeat()
            except Exception:
                log.exception("could not write the heartbeat")

    def _stop_heartbeat(self) -> None:
        self._beat_stop.set()
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join(timeout=10)
        self.write_heartbeat(stopped=True)

    def heartbeat(self, *, stopped: bool = False) -> dict[str, object]:
        """The heartbeat record as it stands now."""
        service = self.service
        now = datetime.now(UTC)
        dead_man = service.dead_man_switch
        supervisor = service.supervisor
        report = service.last_reconcile
        reconciled_at = supervisor.last_reconcile_at if supervisor is not None else None
        with self._status_lock:
            status = self._status
            record: dict[str, object] = {
                "pid": os.getpid(),
                "since": status.since.isoformat(),
                "updated_at": now.isoformat(),
                "heartbeat_seconds": self.config.run.heartbeat_seconds,
                "mode": self.config.execution.mode.value,
                "database": self.config.database_path,
                "plans_dir": str(self.inbox.directory),
                "base_url": self.config.kraken.base_url,
                "on_stop": self.config.run.on_stop.value,
                "last_plan": status.last_plan,
                "plans": dict(status.plans),
                "events": status.events,
                "last_errors": list(status.last_errors),
                "stopped": stopped,
                "dead_man": {
                    "enabled": self.config.execution.dead_man_switch_enabled,
                    "armed_until": (
                        dead_man.armed_until.isoformat()
                        if dead_man is not None and dead_man.armed_until is not None
                        else None
                    ),
                    "last_refresh": (
                        dead_man.last_refresh.isoformat()
                        if dead_man is not None and dead_man.last_refresh is not None
                        else None
                    ),
                    "failures": dead_man.failures if dead_man is not None else 0,
                },
                "last_reconcile": {
                    "at": reconciled_at.isoformat() if reconciled_at is not None else None,
                    "ok": report.ok if report is not None else None,
                    "errors": list(report.errors) if report is not None else [],
                },
            }
        if stopped:
            record["stopped_at"] = now.isoformat()
            record["dead_man"] = {**record["dead_man"], "armed_until": None}  # type: ignore[dict-item]
        return record

    def write_heartbeat(self, *, stopped: bool = False) -> None:
        """Write the heartbeat file (atomically)."""
        write_json_atomically(self.heartbeat_path, self.heartbeat(stopped=stopped))
