"""The client's transport port: one HTTP exchange of our own small values (shell).

`KrakenRESTClient` builds an `HttpRequest` (method, URL, headers, body bytes), hands
it to a `Transport`, and parses the `HttpResponse` (status, body bytes). A transport
that cannot get an answer raises `NetworkError`, saying whether the request may have
reached Kraken (`NetworkError.may_have_reached`): that is what the execution layer's
lookup-before-resend rule needs.

`RequestsTransport` is the real one, over a `requests.Session` (connection pooling,
TLS, proxies from the environment, connect and read timeouts); a `requests` adapter
mounted on it (the fake exchange's ``SimTransport``) serves requests in-process
through the whole `requests` stack. Any callable object with the same ``send`` is a
transport too: replays use one that calls the fake exchange directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from kraken_bot.kraken.errors import NetworkError

__all__ = ["HttpRequest", "HttpResponse", "RequestsTransport", "Transport"]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request: ``url`` is absolute; ``body`` is the exact bytes that were signed."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One answer: the HTTP status and the body bytes."""

    status: int
    body: bytes


class Transport(Protocol):
    """Sends one request; raises `NetworkError` when no answer came back."""

    def send(
        self, request: HttpRequest, *, timeout: tuple[float, float], endpoint: str
    ) -> HttpResponse:
        """``timeout`` is (connect, read) seconds; ``endpoint`` names the call in errors."""
        ...

    def close(self) -> None:
        """Release what the transport holds."""
        ...


# requests exceptions raised before any byte of the request left this process.
_NEVER_SENT: Final = (
    requests.ConnectTimeout,
    requests.exceptions.SSLError,
    requests.exceptions.ProxyError,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)


def may_have_reached(exc: requests.RequestException) -> bool:
    """Could the request have reached Kraken before ``exc``? When unsure: yes."""
    if isinstance(exc, requests.ReadTimeout):
        return True
    if isinstance(exc, _NEVER_SENT):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
        return not isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return True  # ChunkedEncodingError, ContentDecodingError, anything else after sending


def network_error(exc: requests.RequestException, endpoint: str) -> NetworkError:
    """The typed error for a transport failure of ``endpoint``."""
    reached = may_have_reached(exc)
    where = "after the request may have reached Kraken" if reached else "before reaching Kraken"
    return NetworkError(
        f"{type(exc).__name__} {where}: {exc}", may_have_reached=reached, endpoint=endpoint
    )


class RequestsTransport:
    """`Transport` over a `requests.Session` (one the transport owns unless given one).

    Args:
        base_url: the URL whose environment settings (proxies, TLS) apply.
        session: a session to use (closed by `close` only if the transport made it).
        adapter: a `requests` adapter mounted for ``base_url`` (an in-process fake).
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        adapter: BaseAdapter | None = None,
    ) -> None:
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        parts = urlsplit(base_url)
        if adapter is not None:
            self._session.mount(f"{parts.scheme}://{parts.netloc}/", adapter)
        # Proxy/TLS settings from the environment, resolved once instead of per call.
        settings = self._session.merge_environment_settings(base_url, {}, None, None, None)
        self._proxies = settings["proxies"]
        self._verify = settings["verify"]
        self._cert = settings["cert"]

    def send(
        self, request: HttpRequest, *, timeout: tuple[float, float], endpoint: str
    ) -> HttpResponse:
        """Prepare and send through the session; transport failures become `NetworkError`."""
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=request.method, url=request.url, headers=request.headers, data=request.body
        )
        try:
            response = self._session.send(
                prepared,
                timeout=timeout,
                allow_redirects=False,
                proxies=self._proxies,
                verify=self._verify,
                cert=self._cert,
            )
        except requests.RequestException as exc:
            raise network_error(exc, endpoint) from exc
        return HttpResponse(status=response.status_code, body=response.content)

    def close(self) -> None:
        """Close the session if the transport created it."""
        if self._owns_session:
            self._session.close()
