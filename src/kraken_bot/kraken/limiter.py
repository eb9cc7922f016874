"""The thread-safe rate limiter the client waits on (shell over `kraken_bot.kraken.ratelimit`).

`RateLimiter` holds one `LimiterState` per API key behind a lock and waits
through the injected `Clock`, so tests and the fake exchange run on virtual
time. The client uses it in four steps per private call:

1. `plan` the call's charge (REST units, per-pair trading units);
2. `wait` until it fits (no lock is held while sleeping);
3. under the client's send lock, check it still `fits` and send;
4. `settle` it when the reply arrives, then record what the reply says
   (`record_reply`: orders placed, cancelled or amended; `record_rate_limited`).

Tier ``unlimited`` disables every step. ``stats`` counts waits for benchmarks
and tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kraken_bot.clock import Clock
from kraken_bot.kraken.errors import RateLimitError
from kraken_bot.kraken.ratelimit import Charge, LimiterState, TierLimits, limits_for
from kraken_bot.region import Tier


@dataclass(frozen=True, slots=True, kw_only=True)
class LimiterStats:
    """Counters since the limiter was created.

    Attributes:
        calls: charges settled (private calls sent, public calls admitted).
        waits: times a call had to wait.
        wait_seconds: total seconds waited (virtual seconds on a virtual clock).
        rate_limit_errors: rate-limit refusals reported back by the client.
    """

    calls: int
    waits: int
    wait_seconds: float
    rate_limit_errors: int


class RateLimiter:
    """Kraken's counters for one API key, shared by every call of one client."""

    def __init__(self, *, tier: Tier | str, clock: Clock) -> None:
        self._tier = Tier(tier)
        self._clock = clock
        self._limits: TierLimits | None = (
            None if self._tier is Tier.UNLIMITED else limits_for(self._tier)
        )
        self._lock = threading.Lock()
        self._state = LimiterState()
        self._calls = 0
        self._waits = 0
        self._wait_seconds = 0.0
        self._rate_limit_errors = 0

    def __repr__(self) -> str:
        return f"RateLimiter(tier={self._tier.value!r})"

    @property
    def tier(self) -> Tier:
        """The verification tier whose limits apply."""
        return self._tier

    @property
    def enabled(self) -> bool:
        """False under tier ``unlimited``."""
        return self._limits is not None

    @property
    def stats(self) -> LimiterStats:
        """A snapshot of the counters."""
        with self._lock:
            return LimiterStats(
                calls=self._calls,
                waits=self._waits,
                wait_seconds=self._wait_seconds,
                rate_limit_errors=self._rate_limit_errors,
            )

    @property
    def state(self) -> LimiterState:
        """A snapshot of the model's state."""
        with self._lock:
            return self._state

    @property
    def rest_maximum(self) -> float:
        """The REST counter's maximum (0 when disabled)."""
        return self._limits.rest.maximum if self._limits is not None else 0.0

    @property
    def trading_maximum(self) -> float:
        """A pair trading counter's maximum (0 when disabled)."""
        return self._limits.trading.maximum if self._limits is not None else 0.0

    def rest_level(self) -> float:
        """The REST counter's level now (0 when disabled)."""
        if self._limits is None:
            return 0.0
        with self._lock:
            return self._state.rest_level(self._limits, now=self._clock.monotonic())

    def trading_level(self, pair: str) -> float:
        """A pair's trading counter level now (0 when disabled)."""
        if self._limits is None:
            return 0.0
        with self._lock:
            return self._state.trading_level(pair, self._limits, now=self._clock.monotonic())

    # ------------------------------------------------------------------ private calls

    def plan(
        self, method: str, params: Mapping[str, str], *, pair_hint: str | None = None
    ) -> Charge:
        """The charge of a private call (free when disabled)."""
        if self._limits is None:
            return Charge()
        with self._lock:
            return self._state.plan(
                method, params, now=self._clock.monotonic(), pair_hint=pair_hint
            )

    def wait(self, charge: Charge) -> None:
        """Sleep (through the clock) until ``charge`` fits. Holds no lock while sleeping."""
        if self._limits is None or charge.is_free:
            return
        while True:
            with self._lock:
                delay = self._state.delay(charge, self._limits, now=self._clock.monotonic())
                if delay <= 0:
                    return
                self._waits += 1
                self._wait_seconds += delay
            self._clock.sleep(delay)

    def acquire(self, charge: Charge) -> None:
        """Wait until ``charge`` fits, then spend it at once.

        For a request sent outside this client's send lock (an order over the WebSocket,
        which Kraken counts on the same per-pair trading counter): spending it before the
        send, under the limiter's lock, means two threads can never both take the last room.
        """
        if self._limits is None:
            return
        while True:
            self.wait(charge)
            with self._lock:
                now = self._clock.monotonic()
                if self._state.delay(charge, self._limits, now=now) <= 0:
                    self._calls += 1
                    if not charge.is_free:
                        self._state = self._state.charge(charge, self._limits, now=now)
                    return

    def fits(self, charge: Charge) -> bool:
        """True when ``charge`` fits now."""
        if self._limits is None or charge.is_free:
            return True
        with self._lock:
            return self._state.delay(charge, self._limits, now=self._clock.monotonic()) <= 0

    def settle(self, charge: Charge) -> None:
        """Spend ``charge`` now (called when the reply arrived, or the attempt failed)."""
        if self._limits is None:
            return
        with self._lock:
            self._calls += 1
            if not charge.is_free:
                self._state = self._state.charge(charge, self._limits, now=self._clock.monotonic())

    def record_reply(
        self, endpoint: str, wire: Mapping[str, str], *, txids: Iterable[str] = ()
    ) -> None:
        """What a trading call's successful reply changed, whichever way it was sent (REST,
        or the WebSocket, which Kraken counts on the same counters).

        ``wire`` holds the REST parameters of the request (``pair``, ``userref``,
        ``cl_ord_id``, ``txid``); ``txids`` the orders an AddOrder placed.
        """
        if endpoint == "AddOrder" and "pair" in wire:
            userref = wire.get("userref")
            self.record_placed(
                txids,
                pair=wire["pair"],
                userref=int(userref) if userref and userref.lstrip("-").isdigit() else None,
                cl_ord_id=wire.get("cl_ord_id"),
            )
        elif endpoint == "CancelOrder":
            self.record_cancelled(wire)
        elif endpoint == "AmendOrder":
            self.record_amended(wire)
        elif endpoint == "CancelAll":
            self.record_cancelled({})

    def record_placed(
        self,
        txids: Iterable[str],
        *,
        pair: str,
        userref: int | None = None,
        cl_ord_id: str | None = None,
    ) -> None:
        """Remember orders just placed, to price their cancellation by age."""
        if self._limits is None:
            return
        with self._lock:
            self._state = self._state.remember_orders(
                txids,
                pair=pair,
                userref=userref,
                cl_ord_id=cl_ord_id,
                now=self._clock.monotonic(),
            )

    def record_cancelled(self, params: Mapping[str, str]) -> None:
        """Forget orders a CancelOrder removed (``{}`` after CancelAll: all of them)."""
        if self._limits is None:
            return
        with self._lock:
            self._state = self._state.forget_cancelled(params)

    def record_amended(self, params: Mapping[str, str]) -> None:
        """An AmendOrder succeeded: the amended order counts as new for the age penalties."""
        if self._limits is None:
            return
        with self._lock:
            self._state = self._state.note_amended(params, now=self._clock.monotonic())

    def record_rate_limited(self, error: RateLimitError, charge: Charge) -> None:
        """Kraken refused a call for a rate limit: fill the counters it names."""
        with self._lock:
            self._rate_limit_errors += 1
            if self._limits is None:
                return
            now = self._clock.monotonic()
            blocked_until = None
            if error.retry_at is not None:
                blocked_until = now + max(0.0, error.retry_at - self._clock.now().timestamp())
            self._state = self._state.snap(
                error.errors, charge, self._limits, now=now, blocked_until=blocked_until
            )

    # ------------------------------------------------------------------ public calls

    def acquire_public(self) -> None:
        """Wait for, then take, one slot of the public (per-IP) budget."""
        if self._limits is None:
            return
        charge = Charge(public=True)
        while True:
            with self._lock:
                now = self._clock.monotonic()
                delay = self._state.delay(charge, self._limits, now=now)
                if delay <= 0:
                    self._calls += 1
                    self._state = self._state.charge(charge, self._limits, now=now)
                    return
                self._waits += 1
                self._wait_seconds += delay
            self._clock.sleep(delay)
