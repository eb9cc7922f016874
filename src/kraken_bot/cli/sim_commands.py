"""``krakked sim [SCENARIO]`` (a replay against the fake exchange) and ``krakked sim serve``."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, Self

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from typer.core import TyperGroup

from kraken_bot._enums import Routing
from kraken_bot.cli.errors import CliError, reports_errors, settings
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.logs import counted_logs
from kraken_bot.cli.output import err_console, out_console, print_json
from kraken_bot.cli.sim_report import print_comparison, print_summary
from kraken_bot.region import Tier
from kraken_bot.simulation.records import (
    DEFAULT_PLANS,
    ReplayProgress,
    SimulationOutcome,
    routing_settings,
)
from kraken_bot.simulation.runner import SimulationSettings, run_simulation
from kraken_bot.simulation.shortfall import RoutingFigures
from kraken_bot.simulation.summary import figures_of, shortfall_series, summarize
from kraken_sim import ScenarioError
from kraken_sim.faults import PROFILES
from kraken_sim.scenario import parse_duration

__all__ = ["ReplayBar", "progress_wanted", "sim_app"]

DEFAULT_DB: Final = Path("krakked-sim.db")
MAX_PLANS: Final = 100_000


class ServeClock(StrEnum):
    """The served exchange's clock."""

    WALL = "wall"
    VIRTUAL = "virtual"


class _DefaultsToRun(TyperGroup):
    """``krakked sim ARGS`` means ``krakked sim run ARGS`` unless ARGS names a subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in {"--help", "-h"}):
            args = ["run", *args]
        return super().parse_args(ctx, args)


sim_app = typer.Typer(
    cls=_DefaultsToRun,
    help="Replay a scenario against the bundled fake Kraken exchange (`krakked sim` runs the"
    " default), or serve the fake exchange over HTTP (`krakked sim serve`).",
    no_args_is_help=False,
)


def _check_faults(value: str | None) -> str | None:
    if value is not None and value not in PROFILES and not Path(value).is_file():
        raise typer.BadParameter(f"{value!r} is neither none, light, heavy nor a fault file")
    return value


def _require_matplotlib() -> None:
    try:
        import matplotlib as mpl  # noqa: F401, PLC0415 - the optional extra, only when asked for
    except ImportError:
        raise CliError(
            "--plot needs matplotlib, the optional extra: python3 -m pip install 'krakked[plot]'",
            ExitCode.USAGE,
        ) from None


_SHOW_PROGRESS_AFTER: Final = 2.0
"""Seconds of wall time before the progress bar appears (short replays never show one)."""


class ReplayBar:
    """A rich progress bar over a replay's plans, shown once it has run a couple of seconds.

    Called with each `ReplayProgress`; it stays hidden while the replay is young, so the
    usual two-hour replay prints only its summary, and is removed when the replay ends.
    """

    def __init__(
        self,
        *,
        enabled: bool,
        console: Console | None = None,
        show_after: float = _SHOW_PROGRESS_AFTER,
    ) -> None:
        self._enabled = enabled
        self._console = console if console is not None else err_console
        self._show_after = show_after
        self._started = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, progress: ReplayProgress) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            if time.monotonic() - self._started < self._show_after:
                return
            self._bar = Progress(
                TextColumn("replaying"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("plans, virtual {task.fields[at]}"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("sim", total=progress.plans, at="")
        assert self._task is not None
        self._bar.update(
            self._task,
            completed=progress.plans_done,
            total=progress.plans,
            at=progress.at.strftime("%Y-%m-%d %H:%M"),
        )


def progress_wanted(*, as_json: bool) -> bool:
    """A progress bar only for a person: no ``--json``, and stdout and stderr are terminals."""
    return not as_json and out_console.is_terminal and err_console.is_terminal


def _every_seconds(value: str) -> float:
    try:
        seconds = parse_duration(value)
    except ScenarioError:
        raise typer.BadParameter(f"{value!r} is not a duration like 10m, 1h, 30s") from None
    if seconds <= 0:
        raise typer.BadParameter("must be longer than zero")
    return seconds


def _plan_count(plans: int | None, days: float | None, every: float) -> int | None:
    """Plans asked for: ``--plans``, or ``--days`` at ``--every``; None: the default."""
    if plans is not None and days is not None:
        raise typer.BadParameter("give --plans or --days, not both", param_hint="--days")
    if days is None:
        return plans
    return max(1, math.ceil(days * 86400 / every - 1e-9))


@sim_app.command("run")
@reports_errors
def sim_run(  # noqa: PLR0917 - typer maps each parameter to an option
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario YAML (default: the bundled default scenario).",
            metavar="SCENARIO",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the exchange, ids and strategy.")] = 7,
    faults: Annotated[
        str | None,
        typer.Option(
            help="none | light | heavy | FILE (default: the scenario's; the default scenario"
            " uses light).",
            callback=_check_faults,
        ),
    ] = None,
    db: Annotated[
        Path,
        typer.Option(help="SQLite database to write (replaced at the start).", dir_okay=False),
    ] = DEFAULT_DB,
    plans: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_PLANS,
            help=f"Number of plan cycles (default: {DEFAULT_PLANS}, or as many as cover the"
            " --prices files).",
            show_default=False,
        ),
    ] = None,
    days: Annotated[
        float | None,
        typer.Option(
            help="Replay this many days of virtual time: one plan every --every"
            " (--days 30: 4,320 plans). Instead of --plans.",
            show_default=False,
        ),
    ] = None,
    every: Annotated[
        str,
        typer.Option(metavar="DURATION", help="Virtual time between plans: 10m, 1h, 90s, ..."),
    ] = "10m",
    prices: Annotated[
        list[str] | None,
        typer.Option(
            "--prices",
            metavar="FILE|PAIR=FILE",
            help="Replay recorded prices: Kraken's OHLCVT CSV (PAIR_MINUTES.csv, e.g."
            " XBTUSD_60.csv, or PAIR=FILE) or timestamp,pair,price rows. Repeat for more"
            " pairs; the replay trades the files' pairs from their first row.",
            show_default=False,
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Write a PNG: price path, fills, position per pair (needs krakked\\[plot]).",
            dir_okay=False,
        ),
    ] = None,
    routing: Annotated[
        Routing | None,
        typer.Option(
            help="Work limit orders this way (execution.routing): the contract's limit at"
            " max_slippage_bps (50) from the mid, or maker_first (post-only at the touch,"
            " amended with it, crossing at the cap when urgent). Default: the replay's usual"
            " orders at the mid.",
            show_default=False,
        ),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            metavar="ROUTING,ROUTING",
            help="Run the same scenario and seed under each routing (e.g."
            " contract,maker_first) and print one table: shortfall in bps (fees included)"
            " mean and p90, fill ratio, fees, time to fill, amends, rate-limit waits.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Replay a scenario: the real ExecutionService, live mode, against the fake exchange.

    Plans come from a small bundled rebalancing strategy; virtual time passes between
    them. Prints a summary, writes the SQLite database, and exits 1 if an invariant broke
    (an exchange order unknown locally, a duplicate, local and exchange state disagreeing).
    The same seed gives the same summary. `krakked sim serve` serves the exchange over HTTP.
    """
    interval = _every_seconds(every)
    if days is not None and days <= 0:
        raise typer.BadParameter("must be more than zero days", param_hint="--days")
    count = _plan_count(plans, days, interval)
    if count is not None and count > MAX_PLANS:
        raise typer.BadParameter(
            f"{count} plans: at most {MAX_PLANS}; a longer --every makes fewer",
            param_hint="--days",
        )
    if plot is not None:
        _require_matplotlib()
    price_specs = tuple(prices or ())
    if count is None and not price_specs:
        count = DEFAULT_PLANS
    sim_settings = SimulationSettings(
        db_path=db.resolve(),
        scenario=scenario,
        seed=seed,
        faults=faults,
        plans=count,
        plan_interval_seconds=interval,
        prices=price_specs,
        samples=plot is not None,
    )
    if compare is not None:
        _compare(sim_settings, _routings(compare, routing), plot=plot, as_json=as_json)
        return
    if routing is not None:
        sim_settings = routing_settings(sim_settings, routing)
    with (
        counted_logs(show=settings.verbose) as log_counts,
        ReplayBar(enabled=progress_wanted(as_json=as_json)) as bar,
    ):
        outcome = run_simulation(sim_settings, progress=bar)
    summary = summarize(outcome)
    if plot is not None:
        from kraken_bot.cli.plot import plot_outcome  # noqa: PLC0415 - needs the optional extra

        plot_outcome(outcome, plot)
    if as_json:
        payload = summary.to_json()
        payload["plot"] = str(plot) if plot is not None else None
        print_json(payload)
    else:
        print_summary(summary, log_counts=dict(log_counts), plot=plot)
    if not summary.ok:
        raise typer.Exit(ExitCode.FAILED)


def _routings(text: str, routing: Routing | None) -> tuple[Routing, ...]:
    if routing is not None:
        raise typer.BadParameter("give --routing or --compare, not both", param_hint="--routing")
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {r.value for r in Routing}
    unknown = [name for name in names if name not in known]
    if unknown or len(names) < 2 or len(set(names)) != len(names):
        raise typer.BadParameter(
            f"expected two or more of {', '.join(sorted(known))}, comma-separated, got {text!r}",
            param_hint="--compare",
        )
    return tuple(Routing(name) for name in names)


def _compare(
    base: SimulationSettings, routings: tuple[Routing, ...], *, plot: Path | None, as_json: bool
) -> None:
    """One replay per routing (the same scenario and seed), then one table."""
    rows: list[RoutingFigures] = []
    outcomes: list[SimulationOutcome] = []
    failed = False
    for routing in routings:
        db = base.db_path.with_name(f"{base.db_path.stem}-{routing.value}{base.db_path.suffix}")
        run = replace(routing_settings(base, routing), db_path=db)
        with (
            counted_logs(show=settings.verbose),
            ReplayBar(enabled=progress_wanted(as_json=as_json)) as bar,
        ):
            outcome = run_simulation(run, progress=bar)
        failed = failed or not summarize(outcome).ok
        outcomes.append(outcome)
        rows.append(figures_of(routing.value, outcome))
    if plot is not None:
        from kraken_bot.cli.plot import plot_outcome  # noqa: PLC0415 - needs the optional extra

        last = outcomes[-1]
        last.plan_shortfalls = {
            row.routing: shortfall_series(outcome)
            for row, outcome in zip(rows, outcomes, strict=True)
        }
        plot_outcome(last, plot)
    if as_json:
        print_json(
            {
                "ok": not failed,
                "scenario": outcomes[0].scenario_name,
                "seed": base.seed,
                "plans": len(outcomes[0].results),
                "compare": [row.to_json() for row in rows],  # type: ignore[misc]
                "plot": str(plot) if plot is not None else None,
            }
        )
    else:
        print_comparison(rows, scenario=outcomes[0].scenario_name, seed=base.seed)
    if failed:
        raise typer.Exit(ExitCode.FAILED)


@sim_app.command("serve")
@reports_errors
def sim_serve(  # noqa: PLR0917 - typer maps each parameter to an option
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0: any free port).")] = 0,
    ws_port: Annotated[
        int | None,
        typer.Option(
            help="Also serve Kraken's WebSocket v2 private endpoint (executions, order"
            " methods) on this port (0: any free port); point kraken.ws_url at the printed"
            " ws_url."
        ),
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="API key of the served account.")] = None,
    api_secret: Annotated[str | None, typer.Option(help="Its base64 API secret.")] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Scenario YAML (default: the bundled one).", exists=True, dir_okay=False),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    tier: Annotated[
        Tier | None, typer.Option(help="Rate-limit tier (default: the scenario's).")
    ] = None,
    faults: Annotated[
        str | None,
        typer.Option(
            help="none | light | heavy | FILE (default: the scenario's).", callback=_check_faults
        ),
    ] = None,
    clock: Annotated[
        ServeClock, typer.Option(help="wall, or virtual (moves only with injected delays).")
    ] = ServeClock.WALL,
    id_salt: Annotated[
        str | None,
        typer.Option(
            help="Salt of the txid generator (default: fresh at each start, so a restart never"
            " reissues a txid; pass the printed one to reproduce a session's ids)."
        ),
    ] = None,
    quirk: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=VALUE: override one of the fake's quirks (repeatable), e.g."
            " post_only_crossing=reject, query_orders_unknown=omit, closed_orders_cost=2."
        ),
    ] = None,
) -> None:
    """Serve the fake Kraken exchange on 127.0.0.1 until Ctrl-C.

    Prints the base URL, an API key and secret; point KRAKEN_API_URL, KRAKEN_API_KEY and
    KRAKEN_API_SECRET (or any Kraken client) at them.
    """
    from kraken_sim.cli import run_serve  # noqa: PLC0415 - the server is only needed here

    argv = ["--port", str(port), "--seed", str(seed), "--clock", clock.value]
    if ws_port is not None:
        argv += ["--ws-port", str(ws_port)]
    options = {
        "--api-key": api_key,
        "--api-secret": api_secret,
        "--scenario": None if scenario is None else str(scenario),
        "--tier": None if tier is None else tier.value,
        "--faults": faults,
        "--id-salt": id_salt,
    }
    for flag, value in options.items():
        if value is not None:
            argv += [flag, value]
    for override in quirk or ():
        argv += ["--quirk", override]
    try:
        code = run_serve(argv, prog="krakked sim serve")
    except SystemExit as exc:  # argparse refused an option: it printed why
        code = exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    out_console.file.flush()
    raise typer.Exit(code)
