"""Figures of fits and of their decisions.

Every function returns ``(fig, axes)`` and draws into ``ax=`` when given one (a sequence of axes
for the multi-panel figures). Axes carry units, data-bearing axes are logarithmic, posterior
quantities are drawn as a central line with a shaded band. Plots read fits and analysis results;
they never sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_ax, check_ci_prob, deprecated_args
from .analysis import FLOPS_PER_PARAM_TOKEN, compute_optimal, predict_loss
from .cards import Card, list_cards, load_card
from .fit import Fit
from .law import get_law

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

_CARD_STYLES = ("--", "-.", ":")
_CARD_COLORS = ("0.2", "C3", "C2", "C4")
AXIS_LABELS = {
    "N": "parameters N",
    "D": "training tokens D",
    "C": "training compute C (FLOPs)",
    "loss": "loss (nats/token)",
}


def _axes(ax: Any, figsize: tuple[float, float] = (6.4, 4.4)) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return check_ax(ax).figure, ax


def _panels(ax: Any, n: int, ncols: int, panel: tuple[float, float]) -> tuple[Any, np.ndarray]:
    """``n`` axes: new ones on a grid, or the ``n`` axes given in ``ax``."""
    import matplotlib.pyplot as plt

    if ax is None:
        ncols = min(ncols, n)
        nrows = -(-n // ncols)
        fig, grid = plt.subplots(
            nrows,
            ncols,
            figsize=(panel[0] * ncols, panel[1] * nrows),
            layout="constrained",
            squeeze=False,
        )
        flat = grid.ravel()
        for extra in flat[n:]:
            extra.set_visible(False)
        return fig, flat[:n]
    axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    if len(axes) != n:
        raise ValueError(f"this figure needs {n} axes, got {len(axes)}")
    return axes[0].figure, axes


def _label(name: str) -> str:
    return AXIS_LABELS.get(name, name)


def _band(samples: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower, median and upper central-``prob`` quantiles along axis 0."""
    prob = check_ci_prob(prob)  # every figure's ci_prob reaches this
    lo, mid, hi = np.quantile(samples, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
    return lo, mid, hi


def _draws(values: Any, n_last: int | None = None) -> np.ndarray:
    """Flatten every axis but the last into one draw axis (DataArrays in their own order)."""
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=float)
    if n_last is None:
        return arr.ravel()
    if arr.ndim < 2 or arr.shape[-1] != n_last:
        raise ValueError(
            f"expected draws with a last axis of length {n_last} (the grid), got shape {arr.shape}"
        )
    return arr.reshape(-1, n_last)


def _sci(value: float) -> str:
    """``2.5e+09`` as ``2.5e9``."""
    mant, _, exp = f"{value:.2g}".partition("e")
    return f"{mant}e{int(exp)}" if exp else mant


def _plain_log_ticks(axis: Any) -> None:
    """Human tick labels on a log axis (:func:`bayescale.display.human_log_axis`): counts as
    70B, compute as 1e23, and at least three labels where the axis spans ≤ 2 decades."""
    from .display import human_log_axis

    label = axis.get_label_text()
    if (
        label in (AXIS_LABELS["N"], AXIS_LABELS["D"])
        or "parameters N" in label
        or "tokens D" in label
    ):
        kind = "count"
    elif "FLOPs" in label:
        kind = "flops"
    else:
        kind = "number"
    human_log_axis(axis, kind)


def _finish(*axes: Any) -> None:
    """Human tick labels on every log axis of ``axes`` (after labels and limits are set)."""
    for a in axes:
        if a is None or not a.get_visible():
            continue
        for axis, scale in ((a.xaxis, a.get_xscale()), (a.yaxis, a.get_yscale())):
            if scale == "log":
                _plain_log_ticks(axis)


def _is_log(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return bool(values.size and values.min() > 0 and values.max() / values.min() >= 10)


def _law_names(fit: Any) -> list[str]:
    """The law of a fit, or the distinct laws of a stack's members."""
    return [fit.law.name] if isinstance(fit, Fit) else list(fit.law_names)


def _template(fit: Any, what: str) -> Fit:
    """The fit whose law's inputs and output a plot reads: the fit itself, or a stack's first
    member when every member's law has the same inputs and output."""
    if isinstance(fit, Fit):
        return fit
    members = list(fit.fits.items())
    first_name, first = members[0]
    for name, member in members[1:]:
        if (member.law.inputs, member.law.output) != (first.law.inputs, first.law.output):
            raise ValueError(
                f"{what}: stack member {name!r} ({member.law.key}) has inputs "
                f"{list(member.law.inputs)} and output {member.law.output!r}, member "
                f"{first_name!r} ({first.law.key}) {list(first.law.inputs)} and "
                f"{first.law.output!r}: plot the members separately"
            )
    return first


def _cards_for(law_name: str | Sequence[str], cards: Sequence[str | Card] | None) -> list[Card]:
    """The cards named in ``cards`` (loaded ones pass through), or every card of the law(s)."""
    laws = {law_name} if isinstance(law_name, str) else set(law_name)
    if cards is None:
        table = list_cards()
        names = [n for n, law in zip(table["name"], table["law"], strict=True) if law in laws]
    else:
        names = list(cards)
    return [n if isinstance(n, Card) else load_card(n) for n in names]


def _card_optimum(
    card: Card, C: np.ndarray, fixed: Mapping[str, Any] | None = None
) -> dict[str, np.ndarray] | None:
    """A card's point-estimate compute-optimal ``N`` and ``D`` at the budgets ``C``.

    Closed form when the card's law has one, numeric otherwise; the law's inputs besides N and
    D are taken from ``fixed`` (entries the card's law does not take are ignored). ``None``
    when the card cannot give an answer: a law without N and D inputs, a parameter the card
    does not report, or an input missing from ``fixed``.
    """
    from .analysis import _optimum

    law = get_law(card.law)
    others = [k for k in law.inputs if k not in ("N", "D")]
    fixed = dict(fixed or {})
    if (
        not {"N", "D"} <= set(law.inputs)
        or not set(law.natural_names) <= set(card.params)
        or any(k not in fixed for k in others)
    ):
        return None
    q = {n: np.asarray([card.params[n]], dtype=float) for n in law.natural_names}
    extra = {k: np.asarray(fixed[k], dtype=float) for k in others}
    n, d = _optimum(law, q, np.asarray(C, dtype=float), FLOPS_PER_PARAM_TOKEN, extra)
    return {"N": np.asarray(n, dtype=float), "D": np.asarray(d, dtype=float)}


# ---------------------------------------------------------------------------- fit and data
@deprecated_args(renamed={"prob": "ci_prob"})
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
    random_seed: int = 0,
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
    random_seed : int
        Seed of the predictive noise.
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

    law = fit.law
    if not {"N", "D"} <= set(law.inputs):
        raise ValueError(
            f"plot_isoflops needs a law with inputs N and D; {law.name!r} has {law.inputs}"
        )
    runs = fit.data
    c_runs = _runs_compute(fit)
    levels = _budget_levels(c_runs, n_curves) if compute is None else np.asarray(compute, float)
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


def _legend_below(ax: Any, handles: list | None = None, ncols: int = 2, **kwargs: Any) -> Any:
    """A legend under the axes (outside the data area), in at least 9-pt type."""
    if handles is None:
        handles = ax.get_legend_handles_labels()[0]
    return ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncols=ncols,
        fontsize=9,
        frameon=False,
        **kwargs,
    )


@deprecated_args(renamed={"prob": "ci_prob"})
def plot_residuals(
    fit: Fit,
    *,
    x: str | None = None,
    ci_prob: float = CI_PROB,
    random_seed: int = 0,
    ax: Any = None,
) -> tuple[Any, Any]:
    """Residuals of log loss (observed − posterior mean of the law) against each input.

    The shaded band is the central ``ci_prob`` interval of the fitted noise (the likelihood's draws
    around zero), so about ``1 − ci_prob`` of the runs should fall outside it; those runs are drawn
    in red. On a log scale a residual of 0.01 is a 1% deviation in loss.

    For a likelihood of proportions (``output_domain == "unit"``: accuracies, with the binomial,
    beta-binomial or beta likelihood) the residual is that of the proportion itself, observed −
    posterior mean of the expected accuracy, and no noise band is drawn (the spread of a
    proportion depends on its mean and on the number of items).

    Parameters
    ----------
    fit : Fit
    x : str, optional
        One input (or ``"fitted"`` for the fitted loss) to plot against; default one panel per
        input.
    ci_prob : float
        Probability mass of the noise band.
    random_seed : int
        Seed of the noise draws behind the band.
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per panel.

    Returns
    -------
    fig, axes
        ``axes`` is a single Axes when ``x`` is given, else an array with one per input.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_residuals
    >>> fig, axes = plot_residuals(bs.testing.pinned_fit(random_seed=0))
    >>> [a.get_xlabel() for a in axes]
    ['parameters N', 'training tokens D']
    """
    law = fit.law
    choices = [*law.inputs, "fitted"]
    if x is not None and x not in choices:
        raise ValueError(f"x must be one of {choices}, got {x!r}")
    names = [x] if x is not None else list(law.inputs)
    if x is None and ax is not None and not np.iterable(ax):
        raise ValueError(f"plot_residuals draws {len(names)} panels; pass that many axes or x=")
    runs = fit.data
    inputs = {k: runs[k].to_numpy(dtype=float) for k in law.inputs}
    mean = predict_loss(fit, kind="mean", **inputs).to_numpy().reshape(-1, len(runs))
    observed = runs[law.output].to_numpy(dtype=float)
    noise = {k: v.to_numpy().reshape(-1) for k, v in fit.params("noise").items()}
    proportion = fit.likelihood.output_domain == "unit"
    if proportion:
        fitted = mean.mean(axis=0)
        resid = observed - fitted
        lo = hi = None
        outside = np.zeros(len(resid), dtype=bool)
    else:
        if not noise:
            raise ValueError(
                f"plot_residuals: the {fit.likelihood.name!r} likelihood has no noise parameters "
                "to draw a noise band from"
            )
        fitted = np.log(mean).mean(axis=0)
        resid = np.log(observed) - fitted
        rng = np.random.default_rng(random_seed)
        eps = fit.likelihood.sample(rng, np.zeros_like(next(iter(noise.values()))), **noise)
        lo, _, hi = _band(np.asarray(eps), ci_prob)
        outside = (resid < lo) | (resid > hi)
    if x is not None and ax is not None and not np.iterable(ax):
        ax = [ax]
    fig, axes = _panels(ax, len(names), 2, (4.6, 3.8))
    for name, a in zip(names, axes, strict=True):
        if proportion:
            xs = fitted if name == "fitted" else inputs[name]
        else:
            xs = np.exp(fitted) if name == "fitted" else inputs[name]
            a.axhspan(
                lo,
                hi,
                color="C0",
                alpha=0.15,
                lw=0,
                label=f"{100 * ci_prob:g}% interval of the noise",
            )
        a.axhline(0, color="0.3", lw=0.8)
        a.scatter(xs[~outside], resid[~outside], s=12, color="C0", lw=0, label="run")
        if not proportion:
            a.scatter(
                xs[outside],
                resid[outside],
                s=16,
                color="C3",
                lw=0,
                label=f"outside the band ({int(outside.sum())} of {len(resid)})",
            )
        if name != "fitted" or (not proportion and _is_log(xs)):
            a.set_xscale("log")
        if name == "fitted":
            a.set_xlabel(f"fitted {law.output}" if proportion else "fitted loss (nats/token)")
        else:
            a.set_xlabel(_label(name))
        a.set_ylabel(
            f"residual of {law.output} (observed − fitted)"
            if proportion
            else "residual of log loss (observed − fitted)"
        )
        a.grid(True, alpha=0.3)
    _legend_below(axes[0], ncols=1)
    fig.suptitle(f"{law.name}: residuals ({len(resid)} runs)", fontsize=10)
    _finish(*axes)
    return fig, (axes[0] if x is not None else axes)


# ---------------------------------------------------------------------------- decisions
@deprecated_args(renamed={"prob": "ci_prob", "fixed_inputs": "fixed"})
def plot_frontier(
    fit: Fit,
    *,
    compute: Sequence[float] | None = None,
    ci_prob: float = CI_PROB,
    cards: Sequence[str | Card] | None = None,
    relative: bool = True,
    show_data_range: bool = True,
    ax: Any = None,
    color: str = "C0",
    fixed: Mapping[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Compute-optimal model size N*(C) and token count D*(C), with posterior bands.

    One column per quantity. The top row draws the posterior median and the central ``ci_prob``
    interval over ``compute`` on log-log axes, the published fits of the same law (``cards``) as
    point-estimate lines, and shades the compute range of the fitted runs (C = 6ND) so that
    extrapolation is visible. With ``relative=True`` a second row shows the same curves divided
    by the posterior median, where the width of the band (invisible across many decades) can be
    read off directly.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fit of a law with N and D inputs.
    compute : sequence of float, optional
        FLOP budgets (default: 1e18 to 1e27, log-spaced).
    ci_prob : float
        Probability mass of the band.
    cards : sequence of str or Card, optional
        Reference cards (names or loaded cards) to overlay (default: every card of the fit's
        law); each is drawn from its point values (closed form, or numerically for a law
        without one, with ``fixed``). Cards that cannot give an optimum are skipped.
    relative : bool
        Add the row relative to the posterior median.
    show_data_range : bool
        Shade the compute range of the fitted runs.
    ax : sequence of matplotlib Axes, optional
        Two axes (N*, D*), or four (N*, D*, N* relative, D* relative) when ``relative``.
    color : str
        Colour of the posterior curves.
    fixed : mapping, optional
        The law's inputs other than N and D, held fixed along C = 6ND (e.g. ``{"U": 25e9}``
        for ``data_constrained``); passed to :func:`~bayescale.compute_optimal`.

    Returns
    -------
    fig, axes
        The N* and D* axes, then the relative ones.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_frontier
    >>> fig, axes = plot_frontier(bs.testing.pinned_fit(random_seed=0))
    >>> [a.get_ylabel() for a in axes[:2]]
    ['compute-optimal parameters N*', 'compute-optimal training tokens D*']
    """
    import matplotlib.pyplot as plt

    ci_prob = check_ci_prob(ci_prob)
    C = np.logspace(18, 27, 46) if compute is None else np.asarray(compute, dtype=float)
    opt = compute_optimal(fit, C, fixed=fixed)
    n_axes = 4 if relative else 2
    if ax is None:
        fig, grid = plt.subplots(
            n_axes // 2,
            2,
            figsize=(10.0, 6.4 if relative else 4.2),
            layout="constrained",
            sharex="col",
            squeeze=False,
            gridspec_kw={"height_ratios": [2.2, 1.0] if relative else [1.0]},
        )
        axes = grid.ravel()
    else:
        fig, axes = _panels(ax, n_axes, 2, (4.8, 4.0))
    card_points = [
        (card, point)
        for card in _cards_for(_law_names(fit), cards)
        if (point := _card_optimum(card, C, fixed)) is not None
    ]
    runs_c = (
        FLOPS_PER_PARAM_TOKEN
        * fit.data["N"].to_numpy(dtype=float)
        * fit.data["D"].to_numpy(dtype=float)
    )
    pct = f"{100 * ci_prob:g}%"
    for col, (var, key, ylabel) in enumerate(
        (
            ("N_opt", "N", "compute-optimal parameters N*"),
            ("D_opt", "D", "compute-optimal training tokens D*"),
        )
    ):
        samples = opt[var].transpose("chain", "draw", "compute").to_numpy().reshape(-1, len(C))
        lo, mid, hi = _band(samples, ci_prob)
        panels = [(axes[col], 1.0)]
        if relative:
            panels.append((axes[2 + col], mid))
        for a, scale in panels:
            a.fill_between(
                C, lo / scale, hi / scale, color=color, alpha=0.3, lw=0, label=f"{pct} interval"
            )
            a.plot(C, mid / scale, color=color, lw=2, label="posterior median")
            for i, (card, point) in enumerate(card_points):
                a.plot(
                    C,
                    np.asarray(point[key]) / scale,
                    _CARD_STYLES[i % len(_CARD_STYLES)],
                    color=_CARD_COLORS[i % len(_CARD_COLORS)],
                    lw=1.4,
                    label=f"{card.name} (point estimate)",
                )
            if show_data_range:
                a.axvspan(
                    runs_c.min(),
                    runs_c.max(),
                    color="0.85",
                    alpha=0.6,
                    lw=0,
                    zorder=0,
                    label="compute range of the fitted runs",
                )
            a.set_xscale("log")
            a.set_yscale("log")
            a.grid(True, which="major", alpha=0.3)
        axes[col].set_ylabel(ylabel)
        axes[col].set_title(f"{key}*(C): median and {pct} interval", fontsize=9)
        (axes[2 + col] if relative else axes[col]).set_xlabel(_label("C"))
        if relative:
            r = axes[2 + col]
            r.set_ylabel(f"{key}* / posterior median")
            finite = np.concatenate([lo / mid, hi / mid])
            span = max(float(np.abs(np.log(finite)).max()) * 1.6, np.log(1.2))
            r.set_ylim(np.exp(-span), np.exp(span))
    handles = axes[0].get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), fontsize=9)
    fig.suptitle(
        f"{' + '.join(_law_names(fit))}: compute-optimal allocation (C = 6ND)", fontsize=10
    )
    _finish(*axes)
    return fig, axes


@deprecated_args(renamed={"prob": "ci_prob", "fixed_inputs": "fixed"})
def plot_tokens_per_param(
    fit: Fit,
    *,
    compute: Sequence[float] | None = None,
    ci_prob: float = CI_PROB,
    cards: Sequence[str | Card] = ("hoffmann2022",),
    rule: float | None = 20.0,
    mark: float | None = 5.88e23,
    ax: Any = None,
    label: str | None = None,
    color: str = "C0",
    fixed: Mapping[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Compute-optimal tokens per parameter D*/N* against compute, with a posterior band.

    The posterior median and central ``ci_prob`` interval of D*/N* are drawn over ``compute``;
    published fits (``cards``) are drawn as lines from their point values, and ``rule`` as a
    horizontal line (the "20 tokens per parameter" heuristic).

    Parameters
    ----------
    fit : Fit or StackedFit
        A fit of a law with N and D inputs.
    compute : sequence of float, optional
        FLOP budgets (default: 1e18 to 1e28, log-spaced).
    ci_prob : float
        Probability mass of the band.
    cards : sequence of str or Card
        Reference cards (names or loaded cards) to overlay, drawn from their point values;
        cards that cannot give an optimum (no N and D inputs, a missing parameter or fixed
        input) are skipped.
    rule : float or None
        Tokens-per-parameter rule of thumb to draw.
    mark : float or None
        A budget to mark with a vertical line (Chinchilla's 5.88e23 FLOPs).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    label : str, optional
        Legend name of the posterior curves.
    color : str
        Colour of the posterior curves.
    fixed : mapping, optional
        The law's inputs other than N and D, held fixed along C = 6ND (e.g. ``{"U": 25e9}``
        for ``data_constrained``); passed to :func:`~bayescale.compute_optimal` and used for
        the cards' lines.

    Returns
    -------
    fig, ax

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_tokens_per_param
    >>> fig, ax = plot_tokens_per_param(bs.testing.pinned_fit(random_seed=0))
    >>> ax.get_xscale()
    'log'
    """
    from .display import human

    fig, ax = _axes(ax)
    C = np.logspace(18, 28, 61) if compute is None else np.asarray(compute, dtype=float)
    ratio = compute_optimal(fit, C, fixed=fixed)["tokens_per_param"]
    lo, mid, hi = _band(_draws(ratio.transpose("chain", "draw", "compute"), len(C)), ci_prob)
    card_points = [
        (card, point)
        for card in _cards_for(_law_names(fit), cards)
        if (point := _card_optimum(card, C, fixed)) is not None
    ]
    name = label or f"bayescale {' + '.join(_law_names(fit))} ({len(fit.data)} runs)"
    ax.fill_between(
        C, lo, hi, color=color, alpha=0.25, lw=0, label=f"{name}: {100 * ci_prob:g}% interval"
    )
    ax.plot(C, mid, color=color, lw=2, label=f"{name}: posterior median")
    for i, (card, point) in enumerate(card_points):
        ax.plot(
            C,
            point["D"] / point["N"],
            _CARD_STYLES[i % len(_CARD_STYLES)],
            color="0.25",
            lw=1.5,
            label=f"{card.name} point estimate",
        )
    if rule is not None:
        ax.axhline(rule, color="C3", lw=1, ls=":", label=f"{rule:g} tokens per parameter")
    if mark is not None:
        ax.axvline(mark, color="0.6", lw=0.8)
        ax.annotate(
            human(mark, "C"),
            (mark, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=9,
            color="0.4",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("compute-optimal tokens per parameter D*/N*")
    ax.set_title("Compute-optimal tokens per parameter", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    _legend_below(ax)
    _finish(ax)
    return fig, ax


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


@deprecated_args(renamed={"prob": "ci_prob"})
def plot_backtest(
    table: Any,
    *,
    x: str | None = None,
    ci_prob: float | None = None,
    coverage: bool = True,
    ax: Any = None,
    title: str | None = None,
) -> tuple[Any, Any]:
    """Held-out predictions against what was observed, coloured by cutoff, and their coverage.

    The left panel draws each held-out run's predictive median and central ``ci_prob`` interval,
    coloured by the cutoff of the fit that predicted it (filled: the observed loss fell inside
    the interval; open: outside), against the observed loss (with the identity line) or
    against the column ``x`` (with the observed losses as black dots and each cutoff as a
    dashed line in its colour). The right panel (``coverage=True``) shows the share of held-out
    runs inside each interval level of the table against the nominal level, per cutoff and
    pooled: points under the diagonal are intervals too narrow.

    Parameters
    ----------
    table : DataFrame or BacktestResult
        One row per held-out run with columns ``observed`` (the observed loss), ``median`` (the
        posterior predictive median) and the bounds of the central ``ci_prob`` predictive interval,
        named ``lo<pct>``/``hi<pct>`` (``lo90``/``hi90`` for ``ci_prob=0.9``, as
        :func:`bayescale.backtest` writes them) or ``lo``/``hi``, all in nats/token; optionally
        ``inside<pct>`` (or ``inside``, next to ``lo``/``hi``), read instead of recomputed,
        ``cutoff`` and the column named by ``x``. An object with a ``table`` attribute
        (:func:`bayescale.backtest`'s result) is read through that attribute.
    x : str, optional
        Column to plot against (e.g. ``"C"``, ``"N"``). Default: predicted against observed
        with the identity line.
    ci_prob : float, optional
        The probability of the intervals (picks ``lo<pct>``/``hi<pct>``; labels). Default: the
        widest ``lo<pct>``/``hi<pct>`` pair of the table, else ``lo``/``hi`` (whose probability
        is ``table.attrs["prob"]`` when recorded).
    coverage : bool
        Add the coverage-against-nominal panel (needs two axes when ``ax`` is given; a single
        Axes draws the left panel only).
    ax : matplotlib Axes or two Axes, optional
    title : str, optional

    Returns
    -------
    fig, axes
        ``axes`` is the pair (predictions, coverage) with the coverage panel, else one Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from bayescale.plots import plot_backtest
    >>> t = pd.DataFrame({"observed": [2.1, 2.0], "median": [2.12, 1.97], "lo": [2.05, 1.9],
    ...                   "hi": [2.2, 2.05], "C": [1e21, 1e23]})
    >>> fig, (ax, cov) = plot_backtest(t, x="C")
    >>> ax.get_xscale(), cov.get_xlabel()
    ('log', 'nominal level of the interval')
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import PercentFormatter

    from .display import human

    split = getattr(table, "split", None)
    if not isinstance(table, pd.DataFrame) and hasattr(table, "table"):
        table = table.table
    split = split or table.attrs.get("split")
    if ci_prob is not None and not 0 < ci_prob < 1:
        raise ValueError(f"prob must be between 0 and 1, got {ci_prob!r}")
    cols = set(map(str, table.columns))
    pairs = {}  # probability -> suffix of the lo<pct>/hi<pct> pairs of the table
    for c in cols:
        suffix = c[2:]
        if c.startswith("lo") and f"hi{suffix}" in cols:
            try:
                value = float(suffix) / 100
            except ValueError:
                continue
            if 0 < value < 1:
                pairs[value] = suffix
    if ci_prob is None:
        if pairs:
            ci_prob = max(pairs)
            suffix = pairs[ci_prob]
        else:
            suffix = ""
            ci_prob = table.attrs.get("ci_prob")
    else:
        suffix = f"{100 * ci_prob:g}"
        if f"lo{suffix}" not in cols and "lo" in cols:
            suffix = ""  # unnamed bounds, taken to be the central ``ci_prob`` interval
    lo_col, hi_col = f"lo{suffix}", f"hi{suffix}"
    need = ["observed", "median", lo_col, hi_col] + ([x] if x is not None else [])
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"backtest table is missing columns {missing}; it needs {need}")
    obs = table["observed"].to_numpy(dtype=float)
    med = table["median"].to_numpy(dtype=float)
    lo = table[lo_col].to_numpy(dtype=float)
    hi = table[hi_col].to_numpy(dtype=float)

    def inside_of(p_suffix: str) -> np.ndarray:
        flag = f"inside{p_suffix}"
        if flag in table.columns:
            return table[flag].to_numpy(dtype=bool)
        lo_p = table[f"lo{p_suffix}"].to_numpy(dtype=float)
        hi_p = table[f"hi{p_suffix}"].to_numpy(dtype=float)
        return (obs >= lo_p) & (obs <= hi_p)

    inside = inside_of(suffix)
    if ax is not None and not np.iterable(ax):
        coverage = False
    if coverage:
        if ax is None:
            fig, pair = plt.subplots(
                1, 2, figsize=(10.4, 4.8), layout="constrained", width_ratios=[2.2, 1.0]
            )
        else:
            fig, pair = _panels(ax, 2, 2, (5.0, 4.4))
        ax, cov_ax = pair[0], pair[1]
    else:
        fig, ax = _axes(ax)
        cov_ax = None
    if "cutoff" in table.columns:
        cut = table["cutoff"].to_numpy(dtype=float)
    else:
        cut = np.full(len(obs), np.nan)
    cutoffs = sorted({c for c in cut if np.isfinite(c)})
    palette = plt.get_cmap("plasma")
    colours = {c: palette(0.1 + 0.7 * i / max(len(cutoffs) - 1, 1)) for i, c in enumerate(cutoffs)}
    groups = [(c, cut == c, colours[c]) for c in cutoffs] or [(None, np.ones(len(obs), bool), "C0")]
    xs = obs if x is None else table[x].to_numpy(dtype=float)
    pct = f"{100 * ci_prob:g}% " if ci_prob is not None else ""
    handles = []
    log_x = x is not None and (x in AXIS_LABELS or _is_log(xs))
    for k, (c, sel, colour) in enumerate(groups):
        # runs predicted by several cutoffs sit side by side (a small shift along a log x)
        shift = 10 ** (0.02 * (k - (len(groups) - 1) / 2)) if log_x and len(groups) > 1 else 1.0
        for flag, filled in ((inside, True), (~inside, False)):
            part = sel & flag
            if not part.any():
                continue
            ax.errorbar(
                xs[part] * shift,
                med[part],
                yerr=[med[part] - lo[part], hi[part] - med[part]],
                fmt="o" if x is None else "s",
                ms=5,
                mfc=colour if filled else "white",
                mec=colour,
                color=colour,
                elinewidth=1.1,
                capsize=2.5,
                zorder=3,
                label=f"prediction, {'inside the ' + pct + 'interval' if filled else 'outside'}",
            )
        if c is not None:
            what = human(c, split, unit=False) if split else human(c)
            rule = f"{split} < {what}" if split else f"cutoff {what}"
            handles.append(
                Line2D(
                    [], [], marker="s", ls="", color=colour, ms=6,
                    label=f"fit on {rule}: {int(sel.sum())} held out",
                )
            )  # fmt: skip
        if c is not None and x is not None and (split is None or split == x):
            ax.axvline(c, color=colour, lw=1.2, ls="--", zorder=1)
    n_in = int(inside.sum())
    handles += [
        Line2D([], [], marker="o", ls="", mfc="0.4", mec="0.4", ms=5,
               label=f"prediction, inside the {pct}interval ({n_in} of {len(obs)})"),
        Line2D([], [], marker="o", ls="", mfc="white", mec="0.4", ms=5,
               label=f"prediction, outside ({len(obs) - n_in})"),
    ]  # fmt: skip
    if x is None:
        span = np.array([min(obs.min(), lo.min()), max(obs.max(), hi.max())])
        pad = 0.03 * (span[1] - span[0] or 1.0)
        (line,) = ax.plot(
            span + np.array([-pad, pad]),
            span + np.array([-pad, pad]),
            color="0.4",
            lw=1,
            ls="--",
            label="predicted = observed",
        )
        handles.append(line)
        ax.set_xlabel("observed loss (nats/token)")
        ax.set_ylabel("predicted loss (nats/token), median and interval")
        if _is_log(np.concatenate([obs, lo, hi])):
            ax.set_xscale("log")
            ax.set_yscale("log")
    else:
        ax.scatter(xs, obs, s=16, color="k", zorder=4, label="observed")
        handles.append(Line2D([], [], marker="o", ls="", color="k", ms=4, label="observed"))
        if cutoffs and (split is None or split == x):
            handles.append(Line2D([], [], color="0.4", ls="--", lw=1.2, label="cutoff"))
        if x in AXIS_LABELS or _is_log(xs):
            ax.set_xscale("log")
            # room for the side-by-side markers and caps of the first and last runs (a run at
            # a cutoff sits on the left edge otherwise)
            ends = np.concatenate([xs[np.isfinite(xs) & (xs > 0)], cutoffs])
            if ends.size:
                span = np.log10(ends.max() / ends.min())
                pad = 10 ** (0.06 * span + 0.05 * max(len(groups), 1))
                ax.set_xlim(ends.min() / pad, ends.max() * pad)
        ax.set_xlabel(_label(x))
        ax.set_ylabel("loss (nats/token)")
    ax.set_title(title or f"Backtest: held-out runs against {pct}predictive intervals", fontsize=10)
    ax.grid(True, alpha=0.3)
    _legend_below(ax, handles, ncols=1 if coverage else 2)
    if cov_ax is not None:
        levels = sorted(pairs) if pairs else ([ci_prob] if ci_prob is not None else [])
        suffixes = [pairs[p] for p in levels] if pairs else [suffix]
        if levels:
            flags = [inside_of(sfx) for sfx in suffixes]
            for _c, sel, colour in groups if cutoffs else []:
                cov_ax.plot(
                    levels, [f[sel].mean() for f in flags], "o-", color=colour, lw=1, ms=4,
                    alpha=0.8,
                )  # fmt: skip
            cov_ax.plot(
                levels, [f.mean() for f in flags], "D-", color="k", lw=1.6, ms=5,
                label=f"all {len(obs)} held-out runs", zorder=3,
            )  # fmt: skip
        cov_ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="nominal (calibrated)")
        cov_ax.fill_between([0, 1], [0, 0], [0, 1], color="C3", alpha=0.06, lw=0)
        cov_ax.text(0.62, 0.1, "too narrow", color="C3", fontsize=9, transform=cov_ax.transAxes)
        cov_ax.set_xlim(0, 1)
        cov_ax.set_ylim(0, 1.02)
        cov_ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        cov_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        cov_ax.set_xlabel("nominal level of the interval")
        cov_ax.set_ylabel("held-out runs inside the interval")
        cov_ax.set_title("Coverage against nominal", fontsize=10)
        cov_ax.grid(True, alpha=0.3)
        if cutoffs:
            cov_ax.plot([], [], "o-", color="0.5", lw=1, ms=4, label="one cutoff (colours)")
        _legend_below(cov_ax, ncols=1)
    _finish(ax)
    return (fig, np.array([ax, cov_ax], dtype=object)) if coverage else (fig, ax)


@deprecated_args(renamed={"prob": "ci_prob"})
def plot_params(
    fit: Fit,
    *,
    var_names: Sequence[str] | None = None,
    cards: Sequence[str | Card] | None = None,
    ci_prob: float = CI_PROB,
    ax: Any = None,
    color: str = "C0",
) -> tuple[Any, Any]:
    """Marginal posterior of each parameter, with published values (cards) marked.

    Each panel shows a kernel density estimate of the draws (arviz-stats), the central ``ci_prob``
    interval shaded under it and the median as a line. A card's value is a marker on the axis,
    with its 95% interval as a horizontal bar where the card reports one.

    Parameters
    ----------
    fit : Fit
    var_names : sequence of str, optional
        Parameters to show (default: the law's natural parameters).
    cards : sequence of str or Card, optional
        Reference cards (names or loaded cards) to mark (default: every card of the fit's law).
    ci_prob : float
        Probability mass of the shaded interval.
    ax : sequence of matplotlib Axes, optional
        One axes per parameter.

    Returns
    -------
    fig, axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_params
    >>> fig, axes = plot_params(bs.testing.pinned_fit(random_seed=0))
    >>> len(axes)
    5
    """
    from arviz_stats.base import array_stats

    from .display import interval, number

    names = list(var_names or fit.law.natural_names)
    post = fit.posterior
    missing = [n for n in names if n not in post]
    if missing:
        raise KeyError(f"not in the posterior: {missing}; available: {list(post.data_vars)}")
    card_list = _cards_for(_law_names(fit), cards)
    descriptions = {p.name: p.description for p in fit.law.parameters}
    fig, axes = _panels(ax, len(names), 3, (3.6, 2.9))
    for name, a in zip(names, axes, strict=True):
        values = post[name].to_numpy().ravel()
        fixed = bool(np.ptp(values) == 0)
        if fixed:  # a parameter held fixed (e.g. an emergence floor): no density to draw
            lo = mid = hi = float(values[0])
            a.axvline(mid, color=color, lw=1.6, label="fixed value")
            top = 1.0
        else:
            grid, pdf, _ = array_stats.kde(values)
            grid, pdf = np.asarray(grid), np.asarray(pdf)
            lo, mid, hi = _band(values, ci_prob)
            a.plot(grid, pdf, color=color, lw=1.6, label="posterior")
            inside = (grid >= lo) & (grid <= hi)
            a.fill_between(
                grid[inside],
                0,
                pdf[inside],
                color=color,
                alpha=0.3,
                lw=0,
                label=f"{100 * ci_prob:g}% interval",
            )
            a.axvline(mid, color=color, lw=1, ls="-", alpha=0.8, label="posterior median")
            top = float(pdf.max())
        for i, card in enumerate(card_list):
            if name not in card.params:
                continue
            value = card.params[name]
            y = top * (0.12 + 0.1 * i)
            style = {"color": _CARD_COLORS[i % len(_CARD_COLORS)], "zorder": 3}
            if name in card.ci95:
                c_lo, c_hi = card.ci95[name]
                a.errorbar(
                    value,
                    y,
                    xerr=[[value - c_lo], [c_hi - value]],
                    fmt="v",
                    ms=6,
                    capsize=3,
                    label=card.name,
                    **style,
                )
            else:
                a.plot(value, y, "v", ms=7, label=card.name, **style)
        a.set_ylim(0, top * 1.1)
        a.set_yticks([])
        desc = descriptions.get(name) or fit.law.notes.get(name, "")
        a.set_xlabel(name if not desc or len(desc) > 40 else f"{name}: {desc}", fontsize=9)
        if fixed:
            a.set_title(f"{name} = {number(mid)} (fixed)", fontsize=9)
        else:
            a.set_title(f"{name} = {interval(mid, lo, hi)}", fontsize=9)
    handles = {}
    for a in axes:
        for h, lab in zip(*a.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncols=min(len(handles), 4),
        fontsize=9,
    )
    fig.suptitle(f"{fit.law.name}: posterior of the parameters ({len(fit.data)} runs)", fontsize=10)
    return fig, axes
