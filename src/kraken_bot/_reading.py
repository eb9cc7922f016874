"""Pure: one way to read untrusted values: rules, paths, and a reader that collects problems.

Configuration files, plans, stored records and wire replies arrive as decoded
JSON or YAML (any object). Each is read the same way:

* a *parser* (``as_decimal``, ``as_int``, ...) turns one raw value into a typed
  value, or None when it cannot;
* a `Rule` pairs a parser with the words that say what was expected, so every
  refusal reads ``expected <what>, got <value>`` (the value quoted by `show`);
* a `Reader` walks one mapping at a path (`at` joins ``a.b`` and ``actions[2]``),
  checks each key with its rule, and records a `Problem` for each refusal
  instead of raising; the caller reports them all at once.

>>> problems: list[Problem] = []
>>> reader = Reader({"retries": "three", "extra": 1}, "execution", problems)
>>> reader.read("retries", integer(0, 20), 3), reader.read("mode", flag, False)
(3, False)
>>> reader.finish("key")
>>> for problem in problems:
...     print(problem)
execution.retries: expected an integer from 0 to 20, got 'three'
execution.extra: unknown key (check the spelling)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import Final, Generic, Literal, NamedTuple, TypeAlias, TypeVar

from kraken_bot._problems import Problem
from kraken_bot._show import show

__all__ = [
    "FAILED",
    "NUMBERS",
    "Failed",
    "Invalid",
    "Reader",
    "Rule",
    "as_decimal",
    "as_int",
    "as_text",
    "as_utc",
    "at",
    "choice",
    "describe_choices",
    "expected",
    "flag",
    "integer",
    "nullable",
    "passed",
    "prefixed",
]

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)
_E = TypeVar("_E", bound=StrEnum)


class Invalid(NamedTuple):
    """A value a rule refused, and why (``expected ..., got ...``)."""

    message: str


class Failed(Enum):
    """The type of `FAILED`: what a `Reader` returns for a value it refused."""

    FAILED = "failed"


FAILED: Final = Failed.FAILED
"""Stands for a value that was refused (the problem is already recorded)."""


def expected(what: str, value: object) -> str:
    """The one sentence every refusal uses.

    >>> expected("true or false", "yes")
    "expected true or false, got 'yes'"
    """
    return f"expected {what}, got {show(value)}"


def at(path: str, key: str | int) -> str:
    """``key`` inside ``path``: ``a.b`` for a key, ``a[2]`` for an index.

    >>> at("", "plan_id"), at("actions", 2), at("actions[2]", "pair")
    ('plan_id', 'actions[2]', 'actions[2].pair')
    """
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def prefixed(path: str, problems: Iterable[Problem]) -> list[Problem]:
    """The same problems, found inside ``path``.

    >>> prefixed("actions[0]", [Problem("pair", "missing")])
    [Problem(path='actions[0].pair', message='missing', refuses_live=False)]
    """
    return [Problem(at(path, p.path), p.message, p.refuses_live) for p in problems]


def passed(checked: Mapping[str, _T | Failed]) -> dict[str, _T]:
    """The values that were not refused.

    >>> passed({"a": 1, "b": FAILED})
    {'a': 1}
    """
    return {key: value for key, value in checked.items() if value is not FAILED}


# ---------------------------------------------------------------- parsers


def as_int(value: object) -> int | None:
    """An int that is not a bool."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


NUMBERS: Final = (str, int, float, Decimal)
"""What `as_decimal` accepts by default: a decimal string or any number but a bool."""


def as_decimal(value: object, accept: tuple[type, ...] = NUMBERS) -> Decimal | None:
    """A finite Decimal from a value of one of the ``accept`` types (never a bool).

    Numbers go through their shortest repr, so ``0.1`` is ``Decimal('0.1')``.

    >>> as_decimal("0.10"), as_decimal(0.1), as_decimal(0.1, (str,)), as_decimal("NaN")
    (Decimal('0.10'), Decimal('0.1'), None, None)
    """
    if isinstance(value, bool) or not isinstance(value, accept):
        return None
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def as_text(value: object, *, empty: bool = True) -> str | None:
    """A string (a non-empty one unless ``empty``).

    >>> as_text("a"), as_text(""), as_text("", empty=False), as_text(1)
    ('a', '', None, None)
    """
    return value if isinstance(value, str) and (empty or value) else None


def as_utc(value: object, *, naive_is_utc: bool) -> datetime | None:
    """An ISO 8601 string (or a datetime) as an aware UTC datetime.

    A time without an offset is UTC when ``naive_is_utc``, else refused.

    >>> as_utc("2026-01-02T03:04:05Z", naive_is_utc=False)
    datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    >>> as_utc("2026-01-02T03:04:05", naive_is_utc=False), as_utc(7, naive_is_utc=True)
    (None, None)
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.utcoffset() is None:
        if not naive_is_utc:
            return None
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# ---------------------------------------------------------------- rules

Parse: TypeAlias = Callable[[object], "_T | Invalid | None"]
"""A parser: the value, None (refused: ``expected ...``), or an `Invalid` saying otherwise."""


@dataclass(frozen=True, slots=True)
class Rule(Generic[_T_co]):
    """What a value must be (``expected``, in words) and the parser that checks it.

    A ``nullable`` rule lets None through as None.

    >>> integer(0, 20)(3), integer(0, 20)(-1)
    (3, Invalid(message='expected an integer from 0 to 20, got -1'))
    """

    expected: str
    parse: Parse[_T_co]
    nullable: bool = False

    def __call__(self, value: object) -> _T_co | Invalid:
        if value is None and self.nullable:
            return None  # type: ignore[return-value] # a nullable rule's _T includes None
        parsed = self.parse(value)
        if parsed is None:
            return Invalid(expected(self.expected, value))
        return parsed


def nullable(rule: Rule[_T], expected: str | None = None) -> Rule[_T | None]:
    """None, or what ``rule`` accepts; ``expected`` rewords the rule (``... or null``)."""
    return Rule(rule.expected if expected is None else expected, rule.parse, nullable=True)


def _as_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


flag: Final = Rule("true or false", _as_bool)
"""True or false (not 1, 0, "yes", "no")."""


def integer(low: int, high: int, what: str | None = None) -> Rule[int]:
    """An integer from ``low`` to ``high`` (not a bool, not a float)."""

    def parse(value: object) -> int | None:
        number = as_int(value)
        return number if number is not None and low <= number <= high else None

    return Rule(what or f"an integer from {low} to {high}", parse)


def describe_choices(kind: type[StrEnum]) -> str:
    """``one of a | b | c``, the values of ``kind`` in order."""
    return "one of " + " | ".join(member.value for member in kind)


def choice(kind: type[_E]) -> Rule[_E]:
    """A member of ``kind`` given as its value (``"dry_run"``) or as itself."""
    values = {member.value: member for member in kind}

    def parse(value: object) -> _E | None:
        # Never str() an arbitrary value: a tiny YAML file can make it huge.
        return values.get(value) if isinstance(value, str) else None

    return Rule(describe_choices(kind), parse)


# ---------------------------------------------------------------- one mapping

_ABSENT: Final = object()


class Reader:
    """Reads the keys of one mapping at ``path``, recording a `Problem` for each refusal.

    A raw value that is not a mapping is a problem at ``path`` (``root`` names the
    top level) and reads as empty; ``empty_if_none`` takes None as empty quietly.
    `finish` reports every key no one asked for.
    """

    def __init__(
        self,
        raw: object,
        path: str,
        problems: list[Problem],
        *,
        kind: str = "a mapping",
        root: str = "(top level)",
        empty_if_none: bool = False,
    ) -> None:
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()
        self.is_mapping = isinstance(raw, Mapping) or (raw is None and empty_if_none)
        if not self.is_mapping:
            problems.append(Problem(path or root, expected(kind, raw)))
        self.raw: Mapping[object, object] = raw if isinstance(raw, Mapping) else {}

    def problem(self, key: str | int, message: str) -> None:
        """Record a problem at ``key`` under this reader's path."""
        self.problems.append(Problem(at(self.path, key), message))

    def get(self, key: str) -> object:
        """The raw value at ``key`` (None when absent), marked as asked for."""
        self.seen.add(key)
        return self.raw.get(key)

    def lacks(self, key: str) -> bool:
        """True when the mapping has no ``key`` (or there is no mapping at all)."""
        return key not in self.raw

    def check(self, key: str, rule: Rule[_T]) -> _T | Literal[Failed.FAILED]:
        """The value at ``key`` through ``rule``; an absent key is missing."""
        self.seen.add(key)
        raw = self.raw.get(key, _ABSENT)
        if raw is _ABSENT:
            if self.is_mapping:
                self.problem(key, f"missing (expected {rule.expected})")
            return FAILED
        checked = rule(raw)
        if isinstance(checked, Invalid):
            self.problem(key, checked.message)
            return FAILED
        return checked

    def require(self, key: str, rule: Rule[_T], stand_in: _T) -> _T:
        """`check`, with ``stand_in`` for a refused or missing value."""
        value = self.check(key, rule)
        return stand_in if value is FAILED else value

    def read(self, key: str, rule: Rule[_T], default: _T) -> _T:
        """The value through ``rule``; absent or null gives ``default`` (so does a refusal)."""
        if self.get(key) is None:
            return default
        return self.require(key, rule, default)

    def present(self, keys: Iterable[str]) -> dict[str, object]:
        """The keys that are present and not null, with their raw values."""
        found = {key: self.get(key) for key in keys}
        return {key: value for key, value in found.items() if value is not None}

    def finish(self, word: str) -> None:
        """A problem for every key not asked for (``unknown <word> (check the spelling)``)."""
        for key in self.raw:
            if key not in self.seen:
                self.problem(str(key), f"unknown {word} (check the spelling)")
