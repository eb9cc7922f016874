"""The quirk matrix covers every pair of readings of Kraken that changes the OMS's path."""

from __future__ import annotations

import dataclasses
import itertools

from tests.reliability.quirk_matrix import COVERING_ROWS, PATH_QUIRKS, covering_rows, quirks_of

from kraken_sim import Quirks


def test_every_switch_of_the_matrix_is_a_quirk_of_the_fake_with_its_default_among_the_values():
    fields = {f.name: f.default for f in dataclasses.fields(Quirks)}
    for name, values in PATH_QUIRKS.items():
        assert name in fields
        assert fields[name] in values, f"{name}: the fake's default must be tried"


def test_every_pair_of_settings_appears_together_in_some_row():
    for (a, va_all), (b, vb_all) in itertools.combinations(sorted(PATH_QUIRKS.items()), 2):
        for va, vb in itertools.product(va_all, vb_all):
            assert any(row[a] == va and row[b] == vb for row in COVERING_ROWS), (a, va, b, vb)


def test_the_array_is_far_smaller_than_the_product_of_the_settings():
    product = 1
    for values in PATH_QUIRKS.values():
        product *= len(values)
    assert len(COVERING_ROWS) * 20 < product


def test_each_row_builds_the_fakes_quirks():
    for row in COVERING_ROWS:
        quirks = quirks_of(row)
        assert all(getattr(quirks, name) == value for name, value in row.items())


def test_the_greedy_builder_is_deterministic():
    assert covering_rows(PATH_QUIRKS) == COVERING_ROWS
