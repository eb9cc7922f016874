"""Fail unless every pure module (docstring starting "Pure:") has 100 % branch coverage.

Run after ``coverage run -m pytest`` (the ``coverage_report`` nox session does).
The shell and the fake exchange are reported by ``coverage report`` but not gated:
their behaviour is covered end to end against the fake exchange instead.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pure_modules() -> list[Path]:
    found = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if doc.lstrip().startswith("Pure"):
            found.append(path.relative_to(ROOT))
    return found


def main() -> int:
    modules = pure_modules()
    include = ",".join(str(m) for m in modules)
    print(f"gating {len(modules)} pure modules at 100 % branch coverage")
    result = subprocess.run(
        ["coverage", "report", "--fail-under=100", f"--include={include}", "-m"],
        cwd=ROOT,
        check=False,
    )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
