"""The composition root: the one place a Kraken client and a service's parts are built
from configuration (shell).

`build_client` makes the client of a configuration: its URL, key, tier and timeouts, and its
nonces by the one rule of `kraken_bot.kraken.nonce.nonce_file` (the key's shared file, or
in memory for ``nonce_state_file: ":memory:"``). `build_parts` makes what a service runs
on from (config, transport, clock): the client (built here, and then owned and closed by
the service, or given), the market data, the clock in Kraken's time.
`ExecutionService.from_config` (`kraken_bot.execution.shell.oms`) takes those parts,
with the store and the ids, and constructs the service: everything is passed at
construction, nothing is wired afterwards. This module knows nothing of the service, so
the two import one way only.

Who builds through it: `ExecutionService.from_config` (strategy code, the command line,
the replay runner, `kraken_bot.testing`, the tests and the benchmarks), and the command
line's `build_client` (it builds the client first, to prove the exchange reachable before
a service exists).
"""

from __future__ import annotations

from dataclasses import dataclass

from requests.adapters import BaseAdapter

from kraken_bot.clock import Clock
from kraken_bot.config import AppConfig
from kraken_bot.execution.shell._exchange_time import ExchangeClock, exchange_clock
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.transport import Transport
from kraken_bot.market.api import MarketData, MarketDataAPI

__all__ = ["ServiceParts", "build_client", "build_parts", "exchange_clock"]


def build_client(
    config: AppConfig,
    *,
    clock: Clock | None = None,
    transport: BaseAdapter | None = None,
    http: Transport | None = None,
) -> KrakenRESTClient:
    """The Kraken client of ``config`` (the caller closes it).

    ``transport`` mounts a `requests` adapter for the base URL (the fake exchange in process);
    ``http`` replaces `requests` altogether (the replay's direct line to the fake).
    """
    return KrakenRESTClient.from_config(config.kraken, transport=transport, http=http, clock=clock)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceParts:
    """What a service runs on, built from configuration (see `build_parts`)."""

    client: KrakenRESTClient
    market_data: MarketData
    clock: ExchangeClock
    owns_client: bool
    """The client was built here: the service closes it."""


def build_parts(
    config: AppConfig,
    *,
    client: KrakenRESTClient | None = None,
    market_data: MarketData | None = None,
    transport: BaseAdapter | None = None,
    http: Transport | None = None,
    clock: Clock | None = None,
) -> ServiceParts:
    """The parts of ``config``'s service.

    Args:
        config: the application configuration.
        client: a client built by `build_client` that the caller keeps and closes; None
            builds one (with ``transport`` / ``http``) that the service owns and closes.
        market_data: pair metadata and prices; None reads them through the client.
        transport, http: how a client built here talks to Kraken (see `build_client`).
        clock: time and sleep (the fake's virtual clock in replays and tests).
    """
    the_clock = exchange_clock(clock)
    the_client = (
        client
        if client is not None
        else build_client(config, clock=the_clock, transport=transport, http=http)
    )
    return ServiceParts(
        client=the_client,
        market_data=(
            market_data if market_data is not None else MarketDataAPI(the_client, clock=the_clock)
        ),
        clock=the_clock,
        owns_client=client is None,
    )
