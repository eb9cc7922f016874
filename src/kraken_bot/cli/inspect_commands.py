"""``krakked orders``, ``executions`` (read the database only), ``cancel`` and ``reconcile``.

``orders`` and ``executions`` open the SQLite file read-only and never contact
the exchange. ``cancel`` and ``reconcile`` need it; they run as observers: they
never take the account's live-trading lease and leave the dead-man switch
alone (a one-shot command must not disarm the switch of a bot running on the
same account). In paper and dry run they change local records only.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kraken_bot.cli.errors import CliError, reports_errors
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.output import (
    err_console,
    execution_table,
    orders_table,
    out_console,
    print_json,
    print_order_errors,
    reconcile_to_json,
    show,
    terminal_safe,
)
from kraken_bot.cli.wiring import ConfigOption, DbOption, JsonOption, load_app_config, open_service
from kraken_bot.config import AppConfig
from kraken_bot.execution.core.codec import order_to_json, result_to_json
from kraken_bot.execution.core.models import OPEN_STATUSES, LocalOrder
from kraken_bot.execution.shell.store import SQLiteExecutionStore

__all__ = ["cancel", "executions", "orders", "reconcile"]


def _print_orders(config: AppConfig, rows: list[LocalOrder], title: str, *, as_json: bool) -> None:
    if as_json:
        print_json({"db_path": config.database_path, "orders": [order_to_json(o) for o in rows]})
        return
    if not rows:
        out_console.print(f"{title}: none", highlight=False)
        return
    show(orders_table(rows, title))
    print_order_errors(rows)


@reports_errors
def orders(
    recent: Annotated[
        int | None,
        typer.Option(min=1, help="Show the N most recent orders, whatever their status."),
    ] = None,
    all_orders: Annotated[
        bool,
        typer.Option("--all", help="Also show orders in flight (pending, submitted)."),
    ] = False,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List open orders (open, partially filled) from the database; no exchange needed."""
    app_config = load_app_config(config, db)
    with SQLiteExecutionStore(app_config.database_path, read_only=True) as store:
        if recent is not None:
            rows = store.recent_orders(recent)
            title = f"{len(rows)} most recent orders"
        else:
            live = store.live_orders()
            rows = live if all_orders else [o for o in live if o.status in OPEN_STATUSES]
            title = "open and in-flight orders" if all_orders else "open orders"
    _print_orders(app_config, rows, title, as_json=as_json)


@reports_errors
def executions(
    limit: Annotated[int, typer.Option(min=1, help="How many plan results to show.")] = 20,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the most recent plan results from the database, newest first."""
    app_config = load_app_config(config, db)
    with SQLiteExecutionStore(app_config.database_path, read_only=True) as store:
        results = store.recent_results(limit)
    if as_json:
        print_json(
            {
                "db_path": app_config.database_path,
                "executions": [result_to_json(r) for r in results],
            }
        )
    elif results:
        show(execution_table(results))
    else:
        out_console.print("no executions recorded yet")


@reports_errors
def cancel(
    order_id: Annotated[
        str | None,
        typer.Argument(help="Local id, Kraken txid or client order id of the order."),
    ] = None,
    all_orders: Annotated[bool, typer.Option("--all", help="Cancel every open order.")] = False,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel one order, or every open order with --all, and show their final state."""
    if (order_id is None) == (not all_orders):
        raise CliError("give either an order id or --all", ExitCode.USAGE)
    app_config = load_app_config(config, db)
    with open_service(app_config, observer=True) as service:
        if order_id is not None:
            rows = [service.cancel_order(order_id)]
        else:
            before = service.get_open_orders(include_in_flight=True)
            service.cancel_all()
            rows = [service.get_order(o.local_id) for o in before]
        quarantined = service.quarantined_orders
    _print_quarantined(quarantined)
    _print_orders(app_config, rows, "after cancel", as_json=as_json)


def _print_quarantined(quarantined: dict[str, str]) -> None:
    """Rows the database could not read: named on stderr (they stop nothing)."""
    for local_id, reason in quarantined.items():
        err_console.print(
            f"warning: order {terminal_safe(local_id)} could not be read from the database"
            f" and was set aside (quarantined): {terminal_safe(reason)}",
            highlight=False,
        )


@reports_errors
def reconcile(
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bring local orders in line with the exchange (OpenOrders, ClosedOrders, QueryOrders)."""
    app_config = load_app_config(config, db)
    with open_service(app_config, observer=True) as service:
        report = service.refresh_from_exchange()
        live = service.get_open_orders(include_in_flight=True)
        unknown = service.get_unknown_orders()
    if as_json:
        payload = reconcile_to_json(report)
        payload["db_path"] = app_config.database_path
        payload["open_orders"] = [order_to_json(o) for o in live]
        payload["unknown_orders"] = [order_to_json(o) for o in unknown]
        print_json(payload)
    else:
        verdict = "[green]ok[/green]" if report.healthy else "[red]needs attention[/red]"
        out_console.print(
            f"reconciled {verdict}: {report.checked} checked, {report.updated} updated,"
            f" {report.adopted} adopted, {report.proven_absent} proven absent,"
            f" {report.still_unknown} still in doubt, {len(unknown)} unknown to Kraken",
            highlight=False,
        )
        for error in report.errors:
            out_console.print(f"  [red]error[/red] {terminal_safe(error)}", highlight=False)
        if live:
            show(orders_table(live, "open and in-flight orders"))
        if unknown:
            show(orders_table(unknown, "orders Kraken does not know (check, then cancel them)"))
        _print_quarantined(report.quarantined)
    if not report.healthy:
        raise typer.Exit(ExitCode.FAILED)
