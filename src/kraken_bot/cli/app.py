"""The ``krakked`` application: global options and the command table.

Each command lives in a module by concern: ``sim_commands`` (replay, serve),
``execute_commands`` (run-once, execute), ``inspect_commands`` (orders,
executions, cancel, reconcile), ``config_commands``. Errors become one line and
an exit code (``errors``); output is rich for people and JSON for scripts
(``output``).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer

from kraken_bot.cli import execute_commands, inspect_commands, run_commands
from kraken_bot.cli.config_commands import config_app
from kraken_bot.cli.errors import settings
from kraken_bot.cli.logs import LogFormat, configure_logging, detach_logging
from kraken_bot.cli.sim_commands import sim_app

__all__ = ["app", "main", "package_version"]

app = typer.Typer(
    name="krakked",
    help="Krakked: execution and order management for the Kraken spot exchange.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def package_version() -> str:
    """The installed distribution's version (its metadata: pyproject's ``version``)."""
    try:
        return metadata.version("krakked")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"krakked {package_version()}")
        raise typer.Exit


@app.callback()
def global_options(
    ctx: typer.Context,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and debug logs on errors.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the layer's log (INFO) on stderr.")
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            help="Log lines as text (UTC time, level, logger, message) or JSON (one object"
            " per line).",
            case_sensitive=False,
        ),
    ] = LogFormat.TEXT,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file", help="Append the log to this file instead of stderr.", dir_okay=False
        ),
    ] = None,
) -> None:
    """Krakked: execution and order management for the Kraken spot exchange.

    Start with `krakked sim`: a replay against the bundled fake Kraken exchange.
    """
    settings.debug = debug
    settings.verbose = verbose or debug
    configure_logging(verbose=verbose, debug=debug, log_format=log_format, log_file=log_file)
    ctx.call_on_close(detach_logging)


app.add_typer(sim_app, name="sim")
app.command("run-once")(execute_commands.run_once)
app.command("run")(run_commands.run)
app.command("status")(run_commands.status)
app.command("execute")(execute_commands.execute)
app.command("orders")(inspect_commands.orders)
app.command("executions")(inspect_commands.executions)
app.command("cancel")(inspect_commands.cancel)
app.command("reconcile")(inspect_commands.reconcile)
app.add_typer(config_app, name="config")


def main() -> None:
    """Console-script entry point."""
    app()
