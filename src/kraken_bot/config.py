"""Pure: application configuration, its defaults, and a parser that reports every problem.

`parse_app_config` turns decoded YAML (any object) plus an environment mapping
into an `AppConfig`, or a `ConfigError` listing **every** problem with its key
path (``execution.max_retries: expected an integer from 0 to 20, got 'three'``).
Reading the file and the process environment is the shell's job
(`kraken_bot.config_file`).

Safety defaults (the contract, section 3, and the live-readiness checklist):

* ``execution.mode`` defaults to ``paper``.
* ``execution.validate_only`` defaults to true; it is false only when set to
  false explicitly.
* ``mode: live`` is accepted only together with ``allow_live_trading: true``
  and ``validate_only: false``; any other live combination is an error.
* API credentials come from ``KRAKEN_API_KEY`` / ``KRAKEN_API_SECRET`` or a
  credentials file, never from the YAML file unless
  ``kraken.allow_secrets_in_file: true``.

>>> cfg = parse_app_config({}, env={}).unwrap()
>>> cfg.execution.mode.value, cfg.execution.validate_only, cfg.execution.sends_live_orders
('paper', True, False)
>>> err = parse_app_config({"execution": {"mode": "live", "max_retries": -1}}, env={}).failure()
>>> [p.path for p in err.problems]
['execution.max_retries', 'execution.mode']
>>> print(err.problems[0])
execution.max_retries: expected an integer from 0 to 20, got -1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final, TypeVar

from pyrsistent import pmap
from pyrsistent.typing import PMap
from returns.result import Failure, Result, Success

from kraken_bot._show import show
from kraken_bot.execution.models import ExecutionMode, OrderType, TimeInForce
from kraken_bot.kraken.region import REGIONS, US_CA, RegionProfile, Tier
from kraken_bot.secret import Secret

DEFAULT_BASE_URL: Final = "https://api.kraken.com"
ENV_API_URL: Final = "KRAKEN_API_URL"
ENV_API_KEY: Final = "KRAKEN_API_KEY"
ENV_API_SECRET: Final = "KRAKEN_API_SECRET"  # noqa: S105 - the variable's name, not a secret


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionConfig:
    """The contract's ``execution`` section, plus this layer's extensions.

    Contract fields: mode, default_order_type, max_slippage_bps, time_in_force,
    post_only, validate_only, dead_man_switch_seconds, max_retries,
    retry_backoff_seconds, retry_backoff_factor, max_concurrent_orders,
    min_order_notional_usd; plus allow_live_trading, max_pair_notional_usd and
    max_total_notional_usd from the live-readiness checklist.

    Extensions:
        max_price_age_seconds: a price older than this is stale; the action is refused.
        order_deadline_seconds: Kraken AddOrder ``deadline`` (2 to 60 s ahead), so an
            unanswered send has a known end.
        lookup_margin_seconds: wait past the deadline before a missing order counts as absent.
        gtd_expire_seconds: lifetime of GTD orders (``expiretm=+N``).
        dead_man_refresh_seconds: refresh period of the dead-man switch; None derives
            min(timeout / 3, 120).
        market_order_max_notional_usd: orders at or below this notional go as market
            orders even when limit is the default (None: never).
        reconcile_after_execute: end execute_plan with a reconciliation pass.
        recent_executions_buffer: size of the in-memory ring buffer of results.
        unknown_after_seconds: how long after its last send Kraken may not yet know an
            order's txid; later, "unknown txid" makes the order ``unknown``.
        max_clock_offset_seconds: live mode is refused when the host clock is further
            than this from Kraken's (or the offset cannot be measured).
        clock_sync_seconds: how often the offset to Kraken's clock is measured again.
    """

    mode: ExecutionMode = ExecutionMode.PAPER
    default_order_type: OrderType = OrderType.LIMIT
    max_slippage_bps: Decimal = Decimal(50)
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    validate_only: bool = True
    dead_man_switch_seconds: int = 600
    max_retries: int = 3
    retry_backoff_seconds: float = 2.0
    retry_backoff_factor: float = 2.0
    max_concurrent_orders: int = 10
    min_order_notional_usd: Decimal = Decimal("20.0")
    allow_live_trading: bool = False
    max_pair_notional_usd: Decimal | None = None
    max_total_notional_usd: Decimal | None = None
    max_price_age_seconds: float = 60.0
    order_deadline_seconds: int = 15
    lookup_margin_seconds: float = 5.0
    gtd_expire_seconds: int = 3600
    dead_man_refresh_seconds: float | None = None
    market_order_max_notional_usd: Decimal | None = None
    reconcile_after_execute: bool = True
    recent_executions_buffer: int = 200
    unknown_after_seconds: float = 60.0
    max_clock_offset_seconds: float = 60.0
    clock_sync_seconds: float = 900.0

    @property
    def sends_live_orders(self) -> bool:
        """True only when all three live opt-ins are set: orders go with validate=0."""
        return (
            self.mode is ExecutionMode.LIVE and self.allow_live_trading and not self.validate_only
        )

    @property
    def dead_man_switch_enabled(self) -> bool:
        """The switch is armed only in live mode, and only with a positive timeout."""
        return self.sends_live_orders and self.dead_man_switch_seconds > 0

    @property
    def dead_man_refresh_period(self) -> float:
        """Seconds between refreshes (at most a third of the timeout)."""
        if self.dead_man_refresh_seconds is not None:
            return self.dead_man_refresh_seconds
        return min(self.dead_man_switch_seconds / 3, 120.0)

    def problems(self) -> tuple[ConfigProblem, ...]:
        """Cross-field problems (the live opt-in); empty when the combination is safe."""
        found: list[ConfigProblem] = []
        if self.mode is ExecutionMode.LIVE and not self.sends_live_orders:
            found.append(
                ConfigProblem(
                    "execution.mode",
                    "'live' places real orders only with execution.allow_live_trading: true"
                    " and execution.validate_only: false; set both, or use mode: paper",
                )
            )
        refresh = self.dead_man_refresh_period
        if self.dead_man_switch_seconds > 0 and not 0 < refresh <= self.dead_man_switch_seconds / 2:
            found.append(
                ConfigProblem(
                    "execution.dead_man_refresh_seconds",
                    f"must be above 0 and at most half of dead_man_switch_seconds"
                    f" ({self.dead_man_switch_seconds}), got {refresh}",
                )
            )
        if self.post_only and self.default_order_type is OrderType.MARKET:
            found.append(
                ConfigProblem(
                    "execution.post_only", "post_only needs limit orders (default_order_type)"
                )
            )
        return tuple(found)


@dataclass(frozen=True, slots=True, kw_only=True)
class KrakenConfig:
    """How to reach Kraken. Credentials are `Secret`s and never printed."""

    base_url: str = DEFAULT_BASE_URL
    api_key: Secret | None = None
    api_secret: Secret | None = None
    credentials_file: str | None = None
    tier: Tier = Tier.STARTER
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 15.0
    nonce_state_file: str | None = None
    state_dir: str | None = None

    @property
    def has_credentials(self) -> bool:
        """True when both key and secret are present."""
        return self.api_key is not None and self.api_secret is not None


DEFAULT_DATABASE: Final = "portfolio.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageConfig:
    """Where execution records are kept (a SQLite file).

    ``path`` None means the default: one database per mode, so a paper or dry-run
    result can never stand in for a live one (``portfolio.db`` for live,
    ``portfolio.paper.db`` and ``portfolio.dry_run.db`` beside it). An explicit path is
    used as given in every mode; a plan id executed in one mode is then refused in
    another.
    """

    path: str | None = None

    def path_for(self, mode: ExecutionMode) -> str:
        """The database file for ``mode``.

        >>> [StorageConfig().path_for(mode) for mode in ExecutionMode]
        ['portfolio.db', 'portfolio.paper.db', 'portfolio.dry_run.db']
        >>> StorageConfig(path="bot.db").path_for(ExecutionMode.PAPER)
        'bot.db'
        """
        if self.path is not None:
            return self.path
        if mode is ExecutionMode.LIVE:
            return DEFAULT_DATABASE
        return f"portfolio.{mode.value}.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyConfig:
    """Per-strategy settings; ``userref`` tags the strategy's orders on Kraken."""

    userref: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppConfig:
    """The whole application configuration."""

    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    kraken: KrakenConfig = field(default_factory=KrakenConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    region: RegionProfile = US_CA
    strategies: PMap[str, StrategyConfig] = field(default_factory=lambda: pmap({}))

    @property
    def database_path(self) -> str:
        """The SQLite file this configuration's mode uses (`StorageConfig.path_for`)."""
        return self.storage.path_for(self.execution.mode)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem, at a dotted key path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ConfigError:
    """Every problem found in one configuration source."""

    source: str
    problems: tuple[ConfigProblem, ...]

    def __str__(self) -> str:
        count = len(self.problems)
        lines = [f"{self.source}: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


_E = TypeVar("_E", bound=StrEnum)
_INT32_MAX: Final = 2**31 - 1


class _Section:
    """Reads one mapping, collecting problems instead of raising."""

    def __init__(self, raw: object, path: str, problems: list[ConfigProblem]) -> None:
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            where = path or "(top level)"
            problems.append(ConfigProblem(where, f"expected a mapping, got {show(raw)}"))
            raw = {}
        self.raw: Mapping[object, object] = raw

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> object:
        self.seen.add(key)
        return self.raw.get(key)

    def has(self, key: str) -> bool:
        self.seen.add(key)
        return key in self.raw and self.raw[key] is not None

    def problem(self, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(self._key(key), message))

    def enum(self, key: str, cls: type[_E], default: _E) -> _E:
        value = self.get(key)
        if value is None:
            return default
        # Never str() an arbitrary value: a tiny YAML file can make it huge.
        if isinstance(value, str) and value in {m.value for m in cls}:
            return cls(value)
        choices = " | ".join(m.value for m in cls)
        self.problem(key, f"expected one of {choices}, got {show(value)}")
        return default

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {show(value)}")
            return default
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(key, f"expected an integer from {low} to {high}, got {show(value)}")
            return default
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.get(key)
        if value is None:
            return default
        parsed = _decimal(value)
        if parsed is None or not Decimal(str(low)) <= parsed <= Decimal(str(high)):
            self.problem(key, f"expected a number from {low} to {high}, got {show(value)}")
            return default
        return float(parsed)

    def decimal(self, key: str, default: Decimal, low: Decimal, high: Decimal) -> Decimal:
        value = self.get(key)
        if value is None:
            return default
        parsed = _decimal(value)
        if parsed is None or not low <= parsed <= high:
            self.problem(key, f"expected a number from {low} to {high}, got {show(value)}")
            return default
        return parsed

    def optional_decimal(self, key: str, low: Decimal) -> Decimal | None:
        value = self.get(key)
        if value is None:
            return None
        parsed = _decimal(value)
        if parsed is None or parsed < low:
            self.problem(key, f"expected a number of at least {low} or null, got {show(value)}")
            return None
        return parsed

    def text(self, key: str, default: str | None) -> str | None:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"expected a non-empty string, got {show(value)}")
            return default
        return value

    def finish(self) -> None:
        for key in self.raw:
            if key not in self.seen:
                self.problems.append(
                    ConfigProblem(self._key(str(key)), "unknown key (check the spelling)")
                )


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def _parse_execution(section: _Section) -> ExecutionConfig:
    mode = section.enum("mode", ExecutionMode, ExecutionMode.PAPER)
    return ExecutionConfig(
        mode=mode,
        default_order_type=section.enum("default_order_type", OrderType, OrderType.LIMIT),
        max_slippage_bps=section.decimal(
            "max_slippage_bps", Decimal(50), Decimal(0), Decimal(5000)
        ),
        time_in_force=section.enum("time_in_force", TimeInForce, TimeInForce.GTC),
        post_only=section.boolean("post_only", default=False),
        # true unless explicitly false (the contract's safe default)
        validate_only=section.boolean("validate_only", default=True),
        dead_man_switch_seconds=section.integer("dead_man_switch_seconds", 600, 0, 86399),
        max_retries=section.integer("max_retries", 3, 0, 20),
        retry_backoff_seconds=section.number("retry_backoff_seconds", 2.0, 0.0, 600.0),
        retry_backoff_factor=section.number("retry_backoff_factor", 2.0, 1.0, 10.0),
        max_concurrent_orders=section.integer("max_concurrent_orders", 10, 1, 100),
        min_order_notional_usd=section.decimal(
            "min_order_notional_usd", Decimal("20.0"), Decimal(0), Decimal(10**9)
        ),
        allow_live_trading=section.boolean("allow_live_trading", default=False),
        max_pair_notional_usd=section.optional_decimal("max_pair_notional_usd", Decimal(0)),
        max_total_notional_usd=section.optional_decimal("max_total_notional_usd", Decimal(0)),
        max_price_age_seconds=section.number("max_price_age_seconds", 60.0, 1.0, 86400.0),
        order_deadline_seconds=section.integer("order_deadline_seconds", 15, 2, 60),
        lookup_margin_seconds=section.number("lookup_margin_seconds", 5.0, 0.0, 300.0),
        gtd_expire_seconds=section.integer("gtd_expire_seconds", 3600, 5, 30 * 86400),
        dead_man_refresh_seconds=(
            section.number("dead_man_refresh_seconds", 0.0, 1.0, 43200.0)
            if section.has("dead_man_refresh_seconds")
            else None
        ),
        market_order_max_notional_usd=section.optional_decimal(
            "market_order_max_notional_usd", Decimal(0)
        ),
        reconcile_after_execute=section.boolean("reconcile_after_execute", default=True),
        recent_executions_buffer=section.integer("recent_executions_buffer", 200, 1, 100_000),
        unknown_after_seconds=section.number("unknown_after_seconds", 60.0, 1.0, 86400.0),
        max_clock_offset_seconds=section.number("max_clock_offset_seconds", 60.0, 0.5, 3600.0),
        clock_sync_seconds=section.number("clock_sync_seconds", 900.0, 10.0, 86400.0),
    )


def _parse_kraken(section: _Section, env: Mapping[str, str]) -> KrakenConfig:
    allow_in_file = section.boolean("allow_secrets_in_file", default=False)
    file_key = section.text("api_key", None)
    file_secret = section.text("api_secret", None)
    if (file_key or file_secret) and not allow_in_file:
        key = "api_secret" if file_secret else "api_key"
        section.problem(
            key,
            f"credentials are read from {ENV_API_KEY}/{ENV_API_SECRET} or"
            " kraken.credentials_file, not from the config file"
            " (set kraken.allow_secrets_in_file: true to override)",
        )
    env_key = env.get(ENV_API_KEY) or None
    env_secret = env.get(ENV_API_SECRET) or None
    api_key = env_key or (file_key if allow_in_file else None)
    api_secret = env_secret or (file_secret if allow_in_file else None)
    base_url = env.get(ENV_API_URL) or section.text("base_url", DEFAULT_BASE_URL)
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        section.problem("base_url", f"expected an http(s) URL, got {show(base_url)}")
    return KrakenConfig(
        base_url=(base_url or DEFAULT_BASE_URL).rstrip("/"),
        api_key=Secret(api_key) if api_key else None,
        api_secret=Secret(api_secret) if api_secret else None,
        credentials_file=section.text("credentials_file", None),
        tier=section.enum("tier", Tier, Tier.STARTER),
        connect_timeout_seconds=section.number("connect_timeout_seconds", 5.0, 0.1, 120.0),
        read_timeout_seconds=section.number("read_timeout_seconds", 15.0, 0.1, 600.0),
        nonce_state_file=section.text("nonce_state_file", None),
        state_dir=section.text("state_dir", None),
    )


def _parse_region(raw: object, problems: list[ConfigProblem]) -> RegionProfile:
    if raw is None:
        return US_CA
    code = raw if isinstance(raw, str) else None
    if isinstance(raw, Mapping):
        section = _Section(raw, "region", problems)
        code = section.text("code", US_CA.code)
        section.finish()
    if code not in REGIONS:
        problems.append(
            ConfigProblem("region", f"only {', '.join(REGIONS)} is supported, got {show(raw)}")
        )
        return US_CA
    return REGIONS[code]


def _parse_strategies(raw: object, problems: list[ConfigProblem]) -> PMap[str, StrategyConfig]:
    top = _Section(raw, "strategies", problems)
    parsed: dict[str, StrategyConfig] = {}
    for name in list(top.raw):
        top.seen.add(str(name))
        section = _Section(top.raw[name], f"strategies.{name}", problems)
        parsed[str(name)] = StrategyConfig(
            userref=section.integer("userref", 0, 1, _INT32_MAX) if section.has("userref") else None
        )
        section.finish()
    return pmap(parsed)


def parse_app_config(
    raw: object, *, env: Mapping[str, str], source: str = "config"
) -> Result[AppConfig, ConfigError]:
    """Parse decoded YAML (a mapping, or None for an empty file) into an `AppConfig`.

    Args:
        raw: the decoded document.
        env: environment variables (``KRAKEN_API_URL``, ``KRAKEN_API_KEY``, ``KRAKEN_API_SECRET``).
        source: named in the error (usually the file path).
    """
    problems: list[ConfigProblem] = []
    top = _Section(raw, "", problems)
    execution_section = _Section(top.get("execution"), "execution", problems)
    execution = _parse_execution(execution_section)
    execution_section.finish()
    kraken_section = _Section(top.get("kraken"), "kraken", problems)
    kraken = _parse_kraken(kraken_section, env)
    kraken_section.finish()
    storage_section = _Section(top.get("storage"), "storage", problems)
    storage = StorageConfig(path=storage_section.text("path", None))
    storage_section.finish()
    region = _parse_region(top.get("region"), problems)
    strategies = _parse_strategies(top.get("strategies"), problems)
    top.finish()
    problems.extend(execution.problems())
    if problems:
        ordered = tuple(sorted(problems, key=lambda p: p.path))
        return Failure(ConfigError(source, ordered))
    return Success(
        AppConfig(
            execution=execution,
            kraken=kraken,
            storage=storage,
            region=region,
            strategies=strategies,
        )
    )
