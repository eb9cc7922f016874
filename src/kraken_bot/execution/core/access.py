"""Pure: what a service may do at Kraken, decided once from its mode (contract section 7).

Every "does this mode send orders, need credentials, touch private endpoints,
change the exchange" question the shell asks is answered here, by one value
built once from the configuration (`exchange_access`); the shell reads its
fields and never compares modes itself.

========  =================  ================  ===================  =======================
mode      reaches_exchange   changes_exchange  places_live_orders   at start
========  =================  ================  ===================  =======================
dry_run   no                 no                no                   settle leftovers offline
paper     yes (validate)     no                no                   reconcile its leftovers
live      yes                yes               yes, unless observer reconcile everything
========  =================  ================  ===================  =======================

What a service starts follows from the same value: the account's lease, the
dead-man switch (when configured) and the maker-first router (when chosen) only
with ``places_live_orders``; supervision (scheduled reconciliation, the
unfilled-order policy) whenever Kraken is reached, except by an observer, whose
bot beside it supervises.

>>> from kraken_bot.config import ExecutionConfig
>>> access = exchange_access(ExecutionConfig(mode="dry_run"), observer=False)
>>> access.reaches_exchange, access.changes_exchange, access.places_live_orders
(False, False, False)
>>> exchange_access(ExecutionConfig(mode="paper"), observer=False).reaches_exchange
True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kraken_bot._enums import ExecutionMode, Routing
from kraken_bot.config import ExecutionConfig

__all__ = ["ExchangeAccess", "StartCheck", "access_problem", "exchange_access"]


class StartCheck(StrEnum):
    """What a service reads before its first plan (see the module's table)."""

    RECONCILE_ALL = "reconcile_all"
    """Live: a full reconciliation, so exchange orders the database lost are adopted
    (and netted) before anything is planned."""
    RECONCILE_LEFTOVERS = "reconcile_leftovers"
    """Paper: its own orders left in flight, if any (nothing on Kraken is ours)."""
    SETTLE_OFFLINE = "settle_offline"
    """Dry run: Kraken cannot be asked; orders never sent are settled locally."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeAccess:
    """What a service in one mode may do at Kraken.

    Attributes:
        mode: the execution mode it was decided from (for messages).
        reaches_exchange: private endpoints are used: orders go out (paper: with
            ``validate=true``), Kraken's clock is measured, orders are reconciled; a
            Kraken client (and credentials) is needed. False in dry run, where no code
            path may reach Kraken's private endpoints: orders end ``simulated``.
        changes_exchange: cancels, ``cancel_all`` and amends reach Kraken, exchange orders
            of ours unknown locally are adopted, and no plan runs before a full
            reconciliation. Paper and dry run change local records only.
        places_live_orders: orders are really placed (``validate`` omitted): the
            account's lease, the dead-man switch, the maker-first router. Never for an
            observer (a one-shot command beside a running bot).
        runs_plans: plans may be executed; an observer configured for live trading
            refuses them (it places no live orders), in paper and dry run it runs them.
        start_check: what is read before the first plan.
        arms_dead_man: the dead-man switch is armed (live orders, a positive timeout).
        routes_maker_first: the maker-first router works the orders (live orders only).
        supervises: scheduled reconciliation and the unfilled-order policy run.
    """

    mode: ExecutionMode
    reaches_exchange: bool
    changes_exchange: bool
    places_live_orders: bool
    runs_plans: bool
    start_check: StartCheck
    arms_dead_man: bool
    routes_maker_first: bool
    supervises: bool


def exchange_access(config: ExecutionConfig, *, observer: bool) -> ExchangeAccess:
    """Decide, once, what a service with ``config`` may do at Kraken.

    >>> from kraken_bot.config import ExecutionConfig
    >>> live = ExecutionConfig(mode="live", allow_live_trading=True, validate_only=False)
    >>> exchange_access(live, observer=True).places_live_orders
    False
    >>> exchange_access(live, observer=True).changes_exchange
    True
    """
    mode = config.mode
    reaches = mode is not ExecutionMode.DRY_RUN
    changes = mode is ExecutionMode.LIVE
    places_live = config.sends_live_orders and not observer
    if changes:
        start = StartCheck.RECONCILE_ALL
    elif reaches:
        start = StartCheck.RECONCILE_LEFTOVERS
    else:
        start = StartCheck.SETTLE_OFFLINE
    return ExchangeAccess(
        mode=mode,
        reaches_exchange=reaches,
        changes_exchange=changes,
        places_live_orders=places_live,
        runs_plans=not (observer and config.sends_live_orders),
        start_check=start,
        arms_dead_man=places_live and config.dead_man_switch_enabled,
        routes_maker_first=places_live and config.routing is Routing.MAKER_FIRST,
        supervises=reaches and not observer,
    )


def access_problem(
    access: ExchangeAccess, *, has_client: bool, has_credentials: bool, owns_client: bool
) -> str | None:
    """Why the service cannot start with the client it was given (None: it can).

    A mode that reaches Kraken needs a client; a client the service built itself from
    configuration (``owns_client``) needs credentials too. A client handed in (a test
    double, the fake exchange) is trusted to have what it needs. Dry run needs neither.

    >>> from kraken_bot.config import ExecutionConfig
    >>> paper = exchange_access(ExecutionConfig(mode="paper"), observer=False)
    >>> access_problem(paper, has_client=False, has_credentials=False, owns_client=False)
    'paper mode needs a Kraken client'
    """
    if not access.reaches_exchange:
        return None
    if not has_client:
        return f"{access.mode.value} mode needs a Kraken client"
    if not has_credentials and owns_client:
        return (
            f"{access.mode.value} mode needs an API key and secret: set KRAKEN_API_KEY and"
            " KRAKEN_API_SECRET (or kraken.credentials_file); dry_run needs none"
        )
    return None
