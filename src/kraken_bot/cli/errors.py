"""Errors a person can act on: one clear line and a documented exit code, never a traceback.

Every command is wrapped in `reports_errors`. It maps the exceptions the layers
below raise to an `ExitCode` and a message (`classify`), prints
``error: <message>`` on stderr (and, for ``--json``, an error object on
stdout), and exits with the code. ``krakked --debug ...`` prints the traceback
first. Anything unforeseen is a bug: exit `ExitCode.INTERNAL` with a pointer
to ``--debug``.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import typer
from typer.exceptions import TyperException

from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.output import err_console, out_console, terminal_safe
from kraken_bot.execution.exceptions import (
    AuthError,
    CancelFailedError,
    ConfigValidationError,
    ExecutionError,
    KrakenAPIError,
    LiveTradingRefusedError,
    MissingCredentialsError,
    NetworkError,
    NonceError,
    PlanValidationError,
    RunRefusedError,
    ServiceUnavailableError,
    StoreError,
    UnknownOrderError,
)
from kraken_bot.execution.shell.scheduler import DeadManSwitchError
from kraken_bot.kraken.nonce import NonceStateError
from kraken_bot.kraken.signing import SigningKeyError
from kraken_sim import ScenarioError
from kraken_sim.history import PriceFileError

__all__ = ["CliError", "classify", "reports_errors", "settings"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class CliError(ExecutionError):
    """A problem the command line found itself (a bad plan file, a missing extra).

    Under `ExecutionError` like every exception Krakked raises on purpose; it carries the
    exit code the command ends with.
    """

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Settings:
    """Global options, set by the app callback for each invocation."""

    debug: bool = False
    verbose: bool = False


settings = _Settings()


def _network_hint(exc: BaseException) -> str:
    if isinstance(exc, NetworkError):
        return (
            f"cannot reach the exchange: {exc} (check kraken.base_url or KRAKEN_API_URL,"
            " and that the exchange or `krakked sim serve` is running)"
        )
    return f"the exchange is unavailable: {exc}"


_Kinds = type[BaseException] | tuple[type[BaseException], ...]
# First match wins: a subclass comes before its base.
_CLASSES: tuple[tuple[_Kinds, ExitCode, Callable[[BaseException], str]], ...] = (
    (RunRefusedError, ExitCode.IN_USE, lambda e: f"not started: {e}"),
    (LiveTradingRefusedError, ExitCode.LIVE_REFUSED, lambda e: f"live trading refused: {e}"),
    (ConfigValidationError, ExitCode.USAGE, lambda e: f"bad config: {e}"),
    (PlanValidationError, ExitCode.USAGE, lambda e: f"bad plan: {e}"),
    (PriceFileError, ExitCode.USAGE, lambda e: f"bad price file: {e}"),
    (ScenarioError, ExitCode.USAGE, lambda e: f"bad scenario: {e}"),
    (
        (FileNotFoundError, IsADirectoryError, PermissionError),
        ExitCode.USAGE,
        lambda e: f"{getattr(e, 'strerror', None) or e}: {getattr(e, 'filename', None) or ''}",
    ),
    (StoreError, ExitCode.DATABASE, lambda e: f"database: {e}"),
    (NonceStateError, ExitCode.DATABASE, lambda e: f"nonce state file: {e}"),
    (sqlite3.Error, ExitCode.DATABASE, lambda e: f"database: {e}"),
    (MissingCredentialsError, ExitCode.CREDENTIALS, lambda e: f"missing API keys: {e}"),
    (
        SigningKeyError,
        ExitCode.CREDENTIALS,
        lambda e: f"bad API secret: {e} (check KRAKEN_API_SECRET or kraken.credentials_file)",
    ),
    (
        AuthError,
        ExitCode.CREDENTIALS,
        lambda e: f"Kraken refused the API key: {e} (check KRAKEN_API_KEY/KRAKEN_API_SECRET)",
    ),
    (
        NonceError,
        ExitCode.EXCHANGE,
        lambda e: (
            f"Kraken refused the nonce: {e} (a program outside krakked used this API key with"
            " higher nonces: every krakked process shares the key's nonce file; share it with"
            " or wait a few seconds)"
        ),
    ),
    (UnknownOrderError, ExitCode.NOT_FOUND, lambda e: f"unknown order: {e}"),
    (CancelFailedError, ExitCode.EXCHANGE, lambda e: f"cancel failed: {e}"),
    (DeadManSwitchError, ExitCode.EXCHANGE, lambda e: f"dead-man switch: {e}"),
    (ServiceUnavailableError, ExitCode.EXCHANGE, _network_hint),
    (KrakenAPIError, ExitCode.EXCHANGE, lambda e: f"Kraken error: {e}"),
)


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code and the message for an exception a command let through."""
    if isinstance(exc, CliError):
        return exc.code, str(exc)
    for kind, code, describe in _CLASSES:
        if isinstance(exc, kind):
            return code, describe(exc)
    name = type(exc).__name__
    return ExitCode.INTERNAL, f"internal error ({name}: {exc}); run with --debug for the traceback"


def report(exc: BaseException, *, as_json: bool) -> ExitCode:
    """Print ``exc`` for people (stderr) and scripts (stdout JSON); return its exit code."""
    code, message = classify(exc)
    if settings.debug:
        trace = "".join(traceback.format_exception(exc))
        err_console.print(terminal_safe(trace, keep_newlines=True), highlight=False, end="")
    head, _, rest = message.partition("\n")
    err_console.print(f"[red]error:[/red] {terminal_safe(head)}", highlight=False)
    if rest:
        err_console.print(terminal_safe(rest, keep_newlines=True), highlight=False)
    if as_json:
        payload = {"ok": False, "error": message, "exit_code": int(code), "kind": code.name}
        out_console.print_json(json.dumps(payload))
    return code


def reports_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Wrap a command: known exceptions become one line and their exit code."""

    @functools.wraps(command)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except KeyboardInterrupt:
            err_console.print("interrupted", highlight=False)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:  # the CLI edge: every error becomes one line
            code = report(exc, as_json=bool(kwargs.get("as_json")))
            raise typer.Exit(code) from None

    return wrapper
