"""Nox sessions: tests, lint, typecheck, bench, chaos, coverage_report, sim_contract.

CI runs ``nox -s tests lint typecheck`` (see README and .ci/run). Long campaigns
live in their own sessions so the default run stays fast.
"""

from __future__ import annotations

import os

import nox

nox.options.error_on_external_run = True
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

PYTHON = ["3.11", "3.12", "3.13"] if os.environ.get("KRAKKED_ALL_PYTHONS") else None


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The default test suite: unit, property (ci profile), integration, e2e; no slow campaigns."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "-m",
        "not slow",
        "-n",
        os.environ.get("KRAKKED_TEST_WORKERS", "auto"),
        *session.posargs,
        env={"HYPOTHESIS_PROFILE": "ci"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff>=0.6,<1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src, sim and tests (returns plugin pinned with mypy)."""
    session.install("-e", ".[test,typecheck]")
    session.run("mypy", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: prints a table and closing `name: value unit` lines (never fails on a time)."""
    session.install("-e", ".[test]")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session
def chaos(session: nox.Session) -> None:
    """The long reliability campaign: stateful tests, crash tests, fuzzing, with figures."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "-m",
        "slow",
        "-s",
        *session.posargs,
        env={"HYPOTHESIS_PROFILE": "chaos", "KRAKKED_CHAOS": "1"},
    )
    session.run("python", "-m", "tests.reliability.report")


@nox.session
def coverage_report(session: nox.Session) -> None:
    """Branch coverage: 100 % gated on the pure modules, the shell and sim reported."""
    session.install("-e", ".[test]", "coverage[toml]>=7")
    session.run(
        "coverage",
        "run",
        "-m",
        "pytest",
        "-m",
        "not slow",
        "-q",
        env={"HYPOTHESIS_PROFILE": "ci"},
    )
    session.run("coverage", "report", "--skip-covered")
    session.run("python", "scripts/pure_coverage_gate.py")


@nox.session
def sim_contract(session: nox.Session) -> None:
    """Opt-in: run the fake exchange's public-endpoint contract suite against api.kraken.com."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "live", "tests/contract", env={"KRAKKED_LIVE_CONTRACT": "1"})
