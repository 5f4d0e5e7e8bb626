"""Figures of fits and of their decisions.

Every function returns ``(fig, axes)`` and draws into ``ax=`` when given one (a sequence of axes
for the multi-panel figures). Axes carry units, data-bearing axes are logarithmic, posterior
quantities are drawn as a central line with a shaded band. Plots read fits and analysis results;
they never sample.

This module holds the fit against its runs (``plot_fit``, ``plot_isoflops``) and re-exports the
rest: ``plots_checks`` (residuals, backtest), ``plots_frontier`` (frontier, tokens per
parameter), ``plots_emergence``, ``plots_params``; their shared helpers are in ``_plotting``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._api import CI_PROB, check_values, deprecated_args
from ._plotting import (  # noqa: F401 (AXIS_LABELS, _card_optimum, _cards_for, _panels re-exported)
    AXIS_LABELS,
    _axes,
    _band,
    _card_optimum,
    _cards_for,
    _finish,
    _label,
    _law_names,
    _legend_below,
    _panels,
    _template,
)
from .analysis import FLOPS_PER_PARAM_TOKEN, predict_loss
from .fit import Fit
from .grouped import one_group
from .plots_checks import plot_backtest, plot_residuals
from .plots_emergence import plot_emergence
from .plots_frontier import plot_frontier, plot_tokens_per_param
from .plots_params import plot_params

__all__ = [
    "plot_backtest",
    "plot_emergence",
    "plot_fit",
    "plot_frontier",
    "plot_isoflops",
    "plot_params",
    "plot_residuals",
    "plot_tokens_per_param",
]


# ---------------------------------------------------------------------------- fit and data
@deprecated_args(renamed={"prob": "ci_prob"})
@one_group
def plot_fit(
    fit: Fit,
    *,
    x: str | None = None,
    by: str | None = None,
    groups: int = 5,
    window: float = 0.5,
    ci_prob: float = CI_PROB,
    predictive: bool = True,
    holdout: pd.DataFrame | None = None,
    n_grid: int = 60,
    random_seed: int | None = None,
    ax: Any = None,
) -> tuple[Any, Any]:
    """The runs on log-log axes with the law's posterior mean curve and its bands.

    For a two-input law (Chinchilla) one curve is drawn along ``x`` at each of ``groups`` values
    of the input ``by``, evenly spaced in log between the runs' 8th and 92nd percentiles of
    ``by``. The runs whose ``by`` lies within a bin around a curve's value (``window`` times the
    spacing, in log) take the curve's colour; the others are drawn in grey, so that each
    coloured cloud can be read against its own curve. Each curve spans its bin's range of ``x``
    and carries the central ``ci_prob`` credible band of the law's mean (parameter uncertainty)
    and, lighter, the posterior predictive band of a new run (noise included). Inputs beyond
    ``x`` and ``by`` are held at the geometric mean of the runs.

    Parameters
    ----------
    fit : Fit or StackedFit
    x : str, optional
        Input on the horizontal axis (default: the law's first input, ``N`` for Chinchilla).
    by : str, optional
        Input that picks the curve (default: the other input, ``D``; none for a one-input law).
        ``by="C"`` (laws of N and D, ``x`` N or D) is the isoFLOP view: each curve holds the
        compute C = 6ND fixed, one per budget when the runs have a few distinct budgets.
    groups : int
        Number of curves.
    window : float
        Width of each curve's bin of ``by`` as a fraction of the (log) spacing between curves.
    ci_prob : float
        Probability mass of the bands.
    predictive : bool
        Draw the posterior predictive band as well (columns the likelihood needs, such as
        ``n_items``, are held at the median of the fitted runs).
    holdout : DataFrame, optional
        Held-out runs (the law's input columns and output), drawn as open diamonds.
    n_grid : int
        Points along each curve.
    random_seed : int, optional
        Seed of the predictive noise (None: fresh entropy).
    ax : matplotlib Axes, optional

    Returns
    -------
    fig, ax

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_fit
    >>> fig, ax = plot_fit(bs.testing.pinned_fit(random_seed=0), groups=3)
    >>> ax.get_xscale(), ax.get_yscale(), ax.get_ylabel()
    ('log', 'log', 'loss (nats/token)')
    """
    import matplotlib.pyplot as plt

    law = _template(fit, "plot_fit").law
    inputs = list(law.inputs)
    x = x or inputs[0]
    if x not in inputs:
        raise ValueError(f"x must be one of the law's inputs {inputs}, got {x!r}")
    # by="C": isoFLOP view, curves at fixed compute C = 6ND (x is N or D, the other follows)
    partner = {"N": "D", "D": "N"}.get(x) if by == "C" and {"N", "D"} <= set(inputs) else None
    if by is None:
        rest = [k for k in inputs if k != x]
        by = rest[0] if rest else None
    elif partner is None and (by not in inputs or by == x):
        allowed = [*inputs, *(["C"] if {"N", "D"} <= set(inputs) and x in "ND" else [])]
        raise ValueError(
            f"by must be one of {[k for k in allowed if k != x]} (the law's inputs other than "
            f"x, or C = 6ND for an isoFLOP view with x = N or D), got {by!r}"
        )
    runs = fit.data
    if partner is not None:
        runs = runs.assign(C=FLOPS_PER_PARAM_TOKEN * runs["N"] * runs["D"])
        if holdout is not None:
            holdout = holdout.assign(C=FLOPS_PER_PARAM_TOKEN * holdout["N"] * holdout["D"])
    parts = [runs.assign(_held=False)]
    if holdout is not None:
        missing = [c for c in [*inputs, law.output] if c not in holdout.columns]
        if missing:
            raise ValueError(f"holdout is missing columns {missing}")
        parts.append(holdout.assign(_held=True))
    every = pd.concat(parts, ignore_index=True)
    fixed = {k: float(np.exp(np.log(runs[k]).mean())) for k in inputs if k not in (x, by, partner)}

    if by is None:
        labels = np.zeros(len(every), dtype=int)
        centres = [np.nan]
    else:
        log_by = np.log(every[by].to_numpy(dtype=float))
        n_groups = max(1, min(groups, len(np.unique(log_by))))
        budgets = np.unique(np.round(log_by / np.log(10), 2))
        if partner is not None and 1 < len(budgets) <= max(groups, 12):
            # a few distinct budgets (an isoFLOP design): one curve per budget, every run coloured
            labels = np.abs(np.round(log_by / np.log(10), 2)[:, None] - budgets).argmin(axis=1)
            centres = [float(10**b) for b in budgets]
        elif n_groups == 1:
            labels = np.zeros(len(every), dtype=int)
            centres = [float(np.exp(log_by.mean()))]
        else:
            lo_c, hi_c = np.quantile(log_by, [0.08, 0.92])
            log_c = np.linspace(lo_c, hi_c, n_groups)
            half = 0.5 * window * (log_c[1] - log_c[0])
            dist = np.abs(log_by[:, None] - log_c[None, :])
            nearest = dist.argmin(axis=1)
            labels = np.where(dist.min(axis=1) <= half, nearest, -1)
            centres = [float(np.exp(c)) for c in log_c]
    fig, ax = _axes(ax, (7.2, 5.0))
    is_held = every["_held"].to_numpy(dtype=bool)
    other = (labels < 0) & ~is_held
    if other.any():
        ax.scatter(
            every.loc[other, x],
            every.loc[other, law.output],
            s=10,
            color="0.6",
            alpha=0.4,
            lw=0,
            zorder=1,
        )
    if ((labels < 0) & is_held).any():
        sel = (labels < 0) & is_held
        ax.scatter(
            every.loc[sel, x],
            every.loc[sel, law.output],
            s=42,
            marker="D",
            facecolor="white",
            edgecolor="0.5",
            lw=1.4,
            zorder=3,
        )
    cmap = plt.get_cmap("viridis")
    n_groups = len(centres)
    colors = [cmap(0.1 + 0.8 * g / max(n_groups - 1, 1)) for g in range(n_groups)]
    grids, points = [], {k: [] for k in inputs}
    for g, centre in enumerate(centres):
        xs = every.loc[labels == g, x].to_numpy(dtype=float)
        if not xs.size:
            grids.append(None)
            continue
        grid = np.geomspace(xs.min() / 1.3, xs.max() * 1.3, n_grid)
        grids.append(grid)
        points[x].append(grid)
        if partner is not None:
            points[partner].append(centre / (FLOPS_PER_PARAM_TOKEN * grid))
        elif by is not None:
            points[by].append(np.full(n_grid, centre))
        for k, v in fixed.items():
            points[k].append(np.full(n_grid, v))
    stacked = {k: np.concatenate(v) for k, v in points.items()}
    mean = predict_loss(fit, kind="mean", **stacked).to_numpy()
    mean = mean.reshape(-1, mean.shape[-1])
    cred_lo, _, cred_hi = _band(mean, ci_prob)
    mean_curve = mean.mean(axis=0)
    if predictive:
        # columns of the likelihood (e.g. n_items) held at the runs' median for new runs
        size = len(next(iter(stacked.values())))
        extra_cols = {
            k: np.full(size, float(np.round(np.median(runs[k].to_numpy(dtype=float)))))
            for k in _template(fit, "plot_fit").likelihood.extra_columns
        }
        pred = predict_loss(
            fit, kind="predictive", random_seed=random_seed, **stacked, **extra_cols
        ).to_numpy()
        pred_lo, _, pred_hi = _band(pred.reshape(-1, pred.shape[-1]), ci_prob)
    start = 0
    from .display import human

    for g, grid in enumerate(grids):
        if grid is None:
            continue
        sl = slice(start, start + n_grid)
        start += n_grid
        color = colors[g]
        if predictive:
            ax.fill_between(grid, pred_lo[sl], pred_hi[sl], color=color, alpha=0.12, lw=0)
        ax.fill_between(grid, cred_lo[sl], cred_hi[sl], color=color, alpha=0.35, lw=0)
        name = "posterior mean" if by is None else f"{by} ≈ {human(centres[g], by)}"
        ax.plot(grid, mean_curve[sl], color=color, lw=1.8, label=name.strip())
        sel = (labels == g) & ~every["_held"].to_numpy()
        ax.scatter(
            every.loc[sel, x], every.loc[sel, law.output], s=14, color=color, alpha=0.85, lw=0
        )
        held = (labels == g) & every["_held"].to_numpy()
        if held.any():
            ax.scatter(
                every.loc[held, x],
                every.loc[held, law.output],
                s=42,
                marker="D",
                facecolor="white",
                edgecolor=color,
                lw=1.4,
                zorder=3,
            )
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    extra = [
        Line2D([], [], marker="o", ls="", color="0.4", ms=4, label=f"fitted runs ({len(runs)})"),
        *(
            [
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    color="0.6",
                    alpha=0.5,
                    ms=3.5,
                    label=f"runs between the curves' {by} bins ({int(other.sum())})",
                )
            ]
            if other.any()
            else []
        ),
        Patch(color="0.4", alpha=0.45, lw=0, label=f"{100 * ci_prob:g}% credible band (mean)"),
    ]
    if predictive:
        extra.append(
            Patch(
                color="0.4", alpha=0.15, lw=0, label=f"{100 * ci_prob:g}% predictive band (new run)"
            )
        )
    if holdout is not None:
        extra.append(
            Line2D(
                [],
                [],
                marker="D",
                ls="",
                mfc="white",
                mec="0.3",
                ms=6,
                label=f"held-out runs ({len(holdout)})",
            )
        )
    handles = ax.get_legend_handles_labels()[0]
    _legend_below(ax, handles + extra)
    ax.set_xscale("log")
    if _template(fit, "plot_fit").likelihood.output_domain != "unit":
        ax.set_yscale("log")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(law.output))
    where = "" if by is None else f", one curve per {_label(by)} bin"
    if partner is not None:
        where = f", one curve per compute budget ({partner} = C/(6{x}))"
    ax.set_title(f"{' + '.join(_law_names(fit))} fit: {law.output} against {x}{where}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)
    _finish(ax)
    return fig, ax


def _runs_compute(fit: Fit) -> np.ndarray:
    """Each fitted run's compute: its ``C`` column when the data has one, else 6ND."""
    if "C" in fit.data.columns:
        return fit.data["C"].to_numpy(dtype=float)
    return (
        FLOPS_PER_PARAM_TOKEN
        * fit.data["N"].to_numpy(dtype=float)
        * fit.data["D"].to_numpy(dtype=float)
    )


def _budget_levels(c: np.ndarray, n_curves: int) -> np.ndarray:
    """The isoFLOP budgets of a design (distinct C values, when there are few), else
    ``n_curves`` log-spaced budgets across the runs' compute."""
    snapped = np.unique(np.round(np.log10(c), 2))
    if len(snapped) <= 12:
        return 10**snapped
    lo, hi = np.quantile(np.log10(c), [0.05, 0.95])
    return np.logspace(lo, hi, n_curves)


@one_group
def plot_isoflops(
    fit: Fit,
    *,
    compute: Sequence[float] | None = None,
    n_curves: int = 5,
    ci_prob: float = CI_PROB,
    n_grid: int = 60,
    cmap: str = "viridis",
    ax: Any = None,
) -> tuple[Any, Any]:
    """IsoFLOP view: loss against N, every run coloured by its compute budget.

    Each budget C gets the law's posterior mean along C = 6ND (N varies, D = C/6N) with its
    central ``ci_prob`` credible band, in the budget's colour, and a marker at the posterior
    median of its optimum N*; a colour bar reads compute off the colours. For an isoFLOP design
    the budgets are the runs' own (distinct C values); otherwise ``n_curves`` log-spaced ones.

    Parameters
    ----------
    fit : Fit
        A fit of a law with inputs N and D (other inputs are held at the runs' geometric mean).
    compute : sequence of float, optional
        Budgets (FLOPs) of the curves.
    n_curves : int
        Number of curves when the runs have many distinct budgets.
    ci_prob : float
        Probability mass of the bands.
    n_grid : int
        Points along each curve.
    cmap : str
        Colour map of the budgets (logarithmic).
    ax : matplotlib Axes, optional

    Returns
    -------
    fig, ax

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_isoflops
    >>> fig, ax = plot_isoflops(bs.testing.pinned_fit(random_seed=0))
    >>> ax.get_xscale(), ax.get_xlabel()
    ('log', 'parameters N')
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .display import HumanFormatter, human, human_log_axis

    law = _template(fit, "plot_isoflops").law
    if not {"N", "D"} <= set(law.inputs):
        raise ValueError(
            f"plot_isoflops needs a law with inputs N and D; {law.name!r} has {law.inputs}"
        )
    runs = fit.data
    c_runs = _runs_compute(fit)
    levels = (
        _budget_levels(c_runs, n_curves) if compute is None else check_values("compute", compute)
    )
    if levels.ndim != 1 or not levels.size or not np.all(np.isfinite(levels) & (levels > 0)):
        raise ValueError(f"compute must be FLOP counts > 0, got {compute!r}")
    others = {
        k: float(np.exp(np.log(runs[k].to_numpy(dtype=float)).mean()))
        for k in law.inputs
        if k not in ("N", "D")
    }
    fig, ax = _axes(ax, (7.2, 5.0))
    norm = LogNorm(min(c_runs.min(), levels.min()), max(c_runs.max(), levels.max()))
    colours = plt.get_cmap(cmap)
    n_runs = runs["N"].to_numpy(dtype=float)
    y_runs = runs[law.output].to_numpy(dtype=float)
    n_lo, n_hi = n_runs.min() / 1.5, n_runs.max() * 1.5
    grids, points = [], {k: [] for k in law.inputs}
    for c in levels:
        # N from the runs' range, kept where D = C/6N is within a decade of the runs' D
        d_lo, d_hi = runs["D"].min() / 10, runs["D"].max() * 10
        lo = max(n_lo, c / (FLOPS_PER_PARAM_TOKEN * d_hi))
        hi = min(n_hi, c / (FLOPS_PER_PARAM_TOKEN * d_lo))
        grid = np.geomspace(lo, hi, n_grid) if hi > lo else np.geomspace(n_lo, n_hi, n_grid)
        grids.append(grid)
        points["N"].append(grid)
        points["D"].append(c / (FLOPS_PER_PARAM_TOKEN * grid))
        for k, v in others.items():
            points[k].append(np.full(n_grid, v))
    stacked = {k: np.concatenate(v) for k, v in points.items()}
    mean = predict_loss(fit, kind="mean", **stacked).to_numpy()
    mean = mean.reshape(-1, mean.shape[-1])
    lo_b, mid, hi_b = _band(mean, ci_prob)
    for i, (c, grid) in enumerate(zip(levels, grids, strict=True)):
        sl = slice(i * n_grid, (i + 1) * n_grid)
        colour = colours(norm(c))
        ax.fill_between(grid, lo_b[sl], hi_b[sl], color=colour, alpha=0.25, lw=0, zorder=1)
        ax.plot(grid, mid[sl], color=colour, lw=1.6, zorder=2)
        best = int(np.argmin(mid[sl]))
        ax.plot(grid[best], mid[sl][best], "D", ms=5, mfc="white", mec=colour, mew=1.5, zorder=4)
    ax.scatter(n_runs, y_runs, c=c_runs, cmap=colours, norm=norm, s=18, lw=0.3, ec="0.2", zorder=3)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=colours), ax=ax, pad=0.02)
    bar.set_label(_label("C"), fontsize=10)
    bar.ax.yaxis.set_major_formatter(HumanFormatter("flops"))
    bar.ax.tick_params(labelsize=9)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n_lo, n_hi)
    human_log_axis(ax.xaxis, "count")
    human_log_axis(ax.yaxis, "number")
    ax.set_xlabel(_label("N"))
    ax.set_ylabel(_label(law.output))
    ax.set_title(
        f"{law.name}: isoFLOP view ({len(runs)} runs, {len(levels)} budgets "
        f"{human(float(levels.min()), 'C', unit=False)}–{human(float(levels.max()), 'C')})",
        fontsize=10,
    )
    ax.grid(True, which="major", alpha=0.3)
    handles = [
        Line2D(
            [], [], marker="o", ls="", color="0.4", ms=5, label=f"runs ({len(runs)}), coloured by C"
        ),
        Line2D([], [], color="0.3", lw=1.6, label="posterior mean along C = 6ND"),
        Patch(color="0.3", alpha=0.25, lw=0, label=f"{100 * ci_prob:g}% credible band"),
        Line2D(
            [], [], marker="D", ls="", mfc="white", mec="0.3", ms=5, label="optimum N* of the mean"
        ),
    ]
    _legend_below(ax, handles)
    return fig, ax
