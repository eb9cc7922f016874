"""Pure: order type selection, volume and price rounding, exact decimal strings for Kraken.

The contract's router (section 6.1). Every number that reaches Kraken passes
through here:

* **Volume** is truncated toward zero to the pair's ``lot_decimals``, so an
  order never asks for more than the plan's delta.
* **Limit price** starts from the mid and the configured slippage
  (``max_slippage_bps``): a buy may pay at most ``mid x (1 + bps / 10 000)``,
  a sell accepts at least ``mid x (1 - bps / 10 000)``. The price is then put
  on the pair's tick grid in the direction that keeps that cap: down for buys,
  up for sells. Kraken refuses prices off the grid (``EOrder:Tick size check
  failed``), and rounding the other way would pay more than the user allowed.
* **Order type** is limit unless the configuration asks for market orders,
  either always or for small orders.
* **Formatting** writes decimals in fixed point with exactly the pair's
  places: Kraken reads decimal strings, and ``str(Decimal)`` can produce
  exponent notation (``1E-8``), which it does not accept.

All arithmetic is `Decimal`; quantizing uses an explicit wide context, so the
result never depends on the caller's thread-local decimal context.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Context, Decimal
from typing import Final

from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import OrderType, Side
from kraken_bot.kraken.pairs import PairMetadata

_WIDE: Final = Context(prec=60)
_BPS: Final = Decimal(10_000)


def _step(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def truncate_volume(volume: Decimal, lot_decimals: int) -> Decimal:
    """Cut ``volume`` toward zero to ``lot_decimals`` places (never rounds up).

    Args:
        volume: base volume, any precision.
        lot_decimals: the pair's ``lot_decimals``.

    Returns:
        The volume with exactly ``lot_decimals`` places.

    >>> truncate_volume(Decimal("0.123456789"), 8)
    Decimal('0.12345678')
    >>> truncate_volume(Decimal("0.000000009"), 8)
    Decimal('0E-8')
    """
    return volume.quantize(_step(lot_decimals), rounding=ROUND_DOWN, context=_WIDE)


def price_cap(side: Side, mid: Decimal, slippage_bps: Decimal) -> Decimal:
    """The worst price the slippage allows: the most a buy pays, the least a sell accepts.

    >>> price_cap(Side.BUY, Decimal(60000), Decimal(50))
    Decimal('60300.000')
    >>> price_cap(Side.SELL, Decimal(100), Decimal(50))
    Decimal('99.500')
    """
    offset = _WIDE.divide(slippage_bps, _BPS)
    factor = _WIDE.add(1, offset) if side is Side.BUY else _WIDE.subtract(1, offset)
    return _WIDE.multiply(mid, factor)


def has_limit_price(side: Side, mid: Decimal, slippage_bps: Decimal, pair: PairMetadata) -> bool:
    """True when some positive price on the tick grid respects the slippage cap.

    Sells always have one (any price above the cap will do); a buy has none
    only when its cap is below one tick.

    >>> from kraken_bot.kraken.pairs import PAIR_EXAMPLE
    >>> has_limit_price(Side.BUY, Decimal("0.05"), Decimal(50), PAIR_EXAMPLE)
    False
    """
    if mid <= 0:
        return False
    return side is Side.SELL or price_cap(side, mid, slippage_bps) >= pair.tick_size


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    return _WIDE.multiply(_WIDE.divide_int(value, step), step)


def _ceil_to(value: Decimal, step: Decimal) -> Decimal:
    floored = _floor_to(value, step)
    return floored if floored == value else _WIDE.add(floored, step)


def limit_price(side: Side, mid: Decimal, slippage_bps: Decimal, pair: PairMetadata) -> Decimal:
    """The limit price: the slippage cap put on the pair's tick grid without breaking it.

    A buy's cap is rounded down onto the grid, a sell's up, so the price is
    never beyond the cap; it has at most ``pair_decimals`` places and is
    always positive. (Kraken's ``tick_size`` has at most ``pair_decimals``
    places, so the final quantize keeps the price on the grid.)

    Args:
        side: buy or sell.
        mid: the current mid price (positive).
        slippage_bps: ``max_slippage_bps`` from the configuration.
        pair: the pair's metadata (``tick_size``, ``pair_decimals``).

    Returns:
        The limit price.

    Raises:
        ValueError: a programmer error: `has_limit_price` is false for these
            inputs (a buy whose cap is below one tick). The planner checks first.

    >>> from kraken_bot.kraken.pairs import PAIR_EXAMPLE
    >>> limit_price(Side.BUY, Decimal("60000.05"), Decimal(50), PAIR_EXAMPLE)
    Decimal('60300.0')
    >>> limit_price(Side.SELL, Decimal("60000.05"), Decimal(50), PAIR_EXAMPLE)
    Decimal('59700.1')
    """
    cap = price_cap(side, mid, slippage_bps)
    if mid <= 0 or (side is Side.BUY and cap < pair.tick_size):
        raise ValueError(f"no {side} price on the {pair.tick_size} grid within the slippage cap")
    places = _step(pair.pair_decimals)
    if side is Side.BUY:
        on_grid = _floor_to(cap, pair.tick_size)
        return on_grid.quantize(places, rounding=ROUND_FLOOR, context=_WIDE)
    on_grid = max(_ceil_to(cap, pair.tick_size), pair.tick_size)
    return on_grid.quantize(places, rounding=ROUND_CEILING, context=_WIDE)


def choose_order_type(config: ExecutionConfig, notional_usd: Decimal) -> OrderType:
    """Market when configured as the default, or for orders at or below the market threshold.

    ``post_only`` keeps every order a limit order: a market order cannot rest
    on the book as a maker.

    >>> choose_order_type(ExecutionConfig(), Decimal(100)).value
    'limit'
    >>> small = ExecutionConfig(market_order_max_notional_usd=Decimal(50))
    >>> [choose_order_type(small, Decimal(n)).value for n in ("50", "50.01")]
    ['market', 'limit']
    """
    if config.post_only:
        return OrderType.LIMIT
    if config.default_order_type is OrderType.MARKET:
        return OrderType.MARKET
    threshold = config.market_order_max_notional_usd
    if threshold is not None and notional_usd <= threshold:
        return OrderType.MARKET
    return OrderType.LIMIT


# ---------------------------------------------------------------- the pair's status

LIMIT_STATUSES: Final = frozenset({"limit_only", "post_only"})
"""Kraken's pair statuses under which it takes limit orders only."""


def pair_takes_orders(pair: PairMetadata, config: ExecutionConfig) -> bool:
    """Whether Kraken's status for ``pair`` lets orders of this configuration through.

    ``online`` does; ``limit_only`` only when orders are limit orders by default;
    ``post_only`` only with ``post_only`` set; ``cancel_only``, ``reduce_only`` and any
    status Kraken adds later do not.
    """
    if pair.status == "limit_only":
        return config.default_order_type is OrderType.LIMIT
    if pair.status == "post_only":
        return config.post_only
    return pair.is_online


def order_type_for(pair: PairMetadata, config: ExecutionConfig, notional_usd: Decimal) -> OrderType:
    """`choose_order_type`, except that a pair taking limit orders only (`LIMIT_STATUSES`)
    gets a limit order whatever the threshold says."""
    if pair.status in LIMIT_STATUSES:
        return OrderType.LIMIT
    return choose_order_type(config, notional_usd)
