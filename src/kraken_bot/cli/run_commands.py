"""``krakked run`` (the long-running process for one account) and ``krakked status``."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, cast

import typer

from kraken_bot.cli.errors import CliError, reports_errors
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.logs import set_level
from kraken_bot.cli.output import out_console, print_banner, print_json, terminal_safe
from kraken_bot.cli.wiring import (
    ConfigOption,
    DbOption,
    JsonOption,
    load_app_config,
    load_plan,
    open_service,
)
from kraken_bot.config import AppConfig
from kraken_bot.config_file import load_yaml_text
from kraken_bot.execution.core.codec import JsonValue
from kraken_bot.execution.core.models import OPEN_STATUSES
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.execution.shell.store import SQLiteExecutionStore
from kraken_bot.runtime.daemon import Daemon, RunLock
from kraken_bot.runtime.health import heartbeat_path_for, verdict

__all__ = ["run", "status"]

log = logging.getLogger("kraken_bot.runtime")


@reports_errors
def run(
    plans: Annotated[
        Path,
        typer.Option(
            "--plans",
            help="The plan inbox: each *.yaml, *.yml or *.json file dropped here is executed"
            " once, then moved to done/ or failed/.",
            file_okay=False,
        ),
    ],
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Run for weeks: execute plans dropped into --plans, supervise the account.

    Drop a plan by writing it under a temporary name (``.name``, ``*.tmp``) and renaming
    it: a file is executed only once seen whole. While running, the service keeps the
    dead-man switch armed (live), reconciles every execution.reconcile_every_seconds
    and applies the unfilled-order policy; `krakked status` reads its heartbeat.
    SIGTERM or Ctrl-C: the plan in progress finishes, resting orders are left or
    canceled (run.on_stop), then it exits 0. One `krakked run` per account.
    """
    app_config = load_app_config(config, db)
    set_level(logging.INFO)
    lock = RunLock(app_config)
    lock.acquire(datetime.now(UTC))
    try:
        print_banner(app_config, to_stderr=True)
        extras: list[Callable[[], None]] = []
        try:
            with open_service(app_config, long_running=True) as service:
                extras = _attach_extras(service, app_config)
                Daemon(service, config=app_config, plans_dir=plans, read_plan=load_plan).run()
        finally:  # after the service closed: its last events (stopped) reach the webhook
            for close in extras:
                close()
    finally:
        lock.release()


def _attach_extras(service: ExecutionService, config: AppConfig) -> list[Callable[[], None]]:
    """Webhook alerts and Prometheus metrics, when configured; returns their closers."""
    closers: list[Callable[[], None]] = []
    if config.alerts.webhook_url is not None:
        from kraken_bot.runtime.alerts import WebhookAlerts  # noqa: PLC0415

        alerts = WebhookAlerts(config.alerts, source=f"krakked run pid {os.getpid()}")
        subscription = service.subscribe(alerts, name="webhook-alerts")
        closers += [subscription.close, alerts.close]
    if config.run.metrics_port is not None:
        from kraken_bot.runtime.metrics import serve_metrics  # noqa: PLC0415

        closers.append(serve_metrics(service, config))
    return closers


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def _read_heartbeat(path: Path) -> dict[str, object] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CliError(
            f"cannot read the heartbeat {path}: {error.strerror}", ExitCode.USAGE
        ) from None
    try:
        data = load_yaml_text(text, what=str(path), error=ValueError)
    except ValueError:
        return {"pid": None, "updated_at": None}  # half-written by hand: not a heartbeat
    return data if isinstance(data, dict) else None


@reports_errors
def status(
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Is `krakked run` running, and is the account protected? A health check.

    Reads the run process's heartbeat (beside the database) and the database: pid and
    since, last plan, open orders, dead-man switch, last reconciliation, orders by
    status, last errors. Exit 0 when healthy; 1 when the process is down or stuck, or
    the dead-man switch has lapsed.
    """
    app_config = load_app_config(config, db)
    database = Path(app_config.database_path)
    heartbeat = _read_heartbeat(Path(heartbeat_path_for(str(database))))
    now = datetime.now(UTC)
    judged = verdict(
        heartbeat, now=now, pid_alive=_pid_alive(heartbeat.get("pid") if heartbeat else None)
    )
    counts: dict[str, int] = {}
    open_orders: list[dict[str, object]] = []
    if database.exists():
        store = SQLiteExecutionStore(str(database))
        try:
            counts = store.status_counts()
            open_orders = [
                {
                    "local_id": o.local_id,
                    "kraken_order_id": o.kraken_order_id,
                    "pair": o.pair,
                    "side": o.side.value,
                    "size": str(o.requested_base_size),
                    "price": str(o.requested_price) if o.requested_price is not None else None,
                    "filled": str(o.cumulative_base_filled),
                    "status": o.status.value,
                }
                for o in store.live_orders()
                if o.status in OPEN_STATUSES
            ]
        finally:
            store.close()
    report: dict[str, object] = {
        "healthy": judged.healthy,
        "running": judged.running,
        "protected": judged.protected,
        "reasons": list(judged.reasons),
        "database": str(database),
        "counts": counts,
        "open_orders": open_orders,
        "heartbeat": heartbeat,
    }
    if as_json:
        print_json(cast("JsonValue", report))
    else:
        _print_status(report, heartbeat)
    if not judged.healthy:
        raise typer.Exit(ExitCode.FAILED)


def _print_status(report: dict[str, object], heartbeat: dict[str, object] | None) -> None:
    state = "[green]healthy[/green]" if report["healthy"] else "[red]NOT HEALTHY[/red]"
    out_console.print(f"status           {state}", highlight=False)
    beat = heartbeat or {}
    lines = [("  why", reason) for reason in report["reasons"]]  # type: ignore[attr-defined]
    lines += _process_lines(beat) if beat else []
    lines += [
        ("database", report["database"]),
        ("orders", report["counts"] or "none"),
        ("open orders", len(report["open_orders"])),  # type: ignore[arg-type]
    ]
    lines += [
        (
            "",
            (
                f"{o['local_id']} {o['kraken_order_id']} {o['side']} {o['size']}"
                f" {o['pair']} @ {o['price']} filled {o['filled']} ({o['status']})"
            ),
        )
        for o in report["open_orders"]  # type: ignore[attr-defined]
    ]
    errors = beat.get("last_errors") or []
    if isinstance(errors, list) and errors:
        lines.append(("last errors", ""))
        lines += [
            ("", f"{e.get('at')} {e.get('error')}") for e in errors[-5:] if isinstance(e, dict)
        ]
    for label, value in lines:
        out_console.print(f"{label:<16} {terminal_safe(str(value))}", highlight=False)


def _process_lines(beat: dict[str, object]) -> list[tuple[str, object]]:
    """What the heartbeat says of the process: pid, last plan, switch, reconciliation."""
    lines: list[tuple[str, object]] = [
        ("process", f"pid {beat.get('pid')} since {beat.get('since')}"),
        ("heartbeat", beat.get("updated_at")),
        ("mode", beat.get("mode")),
        ("plans", f"{beat.get('plans_dir')} {beat.get('plans')}"),
    ]
    last = beat.get("last_plan") or {}
    if isinstance(last, dict) and last:
        lines.append(
            (
                "last plan",
                (
                    f"{last.get('plan_id')} ({last.get('file')}):"
                    f" {last.get('outcome')} at {last.get('at')}"
                ),
            )
        )
    dead_man = beat.get("dead_man") or {}
    if isinstance(dead_man, dict):
        armed = dead_man.get("armed_until") if dead_man.get("enabled") else "off"
        lines.append(
            (
                "dead-man switch",
                (
                    f"armed until {armed}, last refresh {dead_man.get('last_refresh')},"
                    f" failures {dead_man.get('failures')}"
                ),
            )
        )
    recon = beat.get("last_reconcile") or {}
    if isinstance(recon, dict):
        lines.append(
            ("reconciled", f"{recon.get('at')} ok={recon.get('ok')} {recon.get('errors') or ''}")
        )
    return lines
