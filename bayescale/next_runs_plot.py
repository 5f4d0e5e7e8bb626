"""Figures of the planning layer: next runs' expected shrinkage, and the one-page plan."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_next_runs", "plot_plan"]

FONT = 10


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        return plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def plot_next_runs(result: Any, *, ax: Any = None, label_best: bool = True) -> tuple[Any, Any]:
    """Expected shrinkage of the target's interval width (± 2 se) against each candidate's FLOPs,
    coloured by tokens per parameter; the top-ranked candidate (per FLOP) circled."""
    from .display import human, human_log_axis

    fig, ax = _axes(ax, (6.8, 4.2))
    table = result.summary()
    ratio = table["D"] / table["N"]
    x, y, se = table["compute"], 100 * table["shrinkage"], 100 * table["shrinkage_se"]
    ax.errorbar(x, y, yerr=2 * se, fmt="none", ecolor="0.6", lw=1, zorder=1)
    sc = ax.scatter(x, y, c=np.log10(ratio), cmap="viridis", s=36, zorder=2)
    cbar = fig.colorbar(sc, ax=ax)
    cbar.set_label("log10 tokens per parameter", fontsize=FONT)
    cbar.ax.tick_params(labelsize=FONT)
    if label_best:
        b = table.iloc[0]
        ax.scatter(
            [b["compute"]],
            [100 * b["shrinkage"]],
            s=160,
            facecolors="none",
            edgecolors="C3",
            lw=1.8,
            zorder=3,
            label=f"best per FLOP: N={human(b['N'], 'N')}, D={human(b['D'], 'D')}",
        )
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.02), fontsize=FONT, frameon=False)
    ax.set_xscale("log")
    human_log_axis(ax.xaxis, "flops")
    ax.set_xlabel("candidate run's compute 6ND (FLOPs)", fontsize=FONT)
    ax.set_ylabel(f"expected shrinkage of the {100 * result.ci_prob:g}% width (%)", fontsize=FONT)
    ax.set_title(result.target_label, fontsize=FONT, loc="right")
    ax.tick_params(labelsize=FONT)
    return fig, ax


def plot_plan(plan: Any, *, ax: Any = None) -> tuple[Any, Any]:
    """Two panels: N*(C) with its interval around the budget and the recommended run, and the
    next runs' expected shrinkage."""
    import matplotlib.pyplot as plt

    from .analysis import compute_optimal
    from .display import human_log_axis

    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.4), layout="constrained")
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if len(axes) != 2:
            raise ValueError(f"plot_plan needs 2 axes, got {len(axes)}")
        fig = axes[0].figure
    a = axes[0]
    grid = np.geomspace(plan.compute / 1e3, plan.compute * 10, 40)
    n = compute_optimal(plan.analysed, grid)["N_opt"]
    lo, mid, hi = (
        n.quantile(p, ("chain", "draw")).to_numpy()
        for p in ((1 - plan.ci_prob) / 2, 0.5, (1 + plan.ci_prob) / 2)
    )
    a.fill_between(grid, lo, hi, color="C0", alpha=0.25, label=f"N*(C), {100 * plan.ci_prob:g}%")
    a.plot(grid, mid, color="C0", label="N*(C), median")
    a.scatter([plan.compute], [plan.N], color="C3", zorder=3, label="recommended run")
    runs = plan.analysed.data  # a pooled fit's plan: the group's runs (all for a new group)
    c_runs = 6 * runs["N"] * runs["D"]
    a.scatter(c_runs, runs["N"], s=8, color="0.5", label="fitted runs")
    a.set_xscale("log")
    a.set_yscale("log")
    human_log_axis(a.xaxis, "flops")
    human_log_axis(a.yaxis, "count")
    a.set_xlabel("training compute C (FLOPs)", fontsize=FONT)
    a.set_ylabel("parameters N", fontsize=FONT)
    a.tick_params(labelsize=FONT)
    a.legend(loc="lower left", bbox_to_anchor=(0.0, 1.02), ncols=2, fontsize=FONT, frameon=False)
    plot_next_runs(plan.next_runs, ax=axes[1])
    return fig, axes
