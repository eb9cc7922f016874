"""Every error of section 7, HTTP statuses and transport failures become the right typed error."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from kraken_bot.kraken.errors import (
    AuthError,
    ErrorClass,
    KrakenAPIError,
    NetworkError,
    NonceError,
    OrderRejectedError,
    RateLimitError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    error_from_kraken,
    is_not_open,
    throttled_until,
)

R, C, P, A = ErrorClass.RETRY, ErrorClass.RETRY_ONCE, ErrorClass.PERMANENT, ErrorClass.AMBIGUOUS

# Every string of kraken-api.md section 7, with the contract's exception type and the class.
CATALOGUE = [
    ("EAPI:Rate limit exceeded", RateLimitError, R),
    ("EOrder:Rate limit exceeded", RateLimitError, R),
    ("EOrder:Domain rate limit exceeded", RateLimitError, R),
    ("EGeneral:Too many requests", RateLimitError, R),
    ("EService:Throttled: 1700000000", RateLimitError, R),
    ("EService:Throttled:1700000000", RateLimitError, R),
    ("EService: Throttled: 1700000000", RateLimitError, R),  # as Kraken's guide writes it
    ("EService: Throttled:1700000000", RateLimitError, R),
    ("EService:Throttled", RateLimitError, R),
    ("EAPI:Invalid nonce", NonceError, C),
    ("EService:Deadline elapsed", ServiceUnavailableError, R),
    ("EService:Unavailable", ServiceUnavailableError, A),
    ("EService:Busy", ServiceUnavailableError, A),
    ("EGeneral:Internal error", ServiceUnavailableError, A),
    ("EGeneral:Internal error:5013", ServiceUnavailableError, A),
    ("EDatabase:Internal error", ServiceUnavailableError, A),
    ("EService:Market in cancel_only mode", ServiceUnavailableError, C),
    ("EService:Market in post_only mode", ServiceUnavailableError, C),
    ("EGeneral:Temporary lockout", AuthError, C),
    ("EOrder:Orders limit exceeded", OrderRejectedError, C),
    ("EGeneral:Invalid arguments", OrderRejectedError, P),
    ("EGeneral:Invalid arguments:volume", OrderRejectedError, P),
    ("EGeneral:Invalid arguments:price", OrderRejectedError, P),
    ("EGeneral:Invalid arguments:ordertype", OrderRejectedError, P),
    ("EGeneral:Invalid arguments:viqc", OrderRejectedError, P),
    ("EGeneral:Invalid arguments:Index unavailable", OrderRejectedError, P),
    ("EGeneral:Permission denied", AuthError, P),
    ("EAPI:Invalid key", AuthError, P),
    ("EAPI:Invalid signature", AuthError, P),
    ("EGeneral:Unknown method", KrakenAPIError, P),
    ("EAPI:Bad request", KrakenAPIError, P),
    ("EAPI:Feature disabled", KrakenAPIError, P),
    ("EOrder:Insufficient funds", OrderRejectedError, P),
    ("EOrder:Order minimum not met", OrderRejectedError, P),
    ("EOrder:Cost minimum not met", OrderRejectedError, P),
    ("EOrder:Tick size check failed", OrderRejectedError, P),
    ("EOrder:Invalid price", OrderRejectedError, P),
    ("EOrder:Invalid price:Invalid price argument", OrderRejectedError, P),
    ("EOrder:Invalid order", OrderRejectedError, P),
    ("EOrder:Unknown order", OrderRejectedError, P),
    ("EOrder:Post only order", OrderRejectedError, P),
    ("EQuery:Unknown asset pair", OrderRejectedError, P),
    ("EQuery:Unknown asset", OrderRejectedError, P),
    ("EQuery:Invalid asset pair", OrderRejectedError, P),
    ("ETrade:Locked", AuthError, P),
    ("ETrade:User Locked", AuthError, P),
    ("EOrder:Insufficient margin", OrderRejectedError, P),
    ("ESomething:Kraken added later", KrakenAPIError, P),
]


@pytest.mark.parametrize(("error", "kind", "error_class"), CATALOGUE)
def test_kraken_error_strings_raise_the_typed_error(client, kraken, error, kind, error_class):
    kraken.reply(error=[error])
    with pytest.raises(KrakenAPIError) as info:
        client.private("AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="1")
    assert type(info.value) is kind
    assert info.value.error_class is error_class
    assert info.value.errors == (error,)
    assert info.value.endpoint == "AddOrder"
    assert info.value.http_status == 200
    assert error in str(info.value)
    assert info.value.transient is (error_class is not P)


@pytest.mark.parametrize(
    "error",
    [
        "EService: Throttled: 1700000123",
        "EService:Throttled: 1700000123",
        "EService:Throttled:1700000123",
        "EService:  Throttled :  1700000123",
    ],
)
def test_throttling_names_the_time_to_retry_at_in_either_spelling(client, kraken, error):
    kraken.reply(error=[error])
    with pytest.raises(RateLimitError) as info:
        client.balance()
    assert info.value.retry_at == 1700000123
    assert info.value.error_class is R


@pytest.mark.parametrize(
    ("error", "until"),
    [
        ("EService: Throttled: 1700000000.5", 1700000000.5),
        ("EService:Throttled", None),
        ("EService:Throttled: soon", None),
        ("EService:Busy", None),
        ("EAPI:Rate limit exceeded", None),
    ],
)
def test_throttled_until_reads_only_a_throttle_time(error, until):
    assert throttled_until(error) == until


NOT_OPEN = [
    ("EOrder:Unknown order", True),
    ("EOrder:Invalid order", True),
    ("EOrder:Unknown order: OU22CG-KLAF2-FWUDD7", True),
    ("EOrder:Invalid order:closed", True),
    ("EOrder: Invalid order", True),
    ("EOrder:Insufficient funds", False),
    ("EOrder:Invalid price", False),
    ("EOrder:Invalid orders", False),
    ("EGeneral:Invalid arguments:txid", False),
    ("EService:Unavailable", False),
]


@pytest.mark.parametrize(("error", "expected"), NOT_OPEN)
def test_is_not_open_reads_both_not_open_strings_with_any_suffix(error, expected):
    assert is_not_open(error) is expected
    assert is_not_open(error_from_kraken([error], endpoint="CancelOrder")) is expected


def test_is_not_open_looks_at_every_error_of_an_exception():
    error = error_from_kraken(["EGeneral:Internal error", "EOrder:Unknown order"])
    assert is_not_open(error)
    assert not is_not_open(KrakenAPIError("HTTP 404 from Kraken", http_status=404))


def test_errors_on_public_endpoints_are_typed_too(client, kraken):
    kraken.reply(error=["EQuery:Unknown asset pair"])
    with pytest.raises(OrderRejectedError):
        client.ticker(["NOPE"])


def test_warnings_alongside_a_result_are_tolerated(client, kraken):
    kraken.reply({"count": 1}, error=["WGeneral:Deprecated"])
    assert client.cancel_all().count == 1


def test_every_error_string_is_kept_and_the_first_decides(client, kraken):
    kraken.reply(
        error=["WGeneral:Note", "EOrder:Insufficient funds", "EGeneral:Invalid arguments:volume"]
    )
    with pytest.raises(OrderRejectedError) as info:
        client.balance()
    assert info.value.errors == ("EOrder:Insufficient funds", "EGeneral:Invalid arguments:volume")


def test_an_error_reply_without_a_result_key_is_fine(client, kraken):
    kraken.reply_raw(b'{"error":["EAPI:Invalid key"]}')
    with pytest.raises(AuthError):
        client.balance()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 520, 522, 525])
def test_edge_statuses_are_ambiguous_service_errors(client, kraken, status):
    kraken.reply_raw(b"<html>bad gateway</html>", status=status)
    with pytest.raises(ServiceUnavailableError) as info:
        client.balance()
    assert info.value.http_status == status
    assert info.value.may_have_executed


def test_http_429_is_a_rate_limit_error(client, kraken):
    kraken.reply_raw(b"too many", status=429)
    with pytest.raises(RateLimitError) as info:
        client.balance()
    assert info.value.http_status == 429


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_statuses_are_permanent_api_errors(client, kraken, status):
    kraken.reply_raw(b"nope", status=status)
    with pytest.raises(KrakenAPIError) as info:
        client.public("Time")
    assert type(info.value) is KrakenAPIError
    assert info.value.http_status == status
    assert info.value.error_class is P


@pytest.mark.parametrize(
    ("status", "kind"), [(404, KrakenAPIError), (502, ServiceUnavailableError)]
)
def test_a_non_200_json_reply_without_kraken_errors_is_judged_by_its_status(
    client, kraken, status, kind
):
    kraken.reply_raw(b'{"message": "gateway says no"}', status=status)
    with pytest.raises(KrakenAPIError) as info:
        client.balance()
    assert type(info.value) is kind
    assert info.value.http_status == status


def test_a_non_200_reply_that_carries_kraken_errors_uses_them(client, kraken):
    kraken.reply(error=["EAPI:Rate limit exceeded"], status=429)
    with pytest.raises(RateLimitError) as info:
        client.balance()
    assert info.value.errors == ("EAPI:Rate limit exceeded",)
    assert info.value.http_status == 429


@pytest.mark.parametrize(
    "body",
    [
        b"<html>maintenance</html>",
        b"",
        b'{"unexpected": true}',
        b"[1, 2]",
        b'{"error": []}',
        b"\xff\xfe",
    ],
)
def test_a_200_reply_that_is_not_an_envelope_is_ambiguous(client, kraken, body):
    kraken.reply_raw(body)
    with pytest.raises(UnexpectedResponseError) as info:
        client.private("AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="1")
    assert isinstance(info.value, ServiceUnavailableError)
    assert info.value.error_class is A
    assert info.value.may_have_executed


NO_POOL: Any = None  # urllib3 exceptions only keep these for their messages


def _wrapped(reason):
    return requests.ConnectionError(MaxRetryError(NO_POOL, "/0/private/AddOrder", reason))


@pytest.mark.parametrize(
    ("exc", "reached"),
    [
        (requests.ConnectTimeout("connect timed out"), False),
        (_wrapped(NewConnectionError(NO_POOL, "Connection refused")), False),
        (_wrapped(NameResolutionError("api.kraken.com", NO_POOL, socket.gaierror("dns"))), False),
        (requests.exceptions.SSLError("certificate verify failed"), False),
        (requests.exceptions.ProxyError("proxy refused"), False),
        (requests.ReadTimeout("read timed out"), True),
        (
            requests.ConnectionError(
                ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
            ),
            True,
        ),
        (requests.ConnectionError("Connection reset by peer"), True),
        (requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"), True),
        (requests.exceptions.ContentDecodingError("bad gzip"), True),
    ],
)
def test_transport_failures_say_whether_the_request_may_have_reached_kraken(
    client, kraken, exc, reached
):
    kraken.fail(exc)
    with pytest.raises(NetworkError) as info:
        client.private("AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="1")
    assert info.value.may_have_reached is reached
    assert info.value.may_have_executed is reached
    assert info.value.error_class is (A if reached else R)
    assert info.value.endpoint == "AddOrder"
    assert info.value.__cause__ is exc


def test_a_transport_failure_on_a_public_call_is_a_network_error(client, kraken):
    kraken.fail(requests.ConnectTimeout("connect timed out"))
    with pytest.raises(NetworkError):
        client.public("Time")


def test_the_client_never_retries(client, kraken):
    kraken.reply(error=["EService:Busy"])
    kraken.fail(requests.ReadTimeout("read timed out"))
    with pytest.raises(ServiceUnavailableError):
        client.balance()
    with pytest.raises(NetworkError):
        client.balance()
    assert len(kraken.requests) == 2
