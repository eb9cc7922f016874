"""The composition root: the one place a Kraken client and an `ExecutionService` are built
from configuration (shell).

`build_client` makes the client of a configuration: its URL, key, tier and timeouts, and its
nonces by the one rule of `kraken_bot.kraken.nonce.nonce_file` (the key's shared file, or
in memory for ``nonce_state_file: ":memory:"``). `build_service` makes the service from
(config, transport, clock, ids): the client (built here, and then owned and closed by the
service, or given), the market data, the store, the clock in Kraken's time. Everything is
passed at construction: nothing is wired afterwards.

Who calls it: `ExecutionService.from_config` (strategy code, the tests, the benchmarks),
the command line (which builds the client first, to prove the exchange reachable before a
service exists), the replay runner and `kraken_bot.testing`.
"""

from __future__ import annotations

from requests.adapters import BaseAdapter

from kraken_bot.clock import Clock
from kraken_bot.config import AppConfig
from kraken_bot.execution.shell._exchange_time import exchange_clock
from kraken_bot.execution.shell.ids import IdFactory, new_local_id
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.execution.shell.store import ExecutionStore
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.transport import Transport
from kraken_bot.market.api import MarketData, MarketDataAPI

__all__ = ["build_client", "build_service", "exchange_clock"]


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


def build_service(
    config: AppConfig,
    *,
    client: KrakenRESTClient | None = None,
    market_data: MarketData | None = None,
    transport: BaseAdapter | None = None,
    http: Transport | None = None,
    clock: Clock | None = None,
    store: ExecutionStore | None = None,
    new_id: IdFactory = new_local_id,
    background_scheduler: bool = True,
    observer: bool = False,
) -> ExecutionService:
    """The service of ``config``, with every part it needs.

    Args:
        config: the application configuration.
        client: a client built by `build_client` that the caller keeps and closes; None
            builds one (with ``transport`` / ``http``) that the service owns and closes.
        market_data: pair metadata and prices; None reads them through the client.
        transport, http: how a client built here talks to Kraken (see `build_client`).
        clock: time and sleep (the fake's virtual clock in replays and tests).
        store: execution records; None opens SQLite at the config's database path.
        new_id: local id factory (seeded in replays for reproducible runs).
        background_scheduler: supervise from a thread; False only during service calls.
        observer: read, cancel and reconcile only (see `ExecutionService`).
    """
    the_clock = exchange_clock(clock)
    owned = client is None
    the_client = (
        client
        if client is not None
        else build_client(config, clock=the_clock, transport=transport, http=http)
    )
    return ExecutionService(
        config=config,
        market_data=(
            market_data if market_data is not None else MarketDataAPI(the_client, clock=the_clock)
        ),
        client=the_client,
        store=store,
        clock=the_clock,
        new_id=new_id,
        background_scheduler=background_scheduler,
        observer=observer,
        owns_client=owned,
    )
