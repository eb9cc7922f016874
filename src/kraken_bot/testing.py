"""Shell: test strategy code against the fake Kraken exchange, in-process, on virtual time.

`FakeKraken` is the whole stack this project's own tests use, shipped for strategy
authors: the bundled fake exchange (`kraken_sim`) with one funded account, the real
`KrakenRESTClient` (signing, nonces, rate limits, parsing) talking to it without a
socket, the real `ExecutionService` and a real SQLite file, all on one virtual clock.
Nothing is mocked, nothing touches the network, and an hour passes in milliseconds::

    from kraken_bot.testing import FakeKraken

    def test_my_strategy_rebalances(tmp_path):
        with FakeKraken(tmp_path) as kraken:
            service = kraken.service()  # live mode (every opt-in) against the fake
            result = service.execute_plan(my_strategy.next_plan(kraken.clock.now()))
            kraken.advance(600)  # ten minutes: the market moves, the service supervises
            assert kraken.violations() == []  # nothing lost, duplicated or out of step

`violations()` reconciles, then runs the invariant checker `krakked sim` runs after
every replay (`kraken_bot.simulation.invariants`): every exchange order of ours
has exactly one local order, statuses, fills and prices agree, and every audit
trail follows the lifecycle's transition table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

from kraken_bot._closing import Closing
from kraken_bot._enums import StreamMode
from kraken_bot.config import AppConfig, ExecutionConfig, KrakenConfig, StorageConfig
from kraken_bot.execution.core.models import ExecutionMode
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.region import Tier
from kraken_bot.secret import Secret
from kraken_bot.simulation.invariants import Violation, check_store
from kraken_sim import Exchange, FaultPlan, SimTransport, VirtualClock, load_scenario
from kraken_sim.ws import WsFaults, WsServer

__all__ = ["DEFAULT_BALANCES", "FAKE_URL", "START", "FakeKraken", "account_config", "live"]

FAKE_URL: Final = "http://kraken-sim.invalid"
"""The base URL of an in-process fake: never resolved, the transport answers in-process."""
START: Final = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_BALANCES: Final[Mapping[str, Decimal]] = {
    "ZUSD": Decimal(1_000_000),
    "XXBT": Decimal(10),
    "XETH": Decimal(100),
    "SOL": Decimal(10_000),
}
TierName = Literal["starter", "intermediate", "pro", "unlimited"]


def live(**overrides: Any) -> ExecutionConfig:
    """Live mode with every opt-in, for the fake (the dead-man switch off unless asked)."""
    fields: dict[str, Any] = {
        "mode": ExecutionMode.LIVE,
        "allow_live_trading": True,
        "validate_only": False,
        "dead_man_switch_seconds": 0,
    }
    fields.update(overrides)
    return ExecutionConfig(**fields)


def account_config(
    exchange: Exchange,
    directory: Path,
    *,
    execution: ExecutionConfig | None = None,
    tier: TierName = "unlimited",
    balances: Mapping[str, Decimal] = DEFAULT_BALANCES,
    base_url: str = FAKE_URL,
) -> AppConfig:
    """A new funded account on ``exchange``, and the configuration that trades on it.

    Per-key state (the nonce file, leases) and the database stay inside ``directory``.
    """
    key, secret = exchange.create_account(dict(balances))
    return AppConfig(
        execution=execution or live(),
        kraken=KrakenConfig(
            base_url=base_url,
            api_key=Secret(key),
            api_secret=Secret(secret),
            tier=Tier(tier),
            nonce_state_file=str(directory / "nonce.json"),
            state_dir=str(directory / "state"),
        ),
        storage=StorageConfig(path=str(directory / "execution.db")),
    )


class FakeKraken(Closing):
    """The fake exchange, one funded account, and services trading on it (see the module)."""

    def __init__(
        self,
        directory: Path,
        *,
        scenario: Path | None = None,
        seed: int = 7,
        faults: str | FaultPlan = "none",
        tier: TierName = "unlimited",
        balances: Mapping[str, Decimal] = DEFAULT_BALANCES,
        execution: ExecutionConfig | None = None,
        start: datetime = START,
        websocket: bool | WsFaults = False,
    ) -> None:
        self.clock = VirtualClock(start=start)
        self.exchange = Exchange(
            load_scenario(scenario), seed=seed, clock=self.clock, faults=faults, tier=tier
        )
        self.config = account_config(
            self.exchange, directory, execution=execution, tier=tier, balances=balances
        )
        self.ws: WsServer | None = None
        """The fake's WebSocket v2 endpoint (``websocket=True``, or the faults to inject)."""
        if websocket is not False:
            self.ws = WsServer(
                self.exchange, faults=websocket if isinstance(websocket, WsFaults) else None
            )
            self.ws.start()
            self.config = replace(
                self.config,
                kraken=replace(self.config.kraken, stream=StreamMode.WEBSOCKET, ws_url=self.ws.url),
            )
        api_key = self.config.kraken.api_key
        assert api_key is not None
        self.key = api_key.reveal()
        self.services: list[ExecutionService] = []

    def service(self, *, initialize: bool = True, **execution: Any) -> ExecutionService:
        """A service on this account (``execution`` overrides config fields), initialized.

        Each service stands for a process: one live one per account at a time (close the
        previous one first, or pass ``mode="paper"``).
        """
        config = self.config
        if execution:
            config = replace(config, execution=replace(config.execution, **execution))
        service = ExecutionService.from_config(
            config,
            transport=SimTransport(self.exchange),
            clock=self.clock,
            new_id=SeededIds(len(self.services) + 1),
            background_scheduler=False,
        )
        self.services.append(service)
        if initialize:
            service.initialize()
        return service

    def advance(self, seconds: float, *, step: float = 1.0) -> None:
        """Let ``seconds`` of virtual time pass; open services supervise every ``step``.

        (A real service does its supervision in a background thread every second.)
        """
        remaining = seconds
        while remaining > 0:
            self.clock.sleep(min(step, remaining))
            remaining -= step
            self.exchange.settle()
            for service in self.services:
                if not service.closed:
                    service.supervise()

    def violations(self, service: ExecutionService | None = None) -> list[Violation]:
        """Reconcile (with ``service``, else the newest), then check the invariants."""
        checked = service or self.services[-1]
        checked.refresh_from_exchange()
        return check_store(checked.store, self.exchange, self.key)

    def close(self) -> None:
        """Close every service made here (and the WebSocket endpoint)."""
        for service in self.services:
            service.close()
        if self.ws is not None:
            self.ws.close()
