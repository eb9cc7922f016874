"""Pure: short, bounded text for a value quoted in an error message.

Error messages quote the offending value (``got 'three'``). Quoting must cost
little whatever the value is: a YAML file of a few hundred bytes can expand,
through aliases, into a list with billions of items, and Python refuses to
print integers of more than 4300 digits. `show` walks at most a few dozen
characters' worth of the value and never builds its full ``repr``.

>>> show("three"), show([1, 2, 3]), show({"a": [1, 2]})
("'three'", '[1, 2, 3]', "{'a': [1, 2]}")
>>> nested = [["x"] * 10] * 10
>>> for _ in range(20):
...     nested = [nested] * 10
>>> show(nested)
"[[[[[[[[[[[[[[[[[[[[[['x', 'x', 'x', 'x', 'x', 'x', 'x', ..."
>>> show(10**5000)
'<an integer of 16610 bits>'
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

LIMIT: Final = 60


def show(value: object, limit: int = LIMIT) -> str:
    """A repr-like text of ``value``, at most ``limit`` characters."""
    text = _bounded(value, limit + 1)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded(value: object, budget: int) -> str:
    if isinstance(value, str):
        return repr(value[:budget])
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 4 * budget:
            return f"<an integer of {value.bit_length()} bits>"
        return repr(value)
    if isinstance(value, list | tuple):
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        return _items((_bounded(item, budget) for item in value), opening, closing, budget)
    if isinstance(value, dict):
        pairs = (f"{_bounded(k, budget)}: {_bounded(v, budget)}" for k, v in value.items())
        return _items(pairs, "{", "}", budget)
    return repr(value)[:budget]


def _items(parts: Iterator[str], opening: str, closing: str, budget: int) -> str:
    text = opening
    for index, part in enumerate(parts):  # a generator: stops as soon as the budget is spent
        text += (", " if index else "") + part
        if len(text) > budget:
            return text
    return text + closing
