"""Pure: Kraken's rate-limit counters as a model the client can wait on.

Kraken keeps two kinds of counter per API key (kraken-api.md, section 8); each
rises by a call's cost and decays continuously at a rate set by the
verification tier. A call whose cost would take a counter over its maximum is
refused.

* The **REST counter**: every private call costs 1, Ledgers/QueryLedgers/
  TradesHistory 2, AddOrder/CancelOrder 0 (they use the trading counter).
  ClosedOrders is charged 2 as well, conservatively: Kraken's guide puts it at
  1 (only ledger and trade-history calls cost 2), but some third-party clients
  budget 2 for it and nobody confirmed either figure. Overcharging only makes
  the client wait a little longer; undercharging would earn
  ``EAPI:Rate limit exceeded``.
* One **trading counter per pair**: AddOrder costs 1; CancelOrder costs a
  penalty that falls with the order's age (+8 under 5 s ... +1 under 300 s,
  nothing after). An order of unknown age is assumed young (+8).

Rules of this model:

1. A call may go only when ``level + cost <= maximum - MARGIN`` on every
   counter it touches. The tiny margin absorbs float rounding on both sides.
2. The check happens just before sending; the cost is charged when the reply
   arrives (`LimiterState.charge` at the reply time). Kraken charges on
   receipt, in between. Private calls are serialized, so charging late
   delays no other call; and because the model starts decaying that cost no
   earlier than Kraken does, the model's level never reads below Kraken's.
3. An order's age is measured from when *its AddOrder reply arrived* to when
   the cancel is *checked*: never more than Kraken's own measurement (placed
   earlier, cancel received later), so the penalty is never underestimated.
4. A rate-limit error from Kraken snaps the counter concerned to its maximum;
   ``EService:Throttled: <ts>`` blocks private calls until ``ts``.
5. Pairs are keyed by `pair_key` of the name sent. Kraken counts per pair, so
   one process should name a pair one way (the execution layer sends
   ``PairMetadata.rest_symbol``).

Times are seconds on a monotonic clock, passed in: this module reads no clock.

>>> limits = limits_for(Tier.STARTER)
>>> state = LimiterState()
>>> order = Charge(trading=(("XBTUSD", 1.0),))
>>> for _ in range(60):
...     state = state.charge(order, limits, now=0.0)
>>> state.trading_level("XBTUSD", limits, now=0.0)
60.0
>>> round(state.delay(order, limits, now=0.0), 3)   # 60 used: one unit must decay first
1.001
>>> cancel_penalty(7.0), cancel_penalty(299.0), cancel_penalty(300.0), cancel_penalty(None)
(6, 1, 0, 8)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from pyrsistent import pmap
from pyrsistent.typing import PMap

from kraken_bot.kraken.errors import RateLimitScope, rate_limit_scopes
from kraken_bot.region import Tier

MARGIN: Final = 1e-3
"""Counter units kept free below each maximum (about a millisecond of decay)."""

ORDER_MEMORY_SECONDS: Final = 300.0
"""Orders older than this cost nothing to cancel, so the model forgets them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterLimits:
    """One counter's maximum and its decay per second."""

    maximum: float
    decay_per_second: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TierLimits:
    """The REST counter and the per-pair trading counter of one verification tier."""

    rest: CounterLimits
    trading: CounterLimits


TIER_LIMITS: Final[Mapping[Tier, TierLimits]] = {
    Tier.STARTER: TierLimits(
        rest=CounterLimits(maximum=15, decay_per_second=0.33),
        trading=CounterLimits(maximum=60, decay_per_second=1.0),
    ),
    Tier.INTERMEDIATE: TierLimits(
        rest=CounterLimits(maximum=20, decay_per_second=0.5),
        trading=CounterLimits(maximum=125, decay_per_second=2.34),
    ),
    Tier.PRO: TierLimits(
        rest=CounterLimits(maximum=20, decay_per_second=1.0),
        trading=CounterLimits(maximum=180, decay_per_second=3.75),
    ),
}

PUBLIC_LIMITS: Final = CounterLimits(maximum=1, decay_per_second=1.0)
"""Public endpoints: Kraken documents no figure; about one call per second per IP is assumed."""

REST_COSTS: Final[Mapping[str, int]] = {
    "Ledgers": 2,
    "QueryLedgers": 2,
    "TradesHistory": 2,
    "ClosedOrders": 2,  # documented as 1; 2 until confirmed (see the module docstring)
    "AddOrder": 0,
    # Not named by Kraken (ccxt weights it 0 like AddOrder; UNCONFIRMED): 1, the usual
    # private cost, so a wrong guess only waits and is never refused.
    "AmendOrder": 1,
    "CancelOrder": 0,
}

# (age below, penalty): CancelOrder's age-dependent trading-counter cost.
_CANCEL_PENALTIES: Final = ((5.0, 8), (10.0, 6), (15.0, 5), (45.0, 4), (90.0, 2), (300.0, 1))

ADD_ORDER_COST: Final = 1

# (age below, penalty): AmendOrder's age-dependent part, on top of a fixed 1.
_AMEND_PENALTIES: Final = ((5.0, 3), (10.0, 2), (15.0, 1))


def limits_for(tier: Tier) -> TierLimits:
    """The limits of a tier; `Tier.UNLIMITED` has none (raises KeyError: check first)."""
    return TIER_LIMITS[tier]


def rest_cost(method: str) -> int:
    """REST-counter cost of a private method (ClosedOrders: 2 until Kraken confirms 1).

    >>> rest_cost("Balance"), rest_cost("TradesHistory"), rest_cost("AddOrder")
    (1, 2, 0)
    >>> rest_cost("ClosedOrders")
    2
    """
    return REST_COSTS.get(method, 1)


def cancel_penalty(age_seconds: float | None) -> int:
    """Trading-counter cost of cancelling an order of this age (None: unknown, the worst)."""
    if age_seconds is None:
        return _CANCEL_PENALTIES[0][1]
    for below, penalty in _CANCEL_PENALTIES:
        if age_seconds < below:
            return penalty
    return 0


def amend_cost(age_seconds: float | None) -> int:
    """Trading-counter cost of amending an order this old since placed or last amended
    (None: unknown, the worst): 1, plus 3/2/1 below 5/10/15 s.

    >>> amend_cost(None), amend_cost(6.0), amend_cost(20.0)
    (4, 3, 1)
    """
    if age_seconds is None:
        return 1 + _AMEND_PENALTIES[0][1]
    for below, penalty in _AMEND_PENALTIES:
        if age_seconds < below:
            return 1 + penalty
    return 1


def pair_key(name: str) -> str:
    """The key a pair's trading counter is kept under (case and separators ignored).

    >>> pair_key("xbt/usd"), pair_key("XXBTZUSD")
    ('XBTUSD', 'XXBTZUSD')
    """
    return "".join(ch for ch in name.upper() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class Counter:
    """A decaying counter: ``level`` as of time ``at``."""

    level: float = 0.0
    at: float = 0.0

    def level_at(self, now: float, limits: CounterLimits) -> float:
        """The decayed level at ``now`` (never below zero)."""
        elapsed = max(0.0, now - self.at)
        return max(0.0, self.level - elapsed * limits.decay_per_second)

    def add(self, cost: float, now: float, limits: CounterLimits) -> Counter:
        """The counter after charging ``cost`` at ``now``."""
        return Counter(self.level_at(now, limits) + cost, max(now, self.at))

    def delay(self, cost: float, now: float, limits: CounterLimits) -> float:
        """Seconds to wait until ``cost`` fits (0 when it fits now)."""
        if cost <= 0:
            return 0.0
        ceiling = max(0.0, limits.maximum - MARGIN - cost)
        excess = self.level_at(now, limits) - ceiling
        # Below a nanosecond's worth the wait is float noise (MARGIN keeps it safe).
        return excess / limits.decay_per_second if excess > 1e-9 else 0.0


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An order this client placed, remembered to price a later cancel."""

    txid: str
    pair: str
    placed_at: float
    userref: int | None = None
    cl_ord_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Charge:
    """What one call costs: REST units and, per pair key, trading units."""

    rest: float = 0.0
    trading: tuple[tuple[str, float], ...] = ()
    public: bool = False

    @property
    def is_free(self) -> bool:
        """True when the call touches no counter."""
        return not self.public and self.rest <= 0 and not self.trading


def _int_or_none(text: str | None) -> int | None:
    if text is None or not text.lstrip("-").isdigit():
        return None
    return int(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class LimiterState:
    """Every counter of one API key, the orders it placed, and any server-imposed block."""

    rest: Counter = Counter()
    public: Counter = Counter()
    trading: PMap[str, Counter] = field(default_factory=lambda: pmap({}))
    orders: PMap[str, PlacedOrder] = field(default_factory=lambda: pmap({}))
    blocked_until: float = 0.0

    # ------------------------------------------------------------------ reading

    def trading_level(self, pair: str, limits: TierLimits, *, now: float) -> float:
        """The decayed trading-counter level of a pair at ``now``."""
        counter = self.trading.get(pair_key(pair))
        return counter.level_at(now, limits.trading) if counter is not None else 0.0

    def rest_level(self, limits: TierLimits, *, now: float) -> float:
        """The decayed REST-counter level at ``now``."""
        return self.rest.level_at(now, limits.rest)

    def delay(self, charge: Charge, limits: TierLimits, *, now: float) -> float:
        """Seconds until ``charge`` fits every counter it touches (0: go now)."""
        if charge.public:
            return self.public.delay(1.0, now, PUBLIC_LIMITS)
        waits = [self.blocked_until - now, self.rest.delay(charge.rest, now, limits.rest)]
        for pair, cost in charge.trading:
            counter = self.trading.get(pair, Counter())
            waits.append(counter.delay(cost, now, limits.trading))
        return max(0.0, *waits)

    # ------------------------------------------------------------------ planning

    def plan(
        self,
        method: str,
        params: Mapping[str, str],
        *,
        now: float,
        pair_hint: str | None = None,
    ) -> Charge:
        """The charge of a private call, from its method and wire parameters.

        ``pair_hint`` names the pair of a CancelOrder whose order this client did
        not place (Kraken's CancelOrder carries no pair); without it such a cancel
        is charged the worst penalty on every pair this client trades.
        """
        trading: tuple[tuple[str, float], ...] = ()
        if method == "AddOrder" and "pair" in params:
            trading = ((pair_key(params["pair"]), float(ADD_ORDER_COST)),)
        elif method == "CancelOrder":
            trading = self._cancel_costs(params, now, pair_hint)
        elif method == "AmendOrder":
            trading = self._amend_costs(params, now, pair_hint)
        return Charge(rest=float(rest_cost(method)), trading=trading)

    def _amend_costs(
        self, params: Mapping[str, str], now: float, pair_hint: str | None
    ) -> tuple[tuple[str, float], ...]:
        targets = self._cancelled_orders(params)  # the same lookup: one txid or cl_ord_id
        if not targets:
            pairs = [pair_key(pair_hint)] if pair_hint else list(self.trading)
            return tuple((pair, float(amend_cost(None))) for pair in sorted(pairs))
        order = targets[0]
        return ((order.pair, float(amend_cost(now - order.placed_at))),)

    def _cancelled_orders(self, params: Mapping[str, str]) -> list[PlacedOrder] | None:
        """The remembered orders a CancelOrder targets; None when it targets unknown ones."""
        txid, cl_ord_id = params.get("txid"), params.get("cl_ord_id")
        userref = _int_or_none(txid)
        if userref is not None:
            # An integer userref cancels every open order carrying it; others may exist.
            found = [o for o in self.orders.values() if o.userref == userref]
            return found or None
        if txid is not None:
            order = self.orders.get(txid)
            return [order] if order is not None else None
        if cl_ord_id is not None:
            found = [o for o in self.orders.values() if o.cl_ord_id == cl_ord_id]
            return found or None
        return None

    def _cancel_costs(
        self, params: Mapping[str, str], now: float, pair_hint: str | None
    ) -> tuple[tuple[str, float], ...]:
        targets = self._cancelled_orders(params)
        if targets is None:
            # Unknown order: the penalty may land on any pair; assume the worst on each
            # pair this client trades, unless the caller named the pair.
            pairs = [pair_key(pair_hint)] if pair_hint else list(self.trading)
            return tuple((pair, float(cancel_penalty(None))) for pair in sorted(pairs))
        costs: dict[str, float] = {}
        for order in targets:
            penalty = cancel_penalty(now - order.placed_at)
            if penalty:
                costs[order.pair] = costs.get(order.pair, 0.0) + penalty
        return tuple(sorted(costs.items()))

    # ------------------------------------------------------------------ updating

    def charge(self, charge: Charge, limits: TierLimits, *, now: float) -> LimiterState:
        """The state after ``charge`` was spent at ``now`` (the reply time for private calls)."""
        if charge.public:
            return replace(self, public=self.public.add(1.0, now, PUBLIC_LIMITS))
        trading = self.trading
        for pair, cost in charge.trading:
            trading = trading.set(pair, trading.get(pair, Counter()).add(cost, now, limits.trading))
        rest = self.rest.add(charge.rest, now, limits.rest) if charge.rest > 0 else self.rest
        return replace(self, rest=rest, trading=trading)

    def remember_orders(
        self,
        txids: Iterable[str],
        *,
        pair: str,
        userref: int | None,
        cl_ord_id: str | None,
        now: float,
    ) -> LimiterState:
        """Record orders placed at ``now`` (their AddOrder reply time); forget old ones."""
        evolver = self.orders.evolver()
        for txid, order in self.orders.items():
            if now - order.placed_at >= ORDER_MEMORY_SECONDS:
                del evolver[txid]
        for txid in txids:
            evolver[txid] = PlacedOrder(txid, pair_key(pair), now, userref, cl_ord_id)
        return replace(self, orders=evolver.persistent())

    def forget_cancelled(self, params: Mapping[str, str]) -> LimiterState:
        """Drop the orders a successful CancelOrder removed (or all, for CancelAll: ``{}``)."""
        if not params:
            return replace(self, orders=pmap({}))
        targets = self._cancelled_orders(params) or []
        orders = self.orders
        for order in targets:
            orders = orders.discard(order.txid)
        return replace(self, orders=orders)

    def note_amended(self, params: Mapping[str, str], *, now: float) -> LimiterState:
        """An AmendOrder succeeded: the order's age (for the next amend or cancel) restarts."""
        targets = self._cancelled_orders(params) or []
        orders = self.orders
        for order in targets[:1]:
            orders = orders.set(order.txid, replace(order, placed_at=now))
        return replace(self, orders=orders)

    def snap(
        self,
        errors: Iterable[str],
        charge: Charge,
        limits: TierLimits,
        *,
        now: float,
        blocked_until: float | None = None,
    ) -> LimiterState:
        """The state after Kraken refused a call for a rate limit: the counters hit are full.

        ``errors`` are Kraken's strings; an HTTP 429 without any counts as the REST counter.
        A refused public call fills the public budget only.
        """
        if charge.public:
            return replace(self, public=Counter(PUBLIC_LIMITS.maximum, now))
        texts = tuple(errors)
        scopes = rate_limit_scopes(texts)
        full_rest = Counter(limits.rest.maximum, now)
        full_trading = Counter(limits.trading.maximum, now)
        state = self
        if not texts or RateLimitScope.REST in scopes:
            state = replace(state, rest=full_rest)
        if RateLimitScope.TRADING in scopes:
            trading = state.trading
            for pair, _ in charge.trading:
                trading = trading.set(pair, full_trading)
            state = replace(state, trading=trading)
        if RateLimitScope.DOMAIN in scopes:
            pairs = {pair for pair, _ in charge.trading} | set(state.trading)
            state = replace(state, trading=pmap(dict.fromkeys(pairs, full_trading)))
        if blocked_until is not None:
            state = replace(state, blocked_until=max(state.blocked_until, blocked_until))
        return state
