"""Same scenario, seed and requests give the same bytes; the walk and ids come from the seed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import re
import subprocess
import sys
import urllib.parse
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_sim import Exchange, NoResponse, VirtualClock, load_scenario

SECRET = base64.b64encode(bytes(range(64))).decode()


def sign(path, nonce, body):
    inner = hashlib.sha256(nonce.encode() + body).digest()
    return base64.b64encode(
        hmac.new(base64.b64decode(SECRET), path.encode() + inner, hashlib.sha512).digest()
    ).decode()


def session_bytes(seed, faults="light", id_salt=None):
    """Run a fixed script of ~200 requests with time passing; return everything the client saw."""
    clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    exchange = Exchange(load_scenario(None), seed=seed, clock=clock, faults=faults, id_salt=id_salt)
    exchange.add_account("KEY", SECRET, {"ZUSD": Decimal(1_000_000), "XXBT": Decimal(5)})
    seen = []
    nonce = 0

    def private(method, **params):
        nonlocal nonce
        nonce += 1
        body = urllib.parse.urlencode({"nonce": nonce, **params}).encode()
        path = f"/0/private/{method}"
        try:
            status, _, reply = exchange.handle(
                "POST",
                path,
                {"API-Key": "KEY", "API-Sign": sign(path, str(nonce), body)},
                body,
                read_timeout=5,
            )
        except NoResponse as exc:
            seen.append(f"no response: {exc.kind}".encode())
            return
        seen.append(str(status).encode() + reply)

    for step in range(40):
        status, _, reply = exchange.handle("GET", "/0/public/Ticker?pair=XBTUSD,ETHXBT", {}, b"")
        seen.append(str(status).encode() + reply)
        side = "buy" if step % 2 else "sell"
        private(
            "AddOrder",
            pair="XBTUSD",
            type=side,
            ordertype="limit",
            price=str(59900 + step * 10),
            volume="0.05",
            cl_ord_id=f"s-{step}",
        )
        private("AddOrder", pair="ETHUSD", type="buy", ordertype="market", volume="0.1")
        private("OpenOrders", trades="true")
        clock.advance(37)
        private("ClosedOrders")
    private("TradesHistory")
    private("BalanceEx")
    seen.append(
        repr([(e.endpoint, e.fault, e.executed, e.txids) for e in exchange.journal]).encode()
    )
    return seen


def test_two_runs_with_the_same_seed_give_identical_bytes():
    first, second = session_bytes(11), session_bytes(11)
    assert first == second


@pytest.mark.parametrize("rounding", [ROUND_HALF_UP, ROUND_DOWN])
def test_the_fake_does_not_follow_the_threads_decimal_context(rounding):
    """A library in the same process may change the thread's decimal context (ccxt sets its
    rounding to half-up): the same seed still gives the same bytes."""
    plain = session_bytes(11)
    with localcontext() as context:
        context.rounding = rounding
        assert session_bytes(11) == plain


def test_an_id_salt_changes_the_ids_and_nothing_else():
    plain, salted = session_bytes(11), session_bytes(11, id_salt="restart-2")
    assert plain[0] == salted[0]  # the same market
    assert plain[1] != salted[1]  # another txid
    txid = re.compile(rb"[OT][A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}")
    assert [txid.sub(b"ID", b) for b in plain] == [txid.sub(b"ID", b) for b in salted]
    assert session_bytes(11, id_salt="restart-2") == salted


def test_ids_of_a_salted_exchange_do_not_repeat_an_unsalted_runs():
    def txids(salt):
        return set(
            re.findall(
                rb"O[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}", b"".join(session_bytes(11, "none", salt))
            )
        )

    first, restarted, again = txids(None), txids("a1b2c3d4"), txids("e5f6a7b8")
    assert len(first) > 40
    assert first.isdisjoint(restarted)
    assert restarted.isdisjoint(again)


def test_the_script_really_trades_and_meets_faults():
    seen = b"\n".join(session_bytes(11))
    assert b'"status":"closed"' in seen
    assert b"no response" in seen or b"EService" in seen or b"<html>" in seen


def test_another_seed_gives_another_market_and_other_ids():
    first, second = session_bytes(11, faults="none"), session_bytes(12, faults="none")
    assert first[0] != second[0]  # the walk
    assert first[1] != second[1]  # the txid


def test_the_walk_does_not_depend_on_when_it_is_read():
    def mids(read_often):
        clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
        exchange = Exchange(load_scenario(None), seed=3, clock=clock, faults="none")
        if read_often:
            for _ in range(30):
                clock.advance(60)
                exchange.touch("XBTUSD")
        else:
            clock.advance(1800)
        return exchange.touch("XBTUSD")

    assert mids(read_often=True) == mids(read_often=False)


DIGEST_SCRIPT = """
import hashlib, json
from datetime import UTC, datetime
from decimal import Decimal
from kraken_sim import Exchange, VirtualClock, load_scenario
clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
exchange = Exchange(load_scenario(None), seed=5, clock=clock, faults="none")
digest = hashlib.sha256()
for method in ("Assets", "AssetPairs", "Ticker", "OHLC?pair=XBTUSD&interval=5", "Depth?pair=SOLUSD"):
    clock.advance(600)
    digest.update(exchange.handle("GET", "/0/public/" + method, {}, b"")[2])
digest.update(json.dumps(exchange.credentials()).encode())
print(digest.hexdigest())
"""


@pytest.mark.subprocess
def test_responses_do_not_depend_on_the_process_hash_seed():
    digests = set()
    for hash_seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def test_the_history_does_not_depend_on_when_it_is_first_read():
    def first_ohlc_row(read_late):
        clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
        exchange = Exchange(load_scenario(None), seed=3, clock=clock, faults="none")
        if read_late:
            clock.advance(1800)
            exchange.touch("XBTUSD")
        _, _, body = exchange.handle("GET", "/0/public/OHLC?pair=XBTUSD&interval=60", {}, b"")
        return json.loads(body)["result"]["XXBTZUSD"][0]

    assert first_ohlc_row(read_late=True) == first_ohlc_row(read_late=False)


@given(
    value=st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False),
    places=st.integers(min_value=0, max_value=12),
)
def test_the_walks_fast_rounding_is_decimal_quantize(value, places):
    """The walk writes its mids and volumes with "%.*f" (see `PricePath._extend_walk`): the
    same digits and exponent as ``Decimal(value).quantize`` half-even on the exact value, and
    unlike ``quantize`` it does not follow the thread's decimal context (ccxt, run in the same
    process by other tests, sets that context's rounding to half-up)."""
    fast = Decimal("%.*f" % (places, value))  # noqa: UP031 - the form the walk uses
    exact = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    assert str(fast) == str(exact)


@pytest.mark.parametrize("places", [0, 1, 2, 3])
def test_the_walks_fast_rounding_breaks_exact_ties_to_even(places):
    for k in range(2000):
        tie = (k + 0.5) / 10**places if places == 0 else (2 * k + 1) / 2 ** (places + 1)
        fast = Decimal("%.*f" % (places, tie))  # noqa: UP031
        even = Decimal(tie).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        assert str(fast) == str(even)


@given(seed=st.integers(0, 2**32))
def test_the_walks_inlined_draws_are_uniform_and_randint(seed):
    """`PricePath._extend_walk` draws volumes and trade counts as ``random`` defines
    ``uniform(0.2, 1.8)`` and ``randint(1, 25)``, without their argument checks: the same
    numbers from the same stream, so seeds replay the same market as before."""
    public, inlined = random.Random(seed), random.Random(seed)
    for _ in range(50):
        assert public.gauss(0.0, 1.0) == inlined.gauss(0.0, 1.0)
        assert public.uniform(0.2, 1.8) == 0.2 + (1.8 - 0.2) * inlined.random()
        assert public.randint(1, 25) == 1 + getattr(inlined, "_randbelow")(25)  # noqa: B009


def test_a_touch_asked_again_follows_a_pinned_price():
    # the path keeps its last touch: a pin (or its removal) at the same step must not be
    # answered from it
    clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    exchange = Exchange(load_scenario(None), seed=3, clock=clock, faults="none")
    walked = exchange.touch("XBTUSD")
    exchange.set_price("XBTUSD", "12345.6")
    pinned = exchange.touch("XBTUSD")
    assert pinned.mid == Decimal("12345.6")
    assert pinned.bid < pinned.mid < pinned.ask
    exchange.set_price("XBTUSD", None)
    assert exchange.touch("XBTUSD") == walked
