"""The venue: the scenario's pairs and assets resolved against the AssetPairs/Assets snapshots.

Requests may name a pair by id (``XXBTZUSD``) or altname (``XBTUSD``) and an asset by id
(``XXBT``) or altname (``XBT``); responses are keyed by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kraken_sim._fixtures import load_json_fixture
from kraken_sim.market import PairMeta, PricePath, pair_meta, ticker_entry
from kraken_sim.scenario import PairSpec, Scenario, ScenarioError
from kraken_sim.wire import ApiError

__all__ = ["Venue"]


class Venue:
    """Pairs, their price paths and the assets they use."""

    def __init__(self, scenario: Scenario, *, seed: int, origin: float) -> None:
        pairs_raw = _result(load_json_fixture(scenario.asset_pairs_file), "AssetPairs")
        assets_raw = _result(load_json_fixture(scenario.assets_file), "Assets")
        by_alt = {str(v["altname"]): k for k, v in pairs_raw.items()}
        history = round(scenario.history / scenario.step)
        self.paths: dict[str, PricePath] = {}
        specs = sorted(scenario.pairs, key=lambda s: s.derive is not None)
        for spec in specs:
            pair_id = spec.pair if spec.pair in pairs_raw else by_alt.get(spec.pair)
            if pair_id is None:
                raise ScenarioError(f"pair {spec.pair!r} is not in {scenario.asset_pairs_file}")
            meta = pair_meta(
                pair_id, pairs_raw[pair_id], spec, (scenario.maker_fee, scenario.taker_fee)
            )
            self.paths[pair_id] = PricePath(
                meta=meta,
                spec=spec,
                origin=origin,
                step=scenario.step,
                history_steps=history,
                seed=seed,
                derive=self._derivation(spec),
            )
        order = [by_alt.get(s.pair, s.pair) for s in scenario.pairs]
        self.paths = {pair_id: self.paths[pair_id] for pair_id in order}
        self.pair_names: dict[str, str] = {}
        for pair_id, path in self.paths.items():
            self.pair_names[pair_id] = pair_id
            self.pair_names[path.meta.altname] = pair_id
        used = {a for p in self.paths.values() for a in (p.meta.base, p.meta.quote)}
        self.assets: dict[str, Mapping[str, Any]] = {
            asset_id: entry for asset_id, entry in assets_raw.items() if asset_id in used
        }
        self.asset_names: dict[str, str] = {}
        for asset_id, entry in self.assets.items():
            self.asset_names[asset_id] = asset_id
            self.asset_names[str(entry.get("altname", asset_id))] = asset_id
        self.asset_decimals = {a: int(e.get("decimals", 10)) for a, e in self.assets.items()}
        self._tickers: dict[tuple[str, int, Decimal | None], dict[str, Any]] = {}

    def _derivation(self, spec: PairSpec) -> Any:
        if spec.derive is None:
            return None
        numerator, denominator = (self._known(name) for name in spec.derive)

        def derive(index: int) -> Decimal:
            return numerator.mid(index) / denominator.mid(index)

        return derive

    def _known(self, name: str) -> PricePath:
        for pair_id, path in self.paths.items():
            if name in {pair_id, path.meta.altname}:
                return path
        raise ScenarioError(f"derive: {name!r} must be a pair of the scenario with its own path")

    def pair(self, name: str) -> PricePath:
        """The path of a pair named by id or altname, else ``EQuery:Unknown asset pair``."""
        pair_id = self.pair_names.get(name)
        if pair_id is None:
            raise ApiError("EQuery:Unknown asset pair")
        return self.paths[pair_id]

    def meta(self, pair_id: str) -> PairMeta:
        """The metadata of a pair id."""
        return self.paths[pair_id].meta

    def asset(self, name: str) -> str:
        """The id of an asset named by id or altname, else ``EQuery:Unknown asset``."""
        asset_id = self.asset_names.get(name)
        if asset_id is None:
            raise ApiError("EQuery:Unknown asset")
        return asset_id

    def ticker(self, pair_id: str, now: float) -> dict[str, Any]:
        """The Ticker object of a pair, cached per step (and pinned price)."""
        path = self.paths[pair_id]
        index = path.index_at(now)
        key = (pair_id, index, path.pinned)
        entry = self._tickers.get(key)
        if entry is None:
            if len(self._tickers) > 256:
                self._tickers.clear()
            entry = self._tickers[key] = ticker_entry(path, index)
        return entry


def _result(doc: Any, what: str) -> Mapping[str, Any]:
    result = doc.get("result") if isinstance(doc, Mapping) else None
    if not isinstance(result, Mapping):
        raise ScenarioError(f"the {what} snapshot has no result mapping")
    return result
