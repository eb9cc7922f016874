"""``krakked sim [SCENARIO]`` (a replay against the fake exchange) and ``krakked sim serve``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from kraken_bot.cli.errors import CliError, reports_errors, settings
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.logs import counted_logs
from kraken_bot.cli.output import err_console, out_console, print_json
from kraken_bot.cli.sim_report import print_summary
from kraken_bot.simulation.runner import SimulationOutcome, SimulationSettings, run_simulation
from kraken_bot.simulation.summary import summarize
from kraken_sim.faults import PROFILES

__all__ = ["sim_app"]

DEFAULT_DB: Final = Path("krakked-sim.db")


class ServeTier(StrEnum):
    """Rate-limit tiers of the served exchange."""

    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"
    UNLIMITED = "unlimited"


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


def _run_with_progress(sim_settings: SimulationSettings, *, show: bool) -> SimulationOutcome:
    columns = (
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True, disable=not show) as bar:
        task = bar.add_task("sim", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_simulation(sim_settings, progress=advance)


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
    plans: Annotated[int, typer.Option(min=1, max=1000, help="Number of plan cycles.")] = 12,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Write a PNG: price path, fills, position (needs krakked[plot]).", dir_okay=False
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
    if plot is not None:
        _require_matplotlib()
    sim_settings = SimulationSettings(
        db_path=db.resolve(), scenario=scenario, seed=seed, faults=faults, plans=plans
    )
    show_progress = not as_json and err_console.is_terminal
    with counted_logs(show=settings.verbose) as log_counts:
        outcome = _run_with_progress(sim_settings, show=show_progress)
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


@sim_app.command("serve")
@reports_errors
def sim_serve(  # noqa: PLR0917 - typer maps each parameter to an option
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0: any free port).")] = 0,
    api_key: Annotated[str | None, typer.Option(help="API key of the served account.")] = None,
    api_secret: Annotated[str | None, typer.Option(help="Its base64 API secret.")] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Scenario YAML (default: the bundled one).", exists=True, dir_okay=False),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    tier: Annotated[
        ServeTier | None, typer.Option(help="Rate-limit tier (default: the scenario's).")
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
