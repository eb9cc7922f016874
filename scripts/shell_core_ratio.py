"""Print how many lines of ``src/kraken_bot/execution`` are shell against core.

A module is core when its docstring starts with "Pure" (the convention the purity test
and the coverage gate use); every other module is shell, the package's face
(``execution/__init__.py``) and the shell's re-export shims included. Lines are raw
lines (code, docstrings, comments, blanks), as the issue that set the target counted.

Usage: ``python scripts/shell_core_ratio.py [-v]`` (``-v``: the shell's modules, largest
first). The last line is ``shell_core_ratio: <value> ratio``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "kraken_bot" / "execution"


def main(argv: list[str]) -> int:
    lines = {"core": 0, "shell": 0}
    shell: list[tuple[int, str]] = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        count = len(text.splitlines())
        doc = ast.get_docstring(ast.parse(text)) or ""
        room = "core" if doc.startswith("Pure") else "shell"
        lines[room] += count
        if room == "shell":
            shell.append((count, str(path.relative_to(ROOT))))
    if "-v" in argv:
        for count, name in sorted(shell, reverse=True):
            print(f"{count:6d}  {name}")
    print(f"core lines: {lines['core']}")
    print(f"shell lines: {lines['shell']}")
    print(f"shell_core_ratio: {lines['shell'] / lines['core']:.3f} ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
