"""Pure: an AddOrder request as a value, and its exact wire parameters.

`AddOrderRequest` holds every AddOrder parameter the execution layer uses
(kraken-api.md, section 3.3) and refuses combinations Kraken forbids
(``userref`` with ``cl_ord_id``). `AddOrderRequest.to_params` gives the
parameters exactly as they go on the wire: volume and price are sent as the
decimal strings given (rounding is the router's job), ``validate`` appears only
when set (``validate=true``; otherwise the field is omitted, since older Kraken
parsing treated its mere presence as true), ``deadline`` is RFC 3339 UTC.

>>> req = AddOrderRequest(pair="XXBTZUSD", side="buy", ordertype="limit",
...     volume="1.25", price="37500", cl_ord_id="arb-1", oflags=("post",))
>>> print("&".join(f"{k}={v}" for k, v in req.to_params().items()))
pair=XXBTZUSD&type=buy&ordertype=limit&volume=1.25&price=37500&cl_ord_id=arb-1&oflags=post
>>> AddOrderRequest(pair="XBTUSD", side="buy", ordertype="market", volume="1",
...     userref=7, cl_ord_id="x")
Traceback (most recent call last):
...
ValueError: AddOrder takes userref or cl_ord_id, not both (Kraken refuses the pair)

A market order carries only what a market order needs: no ``price``, no
``timeinforce``, no ``expiretm`` and no ``post`` flag (whether Kraken accepts a
time in force on a market order is unconfirmed, and a market order never rests).

>>> AddOrderRequest(pair="XBTUSD", side="buy", ordertype="market", volume="1", timeinforce="IOC")
Traceback (most recent call last):
...
ValueError: a market order takes no timeinforce
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Context, Decimal, InvalidOperation
from typing import Final

SIDES: Final = frozenset({"buy", "sell"})
INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
_WIDE: Final = Context(prec=60)


def format_decimal(value: Decimal, places: int | None = None) -> str:
    """A Decimal in plain notation, as Kraken expects it (never an exponent): the one
    formatter of numbers for the wire.

    With ``places``, exactly that many decimals; the value must already fit (round it
    first): formatting never changes a number that Kraken will receive.

    Raises:
        ValueError: a programmer error: ``value`` has more significant places.

    >>> format_decimal(Decimal("1E-8")), format_decimal(Decimal("37500.0"))
    ('0.00000001', '37500.0')
    >>> format_decimal(Decimal("1E-8"), 8), format_decimal(Decimal("60300"), 1)
    ('0.00000001', '60300.0')
    """
    if places is None:
        return format(value, "f")
    step = Decimal(1).scaleb(-places)
    quantized = value.quantize(step, rounding=ROUND_DOWN, context=_WIDE)
    if quantized != value:
        raise ValueError(f"{value} has more than {places} decimal places")
    return f"{quantized:f}"


def format_deadline(deadline: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as AddOrder's ``deadline`` takes it.

    >>> format_deadline(datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC))
    '2026-01-02T03:04:05.678Z'
    """
    if deadline.tzinfo is None or deadline.utcoffset() is None:
        raise ValueError("deadline must be timezone-aware")
    return deadline.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_decimal_text(name: str, text: str) -> None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal string, got {text!r}") from None
    if not value.is_finite() or value <= 0 or "e" in text.lower() or text.strip() != text:
        raise ValueError(f"{name} must be a positive plain decimal string, got {text!r}")


def _present(*params: tuple[str, str | None]) -> dict[str, str]:
    """The wire parameters that have a value, in the order given."""
    return {name: value for name, value in params if value is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOrderRequest:
    """One AddOrder call.

    Attributes:
        pair: pair id (``XXBTZUSD``) or altname (``XBTUSD``).
        side: ``buy`` or ``sell`` (Kraken's ``type``).
        ordertype: ``market``, ``limit`` (or another Kraken order type).
        volume: base volume as an exact decimal string (already rounded to ``lot_decimals``).
        price: limit price as an exact decimal string; None (required) for market orders.
        userref: int32 tag shared by a strategy's orders; not with ``cl_ord_id``.
        cl_ord_id: client order id (UUID or short text); not with ``userref``.
        validate: validate only, place nothing (sent as ``validate=true`` only when set).
        timeinforce: ``GTC`` (Kraken's default), ``IOC``, ``GTD`` (needs ``expiretm``) or
            ``FOK``; limit orders only (None for market orders).
        expiretm: ``0``, a unix time, or ``+<seconds>``; not for market orders.
        oflags: order flags, e.g. ``("post",)`` (limit orders only) or ``("fciq",)``.
        deadline: when Kraken must drop the request if not yet matched (2-60 s ahead).
    """

    pair: str
    side: str
    ordertype: str
    volume: str
    price: str | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    validate: bool = False
    timeinforce: str | None = None
    expiretm: str | None = None
    oflags: tuple[str, ...] = ()
    deadline: datetime | None = None

    def __post_init__(self) -> None:  # noqa: C901 - one check per field, all at construction
        if self.userref is not None and self.cl_ord_id is not None:
            raise ValueError(
                "AddOrder takes userref or cl_ord_id, not both (Kraken refuses the pair)"
            )
        if self.side not in SIDES:
            raise ValueError(f"side must be 'buy' or 'sell', got {self.side!r}")
        if not self.pair or not self.ordertype:
            raise ValueError("pair and ordertype are required")
        _check_decimal_text("volume", self.volume)
        if self.price is not None:
            _check_decimal_text("price", self.price)
        if self.userref is not None and not INT32_MIN <= self.userref <= INT32_MAX:
            raise ValueError(f"userref must fit in int32, got {self.userref}")
        if self.cl_ord_id is not None and not self.cl_ord_id:
            raise ValueError("cl_ord_id must not be empty")
        if self.timeinforce == "GTD" and not self.expiretm:
            raise ValueError("timeinforce GTD needs expiretm")
        if any(not flag or "," in flag for flag in self.oflags):
            raise ValueError(f"oflags must be single flags, got {self.oflags!r}")
        if self.deadline is not None and self.deadline.utcoffset() is None:
            raise ValueError("deadline must be timezone-aware")
        if self.ordertype == "market":
            self._check_market_fields()

    def _check_market_fields(self) -> None:
        extras = {
            "price": self.price is not None,
            "timeinforce": self.timeinforce is not None,
            "expiretm": self.expiretm is not None,
            "post flag": "post" in self.oflags,
        }
        for name, present in extras.items():
            if present:
                raise ValueError(f"a market order takes no {name}")

    def to_params(self) -> dict[str, str]:
        """The wire parameters, in a stable order; absent fields are omitted."""
        return _present(
            ("pair", self.pair),
            ("type", self.side),
            ("ordertype", self.ordertype),
            ("volume", self.volume),
            ("price", self.price),
            ("userref", None if self.userref is None else str(self.userref)),
            ("cl_ord_id", self.cl_ord_id),
            ("timeinforce", self.timeinforce),
            ("expiretm", self.expiretm),
            ("oflags", ",".join(self.oflags) or None),
            ("deadline", None if self.deadline is None else format_deadline(self.deadline)),
            ("validate", "true" if self.validate else None),
        )

    def with_deadline(self, now: datetime, seconds: float) -> AddOrderRequest:
        """A copy whose deadline is ``seconds`` after ``now`` (Kraken accepts 2-60 s)."""
        if not 2 <= seconds <= 60:
            raise ValueError("Kraken accepts a deadline 2 to 60 seconds ahead")
        return replace(self, deadline=now + timedelta(seconds=seconds))


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendOrderRequest:
    """One AmendOrder call: a new limit price and/or quantity for a live limit order.

    Attributes:
        txid: the order's Kraken id; or
        cl_ord_id: its client order id (exactly one of the two).
        limit_price: the new limit price, an exact decimal string on the pair's tick.
        order_qty: the new quantity (base), an exact decimal string; at or below what has
            filled, Kraken cancels the rest.
        post_only: refuse the amend if the new price would take liquidity.
        deadline: when Kraken must drop the request if not yet processed (2-60 s ahead).
    """

    txid: str | None = None
    cl_ord_id: str | None = None
    limit_price: str | None = None
    order_qty: str | None = None
    post_only: bool = False
    deadline: datetime | None = None

    def __post_init__(self) -> None:
        if (self.txid is None) == (self.cl_ord_id is None):
            raise ValueError("AmendOrder takes exactly one of txid and cl_ord_id")
        if not (self.txid or self.cl_ord_id):
            raise ValueError("AmendOrder needs a non-empty txid or cl_ord_id")
        if self.limit_price is None and self.order_qty is None:
            raise ValueError("AmendOrder needs a new limit_price or order_qty")
        if self.limit_price is not None:
            _check_decimal_text("limit_price", self.limit_price)
        if self.order_qty is not None:
            _check_decimal_text("order_qty", self.order_qty)
        if self.deadline is not None and self.deadline.utcoffset() is None:
            raise ValueError("deadline must be timezone-aware")

    def to_params(self) -> dict[str, str]:
        """The wire parameters, in a stable order; absent fields are omitted."""
        return _present(
            ("txid", self.txid),
            ("cl_ord_id", self.cl_ord_id),
            ("limit_price", self.limit_price),
            ("order_qty", self.order_qty),
            ("post_only", "true" if self.post_only else None),
            ("deadline", None if self.deadline is None else format_deadline(self.deadline)),
        )
