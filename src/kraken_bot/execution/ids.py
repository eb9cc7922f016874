"""Local order ids: UUIDs that Kraken accepts as ``cl_ord_id`` and that we can recognise.

A local id is a version-4 UUID whose first four hex digits are ``6b6b`` ("kk"),
so reconciliation can tell this layer's orders from orders another tool placed
on the same account, and adopt ours if the database ever lost one. Kraken takes
a 36-character UUID as a client order id.

Production ids come from `uuid.uuid4`; `SeededIds` gives reproducible ids for
the simulator and tests (it owns its `random.Random`).
"""

from __future__ import annotations

import random
import re
import uuid
from typing import Final, Protocol

_MARK: Final = "6b6b"
_PATTERN: Final = re.compile(
    r"^6b6b[0-9a-f]{4}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


class IdFactory(Protocol):
    """Makes a new local id each call."""

    def __call__(self) -> str:
        """A new id."""
        ...


def _marked(raw: uuid.UUID) -> str:
    return str(uuid.UUID(hex=_MARK + raw.hex[4:], version=4))


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


def is_local_id(text: str | None) -> bool:
    """True for ids this layer makes (and so for client order ids it sent).

    >>> is_local_id(SeededIds(1)()), is_local_id("6d1b345e-2821-40e2-ad83-4ecb18a06876")
    (True, False)
    """
    return text is not None and _PATTERN.match(text) is not None
