"""The HTTP front over loopback: keep-alive, concurrency, hostile input, and krakenex unchanged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
import urllib.parse
from decimal import Decimal
from urllib.parse import parse_qsl

import krakenex
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from kraken_sim import SimServer, WallClock, serve, wire

pytestmark = pytest.mark.http


class CountingKrakenex(krakenex.API):  # type: ignore[misc]  # krakenex is untyped
    """krakenex with a strictly increasing nonce (its own is milliseconds, which repeat)."""

    def __init__(self, key, secret):
        super().__init__(key, secret)
        self._counter = itertools.count(int(time.time() * 1000))

    def _nonce(self):
        return next(self._counter)


@pytest.fixture
def server(exchange):
    with serve(exchange) as server:
        yield server


@pytest.fixture
def api(server, kraken):
    client = CountingKrakenex(kraken.key, kraken.secret)
    client.uri = server.base_url
    yield client
    client.close()


def raw_exchange(server, payload, *, read_until_close=True, timeout=5.0):
    host, port = server.server_address[:2]
    with socket.create_connection((str(host), port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
    return b"".join(chunks)


def test_the_server_binds_loopback_only(exchange):
    with pytest.raises(ValueError, match="loopback"):
        SimServer(exchange, "0.0.0.0")


def test_krakenex_loads_markets_ticker_and_balance(api):
    pairs = api.query_public("AssetPairs")
    assert pairs["error"] == []
    assert "XXBTZUSD" in pairs["result"]
    ticker = api.query_public("Ticker", {"pair": "XBTUSD"})
    assert list(ticker["result"]) == ["XXBTZUSD"]
    assert api.query_public("Time")["result"]["unixtime"] == 1767225600
    balance = api.query_private("Balance")
    assert balance == {
        "error": [],
        "result": {
            "ZUSD": "100000.0000",
            "XXBT": "2.0000000000",
            "XETH": "10.0000000000",
            "SOL": "100.0000000000",
        },
    }


def test_krakenex_validates_places_lists_and_cancels_orders(api, exchange, kraken):
    order = {
        "pair": "XBTUSD",
        "type": "buy",
        "ordertype": "limit",
        "price": "50000",
        "volume": "0.01",
    }
    validated = api.query_private("AddOrder", {**order, "validate": "true"})
    assert validated == {
        "error": [],
        "result": {"descr": {"order": "buy 0.01000000 XBTUSD @ limit 50000.0"}},
    }
    placed = api.query_private("AddOrder", {**order, "userref": 12})
    (txid,) = placed["result"]["txid"]
    assert list(api.query_private("OpenOrders")["result"]["open"]) == [txid]
    assert api.query_private("QueryOrders", {"txid": txid})["result"][txid]["userref"] == 12
    assert api.query_private("CancelOrder", {"txid": txid})["result"] == {
        "count": 1,
        "pending": False,
    }
    closed = api.query_private("ClosedOrders")["result"]
    assert closed["count"] == 1
    assert closed["closed"][txid]["status"] == "canceled"
    assert api.query_private("CancelAllOrdersAfter", {"timeout": 60})["error"] == []
    assert [o.status for o in exchange.orders(kraken.key)] == ["canceled"]


def test_krakenex_sees_errors_in_the_envelope(api):
    reply = api.query_private(
        "AddOrder",
        {
            "pair": "XBTUSD",
            "type": "buy",
            "ordertype": "limit",
            "price": "50000",
            "volume": "0.00001",
        },
    )
    assert reply == {"error": ["EOrder:Order minimum not met"]}


def sign(path, nonce, body, secret):
    inner = hashlib.sha256(nonce.encode() + body).digest()
    return base64.b64encode(
        hmac.new(base64.b64decode(secret), path.encode() + inner, hashlib.sha512).digest()
    ).decode()


def test_a_keep_alive_session_is_not_stalled_by_delayed_acks(server, kraken):
    nonces = itertools.count(1)
    with requests.Session() as session:
        session.get(server.base_url + "/0/public/Time", timeout=5)
        started = time.perf_counter()
        for _ in range(100):
            nonce = str(next(nonces))
            body = f"nonce={nonce}".encode()
            headers = {
                "API-Key": kraken.key,
                "API-Sign": sign("/0/private/Balance", nonce, body, kraken.secret),
            }
            assert session.post(
                server.base_url + "/0/private/Balance", data=body, headers=headers, timeout=5
            ).ok
            assert session.get(server.base_url + "/0/public/Ticker", timeout=5).ok
        elapsed = time.perf_counter() - started
    assert elapsed < 2.0  # 200 requests; a delayed-ACK stall would take ~8 s


def test_many_concurrent_clients_are_served(server, exchange, client_for):
    clients = [client_for(exchange) for _ in range(8)]
    failures = []

    def work(client):
        try:
            with requests.Session() as session:
                for nonce in range(1, 26):
                    body = urllib.parse.urlencode(
                        {
                            "nonce": nonce,
                            "pair": "SOLUSD",
                            "type": "buy",
                            "ordertype": "limit",
                            "price": "100",
                            "volume": "0.1",
                        }
                    ).encode()
                    headers = {
                        "API-Key": client.key,
                        "API-Sign": sign("/0/private/AddOrder", str(nonce), body, client.secret),
                    }
                    reply = session.post(
                        server.base_url + "/0/private/AddOrder",
                        data=body,
                        headers=headers,
                        timeout=10,
                    ).json()
                    if reply["error"]:
                        failures.append(reply)
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert [len(exchange.orders(c.key)) for c in clients] == [25] * 8
    txids = [o.txid for c in clients for o in exchange.orders(c.key)]
    assert len(set(txids)) == 200


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET /0/public/Time HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"POST /0/private/Balance HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", b"413"),
        (b"POST /0/private/Balance HTTP/1.1\r\nContent-Length: lots\r\n\r\n", b"400"),
        (
            b"POST /0/private/Balance HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"411",
        ),
        (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n",
            b"431",
        ),
    ],
)
def test_hostile_requests_get_an_error_and_the_server_carries_on(server, payload, status):
    reply = raw_exchange(server, payload)
    assert reply.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close" in reply
    assert requests.get(server.base_url + "/0/public/Time", timeout=5).ok


def test_a_truncated_body_gets_400(server):
    host, port = server.server_address[:2]
    with socket.create_connection((str(host), port), timeout=5) as sock:
        sock.sendall(b"POST /0/private/Balance HTTP/1.1\r\nContent-Length: 50\r\n\r\nnonce=1")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1024).startswith(b"HTTP/1.1 400")


def test_a_too_slow_client_gets_408_and_others_are_served_meanwhile(exchange):
    server = SimServer(exchange, io_timeout=0.3, request_deadline=0.5)
    server.start(settle_every=None)
    try:
        host, port = server.server_address[:2]
        with socket.create_connection((str(host), port), timeout=5) as slow:
            slow.sendall(b"POST /0/private/Balance HTTP/1.1\r\nContent-Length: 5\r\n")
            assert requests.get(server.base_url + "/0/public/Time", timeout=5).ok
            assert slow.recv(1024).startswith(b"HTTP/1.1 408")
        assert requests.get(server.base_url + "/0/public/Time", timeout=5).ok
    finally:
        server.close()


def test_http_10_closes_and_http_11_keeps_alive(server):
    assert b"Connection: close" in raw_exchange(server, b"GET /0/public/Time HTTP/1.0\r\n\r\n")
    reply = raw_exchange(
        server, b"GET /0/public/Time HTTP/1.1\r\nHost: x\r\n\r\n", read_until_close=False
    )
    assert b"Connection: keep-alive" in reply
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"Content-Length: %d" % len(body) in head
    assert json.loads(body)["result"]["unixtime"] == 1767225600


def test_expect_100_continue_is_honoured(server):
    host, port = server.server_address[:2]
    with socket.create_connection((str(host), port), timeout=5) as sock:
        sock.sendall(
            b"POST /0/public/Time HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"a=1")
        assert b"HTTP/1.1 200 OK" in sock.recv(4096)


def test_localhost_means_the_ipv4_loopback(exchange):
    with serve(exchange, host="localhost") as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert requests.get(server.base_url + "/0/public/Time", timeout=5).ok


def test_pipelined_requests_on_one_connection_are_all_answered(server):
    request = b"GET /0/public/Time HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = raw_exchange(
        server, request * 3 + b"GET /0/public/Time HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    assert reply.count(b"HTTP/1.1 200 OK") == 4


def test_a_lost_response_closes_the_connection_after_the_order_is_placed(exchange, server, kraken):
    exchange.set_faults(
        {"schedule": [{"kind": "lost_response", "endpoint": "AddOrder", "call": 1}]}
    )
    body = urllib.parse.urlencode(
        {
            "nonce": 1,
            "pair": "XBTUSD",
            "type": "buy",
            "ordertype": "limit",
            "price": "50000",
            "volume": "0.01",
        }
    ).encode()
    headers = {
        "API-Key": kraken.key,
        "API-Sign": sign("/0/private/AddOrder", "1", body, kraken.secret),
    }
    with requests.Session() as session, pytest.raises(requests.exceptions.ConnectionError):
        session.post(server.base_url + "/0/private/AddOrder", data=body, headers=headers, timeout=5)
    assert len(exchange.orders(kraken.key)) == 1


def test_a_5xx_fault_is_a_real_http_status(exchange, server):
    exchange.set_faults(
        {"schedule": [{"kind": "http_5xx", "endpoint": "Time", "call": 1, "statuses": [502]}]}
    )
    response = requests.get(server.base_url + "/0/public/Time", timeout=5)
    assert response.status_code == 502
    assert "Bad Gateway" in response.text


def test_a_wall_clock_exchange_fills_resting_orders_in_real_time(make_exchange, flat, client_for):
    exchange = make_exchange(flat(step=0.2), clock=WallClock())
    client = client_for(exchange)
    txid = client.buy("0.0005", "60003")  # above the mid, below the ask: rests, then fills
    with serve(exchange, settle_every=0.05):
        deadline = time.monotonic() + 10
        while exchange.orders(client.key)[0].status == "open" and time.monotonic() < deadline:
            time.sleep(0.05)
    info = client.order(txid)
    assert (info["status"], info["price"]) == ("closed", "60003.0")


def test_the_engine_serves_json_and_money_as_strings_over_http(server, kraken):
    with requests.Session() as session:
        ticker = session.get(server.base_url + "/0/public/Ticker?pair=SOLUSD", timeout=5).json()
    ask = ticker["result"]["SOLUSD"]["a"][0]
    assert isinstance(ask, str)
    assert Decimal(ask) > 0


@given(
    query=st.lists(
        st.tuples(
            st.text(alphabet="abcxyz[]_=.:-%+ 0123456789", max_size=8),
            st.booleans(),
            st.text(alphabet="abcxyz[]_=.:-%+ 0123456789", max_size=8),
        ),
        max_size=6,
    ).map(lambda fields: "&".join(k + ("=" + v if eq else "") for k, eq, v in fields))
)
def test_the_fakes_form_reader_reads_what_parse_qsl_reads(query):
    """The fake splits a body with nothing escaped itself; whatever the body, it reads the
    same fields as ``urllib.parse.parse_qsl`` keeping blank values."""
    assert wire._fields(query) == parse_qsl(query, keep_blank_values=True)
