"""`KrakenRESTClient`: Kraken's spot REST API over one transport (shell).

The client does I/O and nothing clever: the rules live in pure modules it
calls (`signing`, `ratelimit`, `orders`, `errors`, `types`). What it guarantees:

* **Envelope.** Every call returns Kraken's decoded ``result`` or raises one
  typed `KrakenAPIError` built by `kraken_bot.kraken.errors` (HTTP 200 with
  ``E...`` strings, a bad status, a body that is not an envelope, a transport
  failure with `NetworkError.may_have_reached`). Nothing is retried here:
  retrying is the execution layer's decision.
* **Ordering.** A private call takes the nonce, signs the exact body bytes and
  sends them under one lock held for the whole round trip, so two requests on
  one key never reach Kraken out of nonce order. Private calls of one client
  are therefore serialized; public calls are not.
* **Rate limits.** Every private call is charged to one `RateLimiter` per
  client and waits (through the injected clock, outside the send lock) until it
  fits Kraken's counters; tier ``unlimited`` turns this off.
* **Secrets.** The API secret is decoded once into an opaque key object; it
  never appears in a repr, a log line, an exception or a response's ``raw``.
  The debug log (``kraken_bot.kraken``) names methods, outcomes and durations,
  never bodies or headers.
* **Transport.** Requests go through a `kraken_bot.kraken.transport.Transport`:
  by default one over a `requests.Session`; ``http`` takes any other (replays call
  the fake exchange directly). ``transport`` (any `requests.adapters.BaseAdapter`, such as
  the fake exchange's ``SimTransport``) is mounted for the base URL, so the real
  encoding, signing and parsing run in-process. Every call has a connect and a
  read timeout.
* **QueryOrders and unknown txids.** Kraken probably fails a whole QueryOrders
  call when one of its txids is unknown (``EOrder:Invalid order``). The client
  then splits the chunk in halves until each unknown txid stands alone, so one
  stale txid never hides the other 49 (`query_orders_checked` also says which
  txids were unknown).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import BaseAdapter
from returns.pipeline import is_successful
from returns.result import Result

from kraken_bot._closing import Closing
from kraken_bot.clock import Clock, SystemClock
from kraken_bot.config import KrakenConfig
from kraken_bot.kraken.errors import (
    AuthError,
    KrakenAPIError,
    NetworkError,
    NonceError,
    RateLimitError,
    UnexpectedResponseError,
    is_not_open,
    unwrap_envelope,
)
from kraken_bot.kraken.limiter import RateLimiter
from kraken_bot.kraken.nonce import NonceSource, nonce_file
from kraken_bot.kraken.orders import AddOrderRequest, AmendOrderRequest
from kraken_bot.kraken.pairs import PairUniverse, parse_asset_pairs
from kraken_bot.kraken.prices import OrderBook, PriceQuote, parse_depth, parse_ticker
from kraken_bot.kraken.ratelimit import Charge
from kraken_bot.kraken.signing import (
    ParamValue,
    decode_secret,
    encode_params,
    form_body,
    sign_with_key,
)
from kraken_bot.kraken.transport import HttpRequest, HttpResponse, RequestsTransport, Transport
from kraken_bot.kraken.types import (
    AddOrderAck,
    AmendAck,
    AssetInfo,
    Balances,
    CancelAck,
    DeadManSwitchAck,
    OHLCSeries,
    OrderInfo,
    QueriedOrders,
    ResponseShapeError,
    ServerTime,
    SystemStatus,
    parse_add_order,
    parse_amend,
    parse_assets,
    parse_balance,
    parse_cancel,
    parse_closed_orders,
    parse_dead_man_switch,
    parse_ohlc,
    parse_open_orders,
    parse_order_map,
    parse_server_time,
    parse_system_status,
)
from kraken_bot.region import Tier
from kraken_bot.secret import Secret

_LOG: Final = logging.getLogger("kraken_bot.kraken")

DEFAULT_BASE_URL: Final = "https://api.kraken.com"
OHLC_INTERVALS: Final = frozenset({1, 5, 15, 30, 60, 240, 1440, 10080, 21600})
CLOSED_ORDERS_PAGE: Final = 50
QUERY_ORDERS_CHUNK: Final = 50
DEAD_MAN_MAX_TIMEOUT: Final = 86400

_T = TypeVar("_T")


class _SigningKey:
    """The decoded API secret; opaque so it cannot leak through a repr."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, path: str, nonce: str, body: bytes) -> str:
        return sign_with_key(path, nonce, body, self._key)

    def __repr__(self) -> str:
        return "<signing key>"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a signing key cannot be pickled")


def _as_secret(value: Secret | str | None) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value or None
    return Secret(value) if value else None


def _check_method(method: str) -> None:
    if not (method.isascii() and method.isalnum()):
        raise ValueError(f"not a Kraken method name: {method!r}")


def _expect(parsed: Result[_T, ResponseShapeError], endpoint: str) -> _T:
    if not is_successful(parsed):
        raise UnexpectedResponseError(str(parsed.failure()), endpoint=endpoint)
    return parsed.unwrap()


def _when(value: int | str | datetime | None, *, up: bool) -> str | None:
    """A ClosedOrders ``start``/``end``: unix seconds or an order txid."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        stamp = value.timestamp()
        return str(math.ceil(stamp) if up else math.floor(stamp))
    return str(value)


class KrakenRESTClient(Closing):
    """Kraken's spot REST API: public and private calls, typed results, typed errors.

    Args:
        base_url: ``https://api.kraken.com`` or the fake exchange's URL.
        api_key, api_secret: credentials (`Secret` or str); needed for private calls only.
        tier: verification tier for client-side rate limiting (``unlimited`` turns it off).
        connect_timeout, read_timeout: seconds, applied to every call.
        transport: a `requests` adapter mounted for ``base_url`` (in-process fake exchange).
        session: a `requests.Session` to use (the client closes only one it created).
        http: a `Transport` to send through instead of `requests` (``transport`` and
            ``session`` are then unused): replays call the fake exchange directly.
        clock: time source for waits, nonces and quote times (`SystemClock` by default).
        nonce_source: shared or persistent nonces (default: in memory, milliseconds).
        user_agent: the User-Agent header Kraken requires.
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: Secret | str | None = None,
        api_secret: Secret | str | None = None,
        tier: Tier | str = Tier.STARTER,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        transport: BaseAdapter | None = None,
        session: requests.Session | None = None,
        http: Transport | None = None,
        clock: Clock | None = None,
        nonce_source: NonceSource | None = None,
        user_agent: str = "krakked/0.5",
    ) -> None:
        self._base_url = base_url.rstrip("/")
        parts = urlsplit(self._base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self._path_prefix = parts.path  # signed as part of the URI path
        self._tier = Tier(tier)
        self._api_key = _as_secret(api_key)
        secret = _as_secret(api_secret)
        self._signing_key = _SigningKey(decode_secret(secret.reveal())) if secret else None
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._nonces = nonce_source if nonce_source is not None else NonceSource(clock=self._clock)
        self._limiter = RateLimiter(tier=self._tier, clock=self._clock)
        self._http: Transport = (
            http
            if http is not None
            else RequestsTransport(self._base_url, session=session, adapter=transport)
        )
        self._timeout = (connect_timeout, read_timeout)
        self._public_headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._send_lock = threading.Lock()
        self.call_observers: list[Callable[[str, float, str | None], None]] = []
        """Told of every answered call: (endpoint, seconds, error class value or None);
        metrics subscribe here. An observer must be quick and must not raise."""

    @classmethod
    def from_config(
        cls,
        config: KrakenConfig,
        *,
        transport: BaseAdapter | None = None,
        http: Transport | None = None,
        clock: Clock | None = None,
    ) -> KrakenRESTClient:
        """A client for a `KrakenConfig`, its nonces by `nonce_file`'s one rule (the key's
        shared file, or in memory)."""
        clock = clock if clock is not None else SystemClock()
        nonces = NonceSource(clock=clock, state_file=nonce_file(config))
        return cls(
            base_url=config.base_url,
            api_key=config.api_key,
            api_secret=config.api_secret,
            tier=config.tier,
            connect_timeout=config.connect_timeout_seconds,
            read_timeout=config.read_timeout_seconds,
            transport=transport,
            http=http,
            clock=clock,
            nonce_source=nonces,
        )

    def __repr__(self) -> str:
        return f"KrakenRESTClient(base_url={self._base_url!r}, tier={self._tier.value!r})"

    def close(self) -> None:
        """Release the nonce file and the transport."""
        self._nonces.close()
        self._http.close()

    @property
    def base_url(self) -> str:
        """The base URL, without a trailing slash."""
        return self._base_url

    @property
    def tier(self) -> Tier:
        """The verification tier the limiter models."""
        return self._tier

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter every call of this client shares."""
        return self._limiter

    @property
    def nonce_source(self) -> NonceSource:
        """Where private calls take their nonces."""
        return self._nonces

    @property
    def has_credentials(self) -> bool:
        """True when private calls are possible."""
        return self._api_key is not None and self._signing_key is not None

    # ------------------------------------------------------------------ low level

    def public(self, method: str, **params: ParamValue) -> Any:
        """GET ``/0/public/<method>`` with query parameters; returns the decoded ``result``.

        Values: str, int, bool (``true``/``false``), Decimal, a sequence (comma list);
        None drops the parameter.
        """
        _check_method(method)
        fields = encode_params(params)
        url = f"{self._base_url}/0/public/{method}"
        if fields:
            url = f"{url}?{urlencode(fields)}"
        self._limiter.acquire_public()
        started = self._clock.monotonic()
        response = self._send("GET", url, self._public_headers, None, method)
        try:
            return self._decode(response, method, started)
        except RateLimitError as exc:
            self._limiter.record_rate_limited(exc, Charge(public=True))
            raise

    def private(self, method: str, **params: ParamValue) -> Any:
        """POST ``/0/private/<method>``, form-encoded and signed; returns the decoded ``result``.

        Raises:
            AuthError: the client has no credentials (raised before anything is sent).
            KrakenAPIError: any Kraken, HTTP or transport failure, typed.
        """
        return self._private(method, encode_params(params))

    def _private(
        self, method: str, fields: list[tuple[str, str]], *, pair_hint: str | None = None
    ) -> Any:
        _check_method(method)
        if self._api_key is None or self._signing_key is None:
            raise AuthError(
                f"{method} is a private endpoint and the client has no API key and secret"
                " (set KRAKEN_API_KEY and KRAKEN_API_SECRET, or a credentials file)",
                endpoint=method,
            )
        wire = dict(fields)
        charge, started, response = self._round_trip(method, fields, wire, pair_hint)
        try:
            result = self._decode(response, method, started)
        except RateLimitError as exc:
            self._limiter.record_rate_limited(exc, charge)
            raise
        except NonceError:
            # Every krakked process on this key shares one nonce file, locked until each
            # request is sent: a refused nonce means something else uses the key.
            _LOG.error(
                "%s: Kraken refused the nonce. Another program uses this API key without"
                " krakked's nonce file (%s): give it its own key, or share that file",
                method,
                self._nonces.state_file or "in memory",
            )
            raise
        if self._limiter.enabled:
            self._note_result(method, wire, result)
        return result

    def _round_trip(
        self,
        method: str,
        fields: list[tuple[str, str]],
        wire: dict[str, str],
        pair_hint: str | None,
    ) -> tuple[Charge, float, HttpResponse]:
        """Wait for the budget, then nonce + sign + send under the send lock."""
        assert self._api_key is not None
        assert self._signing_key is not None
        path = f"{self._path_prefix}/0/private/{method}"
        url = f"{self._base_url}/0/private/{method}"
        while True:
            charge = self._limiter.plan(method, wire, pair_hint=pair_hint)
            self._limiter.wait(charge)
            with self._send_lock:
                if not self._limiter.fits(charge):
                    continue  # another thread spent the budget while this one slept
                started = self._clock.monotonic()
                try:
                    # The key's nonce order is held (across processes) until the request is
                    # sent, so requests on one key reach Kraken in nonce order.
                    with self._nonces.reserve() as reserved:
                        nonce, body = form_body(reserved, fields)
                        headers = {
                            **self._public_headers,
                            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                            "API-Key": self._api_key.reveal(),
                            "API-Sign": self._signing_key.sign(path, nonce, body),
                        }
                        response = self._send("POST", url, headers, body, method)
                finally:
                    # Charged on the reply (or failure), never before: see ratelimit rule 2.
                    self._limiter.settle(charge)
                return charge, started, response

    def _send(
        self,
        verb: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        endpoint: str,
    ) -> HttpResponse:
        try:
            return self._http.send(
                HttpRequest(method=verb, url=url, headers=headers, body=body),
                timeout=self._timeout,
                endpoint=endpoint,
            )
        except NetworkError as error:
            _LOG.debug("%s: %s", endpoint, error.message)
            raise

    def _decode(self, response: HttpResponse, endpoint: str, started: float) -> Any:
        try:
            payload: object = json.loads(response.body)
        except (ValueError, RecursionError):
            payload = None  # not JSON (or absurdly nested): unwrap_envelope reports it
        unwrapped = unwrap_envelope(payload, endpoint=endpoint, http_status=response.status)
        if is_successful(unwrapped):
            if _LOG.isEnabledFor(logging.DEBUG) or self.call_observers:
                elapsed = self._clock.monotonic() - started
                _LOG.debug("%s: ok in %.1f ms", endpoint, elapsed * 1000)
                self._observe(endpoint, elapsed, None)
            return unwrapped.unwrap()
        error = unwrapped.failure()
        self._observe(endpoint, self._clock.monotonic() - started, error.error_class.value)
        _LOG.debug("%s: %s (%s)", endpoint, error.message, error.error_class.value)
        raise error

    def _observe(self, endpoint: str, seconds: float, error: str | None) -> None:
        for observer in self.call_observers:
            try:
                observer(endpoint, seconds, error)
            except Exception:
                _LOG.exception("a call observer raised")

    def _note_result(self, method: str, wire: dict[str, str], result: object) -> None:
        """Tell the limiter what the reply changed (orders placed or cancelled)."""
        txids: tuple[str, ...] = ()
        if method == "AddOrder":
            parsed = parse_add_order(result)
            if not is_successful(parsed) or not parsed.unwrap().txids:
                return
            txids = parsed.unwrap().txids
        self._limiter.record_reply(method, wire, txids=txids)

    # ------------------------------------------------------------------ public, typed

    def server_time(self) -> ServerTime:
        """Kraken's ``Time``."""
        return _expect(parse_server_time(self.public("Time")), "Time")

    def system_status(self) -> SystemStatus:
        """Kraken's ``SystemStatus`` (``online``, ``maintenance``, ``cancel_only``, ...)."""
        return _expect(parse_system_status(self.public("SystemStatus")), "SystemStatus")

    def assets(self, assets: Sequence[str] | None = None) -> dict[str, AssetInfo]:
        """Kraken's ``Assets``, keyed by asset id (``XXBT``)."""
        result = self.public("Assets", asset=list(assets) if assets else None)
        return _expect(parse_assets(result), "Assets")

    def asset_pairs(self, pairs: Sequence[str] | None = None) -> PairUniverse:
        """Kraken's ``AssetPairs`` (all pairs, or those named) as a `PairUniverse`."""
        result = self.public("AssetPairs", pair=list(pairs) if pairs else None)
        return _expect(parse_asset_pairs(result), "AssetPairs")

    def ticker(self, pairs: Sequence[str]) -> dict[str, PriceQuote]:
        """Kraken's ``Ticker``, keyed by pair id as Kraken answers (empty ``pairs``: all)."""
        result = self.public("Ticker", pair=list(pairs) if pairs else None)
        return _expect(parse_ticker(result, read_at=self._clock.now()), "Ticker")

    def depth(self, pair: str, count: int = 10) -> OrderBook:
        """Kraken's ``Depth`` for one pair (``count`` levels a side, 1 to 500)."""
        if isinstance(count, bool) or not 1 <= count <= 500:
            raise ValueError(f"count must be 1 to 500, got {count}")
        result = self.public("Depth", pair=pair, count=count)
        return _expect(parse_depth(result, read_at=self._clock.now()), "Depth")

    def ohlc(self, pair: str, interval: int = 1, since: int | None = None) -> OHLCSeries:
        """Kraken's ``OHLC`` (at most 720 rows; the last still forming)."""
        if interval not in OHLC_INTERVALS:
            raise ValueError(f"interval must be one of {sorted(OHLC_INTERVALS)}, got {interval}")
        result = self.public("OHLC", pair=pair, interval=interval, since=since)
        return _expect(parse_ohlc(result), "OHLC")

    # ------------------------------------------------------------------ private, typed

    def balance(self) -> Balances:
        """Kraken's ``Balance``: asset id to amount (a dict that also keeps ``raw``)."""
        return _expect(parse_balance(self.private("Balance")), "Balance")

    def websockets_token(self) -> str:
        """``GetWebSocketsToken``: a token for the WebSocket v2 private endpoint.

        Used within 15 minutes it stays good while its subscription lasts; fetch one
        per connection. It is a credential: never logged or stored.
        """
        result = self.private("GetWebSocketsToken")
        token = result.get("token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            raise UnexpectedResponseError(
                "GetWebSocketsToken: no token in the result", endpoint="GetWebSocketsToken"
            )
        return token

    def add_order(self, req: AddOrderRequest) -> AddOrderAck:
        """Place (or, with ``validate``, only validate) one order."""
        result = self._private("AddOrder", list(req.to_params().items()))
        return _expect(parse_add_order(result), "AddOrder")

    def cancel_order(
        self,
        *,
        txid: str | None = None,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        pair: str | None = None,
    ) -> CancelAck:
        """Cancel by exactly one of txid, userref (all open orders carrying it) or cl_ord_id.

        ``pair`` is a hint for the rate limiter only (not sent): the pair of an order
        this client did not place, so the cancel penalty is charged to the right pair.
        """
        if sum(x is not None for x in (txid, userref, cl_ord_id)) != 1:
            raise ValueError("cancel_order takes exactly one of txid, userref, cl_ord_id")
        if userref is not None:
            if isinstance(userref, bool) or not isinstance(userref, int):
                raise TypeError("userref must be an int")
            fields = [("txid", str(userref))]  # Kraken takes an integer userref as txid
        elif txid is not None:
            fields = [("txid", txid)]
        else:
            assert cl_ord_id is not None
            fields = [("cl_ord_id", cl_ord_id)]
        result = self._private("CancelOrder", fields, pair_hint=pair)
        return _expect(parse_cancel("CancelOrder", result), "CancelOrder")

    def amend_order(self, req: AmendOrderRequest, *, pair: str | None = None) -> AmendAck:
        """Change a live limit order's price and/or quantity in place (AmendOrder).

        The order keeps its txid and cl_ord_id. ``pair`` is a hint for the rate limiter
        only (not sent), as for `cancel_order`.
        """
        result = self._private("AmendOrder", list(req.to_params().items()), pair_hint=pair)
        return _expect(parse_amend(result), "AmendOrder")

    def cancel_all(self) -> CancelAck:
        """Cancel every open order of the account."""
        return _expect(parse_cancel("CancelAll", self.private("CancelAll")), "CancelAll")

    def cancel_all_orders_after(self, timeout: int) -> DeadManSwitchAck:
        """Arm (or with 0, disarm) the dead-man switch: cancel all after ``timeout`` seconds."""
        if isinstance(timeout, bool) or not 0 <= timeout < DEAD_MAN_MAX_TIMEOUT:
            raise ValueError(f"timeout must be 0 to {DEAD_MAN_MAX_TIMEOUT - 1} seconds")
        result = self.private("CancelAllOrdersAfter", timeout=timeout)
        return _expect(parse_dead_man_switch(result), "CancelAllOrdersAfter")

    def open_orders(
        self, *, userref: int | None = None, cl_ord_id: str | None = None, trades: bool = False
    ) -> tuple[OrderInfo, ...]:
        """Open orders, optionally filtered by userref or cl_ord_id."""
        result = self.private(
            "OpenOrders", trades=trades or None, userref=userref, cl_ord_id=cl_ord_id
        )
        return _expect(parse_open_orders(result), "OpenOrders")

    def closed_orders(
        self,
        *,
        userref: int | None = None,
        cl_ord_id: str | None = None,
        start: int | str | datetime | None = None,
        end: int | str | datetime | None = None,
        closetime: str = "both",
        trades: bool = False,
    ) -> tuple[OrderInfo, ...]:
        """Every closed order matching the filters, newest first, across all pages.

        Kraken pages 50 at a time (``ofs``), newest first. Without an ``end``,
        pages after the first are pinned to the newest time on the first page, so
        orders closing meanwhile do not shift the offsets; an order seen twice
        anyway is returned once.
        """
        if closetime not in {"open", "close", "both"}:
            raise ValueError("closetime must be open, close or both")
        end_text = _when(end, up=True)
        found: dict[str, OrderInfo] = {}
        offset = 0
        while True:
            result = self.private(
                "ClosedOrders",
                trades=trades or None,
                userref=userref,
                cl_ord_id=cl_ord_id,
                start=_when(start, up=False),
                end=end_text,
                ofs=offset,
                closetime=closetime,
            )
            page = _expect(parse_closed_orders(result), "ClosedOrders")
            new = [order for order in page.orders if order.txid not in found]
            for order in new:
                found[order.txid] = order
            offset += len(page.orders)
            if not new or offset >= page.count:
                # An empty page, the last page, or a page of repeats (a server that does not
                # advance would otherwise be paged forever).
                return tuple(found.values())
            if end_text is None:
                end_text = _newest_time(page.orders)

    def query_orders(
        self, txids: Sequence[str], *, userref: int | None = None, trades: bool = False
    ) -> tuple[OrderInfo, ...]:
        """Orders by txid, in the order asked (unknown ones absent), 50 txids per call.

        See `query_orders_checked` for which txids Kraken did not know.
        """
        return self.query_orders_checked(txids, userref=userref, trades=trades).orders

    def query_orders_checked(
        self, txids: Sequence[str], *, userref: int | None = None, trades: bool = False
    ) -> QueriedOrders:
        """Orders by txid, and the txids Kraken does not know (or does not show yet).

        Up to 50 txids per call. A call Kraken refuses as a whole because of an unknown
        txid (``EOrder:Invalid order`` or ``EOrder:Unknown order``) is split in halves and
        asked again, down to single txids, so each unknown txid is found at the cost of a
        few more calls (about 2 x log2(50) for one unknown txid in a full chunk); every other
        error (and that one with an HTTP status other than 200) propagates. Without
        ``userref``, a txid missing from a successful answer (a server that omits unknown
        txids) is unknown too.
        """
        wanted = list(dict.fromkeys(txids))
        found: dict[str, OrderInfo] = {}
        unknown: set[str] = set()
        for chunk in _chunks(wanted, QUERY_ORDERS_CHUNK):
            self._query_chunk(chunk, userref, trades, found, unknown)
        if userref is None:
            unknown.update(t for t in wanted if t not in found)
        return QueriedOrders(
            orders=tuple(found[t] for t in wanted if t in found),
            unknown=tuple(t for t in wanted if t in unknown),
        )

    def _query_chunk(
        self,
        chunk: list[str],
        userref: int | None,
        trades: bool,
        found: dict[str, OrderInfo],
        unknown: set[str],
    ) -> None:
        parts = [chunk]
        while parts:
            part = parts.pop()
            try:
                result = self.private(
                    "QueryOrders", txid=part, trades=trades or None, userref=userref
                )
            except KrakenAPIError as error:
                # Kraken's application errors come with HTTP 200; anything else is edge trouble.
                if not is_not_open(error) or error.http_status != 200:
                    raise
                if len(part) == 1:
                    unknown.add(part[0])
                else:
                    middle = len(part) // 2
                    parts += [part[middle:], part[:middle]]  # the first half is asked first
                continue
            for order in _expect(parse_order_map("QueryOrders", result), "QueryOrders"):
                found[order.txid] = order


def _newest_time(orders: Iterable[OrderInfo]) -> str | None:
    times = [t.timestamp() for o in orders for t in (o.closed_at, o.opened_at) if t is not None]
    return str(math.ceil(max(times))) if times else None


def _chunks(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for index in range(0, len(items), size):
        yield list(items[index : index + size])


__all__ = [
    "CLOSED_ORDERS_PAGE",
    "DEFAULT_BASE_URL",
    "QUERY_ORDERS_CHUNK",
    "KrakenRESTClient",
]
