"""Project-wide test settings: hypothesis profiles, and a private state directory per test.

``ci`` (the default) is derandomized with no example database, so CI runs are
reproducible; ``chaos`` is the long campaign of ``nox -s chaos``; ``dev`` is
hypothesis' default randomized search.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "chaos",
    max_examples=2000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Per-key state (nonce files, the account lease, send-claim locks) stays inside the
    test's own directory: tests never touch ~/.local/state, nor each other's keys."""
    state = tmp_path_factory.mktemp("krakked-state")
    before = os.environ.get("KRAKKED_STATE_DIR")
    os.environ["KRAKKED_STATE_DIR"] = str(state)
    yield state
    if before is None:
        os.environ.pop("KRAKKED_STATE_DIR", None)
    else:
        os.environ["KRAKKED_STATE_DIR"] = before
