r"""Pure: text helpers for error messages and untrusted input.

`show` gives short, bounded text for a value quoted in an error message;
`is_valid_text` tells whether a string can be stored and sent (UTF-8 refuses
lone surrogates, which JSON escapes and YAML can produce).

Error messages quote the offending value (``got 'three'``). Quoting must cost
little whatever the value is: a YAML file of a few hundred bytes can expand,
through aliases, into a list with billions of items, or into a value that
contains itself, and Python refuses to print integers of more than 4300
digits. `show` walks at most a few dozen characters' worth of the value and
never builds its full ``repr``.

>>> show("three"), show([1, 2, 3]), show({"a": [1, 2]})
("'three'", '[1, 2, 3]', "{'a': [1, 2]}")
>>> nested = [["x"] * 10] * 10
>>> for _ in range(20):
...     nested = [nested] * 10
>>> show(nested)
"[[[[[[[[[[[[[[[[[[[[[['x', 'x', 'x', 'x', 'x', 'x', 'x', ..."
>>> show(10**5000)
'<an integer of 16610 bits>'
>>> itself = []
>>> itself.append(itself)
>>> show(itself)
'[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[...'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

LIMIT: Final = 60


def show(value: object, limit: int = LIMIT) -> str:
    """A repr-like text of ``value``, at most ``limit`` characters."""
    text = _bounded(value, limit + 1)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_valid_text(text: str) -> bool:
    r"""True when ``text`` is valid Unicode (no lone surrogate), so SQLite and UTF-8 can hold it.

    >>> is_valid_text("XBT/USD"), is_valid_text("rocket \U0001f680")
    (True, True)
    >>> is_valid_text("bad \ud800 text")
    False
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bounded(value: object, budget: int) -> str:  # noqa: PLR0911 - one return per kind of value
    """At most about ``budget`` characters; every level down spends budget, so a value that
    contains itself (YAML anchors can build one in 20 bytes) still ends."""
    if budget <= 0:
        return "..."
    if isinstance(value, str):
        return repr(value[:budget])
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 4 * budget:
            return f"<an integer of {value.bit_length()} bits>"
        return repr(value)
    if isinstance(value, list | tuple):
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        return _items(value, opening, closing, budget, _bounded)
    if isinstance(value, dict):
        return _items(value.items(), "{", "}", budget, _pair)
    return repr(value)[:budget]


def _pair(item: object, budget: int) -> str:
    assert isinstance(item, tuple)
    key = _bounded(item[0], budget)
    return f"{key}: {_bounded(item[1], budget - len(key) - 2)}"


def _items(
    items: Iterable[object],
    opening: str,
    closing: str,
    budget: int,
    render: Callable[[object, int], str],
) -> str:
    text = opening
    for index, item in enumerate(items):  # lazily: stops as soon as the budget is spent
        if index:
            text += ", "
        text += render(item, budget - len(text))
        if len(text) > budget:
            return text
    return text + closing
