"""AddOrder's parameters, parsed and checked the way Kraken documents it (sections 3.3, 5, 6, 7).

:func:`parse_add_order` turns the request's :class:`~kraken_sim.wire.Params` into an
:class:`OrderRequest` or raises :class:`~kraken_sim.wire.ApiError` with Kraken's error string.
It checks everything that depends only on the request, the pair and the time; the engine then
checks what depends on the account (duplicate ``cl_ord_id``, open-order limit, funds).

Order of checks (the first failure answers): required fields and enums, margin fields,
volume and price formats and decimals, tick size, flags, time in force, start/expiry,
``userref`` / ``cl_ord_id``, ``deadline``, then the minimums (``ordermin``, ``costmin``).

Unsupported on purpose: order types other than ``market`` and ``limit``
(``EGeneral:Invalid arguments:ordertype``), ``viqc`` (``EGeneral:Invalid arguments:viqc``),
margin: any ``leverage`` (``EGeneral:Invalid arguments:leverage``). ``reduce_only`` is a
boolean in any of Kraken's spellings (else ``EGeneral:Invalid arguments:reduce_only``): false
is accepted, true answers ``Quirks.reduce_only_true`` (a spot account holds no position).

Time in force: ``GTC`` (default), ``IOC``, ``GTD`` (needs ``expiretm``) and ``FOK``
(``Quirks.allow_fok``, limit orders unless ``Quirks.fok_on_market``). ``Quirks.market_timeinforce``
False refuses ``timeinforce`` and ``expiretm`` on market orders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from kraken_sim.market import PairMeta, Touch
from kraken_sim.orders import OrderType, Side, TimeInForce
from kraken_sim.quirks import REDUCE_ONLY_IGNORE, Quirks
from kraken_sim.wire import ApiError, Params, decimal_places, invalid, parse_decimal, truncate

__all__ = ["OrderRequest", "check_deadline", "parse_add_order", "valid_cl_ord_id"]

_UUID_RE: Final = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_HEX32_RE: Final = re.compile(r"^[0-9a-fA-F]{32}$")
_FREE_RE: Final = re.compile(r"^[\x20-\x7e]{1,18}$")
_OFLAGS: Final = frozenset({"post", "fcib", "fciq", "nompp", "viqc"})
_INT32: Final = (-(2**31), 2**31 - 1)
_MONTH_S: Final = 31 * 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A well-formed AddOrder request."""

    meta: PairMeta
    side: Side
    ordertype: OrderType
    vol: Decimal
    price: Decimal | None
    oflags: tuple[str, ...]
    timeinforce: TimeInForce
    starttm: float
    expiretm: float
    userref: int | None
    cl_ord_id: str | None
    close: tuple[str, str, str] | None
    validate: bool


def valid_cl_ord_id(value: str) -> bool:
    """Long UUID, 32 hex digits, or up to 18 printable ASCII characters.

    >>> valid_cl_ord_id("6d1b345e-2821-40e2-ad83-4ecb18a06876")
    True
    >>> valid_cl_ord_id("arb-20240509-00010"), valid_cl_ord_id("6d1b345e282140e2ad834ecb18a06876")
    (True, True)
    >>> valid_cl_ord_id("x" * 19), valid_cl_ord_id("héllo")
    (False, False)
    """
    return bool(_UUID_RE.match(value) or _HEX32_RE.match(value) or _FREE_RE.match(value))


def parse_add_order(
    params: Params,
    meta: PairMeta,
    touch: Touch,
    *,
    now: float,
    quirks: Quirks,
) -> OrderRequest:
    """Check an AddOrder request for ``meta``'s pair at time ``now`` (see the module docstring)."""
    side: Side = "buy" if _enum(params, "type", ("buy", "sell")) == "buy" else "sell"
    ordertype: OrderType = (
        "limit" if _enum(params, "ordertype", ("market", "limit")) == "limit" else "market"
    )
    _margin(params, quirks)
    vol = _amount(params, "volume", meta.lot_decimals, quirks)
    price = None
    if ordertype == "limit":
        price = _amount(params, "price", meta.pair_decimals, quirks)
        if price % meta.tick_size != 0:
            raise ApiError("EOrder:Tick size check failed")
    oflags = _oflags(params, side=side, ordertype=ordertype)
    timeinforce = _timeinforce(params, quirks, ordertype=ordertype)
    starttm = _when(params, "starttm", now)
    expiretm = _when(params, "expiretm", now)
    if timeinforce == "GTD" and expiretm == 0:
        raise invalid("expiretm")
    if expiretm and (expiretm < max(now, starttm) + 5 or expiretm > now + _MONTH_S):
        raise invalid("expiretm")
    userref, cl_ord_id = _identity(params, quirks)
    close = _close(params, meta, quirks, cl_ord_id=cl_ord_id)
    check_deadline(params, now)
    validate = _validate(params, quirks)
    if vol < meta.ordermin:
        raise ApiError("EOrder:Order minimum not met")
    reference = price if price is not None else (touch.ask if side == "buy" else touch.bid)
    if vol * reference < meta.costmin:
        raise ApiError("EOrder:Cost minimum not met")
    return OrderRequest(
        meta=meta,
        side=side,
        ordertype=ordertype,
        vol=vol,
        price=price,
        oflags=oflags,
        timeinforce=timeinforce,
        starttm=starttm,
        expiretm=expiretm or 0.0,
        userref=userref,
        cl_ord_id=cl_ord_id,
        close=close,
        validate=validate,
    )


def _enum(params: Params, name: str, choices: tuple[str, ...]) -> str:
    value = params.text(name, required=True)
    if value not in choices:
        raise invalid(name)
    return value


def _amount(params: Params, name: str, places: int, quirks: Quirks) -> Decimal:
    value = params.decimal(name, required=True)
    assert value is not None
    if decimal_places(value) > places:
        if quirks.excess_decimals == "reject":
            raise invalid(name)
        value = truncate(value, places)
    if value <= 0:
        raise invalid(name)
    return value


def _oflags(params: Params, *, side: str, ordertype: str) -> tuple[str, ...]:
    flags = params.csv("oflags")
    if any(flag not in _OFLAGS for flag in flags) or len(set(flags)) != len(flags):
        raise invalid("oflags")
    if "fcib" in flags and "fciq" in flags:
        raise invalid("oflags")
    if "post" in flags and ordertype != "limit":
        raise invalid("oflags")
    if "viqc" in flags:
        raise invalid("viqc")
    if "fcib" not in flags and "fciq" not in flags:
        flags.append("fciq")
    del side
    return tuple(flags)


def _margin(params: Params, quirks: Quirks) -> None:
    """Spot only: no ``leverage``; ``reduce_only=false`` is harmless, true has no position."""
    if "leverage" in params:
        raise invalid("leverage")
    if params.flag("reduce_only") and quirks.reduce_only_true != REDUCE_ONLY_IGNORE:
        raise ApiError(quirks.reduce_only_true)


def _timeinforce(params: Params, quirks: Quirks, *, ordertype: OrderType) -> TimeInForce:
    text = params.text("timeinforce")
    if ordertype == "market" and not quirks.market_timeinforce:
        if text is not None:
            raise invalid("timeinforce")
        if params.text("expiretm") is not None:
            raise invalid("expiretm")
    value = (text or "GTC").upper()
    if value == "GTC":
        return "GTC"
    if value == "IOC":
        return "IOC"
    if value == "GTD":
        return "GTD"
    if value == "FOK" and quirks.allow_fok and (ordertype == "limit" or quirks.fok_on_market):
        return "FOK"
    raise invalid("timeinforce")


def _when(params: Params, name: str, now: float) -> float:
    """``0`` (none/now), a unix timestamp, or ``+<n>`` seconds from now."""
    text = params.text(name)
    if text is None or text == "0":
        return 0.0
    if text.startswith("+"):
        offset = parse_decimal(text[1:], field=name)
        return now + float(offset)
    moment = float(parse_decimal(text, field=name))
    if name == "starttm" and moment <= now:
        return 0.0
    if moment <= now:
        raise invalid(name)
    return moment


def _identity(params: Params, quirks: Quirks) -> tuple[int | None, str | None]:
    userref = params.integer("userref")
    cl_ord_id = params.text("cl_ord_id")
    if userref is not None and cl_ord_id is not None:
        raise ApiError(quirks.userref_with_cl_ord_id_error)
    if userref is not None and not _INT32[0] <= userref <= _INT32[1]:
        raise invalid("userref")
    if cl_ord_id is not None and not valid_cl_ord_id(cl_ord_id):
        raise invalid("cl_ord_id")
    return userref, cl_ord_id


def _close(
    params: Params, meta: PairMeta, quirks: Quirks, *, cl_ord_id: str | None
) -> tuple[str, str, str] | None:
    raw = params.raw("close")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise invalid("close")
    if cl_ord_id is not None:
        raise invalid("cl_ord_id")
    close = Params(raw)
    ordertype = _enum(close, "ordertype", ("market", "limit"))
    price = ""
    if ordertype == "limit":
        value = _amount(close, "price", meta.pair_decimals, quirks)
        if value % meta.tick_size != 0:
            raise ApiError("EOrder:Tick size check failed")
        price = f"{value:f}"
    return ordertype, price, ""


def check_deadline(params: Params, now: float) -> None:
    """A ``deadline`` parameter: RFC 3339, not past (``EService:Deadline elapsed``), at most
    60 s ahead."""
    text = params.text("deadline")
    if text is None:
        return
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise invalid("deadline") from exc
    if moment.tzinfo is None:
        raise invalid("deadline")
    when = moment.timestamp()
    if when < now:
        raise ApiError("EService:Deadline elapsed")
    if when > now + 60:
        raise invalid("deadline")


def _validate(params: Params, quirks: Quirks) -> bool:
    if quirks.validate_presence_means_true:
        return "validate" in params
    return params.flag("validate")
