"""Text that is not valid Unicode (lone surrogates) is refused where it enters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from returns.pipeline import is_successful

from kraken_bot.execution.exceptions import PlanValidationError
from kraken_bot.kraken.types import parse_order_info
from kraken_bot.strategy.plan import (
    ActionType,
    ExecutionPlan,
    RiskAdjustedAction,
    parse_plan,
    validate_plan,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LONE = chr(0xD800)  # a lone surrogate: valid in a Python str and in JSON escapes, not in UTF-8


def action_doc(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "pair": "XBTUSD",
        "strategy_id": "s",
        "action_type": "open",
        "current_base_size": "0",
        "target_base_size": "1",
    }
    doc.update(overrides)
    return doc


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({"plan_id": "p" + LONE, "actions": []}, "plan_id"),
        ({"plan_id": "p", "actions": [action_doc(pair="XBT" + LONE)]}, "actions[0].pair"),
        (
            {"plan_id": "p", "actions": [action_doc(block_reasons=["risk" + LONE])]},
            "actions[0].block_reasons[0]",
        ),
    ],
)
def test_parse_plan_refuses_text_that_is_not_valid_unicode(doc, path):
    failure = parse_plan(doc, now=NOW).failure()
    assert any(p.path == path and "not valid Unicode" in p.message for p in failure.problems)


def test_a_plan_built_in_code_refuses_text_that_is_not_valid_unicode():
    fields: dict[str, Any] = {
        "pair": "XBTUSD",
        "strategy_id": "s",
        "action_type": ActionType.OPEN,
        "current_base_size": Decimal(0),
        "target_base_size": Decimal(1),
    }
    action = RiskAdjustedAction(**fields)
    with pytest.raises(PlanValidationError) as refused:
        ExecutionPlan(plan_id="p" + LONE, created_at=NOW, actions=())
    assert [p.path for p in refused.value.problems] == ["plan_id"]
    with pytest.raises(PlanValidationError) as refused:
        replace(action, strategy_id="s" + LONE)
    assert [p.path for p in refused.value.problems] == ["strategy_id"]
    with pytest.raises(PlanValidationError) as refused:
        RiskAdjustedAction(**fields, blocked=True, block_reasons=("ok", "risk" + LONE))
    assert [p.path for p in refused.value.problems] == ["block_reasons[1]"]
    assert is_successful(
        validate_plan(ExecutionPlan(plan_id="p", created_at=NOW, actions=(action,)))
    )


def test_an_order_info_with_text_that_is_not_valid_unicode_is_a_shape_error():
    info = {"status": "open", "vol": "1", "vol_exec": "0", "descr": {"pair": "XBT" + LONE}}
    result = parse_order_info("O1", info)
    assert not is_successful(result)
    assert "not valid Unicode" in str(result.failure())
