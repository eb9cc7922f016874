"""The bundled rebalancing strategy: holdings from Balance, targets from weights."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tests.builders import a_pair, fresh_prices, universe

from kraken_bot.kraken.errors import AuthError, ServiceUnavailableError
from kraken_bot.market.api import StaticMarketData
from kraken_bot.simulation.strategy import (
    STRATEGY_ID,
    RebalancingStrategy,
    read_with_retries,
)
from kraken_bot.strategy.plan import ActionType, validate_plan
from kraken_sim import VirtualClock

START = datetime(2026, 1, 1, tzinfo=UTC)
PAIRS = (a_pair("XBTUSD"), a_pair("ETHUSD"), a_pair("SOLUSD"))


class Balances:
    """A BalanceSource that fails ``failures`` times first."""

    def __init__(self, amounts: dict[str, Decimal], *, failures: int = 0) -> None:
        self.amounts = amounts
        self.failures = failures
        self.calls = 0

    def balance(self) -> dict[str, Decimal]:
        self.calls += 1
        if self.calls <= self.failures:
            raise ServiceUnavailableError("EService:Busy", endpoint="Balance")
        return dict(self.amounts)


def strategy(balances: Balances, *, seed: int = 7, tilt: str = "0.3") -> RebalancingStrategy:
    return RebalancingStrategy(
        pairs=PAIRS,
        balances=balances,
        market=StaticMarketData(universe(), fresh_prices()),
        clock=VirtualClock(start=START),
        seed=seed,
        tilt=Decimal(tilt),
    )


HELD = {"ZUSD": Decimal(100_000), "XXBT": Decimal(1), "XETH": Decimal(10)}


def test_current_holdings_come_from_the_balance_and_targets_from_equal_weights():
    plan = strategy(Balances(HELD), tilt="0").next_plan("p-1", START)
    assert validate_plan(plan).unwrap() == plan
    by_pair = {a.pair: a for a in plan.actions}
    assert by_pair["XBTUSD"].current_base_size == Decimal(1)
    assert by_pair["SOLUSD"].current_base_size == 0
    assert by_pair["SOLUSD"].action_type is ActionType.OPEN
    held = strategy(Balances(HELD)).holdings()
    for pair in PAIRS:
        action = by_pair[pair.altname]
        assert action.strategy_id == STRATEGY_ID
        weight = action.target_base_size * held.mids[pair.altname] / held.equity_usd
        assert abs(weight - Decimal("0.25")) < Decimal("1e-6")


def test_targets_are_rounded_down_to_the_lot_step():
    plan = strategy(Balances(HELD)).next_plan("p-1", START)
    for action, pair in zip(plan.actions, PAIRS, strict=True):
        assert action.target_base_size == action.target_base_size.quantize(pair.lot_step)


def test_the_same_seed_gives_the_same_plans_and_another_seed_other_weights():
    first = [strategy(Balances(HELD), seed=3).next_plan(f"p-{i}", START) for i in range(2)]
    again = [strategy(Balances(HELD), seed=3).next_plan(f"p-{i}", START) for i in range(2)]
    other = strategy(Balances(HELD), seed=4).next_plan("p-0", START)
    assert first == again
    assert other.actions != first[0].actions


def test_weights_stay_within_the_tilt_around_an_equal_share():
    weights = strategy(Balances(HELD), tilt="0.3").weights()
    for weight in weights.values():
        assert Decimal("0.175") <= weight <= Decimal("0.325")


def test_a_busy_balance_read_is_retried_on_the_clock():
    balances = Balances(HELD, failures=2)
    subject = strategy(balances)
    subject.next_plan("p-1", START)
    assert balances.calls == 3


def test_a_permanent_error_is_not_retried():
    clock = VirtualClock(start=START)
    calls = []

    def refused() -> None:
        calls.append(1)
        raise AuthError("EAPI:Invalid key", endpoint="Balance")

    with pytest.raises(AuthError):
        read_with_retries(clock, refused)
    assert len(calls) == 1
    assert clock.now() == START


def test_reads_give_up_after_six_attempts_waiting_1_2_4_8_16_seconds():
    clock = VirtualClock(start=START)
    with pytest.raises(ServiceUnavailableError):
        read_with_retries(clock, Balances(HELD, failures=99).balance)
    assert (clock.now() - START).total_seconds() == 31


def test_the_strategy_needs_a_pair():
    with pytest.raises(ValueError, match="at least one"):
        RebalancingStrategy(
            pairs=(),
            balances=Balances(HELD),
            market=StaticMarketData(universe(), fresh_prices()),
            clock=VirtualClock(start=START),
            seed=1,
        )
