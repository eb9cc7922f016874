"""From command-line options to a running stack: config, plan, store, service.

The order of checks puts the problems a person can fix locally first: the
config file, then the plan file, then the database (opened before anything is
sent), then the credentials, then the exchange (a public ``SystemStatus`` call
proves it is reachable, a private ``Balance`` call that it accepts the key),
and only then the service.
"""

from __future__ import annotations

import importlib.resources
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final, TypeVar

import typer
from returns.pipeline import is_successful

import kraken_bot
from kraken_bot._enums import StreamMode
from kraken_bot.cli.errors import CliError
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.output import err_console, terminal_safe
from kraken_bot.clock import SystemClock
from kraken_bot.config import AppConfig
from kraken_bot.config_file import ConfigFileError, load_config, load_yaml_text
from kraken_bot.execution.core.models import ExecutionMode
from kraken_bot.execution.exceptions import MissingCredentialsError, NetworkError
from kraken_bot.execution.shell._retry import retry_reads
from kraken_bot.execution.shell.compose import build_client, exchange_clock
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.execution.shell.store import SQLiteExecutionStore
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.strategy.plan import ExecutionPlan, parse_plan

__all__ = [
    "ConfigOption",
    "DbOption",
    "JsonOption",
    "bundled_file",
    "load_app_config",
    "load_plan",
    "open_service",
    "preflight",
]

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="YAML config file (default: ./config.yaml when present, else the defaults).",
        dir_okay=False,
    ),
]
DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="SQLite database (default: the config's storage.path, else one file per mode:"
        " portfolio.db for live, portfolio.paper.db, portfolio.dry_run.db).",
        dir_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

EXAMPLE_PLAN: Final = "example_plan.yaml"
_PREFLIGHT_WAITS: Final = (1.0, 2.0)
_T = TypeVar("_T")


def bundled_file(*parts: str) -> Path:
    """A bundled data file: ``<repo>/fixtures`` in a checkout, package data when installed."""
    checkout = Path(kraken_bot.__file__).resolve().parents[2] / "fixtures"
    if (checkout / "asset_pairs.json").is_file():
        return checkout.joinpath(*parts)
    return Path(str(importlib.resources.files("kraken_bot").joinpath("_fixtures", *parts)))


def load_app_config(config: Path | None, db: Path | None) -> AppConfig:
    """Load the config (``KRAKEN_API_URL`` and friends apply) and apply ``--db``.

    Nonces belong to the API key, not to a database: every process using the key
    shares the key's nonce file in the state directory, whatever ``--db`` says.
    """
    loaded = load_config(config)
    if db is not None:
        loaded = replace(loaded, storage=replace(loaded.storage, path=str(db)))
    return loaded


def load_plan(path: Path | None) -> ExecutionPlan:
    """Read and validate a plan file (YAML or JSON); None reads the bundled example plan."""
    source = path if path is not None else bundled_file(EXAMPLE_PLAN)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"plan file not found: {source}", ExitCode.USAGE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read plan file {source}: {exc}", ExitCode.USAGE) from None
    try:
        if source.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
            raw = _load_json(text, what=f"plan file {source}")
        else:
            raw = load_yaml_text(text, what=f"plan file {source}", error=ConfigFileError)
    except ConfigFileError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None
    parsed = parse_plan(raw, now=datetime.now(UTC))
    if not is_successful(parsed):
        raise CliError(f"bad plan file {source}: {parsed.failure()}", ExitCode.USAGE)
    return parsed.unwrap()


def _load_json(text: str, *, what: str) -> object:
    """JSON proper (YAML would turn an escaped emoji into two lone surrogates)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConfigFileError(f"{what}: not valid JSON ({str(exc)[:200]})") from None


def preflight(config: AppConfig, client: KrakenRESTClient) -> None:
    """Prove the exchange is reachable and (outside dry_run) accepts our key.

    Raises:
        MissingCredentialsError: paper/live mode without an API key and secret.
        NetworkError, ServiceUnavailableError: the exchange cannot be reached.
        AuthError: the exchange refuses the key.
    """
    dry_run = config.execution.mode is ExecutionMode.DRY_RUN
    if not dry_run and not config.kraken.has_credentials:
        raise MissingCredentialsError(
            f"{config.execution.mode.value} mode needs an API key and secret: set KRAKEN_API_KEY"
            " and KRAKEN_API_SECRET (or kraken.credentials_file in the config)"
        )
    status = _patiently(client.system_status)
    if status.status != "online":
        err_console.print(
            f"warning: Kraken reports status {terminal_safe(repr(status.status))}",
            highlight=False,
        )
    if not dry_run:
        _patiently(client.balance)


def _patiently(call: Callable[[], _T]) -> _T:
    """``call``, tried again (1 s, then 2 s later) if the exchange is busy or failing.

    An unreachable exchange (connection refused, DNS) fails at once: waiting will not help.
    """
    return retry_reads(
        call,
        sleep=time.sleep,
        waits=_PREFLIGHT_WAITS,
        what="preflight",
        never_retry=(NetworkError,),
    )


@contextmanager
def open_service(
    config: AppConfig, *, observer: bool = False, long_running: bool = False
) -> Iterator[ExecutionService]:
    """An initialized service: the database first, then the exchange, then the service.

    ``observer`` services (cancel, reconcile) never take the account's live-trading
    lease and never touch the dead-man switch, so they run beside a live bot.
    Only a ``long_running`` one (`krakked run`) streams executions when
    ``kraken.stream`` is ``auto``: a one-shot command would open a socket (and spend a
    token call) for its few seconds. An explicit ``websocket`` is kept.
    """
    if not long_running and config.kraken.stream is StreamMode.AUTO:
        config = replace(config, kraken=replace(config.kraken, stream=StreamMode.POLL))
    store = SQLiteExecutionStore(config.database_path)
    try:
        clock = exchange_clock(SystemClock())
        with build_client(config, clock=clock) as client:
            preflight(config, client)
            service = ExecutionService.from_config(
                config, client=client, clock=clock, store=store, observer=observer
            )
            try:
                service.initialize()
                yield service
            finally:
                service.close()
    finally:
        store.close()
