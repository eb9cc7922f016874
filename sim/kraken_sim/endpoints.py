"""The route tables: Kraken method name -> handler, for ``/0/public/`` and ``/0/private/``.

Public methods: Time, SystemStatus, Assets, AssetPairs, Ticker, OHLC, Depth.
Private methods: Balance, BalanceEx, AddOrder, AddOrderBatch, AmendOrder, CancelOrder,
CancelOrderBatch, CancelAll, CancelAllOrdersAfter, GetWebSocketsToken,
OpenOrders, ClosedOrders, QueryOrders, TradesHistory, QueryTrades. ``TRADING`` lists the
methods SystemStatus ``maintenance`` refuses.
"""

from __future__ import annotations

from typing import Final

from kraken_sim.amend import amend_order
from kraken_sim.call import Call, Handler
from kraken_sim.public import asset_pairs, assets, depth, ohlc, system_status, ticker, time_
from kraken_sim.queries import (
    balance,
    balance_ex,
    closed_orders,
    open_orders,
    query_orders,
    query_trades,
    trades_history,
)
from kraken_sim.tokens import get_websockets_token
from kraken_sim.trading import (
    add_order,
    add_order_batch,
    cancel_all,
    cancel_all_orders_after,
    cancel_order,
    cancel_order_batch,
)

__all__ = ["PRIVATE", "PUBLIC", "TRADING", "Call", "Handler"]

PUBLIC: Final[dict[str, Handler]] = {
    "Time": time_,
    "SystemStatus": system_status,
    "Assets": assets,
    "AssetPairs": asset_pairs,
    "Ticker": ticker,
    "OHLC": ohlc,
    "Depth": depth,
}
PRIVATE: Final[dict[str, Handler]] = {
    "Balance": balance,
    "BalanceEx": balance_ex,
    "AddOrder": add_order,
    "AddOrderBatch": add_order_batch,
    "AmendOrder": amend_order,
    "CancelOrder": cancel_order,
    "CancelOrderBatch": cancel_order_batch,
    "CancelAll": cancel_all,
    "CancelAllOrdersAfter": cancel_all_orders_after,
    "OpenOrders": open_orders,
    "ClosedOrders": closed_orders,
    "QueryOrders": query_orders,
    "TradesHistory": trades_history,
    "QueryTrades": query_trades,
    "GetWebSocketsToken": get_websockets_token,
}
TRADING: Final = frozenset(
    {
        "AddOrder",
        "AddOrderBatch",
        "AmendOrder",
        "CancelOrder",
        "CancelOrderBatch",
        "CancelAll",
        "CancelAllOrdersAfter",
    }
)
