"""Fixtures for the fake-exchange tests: a virtual clock, exchanges, and a tiny signing client.

The client signs with its own few lines (kraken-api.md section 2), not with project code.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import itertools
import json
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.harness import THIN_LIQUIDITY

from kraken_sim import Exchange, Scenario, VirtualClock, load_scenario

START = datetime(2026, 1, 1, tzinfo=UTC)
BALANCES = {"ZUSD": Decimal(100000), "XXBT": Decimal(2), "XETH": Decimal(10), "SOL": Decimal(100)}


def api_sign(path: str, nonce: str, body: bytes, secret_b64: str) -> str:
    inner = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(secret_b64), path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class Kraken:
    """Talks to ``Exchange.handle`` directly, as a client would over HTTP."""

    def __init__(self, exchange: Exchange, key: str, secret: str) -> None:
        self.exchange = exchange
        self.key = key
        self.secret = secret
        self.nonces = itertools.count(1)

    def public_raw(self, method: str, **params: Any) -> tuple[int, dict[str, str], bytes]:
        query = urllib.parse.urlencode(params)
        path = f"/0/public/{method}" + (f"?{query}" if query else "")
        status, headers, body = self.exchange.handle("GET", path, {"User-Agent": "t"}, body=b"")
        return status, dict(headers), body

    def public(self, method: str, **params: Any) -> Any:
        status, _, body = self.public_raw(method, **params)
        assert status == 200
        return json.loads(body)

    def private_raw(
        self, method: str, *, as_json: bool = False, nonce: Any = None, **params: Any
    ) -> tuple[int, dict[str, str], bytes]:
        nonce = next(self.nonces) if nonce is None else nonce
        if as_json:
            body = json.dumps({"nonce": nonce, **params}, separators=(",", ":")).encode()
            content_type = "application/json"
        else:
            body = urllib.parse.urlencode({"nonce": nonce, **params}).encode()
            content_type = "application/x-www-form-urlencoded; charset=utf-8"
        path = f"/0/private/{method}"
        headers = {
            "API-Key": self.key,
            "API-Sign": api_sign(path, str(nonce), body, self.secret),
            "Content-Type": content_type,
        }
        status, reply_headers, reply = self.exchange.handle("POST", path, headers, body)
        return status, dict(reply_headers), reply

    def private(self, method: str, **params: Any) -> Any:
        status, _, body = self.private_raw(method, **params)
        assert status == 200
        return json.loads(body)

    def ok(self, method: str, **params: Any) -> Any:
        reply = self.private(method, **params)
        assert reply["error"] == [], reply
        return reply["result"]

    def errors(self, method: str, **params: Any) -> Any:
        reply = self.private(method, **params)
        assert "result" not in reply or reply["result"] == {}, reply
        return reply["error"]

    def buy(self, volume: str, price: str | None = None, pair: str = "XBTUSD", **extra: Any) -> Any:
        params = {"pair": pair, "type": "buy", "volume": volume, **extra}
        params["ordertype"] = "market" if price is None else "limit"
        if price is not None:
            params["price"] = price
        return self.ok("AddOrder", **params)["txid"][0]

    def sell(
        self, volume: str, price: str | None = None, pair: str = "XBTUSD", **extra: Any
    ) -> Any:
        params = {"pair": pair, "type": "sell", "volume": volume, **extra}
        params["ordertype"] = "market" if price is None else "limit"
        if price is not None:
            params["price"] = price
        return self.ok("AddOrder", **params)["txid"][0]

    def order(self, txid: str) -> Any:
        return self.ok("QueryOrders", txid=txid, trades="true")[txid]


def flat_scenario(**changes: Any) -> Scenario:
    """The thin world (`tests.harness.thin_world`: the matching tests count fills in its
    volumes, 0.25 BTC a minute is 0.04166666 BTC per 10-second step) with constant mids
    (set_price moves them), no faults, no limits."""
    base = load_scenario(None)
    pairs = tuple(
        dataclasses.replace(
            spec,
            points=((0.0, spec.mid),) if spec.mid is not None else spec.points,
            liquidity_per_min=Decimal(THIN_LIQUIDITY[spec.pair]),
        )
        for spec in base.pairs
    )
    fields: dict[str, Any] = {"pairs": pairs, "tier": "unlimited", "accounts": ()}
    fields.update(changes)
    return dataclasses.replace(base, **fields)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=START)


@pytest.fixture
def make_exchange(clock: VirtualClock) -> Callable[..., Exchange]:
    def make(scenario: Scenario | None = None, **kwargs: Any) -> Exchange:
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("faults", "none")
        return Exchange(scenario if scenario is not None else flat_scenario(), **kwargs)

    return make


@pytest.fixture
def exchange(make_exchange: Callable[..., Exchange]) -> Exchange:
    return make_exchange()


@pytest.fixture
def client_for() -> Callable[..., Kraken]:
    def make(
        exchange: Exchange, balances: dict[str, Decimal] | None = None, **account: Any
    ) -> Kraken:
        key, secret = exchange.create_account(
            dict(BALANCES if balances is None else balances), **account
        )
        return Kraken(exchange, key, secret)

    return make


@pytest.fixture
def kraken(exchange: Exchange, client_for: Callable[..., Kraken]) -> Kraken:
    return client_for(exchange)


@pytest.fixture
def signer() -> Callable[[str, str, bytes, str], str]:
    return api_sign


@pytest.fixture
def flat() -> Callable[..., Scenario]:
    return flat_scenario
