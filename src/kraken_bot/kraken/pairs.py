"""Pure: pair metadata from Kraken's AssetPairs, and a resolver for Kraken's many pair names.

Kraken names one pair several ways: the AssetPairs key (``XXBTZUSD``, what
Kraken's responses are keyed by), the altname (``XBTUSD``, what order
descriptions use and what this layer treats as canonical), and the wsname
(``XBT/USD``). People also write ``BTCUSD`` or ``BTC/USD``. `PairUniverse`
maps all of these to one `PairMetadata`.

Every number here is data from AssetPairs, never a constant in code.

>>> import json, pathlib
>>> raw = {"XXBTZUSD": {"altname": "XBTUSD", "wsname": "XBT/USD", "base": "XXBT",
...     "quote": "ZUSD", "pair_decimals": 1, "lot_decimals": 8, "cost_decimals": 5,
...     "ordermin": "0.00005", "costmin": "0.5", "tick_size": "0.1", "status": "online"}}
>>> universe = parse_asset_pairs(raw).unwrap()
>>> [universe.resolve(n).unwrap().altname for n in ("XBTUSD", "xbt/usd", "XXBTZUSD", "BTC-USD")]
['XBTUSD', 'XBTUSD', 'XBTUSD', 'XBTUSD']
>>> universe.resolve("DOGEEUR").failure()
UnknownPair(name='DOGEEUR')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from pyrsistent import pmap
from pyrsistent.typing import PMap
from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from kraken_bot.kraken.types import ResponseShapeError, parse_decimal

USD_ASSETS: Final = frozenset({"ZUSD", "USD"})

# Kraken's own asset codes that differ from common usage.
_ALIASES: Final = (("BTC", "XBT"), ("DOGE", "XDG"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PairMetadata:
    """One pair's trading rules, from Kraken's AssetPairs.

    Attributes:
        rest_symbol: the AssetPairs key (``XXBTZUSD``), sent as AddOrder ``pair``.
        altname: canonical name (``XBTUSD``); order descriptions use it.
        wsname: ``XBT/USD``.
        base, quote: asset ids (``XXBT``, ``ZUSD``).
        pair_decimals: max price decimals.
        lot_decimals: max volume decimals.
        cost_decimals: cost decimals (quote).
        ordermin: minimum volume (base).
        costmin: minimum price x volume (quote); None when Kraken gives none.
        tick_size: price increment.
        status: ``online``, ``cancel_only``, ``post_only``, ``limit_only``, ``reduce_only``.
    """

    rest_symbol: str
    altname: str
    wsname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    ordermin: Decimal
    costmin: Decimal | None
    tick_size: Decimal
    status: str

    @property
    def lot_step(self) -> Decimal:
        """The smallest volume increment, ``10 ** -lot_decimals``.

        >>> PAIR_EXAMPLE.lot_step
        Decimal('1E-8')
        """
        return Decimal(1).scaleb(-self.lot_decimals)

    @property
    def quote_is_usd(self) -> bool:
        """True when prices are in US dollars."""
        return self.quote in USD_ASSETS

    @property
    def is_online(self) -> bool:
        """True when Kraken accepts normal orders on the pair."""
        return self.status == "online"


@dataclass(frozen=True, slots=True)
class UnknownPair:
    """No pair of that name in the universe."""

    name: str

    def __str__(self) -> str:
        return f"unknown pair {self.name!r}"


def _normalise(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())


def _alias_keys(name: str) -> Iterable[str]:
    key = _normalise(name)
    yield key
    for common, kraken in _ALIASES:
        if common in key:
            yield key.replace(common, kraken)


@dataclass(frozen=True, slots=True, kw_only=True)
class PairUniverse:
    """Every known pair, by canonical altname, with a lookup for any name."""

    pairs: PMap[str, PairMetadata]
    names: PMap[str, str]

    @staticmethod
    def of(pairs: Iterable[PairMetadata]) -> PairUniverse:
        """Build a universe from metadata records."""
        by_altname = {p.altname: p for p in pairs}
        names: dict[str, str] = {}
        for pair in by_altname.values():
            for name in (pair.rest_symbol, pair.altname, pair.wsname):
                names.setdefault(_normalise(name), pair.altname)
        return PairUniverse(pairs=pmap(by_altname), names=pmap(names))

    def resolve(self, name: str) -> Result[PairMetadata, UnknownPair]:
        """Find a pair by any of Kraken's names (case and separators ignored; BTC means XBT)."""
        for key in _alias_keys(name):
            altname = self.names.get(key)
            if altname is not None:
                return Success(self.pairs[altname])
        return Failure(UnknownPair(name))

    def usd_pair_for(self, asset: str) -> PairMetadata | None:
        """The pair that prices ``asset`` (an asset id like ``XXBT``) in USD, if any."""
        for pair in self.pairs.values():
            if pair.base == asset and pair.quote_is_usd:
                return pair
        return None


def parse_pair(key: str, obj: object) -> Result[PairMetadata, ResponseShapeError]:
    """Parse one AssetPairs entry."""
    what = f"AssetPairs[{key}]"
    if not isinstance(obj, Mapping):
        return Failure(ResponseShapeError(what, "entry is not an object"))
    ints = {}
    for name in ("pair_decimals", "lot_decimals", "cost_decimals"):
        value = obj.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 18:
            if name == "cost_decimals" and value is None:
                value = 8
            else:
                return Failure(ResponseShapeError(what, f"{name} missing or not an integer"))
        ints[name] = value
    ordermin = parse_decimal(obj.get("ordermin", "0"))
    costmin = parse_decimal(obj.get("costmin")) if obj.get("costmin") is not None else None
    tick = parse_decimal(obj.get("tick_size")) if obj.get("tick_size") is not None else None
    if tick is None:
        tick = Decimal(1).scaleb(-ints["pair_decimals"])
    if ordermin is None or ordermin < 0 or tick <= 0:
        return Failure(ResponseShapeError(what, "ordermin/tick_size not valid decimals"))
    altname = obj.get("altname")
    base, quote = obj.get("base"), obj.get("quote")
    if not isinstance(altname, str) or not isinstance(base, str) or not isinstance(quote, str):
        return Failure(ResponseShapeError(what, "altname/base/quote missing"))
    wsname = obj.get("wsname")
    return Success(
        PairMetadata(
            rest_symbol=key,
            altname=altname,
            wsname=wsname if isinstance(wsname, str) else altname,
            base=base,
            quote=quote,
            pair_decimals=ints["pair_decimals"],
            lot_decimals=ints["lot_decimals"],
            cost_decimals=ints["cost_decimals"],
            ordermin=ordermin,
            costmin=costmin,
            tick_size=tick,
            # ~13% of live pairs carry no status; Kraken trades them normally.
            status=str(obj.get("status", "online")),
        )
    )


def parse_asset_pairs(result: object) -> Result[PairUniverse, ResponseShapeError]:
    """Parse AssetPairs' ``result`` (pair key -> entry) into a `PairUniverse`.

    Entries that do not parse are an error, naming the first one: metadata we
    cannot read must not silently disappear.
    """
    if not isinstance(result, Mapping):
        return Failure(ResponseShapeError("AssetPairs", "result is not an object"))
    parsed: list[PairMetadata] = []
    for key, obj in result.items():
        if str(key).startswith("_"):
            continue
        pair = parse_pair(str(key), obj)
        if not is_successful(pair):
            return Failure(pair.failure())
        parsed.append(pair.unwrap())
    return Success(PairUniverse.of(parsed))


PAIR_EXAMPLE: Final = PairMetadata(
    rest_symbol="XXBTZUSD",
    altname="XBTUSD",
    wsname="XBT/USD",
    base="XXBT",
    quote="ZUSD",
    pair_decimals=1,
    lot_decimals=8,
    cost_decimals=5,
    ordermin=Decimal("0.00005"),
    costmin=Decimal("0.5"),
    tick_size=Decimal("0.1"),
    status="online",
)
"""XBT/USD as captured in 2026: for examples and tests, never as a trading constant."""
