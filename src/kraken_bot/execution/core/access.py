"""Pure: what a service may do at Kraken, decided once from its mode (contract section 7).

Every "does this mode send orders, need credentials, touch private endpoints,
change the exchange" question the shell asks is answered here, by one value
built once from the configuration (`exchange_access`); the shell reads its
fields and never compares modes itself.

========  =================  ================  ===================
mode      reaches_exchange   changes_exchange  places_live_orders
========  =================  ================  ===================
dry_run   no                 no                no
paper     yes (validate)     no                no
live      yes                yes               yes, unless observer
========  =================  ================  ===================

>>> from kraken_bot.config import ExecutionConfig
>>> access = exchange_access(ExecutionConfig(mode="dry_run"), observer=False)
>>> access.reaches_exchange, access.changes_exchange, access.places_live_orders
(False, False, False)
>>> exchange_access(ExecutionConfig(mode="paper"), observer=False).reaches_exchange
True
"""

from __future__ import annotations

from dataclasses import dataclass

from kraken_bot._enums import ExecutionMode
from kraken_bot.config import ExecutionConfig

__all__ = ["ExchangeAccess", "access_problem", "exchange_access"]


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
    """

    mode: ExecutionMode
    reaches_exchange: bool
    changes_exchange: bool
    places_live_orders: bool
    runs_plans: bool


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
    return ExchangeAccess(
        mode=mode,
        reaches_exchange=mode is not ExecutionMode.DRY_RUN,
        changes_exchange=mode is ExecutionMode.LIVE,
        places_live_orders=config.sends_live_orders and not observer,
        runs_plans=not (observer and config.sends_live_orders),
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
