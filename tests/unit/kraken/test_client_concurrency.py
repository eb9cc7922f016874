"""Concurrent private calls on one client reach Kraken in nonce order."""

from __future__ import annotations

import itertools
import json
import threading
from urllib.parse import parse_qsl


def test_eight_threads_reach_kraken_with_strictly_increasing_nonces(make_client, kraken, clock):
    arrivals: list[int] = []

    def handler(request):
        arrivals.append(int(dict(parse_qsl(request.body.decode()))["nonce"]))
        if len(arrivals) % 7 == 0:
            clock.step_wall(-0.5)  # the wall clock jitters backwards now and then
        return 200, json.dumps({"error": [], "result": {"ZUSD": "1"}}).encode()

    kraken.handler = handler
    client = make_client()
    barrier = threading.Barrier(8)

    def work():
        barrier.wait()
        for _ in range(100):
            client.balance()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(arrivals) == 800
    assert all(b > a for a, b in itertools.pairwise(arrivals))


def test_two_clients_sharing_a_nonce_source_never_reuse_a_nonce(make_client, kraken, clock):
    first = make_client()
    second = make_client(nonce_source=first.nonce_source)
    for _ in range(5):
        first.private("Balance")
        second.private("Balance")
    nonces = [int(kraken.form(i)["nonce"]) for i in range(10)]
    assert nonces == sorted(set(nonces))
