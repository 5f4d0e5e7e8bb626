"""``plot_emergence``: accuracy against scale for an accuracy-type fit, with the emergence
threshold's interval and the share of draws that never reach it.

Conventions as in :mod:`bayescale.plots` (which re-exports it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ._api import CI_PROB, deprecated_args
from ._plotting import _axes, _band, _draws, _finish, _is_log, _legend_below

__all__ = ["plot_emergence"]


@deprecated_args(renamed={"prob": "ci_prob"})
def plot_emergence(
    x: Any,
    *,
    accuracy: Any,
    observed: tuple[Any, Any] | None = None,
    threshold: Any = None,
    ci_prob: float = CI_PROB,
    chance: float | None = None,
    xlabel: str = "training compute C (FLOPs)",
    ylabel: str = "accuracy",
    label: str = "posterior",
    logx: bool | None = None,
    ax: Any = None,
    color: str = "C0",
) -> tuple[Any, Any]:
    """Accuracy against scale with a posterior band, and the posterior of an emergence threshold.

    The input is plain arrays so that any accuracy law (or a hand-made posterior) can be drawn:

    Parameters
    ----------
    x : array-like, shape (G,)
        Grid of the scale variable (e.g. compute in FLOPs).
    accuracy : array-like or xarray.DataArray, shape (..., G)
        Posterior draws of the accuracy on the grid: every axis but the last is a draw axis
        (e.g. ``(chain, draw, G)``); the last axis runs along ``x``.
    observed : (array-like, array-like), optional
        Observed points ``(x_obs, accuracy_obs)``.
    threshold : array-like, optional
        Posterior draws (any shape) of the scale at which the ability emerges, in units of ``x``
        (``+inf`` for a draw that never reaches the level, as in
        :func:`~bayescale.emergence_threshold`); drawn as the median line, the central ``ci_prob``
        interval and a histogram of the finite draws along the bottom. The median and interval
        count the never-reached draws (:func:`~bayescale.emergence.threshold_summary`): when
        more than half never reach the level, no median line is drawn and the legend says so.
    ci_prob : float
        Probability mass of the bands.
    chance : float, optional
        Chance-level accuracy, drawn as a horizontal line.
    xlabel, ylabel : str
        Axis labels (with units).
    label : str
        Legend label of the posterior curve.
    logx : bool, optional
        Logarithmic x-axis (default: when ``x`` is positive and spans more than a decade).
    ax : matplotlib Axes, optional

    Returns
    -------
    fig, ax

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from bayescale.plots import plot_emergence
    >>> C = np.logspace(20, 24, 30)
    >>> mid = np.random.default_rng(0).normal(22, 0.2, size=(2, 100, 1))
    >>> acc = 0.25 + 0.7 / (1 + np.exp(-3 * (np.log10(C) - mid)))
    >>> fig, ax = plot_emergence(C, accuracy=acc, threshold=10**mid, chance=0.25)
    >>> ax.get_xscale()
    'log'
    """
    from matplotlib.transforms import blended_transform_factory

    from .display import number

    grid = np.asarray(x, dtype=float).ravel()
    draws = _draws(accuracy, len(grid))
    lo, mid, hi = _band(draws, ci_prob)
    fig, ax = _axes(ax)
    ax.fill_between(
        grid, lo, hi, color=color, alpha=0.25, lw=0, label=f"{label}: {100 * ci_prob:g}% interval"
    )
    ax.plot(grid, mid, color=color, lw=2, label=f"{label}: median")
    if observed is not None:
        ox, oy = (np.asarray(v, dtype=float).ravel() for v in observed)
        ax.scatter(ox, oy, s=18, color="k", zorder=3, label=f"observed ({len(ox)})")
    if chance is not None:
        ax.axhline(chance, color="0.5", lw=1, ls=":", label=f"chance ({chance:g})")
    use_log = _is_log(grid) if logx is None else logx
    if threshold is not None:
        t_all = _draws(threshold)
        t_all = t_all[~np.isnan(t_all)]
        if not t_all.size:
            raise ValueError("threshold has no draws (all NaN)")
        t_lo, t_mid, t_hi, never = _threshold_band(t_all, ci_prob)
        pct = f"{100 * ci_prob:g}%"
        never_text = f"; never reached in {never:.0%} of draws" if never > 0 else ""
        if np.isfinite(t_lo):
            hi_edge = t_hi if np.isfinite(t_hi) else max(grid.max(), t_lo)
            ax.axvspan(t_lo, hi_edge, color="C1", alpha=0.12, lw=0)
        if np.isfinite(t_mid):
            ax.axvline(
                t_mid,
                color="C1",
                lw=1.5,
                ls="--",
                label=f"threshold: median {number(t_mid)} [{pct}: {number(t_lo)}, {number(t_hi)}]"
                f"{never_text}",
            )
        else:  # most draws never reach the level: there is no finite median to draw
            ax.plot(
                [],
                [],
                color="C1",
                lw=1.5,
                ls="--",
                label=f"threshold: median not reached ({never:.0%} of draws never reach "
                f"the level) [{pct}: {number(t_lo)}, {number(t_hi)}]",
            )
        t = t_all[np.isfinite(t_all)]
        if t.size:
            logged = use_log and t.min() > 0
            counts, edges = np.histogram(np.log10(t) if logged else t, bins=30)
            edges = 10**edges if logged else edges
            heights = 0.18 * counts / counts.max()
            trans = blended_transform_factory(ax.transData, ax.transAxes)
            ax.stairs(heights, edges, transform=trans, color="C1", fill=True, alpha=0.5, lw=0)
    if use_log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("Emergence: accuracy against scale", fontsize=10)
    ax.grid(True, alpha=0.3)
    _legend_below(ax, ncols=1)
    _finish(ax)
    return fig, ax


def _threshold_band(t: np.ndarray, prob: float) -> tuple[float, float, float, float]:
    """Lower, median, upper threshold and the share never reached (+inf draws counted)."""
    from .emergence import threshold_summary

    if t.size and np.all(t >= 0):
        with np.errstate(divide="ignore"):
            log10 = np.log10(t)
        s = threshold_summary(xr.Dataset({"log10_threshold": ("draw", log10)}), ci_prob=prob)
        return s["lo"], s["median"], s["hi"], s["p_never_reached"]
    # negative scales (a linear x): the same quantiles, taken on the values themselves
    if not 0 < prob < 1:
        raise ValueError(f"prob must be between 0 and 1, got {prob!r}")
    q = np.quantile(t, [(1 - prob) / 2, 0.5, (1 + prob) / 2], method="inverted_cdf")
    return float(q[0]), float(q[1]), float(q[2]), float(np.mean(t == np.inf))
