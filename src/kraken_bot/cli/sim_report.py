"""The summary of ``krakked sim`` as rich tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.table import Table

from kraken_bot.cli.output import number, out_console, show, terminal_safe
from kraken_bot.simulation.shortfall import RoutingFigures
from kraken_bot.simulation.summary import FaultOutcome, SimulationSummary

__all__ = ["print_summary"]


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h{minutes:02d}m{secs:02d}s"


def _interval(seconds: float | None) -> str:
    if seconds is None:
        return "price points"
    minutes = round(seconds / 60)
    return f"bars of {minutes // 60}h" if minutes % 60 == 0 else f"bars of {minutes}m"


def _print_prices(summary: SimulationSummary) -> None:
    for p in summary.prices:
        out_console.print(
            f"prices: {terminal_safe(p.pair)} from {terminal_safe(str(p.file))},"
            f" {p.rows} {_interval(p.interval_seconds)},"
            f" {p.first:%Y-%m-%d %H:%M} to {p.end:%Y-%m-%d %H:%M} UTC",
            highlight=False,
        )
    if summary.ran_past_prices:
        out_console.print(
            "  the replay went on after the price files end: prices held at the last close",
            highlight=False,
        )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f} %"


def _figures(summary: SimulationSummary) -> Table:
    table = Table(title="execution", title_justify="left", show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value")
    slippage = (
        "-" if summary.slippage_bps is None else f"{summary.slippage_bps:.2f} bps (worse > 0)"
    )
    sends = f"{summary.sends} ({summary.retries} retries, {summary.lookups} identity lookups)"
    waits = f"{summary.rate_limit_waits} ({summary.rate_limit_wait_seconds:.1f} s virtual)"
    rows = (
        ("plans", f"{summary.plans} ({summary.plans_failed} with errors)"),
        ("orders", str(summary.orders)),
        ("fill ratio", _percent(summary.fill_ratio) + " of requested notional"),
        ("slippage vs mid", slippage),
        ("fees", f"{number(summary.fees)} USD"),
        ("AddOrder sends", sends),
        ("rate-limit waits", waits),
    )
    for name, value in rows:
        table.add_row(name, value)
    return table


def _statuses(summary: SimulationSummary) -> Table:
    table = Table(title="orders by final status", title_justify="left", header_style="bold")
    table.add_column("status")
    table.add_column("orders", justify="right")
    for status, count in summary.orders_by_status.items():
        table.add_row(terminal_safe(status), str(count))
    return table


def _pairs(summary: SimulationSummary) -> Table:
    table = Table(title="by pair", title_justify="left", header_style="bold")
    for name in ("pair", "orders", "requested", "filled", "fill ratio"):
        table.add_column(name, justify="left" if name == "pair" else "right")
    for p in summary.pairs:
        table.add_row(
            terminal_safe(p.pair),
            str(p.orders),
            number(p.requested),
            number(p.filled),
            _percent(p.fill_ratio),
        )
    return table


def _fault_ending(faults: list[FaultOutcome]) -> str:
    if faults[0].endpoint == "AddOrder":
        ended = Counter(f.final_status or "unmatched" for f in faults)
        return "orders ended " + ", ".join(f"{status} {n}" for status, n in sorted(ended.items()))
    if faults[0].kind == "delay":
        return "answered late"
    executed = sum(1 for f in faults if f.took_effect)
    parts = [f"{executed} executed, answer lost"] if executed else []
    parts += [f"{len(faults) - executed} not executed"] if executed < len(faults) else []
    return ", ".join(parts) + "; retried"


def _faults(summary: SimulationSummary) -> Table:
    table = Table(title="faults injected", title_justify="left", header_style="bold")
    for name in ("kind", "endpoint", "count", "how it ended"):
        table.add_column(name, justify="right" if name == "count" else "left")
    groups: dict[tuple[str, str], list[FaultOutcome]] = {}
    for fault in summary.fault_outcomes:
        groups.setdefault((fault.kind, fault.endpoint), []).append(fault)
    for (kind, endpoint), faults in sorted(groups.items()):
        table.add_row(
            terminal_safe(kind),
            terminal_safe(endpoint),
            str(len(faults)),
            terminal_safe(_fault_ending(faults)),
        )
    return table


def print_summary(
    summary: SimulationSummary, *, log_counts: Mapping[str, int], plot: Path | None
) -> None:
    """Print the whole summary."""
    out_console.print(
        f"[bold]krakked sim[/bold]: scenario {terminal_safe(summary.scenario)},"
        f" seed {summary.seed}, faults {terminal_safe(summary.fault_profile)},"
        f" tier {terminal_safe(summary.tier)};"
        f" {_duration(summary.virtual_seconds)} of virtual time in {summary.wall_seconds:.2f} s",
        highlight=False,
    )
    _print_prices(summary)
    show(_figures(summary))
    show(_statuses(summary))
    show(_pairs(summary))
    if summary.faults:
        show(_faults(summary))
    else:
        out_console.print("faults injected: none")
    for error in summary.reconcile_errors:
        out_console.print(
            f"  reconcile pass error (retried next pass): {terminal_safe(error)}",
            highlight=False,
        )
    if log_counts:
        counts = ", ".join(
            f"{n} {level}{'s' if n != 1 else ''}" for level, n in sorted(log_counts.items())
        )
        out_console.print(
            f"service log, expected with injected faults: {counts} (krakked -v sim shows them)",
            highlight=False,
        )
    verdict = (
        f"duplicates {summary.duplicates}, lost {summary.lost},"
        f" invariant violations {len(summary.invariant_violations)}"
    )
    if summary.ok:
        out_console.print(f"[green]invariants hold[/green]: {verdict}", highlight=False)
    else:
        out_console.print(f"[red]INVARIANTS BROKEN[/red]: {verdict}", highlight=False)
        for violation in summary.invariant_violations:
            out_console.print(f"  {terminal_safe(violation)}", highlight=False)
    out_console.print(f"database: {terminal_safe(summary.db_path)}", highlight=False)
    if plot is not None:
        out_console.print(f"plot: {terminal_safe(plot)}", highlight=False)


def print_comparison(rows: Sequence[RoutingFigures], *, scenario: str, seed: int) -> None:
    """``krakked sim --compare``: one row per routing, the same scenario and seed."""
    out_console.print(
        f"[bold]krakked sim --compare[/bold]: scenario {terminal_safe(scenario)}, seed {seed}"
    )
    table = Table(show_edge=False, box=None)
    table.add_column("routing", no_wrap=True, min_width=len("maker_first"))
    for title in ("bps", "p90", "filled", "fees", "to fill", "amends", "waits", "refused"):
        table.add_column(title, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            row.routing,
            _maybe(row.shortfall_bps_mean),
            _maybe(row.shortfall_bps_p90),
            "-" if row.fill_ratio is None else f"{row.fill_ratio * 100:.1f} %",
            f"{row.fees:.2f}",
            _maybe(row.seconds_to_fill_median, ".0f") + " s",
            str(row.amends),
            str(row.rate_limit_waits),
            str(row.rate_limit_errors),
        )
    out_console.print(table)
    out_console.print(
        "bps, p90: implementation shortfall, mean (by notional) and 90th percentile: the"
        " average fill price against the mid when the order (with its reposts and crosses)"
        " began, worse positive, plus fees. filled: of the notional asked. to fill: median"
        " time to a complete fill. waits: calls the rate limiter held back. refused: rate-limit"
        " errors Kraken gave that the fake did not inject."
    )


def _maybe(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)
