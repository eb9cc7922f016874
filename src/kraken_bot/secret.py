"""Pure: a wrapper that keeps API secrets out of reprs, logs and exceptions.

A `Secret` prints as ``Secret('********')`` whatever it holds. The only way to
read the value is `reveal()`, which the request signer calls and nothing else.

>>> s = Secret("kQH5HW/8p1uGOVjbgWA7Fun")
>>> s
Secret('********')
>>> f"{s}"
'********'
>>> s.reveal()
'kQH5HW/8p1uGOVjbgWA7Fun'
"""

from __future__ import annotations

from typing import Final

_MASK: Final = "********"


class Secret:
    """An opaque string: equal by value, never shown."""

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        """Return the secret itself. Call only where it is used (signing)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, format_spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")
