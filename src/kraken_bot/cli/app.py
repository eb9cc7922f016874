"""Typer application: the ``krakked`` entry point and its command groups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.config_file import ConfigFileError, load_config

app = typer.Typer(
    name="krakked",
    help="Krakked: execution and order management for the Kraken spot exchange.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect and validate configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)


@config_app.command("check")
def config_check(
    file: Annotated[Path, typer.Argument(help="The YAML config file to validate.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Validate a config file and report every problem at once, with its key path."""
    try:
        config = load_config(file)
    except ConfigFileError as exc:
        if as_json:
            _out.print_json(json.dumps({"ok": False, "error": str(exc)}))
        else:
            _err.print(f"[red]config error[/red]\n{exc}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    summary = {
        "ok": True,
        "file": str(file),
        "mode": config.execution.mode.value,
        "sends_live_orders": config.execution.sends_live_orders,
        "base_url": config.kraken.base_url,
        "tier": config.kraken.tier.value,
        "credentials": "present" if config.kraken.has_credentials else "absent",
        "database": config.storage.path,
    }
    if as_json:
        _out.print_json(json.dumps(summary))
        return
    _out.print(f"[green]ok[/green] {file}: mode {summary['mode']}", highlight=False)
    for key, value in summary.items():
        if key not in {"ok", "file"}:
            _out.print(f"  {key}: {value}", highlight=False)


def main() -> None:
    """Console-script entry point."""
    app()
