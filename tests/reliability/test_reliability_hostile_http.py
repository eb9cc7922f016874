"""Hostile requests to the served fake exchange get an error answer and never stop the server.

Malformed request lines, bad or missing lengths, oversized bodies, chunked
bodies, oversized lines and headers, binary junk, requests cut short, clients
that trickle bytes or stall half-way, and hundreds of connections at once: each
gets an HTTP error (or the connection closed), and afterwards the server still
answers ``Time``. Most tests use an in-process `SimServer` with short socket
deadlines; one drives ``krakked sim serve`` in its own process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Final

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.figures import Figures

from kraken_sim import Exchange, SimServer, WallClock, load_scenario

pytestmark = pytest.mark.http

IO_TIMEOUT: Final = 1.0
REQUEST_DEADLINE: Final = 1.0
READ_LIMIT: Final = 5.0


@pytest.fixture
def server() -> Iterator[SimServer]:
    exchange = Exchange(load_scenario(None), seed=1, clock=WallClock(), faults="none")
    exchange.create_account({"ZUSD": Decimal(1000)})
    sim = SimServer(exchange, io_timeout=IO_TIMEOUT, request_deadline=REQUEST_DEADLINE)
    sim.start()
    try:
        yield sim
    finally:
        sim.close()


def address(server: SimServer) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return str(host), int(port)


def read_all(sock: socket.socket) -> bytes:
    sock.settimeout(READ_LIMIT)
    chunks = []
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def exchange_bytes(server: SimServer, payload: bytes, *, close_write: bool = True) -> bytes:
    """Send ``payload`` on a fresh connection and return everything the server answers."""
    with socket.create_connection(address(server), timeout=READ_LIMIT) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(payload)
        if close_write:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        return read_all(sock)


def status_of(answer: bytes) -> int | None:
    """The status code of the first response in ``answer`` (None: no answer at all)."""
    if not answer:
        return None
    line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    assert line.startswith("HTTP/1.1 "), answer[:200]
    return int(line.split()[1])


def still_serves(server: SimServer) -> None:
    reply = requests.get(f"{server.base_url}/0/public/Time", timeout=READ_LIMIT)
    assert reply.status_code == 200
    assert reply.json()["result"]["unixtime"] > 0


HEAD: Final = b"POST /0/private/Balance HTTP/1.1\r\nHost: x\r\n"
CASES: Final = {
    "garbage line": (b"GARBAGE\r\n\r\n", {400}),
    "tls hello": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40), {400}),
    "http2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400}),
    "bad length": (HEAD + b"Content-Length: abc\r\n\r\n", {400}),
    "negative length": (HEAD + b"Content-Length: -5\r\n\r\nhello", {400}),
    "length beyond the body": (HEAD + b"Content-Length: 500\r\n\r\nshort", {400}),
    "oversized body": (HEAD + b"Content-Length: 2000000\r\n\r\n" + b"x" * 65536, {413}),
    "chunked body": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", {411}),
    "long request line": (b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n", {414}),
    "long header": (b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 10_000 + b"\r\n\r\n", {431}),
    "many headers": (
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n",
        {431},
    ),
    "header without colon": (b"GET / HTTP/1.1\r\nNoColonHere\r\n\r\n", {400}),
    "header with space before colon": (b"GET / HTTP/1.1\r\nBad : x\r\n\r\n", {400}),
    "nul bytes": (b"GET /\x00 HTTP/1.1\r\n\x00\r\n\r\n", {400, 200}),
    "cut short": (b"GET /0/public/Time HTTP/1.1\r\nHost: x\r\n", {400}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_request_gets_an_error_and_the_server_keeps_serving(server, case, figures):
    payload, expected = CASES[case]
    figures.add("bad_inputs")
    assert status_of(exchange_bytes(server, payload)) in expected
    still_serves(server)


KRAKEN_ERRORS: Final = {
    "unknown method": (b"DELETE /0/public/Time HTTP/1.1\r\n\r\n", "EGeneral:Unknown method"),
    "path traversal": (
        b"GET /0/public/../private/Balance HTTP/1.1\r\n\r\n",
        "EGeneral:Unknown method",
    ),
    "private without a key": (HEAD + b"Content-Length: 0\r\n\r\n", "EAPI:Invalid key"),
    "private with a bad signature": (
        (
            b"POST /0/private/AddOrder HTTP/1.1\r\nAPI-Key: nobody\r\nAPI-Sign: !!!\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\n"
            b"nonce=abc"
        ),
        "EAPI:Invalid key",
    ),
    "junk form body": (
        (
            b"POST /0/private/Balance HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded"
            b"\r\nContent-Length: 12\r\n\r\n%%%&&&===\xff\xfe\x00"
        ),
        "EGeneral:Invalid arguments",
    ),
}


@pytest.mark.parametrize("case", sorted(KRAKEN_ERRORS))
def test_a_well_formed_but_hostile_request_gets_a_kraken_error(server, case, figures):
    payload, error = KRAKEN_ERRORS[case]
    figures.add("bad_inputs")
    answer = exchange_bytes(server, payload)
    assert status_of(answer) == 200
    assert error.encode() in answer
    still_serves(server)


def random_bytes_never_stop_the_server(server: SimServer, figures: Figures, count: int) -> None:
    @given(
        prefix=st.sampled_from(
            (b"", b"GET /0/public/Time HTTP/1.1\r\n", b"POST /0/private/AddOrder HTTP/1.1\r\n")
        ),
        junk=st.binary(max_size=400),
    )
    @settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    def answered(prefix: bytes, junk: bytes) -> None:
        figures.add("bad_inputs")
        status = status_of(exchange_bytes(server, prefix + junk))
        assert status is None or 200 <= status <= 599

    answered()
    still_serves(server)


def test_random_bytes_never_stop_the_server(server, figures):
    random_bytes_never_stop_the_server(server, figures, 60)
    assert figures.counts["bad_inputs"] > 0


@pytest.mark.slow
def test_chaos_campaign_of_random_bytes(server, figures):
    random_bytes_never_stop_the_server(server, figures, 2000)
    assert figures.counts["bad_inputs"] > 0


def test_a_client_that_stalls_half_way_gets_408_and_others_are_served_meanwhile(server, figures):
    figures.add("bad_inputs", 2)
    with socket.create_connection(address(server), timeout=READ_LIMIT) as stalled:
        stalled.sendall(b"GET /0/public/Time HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        still_serves(server)  # while it stalls
        started = time.monotonic()
        assert status_of(read_all(stalled)) == 408
        assert time.monotonic() - started < READ_LIMIT
    with socket.create_connection(address(server), timeout=READ_LIMIT) as trickling:
        trickling.sendall(b"GET /0/public/Time HTTP/1.1\r\n")
        for header in (b"X-A: 1\r\n", b"X-B: 2\r\n", b"X-C: 3\r\n"):  # one every 0.6 s
            for byte in header:
                with contextlib.suppress(OSError):  # the server may give up on us first
                    trickling.sendall(bytes([byte]))
                time.sleep(0.075)
        assert status_of(read_all(trickling)) == 408
    still_serves(server)


def test_a_body_that_never_comes_gets_408(server, figures):
    figures.add("bad_inputs")
    with socket.create_connection(address(server), timeout=READ_LIMIT) as sock:
        sock.sendall(HEAD + b"Content-Length: 100\r\n\r\nonly-part")
        assert status_of(read_all(sock)) in {400, 408}
    still_serves(server)


def test_hundreds_of_connections_at_once_do_not_stop_the_server(server, figures):
    idle: list[socket.socket] = []
    try:
        idle.extend(
            socket.create_connection(address(server), timeout=READ_LIMIT) for _ in range(300)
        )
        figures.add("bad_inputs", len(idle))
        still_serves(server)
        answers: list[int | None] = []

        def hammer() -> None:
            answers.append(status_of(exchange_bytes(server, b"GARBAGE\r\n\r\n")))

        threads = [threading.Thread(target=hammer) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(READ_LIMIT * 2)
        figures.add("bad_inputs", len(threads))
        assert answers.count(400) == len(threads)
        still_serves(server)
    finally:
        for sock in idle:
            sock.close()
    still_serves(server)


# ---------------------------------------------------------------- `krakked sim serve` itself


def test_krakked_sim_serve_survives_hostile_requests_and_stops_cleanly(figures):
    with subprocess.Popen(
        [sys.executable, "-m", "kraken_bot.cli", "sim", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")},
    ) as process:
        serve_hostile(process, figures)
    assert process.returncode == 0


def serve_hostile(process: subprocess.Popen[str], figures: Figures) -> None:
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            if line.startswith("base_url: "):
                url = line.split(": ", 1)[1].strip()
            if line.startswith("Press Ctrl-C"):
                break
        assert url.startswith("http://127.0.0.1:")
        host, port = url.removeprefix("http://").rsplit(":", 1)
        for payload, expected in (CASES["garbage line"], CASES["oversized body"]):
            figures.add("bad_inputs")
            with socket.create_connection((host, int(port)), timeout=READ_LIMIT) as sock:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)
                assert status_of(read_all(sock)) in expected
        reply = requests.get(f"{url}/0/public/Time", timeout=READ_LIMIT)
        assert reply.json()["result"]["unixtime"] > 0
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
