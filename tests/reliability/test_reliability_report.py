"""The figures file and its report: written only when asked, summed per run, failing on harm."""

from __future__ import annotations

import io
import json

from tests.reliability import report
from tests.reliability.figures import Figures


def test_figures_are_written_only_when_the_campaign_asks(tmp_path, monkeypatch):
    target = tmp_path / "deep" / "figures.jsonl"
    monkeypatch.delenv("KRAKKED_CHAOS", raising=False)
    monkeypatch.delenv("KRAKKED_FIGURES", raising=False)
    monkeypatch.chdir(tmp_path)
    Figures("quiet").flush()
    assert not (tmp_path / ".chaos").exists()
    monkeypatch.setenv("KRAKKED_FIGURES", str(target))
    figures = Figures("loud")
    figures.add("scenarios", 3)
    figures.add_faults({"busy": 2, "timeout": 0})
    figures.flush()
    (line,) = target.read_text().splitlines()
    record = json.loads(line)
    assert record["test"] == "loud"
    assert record["scenarios"] == 3
    assert record["faults"] == {"busy": 2}
    assert record["duplicates"] == 0


def line(run: str, test: str, **counts: object) -> dict[str, object]:
    return {"run": run, "test": test, "seconds": 1.5, "faults": {}, "notes": [], **counts}


def test_the_report_sums_the_latest_run_and_prints_closing_lines(tmp_path):
    path = tmp_path / "figures.jsonl"
    lines = [
        line("old", "a.py::t", scenarios=100, duplicates=5),
        line(
            "new",
            "tests/reliability/test_reliability_x.py::t1",
            scenarios=2,
            bad_inputs=7,
            faults={"busy": 3, "timeout": 1},
        ),
        line("new", "b.py::t2", scenarios=3, crashes_survived=4, faults={"busy": 1}),
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n{torn")
    out = io.StringIO()
    assert report.main(["--file", str(path)], out) == 0
    text = out.getvalue()
    assert "x::t1" in text
    assert "chaos_scenarios: 5 count" in text
    assert "chaos_faults_injected: 5 count" in text
    assert "chaos_faults_injected_busy: 4 count" in text
    assert "chaos_crashes_survived: 4 count" in text
    assert "chaos_duplicates: 0 count" in text
    assert "chaos_bad_inputs: 7 count" in text
    everything = io.StringIO()
    assert report.main(["--file", str(path), "--all"], everything) == 1  # the old run broke
    assert "chaos_duplicates: 5 count" in everything.getvalue()


def test_the_report_fails_without_figures(tmp_path):
    out = io.StringIO()
    assert report.main(["--file", str(tmp_path / "missing.jsonl")], out) == 1
    assert "no figures" in out.getvalue()
