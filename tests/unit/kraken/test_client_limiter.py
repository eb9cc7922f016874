"""The client's rate limiting against an independent server-side counter, on virtual time."""

from __future__ import annotations

import itertools
import json
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest

from kraken_bot.kraken.errors import RateLimitError
from kraken_bot.kraken.limiter import RateLimiter
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.ratelimit import Charge


def envelope(result=None, error=None):
    payload = {"error": error or []}
    if result is not None:
        payload["result"] = result
    return 200, json.dumps(payload).encode()


class CountingKraken:
    """Kraken's counters as the server keeps them (section 8), written apart from the client.

    Charges on receipt, refuses a call whose cost would take a counter over its
    maximum, and records every refusal. ``latency`` is virtual seconds each way.
    """

    PENALTIES = ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1))

    def __init__(
        self,
        clock,
        *,
        trading_max=60.0,
        trading_decay=1.0,
        rest_max=15.0,
        rest_decay=0.33,
        latency=0.0,
    ):
        self.clock = clock
        self.trading_max, self.trading_decay = trading_max, trading_decay
        self.rest_max, self.rest_decay = rest_max, rest_decay
        self.latency = latency
        self.pairs: dict[str, tuple[float, float]] = {}
        self.rest = (0.0, 0.0)
        self.placed: dict[str, tuple[str, float]] = {}
        self.refusals: list[str] = []
        self.peak: dict[str, float] = {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()

    @staticmethod
    def _decayed(entry, now, decay):
        level, at = entry
        return max(0.0, level - (now - at) * decay)

    def _charge_pair(self, pair, cost, now):
        level = self._decayed(self.pairs.get(pair, (0.0, now)), now, self.trading_decay)
        if level + cost > self.trading_max:
            return False
        self.pairs[pair] = (level + cost, now)
        self.peak[pair] = max(self.peak.get(pair, 0.0), level + cost)
        return True

    def handle(self, request):
        self.clock.advance(self.latency)
        with self.lock:
            reply = self._handle(request, self.clock.monotonic())
        self.clock.advance(self.latency)
        return reply

    def _handle(self, request, now):
        method = urlsplit(request.url).path.rsplit("/", 1)[-1]
        form = dict(parse_qsl(request.body.decode())) if request.body else {}
        if method == "AddOrder":
            pair = form["pair"]
            if not self._charge_pair(pair, 1, now):
                self.refusals.append("EOrder:Rate limit exceeded")
                return envelope(error=["EOrder:Rate limit exceeded"])
            txid = f"O{next(self.ids):05d}-AAAAA-BBBBBB"
            self.placed[txid] = (pair, now)
            return envelope({"descr": {"order": "buy"}, "txid": [txid]})
        if method == "CancelOrder":
            pair, placed_at = self.placed.pop(form["txid"])
            age = now - placed_at
            penalty = next((p for below, p in self.PENALTIES if age < below), 0)
            if not self._charge_pair(pair, penalty, now):
                self.refusals.append("EOrder:Rate limit exceeded")
                return envelope(error=["EOrder:Rate limit exceeded"])
            return envelope({"count": 1})
        cost = 2 if method in {"Ledgers", "QueryLedgers", "TradesHistory"} else 1
        level = self._decayed(self.rest, now, self.rest_decay)
        if level + cost > self.rest_max:
            self.refusals.append("EAPI:Rate limit exceeded")
            return envelope(error=["EAPI:Rate limit exceeded"])
        self.rest = (level + cost, now)
        return envelope({"ZUSD": "1.0"})


def an_order(pair="XXBTZUSD", **overrides):
    fields = {
        "pair": pair,
        "side": "buy",
        "ordertype": "limit",
        "volume": "0.001",
        "price": "50000.0",
    }
    fields.update(overrides)
    return AddOrderRequest(**fields)


@pytest.mark.parametrize(
    ("tier", "maximum", "decay"),
    [("starter", 60, 1.0), ("intermediate", 125, 2.34), ("pro", 180, 3.75)],
)
def test_a_burst_of_orders_takes_the_minimum_time_the_tier_allows_without_refusals(
    make_client, kraken, clock, tier, maximum, decay
):
    server = CountingKraken(clock, trading_max=maximum, trading_decay=decay)
    kraken.handler = server.handle
    client = make_client(tier=tier)
    n = 200 if tier == "starter" else maximum + 100
    started = clock.monotonic()
    for _ in range(n):
        client.add_order(an_order())
    elapsed = clock.monotonic() - started
    minimum = (n - maximum) / decay
    assert server.refusals == []
    assert minimum <= elapsed <= minimum * 1.01
    assert server.peak["XXBTZUSD"] <= maximum


def test_with_network_latency_the_budget_still_holds_and_time_barely_grows(
    make_client, kraken, clock
):
    server = CountingKraken(clock, latency=0.04)
    kraken.handler = server.handle
    client = make_client(tier="starter")
    started = clock.monotonic()
    for _ in range(200):
        client.add_order(an_order())
    elapsed = clock.monotonic() - started
    assert server.refusals == []
    assert elapsed <= 140 + 60 * 0.08 + 0.5  # the first 60 only pay the round trips


def test_orders_on_different_pairs_do_not_wait_for_each_other(make_client, kraken, clock):
    server = CountingKraken(clock)
    kraken.handler = server.handle
    client = make_client(tier="starter")
    for pair in ("XXBTZUSD", "XETHZUSD", "SOLUSD"):
        for _ in range(59):
            client.add_order(an_order(pair))
    assert clock.sleeps == []
    assert server.refusals == []


def test_private_calls_pace_on_the_rest_counter(make_client, kraken, clock):
    server = CountingKraken(clock)
    kraken.handler = server.handle
    client = make_client(tier="starter")
    started = clock.monotonic()
    for _ in range(30):
        client.balance()
    elapsed = clock.monotonic() - started
    assert server.refusals == []
    assert (30 - 15) / 0.33 <= elapsed <= (30 - 15) / 0.33 * 1.01


def test_cancelling_a_young_order_is_charged_by_its_age(make_client, kraken, clock):
    server = CountingKraken(clock)
    kraken.handler = server.handle
    client = make_client(tier="starter")
    txid = client.add_order(an_order()).txids[0]
    assert client.limiter.trading_level("XXBTZUSD") == pytest.approx(1.0)
    clock.advance(7)
    client.cancel_order(txid=txid)
    assert client.limiter.trading_level("XXBTZUSD") == pytest.approx(6.0)
    assert server.pairs["XXBTZUSD"][0] == pytest.approx(6.0)


def test_cancels_of_young_orders_wait_instead_of_overflowing(make_client, kraken, clock):
    server = CountingKraken(clock)
    kraken.handler = server.handle
    client = make_client(tier="starter")
    txids = [client.add_order(an_order()).txids[0] for _ in range(20)]
    for txid in txids:
        client.cancel_order(txid=txid)
    assert server.refusals == []
    assert server.peak["XXBTZUSD"] <= 60


def test_many_threads_sharing_one_client_never_exceed_the_budget(make_client, kraken, clock):
    server = CountingKraken(clock)
    kraken.handler = server.handle
    client = make_client(tier="starter")

    def place(pair):
        for _ in range(40):
            client.add_order(an_order(pair))

    threads = [
        threading.Thread(target=place, args=(p,))
        for p in ("XXBTZUSD", "XXBTZUSD", "XETHZUSD", "XXBTZUSD")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.refusals == []
    assert len(server.placed) == 160


def test_a_server_rate_limit_error_snaps_the_counter_and_the_next_call_waits(
    make_client, kraken, clock
):
    server = CountingKraken(clock)
    server.pairs["XXBTZUSD"] = (60.0, clock.monotonic())  # another process filled it
    kraken.handler = server.handle
    client = make_client(tier="starter")
    with pytest.raises(RateLimitError) as info:
        client.add_order(an_order())
    assert info.value.errors == ("EOrder:Rate limit exceeded",)
    assert client.limiter.trading_level("XXBTZUSD") == pytest.approx(60.0)
    assert client.limiter.stats.rate_limit_errors == 1
    client.add_order(an_order())
    assert clock.sleeps
    assert clock.sleeps[-1] == pytest.approx(1.001, abs=1e-3)
    assert server.refusals == ["EOrder:Rate limit exceeded"]


def test_throttling_holds_private_calls_until_the_named_time(make_client, kraken, clock):
    client = make_client(tier="starter")
    until = int(clock.now().timestamp()) + 5
    kraken.reply(error=[f"EService:Throttled: {until}"])
    kraken.reply({"ZUSD": "1"})
    with pytest.raises(RateLimitError) as info:
        client.balance()
    assert info.value.retry_at == until
    started = clock.monotonic()
    client.balance()
    assert clock.monotonic() - started == pytest.approx(5.0)


def test_public_calls_are_paced_at_one_per_second(make_client, kraken, clock):
    client = make_client(tier="starter")
    started = clock.monotonic()
    for _ in range(4):
        kraken.reply({"unixtime": 1, "rfc1123": "x"})
        client.server_time()
    assert clock.monotonic() - started == pytest.approx(3.0)


def test_a_refused_public_call_makes_the_next_one_wait(make_client, kraken, clock):
    client = make_client(tier="starter")
    kraken.reply_raw(b"slow down", status=429)
    with pytest.raises(RateLimitError):
        client.server_time()
    clock.advance(0.5)
    kraken.reply({"unixtime": 1, "rfc1123": "x"})
    client.server_time()
    assert clock.sleeps == [pytest.approx(0.5)]  # a full second after the refusal
    assert client.limiter.rest_level() == 0


def test_tier_unlimited_never_waits(make_client, kraken, clock):
    client = make_client(tier="unlimited")
    for _ in range(100):
        kraken.reply({"descr": {"order": "x"}, "txid": ["OAAAAA-BBBBB-CCCCCC"]})
        client.add_order(an_order())
    for _ in range(20):
        kraken.reply({"unixtime": 1, "rfc1123": "x"})
        client.server_time()
    assert clock.sleeps == []
    assert client.limiter.enabled is False
    assert client.limiter.stats.waits == 0


def test_stats_count_waits_and_waited_seconds(make_client, kraken, clock):
    kraken.handler = CountingKraken(clock).handle
    client = make_client(tier="starter")
    for _ in range(65):
        client.add_order(an_order())
    stats = client.limiter.stats
    assert stats.calls == 65
    assert stats.waits == 6
    assert stats.wait_seconds == pytest.approx(sum(clock.sleeps))
    assert stats.wait_seconds == pytest.approx(5.001, abs=0.01)


def test_acquire_spends_before_the_send_so_threads_never_overfill_a_pair(clock):
    """`RateLimiter.acquire` (orders over the WebSocket, outside the client's send lock):
    four threads taking 30 orders each on one pair never hold it above its maximum."""
    limiter = RateLimiter(tier="starter", clock=clock)
    charge = Charge(trading=(("XBTUSD", 1.0),))
    levels: list[float] = []

    def take() -> None:
        for _ in range(30):
            limiter.acquire(charge)
            levels.append(limiter.trading_level("XBTUSD"))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(levels) == 120
    assert max(levels) <= limiter.trading_maximum + 1e-9
    assert limiter.stats.calls == 120
    assert limiter.stats.waits > 0


def test_acquire_on_an_unlimited_tier_never_waits(clock):
    limiter = RateLimiter(tier="unlimited", clock=clock)
    limiter.acquire(Charge(trading=(("XBTUSD", 1000.0),)))
    assert limiter.stats.waits == 0


def test_a_reply_is_recorded_the_same_whichever_way_the_order_went(clock):
    """`record_reply` is the one reading of what a reply changed, for REST and the socket
    alike: an order is remembered with its userref or client id, so a cancel by either
    prices it by its age, and a cancel forgets it."""
    by_userref = AddOrderRequest(
        pair="XBTUSD", side="buy", ordertype="limit", volume="0.01", price="50000", userref=42
    )
    by_client_id = AddOrderRequest(
        pair="ETHUSD", side="buy", ordertype="limit", volume="0.1", price="3000", cl_ord_id="kb-1"
    )
    limiter = RateLimiter(tier="starter", clock=clock)
    stranger = limiter.plan("CancelOrder", {"cl_ord_id": "kb-1"})
    limiter.record_reply("AddOrder", by_userref.to_params(), txids=("OA-1",))
    limiter.record_reply("AddOrder", by_client_id.to_params(), txids=("OB-2",))
    assert limiter.plan("CancelOrder", {"txid": "42"}).trading == (("XBTUSD", 8.0),)
    assert limiter.plan("CancelOrder", {"cl_ord_id": "kb-1"}).trading == (("ETHUSD", 8.0),)
    limiter.record_reply("CancelOrder", {"cl_ord_id": "kb-1"})
    assert limiter.plan("CancelOrder", {"cl_ord_id": "kb-1"}) == stranger
    limiter.record_reply("CancelAll", {})
    assert limiter.plan("CancelOrder", {"txid": "42"}).trading != (("XBTUSD", 8.0),)
