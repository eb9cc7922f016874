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
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from returns.result import Failure, Result, Success

from kraken_bot._show import is_valid_text, show

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


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionPlan:
    """The Phase 4 output this layer executes."""

    plan_id: str
    created_at: datetime
    actions: tuple[RiskAdjustedAction, ...]


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One problem at a path inside the plan (``actions[2].target_base_size``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class PlanError:
    """Every problem found in a plan."""

    plan_id: str | None
    problems: tuple[PlanProblem, ...]

    def __str__(self) -> str:
        name = f"plan {self.plan_id}" if self.plan_id else "plan"
        count = len(self.problems)
        lines = [f"{name}: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


_ACTION_KEYS: Final = frozenset(
    {
        "pair",
        "strategy_id",
        "action_type",
        "current_base_size",
        "target_base_size",
        "blocked",
        "block_reasons",
        "userref",
    }
)
_PLAN_KEYS: Final = frozenset({"plan_id", "created_at", "actions"})
_ACTION_TYPES: Final = frozenset(a.value for a in ActionType)


def parse_size(value: object) -> Decimal | None:
    """A finite size from 0 to `MAX_SIZE` from a number or decimal string; None otherwise.

    Floats go through their shortest repr, so ``0.1`` is ``Decimal('0.1')``.
    Values below 1e-30 count as zero.

    >>> parse_size(0.1), parse_size("1e-3"), parse_size(float("inf")), parse_size(True)
    (Decimal('0.1'), Decimal('0.001'), None, None)
    >>> parse_size("1e999"), parse_size("1e-99")
    (None, Decimal('0'))
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not parsed.is_finite() or parsed < 0 or parsed > MAX_SIZE:
        return None
    if parsed != 0 and parsed.adjusted() < -30:
        return Decimal(0)
    return parsed


def parse_timestamp_utc(value: object) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; naive means UTC) as aware UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _texts_of(raw: Mapping[object, object]) -> list[tuple[str, str]]:
    """The action's text fields, with the key path of each (for the Unicode check)."""
    found: list[tuple[str, str]] = []
    for key in ("pair", "strategy_id"):
        value = raw.get(key)
        if isinstance(value, str):
            found.append((key, value))
    reasons = raw.get("block_reasons")
    if isinstance(reasons, list):
        found += [(f"block_reasons[{i}]", r) for i, r in enumerate(reasons) if isinstance(r, str)]
    return found


class _Problems:
    def __init__(self) -> None:
        self.found: list[PlanProblem] = []

    def add(self, path: str, message: str) -> None:
        self.found.append(PlanProblem(path, message))


def _parse_action(raw: object, path: str, problems: _Problems) -> RiskAdjustedAction | None:
    if not isinstance(raw, Mapping):
        problems.add(path, f"expected a mapping, got {show(raw)}")
        return None
    for key in raw:
        if key not in _ACTION_KEYS:
            problems.add(f"{path}.{key}", "unknown field (check the spelling)")
    before = len(problems.found)
    pair = raw.get("pair")
    if not isinstance(pair, str) or not pair.strip():
        problems.add(f"{path}.pair", f"expected a non-empty pair name, got {show(pair)}")
    strategy = raw.get("strategy_id")
    if strategy is not None and (not isinstance(strategy, str) or not strategy.strip()):
        problems.add(f"{path}.strategy_id", f"expected a non-empty string, got {show(strategy)}")
    kind = raw.get("action_type")
    # Never str() or repr() an arbitrary value here: a tiny YAML file can make it huge.
    if isinstance(kind, str) and kind in _ACTION_TYPES:
        action_type = ActionType(kind)
    else:
        choices = " | ".join(a.value for a in ActionType)
        problems.add(f"{path}.action_type", f"expected one of {choices}, got {show(kind)}")
        action_type = ActionType.NONE
    sizes: dict[str, Decimal] = {}
    for key in ("current_base_size", "target_base_size"):
        size = parse_size(raw.get(key))
        if size is None:
            problems.add(
                f"{path}.{key}", f"expected a number from 0 to 1e15, got {show(raw.get(key))}"
            )
        else:
            sizes[key] = size
    blocked = raw.get("blocked", False)
    if not isinstance(blocked, bool):
        problems.add(f"{path}.blocked", f"expected true or false, got {show(blocked)}")
    reasons = raw.get("block_reasons", [])
    if reasons is None:
        reasons = []
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        problems.add(f"{path}.block_reasons", f"expected a list of strings, got {show(reasons)}")
        reasons = []
    userref = raw.get("userref")
    if userref is not None and (
        isinstance(userref, bool)
        or not isinstance(userref, int)
        or not _INT32_MIN <= userref <= _INT32_MAX
    ):
        problems.add(f"{path}.userref", f"expected a 32-bit integer, got {show(userref)}")
    for key, text in _texts_of(raw):
        if not is_valid_text(text):
            problems.add(f"{path}.{key}", "contains text that is not valid Unicode")
    if len(problems.found) != before:
        return None
    assert isinstance(pair, str)
    return RiskAdjustedAction(
        pair=pair.strip(),
        strategy_id=strategy.strip() if isinstance(strategy, str) else None,
        action_type=action_type,
        current_base_size=sizes["current_base_size"],
        target_base_size=sizes["target_base_size"],
        blocked=bool(blocked),
        block_reasons=tuple(reasons),
        userref=userref if isinstance(userref, int) else None,
    )


def parse_plan(raw: object, *, now: datetime) -> Result[ExecutionPlan, PlanError]:
    """Validate a decoded plan document; ``now`` stands in for a missing ``created_at``."""
    problems = _Problems()
    if not isinstance(raw, Mapping):
        return Failure(
            PlanError(None, (PlanProblem("plan", f"expected a mapping, got {show(raw)}"),))
        )
    for key in raw:
        if key not in _PLAN_KEYS:
            problems.add(str(key), "unknown field (check the spelling)")
    plan_id = raw.get("plan_id")
    if not isinstance(plan_id, str) or not plan_id.strip():
        problems.add("plan_id", f"expected a non-empty string, got {show(plan_id)}")
        plan_id = None
    elif not is_valid_text(plan_id):
        problems.add("plan_id", "contains text that is not valid Unicode")
        plan_id = None
    created_raw = raw.get("created_at")
    created_at = now if created_raw is None else parse_timestamp_utc(created_raw)
    if created_at is None:
        problems.add("created_at", f"expected an ISO 8601 timestamp, got {show(created_raw)}")
    actions_raw = raw.get("actions")
    actions: list[RiskAdjustedAction] = []
    if not isinstance(actions_raw, Sequence) or isinstance(actions_raw, str):
        problems.add("actions", f"expected a list of actions, got {show(actions_raw)}")
    else:
        for index, item in enumerate(actions_raw):
            action = _parse_action(item, f"actions[{index}]", problems)
            if action is not None:
                actions.append(action)
    if problems.found or plan_id is None or created_at is None:
        ordered = tuple(sorted(problems.found, key=lambda p: p.path))
        return Failure(PlanError(plan_id, ordered))
    return Success(
        ExecutionPlan(plan_id=plan_id.strip(), created_at=created_at, actions=tuple(actions))
    )


def validate_plan(plan: ExecutionPlan) -> Result[ExecutionPlan, PlanError]:
    """Check a plan built in code (not parsed) against the same rules as `parse_plan`."""
    problems = _Problems()
    if not plan.plan_id.strip():
        problems.add("plan_id", "expected a non-empty string")
    elif not is_valid_text(plan.plan_id):
        problems.add("plan_id", "contains text that is not valid Unicode")
    for index, action in enumerate(plan.actions):
        path = f"actions[{index}]"
        texts = {"pair": action.pair, "strategy_id": action.strategy_id or ""}
        texts |= {f"block_reasons[{i}]": r for i, r in enumerate(action.block_reasons)}
        for key, text in texts.items():
            if not is_valid_text(text):
                problems.add(f"{path}.{key}", "contains text that is not valid Unicode")
        if not action.pair.strip():
            problems.add(f"{path}.pair", "expected a non-empty pair name")
        for key, size in (
            ("current_base_size", action.current_base_size),
            ("target_base_size", action.target_base_size),
        ):
            if parse_size(size) is None:
                problems.add(f"{path}.{key}", f"expected a number from 0 to 1e15, got {show(size)}")
        if action.userref is not None and not _INT32_MIN <= action.userref <= _INT32_MAX:
            problems.add(f"{path}.userref", f"expected a 32-bit integer, got {action.userref}")
    if problems.found:
        return Failure(PlanError(plan.plan_id, tuple(problems.found)))
    return Success(plan)
