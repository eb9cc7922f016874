"""``krakked sim --plot FILE.png``: each pair's price path, our fills, and the position.

Needs matplotlib, the optional extra ``krakked[plot]``; the command checks for
it before the run and says how to install it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kraken_bot.simulation.records import SimulationOutcome

__all__ = ["plot_outcome"]


def plot_outcome(outcome: SimulationOutcome, path: Path) -> None:
    """Write a PNG with one panel per pair: mid (line), buys and sells (markers), position."""
    import matplotlib as mpl  # noqa: PLC0415 - optional extra

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    pairs = outcome.pairs
    fig, axes = plt.subplots(
        len(pairs), 1, sharex=True, figsize=(10, 3 * len(pairs)), squeeze=False
    )
    times = [s.at for s in outcome.samples]
    for ax, pair in zip(axes[:, 0], pairs, strict=True):
        ax.plot(times, [float(s.mids[pair.altname]) for s in outcome.samples], lw=1, label="mid")
        for side, marker, colour in (("buy", "^", "tab:green"), ("sell", "v", "tab:red")):
            fills = [t for t in outcome.trades if t.pair == pair.rest_symbol and t.side == side]
            ax.scatter(
                [datetime.fromtimestamp(t.time, UTC) for t in fills],
                [float(t.price) for t in fills],
                marker=marker,
                color=colour,
                s=30,
                label=f"{side} fills",
                zorder=3,
            )
        ax.set_ylabel(f"{pair.altname} mid")
        ax.legend(loc="upper left", fontsize="small")
        position = ax.twinx()
        position.step(
            times,
            [float(s.holdings[pair.altname]) for s in outcome.samples],
            where="post",
            color="tab:gray",
            lw=1,
        )
        position.set_ylabel("position (base)", color="tab:gray")
    axes[0, 0].set_title(
        f"krakked sim: scenario {outcome.scenario_name}, seed {outcome.settings.seed},"
        f" faults {outcome.fault_profile}"
    )
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
