"""Pure: the Phase 4 input contract: `ExecutionPlan` of `RiskAdjustedAction`s, and its parser.

A plan states *desired holdings*: for each (pair, strategy) the current and the
target base size. The execution layer derives the side and volume from the
delta; ``action_type`` is informational (``none`` means "do nothing").

The file form that ``krakked run-once --plan FILE`` reads (YAML or JSON)::

    plan_id: rebalance-2026-01-01T00:00Z
    created_at: "2026-01-01T00:00:00Z"      # optional, ISO 8601 UTC
    actions:
      - pair: XBTUSD                         # any of Kraken's names
        strategy_id: trend_v1
        action_type: increase                # none | open | increase | reduce | close
        current_base_size: "0.10"            # numbers or decimal strings
        target_base_size: "0.25"
        blocked: false                       # optional
        block_reasons: []                    # optional
        userref: 1001                        # optional int32 strategy tag

`parse_plan` reports every problem with the action it belongs to:

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 1, 1, tzinfo=UTC)
>>> plan = parse_plan({"plan_id": "p1", "actions": [{"pair": "XBTUSD",
...     "strategy_id": "s", "action_type": "increase", "current_base_size": 0.1,
...     "target_base_size": "0.25"}]}, now=now).unwrap()
>>> plan.actions[0].target_base_size - plan.actions[0].current_base_size
Decimal('0.15')
>>> print(parse_plan({"plan_id": "p2", "actions": [{"pair": "", "strategy_id": "s",
...     "action_type": "open", "current_base_size": "NaN", "target_base_size": -1}]},
...     now=now).failure())
plan p2: 3 problems
  actions[0].current_base_size: expected a number from 0 to 1e15, got 'NaN'
  actions[0].pair: expected a non-empty pair name, got ''
  actions[0].target_base_size: expected a number from 0 to 1e15, got -1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

from returns.result import Failure, Result, Success

from kraken_bot._errors import PlanValidationError
from kraken_bot._problems import PlanProblem, listing
from kraken_bot._reading import (
    FAILED,
    Failed,
    Invalid,
    Reader,
    Rule,
    as_decimal,
    as_utc,
    at,
    choice,
    expected,
    flag,
    integer,
    nullable,
    passed,
    prefixed,
)
from kraken_bot._show import is_valid_text

MAX_SIZE: Final = Decimal("1e15")
"""Sizes above this are refused as input errors: no real holding is that large."""
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1


class ActionType(StrEnum):
    """What the strategy meant; the side always comes from the delta."""

    NONE = "none"
    OPEN = "open"
    INCREASE = "increase"
    REDUCE = "reduce"
    CLOSE = "close"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskAdjustedAction:
    """One pair/strategy's desired holding after risk checks.

    Checked at construction with the rules `parse_plan` applies to files: a bad
    value raises `PlanValidationError` naming every problem, so a plan built in code
    cannot reach the planner malformed. Text is stripped, ``action_type`` may be its
    value (``"increase"``), ``block_reasons`` may be a list (stored as a tuple).

    Sizes must be `Decimal` (or int). A float is refused with a clear message rather
    than converted: a float computed in code (``0.1 + 0.2``) carries binary noise a
    silent conversion would keep. Files are different: the number there is the text
    its author wrote, so `parse_plan` reads ``0.1`` as ``Decimal('0.1')``.

    >>> RiskAdjustedAction(pair="XBTUSD", strategy_id="s", action_type="open",
    ...     current_base_size=Decimal(0), target_base_size=0.25)
    Traceback (most recent call last):
    ...
    kraken_bot.execution.exceptions.PlanValidationError: RiskAdjustedAction: 1 problem
      target_base_size: expected a Decimal, not the float 0.25 (inexact): pass Decimal('0.25')

    Attributes:
        pair: pair name as the strategy wrote it (resolved by the planner).
        strategy_id: the strategy that asked; None when untagged.
        action_type: informational; ``none`` is a no-op.
        current_base_size: holdings now (base units, from the portfolio).
        target_base_size: holdings wanted (base units).
        blocked: risk checks refused the action.
        block_reasons: why it was blocked.
        userref: Kraken ``userref`` tag (int32) for the strategy's orders.
    """

    pair: str
    strategy_id: str | None
    action_type: ActionType
    current_base_size: Decimal
    target_base_size: Decimal
    blocked: bool = False
    block_reasons: tuple[str, ...] = ()
    userref: int | None = None

    def __post_init__(self) -> None:
        given = {name: getattr(self, name) for name in _ACTION_KEYS}
        values, problems = _check_action(given, from_file=False)
        if problems:
            raise _refusal("RiskAdjustedAction", None, problems)
        for name, value in values.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionPlan:
    """The Phase 4 output this layer executes.

    Checked at construction (`PlanValidationError`): a non-empty ``plan_id`` of valid
    text (stripped), a timezone-aware ``created_at`` (stored in UTC), and ``actions``
    a sequence of `RiskAdjustedAction` (stored as a tuple).
    """

    plan_id: str
    created_at: datetime
    actions: tuple[RiskAdjustedAction, ...]

    def __post_init__(self) -> None:
        given = {"plan_id": self.plan_id, "created_at": self.created_at, "actions": self.actions}
        values, problems = _check_plan(given)
        if problems:
            plan_id = values.get("plan_id")
            raise _refusal(None, plan_id if isinstance(plan_id, str) else None, problems)
        for name, value in values.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True, slots=True)
class PlanError:
    """Every problem found in a plan."""

    plan_id: str | None
    problems: tuple[PlanProblem, ...]

    def __str__(self) -> str:
        name = f"plan {self.plan_id}" if self.plan_id else "plan"
        return listing(name, self.problems)


def _refusal(
    what: str | None, plan_id: str | None, problems: Sequence[PlanProblem]
) -> PlanValidationError:
    message = listing(what, problems) if what else str(PlanError(plan_id, tuple(problems)))
    return PlanValidationError(message, problems=problems, plan_id=plan_id)


_ACTION_KEYS: Final = (
    "pair",
    "strategy_id",
    "action_type",
    "current_base_size",
    "target_base_size",
    "blocked",
    "block_reasons",
    "userref",
)
_OPTIONAL_DEFAULTS: Final[Mapping[str, object]] = {
    "strategy_id": None,
    "blocked": False,
    "block_reasons": (),
    "userref": None,
}


def parse_size(value: object) -> Decimal | None:
    """A finite size from 0 to `MAX_SIZE` from a number or decimal string; None otherwise.

    Floats go through their shortest repr, so ``0.1`` is ``Decimal('0.1')``.
    Values below 1e-30 count as zero.

    >>> parse_size(0.1), parse_size("1e-3"), parse_size(float("inf")), parse_size(True)
    (Decimal('0.1'), Decimal('0.001'), None, None)
    >>> parse_size("1e999"), parse_size("1e-99")
    (None, Decimal('0'))
    """
    parsed = as_decimal(value)
    if parsed is None or parsed < 0 or parsed > MAX_SIZE:
        return None
    if parsed != 0 and parsed.adjusted() < -30:
        return Decimal(0)
    return parsed


def parse_timestamp_utc(value: object) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; naive means UTC) as aware UTC."""
    return as_utc(value.strip() if isinstance(value, str) else value, naive_is_utc=True)


# ---------------------------------------------------------------- the rules, in one place

_NOT_UNICODE: Final = "contains text that is not valid Unicode"


def _text(what: str) -> Rule[str]:
    """A non-empty string of valid text, stripped."""

    def parse(value: object) -> str | Invalid | None:
        if not isinstance(value, str) or not value.strip():
            return None
        return value.strip() if is_valid_text(value) else Invalid(_NOT_UNICODE)

    return Rule(what, parse)


def _size_in_code(value: object) -> Decimal | Invalid | None:
    if isinstance(value, Decimal | int):
        size = parse_size(value)
        return Invalid(expected("a number from 0 to 1e15", value)) if size is None else size
    if isinstance(value, float) and parse_size(value) is not None:
        return Invalid(
            f"expected a Decimal, not the float {value!r} (inexact): pass Decimal('{value!r}')"
        )
    return None


def _aware(value: object) -> datetime | None:
    return as_utc(value, naive_is_utc=False) if isinstance(value, datetime) else None


_PAIR: Final = _text("a non-empty pair name")
_STRATEGY_ID: Final = nullable(_text("a non-empty string"))
_ACTION_TYPE: Final = choice(ActionType)
_SIZE_IN_FILE: Final = Rule("a number from 0 to 1e15", parse_size)
_SIZE_IN_CODE: Final = Rule("a Decimal from 0 to 1e15", _size_in_code)
_USERREF: Final = nullable(integer(_INT32_MIN, _INT32_MAX, "a 32-bit integer"))
_PLAN_ID: Final = _text("a non-empty string")
_CREATED_AT: Final = Rule("a timezone-aware datetime (datetime.now(UTC))", _aware)


def _check_action(
    given: Mapping[str, object], *, from_file: bool
) -> tuple[dict[str, object], list[PlanProblem]]:
    """An action's fields through the rules; paths are field names."""
    problems: list[PlanProblem] = []
    read = Reader(given, "", problems)
    size = _SIZE_IN_FILE if from_file else _SIZE_IN_CODE
    checked: dict[str, object] = {
        "pair": read.check("pair", _PAIR),
        "strategy_id": read.check("strategy_id", _STRATEGY_ID),
        "action_type": read.check("action_type", _ACTION_TYPE),
        "current_base_size": read.check("current_base_size", size),
        "target_base_size": read.check("target_base_size", size),
        "blocked": read.check("blocked", flag),
        "block_reasons": _check_reasons(read),
        "userref": read.check("userref", _USERREF),
    }
    return passed(checked), problems


def _check_reasons(read: Reader) -> tuple[str, ...] | Failed:
    reasons = read.get("block_reasons")
    if reasons is None:
        reasons = ()
    if not isinstance(reasons, list | tuple) or not all(isinstance(r, str) for r in reasons):
        read.problem("block_reasons", expected("a list of strings", reasons))
        return FAILED
    bad = [i for i, reason in enumerate(reasons) if not is_valid_text(reason)]
    for index in bad:
        read.problem(at("block_reasons", index), _NOT_UNICODE)
    return FAILED if bad else tuple(reasons)


def _check_plan(given: Mapping[str, object]) -> tuple[dict[str, object], list[PlanProblem]]:
    """A plan's own fields (its actions are checked when they are built)."""
    problems: list[PlanProblem] = []
    read = Reader(given, "", problems)
    checked: dict[str, object] = {
        "plan_id": read.check("plan_id", _PLAN_ID),
        "created_at": read.check("created_at", _CREATED_AT),
    }
    actions = read.get("actions")
    if not isinstance(actions, list | tuple):
        read.problem("actions", expected("a sequence of RiskAdjustedAction", actions))
    else:
        for index, action in enumerate(actions):
            if not isinstance(action, RiskAdjustedAction):
                read.problem(at("actions", index), expected("a RiskAdjustedAction", action))
        checked["actions"] = tuple(actions)
    return passed(checked), problems


# ---------------------------------------------------------------- files


def _parse_action(raw: object, path: str, problems: list[PlanProblem]) -> RiskAdjustedAction | None:
    read = Reader(raw, path, problems)
    if not read.is_mapping:
        return None
    given = {key: read.raw.get(key, _OPTIONAL_DEFAULTS.get(key)) for key in _ACTION_KEYS}
    read.seen.update(_ACTION_KEYS)
    read.finish("field")
    values, found = _check_action(given, from_file=True)
    if found:
        problems += prefixed(path, found)
        return None
    return RiskAdjustedAction(**values)  # type: ignore[arg-type] # checked just above


def parse_plan(raw: object, *, now: datetime) -> Result[ExecutionPlan, PlanError]:
    """Validate a decoded plan document; ``now`` stands in for a missing ``created_at``."""
    problems: list[PlanProblem] = []
    doc = Reader(raw, "", problems, root="plan")
    if not doc.is_mapping:
        return Failure(PlanError(None, tuple(problems)))
    doc.seen.update(("plan_id", "created_at", "actions"))
    doc.finish("field")
    created_raw = doc.get("created_at")
    created_at = now if created_raw is None else parse_timestamp_utc(created_raw)
    if created_at is None:
        doc.problem("created_at", expected("an ISO 8601 timestamp", created_raw))
    actions_raw = doc.get("actions")
    actions: list[RiskAdjustedAction] = []
    if not isinstance(actions_raw, Sequence) or isinstance(actions_raw, str):
        doc.problem("actions", expected("a list of actions", actions_raw))
    else:
        for index, item in enumerate(actions_raw):
            action = _parse_action(item, at("actions", index), problems)
            if action is not None:
                actions.append(action)
    given = {"plan_id": doc.get("plan_id"), "created_at": created_at or now, "actions": actions}
    values, found = _check_plan(given)
    problems += found
    plan_id = values.get("plan_id")
    if problems:
        ordered = tuple(sorted(problems, key=lambda p: p.path))
        return Failure(PlanError(plan_id if isinstance(plan_id, str) else None, ordered))
    return Success(ExecutionPlan(**values))  # type: ignore[arg-type] # checked just above


def validate_plan(plan: ExecutionPlan) -> Result[ExecutionPlan, PlanError]:
    """Check a plan against the rules of `parse_plan` once more.

    A thin wrapper kept for callers: ``ExecutionPlan(...)`` and
    ``RiskAdjustedAction(...)`` already refuse a malformed plan at construction, so
    this fails only for a plan that bypassed its constructor.
    """
    values, problems = _check_plan(
        {"plan_id": plan.plan_id, "created_at": plan.created_at, "actions": plan.actions}
    )
    for index, action in enumerate(plan.actions):
        given = {name: getattr(action, name) for name in _ACTION_KEYS}
        _, found = _check_action(given, from_file=False)
        problems += prefixed(at("actions", index), found)
    if problems:
        plan_id = values.get("plan_id")
        return Failure(PlanError(plan_id if isinstance(plan_id, str) else None, tuple(problems)))
    return Success(plan)
