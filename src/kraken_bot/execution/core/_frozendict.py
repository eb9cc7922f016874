"""Pure: `FrozenDict`, a ``dict`` that refuses every change (the type of ``raw_request``).

The contract calls ``LocalOrder.raw_request`` a dict, and a caller expects what a
dict allows: ``json.dumps``, ``dict(...)``, ``==`` with a dict, ``isinstance(x, dict)``.
The record is immutable, so the mapping must be too. A ``dict`` subclass whose
mutators raise gives both (``types.MappingProxyType`` and pyrsistent's ``PMap`` are
read-only but ``json.dumps`` refuses them). It hashes by value, so records holding
one stay hashable, and it pickles and copies as itself.

>>> request = FrozenDict({"pair": "XXBTZUSD", "volume": "0.5"})
>>> import json; json.dumps(request, sort_keys=True)
'{"pair": "XXBTZUSD", "volume": "0.5"}'
>>> request == {"pair": "XXBTZUSD", "volume": "0.5"}, isinstance(request, dict)
(True, True)
>>> request["pair"] = "XETHZUSD"
Traceback (most recent call last):
...
TypeError: FrozenDict is read-only (copy it with dict(...) to change it)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar

__all__ = ["FrozenDict"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenDict(dict[_K, _V]):
    """A read-only ``dict``: every mutating method raises ``TypeError``."""

    __slots__ = ()

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError("FrozenDict is read-only (copy it with dict(...) to change it)")

    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse

    @classmethod
    def fromkeys(cls, iterable: Iterable[Any], value: Any = None) -> FrozenDict[Any, Any]:
        """A FrozenDict with ``iterable`` as keys, each mapped to ``value``."""
        return cls(dict.fromkeys(iterable, value))

    def __hash__(self) -> int:  # type: ignore[override] # a dict is unhashable; this one is not
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[type[FrozenDict[_K, _V]], tuple[dict[_K, _V]]]:
        return (type(self), (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"
