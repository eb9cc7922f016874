"""Pure: application configuration, its defaults, and a parser that reports every problem.

`parse_app_config` turns decoded YAML (any object) plus an environment mapping
into an `AppConfig`, or a `ConfigError` listing **every** problem with its key
path (``execution.max_retries: expected an integer from 0 to 20, got 'three'``).
Reading the file and the process environment is the shell's job
(`kraken_bot.config_file`).

The ``execution`` section is read by `ExecutionConfig`'s own constructor, so a
config built in code (``ExecutionConfig(mode="dry_run")``) and one read from a
file pass the same rules (`kraken_bot._config_rules`), from one place; the
constructor raises what the parser reports as values.

Safety defaults (the contract, section 3, and the live-readiness checklist):

* ``execution.mode`` defaults to ``paper``.
* ``execution.validate_only`` defaults to true; it is false only when set to
  false explicitly, and false is accepted only in live mode.
* ``mode: live`` is accepted only together with ``allow_live_trading: true``
  and ``validate_only: false``; any other live combination is an error
  (`LiveTradingRefusedError` when raised).
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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal, TypeAlias, TypeVar

from pyrsistent import pmap
from pyrsistent.typing import PMap
from returns.result import Failure, Result, Success

from kraken_bot import _config_rules as rules
from kraken_bot._enums import (
    ExecutionMode,
    OrderTransport,
    OrderType,
    Routing,
    StreamMode,
    TimeInForce,
    UnfilledAction,
)
from kraken_bot._errors import ConfigValidationError, LiveTradingRefusedError
from kraken_bot._problems import ConfigProblem, listing
from kraken_bot._reading import Reader, expected, passed
from kraken_bot._show import show
from kraken_bot.region import REGIONS, US_CA, RegionProfile, Tier
from kraken_bot.secret import Secret

DEFAULT_BASE_URL: Final = "https://api.kraken.com"
ENV_API_URL: Final = "KRAKEN_API_URL"
ENV_WS_URL: Final = "KRAKEN_WS_URL"
DEFAULT_WS_URL: Final = "wss://ws-auth.kraken.com/v2"
ENV_API_KEY: Final = "KRAKEN_API_KEY"
ENV_API_SECRET: Final = "KRAKEN_API_SECRET"  # noqa: S105 - the variable's name, not a secret


ModeName: TypeAlias = Literal["live", "paper", "dry_run"]
"""`ExecutionMode` as the contract spells it; ``ExecutionConfig`` accepts either."""
OrderTypeName: TypeAlias = Literal["market", "limit"]
"""`OrderType` as the contract spells it."""
TimeInForceName: TypeAlias = Literal["GTC", "IOC", "GTD"]
"""`TimeInForce` as the contract spells it."""
Number: TypeAlias = Decimal | float | int | str
"""A number as code or YAML may give it; money becomes an exact `Decimal` (``str(20.0)``)."""

_T = TypeVar("_T")

_EXECUTION_RULES: Final[Mapping[str, rules.Rule[object]]] = {
    "mode": rules.choice(ExecutionMode),
    "default_order_type": rules.choice(OrderType),
    "max_slippage_bps": rules.money(Decimal(0), Decimal(5000)),
    "time_in_force": rules.choice(TimeInForce),
    "post_only": rules.flag,
    "validate_only": rules.flag,
    "dead_man_switch_seconds": rules.integer(0, 86399),
    "max_retries": rules.integer(0, 20),
    "retry_backoff_seconds": rules.number(0.0, 600.0),
    "retry_backoff_factor": rules.number(1.0, 10.0),
    "max_concurrent_orders": rules.integer(1, 100),
    "min_order_notional_usd": rules.money(Decimal(0), Decimal(10**9)),
    "allow_live_trading": rules.flag,
    "max_pair_notional_usd": rules.optional_money(Decimal(0)),
    "max_total_notional_usd": rules.optional_money(Decimal(0)),
    "max_price_age_seconds": rules.number(1.0, 86400.0),
    "order_deadline_seconds": rules.integer(2, 60),
    "lookup_margin_seconds": rules.number(0.0, 300.0),
    "gtd_expire_seconds": rules.integer(5, 30 * 86400),
    "dead_man_refresh_seconds": rules.optional(rules.number(1.0, 43200.0)),
    "market_order_max_notional_usd": rules.optional_money(Decimal(0)),
    "reconcile_after_execute": rules.flag,
    "recent_executions_buffer": rules.integer(1, 100_000),
    "unknown_after_seconds": rules.number(1.0, 86400.0),
    "max_clock_offset_seconds": rules.number(0.5, 3600.0),
    "clock_sync_seconds": rules.number(10.0, 86400.0),
    "reconcile_every_seconds": rules.optional(rules.number(5.0, 86400.0)),
    "unfilled_timeout_seconds": rules.optional(rules.number(1.0, 30 * 86400.0)),
    "unfilled_action": rules.choice(UnfilledAction),
    "routing": rules.choice(Routing),
    "chase_ticks": rules.integer(1, 10_000),
    "chase_seconds": rules.number(1.0, 3600.0),
    "urgency_seconds": rules.number(5.0, 86400.0),
}
"""Every field of `ExecutionConfig` and the rule its value must pass (code and YAML alike)."""


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class ExecutionConfig:
    """The contract's ``execution`` section, plus this layer's extensions.

    A value that cannot be wrong: the constructor accepts the contract's spellings
    (``mode="dry_run"``, ``time_in_force="GTC"``, ``min_order_notional_usd=20.0``) as
    well as the enums and `Decimal`, converts them (enums to members, money to exact
    `Decimal` through ``str``), and checks every field and every combination with the
    same rules as the ``execution`` section of a config file. It raises one
    `ConfigValidationError` listing every problem, or `LiveTradingRefusedError` (a
    subclass) when live mode lacks an opt-in. ``dataclasses.replace`` checks again.

    >>> ExecutionConfig(mode="dry_run").mode is ExecutionMode.DRY_RUN
    True
    >>> ExecutionConfig(min_order_notional_usd=20.5).min_order_notional_usd
    Decimal('20.5')
    >>> ExecutionConfig(mode="dryrun", max_retries=-1)
    Traceback (most recent call last):
    ...
    kraken_bot.execution.exceptions.ConfigValidationError: ExecutionConfig: 2 problems
      execution.max_retries: expected an integer from 0 to 20, got -1
      execution.mode: expected one of live | paper | dry_run, got 'dryrun'

    Contract fields: mode, default_order_type, max_slippage_bps, time_in_force,
    post_only, validate_only, dead_man_switch_seconds, max_retries,
    retry_backoff_seconds, retry_backoff_factor, max_concurrent_orders,
    min_order_notional_usd; plus allow_live_trading, max_pair_notional_usd and
    max_total_notional_usd from the live-readiness checklist.

    Safety rules across fields: ``mode="live"`` needs ``allow_live_trading=True`` and
    ``validate_only=False``; ``validate_only=False`` is accepted only then (paper
    orders are always validate-only, dry_run sends nothing); ``post_only`` needs limit
    orders; the dead-man refresh period must be at most half its timeout.

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
        reconcile_every_seconds: while the service is open, reconcile on this schedule
            (within the REST budget); None: only when asked.
        unfilled_timeout_seconds: an order still open this long after it was first sent
            is handled as ``unfilled_action`` says (None: left alone).
        unfilled_action: ``cancel`` it, or ``reprice`` it (cancel, then send what
            remains again at a fresh price), like freqtrade's ``unfilledtimeout``.
        routing: ``contract`` (limit at the mid plus or minus ``max_slippage_bps``: it
            crosses and pays the taker fee) or ``maker_first`` (post-only at the touch,
            moved with it; see `kraken_bot.execution.core.routing`).
        chase_ticks: ``maker_first``: amend to the new touch once it moved this many ticks.
        chase_seconds: ``maker_first``: ... or once this long passed since the last move.
        urgency_seconds: ``maker_first``: what is left unfilled this long after the first
            send crosses as an IOC limit at the cap (the arrival mid plus or minus
            ``max_slippage_bps``).
    """

    mode: ExecutionMode
    default_order_type: OrderType
    max_slippage_bps: Decimal
    time_in_force: TimeInForce
    post_only: bool
    validate_only: bool
    dead_man_switch_seconds: int
    max_retries: int
    retry_backoff_seconds: float
    retry_backoff_factor: float
    max_concurrent_orders: int
    min_order_notional_usd: Decimal
    allow_live_trading: bool
    max_pair_notional_usd: Decimal | None
    max_total_notional_usd: Decimal | None
    max_price_age_seconds: float
    order_deadline_seconds: int
    lookup_margin_seconds: float
    gtd_expire_seconds: int
    dead_man_refresh_seconds: float | None
    market_order_max_notional_usd: Decimal | None
    reconcile_after_execute: bool
    recent_executions_buffer: int
    unknown_after_seconds: float
    max_clock_offset_seconds: float
    clock_sync_seconds: float
    reconcile_every_seconds: float | None
    unfilled_timeout_seconds: float | None
    unfilled_action: UnfilledAction
    routing: Routing
    chase_ticks: int
    chase_seconds: float
    urgency_seconds: float

    def __init__(
        self,
        *,
        mode: ExecutionMode | ModeName = ExecutionMode.PAPER,
        default_order_type: OrderType | OrderTypeName = OrderType.LIMIT,
        max_slippage_bps: Number = Decimal(50),
        time_in_force: TimeInForce | TimeInForceName = TimeInForce.GTC,
        post_only: bool = False,
        validate_only: bool = True,
        dead_man_switch_seconds: int = 60,
        max_retries: int = 3,
        retry_backoff_seconds: Number = 2.0,
        retry_backoff_factor: Number = 2.0,
        max_concurrent_orders: int = 10,
        min_order_notional_usd: Number = Decimal("20.0"),
        allow_live_trading: bool = False,
        max_pair_notional_usd: Number | None = None,
        max_total_notional_usd: Number | None = None,
        max_price_age_seconds: Number = 60.0,
        order_deadline_seconds: int = 15,
        lookup_margin_seconds: Number = 5.0,
        gtd_expire_seconds: int = 3600,
        dead_man_refresh_seconds: Number | None = None,
        market_order_max_notional_usd: Number | None = None,
        reconcile_after_execute: bool = True,
        recent_executions_buffer: int = 200,
        unknown_after_seconds: Number = 60.0,
        max_clock_offset_seconds: Number = 60.0,
        clock_sync_seconds: Number = 900.0,
        reconcile_every_seconds: Number | None = 60.0,
        unfilled_timeout_seconds: Number | None = None,
        unfilled_action: UnfilledAction | Literal["cancel", "reprice"] = UnfilledAction.CANCEL,
        routing: Routing | Literal["contract", "maker_first"] = Routing.CONTRACT,
        chase_ticks: int = 2,
        chase_seconds: Number = 20.0,
        urgency_seconds: Number = 120.0,
    ) -> None:
        given = dict(locals())  # exactly the parameters (and self): one per field
        del given["self"]
        values, problems = _check_execution(given)
        if problems:
            error = ConfigError("ExecutionConfig", tuple(sorted(problems, key=_by_path)))
            raise error.exception()
        for name, value in values.items():
            object.__setattr__(self, name, value)

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
        """Cross-field problems; always empty for a constructed config (kept for callers)."""
        values = {name: getattr(self, name) for name in _EXECUTION_RULES}
        return tuple(_combination_problems(values))


def _by_path(problem: ConfigProblem) -> str:
    return problem.path


def _check_execution(given: Mapping[str, object]) -> tuple[dict[str, object], list[ConfigProblem]]:
    """Every field through its rule, then the combinations of the fields that passed."""
    problems: list[ConfigProblem] = []
    reader = Reader(given, "execution", problems)
    values = passed({name: reader.check(name, rule) for name, rule in _EXECUTION_RULES.items()})
    problems += _combination_problems(values)
    return values, problems


def _combination_problems(values: Mapping[str, object]) -> list[ConfigProblem]:
    """The rules across fields; a rule is skipped when one of its fields is itself invalid."""
    found: list[ConfigProblem] = []
    mode = values.get("mode")
    allow_live = values.get("allow_live_trading")
    validate_only = values.get("validate_only")
    if mode is ExecutionMode.LIVE and allow_live is not None and validate_only is not None:
        if not allow_live or validate_only:
            found.append(
                ConfigProblem(
                    "execution.mode",
                    "'live' places real orders only with execution.allow_live_trading: true"
                    " and execution.validate_only: false; set both, or use mode: paper",
                    refuses_live=True,
                )
            )
    elif isinstance(mode, ExecutionMode) and validate_only is False:
        found.append(
            ConfigProblem(
                "execution.validate_only",
                f"false is accepted only in live mode with allow_live_trading: true; in"
                f" {mode.value} mode no order is ever executed (paper: Kraken validates each"
                " one, dry_run: nothing is sent), so remove the key or set it to true",
            )
        )
    found += _refresh_problems(values)
    if values.get("post_only") is True and values.get("default_order_type") is OrderType.MARKET:
        found.append(
            ConfigProblem(
                "execution.post_only", "post_only needs limit orders (default_order_type)"
            )
        )
    return found


def _refresh_problems(values: Mapping[str, object]) -> list[ConfigProblem]:
    timeout = values.get("dead_man_switch_seconds")
    if not isinstance(timeout, int) or "dead_man_refresh_seconds" not in values:
        return []
    refresh = values["dead_man_refresh_seconds"]
    period = min(timeout / 3, 120.0) if refresh is None else refresh
    assert isinstance(period, float)
    if timeout > 0 and not 0 < period <= timeout / 2:
        return [
            ConfigProblem(
                "execution.dead_man_refresh_seconds",
                f"must be above 0 and at most half of dead_man_switch_seconds"
                f" ({timeout}), got {period}",
            )
        ]
    return []


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
    stream: StreamMode = StreamMode.AUTO
    ws_url: str | None = None
    stream_backstop_seconds: float = 300.0
    order_transport: OrderTransport = OrderTransport.REST
    ws_request_timeout_seconds: float = 5.0

    @property
    def has_credentials(self) -> bool:
        """True when both key and secret are present."""
        return self.api_key is not None and self.api_secret is not None

    @property
    def websocket_url(self) -> str | None:
        """Where the WebSocket v2 private endpoint is: ``ws_url``, else Kraken's own when
        ``base_url`` is Kraken's, else None (a fake or proxy must name its socket).

        >>> KrakenConfig().websocket_url
        'wss://ws-auth.kraken.com/v2'
        >>> KrakenConfig(base_url="http://127.0.0.1:8080").websocket_url is None
        True
        """
        if self.ws_url is not None:
            return self.ws_url
        return DEFAULT_WS_URL if self.base_url == DEFAULT_BASE_URL else None


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


class OnStop(StrEnum):
    """What `krakked run` does with resting orders when it is stopped."""

    LEAVE = "leave"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunConfig:
    """The long-running process (`krakked run`).

    Attributes:
        on_stop: on SIGTERM/SIGINT, ``leave`` resting orders (the default) or ``cancel`` them.
        metrics_port: serve Prometheus metrics on this port (needs ``krakked[metrics]``);
            None: no metrics.
        metrics_host: the address the metrics server binds (loopback by default).
        poll_seconds: how often the plan inbox is looked at.
        heartbeat_seconds: how often the heartbeat file is written (``krakked status``
            reads it; a heartbeat older than three periods means the process is down).
    """

    on_stop: OnStop = OnStop.LEAVE
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    poll_seconds: float = 1.0
    heartbeat_seconds: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertsConfig:
    """Webhook alerts: a plain JSON POST per alert, sent off the execution path.

    Attributes:
        webhook_url: where to POST (None: no alerts).
        timeout_seconds: per attempt.
        retries: attempts after the first, with a doubling backoff.
        events: which kinds to send (order update and health kinds by value).
    """

    webhook_url: str | None = None
    timeout_seconds: float = 5.0
    retries: int = 3
    events: frozenset[str] = frozenset(
        {
            "filled",
            "partially_filled",
            "rejected",
            "given_up",
            "unknown",
            "dead_man_refresh_failed",
            "dead_man_expired",
            "reconcile_failed",
            "unknown_orders",
            "stopped",
        }
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AppConfig:
    """The whole application configuration."""

    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    kraken: KrakenConfig = field(default_factory=KrakenConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    region: RegionProfile = US_CA
    strategies: PMap[str, StrategyConfig] = field(default_factory=lambda: pmap({}))
    run: RunConfig = field(default_factory=RunConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)

    @property
    def database_path(self) -> str:
        """The SQLite file this configuration's mode uses (`StorageConfig.path_for`)."""
        return self.storage.path_for(self.execution.mode)


@dataclass(frozen=True, slots=True)
class ConfigError:
    """Every problem found in one configuration source."""

    source: str
    problems: tuple[ConfigProblem, ...]

    @property
    def refuses_live(self) -> bool:
        """True when one of the problems is live mode without all three opt-ins."""
        return any(p.refuses_live for p in self.problems)

    def exception(self) -> ConfigValidationError:
        """The exception to raise for these problems (`LiveTradingRefusedError` if live)."""
        kind = LiveTradingRefusedError if self.refuses_live else ConfigValidationError
        return kind(str(self), problems=self.problems, source=self.source)

    def __str__(self) -> str:
        return listing(self.source, self.problems)


_INT32_MAX: Final = 2**31 - 1


def _section(raw: object, path: str, problems: list[ConfigProblem]) -> Reader:
    """A section of the file; an empty (null) section reads as an empty mapping."""
    return Reader(raw, path, problems, empty_if_none=True)


def _parse_section(top: Reader, name: str, parse: Callable[[Reader], _T]) -> _T:
    """The top-level section ``name``, parsed; then a key in it that nothing read is a problem."""
    section = _section(top.get(name), name, top.problems)
    parsed = parse(section)
    section.finish("key")
    return parsed


def _parse_execution(section: Reader) -> ExecutionConfig | None:
    """The ``execution`` section through `ExecutionConfig` itself: one set of rules.

    A key that is absent or null keeps its default (``validate_only`` stays true
    unless set to false explicitly, the contract's safe default).
    """
    given = section.present(_EXECUTION_RULES)
    try:
        return ExecutionConfig(**given)  # type: ignore[arg-type] # the constructor checks each value
    except ConfigValidationError as error:
        section.problems.extend(error.problems)
        return None


def _parse_kraken(section: Reader, env: Mapping[str, str]) -> KrakenConfig:
    allow_in_file = section.read("allow_secrets_in_file", rules.flag, default=False)
    file_key = section.read("api_key", rules.text, None)
    file_secret = section.read("api_secret", rules.text, None)
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
    base_url = env.get(ENV_API_URL) or section.read("base_url", rules.text, DEFAULT_BASE_URL)
    _check_url(section, "base_url", base_url, _HTTP_URL)
    return KrakenConfig(
        base_url=base_url.rstrip("/"),
        api_key=Secret(api_key) if api_key else None,
        api_secret=Secret(api_secret) if api_secret else None,
        credentials_file=section.read("credentials_file", rules.text, None),
        tier=section.read("tier", rules.choice(Tier), Tier.STARTER),
        connect_timeout_seconds=section.read(
            "connect_timeout_seconds", rules.number(0.1, 120.0), 5.0
        ),
        read_timeout_seconds=section.read("read_timeout_seconds", rules.number(0.1, 600.0), 15.0),
        nonce_state_file=section.read("nonce_state_file", rules.text, None),
        state_dir=section.read("state_dir", rules.text, None),
        stream=section.read("stream", rules.choice(StreamMode), StreamMode.AUTO),
        ws_url=_ws_url(section, env),
        stream_backstop_seconds=section.read(
            "stream_backstop_seconds", rules.number(5.0, 86_400.0), 300.0
        ),
        order_transport=section.read(
            "order_transport", rules.choice(OrderTransport), OrderTransport.REST
        ),
        ws_request_timeout_seconds=section.read(
            "ws_request_timeout_seconds", rules.number(0.1, 60.0), 5.0
        ),
    )


def _ws_url(section: Reader, env: Mapping[str, str]) -> str | None:
    url = env.get(ENV_WS_URL) or section.read("ws_url", rules.text, None)
    _check_url(section, "ws_url", url, _WS_URL)
    return url


_HTTP_URL: Final = (("http://", "https://"), "an http(s) URL")
_WS_URL: Final = (("ws://", "wss://"), "a ws(s) URL")


def _check_url(
    section: Reader, key: str, url: str | None, kind: tuple[tuple[str, ...], str]
) -> None:
    """A problem unless ``url`` is None or starts with one of ``kind``'s prefixes."""
    prefixes, what = kind
    if url is not None and not url.startswith(prefixes):
        section.problem(key, expected(what, url))


def _parse_region(raw: object, problems: list[ConfigProblem]) -> RegionProfile:
    if raw is None:
        return US_CA
    code = raw if isinstance(raw, str) else None
    if isinstance(raw, Mapping):
        section = _section(raw, "region", problems)
        code = section.read("code", rules.text, US_CA.code)
        section.finish("key")
    if code not in REGIONS:
        problems.append(
            ConfigProblem("region", f"only {', '.join(REGIONS)} is supported, got {show(raw)}")
        )
        return US_CA
    return REGIONS[code]


def _parse_strategies(raw: object, problems: list[ConfigProblem]) -> PMap[str, StrategyConfig]:
    top = _section(raw, "strategies", problems)
    parsed: dict[str, StrategyConfig] = {}
    for name in list(top.raw):
        top.seen.add(str(name))
        section = _section(top.raw[name], f"strategies.{name}", problems)
        parsed[str(name)] = StrategyConfig(
            userref=section.read("userref", rules.optional(rules.integer(1, _INT32_MAX)), None)
        )
        section.finish("key")
    return pmap(parsed)


_ALERT_KINDS: Final = frozenset(
    {
        "accepted",
        "partially_filled",
        "filled",
        "canceled",
        "expired",
        "rejected",
        "given_up",
        "adopted",
        "unknown",
        "validated",
        "simulated",
        "dead_man_armed",
        "dead_man_refresh_failed",
        "dead_man_expired",
        "reconcile_failed",
        "rate_limit_pressure",
        "unknown_orders",
        "stopped",
    }
)
"""Every event kind an alert may be sent for (`OrderUpdateKind` and `HealthKind` values)."""


def _parse_run(section: Reader) -> RunConfig:
    return RunConfig(
        on_stop=section.read("on_stop", rules.choice(OnStop), OnStop.LEAVE),
        metrics_port=section.read("metrics_port", rules.optional(rules.integer(1, 65535)), None),
        metrics_host=section.read("metrics_host", rules.text, "127.0.0.1"),
        poll_seconds=section.read("poll_seconds", rules.number(0.05, 3600.0), 1.0),
        heartbeat_seconds=section.read("heartbeat_seconds", rules.number(0.5, 3600.0), 5.0),
    )


def _parse_alerts(section: Reader) -> AlertsConfig:
    url = section.read("webhook_url", rules.optional(rules.text), None)
    _check_url(section, "webhook_url", url, _HTTP_URL)
    default = AlertsConfig().events
    raw_events = section.get("events")
    events = default
    if raw_events is not None:
        if not isinstance(raw_events, list) or not all(isinstance(e, str) for e in raw_events):
            section.problem("events", expected("a list of event kinds", raw_events))
        else:
            unknown = sorted(set(raw_events) - _ALERT_KINDS)
            if unknown:
                section.problem(
                    "events",
                    f"unknown event kind(s) {', '.join(unknown)}; known:"
                    f" {', '.join(sorted(_ALERT_KINDS))}",
                )
            else:
                events = frozenset(raw_events)
    return AlertsConfig(
        webhook_url=url,
        timeout_seconds=section.read("timeout_seconds", rules.number(0.1, 120.0), 5.0),
        retries=section.read("retries", rules.integer(0, 20), 3),
        events=events,
    )


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
    top = _section(raw, "", problems)
    execution = _parse_section(top, "execution", _parse_execution)
    kraken = _parse_section(top, "kraken", lambda section: _parse_kraken(section, env))
    storage = _parse_section(
        top, "storage", lambda section: StorageConfig(path=section.read("path", rules.text, None))
    )
    region = _parse_region(top.get("region"), problems)
    strategies = _parse_strategies(top.get("strategies"), problems)
    run = _parse_section(top, "run", _parse_run)
    alerts = _parse_section(top, "alerts", _parse_alerts)
    top.finish("key")
    if problems or execution is None:
        ordered = tuple(sorted(problems, key=lambda p: p.path))
        return Failure(ConfigError(source, ordered))
    return Success(
        AppConfig(
            execution=execution,
            kraken=kraken,
            storage=storage,
            region=region,
            strategies=strategies,
            run=run,
            alerts=alerts,
        )
    )
