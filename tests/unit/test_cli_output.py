"""Text from plans, configs and the exchange is escaped before it reaches a terminal.

One function does it (`kraken_bot.cli.output.terminal_safe`); every rich print
and table path of the CLI goes through it. Each test feeds hostile text
(a right-to-left override, an ANSI escape sequence, rich markup, isolates) into
one path and checks that none of it arrives raw.
"""

from __future__ import annotations

import ast
import logging
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from tests.builders import NOW, an_order

from kraken_bot.cli import errors, logs, output, sim_report
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.output import terminal_safe
from kraken_bot.config import AppConfig, KrakenConfig, StorageConfig
from kraken_bot.execution.core.models import (
    ActionSkip,
    ExecutionMode,
    ExecutionResult,
    OrderStatus,
    SkipReason,
)
from kraken_bot.simulation.invariants import Violation, ViolationKind
from kraken_bot.simulation.summary import FaultOutcome, PairFigures, SimulationSummary

CLI = Path(output.__file__).parent
HOSTILE = "evil\u202elanp\x1b[31m[bold red]x[/bold red]\u2066\u200f\x07\x9b"
RAW = ("\u202e", "\x1b", "\u2066", "\u200f", "\x07", "\x9b")


def assert_escaped(text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the terminal raw: {text!r}"
    assert "\\u202e" in text
    assert "\\x1b" in text
    assert "[bold red]x" in text  # markup printed as text, not applied


# ---------------------------------------------------------------- the one function


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("XBTUSD", "XBTUSD"),
        ("plan\u202e1", "plan\\u202e1"),
        ("\x1b[2J", "\\x1b[2J"),
        ("\x00\x7f\x85", "\\x00\\x7f\\x85"),
        ("a\tb\rc\nd", "a\\tb\\rc\\nd"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028sep", "line\\u2028sep"),
        ("private\U000f0000", "private\\U000f0000"),
        ("surrogate\ud800", "surrogate\\ud800"),
        ("[red]x[/red]", "\\[red]x\\[/red]"),
        ("caf\u00e9 \u00a0 \U0001f680 \u4e2d", "caf\u00e9 \u00a0 \U0001f680 \u4e2d"),
    ],
)
def test_unprintable_characters_become_escapes_and_markup_is_neutralised(text, shown):
    assert terminal_safe(text) == shown


def test_newlines_can_be_kept_for_multi_line_listings():
    assert terminal_safe("a\n\u202eb", keep_newlines=True) == "a\n\\u202eb"
    assert terminal_safe(7) == "7"


def nodes(path: Path) -> list[ast.AST]:
    return list(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def test_rich_markup_escaping_happens_only_inside_the_one_function():
    users = [
        path.name
        for path in sorted(CLI.glob("*.py"))
        for node in nodes(path)
        if isinstance(node, ast.ImportFrom) and node.module == "rich.markup"
    ]
    assert users == ["output.py"]


def test_no_print_turns_markup_off_to_print_raw_text():
    """``markup=False`` would print text as is: everything goes through terminal_safe instead."""
    switches = [
        (path.name, ast.literal_eval(node.value))
        for path in sorted(CLI.glob("*.py"))
        for node in nodes(path)
        if isinstance(node, ast.keyword) and node.arg == "markup"
    ]
    assert all(value is True for _, value in switches), switches


# ---------------------------------------------------------------- every print path


def hostile_order(**overrides):
    return an_order(
        local_id=HOSTILE,
        pair=HOSTILE,
        kraken_order_id=HOSTILE,
        status=OrderStatus.REJECTED,
        last_error=HOSTILE,
        **overrides,
    )


def hostile_result() -> ExecutionResult:
    skip = ActionSkip(
        action_index=0,
        pair=HOSTILE,
        strategy_id=None,
        reason=SkipReason.UNKNOWN_PAIR,
        message=HOSTILE,
    )
    return ExecutionResult(
        plan_id=HOSTILE,
        started_at=NOW,
        completed_at=NOW,
        success=False,
        orders=(hostile_order(),),
        errors=(HOSTILE,),
        mode=ExecutionMode.PAPER,
        skipped=(skip,),
    )


def test_a_result_its_orders_skips_and_errors_are_escaped(capsys):
    output.print_result(hostile_result())
    output.print_order_errors(hostile_result().orders)
    printed = capsys.readouterr().out
    assert_escaped(printed)
    assert printed.count("\\u202e") >= 7  # plan id, order cells, skip, errors


def test_the_orders_and_executions_tables_are_escaped(capsys):
    output.show(output.orders_table([hostile_order()], "orders"))
    output.show(output.execution_table([hostile_result()]))
    assert_escaped(capsys.readouterr().out)


def test_the_banner_escapes_the_url_and_the_database_path(capsys):
    config = AppConfig(
        kraken=KrakenConfig(base_url="http://x/" + HOSTILE),
        storage=StorageConfig(path=HOSTILE),
    )
    output.print_banner(config, to_stderr=False)
    assert_escaped(capsys.readouterr().out)


def test_an_error_message_and_its_listing_are_escaped(capsys, monkeypatch):
    monkeypatch.setattr(errors.settings, "debug", True)
    error = errors.CliError(f"{HOSTILE}\n  second line {HOSTILE}", ExitCode.USAGE)
    errors.report(error, as_json=False)
    printed = capsys.readouterr().err
    assert_escaped(printed)
    assert "second line" in printed
    assert "kraken_bot.cli.errors.CliError: evil" in printed  # --debug's listing, escaped too


def test_a_simulation_summary_is_escaped(capsys, tmp_path):
    violation = Violation(kind=ViolationKind.LOST, local_id=None, txids=(HOSTILE,), detail=HOSTILE)
    summary = SimulationSummary(
        scenario=HOSTILE,
        seed=1,
        fault_profile=HOSTILE,
        tier=HOSTILE,
        plans=1,
        plans_failed=0,
        virtual_seconds=60.0,
        orders_by_status={HOSTILE: 1},
        pairs=(PairFigures(pair=HOSTILE, orders=1, requested=Decimal(1), filled=Decimal(1)),),
        fill_ratio=1.0,
        slippage_bps=0.0,
        fees=Decimal(0),
        sends=1,
        retries=0,
        lookups=0,
        rate_limit_waits=0,
        rate_limit_wait_seconds=0.0,
        faults={HOSTILE: 1},
        fault_outcomes=(
            FaultOutcome(
                endpoint=HOSTILE,
                kind=HOSTILE,
                phase=None,
                took_effect=False,
                local_id=None,
                final_status=HOSTILE,
            ),
        ),
        duplicates=0,
        lost=1,
        invariant_violations=(violation,),
        reconcile_errors=(HOSTILE,),
        db_path=tmp_path / HOSTILE,
        wall_seconds=0.1,
    )
    sim_report.print_summary(summary, log_counts={}, plot=tmp_path / HOSTILE)
    printed = capsys.readouterr().out
    assert_escaped(printed)
    assert printed.count("\\u202e") >= 10


def test_log_messages_are_escaped(capsys):
    logs.configure_logging(verbose=True, debug=False)
    try:
        logging.getLogger("kraken_bot.test").warning("Kraken said %s", HOSTILE)
    finally:
        logs.detach_logging()
    assert_escaped(capsys.readouterr().err)


def test_an_order_from_the_database_is_escaped_like_any_other(capsys):
    order = replace(hostile_order(), status=OrderStatus.OPEN)
    output.show(output.orders_table([order], "open orders"))
    assert_escaped(capsys.readouterr().out)
