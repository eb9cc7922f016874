"""The API secret never shows: not in reprs, exceptions, logs or stored responses."""

from __future__ import annotations

import logging
import pickle

import pytest
import requests

from kraken_bot.config import KrakenConfig
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.signing import SigningKeyError
from kraken_bot.region import Tier
from kraken_bot.secret import Secret

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
API_KEY = "test-api-key-0123456789"
FRAGMENTS = [SECRET, SECRET[:24], SECRET[-24:]]


def assert_clean(text: str) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in text


def test_repr_shows_base_url_and_tier_only(client):
    assert repr(client) == "KrakenRESTClient(base_url='https://api.kraken.test', tier='unlimited')"
    assert_clean(str(client))
    assert API_KEY not in repr(client)
    assert_clean(repr(vars(client)) if hasattr(client, "__dict__") else "")


def test_errors_and_logs_of_a_full_session_never_contain_the_secret(client, kraken, caplog):
    caplog.set_level(logging.DEBUG, logger="kraken_bot")
    kraken.reply({"descr": {"order": "buy"}, "txid": ["OA"]})
    ack = client.add_order(
        AddOrderRequest(pair="XBTUSD", side="buy", ordertype="market", volume="1")
    )
    kraken.reply(error=["EAPI:Invalid signature"])
    kraken.fail(requests.ReadTimeout("read timed out"))
    kraken.reply_raw(b"<html/>", status=502)
    texts = [ack.raw, repr(ack)]
    for _ in range(3):
        with pytest.raises(KrakenAPIError) as info:
            client.balance()
        texts += [str(info.value), repr(info.value), repr(info.value.__cause__)]
    assert caplog.records, "the client logs at debug level"
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert_clean(text)
    assert not any(kraken.requests[0].headers["API-Sign"] in r.getMessage() for r in caplog.records)
    assert not any("nonce=" in r.getMessage() for r in caplog.records)


def test_the_secret_is_only_a_signing_key_object_inside_the_client(client):
    for value in vars(client).values():
        assert_clean(repr(value))


def test_a_malformed_secret_fails_at_construction_without_echoing_it(clock):
    bad = "this-is-not*base64-but-is-secret"
    with pytest.raises(SigningKeyError) as info:
        KrakenRESTClient(api_key=API_KEY, api_secret=bad, clock=clock)
    assert bad not in str(info.value)
    assert bad not in repr(info.value)


def test_from_config_uses_the_configured_secret_url_tier_and_timeouts(clock, kraken, tmp_path):
    config = KrakenConfig(
        base_url="https://api.kraken.test",
        api_key=Secret(API_KEY),
        api_secret=Secret(SECRET),
        tier=Tier.PRO,
        connect_timeout_seconds=1.5,
        read_timeout_seconds=4.0,
        nonce_state_file=str(tmp_path / "kraken.nonce"),
    )
    with KrakenRESTClient.from_config(config, transport=kraken, clock=clock) as client:
        assert repr(client) == "KrakenRESTClient(base_url='https://api.kraken.test', tier='pro')"
        client.balance()
    assert kraken.timeouts == [(1.5, 4.0)]
    assert (tmp_path / "kraken.nonce").exists()
    assert kraken.requests[0].headers["API-Key"] == API_KEY


def test_the_signing_key_cannot_be_pickled_out_of_a_client(client):
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client._signing_key)
