"""The HTTP front: a small threaded HTTP/1.1 server on loopback in front of :meth:`Exchange.handle`.

Design points:

* One thread per connection, keep-alive by default (HTTP/1.1), all threads share the
  exchange and its single lock.
* Each response is written with one ``sendall`` (status line, headers with Content-Length,
  body) on a socket with ``TCP_NODELAY``, so a keep-alive client never waits for a delayed ACK.
* Hostile input never stops the server: request lines and headers are size-limited (431/414),
  bodies above 1 MiB get 413, missing/invalid lengths 411/400, chunked bodies 411, and a
  client that is too slow gets 408; the connection is then closed. Any unexpected exception
  answers 500 and closes that connection only.
* An injected lost answer or timeout closes the connection without a byte of response.
* It binds loopback addresses only.
"""

from __future__ import annotations

import contextlib
import io
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final

from kraken_sim.clock import WallClock
from kraken_sim.exchange import Exchange, NoResponse

__all__ = ["SimServer", "serve"]

MAX_BODY: Final = 1024 * 1024
_MAX_LINE: Final = 8192
_MAX_HEADERS: Final = 100
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})
_REAL_TIME: Final = WallClock()  # socket deadlines are real time, whatever the engine's clock


class _ClientError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool = field(kw_only=True)


class _Handler(socketserver.BaseRequestHandler):
    server: SimServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.server.io_timeout)
        self.server.track(sock, add=True)
        try:
            with sock.makefile("rb", buffering=65536) as reader:
                assert isinstance(reader, io.BufferedReader)
                while self._serve_one(sock, reader):
                    pass
        except OSError:
            pass  # the client went away or the server is closing
        finally:
            self.server.track(sock, add=False)

    def _serve_one(self, sock: socket.socket, reader: io.BufferedReader) -> bool:
        try:
            first = reader.readline(_MAX_LINE + 1)
        except TimeoutError:
            return False  # an idle keep-alive connection: close it without a word
        deadline = _REAL_TIME.monotonic() + self.server.request_deadline
        try:
            request = _read_request(
                first, reader, deadline, lambda: sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            )
        except _ClientError as exc:
            _refuse(sock, exc.status)
            return False
        except TimeoutError:
            _refuse(sock, 408)
            return False
        if request is None:
            return False
        try:
            status, headers, body = self.server.exchange.handle(
                request.method, request.target, request.headers, request.body
            )
        except NoResponse:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            return False
        except Exception:  # a bug in one request must not stop the server
            body = b'{"error":["EGeneral:Internal error"]}'
            _send(sock, 500, {"Content-Type": "application/json"}, body, keep_alive=False)
            return False
        _send(sock, status, headers, body, keep_alive=request.keep_alive)
        return request.keep_alive


def _refuse(sock: socket.socket, status: int) -> None:
    """Answer an error and close gracefully: unread input would make the close a reset, and a
    reset can destroy the answer in the client's receive buffer before it reads it."""
    _send(
        sock,
        status,
        {"Content-Type": "text/plain"},
        HTTPStatus(status).phrase.encode(),
        keep_alive=False,
    )
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.2)
        until = _REAL_TIME.monotonic() + 1.0
        while _REAL_TIME.monotonic() < until and sock.recv(65536):
            pass


def _readline(reader: io.BufferedReader, deadline: float) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if _REAL_TIME.monotonic() > deadline:
        raise TimeoutError
    return line


def _read_request(
    first: bytes, reader: io.BufferedReader, deadline: float, expect_continue: Callable[[], None]
) -> _Request | None:
    line = first
    while line in {b"\r\n", b"\n"}:  # tolerate stray blank lines between requests
        line = _readline(reader, deadline)
    if not line:
        return None
    if len(line) > _MAX_LINE:
        raise _ClientError(414)
    parts = line.decode("latin-1").rstrip("\r\n").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _ClientError(400)
    method, target, version = parts
    headers: dict[str, str] = {}
    while True:
        raw = _readline(reader, deadline)
        if not raw:
            raise _ClientError(400)
        if len(raw) > _MAX_LINE:
            raise _ClientError(431)
        if raw in {b"\r\n", b"\n"}:
            break
        if len(headers) >= _MAX_HEADERS:
            raise _ClientError(431)
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise _ClientError(400)
        headers[name] = value.strip()
    lower = {k.lower(): v for k, v in headers.items()}
    if "transfer-encoding" in lower:
        raise _ClientError(411)
    if (
        lower.get("expect", "").lower() == "100-continue"
        and lower.get("content-length", "0") != "0"
    ):
        expect_continue()
    body = _read_body(reader, lower.get("content-length"), deadline)
    connection = lower.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return _Request(method, target, headers, body, keep_alive=keep_alive)


def _read_body(reader: io.BufferedReader, length_text: str | None, deadline: float) -> bytes:
    if length_text is None:
        return b""
    if not length_text.isdigit():
        raise _ClientError(400)
    length = int(length_text)
    if length > MAX_BODY:
        raise _ClientError(413)
    body = reader.read(length)
    if _REAL_TIME.monotonic() > deadline:
        raise TimeoutError
    if len(body) != length:
        raise _ClientError(400)
    return body


def _send(
    sock: socket.socket, status: int, headers: Mapping[str, str], body: bytes, *, keep_alive: bool
) -> None:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown Error"
    lines = [f"HTTP/1.1 {status} {reason}", "Server: kraken-sim"]
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    lines.append(f"Content-Length: {len(body)}")
    lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with contextlib.suppress(OSError):
        sock.sendall(head + body)


class SimServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threaded HTTP/1.1 server for one :class:`Exchange`, bound to loopback."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        exchange: Exchange,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        io_timeout: float = 15.0,
        request_deadline: float = 30.0,
    ) -> None:
        if host not in _LOOPBACK:
            raise ValueError(f"kraken-sim serves on loopback only, not {host!r}")
        if host == "::1":
            self.address_family = socket.AF_INET6
        self.exchange = exchange
        self.io_timeout = io_timeout
        self.request_deadline = request_deadline
        self._connections: dict[socket.socket, None] = {}
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        super().__init__(("127.0.0.1" if host == "localhost" else host, port), _Handler)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://[{host_text}]:{port}" if ":" in host_text else f"http://{host_text}:{port}"

    def track(self, sock: socket.socket, *, add: bool) -> None:
        """Remember open connections so :meth:`close` can end idle keep-alive ones."""
        with self._connections_lock:
            if add:
                self._connections[sock] = None
            else:
                self._connections.pop(sock, None)

    def start(self, *, settle_every: float | None = 1.0) -> None:
        """Serve in a background thread (and settle the engine every ``settle_every`` s)."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kraken-sim-http",
            daemon=True,
        )
        self._thread.start()
        if settle_every is not None:
            self._ticker = threading.Thread(
                target=self._settle_loop,
                args=(settle_every,),
                name="kraken-sim-settle",
                daemon=True,
            )
            self._ticker.start()

    def _settle_loop(self, every: float) -> None:
        while not self._stopping.wait(every):
            self.exchange.settle()

    def close(self) -> None:
        """Stop serving, end open connections and release the port."""
        self._stopping.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
        if self._ticker is not None:
            self._ticker.join()
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.server_close()


@contextlib.contextmanager
def serve(
    exchange: Exchange, host: str = "127.0.0.1", port: int = 0, *, settle_every: float | None = 1.0
) -> Iterator[SimServer]:
    """Run a :class:`SimServer` for the ``with`` block; ``server.base_url`` is its address."""
    server = SimServer(exchange, host, port)
    try:
        server.start(settle_every=settle_every)
        yield server
    finally:
        server.close()
