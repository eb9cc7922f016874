"""Pure: `Closing`, what makes a resource with ``close()`` a context manager.

Leaving the ``with`` block closes the resource, whether it ends normally or by an
exception (which goes on up):

>>> class Door(Closing):
...     shut = False
...
...     def close(self) -> None:
...         self.shut = True
>>> with Door() as door:
...     pass
>>> door.shut
True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing(ABC):
    """Base of the resources that close on leaving a ``with`` block."""

    __slots__ = ()

    @abstractmethod
    def close(self) -> None:
        """Release what the resource holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
