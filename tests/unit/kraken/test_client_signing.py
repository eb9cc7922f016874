"""Signing reproduces Kraken's published vectors byte for byte (kraken-api.md, section 2)."""

from __future__ import annotations

import base64
from decimal import Decimal
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_bot.kraken.signing import (
    SigningKeyError,
    api_sign,
    decode_secret,
    encode_params,
    encode_value,
    form_body,
    form_escape,
    sign_with_key,
)

OFFICIAL_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)

VECTORS = [
    pytest.param(
        OFFICIAL_SECRET,
        "1616492376594",
        "/0/private/AddOrder",
        b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==",
        id="kraken-auth-guide",
    ),
    pytest.param(
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        "1700000000000000000",
        "/0/private/Balance",
        b"nonce=1700000000000000000",
        "6i7+cpXVLDDnDOekgsRcgFQhkYFyPDSSxhSVA8OrA6vjziXcy2K1DP3n7f9B/Kgni71WjBSQusZKxduRsdF20Q==",
        id="rust-sdk-golden",
    ),
    pytest.param(
        OFFICIAL_SECRET,
        "1616492376594",
        "/0/private/AddOrder",
        b'{"nonce":"1616492376594","ordertype":"limit","pair":"XBTUSD","price":"37500",'
        b'"type":"buy","volume":"1.25"}',
        "r/o+GpKxXjV/mls/r5CKLu5R+yzK5psqvQ4hXxMX1nzdxTBhV+ui82QGgPZMMitpFwCOAdPEZMmXgZxD2chJEg==",
        id="json-body",
    ),
]


@pytest.mark.parametrize(("secret", "nonce", "path", "body", "expected"), VECTORS)
def test_api_sign_reproduces_the_published_vectors(secret, nonce, path, body, expected):
    assert api_sign(path, nonce, body, secret) == expected
    assert sign_with_key(path, nonce, body, decode_secret(secret)) == expected


def test_signature_is_88_base64_characters_of_a_64_byte_mac():
    sig = api_sign("/0/private/Balance", "1", b"nonce=1", OFFICIAL_SECRET)
    assert len(sig) == 88
    assert len(base64.b64decode(sig)) == 64


def test_form_body_rebuilds_the_official_payload_exactly():
    nonce, body = form_body(
        1616492376594,
        [
            ("ordertype", "limit"),
            ("pair", "XBTUSD"),
            ("price", "37500"),
            ("type", "buy"),
            ("volume", "1.25"),
        ],
    )
    assert nonce == "1616492376594"
    assert (
        body == b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    )
    assert api_sign("/0/private/AddOrder", nonce, body, OFFICIAL_SECRET) == VECTORS[0].values[4]


def test_form_body_percent_encodes_plus_and_reserved_characters():
    _, body = form_body(
        1, [("expiretm", "+60"), ("deadline", "2026-01-01T00:00:05.000Z"), ("oflags", "post,fciq")]
    )
    assert (
        body == b"nonce=1&expiretm=%2B60&deadline=2026-01-01T00%3A00%3A05.000Z&oflags=post%2Cfciq"
    )


def test_changing_one_byte_of_the_body_changes_the_signature():
    body = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    assert (
        api_sign(
            "/0/private/AddOrder", "1616492376594", body.replace(b"1.25", b"1.26"), OFFICIAL_SECRET
        )
        != (VECTORS[0].values[4])
    )


@pytest.mark.parametrize("bad", ["", "not base64!", "abc", "====", "kQH5HW/8p1uGOVj*bgWA7Fun"])
def test_a_secret_that_is_not_base64_is_refused_without_echoing_it(bad):
    with pytest.raises(SigningKeyError) as info:
        decode_secret(bad)
    if bad:
        assert bad not in str(info.value)


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("37500.10"), "37500.10"),
        (["OA-1", "OB-2"], "OA-1,OB-2"),
        (("XBTUSD",), "XBTUSD"),
        ("plain", "plain"),
    ],
)
def test_values_are_encoded_as_kraken_expects(value, wire):
    assert encode_value(value) == wire


def test_encode_params_keeps_order_and_drops_none():
    assert encode_params({"b": 1, "a": None, "c": "x"}) == [("b", "1"), ("c", "x")]


@given(st.text())
def test_form_escape_matches_the_standard_form_encoder_for_any_text(text):
    """Our pure form encoding is byte for byte what urllib's encoder produces."""
    assert form_escape(text) == quote_plus(text, safe="")
