"""The invariants between local orders and the exchange's truth, on hand-built records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.builders import NOW, an_order, asset_pairs_sample

from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.execution.shell.store import OrderEventRecord
from kraken_bot.simulation import invariants
from kraken_bot.simulation.invariants import ViolationKind, expected_statuses
from kraken_sim import Order
from kraken_sim.market import pair_meta
from kraken_sim.scenario import PairSpec

IDS = SeededIds(11)
OURS = IDS()
OTHER = IDS()
XBTUSD = pair_meta(
    "XXBTZUSD", asset_pairs_sample()["XXBTZUSD"], PairSpec(pair="XXBTZUSD"), (None, None)
)


def check_invariants(local_orders, exchange_orders, **options: Any):
    """The checker, with the exchange's metadata of XBT/USD (one price decimal)."""
    return invariants.check_invariants(
        local_orders, exchange_orders, pairs={"XXBTZUSD": XBTUSD}.__getitem__, **options
    )


def exchange_order(**overrides: Any) -> Order:
    """The exchange's record of `an_order(local_id=OURS)`, filled completely at 60000."""
    fields: dict[str, Any] = {
        "txid": "OAAAAA-BBBBB-CCCCCC",
        "seq": 1,
        "account": "key",
        "pair": "XXBTZUSD",
        "side": "buy",
        "ordertype": "limit",
        "price": Decimal("60300.0"),
        "vol": Decimal("0.1"),
        "status": "closed",
        "timeinforce": "GTC",
        "opentm": 1.0,
        "vol_exec": Decimal("0.1"),
        "cost": Decimal("6000.0"),
        "cl_ord_id": OURS,
    }
    fields.update(overrides)
    return Order(**fields)


def local(**overrides: Any):
    """`an_order` known by txid, filled like `exchange_order()`."""
    fields: dict[str, Any] = {
        "local_id": OURS,
        "kraken_order_id": "OAAAAA-BBBBB-CCCCCC",
        "status": OrderStatus.FILLED,
        "cumulative_base_filled": "0.1",
        "avg_fill_price": Decimal(60000),
    }
    fields.update(overrides)
    return an_order(**fields)


def kinds(violations) -> list[ViolationKind]:
    return [v.kind for v in violations]


def test_agreeing_records_break_no_invariant():
    assert check_invariants([local()], [exchange_order()]) == []


def test_an_exchange_order_with_our_client_id_unknown_locally_is_lost():
    violations = check_invariants([], [exchange_order()])
    assert kinds(violations) == [ViolationKind.LOST]
    assert violations[0].txids == ("OAAAAA-BBBBB-CCCCCC",)


def test_an_order_of_another_tool_is_not_ours_and_not_lost():
    stranger = exchange_order(cl_ord_id="6d1b345e-2821-40e2-ad83-4ecb18a06876")
    assert check_invariants([], [stranger]) == []


def test_an_exchange_order_with_our_userref_unknown_locally_is_lost():
    tagged = exchange_order(cl_ord_id=None, userref=1001)
    assert check_invariants([], [tagged], userrefs={1001}) != []
    assert check_invariants([], [tagged]) == []


def test_two_exchange_orders_for_one_local_order_are_a_duplicate():
    twin = exchange_order(txid="ODDDDD-EEEEE-FFFFFF", seq=2)
    violations = check_invariants([local()], [exchange_order(), twin])
    assert ViolationKind.DUPLICATE in kinds(violations)
    (duplicate,) = [v for v in violations if v.kind is ViolationKind.DUPLICATE]
    assert duplicate.local_id == OURS
    assert set(duplicate.txids) == {"OAAAAA-BBBBB-CCCCCC", "ODDDDD-EEEEE-FFFFFF"}


def test_filling_more_than_requested_is_an_overfill_even_between_reconciliations():
    with pytest.raises(ValueError, match="cumulative_base_filled"):
        local(cumulative_base_filled="0.2")  # a LocalOrder refuses it at construction
    over = local()
    object.__setattr__(over, "cumulative_base_filled", Decimal("0.2"))  # a corrupted record
    violations = check_invariants([over], [exchange_order()], reconciled=False)
    assert set(kinds(violations)) == {ViolationKind.OVERFILL}
    assert any("ahead of the exchange's 0.1" in v.detail for v in violations)


@pytest.mark.parametrize(
    ("local_overrides", "exchange_overrides", "kind"),
    [
        ({"status": OrderStatus.OPEN}, {}, ViolationKind.STATUS),
        ({"status": OrderStatus.ERROR}, {}, ViolationKind.STATUS),
        ({"cumulative_base_filled": "0.05"}, {}, ViolationKind.FILLED_VOLUME),
        ({"avg_fill_price": Decimal(61000)}, {}, ViolationKind.AVG_PRICE),
        ({"avg_fill_price": None}, {}, ViolationKind.AVG_PRICE),
        ({"kraken_order_id": None}, {}, ViolationKind.UNACKNOWLEDGED),
        ({"status": OrderStatus.SUBMITTED}, {}, ViolationKind.UNRESOLVED),
    ],
)
def test_after_reconciliation_local_and_exchange_state_agree(
    local_overrides, exchange_overrides, kind
):
    violations = check_invariants(
        [local(**local_overrides)], [exchange_order(**exchange_overrides)]
    )
    assert kind in kinds(violations)
    before_reconciling = check_invariants(
        [local(**local_overrides)], [exchange_order(**exchange_overrides)], reconciled=False
    )
    assert before_reconciling == []


def test_a_local_txid_the_exchange_never_had_is_a_phantom():
    ghost = local(local_id=OTHER, client_order_id=OTHER, kraken_order_id="OZZZZZ-ZZZZZ-ZZZZZZ")
    violations = check_invariants([local(), ghost], [exchange_order()])
    assert kinds(violations) == [ViolationKind.PHANTOM]


def test_an_average_price_is_compared_as_kraken_renders_it_at_the_pair_decimals():
    rounded = exchange_order(cost=Decimal("6000.004"))  # 60000.04, rendered 60000.0
    assert check_invariants([local()], [rounded]) == []
    unrounded = local(avg_fill_price=Decimal("60000.04"))  # within 1 bp, still wrong
    assert kinds(check_invariants([unrounded], [rounded])) == [ViolationKind.AVG_PRICE]


@pytest.mark.parametrize(
    ("status", "vol_exec", "expected"),
    [
        ("closed", "0.1", {OrderStatus.FILLED}),
        ("canceled", "0.02", {OrderStatus.CANCELED}),
        ("expired", "0", {OrderStatus.EXPIRED}),
        ("open", "0", {OrderStatus.OPEN}),
        ("open", "0.02", {OrderStatus.PARTIALLY_FILLED}),
        ("pending", "0", {OrderStatus.SUBMITTED}),
    ],
)
def test_each_exchange_status_maps_to_the_local_statuses_that_agree(status, vol_exec, expected):
    order = exchange_order(status=status, vol_exec=Decimal(vol_exec))
    assert expected_statuses(order) == expected


def test_violations_serialise_for_json_output():
    (violation,) = check_invariants([], [exchange_order()])
    encoded = violation.to_json()
    assert encoded["kind"] == "lost"
    assert encoded["txids"] == ["OAAAAA-BBBBB-CCCCCC"]
    assert "unknown locally" in str(violation)


def test_one_exchange_order_owned_by_two_local_orders_is_a_duplicate():
    first = local(local_id="6b6b0000-0000-4000-8000-00000000000a")
    second = local(local_id="6b6b0000-0000-4000-8000-00000000000b")
    assert first.kraken_order_id == second.kraken_order_id is not None
    found = check_invariants([first, second], [exchange_order()], reconciled=False)
    (duplicate,) = [v for v in found if v.kind is ViolationKind.DUPLICATE]
    assert "owned by 2 local orders" in duplicate.detail


def test_a_client_id_on_two_exchange_orders_is_a_duplicate_even_between_reconciliations():
    twin = exchange_order(txid="ODDDDD-EEEEE-FFFFFF", seq=2)
    found = check_invariants([local()], [exchange_order(), twin], reconciled=False)
    assert kinds(found) == [ViolationKind.DUPLICATE]


def test_a_local_txid_naming_an_order_with_another_client_id_is_a_foreign_id():
    theirs = exchange_order(cl_ord_id=OTHER)
    found = check_invariants([local()], [theirs], reconciled=False)
    assert ViolationKind.FOREIGN_ID in kinds(found)
    assert ViolationKind.LOST in kinds(found)  # and OTHER's order is known to nobody


def test_a_lost_order_is_reported_once_though_two_checks_find_it():
    assert kinds(check_invariants([], [exchange_order()])) == [ViolationKind.LOST]


def test_an_order_known_by_client_id_but_not_by_txid_is_unacknowledged_once_settled():
    unacked = local(kraken_order_id=None)
    assert kinds(check_invariants([unacked], [exchange_order()])) == [ViolationKind.UNACKNOWLEDGED]


def trail(*rows: tuple[str, OrderStatus]) -> list[OrderEventRecord]:
    return [
        OrderEventRecord(id=i, local_id=OURS, at=NOW, status=status, event=event, detail=None)
        for i, (event, status) in enumerate(rows)
    ]


def test_audit_trails_that_leave_the_transition_table_are_illegal_transitions():
    legal = trail(("created", OrderStatus.PENDING), ("observed", OrderStatus.FILLED))
    assert check_invariants([local()], [exchange_order()], trails={OURS: legal}) == []
    backwards = [*legal, *trail(("observed", OrderStatus.OPEN))]
    found = check_invariants([local()], [exchange_order()], trails={OURS: backwards})
    assert kinds(found) == [ViolationKind.ILLEGAL_TRANSITION]
    late_start = trail(("created", OrderStatus.OPEN))
    found = check_invariants([local()], [exchange_order()], trails={OURS: late_start})
    assert kinds(found) == [ViolationKind.ILLEGAL_TRANSITION]


def test_an_adopted_order_is_a_duplicate_in_the_tally():
    adopted = trail(("adopted", OrderStatus.FILLED))
    found = check_invariants([local()], [exchange_order()], trails={OURS: adopted})
    assert kinds(found) == [ViolationKind.ADOPTED]
    assert invariants.tally(found) == {
        "duplicates": 1,
        "lost_orders": 0,
        "invariant_violations": 1,
    }


def test_live_orders_in_memory_must_equal_the_database():
    moved = local(status=OrderStatus.OPEN)
    found = invariants.memory_violations([moved], [local(status=OrderStatus.PARTIALLY_FILLED)])
    assert kinds(found) == [ViolationKind.MEMORY_DB]
    assert kinds(invariants.memory_violations([moved], [])) == [ViolationKind.MEMORY_DB]
