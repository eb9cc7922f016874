"""The configuration parser: defaults, the live opt-in, and every problem reported at once."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from returns.pipeline import is_successful

from kraken_bot.config import (
    _EXECUTION_RULES,
    ExecutionConfig,
    ModeName,
    OrderTypeName,
    TimeInForceName,
    parse_app_config,
)
from kraken_bot.config_file import ConfigFileError, load_config
from kraken_bot.execution.core.models import ExecutionMode, OrderType, TimeInForce
from kraken_bot.execution.exceptions import ConfigValidationError, LiveTradingRefusedError
from kraken_bot.region import Tier

ROOT = Path(__file__).resolve().parents[3]


def parsed(raw: object, env: dict[str, str] | None = None):
    result = parse_app_config(raw, env=env or {})
    assert is_successful(result), str(result.failure())
    return result.unwrap()


def problems(raw: object, env: dict[str, str] | None = None) -> list[str]:
    result = parse_app_config(raw, env=env or {})
    assert not is_successful(result)
    return [str(p) for p in result.failure().problems]


def test_missing_config_means_paper_limit_50bps_validate_only():
    cfg = parsed(None).execution
    assert cfg.mode is ExecutionMode.PAPER
    assert cfg.default_order_type is OrderType.LIMIT
    assert cfg.max_slippage_bps == Decimal(50)
    assert cfg.validate_only is True
    assert cfg.allow_live_trading is False
    assert cfg.min_order_notional_usd == Decimal("20.0")
    assert cfg.sends_live_orders is False
    assert cfg.dead_man_switch_enabled is False


def test_every_contract_field_is_read():
    raw = {
        "execution": {
            "mode": "dry_run",
            "default_order_type": "market",
            "max_slippage_bps": 25,
            "time_in_force": "IOC",
            "post_only": False,
            "validate_only": True,
            "dead_man_switch_seconds": 60,
            "max_retries": 5,
            "retry_backoff_seconds": 0.5,
            "retry_backoff_factor": 3.0,
            "max_concurrent_orders": 4,
            "min_order_notional_usd": 10,
            "max_pair_notional_usd": 1000,
            "max_total_notional_usd": "2500.50",
        }
    }
    cfg = parsed(raw).execution
    assert cfg.mode is ExecutionMode.DRY_RUN
    assert cfg.default_order_type is OrderType.MARKET
    assert cfg.max_slippage_bps == Decimal(25)
    assert cfg.time_in_force is TimeInForce.IOC
    assert cfg.dead_man_switch_seconds == 60
    assert cfg.dead_man_refresh_period == 20
    assert (cfg.max_retries, cfg.retry_backoff_seconds, cfg.retry_backoff_factor) == (5, 0.5, 3.0)
    assert cfg.max_concurrent_orders == 4
    assert cfg.min_order_notional_usd == Decimal(10)
    assert cfg.max_pair_notional_usd == Decimal(1000)
    assert cfg.max_total_notional_usd == Decimal("2500.50")


@pytest.mark.parametrize(
    ("execution", "ok"),
    [
        ({"mode": "live"}, False),
        ({"mode": "live", "allow_live_trading": True}, False),
        ({"mode": "live", "validate_only": False}, False),
        ({"mode": "live", "allow_live_trading": True, "validate_only": True}, False),
        ({"mode": "live", "allow_live_trading": True, "validate_only": False}, True),
    ],
)
def test_live_mode_needs_all_three_opt_ins(execution, ok):
    result = parse_app_config({"execution": execution}, env={})
    assert is_successful(result) is ok
    if ok:
        assert result.unwrap().execution.sends_live_orders
        assert result.unwrap().execution.dead_man_switch_enabled
    else:
        assert any(p.path == "execution.mode" for p in result.failure().problems)


def test_the_contracts_own_sample_config_is_refused_without_the_opt_in():
    sample = {"execution": {"mode": "live", "validate_only": False}}
    assert any("allow_live_trading" in p for p in problems(sample))


def test_every_problem_is_reported_at_once_with_its_key_path():
    found = problems(
        {
            "execution": {"max_retries": "three", "mode": "turbo", "bogus": 1},
            "kraken": {"tier": "gold", "base_url": "ftp://x"},
            "storage": {"path": 7},
            "region": "EU",
            "extra": True,
        }
    )
    paths = [p.split(":")[0] for p in found]
    assert paths == sorted(paths)
    assert set(paths) == {
        "execution.max_retries",
        "execution.mode",
        "execution.bogus",
        "kraken.tier",
        "kraken.base_url",
        "storage.path",
        "region",
        "extra",
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_slippage_bps", -1),
        ("max_slippage_bps", "NaN"),
        ("max_retries", 21),
        ("max_retries", True),
        ("retry_backoff_factor", 0.5),
        ("max_concurrent_orders", 0),
        ("min_order_notional_usd", float("inf")),
        ("dead_man_switch_seconds", 86400),
        ("order_deadline_seconds", 61),
        ("post_only", "yes"),
        ("validate_only", 1),
    ],
)
def test_out_of_range_and_wrong_type_values_are_refused(key, value):
    found = problems({"execution": {key: value}})
    assert any(p.startswith(f"execution.{key}:") for p in found), found


def test_a_document_that_is_not_a_mapping_is_refused():
    assert problems(["a", "list"]) == ["(top level): expected a mapping, got ['a', 'list']"]


def test_dead_man_refresh_must_be_well_inside_the_timeout():
    found = problems({"execution": {"dead_man_switch_seconds": 60, "dead_man_refresh_seconds": 45}})
    assert any(p.startswith("execution.dead_man_refresh_seconds") for p in found)


def test_credentials_come_from_the_environment_not_the_file():
    env = {"KRAKEN_API_KEY": "k", "KRAKEN_API_SECRET": "c2VjcmV0", "KRAKEN_API_URL": "http://x/"}
    cfg = parsed({}, env).kraken
    assert cfg.has_credentials
    assert cfg.api_secret is not None
    assert cfg.api_secret.reveal() == "c2VjcmV0"
    assert cfg.base_url == "http://x"
    assert "c2VjcmV0" not in repr(cfg)
    found = problems({"kraken": {"api_secret": "c2VjcmV0"}})
    assert any("KRAKEN_API_SECRET" in p for p in found)
    assert not any("c2VjcmV0" in p for p in found)


def test_secrets_in_the_file_need_an_explicit_override():
    cfg = parsed(
        {"kraken": {"allow_secrets_in_file": True, "api_key": "k", "api_secret": "s"}}
    ).kraken
    assert cfg.has_credentials


def test_tier_and_strategy_userrefs():
    cfg = parsed({"kraken": {"tier": "pro"}, "strategies": {"trend": {"userref": 1001}}})
    assert cfg.kraken.tier is Tier.PRO
    assert cfg.strategies["trend"].userref == 1001
    assert any(
        p.startswith("strategies.trend.userref")
        for p in problems({"strategies": {"trend": {"userref": 2**31}}})
    )


def test_the_shipped_example_config_loads_cleanly():
    cfg = load_config(ROOT / "config.example.yaml", env={})
    assert cfg.execution.mode is ExecutionMode.PAPER


def test_load_config_reports_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigFileError, match="not found"):
        load_config(tmp_path / "nope.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("execution:\n  mode: [paper\n")
    with pytest.raises(ConfigFileError, match=r"not valid YAML at line \d+"):
        load_config(bad, env={})


def test_credentials_file_supplies_key_and_secret(tmp_path):
    creds = tmp_path / "creds"
    creds.write_text("# key then secret\nmy-key\nbXktc2VjcmV0\n")
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(f"kraken:\n  credentials_file: {creds}\n")
    cfg = load_config(cfg_file, env={})
    assert cfg.kraken.api_key is not None
    assert cfg.kraken.api_key.reveal() == "my-key"
    creds.write_text("only-one-line\n")
    with pytest.raises(ConfigFileError, match="two lines"):
        load_config(cfg_file, env={})


def test_default_config_is_used_when_no_file_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(None, env={}).execution.mode is ExecutionMode.PAPER
    (tmp_path / "config.yaml").write_text("execution:\n  mode: dry_run\n")
    assert load_config(None, env={}).execution.mode is ExecutionMode.DRY_RUN


# ---------------------------------------------------------------- ExecutionConfig built in code


def test_the_contracts_string_literals_are_converted_to_enums_and_exact_decimals():
    cfg = ExecutionConfig(
        mode="dry_run",
        default_order_type="market",
        time_in_force="IOC",
        max_slippage_bps=25,
        min_order_notional_usd=20.1,
        max_total_notional_usd="2500.50",
        retry_backoff_seconds=Decimal("0.5"),
    )
    assert cfg.mode is ExecutionMode.DRY_RUN
    assert cfg.default_order_type is OrderType.MARKET
    assert cfg.time_in_force is TimeInForce.IOC
    assert cfg.max_slippage_bps == Decimal(25)
    assert str(cfg.min_order_notional_usd) == "20.1"  # through str, not the binary float
    assert cfg.max_total_notional_usd == Decimal("2500.50")
    assert cfg.retry_backoff_seconds == 0.5
    assert isinstance(cfg.retry_backoff_seconds, float)
    assert cfg == ExecutionConfig(
        mode=ExecutionMode.DRY_RUN,
        default_order_type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        max_slippage_bps=Decimal(25),
        min_order_notional_usd=Decimal("20.1"),
        max_total_notional_usd=Decimal("2500.50"),
        retry_backoff_seconds=0.5,
    )


def test_the_literal_aliases_spell_exactly_the_enum_values():
    assert set(get_args(ModeName)) == {m.value for m in ExecutionMode}
    assert set(get_args(OrderTypeName)) == {t.value for t in OrderType}
    assert set(get_args(TimeInForceName)) == {t.value for t in TimeInForce}


def test_live_as_a_string_is_refused_without_the_opt_ins_and_live_with_them():
    with pytest.raises(LiveTradingRefusedError, match="allow_live_trading"):
        ExecutionConfig(mode="live")
    live = ExecutionConfig(mode="live", allow_live_trading=True, validate_only=False)
    assert live.mode is ExecutionMode.LIVE
    assert live.sends_live_orders


def test_one_error_lists_every_problem_with_its_key_path():
    wrong: dict[str, Any] = {"mode": "turbo", "post_only": "yes"}
    with pytest.raises(ConfigValidationError) as refused:
        ExecutionConfig(max_retries=-1, max_slippage_bps="NaN", **wrong)
    paths = [p.path for p in refused.value.problems]
    assert paths == sorted(paths)
    assert set(paths) == {
        "execution.mode",
        "execution.max_retries",
        "execution.post_only",
        "execution.max_slippage_bps",
    }
    assert str(refused.value).startswith("ExecutionConfig: 4 problems\n")
    assert not isinstance(refused.value, LiveTradingRefusedError)


def test_live_refused_among_other_problems_is_still_live_trading_refused():
    with pytest.raises(LiveTradingRefusedError) as refused:
        ExecutionConfig(mode="live", max_retries=99)
    assert {p.path for p in refused.value.problems} == {"execution.mode", "execution.max_retries"}


def test_replace_checks_again():
    with pytest.raises(ConfigValidationError, match="max_concurrent_orders"):
        replace(ExecutionConfig(), max_concurrent_orders=0)
    with pytest.raises(LiveTradingRefusedError):
        replace(ExecutionConfig(), mode=ExecutionMode.LIVE)


VALUES = [
    ("mode", "dry_run"),
    ("mode", "DRY_RUN"),
    ("mode", 3),
    ("default_order_type", "stop"),
    ("time_in_force", "gtc"),
    ("max_slippage_bps", 5001),
    ("max_slippage_bps", "12.5"),
    ("max_retries", 2.0),
    ("max_retries", "3"),
    ("retry_backoff_seconds", "0.25"),
    ("retry_backoff_factor", 0.99),
    ("validate_only", "false"),
    ("min_order_notional_usd", float("nan")),
    ("max_pair_notional_usd", -5),
    ("dead_man_refresh_seconds", 0.5),
    ("gtd_expire_seconds", 4),
    ("recent_executions_buffer", 100_001),
]


def built_in_code(values: dict[str, Any]) -> ExecutionConfig | ConfigValidationError:
    try:
        return ExecutionConfig(**values)
    except ConfigValidationError as error:
        return error


def verdicts(section: dict[str, Any]) -> tuple[object, object]:
    """(the file's verdict, the constructor's): the problems, or the config accepted."""
    from_file = parse_app_config({"execution": section}, env={})
    from_code = built_in_code({k: v for k, v in section.items() if v is not None})
    file_verdict = from_file.map(lambda c: c.execution).value_or(None) or tuple(
        from_file.failure().problems
    )
    code_verdict = (
        tuple(from_code.problems) if isinstance(from_code, ConfigValidationError) else from_code
    )
    return file_verdict, code_verdict


@pytest.mark.parametrize(("key", "value"), VALUES)
def test_code_and_a_config_file_accept_and_refuse_the_same_values(key, value):
    """One set of rules: the parser reads the section through the constructor."""
    from_file, from_code = verdicts({key: value})
    assert from_file == from_code


@given(
    st.dictionaries(
        st.sampled_from(sorted(_EXECUTION_RULES)),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-5, 200),
            st.floats(allow_nan=True),
            st.sampled_from(["live", "paper", "dry_run", "limit", "market", "GTD", "7", "x"]),
        ),
        max_size=6,
    )
)
def test_any_execution_section_gets_the_same_verdict_from_code_and_from_a_file(section):
    from_file, from_code = verdicts(section)  # a null in a file keeps the default
    assert from_file == from_code


@pytest.mark.parametrize("mode", ["paper", "dry_run"])
def test_validate_only_false_is_refused_outside_live_mode_as_the_example_config_says(mode):
    found = problems({"execution": {"mode": mode, "validate_only": False}})
    assert len(found) == 1
    assert found[0].startswith("execution.validate_only: false is accepted only in live mode")
    with pytest.raises(ConfigValidationError, match="validate_only"):
        ExecutionConfig(mode=mode, validate_only=False)
    example = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    assert "false is accepted only in live mode with allow_live_trading" in example


def test_a_file_asking_for_live_without_the_opt_ins_raises_the_same_error_as_code(tmp_path):
    path = tmp_path / "live.yaml"
    path.write_text("execution:\n  mode: live\n  max_retries: 50\n")
    with pytest.raises(LiveTradingRefusedError) as from_file:
        load_config(path, env={})
    with pytest.raises(LiveTradingRefusedError) as from_code:
        ExecutionConfig(mode="live", max_retries=50)
    assert from_file.value.problems == from_code.value.problems
    assert from_file.value.source == str(path)
    assert str(from_file.value).startswith(f"{path}: 2 problems")
    path.write_text("execution:\n  max_retries: 50\n")
    with pytest.raises(ConfigFileError) as invalid:
        load_config(path, env={})
    assert isinstance(invalid.value, ConfigValidationError)
    assert [p.path for p in invalid.value.problems] == ["execution.max_retries"]


def test_every_field_has_exactly_one_rule_and_one_constructor_parameter():
    fields = {f.name for f in dataclasses.fields(ExecutionConfig)}
    parameters = set(inspect.signature(ExecutionConfig).parameters)
    assert fields == set(_EXECUTION_RULES) == parameters
    defaults = ExecutionConfig()
    assert all(hasattr(defaults, name) for name in fields)


def test_the_dead_man_refresh_period_is_the_setting_or_derived_from_the_timeout():
    assert ExecutionConfig(dead_man_refresh_seconds=30).dead_man_refresh_period == 30.0
    assert ExecutionConfig(dead_man_switch_seconds=60).dead_man_refresh_period == 20.0
    assert ExecutionConfig().dead_man_refresh_period == 20.0  # Kraken: 60 s, every 15-30 s
    assert ExecutionConfig(dead_man_switch_seconds=600).dead_man_refresh_period == 120.0
