"""``krakked sim --plot FILE.png``: each pair's price path, our fills, and the position.

One panel per pair: the mid (line), our buys and sells (markers at their fill price), and
the base position on a second axis (a step line, exact: the first sample's holdings plus
every fill). Below them, when the outcome carries per-plan shortfall series
(`SimulationOutcome.plan_shortfalls`, filled by a routing comparison), one more panel with a
line per series.

Needs matplotlib, the optional extra ``krakked[plot]``; the command checks for it before
the run and says how to install it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from kraken_bot.kraken.pairs import PairMetadata
from kraken_bot.simulation.records import PlanShortfall, SimulationOutcome
from kraken_sim import Trade

__all__ = ["outcome_figure", "plot_outcome", "position_steps"]


def position_steps(
    start: datetime, holding: Decimal, trades: Sequence[Trade], end: datetime
) -> tuple[list[datetime], list[float]]:
    """The base position over time: ``holding`` at ``start``, moved by each fill, to ``end``.

    >>> from types import SimpleNamespace as T
    >>> t0, t1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    >>> fills = [T(time=t0.timestamp() + 60, side="buy", vol=Decimal("0.5"))]
    >>> position_steps(t0, Decimal(1), fills, t1)[1]
    [1.0, 1.5, 1.5]
    """
    times, values = [start], [float(holding)]
    for trade in trades:
        holding += trade.vol if trade.side == "buy" else -trade.vol
        times.append(datetime.fromtimestamp(trade.time, UTC))
        values.append(float(holding))
    times.append(max(end, times[-1]))
    values.append(float(holding))
    return times, values


def plot_outcome(outcome: SimulationOutcome, path: Path) -> None:
    """Write the PNG (see the module docstring)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 - optional extra

    fig = outcome_figure(outcome)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def outcome_figure(outcome: SimulationOutcome) -> Any:
    """The matplotlib figure of ``outcome``: one panel per pair, and the shortfall panel."""
    import matplotlib as mpl  # noqa: PLC0415 - optional extra

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    pairs = outcome.pairs
    shortfalls = {name: s for name, s in outcome.plan_shortfalls.items() if s}
    panels = len(pairs) + (1 if shortfalls else 0)
    fig, axes = plt.subplots(panels, 1, sharex=True, figsize=(10, 3 * panels), squeeze=False)
    for ax, pair in zip(axes[:, 0], pairs, strict=False):
        _pair_panel(ax, outcome, pair)
    if shortfalls:
        _shortfall_panel(axes[-1, 0], shortfalls)
    title = (
        f"krakked sim: scenario {outcome.scenario_name}, seed {outcome.settings.seed},"
        f" faults {outcome.fault_profile}"
    )
    if outcome.prices:
        title += ", prices " + ", ".join(Path(h.source).name for h in outcome.prices)
    axes[0, 0].set_title(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def _pair_panel(ax: Any, outcome: SimulationOutcome, pair: PairMetadata) -> None:
    samples = outcome.samples
    times = [s.at for s in samples]
    ax.plot(times, [float(s.mids[pair.altname]) for s in samples], lw=1, label="mid")
    fills = [t for t in outcome.trades if t.pair == pair.rest_symbol]
    for side, marker, colour in (("buy", "^", "tab:green"), ("sell", "v", "tab:red")):
        mine = [t for t in fills if t.side == side]
        ax.scatter(
            [datetime.fromtimestamp(t.time, UTC) for t in mine],
            [float(t.price) for t in mine],
            marker=marker,
            color=colour,
            s=30 if len(fills) < 500 else 6,
            label=f"{side} fills",
            zorder=3,
        )
    ax.set_ylabel(f"{pair.altname} mid")
    ax.legend(loc="upper left", fontsize="small")
    position = ax.twinx()
    first = samples[0].holdings[pair.altname] if samples else Decimal(0)
    steps = position_steps(outcome.started_at, first, fills, outcome.ended_at)
    position.step(*steps, where="post", color="tab:gray", lw=1)
    position.set_ylabel("position (base)", color="tab:gray")


def _shortfall_panel(ax: Any, series: dict[str, list[PlanShortfall]]) -> None:
    for name, points in sorted(series.items()):
        ax.plot([p.at for p in points], [p.bps for p in points], lw=1, marker=".", label=name)
    ax.axhline(0.0, color="tab:gray", lw=0.5)
    ax.set_ylabel("shortfall per plan (bps)")
    ax.legend(loc="upper left", fontsize="small")
