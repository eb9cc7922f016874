"""Edge cases of the pure foundation modules: every refusal path returns a clear value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from returns.pipeline import is_successful
from tests.builders import an_order

from kraken_bot._problems import ConfigProblem
from kraken_bot.config import ConfigError, ExecutionConfig, parse_app_config
from kraken_bot.execution.core.codec import order_from_json, order_to_json
from kraken_bot.execution.core.models import OrderType
from kraken_bot.execution.exceptions import ConfigValidationError, PlanValidationError
from kraken_bot.kraken.pairs import UnknownPair, parse_asset_pairs
from kraken_bot.kraken.prices import parse_ticker
from kraken_bot.kraken.ratelimit import LimiterState, limits_for
from kraken_bot.kraken.types import (
    parse_dead_man_switch,
    parse_ohlc,
    parse_open_orders,
    parse_order_info,
    parse_server_time,
    parse_timestamp,
)
from kraken_bot.region import Tier
from kraken_bot.secret import Secret
from kraken_bot.strategy.plan import (
    ActionType,
    ExecutionPlan,
    RiskAdjustedAction,
    parse_plan,
    parse_timestamp_utc,
    validate_plan,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def problems(raw: object) -> list[str]:
    result = parse_app_config(raw, env={})
    assert not is_successful(result)
    return [str(p) for p in result.failure().problems]


def test_post_only_with_market_orders_is_refused_at_construction():
    with pytest.raises(ConfigValidationError) as refused:
        ExecutionConfig(post_only=True, default_order_type=OrderType.MARKET)
    assert [p.path for p in refused.value.problems] == ["execution.post_only"]
    assert ExecutionConfig(post_only=True).problems() == ()


def test_config_error_text_lists_every_problem_and_counts_them():
    one = ConfigError("c.yaml", (ConfigProblem("a", "bad"),))
    two = ConfigError("c.yaml", (ConfigProblem("a", "bad"), ConfigProblem("b", "worse")))
    assert str(one) == "c.yaml: 1 problem\n  a: bad"
    assert str(two) == "c.yaml: 2 problems\n  a: bad\n  b: worse"


@pytest.mark.parametrize("value", [-1, "lots", [1], {"a": 1}])
def test_optional_caps_refuse_negative_and_non_numbers(value):
    assert any(
        p.startswith("execution.max_pair_notional_usd")
        for p in problems({"execution": {"max_pair_notional_usd": value}})
    )


def test_region_may_be_a_mapping_with_a_code():
    assert is_successful(parse_app_config({"region": {"code": "US_CA"}}, env={}))
    assert any(p.startswith("region") for p in problems({"region": {"code": "EU"}}))


@pytest.mark.parametrize("value", [1e30, -5, "0", None, "nan"])
def test_timestamps_out_of_range_or_empty_are_none(value):
    assert parse_timestamp(value) is None


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), ("0", None), ("x", None), (1.5, None)])
def test_order_userref_accepts_digit_strings_and_drops_zero_and_junk(raw, expected):
    info = {"status": "open", "vol": "1", "vol_exec": "0", "userref": raw, "descr": "junk"}
    assert parse_order_info("O1", info).unwrap().userref == expected


def test_an_order_info_that_executed_more_than_its_volume_is_a_shape_error():
    """A LocalOrder cannot hold such a fill: the answer is refused where it enters."""
    info = {"status": "closed", "vol": "1", "vol_exec": "1.00000001", "descr": {"pair": "XBTUSD"}}
    result = parse_order_info("O1", info)
    assert "vol_exec above vol" in str(result.failure())
    assert is_successful(parse_order_info("O1", info | {"vol_exec": "1"}))


@pytest.mark.parametrize(
    "parse",
    [
        lambda r: parse_order_info("O1", r),
        parse_server_time,
        parse_ohlc,
        parse_dead_man_switch,
        parse_open_orders,
        parse_asset_pairs,
        lambda r: parse_ticker(r, read_at=NOW),
    ],
)
def test_results_that_are_not_objects_are_failures(parse):
    assert not is_successful(parse(["not", "an", "object"]))


@pytest.mark.parametrize("bad", [["x", "2", "0.5", "1.5", "1.2", "10"], ["1"] * 6])
def test_an_ohlc_row_with_a_bad_price_fails_the_whole_series(bad):
    row = [1688671200, *bad, 3]
    if bad == ["1"] * 6:
        row[-1] = "many"
    assert not is_successful(parse_ohlc({"XXBTZUSD": [row], "last": 1}))


def test_an_ohlc_row_with_a_bad_count_fails_the_whole_series():
    series = parse_ohlc(
        {
            "XXBTZUSD": [
                [1688671200, "1", "2", "0.5", "1.5", "1.2", "10", 3],
                [1688671260, "1", "2", "0.5", "1.5", "1.2", "10", "many"],
            ],
            "last": 1688671200,
        }
    )
    assert "row 1" in str(series.failure())


def test_asset_pairs_skips_annotation_keys_and_unknown_pairs_explain_themselves():
    assert parse_asset_pairs({"_comment": "a note"}).unwrap().pairs == {}
    assert str(UnknownPair("DOGEEUR")) == "unknown pair 'DOGEEUR'"


def test_secrets_hash_by_value():
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2


def test_plan_timestamps_accept_datetimes_and_refuse_other_types():
    naive = datetime(2026, 1, 2, 3)
    assert parse_timestamp_utc(naive) == naive.replace(tzinfo=UTC)
    assert parse_timestamp_utc(12345) is None


def test_plan_actions_must_be_mappings_and_null_block_reasons_mean_none():
    raw = {
        "plan_id": "p",
        "actions": [
            "buy everything",
            {
                "pair": "XBTUSD",
                "strategy_id": "s",
                "action_type": "open",
                "current_base_size": 0,
                "target_base_size": 1,
                "block_reasons": None,
            },
        ],
    }
    failure = parse_plan(raw, now=NOW).failure()
    assert [p.path for p in failure.problems] == ["actions[0]"]


def test_a_plan_built_in_code_refuses_an_empty_plan_id_and_a_wide_userref():
    fields: dict[str, Any] = {
        "pair": "XBTUSD",
        "strategy_id": "s",
        "action_type": ActionType.OPEN,
        "current_base_size": Decimal(0),
        "target_base_size": Decimal(1),
    }
    with pytest.raises(PlanValidationError) as refused:
        RiskAdjustedAction(**fields, userref=2**40)
    assert [p.path for p in refused.value.problems] == ["userref"]
    with pytest.raises(PlanValidationError) as refused:
        ExecutionPlan(plan_id=" ", created_at=NOW, actions=(RiskAdjustedAction(**fields),))
    assert [p.path for p in refused.value.problems] == ["plan_id"]
    plan = ExecutionPlan(plan_id=" p ", created_at=NOW, actions=(RiskAdjustedAction(**fields),))
    assert plan.plan_id == "p"
    assert validate_plan(plan).unwrap() is plan


def test_codec_refuses_an_enum_that_is_not_a_string():
    encoded = dict(order_to_json(an_order()))
    encoded["status"] = 5
    assert not is_successful(order_from_json(encoded))


def test_cancel_charges_nothing_for_old_orders_and_the_worst_for_unknown_ones():
    limits = limits_for(Tier.STARTER)
    state = LimiterState().remember_orders(
        ["O1"], pair="XXBTZUSD", userref=None, cl_ord_id=None, now=0.0
    )
    old = state.plan("CancelOrder", {"txid": "O1"}, now=1000.0)
    assert old.trading == ()
    unknown = state.plan("CancelOrder", {}, now=1.0, pair_hint="XBTUSD")
    assert unknown.trading == (("XBTUSD", 8.0),)
    assert state.delay(unknown, limits, now=1.0) == 0.0
