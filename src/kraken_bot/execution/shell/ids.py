"""Local order ids: UUIDs that Kraken accepts as ``cl_ord_id`` and that we can recognise.

A local id is a version-4 UUID whose first four hex digits are ``6b6b`` ("kk"),
so reconciliation can tell this layer's orders from orders another tool placed
on the same account, and adopt ours if the database ever lost one. Kraken takes
a 36-character UUID as a client order id.

Production ids come from `uuid.uuid4`; `SeededIds` gives reproducible ids for
the simulator and tests (it owns its `random.Random`). Recognising one is a
decision of the core (`kraken_bot.execution.core.reconciliation.is_local_id`, the mark
with it), re-exported here.
"""

from __future__ import annotations

import random
import uuid
from typing import Protocol

from kraken_bot.execution.core.reconciliation import LOCAL_ID_MARK, is_local_id

__all__ = ["IdFactory", "SeededIds", "is_local_id", "new_local_id"]


class IdFactory(Protocol):
    """Makes a new local id each call."""

    def __call__(self) -> str:
        """A new id."""
        ...


def _marked(raw: uuid.UUID) -> str:
    return str(uuid.UUID(hex=LOCAL_ID_MARK + raw.hex[4:], version=4))


def new_local_id() -> str:
    """A fresh random local id."""
    return _marked(uuid.uuid4())


class SeededIds:
    """Reproducible local ids from a seed."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def __call__(self) -> str:
        """The next id of the sequence."""
        return _marked(uuid.UUID(int=self._random.getrandbits(128)))
