"""What each mode may do at Kraken: decided once, by `exchange_access`."""

from __future__ import annotations

import pytest
from tests.builders import a_config

from kraken_bot.execution.core.access import StartCheck, access_problem, exchange_access
from kraken_bot.execution.core.models import ExecutionMode

LIVE = {"mode": "live", "allow_live_trading": True, "validate_only": False}


def test_dry_run_never_reaches_the_exchange():
    access = exchange_access(a_config(mode="dry_run"), observer=False)
    assert access.mode is ExecutionMode.DRY_RUN
    assert not access.reaches_exchange
    assert not access.changes_exchange
    assert not access.places_live_orders
    assert access.runs_plans


def test_paper_reaches_the_exchange_but_never_changes_it():
    access = exchange_access(a_config(mode="paper"), observer=False)
    assert access.reaches_exchange
    assert not access.changes_exchange
    assert not access.places_live_orders
    assert access.runs_plans


def test_live_changes_the_exchange_and_places_live_orders():
    access = exchange_access(a_config(**LIVE), observer=False)
    assert access.reaches_exchange
    assert access.changes_exchange
    assert access.places_live_orders
    assert access.runs_plans


def test_a_live_observer_changes_the_exchange_but_places_no_order_and_refuses_plans():
    access = exchange_access(a_config(**LIVE), observer=True)
    assert access.changes_exchange  # it cancels and reconciles for real
    assert not access.places_live_orders
    assert not access.runs_plans


@pytest.mark.parametrize("mode", ["paper", "dry_run"])
def test_an_observer_outside_live_mode_still_runs_plans(mode):
    assert exchange_access(a_config(mode=mode), observer=True).runs_plans


def test_dry_run_needs_neither_a_client_nor_credentials():
    access = exchange_access(a_config(mode="dry_run"), observer=False)
    assert access_problem(access, has_client=False, has_credentials=False, owns_client=True) is None


def test_a_mode_that_reaches_the_exchange_needs_a_client():
    access = exchange_access(a_config(**LIVE), observer=False)
    problem = access_problem(access, has_client=False, has_credentials=True, owns_client=False)
    assert problem == "live mode needs a Kraken client"


def test_a_client_built_from_configuration_needs_credentials():
    access = exchange_access(a_config(mode="paper"), observer=False)
    problem = access_problem(access, has_client=True, has_credentials=False, owns_client=True)
    assert problem is not None
    assert problem.startswith("paper mode needs an API key and secret")


def test_a_client_handed_in_is_trusted_without_credentials():
    access = exchange_access(a_config(mode="paper"), observer=False)
    assert access_problem(access, has_client=True, has_credentials=False, owns_client=False) is None
    assert access_problem(access, has_client=True, has_credentials=True, owns_client=True) is None


# ------------------------------------------------------------- what a service starts

STARTS = [
    # mode settings, observer -> start check, lease/switch/router, supervises
    ({"mode": "dry_run"}, False, StartCheck.SETTLE_OFFLINE, False, False),
    ({"mode": "dry_run"}, True, StartCheck.SETTLE_OFFLINE, False, False),
    ({"mode": "paper"}, False, StartCheck.RECONCILE_LEFTOVERS, False, True),
    ({"mode": "paper"}, True, StartCheck.RECONCILE_LEFTOVERS, False, False),
    (LIVE, False, StartCheck.RECONCILE_ALL, True, True),
    (LIVE, True, StartCheck.RECONCILE_ALL, False, False),
]


@pytest.mark.parametrize(("settings", "observer", "check", "live_parts", "supervises"), STARTS)
def test_what_a_service_starts_follows_from_its_access(
    settings, observer, check, live_parts, supervises
):
    config = a_config(**settings, routing="maker_first", dead_man_switch_seconds=60)
    access = exchange_access(config, observer=observer)
    assert access.start_check is check
    assert access.arms_dead_man is live_parts
    assert access.routes_maker_first is live_parts
    assert access.places_live_orders is live_parts
    assert access.supervises is supervises


def test_the_switch_and_the_router_only_when_configured():
    access = exchange_access(
        a_config(**LIVE, routing="contract", dead_man_switch_seconds=0), observer=False
    )
    assert access.places_live_orders
    assert not access.arms_dead_man
    assert not access.routes_maker_first
