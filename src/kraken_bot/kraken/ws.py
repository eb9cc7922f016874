"""Shell: one authenticated Kraken WebSocket v2 connection subscribed to ``executions``.

`ExecutionsStream` runs in its own thread:

1. fetch a fresh token (REST ``GetWebSocketsToken``; one per connection, never cached);
2. connect, subscribe to ``executions`` with the open-order snapshot;
3. hand every executions frame to ``on_frame``, in order; after the snapshot of each
   (re)connection, and on every ``sequence`` gap, call ``on_resync`` (the owner then
   reconciles over REST before trusting the stream's silence again);
4. keep the connection alive: an application ``ping`` every ``ping_every`` seconds; a
   connection silent for ``silence_limit`` seconds (no heartbeat, no pong) is dropped;
5. reconnect after any failure with exponential backoff and jitter (capped), and call
   ``on_down`` so the owner knows the stream is not watching.

The port to the network is ``connect`` (``websockets.sync.client.connect`` by default);
tests run it against the fake's socket on loopback. The token never appears in logs.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from returns.result import Failure
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect as ws_connect

from kraken_bot.kraken.errors import KrakenAPIError, NetworkError
from kraken_bot.kraken.ws_reports import (
    ExecutionsFrame,
    Heartbeat,
    MethodReply,
    parse_frame,
    sequence_follows,
)

__all__ = ["ExecutionsStream", "StreamStats", "WsConnection"]

log = logging.getLogger("kraken_bot.kraken.ws")

_ENDPOINTS = {"add_order": "AddOrder", "cancel_order": "CancelOrder", "cancel_all": "CancelAll"}


class WsConnection(Protocol):
    """The part of a ``websockets`` sync connection the stream uses."""

    def send(self, message: str) -> None:
        """Send one text frame."""
        ...

    def recv(self, timeout: float | None = None) -> str | bytes:
        """The next frame (``TimeoutError`` after ``timeout``)."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


Connect = Callable[[str], AbstractContextManager[WsConnection]]


def _default_connect(url: str) -> AbstractContextManager[WsConnection]:
    return ws_connect(url, open_timeout=10, close_timeout=2, ping_interval=None, max_size=2**24)


class _Waiter:
    """One request waiting for its response (None: the connection ended first)."""

    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: MethodReply | None = None


@dataclass(slots=True)
class StreamStats:
    """Counters of one stream (read by metrics, tests and benchmarks)."""

    connects: int = 0
    disconnects: int = 0
    gaps: int = 0
    frames: int = 0
    reports: int = 0
    tokens: int = 0
    bad_frames: int = 0


class ExecutionsStream:
    """Keeps an ``executions`` subscription alive (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        get_token: Callable[[], str],
        on_frame: Callable[[ExecutionsFrame], None],
        on_resync: Callable[[str], None],
        on_down: Callable[[str], None] | None = None,
        connect: Connect = _default_connect,
        ping_every: float = 10.0,
        silence_limit: float = 15.0,
        backoff: tuple[float, float] = (0.2, 30.0),
        seed: int | None = None,
    ) -> None:
        self.url = url
        self._get_token = get_token
        self._on_frame = on_frame
        self._on_resync = on_resync
        self._on_down = on_down or (lambda _reason: None)
        self._connect = connect
        self._ping_every = ping_every
        self._silence_limit = silence_limit
        self._backoff = backoff
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ws: WsConnection | None = None
        self._ws_lock = threading.Lock()
        self._subscribed = threading.Event()
        self._req_id = 0
        self._send_lock = threading.Lock()
        self._token: str | None = None
        self._waiters: dict[int, _Waiter] = {}
        self.stats = StreamStats()
        self.last_error: str | None = None

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        """Start the stream's thread."""
        self._thread = threading.Thread(target=self._run, name="kraken-ws-executions", daemon=True)
        self._thread.start()

    def wait_subscribed(self, timeout: float) -> bool:
        """Wait until the subscription is acknowledged (the snapshot follows)."""
        return self._subscribed.wait(timeout)

    @property
    def subscribed(self) -> bool:
        """Whether the stream is subscribed right now."""
        return self._subscribed.is_set()

    def close(self) -> None:
        """Stop the thread and close the connection."""
        self._stop.set()
        with self._ws_lock:
            ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except (OSError, WebSocketException) as error:
                log.debug("closing the WebSocket: %s", error)
        if self._thread is not None:
            self._thread.join(10)

    # ------------------------------------------------------------------ the loop
    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            reason = self._session()
            self._subscribed.clear()
            if self._stop.is_set():
                return
            failures = 0 if reason == "" else failures + 1
            self.stats.disconnects += 1
            self.last_error = reason or "the connection closed"
            log.warning("executions stream down (%s); reconnecting", self.last_error)
            self._on_down(self.last_error)
            low, high = self._backoff
            delay = min(high, low * 2 ** min(failures, 16)) * (0.5 + self._random.random() / 2)
            self._stop.wait(delay)

    def _session(self) -> str:
        """One connection, from token to close; returns why it ended ("" for a clean close)."""
        try:
            token = self._get_token()
            self.stats.tokens += 1
        except KrakenAPIError as error:
            return f"no WebSocket token: {error}"
        try:
            with self._connect(self.url) as ws:
                with self._ws_lock:
                    self._ws = ws
                    self._token = token
                self.stats.connects += 1
                self._send(
                    ws,
                    "subscribe",
                    {
                        "channel": "executions",
                        "token": token,
                        "snap_orders": True,
                        "snap_trades": False,
                    },
                )
                return self._read(ws)
        except ConnectionClosed as error:
            return f"connection closed ({error.rcvd.code if error.rcvd else 1006})"
        except (OSError, WebSocketException, TimeoutError) as error:
            return f"{type(error).__name__}: {error}"
        except Exception as error:  # the stream outlives any one failure; REST backs it up
            log.exception("executions stream failed")
            return f"{type(error).__name__}: {error}"
        finally:
            with self._ws_lock:
                self._ws = None
                self._token = None
                waiting, self._waiters = self._waiters, {}
            for waiter in waiting.values():
                waiter.done.set()  # no reply: the caller treats the outcome as unknown

    def _read(self, ws: WsConnection) -> str:
        last_heard = last_ping = time.monotonic()
        sequence: int | None = None
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last_heard > self._silence_limit:
                return f"no heartbeat for {self._silence_limit:g} s"
            if now - last_ping >= self._ping_every:
                self._send(ws, "ping", None)
                last_ping = now
            try:
                text = ws.recv(timeout=min(1.0, self._ping_every))
            except TimeoutError:
                continue
            last_heard = time.monotonic()
            parsed = parse_frame(text)
            if isinstance(parsed, Failure):
                self.stats.bad_frames += 1
                log.info("ignored a WebSocket frame: %s", parsed.failure())
                continue
            frame = parsed.unwrap()
            if isinstance(frame, MethodReply):
                refused = self._on_reply(frame)
                if refused is not None:
                    return refused
            elif isinstance(frame, ExecutionsFrame):
                sequence = self._on_executions(frame, sequence)
            elif isinstance(frame, Heartbeat):
                continue
        return ""

    def _on_reply(self, reply: MethodReply) -> str | None:
        if reply.req_id is not None:
            with self._ws_lock:
                waiter = self._waiters.pop(reply.req_id, None)
            if waiter is not None:
                waiter.reply = reply
                waiter.done.set()
                return None
        if reply.method == "subscribe":
            if not reply.success:
                return f"subscribe refused: {reply.error}"
            self._subscribed.set()
        elif not reply.success and reply.method != "pong":
            log.warning("WebSocket %s refused: %s", reply.method, reply.error)
        return None

    def _on_executions(self, frame: ExecutionsFrame, last: int | None) -> int | None:
        self.stats.frames += 1
        self.stats.reports += len(frame.reports)
        gap = not sequence_follows(last, frame)
        self._on_frame(frame)
        if frame.snapshot:
            self._on_resync("subscribed: snapshot received")
        elif gap:
            self.stats.gaps += 1
            self._on_resync(f"sequence gap: {last} then {frame.sequence}")
        return frame.sequence

    def _next_id(self) -> int:
        with self._send_lock:
            self._req_id += 1
            return self._req_id

    def _send(
        self,
        ws: WsConnection,
        method: str,
        params: dict[str, Any] | None,
        req_id: int | None = None,
    ) -> None:
        message: dict[str, Any] = {"method": method, "req_id": req_id or self._next_id()}
        if params is not None:
            message["params"] = params
        with self._send_lock:
            ws.send(json.dumps(message))

    # ------------------------------------------------------------------ requests
    def request(self, method: str, params: dict[str, Any], *, timeout: float) -> MethodReply:
        """Send a private request on the subscribed connection and wait for its response.

        Raises `NetworkError`: not sent (``may_have_reached`` false) when the stream is not
        subscribed; outcome unknown (``may_have_reached`` true) when the send failed midway,
        the connection ended, or no response came within ``timeout`` seconds.
        """
        endpoint = _ENDPOINTS.get(method, method)
        with self._ws_lock:
            ws, token = self._ws, self._token
            if ws is None or token is None or not self._subscribed.is_set():
                raise NetworkError(
                    "the WebSocket is not connected", may_have_reached=False, endpoint=endpoint
                )
            waiter = _Waiter()
            req_id = self._next_id()
            self._waiters[req_id] = waiter
        try:
            self._send(ws, method, {**params, "token": token}, req_id)
        except (OSError, WebSocketException) as error:
            with self._ws_lock:
                self._waiters.pop(req_id, None)
            raise NetworkError(
                f"the WebSocket failed while sending {method}: {type(error).__name__}",
                may_have_reached=True,
                endpoint=endpoint,
            ) from None
        answered = waiter.done.wait(timeout)
        with self._ws_lock:
            self._waiters.pop(req_id, None)
        if not answered or waiter.reply is None:
            raise NetworkError(
                f"no answer to {method} on the WebSocket"
                + (f" within {timeout:g} s" if not answered else " (the connection ended)"),
                may_have_reached=True,
                endpoint=endpoint,
            )
        return waiter.reply
