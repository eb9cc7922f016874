"""The figures of a replay, on hand-built orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.builders import an_order

from kraken_bot.execution.core.models import OrderStatus, Side
from kraken_bot.simulation.summary import fill_ratio, slippage_bps


def filled(side: Side, *, mid: str, avg: str, size: str = "1", filled_size: str | None = None):
    return an_order(
        side=side,
        status=OrderStatus.FILLED,
        requested_base_size=size,
        cumulative_base_filled=filled_size if filled_size is not None else size,
        reference_price=Decimal(mid),
        avg_fill_price=Decimal(avg),
    )


@pytest.mark.parametrize(
    ("side", "avg", "bps"),
    [
        (Side.BUY, "101", 100.0),  # paid more than the mid: worse, positive
        (Side.BUY, "99", -100.0),
        (Side.SELL, "99", 100.0),  # received less than the mid: worse, positive
        (Side.SELL, "101", -100.0),
    ],
)
def test_slippage_is_signed_so_that_worse_is_positive(side, avg, bps):
    assert slippage_bps([filled(side, mid="100", avg=avg)]) == pytest.approx(bps)


def test_slippage_is_weighted_by_filled_notional():
    big = filled(Side.BUY, mid="100", avg="100.5", size="3")  # 50 bps on 300 USD
    small = filled(Side.BUY, mid="100", avg="99", size="1")  # -100 bps on 100 USD
    assert slippage_bps([big, small]) == pytest.approx((3 * 50 - 100) / 4)


def test_orders_without_fills_carry_no_slippage():
    unfilled = an_order(status=OrderStatus.CANCELED, reference_price=Decimal(100))
    assert slippage_bps([unfilled]) is None


def test_fill_ratio_weights_each_pair_by_notional_at_the_planning_mid():
    btc = filled(Side.BUY, mid="60000", avg="60000", size="1", filled_size="0.5")
    sol = filled(Side.SELL, mid="100", avg="100", size="600", filled_size="600")
    # 30000 + 60000 filled of 60000 + 60000 requested
    assert fill_ratio([btc, sol]) == pytest.approx(0.75)
    assert fill_ratio([]) is None
