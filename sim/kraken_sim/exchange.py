"""The exchange: one engine behind one entry point, :meth:`Exchange.handle`, used by both fronts.

A request goes through these steps, under the exchange's single lock:

1. settle the engine up to the clock's now (fills, expiries, dead-man switch);
2. route ``/0/public/<Method>`` (GET, leniently POST) or ``/0/private/<Method>`` (POST); anything
   else answers ``EGeneral:Unknown method``;
3. ask the fault injector once; a ``before`` fault answers now and nothing is executed;
4. private calls: parse the body, check ``API-Key`` (``EAPI:Invalid key``), ``API-Sign`` over
   the raw body (``EAPI:Invalid signature``), the nonce (``EAPI:Invalid nonce``), the
   temporary lockout, and the REST counter (``EAPI:Rate limit exceeded``); SystemStatus
   ``maintenance`` refuses trading calls with ``EService:Unavailable``;
5. run the handler and render the envelope (HTTP 200, also for errors);
6. apply an ``after`` fault (lost answer, 5xx, internal error, delay);
7. append a :class:`JournalEntry` with what really happened.

Lost answers and timeouts are raised as :class:`NoResponse` *after* the lock is released and
the virtual clock has moved by the client's timeout; each front turns it into its own failure
(``requests`` ReadTimeout/ConnectTimeout in-process, a closed connection over HTTP).
"""

from __future__ import annotations

import collections
import contextlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from kraken_sim.account import Account
from kraken_sim.auth import b64decode_secret, parse_nonce, signature_matches
from kraken_sim.clock import Clock, VirtualClock
from kraken_sim.endpoints import PRIVATE, PUBLIC, TRADING, Call
from kraken_sim.engine import Engine
from kraken_sim.faults import Fault, FaultInjector, FaultPlan, FaultSource, load_faults
from kraken_sim.journal import JournalEntry
from kraken_sim.market import Touch
from kraken_sim.orders import Order, Trade
from kraken_sim.quirks import Quirks
from kraken_sim.ratelimit import DecayingCounter, rest_cost, tier_limits
from kraken_sim.replies import JSON_HEADERS, NoResponse, Reply, after_fault, before_fault
from kraken_sim.scenario import Scenario, SystemStatus, Tier, load_scenario
from kraken_sim.venue import Venue
from kraken_sim.wire import ApiError, Params, envelope_bytes, parse_body, parse_query

__all__ = ["Exchange", "JournalEntry", "NoResponse"]

_ROUTE_RE: Final = re.compile(r"^/0/(public|private)/([A-Za-z]+)$")


class Exchange:
    """A deterministic fake Kraken spot exchange (see the module docstring).

    Args:
        scenario: the world to run; None loads the bundled default scenario.
        seed: seeds every random stream (price walks, ids, credentials, faults).
        clock: the engine's clock; None gives a :class:`VirtualClock` at the scenario's start.
            The price path starts at the clock's time when the exchange is built.
        faults: ``"none"``/``"light"``/``"heavy"``, a fault file, a mapping in the fault-file
            format or a :class:`FaultPlan`; None takes the scenario's.
        tier: ``"starter"``/``"intermediate"``/``"pro"``, or ``"unlimited"`` for no rate
            limits; None takes the scenario's.
        quirks: answers to the unconfirmed protocol points; None takes the scenario's.
        journal_limit: keep at most this many journal entries (None: all).
        id_salt: mixed into the order and trade id generator. None (replays) keeps the ids a
            function of the seed alone; ``serve`` gives each start a fresh salt, so a restarted
            exchange never reissues a txid (Kraken never reuses one). Credentials stay seeded.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        faults: FaultSource | None = None,
        tier: Tier | None = None,
        quirks: Quirks | None = None,
        journal_limit: int | None = 1_000_000,
        id_salt: str | None = None,
    ) -> None:
        self.scenario = scenario if scenario is not None else load_scenario(None)
        self.seed = seed
        self.id_salt = id_salt
        self.clock: Clock = clock if clock is not None else VirtualClock(start=self.scenario.start)
        self.tier: Tier = tier if tier is not None else self.scenario.tier
        self.quirks = quirks if quirks is not None else self.scenario.quirks
        self._lock = threading.RLock()
        origin = self.clock.now().timestamp()
        self.venue = Venue(self.scenario, seed=seed, origin=origin)
        self._limits = tier_limits(self.tier)
        self.engine = Engine(
            markets=self.venue.paths,
            asset_decimals=self.venue.asset_decimals,
            quirks=self.quirks,
            limits=self._limits,
            seed=seed,
            origin=origin,
            step=self.scenario.step,
            id_salt=id_salt,
        )
        self._faults = FaultInjector(
            load_faults(faults if faults is not None else self.scenario.faults), seed=seed
        )
        self._status: SystemStatus = self.scenario.system_status
        self._journal: collections.deque[JournalEntry] = collections.deque(maxlen=journal_limit)
        self._fault_counts: collections.Counter[str] = collections.Counter()
        self._seq = 0
        for spec in self.scenario.accounts:
            if spec.key is not None and spec.secret is not None:
                self.add_account(
                    spec.key,
                    spec.secret,
                    dict(spec.balances),
                    name=spec.name,
                    nonce_window=spec.nonce_window,
                )
            else:
                self.create_account(
                    dict(spec.balances), name=spec.name, nonce_window=spec.nonce_window
                )

    # ------------------------------------------------------------------ accounts
    def create_account(
        self,
        balances: Mapping[str, Decimal] | None = None,
        *,
        name: str | None = None,
        nonce_window: int | None = None,
    ) -> tuple[str, str]:
        """Open an account with generated (seeded) credentials; return ``(key, secret_b64)``."""
        with self._lock:
            key, secret = self.engine.new_credentials()
            self.add_account(key, secret, balances, name=name, nonce_window=nonce_window)
            return key, secret

    def add_account(
        self,
        key: str,
        secret_b64: str,
        balances: Mapping[str, Decimal] | None = None,
        *,
        name: str | None = None,
        nonce_window: int | None = None,
    ) -> None:
        """Open an account with the given API key and base64 secret."""
        secret = b64decode_secret(secret_b64)
        with self._lock:
            if key in self.engine.accounts:
                raise ValueError("an account with this API key exists already")
            account = Account(
                name=name or f"account{len(self.engine.accounts) + 1}",
                key=key,
                secret_b64=secret_b64,
                secret=secret,
                nonce_window=self.quirks.nonce_window if nonce_window is None else nonce_window,
            )
            for asset, amount in (balances or {}).items():
                account.balances[self.venue.asset_names.get(asset, asset)] = Decimal(amount)
            if self._limits is not None:
                account.rest = DecayingCounter(
                    maximum=self._limits.rest_max, decay_per_s=self._limits.rest_decay
                )
            self.engine.accounts[key] = account

    def credentials(self) -> list[tuple[str, str, str]]:
        """``(name, key, secret_b64)`` of every account."""
        with self._lock:
            return [(a.name, a.key, a.secret_b64) for a in self.engine.accounts.values()]

    # ------------------------------------------------------------------ inspection
    def orders(self, api_key: str) -> list[Order]:
        """Every order the account ever placed, oldest first (the exchange's truth)."""
        with self._lock:
            return sorted(
                (o for o in self.engine.orders.values() if o.account == api_key),
                key=lambda o: o.seq,
            )

    def trades(self, api_key: str) -> list[Trade]:
        """Every fill of the account, oldest first."""
        with self._lock:
            return [self.engine.trades[t] for t in self.engine.account_trades.get(api_key, [])]

    def balances(self, api_key: str) -> dict[str, Decimal]:
        """The account's balances by asset id."""
        with self._lock:
            return dict(self.engine.accounts[api_key].balances)

    @property
    def journal(self) -> Sequence[JournalEntry]:
        """One entry per request, in arrival order."""
        with self._lock:
            return tuple(self._journal)

    def fault_counts(self) -> Mapping[str, int]:
        """How many faults of each kind were injected."""
        with self._lock:
            return dict(self._fault_counts)

    @property
    def fault_plan(self) -> FaultPlan:
        """The fault plan in force."""
        return self._faults.plan

    def set_faults(self, faults: FaultSource) -> None:
        """Replace the fault plan (call counting starts again)."""
        with self._lock:
            self._faults = FaultInjector(load_faults(faults), seed=self.seed)

    # ------------------------------------------------------------------ control
    @property
    def system_status(self) -> SystemStatus:
        """What SystemStatus reports."""
        return self._status

    def set_system_status(self, status: SystemStatus) -> None:
        """Switch the trading mode; ``maintenance`` pauses matching and timers."""
        with self._lock:
            self.engine.settle(self._now())
            self._status = status
            self.engine.paused = status == "maintenance"

    def set_price(self, pair: str, mid: Decimal | str | None) -> None:
        """Pin a pair's mid (by id or altname) from now on; None returns to the path."""
        with self._lock:
            self.engine.settle(self._now())
            path = self.venue.pair(pair)
            path.pinned = None if mid is None else Decimal(mid)

    def amend(self, txid: str, *, price: Decimal | str | None = None, vol: Decimal | str) -> None:
        """Amend a live order directly, as another program on the account would (tests)."""
        with self._lock:
            self.engine.settle(self._now())
            order = self.engine.orders[txid]
            new_price = order.price if price is None else Decimal(price)
            self.engine.amend(order, price=new_price, vol=Decimal(vol), now=self._now())

    def touch(self, pair: str) -> Touch:
        """The current best bid/ask of a pair."""
        with self._lock:
            path = self.venue.pair(pair)
            return path.touch(path.index_at(self._now()))

    def advance_to(self, moment: datetime) -> None:
        """Move a virtual clock to ``moment`` and settle the engine there."""
        with self._lock:
            if isinstance(self.clock, VirtualClock):
                self.clock.advance_to(moment)
            self.engine.settle(self._now())

    def settle(self) -> None:
        """Run matching, expiries and the dead-man switch up to the clock's now."""
        with self._lock:
            self.engine.settle(self._now())

    def _now(self) -> float:
        return self.clock.now().timestamp()

    # ------------------------------------------------------------------ the WebSocket front
    @contextlib.contextmanager
    def engine_settled(self) -> Iterator[Engine]:
        """The engine settled to now and held under the exchange's lock for the block.

        Engine watchers run under this lock too, so what the block reads and registers is
        ordered with every order change (the WebSocket snapshot relies on it).
        """
        with self._lock:
            self.engine.settle(self._now())
            yield self.engine

    def now(self) -> float:
        """The exchange's time, in unix seconds."""
        return self._now()

    def private_call(self, account: Account, name: str, values: Mapping[str, object]) -> object:
        """Run the private REST method ``name`` for an already authenticated account.

        The WebSocket front's order methods go through here, so both fronts share the same
        rules (funds, rate counters, client ids, maintenance). Raises :class:`ApiError`.
        """
        with self._lock:
            now = self._now()
            self.engine.settle(now)
            return self._run_private(name, self._call(Params(values), now, account))

    # ------------------------------------------------------------------ the entry point
    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        read_timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Serve one HTTP request; raises :class:`NoResponse` when the client gets no answer.

        ``read_timeout``/``connect_timeout`` are the client's: a lost answer (or a delay longer
        than the read timeout) moves the clock by the read timeout, an injected timeout by the
        connect timeout, before :class:`NoResponse` is raised (None: no wait).
        """
        with self._lock:
            reply = self._dispatch(method, path, headers, body, (read_timeout, connect_timeout))
        if reply.sleep > 0:
            self.clock.sleep(reply.sleep)
        if reply.drop is not None:
            raise NoResponse(reply.drop, reply.sleep)
        return reply.status, reply.headers, reply.body

    def _dispatch(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        timeouts: tuple[float | None, float | None],
    ) -> Reply:
        read_timeout, connect_timeout = timeouts
        now = self._now()
        self.engine.settle(now)
        self._seq += 1
        request = _parse_request(method, path, headers, body, now)
        fault = (
            self._faults.decide(request.name, private=request.scope == "private")
            if request.known
            else None
        )
        if fault is not None and fault.phase == "before":
            wait = connect_timeout if connect_timeout is not None else read_timeout
            self._fault_counts[fault.kind] += 1
            reply = before_fault(
                fault,
                wait,
                result_on_error=self.quirks.result_on_error,
                now=now,
                throttled_prefix=self.quirks.throttled_prefix,
            )
            self._record(request, fault, None, (), reply)
            return reply
        call, errors, result = self._execute(request, fault)
        if fault is not None and fault.kind == "absent_from_open_orders":
            fault = fault if call is not None and call.created else None
        reply = Reply(
            status=200,
            headers=JSON_HEADERS,
            body=envelope_bytes(result, errors, result_on_error=self.quirks.result_on_error),
        )
        if fault is not None:
            self._fault_counts[fault.kind] += 1
            reply = after_fault(
                fault, reply, read_timeout, result_on_error=self.quirks.result_on_error
            )
        self._record(request, fault, call, errors, reply)
        return reply

    def _execute(
        self, request: _Request, fault: Fault | None
    ) -> tuple[Call | None, tuple[str, ...], object]:
        """Run the request; returns (the call if it got past authentication, errors, result)."""
        verb = request.method.upper()
        private = request.scope == "private"
        if not request.known or (private and verb != "POST") or verb not in {"GET", "POST"}:
            return None, ("EGeneral:Unknown method",), None
        content_type = request.headers.get("content-type", "")
        try:
            if not private:
                values = parse_query(request.query)
                if verb == "POST":
                    values.update(parse_body(request.body, content_type))
                call = self._call(Params(values), request.now, None)
                return call, (), PUBLIC[request.name](call)
            values = parse_body(request.body, content_type)
            account = self._authenticate(request, values)
        except ApiError as exc:
            return None, (exc.code,), None
        call = self._call(Params(values), request.now, account)
        if fault is not None and fault.kind == "absent_from_open_orders":
            call.hide_new_order_for = fault.seconds
        try:
            return call, (), self._run_private(request.name, call)
        except ApiError as exc:
            return call, (exc.code,), None

    def _run_private(self, name: str, call: Call) -> object:
        if name in TRADING and self._status == "maintenance":
            raise ApiError("EService:Unavailable")
        return PRIVATE[name](call)

    def _call(self, params: Params, now: float, account: Account | None) -> Call:
        return Call(
            engine=self.engine,
            venue=self.venue,
            quirks=self.quirks,
            params=params,
            now=now,
            system_status=self._status,
            account=account,
        )

    def _authenticate(self, request: _Request, values: Mapping[str, object]) -> Account:
        now = request.now
        account = self.engine.accounts.get(request.headers.get("api-key", ""))
        if account is None:
            raise ApiError("EAPI:Invalid key")
        if account.locked_until > now:
            raise ApiError("EGeneral:Temporary lockout")
        raw_nonce = values.get("nonce")
        nonce = parse_nonce(raw_nonce)
        nonce_text = (
            nonce[0] if nonce is not None else ("" if raw_nonce is None else str(raw_nonce))
        )
        signature = request.headers.get("api-sign", "")
        path = f"/0/private/{request.name}"
        if not signature_matches(signature, path, nonce_text, request.body, account.secret):
            self._auth_failed(account, now)
            raise ApiError("EAPI:Invalid signature")
        if nonce is None or not account.nonces.accept(nonce[1]):
            self._auth_failed(account, now)
            raise ApiError("EAPI:Invalid nonce")
        account.auth_failures = 0
        cost = rest_cost(request.name, self.quirks)
        if account.rest is not None and not account.rest.try_add(cost, now=now):
            raise ApiError("EAPI:Rate limit exceeded")
        return account

    def _auth_failed(self, account: Account, now: float) -> None:
        account.auth_failures += 1
        limit = self.quirks.lockout_after
        if limit and account.auth_failures >= limit:
            account.locked_until = now + self.quirks.lockout_seconds
            account.auth_failures = 0

    def _record(
        self,
        request: _Request,
        fault: Fault | None,
        call: Call | None,
        errors: tuple[str, ...],
        reply: Reply,
    ) -> None:
        self._journal.append(
            JournalEntry(
                seq=self._seq,
                time=datetime.fromtimestamp(request.now, UTC),
                method=request.method,
                endpoint=request.name,
                api_key=request.headers.get("api-key") if request.scope == "private" else None,
                fault=fault.kind if fault is not None else None,
                fault_phase=fault.phase if fault is not None else None,
                executed=call is not None,
                errors=errors,
                txids=tuple(call.created) if call is not None else (),
                status=reply.status,
                delivered=reply.drop is None,
            )
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Request:
    method: str
    scope: str
    name: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    now: float

    @property
    def known(self) -> bool:
        table = PUBLIC if self.scope == "public" else PRIVATE if self.scope == "private" else {}
        return self.name in table


def _parse_request(
    method: str, path: str, headers: Mapping[str, str], body: bytes, now: float
) -> _Request:
    target, _, query = path.partition("?")
    match = _ROUTE_RE.match(target)
    scope, name = (match.group(1), match.group(2)) if match else ("", target)
    return _Request(
        method=method,
        scope=scope,
        name=name,
        query=query,
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
        now=now,
    )
