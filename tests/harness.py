"""A whole stack for end-to-end tests: fake Kraken + real client + ExecutionService + SQLite file.

Everything runs in-process on the fake exchange's virtual clock: the real
client signs, encodes and parses; the real store writes a real SQLite file.
The base URL is a ``.invalid`` host, so nothing can reach the real Kraken even
if the in-process transport were not mounted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

import requests
import yaml

from kraken_bot.config import AppConfig, ExecutionConfig
from kraken_bot.execution.core.models import ExecutionMode
from kraken_bot.execution.exceptions import ClockOffsetError
from kraken_bot.execution.shell.ids import SeededIds
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.strategy.plan import ActionType, ExecutionPlan, RiskAdjustedAction
from kraken_bot.testing import account_config
from kraken_sim import (
    Exchange,
    FaultPlan,
    Quirks,
    Scenario,
    SimTransport,
    VirtualClock,
    load_scenario,
)

SIM_URL = "http://kraken-sim.invalid"
START_ATTEMPTS = 40
"""Live starts tried under the injected faults before the outage is taken to be over. The
campaign's fault plans can stack three rules refusing every call at 60 % each (Time
included: a call then gets through 6 % of the time, and a measurement needs up to three
readings), so forty starts can all fail; a real outage ends, and the next start succeeds."""


class RecordingTransport(SimTransport):
    """The in-process transport, keeping every request's method, path and decoded body."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(exchange)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lose: dict[str, int] = {}
        """Kraken method -> how many of its answers to lose after the exchange acted."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        body = request.body or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        path = str(request.path_url).split("?")[0]
        method = path.rsplit("/", 1)[-1]
        self.requests.append((method, dict(parse_qsl(text))))
        response = super().send(request, *args, **kwargs)
        if self.lose.get(method, 0) > 0:  # the request took effect; its answer never arrives
            self.lose[method] -= 1
            raise requests.exceptions.ReadTimeout("answer lost on the way back (test)")
        return response

    def bodies(self, method: str) -> list[dict[str, str]]:
        """Decoded bodies of the calls to one Kraken method."""
        return [body for name, body in self.requests if name == method]


START = datetime(2026, 1, 1, tzinfo=UTC)
BALANCES: Mapping[str, Decimal] = {
    "ZUSD": Decimal(1_000_000),
    "XXBT": Decimal(10),
    "XETH": Decimal(100),
    "SOL": Decimal(2000),
}


def live_config(**overrides: Any) -> ExecutionConfig:
    """Live mode against the fake exchange, with every opt-in set."""
    base: dict[str, Any] = {
        "mode": ExecutionMode.LIVE,
        "allow_live_trading": True,
        "validate_only": False,
        "dead_man_switch_seconds": 0,
        "retry_backoff_seconds": 1.0,
    }
    base.update(overrides)
    return ExecutionConfig(**base)


class OffsetClock:
    """The host's clock: the exchange's virtual clock, the stack's ``host_offset`` away (read
    live, so a rule can step it like NTP would)."""

    def __init__(self, base: VirtualClock, stack: SimStack) -> None:
        self.base = base
        self.stack = stack

    def now(self) -> datetime:
        return self.base.now() + timedelta(seconds=self.stack.host_offset)

    def monotonic(self) -> float:
        return self.base.monotonic()

    def sleep(self, seconds: float) -> None:
        self.base.sleep(seconds)


@dataclass
class SimStack:
    """The pieces of one end-to-end setup."""

    clock: VirtualClock
    exchange: Exchange
    key: str
    secret: str
    config: AppConfig
    db_path: Path
    services: list[ExecutionService] = field(default_factory=list)
    transport: RecordingTransport | None = None
    host_offset: float = 0.0
    """Seconds the services' (host) clock is from the exchange's; the exchange keeps ``clock``."""
    clock_may_step: bool = False
    """Give services a host clock that follows later changes of ``host_offset`` even when it
    starts at zero (a test that steps the clock)."""

    def transport_for_next(self) -> RecordingTransport:
        """The transport the next service talks through."""
        return RecordingTransport(self.exchange)

    def host_clock(self) -> Any:
        """The clock a service reads: the exchange's, or ``host_offset`` seconds away."""
        if not self.host_offset and not self.clock_may_step:
            return self.clock
        return OffsetClock(self.clock, self)

    def service(
        self,
        *,
        initialize: bool = True,
        keep_previous: bool = False,
        observer: bool = False,
        **execution: Any,
    ) -> ExecutionService:
        """A fresh service on the same exchange, database and clock (initialized by default).

        It stands for a new process: the services made before are abandoned as a killed
        process would be (no exchange call), unless ``keep_previous`` (then a second live
        one on the key is refused: one process per account trades live; ``observer``
        services, like ``krakked cancel`` and ``reconcile``, run beside it).

        A live start needs Kraken's ``Time`` to measure the clock offset: when injected
        faults refuse it (`ClockOffsetError`), the start is tried again a little later,
        as an operator or a supervisor would. After `START_ATTEMPTS` the outage ends: the
        exchange's faults are cleared (tests that must see the refusal start with
        ``initialize=False``), and one last start is made.
        """
        if not keep_previous:
            for earlier in self.services:
                earlier.abandon()
        config = self.config
        if execution:
            config = replace(config, execution=replace(config.execution, **execution))
        for attempt in range(START_ATTEMPTS + 1):
            if attempt == START_ATTEMPTS:
                self.exchange.set_faults("none")  # the outage is over
            self.transport = self.transport_for_next()
            service = ExecutionService.from_config(
                config,
                transport=self.transport,
                clock=self.host_clock(),
                new_id=SeededIds(len(self.services) + 1),
                background_scheduler=False,
                observer=observer,
            )
            self.services.append(service)
            if not initialize:
                return service
            try:
                service.initialize()
            except ClockOffsetError:
                if attempt == START_ATTEMPTS:
                    raise
                self.clock.sleep(30)
                continue
            return service
        raise AssertionError("unreachable: the loop returns or raises")

    def sent(self, method: str) -> list[dict[str, str]]:
        """Bodies the latest service sent to one Kraken method."""
        assert self.transport is not None
        return self.transport.bodies(method)

    def close(self) -> None:
        """Close every service made."""
        for service in self.services:
            service.close()

    def exchange_orders(self) -> list[Any]:
        """The exchange's true order records for our account."""
        return list(self.exchange.orders(self.key))

    def private_calls(self, method: str | None = None) -> list[Any]:
        """Journal entries of private calls (optionally of one method) made by our account."""
        return [
            e
            for e in self.exchange.journal
            if e.api_key == self.key and (method is None or e.endpoint == method)
        ]


DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "default.yaml"

THIN_LIQUIDITY: Mapping[str, str] = {
    "XXBTZUSD": "0.25", "XETHZUSD": "5", "SOLUSD": "100", "XETHXXBT": "5",
}  # fmt: skip
"""Base units a minute of each pair's market in the thin world: the bundled scenario's volumes
before they were raised to Kraken's order of magnitude. The tests were sized for them (an
order of 0.1 BTC at the mid waits a while), and they stay put when the bundled scenario moves."""


def thin_world() -> Scenario:
    """The bundled default scenario with the thin world's market volumes."""
    base = load_scenario(None)
    pairs = tuple(
        replace(spec, liquidity_per_min=Decimal(THIN_LIQUIDITY[spec.pair])) for spec in base.pairs
    )
    return replace(base, pairs=pairs)


def thin_world_file(directory: Path) -> Path:
    """`thin_world` as a scenario file in ``directory`` (for `krakked sim` and replays)."""
    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    for name, pair in raw["pairs"].items():
        pair["liquidity_per_min"] = THIN_LIQUIDITY[name]
    path = directory / "test-world.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def sim_stack(
    tmp_path: Path,
    *,
    execution: ExecutionConfig | None = None,
    faults: str | FaultPlan = "none",
    tier: Literal["starter", "intermediate", "pro", "unlimited"] = "unlimited",
    seed: int = 7,
    balances: Mapping[str, Decimal] = BALANCES,
    strategies: Any = None,
    quirks: Quirks | None = None,
) -> SimStack:
    """Build a fake exchange with one funded account and a config pointing at it."""
    clock = VirtualClock(start=START)
    exchange = Exchange(
        thin_world(), seed=seed, clock=clock, faults=faults, tier=tier, quirks=quirks
    )
    config = account_config(
        exchange, tmp_path, execution=execution or live_config(), tier=tier, balances=balances
    )
    assert config.kraken.api_key is not None
    assert config.kraken.api_secret is not None
    key, secret = config.kraken.api_key.reveal(), config.kraken.api_secret.reveal()
    db_path = Path(config.storage.path or "")
    if strategies is not None:
        config = replace(config, strategies=strategies)
    return SimStack(
        clock=clock, exchange=exchange, key=key, secret=secret, config=config, db_path=db_path
    )


def action(
    pair: str = "XBTUSD",
    current: str = "0",
    target: str = "0.1",
    *,
    strategy: str | None = "trend",
    action_type: ActionType = ActionType.INCREASE,
    blocked: bool = False,
    userref: int | None = None,
) -> RiskAdjustedAction:
    """One action of a plan."""
    return RiskAdjustedAction(
        pair=pair,
        strategy_id=strategy,
        action_type=action_type,
        current_base_size=Decimal(current),
        target_base_size=Decimal(target),
        blocked=blocked,
        block_reasons=("risk",) if blocked else (),
        userref=userref,
    )


def plan(plan_id: str, *actions: RiskAdjustedAction) -> ExecutionPlan:
    """A plan of the given actions."""
    return ExecutionPlan(plan_id=plan_id, created_at=START, actions=tuple(actions))
