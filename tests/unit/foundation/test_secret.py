"""A Secret never shows its value, however it is printed."""

from __future__ import annotations

import pickle

import pytest

from kraken_bot.config import KrakenConfig
from kraken_bot.secret import Secret

VALUE = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="


def test_a_secret_is_masked_in_repr_str_and_format():
    secret = Secret(VALUE)
    formatted = "{}".format(secret)  # noqa: UP032 - str.format is one more path to cover
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", formatted):
        assert VALUE not in text
    assert VALUE not in repr(KrakenConfig(api_key=Secret("k"), api_secret=secret))


def test_a_secret_is_immutable_unpicklable_and_equal_by_value():
    secret = Secret(VALUE)
    with pytest.raises(AttributeError):
        secret._value = "x"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret == Secret(VALUE)
    assert secret != Secret("other")
    assert secret.reveal() == VALUE
    assert not Secret("")
