"""Public REST methods: Time, SystemStatus, Assets, AssetPairs, Ticker, OHLC, Depth.

Requests name pairs by id or altname; results are keyed by pair id (section 10 item 7).
"""

from __future__ import annotations

from typing import Any, Final

from kraken_sim.call import Call
from kraken_sim.market import OHLC_INTERVALS, PricePath, ohlc_rows
from kraken_sim.wire import fmt_decimal, invalid, rfc1123, rfc3339

__all__ = ["asset_pairs", "assets", "depth", "ohlc", "system_status", "ticker", "time_"]


def time_(call: Call) -> object:
    return {"unixtime": int(call.now), "rfc1123": rfc1123(call.moment)}


def system_status(call: Call) -> object:
    return {"status": call.system_status, "timestamp": rfc3339(call.moment)}


def assets(call: Call) -> object:
    venue = call.venue
    wanted = [venue.asset(name) for name in call.params.csv("asset")] or list(venue.assets)
    return {asset_id: dict(venue.assets[asset_id]) for asset_id in wanted}


_INFO_FIELDS: Final = {
    "leverage": ("leverage_buy", "leverage_sell"),
    "fees": ("fees", "fees_maker", "fee_volume_currency"),
    "margin": ("margin_call", "margin_stop", "margin_level"),
}


def asset_pairs(call: Call) -> object:
    info = call.params.text("info") or "info"
    if info != "info" and info not in _INFO_FIELDS:
        raise invalid("info")
    result: dict[str, Any] = {}
    for path in _pairs(call, required=False):
        raw = path.meta.raw
        if info == "info":
            result[path.meta.pair_id] = dict(raw)
        else:
            result[path.meta.pair_id] = {k: raw[k] for k in _INFO_FIELDS[info] if k in raw}
    return result


def ticker(call: Call) -> object:
    return {
        p.meta.pair_id: call.venue.ticker(p.meta.pair_id, call.now)
        for p in _pairs(call, required=False)
    }


def ohlc(call: Call) -> object:
    path = call.venue.pair(call.params.text("pair", required=True) or "")
    interval = call.params.integer("interval") or 1
    if interval not in OHLC_INTERVALS:
        raise invalid("interval")
    rows, last = ohlc_rows(path, path.index_at(call.now), interval, call.params.integer("since"))
    return {path.meta.pair_id: rows, "last": last}


def depth(call: Call) -> object:
    path = call.venue.pair(call.params.text("pair", required=True) or "")
    count = min(max(call.params.integer("count") or 100, 1), 500)
    index = path.index_at(call.now)
    stamp = int(call.now)
    decimals = path.meta.pair_decimals

    def side(name: str) -> list[list[Any]]:
        rows = []
        for (price, size), _ in zip(path.levels(index, name), range(count), strict=False):
            rows.append(
                [fmt_decimal(price, decimals), fmt_decimal(size, path.meta.lot_decimals), stamp]
            )
        return rows

    return {path.meta.pair_id: {"asks": side("buy"), "bids": side("sell")}}


def _pairs(call: Call, *, required: bool) -> list[PricePath]:
    names = call.params.csv("pair")
    if not names and required:
        raise invalid("pair")
    if not names:
        return list(call.venue.paths.values())
    return [call.venue.pair(name) for name in names]
