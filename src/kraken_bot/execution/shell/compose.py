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
from typing import TypedDict, Unpack

from requests.adapters import BaseAdapter

from kraken_bot.clock import Clock
from kraken_bot.config import AppConfig
from kraken_bot.execution.shell._exchange_time import ExchangeClock, exchange_clock
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.transport import Transport
from kraken_bot.market.api import MarketData, MarketDataAPI

__all__ = ["ServiceParts", "Wiring", "build_client", "build_parts", "exchange_clock"]


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


class Wiring(TypedDict, total=False):
    """How a service reaches Kraken and tells time (every key optional): the keyword
    arguments of `build_parts` and `ExecutionService.from_config`.

    Keys:
        client: a client built by `build_client` that the caller keeps and closes; absent,
            one is built (with ``transport`` / ``http``) that the service owns and closes.
        market_data: pair metadata and prices; absent, read through the client.
        transport: a `requests` adapter for Kraken's URL (the fake exchange in process).
        http: replaces `requests` altogether (the replay's direct line to the fake).
        clock: time and sleep (the fake's virtual clock in replays and tests).
    """

    client: KrakenRESTClient | None
    market_data: MarketData | None
    transport: BaseAdapter | None
    http: Transport | None
    clock: Clock | None


def build_parts(config: AppConfig, **wiring: Unpack[Wiring]) -> ServiceParts:
    """The parts of ``config``'s service, wired as ``wiring`` says (see `Wiring`).

    Raises:
        TypeError: a key that is not one of `Wiring`'s (a misspelt keyword argument).
    """
    unknown = sorted(set(wiring) - set(Wiring.__annotations__))
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {', '.join(unknown)}; expected any of "
            + ", ".join(Wiring.__annotations__)
        )
    the_clock = exchange_clock(wiring.get("clock"))
    client = wiring.get("client")
    the_client = (
        client
        if client is not None
        else build_client(
            config, clock=the_clock, transport=wiring.get("transport"), http=wiring.get("http")
        )
    )
    market_data = wiring.get("market_data")
    return ServiceParts(
        client=the_client,
        market_data=(
            market_data if market_data is not None else MarketDataAPI(the_client, clock=the_clock)
        ),
        clock=the_clock,
        owns_client=client is None,
    )
