"""Pure: the words configuration and orders share: modes, sides, order types, time in force.

They live in this leaf module so that the configuration (which names the mode
and the default order type) and the execution layer (which uses them on every
order) need not import each other. Import them from `kraken_bot.execution`
or `kraken_bot.execution.core.models`, the public paths.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ExecutionMode",
    "OrderTransport",
    "OrderType",
    "Side",
    "StreamMode",
    "TimeInForce",
    "UnfilledAction",
]


class ExecutionMode(StrEnum):
    """How orders are executed: see the contract, section 7."""

    LIVE = "live"
    PAPER = "paper"
    DRY_RUN = "dry_run"


class StreamMode(StrEnum):
    """How the service learns of order changes (``kraken.stream``).

    ``websocket``: Kraken's WebSocket v2 ``executions`` channel, REST reconciliation as the
    backstop; ``poll``: REST reconciliation only; ``auto``: the socket in live mode when
    its URL is known and the key may use it, else polling (with one warning).
    """

    AUTO = "auto"
    WEBSOCKET = "websocket"
    POLL = "poll"


class OrderTransport(StrEnum):
    """How orders are placed and canceled (``kraken.order_transport``).

    ``websocket`` needs the executions stream: orders go over its connection while it is
    up, over REST otherwise; ``rest`` always uses REST.
    """

    REST = "rest"
    WEBSOCKET = "websocket"


class UnfilledAction(StrEnum):
    """What the always-on service does with an order still open after the unfilled timeout."""

    CANCEL = "cancel"
    REPRICE = "reprice"


class Routing(StrEnum):
    """How a limit order is priced and worked (``execution.routing``)."""

    CONTRACT = "contract"
    """The contract's: at the mid plus or minus ``max_slippage_bps`` (crosses, pays taker)."""
    MAKER_FIRST = "maker_first"
    """Post-only at the touch, moved with it, crossing at the cap only when urgent."""


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order types this layer places."""

    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """Kraken's ``timeinforce`` values."""

    GTC = "GTC"
    IOC = "IOC"
    GTD = "GTD"
