"""`lazy_exports`: a package's names load from their module on first use, then stay."""

from __future__ import annotations

from typing import Any

import pytest

from kraken_bot._lazy import lazy_exports


def test_a_lazy_name_is_imported_on_first_use_and_kept_in_the_namespace():
    namespace: dict[str, Any] = {"__name__": "pkg"}
    load = lazy_exports(namespace, {"Fraction": "fractions"})
    fraction = load("Fraction")
    assert fraction.__module__ == "fractions"
    assert namespace["Fraction"] is fraction


def test_a_name_the_package_does_not_export_is_an_attribute_error():
    load = lazy_exports({"__name__": "pkg"}, {})
    with pytest.raises(AttributeError, match="module 'pkg' has no attribute 'nope'"):
        load("nope")
