"""The store remembers decoded rows: an unchanged row is not decoded again, a changed one is,
whoever changed it (this process or another one on the same file)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from tests.builders import NOW, an_order

from kraken_bot.execution.core import folding
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.shell.store import SQLiteExecutionStore


def test_an_unchanged_row_gives_the_order_decoded_before(tmp_path):
    with SQLiteExecutionStore(tmp_path / "x.db") as store:
        store.save_order(an_order(local_id="1"))
        first = store.get_versioned("1")
        again = store.get_versioned("1")
        assert first is not None
        assert again is not None
        assert again[0] is first[0], "read back unchanged: the same value, not decoded again"
        assert store.live_versioned()[0][0] is first[0]


def test_a_row_another_process_changed_is_read_as_it_is_now(tmp_path):
    path = tmp_path / "x.db"
    with SQLiteExecutionStore(path) as mine, SQLiteExecutionStore(path) as theirs:
        mine.save_order(an_order(local_id="1"))
        order, version = mine.get_versioned("1") or (None, 0)
        assert order is not None
        sent = replace(
            order,
            status=OrderStatus.OPEN,
            kraken_order_id="OABC-1",
            updated_at=NOW + timedelta(seconds=1),
        )
        assert theirs.update_order(sent, expected_version=version) == version + 1
        seen = mine.get_versioned("1")
        assert seen == (sent, version + 1)
        # the same version and every column but the exact record equal: still read anew
        filled = replace(sent, cumulative_base_filled=Decimal("0.05"))
        assert theirs.update_order(filled, expected_version=version + 1) == version + 2
        assert mine.live_versioned() == [(filled, version + 2)]


@given(
    seconds=st.integers(1, 10**6),
    raw=st.one_of(st.none(), st.text(max_size=20)),
    fee=st.decimals(min_value=0, max_value=10, places=4),
)
def test_a_read_that_only_moves_the_time_and_the_raw_answer_is_nothing_new(seconds, raw, fee):
    before = an_order(status=OrderStatus.OPEN, kraken_order_id="OABC-1")
    reread = replace(before, updated_at=NOW + timedelta(seconds=seconds), raw_response_json=raw)
    assert folding.same_but_for_the_read(before, reread)
    assert folding.same_but_for_the_read(before, replace(reread, fee=fee)) == (fee == before.fee)
    assert not folding.same_but_for_the_read(before, replace(reread, status=OrderStatus.CANCELED))
