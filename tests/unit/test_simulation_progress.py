"""A replay's progress: reported per plan, drawn as a rich bar for people only, plotted after."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from kraken_bot.cli import sim_commands
from kraken_bot.cli.sim_commands import ReplayBar, progress_wanted
from kraken_bot.simulation import runner as runner_module
from kraken_bot.simulation.records import PlanShortfall, ReplayProgress
from kraken_bot.simulation.runner import SimulationSettings, run_simulation

AT = datetime(2026, 1, 3, 12, 30, tzinfo=UTC)


def terminal() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=120), buffer


def feed(bar: ReplayBar, total: int, *done: int) -> None:
    with bar:
        for n in done:
            bar(ReplayProgress(plans_done=n, plans=total, at=AT))


def test_a_replay_reports_each_plan_and_the_virtual_time(tmp_path):
    seen: list[ReplayProgress] = []
    run_simulation(
        SimulationSettings(db_path=tmp_path / "sim.db", plans=3, faults="none"),
        progress=seen.append,
    )
    assert [p.plans_done for p in seen] == [0, 1, 2, 3]
    assert {p.plans for p in seen} == {3}
    assert [p.at for p in seen] == sorted(p.at for p in seen)
    # (the start measures Kraken's clock and reads pair data: a second or two of virtual time)
    assert (seen[-1].at - seen[0].at).total_seconds() >= 3 * 600 - 5


def test_the_bar_shows_plans_done_and_the_virtual_time_once_the_replay_is_slow():
    console, buffer = terminal()
    feed(ReplayBar(enabled=True, console=console, show_after=0.0), 4320, 0, 1200)
    shown = buffer.getvalue()
    assert "replaying" in shown
    assert "1200/4320" in shown
    assert "2026-01-03 12:30" in shown


@pytest.mark.parametrize(("enabled", "show_after"), [(True, 3600.0), (False, 0.0)])
def test_a_short_replay_or_a_script_gets_no_bar(enabled, show_after):
    console, buffer = terminal()
    feed(ReplayBar(enabled=enabled, console=console, show_after=show_after), 12, 0, 6, 12)
    assert buffer.getvalue() == ""


@pytest.mark.parametrize(
    ("as_json", "stdout_tty", "stderr_tty", "wanted"),
    [
        (False, True, True, True),
        (True, True, True, False),
        (False, False, True, False),
        (False, True, False, False),
    ],
)
def test_the_bar_is_wanted_only_by_a_person_at_a_terminal(
    monkeypatch, as_json, stdout_tty, stderr_tty, wanted
):
    monkeypatch.setattr(sim_commands, "out_console", Console(force_terminal=stdout_tty))
    monkeypatch.setattr(sim_commands, "err_console", Console(force_terminal=stderr_tty))
    assert progress_wanted(as_json=as_json) is wanted


def test_samples_for_plots_are_thinned_out_on_long_replays(tmp_path, monkeypatch):
    monkeypatch.setattr(runner_module, "_MAX_SAMPLES", 10)
    outcome = run_simulation(SimulationSettings(db_path=tmp_path / "s.db", plans=3, faults="none"))
    assert 10 <= len(outcome.samples) <= 12  # 180 steps, one in 18, plus the first
    times = [s.at for s in outcome.samples]
    assert times == sorted(times)


def test_the_plot_adds_a_shortfall_panel_when_plans_carry_shortfalls(tmp_path):
    pytest.importorskip("matplotlib")
    from kraken_bot.cli.plot import outcome_figure  # noqa: PLC0415 - needs the optional extra

    outcome = run_simulation(SimulationSettings(db_path=tmp_path / "p.db", plans=2, faults="none"))
    plain = outcome_figure(outcome)
    labels = [ax.get_ylabel() for ax in plain.axes]
    assert labels.count("position (base)") == len(outcome.pairs)
    assert "shortfall per plan (bps)" not in labels
    outcome.plan_shortfalls = {
        "limit at mid": [
            PlanShortfall(plan_id=r.plan_id, at=outcome.started_at, bps=1.5)
            for r in outcome.results
        ]
    }
    with_shortfall = outcome_figure(outcome)
    shortfall = [ax for ax in with_shortfall.axes if ax.get_ylabel() == "shortfall per plan (bps)"]
    assert len(shortfall) == 1
    assert [line.get_label() for line in shortfall[0].get_lines()][:1] == ["limit at mid"]
