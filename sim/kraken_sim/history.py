"""Price history files: Kraken's downloadable OHLCVT CSV, or plain ``timestamp,pair,price`` rows.

Two formats are read, told apart by their number of columns:

* **OHLCVT** (Kraken's "Downloadable historical OHLCVT data"): one file per pair and interval,
  no header, seven columns ``timestamp,open,high,low,close,volume,trades``; ``timestamp`` is
  the unix time (seconds) at which the bar opens. Kraken names the files ``PAIR_INTERVAL.csv``
  with the interval in minutes (``XBTUSD_60.csv``: hourly XBT/USD bars); the pair and the
  interval are read from that name. Any other name needs the pair given explicitly,
  ``PAIR=FILE``; the interval then comes from the name if it has one, else from the smallest
  gap between two bars (Kraken leaves out bars without trades, so gaps may be wider).
* **Price points**: three columns ``timestamp,pair,price`` (an optional header line), several
  pairs in one file; ``timestamp`` is a unix time or an ISO 8601 time with a timezone. The
  price moves linearly from one point of a pair to the next. ``PAIR=FILE`` keeps that pair's
  rows only.

Prices, volumes and trade counts are checked as they are read; a malformed file is refused
with a `PriceFileError` naming the file and the line (``XBTUSD_60.csv:12: high 59000 is below
low 59100``). `with_price_history` then makes a scenario follow the files: bars through
`kraken_sim.replay.BarReplay`, points as the scenario's explicit ``points``.

>>> from kraken_sim._fixtures import fixture_path
>>> [history] = read_price_file(str(fixture_path("prices", "XBTUSD_60.csv")))
>>> history.pair, history.interval, len(history.bars) > 24
('XBTUSD', 3600.0, True)
>>> parse_price_spec("ETHUSD=eth.csv")
('ETHUSD', 'eth.csv')
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

from kraken_sim._fixtures import load_json_fixture
from kraken_sim.replay import OhlcBar
from kraken_sim.scenario import PairSpec, Scenario, ScenarioError

__all__ = [
    "OhlcBar",
    "PriceFileError",
    "PriceHistory",
    "parse_price_spec",
    "read_price_file",
    "with_price_history",
]

_KRAKEN_NAME: Final = re.compile(r"^(?P<pair>[A-Za-z0-9.]+)_(?P<minutes>[0-9]+)$")
_OHLCVT_COLUMNS: Final = 7
_POINT_COLUMNS: Final = 3
_PAIR_NAME: Final = re.compile(r"^[A-Za-z0-9./]+$")


class PriceFileError(ScenarioError):
    """A price file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceHistory:
    """One pair's path from one file: OHLCVT ``bars`` (with ``interval``) or price ``points``.

    Attributes:
        pair: the pair as the file names it (altname or pair id).
        source: the file, for messages.
        interval: the bar width in seconds (OHLCVT), or None for price points.
        bars: the bars, oldest first (OHLCVT).
        points: ``(unix time, price)``, oldest first (price points).
    """

    pair: str
    source: str
    interval: float | None = None
    bars: tuple[OhlcBar, ...] = ()
    points: tuple[tuple[float, Decimal], ...] = ()

    @property
    def first_time(self) -> float:
        """When the path starts (unix seconds)."""
        return self.bars[0].time if self.bars else self.points[0][0]

    @property
    def end_time(self) -> float:
        """When the path ends: the close of the last bar, or the last point."""
        if self.bars:
            assert self.interval is not None
            return self.bars[-1].time + self.interval
        return self.points[-1][0]


def parse_price_spec(spec: str) -> tuple[str | None, str]:
    """``PAIR=FILE`` or ``FILE`` as (pair in upper case, or None; file)."""
    pair, sep, rest = spec.partition("=")
    if sep and pair and _PAIR_NAME.match(pair) and rest:
        return pair.upper(), rest
    return None, spec


def read_price_file(spec: str) -> list[PriceHistory]:
    """Read ``FILE`` or ``PAIR=FILE`` (see the module docstring): one history per pair.

    Raises:
        PriceFileError: the file is missing, unreadable or malformed.
    """
    pair, name = parse_price_spec(spec)
    path = Path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PriceFileError(f"{path}: cannot read the price file: {exc}") from exc
    rows = list(_rows(text))
    if not rows:
        raise PriceFileError(f"{path}: no rows (expected {_FORMATS})")
    width = len(rows[0][1])
    if width == _OHLCVT_COLUMNS:
        return [_ohlcvt(path, pair, rows)]
    if width == _POINT_COLUMNS:
        return _points(path, pair, rows)
    line = rows[0][0]
    raise PriceFileError(f"{path}:{line}: {width} columns; expected {_FORMATS}")


_FORMATS: Final = (
    "7 columns timestamp,open,high,low,close,volume,trades (Kraken's OHLCVT)"
    " or 3 columns timestamp,pair,price"
)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, [cell.strip() for cell in line.split(",")]


def _ohlcvt(path: Path, pair: str | None, rows: Sequence[tuple[int, list[str]]]) -> PriceHistory:
    match = _KRAKEN_NAME.match(path.stem)
    if pair is None:
        if match is None:
            raise PriceFileError(
                f"{path}: cannot tell the pair from the file name: name it PAIR_INTERVAL.csv"
                " as Kraken does (XBTUSD_60.csv) or give it as PAIR=FILE"
            )
        pair = match["pair"].upper()
    bars = tuple(_bar(path, number, cells) for number, cells in rows)
    for i in range(1, len(bars)):
        if bars[i].time <= bars[i - 1].time:
            raise PriceFileError(
                f"{path}:{rows[i][0]}: timestamp {_show(bars[i].time)} is not after the"
                f" previous row's {_show(bars[i - 1].time)}"
            )
    interval = _interval(path, match, bars, rows)
    return PriceHistory(pair=pair, source=str(path), interval=interval, bars=bars)


def _interval(
    path: Path,
    match: re.Match[str] | None,
    bars: Sequence[OhlcBar],
    rows: Sequence[tuple[int, list[str]]],
) -> float:
    if match is not None and int(match["minutes"]) > 0:
        interval = int(match["minutes"]) * 60.0
    elif len(bars) > 1:
        interval = min(b.time - a.time for a, b in itertools.pairwise(bars))
    else:
        raise PriceFileError(
            f"{path}: one bar and no interval in the file name: name it PAIR_INTERVAL.csv"
        )
    for i in range(1, len(bars)):
        gap = bars[i].time - bars[i - 1].time
        if gap < interval:
            raise PriceFileError(
                f"{path}:{rows[i][0]}: bars overlap: this one opens {_show(gap)} s after the"
                f" previous one, the interval is {_show(interval)} s"
            )
    return interval


def _bar(path: Path, number: int, cells: list[str]) -> OhlcBar:
    where = f"{path}:{number}"
    if len(cells) != _OHLCVT_COLUMNS:
        raise PriceFileError(
            f"{where}: {len(cells)} columns; expected 7 (timestamp,open,high,low,close,"
            "volume,trades)"
        )
    time = _timestamp(where, cells[0])
    open_, high, low, close = (
        _price(where, name, cell)
        for name, cell in zip(("open", "high", "low", "close"), cells[1:5], strict=True)
    )
    volume = _decimal(where, "volume", cells[5])
    trades = _count(where, cells[6])
    if high < low:
        raise PriceFileError(f"{where}: high {high} is below low {low}")
    for name, value in (("open", open_), ("close", close)):
        if not low <= value <= high:
            raise PriceFileError(f"{where}: {name} {value} is outside low {low} .. high {high}")
    return OhlcBar(
        time=time, open=open_, high=high, low=low, close=close, volume=volume, trades=trades
    )


def _points(
    path: Path, only: str | None, rows: Sequence[tuple[int, list[str]]]
) -> list[PriceHistory]:
    if rows and _is_header(rows[0][1]):
        rows = rows[1:]
    by_pair: dict[str, list[tuple[float, Decimal]]] = {}
    for number, cells in rows:
        where = f"{path}:{number}"
        if len(cells) != _POINT_COLUMNS:
            raise PriceFileError(
                f"{where}: {len(cells)} columns; expected 3 (timestamp,pair,price)"
            )
        time = _timestamp(where, cells[0])
        pair = cells[1]
        if not pair or not _PAIR_NAME.match(pair):
            raise PriceFileError(f"{where}: pair {pair!r} is not a pair name")
        points = by_pair.setdefault(pair.upper(), [])
        if points and time <= points[-1][0]:
            raise PriceFileError(
                f"{where}: timestamp {_show(time)} is not after the previous {pair} row's"
                f" {_show(points[-1][0])}"
            )
        points.append((time, _price(where, "price", cells[2])))
    if only is not None:
        by_pair = {only.upper(): by_pair.get(only.upper(), [])}
    found = [
        PriceHistory(pair=pair, source=str(path), points=tuple(points))
        for pair, points in by_pair.items()
        if points
    ]
    if not found:
        raise PriceFileError(f"{path}: no rows" + (f" for {only}" if only else ""))
    return found


def _is_header(cells: list[str]) -> bool:
    return [c.lower() for c in cells] == ["timestamp", "pair", "price"]


def _timestamp(where: str, text: str) -> float:
    try:
        value = float(Decimal(text))
    except (InvalidOperation, ValueError):
        value = None
    if value is None:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise PriceFileError(
                f"{where}: timestamp {text!r} is neither a unix time nor an ISO 8601 time"
            ) from None
        if moment.tzinfo is None:
            raise PriceFileError(f"{where}: timestamp {text!r} needs a timezone (e.g. Z)")
        value = moment.timestamp()
    if not 0 <= value < 1e11:
        raise PriceFileError(f"{where}: timestamp {text!r} is not a unix time in seconds")
    return value


def _decimal(where: str, name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise PriceFileError(f"{where}: {name} {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise PriceFileError(f"{where}: {name} {text!r} is not a non-negative number")
    return value


def _price(where: str, name: str, text: str) -> Decimal:
    value = _decimal(where, name, text)
    if value <= 0:
        raise PriceFileError(f"{where}: {name} {text!r} must be positive")
    return value


def _count(where: str, text: str) -> int:
    if not text.isdigit():
        raise PriceFileError(f"{where}: trades {text!r} is not a whole number")
    return int(text)


def _show(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:g}"


def with_price_history(scenario: Scenario, histories: Sequence[PriceHistory]) -> Scenario:
    """``scenario`` replaying ``histories``: their pairs follow the files, from the first row.

    * The scenario starts at the earliest row of all the files (the replay's clock too).
    * Each file's pair (by altname or pair id, from the scenario's AssetPairs snapshot) keeps
      its market parameters from the scenario (spread, liquidity, depth, fees), or the
      defaults if the scenario does not list it, and follows the file: OHLCVT bars through
      `kraken_sim.replay.BarReplay`, price points linearly.
    * The scenario's other pairs are left out, except a derived pair whose two legs both
      follow files. The accounts, fees, tier, faults and quirks stay.

    Raises:
        ScenarioError: a pair that is not in the snapshot, or given twice.
    """
    if not histories:
        return scenario
    ids = _pair_ids(scenario)
    chosen: dict[str, PriceHistory] = {}
    for history in histories:
        pair_id = ids.get(history.pair) or ids.get(history.pair.upper())
        if pair_id is None:
            raise PriceFileError(
                f"{history.source}: pair {history.pair} is not in the AssetPairs snapshot"
                f" {scenario.asset_pairs_file.name} (known: {', '.join(sorted(set(ids)))})"
            )
        if pair_id in chosen:
            raise PriceFileError(
                f"{history.source}: pair {history.pair} already comes from {chosen[pair_id].source}"
            )
        chosen[pair_id] = history
    start = min(h.first_time for h in chosen.values())
    own = {ids.get(spec.pair, spec.pair): spec for spec in scenario.pairs}
    order = [p for p in own if p in chosen] + [p for p in chosen if p not in own]
    pairs = [_follow(own.get(p) or PairSpec(pair=p), chosen[p], start) for p in order]
    pairs.extend(
        spec
        for spec in own.values()
        if spec.derive is not None and all(ids.get(leg) in chosen for leg in spec.derive)
    )
    return replace(scenario, start=datetime.fromtimestamp(start, UTC), pairs=tuple(pairs))


def _follow(spec: PairSpec, history: PriceHistory, start: float) -> PairSpec:
    if history.bars:
        assert history.interval is not None
        return replace(
            spec,
            mid=history.bars[0].open,
            points=(),
            derive=None,
            bars=history.bars,
            bar_interval=history.interval,
        )
    points = tuple((t - start, price) for t, price in history.points)
    return replace(spec, mid=points[0][1], points=points, derive=None, bars=(), bar_interval=0.0)


def _pair_ids(scenario: Scenario) -> dict[str, str]:
    """Pair id by id and by altname, from the scenario's AssetPairs snapshot."""
    doc = load_json_fixture(scenario.asset_pairs_file)
    result = doc.get("result") if isinstance(doc, dict) else None
    ids: dict[str, str] = {}
    for pair_id, entry in (result or {}).items():
        ids[str(pair_id)] = str(pair_id)
        if isinstance(entry, dict) and "altname" in entry:
            ids[str(entry["altname"])] = str(pair_id)
    return ids
