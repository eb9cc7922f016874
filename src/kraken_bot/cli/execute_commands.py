"""``krakked run-once`` (one plan, forced to paper) and ``krakked execute`` (configured mode)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from kraken_bot.cli.errors import reports_errors
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.output import print_banner, print_json, print_result
from kraken_bot.cli.wiring import (
    ConfigOption,
    DbOption,
    JsonOption,
    load_app_config,
    load_plan,
    open_service,
)
from kraken_bot.config import AppConfig
from kraken_bot.execution.core.codec import result_to_json
from kraken_bot.execution.core.models import ExecutionMode, ExecutionResult
from kraken_bot.strategy.plan import ExecutionPlan

__all__ = ["execute", "paper_config", "run_once"]

PlanOption = Annotated[
    Path | None,
    typer.Option("--plan", "-p", help="Plan file, YAML or JSON.", dir_okay=False),
]


def paper_config(config: AppConfig) -> AppConfig:
    """``config`` forced to paper mode: validate_only, no live trading, whatever it said."""
    execution = replace(
        config.execution,
        mode=ExecutionMode.PAPER,
        validate_only=True,
        allow_live_trading=False,
    )
    return replace(config, execution=execution)


def _execute(config: AppConfig, plan: ExecutionPlan, *, as_json: bool) -> None:
    print_banner(config, to_stderr=as_json)
    with open_service(config) as service:
        result = service.execute_plan(plan)
    _report(config, result, as_json=as_json)


def _report(config: AppConfig, result: ExecutionResult, *, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "ok": result.success,
                "mode": result.mode.value,
                "base_url": config.kraken.base_url,
                "db_path": config.database_path,
                "result": result_to_json(result),
            }
        )
    else:
        print_result(result)
    if not result.success:
        raise typer.Exit(ExitCode.FAILED)


@reports_errors
def run_once(
    config: ConfigOption = None,
    plan: PlanOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run one plan cycle safely: forced to paper mode (validate only, never live).

    Whatever the config says, orders go to Kraken with validate=true: Kraken checks
    them and places nothing. Uses the configured URL (KRAKEN_API_URL overrides it, so
    it runs against `krakked sim serve` too). Without --plan it runs the bundled
    example plan. Exits 1 if the plan had errors.
    """
    app_config = paper_config(load_app_config(config, db))
    _execute(app_config, load_plan(plan), as_json=as_json)


@reports_errors
def execute(
    plan: Annotated[
        Path, typer.Option("--plan", "-p", help="Plan file, YAML or JSON.", dir_okay=False)
    ],
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Execute one plan in the configured mode (live only with all three opt-ins).

    Prints a banner with the mode, the exchange URL and the database before anything
    is sent. Exits 1 if the plan had errors.
    """
    app_config = load_app_config(config, db)
    _execute(app_config, load_plan(plan), as_json=as_json)
