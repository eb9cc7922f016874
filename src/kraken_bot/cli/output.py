"""Output: rich tables for people, JSON for scripts.

JSON goes to stdout as plain text (``json.dumps``, two-space indent), so a
script can parse it whatever the terminal; tables, banners and errors are
rich. Errors and the live banner of ``--json`` runs go to stderr, so stdout
stays one JSON document.

Text that comes from outside (plans, configs, the exchange, the database, file
names) reaches the terminal only through `terminal_safe`: a ``plan_id`` with a
right-to-left override (U+202E) or an escape sequence must not rewrite what a
person reads. JSON needs nothing more: ``json.dumps`` escapes every non-ASCII
and control character.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

import typer
from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

from kraken_bot.config import AppConfig
from kraken_bot.execution.core.codec import JsonValue
from kraken_bot.execution.core.models import ExecutionMode, ExecutionResult, LocalOrder, OrderStatus
from kraken_bot.execution.core.reports import ReconcileReport

__all__ = [
    "err_console",
    "execution_table",
    "number",
    "orders_table",
    "out_console",
    "print_banner",
    "print_json",
    "print_order_errors",
    "print_result",
    "reconcile_to_json",
    "show",
    "terminal_safe",
]

out_console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

_STATUS_STYLE = {
    OrderStatus.FILLED: "green",
    OrderStatus.PARTIALLY_FILLED: "yellow",
    OrderStatus.OPEN: "cyan",
    OrderStatus.VALIDATED: "green",
    OrderStatus.SIMULATED: "green",
    OrderStatus.REJECTED: "red",
    OrderStatus.ERROR: "red",
}


_PIPE_WIDTH = 160


def _escape_char(char: str) -> str:
    code = ord(char)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def terminal_safe(value: object, *, keep_newlines: bool = False) -> str:
    r"""``value`` as text a terminal shows as written: the one escaping function of the CLI.

    Characters that are not printable (controls such as ESC, bidi and other format
    characters such as U+202E, surrogates, private-use and unassigned code points,
    line separators) become Python-style escapes (``\u202e``), ordinary spaces stay;
    then rich markup is escaped, so ``[red]`` in a plan id prints as itself. With
    ``keep_newlines`` a ``\n`` still breaks the line (multi-line error listings).

    >>> terminal_safe("p\u202e1-nalp"), terminal_safe("\x1b[2J"), terminal_safe("[b]x")
    ('p\\u202e1-nalp', '\\x1b[2J', '\\[b]x')
    >>> terminal_safe("caf\u00e9 \U0001f680"), terminal_safe("a\nb")
    ('café 🚀', 'a\\nb')
    >>> terminal_safe("a\nb", keep_newlines=True)
    'a\nb'
    """
    text = str(value)
    if not text.isprintable():
        text = "".join(
            char
            if char.isprintable()
            or (char == "\n" and keep_newlines)
            or unicodedata.category(char) == "Zs"
            else _escape_char(char)
            for char in text
        )
    return escape(text)


def show(renderable: RenderableType) -> None:
    """Print a table: terminal width on a terminal, wide enough not to crush it in a pipe."""
    if out_console.is_terminal:
        out_console.print(renderable)
    else:
        Console(file=out_console.file, width=_PIPE_WIDTH, soft_wrap=True).print(renderable)


def number(value: Decimal | None) -> str:
    """A decimal as plain digits (``0.00000000``, never ``0E-8``); ``-`` for None."""
    return "-" if value is None else format(value, "f")


def print_json(payload: JsonValue) -> None:
    """One JSON document on stdout."""
    typer.echo(json.dumps(payload, indent=2))


def _status(status: OrderStatus) -> str:
    style = _STATUS_STYLE.get(status)
    return f"[{style}]{status.value}[/{style}]" if style else status.value


def orders_table(orders: Sequence[LocalOrder], title: str) -> Table:
    """Orders, one per row (ids in full: `krakked cancel` takes them)."""
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for name in ("local id", "pair", "side", "type", "volume", "limit", "status", "filled"):
        table.add_column(name, no_wrap=name == "local id", overflow="fold")
    table.add_column("avg price", overflow="fold")
    table.add_column("kraken id", overflow="fold")
    for o in orders:
        table.add_row(
            terminal_safe(o.local_id),
            terminal_safe(o.pair),
            o.side.value,
            o.order_type.value,
            number(o.requested_base_size),
            number(o.requested_price),
            _status(o.status),
            number(o.cumulative_base_filled),
            number(o.avg_fill_price),
            terminal_safe(o.kraken_order_id or "-"),
        )
    return table


def print_order_errors(orders: Sequence[LocalOrder]) -> None:
    """The last error of each order that has one, below a table."""
    for order in orders:
        if order.last_error and order.status in {OrderStatus.REJECTED, OrderStatus.ERROR}:
            out_console.print(
                f"  {terminal_safe(order.local_id)}: {terminal_safe(order.last_error)}",
                highlight=False,
            )


def print_result(result: ExecutionResult) -> None:
    """A plan's result: headline, orders, skips and errors."""
    verdict = "[green]succeeded[/green]" if result.success else "[red]failed[/red]"
    replay = " (already executed: nothing was sent again)" if result.replayed else ""
    plan_id = terminal_safe(result.plan_id)
    out_console.print(
        f"plan [bold]{plan_id}[/bold] {verdict} in {result.mode.value} mode{replay}",
        highlight=False,
    )
    if result.orders:
        show(orders_table(result.orders, "orders"))
    for skip in result.skipped:
        out_console.print(
            f"  skipped {terminal_safe(skip.pair)} ({skip.reason.value}):"
            f" {terminal_safe(skip.message)}",
            highlight=False,
        )
    for error in result.errors:
        out_console.print(f"  [red]error[/red] {terminal_safe(error)}", highlight=False)


def execution_table(results: Sequence[ExecutionResult]) -> Table:
    """Recent plan results, newest first."""
    table = Table(title="recent executions", title_justify="left", header_style="bold")
    for name in ("plan", "started (UTC)", "mode", "result", "orders", "errors"):
        table.add_column(name)
    for r in results:
        table.add_row(
            terminal_safe(r.plan_id),
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.mode.value,
            "[green]ok[/green]" if r.success else "[red]failed[/red]",
            str(len(r.orders)),
            terminal_safe("; ".join(r.errors) or "-"),
        )
    return table


def reconcile_to_json(report: ReconcileReport) -> dict[str, JsonValue]:
    """A reconciliation report as a JSON-compatible dict."""
    return {
        "ok": report.ok,
        "checked": report.checked,
        "updated": report.updated,
        "adopted": report.adopted,
        "proven_absent": report.proven_absent,
        "still_unknown": report.still_unknown,
        "healthy": report.healthy,
        "unknown": list(report.unknown_orders),
        "quarantined": dict(report.quarantined),
        "errors": list(report.errors),
    }


def print_banner(config: AppConfig, *, to_stderr: bool) -> None:
    """What is about to happen, where: printed before anything is sent."""
    console = err_console if to_stderr else out_console
    execution = config.execution
    if execution.sends_live_orders:
        mode = "[bold red]LIVE: real orders will be placed[/bold red]"
    elif execution.mode is ExecutionMode.DRY_RUN:
        mode = "[green]dry_run: nothing is sent to Kraken[/green]"
    else:
        mode = "[yellow]paper: Kraken validates each order (validate=true), none is placed[/yellow]"
    console.print(f"mode: {mode}", highlight=False)
    console.print(f"exchange: {terminal_safe(config.kraken.base_url)}", highlight=False)
    console.print(f"database: {terminal_safe(config.database_path)}", highlight=False)
