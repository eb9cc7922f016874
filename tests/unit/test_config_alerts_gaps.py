"""The ``alerts.events`` setting: a list of known event kinds, or a problem at its path."""

from __future__ import annotations

import pytest
from returns.pipeline import is_successful

from kraken_bot.config import _ALERT_KINDS, AlertsConfig, ConfigError, parse_app_config


def alerts_problems(events: object) -> list[str]:
    """Every problem of a config whose only setting is ``alerts.events``."""
    result = parse_app_config({"alerts": {"events": events}}, env={})
    assert not is_successful(result)
    error = result.failure()
    assert isinstance(error, ConfigError)
    return [str(p) for p in error.problems]


@pytest.mark.parametrize(
    ("events", "shown"),
    [
        ("filled", "'filled'"),  # one word, not a list of them
        ({"filled": True}, "{'filled': True}"),
        (["filled", 7], "['filled', 7]"),  # a list, but not of words
    ],
)
def test_events_that_are_not_a_list_of_words_are_refused(events, shown):
    assert alerts_problems(events) == [
        f"alerts.events: expected a list of event kinds, got {shown}"
    ]


def test_unknown_event_kinds_are_named_sorted_with_every_known_kind():
    (problem,) = alerts_problems(["filled", "exploded", "boom", "exploded"])

    known = ", ".join(sorted(_ALERT_KINDS))
    assert problem == f"alerts.events: unknown event kind(s) boom, exploded; known: {known}"


def test_known_event_kinds_replace_the_default_set():
    result = parse_app_config({"alerts": {"events": ["stopped", "filled"]}}, env={})

    assert result.unwrap().alerts.events == frozenset({"stopped", "filled"})
    assert parse_app_config(None, env={}).unwrap().alerts.events == AlertsConfig().events
