"""The simulator's answers to the points Kraken leaves open (kraken-api.md section 11).

Each field is one unconfirmed behaviour; the default is our best reading of Kraken today and
a scenario's ``quirks:`` section can change any of them, so a client can be tested against
every plausible variant. Reason strings for orders closed by the exchange are listed in
:mod:`kraken_sim.orders`.

>>> Quirks().duplicate_cl_ord_id_error
'EOrder:Duplicate order'
>>> quirks_from_mapping({"excess_decimals": "truncate"}).excess_decimals
'truncate'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["ExcessDecimals", "IocRemainder", "PostOnlyCrossing", "Quirks", "quirks_from_mapping"]

ExcessDecimals = Literal["reject", "truncate"]
PostOnlyCrossing = Literal["reject", "cancel"]
IocRemainder = Literal["expired", "canceled", "closed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Quirks:
    """Configurable protocol details (section 11 numbers in brackets).

    Attributes:
        result_on_error: on an error, send ``"result": {}`` (True) or omit ``result`` (False).
        validate_presence_means_true: [4] the 2017 behaviour: any ``validate`` value validates.
        validate_checks_funds: whether ``validate=true`` also checks the balance.
        duplicate_cl_ord_id_error: [1] AddOrder with the cl_ord_id of an open order.
        userref_with_cl_ord_id_error: [2] AddOrder with both ``userref`` and ``cl_ord_id``.
        echo_cl_ord_id: [3] add ``cl_ord_id`` to AddOrder's result.
        allow_fok: [5] accept ``timeinforce=FOK`` (filled completely at once or expired).
        cancel_not_open_error: [6] CancelOrder on an order that exists but is no longer open.
        cancel_unknown_error: CancelOrder on an id that matches no order of the account.
        cancel_count_as_string: [7] CancelOrder ``count`` as ``"1"`` instead of ``1``.
        open_orders_limit: [8] enforce 60/80/225 open orders per pair (EOrder:Orders limit
            exceeded); off for the ``unlimited`` tier.
        post_only_crossing: [11] a crossing post-only order is rejected with
            ``EOrder:Post only order`` or accepted and immediately canceled.
        nonce_window: [13] default nonce window of new accounts (nonce units).
        excess_decimals: [15] too many volume/price decimals: reject with
            ``EGeneral:Invalid arguments:volume|price`` or truncate silently.
        ioc_remainder_status: [16] status of an IOC order that did not fill completely.
        query_orders_limit: maximum txids in one QueryOrders call (50 today, 20 in old docs).
        query_orders_unknown: QueryOrders with txids the account does not know (or cannot see
            yet): ``"omit"`` them from the result, or answer with this error string.
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
    allow_fok: bool = False
    cancel_not_open_error: str = "EOrder:Unknown order"
    cancel_unknown_error: str = "EOrder:Unknown order"
    cancel_count_as_string: bool = False
    open_orders_limit: bool = True
    post_only_crossing: PostOnlyCrossing = "reject"
    nonce_window: int = 0
    excess_decimals: ExcessDecimals = "reject"
    ioc_remainder_status: IocRemainder = "expired"
    query_orders_limit: int = 50
    query_orders_unknown: str = "omit"
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
        values[name] = float(value) if isinstance(default, float) else value
    return Quirks(**values)
