"""Pure: how a Kraken request is encoded and how a private one is signed.

Kraken signs the exact body bytes sent (kraken-api.md, section 2)::

    API-Sign = base64( HMAC-SHA512( base64decode(secret),
                                    path + SHA256(nonce + body) ) )

The nonce is part of the body *and* hashed in front of it. Whatever is signed
must go out byte for byte: build the body once with `form_body`, sign it, send
it, never re-encode it.

>>> api_sign(
...     "/0/private/AddOrder",
...     "1616492376594",
...     b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
...     "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
... )
'4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=='
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Final

from kraken_bot._errors import CredentialsError

ParamValue = str | int | bool | Decimal | Sequence[str] | None
"""What a request parameter may be: see `encode_value`."""


class SigningKeyError(CredentialsError, ValueError):
    """The API secret is not valid base64. The message never contains the secret.

    Raised when a client is built (`KrakenRESTClient`, `ExecutionService.from_config`)
    with such a secret, before any request.
    """


def decode_secret(secret_b64: str) -> bytes:
    """Decode Kraken's base64 API secret into the HMAC key.

    >>> len(decode_secret("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="))
    32
    >>> decode_secret("not base64!")
    Traceback (most recent call last):
    ...
    kraken_bot.kraken.signing.SigningKeyError: the API secret is not valid base64
    """
    try:
        key = base64.b64decode(secret_b64, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise SigningKeyError("the API secret is not valid base64") from None
    return key


def sign_with_key(path: str, nonce: str, body: bytes, key: bytes) -> str:
    """`api_sign` with the secret already decoded (the client decodes it once)."""
    inner = hashlib.sha256(nonce.encode("ascii") + body).digest()
    mac = hmac.new(key, path.encode("ascii") + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")


def api_sign(path: str, nonce: str, body: bytes, secret_b64: str) -> str:
    """Kraken's ``API-Sign`` header for one private request.

    Args:
        path: the URI path, ``/0/private/<Method>`` (no host, no query).
        nonce: the decimal nonce string, exactly as it appears in ``body``.
        body: the exact request body bytes (form-encoded or JSON text).
        secret_b64: the API secret as Kraken issues it (base64).

    Returns:
        The base64 signature (88 characters).
    """
    return sign_with_key(path, nonce, body, decode_secret(secret_b64))


def encode_value(value: str | int | bool | Decimal | Sequence[str]) -> str:
    """One parameter value as Kraken expects it on the wire.

    Booleans are ``true``/``false`` (not Python's ``True``), decimals are plain
    notation (never an exponent), sequences become comma lists.

    >>> [encode_value(v) for v in (True, 7, Decimal("1E-8"), ("OA", "OB"), "XBTUSD")]
    ['true', '7', '0.00000001', 'OA,OB', 'XBTUSD']
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return ",".join(value)


def encode_params(params: Mapping[str, ParamValue]) -> list[tuple[str, str]]:
    """Encode parameters in their given order, dropping the ones that are None.

    >>> encode_params({"pair": "XBTUSD", "since": None, "trades": False})
    [('pair', 'XBTUSD'), ('trades', 'false')]
    """
    return [(name, encode_value(value)) for name, value in params.items() if value is not None]


def form_body(nonce: int, fields: Iterable[tuple[str, str]]) -> tuple[str, bytes]:
    """The form-encoded private body, nonce first; returns (nonce text, body bytes).

    ``+`` and other reserved characters are percent-encoded (``+60`` goes out as
    ``%2B60``), as Kraken requires.

    >>> form_body(1616492376594, [("expiretm", "+60"), ("pair", "XBTUSD")])
    ('1616492376594', b'nonce=1616492376594&expiretm=%2B60&pair=XBTUSD')
    """
    nonce_text = str(nonce)
    pairs = [("nonce", nonce_text), *fields]
    body = "&".join(f"{form_escape(k)}={form_escape(v)}" for k, v in pairs)
    return nonce_text, body.encode("ascii")


_PLAIN: Final = re.compile(r"[A-Za-z0-9_.~-]*")
_SAFE_BYTES: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"
)


def form_escape(text: str) -> str:
    """``application/x-www-form-urlencoded`` escaping of one key or value.

    Unreserved characters stay, a space becomes ``+``, every other UTF-8 byte
    becomes ``%XX`` (so ``+`` goes out as ``%2B``, as Kraken requires).

    >>> form_escape("XBTUSD"), form_escape("+60"), form_escape("a b:c")
    ('XBTUSD', '%2B60', 'a+b%3Ac')
    """
    if _PLAIN.fullmatch(text):
        return text
    escaped = []
    for byte in text.encode("utf-8"):
        if byte in _SAFE_BYTES:
            escaped.append(chr(byte))
        elif byte == 0x20:
            escaped.append("+")
        else:
            escaped.append(f"%{byte:02X}")
    return "".join(escaped)
