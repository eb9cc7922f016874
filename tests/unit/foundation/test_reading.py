"""The reading toolkit: parsers, rules, paths, and the reader that collects problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest

from kraken_bot._problems import Problem
from kraken_bot._reading import (
    FAILED,
    Invalid,
    Reader,
    Rule,
    as_decimal,
    as_int,
    as_text,
    as_utc,
    at,
    choice,
    expected,
    flag,
    integer,
    nullable,
    passed,
    prefixed,
)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@pytest.mark.parametrize(
    ("path", "key", "joined"),
    [("", "a", "a"), ("a", "b", "a.b"), ("a", 0, "a[0]"), ("a[0]", "b", "a[0].b"), ("a", "", "a.")],
)
def test_at_joins_keys_with_dots_and_indexes_with_brackets(path, key, joined):
    assert at(path, key) == joined


def test_prefixed_moves_problems_under_a_path_and_keeps_the_live_mark():
    found = prefixed("actions[1]", [Problem("pair", "bad", refuses_live=True)])
    assert found == [Problem("actions[1].pair", "bad", refuses_live=True)]


def test_passed_keeps_only_the_values_that_were_not_refused():
    assert passed({"a": 1, "b": FAILED, "c": None}) == {"a": 1, "c": None}


@pytest.mark.parametrize(
    ("value", "parsed"),
    [(3, 3), (True, None), (3.0, None), ("3", None)],
)
def test_as_int_takes_ints_but_not_bools(value, parsed):
    assert as_int(value) == parsed


@pytest.mark.parametrize(
    ("value", "accept", "parsed"),
    [
        ("0.10", (str,), Decimal("0.10")),
        (" 2 ", (str,), Decimal(2)),
        (0.1, (str, float), Decimal("0.1")),
        (0.1, (str,), None),
        (True, (str, int), None),
        ("x", (str,), None),
        ("Infinity", (str,), None),
        (Decimal("1.5"), (Decimal,), Decimal("1.5")),
    ],
)
def test_as_decimal_takes_finite_values_of_the_accepted_types(value, accept, parsed):
    assert as_decimal(value, accept) == parsed


def test_as_text_refuses_non_strings_and_optionally_empty_ones():
    assert as_text("") == ""
    assert as_text("", empty=False) is None
    assert as_text(b"x") is None


def test_as_utc_reads_offsets_and_naive_times_only_when_asked():
    two_hours = timezone(timedelta(hours=2))
    assert as_utc("2026-01-01T02:00:00+02:00", naive_is_utc=False) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    assert as_utc(datetime(2026, 1, 1, 2, tzinfo=two_hours), naive_is_utc=False) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    assert as_utc("2026-01-01T00:00:00", naive_is_utc=False) is None
    assert as_utc("2026-01-01T00:00:00", naive_is_utc=True) == datetime(2026, 1, 1, tzinfo=UTC)
    assert as_utc("soon", naive_is_utc=True) is None
    assert as_utc(1.5, naive_is_utc=True) is None


def test_a_rule_says_what_it_expected_or_its_own_sentence():
    def parse(value: object) -> int | Invalid | None:
        if value == "x":
            return Invalid("no x here")
        return as_int(value)

    rule = Rule("a number", parse)
    assert rule(1) == 1
    assert rule("x") == Invalid("no x here")
    assert rule(None) == Invalid("expected a number, got None")
    assert nullable(rule)(None) is None
    assert nullable(rule, "a number or null")("y") == Invalid("expected a number or null, got 'y'")


def test_the_shared_rules_word_their_refusals_the_same_way():
    assert flag("yes") == Invalid(expected("true or false", "yes"))
    assert integer(1, 5)(6) == Invalid("expected an integer from 1 to 5, got 6")
    assert integer(1, 5, "a small number")(0) == Invalid("expected a small number, got 0")
    assert choice(Colour)("blue") is Colour.BLUE
    assert choice(Colour)(Colour.RED) is Colour.RED
    assert choice(Colour)(["red"]) == Invalid("expected one of red | blue, got ['red']")


def test_a_reader_of_something_else_than_a_mapping_reports_it_once():
    problems: list[Problem] = []
    reader = Reader(7, "run", problems)
    assert reader.check("x", flag) is FAILED
    assert reader.require("x", flag, stand_in=False) is False
    assert problems == [Problem("run", "expected a mapping, got 7")]


def test_a_reader_names_the_top_level_with_its_root_word():
    problems: list[Problem] = []
    Reader([], "", problems, kind="a JSON object", root="value")
    Reader(None, "", problems)
    assert [str(p) for p in problems] == [
        "value: expected a JSON object, got []",
        "(top level): expected a mapping, got None",
    ]


def test_a_reader_takes_none_as_empty_when_told():
    problems: list[Problem] = []
    reader = Reader(None, "kraken", problems, empty_if_none=True)
    assert reader.read("tier", flag, default=True) is True
    assert problems == []
    assert reader.check("tier", flag) is FAILED
    assert problems == [Problem("kraken.tier", "missing (expected true or false)")]


def test_a_reader_reports_missing_refused_and_unknown_keys_at_their_paths():
    problems: list[Problem] = []
    reader = Reader({"a": "1", "b": None, "c": 2, "d": True}, "sec", problems)
    assert reader.check("missing", flag) is FAILED
    assert reader.read("a", flag, default=False) is False
    assert reader.read("b", flag, default=True) is True
    assert reader.present(["b", "c"]) == {"c": 2}
    assert reader.require("d", flag, stand_in=False) is True
    assert reader.lacks("z")
    reader.problem(3, "third")
    reader.finish("key")
    assert [str(p) for p in problems] == [
        "sec.missing: missing (expected true or false)",
        "sec.a: expected true or false, got '1'",
        "sec[3]: third",
    ]
    extra = Reader({"x": 1}, "", problems := [])
    extra.finish("field")
    assert problems == [Problem("x", "unknown field (check the spelling)")]
