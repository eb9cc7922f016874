"""The in-process front: a ``requests`` transport adapter that calls the exchange directly.

Mount it on a session and the real client code (URL building, form encoding, signing, JSON
parsing) runs against the engine without sockets::

    session = requests.Session()
    session.mount("https://api.kraken.com", SimTransport(exchange))

Timeouts are honoured in virtual time: an injected lost answer moves the exchange's clock by
the request's read timeout and raises ``requests.exceptions.ReadTimeout``; an injected
connect timeout moves it by the connect timeout and raises ``ConnectTimeout``. Without a
timeout the adapter waits ``default_timeout`` seconds (a real client would hang forever).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from kraken_sim.exchange import Exchange, NoResponse

__all__ = ["SimTransport"]


class SimTransport(BaseAdapter):
    """A ``requests`` adapter serving every request from an :class:`Exchange`."""

    def __init__(self, exchange: Exchange, *, default_timeout: float = 30.0) -> None:
        super().__init__()
        self.exchange = exchange
        self.default_timeout = default_timeout

    def send(  # noqa: PLR0917 - requests' adapter interface
        self,
        request: requests.PreparedRequest,
        stream: bool = False,  # noqa: ARG002 - part of the adapter interface
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,  # noqa: ARG002 - part of the adapter interface
        cert: object = None,  # noqa: ARG002 - part of the adapter interface
        proxies: Mapping[str, str] | None = None,  # noqa: ARG002 - part of the adapter interface
    ) -> requests.Response:
        """Serve ``request`` from the exchange and build the :class:`requests.Response`."""
        connect_timeout, read_timeout = self._timeouts(timeout)
        url = request.url or ""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body
        raw_body = body.encode() if isinstance(body, str) else (body or b"")
        try:
            status, headers, data = self.exchange.handle(
                request.method or "GET",
                target,
                dict(request.headers),
                raw_body,
                read_timeout=read_timeout,
                connect_timeout=connect_timeout,
            )
        except NoResponse as exc:
            if exc.kind == "timeout":
                raise requests.exceptions.ConnectTimeout(
                    f"kraken-sim: connect timeout ({connect_timeout} s)", request=request
                ) from exc
            raise requests.exceptions.ReadTimeout(
                f"kraken-sim: no answer within the read timeout ({read_timeout} s)", request=request
            ) from exc
        return _response(request, url, status, headers, data)

    def close(self) -> None:
        """Nothing to release."""

    def _timeouts(
        self, timeout: float | tuple[float | None, float | None] | object | None
    ) -> tuple[float, float]:
        if timeout is None:
            return self.default_timeout, self.default_timeout
        if isinstance(timeout, tuple):
            connect, read = timeout
            return (
                self.default_timeout if connect is None else float(connect),
                self.default_timeout if read is None else float(read),
            )
        if isinstance(timeout, int | float):
            return float(timeout), float(timeout)
        connect = getattr(timeout, "connect_timeout", None)
        read = getattr(timeout, "read_timeout", None)
        return (
            self.default_timeout if not isinstance(connect, int | float) else float(connect),
            self.default_timeout if not isinstance(read, int | float) else float(read),
        )


def _response(
    request: requests.PreparedRequest,
    url: str,
    status: int,
    headers: Mapping[str, str],
    data: bytes,
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict({**headers, "Content-Length": str(len(data))})
    response.raw = io.BytesIO(data)
    response.url = url
    response.request = request
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    response.encoding = _encoding(content_type)
    response.reason = _reason(status)
    return response


@functools.cache
def _encoding(content_type: str | None) -> str | None:
    return get_encoding_from_headers(CaseInsensitiveDict({"Content-Type": content_type or ""}))


@functools.cache
def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown Error"
