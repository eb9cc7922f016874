"""Request authentication, as Kraken's documentation describes it (written on the exchange's side).

Signature (kraken-api.md section 2)::

    API-Sign = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + body)))

where ``body`` is the raw body as received, never re-encoded, and ``nonce`` is the nonce
exactly as it appears in the body. Nonces (section 1) are unsigned 64-bit integers that must
be strictly greater than the last one accepted for the key; an optional window tolerates a
slightly lower, never-seen nonce.

>>> secret = ("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZu"
...           "j6F1huXg==")
>>> body = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
>>> expected_signature("/0/private/AddOrder", "1616492376594", body, b64decode_secret(secret))[:16]
'4/dpxb3iT4tp/ZCV'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Final

__all__ = [
    "NonceBook",
    "b64decode_secret",
    "expected_signature",
    "parse_nonce",
    "signature_matches",
]

_U64_MAX: Final = 2**64 - 1


def b64decode_secret(secret_b64: str) -> bytes:
    """Decode an API secret; raises ValueError for anything that is not strict base64."""
    try:
        return base64.b64decode(secret_b64, validate=True)
    except binascii.Error as exc:
        raise ValueError("API secret must be base64") from exc


def expected_signature(path: str, nonce: str, body: bytes, secret: bytes) -> str:
    """The API-Sign value Kraken expects for this request."""
    inner = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(secret, path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def signature_matches(api_sign: str, path: str, nonce: str, body: bytes, secret: bytes) -> bool:
    """Constant-time comparison of a received API-Sign with the expected one."""
    try:
        received = base64.b64decode(api_sign, validate=True)
    except (binascii.Error, ValueError):
        return False
    inner = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(secret, path.encode() + inner, hashlib.sha512).digest()
    return hmac.compare_digest(received, mac)


def parse_nonce(raw: object) -> tuple[str, int] | None:
    """The nonce as signed (its decimal text) and as a number, or None if it is not a u64.

    >>> parse_nonce("1616492376594"), parse_nonce(17), parse_nonce("-1"), parse_nonce(True)
    (('1616492376594', 1616492376594), ('17', 17), None, None)
    """
    if isinstance(raw, bool) or raw is None:
        return None
    text = str(raw)
    if not text.isdigit() or not text.isascii():
        return None
    value = int(text)
    if value > _U64_MAX:
        return None
    return text, value


class NonceBook:
    """The per-key nonce rule: strictly increasing, with an optional tolerance window.

    >>> book = NonceBook()
    >>> book.accept(5), book.accept(5), book.accept(6)
    (True, False, True)
    >>> windowed = NonceBook(window=10)
    >>> windowed.accept(100), windowed.accept(95), windowed.accept(95), windowed.accept(89)
    (True, True, False, False)
    """

    __slots__ = ("_last", "_recent", "window")

    def __init__(self, window: int = 0) -> None:
        self.window = window
        self._last = 0
        self._recent: dict[int, None] = {}

    def accept(self, nonce: int) -> bool:
        """Record ``nonce`` if it is acceptable; return whether it was."""
        if nonce > self._last:
            self._last = nonce
            self._remember(nonce)
            return True
        if self.window <= 0 or nonce <= self._last - self.window or nonce in self._recent:
            return False
        self._remember(nonce)
        return True

    def _remember(self, nonce: int) -> None:
        if self.window <= 0:
            return
        self._recent[nonce] = None
        floor = self._last - self.window
        for old in [n for n in self._recent if n <= floor]:
            del self._recent[old]
