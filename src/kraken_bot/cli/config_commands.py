"""``krakked config check FILE``: validate a config file, every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kraken_bot.cli.errors import reports_errors
from kraken_bot.cli.output import out_console, print_json, terminal_safe
from kraken_bot.cli.wiring import JsonOption
from kraken_bot.config_file import load_config

__all__ = ["config_app"]

config_app = typer.Typer(help="Inspect and validate configuration.", no_args_is_help=True)


@config_app.command("check")
@reports_errors
def config_check(
    file: Annotated[Path, typer.Argument(help="The YAML config file to validate.")],
    as_json: JsonOption = False,
) -> None:
    """Validate a config file and report every problem at once, with its key path."""
    config = load_config(file)
    summary: dict[str, str | bool | None] = {
        "ok": True,
        "file": str(file),
        "mode": config.execution.mode.value,
        "sends_live_orders": config.execution.sends_live_orders,
        "base_url": config.kraken.base_url,
        "tier": config.kraken.tier.value,
        "credentials": "present" if config.kraken.has_credentials else "absent",
        "database": config.database_path,
    }
    if as_json:
        print_json(summary)
        return
    out_console.print(
        f"[green]ok[/green] {terminal_safe(file)}: mode {summary['mode']}", highlight=False
    )
    for key, value in summary.items():
        if key not in {"ok", "file"}:
            out_console.print(f"  {key}: {terminal_safe(value)}", highlight=False)
