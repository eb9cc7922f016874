"""Benchmark of the Kraken REST client: per-call overhead and rate-limit efficiency.

Usage: ``python bench/bench_client.py [--quick]``

1. Overhead per private call (nonce, form encoding, signing, `requests` plumbing
   through an in-process transport that answers instantly with canned JSON,
   envelope decoding, typed parsing), tier ``unlimited``, in microseconds.
2. Rate-limit efficiency on virtual time: N=200 AddOrders on one pair under tier
   ``starter``; virtual time taken divided by the minimum the tier allows
   (``(N - 60) / 1.0`` seconds: 60 fit the empty trading counter, then it
   decays one unit per second). The transport keeps Kraken's counter on its own
   side and counts refusals, which must be zero.

Prints a short table, then one ``name: value unit`` line per headline figure.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import requests
from requests.adapters import BaseAdapter

from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.signing import decode_secret, form_body, sign_with_key
from kraken_bot.kraken.types import parse_add_order

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
ADD_ORDER_REPLY = json.dumps(
    {
        "error": [],
        "result": {
            "descr": {"order": "buy 0.00100000 XBTUSD @ limit 50000.0"},
            "txid": ["OU22CG-KLAF2-FWUDD7"],
        },
    }
).encode()
BALANCE_REPLY = json.dumps(
    {"error": [], "result": {"ZUSD": "171288.6158", "XXBT": "1011.1908877900"}}
).encode()
ORDER = AddOrderRequest(
    pair="XXBTZUSD",
    side="buy",
    ordertype="limit",
    volume="0.00100000",
    price="50000.0",
    cl_ord_id="6d1b345e-2821-40e2-ad83-4ecb18a06876",
)


class CannedTransport(BaseAdapter):
    """Answers every request at once with a fixed body."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def send(self, request, **_options):
        response = requests.Response()
        response.status_code = 200
        response.raw = io.BytesIO(self.body)
        response.request = request
        return response

    def close(self):
        pass


class VirtualClock:
    def __init__(self):
        self.wall = datetime(2026, 1, 1, tzinfo=UTC)
        self.mono = 0.0

    def now(self):
        return self.wall

    def monotonic(self):
        return self.mono

    def sleep(self, seconds):
        if seconds > 0:
            self.mono += seconds
            self.wall += timedelta(seconds=seconds)


class CountingExchange(BaseAdapter):
    """Kraken's per-pair trading counter kept server-side (starter: 60, -1/s)."""

    def __init__(self, clock, maximum=60.0, decay=1.0):
        super().__init__()
        self.clock, self.maximum, self.decay = clock, maximum, decay
        self.level, self.at = 0.0, 0.0
        self.refusals = 0
        self.ids = itertools.count()

    def send(self, request, **_options):
        now = self.clock.monotonic()
        level = max(0.0, self.level - (now - self.at) * self.decay)
        form = dict(parse_qsl(request.body.decode()))
        assert form["pair"] == "XXBTZUSD"
        if level + 1 > self.maximum:
            self.refusals += 1
            payload = {"error": ["EOrder:Rate limit exceeded"]}
        else:
            self.level, self.at = level + 1, now
            payload = {"error": [], "result": {"txid": [f"O{next(self.ids):05d}-AAAAA-BBBBBB"]}}
        response = requests.Response()
        response.status_code = 200
        response.raw = io.BytesIO(json.dumps(payload).encode())
        return response

    def close(self):
        pass


def _per_call_us(fn, calls, repeats):
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(samples)


def bench_overhead(calls, repeats):
    add = KrakenRESTClient(
        api_key="bench-key",
        api_secret=SECRET,
        tier="unlimited",
        transport=CannedTransport(ADD_ORDER_REPLY),
    )
    bal = KrakenRESTClient(
        api_key="bench-key",
        api_secret=SECRET,
        tier="unlimited",
        transport=CannedTransport(BALANCE_REPLY),
    )
    key = decode_secret(SECRET)
    fields = list(ORDER.to_params().items())
    nonce = itertools.count(1_700_000_000_000)

    def sign_only():
        text, body = form_body(next(nonce), fields)
        sign_with_key("/0/private/AddOrder", text, body, key)

    rows = {
        "encode + sign (AddOrder body)": _per_call_us(sign_only, calls, repeats),
        "nonce": _per_call_us(add.nonce_source.next, calls, repeats),
        "parse AddOrder result": _per_call_us(
            lambda: parse_add_order(json.loads(ADD_ORDER_REPLY)["result"]), calls, repeats
        ),
        "private Balance (full call)": _per_call_us(bal.balance, calls, repeats),
        "private AddOrder (full call)": _per_call_us(lambda: add.add_order(ORDER), calls, repeats),
    }
    add.close()
    bal.close()
    return rows


def bench_rate_limit(n=200):
    clock = VirtualClock()
    exchange = CountingExchange(clock)
    client = KrakenRESTClient(
        api_key="bench-key", api_secret=SECRET, tier="starter", transport=exchange, clock=clock
    )
    started = clock.monotonic()
    for _ in range(n):
        client.add_order(ORDER)
    elapsed = clock.monotonic() - started
    minimum = (n - exchange.maximum) / exchange.decay
    stats = client.limiter.stats
    client.close()
    return {
        "orders": n,
        "virtual seconds": elapsed,
        "minimum seconds": minimum,
        "waits": stats.waits,
        "server refusals": exchange.refusals,
        "efficiency": elapsed / minimum,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    calls, repeats = (1_000, 3) if args.quick else (10_000, 5)

    overhead = bench_overhead(calls, repeats)
    limit = bench_rate_limit()

    print(f"{'measure':<36} {'value':>12}")
    print("-" * 49)
    for name, value in overhead.items():
        print(f"{name:<36} {value:>9.1f} us")
    for name, value in limit.items():
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{'rate limit: ' + name:<36} {text:>12}")
    print()
    print(f"client_overhead_us: {overhead['private AddOrder (full call)']:.1f} us")
    print(f"client_rate_limit_efficiency: {limit['efficiency']:.2f} ratio")
    if limit["server refusals"]:
        raise SystemExit(f"the exchange refused {limit['server refusals']} orders")


if __name__ == "__main__":
    main()
