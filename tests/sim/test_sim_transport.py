"""SimTransport: a requests session runs against the engine without sockets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

import pytest
import requests

from kraken_sim import SimTransport

API = "https://api.kraken.com"


@pytest.fixture
def session(exchange):
    with requests.Session() as session:
        session.mount(API, SimTransport(exchange))
        yield session


def signed(kraken, method, nonce, **params):
    body = urllib.parse.urlencode({"nonce": nonce, **params})
    path = f"/0/private/{method}"
    inner = hashlib.sha256(str(nonce).encode() + body.encode()).digest()
    mac = hmac.new(base64.b64decode(kraken.secret), path.encode() + inner, hashlib.sha512)
    headers = {"API-Key": kraken.key, "API-Sign": base64.b64encode(mac.digest()).decode()}
    return API + path, body, headers


def test_a_public_get_with_query_parameters_gets_a_full_response(session):
    response = session.get(API + "/0/public/Ticker", params={"pair": "XBTUSD"}, timeout=5)
    assert response.status_code == 200
    assert response.reason == "OK"
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.url == API + "/0/public/Ticker?pair=XBTUSD"
    assert response.request.method == "GET"
    assert list(response.json()["result"]) == ["XXBTZUSD"]
    assert response.text.startswith('{"error":[]')


def test_a_signed_form_post_places_an_order(session, kraken):
    url, body, headers = signed(
        kraken,
        "AddOrder",
        1,
        pair="XBTUSD",
        type="buy",
        ordertype="limit",
        price="50000",
        volume="0.1",
    )
    reply = session.post(url, data=body, headers=headers, timeout=5).json()
    assert reply["error"] == []
    assert reply["result"]["descr"]["order"] == "buy 0.10000000 XBTUSD @ limit 50000.0"


def test_a_dict_body_encoded_by_requests_is_verified_over_its_bytes(session, kraken):
    params = {
        "nonce": "2",
        "pair": "XBTUSD",
        "type": "buy",
        "ordertype": "limit",
        "price": "50000",
        "volume": "0.1",
        "starttm": "+60",
    }
    url, _, headers = signed(
        kraken, "AddOrder", 2, **{k: v for k, v in params.items() if k != "nonce"}
    )
    reply = session.post(url, data=params, headers=headers, timeout=5).json()
    assert reply["error"] == []


def test_a_json_post_works(session, kraken):
    body = '{"nonce":"3","pair":"XBTUSD","type":"buy","ordertype":"market","volume":"0.01"}'
    path = "/0/private/AddOrder"
    inner = hashlib.sha256(b"3" + body.encode()).digest()
    mac = hmac.new(base64.b64decode(kraken.secret), path.encode() + inner, hashlib.sha512)
    headers = {
        "API-Key": kraken.key,
        "API-Sign": base64.b64encode(mac.digest()).decode(),
        "Content-Type": "application/json",
    }
    assert session.post(API + path, data=body, headers=headers, timeout=5).json()["error"] == []


def test_the_transport_honours_the_timeout_forms_requests_accepts(exchange, session, kraken):
    exchange.set_faults(
        {"schedule": [{"kind": "lost_response", "endpoint": "Balance", "call": [1, 2, 3]}]}
    )
    waited: list[float] = []
    for timeout in (4, (1, 6), None):
        before = exchange.clock.now()
        url, body, headers = signed(kraken, "Balance", len(waited) + 10)
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.post(url, data=body, headers=headers, timeout=timeout)
        waited.append((exchange.clock.now() - before).total_seconds())
    assert waited == [4.0, 6.0, 30.0]


def test_errors_and_5xx_come_back_as_responses(exchange, session):
    exchange.set_faults(
        {"schedule": [{"kind": "http_5xx", "endpoint": "Time", "call": 1, "statuses": [503]}]}
    )
    response = session.get(API + "/0/public/Time", timeout=5)
    assert (response.status_code, response.reason) == (503, "Service Unavailable")
    with pytest.raises(requests.exceptions.HTTPError):
        response.raise_for_status()
    assert session.get(API + "/0/public/Time", timeout=5).ok
