"""Pure: the value rules of the configuration, shared by the YAML parser and the constructors.

A rule takes any value (decoded YAML, or whatever code passed to a constructor)
and returns either the normalised value or an `Invalid` holding the sentence
that says what was expected. ``kraken_bot.config`` applies the same rules to
``ExecutionConfig(...)`` and to the ``execution`` section of a file, so both
accept and refuse exactly the same values.

>>> integer(0, 20)(3), integer(0, 20)(-1)
(3, Invalid(message='expected an integer from 0 to 20, got -1'))
>>> money(Decimal(0), Decimal(10))(2.5), money(Decimal(0), Decimal(10))("1e1")
(Decimal('2.5'), Decimal('1E+1'))
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple, TypeAlias, TypeVar

from kraken_bot._show import show

__all__ = [
    "Invalid",
    "Rule",
    "choice",
    "decimal_of",
    "flag",
    "integer",
    "money",
    "number",
    "optional",
    "optional_money",
    "text",
]

_T = TypeVar("_T")
_E = TypeVar("_E", bound=StrEnum)


class Invalid(NamedTuple):
    """A value a rule refused, and why (``expected ..., got ...``)."""

    message: str


Rule: TypeAlias = Callable[[object], "_T | Invalid"]


def decimal_of(value: object) -> Decimal | None:
    """A finite `Decimal` from a number or a decimal string (floats through their repr)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def choice(kind: type[_E]) -> Rule[_E]:
    """A member of ``kind``, or its value as a string (``"dry_run"``)."""
    values = {member.value: member for member in kind}
    choices = " | ".join(values)

    def check(value: object) -> _E | Invalid:
        # Never str() an arbitrary value: a tiny YAML file can make it huge.
        if isinstance(value, str) and value in values:
            return values[value]
        return Invalid(f"expected one of {choices}, got {show(value)}")

    return check


def flag(value: object) -> bool | Invalid:
    """True or false (not 1, 0, "yes", "no")."""
    if isinstance(value, bool):
        return value
    return Invalid(f"expected true or false, got {show(value)}")


def integer(low: int, high: int) -> Rule[int]:
    """An integer from ``low`` to ``high`` (not a bool, not a float)."""

    def check(value: object) -> int | Invalid:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return Invalid(f"expected an integer from {low} to {high}, got {show(value)}")
        return value

    return check


def number(low: float, high: float) -> Rule[float]:
    """A finite number from ``low`` to ``high`` (a decimal string too), as a float."""
    bounds = (Decimal(str(low)), Decimal(str(high)))

    def check(value: object) -> float | Invalid:
        parsed = decimal_of(value)
        if parsed is None or not bounds[0] <= parsed <= bounds[1]:
            return Invalid(f"expected a number from {low} to {high}, got {show(value)}")
        return float(parsed)

    return check


def money(low: Decimal, high: Decimal) -> Rule[Decimal]:
    """A finite amount from ``low`` to ``high`` as an exact `Decimal` (``20.0`` is ``20.0``)."""

    def check(value: object) -> Decimal | Invalid:
        parsed = decimal_of(value)
        if parsed is None or not low <= parsed <= high:
            return Invalid(f"expected a number from {low} to {high}, got {show(value)}")
        return parsed

    return check


def optional_money(low: Decimal) -> Rule[Decimal | None]:
    """None, or an amount of at least ``low``."""

    def check(value: object) -> Decimal | Invalid | None:
        if value is None:
            return None
        parsed = decimal_of(value)
        if parsed is None or parsed < low:
            return Invalid(f"expected a number of at least {low} or null, got {show(value)}")
        return parsed

    return check


def optional(rule: Rule[_T]) -> Rule[_T | None]:
    """None, or what ``rule`` accepts."""

    def check(value: object) -> _T | Invalid | None:
        return None if value is None else rule(value)

    return check


def text(value: object) -> str | Invalid:
    """A string with something other than spaces in it."""
    if not isinstance(value, str) or not value.strip():
        return Invalid(f"expected a non-empty string, got {show(value)}")
    return value
