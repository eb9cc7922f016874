"""The exchange checks API-Key, API-Sign (over the raw body) and nonces as Kraken documents."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

from kraken_sim import Quirks
from kraken_sim.auth import b64decode_secret, expected_signature

OFFICIAL_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
OFFICIAL_BODY = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
OFFICIAL_SIGN = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)
RUST_SECRET = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
RUST_SIGN = (
    "6i7+cpXVLDDnDOekgsRcgFQhkYFyPDSSxhSVA8OrA6vjziXcy2K1DP3n7f9B/Kgni71WjBSQusZKxduRsdF20Q=="
)
JSON_BODY = (
    b'{"nonce":"1616492376594","ordertype":"limit","pair":"XBTUSD","price":"37500",'
    b'"type":"buy","volume":"1.25"}'
)
JSON_SIGN = (
    "r/o+GpKxXjV/mls/r5CKLu5R+yzK5psqvQ4hXxMX1nzdxTBhV+ui82QGgPZMMitpFwCOAdPEZMmXgZxD2chJEg=="
)

VECTORS = [
    ("/0/private/AddOrder", "1616492376594", OFFICIAL_BODY, OFFICIAL_SECRET, OFFICIAL_SIGN),
    (
        "/0/private/Balance",
        "1700000000000000000",
        b"nonce=1700000000000000000",
        RUST_SECRET,
        RUST_SIGN,
    ),
    ("/0/private/AddOrder", "1616492376594", JSON_BODY, OFFICIAL_SECRET, JSON_SIGN),
]


@pytest.mark.parametrize(("path", "nonce", "body", "secret", "sign"), VECTORS)
def test_the_exchange_computes_the_three_documented_signatures(path, nonce, body, secret, sign):
    assert expected_signature(path, nonce, body, b64decode_secret(secret)) == sign


@pytest.mark.parametrize(("path", "nonce", "body", "secret", "sign"), VECTORS)
def test_requests_signed_as_in_the_documented_vectors_are_accepted(
    exchange, path, nonce, body, secret, sign
):
    exchange.add_account("vector-key", secret, {"ZUSD": Decimal(100000)})
    content_type = (
        "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"
    )
    headers = {"API-Key": "vector-key", "API-Sign": sign, "Content-Type": content_type}
    status, _, reply = exchange.handle("POST", path, headers, body)
    assert status == 200
    assert json.loads(reply)["error"] == []


def test_the_official_vector_places_the_documented_order(exchange):
    exchange.add_account("vector-key", OFFICIAL_SECRET, {"ZUSD": Decimal(100000)})
    headers = {"API-Key": "vector-key", "API-Sign": OFFICIAL_SIGN}
    _, _, reply = exchange.handle("POST", "/0/private/AddOrder", headers, OFFICIAL_BODY)
    result = json.loads(reply)["result"]
    assert result["descr"] == {"order": "buy 1.25000000 XBTUSD @ limit 37500.0"}
    assert len(result["txid"]) == 1


def test_header_names_are_case_insensitive(exchange):
    exchange.add_account("vector-key", OFFICIAL_SECRET, {"ZUSD": Decimal(100000)})
    headers = {
        "api-key": "vector-key",
        "API-SIGN": OFFICIAL_SIGN,
        "content-type": "application/x-www-form-urlencoded",
    }
    _, _, reply = exchange.handle("POST", "/0/private/AddOrder", headers, OFFICIAL_BODY)
    assert json.loads(reply)["error"] == []


def test_an_unknown_key_is_refused(kraken):
    kraken.key = "not-a-key"
    assert kraken.errors("Balance") == ["EAPI:Invalid key"]


def test_a_missing_key_is_refused(exchange):
    _, _, reply = exchange.handle("POST", "/0/private/Balance", {}, b"nonce=1")
    assert json.loads(reply) == {"error": ["EAPI:Invalid key"]}


def test_a_wrong_secret_gives_invalid_signature(kraken):
    kraken.secret = RUST_SECRET
    assert kraken.errors("Balance") == ["EAPI:Invalid signature"]


def test_a_body_changed_after_signing_gives_invalid_signature(exchange, kraken, signer):
    body = b"nonce=5&pair=XBTUSD"
    sign = signer("/0/private/OpenOrders", "5", body, kraken.secret)
    headers = {"API-Key": kraken.key, "API-Sign": sign}
    _, _, reply = exchange.handle("POST", "/0/private/OpenOrders", headers, body + b"&x=1")
    assert json.loads(reply)["error"] == ["EAPI:Invalid signature"]


def test_a_body_re_encoded_differently_after_signing_gives_invalid_signature(
    exchange, kraken, signer
):
    signed = b"nonce=5&starttm=%2B60"
    sent = b"nonce=5&starttm=+60"  # the same parameters, encoded differently
    headers = {
        "API-Key": kraken.key,
        "API-Sign": signer("/0/private/Balance", "5", signed, kraken.secret),
    }
    _, _, reply = exchange.handle("POST", "/0/private/Balance", headers, sent)
    assert json.loads(reply)["error"] == ["EAPI:Invalid signature"]


def test_a_signature_for_another_path_is_refused(exchange, kraken, signer):
    body = b"nonce=5"
    headers = {
        "API-Key": kraken.key,
        "API-Sign": signer("/0/private/Balance", "5", body, kraken.secret),
    }
    _, _, reply = exchange.handle("POST", "/0/private/BalanceEx", headers, body)
    assert json.loads(reply)["error"] == ["EAPI:Invalid signature"]


@pytest.mark.parametrize("sign", ["", "not base64!", "AAAA"])
def test_malformed_signatures_are_refused(exchange, kraken, sign):
    headers = {"API-Key": kraken.key, "API-Sign": sign}
    _, _, reply = exchange.handle("POST", "/0/private/Balance", headers, b"nonce=5")
    assert json.loads(reply)["error"] == ["EAPI:Invalid signature"]


def test_a_repeated_nonce_is_refused(kraken):
    kraken.ok("Balance", nonce=10)
    assert kraken.errors("Balance", nonce=10) == ["EAPI:Invalid nonce"]


def test_a_lower_nonce_is_refused(kraken):
    kraken.ok("Balance", nonce=10)
    assert kraken.errors("Balance", nonce=9) == ["EAPI:Invalid nonce"]


def test_nonces_count_per_key_not_per_exchange(exchange, client_for):
    first, second = client_for(exchange), client_for(exchange)
    first.ok("Balance", nonce=1_000)
    second.ok("Balance", nonce=5)  # below the first key's nonce, fine for another key
    assert second.errors("Balance", nonce=5) == ["EAPI:Invalid nonce"]  # not twice per key


def test_any_nonce_scale_works_and_switching_down_does_not(kraken):
    kraken.ok("Balance", nonce=1_616_492_376_594)  # milliseconds
    kraken.ok("Balance", nonce=1_616_492_376_594_000_000)  # nanoseconds
    assert kraken.errors("Balance", nonce=1_616_492_376_595) == ["EAPI:Invalid nonce"]


def test_the_largest_u64_nonce_is_accepted_and_beyond_it_is_not(kraken):
    kraken.ok("Balance", nonce=2**64 - 1)
    assert kraken.errors("Balance", nonce=2**64) == ["EAPI:Invalid nonce"]


@pytest.mark.parametrize("nonce", ["", "-5", "12a", "1.5"])
def test_malformed_nonces_are_refused(kraken, nonce):
    assert kraken.errors("Balance", nonce=nonce) == ["EAPI:Invalid nonce"]


def test_a_missing_nonce_is_refused(exchange, kraken, signer):
    body = b"pair=XBTUSD"
    headers = {
        "API-Key": kraken.key,
        "API-Sign": signer("/0/private/Balance", "", body, kraken.secret),
    }
    _, _, reply = exchange.handle("POST", "/0/private/Balance", headers, body)
    assert json.loads(reply)["error"] == ["EAPI:Invalid nonce"]


@pytest.mark.parametrize("nonce", [77, "77"])
def test_json_bodies_take_the_nonce_as_number_or_string(kraken, nonce):
    status, _, body = kraken.private_raw("Balance", as_json=True, nonce=nonce)
    assert status == 200
    assert json.loads(body)["error"] == []


def test_a_nonce_window_tolerates_a_slightly_lower_unused_nonce(exchange, client_for):
    client = client_for(exchange, nonce_window=5000)
    client.ok("Balance", nonce=100_000)
    client.ok("Balance", nonce=96_000)
    assert client.errors("Balance", nonce=96_000) == ["EAPI:Invalid nonce"]
    assert client.errors("Balance", nonce=94_000) == ["EAPI:Invalid nonce"]


def test_repeated_bad_requests_lock_the_key_out_when_configured(make_exchange, flat, client_for):
    quirks = dataclasses.replace(Quirks(), lockout_after=3, lockout_seconds=60.0)
    exchange = make_exchange(flat(quirks=quirks))
    client = client_for(exchange)
    client.ok("Balance", nonce=100)
    for _ in range(3):
        assert client.errors("Balance", nonce=50) == ["EAPI:Invalid nonce"]
    assert client.errors("Balance", nonce=200) == ["EGeneral:Temporary lockout"]
    exchange.clock.advance(61)
    client.ok("Balance", nonce=300)


def test_an_error_envelope_omits_result_or_carries_an_empty_one_as_configured(
    make_exchange, flat, client_for
):
    without = client_for(make_exchange())
    _, _, body = without.private_raw("Balance", nonce=0)
    assert body == b'{"error":["EAPI:Invalid nonce"]}'
    with_empty = client_for(make_exchange(flat(quirks=Quirks(result_on_error=True))))
    _, _, body = with_empty.private_raw("Balance", nonce=0)
    assert body == b'{"error":["EAPI:Invalid nonce"],"result":{}}'


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_undecodable_bodies_answer_invalid_arguments(exchange, kraken, body):
    headers = {"API-Key": kraken.key, "API-Sign": "x", "Content-Type": "application/json"}
    _, _, reply = exchange.handle("POST", "/0/private/Balance", headers, body)
    assert json.loads(reply) == {"error": ["EGeneral:Invalid arguments"]}


def test_a_form_body_with_a_charset_is_accepted(kraken):
    status, _, body = kraken.private_raw("Balance")  # the client sends "...; charset=utf-8"
    assert (status, json.loads(body)["error"]) == (200, [])
