"""Fixtures of the reliability campaign: the `figures` counters of each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.reliability.figures import Figures


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """This test's counters; written as one JSON line at teardown (passed or failed)."""
    recorder = Figures(request.node.nodeid)
    yield recorder
    recorder.flush()
