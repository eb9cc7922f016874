"""The adapter's AddOrder request: a market order carries only what a market order needs."""

from __future__ import annotations

import pytest
from tests.builders import an_order

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import OrderType, TimeInForce
from kraken_bot.execution.shell.adapter import KrakenExecutionAdapter
from kraken_bot.kraken.client import KrakenRESTClient


@pytest.fixture
def adapter():
    with KrakenRESTClient(base_url="http://kraken-sim.invalid", tier="unlimited") as client:
        yield KrakenExecutionAdapter(client, ExecutionConfig(gtd_expire_seconds=120))


@pytest.mark.parametrize("tif", list(TimeInForce))
def test_a_market_order_goes_out_without_price_time_in_force_expiry_or_post(adapter, tif):
    order = an_order(
        order_type=OrderType.MARKET, requested_price=None, time_in_force=tif, post_only=True
    )
    params = adapter.build_request(order, deadline=None).to_params()
    assert params == {
        "pair": "XXBTZUSD",
        "type": "buy",
        "ordertype": "market",
        "volume": "0.1",
        "cl_ord_id": "L1",
        "validate": "true",
    }


def test_a_limit_order_keeps_its_time_in_force_expiry_and_post_flag(adapter):
    order = an_order(time_in_force=TimeInForce.GTD, post_only=True)
    params = adapter.build_request(order, deadline=None).to_params()
    assert (params["price"], params["timeinforce"], params["expiretm"], params["oflags"]) == (
        "60300.0",
        "GTD",
        "+120",
        "post",
    )
