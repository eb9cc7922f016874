"""The send counters are shared by the service's sender threads: none may be lost."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.testing import FakeKraken

THREADS = 8
EACH = 20_000


@pytest.fixture
def often_switching() -> Iterator[None]:
    """Let the interpreter switch threads as often as it can (the race's window)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_counts_from_many_sender_threads_are_all_kept(tmp_path: Path, often_switching: None):
    with FakeKraken(tmp_path) as fake:
        service = fake.service()
        submitter = service._submitter
        assert submitter is not None
        error = KrakenAPIError("EService:Busy")

        def send() -> None:
            for _ in range(EACH):
                submitter._tally("retries")
                submitter._tally(error=error)

        threads = [threading.Thread(target=send) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Unlocked, a read-add-write here kept about a third of these counts.
        assert service.stats.retries == THREADS * EACH
        assert service.stats.errors_by_kind == {"KrakenAPIError": THREADS * EACH}
