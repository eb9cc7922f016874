"""Pure: the value rules of the configuration, shared by the YAML parser and the constructors.

A rule (`kraken_bot._reading.Rule`) takes any value (decoded YAML, or whatever
code passed to a constructor) and returns either the normalised value or an
`Invalid` holding the sentence that says what was expected. ``kraken_bot.config``
applies the same rules to ``ExecutionConfig(...)`` and to the ``execution``
section of a file, so both accept and refuse exactly the same values.

>>> integer(0, 20)(3), integer(0, 20)(-1)
(3, Invalid(message='expected an integer from 0 to 20, got -1'))
>>> money(Decimal(0), Decimal(10))(2.5), money(Decimal(0), Decimal(10))("1e1")
(Decimal('2.5'), Decimal('1E+1'))
"""

from __future__ import annotations

from decimal import Decimal

from kraken_bot._reading import Invalid, Rule, as_decimal, choice, flag, integer, nullable

__all__ = [
    "Invalid",
    "Rule",
    "choice",
    "flag",
    "integer",
    "money",
    "number",
    "optional",
    "optional_money",
    "text",
]


def number(low: float, high: float) -> Rule[float]:
    """A finite number from ``low`` to ``high`` (a decimal string too), as a float."""
    bounds = (Decimal(str(low)), Decimal(str(high)))

    def parse(value: object) -> float | None:
        parsed = as_decimal(value)
        return None if parsed is None or not bounds[0] <= parsed <= bounds[1] else float(parsed)

    return Rule(f"a number from {low} to {high}", parse)


def money(low: Decimal, high: Decimal) -> Rule[Decimal]:
    """A finite amount from ``low`` to ``high`` as an exact `Decimal` (``20.0`` is ``20.0``)."""

    def parse(value: object) -> Decimal | None:
        parsed = as_decimal(value)
        return parsed if parsed is not None and low <= parsed <= high else None

    return Rule(f"a number from {low} to {high}", parse)


def optional_money(low: Decimal) -> Rule[Decimal | None]:
    """None, or an amount of at least ``low``."""

    def parse(value: object) -> Decimal | None:
        parsed = as_decimal(value)
        return parsed if parsed is not None and parsed >= low else None

    return nullable(Rule(f"a number of at least {low} or null", parse))


optional = nullable
"""None, or what a rule accepts (its words unchanged)."""


def _nonblank(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


text: Rule[str] = Rule("a non-empty string", _nonblank)
"""A string with something other than spaces in it."""
