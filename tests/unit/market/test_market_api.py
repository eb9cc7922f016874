"""MarketDataAPI: cached pair metadata under any name, and one Ticker call for many prices."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from requests.adapters import BaseAdapter

from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.errors import UnexpectedResponseError
from kraken_bot.kraken.pairs import PairUniverse
from kraken_bot.market.api import MarketData, MarketDataAPI, StaticMarketData, UnknownPairError


@pytest.fixture
def api(fake_market, market_clock):
    return MarketDataAPI(fake_market, clock=market_clock, metadata_ttl_seconds=600)


@pytest.mark.parametrize("name", ["XBTUSD", "XXBTZUSD", "XBT/USD", "xbt/usd", "BTC/USD", "BTCUSD"])
def test_pair_metadata_is_found_under_any_of_krakens_names(api, name):
    meta = api.get_pair_metadata(name)
    assert meta.altname == "XBTUSD"
    assert meta.rest_symbol == "XXBTZUSD"
    assert (meta.lot_decimals, meta.pair_decimals, meta.ordermin, meta.tick_size) == (
        8,
        1,
        Decimal("0.00005"),
        Decimal("0.1"),
    )


def test_an_unknown_pair_raises_a_lookup_error_naming_it(api):
    with pytest.raises(UnknownPairError, match="DOGEEUR") as info:
        api.get_pair_metadata("DOGEEUR")
    assert isinstance(info.value, LookupError)
    assert info.value.pair == "DOGEEUR"
    assert "3 pairs" in str(info.value)


def test_metadata_is_cached_until_the_ttl_passes(api, fake_market, market_clock):
    api.get_pair_metadata("XBTUSD")
    api.get_pair_metadata("ETHUSD")
    market_clock.advance(599)
    api.get_pair_metadata("SOLUSD")
    assert fake_market.asset_pair_calls == 1
    fake_market.pairs["XXBTZUSD"] = {**fake_market.pairs["XXBTZUSD"], "ordermin": "0.0001"}
    market_clock.advance(1)
    assert api.get_pair_metadata("XBTUSD").ordermin == Decimal("0.0001")
    assert fake_market.asset_pair_calls == 2


def test_refresh_reads_asset_pairs_now(api, fake_market):
    api.universe()
    api.refresh()
    assert fake_market.asset_pair_calls == 2


def test_latest_price_is_the_mid_of_best_bid_and_ask_stamped_when_read(api, market_clock):
    api.universe()
    quote = api.get_latest_price("BTC/USD")
    assert quote.pair == "XBTUSD"
    assert quote.mid == Decimal("60000.0")
    assert quote.at == market_clock.now()  # after the reply arrived, not before the call


def test_many_prices_take_one_ticker_call_keyed_by_altname(api, fake_market):
    quotes = api.get_latest_prices(["XBT/USD", "XETHZUSD", "SOLUSD", "XBTUSD"])
    assert fake_market.ticker_calls == [["XXBTZUSD", "XETHZUSD", "SOLUSD"]]
    assert set(quotes) == {"XBTUSD", "ETHUSD", "SOLUSD"}
    assert quotes["ETHUSD"].mid == Decimal("3000.0")


def test_no_pairs_means_no_call(api, fake_market):
    assert api.get_latest_prices([]) == {}
    assert fake_market.ticker_calls == []


def test_a_price_missing_from_the_reply_is_an_error(api, fake_market):
    del fake_market.books["SOLUSD"]
    with pytest.raises(UnexpectedResponseError, match="SOLUSD"):
        api.get_latest_prices(["SOLUSD", "XBTUSD"])


def test_an_unknown_pair_in_a_price_request_fails_before_calling_ticker(api, fake_market):
    with pytest.raises(UnknownPairError):
        api.get_latest_prices(["XBTUSD", "NOPE"])
    assert fake_market.ticker_calls == []


def test_ttl_must_be_positive(fake_market, market_clock):
    with pytest.raises(ValueError, match="ttl"):
        MarketDataAPI(fake_market, clock=market_clock, metadata_ttl_seconds=0)


def test_static_market_data_is_a_market_data(fake_market, market_clock):
    universe = fake_market.asset_pairs()
    live = MarketDataAPI(fake_market, clock=market_clock)
    quotes = live.get_latest_prices(["XBTUSD", "ETHUSD"])
    static = StaticMarketData(universe, {"XBT/USD": quotes["XBTUSD"], "XETHZUSD": quotes["ETHUSD"]})
    ports: list[MarketData] = [live, static]
    for port in ports:
        assert set(port.get_latest_prices(["XXBTZUSD", "ETH/USD"])) == {"XBTUSD", "ETHUSD"}
        assert port.universe().resolve("SOLUSD").unwrap().ordermin == Decimal("0.06")
    assert static.get_latest_price("xbtusd").pair == "XBTUSD"
    assert static.get_pair_metadata("ETH/USD").rest_symbol == "XETHZUSD"
    with pytest.raises(UnknownPairError, match="no quote"):
        static.get_latest_prices(["SOLUSD"])
    with pytest.raises(UnknownPairError):
        StaticMarketData(universe, {"NOPE": quotes["XBTUSD"]})


class _TickerAdapter(BaseAdapter):
    """Kraken over HTTP for the real client: AssetPairs and Ticker replies."""

    def __init__(self, pairs, books):
        super().__init__()
        self.pairs, self.books, self.urls = pairs, books, []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.urls.append(request.url)
        if "/AssetPairs" in request.url:
            result = self.pairs
        else:
            result = {
                k: {"a": [a, "1", "1.000"], "b": [b, "1", "1.000"], "c": [a, "0.1"]}
                for k, (b, a) in self.books.items()
            }
        response = requests.Response()
        response.status_code = 200
        response.raw = io.BytesIO(json.dumps({"error": [], "result": result}).encode())
        return response

    def close(self):
        pass


def test_with_the_real_client_over_http(fake_market, market_clock):
    adapter = _TickerAdapter(fake_market.pairs, fake_market.books)
    with KrakenRESTClient(
        base_url="https://api.kraken.test", tier="unlimited", transport=adapter, clock=market_clock
    ) as client:
        api = MarketDataAPI(client, clock=market_clock)
        market_clock.advance(3)
        quotes = api.get_latest_prices(["XBT/USD", "SOL/USD"])
    assert adapter.urls[-1] == "https://api.kraken.test/0/public/Ticker?pair=XXBTZUSD%2CSOLUSD"
    assert quotes["SOLUSD"].mid == Decimal("100.0")
    assert quotes["XBTUSD"].age_seconds(market_clock.now() + timedelta(seconds=2)) == 2.0
    assert isinstance(api.universe(), PairUniverse)
