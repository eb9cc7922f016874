"""Scenarios: the seeded world a fake exchange runs in, loaded from YAML.

A scenario fixes everything but the seed and the requests: start time, pairs and their price
paths, liquidity, fees, accounts, rate-limit tier, fault profile and protocol quirks. The same
scenario and seed answer the same request sequence with the same bytes.

Format (every key but ``pairs`` is optional; durations are seconds or ``"10s"``, ``"5m"``,
``"2h"``, ``"1d"``; money and volumes are strings, parsed as Decimal)::

    name: default
    start: "2026-01-01T00:00:00Z"   # where a default VirtualClock starts
    step: 10s                       # price-path and matching step
    history: 6h                     # path generated before the start (Ticker, OHLC)
    tier: starter                   # starter | intermediate | pro | unlimited (no limits)
    faults: light                   # none | light | heavy | a fault file (relative to this
                                    # file) | an inline fault plan (see kraken_sim.faults)
    system_status: online           # online | maintenance | cancel_only | post_only
    fees: {maker: "0.25", taker: "0.40"}   # percent; default: the pair's first fee tier
    asset_pairs: ../asset_pairs.json       # AssetPairs snapshot (default: the bundled one)
    assets: ../assets.json                 # Assets snapshot (default: the bundled one)
    pairs:                          # pair id or altname -> market model; the order is kept
      XXBTZUSD:
        mid: "60000"                # starting mid
        walk: {volatility_bps: 4, drift_bps: 0}   # seeded log-normal walk, per step
        spread_bps: 2               # bid/ask = mid -/+ half the spread, on the tick grid
        liquidity_per_min: "0.25"   # base units a resting order side can fill per minute
        depth: "1.5"                # base units per price level for takers
        level_bps: 1                # distance between the levels a taker walks through
        queue: "0.06"               # base units ahead of an order that joins the touch
                                    # (default: a quarter of liquidity_per_min)
        fees: {maker: "0.16", taker: "0.26"}   # per-pair override
        meta: {ordermin: "0.0001"}  # overrides of the AssetPairs fields
      SOLUSD:
        points: [[0, "150"], [30m, "155"], [1h, "148"]]   # explicit path, linear between
                                                          # points, flat after the last
      XETHXXBT:
        derive: XETHZUSD/XXBTZUSD   # mid = the ratio of two other pairs' mids
    accounts:
      - name: main
        key: null                   # null: generated from the seed
        secret: null                # base64; null: generated from the seed
        nonce_window: 0
        balances: {ZUSD: "100000", XXBT: "1"}    # asset ids or altnames
    quirks: {excess_decimals: truncate}          # see kraken_sim.quirks.Quirks

>>> scenario = load_scenario(None)
>>> scenario.name, [p.pair for p in scenario.pairs][:2]
('default', ['XXBTZUSD', 'XETHZUSD'])
>>> parse_duration("2h"), parse_duration(10)
(7200.0, 10.0)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal, get_args

import yaml

from kraken_sim._fixtures import fixture_path
from kraken_sim.faults import FaultPlan, load_faults
from kraken_sim.quirks import Quirks, quirks_from_mapping
from kraken_sim.replay import OhlcBar

__all__ = [
    "AccountSpec",
    "PairSpec",
    "Scenario",
    "ScenarioError",
    "SystemStatus",
    "Tier",
    "WalkSpec",
    "load_scenario",
    "parse_duration",
]

Tier = Literal["starter", "intermediate", "pro", "unlimited"]
SystemStatus = Literal["online", "maintenance", "cancel_only", "post_only"]
_DURATION_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class ScenarioError(ValueError):
    """A scenario file that does not follow the documented format."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkSpec:
    """A seeded log-normal random walk: per-step log-return mean and deviation, in bps."""

    volatility_bps: float = 4.0
    drift_bps: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PairSpec:
    """The market model of one pair (``meta``: AssetPairs field overrides, in file order).

    The mid comes from, in this order of precedence: ``derive`` (the ratio of two pairs),
    ``bars`` (OHLCVT bars of ``bar_interval`` seconds, replayed by
    `kraken_sim.replay.BarReplay`; see `kraken_sim.history` for the files), ``points``, or a
    seeded walk from ``mid``.
    """

    pair: str
    mid: Decimal | None = None
    walk: WalkSpec = field(default_factory=WalkSpec)
    points: tuple[tuple[float, Decimal], ...] = ()
    derive: tuple[str, str] | None = None
    bars: tuple[OhlcBar, ...] = ()
    bar_interval: float = 0.0
    spread_bps: Decimal = Decimal(2)
    liquidity_per_min: Decimal = Decimal(1)
    depth: Decimal = Decimal(1)
    level_bps: Decimal = Decimal(1)
    queue: Decimal | None = None
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    meta: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSpec:
    """An account that exists from the start (``balances`` in file order, for stable output)."""

    name: str
    key: str | None = None
    secret: str | None = None
    balances: tuple[tuple[str, Decimal], ...] = ()
    nonce_window: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """Everything but the seed and the requests."""

    name: str = "custom"
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    step: float = 10.0
    history: float = 6 * 3600.0
    tier: Tier = "starter"
    faults: FaultPlan = field(default_factory=FaultPlan.none)
    system_status: SystemStatus = "online"
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    asset_pairs_file: Path = field(default_factory=lambda: fixture_path("asset_pairs.json"))
    assets_file: Path = field(default_factory=lambda: fixture_path("assets.json"))
    pairs: tuple[PairSpec, ...] = ()
    accounts: tuple[AccountSpec, ...] = ()
    quirks: Quirks = field(default_factory=Quirks)


def parse_duration(raw: object) -> float:
    """Seconds from a number or a string like ``"250ms"``, ``"10s"``, ``"5m"``, ``"2h"``."""
    if isinstance(raw, bool):
        raise ScenarioError(f"not a duration: {raw!r}")
    if isinstance(raw, int | float):
        return float(raw)
    match = _DURATION_RE.match(str(raw))
    if match is None:
        raise ScenarioError(f"not a duration: {raw!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def load_scenario(source: str | Path | None) -> Scenario:
    """Load a scenario file; ``None`` loads the bundled default scenario."""
    path = fixture_path("scenarios", "default.yaml") if source is None else Path(source)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{path}: a scenario must be a mapping")
    try:
        return scenario_from_mapping(raw, base_dir=path.parent, default_name=path.stem)
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


_TOP_KEYS: Final = {
    "name", "start", "step", "history", "tier", "faults", "system_status", "fees",
    "asset_pairs", "assets", "pairs", "accounts", "quirks",
}  # fmt: skip


def scenario_from_mapping(
    raw: Mapping[str, Any], *, base_dir: Path, default_name: str = "custom"
) -> Scenario:
    """Build a :class:`Scenario` from parsed YAML (relative paths resolve against base_dir)."""
    _check_keys(raw, _TOP_KEYS, "scenario")
    maker, taker = _fees(raw.get("fees"))
    pairs_raw = raw.get("pairs")
    if not isinstance(pairs_raw, Mapping) or not pairs_raw:
        raise ScenarioError("pairs: a non-empty mapping of pair -> market model is required")
    kwargs: dict[str, Any] = {
        "name": str(raw.get("name", default_name)),
        "start": _start(raw.get("start", "2026-01-01T00:00:00Z")),
        "step": parse_duration(raw.get("step", 10)),
        "history": parse_duration(raw.get("history", "6h")),
        "tier": _choice(raw.get("tier", "starter"), get_args(Tier), "tier"),
        "faults": _faults(raw.get("faults", "none"), base_dir),
        "system_status": _choice(
            raw.get("system_status", "online"), get_args(SystemStatus), "system_status"
        ),
        "maker_fee": maker,
        "taker_fee": taker,
        "pairs": tuple(_pair(str(name), spec or {}) for name, spec in pairs_raw.items()),
        "accounts": tuple(_account(i, item) for i, item in enumerate(raw.get("accounts") or [])),
        "quirks": quirks_from_mapping(raw.get("quirks") or {}),
    }
    if "asset_pairs" in raw:
        kwargs["asset_pairs_file"] = base_dir / str(raw["asset_pairs"])
    if "assets" in raw:
        kwargs["assets_file"] = base_dir / str(raw["assets"])
    if kwargs["step"] <= 0:
        raise ScenarioError("step must be positive")
    return Scenario(**kwargs)


def _check_keys(raw: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise ScenarioError(f"{what}: unknown keys {', '.join(unknown)}")


def _choice(value: object, choices: tuple[str, ...], what: str) -> Any:
    if value is None and what == "tier":
        return "unlimited"
    if value not in choices:
        raise ScenarioError(f"{what} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ScenarioError(f"{what}: expected a decimal, got {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise ScenarioError(f"{what}: expected a decimal, got {value!r}") from exc
    if not result.is_finite() or result < 0:
        raise ScenarioError(f"{what}: expected a non-negative decimal, got {value!r}")
    return result


def _start(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ScenarioError(f"start: not an ISO 8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        raise ScenarioError("start: needs a timezone (e.g. a trailing Z)")
    return moment.astimezone(UTC)


def _fees(raw: object) -> tuple[Decimal | None, Decimal | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        raise ScenarioError("fees must be a mapping {maker, taker}")
    _check_keys(raw, {"maker", "taker"}, "fees")
    maker = _decimal(raw["maker"], "fees.maker") if "maker" in raw else None
    taker = _decimal(raw["taker"], "fees.taker") if "taker" in raw else None
    return maker, taker


def _faults(raw: object, base_dir: Path) -> FaultPlan:
    if raw is None:
        return FaultPlan.none()
    if isinstance(raw, Mapping):
        return FaultPlan.from_mapping(raw, name="inline")
    text = str(raw)
    return load_faults(text if text in {"none", "light", "heavy"} else base_dir / text)


_PAIR_KEYS: Final = {
    "mid", "walk", "points", "derive", "spread_bps", "liquidity_per_min", "depth", "level_bps",
    "queue", "fees", "meta",
}  # fmt: skip


def _pair(name: str, raw: Mapping[str, Any]) -> PairSpec:
    _check_keys(raw, _PAIR_KEYS, f"pairs.{name}")
    where = f"pairs.{name}"
    points = tuple(
        (parse_duration(offset), _decimal(mid, f"{where}.points"))
        for offset, mid in (raw.get("points") or [])
    )
    derive = None
    if "derive" in raw:
        numerator, sep, denominator = str(raw["derive"]).partition("/")
        if not sep or not numerator or not denominator:
            raise ScenarioError(f"{where}.derive must look like NUMERATOR/DENOMINATOR")
        derive = (numerator.strip(), denominator.strip())
    mid = _decimal(raw["mid"], f"{where}.mid") if "mid" in raw else None
    if points:
        mid = points[0][1]
    if mid is None and derive is None:
        raise ScenarioError(f"{where}: give mid (+ walk), points, or derive")
    walk_raw = raw.get("walk") or {}
    _check_keys(walk_raw, {"volatility_bps", "drift_bps"}, f"{where}.walk")
    maker, taker = _fees(raw.get("fees"))
    return PairSpec(
        pair=name,
        mid=mid,
        walk=WalkSpec(
            volatility_bps=float(walk_raw.get("volatility_bps", 4.0)),
            drift_bps=float(walk_raw.get("drift_bps", 0.0)),
        ),
        points=points,
        derive=derive,
        spread_bps=_decimal(raw.get("spread_bps", 2), f"{where}.spread_bps"),
        liquidity_per_min=_decimal(raw.get("liquidity_per_min", 1), f"{where}.liquidity_per_min"),
        depth=_decimal(raw.get("depth", 1), f"{where}.depth"),
        level_bps=_decimal(raw.get("level_bps", 1), f"{where}.level_bps"),
        queue=_decimal(raw["queue"], f"{where}.queue") if "queue" in raw else None,
        maker_fee=maker,
        taker_fee=taker,
        meta=tuple((str(k), v) for k, v in (raw.get("meta") or {}).items()),
    )


def _account(index: int, raw: object) -> AccountSpec:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"accounts[{index}] must be a mapping")
    _check_keys(raw, {"name", "key", "secret", "balances", "nonce_window"}, f"accounts[{index}]")
    balances = tuple(
        (str(asset), _decimal(amount, f"accounts[{index}].balances.{asset}"))
        for asset, amount in (raw.get("balances") or {}).items()
    )
    window = raw.get("nonce_window")
    return AccountSpec(
        name=str(raw.get("name", f"account{index}")),
        key=None if raw.get("key") is None else str(raw["key"]),
        secret=None if raw.get("secret") is None else str(raw["secret"]),
        balances=balances,
        nonce_window=None if window is None else int(window),
    )
