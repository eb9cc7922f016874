"""`krakked sim`: the replay, through typer's runner and through a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kraken_bot.cli import app
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.simulation import runner as runner_module
from kraken_bot.simulation.invariants import Violation, ViolationKind

REQUIRED_KEYS = {
    "plans",
    "orders_by_status",
    "duplicates",
    "lost",
    "invariant_violations",
    "db_path",
}
FIGURES = {"fill_ratio", "slippage_bps", "fees", "retries", "rate_limit_waits", "faults"}


@pytest.fixture
def clean_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sim(*args: str):
    return CliRunner().invoke(app, ["sim", *args])


def comparable(output: str) -> dict[str, object]:
    summary = json.loads(output)
    return {k: v for k, v in summary.items() if k not in {"db_path", "wall_seconds"}}


def test_sim_without_arguments_replays_the_default_scenario_and_writes_the_database(clean_cwd):
    result = sim()
    assert result.exit_code == 0, result.output
    assert (clean_cwd / "krakked-sim.db").is_file()
    assert "scenario default, seed 7, faults light" in result.stdout
    assert "invariants hold" in result.stdout
    assert f"database: {clean_cwd / 'krakked-sim.db'}" in result.stdout
    assert "Traceback" not in result.output


def test_sim_json_has_the_documented_keys(clean_cwd):
    result = sim("--json", "--plans", "3")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) >= REQUIRED_KEYS | FIGURES
    assert summary["plans"] == 3
    assert summary["duplicates"] == summary["lost"] == 0
    assert summary["invariant_violations"] == []
    assert summary["db_path"] == str(clean_cwd / "krakked-sim.db")
    assert sum(summary["orders_by_status"].values()) == summary["orders"]


def test_the_same_seed_gives_the_same_summary_and_another_seed_does_not(clean_cwd):
    first = sim("--json", "--seed", "11", "--db", "a.db")
    second = sim("--json", "--seed", "11", "--db", "b.db")
    other = sim("--json", "--seed", "12", "--db", "c.db")
    assert comparable(first.stdout) == comparable(second.stdout)
    assert comparable(first.stdout) != comparable(other.stdout)


def test_options_choose_faults_plans_and_database(clean_cwd):
    result = sim("--faults", "none", "--plans", "2", "--db", "runs/x.db", "--json")
    assert result.exit_code == ExitCode.DATABASE, result.output  # the folder does not exist
    (clean_cwd / "runs").mkdir()
    result = sim("--faults", "none", "--plans", "2", "--db", "runs/x.db", "--json")
    summary = json.loads(result.stdout)
    assert summary["faults"] == {}
    assert summary["fault_profile"] == "none"
    assert (clean_cwd / "runs" / "x.db").is_file()


def test_a_fault_file_and_a_scenario_file_are_accepted(clean_cwd):
    faults = clean_cwd / "busy.yaml"
    faults.write_text("schedule:\n  - {kind: busy, endpoint: AddOrder, call: 1}\n")
    scenario = Path(runner_module.__file__).resolve().parents[3] / "fixtures/scenarios/default.yaml"
    result = sim("run", str(scenario), "--faults", str(faults), "--plans", "1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["faults"] == {"busy": 1}


def test_a_broken_invariant_exits_failed_and_names_it(clean_cwd, monkeypatch):
    broken = Violation(kind=ViolationKind.LOST, local_id=None, txids=("OX",), detail="lost one")

    def check(*args, **kwargs):
        return [broken]

    monkeypatch.setattr(runner_module, "check_invariants", check)
    result = sim("--plans", "1")
    assert result.exit_code == ExitCode.FAILED
    assert "INVARIANTS BROKEN" in result.stdout
    assert "lost one" in result.stdout
    as_json = sim("--plans", "1", "--json")
    assert as_json.exit_code == ExitCode.FAILED
    assert json.loads(as_json.stdout)["lost"] == 1


def test_bad_sim_options_are_usage_errors(clean_cwd):
    assert sim("--faults", "sometimes").exit_code == ExitCode.USAGE
    assert sim("missing-scenario.yaml").exit_code == ExitCode.USAGE
    broken = clean_cwd / "broken.yaml"
    broken.write_text("pairs: 7\n")
    result = sim(str(broken))
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("error: bad scenario:")


def test_plot_without_matplotlib_says_how_to_install_it(clean_cwd, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = sim("--plot", "run.png")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.strip() == (
        "error: --plot needs matplotlib, the optional extra: python3 -m pip install 'krakked[plot]'"
    )
    assert not (clean_cwd / "krakked-sim.db").exists()


def test_plot_writes_a_png_with_matplotlib(clean_cwd):
    pytest.importorskip("matplotlib")
    result = sim("--plot", "run.png", "--plans", "2")
    assert result.exit_code == 0, result.output
    assert (clean_cwd / "run.png").read_bytes().startswith(b"\x89PNG")


def test_sim_help_lists_the_replay_options_and_serve(clean_cwd):
    group = sim("--help")
    assert "serve" in group.stdout
    assert "run" in group.stdout
    replay = sim("run", "--help")
    for option in ("--seed", "--faults", "--db", "--json", "--plot", "--plans"):
        assert option in replay.stdout


@pytest.mark.subprocess
def test_python_m_kraken_bot_cli_sim_runs_from_a_clean_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    completed = subprocess.run(
        [sys.executable, "-m", "kraken_bot.cli", "sim"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "krakked-sim.db").is_file()
    assert "invariants hold" in completed.stdout
    assert completed.stderr == ""


@pytest.mark.subprocess
def test_the_krakked_console_script_runs_sim_json(tmp_path):
    script = Path(sys.executable).with_name("krakked")
    if not script.exists():
        pytest.skip("the krakked console script is not installed next to this interpreter")
    completed = subprocess.run(
        [str(script), "sim", "--json", "--plans", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert set(json.loads(completed.stdout)) >= REQUIRED_KEYS


SAMPLE_PRICES = Path(runner_module.__file__).resolve().parents[3] / "fixtures/prices/XBTUSD_60.csv"


def test_days_and_every_set_how_many_plans_and_how_far_apart(clean_cwd):
    result = sim("--days", "0.1", "--every", "30m", "--faults", "none", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["plans"] == 5  # 0.1 day = 144 minutes: 4.8 intervals of 30, rounded up
    assert summary["plan_interval_seconds"] == 1800
    assert summary["virtual_seconds"] >= 5 * 1800


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--plans", "3", "--days", "1"), "give --plans or --days, not both"),
        (("--every", "soon"), "'soon' is not a duration like 10m"),
        (("--every", "0s"), "must be longer than zero"),
        (("--days", "-1"), "must be more than zero days"),
        (("--days", "400", "--every", "1m"), "576000 plans: at most 100000"),
    ],
)
def test_bad_replay_lengths_are_usage_errors(clean_cwd, args, message):
    result = sim(*args)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.output
    assert not (clean_cwd / "krakked-sim.db").exists()


def test_a_price_file_replays_its_pair_over_its_span(clean_cwd):
    result = sim("--prices", str(SAMPLE_PRICES), "--every", "2h", "--faults", "none", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["plans"] == 24  # 49 hours of bars (one missing) at one plan every 2 hours
    assert list(summary["pairs"]) == ["XBTUSD"]
    assert summary["prices"] == [
        {
            "pair": "XBTUSD",
            "file": "XBTUSD_60.csv",
            "rows": 48,
            "interval_seconds": 3600.0,
            "from": "2024-03-01T00:00:00+00:00",
            "to": "2024-03-03T01:00:00+00:00",
        }
    ]
    assert summary["invariant_violations"] == []
    again = sim("--prices", str(SAMPLE_PRICES), "--every", "2h", "--faults", "none", "--json")
    assert comparable(again.stdout) == comparable(result.stdout)


def test_a_replay_longer_than_its_price_files_says_so(clean_cwd):
    result = sim("--prices", f"XBTUSD={SAMPLE_PRICES}", "--days", "3", "--every", "6h")
    assert result.exit_code == 0, result.output
    assert "prices: XBTUSD from XBTUSD_60.csv, 48 bars of 1h, 2024-03-01 00:00 to" in result.stdout
    assert "prices held at the last close" in result.stdout


def test_a_malformed_price_file_is_a_usage_error_naming_the_line(clean_cwd):
    bad = clean_cwd / "XBTUSD_60.csv"
    bad.write_text("1709251200,62000.0,62100.0,61900.0,62050.0,1,2\n1709254800,1,2,3\n")
    result = sim("--prices", str(bad))
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(f"error: bad price file: {bad}:2: 4 columns; expected 7")
    as_json = sim("--prices", str(bad), "--json")
    assert as_json.exit_code == ExitCode.USAGE
    assert f"{bad}:2:" in as_json.output
    unknown = sim("--prices", f"DOGEUSD={SAMPLE_PRICES}")
    assert unknown.exit_code == ExitCode.USAGE
    assert "pair DOGEUSD is not in the AssetPairs snapshot" in unknown.stderr


@pytest.mark.subprocess
def test_the_krakked_command_replays_the_sample_ohlcvt_file_end_to_end(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "kraken_bot.cli",
            "sim",
            "--prices",
            str(SAMPLE_PRICES),
            "--every",
            "1h",
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["plans"] == 49
    assert summary["ok"] is True
    assert summary["prices"][0]["rows"] == 48
    assert summary["orders"] > 0
    assert summary["pairs"]["XBTUSD"]["fill_ratio"] > 0
    assert completed.stderr == ""


def test_price_files_without_a_usd_pair_are_a_usage_error(clean_cwd):
    cross = clean_cwd / "cross.csv"
    cross.write_text("1709251200,ETHXBT,0.05\n1709254800,ETHXBT,0.051\n")
    result = sim("--prices", str(cross))
    assert result.exit_code == ExitCode.USAGE
    assert "no USD-quoted pair to trade among XETHXXBT (from the price files)" in result.stderr


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_month_of_plans_keeps_every_invariant(tmp_path):
    """`krakked sim --days 30`: 4,320 plans, checked against the exchange (nox -s chaos)."""
    completed = subprocess.run(
        [sys.executable, "-m", "kraken_bot.cli", "sim", "--days", "30", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert (summary["plans"], summary["ok"]) == (4320, True)
    assert summary["duplicates"] == summary["lost"] == 0
    assert summary["invariant_violations"] == []
    assert summary["virtual_seconds"] >= 30 * 86400


def test_compare_runs_each_routing_on_the_same_replay_and_prints_one_table(clean_cwd):
    result = sim("--compare", "contract,maker_first", "--plans", "4", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    rows = {row["routing"]: row for row in report["compare"]}
    assert set(rows) == {"contract", "maker_first"}
    for row in rows.values():
        assert set(row) >= {
            "shortfall_bps_mean",
            "shortfall_bps_p90",
            "fill_ratio",
            "fees",
            "seconds_to_fill_median",
            "amends",
            "rate_limit_waits",
            "rate_limit_errors",
        }
        assert row["chains"] > 0
        assert row["rate_limit_errors"] == 0
    assert rows["contract"]["amends"] == 0
    assert rows["maker_first"]["amends"] > 0  # it followed the touch
    # Each routing wrote its own database next to the one asked for.
    assert (clean_cwd / "krakked-sim-contract.db").is_file()
    assert (clean_cwd / "krakked-sim-maker_first.db").is_file()
    table = sim("--compare", "contract,maker_first", "--plans", "2")
    assert table.exit_code == 0, table.output
    assert "krakked sim --compare: scenario default, seed 7" in table.stdout
    assert "maker_first" in table.stdout


def test_routing_options_are_checked(clean_cwd):
    assert sim("--compare", "contract").exit_code == ExitCode.USAGE
    assert sim("--compare", "contract,fastest").exit_code == ExitCode.USAGE
    both = sim("--compare", "contract,maker_first", "--routing", "contract")
    assert both.exit_code == ExitCode.USAGE
    assert "not both" in both.stderr
    one = sim("--routing", "maker_first", "--plans", "2", "--json")
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["ok"] is True
