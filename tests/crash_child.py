"""Helpers of the SIGKILL tests: a live config pointing at a served fake exchange, and a child
process running a script that kills itself at the chosen instant."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def write_live_config(tmp_path: Path, url: str, *, execution: str, db: str) -> Path:
    """A live-mode config file for the fake at ``url``; ``execution``: extra lines of the
    execution section (YAML, one key a line)."""
    lines = [
        "execution:",
        "  mode: live",
        "  allow_live_trading: true",
        "  validate_only: false",
        "  dead_man_switch_seconds: 0",
        *(f"  {line}" for line in execution.splitlines()),
        "kraken:",
        f"  base_url: {url}",
        "  tier: unlimited",
        f"  nonce_state_file: {tmp_path / 'nonce.json'}",
        "storage:",
        f"  path: {tmp_path / db}",
    ]
    config = tmp_path / "config.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def run_child(
    tmp_path: Path, script: str, config: Path, *, key: str, secret: str, kill: str
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (Python) with ``config`` as its argument and ``KILL=kill`` set."""
    path = tmp_path / "child.py"
    path.write_text(script)
    env = {
        **os.environ,
        "KRAKEN_API_KEY": key,
        "KRAKEN_API_SECRET": secret,
        "KILL": kill,
        # the repository (for ``tests``), then any path of ours (a worktree's ``src``)
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")])
        ),
    }
    return subprocess.run(
        [sys.executable, str(path), str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
