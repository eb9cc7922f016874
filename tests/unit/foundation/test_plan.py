"""The plan contract: parsing validates everything and names the action at fault."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from returns.pipeline import is_successful

from kraken_bot.execution.exceptions import PlanValidationError
from kraken_bot.strategy.plan import (
    ActionType,
    ExecutionPlan,
    RiskAdjustedAction,
    parse_plan,
    parse_size,
    validate_plan,
)

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


def action(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "pair": "XBTUSD",
        "strategy_id": "trend",
        "action_type": "increase",
        "current_base_size": "0.1",
        "target_base_size": "0.2",
    }
    base.update(overrides)
    return base


def problem_paths(raw: object) -> set[str]:
    result = parse_plan(raw, now=NOW)
    assert not is_successful(result)
    return {p.path for p in result.failure().problems}


def test_the_bundled_example_plan_parses():
    raw = yaml.safe_load((ROOT / "fixtures" / "example_plan.yaml").read_text())
    plan = parse_plan(raw, now=NOW).unwrap()
    assert plan.plan_id == "example-rebalance-001"
    assert plan.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert [a.action_type for a in plan.actions] == [
        ActionType.INCREASE,
        ActionType.REDUCE,
        ActionType.OPEN,
        ActionType.NONE,
    ]
    assert plan.actions[2].blocked
    assert plan.actions[2].block_reasons == ("daily loss limit reached",)


def test_json_and_yaml_forms_give_the_same_plan():
    doc = {"plan_id": "p", "created_at": "2026-01-01T00:00:00+00:00", "actions": [action()]}
    from_json = parse_plan(json.loads(json.dumps(doc)), now=NOW).unwrap()
    from_yaml = parse_plan(yaml.safe_load(yaml.safe_dump(doc)), now=NOW).unwrap()
    assert from_json == from_yaml


def test_missing_created_at_uses_now_and_naive_times_are_utc():
    assert parse_plan({"plan_id": "p", "actions": []}, now=NOW).unwrap().created_at == NOW
    plan = parse_plan(
        {"plan_id": "p", "created_at": "2026-02-03T04:05:06", "actions": []}, now=NOW
    ).unwrap()
    assert plan.created_at == datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_sizes_from_floats_keep_their_decimal_meaning():
    plan = parse_plan(
        {"plan_id": "p", "actions": [action(current_base_size=0.1, target_base_size=0.3)]},
        now=NOW,
    ).unwrap()
    assert plan.actions[0].target_base_size - plan.actions[0].current_base_size == Decimal("0.2")


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"current_base_size": "NaN"}, "actions[0].current_base_size"),
        ({"target_base_size": float("inf")}, "actions[0].target_base_size"),
        ({"target_base_size": -0.5}, "actions[0].target_base_size"),
        ({"target_base_size": True}, "actions[0].target_base_size"),
        ({"target_base_size": "1e999999999999"}, "actions[0].target_base_size"),
        ({"pair": ""}, "actions[0].pair"),
        ({"pair": "   "}, "actions[0].pair"),
        ({"pair": None}, "actions[0].pair"),
        ({"action_type": "buy"}, "actions[0].action_type"),
        ({"blocked": "no"}, "actions[0].blocked"),
        ({"block_reasons": "risk"}, "actions[0].block_reasons"),
        ({"userref": 2**31}, "actions[0].userref"),
        ({"userref": "7"}, "actions[0].userref"),
        ({"strategy_id": ""}, "actions[0].strategy_id"),
        ({"sizee": 1}, "actions[0].sizee"),
    ],
)
def test_bad_action_fields_are_errors_naming_the_action(overrides, path):
    assert path in problem_paths({"plan_id": "p", "actions": [action(**overrides)]})


def test_plan_level_problems():
    assert problem_paths({"actions": []}) == {"plan_id"}
    assert problem_paths({"plan_id": "p", "actions": "x"}) == {"actions"}
    assert problem_paths({"plan_id": "p", "actions": [], "when": 1}) == {"when"}
    assert problem_paths({"plan_id": "p", "created_at": "yesterday", "actions": []}) == {
        "created_at"
    }
    assert problem_paths("not a plan") == {"plan"}


def test_every_problem_of_every_action_is_reported():
    paths = problem_paths(
        {
            "plan_id": "p",
            "actions": [action(pair=""), action(), action(target_base_size="NaN", userref=1.5)],
        }
    )
    assert paths == {"actions[0].pair", "actions[2].target_base_size", "actions[2].userref"}


def test_a_plan_built_in_code_passes_the_same_rules_at_construction():
    good = ExecutionPlan(
        plan_id="p",
        created_at=NOW,
        actions=(
            RiskAdjustedAction(
                pair="XBTUSD",
                strategy_id="s",
                action_type=ActionType.OPEN,
                current_base_size=Decimal(0),
                target_base_size=Decimal(1),
            ),
        ),
    )
    assert is_successful(validate_plan(good))
    with pytest.raises(PlanValidationError) as refused:
        RiskAdjustedAction(
            pair="",
            strategy_id="s",
            action_type=ActionType.OPEN,
            current_base_size=Decimal("NaN"),
            target_base_size=Decimal(-1),
        )
    assert {p.path for p in refused.value.problems} == {
        "pair",
        "current_base_size",
        "target_base_size",
    }
    assert "RiskAdjustedAction: 3 problems" in str(refused.value)


@pytest.mark.parametrize("size", [0.1, 1.0, 0.30000000000000004])
def test_a_float_size_in_code_is_refused_with_the_exact_decimal_to_write(size):
    with pytest.raises(PlanValidationError) as refused:
        RiskAdjustedAction(
            pair="XBTUSD",
            strategy_id="s",
            action_type=ActionType.OPEN,
            current_base_size=Decimal(0),
            target_base_size=size,
        )
    (problem,) = refused.value.problems
    assert problem.path == "target_base_size"
    assert f"pass Decimal('{size!r}')" in problem.message
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize("size", ["0.1", None, [1], float("nan"), Decimal("1e16")])
def test_a_size_of_another_type_or_out_of_range_is_refused_in_code(size):
    with pytest.raises(PlanValidationError, match="current_base_size"):
        RiskAdjustedAction(
            pair="XBTUSD",
            strategy_id="s",
            action_type=ActionType.OPEN,
            current_base_size=size,
            target_base_size=Decimal(1),
        )


def test_a_plan_built_in_code_is_normalised_like_a_parsed_one():
    # The contract's spellings, accepted at run time: a value string for the enum,
    # an int size (exact), lists where the record keeps tuples.
    loose: dict[str, Any] = {
        "action_type": "increase",
        "current_base_size": 0,
        "block_reasons": [],
    }
    action_built = RiskAdjustedAction(
        pair=" XBTUSD ", strategy_id=" trend ", target_base_size=Decimal("0.2"), **loose
    )
    built = ExecutionPlan(
        plan_id=" p ",
        created_at=datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))),
        actions=cast("Any", [action_built]),
    )
    parsed = parse_plan(
        {"plan_id": "p", "actions": [action(current_base_size=0, strategy_id="trend")]}, now=NOW
    ).unwrap()
    assert built == parsed
    assert built.created_at.tzinfo is UTC
    assert isinstance(built.actions, tuple)
    assert built.actions[0].action_type is ActionType.INCREASE


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"created_at": datetime(2026, 1, 1)}, "created_at"),  # naive: which zone?
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"actions": [{"pair": "XBTUSD"}]}, "actions[0]"),
        ({"actions": "XBTUSD"}, "actions"),
        ({"plan_id": None}, "plan_id"),
    ],
)
def test_a_plan_built_in_code_with_a_bad_field_is_refused(fields, path):
    given = {"plan_id": "p", "created_at": NOW, "actions": ()} | fields
    with pytest.raises(PlanValidationError) as refused:
        ExecutionPlan(**given)
    assert [p.path for p in refused.value.problems] == [path]


def test_an_untagged_action_has_no_strategy():
    untagged = RiskAdjustedAction(
        pair="XBTUSD",
        strategy_id=None,
        action_type=ActionType.OPEN,
        current_base_size=Decimal(0),
        target_base_size=Decimal(1),
    )
    assert untagged.strategy_id is None
    doc = action(strategy_id=None, action_type="open", current_base_size="0", target_base_size="1")
    parsed = parse_plan({"plan_id": "p", "actions": [doc]}, now=NOW)
    assert parsed.unwrap().actions == (untagged,)


def test_validate_plan_still_refuses_a_plan_that_bypassed_its_constructors():
    good = RiskAdjustedAction(
        pair="XBTUSD",
        strategy_id="s",
        action_type=ActionType.OPEN,
        current_base_size=Decimal(0),
        target_base_size=Decimal(1),
    )
    plan = ExecutionPlan(plan_id="p", created_at=NOW, actions=(good,))
    object.__setattr__(good, "target_base_size", Decimal("NaN"))
    object.__setattr__(plan, "plan_id", "")
    failure = validate_plan(plan).failure()
    assert failure.plan_id is None
    assert [p.path for p in failure.problems] == ["plan_id", "actions[0].target_base_size"]


@given(st.one_of(st.floats(), st.text(), st.integers(), st.booleans(), st.none()))
def test_parse_size_accepts_only_finite_non_negative_numbers(value):
    size = parse_size(value)
    if size is not None:
        assert size.is_finite()
        assert size >= 0
        assert not isinstance(value, bool)
