"""Pure: Krakked's exception tree, low enough for every layer to derive from.

The whole tree is drawn, and re-exported, by `kraken_bot.execution.exceptions`
(import from there, or from `kraken_bot.execution`). The classes live in this
leaf module so that every package (the configuration, the plan types, the
Kraken client, the execution layer) can raise them without importing one
another: no package imports in a loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from kraken_bot._problems import ConfigProblem, PlanProblem

__all__ = [
    "AccountInUseError",
    "AmendRefusedError",
    "CancelFailedError",
    "ClockOffsetError",
    "ConfigValidationError",
    "CredentialsError",
    "ExecutionError",
    "LiveTradingRefusedError",
    "MissingCredentialsError",
    "NotInitializedError",
    "PlanValidationError",
    "RunRefusedError",
    "StoreError",
    "TxidTakenError",
    "UnknownOrderError",
]


class ExecutionError(Exception):
    """Base of every exception Krakked raises on purpose.

    ``except ExecutionError`` around a call into the library catches everything it
    foresees: refused configurations and plans, Kraken's own errors, database and
    credential problems. Anything else is a bug.
    """


class CredentialsError(ExecutionError):
    """The API key or secret is missing or unusable (before Kraken was asked)."""


class ConfigValidationError(ExecutionError, ValueError):
    """A configuration was refused; the message names every problem.

    Raised by ``ExecutionConfig(...)`` (and ``dataclasses.replace`` of one) when a
    value is out of range, of the wrong type or unsafe in combination; `load_config`
    raises its subclass `ConfigFileError` for the same problems found in a file.

    Attributes:
        problems: every problem, each with its key path (``execution.max_retries``).
        source: what was read (a file path, ``ExecutionConfig``), when known.
    """

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[ConfigProblem] = (),
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        self.source = source


class LiveTradingRefusedError(ConfigValidationError):
    """Live mode was asked for without all three opt-ins; nothing was started or sent.

    The same error whether the refusal comes from code (``ExecutionConfig(mode="live")``),
    from a file (`load_config`) or from ``ExecutionService.initialize()``.
    """


class AccountInUseError(LiveTradingRefusedError):
    """Another process holds the account's live-trading lease; nothing was started or sent.

    Raised by ``ExecutionService.initialize()`` of a live (non-observer) service.

    Attributes:
        holder: who holds it (``pid N since T``).
    """

    def __init__(self, message: str, *, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class ClockOffsetError(LiveTradingRefusedError):
    """Live trading refused: the offset to Kraken's clock could not be measured (Kraken's
    ``Time`` did not answer) or is above ``execution.max_clock_offset_seconds``.

    Raised by ``ExecutionService.initialize()`` of a live (non-observer) service.
    """


class MissingCredentialsError(CredentialsError):
    """Paper and live modes need an API key and secret (KRAKEN_API_KEY / KRAKEN_API_SECRET).

    Raised by ``ExecutionService.initialize()`` (and the CLI) before anything is sent.
    """


class PlanValidationError(ExecutionError, ValueError):
    """The plan is malformed; the message lists every problem. Nothing was sent.

    Raised by ``ExecutionPlan(...)`` and ``RiskAdjustedAction(...)`` at construction,
    and by ``ExecutionService.execute_plan`` for a plan that fails the same checks.

    Attributes:
        problems: every problem, each with its path (``actions[2].target_base_size``).
        plan_id: the plan's id, when it has a usable one.
    """

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[PlanProblem] = (),
        plan_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.problems: tuple[PlanProblem, ...] = tuple(problems)
        self.plan_id = plan_id


class StoreError(ExecutionError):
    """The execution store cannot do what was asked; the message names the database.

    Raised by ``ExecutionService.initialize()`` (opening the database) and by any
    method that records a change.

    Attributes:
        path: the database file, when the store has one.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class TxidTakenError(StoreError):
    """A write would link a Kraken txid that another local order owns (one exchange order,
    one local order); nothing was written. The ledger turns it into a refused event."""


class UnknownOrderError(ExecutionError, LookupError):
    """No local order has that local id, Kraken txid or client order id.

    Raised by ``ExecutionService.get_order`` and ``cancel_order``.
    """


class AmendRefusedError(ExecutionError, ValueError):
    """An amend was refused before it was sent: the order cannot be amended (not live, no
    Kraken txid, not a limit order, not in live mode) or the new price or size is not valid
    for it (off the tick, above the requested size, below what has filled). Raised by
    ``ExecutionService.amend_order``; nothing was sent."""


class CancelFailedError(ExecutionError):
    """Kraken could not be asked to cancel (after retries); the order is flagged for reconciling.

    Raised by ``ExecutionService.cancel_order`` and ``cancel_all``.
    """


class NotInitializedError(ExecutionError):
    """The service was used after `close()`; create a new one."""


class RunRefusedError(ExecutionError):
    """`krakked run` cannot start: another one runs on this account, or the inbox is unusable."""


# Tracebacks and reprs name the public path (`kraken_bot.execution.exceptions`, which
# re-exports every class here), not this private leaf module.
for _name in __all__:
    globals()[_name].__module__ = "kraken_bot.execution.exceptions"
del _name
