"""The simulator's answers to the points Kraken leaves open (kraken-api.md section 11 and its
"Corrections (2026-12)").

Each field is one unconfirmed behaviour; the default is our best reading of Kraken today and
a scenario's ``quirks:`` section (or ``serve --quirk NAME=VALUE``) can change any of them, so a
client can be tested against every plausible variant. Reason strings for orders closed by the
exchange are listed in :mod:`kraken_sim.orders`.

Defaults that follow the 2026-12 corrections: ``FOK`` is a valid time in force (limit orders;
on market orders it stays unconfirmed and is refused), a crossing post-only order is accepted
and then canceled with reason ``Post only order``, QueryOrders with a txid the account does not
know fails the whole call with ``EOrder:Invalid order``, ClosedOrders costs 1 on the REST
counter, and the throttle error is written ``EService: Throttled: <unix ts>``.

>>> Quirks().duplicate_cl_ord_id_error
'EOrder:Duplicate order'
>>> quirks_from_mapping({"excess_decimals": "truncate"}).excess_decimals
'truncate'
>>> quirk_override("closed_orders_cost=2"), quirk_override("throttled_prefix=EService: Throttled")
(('closed_orders_cost', 2), ('throttled_prefix', 'EService: Throttled'))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import yaml

__all__ = [
    "REDUCE_ONLY_IGNORE",
    "ExcessDecimals",
    "IocRemainder",
    "PostOnlyCrossing",
    "Quirks",
    "quirk_override",
    "quirks_from_mapping",
    "with_overrides",
]

REDUCE_ONLY_IGNORE: Final = "ignore"
"""``Quirks.reduce_only_true`` value: accept ``reduce_only=true`` and treat it as a spot order."""

ExcessDecimals = Literal["reject", "truncate"]
PostOnlyCrossing = Literal["reject", "cancel"]
IocRemainder = Literal["expired", "canceled", "closed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Quirks:
    """Configurable protocol details (section 11 numbers in brackets, C<n> = correction n).

    Attributes:
        result_on_error: on an error, send ``"result": {}`` (True) or omit ``result`` (False).
        validate_presence_means_true: [4] the 2017 behaviour: any ``validate`` value validates.
        validate_checks_funds: whether ``validate=true`` also checks the balance.
        duplicate_cl_ord_id_error: [1] AddOrder with the cl_ord_id of an open order.
        userref_with_cl_ord_id_error: [2] AddOrder with both ``userref`` and ``cl_ord_id``.
        echo_cl_ord_id: [3] add ``cl_ord_id`` to AddOrder's result.
        allow_fok: [5, C1] accept ``timeinforce=FOK`` (filled completely at once or expired).
            Default True: Kraken's changelog of 12 May 2026 added FOK to REST AddOrder.
        fok_on_market: [C1] also accept FOK on market orders. Default False (refused with
            ``EGeneral:Invalid arguments:timeinforce``): Kraken documents FOK for limit orders
            only; other order types are unconfirmed.
        market_timeinforce: whether a market order may carry ``timeinforce`` (GTC/IOC/GTD) and
            ``expiretm``. Default True (accepted and meaningless: a market order never rests);
            False refuses them with ``EGeneral:Invalid arguments:timeinforce|expiretm``, the
            strict reading a client must survive (it should send neither).
        reduce_only_true: AddOrder with ``reduce_only=true`` on this spot-only account (US_CA: no
            margin, so never an open position): answered with this error string, or
            ``"ignore"`` to accept it as a plain spot order. Default
            ``EOrder:Reduce only:No position exists``, the error Kraken's spot-errors guide
            documents for a reduce-only order on a market without open positions; what Kraken
            answers a spot account is unconfirmed (``EOrder:Reduce only:Non-PC`` is another
            candidate). ``reduce_only=false`` is always accepted (python-kraken-sdk sends it on
            every order).
        cancel_not_open_error: [6, C3] CancelOrder on an order that exists but is no longer
            open (``EOrder:Unknown order`` or ``EOrder:Invalid order``; unconfirmed).
        cancel_unknown_error: CancelOrder on an id that matches no order of the account.
        cancel_count_as_string: [7] CancelOrder ``count`` as ``"1"`` instead of ``1``.
        open_orders_limit: [8] enforce 60/80/225 open orders per pair (EOrder:Orders limit
            exceeded); off for the ``unlimited`` tier.
        post_only_crossing: [11, C2] a crossing post-only order is ``"cancel"``: accepted (txid
            returned) and immediately canceled with reason ``Post only order`` (default, what
            clients observe), or ``"reject"``: refused with ``EOrder:Post only order``.
        nonce_window: [13] default nonce window of new accounts (nonce units).
        excess_decimals: [15] too many volume/price decimals: reject with
            ``EGeneral:Invalid arguments:volume|price`` or truncate silently.
        ioc_remainder_status: [16] status of an IOC order that did not fill completely.
        query_orders_limit: maximum txids in one QueryOrders call (50 today, 20 in old docs).
        query_orders_unknown: QueryOrders with a txid the account does not know (or cannot see
            yet): answer the whole call with this error string (default
            ``EOrder:Invalid order``, what ccxt users report for a bad id, freqtrade issue
            8006; unconfirmed), or ``"omit"`` such txids from the result.
        closed_orders_cost: [9, C5] REST-counter cost of ClosedOrders: 1 (default, Kraken's
            rate-limit guide: every call but the ledger and trade-history ones costs 1) or 2
            (as some third-party clients budget it).
        throttled_prefix: [C4] text of the ``throttled`` fault's error before the unix time:
            ``EService: Throttled`` (default, the documented spelling with a space) or
            ``EService:Throttled`` (the prefix Kraken's Rust SDK matches).
        lockout_after: answer ``EGeneral:Temporary lockout`` after this many consecutive
            authentication failures of a key (0 = never).
        lockout_seconds: length of that lockout (virtual seconds).
    """

    result_on_error: bool = False
    validate_presence_means_true: bool = False
    validate_checks_funds: bool = False
    duplicate_cl_ord_id_error: str = "EOrder:Duplicate order"
    userref_with_cl_ord_id_error: str = "EGeneral:Invalid arguments"
    echo_cl_ord_id: bool = False
    allow_fok: bool = True
    fok_on_market: bool = False
    market_timeinforce: bool = True
    reduce_only_true: str = "EOrder:Reduce only:No position exists"
    cancel_not_open_error: str = "EOrder:Unknown order"
    cancel_unknown_error: str = "EOrder:Unknown order"
    cancel_count_as_string: bool = False
    open_orders_limit: bool = True
    post_only_crossing: PostOnlyCrossing = "cancel"
    nonce_window: int = 0
    excess_decimals: ExcessDecimals = "reject"
    ioc_remainder_status: IocRemainder = "expired"
    query_orders_limit: int = 50
    query_orders_unknown: str = "EOrder:Invalid order"
    closed_orders_cost: int = 1
    throttled_prefix: str = "EService: Throttled"
    lockout_after: int = 0
    lockout_seconds: float = 900.0


_CHOICES: dict[str, tuple[str, ...]] = {
    "post_only_crossing": get_args(PostOnlyCrossing),
    "excess_decimals": get_args(ExcessDecimals),
    "ioc_remainder_status": get_args(IocRemainder),
}


def quirks_from_mapping(raw: Mapping[str, Any]) -> Quirks:
    """Build :class:`Quirks` from a scenario's ``quirks:`` mapping, checking names and types."""
    known = {field.name: field for field in dataclasses.fields(Quirks)}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            raise ValueError(f"unknown quirk {name!r} (known: {', '.join(sorted(known))})")
        default = getattr(Quirks(), name)
        if isinstance(default, bool) != isinstance(value, bool) or not isinstance(
            value, type(default) | (int if isinstance(default, float) else type(default))
        ):
            raise ValueError(f"quirk {name!r} must be a {type(default).__name__}")
        if name in _CHOICES and value not in _CHOICES[name]:
            raise ValueError(f"quirk {name!r} must be one of {', '.join(_CHOICES[name])}")
        if name == "closed_orders_cost" and value not in {1, 2}:
            raise ValueError("quirk 'closed_orders_cost' must be 1 or 2")
        values[name] = float(value) if isinstance(default, float) else value
    return Quirks(**values)


def with_overrides(quirks: Quirks, overrides: Mapping[str, Any]) -> Quirks:
    """``quirks`` with some fields changed, checked as :func:`quirks_from_mapping` checks them."""
    current = {field.name: getattr(quirks, field.name) for field in dataclasses.fields(Quirks)}
    return quirks_from_mapping({**current, **overrides})


def quirk_override(text: str) -> tuple[str, Any]:
    """Parse ``NAME=VALUE`` (a command-line ``--quirk``): the value is read as a YAML scalar
    (``true``, ``2``, ``0.5``), else kept as text (``EService: Throttled``)."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"a quirk is NAME=VALUE, not {text!r}")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    if not isinstance(value, bool | int | float | str):
        value = raw
    return name, value
