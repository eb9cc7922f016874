"""Test doubles for the Kraken client: a virtual clock and a canned Kraken transport.

Both are fakes that keep state (no mocks): the clock advances when slept on,
the transport records every PreparedRequest it receives and answers from a
queue of canned Kraken replies (or a handler function).
"""

from __future__ import annotations

import io
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from kraken_bot.kraken.client import KrakenRESTClient

# This file has no doctests. Collecting it as a doctest module would import it as a
# second top-level "conftest" next to the other test directories' conftest files
# (no __init__.py here), which fails when several test directories are passed at once.
collect_ignore = ["conftest.py"]

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
API_KEY = "test-api-key-0123456789"
BASE_URL = "https://api.kraken.test"


class VirtualClock:
    """Virtual time: ``sleep`` advances both the wall clock and the monotonic clock."""

    def __init__(self, start: datetime | None = None, monotonic: float = 1000.0) -> None:
        self._wall = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = monotonic
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._mono += seconds
            self._wall += timedelta(seconds=seconds)

    def step_wall(self, seconds: float) -> None:
        """Move only the wall clock (an NTP step; negative goes backwards)."""
        with self._lock:
            self._wall += timedelta(seconds=seconds)


class Reply:
    """One canned HTTP reply."""

    def __init__(self, status: int = 200, body: bytes = b"") -> None:
        self.status = status
        self.body = body


def envelope(result: Any = None, error: list[str] | None = None) -> bytes:
    payload: dict[str, Any] = {"error": error or []}
    if result is not None:
        payload["result"] = result
    return json.dumps(payload).encode()


class CannedKraken(BaseAdapter):
    """A requests transport that records requests and answers with canned Kraken JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[requests.PreparedRequest] = []
        self.timeouts: list[Any] = []
        self._queue: deque[Reply | BaseException] = deque()
        # A handler answers every request instead of the queue: (status, body) or an exception.
        self.handler: (
            Callable[[requests.PreparedRequest], tuple[int, bytes] | BaseException] | None
        ) = None
        self._lock = threading.Lock()

    # -- scripting
    def reply(
        self, result: Any = None, *, error: list[str] | None = None, status: int = 200
    ) -> None:
        self._queue.append(Reply(status, envelope(result, error)))

    def reply_raw(self, body: bytes, *, status: int = 200) -> None:
        self._queue.append(Reply(status, body))

    def fail(self, exc: BaseException) -> None:
        self._queue.append(exc)

    # -- inspection
    def form(self, index: int = -1) -> dict[str, str]:
        body = self.requests[index].body
        assert isinstance(body, bytes)
        return dict(parse_qsl(body.decode(), keep_blank_values=True))

    def query(self, index: int = -1) -> dict[str, str]:
        url = self.requests[index].url
        assert url is not None
        return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))

    def path(self, index: int = -1) -> str:
        url = self.requests[index].url
        assert url is not None
        return urlsplit(url).path

    def paths(self) -> list[str]:
        return [urlsplit(r.url or "").path for r in self.requests]

    # -- transport
    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        with self._lock:
            self.requests.append(request)
            self.timeouts.append(timeout)
            item: Reply | BaseException
            if self.handler is not None:
                answer = self.handler(request)
                item = answer if isinstance(answer, BaseException) else Reply(*answer)
            elif self._queue:
                item = self._queue.popleft()
            else:
                item = Reply(200, envelope({}))
        if isinstance(item, BaseException):
            raise item
        response = requests.Response()
        response.status_code = item.status
        response.raw = io.BytesIO(item.body)
        response.url = request.url or ""
        response.request = request
        response.headers["Content-Type"] = "application/json"
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def kraken() -> CannedKraken:
    return CannedKraken()


@pytest.fixture
def make_client(
    clock: VirtualClock, kraken: CannedKraken
) -> Iterator[Callable[..., KrakenRESTClient]]:
    made: list[KrakenRESTClient] = []

    def make(**overrides: Any) -> KrakenRESTClient:
        options: dict[str, Any] = {
            "base_url": BASE_URL,
            "api_key": API_KEY,
            "api_secret": SECRET,
            "tier": "unlimited",
            "transport": kraken,
            "clock": clock,
        }
        options.update(overrides)
        client = KrakenRESTClient(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., KrakenRESTClient]) -> KrakenRESTClient:
    return make_client()
